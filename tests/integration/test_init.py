"""Setting up, following and unloading an adopted device."""

from __future__ import annotations

from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_mqtt_message,
)
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

CONNECTIVITY = "binary_sensor.fumehood_1_connectivity"


async def test_status_drives_connectivity(
    hass: HomeAssistant, init_integration: MockConfigEntry, caplog
) -> None:
    assert init_integration.state is ConfigEntryState.LOADED
    assert hass.states.get(CONNECTIVITY).state == STATE_OFF

    async_fire_mqtt_message(hass, "fluxilab/hood-1/status", "online", retain=True)
    await hass.async_block_till_done()
    assert hass.states.get(CONNECTIVITY).state == STATE_ON

    async_fire_mqtt_message(hass, "fluxilab/hood-1/status", "garbage")
    await hass.async_block_till_done()
    assert hass.states.get(CONNECTIVITY).state == STATE_ON
    assert "Ignoring malformed status message from hood-1" in caplog.text

    async_fire_mqtt_message(hass, "fluxilab/hood-1/status", "offline")
    await hass.async_block_till_done()
    assert hass.states.get(CONNECTIVITY).state == STATE_OFF
    # Another device's status does not leak in.
    async_fire_mqtt_message(hass, "fluxilab/hood-2/status", "online")
    await hass.async_block_till_done()
    assert hass.states.get(CONNECTIVITY).state == STATE_OFF


async def test_unload_releases_subscriptions(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.NOT_LOADED
    assert hass.states.get(CONNECTIVITY).state == STATE_UNAVAILABLE
    # With the subscription gone a status message changes nothing.
    async_fire_mqtt_message(hass, "fluxilab/hood-1/status", "online")
    await hass.async_block_till_done()
    assert hass.states.get(CONNECTIVITY).state == STATE_UNAVAILABLE


async def test_setup_retries_without_mqtt(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    mock_config_entry: MockConfigEntry,
) -> None:
    mock_config_entry.add_to_hass(hass)
    with patch(
        "homeassistant.components.mqtt.async_wait_for_mqtt_client", return_value=False
    ):
        await hass.config_entries.async_setup(mock_config_entry.entry_id)
    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY
