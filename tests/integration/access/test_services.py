"""Services: happy paths, permissions, validation, exports, GDPR, storage migration."""

from __future__ import annotations

import time
from typing import Any

from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ServiceValidationError, Unauthorized
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockUser

from custom_components.fluxilab.access import admin_audit
from custom_components.fluxilab.access.const import MEMBERS_STORAGE_KEY
from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.access.member_models import Member
from custom_components.fluxilab.access.store import MemberStore
from custom_components.fluxilab.const import DOMAIN
from custom_components.fluxilab.device.runtime import FluxiLabDevice
from custom_components.fluxilab.history_db import AuditQuery
from custom_components.fluxilab.protocol.access import AccessRecord

from .conftest import MACHINE_TYPE, answer_request


async def call(
    hass: HomeAssistant,
    service: str,
    data: dict[str, Any],
    user: MockUser | None = None,
) -> Any:
    return await hass.services.async_call(
        DOMAIN,
        service,
        data,
        blocking=True,
        context=Context(user_id=user.id) if user else None,
        return_response=service
        in {"export_usage", "export_member_data", "add_member", "purge"},
    )


async def test_member_lifecycle(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    ha_device_id: str,
    hass_admin_user: MockUser,
) -> None:
    result = await call(
        hass,
        "add_member",
        {"name": "Ada", "pin": "s3cret!", "cards": ["C1"]},
        hass_admin_user,
    )
    member_id = result["member_id"]
    assert (
        Member.from_storage(engine.members.data[member_id])
        .pin_hash()
        .startswith("$2b$")
    )
    await call(hass, "set_member_role", {"member_id": member_id, "role": "staff"})
    await call(hass, "set_member_active", {"member_id": member_id, "active": False})
    await call(hass, "add_card", {"member_id": member_id, "card": "C2"})
    await call(hass, "remove_card", {"card": "C1"})
    member = engine.members.data[member_id]
    assert (member["role"], member["active"], Member.from_storage(member).cards()) == (
        "staff",
        False,
        ["C2"],
    )
    auth = await call(
        hass,
        "grant_authorization",
        {"member_id": member_id, "machine_type_id": MACHINE_TYPE},
    )
    assert auth is None or "authorization_id" in auth
    (auth_id,) = engine.authorizations.data
    await call(hass, "revoke_authorization", {"authorization_id": auth_id})
    assert not engine.authorizations.data
    await call(hass, "block_device", {"device_id": ha_device_id})
    assert device.blocked is True
    await call(hass, "unblock_device", {"device_id": ha_device_id})
    assert device.blocked is False
    await call(hass, "remove_member", {"member_id": member_id})
    assert member_id not in engine.members.data


async def test_assign_last_unknown_card(
    hass: HomeAssistant, engine: AccessEngine, device: FluxiLabDevice, ha_device_id: str
) -> None:
    member = await engine.members.async_create_item({"name": "Ada"})
    await answer_request(engine, device, {"id": "1", "action": "check", "card": "NEW1"})
    await call(
        hass,
        "assign_last_unknown_card",
        {"device_id": ha_device_id, "member_id": member["id"]},
    )
    assert Member.from_storage(engine.members.data[member["id"]]).cards() == ["NEW1"]
    assert engine.history.last_unknown_card("hood-1") is None


async def test_non_admin_is_refused_and_nothing_changes(
    hass: HomeAssistant, engine: AccessEngine, hass_read_only_user: MockUser
) -> None:
    member = await engine.members.async_create_item({"name": "Ada"})
    for service, data in (
        ("add_member", {"name": "Eve"}),
        ("set_member_role", {"member_id": member["id"], "role": "admin"}),
        ("remove_member", {"member_id": member["id"]}),
        ("export_usage", {}),
        ("purge", {}),
    ):
        with pytest.raises(Unauthorized):
            await call(hass, service, data, hass_read_only_user)
    assert list(engine.members.data) == [member["id"]]
    assert engine.members.data[member["id"]]["role"] == "user"


