"""Item 4, lapsing qualifications: last use, the lapsed reason, notices, renewal."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ServiceValidationError, Unauthorized
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockUser,
    async_capture_events,
    async_fire_time_changed,
    async_mock_service,
)

from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.access.lapses import add_months
from custom_components.fluxilab.access.lapsing import ISSUE_LAPSING
from custom_components.fluxilab.access.notify import EVENT_NOTIFICATION
from custom_components.fluxilab.access.sync import credential_members
from custom_components.fluxilab.const import DOMAIN, EVENT_ACCESS, EVENT_LAB
from custom_components.fluxilab.device.runtime import FluxiLabDevice
from custom_components.fluxilab.logbook import describe_access, describe_lab
from custom_components.fluxilab.protocol.access import AccessRecord

from .conftest import MACHINE_TYPE, answer_request

CARD = "04AABBCC"
START = datetime(datetime.now(UTC).year + 2, 1, 10, 12, 0, tzinfo=UTC)
"""Later than the real date the test starts at: the daily job's timer, scheduled
before the clock is frozen, is due by the frozen dates."""


@pytest.fixture(autouse=True)
def safe_airflow(device: FluxiLabDevice) -> None:
    """Face velocity inside the fumehood type's limit."""
    device.values["face_velocity"] = 0.5


@pytest.fixture
async def ada(
    hass: HomeAssistant,
    engine: AccessEngine,
    freezer: FrozenDateTimeFactory,
    hass_read_only_user: MockUser,
) -> dict[str, Any]:
    """Ada, authorized on 10 January for fumehoods, which lapse after 6 months."""
    freezer.move_to(START)
    await engine.machine_types.async_update_item(
        MACHINE_TYPE, {"lapse_after_months": 6}
    )
    member = await engine.members.async_create_item(
        {
            "name": "Ada",
            "cards": [CARD],
            "user_id": hass_read_only_user.id,
            "notify_service": "notify.ada_phone",
        }
    )
    await engine.authorizations.async_create_item(
        {"member_id": member["id"], "machine_type_id": MACHINE_TYPE}
    )
    await hass.async_block_till_done()
    return member


def auth_of(engine: AccessEngine, member: dict[str, Any]) -> dict[str, Any]:
    return engine.authorizations.of_member(member["id"])[0]


async def swipe(engine: AccessEngine, device: FluxiLabDevice) -> dict[str, Any]:
    return await answer_request(
        engine, device, {"id": "r1", "action": "check", "card": CARD}
    )


def test_add_months() -> None:
    assert add_months(datetime(2026, 1, 31, tzinfo=UTC), 1) == datetime(
        2026, 2, 28, tzinfo=UTC
    )
    assert add_months(datetime(2027, 11, 30, tzinfo=UTC), 3) == datetime(
        2028, 2, 29, tzinfo=UTC
    )
    assert add_months(datetime(2026, 6, 15, tzinfo=UTC), 12) == datetime(
        2027, 6, 15, tzinfo=UTC
    )


