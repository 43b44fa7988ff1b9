"""Offline, a device's mirrored bookings hold (issue 17, 1): the device decides."""

from __future__ import annotations

import time

import pytest
import voluptuous as vol

from fluxilab_agent.agent import Agent
from fluxilab_agent.mirror import MirroredBooking, offline_decision
from fluxilab_protocol.schemas import OFFLINE_SCHEMA
from tests.agent.test_offline import (
    DAY,
    NOW,
    _context,
    _member,
    _rules,
    _set,
    _swipe,
    offline_agent,
)

__all__ = ["offline_agent"]  # the fixture, used by name


def _booked(member_id: str, start: float, end: float) -> MirroredBooking:
    return MirroredBooking(member_id=member_id, start=start, end=end)


def test_another_members_booking_refuses_offline() -> None:
    rules = _rules(bookings=(_booked("m-2", NOW - 600, NOW + 600),))
    assert offline_decision(_member(), rules, _context()) == "booked_by_other"
    own = _rules(bookings=(_booked("m-1", NOW - 600, NOW + 600),))
    assert offline_decision(_member(), own, _context()) == "granted"


def test_a_booking_holds_only_while_it_runs() -> None:
    later = _rules(bookings=(_booked("m-2", NOW + 60, NOW + 600),))
    assert offline_decision(_member(), later, _context()) == "granted"
    over = _rules(bookings=(_booked("m-2", NOW - 600, NOW),))
    assert offline_decision(_member(), over, _context()) == "granted"


def test_required_mode_offline() -> None:
    rules = _rules(booking_mode="required")
    assert offline_decision(_member(), rules, _context()) == "booking_required"
    booked = _rules(
        booking_mode="required", bookings=(_booked("m-1", NOW - 60, NOW + 60),)
    )
    assert offline_decision(_member(), booked, _context()) == "granted"


def test_mode_off_ignores_bookings_offline() -> None:
    rules = _rules(booking_mode="off", bookings=(_booked("m-2", NOW - 60, NOW + 60),))
    assert offline_decision(_member(), rules, _context()) == "granted"


def test_authorization_comes_first() -> None:
    rules = _rules(bookings=(_booked("m-2", NOW - 60, NOW + 60),))
    assert offline_decision(_member(grants=()), rules, _context()) == "expired"


async def test_the_agent_holds_a_mirrored_booking(offline_agent: Agent) -> None:
    now = time.time()
    other = {"member_id": "m-2", "start": now - 60, "end": now + 600}
    mine = {"member_id": "m-1", "start": now - 60, "end": now + 600}
    sets = [
        (_set(bookings=[other]), "booked_by_other"),
        (_set(bookings=[mine]), "granted"),
        (_set(booking_mode="required"), "booking_required"),
    ]
    for generation, (body, reason) in enumerate(sets, start=1):
        body["generation"] = generation  # each a newer set the mirror installs
        assert await _swipe(offline_agent, body) == reason


# Outages and machines reported unsafe (issue 17, 2) --------------------------------


def test_an_outage_refuses_everyone_offline_whatever_the_mode() -> None:
    for mode in ("off", "optional", "required"):
        rules = _rules(
            booking_mode=mode,
            outages=((NOW - 60, NOW + 600),),
            bookings=(_booked("m-1", NOW - 60, NOW + 600),),  # one's own booking too
        )
        assert offline_decision(_member(), rules, _context()) == "outage"
        boss = _member(id="m-boss", maintenance=True, supervisor=True)
        assert offline_decision(boss, rules, _context()) == "outage"
    ahead = _rules(outages=((NOW + 60, NOW + 600),))
    assert offline_decision(_member(), ahead, _context()) == "granted"
    over = _rules(outages=((NOW - 600, NOW),))
    assert offline_decision(_member(), over, _context()) == "granted"


def test_unsafe_refuses_offline_until_the_hub_says_otherwise() -> None:
    assert offline_decision(_member(), _rules(unsafe=True), _context()) == "unsafe"
    # Authorization still comes first (as at the hub).
    assert offline_decision(_member(grants=()), _rules(unsafe=True), _context()) == (
        "expired"
    )


async def test_the_agent_holds_a_mirrored_outage_and_unsafe_flag(
    offline_agent: Agent,
) -> None:
    now = time.time()
    sets = [
        (_set(outages=[{"start": now - 60, "end": now + 600}]), "outage"),
        (_set(outages=[{"start": now + 600, "end": now + 1200}]), "granted"),
        (_set(unsafe=True), "unsafe"),
        (_set(unsafe=False), "granted"),
    ]
    for generation, (body, reason) in enumerate(sets, start=1):
        body["generation"] = generation
        assert await _swipe(offline_agent, body) == reason


