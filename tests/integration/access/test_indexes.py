"""The card and authorization indexes follow every change of the collections.

A card check looks its card up in an index of the members' cards, and the member's
authorizations in an index by member (store.py), instead of scanning the lab. Each
index is rebuilt after its collection changed: these tests change the collections
every way the services do and check that the lookups see it at once.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.access.lab_models import Authorization, SafetyLimit
from custom_components.fluxilab.protocol.schemas import OfflinePolicy

from .conftest import MACHINE_TYPE


def holder(engine: AccessEngine, card: str) -> tuple[str, bool] | None:
    """Who holds ``card`` by the index, and whether the card is active."""
    if (found := engine.members.card_holder(card)) is None:
        return None
    member, credential = found
    return member.id, credential.active


async def test_a_card_is_found_where_it_is_now(
    hass: HomeAssistant, engine: AccessEngine
) -> None:
    """Added, moved to another member, deactivated, removed with its member."""
    ada = await engine.members.async_create_item({"name": "Ada", "cards": ["A1"]})
    assert holder(engine, "A1") == (ada["id"], True)
    assert holder(engine, "B1") is None
    grace = await engine.members.async_create_item({"name": "Grace", "cards": []})
    await engine.members.async_update_item(ada["id"], {"cards": []})
    assert holder(engine, "A1") is None
    await engine.members.async_update_item(grace["id"], {"cards": ["A1", "B1"]})
    assert holder(engine, "A1") == (grace["id"], True)
    assert holder(engine, "B1") == (grace["id"], True)
    card = next(
        c for c in engine.members.data[grace["id"]]["credentials"] if c["card"] == "B1"
    )
    await engine.members.async_update_credential(grace["id"], card["id"], active=False)
    assert holder(engine, "B1") == (grace["id"], False)
    assert engine.members.by_card("B1") is None  # an inactive card names nobody
    await engine.members.async_delete_item(grace["id"])
    assert holder(engine, "A1") is None
    assert holder(engine, "B1") is None


async def test_a_members_authorizations_follow_creates_updates_and_deletes(
    hass: HomeAssistant, engine: AccessEngine
) -> None:
    """The index by member sees new, renewed and deleted authorizations."""
    ada = await engine.members.async_create_item({"name": "Ada", "cards": ["A1"]})
    assert engine.authorizations.of_member(ada["id"]) == []
    auth = await engine.authorizations.async_create_item(
        {"member_id": ada["id"], "machine_type_id": MACHINE_TYPE}
    )
    assert [a["id"] for a in engine.authorizations.of_member(ada["id"])] == [auth["id"]]
    renewed = await engine.authorizations.async_update_item(
        auth["id"], {"expires": "2099-01-01T00:00:00+00:00"}
    )
    assert engine.authorizations.of_member(ada["id"]) == [renewed]
    # Callers may delete while they walk the list they got.
    for item in engine.authorizations.of_member(ada["id"]):
        await engine.authorizations.async_delete_item(item["id"])
    assert engine.authorizations.of_member(ada["id"]) == []


async def test_typed_authorizations_are_parsed_once_and_follow_changes(
    hass: HomeAssistant, engine: AccessEngine
) -> None:
    """The core's typed view holds parsed dates and hours, current after a change."""
    ada = await engine.members.async_create_item({"name": "Ada", "cards": ["A1"]})
    assert engine.authorizations.typed_of_member(ada["id"]) == ()
    auth = await engine.authorizations.async_create_item(
        {
            "member_id": ada["id"],
            "machine_type_id": MACHINE_TYPE,
            "expires": "2099-01-01T00:00:00+00:00",
            "window_start": "08:00",
            "window_end": "18:30",
        }
    )
    (typed,) = engine.authorizations.typed_of_member(ada["id"])
    assert typed == Authorization.from_storage(auth)
    assert typed.expires == datetime(2099, 1, 1, tzinfo=UTC)
    assert (typed.window_start, typed.window_end) == (time(8, 0), time(18, 30))
    assert typed.granted == dt_util.parse_datetime(auth["granted"])
    # Looked up again without a change: the same objects, not parsed again.
    assert engine.authorizations.typed_of_member(ada["id"])[0] is typed
    await engine.authorizations.async_update_item(auth["id"], {"expires": None})
    (renewed,) = engine.authorizations.typed_of_member(ada["id"])
    assert renewed.expires is None
    assert engine.authorizations.authorization(auth["id"]) is renewed
    await engine.authorizations.async_delete_item(auth["id"])
    assert engine.authorizations.typed_of_member(ada["id"]) == ()
    assert engine.authorizations.authorization(auth["id"]) is None


async def test_a_noted_use_reaches_the_stored_and_the_typed_authorization(
    hass: HomeAssistant, engine: AccessEngine
) -> None:
    """A swipe's use is set in place: no change counted, both views see it."""
    ada = await engine.members.async_create_item({"name": "Ada", "cards": ["A1"]})
    auth = await engine.authorizations.async_create_item(
        {"member_id": ada["id"], "machine_type_id": MACHINE_TYPE}
    )
    before = engine.authorizations.typed_of_member(ada["id"])
    used = datetime(2030, 5, 6, 7, 8, 9, tzinfo=UTC)
    engine.authorizations.note_use(auth["id"], used)
    assert engine.authorizations.data[auth["id"]]["last_used"] == used.isoformat()
    (after,) = engine.authorizations.typed_of_member(ada["id"])
    assert after.last_used == used
    assert after == replace(before[0], last_used=used)


async def test_the_typed_machine_type_follows_its_updates(
    hass: HomeAssistant, engine: AccessEngine
) -> None:
    """The fixture's fumehood, read typed; an update is seen at once."""
    fumehood = engine.machine_types.machine_type(MACHINE_TYPE)
    assert fumehood is not None
    assert (fumehood.session_timeout, fumehood.grace_period) == (600, 30)
    assert fumehood.safety_limits == (SafetyLimit(channel="face_velocity", min=0.4),)
    assert fumehood.offline_policy is OfflinePolicy.DENY  # it has safety limits
    assert fumehood.maintenance_message == "Filter change"
    assert engine.machine_types.machine_type(MACHINE_TYPE) is fumehood
    await engine.machine_types.async_update_item(
        MACHINE_TYPE,
        {"supervised_hours_start": "09:00", "supervised_hours_end": "17:00"},
    )
    updated = engine.machine_types.machine_type(MACHINE_TYPE)
    assert updated is not None
    assert (updated.supervised_hours_start, updated.supervised_hours_end) == (
        time(9, 0),
        time(17, 0),
    )
    assert engine.machine_types.machine_type("lathe") is None
    assert engine.machine_types.machine_type(None) is None
