"""Diagnostics: everything useful for support, no secrets, no personal data."""

from __future__ import annotations

import json
import time
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.syrupy import (
    HomeAssistantSnapshotExtension,
)
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    MqttMockHAClient,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.fluxilab.access.engine import ACCESS_ENGINE
from custom_components.fluxilab.const import (
    CONF_MACHINE_TYPE,
    CONF_PENDING_KEY,
    CONF_UI_URL,
    DOMAIN,
)
from custom_components.fluxilab.diagnostics import redact_fingerprint
from custom_components.fluxilab.protocol.security import KeyPair
from custom_components.fluxilab.protocol.topics import Channel
from custom_components.fluxilab.repairs import async_create_maintenance_issue

from .conftest import DEVICE_ID
from .test_device import bring_online, send_sealed

UI_URL = "https://203.0.113.7:8443/hood-1/"
PENDING = KeyPair.generate().public_b64


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots the way Home Assistant core writes them (stable ids, snapshots/)."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture
async def diagnosed(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    mock_config_entry: MockConfigEntry,
    announce: dict[str, Any],
    device_keys: KeyPair,
) -> MockConfigEntry:
    """A running device with telemetry, a member at work and an open issue."""
    entry = mock_config_entry
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    engine = hass.data[ACCESS_ENGINE]
    fumehood = await engine.machine_types.async_create_item(
        {"name": "Fumehood", "maintenance_interval": 100}
    )
    hass.config_entries.async_update_entry(
        entry, options={CONF_MACHINE_TYPE: fumehood["id"], CONF_UI_URL: UI_URL}
    )
    await bring_online(hass, announce)
    await send_sealed(
        hass,
        device_keys,
        Channel.TELEMETRY,
        {"seq": 1, "ts": time.time(), "values": {"face_velocity": 0.52}},
    )
    entry.runtime_data.async_update_usage(
        in_use=True,
        member_name="Ada Lovelace",
        usage_hours=12.5,
        hours_to_maintenance=87.5,
        maintenance_due=False,
    )
    async_create_maintenance_issue(hass, entry, "Replace the filter")
    # Set last: a pending key stops trusting the device's messages.
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, CONF_PENDING_KEY: PENDING}
    )
    return entry


def _assert_no_secrets(result: Any, device_keys: KeyPair) -> None:
    text = json.dumps(result)
    for secret in (
        device_keys.public_b64,
        PENDING,
        "0000-0000-0000",
        "Ada Lovelace",
        "SN-0001",
        "203.0.113.7",
    ):
        assert secret not in text


async def test_entry_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    diagnosed: MockConfigEntry,
    device_keys: KeyPair,
    snapshot: SnapshotAssertion,
) -> None:
    result = await get_diagnostics_for_config_entry(hass, hass_client, diagnosed)
    assert result == snapshot
    _assert_no_secrets(result, device_keys)
    assert result["device"]["values"] == {"face_velocity": 0.52}
    assert result["entry"]["data"]["fingerprint"] == "0000-****-****"


async def test_device_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    diagnosed: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    device_keys: KeyPair,
    snapshot: SnapshotAssertion,
) -> None:
    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, DEVICE_ID), diagnosed.entry_id
    )
    assert device is not None
    result = await get_diagnostics_for_device(hass, hass_client, diagnosed, device)
    assert result == snapshot
    _assert_no_secrets(result, device_keys)


async def test_diagnostics_show_the_gateway_certificate_fingerprint(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    diagnosed: MockConfigEntry,
    announce: dict[str, Any],
) -> None:
    """Public (any client of the gateway gets the certificate), so not redacted."""
    fingerprint = ":".join(["A0"] * 32)
    await bring_online(hass, {**announce, "gateway_fingerprint": fingerprint})
    result = await get_diagnostics_for_config_entry(hass, hass_client, diagnosed)
    assert result["device"]["announce"]["gateway_fingerprint"] == fingerprint


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("", ""), ("3F9A-12C0-77EB", "3F9A-****-****")],
)
def test_redact_fingerprint(value: str | None, expected: str | None) -> None:
    assert redact_fingerprint(value) == expected