def test_the_offline_schema_reads_outages_and_unsafe() -> None:
    # A hub before outages sends neither: nothing out of service, nothing unsafe.
    old = OFFLINE_SCHEMA({"policy": "allow_mirrored", "max_age": DAY})
    assert (old["outages"], old["unsafe"]) == ([], False)
    new = OFFLINE_SCHEMA(
        {
            "policy": "allow_mirrored",
            "max_age": DAY,
            "outages": [{"start": NOW, "end": NOW + 60}],
            "unsafe": True,
        }
    )
    assert new["outages"] == [{"start": NOW, "end": NOW + 60}]
    assert new["unsafe"] is True
    for bad in ([{"start": NOW}], [{"start": "x", "end": NOW}], "soon"):
        with pytest.raises(vol.Invalid):
            OFFLINE_SCHEMA({"policy": "allow_mirrored", "max_age": DAY, "outages": bad})


# Offline no-shows (issue 17, 1) -------------------------------------------------------


def test_a_booking_nobody_came_to_is_released_offline() -> None:
    booked = (_booked("m-2", NOW - 20 * 60, NOW + 40 * 60),)
    rules = _rules(bookings=booked, booking_no_show_minutes=15)
    # Twenty minutes in and m-2 never came: m-1 may use the device.
    assert offline_decision(_member(), rules, _context()) == "granted"
    # Ten minutes in, it still holds.
    early = _rules(
        bookings=(_booked("m-2", NOW - 10 * 60, NOW + 50 * 60),),
        booking_no_show_minutes=15,
    )
    assert offline_decision(_member(), early, _context()) == "booked_by_other"
    # A hub before offline no-shows (0): the booking holds its whole length.
    assert offline_decision(_member(), _rules(bookings=booked), _context()) == (
        "booked_by_other"
    )


def test_a_member_who_came_keeps_their_booking_offline() -> None:
    booked = (_booked("m-2", NOW - 20 * 60, NOW + 40 * 60),)
    rules = _rules(bookings=booked, booking_no_show_minutes=15)
    for session in (
        (NOW - 19 * 60, NOW - 5 * 60),  # came and went
        (NOW - 30 * 60, None),  # began early and is still on
    ):
        ctx = _context(member_sessions={"m-2": session})
        assert offline_decision(_member(), rules, ctx) == "booked_by_other"
    # A session that ended before the booking began does not count.
    before = _context(member_sessions={"m-2": (NOW - 60 * 60, NOW - 30 * 60)})
    assert offline_decision(_member(), rules, before) == "granted"
    # Nor does somebody else's.
    other = _context(member_sessions={"m-3": (NOW - 19 * 60, None)})
    assert offline_decision(_member(), rules, other) == "granted"


async def test_the_agent_releases_a_no_show_offline_from_its_own_sessions(
    offline_agent: Agent,
) -> None:
    now = time.time()
    boss = {"member_id": "m-boss", "start": now - 20 * 60, "end": now + 40 * 60}
    body = _set(bookings=[boss], booking_no_show_minutes=15)
    # The boss booked twenty minutes ago and never came: Ada is granted.
    assert await _swipe(offline_agent, body) == "granted"
    # The boss comes (his own booking: granted), and goes again ...
    body["generation"] = 2
    assert await _swipe(offline_agent, body, "CARD-BOSS") == "granted"
    # ... so his booking holds: he showed up.
    body["generation"] = 3
    assert await _swipe(offline_agent, body) == "booked_by_other"


# Shared bookings offline (issue 17, 1) ---------------------------------------------


def test_a_supervisors_booking_is_shared_offline_while_they_are_there() -> None:
    booked = (_booked("m-boss", NOW - 600, NOW + 600),)
    rules = _rules(bookings=booked, booking_shared_by=frozenset({"m-boss"}))
    here = _context(supervisor_swipes={"m-boss": NOW - 60})
    assert offline_decision(_member(), rules, here) == "granted"
    gone = _context(supervisor_swipes={"m-boss": NOW - 31 * 60})
    assert offline_decision(_member(), rules, gone) == "booked_by_other"
    assert offline_decision(_member(), rules, _context()) == "booked_by_other"
    # A booking whose member is not a shared booker is never shared.
    mine = _rules(bookings=booked)
    assert offline_decision(_member(), mine, here) == "booked_by_other"


async def test_the_agent_shares_a_booking_once_the_supervisor_swiped(
    offline_agent: Agent,
) -> None:
    now = time.time()
    boss = {"member_id": "m-boss", "start": now - 60, "end": now + 600}
    body = _set(bookings=[boss], booking_shared_by=["m-boss"])
    assert await _swipe(offline_agent, body) == "booked_by_other"
    body["generation"] = 2
    assert await _swipe(offline_agent, body, "CARD-BOSS") == "granted"
    body["generation"] = 3
    assert await _swipe(offline_agent, body) == "granted"
