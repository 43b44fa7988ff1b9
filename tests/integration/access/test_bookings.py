"""Bookings at the machine, in storage, in the calendar and through the panel."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ServiceValidationError, Unauthorized
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_fire_time_changed,
    async_mock_service,
)

from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.access.errors import AccessValidationError
from custom_components.fluxilab.const import EVENT_ACCESS
from custom_components.fluxilab.device.runtime import FluxiLabDevice
from tests.integration.conftest import DEVICE_ID

from .conftest import MACHINE_TYPE, answer_request, credential_sets

ADA, BOB = "04AAAA01", "04BBBB02"


@pytest.fixture(autouse=True)
def safe_airflow(device: FluxiLabDevice) -> None:
    """Face velocity inside the fumehood type's limit."""
    device.values["face_velocity"] = 0.5


async def member(
    engine: AccessEngine, name: str, card: str, *, role: str = "user", **extra: Any
) -> dict[str, Any]:
    """A member with a card, authorized for the fumehood type."""
    created = await engine.members.async_create_item(
        {"name": name, "cards": [card], "role": role, **extra}
    )
    await engine.authorizations.async_create_item(
        {"member_id": created["id"], "machine_type_id": MACHINE_TYPE}
    )
    return created


async def book(
    engine: AccessEngine, member_id: str, start: float, end: float
) -> dict[str, Any]:
    """Book the fumehood from ``start`` to ``end`` minutes from now."""
    now = dt_util.utcnow()
    return await engine.bookings.async_create_item(
        {
            "device_id": DEVICE_ID,
            "member_id": member_id,
            "start": (now + timedelta(minutes=start)).isoformat(),
            "end": (now + timedelta(minutes=end)).isoformat(),
        }
    )


async def swipe(
    engine: AccessEngine, device: FluxiLabDevice, card: str, action: str = "check"
) -> dict[str, Any]:
    request = {"id": "r1", "action": action, "card": card}
    if action == "session_start":
        request["session_id"] = f"s-{card}"
    return await answer_request(engine, device, request)


async def set_rules(engine: AccessEngine, **rules: Any) -> None:
    await engine.machine_types.async_update_item(MACHINE_TYPE, rules)


# At the machine --------------------------------------------------------------------


async def test_during_a_booking_only_the_booker_is_granted(
    hass: HomeAssistant, engine: AccessEngine, device: FluxiLabDevice
) -> None:
    ada = await member(engine, "Ada", ADA)
    await member(engine, "Bob", BOB)
    await book(engine, ada["id"], -5, 55)
    granted = await swipe(engine, device, ADA)
    assert granted["granted"] is True
    assert granted["reason"] == "granted"
    refused = await swipe(engine, device, BOB)
    assert refused["granted"] is False
    assert refused["reason"] == "booked_by_other"


async def test_the_booking_ends_and_the_device_is_free(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    freezer: FrozenDateTimeFactory,
) -> None:
    ada = await member(engine, "Ada", ADA)
    await member(engine, "Bob", BOB)
    await book(engine, ada["id"], 0, 30)
    await swipe(engine, device, ADA, "session_start")  # Ada shows up
    assert (await swipe(engine, device, BOB))["reason"] == "booked_by_other"
    freezer.tick(timedelta(minutes=31))
    assert (await swipe(engine, device, BOB))["reason"] == "granted"


async def test_required_mode_refuses_without_a_booking(
    hass: HomeAssistant, engine: AccessEngine, device: FluxiLabDevice
) -> None:
    await set_rules(engine, booking_mode="required")
    ada = await member(engine, "Ada", ADA)
    assert (await swipe(engine, device, ADA))["reason"] == "booking_required"
    await book(engine, ada["id"], -1, 59)
    assert (await swipe(engine, device, ADA))["reason"] == "granted"


