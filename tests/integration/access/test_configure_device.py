"""fluxilab.configure_device: an agent's settings sent from Home Assistant (issue 17 §5).

The agent has always taken a signed ``config`` command (telemetry periods, access
timeout: fluxilab_agent/agent.py ``_configure``); this is its sender. The command
reaches the device sealed, the change is audited with before -> after, and bad
settings are refused in words with nothing sent.
"""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import probatio as vol
import pytest
from pytest_homeassistant_custom_component.common import MockUser
from pytest_homeassistant_custom_component.typing import (
    MqttMockHAClient,
    WebSocketGenerator,
)

from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.device.runtime import FluxiLabDevice
from custom_components.fluxilab.protocol.security import KeyPair
from tests.integration.test_device import bring_online
from tests.integration.test_switch import _commands

from .conftest import call
from .test_admin_audit import Panel


@pytest.fixture
async def online(
    hass: HomeAssistant, device: FluxiLabDevice, announce: dict[str, Any]
) -> FluxiLabDevice:
    """The fumehood online, its face_velocity channel announced (period 1 s)."""
    await bring_online(hass, announce)
    return device


async def test_an_admin_sends_new_settings_and_the_change_is_audited(
    hass: HomeAssistant,
    engine: AccessEngine,
    online: FluxiLabDevice,
    ha_device_id: str,
    device_keys: KeyPair,
    mqtt_mock: MqttMockHAClient,
    hass_admin_user: MockUser,
    hass_ws_client: WebSocketGenerator,
) -> None:
    mqtt_mock.async_publish.reset_mock()
    await call(
        hass,
        "configure_device",
        {
            "device_id": ha_device_id,
            "telemetry_periods": {"face_velocity": 0.5},
            "access_timeout": 3,
        },
        hass_admin_user,
    )
    (command,) = await _commands(hass, mqtt_mock, device_keys)
    assert command["command"] == "config"
    assert command["args"] == {"periods": {"face_velocity": 0.5}, "access_timeout": 3.0}

    await engine.history.async_commit()
    (entry,) = await Panel(await hass_ws_client(hass)).admin_entries(
        device_id=online.device_id
    )
    assert entry["changes"] == {
        "period_face_velocity": {"before": 1.0, "after": 0.5},
        "access_timeout": {"before": None, "after": 3.0},
    }
    assert (entry["door"], entry["operation"]) == (
        "service",
        "fluxilab.configure_device",
    )
    assert entry["actor_user_id"] == hass_admin_user.id


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({}, "nothing_to_configure"),
        ({"telemetry_periods": {"sash_height": 2}}, "unknown_channel"),
    ],
)
async def test_settings_the_device_cannot_take_are_refused_in_words(
    hass: HomeAssistant,
    online: FluxiLabDevice,
    ha_device_id: str,
    mqtt_mock: MqttMockHAClient,
    data: dict[str, Any],
    key: str,
) -> None:
    mqtt_mock.async_publish.reset_mock()
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "configure_device", {"device_id": ha_device_id, **data})
    assert err.value.translation_key == key
    assert mqtt_mock.async_publish.call_count == 0


@pytest.mark.parametrize(
    "data",
    [
        {"telemetry_periods": {"face_velocity": 0.01}},  # faster than the agent reads
        {"telemetry_periods": {"face_velocity": "often"}},
        {"access_timeout": 120},
    ],
)
async def test_out_of_range_settings_fail_the_schema(
    hass: HomeAssistant,
    online: FluxiLabDevice,
    ha_device_id: str,
    mqtt_mock: MqttMockHAClient,
    data: dict[str, Any],
) -> None:
    mqtt_mock.async_publish.reset_mock()
    with pytest.raises(vol.Invalid):
        await call(hass, "configure_device", {"device_id": ha_device_id, **data})
    assert mqtt_mock.async_publish.call_count == 0
