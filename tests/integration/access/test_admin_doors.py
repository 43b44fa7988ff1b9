"""One admin implementation, three doors: the service, ``fluxilab/member/*`` and the
panel's ``panel/admin/member_*`` give the same member for the same input, and the same
translated error (in English, from translations/en.json) for the same bad input, with
nothing changed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import time as dt_time
import json
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockUser
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.fluxilab.access import admin
from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.access.lab_models import Authorization
from custom_components.fluxilab.access.member_models import Member
from custom_components.fluxilab.const import DOMAIN

from .conftest import call

EN = json.loads(
    (
        Path(__file__).parents[3]
        / "custom_components"
        / "fluxilab"
        / "translations"
        / "en.json"
    ).read_text(encoding="utf-8")
)["exceptions"]

# operation: (service, websocket collection command, panel command)
DOORS: dict[str, tuple[str, str, str]] = {
    "create": ("add_member", "member/create", "panel/admin/member_create"),
    "update": ("update_member", "member/update", "panel/admin/member_update"),
    "delete": ("remove_member", "member/delete", "panel/admin/member_delete"),
}

type Outcome = tuple[str, Any]
"""("ok", the new member's id or None) or ("error", (key, placeholders, message))."""
type Door = Callable[[str, dict[str, Any]], Awaitable[Outcome]]


@pytest.fixture
async def doors(
    hass: HomeAssistant,
    engine: AccessEngine,
    hass_ws_client: WebSocketGenerator,
    hass_admin_user: MockUser,
) -> dict[str, Door]:
    """Call an operation through each door as the same Home Assistant admin."""
    client = await hass_ws_client(hass)

    async def service(operation: str, data: dict[str, Any]) -> Outcome:
        name = DOORS[operation][0]
        try:
            reply = await call(
                hass, name, data, hass_admin_user, response=name == "add_member"
            )
        except ServiceValidationError as err:
            return "error", (
                err.translation_key,
                err.translation_placeholders or {},
                str(err),
            )
        return "ok", reply["member_id"] if reply else None

    def websocket(index: int) -> Door:
        async def send(operation: str, data: dict[str, Any]) -> Outcome:
            await client.send_json_auto_id(
                {"type": f"{DOMAIN}/{DOORS[operation][index]}", **data}
            )
            reply = await client.receive_json()
            if not reply["success"]:
                error = reply["error"]
                assert error["translation_domain"] == DOMAIN, error
                return "error", (
                    error["translation_key"],
                    error.get("translation_placeholders") or {},
                    error["message"],
                )
            if operation != "create":
                return "ok", None
            # The collection answers with the member, the panel with its id.
            result = reply["result"]
            return "ok", result.get("member_id", result.get("id"))

        return send

    return {"service": service, "websocket": websocket(1), "panel": websocket(2)}


def _comparable(member: dict[str, Any]) -> dict[str, Any]:
    """A stored member without what differs by when it was written."""
    shown = {k: v for k, v in member.items() if k not in ("created", "updated")}
    shown["credentials"] = [
        {
            k: v
            for k, v in credential.items()
            if k not in ("id", "created", "pin_hash", "last_used")
        }
        for credential in member["credentials"]
    ]
    return shown


def _english(key: str, placeholders: dict[str, str]) -> str:
    # Home Assistant drops a message's final full stop.
    return str(EN[key]["message"]).format(**placeholders).rstrip(".")


async def test_the_doors_create_update_and_delete_alike(
    engine: AccessEngine, doors: dict[str, Door]
) -> None:
    """The same input through each door stores the same member, changes and deletes it."""
    stored = {}
    for door, send in doors.items():
        outcome = await send(
            "create",
            {
                "name": "Eve",
                "email": "eve@example.com",
                "role": "staff",
                "cards": ["E1"],
                "pin": "initial-pin",
            },
        )
        assert outcome == ("ok", "eve"), door
        assert await send(
            "update", {"member_id": "eve", "active": False, "cards": ["E1", "E2"]}
        ) == ("ok", None)
        stored[door] = _comparable(engine.members.data["eve"])
        assert await send("delete", {"member_id": "eve"}) == ("ok", None)
        assert "eve" not in engine.members.data
    assert stored["service"]["active"] is False
    assert [c.get("card") for c in stored["service"]["credentials"]] == [
        "E1",
        "E2",
        None,  # the initial PIN
    ]
    assert stored["websocket"] == stored["service"]
    assert stored["panel"] == stored["service"]


@pytest.mark.parametrize(
    ("operation", "data", "key", "placeholders"),
    [
        ("create", {"name": "Ada"}, "member_name_taken", {"name": "Ada"}),
        ("create", {"name": "  ADA  "}, "member_name_taken", {"name": "ADA"}),
        ("create", {"name": "Eve", "cards": ["A1"]}, "card_in_use", {"card": "A1"}),
        ("create", {"name": "Eve", "pin": "123"}, "pin_too_short", {"min": "6"}),
        (
            "update",
            {"member_id": "ghost", "role": "admin"},
            "unknown_member",
            {"member": "ghost"},
        ),
        (
            "update",
            {"member_id": "bob", "name": "ada"},
            "member_name_taken",
            {"name": "ada"},
        ),
        (
            "update",
            {"member_id": "bob", "cards": ["A1"]},
            "card_in_use",
            {"card": "A1"},
        ),
        ("delete", {"member_id": "ghost"}, "unknown_member", {"member": "ghost"}),
        ("delete", {"member_id": "root"}, "cannot_delete_self", {}),
    ],
)
async def test_the_doors_refuse_alike(
    engine: AccessEngine,
    doors: dict[str, Door],
    hass_admin_user: MockUser,
    operation: str,
    data: dict[str, Any],
    key: str,
    placeholders: dict[str, str],
) -> None:
    """Each door refuses the same bad input with the same translated error."""
    await engine.members.async_create_item({"name": "Ada", "cards": ["A1"]})
    await engine.members.async_create_item({"name": "Bob"})
    await engine.members.async_create_item(
        {"name": "Root", "role": "admin", "user_id": hass_admin_user.id}
    )
    before = {k: dict(v) for k, v in engine.members.data.items()}
    expected = ("error", (key, placeholders, _english(key, placeholders)))
    for door, send in doors.items():
        assert await send(operation, data) == expected, door
        assert {k: dict(v) for k, v in engine.members.data.items()} == before, door


async def test_a_confirmed_same_name_is_added_by_every_door(
    engine: AccessEngine, doors: dict[str, Door]
) -> None:
    """``allow_same_name`` is the admin's confirmation: each door then adds the member."""
    await engine.members.async_create_item({"name": "Ada"})
    await engine.members.async_create_item({"name": "Bob"})
    added = [
        (await send("create", {"name": "Ada", "allow_same_name": True}))[1]
        for send in doors.values()
    ]
    assert added == ["ada_2", "ada_3", "ada_4"]
    for send in doors.values():
        assert await send(
            "update", {"member_id": "bob", "name": "ADA", "allow_same_name": True}
        ) == ("ok", None)
    assert [m["name"] for m in engine.members.data.values()].count("Ada") == 4
    assert engine.members.data["bob"]["name"] == "ADA"


# Grants: grant_authorization, authorization/create and panel/admin/grant ------------

GRANT_DOORS: dict[str, tuple[str, str, str]] = {
    "grant": ("grant_authorization", "authorization/create", "panel/admin/grant"),
    "revoke": ("revoke_authorization", "authorization/delete", "panel/admin/revoke"),
}


@pytest.fixture
async def grant_doors(
    hass: HomeAssistant,
    engine: AccessEngine,
    hass_ws_client: WebSocketGenerator,
    hass_admin_user: MockUser,
) -> dict[str, Door]:
    """Grant and revoke through each door; the panel takes ``member_ids``."""
    client = await hass_ws_client(hass)

    async def service(operation: str, data: dict[str, Any]) -> Outcome:
        name = GRANT_DOORS[operation][0]
        try:
            reply = await call(
                hass, name, data, hass_admin_user, response=operation == "grant"
            )
        except ServiceValidationError as err:
            return "error", (
                err.translation_key,
                err.translation_placeholders or {},
                str(err),
            )
        return "ok", reply["authorization_id"] if reply else None

    def websocket(index: int) -> Door:
        async def send(operation: str, data: dict[str, Any]) -> Outcome:
            if index == 2 and "member_id" in data and operation == "grant":
                data = {**data, "member_ids": [data["member_id"]]}
                del data["member_id"]
            await client.send_json_auto_id(
                {"type": f"{DOMAIN}/{GRANT_DOORS[operation][index]}", **data}
            )
            reply = await client.receive_json()
            if not reply["success"]:
                error = reply["error"]
                return "error", (
                    error.get("translation_key"),
                    error.get("translation_placeholders") or {},
                    error["message"],
                )
            if operation != "grant":
                return "ok", None
            result = reply["result"]
            return "ok", result.get("id") or result["authorization_ids"][0]

        return send

    return {"service": service, "websocket": websocket(1), "panel": websocket(2)}


async def test_the_doors_grant_and_revoke_alike(
    engine: AccessEngine, grant_doors: dict[str, Door]
) -> None:
    """The same grant through each door stores the same authorization."""
    await engine.members.async_create_item({"name": "Ada"})
    stored = {}
    for door, send in grant_doors.items():
        outcome = await send(
            "grant", {"member_id": "ada", "machine_type_id": "fumehood"}
        )
        assert outcome == ("ok", "ada_fumehood"), door
        stored[door] = {
            k: v
            for k, v in engine.authorizations.data["ada_fumehood"].items()
            if k != "granted"
        }
        assert await send("revoke", {"authorization_id": "ada_fumehood"}) == (
            "ok",
            None,
        )
        assert not engine.authorizations.data, door
    assert stored["service"] == {
        "id": "ada_fumehood",
        "member_id": "ada",
        "machine_type_id": "fumehood",
    }
    assert stored["websocket"] == stored["service"]
    assert stored["panel"] == stored["service"]


@pytest.mark.parametrize(
    ("operation", "data", "key", "placeholders"),
    [
        (
            "grant",
            {"member_id": "ghost", "machine_type_id": "fumehood"},
            "unknown_member",
            {"member": "ghost"},
        ),
        (
            "grant",
            {"member_id": "ada", "machine_type_id": "toaster"},
            "unknown_machine_type",
            {"machine_type": "toaster"},
        ),
        ("grant", {"member_id": "ada"}, "authorization_target", {}),
        (
            "revoke",
            {"authorization_id": "ghost"},
            "unknown_authorization",
            {"authorization": "ghost"},
        ),
    ],
)
async def test_the_doors_refuse_grants_alike(
    engine: AccessEngine,
    grant_doors: dict[str, Door],
    operation: str,
    data: dict[str, Any],
    key: str,
    placeholders: dict[str, str],
) -> None:
    """Each door refuses the same bad grant with the same translated error."""
    await engine.members.async_create_item({"name": "Ada"})
    expected = ("error", (key, placeholders, _english(key, placeholders)))
    for door, send in grant_doors.items():
        assert await send(operation, data) == expected, door
        assert not engine.authorizations.data, door


async def test_granting_again_renews_through_every_door(
    engine: AccessEngine, grant_doors: dict[str, Door]
) -> None:
    """A grant the member already has renews it; it neither doubles nor wipes it."""
    await engine.members.async_create_item({"name": "Ada"})
    first = await engine.authorizations.async_create_item(
        {
            "member_id": "ada",
            "machine_type_id": "fumehood",
            "expires": "2027-01-31T00:00:00+00:00",
            "trainer": True,
        }
    )
    for door, send in grant_doors.items():
        expires = {"service": "2027-06-30", "websocket": "2027-07-31"}.get(
            door, "2027-08-31"
        )
        outcome = await send(
            "grant",
            {
                "member_id": "ada",
                "machine_type_id": "fumehood",
                "expires": f"{expires}T00:00:00+00:00",
            },
        )
        assert outcome == ("ok", first["id"]), door
        assert list(engine.authorizations.data) == [first["id"]], door
        renewed = engine.authorizations.data[first["id"]]
        assert renewed["expires"].startswith(expires), door
        # What the grant did not name stays: when it was first granted, the flags.
        assert renewed["granted"] == first["granted"], door
        assert renewed["trainer"] is True, door


async def test_a_second_grant_with_its_own_window_is_its_own_authorization(
    engine: AccessEngine, grant_doors: dict[str, Door]
) -> None:
    """Another time window is another authorization, stored beside the first."""
    await engine.members.async_create_item({"name": "Ada"})
    first = await engine.authorizations.async_create_item(
        {"member_id": "ada", "machine_type_id": "fumehood"}
    )
    outcome = await grant_doors["websocket"](
        "grant",
        {
            "member_id": "ada",
            "machine_type_id": "fumehood",
            "window_start": "08:00",
            "window_end": "12:00",
        },
    )
    assert outcome[0] == "ok"
    assert outcome[1] != first["id"]
    assert set(engine.authorizations.data) == {first["id"], outcome[1]}
    assert engine.authorizations.data[first["id"]].get("window_start") is None


async def test_the_operations_answer_typed_results(engine: AccessEngine) -> None:
    """A member result is the typed member, a grant the typed authorizations.

    The doors' replies are read from storage at the edge (``as_wire``); the
    result's repr names nobody.
    """
    result = await admin.async_create_member(
        engine.members,
        admin.MemberCreate(fields={"name": "Ada Lovelace", "email": "ada@lab.org"}),
    )
    assert isinstance(result.member, Member)
    assert result.member_id == result.member.id == "ada_lovelace"
    assert result.as_wire() == admin.public_member(engine.members.data["ada_lovelace"])
    assert "Ada" not in repr(result)
    assert "ada@lab.org" not in repr(result)
    changed = await admin.async_update_member(
        engine.members,
        admin.MemberUpdate(member_id="ada_lovelace", fields={"name": "Ada King"}),
    )
    assert changed.member.name == "Ada King"
    assert changed.as_wire()["name"] == "Ada King"

    (granted,) = await admin.async_grant(
        engine,
        admin.Grant(
            member_ids=("ada_lovelace",),
            machine_type_id="fumehood",
            fields={"window_start": "08:00", "window_end": "12:00"},
        ),
    )
    assert isinstance(granted, Authorization)
    assert granted == engine.authorizations.authorization(granted.id)
    assert granted.window_start == dt_time(8, 0)
    # The same target and window again renews that one (found by its typed view).
    (renewed,) = await admin.async_grant(
        engine,
        admin.Grant(
            member_ids=("ada_lovelace",),
            machine_type_id="fumehood",
            fields={"window_start": "08:00", "window_end": "12:00", "trainer": True},
        ),
    )
    assert renewed.id == granted.id
    assert renewed.trainer is True
    assert list(engine.authorizations.data) == [granted.id]
