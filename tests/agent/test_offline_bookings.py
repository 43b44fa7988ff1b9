"""Offline, a device's mirrored bookings hold (issue 17, 1): the device decides."""

from __future__ import annotations

import time

from fluxilab_agent.agent import Agent
from fluxilab_agent.mirror import MirroredBooking, offline_decision
from tests.agent.test_offline import (
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
