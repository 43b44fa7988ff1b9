"""The block switch: admins only, persisted, signed command to the device."""

from __future__ import annotations

import json
from typing import Any

from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.const import ATTR_ENTITY_ID, SERVICE_TURN_OFF, SERVICE_TURN_ON
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import Unauthorized
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.fluxilab.hub import async_get_hub_keys
from custom_components.fluxilab.protocol.security import KeyPair, open_envelope

from .test_device import BASE, bring_online

BLOCKED = "switch.fumehood_1_blocked"


async def _commands(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, device_keys: KeyPair
) -> list[dict[str, Any]]:
    hub = await async_get_hub_keys(hass)
    keys = device_keys.derive(hub.public_b64)
    topic = f"{BASE}/command"
    return [
        open_envelope(keys, topic, json.loads(call.args[1]))
        for call in mqtt_mock.async_publish.call_args_list
        if call.args[0] == topic
    ]


async def test_admin_blocks_and_unblocks(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
    device_keys: KeyPair,
    mqtt_mock: MqttMockHAClient,
    hass_admin_user: MockUser,
) -> None:
    await bring_online(hass, announce)
    context = Context(user_id=hass_admin_user.id)
    await hass.services.async_call(
        SWITCH_DOMAIN, SERVICE_TURN_ON, {ATTR_ENTITY_ID: BLOCKED}, True, context
    )
    assert hass.states.get(BLOCKED).state == "on"
    assert init_integration.runtime_data.blocked
    await hass.services.async_call(
        SWITCH_DOMAIN, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: BLOCKED}, True, context
    )
    assert hass.states.get(BLOCKED).state == "off"
    commands = await _commands(hass, mqtt_mock, device_keys)
    assert [c["command"] for c in commands] == ["block", "unblock"]


async def test_block_survives_a_reload(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
) -> None:
    await bring_online(hass, announce)
    await init_integration.runtime_data.async_set_blocked(True)
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await bring_online(hass, announce)
    assert init_integration.runtime_data.blocked
    assert hass.states.get(BLOCKED).state == "on"


async def test_non_admin_is_refused(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
    device_keys: KeyPair,
    mqtt_mock: MqttMockHAClient,
    hass_read_only_user: MockUser,
) -> None:
    await bring_online(hass, announce)
    with pytest.raises(Unauthorized):
        await hass.services.async_call(
            SWITCH_DOMAIN,
            SERVICE_TURN_ON,
            {ATTR_ENTITY_ID: BLOCKED},
            True,
            Context(user_id=hass_read_only_user.id),
        )
    assert not init_integration.runtime_data.blocked
    assert await _commands(hass, mqtt_mock, device_keys) == []
