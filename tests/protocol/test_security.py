"""Pairing, signed envelopes, replay protection and gateway tokens."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from fluxilab_protocol.security import (
    INTERRUPTED,
    KeyPair,
    ProtocolSecurityError,
    ReplayGuard,
    issue_token,
    open_announce,
    open_envelope,
    seal,
    seal_announce,
    verify_token,
)

TOPIC = "fluxilab/hood-1/access/reply"


@pytest.fixture(scope="module")
def pair() -> tuple[KeyPair, KeyPair]:
    return KeyPair.generate(), KeyPair.generate()


def test_both_sides_derive_the_same_keys_and_fingerprint(
    pair: tuple[KeyPair, KeyPair],
) -> None:
    hub, device = pair
    on_hub = hub.derive(device.public_b64)
    on_device = device.derive(hub.public_b64)
    assert on_hub == on_device
    assert len(on_hub.fingerprint) == 14
    # A third party's key gives a different pairing.
    assert KeyPair.generate().derive(device.public_b64) != on_device


def test_private_key_round_trip(pair: tuple[KeyPair, KeyPair]) -> None:
    hub, _ = pair
    again = KeyPair.from_private_b64(hub.private_b64())
    assert again.public_b64 == hub.public_b64


def test_sealed_message_opens_once(pair: tuple[KeyPair, KeyPair]) -> None:
    hub, device = pair
    keys = hub.derive(device.public_b64)
    envelope = seal(keys, TOPIC, {"granted": True})
    guard = ReplayGuard()
    assert open_envelope(
        device.derive(hub.public_b64), TOPIC, envelope, guard=guard
    ) == {"granted": True}
    with pytest.raises(ProtocolSecurityError) as err:
        open_envelope(keys, TOPIC, envelope, guard=guard)
    assert err.value.reason == "replay"


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda env: env["body"].update(granted=True), "signature"),
        (lambda env: env.update(sig="0" * 64), "signature"),
        (lambda env: env.update(v=99), "version"),
        (lambda env: env.pop("nonce"), "malformed"),
        (lambda env: env.update(ts="now"), "malformed"),
    ],
)
def test_tampered_messages_are_rejected(
    pair: tuple[KeyPair, KeyPair], mutate: object, reason: str
) -> None:
    hub, device = pair
    keys = hub.derive(device.public_b64)
    envelope = seal(keys, TOPIC, {"granted": False})
    mutate(envelope)  # type: ignore[operator]
    with pytest.raises(ProtocolSecurityError) as err:
        open_envelope(keys, TOPIC, envelope, guard=ReplayGuard())
    assert err.value.reason == reason


def test_forger_without_the_key_is_rejected(pair: tuple[KeyPair, KeyPair]) -> None:
    hub, device = pair
    forger = KeyPair.generate().derive(device.public_b64)
    envelope = seal(forger, TOPIC, {"granted": True})
    with pytest.raises(ProtocolSecurityError) as err:
        open_envelope(device.derive(hub.public_b64), TOPIC, envelope)
    assert err.value.reason == "signature"


def test_message_moved_to_another_topic_is_rejected(
    pair: tuple[KeyPair, KeyPair],
) -> None:
    hub, device = pair
    keys = hub.derive(device.public_b64)
    envelope = seal(keys, TOPIC, {"granted": True})
    with pytest.raises(ProtocolSecurityError):
        open_envelope(keys, "fluxilab/hood-2/access/reply", envelope)


def test_stale_and_future_messages_are_rejected(pair: tuple[KeyPair, KeyPair]) -> None:
    hub, device = pair
    keys = hub.derive(device.public_b64)
    guard = ReplayGuard(max_age=60, max_skew=10)
    old = seal(keys, TOPIC, {}, now=1_000_000.0)
    with pytest.raises(ProtocolSecurityError) as err:
        guard.check(old["nonce"], old["ts"], now=1_000_061.0)
    assert err.value.reason == "stale"
    with pytest.raises(ProtocolSecurityError) as err:
        guard.check("abcdefgh", 1_000_020.0, now=1_000_000.0)
    assert err.value.reason == "future"


def test_replay_guard_forgets_only_what_is_stale_anyway() -> None:
    guard = ReplayGuard(max_age=60, max_skew=0)
    guard.check("nonce-aaa", 100.0, now=100.0)
    guard.check("nonce-bbb", 150.0, now=150.0)
    # nonce-aaa is now older than the window: forgotten, but also rejected as stale.
    with pytest.raises(ProtocolSecurityError) as err:
        guard.check("nonce-aaa", 100.0, now=170.0)
    assert err.value.reason == "stale"
    with pytest.raises(ProtocolSecurityError) as err:
        guard.check("nonce-bbb", 150.0, now=170.0)
    assert err.value.reason == "replay"


def test_encrypted_body_round_trip_and_wrong_topic(
    pair: tuple[KeyPair, KeyPair],
) -> None:
    hub, device = pair
    keys = hub.derive(device.public_b64)
    topic = "fluxilab/hood-1/credentials"
    body = {"generation": 3, "members": [{"id": "m1", "pin_hash": "$2b$12$x"}]}
    envelope = seal(keys, topic, body, encrypt=True)
    assert "members" not in envelope["body"]
    assert open_envelope(keys, topic, envelope, decrypt=True) == body
    envelope["body"]["ct"] = envelope["body"]["ct"][:-4] + "AAAA"
    with pytest.raises(ProtocolSecurityError):
        open_envelope(keys, topic, envelope, decrypt=True)


def test_gateway_tokens(pair: tuple[KeyPair, KeyPair]) -> None:
    hub, device = pair
    keys = hub.derive(device.public_b64)
    token = issue_token(
        keys, device_id="hood-1", subject="u1", role="user", name="Ada", now=1000.0
    )
    claims = verify_token(keys, token, device_id="hood-1", now=1010.0)
    assert claims["sub"] == "u1"
    assert claims["exp"] == 1060
    for kwargs, reason in (
        ({"device_id": "hood-2", "now": 1010.0}, "audience"),
        ({"device_id": "hood-1", "now": 1061.0}, "expired"),
    ):
        with pytest.raises(ProtocolSecurityError) as err:
            verify_token(keys, token, **kwargs)  # type: ignore[arg-type]
        assert err.value.reason == reason
    forged = KeyPair.generate().derive(device.public_b64)
    with pytest.raises(ProtocolSecurityError) as err:
        verify_token(forged, token, device_id="hood-1", now=1010.0)
    assert err.value.reason == "signature"
    with pytest.raises(ValueError, match="lifetime"):
        issue_token(
            keys, device_id="hood-1", subject="u", role="r", name="n", lifetime=301
        )


def test_replay_after_a_restart_is_rejected(pair: tuple[KeyPair, KeyPair]) -> None:
    """A restarted receiver, restored from what it stored, still knows the nonces."""
    hub, device = pair
    keys = hub.derive(device.public_b64)
    envelope = seal(keys, TOPIC, {"id": "r1"})
    before = ReplayGuard()
    open_envelope(keys, TOPIC, envelope, guard=before)
    stored = json.loads(json.dumps(before.snapshot()))  # as a file would keep it
    after = ReplayGuard()
    after.restore(stored)
    with pytest.raises(ProtocolSecurityError) as err:
        open_envelope(keys, TOPIC, envelope, guard=after)
    assert err.value.reason == "replay"
    # A message it never saw is still taken.
    open_envelope(keys, TOPIC, seal(keys, TOPIC, {"id": "r2"}), guard=after)


@pytest.mark.parametrize("stored", [None, INTERRUPTED, {"nonces": "garbage"}, []])
def test_a_guard_that_lost_its_window_refuses_what_came_before(
    pair: tuple[KeyPair, KeyPair], stored: Any
) -> None:
    """After a crash (or with nothing stored) nothing sealed before the start passes."""
    hub, device = pair
    keys = hub.derive(device.public_b64)
    now = time.time()
    old = seal(keys, TOPIC, {"id": "r1"}, now=now - 5)
    guard = ReplayGuard()
    guard.restore(stored, now=now)
    with pytest.raises(ProtocolSecurityError) as err:
        open_envelope(keys, TOPIC, old, guard=guard)
    assert err.value.reason == "replay"
    open_envelope(keys, TOPIC, seal(keys, TOPIC, {"id": "r2"}), guard=guard)


def test_snapshot_keeps_only_the_window() -> None:
    guard = ReplayGuard(max_age=10, max_skew=0)
    guard.check("a" * 16, 100.0, now=100.0)
    guard.check("b" * 16, 105.0, now=105.0)
    assert [nonce for nonce, _ in guard.snapshot(now=112.0)["nonces"]] == ["b" * 16]


def test_sealed_announce_verifies_and_stays_readable(
    pair: tuple[KeyPair, KeyPair],
) -> None:
    hub, device = pair
    keys = device.derive(hub.public_b64)
    topic = "fluxilab/hood-1/announce"
    announce = {"v": 1, "id": "hood-1", "ui_url": "http://10.0.0.5/", "key": "k"}
    sealed = json.loads(json.dumps(seal_announce(keys, topic, announce, now=1000.0)))
    assert {k: v for k, v in sealed.items() if k != "seal"} == announce
    assert open_announce(keys, topic, sealed) == 1000.0
    with pytest.raises(ProtocolSecurityError) as err:
        open_announce(keys, topic, announce)
    assert err.value.reason == "unsealed"
    for forged in (
        {**sealed, "ui_url": "http://elsewhere/"},
        {**sealed, "seal": {**sealed["seal"], "ts": 1001.0}},
        {**sealed, "seal": "x"},
    ):
        with pytest.raises(ProtocolSecurityError):
            open_announce(keys, topic, forged)
    with pytest.raises(ProtocolSecurityError) as err:
        open_announce(keys, "fluxilab/hood-2/announce", sealed)
    assert err.value.reason == "signature"
    # Another device's keys (an impostor that read the announce) cannot seal it.
    impostor = KeyPair.generate().derive(hub.public_b64)
    with pytest.raises(ProtocolSecurityError):
        open_announce(keys, topic, seal_announce(impostor, topic, announce))
