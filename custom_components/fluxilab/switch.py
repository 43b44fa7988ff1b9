"""Switches of a FluxiLab device: its block, and the relay of an agent that has one."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .device.runtime import FluxiLabConfigEntry
from .entity import FluxiLabEntity

PARALLEL_UPDATES = 1

BLOCKED = SwitchEntityDescription(
    key="blocked", translation_key="blocked", entity_category=EntityCategory.CONFIG
)
RELAY = SwitchEntityDescription(key="relay", translation_key="relay")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: FluxiLabConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the device's block switch, and its relay once it announces one."""
    device = entry.runtime_data
    async_add_entities([FluxiLabBlockSwitch(device, BLOCKED)])
    added = False

    @callback
    def _add_relay() -> None:
        nonlocal added
        if not added and device.relay_key is not None:
            added = True
            async_add_entities([FluxiLabRelaySwitch(device, RELAY)])

    _add_relay()
    entry.async_on_unload(device.async_add_listener(_add_relay))


class FluxiLabBlockSwitch(FluxiLabEntity, SwitchEntity):
    """Refuses new sessions on the device while on (who may flip it: permissions.py)."""

    @property
    def is_on(self) -> bool:
        """Return True while the device is blocked."""
        return self.device.blocked

    def _shown(self) -> tuple[Any, ...]:
        return (self.available, self.is_on)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Block the device."""
        async with self.async_permitted("turn_on"):
            await self.device.async_set_blocked(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Unblock the device."""
        async with self.async_permitted("turn_off"):
            await self.device.async_set_blocked(False)


class FluxiLabRelaySwitch(FluxiLabEntity, SwitchEntity):
    """The agent's relay (its interlock): switched by hand, lab admins only.

    The agent reports its relay only in its command results: the switch shows what
    the last one said, or what a session starting or ending did to it.
    """

    _attr_assumed_state = True

    @property
    def available(self) -> bool:
        """Unavailable while offline or once the device stops announcing a relay."""
        return self.device.online and self.device.relay_key is not None

    @property
    def is_on(self) -> bool | None:
        """Return the relay's state as far as the hub knows (None: not known yet)."""
        return self.device.relay_on

    def _shown(self) -> tuple[Any, ...]:
        return (self.available, self.is_on)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Switch the relay on (a blocked device refuses it)."""
        async with self.async_permitted("turn_on"):
            if self.device.blocked:
                raise HomeAssistantError(
                    translation_domain=DOMAIN,
                    translation_key="relay_device_blocked",
                    translation_placeholders={"device": self.device.device_id},
                )
            await self.device.async_set_relay(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Switch the relay off."""
        async with self.async_permitted("turn_off"):
            await self.device.async_set_relay(False)
