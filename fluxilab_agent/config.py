"""The agent's TOML configuration: parsed and validated completely before start.

Every invalid value is reported with its key (``broker.port``, ``channels[2].unit``)
and what is wrong with it; the agent never starts half-configured. docs/AGENT.md is
the reference for every key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
import tomllib
from typing import Any

import voluptuous as vol

from fluxilab_protocol import DEFAULT_BASE_TOPIC
from fluxilab_protocol.schemas import (
    CHANNEL_KEY,
    ActuatorKind,
    DeviceKind,
    ValueType,
)
from fluxilab_protocol.security import parse_public_key
from fluxilab_protocol.topics import valid_base_topic, valid_device_id

from .sources import SIMULATED_SIGNALS

DEFAULT_DATA_DIR = Path("/var/lib/fluxilab-agent")
READER_TYPES = ("stdin", "device", "keyboard", "pn532", "simulated")
MAX_UNLOCK_SECONDS = 600.0
"""The longest door unlock pulse ``access.unlock_seconds`` accepts."""
MAX_PIN_SECONDS = 300
"""The longest wait for a PIN after ``pin_required`` (``access.pin_seconds``)."""


class AccessMode(StrEnum):
    """What a granted card swipe does at the device."""

    SESSION = "session"
    """A machine: a swipe starts a session (the interlock stays on), again ends it."""
    DOOR = "door"
    """A door: every swipe is a ``check``; granted, the lock opens for a moment."""


class ConfigError(Exception):
    """The configuration is invalid; the message lists every problem."""

    def __init__(self, problems: list[str]) -> None:
        """Keep the individual problems for callers and tests."""
        super().__init__("invalid configuration:\n  " + "\n  ".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class DeviceConfig:
    """Who the device is."""

    id: str
    name: str
    kind: DeviceKind
    model: str
    serial: str | None = None
    hw_version: str | None = None
    area: str | None = None
    ui_url: str | None = None


@dataclass(frozen=True, slots=True)
class BrokerConfig:
    """Where the broker is and how to log in."""

    host: str
    port: int = 1883
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: bool = False
    ca: Path | None = None
    cert: Path | None = None
    key: Path | None = None
    keepalive: int = 30


@dataclass(frozen=True, slots=True)
class ChannelConfig:
    """One telemetry channel and where its values come from."""

    key: str
    name: str
    type: ValueType
    source: dict[str, Any]
    unit: str | None = None
    device_class: str | None = None
    state_class: str | None = None
    period: float = 1.0
    safety: bool = False

    def announce(self) -> dict[str, Any]:
        """Return the channel as announced to the hub (CHANNEL_SCHEMA)."""
        data: dict[str, Any] = {
            "key": self.key,
            "name": self.name,
            "type": self.type.value,
            "period": self.period,
        }
        for name in ("unit", "device_class", "state_class"):
            if (value := getattr(self, name)) is not None:
                data[name] = value
        if self.safety:
            data["safety"] = True
        return data


@dataclass(frozen=True, slots=True)
class ActuatorConfig:
    """A relay/interlock output or a button."""

    key: str
    kind: ActuatorKind
    name: str | None = None
    output: str = "simulated"
    """``simulated``, ``gpio`` or ``command``."""
    pin: int | None = None
    active_high: bool = True
    command_on: tuple[str, ...] = ()
    command_off: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ReaderConfig:
    """The card reader (docs/AGENT.md, "Card readers")."""

    type: str
    """``stdin``, ``device`` (lines), ``keyboard`` (input events), ``pn532``, or
    ``simulated``."""
    path: Path | None = None
    """``device``: the line device; ``keyboard``: the input event node; ``pn532``
    on UART: the serial port."""
    grab: bool = True
    """``keyboard``: take the input device from the console while the agent runs."""
    bus: str = "i2c"
    """``pn532``: ``i2c``, ``spi`` or ``uart``."""
    baudrate: int = 115200
    """``pn532`` on UART."""
    cs_pin: int = 5
    """``pn532`` on SPI: the chip-select GPIO (BCM), driven by the driver itself."""
    poll_interval: float = 0.2
    """``pn532``: seconds each poll for a card waits."""


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    """Where the device UI gateway listens, and how it speaks TLS."""

    host: str = "0.0.0.0"  # noqa: S104  # the gateway is what users reach
    port: int = 8080
    tls: bool = True
    """HTTPS (the default); plain HTTP only when set false (loopback, development)."""
    cert: Path | None = None
    """The operator's certificate (PEM, chain allowed); None: a self-signed one."""
    key: Path | None = None
    cookie_secure: bool | None = None
    """``Secure`` session cookies; None follows ``tls``."""

    @property
    def secure_cookies(self) -> bool:
        """Whether session cookies are ``Secure`` (``__Host-`` prefixed)."""
        return self.tls if self.cookie_secure is None else self.cookie_secure


