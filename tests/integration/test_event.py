"""The access event entity and the usage state the access engine pushes."""

from __future__ import annotations

from typing import Any

from homeassistant.components.event import ATTR_EVENT_TYPE
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.fluxilab.const import EVENT_DEVICE

from .test_device import bring_online

ACCESS = "event.fumehood_1_access"


async def test_access_events_and_usage(
    hass: HomeAssistant, init_integration: MockConfigEntry, announce: dict[str, Any]
) -> None:
    await bring_online(hass, announce)
    device = init_integration.runtime_data
    device.async_access_event(
        "granted",
        {"member_id": "ada", "member_name": "Ada", "user_id": "u1", "card": "04AB"},
    )
    await hass.async_block_till_done()
    state = hass.states.get(ACCESS)
    assert state.attributes[ATTR_EVENT_TYPE] == "granted"
    # Names are off by default: the member is a pseudonym on the entity.
    assert state.attributes["member"].startswith("member_")
    assert not {"member_id", "member_name", "user_id"} & set(state.attributes)
    assert state.attributes["card"].startswith("card_")  # a uid is never shown
    device.async_access_event("not_a_type", {})
    await hass.async_block_till_done()
    assert hass.states.get(ACCESS).attributes[ATTR_EVENT_TYPE] == "granted"
    # Lab operations at the device show on the same entity.
    assert set(hass.states.get(ACCESS).attributes["event_types"]) >= {
        "checked_in",
        "checked_out",
        "authorization_granted",
        "busy_started",
        "busy_ended",
        "interest_notified",
    }
    device.async_access_event("busy_started", {"member_name": "Ada"})
    await hass.async_block_till_done()
    assert hass.states.get(ACCESS).attributes[ATTR_EVENT_TYPE] == "busy_started"
    # The bus-only types never reach it.
    device.async_access_event("lab_empty", {})
    await hass.async_block_till_done()
    assert hass.states.get(ACCESS).attributes[ATTR_EVENT_TYPE] == "busy_started"

    events = async_capture_events(hass, EVENT_DEVICE)
    device.async_update_usage(
        in_use=True,
        member_name="Ada",
        usage_hours=12.5,
        hours_to_maintenance=0.0,
        maintenance_due=True,
    )
    await hass.async_block_till_done()
    assert hass.states.get("binary_sensor.fumehood_1_in_use").state == STATE_ON
    # A user the engine does not know of: in use, nobody named (names are off).
    assert hass.states.get("sensor.fumehood_1_current_user").state == "in_use"
    assert hass.states.get("sensor.fumehood_1_usage_hours").state == "12.5"
    assert hass.states.get("binary_sensor.fumehood_1_maintenance_due").state == STATE_ON
    assert [e.data["type"] for e in events] == ["maintenance_due"]
    device.async_update_usage(
        in_use=False,
        member_name=None,
        usage_hours=12.5,
        hours_to_maintenance=10.0,
        maintenance_due=False,
    )
    await hass.async_block_till_done()
    assert hass.states.get("binary_sensor.fumehood_1_in_use").state == STATE_OFF
    assert len(events) == 1
