"""The Fab-O-Matic board protocol, as the ESP32 firmware speaks it (docs/FABOMATIC.md).

Fab-O-Matic boards (github.com/fablab-bergamo/Fab-O-matic) publish JSON queries on
``machine/<id>`` and wait for the backend's reply on ``machine/<id>/reply``; the
backend may also ask a board to start or stop a session on ``machine/<id>/request``.
Field names, types and ranges here follow what the firmware writes
(src/MQTTtypes.cpp) and parses (MQTTtypes.cpp ``fromJson``), and what the reference
backend (FabOMatic-backend, mqtt/mqtt_types.py) answers. Nothing is signed: the
boards cannot verify a signature.

Pure Python, no Home Assistant imports: shared by the integration and the tools.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum
import json
import math
import re
from typing import Any, Final

import voluptuous as vol

TOPIC_PREFIX: Final = "machine"
"""First topic level (firmware conf::mqtt::topic)."""
REPLY_SUFFIX: Final = "/reply"
REQUEST_SUFFIX: Final = "/request"
DISCOVERY_TOPIC: Final = f"{TOPIC_PREFIX}/+"
DEVICE_ID_PREFIX: Final = "fabomatic-"
"""Our device id of a board is this prefix and its machine id."""
MAX_MACHINE_ID: Final = 65535
"""The firmware's MachineID is a uint16_t."""
MAX_DURATION: Final = 7 * 24 * 3600
"""Longest usage (seconds) taken at face value; the reference backend's bound too."""
MAX_PAYLOAD: Final = 1024
"""Boards refuse messages longer than this (FabBackend::MAX_MSG_SIZE); so do we."""

MACHINE_TOPIC_RE: Final = re.compile(rf"^{TOPIC_PREFIX}/(\d{{1,5}})$")
CARD_UID_RE: Final = re.compile(r"^[0-9a-fA-F]{1,16}$")


class BoardAction(StrEnum):
    """``action`` of a board's query."""

    CHECK_USER = "checkuser"
    CHECK_MACHINE = "checkmachine"
    START_USE = "startuse"
    IN_USE = "inuse"
    STOP_USE = "stopuse"
    MAINTENANCE = "maintenance"
    ALIVE = "alive"


WAITS_FOR_REPLY: Final = frozenset(BoardAction) - {BoardAction.ALIVE}
"""Queries the board blocks on (Query::waitForReply); alive expects nothing."""


class UserLevel(IntEnum):
    """FabUser::UserLevel: ``level`` in a checkuser reply."""

    UNKNOWN = 0
    NORMAL_USER = 1
    FAB_STAFF = 2
    """Staff and above are offered to register maintenance when it is due."""
    FAB_ADMIN = 3


class UserResult(IntEnum):
    """MQTTInterface::UserResult, which the board reads from ``is_valid``."""

    INVALID = 0
    AUTHORIZED = 1
    UNAUTHORIZED = 2


class BackendRequestType(StrEnum):
    """``request_type`` of a backend request (BoardLogic::processBackendRequests)."""

    START = "start"
    STOP = "stop"


def valid_machine_id(value: int) -> bool:
    """Return True for an id the firmware can hold (uint16, 0 is "not configured")."""
    return 0 < value <= MAX_MACHINE_ID


def machine_id_from_topic(topic: str) -> int | None:
    """Return the machine id of a ``machine/<id>`` query topic, else None."""
    if (match := MACHINE_TOPIC_RE.match(topic)) is None:
        return None
    machine_id = int(match.group(1))
    return machine_id if valid_machine_id(machine_id) else None


def query_topic(machine_id: int) -> str:
    """Topic the board publishes its queries on."""
    return f"{TOPIC_PREFIX}/{machine_id}"


def reply_topic(machine_id: int) -> str:
    """Topic the board waits on for the backend's reply."""
    return f"{query_topic(machine_id)}{REPLY_SUFFIX}"


def request_topic(machine_id: int) -> str:
    """Topic the board takes backend requests from."""
    return f"{query_topic(machine_id)}{REQUEST_SUFFIX}"


def device_id(machine_id: int) -> str:
    """Our device id for a board."""
    return f"{DEVICE_ID_PREFIX}{machine_id}"


def machine_id_from_device_id(value: str) -> int | None:
    """Return the machine id of a board's device id (``fabomatic-77``), else None."""
    number = value.removeprefix(DEVICE_ID_PREFIX)
    if number == value or not number.isdecimal() or number != str(int(number)):
        return None
    machine_id = int(number)
    return machine_id if valid_machine_id(machine_id) else None


def card_uid(value: Any) -> str:
    """Normalize a card uid as card::uid_str writes it: lowercase hex, 8 digits.

    Boards write 4-byte uids as 8 hex digits (``"0a1b2c3d"``); the reference
    backend stores them as received. Longer uids are kept, only lowercased.
    """
    text = str(value).strip()
    if not CARD_UID_RE.match(text):
        raise vol.Invalid(f"card uid {text[:32]!r} is not hexadecimal")
    return text.lower().rjust(8, "0")


