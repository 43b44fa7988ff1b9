"""A device as the layers above see it: the port, and the signals it listens to.

The access engine and the API never import the device runtime (runtime.py): they
see a followed device through :class:`AccessDevice`, the few things they read of
it and the few calls they make, and they tell it what they decided through the
dispatcher signals below, which the runtime subscribes to. ``FluxiLabDevice``
implements the port structurally (mypy checks it where ``__init__.py`` hands a
device to the engine); a test double needs only these members. An import-linter
contract (pyproject.toml) keeps ``access`` and ``api`` off runtime.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from homeassistant.config_entries import ConfigEntry
from homeassistant.util.signal_type import SignalTypeFormat

from custom_components.fluxilab.const import DOMAIN
from custom_components.fluxilab.link import LinkHealth
from custom_components.fluxilab.protocol.schemas import CommandArgs, CommandName
from custom_components.fluxilab.protocol.security import SessionKeys
from custom_components.fluxilab.protocol.topics import Channel, DeviceTopics

from .models import AnnouncedChannel, Announcement


@dataclass(frozen=True, slots=True, kw_only=True)
class UsageState:
    """What the engine computed of a device's use (sent on ``SIGNAL_USAGE``)."""

    in_use: bool
    member_name: str | None
    usage_hours: float
    hours_to_maintenance: float | None
    maintenance_due: bool


SIGNAL_USAGE: SignalTypeFormat[UsageState] = SignalTypeFormat(f"{DOMAIN}_usage_{{}}")
"""The engine's usage state of one device (format with our device id)."""
# edge: the bus event data, as fired
SIGNAL_ACCESS_EVENT: SignalTypeFormat[str, dict[str, Any]] = SignalTypeFormat(
    f"{DOMAIN}_access_event_{{}}"
)
"""An access event to show on one device's event entity: (event type, data)."""


class AccessDevice(Protocol):
    """One followed device, as the access engine and the API use it."""

    @property
    def device_id(self) -> str:
        """Our id of the device (the MQTT topic's)."""

    @property
    def entry(self) -> ConfigEntry[Any]:
        """The device's config entry: its title (the name) and the admin's options."""

    @property
    def topics(self) -> DeviceTopics:
        """The device's MQTT topics."""

    @property
    def keys(self) -> SessionKeys | None:
        """The pairing's session keys (None: a board, or not paired)."""

    @property
    def link(self) -> LinkHealth:
        """How the signed link is doing (broken links are shown, not hidden)."""

    @property
    def online(self) -> bool:
        """Whether the device is online (its last will says when not)."""

    @property
    def announce(self) -> Announcement | None:
        """The last announcement taken (None until one arrives)."""

    @property
    def values(self) -> Mapping[str, int | float | bool]:
        """The latest telemetry value of each channel."""

    @property
    def enabled_channels(self) -> list[AnnouncedChannel]:
        """Announced channels the admin kept enabled."""

    @property
    def machine_type_id(self) -> str | None:
        """The machine type the admin assigned (options flow)."""

    @property
    def ui_url(self) -> str | None:
        """The device UI's address the admin pinned."""

    @property
    def blocked(self) -> bool:
        """Whether new sessions are refused on this device."""

    @property
    def in_use(self) -> bool:
        """Whether a session is open (as last published by the engine)."""

    @property
    def member_name(self) -> str | None:
        """Who uses it now (as last published by the engine)."""

    @property
    def usage_hours(self) -> float:
        """Hours of use counted so far."""

    @property
    def hours_to_maintenance(self) -> float | None:
        """Hours left before maintenance is due (None: no interval)."""

    @property
    def maintenance_due(self) -> bool:
        """Whether maintenance is due."""

    def async_add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` when the device's own state changes; return the undo."""

    def async_add_telemetry_listener(
        self, listener: Callable[[Mapping[str, int | float | bool]], None]
    ) -> Callable[[], None]:
        """Call ``listener`` with each telemetry message's values; return the undo."""

    async def async_set_blocked(self, blocked: bool) -> None:
        """Refuse (or allow again) new sessions, and tell the device."""

    async def async_send_command(
        self, command: CommandName, args: CommandArgs | None = None
    ) -> str:
        """Send the device a signed command; return its id (its result comes later)."""

    async def async_send(
        self,
        channel: Channel,
        body: dict[str, Any],
        *,
        encrypt: bool = False,
        retain: bool = False,
    ) -> None:
        """Seal ``body`` and publish it to the device."""