async def test_use_keeps_it_alive_and_lapses_after_months_unused(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    ada: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    """Never used: counts from the grant; each granted use restarts the months."""
    events = async_capture_events(hass, EVENT_ACCESS)
    freezer.move_to(START + timedelta(days=170))  # under 6 months from the grant
    assert (await swipe(engine, device))["granted"] is True
    used = START + timedelta(days=170)
    assert auth_of(engine, ada)["last_used"] == used.isoformat()
    auth_id = auth_of(engine, ada)["id"]
    assert engine.history.data["last_used"][auth_id] == used.isoformat()
    freezer.move_to(add_months(used, 6) - timedelta(minutes=1))
    assert (await swipe(engine, device))["granted"] is True
    last = add_months(used, 6) - timedelta(minutes=1)
    freezer.move_to(add_months(last, 6))
    reply = await swipe(engine, device)
    assert reply["granted"] is False
    assert reply["reason"] == "lapsed"
    # The refused swipe did not renew it.
    assert auth_of(engine, ada)["last_used"] == last.isoformat()
    assert (await swipe(engine, device))["reason"] == "lapsed"
    await hass.async_block_till_done()
    assert events[-1].data["reason"] == "lapsed"
    assert events[-1].data["member_id"] == ada["id"]
    assert events[-1].data["card"] == engine.privacy.card(CARD)
    assert events[-1].data["user_id"] == ada["user_id"]
    assert describe_access(events[-1].data) == (
        "denied access to a member: authorization lapsed for lack of use"
    )


async def test_never_used_lapses_from_the_grant(
    engine: AccessEngine,
    device: FluxiLabDevice,
    ada: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.move_to(add_months(START, 6))
    assert (await swipe(engine, device))["reason"] == "lapsed"


async def test_types_without_the_rule_never_lapse(
    engine: AccessEngine,
    device: FluxiLabDevice,
    ada: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    await engine.machine_types.async_update_item(
        MACHINE_TYPE, {"lapse_after_months": None}
    )
    freezer.move_to(START + timedelta(days=3000))
    assert (await swipe(engine, device))["granted"] is True


async def test_expired_comes_before_lapsed(
    engine: AccessEngine,
    device: FluxiLabDevice,
    ada: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    await engine.authorizations.async_update_item(
        auth_of(engine, ada)["id"], {"expires": START + timedelta(days=30)}
    )
    freezer.move_to(START + timedelta(days=400))
    assert (await swipe(engine, device))["reason"] == "expired"


async def test_buffered_use_counts_with_its_own_time(
    engine: AccessEngine,
    device: FluxiLabDevice,
    ada: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    """A record the device buffered counts at its time; older never moves it back."""
    freezer.move_to(START + timedelta(days=100))
    recorded = START + timedelta(days=90)
    await engine.async_handle_record(
        device,
        AccessRecord.from_wire(
            {"action": "check", "card": CARD, "granted": True, "offline": True}
        ),
        recorded.timestamp(),
        True,
    )
    assert auth_of(engine, ada)["last_used"] == recorded.isoformat()
    await engine.async_handle_record(
        device,
        AccessRecord.from_wire(
            {"action": "check", "card": CARD, "granted": True, "offline": True}
        ),
        (recorded - timedelta(days=5)).timestamp(),
        True,
    )
    assert auth_of(engine, ada)["last_used"] == recorded.isoformat()
    # A lapsed authorization is not revived by a late offline grant.
    freezer.move_to(add_months(recorded, 7))
    await engine.async_handle_record(
        device,
        AccessRecord.from_wire(
            {"action": "check", "card": CARD, "granted": True, "offline": True}
        ),
        add_months(recorded, 6).timestamp() + 60,
        True,
    )
    assert auth_of(engine, ada)["last_used"] == recorded.isoformat()


async def test_notice_once_per_lapse_date_issue_and_renewal(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    ada: dict[str, Any],
    freezer: FrozenDateTimeFactory,
    hass_admin_user: MockUser,
    hass_read_only_user: MockUser,
) -> None:
    phone = async_mock_service(hass, "notify", "ada_phone")
    desk = async_mock_service(hass, "notify", "lab_desk")
    engine.history.data["settings"] = replace(
        engine.history.data["settings"], admin_notify_services=("notify.lab_desk",)
    )
    lab_events = async_capture_events(hass, EVENT_LAB)
    notifications = async_capture_events(hass, EVENT_NOTIFICATION)
    lapses = add_months(START, 6)
    registry = ir.async_get(hass)
    # 15 days ahead: outside the 14-day notice.
    freezer.move_to(lapses - timedelta(days=15))
    assert await engine.lapsing.async_check() == []
    assert phone == []
    assert registry.async_get_issue(DOMAIN, ISSUE_LAPSING) is None
    # The daily job at 09:00 local time, 10 days ahead.
    local = dt_util.as_local(lapses - timedelta(days=10))
    nine = local.replace(hour=9, minute=0, second=0, microsecond=0)
    freezer.move_to(nine)
    async_fire_time_changed(hass, nine)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(phone) == 1
    assert phone[0].data["title"] == "Your Fumehood authorization lapses soon"
    assert dt_util.as_local(lapses).date().isoformat() in phone[0].data["message"]
    assert phone[0].data["data"]["tag"].startswith("fluxilab_lapsing_")
    assert len(desk) == 1
    assert desk[0].data["title"] == "1 authorizations lapse soon"
    assert "- Ada: Fumehood" in desk[0].data["message"]
    auth_id = auth_of(engine, ada)["id"]
    assert lab_events[-1].data == {
        "type": "authorization_lapsing",
        "member_id": ada["id"],
        "member_name": None,  # names are off by default
        "user_id": hass_read_only_user.id,
        "card": None,
        "authorization_id": auth_id,
        "machine_type_id": MACHINE_TYPE,
        "fluxilab_device": None,
        "lapse_date": lapses.isoformat(),
        "cause": "inactivity",
    }
    assert lab_events[-1].context.user_id == hass_read_only_user.id
    assert describe_lab(lab_events[-1].data) == (
        f"the authorization of a member for {MACHINE_TYPE} lapses on {lapses.date()}"
    )
    assert {e.data["target"] for e in notifications} == {"member", "admins"}
    issue = registry.async_get_issue(DOMAIN, ISSUE_LAPSING)
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["count"] == "1"
    assert "Ada: Fumehood" in issue.translation_placeholders["authorizations"]
    # Told once: the next days repeat nothing.
    freezer.move_to(lapses - timedelta(days=3))
    await engine.lapsing.async_check()
    assert len(phone) == 1
    assert len(desk) == 1
    # Lapsed: still listed (lapsed), and gone from the device's offline mirror.
    freezer.move_to(lapses + timedelta(days=1))
    listed = await hass.services.async_call(
        DOMAIN,
        "lapsing",
        {},
        blocking=True,
        return_response=True,
        context=Context(user_id=hass_admin_user.id),
    )
    assert listed is not None
    assert [
        (a["authorization_id"], a["lapsed"], a["cause"])
        for a in listed["authorizations"]
    ] == [(auth_id, True, "inactivity")]
    await engine.lapsing.async_check()
    assert ada["id"] not in {m.id for m in credential_members(engine, device)}
    with pytest.raises(Unauthorized):
        await hass.services.async_call(
            DOMAIN,
            "lapsing",
            {},
            blocking=True,
            return_response=True,
            context=Context(user_id=hass_read_only_user.id),
        )
    with pytest.raises(Unauthorized):
        await hass.services.async_call(
            DOMAIN,
            "renew_authorization",
            {"authorization_id": auth_id},
            blocking=True,
            context=Context(user_id=hass_read_only_user.id),
        )
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "renew_authorization",
            {"authorization_id": "nope"},
            blocking=True,
            context=Context(user_id=hass_admin_user.id),
        )
    assert err.value.translation_key == "unknown_authorization"
    renewed = await hass.services.async_call(
        DOMAIN,
        "renew_authorization",
        {"authorization_id": auth_id},
        blocking=True,
        return_response=True,
        context=Context(user_id=hass_admin_user.id),
    )
    assert renewed == {
        "authorization_id": auth_id,
        "last_used": (lapses + timedelta(days=1)).isoformat(),
    }
    await hass.async_block_till_done()
    assert registry.async_get_issue(DOMAIN, ISSUE_LAPSING) is None
    assert (await swipe(engine, device))["granted"] is True
    assert (
        engine.history.data["last_used"][auth_id]
        == (lapses + timedelta(days=1)).isoformat()
    )


async def test_expiry_dates_are_noticed_too(
    hass: HomeAssistant,
    engine: AccessEngine,
    ada: dict[str, Any],
    freezer: FrozenDateTimeFactory,
    hass_admin_user: MockUser,
) -> None:
    """An authorization that expires within the notice period is lapsing too."""
    phone = async_mock_service(hass, "notify", "ada_phone")
    expires = START + timedelta(days=20)
    await engine.authorizations.async_update_item(
        auth_of(engine, ada)["id"], {"expires": expires}
    )
    freezer.move_to(START + timedelta(days=10))
    found = await engine.lapsing.async_check()
    assert [(f.cause, f.as_wire()["lapse_date"]) for f in found] == [
        ("expires", expires.isoformat())
    ]
    assert len(phone) == 1
    listed = await hass.services.async_call(
        DOMAIN,
        "lapsing",
        {"days": 5},
        blocking=True,
        return_response=True,
        context=Context(user_id=hass_admin_user.id),
    )
    assert listed == {"authorizations": []}
    # A new lapse date is a new notice.
    await engine.authorizations.async_update_item(
        auth_of(engine, ada)["id"], {"expires": expires + timedelta(days=1)}
    )
    await engine.lapsing.async_check()
    assert len(phone) == 2


async def test_member_profile_and_settings_over_websocket(
    hass: HomeAssistant,
    engine: AccessEngine,
    ada: dict[str, Any],
    hass_ws_client: Any,
    freezer: FrozenDateTimeFactory,
) -> None:
    shown = engine.lapsing.of_member(ada["id"])
    assert shown[0].as_wire()["lapse_date"] == add_months(START, 6).isoformat()
    assert shown[0].lapsed is False
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {"type": f"{DOMAIN}/access/settings", "lapse_notice_days": 200}
    )
    result = await client.receive_json()
    assert result["result"]["lapse_notice_days"] == 200
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, ISSUE_LAPSING) is not None
    await client.send_json_auto_id(
        {"type": f"{DOMAIN}/access/settings", "lapse_notice_days": 0}
    )
    assert (await client.receive_json())["success"] is False


async def test_panel_commands(
    hass: HomeAssistant,
    engine: AccessEngine,
    ada: dict[str, Any],
    hass_ws_client: Any,
    hass_read_only_user: MockUser,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Managers list and renew; a member sees their own lapse dates only."""
    refresh = await hass.auth.async_create_refresh_token(
        hass_read_only_user, "https://x.org/"
    )
    member = await hass_ws_client(hass, hass.auth.async_create_access_token(refresh))
    admin = await hass_ws_client(hass)

    async def ws(client: Any, verb: str, **data: Any) -> dict[str, Any]:
        await client.send_json_auto_id({"type": f"{DOMAIN}/lapsing/{verb}", **data})
        result: dict[str, Any] = await client.receive_json()
        return result

    lapses = add_months(START, 6)
    freezer.move_to(lapses + timedelta(days=2))
    auth_id = auth_of(engine, ada)["id"]
    mine = (await ws(member, "mine"))["result"]
    assert mine["notice_days"] == 14
    assert [(a["authorization_id"], a["lapsed"]) for a in mine["authorizations"]] == [
        (auth_id, True)
    ]
    assert (await ws(member, "list"))["error"]["code"] == "unauthorized"
    assert (await ws(member, "renew", authorization_id=auth_id))["error"][
        "code"
    ] == "unauthorized"
    listed = (await ws(admin, "list"))["result"]["authorizations"]
    assert [a["member_name"] for a in listed] == ["Ada"]
    unknown = await ws(admin, "renew", authorization_id="nope")
    assert unknown["error"]["translation_key"] == "unknown_authorization"
    renewed = await ws(admin, "renew", authorization_id=auth_id)
    assert renewed["result"] == {"last_used": (lapses + timedelta(days=2)).isoformat()}
    assert (await ws(admin, "list"))["result"]["authorizations"] == []
    # The machine type field and the panel's notification settings.
    await admin.send_json_auto_id(
        {
            "type": f"{DOMAIN}/notify/settings",
            "lapse_notice_days": 30,
            "interest_expiry_hours": 2,
            "admin_notify_services": ["notify.lab_desk"],
        }
    )
    assert (await admin.receive_json())["result"] == {
        "admin_notify_services": ["notify.lab_desk"],
        "lapse_notice_days": 30,
        "interest_expiry_hours": 2,
    }
    await member.send_json_auto_id(
        {"type": f"{DOMAIN}/notify/settings", "lapse_notice_days": 1}
    )
    assert (await member.receive_json())["error"]["code"] == "unauthorized"
    assert engine.history.data["settings"].lapse_notice_days == 30
    with pytest.raises(ServiceValidationError):
        await engine.machine_types.async_update_item(
            MACHINE_TYPE, {"lapse_after_months": 0}
        )


async def test_grant_carries_over_last_use(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    ada: dict[str, Any],
    freezer: FrozenDateTimeFactory,
    hass_admin_user: MockUser,
) -> None:
    """An authorization carried over from an earlier system lapses from its last use."""
    await engine.authorizations.async_delete_item(auth_of(engine, ada)["id"])
    freezer.move_to(START + timedelta(days=10))
    result = await hass.services.async_call(
        DOMAIN,
        "grant_authorization",
        {
            "member_id": ada["id"],
            "machine_type_id": MACHINE_TYPE,
            "last_used": (START - timedelta(days=200)).isoformat(),
        },
        blocking=True,
        return_response=True,
        context=Context(user_id=hass_admin_user.id),
    )
    assert result is not None
    assert (
        engine.history.data["last_used"][str(result["authorization_id"])]
        == (START - timedelta(days=200)).isoformat()
    )
    assert (await swipe(engine, device))["reason"] == "lapsed"


async def test_later_use_time_wins_after_a_restart(
    engine: AccessEngine, ada: dict[str, Any]
) -> None:
    auth = auth_of(engine, ada)
    newer, older = START + timedelta(days=3), START + timedelta(days=1)
    engine.history.data["last_used"][auth["id"]] = newer.isoformat()
    auth["last_used"] = older.isoformat()
    engine.lapsing.merge_stored_use()
    assert auth["last_used"] == newer.isoformat()
    auth["last_used"] = (newer + timedelta(days=1)).isoformat()
    engine.lapsing.merge_stored_use()
    assert engine.history.data["last_used"][auth["id"]] == auth["last_used"]


async def test_issue_follows_the_machine_type_rule(
    hass: HomeAssistant,
    engine: AccessEngine,
    ada: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    registry = ir.async_get(hass)
    freezer.move_to(add_months(START, 6) + timedelta(days=1))
    await engine.lapsing.async_check()
    assert registry.async_get_issue(DOMAIN, ISSUE_LAPSING) is not None
    await engine.machine_types.async_update_item(
        MACHINE_TYPE, {"lapse_after_months": None}
    )
    await hass.async_block_till_done()
    assert registry.async_get_issue(DOMAIN, ISSUE_LAPSING) is None