def _duration(value: Any) -> int:
    """Validate a usage duration in seconds; clamp it as the reference backend does."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise vol.Invalid("duration is not a number")
    if not math.isfinite(value):
        raise vol.Invalid("duration is not finite")
    seconds = int(value)
    return seconds if 0 <= seconds <= MAX_DURATION else 1


def _heap(value: Any) -> int:
    """Free heap: the firmware sends it as a string, older ones not at all."""
    try:
        return int(str(value))
    except ValueError as err:
        raise vol.Invalid("heap is not a number") from err


_BASE: dict[vol.Marker, Any] = {vol.Required("action"): vol.Coerce(BoardAction)}
_CARD: dict[vol.Marker, Any] = {vol.Required("uid"): card_uid}
_REPLAY: dict[vol.Marker, Any] = {vol.Optional("replay", default=False): bool}

QUERY_SCHEMAS: Final[dict[BoardAction, vol.Schema]] = {
    BoardAction.CHECK_USER: vol.Schema({**_BASE, **_CARD}, extra=vol.REMOVE_EXTRA),
    BoardAction.CHECK_MACHINE: vol.Schema(_BASE, extra=vol.REMOVE_EXTRA),
    BoardAction.START_USE: vol.Schema(
        {**_BASE, **_CARD, **_REPLAY}, extra=vol.REMOVE_EXTRA
    ),
    BoardAction.IN_USE: vol.Schema(
        {**_BASE, **_CARD, vol.Required("duration"): _duration, **_REPLAY},
        extra=vol.REMOVE_EXTRA,
    ),
    BoardAction.STOP_USE: vol.Schema(
        {**_BASE, **_CARD, vol.Required("duration"): _duration, **_REPLAY},
        extra=vol.REMOVE_EXTRA,
    ),
    BoardAction.MAINTENANCE: vol.Schema(
        {**_BASE, **_CARD, **_REPLAY}, extra=vol.REMOVE_EXTRA
    ),
    BoardAction.ALIVE: vol.Schema(
        {
            **_BASE,
            vol.Required("version"): vol.All(str, vol.Length(max=64)),
            vol.Optional("ip", default=""): vol.All(str, vol.Length(max=64)),
            # serial and heap came with firmware 0.6.7.
            vol.Optional("serial", default=""): vol.All(str, vol.Length(max=64)),
            vol.Optional("heap", default=0): _heap,
        },
        extra=vol.REMOVE_EXTRA,
    ),
}


class BoardMessageError(ValueError):
    """A board message we cannot take; ``action`` is set when it was readable."""

    def __init__(self, detail: str, action: BoardAction | None = None) -> None:
        """Keep what went wrong and which action it was, if known."""
        super().__init__(detail)
        self.action = action


def parse_query(payload: str | bytes | bytearray) -> dict[str, Any]:
    """Parse and validate one query from a board; raise BoardMessageError if bad."""
    if len(payload) > MAX_PAYLOAD:
        raise BoardMessageError(f"longer than {MAX_PAYLOAD} bytes")
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError) as err:  # nesting deeper than the stack
        raise BoardMessageError(f"not JSON ({err})") from err
    if not isinstance(data, dict):
        raise BoardMessageError("not a JSON object")
    try:
        action = BoardAction(str(data.get("action")))
    except ValueError as err:
        raise BoardMessageError(
            f"unknown action {str(data.get('action'))[:32]!r}"
        ) from err
    try:
        query: dict[str, Any] = QUERY_SCHEMAS[action](data)
    except vol.Invalid as err:
        raise BoardMessageError(str(err), action) from err
    return query


def dumps(body: dict[str, Any]) -> str:
    """Serialize a reply or request compactly (boards have small buffers)."""
    return json.dumps(body, separators=(",", ":"))


def user_response(
    *,
    result: UserResult,
    name: str,
    level: UserLevel,
    reason: str,
    request_ok: bool = True,
) -> dict[str, Any]:
    """Reply to checkuser (UserResponse::fromJson).

    ``is_valid`` is a JSON boolean, as the reference backend sends it: current
    firmware reads it into a uint8 UserResult (true is 1, Authorized), firmware
    before December 2023 reads it as a bool, so a number such as 2 (Unauthorized)
    would let an old board in. ``missing_auth`` (reference backend) and ``reason``
    (ours) are extra keys the firmware ignores.
    """
    return {
        "request_ok": request_ok,
        "is_valid": result is UserResult.AUTHORIZED,
        "name": name,
        "level": int(level),
        "missing_auth": result is UserResult.UNAUTHORIZED,
        "reason": reason,
    }


def machine_response(
    *,
    name: str,
    maintenance: bool,
    allowed: bool,
    logoff_minutes: int,
    grace_minutes: int,
    description: str,
    machine_type: int = 0,
    is_valid: bool = True,
) -> dict[str, Any]:
    """Reply to checkmachine (MachineResponse::fromJson).

    ``logoff`` and ``grace`` are whole minutes (uint16); ``type`` is the firmware's
    MachineType (uint8, informative only); ``description`` is the LCD's maintenance
    line (the board shows 16 characters).
    """
    return {
        "request_ok": True,
        "is_valid": is_valid,
        "maintenance": maintenance,
        "allowed": allowed,
        "logoff": max(0, min(logoff_minutes, 65535)),
        "name": name,
        "type": max(0, min(machine_type, 255)),
        "grace": max(0, min(grace_minutes, 65535)),
        "description": description,
    }


def simple_response(request_ok: bool, message: str = "") -> dict[str, Any]:
    """Reply to startuse, inuse, stopuse and maintenance (SimpleResponse)."""
    return {"request_ok": request_ok, "message": message}


def backend_request(request_type: BackendRequestType, uid: str) -> dict[str, Any]:
    """Build a start/stop request to a board (BackendRequest::fromJson)."""
    return {"request_type": request_type.value, "uid": card_uid(uid)}


def whole_minutes(seconds: float) -> int:
    """Seconds to the firmware's minutes, rounded up so no timeout gets shorter."""
    return math.ceil(seconds / 60)
