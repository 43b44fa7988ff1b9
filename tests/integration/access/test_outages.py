"""Outages and problem reports: at the machine, in the calendar, repairs and the panel."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.const import EVENT_HOMEASSISTANT_FINAL_WRITE
from homeassistant.core import Context, HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, UnknownStep
from homeassistant.exceptions import ServiceValidationError, Unauthorized
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_mock_service

from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.access.problems import ProblemReports
from custom_components.fluxilab.const import DOMAIN
from custom_components.fluxilab.device.runtime import FluxiLabDevice
from custom_components.fluxilab.repairs import problem_issue_id
from tests.integration.conftest import DEVICE_ID

from .conftest import answer_request, credential_sets
from .test_bookings import ADA, BOB, CALENDAR, book, get_events, member, swipe

STAFF = "04CCCC03"


@pytest.fixture(autouse=True)
def safe_airflow(device: FluxiLabDevice) -> None:
    """Face velocity inside the fumehood type's limit."""
    device.values["face_velocity"] = 0.5


def later(minutes: float) -> str:
    return (dt_util.utcnow() + timedelta(minutes=minutes)).isoformat()


async def schedule(
    engine: AccessEngine, start: float, end: float, note: str = "New filter"
) -> dict[str, Any]:
    """An outage of the fumehood from ``start`` to ``end`` minutes from now (stored)."""
    outage = await engine.bookings.async_schedule_outage(
        DEVICE_ID, later(start), later(end), note
    )
    return dict(engine.bookings.data[outage.id])


async def ws_as(hass: HomeAssistant, hass_ws_client: Any, user: Any | None) -> Any:
    """A websocket client as ``user`` (None: the admin of the test)."""
    if user is None:
        return await hass_ws_client(hass)
    refresh = await hass.auth.async_create_refresh_token(user, "https://x.org/")
    return await hass_ws_client(hass, hass.auth.async_create_access_token(refresh))


async def send(client: Any, command: str, **data: Any) -> dict[str, Any]:
    await client.send_json_auto_id({"type": f"{DOMAIN}/{command}", **data})
    reply: dict[str, Any] = await client.receive_json()
    return reply


def admin_entries(engine: AccessEngine, target: str) -> list[dict[str, Any]]:
    return [
        e.as_dict()
        for e in engine.history.data["audit"]
        if e.kind == "admin" and e.detail("target") == target
    ]


# Outages at the machine ---------------------------------------------------------------


async def test_nobody_is_granted_during_an_outage(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    freezer: FrozenDateTimeFactory,
) -> None:
    await member(engine, "Ada", ADA)
    await member(engine, "Staff", STAFF, role="admin")
    await schedule(engine, -1, 60, "Filter change")
    for card in (ADA, STAFF):  # roles do not pass an outage
        reply = await swipe(engine, device, card, "session_start")
        assert reply["granted"] is False
        assert reply["reason"] == "outage"
        assert reply["message"].startswith("Out of service until ")
        assert reply["message"].endswith(": Filter change")
    freezer.tick(timedelta(minutes=61))
    assert (await swipe(engine, device, ADA))["reason"] == "granted"


async def test_an_outage_holds_with_bookings_off_and_warns_before(
    hass: HomeAssistant, engine: AccessEngine, device: FluxiLabDevice
) -> None:
    await engine.machine_types.async_update_item("fumehood", {"booking_mode": "off"})
    await member(engine, "Ada", ADA)
    await schedule(engine, 10, 60)
    reply = await swipe(engine, device, ADA, "session_start")
    assert reply["granted"] is True
    assert reply["message"] == "Outage in 10 min"


async def test_ending_an_outage_early_frees_the_device(
    hass: HomeAssistant, engine: AccessEngine, device: FluxiLabDevice
) -> None:
    await member(engine, "Ada", ADA)
    down = await schedule(engine, -5, 120)
    assert (await swipe(engine, device, ADA))["reason"] == "outage"
    ended = await engine.bookings.async_end_outage(down["id"])
    assert ended.released is True
    assert (await swipe(engine, device, ADA))["reason"] == "granted"
    (created, deleted) = admin_entries(engine, "outage")
    assert (created["action"], deleted["action"]) == ("created", "deleted")
    assert created["device_id"] == DEVICE_ID
    assert created["changes"]["note"] == {"before": None, "after": "New filter"}
    # Ended at once: the end it had, and now.
    assert deleted["changes"]["end"]["before"] == down["end"]
    assert deleted["changes"]["end"]["after"] == ended.end.isoformat()


