"""Personal data outside the engine: card pseudonyms, names by option, tags, purge.

Every Home Assistant user reads states and the logbook, and the recorder keeps
states and bus events: a card uid never shows there, a member's name only if the
lab opts in (the ``show_member_names`` access setting).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
import json
from typing import Any

from homeassistant.components.tag import EVENT_TAG_SCANNED, TAG_DATA
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
    async_capture_events,
)
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)

from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.access.member_models import Member
from custom_components.fluxilab.const import DOMAIN, EVENT_ACCESS, EVENT_LAB
from custom_components.fluxilab.device.runtime import FluxiLabDevice
from custom_components.fluxilab.logbook import async_describe_events

from .conftest import MACHINE_TYPE, answer_request

CARD = "04AABBCC"
STRANGER = "DEADBEEF"
NAME = "Ada Lovelace"
CURRENT_USER = "sensor.fumehood_1_current_user"
ACCESS = "event.fumehood_1_access"
DAY = 86400.0


@pytest.fixture(autouse=True)
def safe_airflow(device: FluxiLabDevice) -> None:
    """Face velocity inside the fumehood type's limit."""
    device.values["face_velocity"] = 0.5


async def add_ada(engine: AccessEngine, user_id: str | None = None) -> dict[str, Any]:
    """Ada, lab staff with card CARD, authorized for the fumehood."""
    member = await engine.members.async_create_item(
        {"name": NAME, "cards": [CARD], "role": "staff", "user_id": user_id}
    )
    await engine.authorizations.async_create_item(
        {"member_id": member["id"], "machine_type_id": MACHINE_TYPE}
    )
    return member


async def start_session(engine: AccessEngine, device: FluxiLabDevice) -> None:
    reply = await answer_request(
        engine,
        device,
        {"id": "r1", "action": "session_start", "card": CARD, "session_id": "s1"},
    )
    assert reply["granted"] is True


def everything_shown(hass: HomeAssistant) -> str:
    """Every state and attribute any Home Assistant user can read, as text."""
    return json.dumps([s.as_dict() for s in hass.states.async_all()], default=str)


def logbook_lines(hass: HomeAssistant, events: list[Event]) -> list[str]:
    found: dict[str, Callable[[Event], dict[str, str]]] = {}
    async_describe_events(
        hass, lambda _d, kind, describe: found.update({kind: describe})
    )
    return [found[e.event_type](e)["message"] for e in events]


async def set_names(hass: HomeAssistant, ws: WebSocketGenerator, show: bool) -> None:
    client = await ws(hass)
    await client.send_json_auto_id(
        {"type": f"{DOMAIN}/access/settings", "show_member_names": show}
    )
    result = await client.receive_json()
    assert result["success"], result
    assert result["result"]["show_member_names"] is show
    await hass.async_block_till_done()


async def test_swipe_shows_no_card_and_no_name(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    hass_read_only_user: MockUser,
) -> None:
    """Names off (the default): the swipe's event, entities and tag name nobody."""
    events = async_capture_events(hass, EVENT_ACCESS)
    scans = async_capture_events(hass, EVENT_TAG_SCANNED)
    member = await add_ada(engine, hass_read_only_user.id)
    await start_session(engine, device)
    await hass.async_block_till_done()

    assert [e.data["type"] for e in events] == ["granted", "session_started"]
    for event in (*events, *scans):
        recorded = json.dumps(event.data)
        assert CARD not in recorded
        assert NAME not in recorded
    shown = everything_shown(hass)
    for secret in (CARD, NAME, member["id"], hass_read_only_user.id):
        assert secret not in shown
    assert hass.states.get(CURRENT_USER).state == "staff"
    assert CARD not in hass.data[TAG_DATA].data
    for line in logbook_lines(hass, events):
        assert NAME not in line
        assert CARD not in line

    pseudonym = engine.privacy.card(CARD)
    assert events[-1].data["card"] == pseudonym
    assert events[-1].data["member_id"] == member["id"]  # automations act on it
    assert scans[-1].data["tag_id"] == pseudonym
    access = hass.states.get(ACCESS).attributes
    assert access["member"] == engine.privacy.member(member["id"])
    assert access["card"] == pseudonym

    tags = hass.data[TAG_DATA].data
    assert CARD not in tags
    assert pseudonym in tags
    tag_entity = er.async_get(hass).async_get_entity_id("tag", "tag", pseudonym)
    assert tag_entity is not None
    assert NAME not in str(er.async_get(hass).async_get(tag_entity).name)
    assert logbook_lines(hass, events[:1]) == ["granted access to a member"]