async def test_pin_only_by_its_member(
    hass: HomeAssistant,
    engine: AccessEngine,
    hass_admin_user: MockUser,
    hass_read_only_user: MockUser,
) -> None:
    own = await engine.members.async_create_item(
        {"name": "Ada", "user_id": hass_read_only_user.id, "pin": "initial-1"}
    )
    with pytest.raises(Unauthorized):
        await call(
            hass,
            "update_member",
            {"member_id": own["id"], "pin": "654321"},
            hass_admin_user,
        )
    # Issue 14: the member's own change gives the current (here the initial) PIN.
    await call(
        hass,
        "update_member",
        {
            "member_id": own["id"],
            "current_pin": "initial-1",
            "pin": "654321",
            "name": "Ada L.",
        },
        hass_read_only_user,
    )
    assert Member.from_storage(engine.members.data[own["id"]]).pin_hash()
    assert engine.members.data[own["id"]]["name"] == "Ada L."
    other = await engine.members.async_create_item({"name": "Bob"})
    with pytest.raises(Unauthorized):
        await call(
            hass,
            "update_member",
            {"member_id": other["id"], "name": "X"},
            hass_read_only_user,
        )
    # Nor may a member re-link their own profile to another Home Assistant user.
    with pytest.raises(Unauthorized):
        await call(
            hass,
            "update_member",
            {"member_id": own["id"], "user_id": hass_admin_user.id},
            hass_read_only_user,
        )
    assert engine.members.data[own["id"]]["user_id"] == hass_read_only_user.id


async def test_cannot_delete_self(
    hass: HomeAssistant, engine: AccessEngine, hass_admin_user: MockUser
) -> None:
    me = await engine.members.async_create_item(
        {"name": "Root", "role": "admin", "user_id": hass_admin_user.id}
    )
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "remove_member", {"member_id": me["id"]}, hass_admin_user)
    assert err.value.translation_key == "cannot_delete_self"
    assert me["id"] in engine.members.data


@pytest.mark.parametrize(
    ("service", "data", "key"),
    [
        ("add_member", {"name": "Eve", "pin": "123"}, "pin_too_short"),
        ("add_member", {"name": "Eve", "pin": "é" * 40}, "pin_too_long"),
        ("add_member", {"name": "Eve", "cards": ["TAKEN"]}, "card_in_use"),
        ("add_card", {"member_id": "nobody", "card": "X"}, "unknown_member"),
        (
            "grant_authorization",
            {"member_id": "ada", "machine_type_id": "laser"},
            "unknown_machine_type",
        ),
        ("close_session", {"session_id": "none"}, "unknown_session"),
        ("block_device", {"device_id": "not-a-device"}, "unknown_device"),
    ],
)
async def test_bad_data_changes_nothing(
    hass: HomeAssistant,
    engine: AccessEngine,
    service: str,
    data: dict[str, Any],
    key: str,
) -> None:
    await engine.members.async_create_item({"name": "Ada", "cards": ["TAKEN"]})
    before = {k: dict(v) for k, v in engine.members.data.items()}
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, service, data)
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == key
    assert {k: dict(v) for k, v in engine.members.data.items()} == before
    assert not engine.authorizations.data


async def test_export_usage_and_close_session(
    hass: HomeAssistant, engine: AccessEngine, device: FluxiLabDevice, ha_device_id: str
) -> None:
    device.values["face_velocity"] = 0.6
    ada = await engine.members.async_create_item(
        {"name": "Ada", "cards": ["A"], "role": "admin"}
    )
    await answer_request(
        engine,
        device,
        {"id": "1", "action": "session_start", "card": "A", "session_id": "s1"},
    )
    await call(hass, "close_session", {"session_id": "s1"})
    assert engine.history.session("s1").closed_by == "service"  # type: ignore[union-attr]
    result = await call(
        hass, "export_usage", {"member_id": ada["id"], "device_id": ha_device_id}
    )
    assert [s["session_id"] for s in result["sessions"]] == ["s1"]
    lines = result["csv"].splitlines()
    assert lines[0].startswith("session_id,device_id,member_id")
    assert lines[1].startswith("s1,hood-1,")
    result = await call(
        hass, "export_usage", {"start": "2000-01-01", "end": "2000-01-02"}
    )
    assert result["sessions"] == []


