"""The GDPR purge and a member's removal anonymize what FluxiLab wrote to the recorder.

Its bus events (event_data), its entities' states and attributes, and the
``tag_scanned`` events of its cards, on the recorder's own database.
"""

from __future__ import annotations

from dataclasses import replace
import time
from typing import Any

from homeassistant.components.recorder import Recorder, get_instance
from homeassistant.components.recorder.db_schema import (
    EventData,
    Events,
    EventTypes,
    StateAttributes,
    States,
    StatesMeta,
)
from homeassistant.components.recorder.util import session_scope
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockUser
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from sqlalchemy import select

from custom_components.fluxilab.access import gdpr
from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.device.runtime import FluxiLabDevice

from .conftest import MACHINE_TYPE, answer_request

CARD = "04AABBCC"
NAME = "Ada Lovelace"
CURRENT_USER = "sensor.fumehood_1_current_user"
OURS = (
    "fluxilab_access",
    "fluxilab_lab",
    "fluxilab_notification",
    "fluxilab_routing",
    "tag_scanned",
)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> None:
    """Start the recorder before Home Assistant (the conftest one starts HA first)."""


@pytest.fixture(autouse=True)
def safe_airflow(device: FluxiLabDevice) -> None:
    """Face velocity inside the fumehood type's limit."""
    device.values["face_velocity"] = 0.5


async def recorded(hass: HomeAssistant) -> dict[str, list[str]]:
    """Our event types' data, every state attribute row, the current user's states."""
    await async_wait_recording_done(hass)

    def _read() -> dict[str, list[str]]:
        with session_scope(hass=hass, read_only=True) as session:
            events = session.execute(
                select(EventData.shared_data)
                .join(Events, Events.data_id == EventData.data_id)
                .join(EventTypes, EventTypes.event_type_id == Events.event_type_id)
                .where(EventTypes.event_type.in_(OURS))
            ).scalars()
            attributes = session.execute(select(StateAttributes.shared_attrs)).scalars()
            users = session.execute(
                select(States.state)
                .join(StatesMeta, StatesMeta.metadata_id == States.metadata_id)
                .where(StatesMeta.entity_id == CURRENT_USER)
            ).scalars()
            return {
                "events": [str(e) for e in events],
                "attributes": [str(a) for a in attributes],
                "users": [str(u) for u in users],
            }

    return await get_instance(hass).async_add_executor_job(_read)


async def work_session(
    hass: HomeAssistant, engine: AccessEngine, device: FluxiLabDevice
) -> None:
    for request in (
        {"id": "r1", "action": "session_start", "card": CARD, "session_id": "s1"},
        {"id": "r2", "action": "session_stop", "session_id": "s1", "duration": 60},
    ):
        await answer_request(engine, device, request)
        await hass.async_block_till_done()


def mentions(rows: dict[str, list[str]], *secrets: str) -> list[str]:
    return [
        row
        for kind in rows.values()
        for row in kind
        if any(secret in row for secret in secrets)
    ]


async def test_member_removal_anonymizes_the_recorder_names_off(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    hass_read_only_user: MockUser,
) -> None:
    """By default rows hold the member id, linked user and card: gone after removal."""
    member = await engine.members.async_create_item(
        {"name": NAME, "cards": [CARD], "user_id": hass_read_only_user.id}
    )
    await engine.authorizations.async_create_item(
        {"member_id": member["id"], "machine_type_id": MACHINE_TYPE}
    )
    await work_session(hass, engine, device)
    secrets = (NAME, CARD, member["id"], hass_read_only_user.id)
    assert mentions(await recorded(hass), *secrets)
    await engine.members.async_delete_item(member["id"])
    await hass.async_block_till_done()
    rows = await recorded(hass)
    assert mentions(rows, *secrets) == []
    assert (
        mentions(rows, engine.privacy.card(CARD), engine.privacy.member(member["id"]))
        == []
    )


