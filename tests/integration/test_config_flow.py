"""Adoption flows: MQTT discovery and manual add."""

from __future__ import annotations

import json
from typing import Any

from homeassistant.config_entries import SOURCE_MQTT, SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.mqtt import MqttServiceInfo
from homeassistant.util.dt import utcnow
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.fluxilab.const import (
    CONF_BASE_TOPIC,
    CONF_DEVICE_ID,
    CONF_DEVICE_KEY,
    CONF_FINGERPRINT,
    DOMAIN,
)
from custom_components.fluxilab.hub import async_get_hub_keys
from custom_components.fluxilab.protocol.security import KeyPair

TOPIC = "fluxilab/hood-1/announce"


def _discovery(payload: str, topic: str = TOPIC) -> MqttServiceInfo:
    return MqttServiceInfo(
        topic=topic,
        payload=payload,
        qos=1,
        retain=True,
        subscribed_topic="fluxilab/+/announce",
        timestamp=utcnow(),
    )


async def test_discovery_shows_fingerprint_and_adopts(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    announce_payload: str,
    device_keys: KeyPair,
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_MQTT}, data=_discovery(announce_payload)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "confirm"
    hub = await async_get_hub_keys(hass)
    expected = hub.derive(device_keys.public_b64).fingerprint
    assert result["description_placeholders"] == {
        "name": "Fumehood 1",
        "kind": "fumehood",
        "model": "FH-1200",
        "fingerprint": expected,
    }
    # The device computes the same fingerprint from the hub's announced key.
    assert device_keys.derive(hub.public_b64).fingerprint == expected

    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Fumehood 1"
    assert result["result"].unique_id == "hood-1"
    assert result["data"] == {
        CONF_DEVICE_ID: "hood-1",
        CONF_BASE_TOPIC: "fluxilab",
        CONF_DEVICE_KEY: device_keys.public_b64,
        CONF_FINGERPRINT: expected,
    }


async def test_discovery_of_adopted_device_aborts(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    mock_config_entry: MockConfigEntry,
    announce_payload: str,
) -> None:
    mock_config_entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_MQTT}, data=_discovery(announce_payload)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


@pytest.mark.parametrize(
    ("mutate", "topic"),
    [
        (lambda a: a.update(v=2), TOPIC),
        (lambda a: a.update(key="not-a-key"), TOPIC),
        (lambda a: a.pop("name"), TOPIC),
        (lambda a: a.update(kind="toaster"), TOPIC),
        (lambda a: None, "fluxilab/hood-2/announce"),
    ],
)
async def test_invalid_announcements_abort(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    announce: dict[str, Any],
    mutate: Any,
    topic: str,
) -> None:
    mutate(announce)
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_MQTT},
        data=_discovery(json.dumps(announce), topic),
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "invalid_discovery_info"


@pytest.mark.parametrize("payload", ["", "{not json", "[]"])
async def test_garbage_announcements_abort(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, payload: str
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_MQTT}, data=_discovery(payload)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "invalid_discovery_info"


async def test_user_step_adds_device_by_id(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_DEVICE_ID: "Bad Id!", CONF_BASE_TOPIC: "fluxilab"}
    )
    assert result["errors"] == {CONF_DEVICE_ID: "invalid_device_id"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_DEVICE_ID: "lathe-1", CONF_BASE_TOPIC: "lab/#"}
    )
    assert result["errors"] == {CONF_BASE_TOPIC: "invalid_base_topic"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_DEVICE_ID: " Lathe-1 ", CONF_BASE_TOPIC: "/lab/fluxi/"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_DEVICE_ID] == "lathe-1"
    assert result["data"][CONF_BASE_TOPIC] == "lab/fluxi"
