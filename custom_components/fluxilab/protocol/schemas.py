"""Payload schemas of the FluxiLab protocol, validated on both sides.

Compatibility rule (see PROTOCOL.md): within one major ``PROTOCOL_VERSION`` fields are
only ever *added*, always optional, and receivers ignore fields they do not know
(``extra=ALLOW_EXTRA`` on every schema that crosses the wire), so an older hub and a
newer agent (or the reverse) keep working. Renaming, removing or changing the meaning
of a field bumps the major version; receivers reject a version they do not know.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from enum import StrEnum
import math
import re
from typing import Any, TypedDict
from urllib.parse import urlsplit

import voluptuous as vol

from . import PROTOCOL_VERSION
from .topics import DEVICE_ID_PATTERN, Channel

MAX_CHANNELS = 64
MAX_BACKLOG_BATCH = 1000
MAX_TEXT = 255
MAX_PROBLEM_TEXT = 200
"""Longest problem description a device sends (one access request)."""
MAX_URL = 2048
MAX_MAINTENANCE_TEXT = 500
"""Longest maintenance description of a machine type (the device shows it whole)."""
MAX_REPLY_MESSAGE = 64
"""Longest message of an access reply (what the device shows with a refusal)."""
MAX_MAINTENANCE_MESSAGE = 32
"""Longest short maintenance message (an LCD line or two)."""


class DeviceKind(StrEnum):
    """What a device is, as a lab admin would say it."""

    FUMEHOOD = "fumehood"
    MACHINE = "machine"
    SENSOR_STATION = "sensor_station"


class ValueType(StrEnum):
    """Type of a telemetry channel's values."""

    INT = "int"
    FLOAT = "float"
    BOOL = "bool"


class ActuatorKind(StrEnum):
    """What an actuator does."""

    RELAY = "relay"
    INTERLOCK = "interlock"
    BUTTON = "button"


class RecordKind(StrEnum):
    """Kinds of buffered records."""

    TELEMETRY = "telemetry"
    ACCESS = "access"


class AccessAction(StrEnum):
    """What a device asks the hub about."""

    CHECK = "check"
    SESSION_START = "session_start"
    SESSION_HEARTBEAT = "session_heartbeat"
    SESSION_STOP = "session_stop"
    MAINTENANCE = "maintenance"
    PROBLEM_REPORT = "problem_report"
    """A member signed in at the device reports a problem with it (docs/BOOKINGS.md)."""


class CommandName(StrEnum):
    """Commands the hub sends to a device."""

    BLOCK = "block"
    UNBLOCK = "unblock"
    RELAY = "relay"
    REBOOT = "reboot"
    SYNC = "sync"
    CONFIG = "config"
    UPDATE = "update"
    REVOKE = "revoke"


def _text(max_len: int = MAX_TEXT) -> vol.All:
    return vol.All(str, vol.Length(min=1, max=max_len))


def _nullable(validator: Any) -> Callable[[Any], Any]:
    """Accept None or what ``validator`` accepts: ``vol.Any(None, validator)``.

    ``vol.Any`` tries None first, so every field that is set raises (and catches)
    an exception before its real check: ~40 µs per access reply. The same inputs
    pass and fail here; a failure reports the validator's error, not None's.
    """
    schema = vol.Schema(validator)

    def check(value: Any) -> Any:
        return None if value is None else schema(value)

    return check


def _finite(value: Any) -> int | float:
    """Accept a finite int or float (Python's json parses NaN, JSON has none)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise vol.Invalid("expected a number")
    if not math.isfinite(value):
        raise vol.Invalid("expected a finite number")
    number: int | float = value
    return number


def _sample(value: Any) -> int | float | bool:
    """One telemetry value: int, finite float or bool."""
    if isinstance(value, bool):
        return value
    return _finite(value)


def _version(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise vol.Invalid("protocol version must be an integer")
    if value != PROTOCOL_VERSION:
        raise vol.Invalid(f"unsupported protocol version {value}")
    return value


DEVICE_ID = vol.All(str, vol.Match(rf"^{DEVICE_ID_PATTERN}$"))
CHANNEL_KEY = vol.All(str, vol.Match(r"^[a-z][a-z0-9_]{0,31}$"))
SEQ = vol.All(int, vol.Range(min=0))
STREAM = vol.All(str, vol.Match(r"^[A-Za-z0-9_-]{8,64}$"))
"""A record stream: the random id an agent picks when it creates its buffer.

