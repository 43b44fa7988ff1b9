"""Decisions: one test per reason, expiry and lab-hours windows, replies and events."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.tag import EVENT_TAG_SCANNED, TAG_DATA
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.const import EVENT_ACCESS
from custom_components.fluxilab.device.runtime import FluxiLabDevice

from .conftest import MACHINE_TYPE, answer_request

CARD = "04AABBCC"


async def add_member(
    engine: AccessEngine, *, role: str = "user", authorized: bool = True, **auth: Any
) -> dict[str, Any]:
    """Create a member with card CARD, authorized for the fumehood type."""
    member = await engine.members.async_create_item(
        {"name": "Ada Lovelace", "cards": [CARD], "role": role}
    )
    if authorized:
        await engine.authorizations.async_create_item(
            {"member_id": member["id"], "machine_type_id": MACHINE_TYPE, **auth}
        )
    return member


async def check(
    engine: AccessEngine, device: FluxiLabDevice, card: str = CARD, **extra: Any
) -> dict[str, Any]:
    return await answer_request(
        engine, device, {"id": "r1", "action": "check", "card": card, **extra}
    )


async def test_event_names_the_members_ha_user(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    hass_read_only_user: Any,
) -> None:
    """A linked member's HA user is in the event and is its context user."""
    events = async_capture_events(hass, EVENT_ACCESS)
    await engine.members.async_create_item(
        {
            "name": "Grace Hopper",
            "cards": ["04EEFF00"],
            "user_id": hass_read_only_user.id,
        }
    )
    await check(engine, device, card="04EEFF00")
    await hass.async_block_till_done()
    assert events[-1].data["user_id"] == hass_read_only_user.id
    assert events[-1].context.user_id == hass_read_only_user.id
    await check(engine, device, card="04DEAD00")
    await hass.async_block_till_done()
    assert events[-1].data["user_id"] is None
    assert events[-1].context.user_id is None


@pytest.fixture(autouse=True)
def safe_airflow(device: FluxiLabDevice) -> None:
    """Face velocity inside the fumehood type's limit unless a test lowers it."""
    device.values["face_velocity"] = 0.5


async def test_granted_reply_and_event(
    hass: HomeAssistant, engine: AccessEngine, device: FluxiLabDevice, ha_device_id: str
) -> None:
    events = async_capture_events(hass, EVENT_ACCESS)
    member = await add_member(engine)
    reply = await check(engine, device)
    assert reply == {
        "id": "r1",
        "granted": True,
        "reason": "granted",
        "member_id": member["id"],
        "name": "Ada Lovelace",
        "level": "user",
        "timeout": 600.0,
        "grace": 30.0,
    }
    await hass.async_block_till_done()
    assert events[-1].data | {"ts": None} == {
        "type": "granted",
        "fluxilab_device": "hood-1",
        "device_id": ha_device_id,
        "member_id": member["id"],
        "member_name": None,  # names are off by default
        "user_id": None,
        "card": engine.privacy.card(CARD),
        "reason": "granted",
        "buffered": False,
        "session_id": None,
        "duration": None,
        "ts": None,
    }
    state = hass.states.get("event.fumehood_1_access")
    assert state is not None
    assert state.attributes["event_type"] == "granted"


async def test_unknown_card_is_kept_and_tagged(
    hass: HomeAssistant, engine: AccessEngine, device: FluxiLabDevice, ha_device_id: str
) -> None:
    scans = async_capture_events(hass, EVENT_TAG_SCANNED)
    reply = await check(engine, device, card="DEADBEEF")
    assert reply["granted"] is False
    assert reply["reason"] == "unknown_card"
    seen = engine.history.last_unknown_card("hood-1")
    assert seen is not None
    assert seen.card == "DEADBEEF"
    await hass.async_block_till_done()
    # The tag is the card's pseudonym, never its uid.
    assert scans[-1].data["tag_id"] == engine.privacy.card("DEADBEEF")
    assert scans[-1].data["device_id"] == ha_device_id
    assert engine.privacy.card("DEADBEEF") in hass.data[TAG_DATA].data
    assert "DEADBEEF" not in hass.data[TAG_DATA].data


async def test_member_cards_are_tags(hass: HomeAssistant, engine: AccessEngine) -> None:
    member = await add_member(engine, authorized=False)
    await hass.async_block_till_done()
    assert engine.privacy.card(CARD) in hass.data[TAG_DATA].data
    assert CARD not in hass.data[TAG_DATA].data
    await engine.members.async_delete_item(member["id"])
    await hass.async_block_till_done()
    assert engine.privacy.card(CARD) not in hass.data[TAG_DATA].data