async def test_not_authorized_comes_before_the_booking(
    hass: HomeAssistant, engine: AccessEngine, device: FluxiLabDevice
) -> None:
    ada = await member(engine, "Ada", ADA)
    await engine.members.async_create_item({"name": "Eve", "cards": ["04EEEE03"]})
    await book(engine, ada["id"], -5, 55)
    assert (await swipe(engine, device, "04EEEE03"))["reason"] == "not_authorized"


async def test_a_booking_soon_grants_with_a_warning(
    hass: HomeAssistant, engine: AccessEngine, device: FluxiLabDevice
) -> None:
    ada = await member(engine, "Ada", ADA)
    await member(engine, "Bob", BOB)
    await book(engine, ada["id"], 10, 70)
    reply = await swipe(engine, device, BOB, "session_start")
    assert reply["granted"] is True
    assert reply["message"] == "Booked in 10 min"


async def test_a_no_show_is_released_counted_and_frees_the_device(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    freezer: FrozenDateTimeFactory,
) -> None:
    events = async_capture_events(hass, EVENT_ACCESS)
    ada = await member(engine, "Ada", ADA)
    await member(engine, "Bob", BOB)
    booked = await book(engine, ada["id"], 0, 60)
    freezer.tick(timedelta(minutes=10))
    assert (await swipe(engine, device, BOB))["reason"] == "booked_by_other"
    freezer.tick(timedelta(minutes=6))  # 16 minutes in, the default release is 15
    assert (await swipe(engine, device, BOB))["reason"] == "granted"
    await hass.async_block_till_done()
    item = engine.bookings.data[booked["id"]]
    assert item["released"] is True
    assert item["no_show"] is True
    assert engine.bookings.no_shows(ada["id"]) == 1
    (released,) = [e.data for e in events if e.data["type"] == "booking_released"]
    assert released["member_id"] == ada["id"]
    assert released["booking_id"] == booked["id"]


async def test_the_minute_check_releases_no_shows(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    freezer: FrozenDateTimeFactory,
) -> None:
    ada = await member(engine, "Ada", ADA)
    bob = await member(engine, "Bob", BOB)
    skipped = await book(engine, ada["id"], 0, 60)
    await book(engine, bob["id"], 60, 120)
    freezer.tick(timedelta(minutes=16))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert engine.bookings.data[skipped["id"]]["no_show"] is True
    # A member who came keeps the booking.
    freezer.tick(timedelta(minutes=45))
    await swipe(engine, device, BOB, "session_start")
    freezer.tick(timedelta(minutes=20))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert engine.bookings.no_shows(bob["id"]) == 0


async def test_ending_ones_booking_early_frees_the_device(
    hass: HomeAssistant, engine: AccessEngine, device: FluxiLabDevice
) -> None:
    ada = await member(engine, "Ada", ADA)
    await member(engine, "Bob", BOB)
    booked = await book(engine, ada["id"], -5, 55)
    ended = await engine.bookings.async_end(booked["id"])
    assert ended.released is True
    assert ended.no_show is False
    assert (await swipe(engine, device, BOB))["reason"] == "granted"


# Storage and rules ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "key"),
    [
        (60, 30, "booking_end_before_start"),
        (60, 65, "booking_too_short"),
        (60, 60 + 300, "booking_too_long"),
        (20 * 24 * 60, 20 * 24 * 60 + 60, "booking_too_far_ahead"),
    ],
)
async def test_a_booking_against_the_rules_is_refused_in_words(
    hass: HomeAssistant, engine: AccessEngine, start: int, end: int, key: str
) -> None:
    ada = await member(engine, "Ada", ADA)
    with pytest.raises(ServiceValidationError) as refused:
        await book(engine, ada["id"], start, end)
    assert refused.value.translation_key == key
    assert str(refused.value)  # the translation has words
    assert engine.bookings.data == {}


