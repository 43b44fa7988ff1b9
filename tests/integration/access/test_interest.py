"""Item 5, the interest queue: "tell me when it's free", once, then gone."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ServiceValidationError, Unauthorized
import pytest
from pytest_homeassistant_custom_component.common import (
    MockUser,
    async_capture_events,
    async_mock_service,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.access.history import AccessHistory
from custom_components.fluxilab.const import DOMAIN, EVENT_ACCESS
from custom_components.fluxilab.device.runtime import FluxiLabDevice
from custom_components.fluxilab.logbook import describe_access

from .conftest import MACHINE_TYPE, answer_request

CARD_A = "04AAAA01"


@pytest.fixture(autouse=True)
def safe_airflow(device: FluxiLabDevice) -> None:
    """Face velocity inside the fumehood type's limit."""
    device.values["face_velocity"] = 0.5


@pytest.fixture
async def lab(
    hass: HomeAssistant,
    engine: AccessEngine,
    hass_read_only_user: MockUser,
) -> dict[str, Any]:
    """Ann works at the fumehood; Bea (linked to the read-only user) and Cy wait."""
    ann = await engine.members.async_create_item({"name": "Ann", "cards": [CARD_A]})
    await engine.authorizations.async_create_item(
        {"member_id": ann["id"], "machine_type_id": MACHINE_TYPE}
    )
    bea = await engine.members.async_create_item(
        {
            "name": "Bea",
            "user_id": hass_read_only_user.id,
            "notify_service": "notify.bea_phone",
        }
    )
    cy = await engine.members.async_create_item(
        {"name": "Cy", "notify_service": "notify.cy_phone"}
    )
    return {"ann": ann, "bea": bea, "cy": cy}


async def start_session(engine: AccessEngine, device: FluxiLabDevice) -> str:
    reply = await answer_request(
        engine, device, {"id": "s1", "action": "session_start", "card": CARD_A}
    )
    assert reply["granted"] is True
    session_id: str = reply["session_id"]
    return session_id


async def stop_session(
    hass: HomeAssistant, engine: AccessEngine, device: FluxiLabDevice, session_id: str
) -> None:
    await answer_request(
        engine,
        device,
        {
            "id": "s2",
            "action": "session_stop",
            "session_id": session_id,
            "duration": 60,
        },
    )
    await hass.async_block_till_done()


async def call(
    hass: HomeAssistant, service: str, data: dict[str, Any], user: MockUser | None
) -> Any:
    return await hass.services.async_call(
        DOMAIN,
        service,
        data,
        blocking=True,
        return_response=True,
        context=Context(user_id=user.id if user else None),
    )


async def test_free_device_is_refused(
    hass: HomeAssistant,
    engine: AccessEngine,
    lab: dict[str, Any],
    ha_device_id: str,
    hass_read_only_user: MockUser,
) -> None:
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass, "notify_when_free", {"device_id": ha_device_id}, hass_read_only_user
        )
    assert err.value.translation_key == "device_free"
    assert err.value.translation_placeholders == {"device": "hood-1"}
    assert engine.history.data["interest"] == []


async def test_subscribers_told_once_when_free(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    lab: dict[str, Any],
    ha_device_id: str,
    hass_read_only_user: MockUser,
    hass_admin_user: MockUser,
) -> None:
    bea_phone = async_mock_service(hass, "notify", "bea_phone")
    cy_phone = async_mock_service(hass, "notify", "cy_phone")
    events = async_capture_events(hass, EVENT_ACCESS)
    session_id = await start_session(engine, device)
    first = await call(
        hass, "notify_when_free", {"device_id": ha_device_id}, hass_read_only_user
    )
    assert first["position"] == 1
    assert first["member_id"] == lab["bea"]["id"]
    second = await call(
        hass,
        "notify_when_free",
        {"device_id": ha_device_id, "member_id": lab["cy"]["id"]},
        hass_admin_user,
    )
    assert second["position"] == 2
    again = await call(
        hass, "notify_when_free", {"device_id": ha_device_id}, hass_read_only_user
    )
    assert again["position"] == 1
    assert len(engine.history.data["interest"]) == 2
    # A heartbeat or another swipe does not free it.
    assert bea_phone == []
    await stop_session(hass, engine, device, session_id)
    assert len(bea_phone) == 1
    assert len(cy_phone) == 1
    assert bea_phone[0].data["title"] == "Fumehood 1 is free"
    assert bea_phone[0].data["data"] == {
        "fluxilab_device": "hood-1",
        "tag": "fluxilab_free_hood-1",
    }
    notified = [e.data for e in events if e.data["type"] == "interest_notified"]
    assert [(n["member_id"], n["user_id"]) for n in notified] == [
        (lab["bea"]["id"], hass_read_only_user.id),
        (lab["cy"]["id"], None),
    ]
    assert notified[0]["fluxilab_device"] == "hood-1"
    assert notified[0]["device_id"] == ha_device_id
    assert describe_access(notified[0]) == "told a member it is free"  # names off
    assert engine.history.data["interest"] == []
    # The next session's end tells nobody: they were told once.
    session_id = await start_session(engine, device)
    await stop_session(hass, engine, device, session_id)
    assert len(bea_phone) == 1
    assert len(cy_phone) == 1