async def test_an_outage_cancels_the_bookings_it_meets_and_tells_their_members(
    hass: HomeAssistant, engine: AccessEngine, device: FluxiLabDevice
) -> None:
    phone = async_mock_service(hass, "notify", "bob_phone")
    ada = await member(engine, "Ada", ADA)
    bob = await member(engine, "Bob", BOB, notify_service="notify.bob_phone")
    running = await book(engine, ada["id"], -10, 50)
    await swipe(engine, device, ADA, "session_start")  # Ada shows up
    cancelled = await book(engine, bob["id"], 120, 180)
    kept = await book(engine, bob["id"], 24 * 60, 24 * 60 + 60)
    await schedule(engine, 30, 240, "Sash repair")
    await hass.async_block_till_done(wait_background_tasks=True)
    # Ada keeps her booking up to the outage; Bob's is gone, his next one stays.
    assert dt_util.parse_datetime(
        engine.bookings.data[running["id"]]["end"]
    ) == dt_util.parse_datetime(
        next(b for b in engine.bookings.data.values() if b.get("kind") == "outage")[
            "start"
        ]
    )
    assert cancelled["id"] not in engine.bookings.data
    assert kept["id"] in engine.bookings.data
    (told,) = phone
    assert told.data["title"] == "Booking of Fumehood 1 cancelled"
    assert "Sash repair" in told.data["message"]
    (entry,) = admin_entries(engine, "outage")
    assert entry["changes"]["cancelled_bookings"] == {"before": None, "after": 2}
    # And no booking may be made into the outage.
    with pytest.raises(ServiceValidationError) as refused:
        await book(engine, bob["id"], 60, 90)
    assert refused.value.translation_key == "booking_during_outage"
    assert str(refused.value).startswith("The device is out of service")


async def test_outage_errors_are_translated(
    hass: HomeAssistant, engine: AccessEngine
) -> None:
    await schedule(engine, 60, 120)
    for start, end, key in (
        (30, 10, "outage_end_before_start"),
        (-60, -30, "outage_in_past"),
        (90, 150, "outage_overlaps"),
    ):
        with pytest.raises(ServiceValidationError) as refused:
            await schedule(engine, start, end)
        assert refused.value.translation_key == key
        assert str(refused.value) not in ("", key)
    with pytest.raises(ServiceValidationError) as refused:
        await engine.bookings.async_schedule_outage("ghost", later(0), later(10))
    assert refused.value.translation_key == "unknown_device"


# Outages in the calendar -------------------------------------------------------------


async def test_staff_schedule_an_outage_through_the_calendar(
    hass: HomeAssistant,
    engine: AccessEngine,
    hass_admin_user: Any,
    hass_read_only_user: Any,
) -> None:
    await member(engine, "Bob", BOB, user_id=hass_read_only_user.id)
    now = dt_util.now()

    async def create(summary: str, user: Any, start: float, end: float) -> None:
        await hass.services.async_call(
            "calendar",
            "create_event",
            {
                "entity_id": CALENDAR,
                "summary": summary,
                "start_date_time": (now + timedelta(minutes=start)).isoformat(),
                "end_date_time": (now + timedelta(minutes=end)).isoformat(),
            },
            blocking=True,
            context=Context(user_id=user.id),
        )

    await create("Outage: new sash", hass_admin_user, 60, 180)
    (outage,) = engine.bookings.of_device(DEVICE_ID)
    assert outage.is_outage
    assert engine.bookings.data[outage.id]["note"] == "new sash"
    with pytest.raises(Unauthorized):
        await create("Fuori servizio", hass_read_only_user, 300, 360)
    with pytest.raises(ServiceValidationError) as refused:
        await create("fuori servizio: again", hass_admin_user, 120, 200)
    assert refused.value.translation_key == "outage_overlaps"
    events = await get_events(hass, hours=6)
    assert [e["summary"] for e in events] == ["Outage: new sash"]
    assert events[0]["description"] == "new sash"
    state = hass.states.get(CALENDAR)
    assert state is not None
    assert state.attributes["message"] == "Outage: new sash"