async def test_member_removal_anonymizes_the_recorder(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    hass_read_only_user: MockUser,
) -> None:
    """Names shown (so recorded), then the member goes: nothing names her after."""
    await check_member_removal(hass, engine, device, hass_read_only_user)


async def check_member_removal(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    hass_read_only_user: MockUser,
) -> None:
    """Record a session with names shown, remove the member, find nothing of her."""
    engine.async_set_show_member_names(True)
    member = await engine.members.async_create_item(
        {"name": NAME, "cards": [CARD], "user_id": hass_read_only_user.id}
    )
    await engine.authorizations.async_create_item(
        {"member_id": member["id"], "machine_type_id": MACHINE_TYPE}
    )
    other = await engine.members.async_create_item({"name": "Bea", "cards": ["B1"]})
    await engine.authorizations.async_create_item(
        {"member_id": other["id"], "machine_type_id": MACHINE_TYPE}
    )
    await work_session(hass, engine, device)
    await answer_request(engine, device, {"id": "r3", "action": "check", "card": "B1"})
    await hass.async_block_till_done()
    secrets = (
        NAME,
        member["id"],
        engine.privacy.card(CARD),
        engine.privacy.member(member["id"]),
        hass_read_only_user.id,
    )
    rows = await recorded(hass)
    assert NAME in rows["users"]
    assert mentions({"events": rows["events"]}, *secrets)
    assert mentions({"attributes": rows["attributes"]}, *secrets)

    await engine.members.async_delete_item(member["id"])
    await hass.async_block_till_done()
    rows = await recorded(hass)
    assert mentions(rows, *secrets) == []
    assert "in_use" in rows["users"]
    # Bea's rows are hers still; the anonymized rows say so.
    assert mentions(rows, "Bea")
    assert any('"anonymized":true' in row for row in rows["events"])


async def test_retention_anonymizes_old_rows(
    hass: HomeAssistant, engine: AccessEngine, device: FluxiLabDevice
) -> None:
    """Rows older than the usage retention lose every personal field."""
    engine.async_set_show_member_names(True)
    member = await engine.members.async_create_item({"name": NAME, "cards": [CARD]})
    await engine.authorizations.async_create_item(
        {"member_id": member["id"], "machine_type_id": MACHINE_TYPE}
    )
    await work_session(hass, engine, device)
    await async_wait_recording_done(hass)
    subject = gdpr.Subject(before=time.time() + 1)
    assert await gdpr.async_anonymize_recorder(hass, subject) > 0
    rows = await recorded(hass)
    assert mentions(rows, NAME, member["id"], engine.privacy.card(CARD)) == []


async def test_purge_service_anonymizes_the_unknown_cards_it_deletes(
    hass: HomeAssistant, engine: AccessEngine, device: FluxiLabDevice
) -> None:
    await answer_request(
        engine, device, {"id": "1", "action": "check", "card": "DEADBEEF"}
    )
    await hass.async_block_till_done()
    pseudonym = engine.privacy.card("DEADBEEF")
    assert mentions(await recorded(hass), pseudonym)
    cards = engine.history.data["unknown_cards"]
    last = next(reversed(cards.values()))
    cards[last.card] = replace(last, ts=last.ts - 31 * 86400)
    await hass.services.async_call("fluxilab", "purge", {}, blocking=True)
    await hass.async_block_till_done()
    assert mentions(await recorded(hass), pseudonym, "DEADBEEF") == []


def test_scrub_keeps_other_people(recorder_mock: Any) -> None:
    """Only the subject's fields go; a trainer is judged on their own."""
    subject = gdpr.Subject(members=frozenset({"ada"}), names=frozenset({NAME}))
    data = {
        "member_id": "bea",
        "member_name": "Bea",
        "trainer_id": "ada",
        "trainer_name": NAME,
        "message": f"{NAME}'s card",
    }
    assert gdpr.scrub(data, subject, old=False)
    assert data == {
        "member_id": "bea",
        "member_name": "Bea",
        "trainer_id": None,
        "trainer_name": None,
        "message": "…'s card",
        "anonymized": True,
    }
