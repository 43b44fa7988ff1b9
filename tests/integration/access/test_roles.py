"""Roles a lab names itself: the collection, members holding them, what they do."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockUser
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.fluxilab.access.const import Reason
from custom_components.fluxilab.access.decisions import authorization_reason
from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.access.errors import AccessValidationError
from custom_components.fluxilab.access.fabomatic import board_level
from custom_components.fluxilab.access.member_models import Member
from custom_components.fluxilab.access.permissions import Level, role_level
from custom_components.fluxilab.access.roles import (
    ROLE_FLAGS,
    LabRole,
    Role,
    RoleFlags,
    built_in_like,
    flags,
)
from custom_components.fluxilab.access.sync import credential_members
from custom_components.fluxilab.protocol.fabomatic import UserLevel
from tests.integration.conftest import DEVICE_ID

from .conftest import call

TECHNICIAN = {
    "id": "technician",
    "name": "Technician",
    "authorize_all": False,
    "maintenance": True,
    "supervisor": False,
    "manage": False,
    "book_for_others": False,
}


def holder(role: str) -> Member:
    """A member holding ``role`` (all ``flags`` reads of it)."""
    return Member(id="m-1", name="Holder", role=role)


def test_flags_of_built_in_and_lab_roles() -> None:
    """Built-in roles keep their flags; a lab role's come from the store."""
    roles = {
        "technician": LabRole.from_storage(TECHNICIAN),
        "admin": LabRole.from_storage({**TECHNICIAN, "id": "admin", "manage": False}),
    }
    assert flags(holder("admin"), roles) == ROLE_FLAGS[Role.ADMIN]  # not stored one
    assert flags(holder("staff"), {}) == ROLE_FLAGS[Role.STAFF]
    technician = flags(holder("technician"), roles)
    assert technician == RoleFlags(
        may_maintain=True,
        bypass_authorization=False,
        may_supervise=False,
        manage=False,
        may_book_for_others=False,
    )
    assert technician.as_role() == {
        k: v for k, v in TECHNICIAN.items() if k not in ("id", "name")
    }
    # A role gone from the store may do no more than a user.
    assert flags(holder("gone"), roles) == ROLE_FLAGS[Role.USER]


def test_lab_role_round_trip() -> None:
    """A stored role reads into ``LabRole`` and writes back as it was stored."""
    role = LabRole.from_storage(TECHNICIAN)
    assert role.id == "technician"
    assert role.name == "Technician"
    assert role.flags.may_maintain
    assert role.as_dict() == TECHNICIAN
    assert LabRole.from_storage(role.as_dict()) == role


async def test_typed_roles_are_built_once_per_change(engine: AccessEngine) -> None:
    """The typed roles are parsed after a change, not on every read (card checks)."""
    assert engine.roles.typed() == {}
    await engine.roles.async_create_item({"name": "Technician", "maintenance": True})
    first = engine.roles.typed()
    assert first["technician"].flags.may_maintain
    assert engine.roles.typed() is first  # no change: the same view
    assert engine.roles.flags("technician") is first["technician"].flags
    await engine.roles.async_update_item("technician", {"maintenance": False})
    assert engine.roles.typed() is not first
    assert not engine.roles.flags("technician").may_maintain
    await engine.roles.async_delete_item("technician")
    assert engine.roles.flags("technician") == ROLE_FLAGS[Role.USER]