# The panel's outage commands --------------------------------------------------------


async def test_only_staff_schedule_outages_in_the_panel(
    hass: HomeAssistant,
    engine: AccessEngine,
    hass_ws_client: Any,
    hass_read_only_user: Any,
) -> None:
    await member(engine, "Bob", BOB, user_id=hass_read_only_user.id)
    bob = await ws_as(hass, hass_ws_client, hass_read_only_user)
    admin = await ws_as(hass, hass_ws_client, None)
    refused = await send(
        bob, "outage/create", fluxilab_device=DEVICE_ID, start=later(60), end=later(90)
    )
    assert refused["error"]["code"] == "unauthorized"
    assert engine.bookings.data == {}
    made = await send(
        admin,
        "outage/create",
        fluxilab_device=DEVICE_ID,
        start=later(60),
        end=later(90),
        note="Calibration",
    )
    assert made["success"], made
    assert made["result"]["kind"] == "outage"
    assert made["result"]["note"] == "Calibration"
    # Everyone sees it in the week view, note and all.
    listed = await send(bob, "booking/list", fluxilab_device=DEVICE_ID)
    (shown,) = listed["result"]["device"]["bookings"]
    assert (shown["kind"], shown["note"]) == ("outage", "Calibration")
    # It is not a booking to cancel, and members may not end it.
    wrong = await send(admin, "booking/delete", booking_id=made["result"]["id"])
    assert wrong["error"]["translation_key"] == "booking_is_outage"
    refused = await send(bob, "outage/delete", outage_id=made["result"]["id"])
    assert refused["error"]["code"] == "unauthorized"
    ended = await send(admin, "outage/delete", outage_id=made["result"]["id"])
    assert ended["success"], ended
    assert engine.bookings.data == {}
    bad = await send(
        admin, "outage/create", fluxilab_device=DEVICE_ID, start="soon", end=later(9)
    )
    assert bad["error"]["translation_key"] == "invalid_data"


# Problem reports ------------------------------------------------------------------------


@pytest.fixture
async def repairs(hass: HomeAssistant) -> None:
    """Set up the repairs integration (its flow manager)."""
    assert await async_setup_component(hass, "repairs", {})


