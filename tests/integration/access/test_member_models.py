"""Typed member views: parsed once per change, nothing personal in a repr."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from homeassistant.core import HomeAssistant
import pytest

from custom_components.fluxilab.access.credentials import (
    check_credentials,
    credential_of,
    mask_card,
    touch,
    with_cards,
    with_pin_hash,
)
from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.access.errors import AccessValidationError
from custom_components.fluxilab.access.member_import import (
    MemberFields,
    PlannedRow,
    RowAction,
)
from custom_components.fluxilab.access.member_models import (
    Credential,
    CredentialType,
    Member,
)

STORED = {
    "id": "ada",
    "name": "Ada Lovelace",
    "email": "ada@example.org",
    "active": True,
    "role": "staff",
    "user_id": "u1",
    "supervise": True,
    "deactivate_login": True,
    "credentials": [
        {
            "id": "c1",
            "type": "card",
            "label": "Blue badge",
            "active": True,
            "created": "2026-01-01T00:00:00+00:00",
            "last_used": None,
            "card": "04A1B2C3D4",
        },
        {
            "id": "c2",
            "type": "card",
            "label": "Lost",
            "active": False,
            "created": "2026-01-01T00:00:00+00:00",
            "last_used": "2026-02-01T08:30:00+00:00",
            "card": "04FFEE0001",
        },
        {
            "id": "p1",
            "type": "pin",
            "label": "PIN",
            "active": True,
            "created": "2026-01-01T00:00:00+00:00",
            "pin_hash": "$2b$04$abcdefghijklmnopqrstuv",
            "must_change": True,
        },
    ],
}


def test_a_stored_member_is_read_once() -> None:
    member = Member.from_storage(STORED)
    assert (member.id, member.name, member.role, member.active) == (
        "ada",
        "Ada Lovelace",
        "staff",
        True,
    )
    assert (member.user_id, member.supervise, member.deactivate_login) == (
        "u1",
        True,
        True,
    )
    assert member.cards() == ["04A1B2C3D4"]
    assert member.cards(active_only=False) == ["04A1B2C3D4", "04FFEE0001"]
    lost = member.card("04FFEE0001")
    assert lost is not None
    assert (lost.id, lost.type, lost.active) == ("c2", CredentialType.CARD, False)
    assert lost.last_used == datetime(2026, 2, 1, 8, 30, tzinfo=UTC)
    assert member.card("nobody's") is None
    assert member.pin is not None
    assert member.pin.must_change is True
    assert member.pin_must_change is True
    assert member.pin_hash() == "$2b$04$abcdefghijklmnopqrstuv"
    assert member.login_created is False  # an admin linked an existing login
    created = Member.from_storage({**STORED, "login_created_by_fluxilab": True})
    assert created.login_created is True


def test_an_inactive_pin_has_no_hash_to_mirror() -> None:
    stored = {
        **STORED,
        "credentials": [{**STORED["credentials"][2], "active": False}],
    }
    member = Member.from_storage(stored)
    assert member.pin_hash() is None
    assert member.pin_hash(active_only=False) is not None
    assert Member.from_storage({"id": "bob", "name": "Bob", "role": "user"}).pin is None


def test_no_name_card_or_pin_hash_in_a_repr() -> None:
    member = Member.from_storage(STORED)
    shown = repr(member) + "".join(repr(c) for c in member.credentials)
    for secret in ("Ada", "ada@example.org", "04A1B2", "04FFEE", "$2b$"):
        assert secret not in shown
    assert "id='ada'" in shown
    assert repr(Credential.from_storage(STORED["credentials"][0])).startswith(
        "Credential(id='c1'"
    )


async def test_views_follow_the_member_collection(
    hass: HomeAssistant, engine: AccessEngine
) -> None:
    """Built once per change, rebuilt after one; a card moves with its member."""
    ada = await engine.members.async_create_item({"name": "Ada", "cards": ["A1"]})
    view = engine.members.member(ada["id"])
    assert view is not None
    assert engine.members.member(ada["id"]) is view  # no change: the same view
    found = engine.members.card_holder("A1")
    assert found is not None
    assert (found[0].id, found[1].card, found[1].active) == (ada["id"], "A1", True)
    grace = await engine.members.async_create_item({"name": "Grace", "cards": []})
    await engine.members.async_update_item(ada["id"], {"cards": []})
    await engine.members.async_update_item(grace["id"], {"cards": ["A1"]})
    assert engine.members.member(ada["id"]) is not view
    found = engine.members.card_holder("A1")
    assert found is not None
    assert found[0].id == grace["id"]
    assert [m.id for m in engine.members.members()] == [ada["id"], grace["id"]]
    await engine.members.async_delete_item(grace["id"])
    assert engine.members.card_holder("A1") is None
    assert engine.members.member(grace["id"]) is None
    with pytest.raises(AccessValidationError):
        engine.members.known(grace["id"])


async def test_a_use_shows_in_the_view(
    hass: HomeAssistant, engine: AccessEngine
) -> None:
    """A touch changes no index, but the member's view shows the new last use."""
    ada = await engine.members.async_create_item({"name": "Ada", "cards": ["A1"]})
    view = engine.members.known(ada["id"])
    card = view.card("A1")
    assert card is not None
    assert card.last_used is None
    when = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    engine.members.async_touch(ada["id"], card.id, when)
    touched = engine.members.known(ada["id"]).card("A1")
    assert touched is not None
    assert touched.last_used == when


