"""Device triggers fire automations on FluxiLab's bus events, per device."""

from __future__ import annotations

from typing import Any

from homeassistant.components import automation
from homeassistant.components.device_automation import DeviceAutomationType
from homeassistant.const import CONF_DEVICE_ID, CONF_DOMAIN, CONF_PLATFORM, CONF_TYPE
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
import probatio
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_mqtt_message,
    async_get_device_automations,
    async_mock_service,
)

from custom_components.fluxilab.access.engine import ACCESS_ENGINE
from custom_components.fluxilab.const import (
    ATTR_CARD,
    ATTR_FLUXILAB_DEVICE,
    ATTR_TYPE,
    DOMAIN,
    EVENT_ACCESS,
)
from custom_components.fluxilab.device_trigger import (
    TRIGGERS,
    async_get_triggers,
    async_validate_trigger_config,
)
from custom_components.fluxilab.protocol.security import KeyPair
from custom_components.fluxilab.protocol.topics import Channel

from .conftest import DEVICE_ID
from .test_device import BASE, bring_online, send_sealed


@pytest.fixture
def calls(hass: HomeAssistant) -> list[ServiceCall]:
    """Calls of the automations' action."""
    return async_mock_service(hass, "test", "automation")


def _ha_device(hass: HomeAssistant, entry: MockConfigEntry) -> dr.DeviceEntry:
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, DEVICE_ID), entry.entry_id
    )
    assert device is not None
    return device


async def _automate(hass: HomeAssistant, device_id: str, *types: str) -> None:
    assert await async_setup_component(
        hass,
        automation.DOMAIN,
        {
            automation.DOMAIN: [
                {
                    "triggers": {
                        CONF_PLATFORM: "device",
                        CONF_DOMAIN: DOMAIN,
                        CONF_DEVICE_ID: device_id,
                        CONF_TYPE: trigger_type,
                    },
                    "actions": {
                        "action": "test.automation",
                        "data_template": {
                            "trigger": trigger_type,
                            "card": "{{ trigger.event.data.card }}",
                        },
                    },
                }
                for trigger_type in types
            ]
        },
    )


async def test_get_triggers(
    hass: HomeAssistant, init_integration: MockConfigEntry, announce: dict[str, Any]
) -> None:
    await bring_online(hass, announce)
    device = _ha_device(hass, init_integration)
    triggers = await async_get_device_automations(
        hass, DeviceAutomationType.TRIGGER, device.id
    )
    ours = [t for t in triggers if t[CONF_DOMAIN] == DOMAIN]
    assert {t[CONF_TYPE] for t in ours} == set(TRIGGERS)
    assert {"card_denied", "maintenance_due", "device_offline", "access_granted"} <= {
        t[CONF_TYPE] for t in ours
    }
    assert all(t[CONF_DEVICE_ID] == device.id for t in ours)


async def test_no_triggers_for_other_devices(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    other = MockConfigEntry(domain="test")
    other.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=other.entry_id, identifiers={("test", "x")}
    )
    triggers = await async_get_device_automations(
        hass, DeviceAutomationType.TRIGGER, device.id
    )
    assert [t for t in triggers if t[CONF_DOMAIN] == DOMAIN] == []
    # Asked directly, about a foreign or an unknown device: nothing either.
    assert await async_get_triggers(hass, device.id) == []
    assert await async_get_triggers(hass, "no-such-device") == []


async def test_invalid_trigger_type_is_refused(hass: HomeAssistant) -> None:
    with pytest.raises(probatio.Invalid):
        await async_validate_trigger_config(
            hass,
            {
                CONF_PLATFORM: "device",
                CONF_DOMAIN: DOMAIN,
                CONF_DEVICE_ID: "abc",
                CONF_TYPE: "door_opened",
            },
        )


async def test_device_offline_and_maintenance_due_fire(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
    calls: list[ServiceCall],
) -> None:
    await bring_online(hass, announce)
    device = _ha_device(hass, init_integration)
    await _automate(hass, device.id, "device_offline", "maintenance_due")

    async_fire_mqtt_message(hass, f"{BASE}/status", "offline")
    await hass.async_block_till_done()
    assert [c.data["trigger"] for c in calls] == ["device_offline"]

    runtime = init_integration.runtime_data
    runtime.async_update_usage(
        in_use=False,
        member_name=None,
        usage_hours=101.0,
        hours_to_maintenance=-1.0,
        maintenance_due=True,
    )
    await hass.async_block_till_done()
    assert [c.data["trigger"] for c in calls] == ["device_offline", "maintenance_due"]


async def test_card_denied_fires_from_a_real_request(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
    device_keys: KeyPair,
    calls: list[ServiceCall],
) -> None:
    await bring_online(hass, announce)
    device = _ha_device(hass, init_integration)
    await _automate(hass, device.id, "card_denied", "access_granted")
    await send_sealed(
        hass,
        device_keys,
        Channel.ACCESS_REQUEST,
        {"id": "req-1", "action": "check", "card": "04A1B2C3"},
    )
    await hass.async_block_till_done()
    privacy = hass.data[ACCESS_ENGINE].privacy
    assert [(c.data["trigger"], c.data["card"]) for c in calls] == [
        ("card_denied", privacy.card("04A1B2C3"))  # the pseudonym, not the uid
    ]


async def test_triggers_follow_only_their_device(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
    calls: list[ServiceCall],
) -> None:
    await bring_online(hass, announce)
    device = _ha_device(hass, init_integration)
    await _automate(hass, device.id, "access_granted")
    for device_id in ("someone-else", device.id):
        hass.bus.async_fire(
            EVENT_ACCESS,
            {
                ATTR_TYPE: "granted",
                ATTR_FLUXILAB_DEVICE: DEVICE_ID,
                "device_id": device_id,
                ATTR_CARD: None,
            },
        )
    # A different type on the right device does not match either.
    hass.bus.async_fire(
        EVENT_ACCESS, {ATTR_TYPE: "session_started", "device_id": device.id}
    )
    await hass.async_block_till_done()
    assert [c.data["trigger"] for c in calls] == ["access_granted"]
