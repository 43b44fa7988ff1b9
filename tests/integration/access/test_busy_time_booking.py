"""Busy time from telemetry is usage: it is booked when Home Assistant stops, split
around a session that opens meanwhile, ended when the rule is removed, and credited
to the member who was granted the machine just before."""

from __future__ import annotations

from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.const import EVENT_ACCESS
from custom_components.fluxilab.device.runtime import FluxiLabDevice
from custom_components.fluxilab.protocol.security import KeyPair

from .conftest import answer_request
from .test_telemetry_rules import CARD, ada, set_rules, telemetry, types_of, wait


def idle_bookings(engine: AccessEngine) -> list[dict[str, Any]]:
    """Busy periods booked as sessions of their own."""
    return [
        s.as_dict() for s in engine.history.data["sessions"] if s.closed_by == "idle"
    ]


async def test_busy_time_is_booked_when_home_assistant_stops(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    device_keys: KeyPair,
    freezer: FrozenDateTimeFactory,
) -> None:
    await set_rules(engine, hass, busy_channel="spindle", busy_above=1.0)
    await telemetry(hass, device_keys, {"spindle": 3.0})
    await wait(hass, freezer, 600)
    assert idle_bookings(engine) == []
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done()
    # The ten minutes so far are not lost with the restart.
    assert [s["duration"] for s in idle_bookings(engine)] == [600]


async def test_removing_the_busy_rule_ends_the_busy_period(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    device_keys: KeyPair,
    freezer: FrozenDateTimeFactory,
) -> None:
    await set_rules(engine, hass, busy_channel="spindle", busy_above=1.0)
    events = async_capture_events(hass, EVENT_ACCESS)
    await telemetry(hass, device_keys, {"spindle": 3.0})
    await wait(hass, freezer, 90)
    assert device.in_use is True
    await set_rules(engine, hass, busy_channel=None)
    assert engine.telemetry_rules.is_busy(device.device_id) is False
    assert device.in_use is False
    assert hass.states.get("binary_sensor.fumehood_1_in_use").state == "off"
    assert types_of(events) == ["busy_started", "busy_ended"]
    assert [s["duration"] for s in idle_bookings(engine)] == [90]
    assert engine.telemetry_rules.diagnostics(device) is None
    # Readings no longer count.
    await telemetry(hass, device_keys, {"spindle": 5.0})
    assert device.in_use is False


async def test_a_reading_that_is_no_number_is_ignored(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    device_keys: KeyPair,
    freezer: FrozenDateTimeFactory,
) -> None:
    await set_rules(engine, hass, busy_channel="spindle", busy_above=0.5, busy_delay=0)
    await telemetry(hass, device_keys, {"spindle": True})  # a bool counts as 1
    assert device.in_use is True
    await telemetry(hass, device_keys, {"spindle": "stopped"})
    await wait(hass, freezer, 5)
    assert device.in_use is True  # a text says nothing about the spindle
    await telemetry(hass, device_keys, {"spindle": False})
    assert device.in_use is False


async def test_busy_time_goes_to_the_member_just_granted(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    device_keys: KeyPair,
    freezer: FrozenDateTimeFactory,
) -> None:
    await set_rules(engine, hass, busy_channel="spindle", busy_above=1.0, busy_delay=0)
    member = await ada(engine)
    device.values["face_velocity"] = 0.6
    reply = await answer_request(
        engine,
        device,
        {"id": "a", "action": "session_start", "card": CARD, "session_id": "s1"},
    )
    assert reply["granted"] is True, reply
    await answer_request(
        engine,
        device,
        {"id": "b", "action": "session_stop", "session_id": "s1", "duration": 30},
    )
    # Logged off, and the spindle starts a little later: still Ada's work.
    await wait(hass, freezer, 30)
    events = async_capture_events(hass, EVENT_ACCESS)
    await telemetry(hass, device_keys, {"spindle": 2.0})
    await wait(hass, freezer, 300)
    await telemetry(hass, device_keys, {"spindle": 0.0})
    assert types_of(events) == ["busy_started", "busy_ended"]
    assert events[0].data["member_id"] == member["id"]
    (booked,) = idle_bookings(engine)
    assert (booked["member_id"], booked["duration"]) == (member["id"], 300)
