"""Fuzzing the agent's hub-to-device topics: ack, access/reply, command, credentials.

The broker path (forged grant replies, commands and credential sets from another
client, replays of captured genuine messages) is proved end to end in
test_agent.py (``test_forged_and_replayed_messages_are_rejected``,
``test_forged_grant_reply_is_not_obeyed``) and the gateway's token checks in
test_gateway.py. Here thousands of derandomized hypothesis payloads go straight into
the agent's message handler (the function its MQTT link calls for every message), so
the run is fast and the same every time:

* arbitrary bytes and JSON; envelopes of the right shape with wrong fields;
* unsigned bodies; bodies sealed with another key pair (forged);
* bodies with one field wrong, sealed with the real keys (they reach the schema);
* genuine messages replayed.

Every payload must be refused and counted (``counters["rejected"]`` grows by exactly
the number sent), nothing may raise or be logged at error level, and nothing a
forged message could change (blocked flag, credential mirror, buffer, session) does.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings, strategies as st
import pytest
import voluptuous as vol

from fluxilab_agent.agent import Agent
from fluxilab_agent.cli import simulated_config
from fluxilab_protocol.schemas import (
    ACCESS_REPLY_SCHEMA,
    ACK_SCHEMA,
    COMMAND_SCHEMA,
    CREDENTIALS_SCHEMA,
    HUB_ANNOUNCE_SCHEMA,
)
from fluxilab_protocol.security import KeyPair, SessionKeys, parse_public_key, seal
from fluxilab_protocol.topics import Channel, hub_topic

COUNTS = {
    Channel.ACK: 600,
    Channel.ACCESS_REPLY: 600,
    Channel.COMMAND: 600,
    Channel.CREDENTIALS: 600,
    "hub_announce": 300,
}

BODIES: dict[Channel, tuple[list[dict[str, Any]], vol.Schema]] = {
    Channel.ACK: (
        [{"seqs": [1, 2, 3]}, {"stream": "abcdefgh12", "seqs": []}],
        ACK_SCHEMA,
    ),
    Channel.ACCESS_REPLY: (
        [
            {
                "id": "r1",
                "granted": True,
                "reason": "granted",
                "member_id": "alice",
                "name": "Alice",
                "level": "user",
                "session_id": "s1",
                "timeout": 900,
                "grace": 60,
                "message": "Welcome",
            }
        ],
        ACCESS_REPLY_SCHEMA,
    ),
    Channel.COMMAND: (
        [
            {"id": "c1", "command": "block", "args": {}},
            {"id": "c2", "command": "relay", "args": {"key": "fan", "on": True}},
        ],
        COMMAND_SCHEMA,
    ),
    Channel.CREDENTIALS: (
        [
            {
                "generation": 4,
                "members": [
                    {
                        "id": "alice",
                        "name": "Alice",
                        "level": "user",
                        "cards": ["04A1B2C3D4"],
                        "pin_hash": "$2b$04$" + "a" * 53,
                        "maintenance": False,
                    }
                ],
                "timeout": 900,
                "grace": 60,
            }
        ],
        CREDENTIALS_SCHEMA,
    ),
}

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
WRONG = (
    st.sampled_from([None, True, -1, -0.5, 0, 2**64, "", "x" * 300, [], {}, "7"])
    | st.floats(allow_nan=True, allow_infinity=True)
    | JSON
)
EXTRA = st.dictionaries(st.text(min_size=1, max_size=10), JSON, max_size=3)
DELETE = object()


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON document a field can be replaced or deleted."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list) and value:
        found += paths(value[0], (*prefix, 0))
    return found


@st.composite
def wrong_body(draw: st.DrawFn, bases: list[dict[str, Any]]) -> Any:
    """A valid body with one field replaced or deleted, plus unknown keys."""
    document = copy.deepcopy(draw(st.sampled_from(bases)))
    path = draw(st.sampled_from(paths(document)))
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    new = draw(st.just(DELETE) | WRONG)
    if new is DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = new
    document.update({k: v for k, v in draw(EXTRA).items() if k not in document})
    return document


def refused(schema: vol.Schema) -> Any:
    """Predicate: the schema refuses the body."""

    def _refused(body: Any) -> bool:
        try:
            schema(body)
        except vol.Invalid:
            return True
        return False

    return _refused


def collect(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """Draw up to ``count`` examples, the same ones on every run."""
    drawn: list[Any] = []

    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def _collect(example: Any) -> None:
        drawn.append(example)

    _collect()
    return drawn


def channel_payloads(channel: Channel) -> st.SearchStrategy[tuple[str, Any]]:
    """(how to send, what): raw bytes, unsigned, forged, or a wrong body to seal."""
    bases, schema = BODIES[channel]
    envelope = st.fixed_dictionaries(
        {
            "v": st.just(1) | WRONG,
            "ts": st.floats(min_value=0, max_value=2e9) | WRONG,
            "nonce": st.text(min_size=8, max_size=64) | WRONG,
            "body": st.sampled_from(bases) | WRONG,
            "sig": st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
            | WRONG,
        }
    )
    return st.one_of(
        st.binary(max_size=200).map(lambda b: ("raw", b)),
        JSON.map(lambda v: ("raw", json.dumps(v).encode())),
        envelope.map(lambda e: ("raw", json.dumps(e).encode())),
        st.sampled_from(bases).map(lambda b: ("raw", json.dumps(b).encode())),
        (st.sampled_from(bases) | wrong_body(bases)).map(lambda b: ("forge", b)),
        wrong_body(bases).filter(refused(schema)).map(lambda b: ("seal", b)),
    )


@pytest.fixture
def hub() -> KeyPair:
    """The hub's key pair (the agent has it pinned)."""
    return KeyPair.generate()


