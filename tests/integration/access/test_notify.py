"""Notifications (access/notify.py): where members and admins are reached, failures."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from homeassistant.core import Context, HomeAssistant, ServiceCall
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
    async_capture_events,
    async_mock_service,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.access.notify import (
    EVENT_NOTIFICATION,
    Notification,
    async_notification_text,
    async_notify_admins,
    async_notify_member,
    member_services,
)
from custom_components.fluxilab.const import DOMAIN

type Client = Any


def add_phone(hass: HomeAssistant, user_id: str, device_name: str) -> None:
    """Register a companion-app phone the way mobile_app stores it."""
    MockConfigEntry(
        domain="mobile_app",
        title=device_name,
        data={
            "user_id": user_id,
            "device_name": device_name,
            "app_id": "io.homeassistant.companion.android",
        },
    ).add_to_hass(hass)


@pytest.fixture
async def ws_as(hass: HomeAssistant, hass_ws_client: WebSocketGenerator) -> Any:
    """Open a websocket connection authenticated as a given user."""

    async def _connect(user: MockUser) -> Client:
        refresh = await hass.auth.async_create_refresh_token(user, "https://x.org/")
        return await hass_ws_client(hass, hass.auth.async_create_access_token(refresh))

    return _connect


async def ws_call(client: Client, type_: str, **data: Any) -> dict[str, Any]:
    await client.send_json_auto_id({"type": f"{DOMAIN}/{type_}", **data})
    result: dict[str, Any] = await client.receive_json()
    return result


async def test_own_notify_service_wins(
    hass: HomeAssistant, engine: AccessEngine
) -> None:
    """A member's notify_service gets title, message and the tag; the event says so."""
    calls = async_mock_service(hass, "notify", "ada_pager")
    phone = async_mock_service(hass, "notify", "mobile_app_ada_s_phone")
    events = async_capture_events(hass, EVENT_NOTIFICATION)
    user = await hass.auth.async_create_user("Ada")
    add_phone(hass, user.id, "Ada's Phone")
    member = await engine.members.async_create_item(
        {"name": "Ada", "user_id": user.id, "notify_service": "notify.ada_pager"}
    )
    used = await async_notify_member(
        hass,
        engine.members.known(member["id"]),
        title="T",
        message="M",
        tag="x",
        data={"url": "/fluxilab"},
    )
    assert used == ["notify.ada_pager"]
    assert calls[0].data == {
        "title": "T",
        "message": "M",
        "data": {"url": "/fluxilab", "tag": "x"},
    }
    assert calls[0].context.user_id == user.id
    assert phone == []
    await hass.async_block_till_done()
    assert events[-1].data == {
        "target": "member",
        "member_id": member["id"],
        "member_name": None,  # names are off by default
        "user_id": user.id,
        "title": "T",
        "message": "M",
        "tag": "x",
        "services": ["notify.ada_pager"],
    }
    assert events[-1].context.user_id == user.id


async def test_phones_of_the_linked_user(
    hass: HomeAssistant, engine: AccessEngine
) -> None:
    """Without a notify_service: every push-capable phone of the member's user."""
    ada_phone = async_mock_service(hass, "notify", "mobile_app_ada_s_phone")
    ada_tablet = async_mock_service(hass, "notify", "mobile_app_tablet")
    other = async_mock_service(hass, "notify", "mobile_app_bob_phone")
    ada = await hass.auth.async_create_user("Ada")
    bob = await hass.auth.async_create_user("Bob")
    add_phone(hass, ada.id, "Ada's Phone")
    add_phone(hass, ada.id, "Tablet")
    add_phone(hass, ada.id, "Old phone without push")  # no notify service
    add_phone(hass, bob.id, "Bob phone")
    member = await engine.members.async_create_item({"name": "Ada", "user_id": ada.id})
    assert member_services(hass, engine.members.known(member["id"])) == [
        "notify.mobile_app_ada_s_phone",
        "notify.mobile_app_tablet",
    ]
    used = await async_notify_member(
        hass, engine.members.known(member["id"]), title="T", message="M"
    )
    assert sorted(used) == ["notify.mobile_app_ada_s_phone", "notify.mobile_app_tablet"]
    assert len(ada_phone) == len(ada_tablet) == 1
    assert ada_phone[0].data == {"title": "T", "message": "M"}
    assert other == []


