"""When an authorization lapses: pure date rules, no I/O.

An authorization lapses after its machine type's ``lapse_after_months`` without use
(counted from its last use, or its grant) and ends at its ``expires`` date. The
decision (decisions.py) refuses a lapsed one; lapsing.py warns before it happens.
"""

from __future__ import annotations

import calendar
from datetime import datetime

from .lab_models import Authorization, MachineType


def add_months(moment: datetime, months: int) -> datetime:
    """Return ``moment`` plus calendar months (the 31st becomes the month's last day)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def last_use(auth: Authorization) -> datetime | None:
    """Return when an authorization was last used (or granted, if never used)."""
    return auth.last_used or auth.granted


def inactivity_lapse(
    auth: Authorization, machine_type: MachineType | None
) -> datetime | None:
    """Return when an authorization lapses if it stays unused, or None if it cannot."""
    months = machine_type.lapse_after_months if machine_type else None
    if not months or (since := last_use(auth)) is None:
        return None
    return add_months(since, months)


def is_lapsed(
    auth: Authorization, machine_type: MachineType | None, now: datetime
) -> bool:
    """Return True if an authorization lapsed for lack of use."""
    lapses = inactivity_lapse(auth, machine_type)
    return lapses is not None and now >= lapses


def lapse_date(
    auth: Authorization, machine_type: MachineType | None
) -> tuple[datetime, str] | None:
    """Return when an authorization stops working and why (``inactivity``/``expires``)."""
    dates: list[tuple[datetime, str]] = []
    if (lapses := inactivity_lapse(auth, machine_type)) is not None:
        dates.append((lapses, "inactivity"))
    if auth.expires is not None:
        dates.append((auth.expires, "expires"))
    return min(dates) if dates else None
