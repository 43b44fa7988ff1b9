"""What the hub mirrors for offline decisions, and generations that went back.

Issue 14, findings 6 and 8: the credential set carries the rules a device can
apply itself offline; a hub whose generation counter went back (restored backup)
notices a device ahead of it, tells the admin and resyncs; sets are not retained.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import async_fire_mqtt_message
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.fluxilab.access.const import (
    GENERATION_STORAGE_KEY,
    MACHINE_TYPES_STORAGE_KEY,
)
from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.const import DOMAIN
from custom_components.fluxilab.device.runtime import FluxiLabDevice
from custom_components.fluxilab.hub import async_get_hub_keys
from custom_components.fluxilab.protocol.security import KeyPair, seal
from custom_components.fluxilab.repairs import GENERATION_ROLLBACK
from tests.integration.conftest import DEVICE_ID

from .conftest import CREDENTIALS_TOPIC, MACHINE_TYPE, credential_sets

CARD = "04A1B2C3"
DOCS = Path(__file__).parents[3] / "docs"


async def _member(engine: AccessEngine, **auth: Any) -> dict[str, Any]:
    created = await engine.members.async_create_item({"name": "Ada", "cards": [CARD]})
    await engine.authorizations.async_create_item(
        {"member_id": created["id"], "machine_type_id": MACHINE_TYPE, **auth}
    )
    return created


async def test_set_carries_the_rules_a_device_checks_offline(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    mqtt_mock: MqttMockHAClient,
    device_keys: KeyPair,
) -> None:
    """Expiry, lab hours, supervisor, maintenance due, safety limits, policy, age."""
    expires = datetime(2030, 1, 31, 12, 0, tzinfo=UTC)
    ada = await _member(
        engine,
        expires=expires.isoformat(),
        window_start="08:00",
        window_end="18:30",
    )
    boss = await engine.members.async_create_item(
        {"name": "Boss", "cards": ["B055"], "role": "admin"}
    )
    await engine.machine_types.async_update_item(
        MACHINE_TYPE,
        {"requires_supervisor": True, "supervisor_minutes": 20},
    )
    await hass.async_block_till_done()
    latest = (await credential_sets(hass, mqtt_mock, device_keys))[-1]
    members = {m["id"]: m for m in latest["members"]}
    assert members[ada["id"]]["grants"] == [
        {"expires": expires.timestamp(), "window": ["08:00", "18:30"]}
    ]
    assert members[ada["id"]]["supervisor"] is False
    # An admin bypasses authorizations (no grants to check) and supervises.
    assert "grants" not in members[boss["id"]]
    assert members[boss["id"]]["supervisor"] is True
    offline = latest["offline"]
    # The fumehood has safety limits: offline it denies unless the admin allows.
    assert offline["policy"] == "deny"
    assert offline["max_age"] == 24 * 3600
    assert offline["tz"] == hass.config.time_zone
    assert offline["safety_limits"] == [{"channel": "face_velocity", "min": 0.4}]
    assert (offline["supervisor_required"], offline["supervisor_minutes"]) == (
        True,
        20,
    )
    assert offline["maintenance_due"] is False

    # The admin allows mirrored use for at most 2 h without the hub.
    await engine.machine_types.async_update_item(
        MACHINE_TYPE, {"offline_policy": "allow_mirrored", "offline_max_age": 2}
    )
    await hass.async_block_till_done()
    offline = (await credential_sets(hass, mqtt_mock, device_keys))[-1]["offline"]
    assert (offline["policy"], offline["max_age"]) == ("allow_mirrored", 7200)

    # Maintenance falls due (2 h plan, blocking type): the device learns it.
    engine.history.usage(DEVICE_ID)["since_maintenance"] = 3.0
    engine.publish_usage(device)
    await hass.async_block_till_done()
    assert device.maintenance_due is True
    offline = (await credential_sets(hass, mqtt_mock, device_keys))[-1]["offline"]
    assert offline["maintenance_due"] is True


async def test_expired_and_lapsed_authorizations_are_not_mirrored(
    hass: HomeAssistant,
    engine: AccessEngine,
    mqtt_mock: MqttMockHAClient,
    device_keys: KeyPair,
) -> None:
    """Of a member's authorizations, only usable ones travel, with their end."""
    ada = await _member(
        engine, expires=(datetime.now(UTC) - timedelta(days=1)).isoformat()
    )
    await engine.authorizations.async_create_item(
        {"member_id": ada["id"], "device_id": DEVICE_ID}
    )
    await hass.async_block_till_done()
    (entry,) = (await credential_sets(hass, mqtt_mock, device_keys))[-1]["members"]
    assert entry["grants"] == [{"expires": None}]


async def test_default_policy_follows_safety_limits(
    hass: HomeAssistant, engine: AccessEngine
) -> None:
    """New types: deny with safety limits, allow_mirrored without; both explicit."""
    laser = await engine.machine_types.async_create_item({"name": "Laser"})
    hood = await engine.machine_types.async_create_item(
        {"name": "Hood", "safety_limits": [{"channel": "face_velocity", "min": 0.4}]}
    )
    assert (laser["offline_policy"], laser["offline_max_age"]) == (
        "allow_mirrored",
        24.0,
    )
    assert hood["offline_policy"] == "deny"