async def test_overlaps_and_limits(hass: HomeAssistant, engine: AccessEngine) -> None:
    ada = await member(engine, "Ada", ADA)
    bob = await member(engine, "Bob", BOB)
    await book(engine, ada["id"], 60, 120)
    with pytest.raises(AccessValidationError) as refused:
        await book(engine, bob["id"], 90, 150)
    assert refused.value.translation_key == "booking_overlaps"
    await set_rules(engine, booking_max_per_day=1)
    with pytest.raises(AccessValidationError) as refused:
        await book(engine, ada["id"], 180, 240)
    assert refused.value.translation_key == "booking_limit_day"
    assert refused.value.translation_placeholders == {"max": "1"}


async def test_only_who_may_book(hass: HomeAssistant, engine: AccessEngine) -> None:
    stranger = await engine.members.async_create_item({"name": "Eve"})
    with pytest.raises(AccessValidationError) as refused:
        await book(engine, stranger["id"], 60, 120)
    assert refused.value.translation_key == "booking_not_authorized"
    await set_rules(engine, booking_who="members")
    await book(engine, stranger["id"], 60, 120)
    await set_rules(engine, booking_mode="off")
    with pytest.raises(AccessValidationError) as refused:
        await book(engine, stranger["id"], 180, 240)
    assert refused.value.translation_key == "booking_off"


async def test_machine_type_booking_rules_are_validated(
    hass: HomeAssistant, engine: AccessEngine
) -> None:
    with pytest.raises(AccessValidationError):
        await set_rules(engine, booking_mode="sometimes")
    await set_rules(engine, booking_max_minutes="90")
    assert engine.machine_types.data[MACHINE_TYPE]["booking_max_minutes"] == 90


async def test_bookings_are_saved(
    hass: HomeAssistant, engine: AccessEngine, hass_storage: dict[str, Any]
) -> None:
    ada = await member(engine, "Ada", ADA)
    booked = await book(engine, ada["id"], 60, 120)
    await hass.async_block_till_done()
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=20))
    await hass.async_block_till_done()
    stored = hass_storage["fluxilab.bookings"]["data"]["items"]
    assert [b["id"] for b in stored] == [booked["id"]]


# The calendar --------------------------------------------------------------------

CALENDAR = "calendar.fumehood_1_bookings"


async def get_events(hass: HomeAssistant, hours: float = 24) -> list[dict[str, Any]]:
    now = dt_util.utcnow()
    response = await hass.services.async_call(
        "calendar",
        "get_events",
        {
            "entity_id": CALENDAR,
            "start_date_time": (now - timedelta(hours=1)).isoformat(),
            "end_date_time": (now + timedelta(hours=hours)).isoformat(),
        },
        blocking=True,
        return_response=True,
    )
    events: list[dict[str, Any]] = response[CALENDAR]["events"]  # type: ignore[index,assignment]
    return events


async def test_the_calendar_shows_bookings_without_names(
    hass: HomeAssistant, engine: AccessEngine
) -> None:
    ada = await member(engine, "Ada Lovelace", ADA)
    booked = await book(engine, ada["id"], 30, 90)
    await hass.async_block_till_done()
    events = await get_events(hass)
    assert len(events) == 1
    assert dt_util.parse_datetime(events[0]["start"]) == dt_util.parse_datetime(
        booked["start"]
    )
    assert events[0]["summary"] == engine.privacy.member(ada["id"])
    assert "Ada" not in str(events)
    assert ADA not in str(events)
    state = hass.states.get(CALENDAR)
    assert state is not None
    assert state.state == "off"  # the next booking, not running yet
    assert state.attributes["message"] == engine.privacy.member(ada["id"])
    engine.async_set_show_member_names(True)
    assert (await get_events(hass))[0]["summary"] == "Ada Lovelace"


async def test_the_calendar_is_on_during_a_booking(
    hass: HomeAssistant, engine: AccessEngine
) -> None:
    ada = await member(engine, "Ada", ADA)
    await book(engine, ada["id"], -5, 55)
    await hass.async_block_till_done()
    state = hass.states.get(CALENDAR)
    assert state is not None
    assert state.state == "on"