@pytest.mark.parametrize(
    ("stored", "level", "board"),
    [
        ({}, Level.LAB_MEMBER, UserLevel.NORMAL_USER),
        ({"authorize_all": True}, Level.LAB_MEMBER, UserLevel.NORMAL_USER),
        ({"book_for_others": True}, Level.LAB_MEMBER, UserLevel.NORMAL_USER),
        ({"supervisor": True}, Level.LAB_STAFF, UserLevel.NORMAL_USER),
        ({"maintenance": True}, Level.LAB_STAFF, UserLevel.FAB_STAFF),
        ({"manage": True}, Level.LAB_ADMIN, UserLevel.FAB_ADMIN),
        ({"manage": True, "maintenance": True}, Level.LAB_ADMIN, UserLevel.FAB_ADMIN),
    ],
)
def test_level_and_board_level_follow_the_flags(
    stored: dict[str, bool], level: Level, board: UserLevel
) -> None:
    """manage: lab admin; maintenance or supervisor: staff; else a member."""
    role = RoleFlags.of_role(stored)
    assert role_level(role) is level
    assert board_level(role) is board
    assert (
        built_in_like(role)
        is {
            Level.LAB_ADMIN: Role.ADMIN,
            Level.LAB_STAFF: Role.STAFF,
            Level.LAB_MEMBER: Role.USER,
        }[level]
    )


def test_built_in_roles_keep_their_levels() -> None:
    """admin, staff and user are at the levels they always were, on the board too."""
    assert [role_level(ROLE_FLAGS[r]) for r in Role] == [
        Level.LAB_ADMIN,
        Level.LAB_STAFF,
        Level.LAB_MEMBER,
    ]
    assert [board_level(ROLE_FLAGS[r]) for r in Role] == [
        UserLevel.FAB_ADMIN,
        UserLevel.FAB_STAFF,
        UserLevel.NORMAL_USER,
    ]


async def test_lab_roles_are_stored_and_checked(engine: AccessEngine) -> None:
    """A role is a name and five flags; its id never is a built-in role's."""
    role = await engine.roles.async_create_item(
        {"name": "Technician", "maintenance": True}
    )
    assert role == TECHNICIAN
    clash = await engine.roles.async_create_item({"name": "Admin", "manage": True})
    assert clash["id"] == "admin_2"
    with pytest.raises(AccessValidationError) as err:
        await engine.roles.async_create_item({"name": "", "manage": True})
    assert err.value.translation_key == "invalid_data"
    with pytest.raises(AccessValidationError):
        await engine.roles.async_create_item({"name": "Odd", "manage": "maybe"})
    changed = await engine.roles.async_update_item(
        "technician", {"supervisor": True, "name": "Tech"}
    )
    assert changed == {**TECHNICIAN, "name": "Tech", "supervisor": True}


async def test_members_hold_built_in_or_lab_roles_only(engine: AccessEngine) -> None:
    """A member's role is refused unless it exists."""
    await engine.roles.async_create_item({"name": "Technician", "maintenance": True})
    tess = await engine.members.async_create_item(
        {"name": "Tess", "role": "technician"}
    )
    assert tess["role"] == "technician"
    with pytest.raises(AccessValidationError) as err:
        await engine.members.async_create_item({"name": "Mallory", "role": "owner"})
    assert err.value.translation_key == "unknown_role"
    with pytest.raises(AccessValidationError) as err:
        await engine.members.async_update_item(tess["id"], {"role": "owner"})
    assert err.value.translation_key == "unknown_role"
    assert engine.members.data[tess["id"]]["role"] == "technician"
    staff = await engine.members.async_update_item(tess["id"], {"role": "staff"})
    assert staff["role"] == "staff"


async def test_a_role_in_use_is_not_deleted(engine: AccessEngine) -> None:
    """Deleting a role some member has is refused, translated; unused, it goes."""
    await engine.roles.async_create_item({"name": "Technician", "maintenance": True})
    tess = await engine.members.async_create_item(
        {"name": "Tess", "role": "technician"}
    )
    with pytest.raises(AccessValidationError) as err:
        await engine.roles.async_delete_item("technician")
    assert err.value.translation_key == "role_in_use"
    assert err.value.translation_placeholders == {"role": "Technician", "count": "1"}
    assert "technician" in engine.roles.typed()
    await engine.members.async_update_item(tess["id"], {"role": "user"})
    await engine.roles.async_delete_item("technician")
    assert "technician" not in engine.roles.typed()


