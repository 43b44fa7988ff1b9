"""The panel's admin commands refuse ids that do not exist (a stale page, a second
admin who deleted it first) with a translated error, and change nothing."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockUser

from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.history_db import LiveSession
from tests.integration.test_panel import (  # noqa: F401  # fixtures
    HOOD,
    ClientFactory,
    command,
    engine,
    fast_bcrypt,
    ws_as,
)


@pytest.mark.parametrize(
    ("type_", "data", "key", "placeholder"),
    [
        (
            "admin/member_update",
            {"member_id": "ghost", "name": "G"},
            "unknown_member",
            "ghost",
        ),
        ("admin/member_delete", {"member_id": "ghost"}, "unknown_member", "ghost"),
        (
            "admin/assign_card",
            {"member_id": "ghost", "card": "CAFE01"},
            "unknown_member",
            "ghost",
        ),
        ("admin/member_export", {"member_id": "ghost"}, "unknown_member", "ghost"),
        (
            "admin/grant",
            {"member_ids": ["alice"], "machine_type_id": "toaster"},
            "unknown_machine_type",
            "toaster",
        ),
        (
            "admin/grant",
            {"member_ids": ["alice"], "device_id": "hood-99"},
            "unknown_device",
            "hood-99",
        ),
        ("admin/grant", {"member_ids": ["alice"]}, "authorization_target", None),
        (
            "admin/revoke",
            {"authorization_id": "alice_toaster"},
            "unknown_authorization",
            "alice_toaster",
        ),
        (
            "admin/machine_type_save",
            {"machine_type_id": "toaster", "name": "Toaster"},
            "unknown_machine_type",
            "toaster",
        ),
        (
            "admin/machine_type_delete",
            {"machine_type_id": "toaster"},
            "unknown_machine_type",
            "toaster",
        ),
    ],
)
async def test_unknown_ids_are_refused(
    hass: HomeAssistant,
    engine: AccessEngine,  # noqa: F811
    ws_as: ClientFactory,  # noqa: F811
    hass_admin_user: MockUser,
    type_: str,
    data: dict[str, Any],
    key: str,
    placeholder: str | None,
) -> None:
    before = (
        dict(engine.members.data),
        dict(engine.authorizations.data),
        dict(engine.machine_types.data),
    )
    reply = await command(await ws_as(hass_admin_user), type_, **data)
    assert reply["success"] is False
    assert reply["error"]["translation_key"] == key
    if placeholder is not None:
        assert placeholder in reply["error"]["message"]
    assert (
        dict(engine.members.data),
        dict(engine.authorizations.data),
        dict(engine.machine_types.data),
    ) == before


async def test_a_machine_type_in_use_is_not_deleted(
    hass: HomeAssistant,
    engine: AccessEngine,  # noqa: F811
    ws_as: ClientFactory,  # noqa: F811
    hass_admin_user: MockUser,
) -> None:
    reply = await command(
        await ws_as(hass_admin_user),
        "admin/machine_type_delete",
        machine_type_id="fumehood",
    )
    assert reply["error"]["translation_key"] == "invalid_data"
    assert "authorizations still refer to fumehood" in reply["error"]["message"]
    assert "fumehood" in engine.machine_types.data


async def test_grant_to_one_device_with_expiry_and_trainer(
    hass: HomeAssistant,
    engine: AccessEngine,  # noqa: F811
    ws_as: ClientFactory,  # noqa: F811
    hass_admin_user: MockUser,
) -> None:
    reply = await command(
        await ws_as(hass_admin_user),
        "admin/grant",
        member_ids=["alice"],
        device_id=HOOD,
        expires="2099-01-31",
        trainer=True,
    )
    assert reply["success"] is True, reply
    (created,) = reply["result"]["authorization_ids"]
    authorization = engine.authorizations.data[created]
    assert authorization["member_id"] == "alice"
    assert authorization["device_id"] == HOOD
    assert authorization["trainer"] is True
    assert str(authorization["expires"]).startswith("2099-01-31")


async def test_change_pin_needs_a_member(
    hass: HomeAssistant,
    engine: AccessEngine,  # noqa: F811
    ws_as: ClientFactory,  # noqa: F811
    hass_admin_user: MockUser,
) -> None:
    # The HA admin is no lab member: there is no device PIN to change.
    reply = await command(
        await ws_as(hass_admin_user), "change_pin", new_pin="new-secret"
    )
    assert reply["error"]["translation_key"] == "no_member"


async def test_history_pages_with_limit_and_offset(
    hass: HomeAssistant,
    engine: AccessEngine,  # noqa: F811
    ws_as: ClientFactory,  # noqa: F811
    hass_admin_user: MockUser,
) -> None:
    engine.history.data["sessions"] += [
        LiveSession.from_entry(
            {
                "session_id": f"s-{number}",
                "device_id": HOOD,
                "member_id": "alice",
                "member_name": "Alice",
                "card": None,
                "start": 1_700_000_000.0 + number * 3600,
                "end": 1_700_000_000.0 + number * 3600 + 600,
                "duration": 600.0,
                "closed_by": "device",
                "buffered": False,
            }
        )
        for number in range(5)
    ]
    ws = await ws_as(hass_admin_user)
    first = (await command(ws, "admin/history", limit=2, order="desc"))["result"]
    assert [s["session_id"] for s in first["sessions"]] == ["s-4", "s-3"]
    assert first["next_offset"] == 2
    assert first["csv"].count("\n") == 3  # header and two rows
    last = (
        await command(ws, "admin/history", limit=2, offset=4, order="desc", csv=False)
    )["result"]
    assert [s["session_id"] for s in last["sessions"]] == ["s-0"]
    assert last["next_offset"] is None
    assert "csv" not in last
