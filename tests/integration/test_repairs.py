"""Repair issues: confirming a changed pairing key, maintenance due."""

from __future__ import annotations

import json
import time
from typing import Any

from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_mqtt_message,
)
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.fluxilab.const import (
    CONF_DEVICE_KEY,
    CONF_FINGERPRINT,
    CONF_PENDING_KEY,
    DOMAIN,
)
from custom_components.fluxilab.hub import async_get_hub_keys
from custom_components.fluxilab.protocol.security import KeyPair, seal
from custom_components.fluxilab.protocol.topics import Channel
from custom_components.fluxilab.repairs import (
    async_create_maintenance_issue,
    async_delete_key_changed_issue,
    async_delete_maintenance_issue,
)

from .conftest import DEVICE_ID, wire_announce

BASE = f"fluxilab/{DEVICE_ID}"


@pytest.fixture
async def repairs(hass: HomeAssistant) -> None:
    """Set up the repairs integration (its flow manager)."""
    assert await async_setup_component(hass, "repairs", {})


async def _announce(hass: HomeAssistant, announce: dict[str, Any]) -> None:
    async_fire_mqtt_message(
        hass, f"{BASE}/announce", await wire_announce(hass, announce)
    )
    async_fire_mqtt_message(hass, f"{BASE}/status", "online")
    await hass.async_block_till_done()


async def _telemetry(hass: HomeAssistant, keys: KeyPair, seq: int) -> None:
    hub = await async_get_hub_keys(hass)
    topic = f"{BASE}/{Channel.TELEMETRY.value}"
    body = {"seq": seq, "ts": time.time(), "values": {"face_velocity": 0.4}}
    envelope = seal(keys.derive(hub.public_b64), topic, body)
    async_fire_mqtt_message(hass, topic, json.dumps(envelope))
    await hass.async_block_till_done()


def _key_issue(hass: HomeAssistant, entry: MockConfigEntry) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, f"key_changed_{entry.entry_id}")


async def test_changed_key_is_trusted_only_after_confirmation(
    hass: HomeAssistant,
    repairs: None,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
) -> None:
    entry = init_integration
    hub = await async_get_hub_keys(hass)
    new_device = KeyPair.generate()
    new_fingerprint = new_device.derive(hub.public_b64).fingerprint
    announce["key"] = new_device.public_b64
    await _announce(hass, announce)

    issue = _key_issue(hass, entry)
    assert issue is not None
    assert issue.is_fixable
    assert issue.is_persistent
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.translation_key == "key_changed"
    assert issue.translation_placeholders == {
        "name": "Fumehood 1",
        "old_fingerprint": "0000-0000-0000",
        "new_fingerprint": new_fingerprint,
    }
    # Until the admin confirms, the new key is not trusted.
    await _telemetry(hass, new_device, 1)
    assert entry.runtime_data.counters["telemetry_rejected"] == 1
    assert entry.runtime_data.values == {}

    manager = repairs_flow_manager(hass)
    assert manager is not None
    result = await manager.async_init(DOMAIN, data={"issue_id": issue.issue_id})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "confirm"
    assert result["description_placeholders"] == issue.translation_placeholders
    assert entry.data[CONF_DEVICE_KEY] != new_device.public_b64

    result = await manager.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert _key_issue(hass, entry) is None
    assert entry.data[CONF_DEVICE_KEY] == new_device.public_b64
    assert entry.data[CONF_FINGERPRINT] == new_fingerprint
    assert CONF_PENDING_KEY not in entry.data
    # Reloaded with the confirmed key: the device's messages count again.
    assert entry.state is ConfigEntryState.LOADED
    await _announce(hass, announce)
    await _telemetry(hass, new_device, 2)
    assert entry.runtime_data.values == {"face_velocity": 0.4}
    assert _key_issue(hass, entry) is None


async def test_device_added_by_id_asks_for_first_pairing(
    hass: HomeAssistant,
    repairs: None,
    mqtt_mock: MqttMockHAClient,
    mock_config_entry: MockConfigEntry,
    announce: dict[str, Any],
    device_keys: KeyPair,
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="hood-1",
        unique_id=DEVICE_ID,
        data={**mock_config_entry.data, CONF_DEVICE_KEY: None, CONF_FINGERPRINT: None},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await _announce(hass, announce)
    issue = _key_issue(hass, entry)
    assert issue is not None
    assert issue.translation_key == "pairing_required"
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.translation_placeholders["old_fingerprint"] == "-"

    manager = repairs_flow_manager(hass)
    assert manager is not None
    result = await manager.async_init(DOMAIN, data={"issue_id": issue.issue_id})
    result = await manager.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.data[CONF_DEVICE_KEY] == device_keys.public_b64
    await _announce(hass, announce)
    assert entry.runtime_data.keys is not None


async def test_superseded_key_cannot_be_confirmed(
    hass: HomeAssistant,
    repairs: None,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
    device_keys: KeyPair,
) -> None:
    entry = init_integration
    announce["key"] = KeyPair.generate().public_b64
    await _announce(hass, announce)
    issue = _key_issue(hass, entry)
    assert issue is not None
    manager = repairs_flow_manager(hass)
    assert manager is not None
    result = await manager.async_init(DOMAIN, data={"issue_id": issue.issue_id})
    assert result["type"] is FlowResultType.FORM

    # While the admin looks, the device announces a third key.
    third = KeyPair.generate()
    announce["key"] = third.public_b64
    await _announce(hass, announce)
    result = await manager.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "key_superseded"
    assert entry.data[CONF_DEVICE_KEY] == device_keys.public_b64
    # The issue now asks about the newest key.
    issue = _key_issue(hass, entry)
    assert issue is not None
    assert issue.data == {"entry_id": entry.entry_id, "key": third.public_b64}


async def test_issue_of_removed_device_closes(
    hass: HomeAssistant,
    repairs: None,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
) -> None:
    entry = init_integration
    announce["key"] = KeyPair.generate().public_b64
    await _announce(hass, announce)
    issue = _key_issue(hass, entry)
    assert issue is not None
    # The entry disappears without its removal hook (e.g. storage edited by hand).
    await hass.config_entries.async_unload(entry.entry_id)
    hass.config_entries._entries.pop(entry.entry_id)
    manager = repairs_flow_manager(hass)
    assert manager is not None
    result = await manager.async_init(DOMAIN, data={"issue_id": issue.issue_id})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "device_removed"
    assert _key_issue(hass, entry) is None


async def test_key_issue_can_be_withdrawn(
    hass: HomeAssistant, init_integration: MockConfigEntry, announce: dict[str, Any]
) -> None:
    announce["key"] = KeyPair.generate().public_b64
    await _announce(hass, announce)
    assert _key_issue(hass, init_integration) is not None
    async_delete_key_changed_issue(hass, init_integration)
    assert _key_issue(hass, init_integration) is None


async def test_maintenance_issue(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    issue_id = f"maintenance_due_{init_integration.entry_id}"
    registry = ir.async_get(hass)
    async_create_maintenance_issue(
        hass, init_integration, "Replace the HEPA filter https://wiki.lab/hepa"
    )
    issue = registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert not issue.is_fixable
    assert issue.translation_key == "maintenance_due"
    assert issue.translation_placeholders == {
        "name": "Fumehood 1",
        "description": "Replace the HEPA filter https://wiki.lab/hepa",
    }
    async_create_maintenance_issue(hass, init_integration, "")
    issue = registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders["description"] == "-"
    async_delete_maintenance_issue(hass, init_integration)
    assert registry.async_get_issue(DOMAIN, issue_id) is None
