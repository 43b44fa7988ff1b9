"""FluxiLab: access-controlled, observable lab equipment over MQTT."""

from __future__ import annotations

from homeassistant.components import mqtt
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.typing import ConfigType

from .access import async_setup_access
from .const import DOMAIN
from .device import FluxiLabConfigEntry, FluxiLabDevice
from .hub import async_get_hub_keys
from .panel import async_setup_panel
from .revoke import async_remove_entry

__all__ = ["async_remove_entry"]

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.CALENDAR,
    Platform.EVENT,
    Platform.SENSOR,
    Platform.SWITCH,
    Platform.UPDATE,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Set up the access engine, its services and the panel, once for all devices."""
    await async_setup_access(hass)
    await async_setup_panel(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: FluxiLabConfigEntry) -> bool:
    """Set up one adopted FluxiLab device."""
    if not await mqtt.async_wait_for_mqtt_client(hass):
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN, translation_key="mqtt_not_ready"
        )
    device = FluxiLabDevice(hass, entry, await async_get_hub_keys(hass))
    entry.runtime_data = device
    await device.async_start()
    entry.async_on_unload(device.async_stop)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: FluxiLabConfigEntry) -> bool:
    """Unload a config entry."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
