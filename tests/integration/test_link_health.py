"""A device whose secure link is broken says so: entity, repair issue, panel data.

Two ways a link breaks: the hub's key pair is not the one the device pinned (the
device seals with keys the hub cannot derive: ``signature``), or the device has a
new key the admin has not confirmed (``untrusted_key``).
"""

from __future__ import annotations

import json
import time
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_mqtt_message,
)

from custom_components.fluxilab.access.engine import ACCESS_ENGINE
from custom_components.fluxilab.api.panel import device_status
from custom_components.fluxilab.const import DOMAIN
from custom_components.fluxilab.hub import async_get_hub_keys
from custom_components.fluxilab.link import BROKEN_AFTER, LinkHealth, LinkState
from custom_components.fluxilab.protocol.security import KeyPair, SessionKeys, seal
from custom_components.fluxilab.protocol.topics import Channel

from .conftest import DEVICE_ID, wire_announce

BASE = f"fluxilab/{DEVICE_ID}"
TELEMETRY = f"{BASE}/{Channel.TELEMETRY.value}"


def _telemetry(hass: HomeAssistant, keys: SessionKeys, seq: int) -> None:
    body = {"seq": seq, "ts": time.time(), "values": {"face_velocity": 0.5}}
    async_fire_mqtt_message(hass, TELEMETRY, json.dumps(seal(keys, TELEMETRY, body)))


def _link_entity(hass: HomeAssistant) -> str:
    entity_id = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{DEVICE_ID}_secure_link"
    )
    assert entity_id is not None
    return entity_id


def _link_issue(hass: HomeAssistant, entry: MockConfigEntry) -> ir.IssueEntry | None:
    return ir.async_get(hass).async_get_issue(DOMAIN, f"link_broken_{entry.entry_id}")


async def test_hub_key_changed_breaks_the_link_loudly(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device_keys: KeyPair,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The device pinned another hub key: entity, issue and panel say broken."""
    entry = init_integration
    hub = await async_get_hub_keys(hass)
    pinned_elsewhere = device_keys.derive(KeyPair.generate().public_b64)
    entity_id = _link_entity(hass)
    assert hass.states.get(entity_id).state == "unknown"

    for seq in range(1, BROKEN_AFTER):
        _telemetry(hass, pinned_elsewhere, seq)
    await hass.async_block_till_done()
    assert _link_issue(hass, entry) is None
    assert "secure link" not in caplog.text

    _telemetry(hass, pinned_elsewhere, BROKEN_AFTER)
    await hass.async_block_till_done()
    state = hass.states.get(entity_id)
    assert state.state == "broken"
    assert state.attributes["rejected_messages"] == BROKEN_AFTER
    assert state.attributes["last_rejection"] == "signature"
    assert entry.runtime_data.values == {}
    issue = _link_issue(hass, entry)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.translation_key == "link_broken"
    # The fingerprint the device logs once it pinned the hub's current key.
    assert issue.translation_placeholders == {
        "name": "Fumehood 1",
        "reason": "signature",
        "fingerprint": device_keys.derive(hub.public_b64).fingerprint,
    }
    assert f"The secure link to {DEVICE_ID} is broken" in caplog.text
    engine = hass.data.get(ACCESS_ENGINE)
    assert engine is not None
    assert device_status(hass, engine, entry.runtime_data)["link"] == "broken"

    # `fluxilab-agent pair --reset` on the device: it seals with the right keys.
    _telemetry(hass, device_keys.derive(hub.public_b64), BROKEN_AFTER + 1)
    await hass.async_block_till_done()
    assert hass.states.get(entity_id).state == "ok"
    assert _link_issue(hass, entry) is None
    assert entry.runtime_data.values == {"face_velocity": 0.5}
    assert device_status(hass, engine, entry.runtime_data)["link"] == "ok"


async def test_device_key_changed_breaks_the_link(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
) -> None:
    """A reinstalled device: its pairing issue, and the entity says why."""
    entry = init_integration
    hub = await async_get_hub_keys(hass)
    reinstalled = KeyPair.generate()
    announce["key"] = reinstalled.public_b64
    async_fire_mqtt_message(
        hass, f"{BASE}/announce", await wire_announce(hass, announce)
    )
    await hass.async_block_till_done()
    for seq in range(1, BROKEN_AFTER + 1):
        _telemetry(hass, reinstalled.derive(hub.public_b64), seq)
    await hass.async_block_till_done()

    state = hass.states.get(_link_entity(hass))
    assert state.state == "broken"
    assert state.attributes["last_rejection"] == "untrusted_key"
    assert state.attributes["rejected_messages"] == BROKEN_AFTER
    registry = ir.async_get(hass)
    assert registry.async_get_issue(DOMAIN, f"key_changed_{entry.entry_id}")
    # The pairing issue says what to do; no second issue for the same cause.
    assert _link_issue(hass, entry) is None


async def test_replayed_messages_do_not_break_the_link(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device_keys: KeyPair,
) -> None:
    """Replay protection refuses copies; the link itself is fine."""
    hub = await async_get_hub_keys(hass)
    keys = device_keys.derive(hub.public_b64)
    body = {"seq": 1, "ts": time.time(), "values": {"face_velocity": 0.5}}
    envelope = json.dumps(seal(keys, TELEMETRY, body))
    for _ in range(BROKEN_AFTER + 2):
        async_fire_mqtt_message(hass, TELEMETRY, envelope)
    await hass.async_block_till_done()
    state = hass.states.get(_link_entity(hass))
    assert state.state == "ok"
    assert state.attributes["rejected_messages"] == 0
    assert init_integration.runtime_data.counters["telemetry_rejected"] == (
        BROKEN_AFTER + 1
    )


def test_a_single_forged_message_between_good_ones_is_not_a_broken_link() -> None:
    link = LinkHealth()
    link.record_verified()
    assert link.record_rejection("signature")  # the first refusal is shown
    assert link.state is LinkState.OK
    link.record_verified()
    for _ in range(BROKEN_AFTER - 1):
        link.record_rejection("signature")
    assert link.state is LinkState.OK
    assert link.rejected == BROKEN_AFTER
    assert not link.record_rejection("stale")
    assert link.rejected == BROKEN_AFTER
