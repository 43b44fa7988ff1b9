"""Pairing (X25519), message signing (HMAC-SHA256), encryption (AES-GCM), tokens.

Pairing: the device announces its X25519 public key, the hub publishes its own. Both
sides derive the same shared secret and, through HKDF-SHA256, three independent keys:
one to sign messages, one to encrypt credential sets, one to sign gateway tokens. A
short fingerprint of both public keys is shown on both sides so that an admin can
compare them before trusting a device.

Every signed message is an *envelope* ``{"v", "ts", "nonce", "body", "sig"}``. The
signature covers the topic as well, so a genuine message cannot be moved to another
topic or device; a :class:`ReplayGuard` rejects stale timestamps and reused nonces,
and keeps doing so across a restart (:meth:`ReplayGuard.snapshot`).

The announcement stays a plain, readable document (discovery needs it before any
pairing); once paired, the device adds a ``seal`` to it (:func:`seal_announce`).
"""

from __future__ import annotations

import base64
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
import hashlib
import hmac
import json
import re
import secrets
import time
from typing import Any, Required, TypedDict

# Not cryptography's ``serialization`` package: it loads its SSH key support (and with
# it bcrypt) for nothing, memory a Pi agent counts (docs/AGENT.md, "Memory").
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey,
    X25519PublicKey,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from . import PROTOCOL_VERSION
from .nonces import nonce_bytes, nonce_hex

KEY_BYTES = 32
NONCE_BYTES = 12
DEFAULT_MAX_AGE = 120.0
"""Seconds a signed message stays acceptable (also bounds the nonce memory)."""
DEFAULT_MAX_SKEW = 30.0
"""Seconds a timestamp may lie in the future (clock drift between hub and device)."""
TOKEN_MAX_LIFETIME = 300
"""Gateway tokens live at most five minutes."""
MAX_BACK_URL = 512
"""The longest "Back to Home Assistant" address a token may carry (a claim)."""


