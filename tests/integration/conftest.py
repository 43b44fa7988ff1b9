"""Fixtures for the Home Assistant side."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
import json
from typing import Any

from homeassistant.components.mqtt.models import DATA_MQTT
from homeassistant.core import HomeAssistant
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
from custom_components.fluxilab.protocol.security import KeyPair, seal_announce

DEVICE_ID = "hood-1"
_DEVICE_KEYS: dict[str, KeyPair] = {}
"""Key pairs of the simulated devices, by public key: sealing needs the private one."""


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/fluxilab."""


@pytest.fixture
async def mqtt_mock(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient
) -> AsyncGenerator[MqttMockHAClient]:
    """HA's MQTT mock, with its keep-alive timer cancelled at teardown.

    The mocked paho client never reports its socket closed, so the MQTT client's
    one-second misc timer would outlive the test and fail the cleanup check.
    """
    yield mqtt_mock
    client = hass.data[DATA_MQTT].client
    if (timer := client._misc_timer) is not None:
        timer.cancel()
        client._misc_timer = None


@pytest.fixture(scope="session")
def device_keys() -> KeyPair:
    """The simulated device's pairing key pair."""
    keys = KeyPair.generate()
    _DEVICE_KEYS[keys.public_b64] = keys
    return keys


async def wire_announce(hass: HomeAssistant, announce: dict[str, Any]) -> str:
    """The announcement as the device's agent publishes it once paired: sealed.

    Sealed whenever the test holds the private key of the announced key (a paired
    device); an announcement with any other key (an impostor's, a reinstalled
    device's) goes out plain, as such a sender could only send it.
    """
    if (keys := _DEVICE_KEYS.get(announce.get("key", ""))) is None:
        return json.dumps(announce)
    hub = await async_get_hub_keys(hass)
    topic = f"fluxilab/{announce['id']}/announce"
    return json.dumps(seal_announce(keys.derive(hub.public_b64), topic, announce))


@pytest.fixture
def announce(device_keys: KeyPair) -> dict[str, Any]:
    """A valid announcement of a fumehood."""
    return {
        "v": 1,
        "id": DEVICE_ID,
        "name": "Fumehood 1",
        "kind": "fumehood",
        "model": "FH-1200",
        "sw_version": "0.1.0",
        "serial": "SN-0001",
        "key": device_keys.public_b64,
        "capabilities": {
            "channels": [
                {
                    "key": "face_velocity",
                    "name": "Face velocity",
                    "type": "float",
                    "unit": "m/s",
                    "state_class": "measurement",
                }
            ],
            "rfid": True,
        },
    }


@pytest.fixture
def announce_payload(announce: dict[str, Any]) -> str:
    """The announcement as it appears on the wire."""
    return json.dumps(announce)


@pytest.fixture
def mock_config_entry(device_keys: KeyPair) -> MockConfigEntry:
    """An adopted device."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Fumehood 1",
        unique_id=DEVICE_ID,
        data={
            CONF_DEVICE_ID: DEVICE_ID,
            CONF_BASE_TOPIC: "fluxilab",
            CONF_DEVICE_KEY: device_keys.public_b64,
            CONF_FINGERPRINT: "0000-0000-0000",
        },
    )


@pytest.fixture
async def init_integration(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    mock_config_entry: MockConfigEntry,
) -> Generator[MockConfigEntry]:
    """Set up the integration for one adopted device."""
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    return mock_config_entry  # type: ignore[return-value]