async def test_machine_types_migrate_to_an_explicit_policy(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """A 1.1 store gets each type's default offline policy, nothing else changes."""
    hass_storage[MACHINE_TYPES_STORAGE_KEY] = {
        "version": 1,
        "minor_version": 1,
        "key": MACHINE_TYPES_STORAGE_KEY,
        "data": {
            "items": [
                {"id": "laser", "name": "Laser", "safety_limits": []},
                {
                    "id": "hood",
                    "name": "Hood",
                    "safety_limits": [{"channel": "face_velocity", "min": 0.4}],
                },
                {
                    "id": "kept",
                    "name": "Kept",
                    "safety_limits": [{"channel": "x", "max": 1.0}],
                    "offline_policy": "allow_mirrored",
                },
            ]
        },
    }
    engine = AccessEngine(hass)
    await engine.machine_types.async_load()
    data = engine.machine_types.data
    assert data["laser"]["offline_policy"] == "allow_mirrored"
    assert data["hood"]["offline_policy"] == "deny"
    assert data["kept"]["offline_policy"] == "allow_mirrored"


def _report_generation(
    hass: HomeAssistant, device_keys: KeyPair, hub_public: str, generation: int
) -> None:
    """The device refuses a set that is not newer than the one it holds (agent.py)."""
    topic = f"fluxilab/{DEVICE_ID}/command/result"
    body = {
        "id": "credentials-3",
        "ok": False,
        "error": f"credential generation 3 is not newer than the held {generation}",
        "generation": generation,
    }
    envelope = seal(device_keys.derive(hub_public), topic, body)
    async_fire_mqtt_message(hass, topic, json.dumps(envelope))


async def test_generation_rollback_is_detected_repaired_and_resynced(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    mqtt_mock: MqttMockHAClient,
    device_keys: KeyPair,
    hass_storage: dict[str, Any],
) -> None:
    """A device holding a newer set than the hub's counter: jump, repair, resend.

    Home Assistant restored from a backup counts from an older generation; the
    device ignores every set that is not newer than the one it holds, in silence.
    """
    await _member(engine)
    await hass.async_block_till_done()
    sent = await credential_sets(hass, mqtt_mock, device_keys)
    hub_generation = sent[-1]["generation"]
    # Saved at once (not after the history's delayed save).
    assert hass_storage[GENERATION_STORAGE_KEY]["data"] == {
        "generation": hub_generation
    }
    hub = await async_get_hub_keys(hass)
    issues = ir.async_get(hass)

    # A device at or behind the hub's counter: nothing happens.
    _report_generation(hass, device_keys, hub.public_b64, hub_generation)
    await hass.async_block_till_done()
    assert issues.async_get_issue(DOMAIN, GENERATION_ROLLBACK) is None
    assert len(await credential_sets(hass, mqtt_mock, device_keys)) == len(sent)

    # The device holds generation 500 from before the restore.
    _report_generation(hass, device_keys, hub.public_b64, 500)
    await hass.async_block_till_done()
    issue = issues.async_get_issue(DOMAIN, GENERATION_ROLLBACK)
    assert issue is not None
    assert issue.translation_placeholders == {
        "name": device.entry.title,
        "device_generation": "500",
        "hub_generation": str(hub_generation),
    }
    resent = (await credential_sets(hass, mqtt_mock, device_keys))[-1]
    assert resent["generation"] > 500  # the device installs it
    assert [m["name"] for m in resent["members"]] == ["Ada"]
    assert engine.sync.generation == resent["generation"]
    assert hass_storage[GENERATION_STORAGE_KEY]["data"] == {
        "generation": resent["generation"]
    }


async def test_credential_sets_are_never_retained(
    hass: HomeAssistant,
    engine: AccessEngine,
    mqtt_mock: MqttMockHAClient,
    device_keys: KeyPair,
) -> None:
    """Code and PROTOCOL.md agree: signed messages (credential sets too) expire.

    A retained set would be stale (older than the replay window) for a device that
    reconnects after two minutes anyway; the hub sends the current set on every
    (re)connect instead, and clears once what an older hub retained.
    """
    await _member(engine)
    await hass.async_block_till_done()
    published = [
        (call.args[1], call.args[3])
        for call in mqtt_mock.async_publish.call_args_list
        if call.args[0] == CREDENTIALS_TOPIC
    ]
    assert published[0] == ("", True)  # the clear of a legacy retained set
    assert len(published) > 1
    assert all(retain is False for payload, retain in published if payload)
    row = next(
        line
        for line in (DOCS / "PROTOCOL.md").read_text().splitlines()
        if line.startswith("| `<base>/<id>/credentials` |")
    )
    assert row.split("|")[3].strip() == "no"
    access = (DOCS / "ACCESS.md").read_text()
    assert "encrypted and retained" not in access