@dataclass(frozen=True, slots=True)
class BufferConfig:
    """Record buffer and backlog replay tuning."""

    max_records: int = 200_000
    batch_size: int = 500
    max_in_flight: int = 4
    resend_after: float = 5.0
    replay_interval: float = 1.0


@dataclass(frozen=True, slots=True)
class AccessConfig:
    """What a swipe does, and the timing of access decisions and sessions."""

    timeout: float = 3.0
    heartbeat: float = 60.0
    mode: AccessMode = AccessMode.SESSION
    unlock_seconds: float = 5.0
    """Door mode: how long a granted swipe keeps the lock open."""
    pin_seconds: float = 30.0
    """How long after ``pin_required`` the reader's next input is the card's PIN."""


@dataclass(frozen=True, slots=True)
class HooksConfig:
    """Commands the agent runs for hub commands."""

    reboot: tuple[str, ...] = ()
    update: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AgentConfig:
    """The whole validated configuration."""

    device: DeviceConfig
    broker: BrokerConfig
    data_dir: Path
    base_topic: str = DEFAULT_BASE_TOPIC
    hub_key: str | None = None
    channels: tuple[ChannelConfig, ...] = ()
    actuators: tuple[ActuatorConfig, ...] = ()
    rfid: ReaderConfig | None = None
    ui_upstream: str | None = None
    gateway: GatewayConfig | None = None
    buffer: BufferConfig = BufferConfig()
    access: AccessConfig = AccessConfig()
    hooks: HooksConfig = HooksConfig()


# -- validators -----------------------------------------------------------------


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise vol.Invalid("must be a non-empty string")
    if len(value) > 255:
        raise vol.Invalid("must be at most 255 characters")
    return value


