"""What a device's messages say, read once where they arrive (the MQTT wire).

The schemas (protocol/schemas.py, protocol/fabomatic.py) check a body; the runtime
and the board transport read the checked body into one of these with
``from_wire`` and hand that on, and what goes back to a board leaves as the
firmware's JSON through ``as_wire``. One object per message, no copies of what it
carries: a telemetry message's values stay the mapping the body parsed to.
Card uids and members' names are kept out of every repr.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

from custom_components.fluxilab.protocol.fabomatic import (
    BoardAction,
    UserLevel,
    UserResult,
    machine_response,
    simple_response,
    user_response,
)
from custom_components.fluxilab.protocol.schemas import (
    ActuatorKind,
    DeviceKind,
    ValueType,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class AnnouncedChannel:
    """One telemetry channel a device announced, read once per announcement taken.

    Read with its :class:`Announcement` (``CHANNEL_SCHEMA`` in its capabilities);
    entities, statistics and the panel read these.
    """

    key: str
    name: str
    type: ValueType
    unit: str | None = None
    device_class: str | None = None
    state_class: str | None = "measurement"
    """As announced: an announced null is None; one not announced, a measurement."""
    period: float = 1.0
    """Seconds between two samples."""

    @classmethod
    def from_wire(cls, channel: Mapping[str, Any]) -> AnnouncedChannel:
        """Read a channel of an announcement validated by ``ANNOUNCE_SCHEMA``."""
        return cls(
            key=channel["key"],
            name=channel["name"],
            type=ValueType(channel["type"]),
            unit=channel.get("unit"),
            device_class=channel.get("device_class"),
            state_class=channel.get("state_class", "measurement"),
            period=channel["period"],
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AnnouncedActuator:
    """One output a device announced (``ACTUATOR_SCHEMA``)."""

    key: str
    kind: ActuatorKind
    name: str | None = None

    @classmethod
    def from_wire(cls, actuator: Mapping[str, Any]) -> AnnouncedActuator:
        """Read an actuator of an announcement validated by ``ANNOUNCE_SCHEMA``."""
        return cls(
            key=actuator["key"], kind=actuator["kind"], name=actuator.get("name")
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Announcement:
    """A device's announcement as taken (``ANNOUNCE_SCHEMA``), read once when taken."""

    id: str
    name: str
    kind: DeviceKind
    model: str
    sw_version: str
    key: str = field(repr=False)
    """The device's public key (diagnostics redact it)."""
    hw_version: str | None = None
    serial: str | None = None
    ui_url: str | None = None
    """The UI address it announces (used only once an admin accepted it)."""
    gateway_fingerprint: str | None = None
    """SHA-256 of its gateway's TLS certificate, AB:CD:..."""
    area: str | None = None
    """The area it suggests (a field beyond the schema: a non-empty text, or None)."""
    channels: tuple[AnnouncedChannel, ...] = ()
    actuators: tuple[AnnouncedActuator, ...] = ()
    # edge: the validated wire body kept for diagnostics
    wire: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """The validated body itself, extra fields and all (diagnostics show it)."""

    @classmethod
    def from_wire(cls, announce: Mapping[str, Any]) -> Announcement:
        """Read an announcement ``ANNOUNCE_SCHEMA`` validated (kept as ``wire``)."""
        capabilities = announce["capabilities"]
        area = announce.get("area")
        return cls(
            id=announce["id"],
            name=announce["name"],
            kind=announce["kind"],
            model=announce["model"],
            sw_version=announce["sw_version"],
            key=announce["key"],
            hw_version=announce.get("hw_version"),
            serial=announce.get("serial"),
            ui_url=announce.get("ui_url"),
            gateway_fingerprint=announce.get("gateway_fingerprint"),
            area=area if isinstance(area, str) and area else None,
            channels=tuple(map(AnnouncedChannel.from_wire, capabilities["channels"])),
            actuators=tuple(
                map(AnnouncedActuator.from_wire, capabilities["actuators"])
            ),
            wire=announce,
        )

    def as_wire(self) -> Mapping[str, Any]:
        """Return the body as validated (without its seal)."""
        return self.wire


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandResult:
    """What a device answered a command (``COMMAND_RESULT_SCHEMA``)."""

    id: str
    """The command's id (``async_send_command``)."""
    ok: bool
    error: str | None = None
    generation: int | None = None
    """The credential generation its mirror holds (-1: none)."""
    relay: bool | None = None
    """The state of the output the relay command switches (None: not said)."""
    # edge: the validated wire body kept for diagnostics
    wire: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """The validated body itself, extra fields and all (diagnostics show it)."""

    @classmethod
    def from_wire(cls, body: Mapping[str, Any]) -> CommandResult:
        """Read a body ``COMMAND_RESULT_SCHEMA`` validated (kept as ``wire``)."""
        return cls(
            id=body["id"],
            ok=body["ok"],
            error=body.get("error"),
            generation=body.get("generation"),
            relay=body.get("relay"),
            wire=body,
        )

    def as_wire(self) -> Mapping[str, Any]:
        """Return the body as validated."""
        return self.wire


