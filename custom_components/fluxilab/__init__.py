"""FluxiLab: access-controlled, observable lab equipment over MQTT."""

from __future__ import annotations

from homeassistant.components import mqtt
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.typing import ConfigType

from .const import DOMAIN, LOGGER
from .device import FluxiLabConfigEntry, FluxiLabDevice
from .hub import async_get_hub_keys

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.EVENT,
    Platform.SENSOR,
    Platform.SWITCH,
    Platform.UPDATE,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Set up the access engine and its services, once for all devices."""
    try:
        from .access import (  # type: ignore[import-not-found,unused-ignore]  # noqa: PLC0415
            async_setup_access,
        )
    except ImportError:
        LOGGER.warning("The access-control engine is missing: access is not handled")
        return True
    await async_setup_access(hass)
    from .panel import async_setup_panel  # noqa: PLC0415

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
