"""The card and authorization indexes follow every change of the collections.

A card check looks its card up in an index of the members' cards, and the member's
authorizations in an index by member (store.py), instead of scanning the lab. Each
index is rebuilt after its collection changed: these tests change the collections
every way the services do and check that the lookups see it at once.
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant

from custom_components.fluxilab.access.credentials import credentials_of
from custom_components.fluxilab.access.engine import AccessEngine

from .conftest import MACHINE_TYPE


def holder(engine: AccessEngine, card: str) -> tuple[str, bool] | None:
    """Who holds ``card`` by the index, and whether the card is active."""
    if (found := engine.members.find_card(card)) is None:
        return None
    member, credential = found
    return member["id"], credential["active"]


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
        c for c in credentials_of(engine.members.data[grace["id"]]) if c["card"] == "B1"
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