async def test_names_shown_when_the_lab_opts_in(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """The setting names members on entities, events, tags; cards stay pseudonyms."""
    events = async_capture_events(hass, EVENT_ACCESS)
    await set_names(hass, hass_ws_client, True)
    await add_ada(engine)
    await start_session(engine, device)
    await hass.async_block_till_done()
    assert hass.states.get(CURRENT_USER).state == NAME
    assert hass.states.get(ACCESS).attributes["member_name"] == NAME
    assert events[-1].data["member_name"] == NAME
    assert CARD not in everything_shown(hass)
    assert logbook_lines(hass, events[:1]) == [f"granted access to {NAME}"]
    tag_entity = er.async_get(hass).async_get_entity_id(
        "tag", "tag", engine.privacy.card(CARD)
    )
    assert er.async_get(hass).async_get(tag_entity).name == f"{NAME} (Card 1)"

    # Off again: the sensor and the tag stop naming her; so does the logbook,
    # even for events recorded while names were shown.
    await set_names(hass, hass_ws_client, False)
    assert hass.states.get(CURRENT_USER).state == "staff"
    assert er.async_get(hass).async_get(tag_entity).name == "Card 1"
    assert logbook_lines(hass, events[:1]) == ["granted access to a member"]


async def test_logbook_never_shows_a_recorded_uid(
    hass: HomeAssistant, engine: AccessEngine
) -> None:
    """Events recorded before pseudonyms carry uids: the logbook shows pseudonyms."""
    old = Event(
        EVENT_ACCESS,
        {"type": "denied", "card": STRANGER, "reason": "unknown_card"},
    )
    lab = Event(
        EVENT_LAB, {"type": "checked_in", "member_id": "ada", "member_name": NAME}
    )
    assert logbook_lines(hass, [old, lab]) == [
        f"denied access to card {engine.privacy.card(STRANGER)}: unknown card",
        "a member checked in to the lab",
    ]


async def test_unknown_card_registered_by_its_pseudonym(
    hass: HomeAssistant, engine: AccessEngine, device: FluxiLabDevice
) -> None:
    """What the event and logbook show is enough to register or remove the card."""
    events = async_capture_events(hass, EVENT_ACCESS)
    member = await engine.members.async_create_item({"name": "Bea"})
    await answer_request(
        engine, device, {"id": "1", "action": "check", "card": STRANGER}
    )
    await hass.async_block_till_done()
    pseudonym = events[-1].data["card"]
    assert pseudonym == engine.privacy.card(STRANGER)
    await hass.services.async_call(
        DOMAIN,
        "add_card",
        {"member_id": member["id"], "card": pseudonym},
        blocking=True,
    )
    assert Member.from_storage(engine.members.data[member["id"]]).cards() == [STRANGER]
    await hass.services.async_call(
        DOMAIN, "remove_card", {"card": pseudonym}, blocking=True
    )
    assert Member.from_storage(engine.members.data[member["id"]]).cards() == []


async def test_purge_removes_the_tags_of_unknown_cards(
    hass: HomeAssistant, engine: AccessEngine, device: FluxiLabDevice
) -> None:
    await answer_request(
        engine, device, {"id": "1", "action": "check", "card": STRANGER}
    )
    await hass.async_block_till_done()
    pseudonym = engine.privacy.card(STRANGER)
    assert pseudonym in hass.data[TAG_DATA].data
    cards = engine.history.data["unknown_cards"]
    last = next(reversed(cards.values()))
    cards[last.card] = replace(last, ts=last.ts - 31 * DAY)
    result = await hass.services.async_call(
        DOMAIN, "purge", {}, blocking=True, return_response=True
    )
    await hass.async_block_till_done()
    assert result["unknown_cards_deleted"] == 1
    assert pseudonym not in hass.data[TAG_DATA].data
    assert er.async_get(hass).async_get_entity_id("tag", "tag", pseudonym) is None


async def test_member_removal_removes_their_tags(
    hass: HomeAssistant, engine: AccessEngine
) -> None:
    member = await add_ada(engine)
    await hass.async_block_till_done()
    pseudonym = engine.privacy.card(CARD)
    assert pseudonym in hass.data[TAG_DATA].data
    await engine.members.async_delete_item(member["id"])
    await hass.async_block_till_done()
    assert pseudonym not in hass.data[TAG_DATA].data
    assert CARD not in hass.data[TAG_DATA].data


async def test_tags_made_from_uids_become_pseudonyms(
    hass: HomeAssistant, engine: AccessEngine
) -> None:
    """A tag an older version named by the uid goes when the member's tags are set."""
    await hass.data[TAG_DATA].async_create_item({"tag_id": CARD, "name": NAME})
    await add_ada(engine)
    await hass.async_block_till_done()
    assert CARD not in hass.data[TAG_DATA].data
    assert engine.privacy.card(CARD) in hass.data[TAG_DATA].data


async def test_pseudonyms_are_stable_and_keyed(engine: AccessEngine) -> None:
    pseudonym = engine.privacy.card(CARD)
    assert pseudonym == engine.privacy.card(CARD)
    assert pseudonym.startswith("card_")
    assert len(pseudonym) == len("card_") + 10
    engine.history.data["pseudonym_key"] = "00" * 32
    assert engine.privacy.card(CARD) != pseudonym  # another hub, another pseudonym


async def test_diagnostics_show_no_card_or_name(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    engine: AccessEngine,
    device: FluxiLabDevice,
    init_integration: MockConfigEntry,
) -> None:
    engine.async_set_show_member_names(True)
    await add_ada(engine)
    await start_session(engine, device)
    await hass.async_block_till_done()
    diagnostics = json.dumps(
        await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    )
    for secret in (CARD, NAME, engine.privacy.card(CARD)):
        assert secret not in diagnostics


async def test_panel_sets_the_names_option(
    hass: HomeAssistant, engine: AccessEngine, hass_ws_client: WebSocketGenerator
) -> None:
    """Admin → Retention in the panel holds the option too; off by default."""
    assert engine.privacy.show_names is False
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {"type": f"{DOMAIN}/panel/admin/retention", "show_member_names": True}
    )
    result = await client.receive_json()
    assert result["success"], result
    assert result["result"]["settings"]["show_member_names"] is True
    assert engine.privacy.show_names is True