@pytest.mark.usefixtures("repairs")
async def test_an_unsafe_report_blocks_at_once_until_resolved_in_repairs(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    hass_ws_client: Any,
    hass_read_only_user: Any,
) -> None:
    await member(engine, "Ada", ADA)
    bob = await member(engine, "Bob", BOB, user_id=hass_read_only_user.id)
    client = await ws_as(hass, hass_ws_client, hass_read_only_user)
    reported = await send(
        client,
        "problem/report",
        fluxilab_device=DEVICE_ID,
        description="Sash cable frayed",
        unsafe=True,
    )
    assert reported["success"], reported
    report = reported["result"]
    assert report["member_id"] == bob["id"]
    reply = await swipe(engine, device, ADA, "session_start")
    assert (reply["granted"], reply["reason"]) == (False, "unsafe")
    assert reply["message"] == "Reported unsafe: ask staff"
    # A repair issue, an error, naming the device and what was reported.
    issue = ir.async_get(hass).async_get_issue(DOMAIN, problem_issue_id(report["id"]))
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.translation_key == "problem_report_unsafe"
    assert issue.translation_placeholders["description"] == "Sash cable frayed"
    assert issue.translation_placeholders["reporter"] == engine.privacy.member(
        bob["id"]
    )
    # A member may not clear it.
    refused = await send(client, "problem/resolve", report_id=report["id"])
    assert refused["error"]["code"] == "unauthorized"
    assert engine.problems.unsafe(DEVICE_ID)
    # Home Assistant's admin resolves it through the repair flow.
    manager = repairs_flow_manager(hass)
    assert manager is not None
    flow = await manager.async_init(DOMAIN, data={"issue_id": issue.issue_id})
    assert flow["type"] is FlowResultType.FORM
    assert flow["description_placeholders"]["description"] == "Sash cable frayed"
    done = await manager.async_configure(flow["flow_id"], {"resolution": "New cable"})
    assert done["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue.issue_id) is None
    assert (await swipe(engine, device, ADA))["reason"] == "granted"
    stored = engine.problems.data[report["id"]]
    assert stored.resolution == "New cable"
    assert stored.resolved is not None
    # The device's history: who reported, when; that it was resolved, through what.
    created, resolved = admin_entries(engine, "problem")
    assert created["action"] == "created"
    assert created["actor_user_id"] == hass_read_only_user.id
    assert created["device_id"] == DEVICE_ID
    assert created["changes"]["unsafe"] == {"before": None, "after": True}
    assert resolved["action"] == "updated"
    assert resolved["door"] == "repair_flow"
    assert resolved["changes"]["resolution"]["after"] == "New cable"
    # The issue is gone: no second flow.
    with pytest.raises(UnknownStep):
        await manager.async_init(DOMAIN, data={"issue_id": issue.issue_id})


@pytest.mark.usefixtures("repairs")
async def test_staff_resolve_reports_in_the_panel_and_members_see_their_own(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    hass_ws_client: Any,
    hass_read_only_user: Any,
    hass_admin_user: Any,
) -> None:
    await member(engine, "Bob", BOB, user_id=hass_read_only_user.id)
    await member(engine, "Ada", ADA, role="admin", user_id=hass_admin_user.id)
    bob = await ws_as(hass, hass_ws_client, hass_read_only_user)
    admin = await ws_as(hass, hass_ws_client, None)
    mine = await send(
        bob, "problem/report", fluxilab_device=DEVICE_ID, description="Light flickers"
    )
    assert mine["success"], mine
    theirs = await send(
        admin, "problem/report", fluxilab_device=DEVICE_ID, description="Noisy fan"
    )
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, problem_issue_id(mine["result"]["id"])
    )
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.WARNING
    # Not unsafe: the device still grants.
    assert not engine.problems.unsafe(DEVICE_ID)
    listed = (await send(bob, "problem/list"))["result"]
    assert [r["description"] for r in listed["reports"]] == ["Light flickers"]
    assert listed["unsafe"] == []
    everyone = (await send(admin, "problem/list", open_only=True))["result"]
    assert {r["description"] for r in everyone["reports"]} == {
        "Light flickers",
        "Noisy fan",
    }
    resolved = await send(
        admin,
        "problem/resolve",
        report_id=mine["result"]["id"],
        resolution="Tube replaced",
    )
    assert resolved["success"], resolved
    assert resolved["result"]["resolved_by"] == "Ada"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue.issue_id) is None
    still_open = (await send(admin, "problem/list", open_only=True))["result"]
    assert [r["id"] for r in still_open["reports"]] == [theirs["result"]["id"]]
    # Errors in words.
    twice = await send(admin, "problem/resolve", report_id=mine["result"]["id"])
    assert twice["error"]["translation_key"] == "problem_resolved"
    ghost = await send(admin, "problem/resolve", report_id="nope")
    assert ghost["error"]["translation_key"] == "unknown_problem"
    empty = await send(
        bob, "problem/report", fluxilab_device=DEVICE_ID, description="   "
    )
    assert empty["error"]["translation_key"] == "problem_description_missing"
    assert empty["error"]["message"].startswith("Describe the problem")


async def test_members_report_only_devices_they_may_use(
    hass: HomeAssistant,
    engine: AccessEngine,
    hass_ws_client: Any,
    hass_read_only_user: Any,
) -> None:
    # Eve has no authorization for the fumehood type.
    await engine.members.async_create_item(
        {"name": "Eve", "cards": ["04EEEE03"], "user_id": hass_read_only_user.id}
    )
    eve = await ws_as(hass, hass_ws_client, hass_read_only_user)
    refused = await send(
        eve, "problem/report", fluxilab_device=DEVICE_ID, description="Broken"
    )
    assert refused["error"]["code"] == "unauthorized"
    assert engine.problems.data == {}