Sequence numbers are unique within one stream only. An agent whose buffer is wiped
starts a new stream and counts from the start again; the hub keeps stored sequence
numbers per stream, and echoes the stream in its acks so that an agent ignores acks
meant for an earlier stream. Optional: senders without it form one unnamed stream.
"""
GATEWAY_FINGERPRINT = vol.All(str, vol.Match(r"^[0-9A-F]{2}(?::[0-9A-F]{2}){31}$"))
TIMESTAMP = vol.All(_finite, vol.Range(min=0))

CHANNEL_SCHEMA = vol.Schema(
    {
        vol.Required("key"): CHANNEL_KEY,
        vol.Required("name"): _text(),
        vol.Required("type"): vol.Coerce(ValueType),
        vol.Optional("unit"): vol.Any(None, _text(32)),
        vol.Optional("device_class"): vol.Any(None, _text(64)),
        vol.Optional("state_class"): vol.Any(None, _text(64)),
        vol.Optional("period", default=1.0): vol.All(_finite, vol.Range(min=0.05)),
        vol.Optional("safety"): bool,
    },
    extra=vol.ALLOW_EXTRA,
)

ACTUATOR_SCHEMA = vol.Schema(
    {
        vol.Required("key"): CHANNEL_KEY,
        vol.Required("kind"): vol.Coerce(ActuatorKind),
        vol.Optional("name"): _text(),
    },
    extra=vol.ALLOW_EXTRA,
)


def valid_ui_url(value: Any) -> bool:
    """Return True for an ``http``/``https`` address with a host and nothing odd.

    The panel sends the browser there with a gateway token: another scheme
    (``javascript:``, ``data:``) would run in Home Assistant's origin. Credentials in
    the address (``http://lab@elsewhere/``) and whitespace or control characters are
    refused too, so what an admin reads is where the browser goes.
    """
    if not isinstance(value, str) or not 0 < len(value) <= MAX_URL:
        return False
    if any(char.isspace() or not char.isprintable() for char in value):
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  # raises ValueError for a port out of range
    except ValueError:
        return False
    return (
        parts.scheme.lower() in ("http", "https")
        and bool(parts.hostname)
        and "@" not in parts.netloc
    )


def _ui_url(value: Any) -> str:
    if not valid_ui_url(value):
        raise vol.Invalid("ui_url must be an http(s) address with a host")
    url: str = value
    return url


def _http_url(value: Any) -> str:
    if not valid_ui_url(value):
        raise vol.Invalid("must be an http(s) address with a host")
    url: str = value
    return url


def _unique_keys(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    keys = [item["key"] for item in items]
    if len(keys) != len(set(keys)):
        raise vol.Invalid("keys must be unique")
    return items


ANNOUNCE_SCHEMA = vol.Schema(
    {
        vol.Required("v"): _version,
        vol.Required("id"): DEVICE_ID,
        vol.Required("name"): _text(),
        vol.Required("kind"): vol.Coerce(DeviceKind),
        vol.Required("model"): _text(),
        vol.Required("sw_version"): _text(64),
        vol.Optional("hw_version"): vol.Any(None, _text(64)),
        vol.Optional("serial"): vol.Any(None, _text(128)),
        vol.Optional("ui_url"): vol.Any(None, _ui_url),
        # SHA-256 of the gateway's TLS certificate, AB:CD:... (docs/AGENT.md).
        vol.Optional("gateway_fingerprint"): vol.Any(None, GATEWAY_FINGERPRINT),
        vol.Required("key"): _text(64),
        # Once paired, the agent seals its announcement (security.seal_announce); the
        # hub takes an unsealed one from a paired device only as a sign of a new key.
        vol.Optional("seal"): dict,
        vol.Optional("capabilities", default=dict): vol.Schema(
            {
                vol.Optional("channels", default=list): vol.All(
                    [CHANNEL_SCHEMA], vol.Length(max=MAX_CHANNELS), _unique_keys
                ),
                vol.Optional("actuators", default=list): vol.All(
                    [ACTUATOR_SCHEMA], vol.Length(max=MAX_CHANNELS), _unique_keys
                ),
                vol.Optional("rfid", default=False): bool,
                vol.Optional("ui", default=False): bool,
            },
            extra=vol.ALLOW_EXTRA,
        ),
    },
    extra=vol.ALLOW_EXTRA,
)

VALUES_SCHEMA = vol.Schema({CHANNEL_KEY: _sample})

TELEMETRY_SCHEMA = vol.Schema(
    {
        vol.Optional("stream"): STREAM,
        vol.Required("seq"): SEQ,
        vol.Required("ts"): TIMESTAMP,
        vol.Required("values"): vol.All(VALUES_SCHEMA, vol.Length(max=MAX_CHANNELS)),
    },
    extra=vol.ALLOW_EXTRA,
)

ACCESS_EVENT_SCHEMA = vol.Schema(
    {
        vol.Required("action"): vol.Coerce(AccessAction),
        vol.Optional("request_id"): vol.Any(None, _text(64)),
        vol.Optional("card"): vol.Any(None, _text(64)),
        vol.Optional("member_id"): vol.Any(None, _text(64)),
        vol.Optional("granted"): bool,
        vol.Optional("offline"): bool,
        vol.Optional("reason"): vol.Any(None, _text(64)),
        vol.Optional("session_id"): vol.Any(None, _text(64)),
        vol.Optional("duration"): vol.Any(None, vol.All(_finite, vol.Range(min=0))),
    },
    extra=vol.ALLOW_EXTRA,
)

TELEMETRY_RECORD_SCHEMA = vol.Schema(
    {
        vol.Required("seq"): SEQ,
        vol.Required("ts"): TIMESTAMP,
        vol.Required("kind"): RecordKind.TELEMETRY.value,
        vol.Optional("buffered", default=True): bool,
        vol.Required("values"): vol.All(VALUES_SCHEMA, vol.Length(max=MAX_CHANNELS)),
    },
    extra=vol.ALLOW_EXTRA,
)
ACCESS_RECORD_SCHEMA = vol.Schema(
    {
        vol.Required("seq"): SEQ,
        vol.Required("ts"): TIMESTAMP,
        vol.Required("kind"): RecordKind.ACCESS.value,
        vol.Optional("buffered", default=True): bool,
        vol.Required("event"): ACCESS_EVENT_SCHEMA,
    },
    extra=vol.ALLOW_EXTRA,
)
RECORD_SCHEMA = vol.Any(TELEMETRY_RECORD_SCHEMA, ACCESS_RECORD_SCHEMA)

BACKLOG_SCHEMA = vol.Schema(
    {
        vol.Optional("stream"): STREAM,
        vol.Required("records"): vol.All(
            [RECORD_SCHEMA], vol.Length(min=1, max=MAX_BACKLOG_BATCH)
        ),
    },
    extra=vol.ALLOW_EXTRA,
)

_CHANNEL_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
"""CHANNEL_KEY's pattern (``vol.Match`` uses ``re.match`` too)."""
_CHANNEL_KEYS_SEEN: set[str] = set()
"""Channel keys that matched before (a device sends the same few in every record)."""
_MAX_KEYS_SEEN = 4096
_MAX_PLAIN_INT = 2**53
_FLOAT_ONLY = {float}


def _telemetry_record(record: Any, owned: bool = False) -> dict[str, Any] | None:
    """Return a plain telemetry record as RECORD_SCHEMA would, or None if not plain.

    Accepts only what the schema accepts, and builds what it returns (``buffered``
    defaulted, extra keys kept, ``values`` copied); None leaves it to the schema
    (which also decides about ints too large for a float: ``_finite`` cannot).
    ``owned``: the record itself, ``buffered`` defaulted in place (no copies).
    """
    if type(record) is not dict:
        return None
    seq, ts, values = record.get("seq"), record.get("ts"), record.get("values")
    if type(seq) is not int or seq < 0:
        return None
    if type(ts) is float:
        if not 0 <= ts < math.inf:  # false for NaN
            return None
    elif type(ts) is not int or not 0 <= ts <= _MAX_PLAIN_INT:
        return None
    kind = record.get("kind")
    if type(kind) is not str or kind != "telemetry":
        return None
    buffered = record.get("buffered", True)
    if type(buffered) is not bool:
        return None
    if type(values) is not dict or len(values) > MAX_CHANNELS:
        return None
    seen = _CHANNEL_KEYS_SEEN
    if not seen.issuperset(values):
        for key in values:
            if key not in seen:
                if type(key) is not str or _CHANNEL_KEY_RE.match(key) is None:
                    return None
                if len(seen) < _MAX_KEYS_SEEN:
                    seen.add(key)
    samples = values.values()
    # The usual record: floats only, whose sum is finite only if each one is (a
    # NaN or an infinity makes it NaN or infinite). Anything else, and a sum that
    # overflows, gets the check value by value.
    if not (
        set(map(type, samples)) == _FLOAT_ONLY and -math.inf < sum(samples) < math.inf
    ) and not _plain_samples(samples):
        return None
    if owned:
        record["buffered"] = buffered
        return record
    return {**record, "buffered": buffered, "values": dict(values)}


def _plain_samples(samples: Iterable[Any]) -> bool:
    """Return True if every value is a bool, a finite float or an int within 2**53."""
    for value in samples:
        kind_of_value = type(value)
        if kind_of_value is float:
            if not -math.inf < value < math.inf:  # false for NaN
                return False
        elif kind_of_value is int:
            if not -_MAX_PLAIN_INT <= value <= _MAX_PLAIN_INT:
                return False
        elif kind_of_value is not bool:
            return False
    return True


def _record(record: Any) -> dict[str, Any]:
    """RECORD_SCHEMA's result for a record that is not plain telemetry.

    An access record goes to its schema at once: the telemetry one cannot accept
    its ``kind``, so RECORD_SCHEMA would return the same, after building an error.
    """
    if (
        type(record) is dict
        and type(kind := record.get("kind")) is str
        and kind == RecordKind.ACCESS.value
    ):
        return dict(ACCESS_RECORD_SCHEMA(record))
    return dict(RECORD_SCHEMA(record))


def validate_backlog(body: Any, *, owned: bool = False) -> dict[str, Any]:
    """Validate a backlog batch: the same result (or error) as BACKLOG_SCHEMA.

    Telemetry records of the usual shape (ints and finite floats, channel keys seen
    before) are checked in plain Python, about a tenth of the schema's time per
    record; access records go through their own schema, any other record through
    RECORD_SCHEMA, and any error through the whole BACKLOG_SCHEMA, so that what is
    refused and why stay exactly the schema's.

    ``owned``: the caller parsed ``body`` itself and nothing else holds it (the
    hub, just after verifying a message): plain records are returned as they are,
    with ``buffered`` set in place, not copied. Two fewer objects per record for
    Home Assistant's cycle collector, whose runs were a third of the replay's CPU.
    On an error the body may have gained those ``buffered`` fields (the default the
    schema gives them): the error is the same.
    """
    if type(body) is not dict:
        return dict(BACKLOG_SCHEMA(body))
    records = body.get("records")
    if type(records) is not list or not 1 <= len(records) <= MAX_BACKLOG_BATCH:
        return dict(BACKLOG_SCHEMA(body))
    try:
        out: dict[str, Any] = dict(body)
        if "stream" in body:
            out["stream"] = STREAM(body["stream"])
        out["records"] = [
            plain
            if (plain := _telemetry_record(record, owned)) is not None
            else _record(record)
            for record in records
        ]
    except vol.Invalid:
        return dict(BACKLOG_SCHEMA(body))  # raises the schema's own error
    return out


ACK_SCHEMA = vol.Schema(
    {
        vol.Optional("stream"): STREAM,
        vol.Required("seqs"): vol.All([SEQ], vol.Length(max=10 * MAX_BACKLOG_BATCH)),
    },
    extra=vol.ALLOW_EXTRA,
)

ACCESS_REQUEST_SCHEMA = vol.Schema(
    {
        vol.Required("id"): _text(64),
        vol.Required("action"): vol.Coerce(AccessAction),
        vol.Optional("card"): _nullable(_text(64)),
        # A member who logged in at the device with PIN/password: the device checked
        # the bcrypt hash against its credential mirror; no secret crosses the wire.
        vol.Optional("member_id"): _nullable(_text(64)),
        # With a card (a machine type with require_pin): member_id is the member whose
        # PIN matched at the device, or pin_failed says the PIN given was wrong.
        vol.Optional("pin_failed"): bool,
        vol.Optional("session_id"): _nullable(_text(64)),
        vol.Optional("duration"): _nullable(vol.All(_finite, vol.Range(min=0))),
        # A session_start may name the project the member chose at the device; the
        # hub charges the session to it if the member belongs to it (billing).
        vol.Optional("project"): _nullable(_text(100)),
        # A problem report: what is wrong, and whether the machine is unsafe.
        vol.Optional("description"): _nullable(_text(MAX_PROBLEM_TEXT)),
        vol.Optional("unsafe"): bool,
    },
    extra=vol.ALLOW_EXTRA,
)

ACCESS_REPLY_SCHEMA = vol.Schema(
    {
        vol.Required("id"): _text(64),
        vol.Required("granted"): bool,
        vol.Required("reason"): _text(64),
        vol.Optional("member_id"): _nullable(_text(64)),
        vol.Optional("name"): _nullable(_text()),
        vol.Optional("level"): _nullable(_text(32)),
        vol.Optional("session_id"): _nullable(_text(64)),
        vol.Optional("timeout"): _nullable(vol.All(_finite, vol.Range(min=0))),
        vol.Optional("grace"): _nullable(vol.All(_finite, vol.Range(min=0))),
        vol.Optional("message"): _nullable(
            vol.All(str, vol.Length(max=MAX_REPLY_MESSAGE))
        ),
    },
    extra=vol.ALLOW_EXTRA,
)


class CommandArgs(TypedDict, total=False):
    """A command's ``args`` (``COMMAND_SCHEMA``): each command reads its own."""

    on: bool
    """``relay``: switch the output on (True) or off."""
    key: str
    """``relay``: the output to switch (default: the agent's interlock)."""
    version: str | None
    """``update``: the version to install (None: the device's choice)."""
    periods: dict[str, float]
    """``config``: seconds between two readings, per channel."""
    access_timeout: float
    """``config``: seconds the device waits for the hub's answer to a request."""


COMMAND_SCHEMA = vol.Schema(
    {
        vol.Required("id"): _text(64),
        vol.Required("command"): vol.Coerce(CommandName),
        vol.Optional("args", default=dict): dict,
    },
    extra=vol.ALLOW_EXTRA,
)

COMMAND_RESULT_SCHEMA = vol.Schema(
    {
        vol.Required("id"): _text(64),
        vol.Required("ok"): bool,
        vol.Optional("error"): vol.Any(None, _text()),
        # The credential generation the device's mirror holds (-1: none): a hub
        # whose counter went back (restored backup) sees the device ahead of it.
        vol.Optional("generation"): vol.Any(None, vol.All(int, vol.Range(min=-1))),
        # The state of the output the relay command switches, once the command ran
        # (absent: the device has none): the hub's relay switch shows it.
        vol.Optional("relay"): vol.Any(None, bool),
    },
    extra=vol.ALLOW_EXTRA,
)


class OfflinePolicy(StrEnum):
    """What a device may do with its mirror while it cannot reach the hub."""

    ALLOW_MIRRORED = "allow_mirrored"
    """Grant mirrored members whose mirrored rules pass (docs/ACCESS.md)."""
    DENY = "deny"
    """Refuse every offline grant."""


MAX_GRANTS = 32
HH_MM = vol.All(str, vol.Match(r"^([01][0-9]|2[0-3]):[0-5][0-9]$"))
WINDOW = vol.All([HH_MM], vol.Length(min=2, max=2))
"""A local-time window ``[start, end]`` (``HH:MM``; may cross midnight)."""

CREDENTIAL_GRANT_SCHEMA = vol.Schema(
    {
        vol.Optional("expires"): vol.Any(None, TIMESTAMP),
        vol.Optional("window"): vol.Any(None, WINDOW),
    },
    extra=vol.ALLOW_EXTRA,
)
"""One authorization as the device can check it: until when, at what hours."""

CREDENTIAL_MEMBER_SCHEMA = vol.Schema(
    {
        vol.Required("id"): _text(64),
        vol.Required("name"): _text(),
        vol.Required("level"): _text(32),
        vol.Optional("cards", default=list): [_text(64)],
        vol.Optional("pin_hash"): vol.Any(None, vol.All(str, vol.Length(max=128))),
        # An initial PIN (an admin's reset): it serves only to be replaced at the hub,
        # so the device refuses a login with it as ``pin_change_required``.
        vol.Optional("pin_must_change"): bool,
        vol.Optional("maintenance", default=False): bool,
        # Absent: no authorization needed (role bypasses, or the type needs none).
        vol.Optional("grants"): vol.Any(
            None, vol.All([CREDENTIAL_GRANT_SCHEMA], vol.Length(max=MAX_GRANTS))
        ),
        vol.Optional("supervisor", default=False): bool,
    },
    extra=vol.ALLOW_EXTRA,
)

SAFETY_LIMIT_SCHEMA = vol.Schema(
    {
        vol.Required("channel"): _text(32),
        vol.Optional("min"): _finite,
        vol.Optional("max"): _finite,
    },
    extra=vol.ALLOW_EXTRA,
)

MAX_MIRRORED_BOOKINGS = 100
"""Bookings of the next day a credential set carries for one device, nearest first."""
MIRRORED_BOOKING_SCHEMA = vol.Schema(
    {
        vol.Required("member_id"): _text(64),
        vol.Required("start"): _finite,
        vol.Required("end"): _finite,
    }
)
"""A booking the device holds offline (Unix times; docs/BOOKINGS.md)."""
MAX_MIRRORED_OUTAGES = 20
"""Outages of the next day a credential set carries for one device."""
MIRRORED_OUTAGE_SCHEMA = vol.Schema(
    {vol.Required("start"): _finite, vol.Required("end"): _finite}
)
"""An outage the device holds offline: nobody is granted during it."""
MAX_MIRRORED_OUTAGES = 20
"""Outages of the next day a credential set carries for one device."""
MIRRORED_OUTAGE_SCHEMA = vol.Schema(
    {vol.Required("start"): _finite, vol.Required("end"): _finite}
)
"""An outage the device holds offline: nobody is granted during it."""

MAINTENANCE_NOTICE_SCHEMA = vol.Schema(
    {
        vol.Optional("message"): _nullable(_text(MAX_MAINTENANCE_MESSAGE)),
        vol.Optional("description"): _nullable(_text(MAX_MAINTENANCE_TEXT)),
        vol.Optional("url"): _nullable(_http_url),
    },
    extra=vol.ALLOW_EXTRA,
)
"""What the device shows while its maintenance is due (the machine type's plan)."""

OFFLINE_SCHEMA = vol.Schema(
    {
        vol.Required("policy"): vol.Coerce(OfflinePolicy),
        vol.Required("max_age"): vol.All(_finite, vol.Range(min=0)),
        vol.Optional("tz"): vol.Any(None, _text(64)),
        vol.Optional("maintenance_due", default=False): bool,
        # Absent (a hub before maintenance notices, or nothing due): none shown.
        vol.Optional("maintenance"): vol.Any(None, MAINTENANCE_NOTICE_SCHEMA),
        vol.Optional("supervisor_required", default=False): bool,
        # Absent (a hub before second factors): the card alone is enough.
        vol.Optional("require_pin", default=False): bool,
        vol.Optional("supervised_hours"): vol.Any(None, WINDOW),
        vol.Optional("supervisor_minutes", default=30): vol.All(
            _finite, vol.Range(min=0)
        ),
        vol.Optional("safety_limits", default=list): vol.All(
            [SAFETY_LIMIT_SCHEMA], vol.Length(max=MAX_CHANNELS)
        ),
        # Absent (a hub before bookings): nothing booked, nothing required.
        vol.Optional("booking_mode", default="optional"): vol.In(
            ("off", "optional", "required")
        ),
        vol.Optional("bookings", default=list): vol.All(
            [MIRRORED_BOOKING_SCHEMA], vol.Length(max=MAX_MIRRORED_BOOKINGS)
        ),
        # Absent (a hub before outages): none scheduled, nobody reported it unsafe.
        vol.Optional("outages", default=list): vol.All(
            [MIRRORED_OUTAGE_SCHEMA], vol.Length(max=MAX_MIRRORED_OUTAGES)
        ),
        vol.Optional("unsafe", default=False): bool,
        # Bookers whose bookings are shared while they are at the device (absent:
        # none): a supervisor's class or training.
        vol.Optional("booking_shared_by", default=list): vol.All(
            [_text(64)], vol.Length(max=MAX_MIRRORED_BOOKINGS)
        ),
        # Absent (a hub before offline no-shows): a booking holds its whole length.
        vol.Optional("booking_no_show_minutes", default=0): vol.All(
            _finite, vol.Range(min=0)
        ),
    },
    extra=vol.ALLOW_EXTRA,
)
"""The rules a device applies to its mirror offline (see ACCESS.md, "Offline")."""

CREDENTIALS_SCHEMA = vol.Schema(
    {
        vol.Required("generation"): SEQ,
        vol.Required("members"): [CREDENTIAL_MEMBER_SCHEMA],
        vol.Optional("timeout"): vol.Any(None, vol.All(_finite, vol.Range(min=0))),
        vol.Optional("grace"): vol.Any(None, vol.All(_finite, vol.Range(min=0))),
        # Absent (a hub before offline policies): the device refuses offline grants.
        vol.Optional("offline"): vol.Any(None, OFFLINE_SCHEMA),
    },
    extra=vol.ALLOW_EXTRA,
)

HUB_ANNOUNCE_SCHEMA = vol.Schema(
    {vol.Required("v"): _version, vol.Required("key"): _text(64)},
    extra=vol.ALLOW_EXTRA,
)


# Size caps, checked on the raw payload before anything parses it (PROTOCOL.md,
# "Message sizes"). Each is the largest message its schema admits with ASCII text at
# every length limit, plus the envelope, rounded up: an honest sender never reaches
# it, and a forged megabyte-sized payload costs a length comparison, not a parse.
ENVELOPE_BYTES = 512
"""``v``, ``ts``, ``nonce``, ``sig`` and the JSON around a body."""
_TEXT_BYTES = MAX_TEXT + 8
"""One text field at its length limit, with its key and quotes."""
_VALUE_BYTES = 64
"""One telemetry value: a 32-character key and a number of up to 24 characters."""
_CHANNEL_BYTES = 3 * _TEXT_BYTES + 32 + 2 * 64 + 64
"""One announced channel or actuator: key, name, unit, classes, period, flags."""
_RECORD_BYTES = 256 + MAX_CHANNELS * _VALUE_BYTES
"""One buffered record; a telemetry record at ``MAX_CHANNELS`` values is the larger."""
_SEQ_BYTES = 21
MAX_CREDENTIAL_MEMBERS = 5000
"""Members a credential set is sized for: a big lab, with room."""
_CREDENTIAL_MEMBER_BYTES = 4 * _TEXT_BYTES + 4 * 72 + 128 + 64
"""One member: id, name, level, a few cards, a PIN hash, flags."""


def _kib(size: int) -> int:
    """Round ``size`` up to whole KiB."""
    return -(-size // 1024) * 1024


ANNOUNCE_MAX_BYTES = _kib(
    ENVELOPE_BYTES + 8 * _TEXT_BYTES + MAX_URL + 2 * MAX_CHANNELS * _CHANNEL_BYTES
)
"""The device's announcement (64 channels and 64 actuators at most), sealed."""
TELEMETRY_MAX_BYTES = _kib(ENVELOPE_BYTES + 256 + MAX_CHANNELS * _VALUE_BYTES)
BACKLOG_MAX_BYTES = _kib(ENVELOPE_BYTES + 256 + MAX_BACKLOG_BATCH * _RECORD_BYTES)
"""A batch of ``MAX_BACKLOG_BATCH`` records (about 4 MiB)."""
SMALL_MAX_BYTES = _kib(ENVELOPE_BYTES + 12 * _TEXT_BYTES)
"""An access request or reply, a command result: a dozen short fields."""
COMMAND_MAX_BYTES = _kib(ENVELOPE_BYTES + 256 + MAX_CHANNELS * _VALUE_BYTES + MAX_URL)
"""A command: its arguments are at most a period per channel or an update's URL."""
ACK_MAX_BYTES = _kib(ENVELOPE_BYTES + 256 + 10 * MAX_BACKLOG_BATCH * _SEQ_BYTES)
_MIRRORED_BOOKING_BYTES = _TEXT_BYTES + 2 * 32
"""One mirrored booking: a member id and two times."""
_MIRRORED_OUTAGE_BYTES = 2 * 32 + _TEXT_BYTES
"""One mirrored outage (two times), and room for one shared booker's id."""
_MAINTENANCE_NOTICE_BYTES = (
    MAX_MAINTENANCE_MESSAGE + MAX_MAINTENANCE_TEXT + MAX_URL + 64
)
"""The maintenance notice: message, description and URL with their keys."""
CREDENTIALS_MAX_BYTES = _kib(
    ENVELOPE_BYTES
    + (
        MAX_CREDENTIAL_MEMBERS * _CREDENTIAL_MEMBER_BYTES
        + MAX_MIRRORED_BOOKINGS * _MIRRORED_BOOKING_BYTES
        + MAX_MIRRORED_OUTAGES * _MIRRORED_OUTAGE_BYTES
        + _MAINTENANCE_NOTICE_BYTES
    )
    * 4
    // 3
)
"""A credential set of ``MAX_CREDENTIAL_MEMBERS`` members, encrypted (base64)."""
HUB_ANNOUNCE_MAX_BYTES = 1024
STATUS_MAX_BYTES = 64

MAX_PAYLOAD_BYTES: Mapping[Channel, int] = {
    Channel.ANNOUNCE: ANNOUNCE_MAX_BYTES,
    Channel.STATUS: STATUS_MAX_BYTES,
    Channel.TELEMETRY: TELEMETRY_MAX_BYTES,
    Channel.BACKLOG: BACKLOG_MAX_BYTES,
    Channel.ACCESS_REQUEST: SMALL_MAX_BYTES,
    Channel.COMMAND_RESULT: SMALL_MAX_BYTES,
    Channel.ACK: ACK_MAX_BYTES,
    Channel.ACCESS_REPLY: SMALL_MAX_BYTES,
    Channel.COMMAND: COMMAND_MAX_BYTES,
    Channel.CREDENTIALS: CREDENTIALS_MAX_BYTES,
}
"""The largest payload each channel takes; anything longer is dropped unparsed."""


def oversized(channel: Channel, payload: str | bytes | bytearray) -> bool:
    """Return True if ``payload`` is longer than ``channel`` ever needs."""
    return len(payload) > MAX_PAYLOAD_BYTES[channel]