@pytest.fixture
def agent(tmp_path: Path, hub: KeyPair) -> Agent:
    """A paired simulated fumehood; nothing networked is started."""
    config = simulated_config(1, data_dir=tmp_path / "data", host="127.0.0.1", port=1)
    return Agent(dataclasses.replace(config, hub_key=hub.public_b64))


def fire(agent: Agent, topic: str, payload: bytes) -> None:
    """Hand one message to the agent as its MQTT link does."""
    agent._handle_message(topic, payload)


def test_fuzz_hub_to_device_topics(
    agent: Agent, hub: KeyPair, caplog: pytest.LogCaptureFixture
) -> None:
    """Thousands of refused payloads: none raises, every one is counted."""
    caplog.set_level(logging.WARNING)
    keys: SessionKeys = hub.derive(agent.key_pair.public_b64)
    assert agent.keys is not None
    assert agent.keys.mac == keys.mac
    forger = KeyPair.generate().derive(agent.key_pair.public_b64)
    fired = 0
    for channel, count in COUNTS.items():
        if channel == "hub_announce":
            continue
        assert isinstance(channel, Channel)
        topic = agent.topics.topic(channel)
        encrypt = channel is Channel.CREDENTIALS
        payloads = collect(channel_payloads(channel), count)
        # A genuine message, then 20 replays of it: only the replays are refused.
        genuine = json.dumps(
            seal(keys, topic, BODIES[channel][0][0], encrypt=encrypt)
        ).encode()
        if channel is not Channel.COMMAND:  # a genuine command would run
            fire(agent, topic, genuine)
            payloads += [("raw", genuine)] * 20
        # Credentials that are only signed, not encrypted, are refused too.
        if encrypt:
            payloads += [("seal-plain", BODIES[channel][0][0])] * 5
        before = agent.counters.get("rejected", 0)
        for how, what in payloads:
            wire = what
            if how == "forge":
                wire = json.dumps(seal(forger, topic, what, encrypt=encrypt)).encode()
            elif how == "seal":
                wire = json.dumps(seal(keys, topic, what, encrypt=encrypt)).encode()
            elif how == "seal-plain":
                wire = json.dumps(seal(keys, topic, what)).encode()
            fire(agent, topic, wire)
        counted = agent.counters.get("rejected", 0) - before
        assert counted == len(payloads), (channel, counted, len(payloads))
        fired += len(payloads)
    # The hub's announcement: anything but the pinned key is refused.
    announce = collect(
        st.one_of(
            st.binary(max_size=200),
            JSON.map(lambda v: json.dumps(v).encode()),
            wrong_body([{"v": 1, "key": hub.public_b64}]).map(
                lambda v: json.dumps(v).encode()
            ),
            st.just(
                json.dumps({"v": 1, "key": KeyPair.generate().public_b64}).encode()
            ),
        ).filter(lambda p: p and not _is_pinned_announce(p, hub.public_b64)),
        COUNTS["hub_announce"],
    )
    before = agent.counters.get("rejected", 0)
    for payload in announce:
        fire(agent, hub_topic("fluxilab"), payload)
    assert agent.counters.get("rejected", 0) - before == len(announce)
    fired += len(announce)

    assert fired >= 2500
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not errors, [r.getMessage() for r in errors[:5]]
    assert agent.counters.get("handler_errors", 0) == 0
    # Nothing a forgery could change did change.
    assert agent.hub_key == hub.public_b64
    assert agent.state.blocked is False
    assert agent.session is None
    assert len(agent.buffer) == 0
    assert agent.mirror.generation == 4  # the one genuine credential set


def _is_pinned_announce(payload: bytes, pinned: str) -> bool:
    try:
        key = HUB_ANNOUNCE_SCHEMA(json.loads(payload))["key"]
        parse_public_key(key)
    except (ValueError, RecursionError, vol.Invalid):
        return False
    return bool(key == pinned)


def test_deeply_nested_json_is_refused(agent: Agent) -> None:
    """A payload nested deeper than the decoder's recursion limit is counted."""
    # Five thousand levels: far past the recursion limit, within the command's size
    # cap (a longer payload is refused as oversized before any parsing).
    fire(agent, agent.topics.topic(Channel.COMMAND), b"[" * 5_000)
    assert agent.counters["rejected_command_malformed"] == 1