async def test_unknown_member_and_no_credential(
    engine: AccessEngine, device: FluxiLabDevice
) -> None:
    reply = await answer_request(
        engine, device, {"id": "r1", "action": "check", "member_id": "nobody"}
    )
    assert reply["reason"] == "unknown_member"
    reply = await answer_request(engine, device, {"id": "r2", "action": "check"})
    assert reply["reason"] == "no_credential"


async def test_inactive(engine: AccessEngine, device: FluxiLabDevice) -> None:
    member = await add_member(engine)
    await engine.members.async_update_item(member["id"], {"active": False})
    assert (await check(engine, device))["reason"] == "inactive"


async def test_not_authorized(engine: AccessEngine, device: FluxiLabDevice) -> None:
    await add_member(engine, authorized=False)
    reply = await check(engine, device)
    assert (reply["granted"], reply["reason"]) == (False, "not_authorized")


async def test_role_bypasses_and_type_without_authorization(
    engine: AccessEngine, device: FluxiLabDevice
) -> None:
    await add_member(engine, role="admin", authorized=False)
    assert (await check(engine, device))["granted"] is True
    member = engine.members.by_card(CARD)
    assert member is not None
    await engine.members.async_update_item(member.id, {"role": "user"})
    assert (await check(engine, device))["reason"] == "not_authorized"
    await engine.machine_types.async_update_item(
        MACHINE_TYPE, {"requires_authorization": False}
    )
    assert (await check(engine, device))["granted"] is True


async def test_device_authorization(
    engine: AccessEngine, device: FluxiLabDevice
) -> None:
    member = await add_member(engine, authorized=False)
    await engine.authorizations.async_create_item(
        {"member_id": member["id"], "device_id": "hood-2"}
    )
    assert (await check(engine, device))["reason"] == "not_authorized"
    await engine.authorizations.async_create_item(
        {"member_id": member["id"], "device_id": "hood-1"}
    )
    assert (await check(engine, device))["granted"] is True


async def test_expiry(
    engine: AccessEngine, device: FluxiLabDevice, freezer: FrozenDateTimeFactory
) -> None:
    expires = dt_util.utcnow() + timedelta(days=1)
    await add_member(engine, expires=expires.isoformat())
    assert (await check(engine, device))["granted"] is True
    freezer.tick(timedelta(days=1, seconds=1))
    assert (await check(engine, device))["reason"] == "expired"


async def test_lab_hours_window(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    freezer: FrozenDateTimeFactory,
) -> None:
    await hass.config.async_set_time_zone("Europe/Rome")
    freezer.move_to("2026-03-02 10:00:00+01:00")
    await add_member(engine, window_start="08:00", window_end="18:00")
    assert (await check(engine, device))["granted"] is True
    freezer.move_to("2026-03-02 19:30:00+01:00")
    assert (await check(engine, device))["reason"] == "outside_hours"


async def test_blocked(engine: AccessEngine, device: FluxiLabDevice) -> None:
    await add_member(engine)
    await device.async_set_blocked(True)
    assert (await check(engine, device))["reason"] == "blocked"
    await device.async_set_blocked(False)
    assert (await check(engine, device))["granted"] is True


async def test_maintenance_due(engine: AccessEngine, device: FluxiLabDevice) -> None:
    await add_member(engine)
    engine.history.usage("hood-1")["since_maintenance"] = 5.0
    engine.publish_usage(device)
    assert device.maintenance_due is True
    reply = await check(engine, device)
    assert (reply["reason"], reply["message"]) == ("maintenance_due", "Filter change")
    # Staff may still start, to do the maintenance.
    member = engine.members.by_card(CARD)
    assert member is not None
    await engine.members.async_update_item(member.id, {"role": "staff"})
    assert (await check(engine, device))["granted"] is True


async def test_safety_limit(engine: AccessEngine, device: FluxiLabDevice) -> None:
    await add_member(engine)
    device.values["face_velocity"] = 0.2
    assert (await check(engine, device))["reason"] == "safety_limit"
    del device.values["face_velocity"]
    assert (await check(engine, device))["reason"] == "safety_limit"


async def test_denial_event(
    hass: HomeAssistant, engine: AccessEngine, device: FluxiLabDevice
) -> None:
    events = async_capture_events(hass, EVENT_ACCESS)
    await add_member(engine, authorized=False)
    await check(engine, device)
    await hass.async_block_till_done()
    assert (events[-1].data["type"], events[-1].data["reason"]) == (
        "denied",
        "not_authorized",
    )
    assert engine.history.data["audit"][-1].detail("reason") == "not_authorized"