async def test_an_unsafe_report_holds_offline_and_after_a_restart(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    mqtt_mock: Any,
    device_keys: Any,
    hass_storage: dict[str, Any],
) -> None:
    down = await schedule(engine, 60, 120)
    report = await engine.problems.async_report(
        DEVICE_ID, None, "Smoke from the motor", unsafe=True
    )
    await hass.async_block_till_done()
    offline = (await credential_sets(hass, mqtt_mock, device_keys))[-1]["offline"]
    assert offline["unsafe"] is True
    assert offline["bookings"] == []
    assert offline["booking_no_show_minutes"] == 15  # the device releases no-shows
    assert offline["outages"] == [
        {
            "start": dt_util.parse_datetime(down["start"]).timestamp(),  # type: ignore[union-attr]
            "end": dt_util.parse_datetime(down["end"]).timestamp(),  # type: ignore[union-attr]
        }
    ]
    await engine.problems.async_resolve(report.id, "Motor replaced")
    await hass.async_block_till_done()
    offline = (await credential_sets(hass, mqtt_mock, device_keys))[-1]["offline"]
    assert offline["unsafe"] is False
    # Reports are stored: an unsafe one filed now is still unsafe after a reload.
    again = await engine.problems.async_report(DEVICE_ID, None, "Again", unsafe=True)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)  # as on a restart
    await hass.async_block_till_done()
    stored = hass_storage["fluxilab.problems"]["data"]["reports"]
    assert {r["id"] for r in stored} == {report.id, again.id}
    reloaded = ProblemReports(engine)
    await reloaded.async_load()
    assert reloaded.unsafe(DEVICE_ID)
    assert reloaded.data[report.id].resolution == "Motor replaced"


async def test_an_outage_taking_a_booking_does_not_call_the_queue(
    hass: HomeAssistant, engine: AccessEngine, device: FluxiLabDevice
) -> None:
    phone = async_mock_service(hass, "notify", "bob_phone")
    ada = await member(engine, "Ada", ADA)
    bob = await member(engine, "Bob", BOB, notify_service="notify.bob_phone")
    await book(engine, ada["id"], -5, 55)  # Ada is not there yet: nobody uses it
    engine.interest.async_subscribe(bob["id"], device)  # Bob waits for the booked hood
    await schedule(engine, -1, 120)  # the outage ends Ada's booking now
    await hass.async_block_till_done(wait_background_tasks=True)
    assert phone == []  # not "free": it is out of service
    assert [
        place.subscription.member_id for place in engine.interest.of_device(DEVICE_ID)
    ] == [bob["id"]]


async def test_a_deleted_member_leaves_their_reports_nameless(
    hass: HomeAssistant, engine: AccessEngine
) -> None:
    bob = await member(engine, "Bob", BOB)
    report = await engine.problems.async_report(
        DEVICE_ID, engine.members.member(bob["id"]), "Wobbly stool"
    )
    await engine.members.async_delete_item(bob["id"])
    await hass.async_block_till_done()
    kept = engine.problems.data[report.id]
    assert kept.member_id is None
    assert kept.description == "Wobbly stool"


# Problem reports from the device's own UI ------------------------------------------


async def test_a_member_signed_in_at_the_device_reports_it_unsafe(
    hass: HomeAssistant, engine: AccessEngine, device: FluxiLabDevice
) -> None:
    ada = await member(engine, "Ada", ADA)
    await engine.members.async_create_item({"name": "Eve", "cards": ["04EEEE03"]})

    async def report(member_id: str, description: str | None) -> dict[str, Any]:
        request: dict[str, Any] = {
            "id": "p1",
            "action": "problem_report",
            "member_id": member_id,
            "unsafe": True,
        }
        if description is not None:
            request["description"] = description
        return await answer_request(engine, device, request)

    reply = await report(ada["id"], "Blade guard cracked")
    assert (reply["granted"], reply["reason"]) == (True, "problem_reported")
    (filed,) = engine.problems.open_reports(DEVICE_ID)
    assert (filed.member_id, filed.unsafe) == (ada["id"], True)
    assert (await swipe(engine, device, ADA))["reason"] == "unsafe"
    (entry,) = admin_entries(engine, "problem")
    assert (entry["door"], entry["actor_member_id"]) == ("device", ada["id"])
    # Only members who may use the device, and only with words.
    eve = next(m for m in engine.members.data.values() if m["name"] == "Eve")
    assert (await report(eve["id"], "Broken"))["reason"] == "not_authorized"
    assert (await report(ada["id"], None))["reason"] == "not_allowed"
    assert (await report("ghost", "Broken"))["reason"] == "unknown_member"
    assert len(engine.problems.data) == 1