def _positive(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise vol.Invalid(f"must be a positive number, got {value!r}")
    return float(value)


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise vol.Invalid(f"must be a positive integer, got {value!r}")
    return int(value)


def _port(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise vol.Invalid(f"must be a TCP port 1..65535, got {value!r}")
    return int(value)


def _device_id(value: Any) -> str:
    if not isinstance(value, str) or not valid_device_id(value):
        raise vol.Invalid(
            f"{value!r} is not a device id (lowercase letters, digits, '_' and '-', "
            "at most 64, starting with a letter or digit)"
        )
    return value


def _base_topic(value: Any) -> str:
    if not isinstance(value, str) or not valid_base_topic(value):
        raise vol.Invalid(f"{value!r} is not a topic without wildcards or empty levels")
    return value


def _hub_key(value: Any) -> str:
    try:
        parse_public_key(value)
    except (ValueError, TypeError) as err:
        raise vol.Invalid(f"not a base64 X25519 public key ({err})") from err
    return str(value)


def _path(value: Any) -> Path:
    if not isinstance(value, str) or not value:
        raise vol.Invalid("must be a path")
    return Path(value)


def _command(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) and value:
        return (value,)
    if (
        isinstance(value, list)
        and value
        and all(isinstance(v, str) and v for v in value)
    ):
        return tuple(value)
    raise vol.Invalid("must be a program path or a list [program, arg, ...]")


def _url(value: Any) -> str:
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise vol.Invalid(f"must be an http(s) URL, got {value!r}")
    return value


def _enum(kind: type[Any]) -> Any:
    allowed = ", ".join(member.value for member in kind)

    def check(value: Any) -> Any:
        try:
            return kind(value)
        except ValueError as err:
            raise vol.Invalid(f"{value!r} is not one of: {allowed}") from err

    return check


def _one_of(*choices: str) -> Any:
    def check(value: Any) -> str:
        if value not in choices:
            raise vol.Invalid(f"{value!r} is not one of: {', '.join(choices)}")
        return str(value)

    return check


def _source(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise vol.Invalid('must be a table like { type = "simulated" }')
    kind = value.get("type")
    if kind == "simulated":
        schema = vol.Schema(
            {
                vol.Required("type"): str,
                vol.Optional("signal"): _one_of(*SIMULATED_SIGNALS),
            }
        )
    elif kind in ("hwmon", "file"):
        schema = vol.Schema(
            {
                vol.Required("type"): str,
                vol.Required("path"): _path,
                vol.Optional("scale", default=1.0): vol.All(
                    vol.Any(int, float), vol.Coerce(float)
                ),
            }
        )
    elif kind == "command":
        schema = vol.Schema(
            {
                vol.Required("type"): str,
                vol.Required("command"): _command,
                vol.Optional("timeout", default=5.0): _positive,
            }
        )
    else:
        raise vol.Invalid(
            f"type {kind!r} is not one of: simulated, hwmon, file, command"
        )
    result: dict[str, Any] = schema(value)
    return result


_CHANNEL = vol.Schema(
    {
        vol.Required("key"): CHANNEL_KEY,
        vol.Required("name"): _text,
        vol.Required("type"): _enum(ValueType),
        vol.Optional("unit"): _text,
        vol.Optional("device_class"): _text,
        vol.Optional("state_class"): _text,
        vol.Optional("period", default=1.0): vol.All(_positive, vol.Range(min=0.05)),
        vol.Optional("safety", default=False): bool,
        vol.Optional("source", default={"type": "simulated"}): _source,
    }
)

_ACTUATOR = vol.Schema(
    {
        vol.Required("key"): CHANNEL_KEY,
        vol.Required("kind"): _enum(ActuatorKind),
        vol.Optional("name"): _text,
        vol.Optional("output", default="simulated"): _one_of(
            "simulated", "gpio", "command"
        ),
        vol.Optional("pin"): vol.All(int, vol.Range(min=0, max=1023)),
        vol.Optional("active_high", default=True): bool,
        vol.Optional("command_on"): _command,
        vol.Optional("command_off"): _command,
    }
)

_SCHEMA = vol.Schema(
    {
        vol.Required("device"): {
            vol.Required("id"): _device_id,
            vol.Required("name"): _text,
            vol.Required("kind"): _enum(DeviceKind),
            vol.Optional("model", default="FluxiLab agent"): _text,
            vol.Optional("serial"): _text,
            vol.Optional("hw_version"): _text,
            vol.Optional("area"): _text,
            vol.Optional("ui_url"): _url,
        },
        vol.Required("broker"): {
            vol.Required("host"): _text,
            vol.Optional("port", default=1883): _port,
            vol.Optional("username"): _text,
            vol.Optional("password"): str,
            vol.Optional("tls", default=False): bool,
            vol.Optional("ca"): _path,
            vol.Optional("cert"): _path,
            vol.Optional("key"): _path,
            vol.Optional("keepalive", default=30): vol.All(_count, vol.Range(min=5)),
        },
        vol.Optional("base_topic", default=DEFAULT_BASE_TOPIC): _base_topic,
        vol.Optional("hub_key"): _hub_key,
        vol.Optional("data_dir", default=str(DEFAULT_DATA_DIR)): _path,
        vol.Optional("channels", default=list): [_CHANNEL],
        vol.Optional("actuators", default=list): [_ACTUATOR],
        vol.Optional("rfid"): {
            vol.Required("type"): _one_of(*READER_TYPES),
            vol.Optional("path"): _path,
            vol.Optional("grab"): bool,
            vol.Optional("bus"): _one_of("i2c", "spi", "uart"),
            vol.Optional("baudrate"): vol.All(_count, vol.Range(max=4_000_000)),
            vol.Optional("cs_pin"): vol.All(int, vol.Range(min=0, max=1023)),
            vol.Optional("poll_interval"): vol.All(_positive, vol.Range(max=10)),
        },
        vol.Optional("ui"): {
            vol.Optional("upstream"): _url,
        },
        vol.Optional("gateway"): {
            vol.Optional("host", default="0.0.0.0"): _text,  # noqa: S104
            vol.Optional("port", default=8080): _port,
            vol.Optional("tls", default=True): bool,
            vol.Optional("cert"): _path,
            vol.Optional("key"): _path,
            vol.Optional("cookie_secure"): bool,
        },
        vol.Optional("buffer", default=dict): {
            vol.Optional("max_records", default=200_000): _count,
            vol.Optional("batch_size", default=500): vol.All(
                _count, vol.Range(max=1000)
            ),
            vol.Optional("max_in_flight", default=4): vol.All(
                _count, vol.Range(max=64)
            ),
            vol.Optional("resend_after", default=5.0): _positive,
            vol.Optional("replay_interval", default=1.0): _positive,
        },
        vol.Optional("access", default=dict): {
            vol.Optional("timeout", default=3.0): _positive,
            vol.Optional("heartbeat", default=60.0): _positive,
            vol.Optional("mode", default=AccessMode.SESSION.value): _enum(AccessMode),
            vol.Optional("unlock_seconds"): vol.All(
                _positive, vol.Range(max=MAX_UNLOCK_SECONDS)
            ),
            vol.Optional("pin_seconds", default=30.0): vol.All(
                _positive, vol.Range(max=MAX_PIN_SECONDS)
            ),
        },
        vol.Optional("hooks", default=dict): {
            vol.Optional("reboot"): _command,
            vol.Optional("update"): _command,
        },
    }
)


def _where(path: list[Any]) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


def _message(err: vol.Invalid) -> str:
    message = err.error_message or str(err)
    if message == "extra keys not allowed":
        return "unknown key (check the spelling against docs/AGENT.md)"
    if message == "required key not provided":
        return "is required"
    if message.startswith("expected "):
        return f"must be {message.removeprefix('expected ')}"
    return message


def _gateway_problems(raw: dict[str, Any]) -> list[str]:
    gateway = raw.get("gateway")
    if gateway is None:
        return []
    problems: list[str] = []
    if ("cert" in gateway) != ("key" in gateway):
        problems.append("gateway: cert and key go together")
    if gateway["tls"]:
        if gateway.get("cookie_secure") is False:
            problems.append(
                "gateway.cookie_secure: cannot be false while the gateway serves "
                "HTTPS (gateway.tls = true, the default)"
            )
        ui_url = raw["device"].get("ui_url")
        if ui_url is not None and ui_url.startswith("http://"):
            problems.append(
                "device.ui_url: must be https:// because the gateway serves HTTPS "
                "(gateway.tls = true, the default; false only for loopback or "
                "development, see docs/AGENT.md)"
            )
    elif "cert" in gateway or "key" in gateway:
        problems.append("gateway.tls: must be true when cert/key are set")
    return problems


READER_KEYS: dict[str, frozenset[str]] = {
    "stdin": frozenset(),
    "simulated": frozenset(),
    "device": frozenset({"path"}),
    "keyboard": frozenset({"path", "grab"}),
    "pn532": frozenset({"path", "bus", "baudrate", "cs_pin", "poll_interval"}),
}
"""The ``rfid`` keys each reader type takes (besides ``type``)."""


def _reader_problems(rfid: dict[str, Any] | None) -> list[str]:
    if rfid is None:
        return []
    kind = rfid["type"]
    problems = [
        f'rfid.{key}: is not used with type = "{kind}"'
        for key in sorted(set(rfid) - {"type"} - READER_KEYS[kind])
    ]
    bus = rfid.get("bus", "i2c")
    if kind in ("device", "keyboard") and "path" not in rfid:
        problems.append(f'rfid.path: is required when type = "{kind}"')
    if kind == "pn532":
        if bus == "uart" and "path" not in rfid:
            problems.append('rfid.path: is required when bus = "uart" (serial port)')
        for key, needs in (("path", "uart"), ("baudrate", "uart"), ("cs_pin", "spi")):
            if key in rfid and bus != needs:
                problems.append(f'rfid.{key}: is only used with bus = "{needs}"')
    return problems


def parse_config(data: dict[str, Any]) -> AgentConfig:
    """Validate a parsed TOML document; raise ConfigError listing every problem."""
    try:
        raw: dict[str, Any] = _SCHEMA(data)
    except vol.MultipleInvalid as err:
        raise ConfigError(
            sorted(f"{_where(e.path)}: {_message(e)}" for e in err.errors)
        ) from None
    problems: list[str] = []
    for name in ("channels", "actuators"):
        keys = [item["key"] for item in raw[name]]
        for key in sorted({k for k in keys if keys.count(k) > 1}):
            problems.append(f"{name}: key {key!r} is used more than once")
    for index, act in enumerate(raw["actuators"]):
        where = f"actuators[{index}]"
        if act["output"] == "gpio" and "pin" not in act:
            problems.append(f'{where}.pin: is required when output = "gpio"')
        if act["output"] == "command" and not (
            "command_on" in act and "command_off" in act
        ):
            problems.append(
                f"{where}: command_on and command_off are required when "
                'output = "command"'
            )
    for index, channel in enumerate(raw["channels"]):
        source = channel["source"]
        if (
            source["type"] == "simulated"
            and "signal" not in source
            and channel["key"] not in SIMULATED_SIGNALS
        ):
            problems.append(
                f"channels[{index}].source.signal: is required because "
                f"{channel['key']!r} is not a simulated signal "
                f"({', '.join(SIMULATED_SIGNALS)})"
            )
    problems.extend(_reader_problems(raw.get("rfid")))
    broker = raw["broker"]
    if ("cert" in broker) != ("key" in broker):
        problems.append("broker: cert and key go together (client certificate)")
    if any(name in broker for name in ("ca", "cert", "key")) and not broker["tls"]:
        problems.append("broker.tls: must be true when ca/cert/key are set")
    if "password" in broker and "username" not in broker:
        problems.append("broker.password: needs broker.username")
    problems.extend(_gateway_problems(raw))
    access = raw["access"]
    if access["mode"] is AccessMode.DOOR:
        if not any(
            act["kind"] in (ActuatorKind.INTERLOCK, ActuatorKind.RELAY)
            for act in raw["actuators"]
        ):
            problems.append(
                'access.mode: "door" needs an actuator of kind "interlock" or '
                '"relay" (the lock it opens)'
            )
    elif "unlock_seconds" in access:
        problems.append('access.unlock_seconds: is only used with access.mode = "door"')
    if problems:
        raise ConfigError(problems)

    device = raw["device"]
    return AgentConfig(
        device=DeviceConfig(
            id=device["id"],
            name=device["name"],
            kind=device["kind"],
            model=device["model"],
            serial=device.get("serial"),
            hw_version=device.get("hw_version"),
            area=device.get("area"),
            ui_url=device.get("ui_url"),
        ),
        broker=BrokerConfig(**broker),
        data_dir=raw["data_dir"],
        base_topic=raw["base_topic"],
        hub_key=raw.get("hub_key"),
        channels=tuple(ChannelConfig(**item) for item in raw["channels"]),
        actuators=tuple(
            ActuatorConfig(
                **{
                    **item,
                    "command_on": item.get("command_on", ()),
                    "command_off": item.get("command_off", ()),
                }
            )
            for item in raw["actuators"]
        ),
        rfid=ReaderConfig(**raw["rfid"]) if "rfid" in raw else None,
        ui_upstream=raw.get("ui", {}).get("upstream"),
        gateway=GatewayConfig(**raw["gateway"]) if "gateway" in raw else None,
        buffer=BufferConfig(**raw["buffer"]),
        access=AccessConfig(**raw["access"]),
        hooks=HooksConfig(**raw["hooks"]),
    )


def load_config(path: Path) -> AgentConfig:
    """Read and validate a TOML file; raise ConfigError with a clear message."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError([f"{path}: cannot read ({err.strerror or err})"]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError([f"{path}: not valid TOML ({err})"]) from None
    return parse_config(data)