async def test_removed_member_leaves_what_entities_show(
    hass: HomeAssistant, engine: AccessEngine, device: FluxiLabDevice
) -> None:
    """Names shown, Ada at work, then removed: no entity names her any more."""
    engine.async_set_show_member_names(True)
    member = await add_ada(engine)
    await start_session(engine, device)
    await hass.async_block_till_done()
    assert NAME in everything_shown(hass)
    await engine.members.async_delete_item(member["id"])
    await hass.async_block_till_done()
    shown = everything_shown(hass)
    for secret in (NAME, member["id"], engine.privacy.member(member["id"])):
        assert secret not in shown
    assert hass.states.get(ACCESS).attributes["anonymized"] is True


async def test_add_credential_takes_a_pseudonym(
    hass: HomeAssistant, engine: AccessEngine, device: FluxiLabDevice
) -> None:
    member = await engine.members.async_create_item({"name": "Bea"})
    await answer_request(
        engine, device, {"id": "1", "action": "check", "card": STRANGER}
    )
    await hass.services.async_call(
        DOMAIN,
        "add_credential",
        {
            "member_id": member["id"],
            "credential_type": "card",
            "card": engine.privacy.card(STRANGER),
        },
        blocking=True,
    )
    assert Member.from_storage(engine.members.data[member["id"]]).cards() == [STRANGER]
