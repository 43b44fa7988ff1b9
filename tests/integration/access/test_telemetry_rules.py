"""Items 7 and 8 of issue 9: condition-based maintenance and busy/idle from telemetry."""

from __future__ import annotations

from datetime import datetime, timedelta
import itertools
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_mqtt_message,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.fluxilab.access.const import SIGNAL_DEVICE_FREE
from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.access.history import AccessHistory
from custom_components.fluxilab.api.panel import device_status
from custom_components.fluxilab.const import DOMAIN, EVENT_ACCESS
from custom_components.fluxilab.device.runtime import FluxiLabDevice
from custom_components.fluxilab.diagnostics import async_get_config_entry_diagnostics
from custom_components.fluxilab.logbook import describe_access
from custom_components.fluxilab.protocol.security import KeyPair
from custom_components.fluxilab.protocol.topics import Channel
from custom_components.fluxilab.repairs import maintenance_issue_id
from tests.integration.test_device import send_sealed

from .conftest import MACHINE_TYPE, answer_request

CARD = "04AABBCC"
_SEQ = itertools.count(1)


async def telemetry(hass: HomeAssistant, keys: KeyPair, values: dict[str, Any]) -> None:
    """Send one live telemetry message, as the agent does."""
    body = {"seq": next(_SEQ), "ts": dt_util.utcnow().timestamp(), "values": values}
    await send_sealed(hass, keys, Channel.TELEMETRY, body)


async def set_rules(engine: AccessEngine, hass: HomeAssistant, **fields: Any) -> None:
    """Give the fumehood's machine type telemetry rules."""
    await engine.machine_types.async_update_item(MACHINE_TYPE, fields)
    await hass.async_block_till_done()


async def ada(engine: AccessEngine, **extra: Any) -> dict[str, Any]:
    """An authorized member with a card."""
    created = await engine.members.async_create_item(
        {"name": "Ada", "cards": [CARD], **extra}
    )
    await engine.authorizations.async_create_item(
        {"member_id": created["id"], "machine_type_id": MACHINE_TYPE}
    )
    return created


def types_of(events: list[Any]) -> list[str]:
    """Types of the captured fluxilab_access events."""
    return [event.data["type"] for event in events]


async def wait(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float
) -> None:
    """Let ``seconds`` pass and run the timers that became due."""
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


