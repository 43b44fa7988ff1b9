"""Base entity of every FluxiLab entity."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription

from .const import DOMAIN, MANUFACTURER
from .device import FluxiLabDevice


class FluxiLabEntity(Entity):
    """An entity of one FluxiLab device, updated by push."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, device: FluxiLabDevice, description: EntityDescription) -> None:
        """Bind the entity to its device and description."""
        self.device = device
        self.entity_description = description
        self._attr_unique_id = f"{device.device_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, device.device_id)},
            manufacturer=MANUFACTURER,
            name=device.entry.title,
        )

    async def async_added_to_hass(self) -> None:
        """Follow the device's state."""
        self.async_on_remove(self.device.async_add_listener(self.async_write_ha_state))