async def test_member_without_a_way_still_fires_the_event(
    hass: HomeAssistant, engine: AccessEngine
) -> None:
    events = async_capture_events(hass, EVENT_NOTIFICATION)
    member = await engine.members.async_create_item({"name": "Nobody"})
    assert (
        await async_notify_member(
            hass, engine.members.known(member["id"]), title="T", message="M"
        )
        == []
    )
    await hass.async_block_till_done()
    assert events[-1].data["services"] == []
    assert events[-1].data["member_id"] == member["id"]


async def test_failing_services_are_logged_not_raised(
    hass: HomeAssistant, engine: AccessEngine, caplog: pytest.LogCaptureFixture
) -> None:
    async def _broken(call: ServiceCall) -> None:
        raise HomeAssistantError("push gateway down")

    async def _crash(call: ServiceCall) -> None:
        raise RuntimeError("bug")

    hass.services.async_register("notify", "broken", _broken)
    hass.services.async_register("script", "crash", _crash)
    working = async_mock_service(hass, "notify", "working")
    for target in ("notify.broken", "script.crash", "notify.gone"):
        member = await engine.members.async_create_item(
            {"name": target, "notify_service": target}
        )
        assert (
            await async_notify_member(
                hass, engine.members.known(member["id"]), title="T", message="M"
            )
            == []
        )
    assert "Notification through notify.broken failed: push gateway down" in caplog.text
    assert "Notification through script.crash failed" in caplog.text
    assert "Notification not sent: notify.gone does not exist" in caplog.text
    engine.history.data["settings"] = replace(
        engine.history.data["settings"],
        admin_notify_services=("notify.broken", "notify.working"),
    )
    assert await async_notify_admins(hass, title="T", message="M") == ["notify.working"]
    assert len(working) == 1


@pytest.mark.parametrize(
    "value", ["notify", "light.turn_on", "notify.Bad Name", "homeassistant.stop", 5]
)
async def test_only_notify_or_script_targets(engine: AccessEngine, value: Any) -> None:
    """A member's target cannot be an arbitrary service."""
    with pytest.raises(HomeAssistantError):
        await engine.members.async_create_item({"name": "X", "notify_service": value})


async def test_admins_setting_and_persistent_notification(
    hass: HomeAssistant,
    engine: AccessEngine,
    ws_as: Any,
    hass_admin_user: MockUser,
    hass_read_only_user: MockUser,
) -> None:
    assert await async_setup_component(hass, "persistent_notification", {})
    desk = async_mock_service(hass, "notify", "lab_desk")
    events = async_capture_events(hass, EVENT_NOTIFICATION)
    reader = await ws_as(hass_read_only_user)
    refused = await ws_call(
        reader, "access/settings", admin_notify_services=["notify.lab_desk"]
    )
    assert refused["error"]["code"] == "unauthorized"
    admin = await ws_as(hass_admin_user)
    bad = await ws_call(admin, "access/settings", admin_notify_services=["lock.open"])
    assert bad["success"] is False
    saved = await ws_call(
        admin, "access/settings", admin_notify_services=["notify.lab_desk"]
    )
    assert saved["result"]["admin_notify_services"] == ["notify.lab_desk"]
    used = await async_notify_admins(hass, title="Lab", message="Hello", tag="t1")
    assert used == ["notify.lab_desk"]
    assert desk[0].data == {"title": "Lab", "message": "Hello", "data": {"tag": "t1"}}
    await hass.async_block_till_done()
    assert events[-1].data["target"] == "admins"
    assert events[-1].data["services"] == ["notify.lab_desk"]
    await admin.send_json_auto_id({"type": "persistent_notification/get"})
    notes = (await admin.receive_json())["result"]
    assert [(n["notification_id"], n["title"], n["message"]) for n in notes] == [
        (f"{DOMAIN}_t1", "Lab", "Hello")
    ]