async def test_busy_with_delay_ignores_flapping(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    device_keys: KeyPair,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Item 8: busy above the threshold, idle only after busy_delay below it."""
    await set_rules(engine, hass, busy_channel="spindle", busy_above=1.0, busy_delay=30)
    events = async_capture_events(hass, EVENT_ACCESS)
    freed: list[str] = []

    @callback
    def _freed(device_id: str) -> None:
        freed.append(device_id)

    unsub = async_dispatcher_connect(hass, SIGNAL_DEVICE_FREE, _freed)
    await telemetry(hass, device_keys, {"spindle": 2.5})
    assert engine.telemetry_rules.is_busy(device.device_id)
    assert device.in_use is True
    assert device_status(hass, engine, device)["busy"] is True
    assert hass.states.get("binary_sensor.fumehood_1_in_use").state == "on"
    await wait(hass, freezer, 10)
    await telemetry(hass, device_keys, {"spindle": 0.2})  # a short dip
    await wait(hass, freezer, 20)
    await telemetry(hass, device_keys, {"spindle": 3.0})  # back before the delay
    await wait(hass, freezer, 40)
    assert device.in_use is True
    await telemetry(hass, device_keys, {"spindle": 0.0})
    await wait(hass, freezer, 29)
    assert device.in_use is True
    assert freed == []
    await wait(hass, freezer, 2)
    assert device.in_use is False
    assert hass.states.get("binary_sensor.fumehood_1_in_use").state == "off"
    assert freed == [device.device_id]
    assert types_of(events) == ["busy_started", "busy_ended"]
    # The period ends when the spindle stopped, not when the delay ran out.
    assert events[-1].data["duration"] == 70
    assert device.usage_hours == round(70 / 3600, 3)
    booked = [s for s in engine.history.data["sessions"] if s.closed_by == "idle"]
    assert [(s.duration, s.member_id) for s in booked] == [(70, None)]
    assert describe_access(events[0].data) == "started working (telemetry)"
    assert describe_access(events[1].data) == "is idle again (telemetry) after 1 min"
    unsub()


async def test_busy_and_session_are_counted_once(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    device_keys: KeyPair,
    freezer: FrozenDateTimeFactory,
    hass_admin_user: Any,
) -> None:
    """Item 8: busy time overlapping a session is not booked twice; events name Ada."""
    await set_rules(engine, hass, busy_channel="spindle", busy_above=1, busy_delay=0)
    member = await ada(engine, user_id=hass_admin_user.id)
    events = async_capture_events(hass, EVENT_ACCESS)
    device.values["face_velocity"] = 0.6
    reply = await answer_request(
        engine,
        device,
        {"id": "a", "action": "session_start", "card": CARD, "session_id": "s1"},
    )
    assert reply["granted"]
    await wait(hass, freezer, 60)
    await telemetry(hass, device_keys, {"spindle": 5, "face_velocity": 0.6})
    await wait(hass, freezer, 540)
    # The member leaves without logging off on the machine: the device stops the
    # session at 600 s, the spindle runs on for another 600 s.
    await answer_request(
        engine,
        device,
        {"id": "b", "action": "session_stop", "session_id": "s1", "duration": 600},
    )
    assert device.in_use is True
    assert device.member_name == "Ada"
    await wait(hass, freezer, 600)
    await telemetry(hass, device_keys, {"spindle": 0})
    assert device.in_use is False
    # 600 s of session + 600 s busy without a session; the 540 s overlap once.
    assert device.usage_hours == round(1200 / 3600, 3)
    busy = [e.data for e in events if e.data["type"].startswith("busy")]
    assert [e["type"] for e in busy] == ["busy_started", "busy_ended"]
    for data in busy:
        assert data["member_id"] == member["id"]
        assert data["member_name"] is None  # names are off by default
        assert data["card"] == engine.privacy.card(CARD)
        assert data["user_id"] == hass_admin_user.id
        assert data["fluxilab_device"] == device.device_id
        assert data["device_id"] is not None
    assert busy[1]["duration"] == 1140
    assert describe_access(busy[0]) == ("started working (telemetry), used by a member")
    assert (
        describe_access(busy[1])
        == "is idle again (telemetry) after 19 min, used by a member"
    )


async def test_replayed_telemetry_never_starts_busy(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    device_keys: KeyPair,
) -> None:
    """Item 8: buffered backlog goes to statistics only, not to the busy state."""
    await set_rules(engine, hass, busy_channel="spindle", busy_above=1)
    ts = dt_util.utcnow().timestamp() - 60
    await send_sealed(
        hass,
        device_keys,
        Channel.BACKLOG,
        {
            "records": [
                {
                    "seq": next(_SEQ),
                    "ts": ts,
                    "kind": "telemetry",
                    "values": {"spindle": 9},
                }
            ]
        },
    )
    await hass.async_block_till_done()
    assert not engine.telemetry_rules.is_busy(device.device_id)
    assert device.in_use is False


async def test_offline_while_busy_ends_at_last_reading(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    device_keys: KeyPair,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Item 8: a device that goes offline while busy is idle from its last reading."""
    await set_rules(engine, hass, busy_channel="spindle", busy_above=1)
    events = async_capture_events(hass, EVENT_ACCESS)
    await telemetry(hass, device_keys, {"spindle": 4})
    await wait(hass, freezer, 120)
    await telemetry(hass, device_keys, {"spindle": 4})
    await wait(hass, freezer, 300)
    async_fire_mqtt_message(hass, f"fluxilab/{device.device_id}/status", "offline")
    await hass.async_block_till_done()
    assert device.in_use is False
    assert events[-1].data["type"] == "busy_ended"
    assert events[-1].data["duration"] == 120


async def test_channel_hours_due_blocks_and_maintenance_resets(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    device_keys: KeyPair,
    freezer: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
) -> None:
    """Item 7: hours with the fan running make maintenance due, block, then reset."""
    await set_rules(
        engine,
        hass,
        maintenance_conditions=[
            {"kind": "channel_hours", "channel": "fan_running", "hours": 1}
        ],
    )
    await ada(engine)
    await telemetry(hass, device_keys, {"fan_running": True, "face_velocity": 0.6})
    for _ in range(5):
        await wait(hass, freezer, 600)
        await telemetry(hass, device_keys, {"fan_running": True})
    progress = engine.telemetry_rules.conditions(device)
    assert progress[0].value == pytest.approx(50 / 60, abs=1e-3)
    assert not device.maintenance_due
    # Off time and silent gaps (device gone for longer than 15 min) do not count.
    await wait(hass, freezer, 600)
    await telemetry(hass, device_keys, {"fan_running": False})
    await wait(hass, freezer, 600)
    await telemetry(hass, device_keys, {"fan_running": True})
    await wait(hass, freezer, 3600)
    await telemetry(hass, device_keys, {"fan_running": True})
    assert engine.telemetry_rules.conditions(device)[0].value == pytest.approx(
        1, abs=1e-3
    )
    assert not device.maintenance_due
    await wait(hass, freezer, 600)
    await telemetry(hass, device_keys, {"fan_running": True})
    assert device.maintenance_due
    assert hass.states.get("binary_sensor.fumehood_1_maintenance_due").state == "on"
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, maintenance_issue_id(init_integration)
    )
    assert issue is not None
    assert issue.translation_key == "maintenance_condition_due"
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["conditions"] == "- fan_running > 0.5: 1 h"
    reply = await answer_request(
        engine,
        device,
        {"id": "x", "action": "session_start", "card": CARD, "session_id": "s"},
    )
    assert (reply["granted"], reply["reason"]) == (False, "maintenance_due")
    diagnostics = await async_get_config_entry_diagnostics(hass, init_integration)
    assert diagnostics["telemetry_rules"]["conditions"][0]["due"] is True
    (shown,) = device_status(hass, engine, device)["maintenance_conditions"]
    assert (shown["text"], shown["due"], shown["target"]) == (
        "fan_running > 0.5: 1 h",
        True,
        1,
    )

    await engine.async_record_maintenance(device)
    assert not device.maintenance_due
    assert (
        ir.async_get(hass).async_get_issue(
            DOMAIN, maintenance_issue_id(init_integration)
        )
        is None
    )
    assert engine.telemetry_rules.conditions(device)[0].value == 0
    reply = await answer_request(
        engine, device, {"id": "y", "action": "check", "card": CARD}
    )
    assert reply["granted"]