def test_a_credential_is_stored_back_as_it_was_read() -> None:
    """``as_dict`` gives the stored credential: same keys, same order, same text."""
    for stored in STORED["credentials"]:
        again = Credential.from_storage(stored).as_dict()
        assert again == {"last_used": None, **stored}
        assert [k for k in again if k in stored] == list(stored)
    assert list(Credential.from_storage(STORED["credentials"][0]).as_dict()) == [
        "id",
        "type",
        "label",
        "active",
        "created",
        "last_used",
        "card",
    ]


def test_a_credential_shown_has_no_hash_and_maybe_a_masked_card() -> None:
    card, _lost, pin = (Credential.from_storage(c) for c in STORED["credentials"])
    assert card.as_wire() == STORED["credentials"][0]
    assert card.as_wire(mask_card)["card"] == mask_card("04A1B2C3D4")
    shown = pin.as_wire(mask_card)
    assert "pin_hash" not in shown
    assert shown == {
        "id": "p1",
        "type": "pin",
        "label": "PIN",
        "active": True,
        "created": "2026-01-01T00:00:00+00:00",
        "last_used": None,
        "must_change": True,
    }


def test_the_rules_take_and_return_credentials() -> None:
    """Cards listed keep their credential; the PIN keeps its label and flag."""
    member = Member.from_storage(STORED)
    now = datetime(2026, 3, 1, tzinfo=UTC)
    cards = with_cards(member.credentials, ["04FFEE0001", "NEW1"], now)
    assert [c.card for c in cards if c.is_card] == ["04FFEE0001", "NEW1"]
    assert cards[0] is member.credentials[1]
    assert (cards[1].label, cards[1].active, cards[1].created) == ("Card 2", True, now)
    assert cards[-1] is member.credentials[2]  # the PIN, kept
    check_credentials(cards)
    changed = with_pin_hash(cards, "$2b$04$other", now, must_change=False)
    pin = next(c for c in changed if not c.is_card)
    assert (pin.id, pin.label, pin.pin_hash, pin.must_change) == (
        "p1",
        "PIN",
        "$2b$04$other",
        False,
    )
    with pytest.raises(AccessValidationError):
        check_credentials([*cards, cards[0]])
    assert credential_of(member, "c2") is member.credentials[1]
    with pytest.raises(AccessValidationError):
        credential_of(member, "nope")


def test_a_touch_moves_the_last_use_forward_only() -> None:
    lost = Credential.from_storage(STORED["credentials"][1])
    assert lost.last_used is not None
    assert touch(lost, lost.last_used) is None  # an older (or the same) replay
    later = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    used = touch(lost, later)
    assert used is not None
    assert used.as_dict()["last_used"] == "2026-03-01T09:00:00+00:00"
    assert replace(used, last_used=lost.last_used) == lost


def test_no_name_e_mail_or_card_in_a_planned_row_repr() -> None:
    fields = MemberFields(
        given=frozenset({"name", "email", "cards"}),
        name="Ada Lovelace",
        email="ada@example.org",
        cards=("04A1B2C3D4",),
    )
    assert fields.as_dict() == {
        "name": "Ada Lovelace",
        "email": "ada@example.org",
        "cards": ["04A1B2C3D4"],
    }
    row = PlannedRow(
        line=2, action=RowAction.CREATE, name="Ada Lovelace", fields=fields
    )
    shown = repr(row)
    for secret in ("Ada", "ada@example.org", "04A1B2"):
        assert secret not in shown
    assert row.as_wire()["cards"] == 1
