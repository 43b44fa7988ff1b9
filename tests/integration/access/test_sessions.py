"""Sessions, buffered merge, offline timeout, maintenance, credential sync."""

from __future__ import annotations

from datetime import timedelta
import json
import time
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_fire_mqtt_message,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.fluxilab.access.const import SIGNAL_DEVICE_FREE
from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.const import DOMAIN, EVENT_ACCESS
from custom_components.fluxilab.device.runtime import FluxiLabDevice
from custom_components.fluxilab.protocol.access import AccessRecord
from custom_components.fluxilab.protocol.security import KeyPair
from custom_components.fluxilab.repairs import maintenance_issue_id

from .conftest import MACHINE_TYPE, answer_request, credential_sets

CARD = "04AABBCC"


async def member(engine: AccessEngine, **extra: Any) -> dict[str, Any]:
    created = await engine.members.async_create_item(
        {"name": "Ada", "cards": [CARD], **extra}
    )
    await engine.authorizations.async_create_item(
        {"member_id": created["id"], "machine_type_id": MACHINE_TYPE}
    )
    return created


async def test_session_start_heartbeat_stop(
    hass: HomeAssistant, engine: AccessEngine, device: FluxiLabDevice
) -> None:
    device.values["face_velocity"] = 0.6
    events = async_capture_events(hass, EVENT_ACCESS)
    await member(engine)
    reply = await answer_request(
        engine,
        device,
        {"id": "a", "action": "session_start", "card": CARD, "session_id": "s1"},
    )
    assert (reply["granted"], reply["session_id"]) == (True, "s1")
    await hass.async_block_till_done()  # the usage state follows the reply
    assert device.in_use is True
    assert device.member_name == "Ada"
    reply = await answer_request(
        engine,
        device,
        {"id": "b", "action": "session_heartbeat", "session_id": "s1", "duration": 60},
    )
    assert reply["reason"] == "session_updated"
    reply = await answer_request(
        engine,
        device,
        {"id": "c", "action": "session_stop", "session_id": "s1", "duration": 3600},
    )
    assert reply["reason"] == "session_ended"
    assert device.in_use is False
    assert device.usage_hours == 1.0
    assert device.hours_to_maintenance == 1.0
    await hass.async_block_till_done()
    types = [e.data["type"] for e in events]
    assert types == ["granted", "session_started", "session_ended"]
    assert events[-1].data["duration"] == 3600
    reply = await answer_request(
        engine, device, {"id": "d", "action": "session_heartbeat", "session_id": "s1"}
    )
    assert reply["reason"] == "session_unknown"


async def test_device_free_signal_once_when_last_session_ends(
    hass: HomeAssistant, engine: AccessEngine, device: FluxiLabDevice
) -> None:
    """SIGNAL_DEVICE_FREE fires when the device goes from in use to free, once."""
    device.values["face_velocity"] = 0.6
    freed: list[str] = []

    @callback
    def _freed(device_id: str) -> None:
        freed.append(device_id)

    unsub = async_dispatcher_connect(hass, SIGNAL_DEVICE_FREE, _freed)
    await member(engine)
    for session_id in ("s1", "s2"):
        await answer_request(
            engine,
            device,
            {
                "id": session_id,
                "action": "session_start",
                "card": CARD,
                "session_id": session_id,
            },
        )
    assert freed == []
    await answer_request(
        engine, device, {"id": "x", "action": "session_stop", "session_id": "s1"}
    )
    assert freed == []  # s2 still runs
    await answer_request(
        engine, device, {"id": "y", "action": "session_stop", "session_id": "s2"}
    )
    await answer_request(
        engine, device, {"id": "z", "action": "session_stop", "session_id": "s2"}
    )
    engine.publish_usage(device)
    assert freed == [device.device_id]
    unsub()


async def test_buffered_records_merge(
    hass: HomeAssistant, engine: AccessEngine, device: FluxiLabDevice
) -> None:
    events = async_capture_events(hass, EVENT_ACCESS)
    await member(engine)
    start = time.time() - 7200
    records = [
        (
            {
                "action": "session_start",
                "card": CARD,
                "granted": True,
                "offline": True,
                "session_id": "s9",
            },
            start,
        ),
        (
            {"action": "session_heartbeat", "session_id": "s9", "duration": 1800},
            start + 1800,
        ),
        (
            {"action": "session_stop", "session_id": "s9", "duration": 3600},
            start + 3600,
        ),
    ]
    for _ in range(2):  # the whole batch replayed twice
        for event, ts in records:
            await engine.async_handle_record(
                device, AccessRecord.from_wire(event), ts, True
            )
    matching = [s for s in engine.history.data["sessions"] if s.session_id == "s9"]
    assert len(matching) == 1
    assert matching[0].duration == 3600
    assert matching[0].start == start
    assert device.usage_hours == 1.0
    await hass.async_block_till_done()
    types = [e.data["type"] for e in events]
    assert types.count("session_started") == 1
    assert types.count("session_ended") == 1
    assert types[0] == "offline_granted"
    assert all(e.data["buffered"] for e in events)


async def test_stop_record_of_unseen_session(
    engine: AccessEngine, device: FluxiLabDevice
) -> None:
    await member(engine)
    now = time.time()
    await engine.async_handle_record(
        device,
        AccessRecord.from_wire(
            {
                "action": "session_stop",
                "session_id": "lost",
                "card": CARD,
                "duration": 1800,
            }
        ),
        now,
        True,
    )
    session = engine.history.session("lost")
    assert session is not None
    assert session.start == now - 1800
    assert session.member_name == "Ada"
    assert device.usage_hours == 0.5