async def test_below_baseline_over_days(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    device_keys: KeyPair,
    freezer: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
) -> None:
    """Item 7: due after N local days whose mean stayed below the baseline."""
    await set_rules(
        engine,
        hass,
        maintenance_conditions=[
            {
                "kind": "below_baseline",
                "channel": "face_velocity",
                "baseline": 0.5,
                "days": 2,
            }
        ],
    )
    start = dt_util.start_of_local_day(dt_util.now() + timedelta(days=1))

    async def day(offset: int, values: list[float]) -> None:
        freezer.move_to(start + timedelta(days=offset, hours=10))
        for value in values:
            await telemetry(hass, device_keys, {"face_velocity": value})

    async def midnight(offset: int) -> None:
        moment: datetime = start + timedelta(days=offset + 1, seconds=1)
        freezer.move_to(moment)
        async_fire_time_changed(hass, moment)
        await hass.async_block_till_done()

    await day(0, [0.3, 0.6])  # mean 0.45: below
    await midnight(0)
    assert engine.telemetry_rules.conditions(device)[0].value == 1
    # Day 1 has no data: not below, the run starts again.
    await day(2, [0.2, 0.4])
    await midnight(2)
    assert not device.maintenance_due
    assert engine.telemetry_rules.conditions(device)[0].value == 1
    await day(3, [0.9, 0.05])  # mean 0.475
    assert not device.maintenance_due  # the day is not over yet
    await midnight(3)
    assert device.maintenance_due
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, maintenance_issue_id(init_integration)
    )
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["conditions"] == (
        "- face_velocity < 0.5: 2 d"
    )
    # A good day later does not clear it: only recorded maintenance does.
    await day(4, [0.8])
    await midnight(4)
    assert device.maintenance_due
    await engine.async_record_maintenance(device)
    assert not device.maintenance_due


