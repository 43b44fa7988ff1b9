"""Bookings: the rules, as pure functions (docs/BOOKINGS.md).

A booking holds a device for one member from ``start`` to ``end``. Each machine
type carries its booking rules (``BookingRules``, with defaults); this module
checks a new booking against them (``check_booking``, a problem code that explains
itself) and tells the access decision what the bookings of a device say about a
member at the machine now (``booking_verdict``). No Home Assistant here: the store
(booking_store.py) keeps the bookings, the engine asks.

What the verdict means at the machine:

- during someone else's booking nobody else is granted: ``booked_by_other``;
- with mode ``required`` nobody without a booking running now is granted:
  ``booking_required``;
- a booking not used ``no_show_minutes`` after its start (no session of its member
  on that device since it started) is released: it holds the device no more;
- another member's booking starting within ``warning_minutes`` does not refuse the
  swipe: the member is granted with a warning (``booked_soon``, the minutes left),
  shown on the device. Refusing would leave the machine idle until the booking
  starts, and the device says how long the session may run;
- during an outage (a calendar event of its own kind, scheduled by staff: the
  machine is down) nobody is granted, whatever the booking mode: ``outage``.
  Outages and live bookings never overlap: a new booking may not run into an
  outage (``booking_during_outage``), and a new outage cancels the bookings it
  meets (``outage_collisions``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum
import math
from typing import Any, Final


class BookingMode(StrEnum):
    """Whether a machine type's devices are booked."""

    OFF = "off"
    """No bookings: the calendar stays empty, the engine ignores bookings."""
    OPTIONAL = "optional"
    """Members may book; a booking holds the device, walk-ins are granted."""
    REQUIRED = "required"
    """Only the member whose booking runs now is granted."""


class WhoMayBook(StrEnum):
    """Who may hold a booking of a machine type's devices."""

    AUTHORIZED = "authorized"
    """Members authorized for the device (staff and admins: always)."""
    MEMBERS = "members"
    """Any active member."""
    STAFF = "staff"
    """Lab staff and admins only."""


class BookingShare(StrEnum):
    """Whom a member's booking lets in beside its member."""

    NOBODY = "nobody"
    """Only the booker (the default)."""
    SUPERVISOR_PRESENT = "supervisor_present"
    """A supervisor's booking (a class, a training) lets in every member who may use
    the device while the supervisor is at it (swiped there within
    ``SHARE_PRESENCE_MINUTES``)."""


SHARE_PRESENCE_MINUTES: Final = 30
"""How recently a supervisor who booked must have swiped at the device to share it."""


class BookingKind(StrEnum):
    """What a calendar event of a device is."""

    BOOKING = "booking"
    """A member holds the device."""
    OUTAGE = "outage"
    """Staff took the device out of service: nobody is granted."""


class BookingVerdictReason(StrEnum):
    """What the bookings say about a swipe (the codes of access/const.py Reason)."""

    BOOKED_BY_OTHER = "booked_by_other"
    BOOKING_REQUIRED = "booking_required"
    BOOKED_SOON = "booked_soon"
    OUTAGE = "outage"


