"""Binary sensors of a FluxiLab device: connectivity, usage and bool channels."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .device.models import AnnouncedChannel
from .device.runtime import FluxiLabConfigEntry, FluxiLabDevice
from .entity import (
    FluxiLabChannelEntity,
    FluxiLabEntity,
    async_setup_channel_entities,
)
from .protocol.schemas import ValueType

PARALLEL_UPDATES = 0

KNOWN_CHANNELS = frozenset({"fan_running", "running"})
"""Channel keys with a translated name; others take the name the device announces."""


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
    FluxiLabBinarySensorEntityDescription(
        key="in_use",
        translation_key="in_use",
        device_class=BinarySensorDeviceClass.RUNNING,
        value_fn=lambda device: device.in_use,
    ),
    FluxiLabBinarySensorEntityDescription(
        key="maintenance_due",
        translation_key="maintenance_due",
        device_class=BinarySensorDeviceClass.PROBLEM,
        value_fn=lambda device: device.maintenance_due,
    ),
)


def channel_description(
    channel: AnnouncedChannel,
) -> FluxiLabBinarySensorEntityDescription:
    """Describe the binary sensor of one announced bool channel."""
    key = channel.key
    try:
        device_class = BinarySensorDeviceClass(str(channel.device_class))
    except ValueError:
        device_class = None

    def _value(device: FluxiLabDevice) -> bool | None:
        value = device.values.get(key)
        return value if isinstance(value, bool) else None

    return FluxiLabBinarySensorEntityDescription(
        key=key,
        translation_key=key if key in KNOWN_CHANNELS else None,
        device_class=device_class,
        value_fn=_value,
    )


async def async_setup_entry(
    hass: HomeAssistant,
    entry: FluxiLabConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the device's binary sensors, and one per bool channel as they appear."""
    device = entry.runtime_data
    async_add_entities(
        FluxiLabBinarySensor(device, description) for description in BINARY_SENSORS
    )
    async_setup_channel_entities(
        entry,
        frozenset({ValueType.BOOL}),
        lambda device, channel, created: FluxiLabChannelBinarySensor(
            device, channel_description(channel), channel, created
        ),
        async_add_entities,
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

    def _shown(self) -> tuple[Any, ...]:
        return (self.available, self.is_on)


class FluxiLabChannelBinarySensor(FluxiLabChannelEntity, FluxiLabBinarySensor):
    """A bool telemetry channel the device announced."""