async def test_no_rules_means_no_listener(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    device_keys: KeyPair,
) -> None:
    """Devices of types without rules cost telemetry nothing; rules attach live."""
    assert device._telemetry_listeners == []
    await set_rules(engine, hass, busy_channel="spindle")
    assert len(device._telemetry_listeners) == 1
    await telemetry(hass, device_keys, {"spindle": 3})
    assert device.in_use is True
    # Removing busy detection from the type ends the busy period at once.
    await set_rules(engine, hass, busy_channel=None)
    assert device._telemetry_listeners == []
    assert device.in_use is False


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"maintenance_conditions": [{"kind": "oil_level"}]}, "kind"),
        (
            {
                "maintenance_conditions": [
                    {"kind": "channel_hours", "channel": "fan", "hours": 0}
                ]
            },
            "hours",
        ),
        (
            {
                "maintenance_conditions": [
                    {"kind": "below_baseline", "channel": "fv", "baseline": 0.5}
                ]
            },
            "days",
        ),
        ({"busy_delay": -1}, "busy_delay"),
    ],
)
async def test_rule_fields_are_validated(
    hass: HomeAssistant,
    engine: AccessEngine,
    fields: dict[str, Any],
    fragment: str,
) -> None:
    """Bad rules are refused with the translated invalid_data error."""
    with pytest.raises(ServiceValidationError) as err:
        await engine.machine_types.async_create_item({"name": "Lathe", **fields})
    assert err.value.translation_key == "invalid_data"
    assert fragment in str(err.value.translation_placeholders)


async def test_history_without_condition_counters_loads(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """Usage stored before conditions existed gets empty counters."""
    hass_storage["fluxilab.history"] = {
        "version": 1,
        "key": "fluxilab.history",
        "data": {
            "usage": {
                "lathe": {
                    "hours": 3.0,
                    "since_maintenance": 1.0,
                    "last_maintenance": None,
                }
            },
            "settings": {},
        },
    }
    history = AccessHistory(hass)
    await history.async_load()
    assert history.usage("lathe") == {
        "hours": 3.0,
        "since_maintenance": 1.0,
        "last_maintenance": None,
        "conditions": {},
    }


async def test_panel_saves_rule_fields(
    hass: HomeAssistant,
    engine: AccessEngine,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """The panel's machine-type editor saves busy fields and conditions."""
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {
            "type": f"{DOMAIN}/panel/admin/machine_type_save",
            "machine_type_id": MACHINE_TYPE,
            "busy_channel": "spindle",
            "busy_above": 1.5,
            "busy_delay": 10,
            "maintenance_conditions": [
                {"kind": "channel_hours", "channel": "fan_running", "hours": 500}
            ],
        }
    )
    assert (await client.receive_json())["success"]
    saved = engine.machine_types.data[MACHINE_TYPE]
    assert saved["busy_channel"] == "spindle"
    assert saved["maintenance_conditions"] == [
        {"kind": "channel_hours", "channel": "fan_running", "above": 0.5, "hours": 500}
    ]
    await client.send_json_auto_id(
        {
            "type": f"{DOMAIN}/panel/admin/machine_type_save",
            "machine_type_id": MACHINE_TYPE,
            "maintenance_conditions": "not json",
        }
    )
    reply = await client.receive_json()
    assert not reply["success"]
    assert reply["error"]["translation_key"] == "invalid_data"
