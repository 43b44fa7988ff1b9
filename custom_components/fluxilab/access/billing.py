"""Charge-back: the rules, as pure functions (docs/BILLING.md).

A session is charged to a project at its machine type's rates. Money is integer
cents and time integer seconds, computed with ``Decimal``: a charge is rounded to
the cent once, per session, and every total is a sum of those cents, so a
statement's total is the sum of its lines to the cent, however it is grouped.

How one session is charged (``charge``):

1. Its duration is rounded up to whole seconds, then up to the started
   ``round_minutes`` (0: to the second): the *billed* time.
2. The billed time is split into *busy* and *idle*: on a machine type with busy
   detection (``busy_channel``, telemetry_rules.py) the busy part is the busy time
   telemetry counted inside the session (a busy period nobody's session covered is
   a session of its own, all busy); the rest, rounding included, is idle. Without
   busy detection all of it is busy.
3. Busy seconds at ``hourly_cents`` per hour, idle seconds at ``idle_hourly_cents``
   (unset: the hourly rate), rounded half up to the cent.
4. At least ``minimum_cents`` for a session with any billed time.
5. A non-billable session (training, maintenance, staff) is listed, charged 0.

No Home Assistant here: the project store (project_store.py) keeps projects and
what staff changed about a session, and asks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time as dt_time, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
import math
from typing import Any, Final

SECONDS_PER_HOUR: Final = Decimal(3600)
MAX_CENTS_PER_HOUR: Final = 100_000_000
"""A million currency units an hour: anything above is a typing error."""


class NonBillable(StrEnum):
    """Why a session is charged nothing."""

    TRAINING = "training"
    MAINTENANCE = "maintenance"
    STAFF = "staff"


RATE_DEFAULTS: Final[Mapping[str, int | None]] = {
    "billing_hourly_cents": 0,
    "billing_idle_hourly_cents": None,
    "billing_minimum_cents": 0,
    "billing_round_minutes": 1,
}
"""Machine type fields of the rates and their defaults (store.py validates them)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Rates:
    """A machine type's rates (defaults: ``RATE_DEFAULTS``: nothing charged)."""

    hourly_cents: int = 0
    idle_hourly_cents: int | None = None
    """Per hour while the machine is idle in a session; None: ``hourly_cents``."""
    minimum_cents: int = 0
    round_minutes: int = 1
    """Billed time is rounded up to the started N minutes (0: to the second)."""
    busy_tracked: bool = False
    """The machine type has busy detection: the busy/idle split applies."""

    @property
    def idle_rate(self) -> int:
        """The cents per idle hour."""
        return (
            self.hourly_cents
            if self.idle_hourly_cents is None
            else (self.idle_hourly_cents)
        )

    @classmethod
    def from_storage(cls, item: Mapping[str, Any] | None) -> Rates:
        """Return the rates a stored machine type holds (no type: nothing charged)."""
        stored = {
            key: (item or {}).get(key, default)
            for key, default in RATE_DEFAULTS.items()
        }
        idle = stored["billing_idle_hourly_cents"]
        return cls(
            hourly_cents=int(stored["billing_hourly_cents"]),
            idle_hourly_cents=None if idle is None else int(idle),
            minimum_cents=int(stored["billing_minimum_cents"]),
            round_minutes=int(stored["billing_round_minutes"]),
            busy_tracked=bool((item or {}).get("busy_channel")),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionUse:
    """One closed session as billing reads it from the usage history."""

    session_id: str
    device_id: str
    member_id: str | None
    start: float
    duration: float
    """Seconds, as the usage history has them."""
    busy_seconds: float | None = None
    """Busy time telemetry counted inside the session (None: none counted)."""
    all_busy: bool = False
    """A busy period booked as a session of its own (``closed_by`` ``idle``)."""
    project_id: str | None = None
    machine_type_id: str | None = None
    non_billable: NonBillable | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Charge:
    """What one session costs."""

    use: SessionUse
    billed_seconds: int
    busy_seconds: int
    idle_seconds: int
    cents: int
    minimum_applied: bool = False


def billed_seconds(duration: float, round_minutes: int) -> int:
    """Return the billed seconds: up to whole seconds, then to started N minutes."""
    seconds = max(0, math.ceil(duration - 1e-6))  # 59.9999996 s stays 60, not 61
    if round_minutes <= 0 or seconds == 0:
        return seconds
    step = round_minutes * 60
    return -(-seconds // step) * step


def cents_for(seconds: int, cents_per_hour: int) -> Decimal:
    """Return the exact (unrounded) cents of ``seconds`` at a rate per hour."""
    return Decimal(seconds) * Decimal(cents_per_hour) / SECONDS_PER_HOUR


def charge(use: SessionUse, rates: Rates) -> Charge:
    """Charge one session at its machine type's rates (module docstring)."""
    billed = billed_seconds(use.duration, rates.round_minutes)
    if use.all_busy or not rates.busy_tracked:
        busy = billed
    else:
        busy = min(billed, max(0, round(use.busy_seconds or 0.0)))
    idle = billed - busy
    if use.non_billable is not None:
        return Charge(
            use=use,
            billed_seconds=billed,
            busy_seconds=busy,
            idle_seconds=idle,
            cents=0,
        )
    exact = cents_for(busy, rates.hourly_cents) + cents_for(idle, rates.idle_rate)
    cents = int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
    minimum = billed > 0 and cents < rates.minimum_cents
    return Charge(
        use=use,
        billed_seconds=billed,
        busy_seconds=busy,
        idle_seconds=idle,
        cents=rates.minimum_cents if minimum else cents,
        minimum_applied=minimum,
    )


def month_bounds(year: int, month: int, tz: tzinfo) -> tuple[float, float]:
    """Return the timestamps [start, end) of a month in the lab's time zone."""
    start = datetime.combine(date(year, month, 1), dt_time(), tz)
    following = date(year + month // 12, month % 12 + 1, 1)
    return start.timestamp(), datetime.combine(following, dt_time(), tz).timestamp()


def parse_month(text: str) -> tuple[int, int] | None:
    """Return (year, month) of ``YYYY-MM``, None if it is not one."""
    parts = text.split("-")
    if len(parts) != 2 or len(parts[0]) != 4 or len(parts[1]) != 2:
        return None
    if not (parts[0].isascii() and parts[0].isdigit()):
        return None
    if not (parts[1].isascii() and parts[1].isdigit()):
        return None
    year, month = int(parts[0]), int(parts[1])
    if not 1 <= month <= 12 or year < 1970:
        return None
    return year, month


@dataclass(slots=True)
class Totals:
    """Sums over charges: counts, seconds and cents."""

    sessions: int = 0
    seconds: Decimal = field(default_factory=Decimal)
    """The usage history's durations, summed (as the usage CSV has them)."""
    billed_seconds: int = 0
    busy_seconds: int = 0
    idle_seconds: int = 0
    cents: int = 0
    non_billable: int = 0

    def add(self, item: Charge) -> None:
        """Count one charge."""
        self.sessions += 1
        self.seconds += Decimal(str(item.use.duration))
        self.billed_seconds += item.billed_seconds
        self.busy_seconds += item.busy_seconds
        self.idle_seconds += item.idle_seconds
        self.cents += item.cents
        self.non_billable += item.use.non_billable is not None


@dataclass(slots=True)
class Statement:
    """One project's charges in one month, with totals per machine type."""

    project_id: str | None
    year: int
    month: int
    charges: list[Charge] = field(default_factory=list)
    total: Totals = field(default_factory=Totals)
    by_machine_type: dict[str | None, Totals] = field(default_factory=dict)


def statement(
    project_id: str | None, year: int, month: int, charges: Iterable[Charge]
) -> Statement:
    """Gather charges into a statement, by start, with totals per machine type."""
    result = Statement(project_id, year, month)
    for item in sorted(charges, key=lambda c: (c.use.start, c.use.session_id)):
        result.charges.append(item)
        result.total.add(item)
        result.by_machine_type.setdefault(item.use.machine_type_id, Totals()).add(item)
    return result


def format_cents(cents: int) -> str:
    """Return cents as a plain amount with two decimals (CSV, texts): 1234 -> 12.34."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"