async def test_authorize_all_role_needs_no_authorization(engine: AccessEngine) -> None:
    """A lab role with authorize_all uses every machine type, as admins do."""
    await engine.roles.async_create_item({"name": "Tutor", "authorize_all": True})
    stored = await engine.members.async_create_item({"name": "Tina", "role": "tutor"})
    tina = engine.members.known(stored["id"])
    machine_type = engine.machine_types.machine_type("fumehood")
    reason = authorization_reason(
        tina,
        [],
        "hood-1",
        machine_type,
        dt_util.utcnow(),
        role=flags(tina, engine.roles.typed()),
    )
    assert reason is Reason.GRANTED
    plain = flags(holder("user"), engine.roles.typed())
    assert (
        authorization_reason(
            tina, [], "hood-1", machine_type, dt_util.utcnow(), role=plain
        )
        is Reason.NOT_AUTHORIZED
    )


async def test_role_commands_in_use_refused_over_websocket(
    hass: HomeAssistant,
    engine: AccessEngine,
    hass_ws_client: WebSocketGenerator,
    hass_admin_user: MockUser,
) -> None:
    """The role commands create, list and refuse deleting a role in use."""
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {"type": "fluxilab/role/create", "name": "Host", "manage": True}
    )
    reply = await client.receive_json()
    assert reply["success"], reply
    assert reply["result"]["id"] == "host"
    await hass.async_block_till_done()
    audited = [
        e.as_dict()
        for e in engine.history.data["audit"]
        if e.detail("target") == "role"
    ]
    assert [(e["action"], e["label"]) for e in audited] == [("created", "Host")]
    await engine.members.async_create_item({"name": "Hugo", "role": "host"})
    await client.send_json_auto_id({"type": "fluxilab/role/delete", "role_id": "host"})
    reply = await client.receive_json()
    assert not reply["success"]
    assert reply["error"]["translation_key"] == "role_in_use"
    await client.send_json_auto_id({"type": "fluxilab/role/list"})
    reply = await client.receive_json()
    assert [r["id"] for r in reply["result"]] == ["host"]


async def test_set_member_role_takes_a_lab_role(
    hass: HomeAssistant, engine: AccessEngine, hass_admin_user: MockUser
) -> None:
    """The services give a member a lab role; an unknown one is refused."""
    await engine.roles.async_create_item({"name": "Technician", "maintenance": True})
    tess = await engine.members.async_create_item({"name": "Tess"})
    await call(
        hass,
        "set_member_role",
        {"member_id": tess["id"], "role": "technician"},
        hass_admin_user,
    )
    assert engine.members.data[tess["id"]]["role"] == "technician"
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            "set_member_role",
            {"member_id": tess["id"], "role": "owner"},
            hass_admin_user,
        )
    assert err.value.translation_key == "unknown_role"


async def test_devices_are_told_the_built_in_role_a_lab_role_ranks_with(
    engine: AccessEngine,
) -> None:
    """The mirror's level is admin, staff or user (all the agent knows), by flags."""
    await engine.roles.async_create_item({"name": "Technician", "maintenance": True})
    await engine.roles.async_create_item({"name": "Tutor", "authorize_all": True})
    for name, role in (("Tess", "technician"), ("Tina", "tutor")):
        member = await engine.members.async_create_item(
            {"name": name, "role": role, "cards": [f"0A0B{len(name)}{name[-1]}"]}
        )
        await engine.authorizations.async_create_item(
            {"member_id": member["id"], "machine_type_id": "fumehood"}
        )
    entries = {
        e.name: e.as_wire()
        for e in credential_members(engine, engine.devices[DEVICE_ID])
    }
    assert (entries["Tess"]["level"], entries["Tess"]["maintenance"]) == (
        "staff",
        True,
    )
    assert (entries["Tina"]["level"], entries["Tina"]["maintenance"]) == (
        "user",
        False,
    )