async def test_staff_book_through_the_calendar(
    hass: HomeAssistant,
    engine: AccessEngine,
    hass_admin_user: Any,
    hass_read_only_user: Any,
) -> None:
    ada = await member(engine, "Ada", ADA)
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

    await create("ada", hass_admin_user, 60, 120)
    assert [b.member_id for b in engine.bookings.of_device("hood-1")] == [ada["id"]]
    # A member (Bob) books in the panel, not for others through the calendar.
    with pytest.raises(Unauthorized):
        await create("Bob", hass_read_only_user, 180, 240)
    with pytest.raises(ServiceValidationError) as refused:
        await create("Nobody", hass_admin_user, 180, 240)
    assert refused.value.translation_key == "booking_member_unknown"
    with pytest.raises(ServiceValidationError) as refused:
        await create("bob", hass_admin_user, 90, 150)
    assert refused.value.translation_key == "booking_overlaps"
    assert len(engine.bookings.data) == 1


# The panel's commands ---------------------------------------------------------------


async def test_members_book_and_cancel_their_own(
    hass: HomeAssistant,
    engine: AccessEngine,
    hass_ws_client: Any,
    hass_read_only_user: Any,
) -> None:
    bob = await member(engine, "Bob", BOB, user_id=hass_read_only_user.id)
    ada = await member(engine, "Ada", ADA)
    refresh = await hass.auth.async_create_refresh_token(
        hass_read_only_user, "https://x.org/"
    )
    client = await hass_ws_client(hass, hass.auth.async_create_access_token(refresh))
    admin = await hass_ws_client(hass)

    async def ws(who: Any, verb: str, **data: Any) -> dict[str, Any]:
        await who.send_json_auto_id({"type": f"fluxilab/booking/{verb}", **data})
        reply: dict[str, Any] = await who.receive_json()
        return reply

    now = dt_util.utcnow()

    def later(minutes: float) -> str:
        return (now + timedelta(minutes=minutes)).isoformat()

    made = await ws(
        client, "create", fluxilab_device=DEVICE_ID, start=later(60), end=later(120)
    )
    assert made["success"], made
    assert made["result"]["member_id"] == bob["id"]
    # Not for someone else, unless staff.
    other = await ws(
        client,
        "create",
        fluxilab_device=DEVICE_ID,
        start=later(200),
        end=later(260),
        member_id=ada["id"],
    )
    assert other["error"]["code"] == "unauthorized"
    for_ada = await ws(
        admin,
        "create",
        fluxilab_device=DEVICE_ID,
        start=later(200),
        end=later(260),
        member_id=ada["id"],
    )
    assert for_ada["success"], for_ada
    # Bad input is refused in words.
    long = await ws(
        client, "create", fluxilab_device=DEVICE_ID, start=later(300), end=later(900)
    )
    assert long["error"]["translation_key"] == "booking_too_long"
    assert "240" in long["error"]["message"]
    garbage = await ws(
        client, "create", fluxilab_device=DEVICE_ID, start="soon", end=later(900)
    )
    assert garbage["error"]["translation_key"] == "invalid_data"
    ghost = await ws(
        client, "create", fluxilab_device="ghost", start=later(300), end=later(330)
    )
    assert ghost["error"]["translation_key"] == "unknown_device"
    # The week view: others' bookings without a name; "my bookings".
    listed = (await ws(client, "list", fluxilab_device=DEVICE_ID))["result"]
    assert [b["member_id"] for b in listed["mine"]] == [bob["id"]]
    assert listed["no_shows"] == 0
    assert [b["member_id"] for b in listed["device"]["bookings"]] == [bob["id"], None]
    assert "Ada" not in str(listed)
    seen_by_admin = (await ws(admin, "list", fluxilab_device=DEVICE_ID))["result"]
    assert [b["member_name"] for b in seen_by_admin["device"]["bookings"]] == [
        "Bob",
        "Ada",
    ]
    # Cancelling: one's own yes, another's no.
    refused = await ws(client, "delete", booking_id=for_ada["result"]["id"])
    assert refused["error"]["code"] == "unauthorized"
    assert for_ada["result"]["id"] in engine.bookings.data
    cancelled = await ws(client, "delete", booking_id=made["result"]["id"])
    assert cancelled["success"], cancelled
    assert made["result"]["id"] not in engine.bookings.data
    unknown = await ws(client, "delete", booking_id="nope")
    assert unknown["error"]["translation_key"] == "unknown_booking"


