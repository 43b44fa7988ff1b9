"""Maintenance conditions and their counters as the core reads them.

A machine type stores its ``maintenance_conditions`` as dicts (rule_schema.py
validates them); :class:`~.lab_models.MachineType` reads them once per change of
the type into :class:`ChannelHours` and :class:`BelowBaseline`. Their counters
live in the history store (``usage[device]["conditions"]``, by
:attr:`ChannelHours.key`): telemetry_rules.py reads a counter into a
:class:`HoursCounter` or :class:`DailyCounter`, works out the next one and writes
it back with ``as_dict``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from .rule_schema import (
    BELOW_BASELINE,
    CHANNEL_HOURS,
    StoredBelowBaseline,
    StoredChannelHours,
)


def _day(text: str | None) -> date | None:
    """Return a stored ISO date, or None."""
    return date.fromisoformat(text) if text else None


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


@dataclass(frozen=True, slots=True, kw_only=True)
class HoursCounter:
    """Hours counted so far of a ``channel_hours`` condition."""

    hours: float = 0.0
    due: bool = False

    @classmethod
    def from_storage(cls, item: Mapping[str, Any]) -> HoursCounter:
        """Read a counter as the history store keeps it."""
        return cls(hours=float(item["hours"]), due=bool(item["due"]))

    def as_dict(self) -> dict[str, Any]:
        """Return the counter as the history store keeps it."""
        return {"hours": self.hours, "due": self.due}


@dataclass(frozen=True, slots=True, kw_only=True)
class DailyCounter:
    """The open day's readings and the run of low days of a ``below_baseline`` one."""

    day: date | None = None
    """The (local) day whose readings are summed; None: none since the last close."""
    total: float = 0.0
    """Sum of the open day's readings (stored as ``sum``)."""
    count: int = 0
    days: int = 0
    """Length of the current run of closed days below the baseline."""
    streak_end: date | None = None
    """The last day of that run (None: no run)."""
    due: bool = False

    @classmethod
    def from_storage(cls, item: Mapping[str, Any]) -> DailyCounter:
        """Read a counter as the history store keeps it."""
        return cls(
            day=_day(item["day"]),
            total=float(item["sum"]),
            count=int(item["count"]),
            days=int(item["days"]),
            streak_end=_day(item["streak_end"]),
            due=bool(item["due"]),
        )

    def as_dict(self) -> dict[str, Any]:
        """Return the counter as the history store keeps it (ISO dates)."""
        return {
            "day": _iso(self.day),
            "sum": self.total,
            "count": self.count,
            "days": self.days,
            "streak_end": _iso(self.streak_end),
            "due": self.due,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelHours:
    """Due after ``hours`` hours with ``channel`` above ``above``."""

    channel: str
    above: float
    hours: float

    @classmethod
    def from_storage(cls, item: Mapping[str, Any]) -> ChannelHours:
        """Read a stored ``channel_hours`` condition."""
        return cls(
            channel=str(item["channel"]),
            above=float(item["above"]),
            hours=float(item["hours"]),
        )

    def as_dict(self) -> StoredChannelHours:
        """Return the condition as the machine type stores it."""
        return {
            "kind": "channel_hours",
            "channel": self.channel,
            "above": self.above,
            "hours": self.hours,
        }

    @property
    def kind(self) -> str:
        """The condition's kind, as stored."""
        return CHANNEL_HOURS

    @property
    def key(self) -> str:
        """Key of the counter (stays while the admin edits the hours)."""
        return f"{CHANNEL_HOURS}:{self.channel}:{self.above}"

    @property
    def text(self) -> str:
        """A short, language-neutral text of the rule (repair issue, logs)."""
        return f"{self.channel} > {self.above:g}: {self.hours:g} h"

    def counter(self, item: Mapping[str, Any] | None) -> HoursCounter:
        """Read this condition's stored counter (None: a fresh one)."""
        return HoursCounter() if item is None else HoursCounter.from_storage(item)


@dataclass(frozen=True, slots=True, kw_only=True)
class BelowBaseline:
    """Due when the daily mean of ``channel`` stayed below ``baseline`` ``days`` days."""

    channel: str
    baseline: float
    days: int

    @classmethod
    def from_storage(cls, item: Mapping[str, Any]) -> BelowBaseline:
        """Read a stored ``below_baseline`` condition."""
        return cls(
            channel=str(item["channel"]),
            baseline=float(item["baseline"]),
            days=int(item["days"]),
        )

    def as_dict(self) -> StoredBelowBaseline:
        """Return the condition as the machine type stores it."""
        return {
            "kind": "below_baseline",
            "channel": self.channel,
            "baseline": self.baseline,
            "days": self.days,
        }

    @property
    def kind(self) -> str:
        """The condition's kind, as stored."""
        return BELOW_BASELINE

    @property
    def key(self) -> str:
        """Key of the counter (stays while the admin edits the days)."""
        return f"{BELOW_BASELINE}:{self.channel}:{self.baseline}"

    @property
    def text(self) -> str:
        """A short, language-neutral text of the rule (repair issue, logs)."""
        return f"{self.channel} < {self.baseline:g}: {self.days} d"

    def counter(self, item: Mapping[str, Any] | None) -> DailyCounter:
        """Read this condition's stored counter (None: a fresh one)."""
        return DailyCounter() if item is None else DailyCounter.from_storage(item)


type Condition = ChannelHours | BelowBaseline
"""A maintenance condition of either kind."""


def condition_from_storage(item: Mapping[str, Any]) -> Condition:
    """Read a stored maintenance condition by its ``kind`` (as rule_schema.py checked)."""
    if item["kind"] == CHANNEL_HOURS:
        return ChannelHours.from_storage(item)
    if item["kind"] == BELOW_BASELINE:
        return BelowBaseline.from_storage(item)
    raise ValueError(f"unknown maintenance condition kind {item['kind']!r}")