class ProtocolSecurityError(Exception):
    """A message failed verification. ``reason`` is a stable machine-readable code."""

    def __init__(self, reason: str, detail: str = "") -> None:
        """Carry the reason code and an optional detail."""
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def b64encode(data: bytes) -> str:
    """URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64decode(text: str) -> bytes:
    """Inverse of :func:`b64encode`; raises ValueError on bad input."""
    if not isinstance(text, str):
        raise ValueError("not a string")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as err:
        raise ValueError("invalid base64") from err


class KeyPair:
    """An X25519 key pair with helpers to store and announce it."""

    def __init__(self, private_key: X25519PrivateKey) -> None:
        """Wrap an existing private key."""
        self._private = private_key
        self.public_bytes = private_key.public_key().public_bytes_raw()

    @classmethod
    def generate(cls) -> KeyPair:
        """Create a fresh key pair."""
        return cls(X25519PrivateKey.generate())

    @classmethod
    def from_private_b64(cls, text: str) -> KeyPair:
        """Load a key pair stored with :meth:`private_b64`."""
        raw = b64decode(text)
        if len(raw) != KEY_BYTES:
            raise ValueError("a private key has 32 bytes")
        return cls(X25519PrivateKey.from_private_bytes(raw))

    def private_b64(self) -> str:
        """Return the private key, for storage by its owner only."""
        return b64encode(self._private.private_bytes_raw())

    @property
    def public_b64(self) -> str:
        """The public key as announced on MQTT."""
        return b64encode(self.public_bytes)

    def derive(self, peer_public_b64: str) -> SessionKeys:
        """Derive the keys shared with the owner of ``peer_public_b64``."""
        peer = parse_public_key(peer_public_b64)
        shared = self._private.exchange(X25519PublicKey.from_public_bytes(peer))
        # Order the two public keys so both sides feed HKDF the same info.
        low, high = sorted((self.public_bytes, peer))
        okm = HKDF(
            algorithm=hashes.SHA256(),
            length=3 * KEY_BYTES,
            salt=b"fluxilab-pairing-v1",
            info=low + high,
        ).derive(shared)
        return SessionKeys(
            mac=okm[:KEY_BYTES],
            enc=okm[KEY_BYTES : 2 * KEY_BYTES],
            token=okm[2 * KEY_BYTES :],
            fingerprint=fingerprint(self.public_bytes, peer),
        )


def parse_public_key(text: str) -> bytes:
    """Decode an announced public key; ValueError unless it is 32 bytes."""
    raw = b64decode(text)
    if len(raw) != KEY_BYTES:
        raise ValueError("a public key has 32 bytes")
    return raw


def fingerprint(key_a: bytes, key_b: bytes) -> str:
    """Short, order-independent fingerprint of a pairing, e.g. ``3F9A-12C0-77EB``."""
    low, high = sorted((key_a, key_b))
    digest = hashlib.sha256(b"fluxilab-fingerprint" + low + high).hexdigest().upper()
    return "-".join(digest[i : i + 4] for i in range(0, 12, 4))


@dataclass(frozen=True, slots=True)
class SessionKeys:
    """The keys a hub and one device share after pairing."""

    mac: bytes
    enc: bytes
    token: bytes
    fingerprint: str


def _dumps_canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _canonical(topic: str, version: int, ts: float, nonce: str, body: Any) -> bytes:
    return _dumps_canonical([topic, version, ts, nonce, body]).encode()


def _signed_prefix(topic: str, version: int, ts: float, nonce: str) -> bytes:
    """Return what :func:`_canonical` puts before the body: ``[topic,v,ts,nonce,``."""
    return _dumps_canonical([topic, version, ts, nonce])[:-1].encode() + b","


def _sealed_body(
    keys: SessionKeys, topic: str, body: dict[str, Any], encrypt: bool
) -> dict[str, Any]:
    if not encrypt:
        return body
    iv = nonce_bytes(NONCE_BYTES)
    plain = json.dumps(body, separators=(",", ":")).encode()
    return {
        "iv": b64encode(iv),
        "ct": b64encode(AESGCM(keys.enc).encrypt(iv, plain, topic.encode())),
    }


def seal(
    keys: SessionKeys,
    topic: str,
    body: dict[str, Any],
    *,
    encrypt: bool = False,
    now: float | None = None,
) -> dict[str, Any]:
    """Wrap ``body`` in a signed (and optionally encrypted) envelope for ``topic``."""
    ts = round(time.time() if now is None else now, 3)
    nonce = nonce_hex(8)
    payload = _sealed_body(keys, topic, body, encrypt)
    sig = hmac.new(
        keys.mac, _canonical(topic, PROTOCOL_VERSION, ts, nonce, payload), "sha256"
    ).hexdigest()
    return {
        "v": PROTOCOL_VERSION,
        "ts": ts,
        "nonce": nonce,
        "body": payload,
        "sig": sig,
    }


def seal_payload(
    keys: SessionKeys,
    topic: str,
    body: dict[str, Any],
    *,
    encrypt: bool = False,
    now: float | None = None,
) -> bytes:
    """Return the wire form of :func:`seal`'s envelope, laid out to verify cheaply.

    The same envelope and signature, written with ``body`` last and in the
    canonical form the signature covers: ``{"v":..,"ts":..,"nonce":..,"sig":..,
    "body":<canonical body>}``. Any receiver parses it as before; one that knows
    the layout (:func:`open_payload`) checks the signature over the body's bytes
    as they arrived instead of parsing and re-encoding them. The body is encoded
    once (``seal`` then ``json.dumps`` encode it twice).
    """
    ts = round(time.time() if now is None else now, 3)
    nonce = nonce_hex(8)
    raw_body = _dumps_canonical(_sealed_body(keys, topic, body, encrypt)).encode()
    mac = hmac.new(
        keys.mac, _signed_prefix(topic, PROTOCOL_VERSION, ts, nonce), "sha256"
    )
    mac.update(raw_body)
    mac.update(b"]")
    head = json.dumps(
        {"v": PROTOCOL_VERSION, "ts": ts, "nonce": nonce, "sig": mac.hexdigest()},
        separators=(",", ":"),
    )
    return head[:-1].encode() + b',"body":' + raw_body + b"}"


_RAW_HEAD = re.compile(
    rb'\{"v":(0|[1-9][0-9]{0,8}),'
    rb'"ts":((?:0|[1-9][0-9]{0,15})(?:\.[0-9]{1,17})?),'
    rb'"nonce":"([0-9A-Za-z_-]{8,64})",'
    rb'"sig":"([0-9a-f]{64})",'
    rb'"body":'
)
"""The head :func:`seal_payload` writes: every field in it, in that order, plainly."""


def _open_raw(
    keys: SessionKeys,
    topic: str,
    payload: bytes,
    guard: ReplayGuard | None,
    loads: Callable[[bytes], Any],
) -> dict[str, Any] | None:
    """Return the body if ``payload`` is laid out as :func:`seal_payload` does it.

    None, with nothing recorded, for anything else (another layout, a signature
    that does not match these bytes, a body that does not parse to an object):
    :func:`open_payload` then opens it the general way, which decides and gives
    the reason. What this accepts is exactly what the key holder signed, byte for
    byte, and passed the same version and replay checks.
    """
    head = _RAW_HEAD.match(payload)
    if head is None or not payload.endswith(b"}"):
        return None
    version = int(head[1])
    if version != PROTOCOL_VERSION:
        return None
    ts: int | float = json.loads(head[2])  # as the general parse reads the number
    nonce = head[3].decode("ascii")
    raw_body = memoryview(payload)[head.end() : -1]
    mac = hmac.new(keys.mac, _signed_prefix(topic, version, ts, nonce), "sha256")
    mac.update(raw_body)
    mac.update(b"]")
    if not hmac.compare_digest(mac.hexdigest().encode("ascii"), head[4]):
        return None
    try:
        body = loads(raw_body.tobytes())
    except (ValueError, RecursionError):
        return None
    if type(body) is not dict:
        return None
    if guard is not None:
        guard.check(nonce, float(ts))
    return body


def open_payload(
    keys: SessionKeys,
    topic: str,
    payload: str | bytes | bytearray,
    *,
    guard: ReplayGuard | None = None,
    decrypt: bool = False,
    loads: Callable[[bytes], Any] = json.loads,
) -> dict[str, Any]:
    """Parse and verify a message as it came off the wire; return its body.

    A payload in :func:`seal_payload`'s layout is verified over the bytes that
    arrived and only its body is parsed (with ``loads``, once the signature
    matched). Anything else is parsed with the standard library and opened by
    :func:`open_envelope`, exactly as before the layout existed (so an older
    sender, or a message of another layout, gets the same answer and reason).

    Raises ValueError or RecursionError for a payload that is not JSON, and
    :class:`ProtocolSecurityError` as :func:`open_envelope` does.
    """
    data = payload.encode() if isinstance(payload, str) else bytes(payload)
    body = _open_raw(keys, topic, data, guard, loads)
    if body is not None:
        if not decrypt:
            return body
        return _decrypt(keys, topic, body)
    return open_envelope(keys, topic, json.loads(data), guard=guard, decrypt=decrypt)


def open_envelope(
    keys: SessionKeys,
    topic: str,
    envelope: Any,
    *,
    guard: ReplayGuard | None = None,
    decrypt: bool = False,
) -> dict[str, Any]:
    """Verify an envelope and return its body, or raise ProtocolSecurityError.

    Reasons: ``malformed``, ``version``, ``signature``, ``stale``, ``future``,
    ``replay``, ``decrypt``.
    """
    if not isinstance(envelope, dict):
        raise ProtocolSecurityError("malformed", "envelope is not an object")
    version, ts, nonce = envelope.get("v"), envelope.get("ts"), envelope.get("nonce")
    body, sig = envelope.get("body"), envelope.get("sig")
    if (
        not isinstance(version, int)
        or isinstance(ts, bool)
        or not isinstance(ts, (int, float))
        or not isinstance(nonce, str)
        or not 8 <= len(nonce) <= 64
        or not isinstance(body, dict)
        or not isinstance(sig, str)
    ):
        raise ProtocolSecurityError("malformed", "missing or mistyped envelope field")
    if version != PROTOCOL_VERSION:
        raise ProtocolSecurityError("version", f"protocol version {version}")
    try:
        signed = _canonical(topic, version, ts, nonce, body)
    except UnicodeEncodeError as err:
        # A lone surrogate (JSON "\ud800" parses to one): no sender can have signed it.
        raise ProtocolSecurityError("malformed", "a string is not UTF-8") from err
    expected = hmac.new(keys.mac, signed, "sha256").hexdigest()
    if not hmac.compare_digest(expected, sig):
        raise ProtocolSecurityError("signature")
    if guard is not None:
        guard.check(nonce, float(ts))
    if not decrypt:
        return body
    return _decrypt(keys, topic, body)


def _decrypt(keys: SessionKeys, topic: str, body: dict[str, Any]) -> dict[str, Any]:
    try:
        plain = AESGCM(keys.enc).decrypt(
            b64decode(body["iv"]), b64decode(body["ct"]), topic.encode()
        )
        result = json.loads(plain)
    except Exception as err:
        raise ProtocolSecurityError("decrypt", type(err).__name__) from err
    if not isinstance(result, dict):
        raise ProtocolSecurityError("decrypt", "plaintext is not an object")
    return result


class GuardWindow(TypedDict, total=False):
    """A replay guard's window as its owner stores it (:meth:`ReplayGuard.snapshot`).

    Or the marker :data:`INTERRUPTED`: ``complete`` alone, False.
    """

    complete: Required[bool]
    not_before: float
    nonces: list[list[str | float]]
    """[nonce, when it was seen] pairs, oldest first (JSON has no tuples)."""


class ReplayGuard:
    """Rejects stale, future-dated and already-seen envelopes.

    Nonces are remembered only for ``max_age`` seconds: anything older is rejected
    as stale anyway, so memory stays bounded by the message rate.

    Across a restart the window survives as a :meth:`snapshot`, written when its
    owner stops. A guard restored from anything else (nothing stored, or the marker
    :data:`INTERRUPTED` a crash left behind) cannot know what it saw before, so it
    rejects every message sealed before it started (``not_before``): those messages
    are either replays or were sealed before the restart, and senders seal anew
    whatever they send again.
    """

    def __init__(
        self,
        max_age: float = DEFAULT_MAX_AGE,
        max_skew: float = DEFAULT_MAX_SKEW,
        max_nonces: int = 100_000,
    ) -> None:
        """Create a guard with the given freshness window."""
        self.max_age = max_age
        self.max_skew = max_skew
        self.max_nonces = max_nonces
        self.not_before = 0.0
        """Timestamps before this are refused (``replay``): see :meth:`restore`."""
        self._seen: OrderedDict[str, float] = OrderedDict()

    def check(self, nonce: str, ts: float, now: float | None = None) -> None:
        """Record ``nonce`` or raise ProtocolSecurityError."""
        now = time.time() if now is None else now
        if ts < now - self.max_age:
            raise ProtocolSecurityError("stale", f"{now - ts:.0f} s old")
        if ts > now + self.max_skew:
            raise ProtocolSecurityError("future", f"{ts - now:.0f} s ahead")
        if ts < self.not_before:
            raise ProtocolSecurityError("replay", "sealed before a restart")
        self._prune(now)
        if nonce in self._seen:
            raise ProtocolSecurityError("replay")
        self._seen[nonce] = max(ts, now)

    def _prune(self, now: float) -> None:
        while self._seen:
            oldest_nonce, oldest_ts = next(iter(self._seen.items()))
            if (
                oldest_ts >= now - self.max_age - self.max_skew
                and len(self._seen) < self.max_nonces
            ):
                break
            del self._seen[oldest_nonce]

    def snapshot(self, now: float | None = None) -> GuardWindow:
        """Return the window for storage when the owner stops."""
        self._prune(time.time() if now is None else now)
        return {
            "complete": True,
            "not_before": self.not_before,
            "nonces": [[nonce, ts] for nonce, ts in self._seen.items()],
        }

    def restore(self, stored: Any, now: float | None = None) -> None:
        """Take back a :meth:`snapshot`; anything else refuses what came before.

        The owner then stores :data:`INTERRUPTED` at once, so that a crash before
        the next snapshot is recognized as one.
        """
        now = time.time() if now is None else now
        self._seen.clear()
        if not isinstance(stored, Mapping) or stored.get("complete") is not True:
            # Less a millisecond: seal() rounds its timestamps to milliseconds.
            self.not_before = now - 0.001
            return
        not_before = stored.get("not_before")
        if isinstance(not_before, (int, float)) and not isinstance(not_before, bool):
            self.not_before = float(not_before)
        nonces = stored.get("nonces")
        pairs = nonces if isinstance(nonces, list) else []
        for pair in sorted(
            (
                (nonce, float(ts))
                for nonce, ts in (
                    p for p in pairs if isinstance(p, list) and len(p) == 2
                )
                if isinstance(nonce, str)
                and isinstance(ts, (int, float))
                and not isinstance(ts, bool)
            ),
            key=lambda item: item[1],
        ):
            self._seen[pair[0]] = pair[1]
        self._prune(now)


INTERRUPTED: GuardWindow = {"complete": False}
"""What a guard's owner stores while it runs: a restart from it was a crash."""


SEAL_FIELD = "seal"
"""The announcement's field holding its signature (:func:`seal_announce`)."""


def seal_announce(
    keys: SessionKeys,
    topic: str,
    announce: Mapping[str, Any],
    *,
    now: float | None = None,
) -> dict[str, Any]:
    """Return ``announce`` with a ``seal``: ``{"ts", "nonce", "sig"}`` of an envelope.

    The announcement stays readable without the keys (discovery shows it before
    the admin adopts the device); the seal proves that the paired device wrote it,
    for this topic.
    """
    body = {key: value for key, value in announce.items() if key != SEAL_FIELD}
    envelope = seal(keys, topic, body, now=now)
    return {
        **body,
        SEAL_FIELD: {key: envelope[key] for key in ("ts", "nonce", "sig")},
    }


def open_announce(keys: SessionKeys, topic: str, document: Any) -> float:
    """Verify a sealed announcement and return the time it was sealed.

    Reasons: ``unsealed`` (no seal at all), then those of :func:`open_envelope`.
    The announcement is retained, so it is not held to the replay window: the
    receiver refuses one sealed earlier than the last it took.
    """
    if not isinstance(document, Mapping) or SEAL_FIELD not in document:
        raise ProtocolSecurityError("unsealed")
    stamp = document[SEAL_FIELD]
    if not isinstance(stamp, Mapping):
        raise ProtocolSecurityError("malformed", "seal is not an object")
    ts: Any = stamp.get("ts")
    open_envelope(
        keys,
        topic,
        {
            "v": document.get("v"),
            "ts": ts,
            "nonce": stamp.get("nonce"),
            "sig": stamp.get("sig"),
            "body": {k: v for k, v in document.items() if k != SEAL_FIELD},
        },
    )
    sealed_at = float(ts)  # open_envelope checked that it is a number
    if sealed_at > time.time() + DEFAULT_MAX_SKEW:
        raise ProtocolSecurityError("future", f"{sealed_at - time.time():.0f} s ahead")
    return sealed_at


def _jwt_part(data: dict[str, Any]) -> str:
    return b64encode(json.dumps(data, separators=(",", ":"), sort_keys=True).encode())


def issue_token(
    keys: SessionKeys,
    *,
    device_id: str,
    subject: str,
    role: str,
    name: str,
    lifetime: int = 60,
    now: float | None = None,
    back: str | None = None,
) -> str:
    """Issue a short-lived HS256 JWT letting ``subject`` into one device's UI.

    ``back``: where the device's page links "Back to Home Assistant" (the panel
    page the person came from; signed, so the device shows only what the hub sent).
    """
    if not 0 < lifetime <= TOKEN_MAX_LIFETIME:
        raise ValueError(f"token lifetime must be 1..{TOKEN_MAX_LIFETIME} s")
    iat = int(time.time() if now is None else now)
    claims = {
        "aud": f"fluxilab:{device_id}",
        "sub": subject,
        "role": role,
        "name": name,
        "iat": iat,
        "exp": iat + lifetime,
        "jti": secrets.token_hex(8),
    }
    if back is not None:
        claims["back"] = back
    signing_input = f"{_jwt_part({'alg': 'HS256', 'typ': 'JWT'})}.{_jwt_part(claims)}"
    sig = hmac.new(keys.token, signing_input.encode(), "sha256").digest()
    return f"{signing_input}.{b64encode(sig)}"


def verify_token(
    keys: SessionKeys, token: str, *, device_id: str, now: float | None = None
) -> dict[str, Any]:
    """Return the claims of a valid token for ``device_id``; raise otherwise.

    Reasons: ``malformed``, ``signature``, ``audience``, ``expired``, ``lifetime``.
    """
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 3:
        raise ProtocolSecurityError("malformed", "not a JWT")
    try:
        header = json.loads(b64decode(parts[0]))
        claims = json.loads(b64decode(parts[1]))
        sig = b64decode(parts[2])
    except ValueError as err:
        raise ProtocolSecurityError("malformed", "undecodable") from err
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        raise ProtocolSecurityError("malformed", "algorithm must be HS256")
    expected = hmac.new(keys.token, f"{parts[0]}.{parts[1]}".encode(), "sha256")
    if not hmac.compare_digest(expected.digest(), sig):
        raise ProtocolSecurityError("signature")
    if not isinstance(claims, dict):
        raise ProtocolSecurityError("malformed", "claims are not an object")
    if claims.get("aud") != f"fluxilab:{device_id}":
        raise ProtocolSecurityError("audience")
    iat, exp = claims.get("iat"), claims.get("exp")
    if not isinstance(iat, int) or not isinstance(exp, int):
        raise ProtocolSecurityError("malformed", "iat/exp missing")
    if exp - iat > TOKEN_MAX_LIFETIME:
        raise ProtocolSecurityError("lifetime")
    current = time.time() if now is None else now
    if current >= exp or iat > current + DEFAULT_MAX_SKEW:
        raise ProtocolSecurityError("expired")
    return claims
