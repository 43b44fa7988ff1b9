"""Booking rules as pure functions (access/bookings.py): no Home Assistant running."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from custom_components.fluxilab.access.bookings import (
    BOOKING_RULE_DEFAULTS,
    Booking,
    BookingKind,
    BookingMode,
    BookingRules,
    BookingShare,
    BookingVerdictReason,
    SessionSpan,
    WhoMayBook,
    booking_verdict,
    check_booking,
    check_outage,
    is_no_show,
    may_book,
    outage_collisions,
    shares,
)

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # a Wednesday
RULES = BookingRules()
ROME = ZoneInfo("Europe/Rome")


def at(minutes: float) -> datetime:
    return NOW + timedelta(minutes=minutes)


def booking(
    start: float,
    end: float,
    *,
    member: str = "ada",
    device: str = "laser",
    ident: str | None = None,
    released: bool = False,
) -> Booking:
    return Booking(
        id=ident or f"{member}-{device}-{start}",
        device_id=device,
        member_id=member,
        start=at(start),
        end=at(end),
        released=released,
    )


def problem(
    start: float,
    end: float,
    *,
    rules: BookingRules = RULES,
    device: tuple[Booking, ...] = (),
    member: tuple[Booking, ...] = (),
    authorized: bool = True,
    **extra: object,
) -> str | None:
    found = check_booking(
        start=at(start),
        end=at(end),
        now=NOW,
        rules=rules,
        device_bookings=device,
        member_bookings=member,
        authorized=authorized,
        **extra,  # type: ignore[arg-type]
    )
    return None if found is None else found.code


# Rules ---------------------------------------------------------------------------------


def test_rules_of_a_machine_type_and_their_defaults() -> None:
    assert BookingRules.from_storage(None) == BookingRules()
    assert BookingRules.from_storage(dict(BOOKING_RULE_DEFAULTS)) == BookingRules()
    rules = BookingRules.from_storage(
        {"name": "Laser", "booking_mode": "required", "booking_max_minutes": 60}
    )
    assert rules.mode is BookingMode.REQUIRED
    assert rules.max_minutes == 60
    assert rules.min_minutes == BOOKING_RULE_DEFAULTS["booking_min_minutes"]


def test_a_good_booking_passes() -> None:
    assert problem(60, 120) is None


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [
        (60, 60, "booking_end_before_start"),
        (60, 30, "booking_end_before_start"),
        (-120, -60, "booking_in_past"),
        (60, 70, "booking_too_short"),
        (60, 60 + 241, "booking_too_long"),
        (15 * 24 * 60, 15 * 24 * 60 + 60, "booking_too_far_ahead"),
    ],
)
def test_times_and_lengths(start: float, end: float, code: str) -> None:
    assert problem(start, end) == code


def test_a_booking_running_now_may_be_made() -> None:
    """Booked on the spot: started a minute ago, still ahead."""
    assert problem(-1, 59) is None


def test_the_message_says_the_limit() -> None:
    found = check_booking(
        start=at(0),
        end=at(300),
        now=NOW,
        rules=RULES,
        device_bookings=(),
        member_bookings=(),
        authorized=True,
    )
    assert found is not None
    assert found.placeholders == {"max": "240"}


def test_overlaps_another_booking_of_the_device() -> None:
    other = booking(90, 150, member="bob")
    assert problem(60, 120, device=(other,)) == "booking_overlaps"
    assert problem(150, 200, device=(other,)) is None  # end to end is no overlap
    assert problem(30, 90, device=(other,)) is None
    released = booking(90, 150, member="bob", released=True)
    assert problem(60, 120, device=(released,)) is None
    # Changing a booking does not overlap itself.
    assert problem(60, 120, device=(other,), ignore_id=other.id) is None


def test_overlap_message_names_the_slot_in_the_lab_time() -> None:
    other = booking(90, 150, member="bob")
    found = check_booking(
        start=at(60),
        end=at(120),
        now=NOW,
        rules=RULES,
        device_bookings=(other,),
        member_bookings=(),
        authorized=True,
        tz=ROME,
    )
    assert found is not None
    assert found.placeholders == {"start": "2026-12-02 11:30", "end": "12:30"}


def test_limit_per_day_and_week() -> None:
    today = (booking(120, 180, device="hood"), booking(240, 300, device="mill"))
    assert problem(60, 90, member=today) == "booking_limit_day"
    tomorrow = 24 * 60
    assert problem(tomorrow, tomorrow + 60, member=today) is None
    week = tuple(booking(d * 24 * 60, d * 24 * 60 + 60) for d in (-2, -1, 1, 2, 3))
    # Wednesday: Monday, Tuesday, Thursday, Friday, Saturday are the same week.
    assert problem(60, 120, member=week) == "booking_limit_week"
    # The next Monday starts a new week.
    monday = 5 * 24 * 60
    assert problem(monday, monday + 60, member=week) is None
    released = tuple(
        booking(d * 24 * 60, d * 24 * 60 + 60, released=True) for d in (-2, -1, 1, 2, 3)
    )
    assert problem(60, 120, member=released) is None


def test_days_count_in_the_lab_time_zone() -> None:
    """23:30 UTC on Wednesday is Thursday in Rome."""
    late = booking(14 * 60 + 30, 15 * 60)  # Wednesday 23:30 UTC
    rules = BookingRules(max_per_day=1)
    thursday_morning = 24 * 60  # Thursday 09:00 UTC
    assert (
        problem(thursday_morning, thursday_morning + 60, rules=rules, member=(late,))
        is None
    )
    assert (
        problem(
            thursday_morning,
            thursday_morning + 60,
            rules=rules,
            member=(late,),
            tz=ROME,
        )
        == "booking_limit_day"
    )


def test_who_may_book() -> None:
    assert problem(60, 120, authorized=False) == "booking_not_authorized"
    assert problem(60, 120, authorized=False, staff=True) is None
    assert problem(60, 120, active=False) == "booking_not_authorized"
    members = BookingRules(who=WhoMayBook.MEMBERS)
    assert problem(60, 120, rules=members, authorized=False) is None
    staff_only = BookingRules(who=WhoMayBook.STAFF)
    assert problem(60, 120, rules=staff_only) == "booking_not_authorized"
    assert problem(60, 120, rules=staff_only, staff=True) is None
    assert may_book(RULES, authorized=True, staff=False)
    assert not may_book(RULES, authorized=True, staff=True, active=False)


def test_booking_off() -> None:
    assert problem(60, 120, rules=BookingRules(mode=BookingMode.OFF)) == "booking_off"


# No-shows ---------------------------------------------------------------------------


def test_no_show_after_the_release_minutes() -> None:
    slot = booking(-20, 40)
    assert is_no_show(slot, NOW, RULES, [])
    assert not is_no_show(slot, at(-6), RULES, [])  # 14 minutes in: not yet
    assert not is_no_show(slot, NOW, BookingRules(no_show_minutes=0), [])
    assert not is_no_show(
        booking(-20, 40, released=True), NOW, RULES, []
    )  # already released


def test_a_session_of_the_booker_is_showing_up() -> None:
    slot = booking(-20, 40)
    assert not is_no_show(slot, NOW, RULES, [SessionSpan("ada", at(-10))])
    assert not is_no_show(slot, NOW, RULES, [SessionSpan("ada", at(-30), at(-5))])
    # Begun before the booking and still open.
    assert not is_no_show(slot, NOW, RULES, [SessionSpan("ada", at(-60))])
    # Someone else's session, or one that ended before the booking, does not count.
    assert is_no_show(slot, NOW, RULES, [SessionSpan("bob", at(-10))])
    assert is_no_show(slot, NOW, RULES, [SessionSpan("ada", at(-60), at(-30))])


# The verdict -------------------------------------------------------------------------


def test_no_bookings_grant() -> None:
    verdict = booking_verdict(NOW, "laser", "ada", [], RULES)
    assert verdict.granted
    assert verdict.reason is None


def test_the_booker_is_granted_during_their_slot() -> None:
    slot = booking(-5, 55)
    verdict = booking_verdict(NOW, "laser", "ada", [slot], RULES)
    assert verdict.granted
    assert verdict.reason is None
    assert verdict.booking == slot


def test_others_are_refused_during_a_slot() -> None:
    slot = booking(-5, 55)
    verdict = booking_verdict(NOW, "laser", "bob", [slot], RULES)
    assert not verdict.granted
    assert verdict.reason is BookingVerdictReason.BOOKED_BY_OTHER
    assert verdict.booking == slot


def test_bookings_of_other_devices_do_not_count() -> None:
    slot = booking(-5, 55, device="hood")
    assert booking_verdict(NOW, "laser", "bob", [slot], RULES).reason is None


def test_the_slot_ends_at_its_end() -> None:
    slot = booking(-60, 0)
    assert booking_verdict(NOW, "laser", "bob", [slot], RULES).reason is None


def test_required_mode_refuses_without_a_booking() -> None:
    rules = BookingRules(mode=BookingMode.REQUIRED)
    verdict = booking_verdict(NOW, "laser", "bob", [], rules)
    assert verdict.reason is BookingVerdictReason.BOOKING_REQUIRED
    assert not verdict.granted
    own = booking(-5, 55, member="bob")
    assert booking_verdict(NOW, "laser", "bob", [own], rules).granted


def test_mode_off_ignores_bookings() -> None:
    rules = BookingRules(mode=BookingMode.OFF)
    assert booking_verdict(NOW, "laser", "bob", [booking(-5, 55)], rules).granted


def test_a_no_show_is_released_and_lets_others_in() -> None:
    slot = booking(-20, 40)
    verdict = booking_verdict(NOW, "laser", "bob", [slot], RULES)
    assert verdict.granted
    assert [b.id for b in verdict.released] == [slot.id]
    assert verdict.released[0].released
    # The booker came: the slot holds.
    came = [SessionSpan("ada", at(-18), at(-2))]
    held = booking_verdict(NOW, "laser", "bob", [slot], RULES, came)
    assert held.reason is BookingVerdictReason.BOOKED_BY_OTHER
    assert held.released == ()


def test_a_booking_soon_warns_but_grants() -> None:
    soon = booking(10, 70)
    verdict = booking_verdict(NOW, "laser", "bob", [soon], RULES)
    assert verdict.granted
    assert verdict.reason is BookingVerdictReason.BOOKED_SOON
    assert verdict.minutes_left == 10
    # Further off than the warning window: nothing to say.
    assert booking_verdict(NOW, "laser", "bob", [booking(20, 70)], RULES).reason is None
    # One's own next booking is no warning.
    assert booking_verdict(NOW, "laser", "ada", [soon], RULES).reason is None


def test_the_warning_also_comes_at_the_end_of_ones_own_slot() -> None:
    own = booking(-50, 5, member="bob")
    next_one = booking(5, 65)
    verdict = booking_verdict(NOW, "laser", "bob", [own, next_one], RULES)
    assert verdict.reason is BookingVerdictReason.BOOKED_SOON
    assert verdict.minutes_left == 5


def test_a_stored_booking_reads_back() -> None:
    slot = booking(0, 60)
    assert Booking.from_storage(slot.as_dict()) == slot


# Outages ------------------------------------------------------------------------------


def outage(start: float, end: float, *, device: str = "laser") -> Booking:
    return Booking(
        id=f"outage-{device}-{start}",
        device_id=device,
        member_id="",
        start=at(start),
        end=at(end),
        kind=BookingKind.OUTAGE,
    )


@pytest.mark.parametrize("mode", list(BookingMode))
def test_an_outage_refuses_everyone_whatever_the_mode(mode: BookingMode) -> None:
    rules = BookingRules(mode=mode)
    down = outage(-10, 50)
    for member in ("ada", "bob", ""):
        verdict = booking_verdict(NOW, "laser", member, [down], rules)
        assert verdict.reason is BookingVerdictReason.OUTAGE
        assert verdict.booking == down
        assert not verdict.granted
    # Another device's outage, or one over, says nothing here.
    for elsewhere in (
        booking_verdict(NOW, "hood", "ada", [down], rules),
        booking_verdict(at(50), "laser", "ada", [down], rules),
    ):
        assert elsewhere.reason is not BookingVerdictReason.OUTAGE


def test_an_outage_soon_warns_and_is_no_no_show() -> None:
    down = outage(10, 70)
    verdict = booking_verdict(NOW, "laser", "ada", [down], RULES)
    assert verdict.reason is BookingVerdictReason.BOOKED_SOON
    assert verdict.minutes_left == 10
    assert verdict.booking == down
    # Nobody "shows up" for an outage: it is never released as a no-show.
    assert not is_no_show(outage(-60, 60), NOW, RULES, [])


def test_a_booking_may_not_run_into_an_outage() -> None:
    assert problem(30, 90, device=(outage(60, 120),)) == "booking_during_outage"
    found = check_booking(
        start=at(30),
        end=at(90),
        now=NOW,
        rules=RULES,
        device_bookings=[outage(60, 120)],
        member_bookings=[],
        authorized=True,
    )
    assert found is not None
    assert found.placeholders == {
        "start": "2026-12-02 10:00",
        "end": "2026-12-02 11:00",
    }
    assert problem(130, 190, device=(outage(60, 120),)) is None


def test_outage_rules() -> None:
    def refused(start: float, end: float, *existing: Booking) -> str | None:
        found = check_outage(
            start=at(start), end=at(end), now=NOW, device_bookings=existing
        )
        return None if found is None else found.code

    assert refused(60, 30) == "outage_end_before_start"
    assert refused(-120, -60) == "outage_in_past"
    assert refused(60, 120, outage(100, 200)) == "outage_overlaps"
    # No booking rule limits an outage: long, far ahead, over a booking are fine.
    assert refused(-30, 60 * 24 * 40, booking(0, 60)) is None
    assert refused(200, 300, outage(100, 200)) is None


def test_an_outage_cancels_bookings_not_begun_and_cuts_running_ones() -> None:
    running = booking(-30, 30, ident="running")
    later = booking(60, 120, ident="later", member="bob")
    across = booking(150, 250, ident="across")
    clear = booking(300, 360, ident="clear")
    gone = booking(100, 130, ident="gone", released=True)
    # An outage from now: the running booking ends now, the later one is cancelled.
    hits = outage_collisions(NOW, at(200), NOW, [running, later, across, clear, gone])
    assert [(h.booking.id, h.end) for h in hits] == [
        ("running", NOW),
        ("later", None),
        ("across", None),
    ]
    # One starting in an hour keeps the running booking whole up to its start.
    hits = outage_collisions(at(10), at(20), NOW, [running])
    assert [(h.booking.id, h.end) for h in hits] == [("running", at(10))]


def test_an_outage_round_trips_through_storage() -> None:
    down = outage(0, 60)
    assert Booking.from_storage(down.as_dict()) == down
    assert down.as_dict()["kind"] == "outage"
    # A booking stored before outages existed is a booking.
    item = booking(0, 60).as_dict()
    del item["kind"]
    assert Booking.from_storage(item).kind is BookingKind.BOOKING


# Shared bookings ----------------------------------------------------------------------


def test_a_supervisors_booking_is_shared_only_while_they_are_at_the_device() -> None:
    shared = BookingRules(shared=BookingShare.SUPERVISOR_PRESENT)

    def let_in(rules: BookingRules, supervises: bool, seen: float | None) -> bool:
        return shares(
            rules,
            booker_supervises=supervises,
            booker_seen=None if seen is None else at(seen),
            now=NOW,
        )

    assert let_in(shared, True, -5)
    assert let_in(shared, True, -30)  # SHARE_PRESENCE_MINUTES, inclusive
    assert not let_in(shared, True, -31)
    assert not let_in(shared, True, None)  # never seen at the device
    assert not let_in(shared, False, -5)  # a plain member's booking is theirs
    assert not let_in(RULES, True, -5)  # the default shares nothing
    assert BookingRules.from_storage({"booking_shared": "supervisor_present"}) == shared