async def test_cancel_and_expiry(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    lab: dict[str, Any],
    ha_device_id: str,
    hass_read_only_user: MockUser,
    hass_admin_user: MockUser,
    freezer: FrozenDateTimeFactory,
) -> None:
    bea_phone = async_mock_service(hass, "notify", "bea_phone")
    cy_phone = async_mock_service(hass, "notify", "cy_phone")
    session_id = await start_session(engine, device)
    data = {"device_id": ha_device_id}
    await call(hass, "notify_when_free", data, hass_read_only_user)
    cancelled = await call(hass, "cancel_notify_when_free", data, hass_read_only_user)
    assert cancelled == {"cancelled": True}
    again = await call(hass, "cancel_notify_when_free", data, hass_read_only_user)
    assert again == {"cancelled": False}
    await call(
        hass,
        "notify_when_free",
        {**data, "member_id": lab["cy"]["id"]},
        hass_admin_user,
    )
    freezer.tick(timedelta(hours=8, seconds=1))  # interest_expiry_hours
    await stop_session(hass, engine, device, session_id)
    assert bea_phone == []
    assert cy_phone == []
    assert engine.history.data["interest"] == []


async def test_who_may_subscribe_whom(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    lab: dict[str, Any],
    ha_device_id: str,
    hass_read_only_user: MockUser,
    hass_admin_user: MockUser,
) -> None:
    await start_session(engine, device)
    with pytest.raises(Unauthorized):
        await call(
            hass,
            "notify_when_free",
            {"device_id": ha_device_id, "member_id": lab["cy"]["id"]},
            hass_read_only_user,
        )
    with pytest.raises(Unauthorized):
        await call(
            hass,
            "cancel_notify_when_free",
            {"device_id": ha_device_id, "member_id": lab["cy"]["id"]},
            hass_read_only_user,
        )
    with pytest.raises(ServiceValidationError) as err:
        # An admin without a linked member must name one.
        await call(
            hass, "notify_when_free", {"device_id": ha_device_id}, hass_admin_user
        )
    assert err.value.translation_key == "no_member"
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            "notify_when_free",
            {"device_id": ha_device_id, "member_id": "ghost"},
            hass_admin_user,
        )
    assert err.value.translation_key == "unknown_member"
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "notify_when_free", {"device_id": "nope"}, hass_read_only_user)
    assert err.value.translation_key == "unknown_device"


async def test_subscriptions_survive_a_restart(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    lab: dict[str, Any],
) -> None:
    await start_session(engine, device)
    engine.interest.async_subscribe(lab["bea"]["id"], device)
    await engine.history.async_save()
    reloaded = AccessHistory(hass)
    await reloaded.async_load()
    assert [(s.device_id, s.member_id) for s in reloaded.data["interest"]] == [
        ("hood-1", lab["bea"]["id"])
    ]


async def test_panel_commands(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    lab: dict[str, Any],
    hass_ws_client: WebSocketGenerator,
    hass_read_only_user: MockUser,
) -> None:
    refresh = await hass.auth.async_create_refresh_token(
        hass_read_only_user, "https://x.org/"
    )
    bea = await hass_ws_client(hass, hass.auth.async_create_access_token(refresh))
    admin = await hass_ws_client(hass)

    async def ws(client: Any, verb: str, **data: Any) -> dict[str, Any]:
        await client.send_json_auto_id({"type": f"{DOMAIN}/interest/{verb}", **data})
        result: dict[str, Any] = await client.receive_json()
        return result

    refused = await ws(bea, "subscribe", fluxilab_device="hood-1")
    assert refused["error"]["code"] == "home_assistant_error"
    assert refused["error"]["translation_key"] == "device_free"
    await start_session(engine, device)
    subscribed = await ws(bea, "subscribe", fluxilab_device="hood-1")
    assert subscribed["result"]["position"] == 1
    listed = await ws(bea, "list")
    assert [s["device_id"] for s in listed["result"]["subscriptions"]] == ["hood-1"]
    assert "queues" not in listed["result"]
    other = await ws(bea, "subscribe", fluxilab_device="hood-1", member_id="cy")
    assert other["error"]["code"] == "unauthorized"
    queued = await ws(admin, "subscribe", fluxilab_device="hood-1", member_id="cy")
    assert queued["result"]["position"] == 2
    queues = (await ws(admin, "list"))["result"]["queues"]
    assert [s["member_id"] for s in queues["hood-1"]] == ["bea", "cy"]
    unknown = await ws(bea, "subscribe", fluxilab_device="ghost")
    assert unknown["success"] is False
    assert (await ws(bea, "cancel", fluxilab_device="hood-1"))["result"] == {
        "cancelled": True
    }
    assert (await ws(bea, "list"))["result"]["subscriptions"] == []


async def test_gdpr_export_and_deletion(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    lab: dict[str, Any],
) -> None:
    """A member's subscriptions are in their export and go with them."""
    await start_session(engine, device)
    engine.interest.async_subscribe(lab["bea"]["id"], device)
    engine.interest.async_subscribe(lab["cy"]["id"], device)
    exported = await hass.services.async_call(
        DOMAIN,
        "export_member_data",
        {"member_id": lab["bea"]["id"]},
        blocking=True,
        return_response=True,
    )
    assert exported is not None
    assert [s["device_id"] for s in exported["interest"]] == ["hood-1"]
    await engine.members.async_delete_item(lab["bea"]["id"])
    await hass.async_block_till_done()
    assert [s.member_id for s in engine.history.data["interest"]] == ["cy"]