async def test_the_queue_waits_for_a_booked_device_and_hears_of_its_release(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    freezer: FrozenDateTimeFactory,
) -> None:
    ada = await member(engine, "Ada", ADA)
    bob = await member(engine, "Bob", BOB)
    await book(engine, ada["id"], 0, 60)
    # Nobody uses the device, but Ada holds it: Bob may wait for it.
    place = engine.interest.async_subscribe(bob["id"], device)
    assert place.position == 1
    freezer.tick(timedelta(minutes=16))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert engine.bookings.no_shows(ada["id"]) == 1
    assert engine.interest.of_device(DEVICE_ID) == []  # told, and out of the queue


# Offline -----------------------------------------------------------------------------


async def test_the_device_mirrors_its_bookings_of_the_next_day(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    mqtt_mock: Any,
    device_keys: Any,
    freezer: FrozenDateTimeFactory,
) -> None:
    ada = await member(engine, "Ada", ADA)
    booked = await book(engine, ada["id"], 60, 120)
    await book(engine, ada["id"], 26 * 60, 27 * 60)  # beyond the next day
    await hass.async_block_till_done()
    offline = (await credential_sets(hass, mqtt_mock, device_keys))[-1]["offline"]
    assert offline["booking_mode"] == "optional"
    assert offline["bookings"] == [
        {
            "member_id": ada["id"],
            "start": dt_util.parse_datetime(booked["start"]).timestamp(),  # type: ignore[union-attr]
            "end": dt_util.parse_datetime(booked["end"]).timestamp(),  # type: ignore[union-attr]
        }
    ]
    # Three hours on, the first is over and the second has come into the mirror.
    freezer.tick(timedelta(hours=3))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    offline = (await credential_sets(hass, mqtt_mock, device_keys))[-1]["offline"]
    assert [b["member_id"] for b in offline["bookings"]] == [ada["id"]]
    assert offline["bookings"][0]["start"] > dt_util.utcnow().timestamp()
    # Cancelled, it leaves the mirror at once.
    await engine.bookings.async_end(engine.bookings.of_member(ada["id"])[-1].id)
    await hass.async_block_till_done()
    offline = (await credential_sets(hass, mqtt_mock, device_keys))[-1]["offline"]
    assert offline["bookings"] == []


async def test_the_calendar_state_follows_the_current_then_next_booking(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    freezer: FrozenDateTimeFactory,
) -> None:
    ada = await member(engine, "Ada", ADA)
    await member(engine, "Bob", BOB)
    running = await book(engine, ada["id"], -5, 55)
    later = await book(engine, ada["id"], 120, 180)
    now = dt_util.utcnow()
    assert engine.bookings.current_or_next(DEVICE_ID, now).id == running["id"]  # type: ignore[union-attr]
    await engine.bookings.async_end(running["id"])
    assert engine.bookings.current_or_next(DEVICE_ID, now).id == later["id"]  # type: ignore[union-attr]
    freezer.tick(timedelta(hours=4))
    assert engine.bookings.current_or_next(DEVICE_ID, dt_util.utcnow()) is None


async def test_the_member_of_a_no_show_is_told(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    freezer: FrozenDateTimeFactory,
) -> None:
    phone = async_mock_service(hass, "notify", "ada_phone")
    ada = await member(engine, "Ada", ADA, notify_service="notify.ada_phone")
    await book(engine, ada["id"], 0, 60)
    freezer.tick(timedelta(minutes=16))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    (told,) = phone
    assert told.data["title"] == "Booking of Fumehood 1 released"
    assert "Fumehood 1" in told.data["message"]
    assert told.data["data"]["fluxilab_device"] == DEVICE_ID


