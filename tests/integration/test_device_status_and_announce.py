"""What a device says about itself (status, announcement) is size-capped and
checked before it is taken; a blocked device that was away is told again."""

from __future__ import annotations

from typing import Any

from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_mqtt_message,
)
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.fluxilab.const import CONF_DEVICE_KEY, DOMAIN
from custom_components.fluxilab.protocol.security import KeyPair

from .conftest import DEVICE_ID, wire_announce
from .test_device import BASE, CONNECTIVITY, bring_online
from .test_switch import _commands


def _registry_name(hass: HomeAssistant, entry: MockConfigEntry) -> str | None:
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, DEVICE_ID), entry.entry_id
    )
    assert device is not None
    return device.name


async def test_oversized_status_and_announce_are_dropped(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    await bring_online(hass, announce)
    name_before = _registry_name(hass, init_integration)
    async_fire_mqtt_message(hass, f"{BASE}/status", "offline" + " " * 100_000)
    huge = {**announce, "name": "x" * 200_000}
    async_fire_mqtt_message(hass, f"{BASE}/announce", await wire_announce(hass, huge))
    await hass.async_block_till_done()
    counters = init_integration.runtime_data.counters
    assert counters["status_oversized"] == 1
    assert counters["announce_oversized"] == 1
    assert "Ignoring oversized status message from hood-1" in caplog.text
    # Neither was taken: still online, still the announced name.
    assert hass.states.get(CONNECTIVITY).state == STATE_ON
    assert _registry_name(hass, init_integration) == name_before


async def test_an_announcement_for_another_id_is_refused(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
) -> None:
    await bring_online(hass, announce)
    other = {**announce, "id": "hood-2", "name": "Impostor"}
    async_fire_mqtt_message(hass, f"{BASE}/announce", await wire_announce(hass, other))
    await hass.async_block_till_done()
    assert init_integration.runtime_data.counters["announce_malformed"] == 1
    assert _registry_name(hass, init_integration) == "Fumehood 1"


async def test_a_blocked_device_coming_back_is_blocked_again(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
    device_keys: KeyPair,
    mqtt_mock: MqttMockHAClient,
) -> None:
    await bring_online(hass, announce)
    await init_integration.runtime_data.async_set_blocked(True)
    async_fire_mqtt_message(hass, f"{BASE}/status", "offline")
    await hass.async_block_till_done()
    assert hass.states.get(CONNECTIVITY).state == STATE_OFF
    # It may have missed the command while away: it gets it again on return.
    async_fire_mqtt_message(hass, f"{BASE}/status", "online")
    await hass.async_block_till_done()
    commands = [c["command"] for c in await _commands(hass, mqtt_mock, device_keys)]
    assert commands == ["block", "block"]


async def test_blocking_a_device_not_paired_yet_waits_for_the_pairing(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    mock_config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="hood-1",
        unique_id=DEVICE_ID,
        data={**mock_config_entry.data, CONF_DEVICE_KEY: None},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    mqtt_mock.async_publish.reset_mock()
    await entry.runtime_data.async_set_blocked(True)
    assert entry.runtime_data.blocked is True
    assert "Device hood-1 is not paired: it learns it is blocked once it is" in (
        caplog.text
    )
    # Nothing can be sealed for it: no command went out.
    assert not [
        call
        for call in mqtt_mock.async_publish.call_args_list
        if call.args[0] == f"{BASE}/command"
    ]
