"""The update entity: installed from the announcement, install through a command."""

from __future__ import annotations

from typing import Any

from homeassistant.components.update import (
    ATTR_INSTALLED_VERSION,
    ATTR_LATEST_VERSION,
    DOMAIN as UPDATE_DOMAIN,
    SERVICE_INSTALL,
)
from homeassistant.const import ATTR_ENTITY_ID, STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.fluxilab.const import CONF_LATEST_SW_VERSION
from custom_components.fluxilab.protocol.security import KeyPair

from .test_device import bring_online
from .test_switch import _commands

FIRMWARE = "update.fumehood_1_firmware"


async def test_update_installs_through_command(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
    device_keys: KeyPair,
    mqtt_mock: MqttMockHAClient,
) -> None:
    await bring_online(hass, announce)
    state = hass.states.get(FIRMWARE)
    assert state.state == STATE_OFF
    assert state.attributes[ATTR_INSTALLED_VERSION] == "0.1.0"
    hass.config_entries.async_update_entry(
        init_integration, options={CONF_LATEST_SW_VERSION: "0.2.0"}
    )
    await bring_online(hass, announce)
    state = hass.states.get(FIRMWARE)
    assert state.state == STATE_ON
    assert state.attributes[ATTR_LATEST_VERSION] == "0.2.0"
    await hass.services.async_call(
        UPDATE_DOMAIN, SERVICE_INSTALL, {ATTR_ENTITY_ID: FIRMWARE}, blocking=True
    )
    commands = await _commands(hass, mqtt_mock, device_keys)
    assert [(c["command"], c["args"]) for c in commands] == [
        ("update", {"version": "0.2.0"})
    ]
    announce["sw_version"] = "0.2.0"
    await bring_online(hass, announce)
    assert hass.states.get(FIRMWARE).state == STATE_OFF
