"""The block and relay switches: admins only, signed commands to the device."""

from __future__ import annotations

import json
from typing import Any

from homeassistant.auth.const import GROUP_ID_USER
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.const import ATTR_ENTITY_ID, SERVICE_TURN_OFF, SERVICE_TURN_ON
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError, Unauthorized
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.fluxilab.access.engine import ACCESS_ENGINE
from custom_components.fluxilab.hub import async_get_hub_keys
from custom_components.fluxilab.protocol.schemas import Channel
from custom_components.fluxilab.protocol.security import KeyPair, open_envelope

from .test_device import BASE, bring_online, send_sealed

BLOCKED = "switch.fumehood_1_blocked"
RELAY = "switch.fumehood_1_relay"


def with_interlock(announce: dict[str, Any]) -> dict[str, Any]:
    """The announcement of an agent with an interlock output (and a plain relay)."""
    capabilities = {
        **announce["capabilities"],
        "actuators": [
            {"key": "fan", "kind": "relay"},
            {"key": "lock", "kind": "interlock", "name": "Lock"},
        ],
    }
    return {**announce, "capabilities": capabilities}


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


async def _result(
    hass: HomeAssistant,
    device_keys: KeyPair,
    command: dict[str, Any],
    ok: bool,
    **extra: Any,
) -> None:
    """The agent's answer to ``command`` (an agent that does not report its relay)."""
    body: dict[str, Any] = {"id": command["id"], "ok": ok, "generation": 0, **extra}
    if not ok:
        body["error"] = "the device is blocked"
    await send_sealed(hass, device_keys, Channel.COMMAND_RESULT, body)


async def test_no_relay_switch_without_a_relay(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
) -> None:
    await bring_online(hass, announce)
    assert hass.states.get(RELAY) is None


async def test_admin_switches_the_relay_as_the_agent_confirms(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
    device_keys: KeyPair,
    mqtt_mock: MqttMockHAClient,
    hass_admin_user: MockUser,
) -> None:
    """The relay command goes signed; the state is what the agent confirmed."""
    await bring_online(hass, with_interlock(announce))
    state = hass.states.get(RELAY)
    assert state is not None
    assert state.state == "unknown"
    assert state.attributes["assumed_state"] is True
    assert state.attributes["friendly_name"] == "Fumehood 1 Relay"
    context = Context(user_id=hass_admin_user.id)
    await hass.services.async_call(
        SWITCH_DOMAIN, SERVICE_TURN_ON, {ATTR_ENTITY_ID: RELAY}, True, context
    )
    (command,) = await _commands(hass, mqtt_mock, device_keys)
    assert (command["command"], command["args"]) == ("relay", {"on": True})
    assert hass.states.get(RELAY).state == "unknown"  # not confirmed yet
    await _result(hass, device_keys, command, ok=True)
    assert hass.states.get(RELAY).state == "on"

    await hass.services.async_call(
        SWITCH_DOMAIN, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: RELAY}, True, context
    )
    command = (await _commands(hass, mqtt_mock, device_keys))[-1]
    assert (command["command"], command["args"]) == ("relay", {"on": False})
    await _result(hass, device_keys, command, ok=False)  # refused: unchanged
    assert hass.states.get(RELAY).state == "on"
    await _result(hass, device_keys, command, ok=True)  # answered once only
    assert hass.states.get(RELAY).state == "on"


async def test_relay_shows_what_every_command_result_reports(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
    device_keys: KeyPair,
    mqtt_mock: MqttMockHAClient,
    hass_admin_user: MockUser,
) -> None:
    """An agent's result says what its relay is: that wins, whatever was asked."""
    await bring_online(hass, with_interlock(announce))
    context = Context(user_id=hass_admin_user.id)
    await hass.services.async_call(
        SWITCH_DOMAIN, SERVICE_TURN_ON, {ATTR_ENTITY_ID: RELAY}, True, context
    )
    (command,) = await _commands(hass, mqtt_mock, device_keys)
    await _result(hass, device_keys, command, ok=False, relay=False)
    assert hass.states.get(RELAY).state == "off"
    # Any other command's result too (here a force sync's).
    await _result(hass, device_keys, {"id": "sync-1"}, ok=True, relay=True)
    assert hass.states.get(RELAY).state == "on"


async def test_relay_follows_sessions(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
) -> None:
    """The agent switches its interlock with a session: the switch shows it."""
    await bring_online(hass, with_interlock(announce))
    device = init_integration.runtime_data
    usage = {
        "member_name": None,
        "usage_hours": 0.0,
        "hours_to_maintenance": None,
        "maintenance_due": False,
    }
    device.async_update_usage(in_use=True, **usage)
    assert hass.states.get(RELAY).state == "on"
    device.async_update_usage(in_use=False, **usage)
    assert hass.states.get(RELAY).state == "off"


async def test_relay_refused_on_a_blocked_device(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
    device_keys: KeyPair,
    mqtt_mock: MqttMockHAClient,
    hass_admin_user: MockUser,
) -> None:
    """Switching on a blocked device's relay is refused, translated, unsent."""
    await bring_online(hass, with_interlock(announce))
    await init_integration.runtime_data.async_set_blocked(True)
    mqtt_mock.async_publish.reset_mock()
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            SWITCH_DOMAIN,
            SERVICE_TURN_ON,
            {ATTR_ENTITY_ID: RELAY},
            True,
            Context(user_id=hass_admin_user.id),
        )
    assert err.value.translation_key == "relay_device_blocked"
    assert await _commands(hass, mqtt_mock, device_keys) == []


@pytest.mark.parametrize("service", [SERVICE_TURN_ON, SERVICE_TURN_OFF])
async def test_relay_is_for_lab_admins(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
    device_keys: KeyPair,
    mqtt_mock: MqttMockHAClient,
    service: str,
) -> None:
    """Staff are refused with the translated not_permitted; a lab admin may."""
    await bring_online(hass, with_interlock(announce))
    users = await hass.auth.async_get_group(GROUP_ID_USER)
    user = MockUser(name="Steve", groups=[users]).add_to_hass(hass)
    assert not user.is_admin
    engine = hass.data[ACCESS_ENGINE]
    member = await engine.members.async_create_item(
        {"name": "Steve", "role": "staff", "user_id": user.id}
    )
    context = Context(user_id=user.id)
    with pytest.raises(Unauthorized) as err:
        await hass.services.async_call(
            SWITCH_DOMAIN, service, {ATTR_ENTITY_ID: RELAY}, True, context
        )
    assert err.value.translation_key == "not_permitted"
    assert err.value.translation_placeholders == {
        "operation": f"switch.relay.{service}"
    }
    assert await _commands(hass, mqtt_mock, device_keys) == []
    await engine.members.async_update_item(member["id"], {"role": "admin"})
    await hass.services.async_call(
        SWITCH_DOMAIN, service, {ATTR_ENTITY_ID: RELAY}, True, context
    )
    (command,) = await _commands(hass, mqtt_mock, device_keys)
    assert command["args"] == {"on": service == SERVICE_TURN_ON}