type Sample = int | float | bool
"""One telemetry value as the wire carries it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TelemetryMessage:
    """One live telemetry message (``TELEMETRY_SCHEMA``)."""

    stream: str | None
    """The sender's stream of sequence numbers (None: it names none)."""
    seq: int
    ts: float
    """When it was measured (device clock, epoch seconds)."""
    values: Mapping[str, Sample]
    """The latest value of each channel it carries (the body's own mapping)."""

    @classmethod
    def from_wire(cls, body: Mapping[str, Any]) -> TelemetryMessage:
        """Read a body ``TELEMETRY_SCHEMA`` validated."""
        return cls(
            stream=body.get("stream"),
            seq=body["seq"],
            ts=body["ts"],
            values=body["values"],
        )


class TelemetryRecord(TypedDict):
    """A buffered telemetry record, as ``TELEMETRY_RECORD_SCHEMA`` returns it."""

    seq: int
    ts: float
    kind: Literal["telemetry"]
    buffered: bool
    values: dict[str, Sample]


class AccessBacklogRecord(TypedDict):
    """A buffered access record, as ``ACCESS_RECORD_SCHEMA`` returns it."""

    seq: int
    ts: float
    kind: Literal["access"]
    buffered: bool
    event: dict[str, Any]  # edge: the device's wire access event, extra fields allowed
    """The device's access event (``ACCESS_EVENT_SCHEMA``, extra fields allowed),
    read into an ``AccessRecord`` (protocol/access.py) when it is handed on."""


type BacklogRecord = TelemetryRecord | AccessBacklogRecord
"""One record of a backlog batch, as the wire carries it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BacklogBatch:
    """One backlog message (``validate_backlog``).

    Its records stay the validated wire records, neither copied nor read into
    objects of their own: a batch holds up to a thousand, and every object more per
    record is work for Home Assistant's cycle collector (protocol/schemas.py).
    """

    stream: str | None
    records: list[BacklogRecord]

    @classmethod
    def from_wire(cls, body: Mapping[str, Any]) -> BacklogBatch:
        """Read a batch ``validate_backlog`` returned."""
        return cls(stream=body.get("stream"), records=body["records"])


@dataclass(frozen=True, slots=True, kw_only=True)
class BoardQuery:
    """One query of a Fab-O-Matic board (``parse_query``), but for its alive.

    ``uid`` is set for every action but checkmachine; ``duration`` (seconds) for
    inuse and stopuse.
    """

    action: BoardAction
    uid: str = field(default="", repr=False)
    """The card swiped (8 hex digits); empty for checkmachine."""
    replay: bool = False
    """Sent again from the board's cache after the hub was away."""
    duration: int = 0

    @classmethod
    def from_wire(cls, query: Mapping[str, Any]) -> BoardQuery:
        """Read a query ``parse_query`` returned (not an alive)."""
        return cls(
            action=query["action"],
            uid=query.get("uid", ""),
            replay=query.get("replay", False),
            duration=query.get("duration", 0),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class BoardInfo:
    """What a board's last alive said about itself."""

    version: str
    ip: str
    serial: str
    heap: int

    @classmethod
    def from_wire(cls, query: Mapping[str, Any]) -> BoardInfo:
        """Read an alive ``parse_query`` returned."""
        return cls(
            version=query["version"],
            ip=query["ip"],
            serial=query["serial"],
            heap=query["heap"],
        )

    def as_wire(self) -> dict[str, Any]:
        """Return the alive's fields, as the board sent them."""
        return {
            "version": self.version,
            "ip": self.ip,
            "serial": self.serial,
            "heap": self.heap,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class MachineStatus:
    """The reply to checkmachine (``machine_response``)."""

    name: str
    maintenance: bool
    allowed: bool
    logoff_minutes: int
    grace_minutes: int
    description: str
    machine_type: int = 0
    is_valid: bool = True

    def as_wire(self) -> dict[str, Any]:
        """Return the firmware's MachineResponse."""
        return machine_response(
            name=self.name,
            maintenance=self.maintenance,
            allowed=self.allowed,
            logoff_minutes=self.logoff_minutes,
            grace_minutes=self.grace_minutes,
            description=self.description,
            machine_type=self.machine_type,
            is_valid=self.is_valid,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class UserCheck:
    """The reply to checkuser (``user_response``)."""

    result: UserResult
    name: str = field(repr=False)
    """The member's name the LCD shows ("?" for an unknown card)."""
    level: UserLevel
    reason: str

    def as_wire(self) -> dict[str, Any]:
        """Return the firmware's UserResponse."""
        return user_response(
            result=self.result, name=self.name, level=self.level, reason=self.reason
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class SimpleReply:
    """The reply to startuse, inuse, stopuse and maintenance (``simple_response``)."""

    ok: bool
    message: str = ""

    def as_wire(self) -> dict[str, Any]:
        """Return the firmware's SimpleResponse."""
        return simple_response(self.ok, self.message)


type BoardReply = MachineStatus | UserCheck | SimpleReply
"""What the engine answers a board's query."""