async def test_a_supervisors_booking_lets_others_in_while_they_are_there(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Issue 17 §1: a trainer's booking (a class) is shared while they are present."""
    trainer = await member(engine, "Tina", "04CCCC03", role="staff")
    await member(engine, "Bob", BOB)
    await book(engine, trainer["id"], -5, 115)
    # The default: the booking is the trainer's alone.
    assert (await swipe(engine, device, BOB))["reason"] == "booked_by_other"
    # (No no-shows here: the trainer's swipes check, they start no session.)
    await set_rules(
        engine, booking_shared="supervisor_present", booking_no_show_minutes=0
    )
    # Shared, but the trainer has not come yet.
    assert (await swipe(engine, device, BOB))["reason"] == "booked_by_other"
    assert (await swipe(engine, device, "04CCCC03"))["reason"] == "granted"
    assert (await swipe(engine, device, BOB))["reason"] == "granted"
    # Half an hour after the trainer was last seen at the device, it is theirs again.
    freezer.tick(timedelta(minutes=31))
    assert (await swipe(engine, device, BOB))["reason"] == "booked_by_other"
    # A plain member's booking is never shared.
    ada = await member(engine, "Ada", ADA)
    await engine.bookings.async_end(engine.bookings.of_member(trainer["id"])[0].id)
    await book(engine, ada["id"], 0, 60)
    await swipe(engine, device, ADA)
    assert (await swipe(engine, device, BOB))["reason"] == "booked_by_other"


async def test_the_mirror_names_the_bookers_whose_bookings_are_shared(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    mqtt_mock: Any,
    device_keys: Any,
) -> None:
    trainer = await member(engine, "Tina", "04CCCC03", role="staff")
    ada = await member(engine, "Ada", ADA)
    await book(engine, trainer["id"], 60, 120)
    await book(engine, ada["id"], 180, 240)
    await hass.async_block_till_done()
    offline = (await credential_sets(hass, mqtt_mock, device_keys))[-1]["offline"]
    assert offline["booking_shared_by"] == []  # the default shares nothing
    await set_rules(engine, booking_shared="supervisor_present")
    await engine.sync.async_sync(device, force=True)
    await hass.async_block_till_done()
    offline = (await credential_sets(hass, mqtt_mock, device_keys))[-1]["offline"]
    assert offline["booking_shared_by"] == [trainer["id"]]  # not Ada: no supervisor


# A member's data ---------------------------------------------------------------------


async def test_a_members_export_has_their_bookings_and_projects_and_erasure_frees_them(
    hass: HomeAssistant, engine: AccessEngine, device: FluxiLabDevice
) -> None:
    """GDPR: what the bookings and projects stores hold of a member is theirs too."""
    ada = await member(engine, "Ada", ADA)
    bob = await member(engine, "Bob", BOB)
    mine = await book(engine, ada["id"], 60, 120)
    await book(engine, bob["id"], 180, 240)
    grant = await engine.projects.async_create_item(
        {"name": "Grant A", "default_members": [ada["id"]]}
    )
    await engine.projects.async_create_item({"name": "Grant B", "members": [bob["id"]]})
    await hass.async_block_till_done()

    export = await hass.services.async_call(
        "fluxilab",
        "export_member_data",
        {"member_id": ada["id"]},
        blocking=True,
        return_response=True,
    )
    assert export is not None
    assert [b["id"] for b in export["bookings"]] == [mine["id"]]
    assert export["projects"] == [
        {"id": grant["id"], "name": "Grant A", "default": True}
    ]

    await engine.members.async_delete_item(ada["id"])
    await hass.async_block_till_done()
    # Her slot is free for others; Bob's booking stays.
    assert [b.member_id for b in engine.bookings.of_member(ada["id"])] == []
    assert [b.member_id for b in engine.bookings.of_device(DEVICE_ID)] == [bob["id"]]
    assert engine.projects.projects_of(ada["id"]) == []