BOOKING_RULE_DEFAULTS: Final[Mapping[str, str | int]] = {
    "booking_mode": BookingMode.OPTIONAL.value,
    "booking_min_minutes": 15,
    "booking_max_minutes": 240,
    "booking_ahead_days": 14,
    "booking_max_per_day": 2,
    "booking_max_per_week": 5,
    "booking_who": WhoMayBook.AUTHORIZED.value,
    "booking_no_show_minutes": 15,
    "booking_warning_minutes": 15,
    "booking_shared": BookingShare.NOBODY.value,
}
"""Machine type fields of the rules and their defaults (store.py validates them)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BookingRules:
    """A machine type's booking rules (defaults: ``BOOKING_RULE_DEFAULTS``)."""

    mode: BookingMode = BookingMode.OPTIONAL
    min_minutes: int = 15
    max_minutes: int = 240
    ahead_days: int = 14
    """How far ahead a booking may start."""
    max_per_day: int = 2
    """A member's bookings of this machine type starting on one (local) day."""
    max_per_week: int = 5
    """... and in one ISO week (Monday to Sunday, local)."""
    who: WhoMayBook = WhoMayBook.AUTHORIZED
    no_show_minutes: int = 15
    """Unused this long after its start, a booking is released (0: never)."""
    warning_minutes: int = 15
    """Another's booking this close warns a member who starts a session."""
    shared: BookingShare = BookingShare.NOBODY
    """Whom a booking lets in beside its member."""

    @classmethod
    def from_storage(cls, item: Mapping[str, Any] | None) -> BookingRules:
        """Return the rules a stored machine type holds (no type: the defaults)."""
        stored = {
            key: (item or {}).get(key, default)
            for key, default in BOOKING_RULE_DEFAULTS.items()
        }
        return cls(
            mode=BookingMode(stored["booking_mode"]),
            min_minutes=int(stored["booking_min_minutes"]),
            max_minutes=int(stored["booking_max_minutes"]),
            ahead_days=int(stored["booking_ahead_days"]),
            max_per_day=int(stored["booking_max_per_day"]),
            max_per_week=int(stored["booking_max_per_week"]),
            who=WhoMayBook(stored["booking_who"]),
            no_show_minutes=int(stored["booking_no_show_minutes"]),
            warning_minutes=int(stored["booking_warning_minutes"]),
            shared=BookingShare(stored["booking_shared"]),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Booking:
    """One member holding one device for a while (times are aware datetimes)."""

    id: str
    device_id: str
    member_id: str
    start: datetime
    end: datetime
    released: bool = False
    """Freed before its end: a no-show, or ended early by its member."""
    kind: BookingKind = BookingKind.BOOKING
    """A member's booking, or an outage (``member_id`` empty: nobody holds it)."""
    no_show: bool = False
    """Released because nobody came (counted against the member for 90 days)."""
    note: str = field(default="", repr=False)
    """An outage's note (what the device and the calendar show); free text."""

    @property
    def is_outage(self) -> bool:
        """True for an outage (the device is out of service)."""
        return self.kind is BookingKind.OUTAGE

    def covers(self, moment: datetime) -> bool:
        """Return True if the booking runs at ``moment`` (start included)."""
        return self.start <= moment < self.end

    def overlaps(self, start: datetime, end: datetime) -> bool:
        """Return True if the booking shares any time with [start, end)."""
        return self.start < end and start < self.end

    @classmethod
    def from_storage(cls, item: Mapping[str, Any]) -> Booking:
        """Read a stored booking (ISO times)."""
        return cls(
            id=item["id"],
            device_id=item["device_id"],
            member_id=item["member_id"],
            start=datetime.fromisoformat(item["start"]),
            end=datetime.fromisoformat(item["end"]),
            released=bool(item.get("released", False)),
            kind=BookingKind(item.get("kind", BookingKind.BOOKING)),
            no_show=bool(item.get("no_show")),
            note=str(item.get("note") or ""),
        )

    def as_dict(self) -> dict[str, Any]:
        """Return the booking's own fields as stored (a member's export)."""
        return {
            "id": self.id,
            "device_id": self.device_id,
            "member_id": self.member_id,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "released": self.released,
            "kind": self.kind.value,
        }


@dataclass(frozen=True, slots=True)
class SessionSpan:
    """When a member used a device (``end`` None: still open)."""

    member_id: str | None
    start: datetime
    end: datetime | None = None


@dataclass(frozen=True, slots=True)
class BookingProblem:
    """Why a booking is refused: a translation key and what fills its message."""

    code: str
    placeholders: dict[str, str] = field(default_factory=dict)


def _problem(code: str, **placeholders: Any) -> BookingProblem:
    return BookingProblem(code, {k: str(v) for k, v in placeholders.items()})


def may_book(
    rules: BookingRules, *, authorized: bool, staff: bool, active: bool = True
) -> bool:
    """Return True if a member may hold a booking under ``rules``."""
    if not active:
        return False
    if staff:
        return True
    if rules.who is WhoMayBook.STAFF:
        return False
    return rules.who is WhoMayBook.MEMBERS or authorized


def check_booking(
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    rules: BookingRules,
    device_bookings: Iterable[Booking],
    member_bookings: Iterable[Booking],
    authorized: bool,
    staff: bool = False,
    active: bool = True,
    tz: tzinfo | None = None,
    ignore_id: str | None = None,
) -> BookingProblem | None:
    """Return why a booking of [start, end) is refused, None if it may be made.

    ``device_bookings``: the device's bookings (overlaps); ``member_bookings``: the
    member's bookings of the same machine type (limits). ``ignore_id``: the booking
    being changed, which neither overlaps nor counts. ``tz``: the lab's time zone,
    in which days and weeks are counted. Released bookings are ignored.
    """
    if rules.mode is BookingMode.OFF:
        return _problem("booking_off")
    if not may_book(rules, authorized=authorized, staff=staff, active=active):
        return _problem("booking_not_authorized", who=rules.who.value)
    if end <= start:
        return _problem("booking_end_before_start")
    if end <= now:
        return _problem("booking_in_past")
    minutes = (end - start).total_seconds() / 60
    if minutes < rules.min_minutes:
        return _problem("booking_too_short", min=rules.min_minutes)
    if minutes > rules.max_minutes:
        return _problem("booking_too_long", max=rules.max_minutes)
    if start > now + timedelta(days=rules.ahead_days):
        return _problem("booking_too_far_ahead", days=rules.ahead_days)
    for other in device_bookings:
        if other.id == ignore_id or other.released or not other.overlaps(start, end):
            continue
        if other.is_outage:
            return _problem(
                "booking_during_outage",
                start=other.start.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                end=other.end.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            )
        return _problem(
            "booking_overlaps",
            start=other.start.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            end=other.end.astimezone(tz).strftime("%H:%M"),
        )
    day = start.astimezone(tz).date()
    week = day.isocalendar()[:2]
    held = [b for b in member_bookings if b.id != ignore_id and not b.released]
    if sum(b.start.astimezone(tz).date() == day for b in held) >= rules.max_per_day:
        return _problem("booking_limit_day", max=rules.max_per_day)
    per_week = sum(
        b.start.astimezone(tz).date().isocalendar()[:2] == week for b in held
    )
    if per_week >= rules.max_per_week:
        return _problem("booking_limit_week", max=rules.max_per_week)
    return None


def check_outage(
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    device_bookings: Iterable[Booking],
    tz: tzinfo | None = None,
    ignore_id: str | None = None,
) -> BookingProblem | None:
    """Return why an outage of [start, end) is refused, None if it may be scheduled.

    No machine type rule limits an outage (staff know best how long a repair
    takes); it only may not end before it starts, lie in the past, or meet another
    outage of the device (``device_bookings``; the bookings it meets are cancelled:
    ``outage_collisions``).
    """
    if end <= start:
        return _problem("outage_end_before_start")
    if end <= now:
        return _problem("outage_in_past")
    for other in device_bookings:
        if (
            other.id != ignore_id
            and other.is_outage
            and not other.released
            and other.overlaps(start, end)
        ):
            return _problem(
                "outage_overlaps",
                start=other.start.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                end=other.end.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            )
    return None


@dataclass(frozen=True, slots=True)
class OutageCollision:
    """A booking an outage meets, and what becomes of it."""

    booking: Booking
    end: datetime | None
    """The booking's new end (it began before the outage), None: cancelled."""


def outage_collisions(
    start: datetime, end: datetime, now: datetime, bookings: Iterable[Booking]
) -> list[OutageCollision]:
    """Return the bookings an outage of [start, end) meets, and their fate.

    A booking not begun by ``now`` nor by the outage's start is cancelled; one that
    began before the outage keeps its time up to the outage's start (or ``now``,
    if the outage begins at once or began already).
    """
    found = []
    for booking in bookings:
        if booking.is_outage or booking.released or not booking.overlaps(start, end):
            continue
        cut = max(start, now)
        if booking.start < cut:
            found.append(OutageCollision(booking, cut))
        else:
            found.append(OutageCollision(booking, None))
    return found


def is_no_show(
    booking: Booking,
    now: datetime,
    rules: BookingRules,
    sessions: Iterable[SessionSpan],
) -> bool:
    """Return True if a booking's member did not come: release it.

    ``sessions``: the device's sessions that may overlap the booking. Any session
    of the booking's member running at some time since the booking started counts
    as showing up (a session begun early and still open too).
    """
    if booking.released or booking.is_outage or rules.no_show_minutes <= 0:
        return False
    if now < booking.start + timedelta(minutes=rules.no_show_minutes):
        return False
    for span in sessions:
        if span.member_id != booking.member_id:
            continue
        if span.start < booking.end and (span.end is None or span.end > booking.start):
            return False
    return True


def shares(
    rules: BookingRules,
    *,
    booker_supervises: bool,
    booker_seen: datetime | None,
    now: datetime,
) -> bool:
    """Return True if another member's running booking lets a member in now.

    With ``shared`` ``supervisor_present``, a booking whose member may supervise
    (``booker_supervises``) is shared while that member swiped at the device within
    ``SHARE_PRESENCE_MINUTES`` (``booker_seen``: their last swipe there).
    """
    if rules.shared is not BookingShare.SUPERVISOR_PRESENT or not booker_supervises:
        return False
    return booker_seen is not None and now - booker_seen <= timedelta(
        minutes=SHARE_PRESENCE_MINUTES
    )


@dataclass(frozen=True, slots=True)
class BookingVerdict:
    """What a device's bookings say about a member starting a session now."""

    reason: BookingVerdictReason | None = None
    """None: the bookings do not stand in the way (and ``granted``)."""
    booking: Booking | None = None
    """The booking the verdict is about: the member's own, or the other's."""
    minutes_left: int | None = None
    """For ``booked_soon``: minutes until the other's booking starts."""
    released: tuple[Booking, ...] = ()
    """No-shows found on the way (to be marked released and counted)."""

    @property
    def granted(self) -> bool:
        """True if the bookings let the member start (a warning grants)."""
        return self.reason in (None, BookingVerdictReason.BOOKED_SOON)


def booking_verdict(
    now: datetime,
    device_id: str,
    member_id: str,
    bookings: Iterable[Booking],
    rules: BookingRules,
    sessions: Iterable[SessionSpan] = (),
) -> BookingVerdict:
    """Decide what the bookings of ``device_id`` say about ``member_id`` at ``now``.

    An outage running now refuses everyone, whatever the mode; one starting within
    ``warning_minutes`` warns as another's booking does (``booked_soon``).
    """
    bookings = [b for b in bookings if b.device_id == device_id and not b.released]
    for outage in bookings:
        if outage.is_outage and outage.covers(now):
            return BookingVerdict(BookingVerdictReason.OUTAGE, booking=outage)
    if rules.mode is BookingMode.OFF:  # members' bookings count for nothing
        bookings = [b for b in bookings if b.is_outage]
    spans: list[SessionSpan] | None = None  # read only if a no-show is possible
    released: list[Booking] = []
    current: Booking | None = None
    upcoming: Booking | None = None
    warn_until = now + timedelta(minutes=rules.warning_minutes)
    for booking in bookings:
        if booking.covers(now):
            if spans is None:
                spans = list(sessions)
            if is_no_show(booking, now, rules, spans):
                released.append(replace(booking, released=True))
                continue
            # Two running bookings cannot overlap (check_booking): the member's wins.
            if current is None or booking.member_id == member_id:
                current = booking
        elif now < booking.start < warn_until and booking.member_id != member_id:
            if upcoming is None or booking.start < upcoming.start:
                upcoming = booking
    found = tuple(released)
    if current is not None and current.member_id != member_id:
        return BookingVerdict(
            BookingVerdictReason.BOOKED_BY_OTHER, booking=current, released=found
        )
    if current is None and rules.mode is BookingMode.REQUIRED:
        return BookingVerdict(BookingVerdictReason.BOOKING_REQUIRED, released=found)
    if upcoming is not None:  # also at the end of the member's own booking
        left = max(1, math.ceil((upcoming.start - now).total_seconds() / 60))
        return BookingVerdict(
            BookingVerdictReason.BOOKED_SOON,
            booking=upcoming,
            minutes_left=left,
            released=found,
        )
    return BookingVerdict(booking=current, released=found)


@dataclass(frozen=True, slots=True, kw_only=True)
class MirroredSpan:
    """A booking (its member's) or an outage (no member) in a device's mirror."""

    member_id: str | None = None
    start: float
    end: float

    def as_wire(self) -> dict[str, Any]:
        """Return the span as the credential set carries it."""
        if self.member_id is None:
            return {"start": self.start, "end": self.end}
        return {"member_id": self.member_id, "start": self.start, "end": self.end}


@dataclass(frozen=True, slots=True, kw_only=True)
class BookingMirror:
    """What a device's credential set carries of its bookings (they hold offline)."""

    mode: BookingMode
    no_show_minutes: int
    shared_by: tuple[str, ...]
    """Bookers whose booking, once they swiped, lets others in (supervisors)."""
    bookings: tuple[MirroredSpan, ...]
    outages: tuple[MirroredSpan, ...]

    def as_wire(self) -> dict[str, Any]:
        """Return the credential set's booking fields."""
        return {
            "booking_mode": self.mode.value,
            "booking_no_show_minutes": self.no_show_minutes,
            "booking_shared_by": list(self.shared_by),
            "bookings": [span.as_wire() for span in self.bookings],
            "outages": [span.as_wire() for span in self.outages],
        }