async def test_member_chooses_own_target_in_the_panel(
    hass: HomeAssistant,
    engine: AccessEngine,
    ws_as: Any,
    hass_read_only_user: MockUser,
    hass_admin_user: MockUser,
) -> None:
    async_mock_service(hass, "notify", "mobile_app_pixel")
    add_phone(hass, hass_read_only_user.id, "Pixel")
    member = await engine.members.async_create_item(
        {"name": "Ada", "user_id": hass_read_only_user.id}
    )
    client = await ws_as(hass_read_only_user)
    shown = await ws_call(client, "notify/get")
    assert shown["result"] == {
        "notify_service": None,
        # The phone as its owner named it, for the picker (not the service's slug).
        "phone_names": {"notify.mobile_app_pixel": "Pixel"},
        "phones": ["notify.mobile_app_pixel"],
        "services": ["notify.mobile_app_pixel"],
    }
    bad = await ws_call(client, "notify/set", notify_service="switch.turn_on")
    assert bad["success"] is False
    # A member may not route their own notices through a script, or to a phone
    # that is not theirs: only managers choose such targets.
    for target in ("script.tell_ada", "notify.mobile_app_bob_phone"):
        refused = await ws_call(client, "notify/set", notify_service=target)
        assert refused["success"] is False
        assert refused["error"]["translation_key"] == "notify_target_not_own"
        assert engine.members.data[member["id"]].get("notify_service") is None
    chosen = await ws_call(
        client, "notify/set", notify_service="notify.mobile_app_pixel"
    )
    assert chosen["result"]["services"] == ["notify.mobile_app_pixel"]
    cleared = await ws_call(client, "notify/set", notify_service=None)
    assert cleared["result"]["services"] == ["notify.mobile_app_pixel"]
    # The update_member service: a member may set their own phone, nothing else.
    await hass.services.async_call(
        DOMAIN,
        "update_member",
        {"member_id": member["id"], "notify_service": "notify.mobile_app_pixel"},
        blocking=True,
        context=Context(user_id=hass_read_only_user.id),
    )
    assert engine.members.data[member["id"]]["notify_service"] == (
        "notify.mobile_app_pixel"
    )
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "update_member",
            {"member_id": member["id"], "notify_service": "script.tell_ada"},
            blocking=True,
            context=Context(user_id=hass_read_only_user.id),
        )
    assert err.value.translation_key == "notify_target_not_own"
    # A manager may route a member's notices through a script.
    await hass.services.async_call(
        DOMAIN,
        "update_member",
        {"member_id": member["id"], "notify_service": "script.tell_ada"},
        blocking=True,
        context=Context(user_id=hass_admin_user.id),
    )
    assert engine.members.data[member["id"]]["notify_service"] == "script.tell_ada"
    stranger = await ws_as(hass_admin_user)  # no linked member
    missing = await ws_call(stranger, "notify/get")
    assert missing["error"]["code"] == "not_found"


async def test_notification_texts_are_translated(hass: HomeAssistant) -> None:
    hass.config.language = "it"
    title, message = await async_notification_text(hass, "device_free", device="Laser")
    assert title == "Laser è libero"
    hass.config.language = "en"
    title, message = await async_notification_text(hass, "device_free", device="Laser")
    assert (title, message) == (
        "Laser is free",
        "Laser is free now: you asked to be told.",
    )
    assert await async_notification_text(hass, "no_such_text") == (
        "no_such_text",
        "no_such_text",
    )


def test_a_notification_is_the_service_call_data_and_names_nobody_in_a_repr() -> None:
    notification = Notification(
        title="Ada's authorization lapses",
        message="Ada Lovelace has not used the laser",
        tag="fluxilab_lapsing_a1",
        app_data={"url": "/fluxilab"},
    )
    assert notification.as_wire() == {
        "title": "Ada's authorization lapses",
        "message": "Ada Lovelace has not used the laser",
        "data": {"url": "/fluxilab", "tag": "fluxilab_lapsing_a1"},
    }
    assert Notification(title="t", message="m").as_wire() == {
        "title": "t",
        "message": "m",
    }
    assert "Ada" not in repr(notification)
    assert "fluxilab_lapsing_a1" in repr(notification)
