"""FluxiLab: access-controlled, observable lab equipment over MQTT."""

from __future__ import annotations

from functools import partial

from homeassistant.components import mqtt
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.typing import ConfigType
from homeassistant.setup import async_setup_component

from .access.engine import ACCESS_ENGINE, AccessEngine
from .api import async_setup_api
from .const import DOMAIN
from .device.fabomatic import async_attach_board, async_detach_board, board_machine_id
from .device.runtime import FluxiLabConfigEntry, FluxiLabDevice
from .heap import async_freeze_startup_heap
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
    await _async_setup_access(hass)
    await async_setup_panel(hass)
    # Card checks must not wait 150-400 ms for the cycle collector (heap.py).
    async_freeze_startup_heap(hass)
    return True


async def _async_setup_access(hass: HomeAssistant) -> None:
    """Load access storage, register services and websocket commands (once)."""
    if ACCESS_ENGINE in hass.data:
        return
    # Cards are HA tags too: swipes fire tag_scanned, unknown cards are listed.
    await async_setup_component(hass, "tag", {})
    engine = AccessEngine(hass)
    await engine.async_load()
    hass.data[ACCESS_ENGINE] = engine
    async_setup_api(hass, engine)


async def async_setup_entry(hass: HomeAssistant, entry: FluxiLabConfigEntry) -> bool:
    """Set up one adopted FluxiLab device."""
    if not await mqtt.async_wait_for_mqtt_client(hass):
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN, translation_key="mqtt_not_ready"
        )
    engine = hass.data.get(ACCESS_ENGINE)
    device = FluxiLabDevice(hass, entry, await async_get_hub_keys(hass), engine)
    entry.runtime_data = device
    await device.async_start()
    entry.async_on_unload(device.async_stop)
    if engine is not None and (machine_id := board_machine_id(entry)) is not None:
        # A Fab-O-Matic board speaks its own protocol into the same engine.
        await async_attach_board(hass, device, machine_id, engine.board_handler(device))
        entry.async_on_unload(partial(async_detach_board, hass, device))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: FluxiLabConfigEntry) -> bool:
    """Unload a config entry."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
