"""Fixtures for the access-control tests: one adopted fumehood with a machine type."""

from __future__ import annotations

import json
from typing import Any

from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
    async_fire_mqtt_message,
)
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.fluxilab.access.engine import ACCESS_ENGINE, AccessEngine
from custom_components.fluxilab.const import (
    CONF_BASE_TOPIC,
    CONF_DEVICE_ID,
    CONF_DEVICE_KEY,
    CONF_FINGERPRINT,
    CONF_MACHINE_TYPE,
    DOMAIN,
)
from custom_components.fluxilab.device.port import AccessDevice
from custom_components.fluxilab.device.runtime import FluxiLabDevice
from custom_components.fluxilab.hub import async_get_hub_keys
from custom_components.fluxilab.protocol.access import AccessRequest
from custom_components.fluxilab.protocol.schemas import CREDENTIALS_SCHEMA
from custom_components.fluxilab.protocol.security import KeyPair, open_envelope
from tests.integration.conftest import DEVICE_ID, wire_announce

MACHINE_TYPE = "fumehood"
CREDENTIALS_TOPIC = f"fluxilab/{DEVICE_ID}/credentials"


@pytest.fixture(autouse=True)
def fast_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash PINs at bcrypt's minimum cost: the production cost is checked once."""
    monkeypatch.setattr("custom_components.fluxilab.access.store.BCRYPT_COST", 4)


@pytest.fixture
def mock_config_entry(device_keys: KeyPair) -> MockConfigEntry:
    """The adopted fumehood, assigned to the fumehood machine type."""
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
        options={CONF_MACHINE_TYPE: MACHINE_TYPE},
    )


@pytest.fixture
async def engine(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
) -> AccessEngine:
    """The engine with the fumehood online and its machine type defined."""
    async_fire_mqtt_message(
        hass, f"fluxilab/{DEVICE_ID}/announce", await wire_announce(hass, announce)
    )
    async_fire_mqtt_message(hass, f"fluxilab/{DEVICE_ID}/status", "online")
    await hass.async_block_till_done()
    access = hass.data[ACCESS_ENGINE]
    await access.machine_types.async_create_item(
        {
            "name": "Fumehood",
            "session_timeout": 600,
            "grace_period": 30,
            "safety_limits": [{"channel": "face_velocity", "min": 0.4}],
            "maintenance_interval": 2,
            "block_when_maintenance_due": True,
            "maintenance_message": "Filter change",
        }
    )
    await hass.async_block_till_done()
    return access


@pytest.fixture
def device(init_integration: MockConfigEntry) -> FluxiLabDevice:
    """The fumehood's runtime object."""
    runtime: FluxiLabDevice = init_integration.runtime_data
    return runtime


@pytest.fixture
def ha_device_id(
    hass: HomeAssistant, engine: AccessEngine, init_integration: MockConfigEntry
) -> str:
    """Home Assistant's registry id of the fumehood."""
    entry = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, DEVICE_ID), init_integration.entry_id
    )
    assert entry is not None
    return entry.id


async def credential_sets(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, device_keys: KeyPair
) -> list[dict[str, Any]]:
    """Open every credential set the hub published, as the device would."""
    hub = await async_get_hub_keys(hass)
    keys = device_keys.derive(hub.public_b64)
    sets = []
    for call in mqtt_mock.async_publish.call_args_list:
        if call.args[0] == CREDENTIALS_TOPIC:
            if call.args[1] == "":
                continue  # clearing what an older hub retained
            assert call.args[3] is False  # signed messages are never retained
            envelope = json.loads(call.args[1])
            sets.append(
                CREDENTIALS_SCHEMA(
                    open_envelope(keys, CREDENTIALS_TOPIC, envelope, decrypt=True)
                )
            )
    return sets


async def call(
    hass: HomeAssistant,
    service: str,
    data: dict[str, Any],
    user: MockUser | None = None,
    *,
    response: bool = False,
) -> Any:
    """Call a FluxiLab service as ``user`` (None: the system), blocking."""
    return await hass.services.async_call(
        DOMAIN,
        service,
        data,
        blocking=True,
        context=Context(user_id=user.id) if user else None,
        return_response=response,
    )


async def answer_request(
    engine: AccessEngine, device: AccessDevice, body: dict[str, Any]
) -> dict[str, Any]:
    """Answer a request body as a device's runtime does: read once, reply on the wire."""
    decision = await engine.async_decide(device, AccessRequest.from_wire(body))
    return decision.as_wire()
