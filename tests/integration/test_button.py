"""Buttons: force sync and reboot send signed commands; maintenance resets the counter."""

from __future__ import annotations

from typing import Any

from homeassistant.components.button import DOMAIN as BUTTON_DOMAIN, SERVICE_PRESS
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.fluxilab.access.engine import ACCESS_ENGINE
from custom_components.fluxilab.const import EVENT_ACCESS
from custom_components.fluxilab.protocol.security import KeyPair

from .test_device import bring_online
from .test_switch import _commands


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize(
    ("entity_id", "command"),
    [("button.fumehood_1_force_sync", "sync"), ("button.fumehood_1_restart", "reboot")],
)
async def test_buttons_send_commands(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
    device_keys: KeyPair,
    mqtt_mock: MqttMockHAClient,
    entity_id: str,
    command: str,
) -> None:
    await bring_online(hass, announce)
    await hass.services.async_call(
        BUTTON_DOMAIN, SERVICE_PRESS, {ATTR_ENTITY_ID: entity_id}, blocking=True
    )
    commands = await _commands(hass, mqtt_mock, device_keys)
    assert [c["command"] for c in commands] == [command]


async def test_force_sync_is_disabled_by_default(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Troubleshooting only: in the registry, disabled, and not in the states."""
    entry = er.async_get(hass).async_get("button.fumehood_1_force_sync")
    assert entry is not None
    assert entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    assert hass.states.get("button.fumehood_1_force_sync") is None
    assert hass.states.get("button.fumehood_1_restart") is not None


async def test_record_maintenance_resets_the_counter(
    hass: HomeAssistant, init_integration: MockConfigEntry, announce: dict[str, Any]
) -> None:
    await bring_online(hass, announce)
    device = init_integration.runtime_data
    engine = hass.data[ACCESS_ENGINE]
    engine.history.usage(device.device_id)["since_maintenance"] = 7200.0
    events = async_capture_events(hass, EVENT_ACCESS)
    await hass.services.async_call(
        BUTTON_DOMAIN,
        SERVICE_PRESS,
        {ATTR_ENTITY_ID: "button.fumehood_1_record_maintenance"},
        blocking=True,
    )
    await hass.async_block_till_done()
    assert engine.history.usage(device.device_id)["since_maintenance"] == 0.0
    assert [event.data["type"] for event in events] == ["maintenance_recorded"]
