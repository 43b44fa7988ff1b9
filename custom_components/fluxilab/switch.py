"""The block switch of a FluxiLab device."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .device.runtime import FluxiLabConfigEntry
from .entity import FluxiLabEntity

PARALLEL_UPDATES = 1

BLOCKED = SwitchEntityDescription(
    key="blocked", translation_key="blocked", entity_category=EntityCategory.CONFIG
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: FluxiLabConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the device's block switch."""
    async_add_entities([FluxiLabBlockSwitch(entry.runtime_data, BLOCKED)])


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
