"""FluxiLab: access-controlled, observable lab equipment over MQTT."""

from __future__ import annotations

from homeassistant.components import mqtt
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady

from .const import DOMAIN
from .device import FluxiLabConfigEntry, FluxiLabDevice

PLATFORMS: list[Platform] = [Platform.BINARY_SENSOR]


async def async_setup_entry(hass: HomeAssistant, entry: FluxiLabConfigEntry) -> bool:
    """Set up one adopted FluxiLab device."""
    if not await mqtt.async_wait_for_mqtt_client(hass):
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN, translation_key="mqtt_not_ready"
        )
    device = FluxiLabDevice(hass, entry)
    entry.runtime_data = device
    await device.async_start()
    entry.async_on_unload(device.async_stop)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: FluxiLabConfigEntry) -> bool:
    """Unload a config entry."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
