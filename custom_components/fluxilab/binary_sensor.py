"""Binary sensors of a FluxiLab device."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .device import FluxiLabConfigEntry, FluxiLabDevice
from .entity import FluxiLabEntity

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class FluxiLabBinarySensorEntityDescription(BinarySensorEntityDescription):
    """Describes a FluxiLab binary sensor."""

    value_fn: Callable[[FluxiLabDevice], bool | None]
    available_offline: bool = False


BINARY_SENSORS: tuple[FluxiLabBinarySensorEntityDescription, ...] = (
    FluxiLabBinarySensorEntityDescription(
        key="connectivity",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda device: device.online,
        available_offline=True,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: FluxiLabConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the device's binary sensors."""
    async_add_entities(
        FluxiLabBinarySensor(entry.runtime_data, description)
        for description in BINARY_SENSORS
    )


class FluxiLabBinarySensor(FluxiLabEntity, BinarySensorEntity):
    """A binary sensor of a FluxiLab device."""

    entity_description: FluxiLabBinarySensorEntityDescription

    @property
    def available(self) -> bool:
        """Unavailable while the device is offline, unless it reports that itself."""
        return self.entity_description.available_offline or self.device.online

    @property
    def is_on(self) -> bool | None:
        """Return the value from the device."""
        return self.entity_description.value_fn(self.device)
