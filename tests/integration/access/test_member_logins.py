"""One identity: a member's Home Assistant login is created with them, deactivated
with them and reactivated with them (access/logins.py), never the owner's or an
administrator's, every change audited; and only lab admins decide it."""

from __future__ import annotations

from typing import Any

from homeassistant.auth.const import GROUP_ID_USER
from homeassistant.auth.providers import homeassistant as auth_ha
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError, Unauthorized
import pytest
from pytest_homeassistant_custom_component.common import MockUser, flush_store
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.const import DOMAIN

from .conftest import call


@pytest.fixture
def provider(local_auth: auth_ha.HassAuthProvider) -> auth_ha.HassAuthProvider:
    """Home Assistant's username-and-password logins, as a real instance has them."""
    return local_auth


@pytest.fixture
async def lab_admin(hass: HomeAssistant, engine: AccessEngine) -> MockUser:
    """A lab admin who is no Home Assistant administrator."""
    user = MockUser(name="Boss").add_to_hass(hass)
    await engine.members.async_create_item(
        {"name": "Boss", "role": "admin", "user_id": user.id}
    )
    return user


def login_entries(engine: AccessEngine) -> list[dict[str, Any]]:
    return [
        e.as_dict()
        for e in engine.history.data["audit"]
        if e.kind == "admin" and e.detail("target") == "login"
    ]


async def _ws(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator, user: MockUser
) -> Any:
    refresh = await hass.auth.async_create_refresh_token(user, "https://example.com/")
    return await hass_ws_client(hass, hass.auth.async_create_access_token(refresh))


async def test_a_member_created_with_a_login_loses_and_regains_it_with_them(
    hass: HomeAssistant,
    engine: AccessEngine,
    provider: auth_ha.HassAuthProvider,
    lab_admin: MockUser,
    hass_ws_client: WebSocketGenerator,
) -> None:
    client = await _ws(hass, hass_ws_client, lab_admin)
    await client.send_json_auto_id(
        {
            "type": f"{DOMAIN}/panel/admin/member_create",
            "name": "Alice",
            "login_username": "alice",
            "login_password": "a long secret",
        }
    )
    reply = await client.receive_json()
    assert reply["success"], reply
    member = engine.members.data[reply["result"]["member_id"]]
    assert member["login_created_by_fluxilab"] is True
    assert member["deactivate_login"] is True
    user = await hass.auth.async_get_user(member["user_id"])
    assert user is not None
    assert (user.name, user.is_active, user.is_admin) == ("Alice", True, False)
    assert [g.id for g in user.groups] == [GROUP_ID_USER]
    # The login works with the password given, and only with it.
    await provider.async_validate_login("alice", "a long secret")
    with pytest.raises(auth_ha.InvalidAuth):
        await provider.async_validate_login("alice", "wrong")
    assert "a long secret" not in str(
        [e.as_dict() for e in engine.history.data["audit"]]
    )
    (created,) = login_entries(engine)
    assert (created["action"], created["member_id"]) == ("created", member["id"])
    assert created["actor_user_id"] == lab_admin.id
    assert created["operation"] == f"{DOMAIN}/panel/admin/member_create"

    await call(
        hass,
        "set_member_active",
        {"member_id": member["id"], "active": False},
        lab_admin,
    )
    assert user.is_active is False
    assert engine.logins.deactivated == {member["id"]: user.id}
    deactivated = login_entries(engine)[-1]
    assert deactivated["changes"] == {"is_active": {"before": True, "after": False}}
    assert (deactivated["door"], deactivated["operation"]) == (
        "service",
        "fluxilab.set_member_active",
    )
    assert deactivated["actor_user_id"] == lab_admin.id

    await call(
        hass,
        "set_member_active",
        {"member_id": member["id"], "active": True},
        lab_admin,
    )
    assert user.is_active is True
    assert engine.logins.deactivated == {}
    assert login_entries(engine)[-1]["changes"] == {
        "is_active": {"before": False, "after": True}
    }


async def test_what_fluxilab_deactivated_is_remembered_across_a_restart(
    hass: HomeAssistant,
    engine: AccessEngine,
    provider: auth_ha.HassAuthProvider,
    hass_storage: dict[str, Any],
) -> None:
    user = MockUser(name="Bob").add_to_hass(hass)
    member = await engine.members.async_create_item(
        {"name": "Bob", "user_id": user.id, "deactivate_login": True}
    )
    await engine.members.async_update_item(member["id"], {"active": False})
    await flush_store(engine.logins._store)
    assert hass_storage["fluxilab.member_logins"]["data"] == {member["id"]: user.id}


async def test_the_option_off_leaves_the_login_alone(
    hass: HomeAssistant, engine: AccessEngine, hass_admin_user: MockUser
) -> None:
    """A linked user who was there before keeps their login unless asked."""
    user = MockUser(name="Carol").add_to_hass(hass)
    member_id = (
        await call(
            hass,
            "add_member",
            {"name": "Carol", "user_id": user.id},
            hass_admin_user,
            response=True,
        )
    )["member_id"]
    member = engine.members.data[member_id]
    assert (member["deactivate_login"], member["login_created_by_fluxilab"]) == (
        False,
        False,
    )
    await call(
        hass,
        "set_member_active",
        {"member_id": member_id, "active": False},
        hass_admin_user,
    )
    await call(hass, "remove_member", {"member_id": member_id}, hass_admin_user)
    assert user.is_active is True
    assert login_entries(engine) == []