async def test_gdpr_export_purge_and_member_deletion(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
) -> None:
    ada = await engine.members.async_create_item(
        {"name": "Ada", "cards": ["A"], "pin": "123456"}
    )
    old = time.time() - 400 * 86400
    await engine.async_handle_record(
        device,
        AccessRecord.from_wire(
            {"action": "session_stop", "session_id": "old", "card": "A", "duration": 60}
        ),
        old,
        True,
    )
    await answer_request(engine, device, {"id": "1", "action": "check", "card": "A"})
    engine.history.add_unknown_card("STALE", "hood-1", time.time() - 40 * 86400)
    data = await call(hass, "export_member_data", {"member_id": ada["id"]})
    assert data["member"]["has_pin"] is True
    assert "pin_hash" not in data["member"]
    assert [s["session_id"] for s in data["sessions"]] == ["old"]
    result = await call(hass, "purge", {})
    assert result["unknown_cards_deleted"] == 1
    assert engine.history.session("old").member_id is None  # type: ignore[union-attr]
    assert engine.history.data["audit"][-1].member_id == ada["id"]  # recent: kept
    await call(hass, "remove_member", {"member_id": ada["id"]})
    assert all(e.member_id is None for e in engine.history.data["audit"])
    assert all(e.card is None for e in engine.history.data["audit"])


async def test_gdpr_problem_reports_and_maintenance_notes(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
) -> None:
    """Their reports are in the export; erasure leaves reports and hours, nameless."""
    ada = await engine.members.async_create_item({"name": "Ada", "cards": ["A"]})
    bob = await engine.members.async_create_item({"name": "Bob", "role": "staff"})
    report = await engine.problems.async_report(
        device.device_id, engine.members.member(ada["id"]), "Ada saw the fan stop"
    )
    resolved = await engine.problems.async_report(
        device.device_id, engine.members.member(bob["id"]), "Loose"
    )
    await engine.problems.async_resolve(
        resolved.id,
        "tightened",
        door=admin_audit.Door(kind="service", operation="t", member_id=ada["id"]),
    )
    engine.history.usage(device.device_id)["hours"] = 12.5
    await engine.async_record_maintenance(device, ada["id"], "Ada changed the filter")
    await engine.async_record_maintenance(device, bob["id"], "Bob oiled it")
    data = await call(hass, "export_member_data", {"member_id": ada["id"]})
    assert [r["id"] for r in data["problem_reports"]] == [report.id, resolved.id]
    assert data["problem_reports"][0]["description"] == "Ada saw the fan stop"
    notes = [e.get("note") for e in data["audit"] if e["kind"] == "maintenance"]
    assert notes == ["Ada changed the filter"]

    await call(hass, "remove_member", {"member_id": ada["id"]})
    reports = engine.problems.data
    assert reports[report.id].member_id is None
    assert reports[resolved.id].resolved_by_member_id is None
    assert reports[resolved.id].member_id == bob["id"]
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"problem_report_{report.id}")
    assert issue is not None
    assert issue.translation_placeholders["reporter"] == "-"
    interventions = [
        e.as_dict() for e in engine.history.data["audit"] if e.kind == "maintenance"
    ]
    assert [(e["member_id"], e["note"], e["hours"]) for e in interventions] == [
        (None, None, 12.5),
        (bob["id"], "Bob oiled it", 12.5),
    ]
    await engine.history.async_flush()
    db = engine.history.database
    stored = await db.async_run(db.audit_page, AuditQuery(kind="maintenance"))
    assert sorted(e.detail("note") or "" for e in stored) == ["", "Bob oiled it"]


async def test_storage_migration(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    hass_storage[MEMBERS_STORAGE_KEY] = {
        "version": 1,
        "minor_version": 1,
        "key": MEMBERS_STORAGE_KEY,
        "data": {"items": [{"id": "ada", "name": "Ada", "card": "C1"}]},
    }
    store = MemberStore(hass, 1, MEMBERS_STORAGE_KEY, minor_version=3)
    data = await store.async_load()
    assert data is not None
    (item,) = data["items"]
    assert Member.from_storage(item).cards() == ["C1"]
    assert "card" not in item
    assert "cards" not in item
