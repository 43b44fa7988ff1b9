"""Snapshots of the sensor and binary sensor entities of a device with telemetry."""

from __future__ import annotations

import time
from typing import Any
from unittest.mock import patch

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    snapshot_platform,
)
from pytest_homeassistant_custom_component.syrupy import (
    HomeAssistantSnapshotExtension,
)
from pytest_homeassistant_custom_component.typing import MqttMockHAClient
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from custom_components.fluxilab.protocol.security import KeyPair
from custom_components.fluxilab.protocol.topics import Channel

from .test_device import bring_online, send_sealed

NEWER_REGISTRY_FIELDS = ("compat_name",)
"""Entity registry fields of Home Assistant releases after the pinned one (2026.11
added ``compat_name``, the name an entity had before a rename, kept for its users).
The snapshots hold what the pinned release has; these are checked on their own."""


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots the way Home Assistant core writes them (stable ids, snapshots/).

    The same snapshots serve the pinned and the newest Home Assistant (CI runs both):
    registry fields newer than the pinned release are left out of them and checked
    in the test instead.
    """
    return snapshot.use_extension(HomeAssistantSnapshotExtension).with_defaults(
        exclude=props(*NEWER_REGISTRY_FIELDS)
    )


@pytest.mark.parametrize("platform", [Platform.SENSOR, Platform.BINARY_SENSOR])
async def test_entities(
    hass: HomeAssistant,
    platform: Platform,
    mqtt_mock: MqttMockHAClient,
    mock_config_entry: MockConfigEntry,
    announce: dict[str, Any],
    device_keys: KeyPair,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    announce["capabilities"]["channels"] += [
        {"key": "fan_running", "name": "Fan", "type": "bool"},
        {
            "key": "door_open",
            "name": "Door open",
            "type": "bool",
            "device_class": "door",
        },
        {
            "key": "temperature",
            "name": "Temperature",
            "type": "float",
            "unit": "°C",
            "device_class": "temperature",
        },
        {
            "key": "cycles",
            "name": "Cycles",
            "type": "int",
            "state_class": "total_increasing",
        },
    ]
    mock_config_entry.add_to_hass(hass)
    with patch("custom_components.fluxilab.PLATFORMS", [platform]):
        assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
        await bring_online(hass, announce)
    values = {
        "face_velocity": 0.52,
        "fan_running": True,
        "door_open": False,
        "temperature": 21.5,
        "cycles": 42,
    }
    await send_sealed(
        hass,
        device_keys,
        Channel.TELEMETRY,
        {"seq": 1, "ts": time.time(), "values": values},
    )
    await snapshot_platform(hass, entity_registry, snapshot, mock_config_entry.entry_id)
    # Nothing was renamed: a release that has the newer fields leaves them empty.
    for entry in er.async_entries_for_config_entry(
        entity_registry, mock_config_entry.entry_id
    ):
        for field in NEWER_REGISTRY_FIELDS:
            assert getattr(entry, field, None) is None, (entry.entity_id, field)