async def test_a_removed_member_takes_their_login_along(
    hass: HomeAssistant, engine: AccessEngine, hass_admin_user: MockUser
) -> None:
    user = MockUser(name="Dan").add_to_hass(hass)
    member_id = (
        await call(
            hass,
            "add_member",
            {"name": "Dan", "user_id": user.id, "deactivate_login": True},
            hass_admin_user,
            response=True,
        )
    )["member_id"]
    await call(hass, "remove_member", {"member_id": member_id}, hass_admin_user)
    assert user.is_active is False
    entry = login_entries(engine)[-1]
    # A deleted member is erased: the entry names nobody.
    assert (entry["member_id"], entry["member_name"]) == (None, None)
    assert entry["changes"] == {"is_active": {"before": True, "after": False}}


async def test_a_login_an_administrator_deactivated_stays_deactivated(
    hass: HomeAssistant, engine: AccessEngine
) -> None:
    """Reactivating a member restores only what FluxiLab deactivated."""
    user = MockUser(name="Eve").add_to_hass(hass)
    member = await engine.members.async_create_item(
        {"name": "Eve", "user_id": user.id, "deactivate_login": True}
    )
    await hass.auth.async_update_user(user, is_active=False)
    await engine.members.async_update_item(member["id"], {"active": False})
    assert engine.logins.deactivated == {}
    await engine.members.async_update_item(member["id"], {"active": True})
    assert user.is_active is False
    assert login_entries(engine) == []


@pytest.mark.parametrize("who", ["owner", "administrator"])
async def test_the_owner_and_administrators_are_never_deactivated(
    hass: HomeAssistant,
    engine: AccessEngine,
    hass_admin_user: MockUser,
    hass_owner_user: MockUser,
    who: str,
) -> None:
    user = hass_owner_user if who == "owner" else hass_admin_user
    member_id = (
        await call(
            hass,
            "add_member",
            {"name": "Root", "user_id": user.id},
            None,
            response=True,
        )
    )["member_id"]
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass, "update_member", {"member_id": member_id, "deactivate_login": True}
        )
    assert err.value.translation_key == "login_not_deactivatable"
    assert err.value.translation_placeholders == {"why": who}
    assert engine.members.data[member_id]["deactivate_login"] is False

    # Someone who became an administrator after the option was set is skipped.
    plain = MockUser(name="Later").add_to_hass(hass)
    later = await engine.members.async_create_item(
        {"name": "Later", "user_id": plain.id, "deactivate_login": True}
    )
    await hass.auth.async_update_user(plain, group_ids=["system-admin"])
    await call(hass, "set_member_active", {"member_id": later["id"], "active": False})
    assert plain.is_active is True
    entry = login_entries(engine)[-1]
    assert (entry["action"], entry["member_id"]) == ("skipped", later["id"])
    assert entry["changes"] == {"is_active": {"kept": True, "why": "administrator"}}


async def test_a_taken_username_creates_nothing(
    hass: HomeAssistant,
    engine: AccessEngine,
    provider: auth_ha.HassAuthProvider,
    hass_admin_user: MockUser,
) -> None:
    await provider.async_add_auth("frank", "first secret")
    users = len(await hass.auth.async_get_users())
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            "add_member",
            {"name": "Frank", "login_username": "frank", "login_password": "x"},
            hass_admin_user,
            response=True,
        )
    assert err.value.translation_key == "login_username_taken"
    assert len(await hass.auth.async_get_users()) == users
    assert not [m for m in engine.members.data.values() if m["name"] == "Frank"]

    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            "add_member",
            {
                "name": "Frank",
                "user_id": hass_admin_user.id,
                "login_username": "frank2",
                "login_password": "x",
            },
            hass_admin_user,
            response=True,
        )
    assert err.value.translation_key == "login_and_user"
    assert len(await hass.auth.async_get_users()) == users


async def test_a_member_that_cannot_be_created_leaves_no_login(
    hass: HomeAssistant,
    engine: AccessEngine,
    provider: auth_ha.HassAuthProvider,
    hass_admin_user: MockUser,
) -> None:
    await call(hass, "add_member", {"name": "Gina", "cards": ["AA11"]}, None)
    users = len(await hass.auth.async_get_users())
    with pytest.raises(ServiceValidationError):
        await call(
            hass,
            "add_member",
            {
                "name": "Gino",
                "cards": ["AA11"],  # another member's card: refused by the store
                "login_username": "gino",
                "login_password": "secret",
            },
            hass_admin_user,
            response=True,
        )
    assert len(await hass.auth.async_get_users()) == users
    with pytest.raises(auth_ha.InvalidAuth):
        await provider.async_validate_login("gino", "secret")


async def test_only_lab_admins_decide_a_members_login(
    hass: HomeAssistant, engine: AccessEngine
) -> None:
    staff = MockUser(name="Staff").add_to_hass(hass)
    await engine.members.async_create_item(
        {"name": "Staff", "role": "staff", "user_id": staff.id}
    )
    own = MockUser(name="Own").add_to_hass(hass)
    mine = await engine.members.async_create_item({"name": "Own", "user_id": own.id})
    with pytest.raises(Unauthorized):
        await call(
            hass,
            "update_member",
            {"member_id": mine["id"], "deactivate_login": True},
            staff,
        )
    with pytest.raises(Unauthorized):
        await call(
            hass,
            "add_member",
            {"name": "New", "login_username": "new", "login_password": "secret"},
            staff,
        )
    # A member's own profile is not where their login's fate is decided.
    with pytest.raises(Unauthorized):
        await call(
            hass,
            "update_member",
            {"member_id": mine["id"], "deactivate_login": True},
            own,
        )
    assert engine.members.data[mine["id"]]["deactivate_login"] is False