async def test_offline_device_session_closed_after_timeout_then_reconciled(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    freezer: FrozenDateTimeFactory,
) -> None:
    device.values["face_velocity"] = 0.6
    await member(engine)
    await answer_request(
        engine,
        device,
        {"id": "a", "action": "session_start", "card": CARD, "session_id": "s2"},
    )
    async_fire_mqtt_message(hass, "fluxilab/hood-1/status", "offline")
    await hass.async_block_till_done()
    freezer.tick(timedelta(seconds=700))  # timeout is 600 s
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    session = engine.history.session("s2")
    assert session is not None
    assert session.closed_by == "timeout"
    assert device.in_use is False
    # The device returns and replays its own stop: its duration wins, not doubled.
    async_fire_mqtt_message(hass, "fluxilab/hood-1/status", "online")
    await hass.async_block_till_done()
    await engine.async_handle_record(
        device,
        AccessRecord.from_wire(
            {"action": "session_stop", "session_id": "s2", "duration": 360}
        ),
        time.time(),
        True,
    )
    assert session.duration == 360
    assert session.closed_by == "device"
    assert device.usage_hours == 0.1


async def test_open_session_closed_on_reconnect(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    freezer: FrozenDateTimeFactory,
) -> None:
    device.values["face_velocity"] = 0.6
    await member(engine)
    await answer_request(
        engine,
        device,
        {"id": "a", "action": "session_start", "card": CARD, "session_id": "s3"},
    )
    async_fire_mqtt_message(hass, "fluxilab/hood-1/status", "offline")
    await hass.async_block_till_done()
    freezer.tick(timedelta(seconds=650))
    async_fire_mqtt_message(hass, "fluxilab/hood-1/status", "online")
    await hass.async_block_till_done()
    session = engine.history.session("s3")
    assert session is not None
    assert session.closed_by == "reconnect"


async def test_maintenance_due_and_reset(
    hass: HomeAssistant, engine: AccessEngine, device: FluxiLabDevice
) -> None:
    events = async_capture_events(hass, EVENT_ACCESS)
    staff = await member(engine, role="staff")
    await engine.async_handle_record(
        device,
        AccessRecord.from_wire(
            {"action": "session_stop", "session_id": "x", "duration": 7300}
        ),
        time.time(),
        False,
    )
    assert device.maintenance_due is True
    issues = ir.async_get(hass)
    assert (
        issues.async_get_issue(DOMAIN, maintenance_issue_id(device.entry)) is not None
    )
    reply = await answer_request(
        engine, device, {"id": "m", "action": "maintenance", "card": CARD}
    )
    assert (reply["granted"], reply["reason"]) == (True, "maintenance_recorded")
    assert device.maintenance_due is False
    assert issues.async_get_issue(DOMAIN, maintenance_issue_id(device.entry)) is None
    assert device.hours_to_maintenance == 2.0
    await hass.async_block_till_done()
    assert events[-1].data["type"] == "maintenance_recorded"
    assert events[-1].data["member_id"] == staff["id"]
    await engine.members.async_update_item(staff["id"], {"role": "user"})
    reply = await answer_request(
        engine, device, {"id": "n", "action": "maintenance", "card": CARD}
    )
    assert reply["reason"] == "not_allowed"


async def test_credential_sets_per_device_and_resync(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    mqtt_mock: MqttMockHAClient,
    device_keys: KeyPair,
) -> None:
    allowed = await member(engine, pin="123456")
    other = await engine.members.async_create_item({"name": "Bob", "cards": ["B0B"]})
    await hass.async_block_till_done()
    sets = await credential_sets(hass, mqtt_mock, device_keys)
    latest = sets[-1]
    assert [m["id"] for m in latest["members"]] == [allowed["id"]]
    entry = latest["members"][0]
    assert entry["cards"] == [CARD]
    assert entry["pin_hash"].startswith("$2b$")
    assert (entry["level"], entry["maintenance"]) == ("user", False)
    assert (latest["timeout"], latest["grace"]) == (600.0, 30.0)
    generations = [s["generation"] for s in sets]
    assert generations == sorted(set(generations))
    # Authorizing Bob publishes a new set with him in it.
    await engine.authorizations.async_create_item(
        {"member_id": other["id"], "device_id": "hood-1"}
    )
    await hass.async_block_till_done()
    latest = (await credential_sets(hass, mqtt_mock, device_keys))[-1]
    assert {m["name"] for m in latest["members"]} == {"Ada", "Bob"}
    # Deactivating Ada removes her from the mirror.
    await engine.members.async_update_item(allowed["id"], {"active": False})
    latest = (await credential_sets(hass, mqtt_mock, device_keys))[-1]
    assert [m["name"] for m in latest["members"]] == ["Bob"]
    # Nothing changed: nothing is published.
    count = len(await credential_sets(hass, mqtt_mock, device_keys))
    await engine.sync.async_sync_all()
    assert len(await credential_sets(hass, mqtt_mock, device_keys)) == count
    # A reconnecting device gets the current set again.
    async_fire_mqtt_message(hass, "fluxilab/hood-1/status", "offline")
    async_fire_mqtt_message(hass, "fluxilab/hood-1/status", "online")
    await hass.async_block_till_done()
    assert len(await credential_sets(hass, mqtt_mock, device_keys)) == count + 1
    assert json.dumps(latest)  # plain JSON the agent can store
