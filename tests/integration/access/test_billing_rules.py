"""Charge-back rules as pure functions (access/billing.py): no Home Assistant running."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from custom_components.fluxilab.access.billing import (
    RATE_DEFAULTS,
    NonBillable,
    Rates,
    SessionUse,
    billed_seconds,
    charge,
    format_cents,
    month_bounds,
    parse_month,
    statement,
)

ROME = ZoneInfo("Europe/Rome")
# 12.00 an hour busy, 3.00 idle, at least 2.50, by the started quarter hour.
RATES = Rates(
    hourly_cents=1200,
    idle_hourly_cents=300,
    minimum_cents=250,
    round_minutes=15,
    busy_tracked=True,
)


def use(duration: float, busy: float | None = None, **extra: object) -> SessionUse:
    fields: dict[str, object] = {
        "session_id": "s1",
        "device_id": "laser",
        "member_id": "ada",
        "start": 1_800_000_000.0,
        "duration": duration,
        "busy_seconds": busy,
        **extra,
    }
    return SessionUse(**fields)  # type: ignore[arg-type]


def test_rates_of_a_machine_type_and_the_defaults() -> None:
    assert Rates.from_storage(None) == Rates()
    assert (
        Rates.from_storage({}).hourly_cents
        == RATE_DEFAULTS["billing_hourly_cents"]
        == 0
    )
    rates = Rates.from_storage(
        {
            "billing_hourly_cents": 1200,
            "billing_minimum_cents": 250,
            "billing_round_minutes": 15,
            "busy_channel": "spindle_current",
        }
    )
    assert rates == Rates(
        hourly_cents=1200, minimum_cents=250, round_minutes=15, busy_tracked=True
    )
    assert rates.idle_rate == 1200  # no idle rate: the hourly one
    assert RATES.idle_rate == 300


@pytest.mark.parametrize(
    ("duration", "minutes", "expected"),
    [
        (0, 15, 0),  # nothing used, nothing billed (and no minimum)
        (1, 15, 900),  # one second starts a quarter hour
        (900, 15, 900),  # exactly a quarter hour stays one
        (900.2, 15, 1800),  # a fraction of a second past it starts the next
        (899.9999996, 15, 900),  # float noise of 900 s is not a second more
        (61, 1, 120),
        (61.5, 0, 62),  # 0: to the (started) second
        (-5, 15, 0),  # a clock that went backwards bills nothing
    ],
)
def test_rounding_to_the_started_minutes(
    duration: float, minutes: int, expected: int
) -> None:
    assert billed_seconds(duration, minutes) == expected


def test_busy_and_idle_split() -> None:
    # 50 min, 30 of them busy: billed 60 min (4 quarters); 30 min busy at 12.00/h
    # = 600 cents, the other 30 min (20 idle + 10 of rounding) at 3.00/h = 150.
    item = charge(use(3000, busy=1800), RATES)
    assert (item.billed_seconds, item.busy_seconds, item.idle_seconds) == (
        3600,
        1800,
        1800,
    )
    assert item.cents == 750
    assert not item.minimum_applied


def test_busy_time_is_never_more_than_the_billed_time() -> None:
    item = charge(use(600, busy=5000), RATES)  # a telemetry clock ahead
    assert (item.billed_seconds, item.busy_seconds, item.idle_seconds) == (900, 900, 0)
    assert item.cents == 300  # 900 s at 12.00/h


def test_without_busy_detection_all_time_is_at_the_hourly_rate() -> None:
    rates = Rates(hourly_cents=1200, idle_hourly_cents=300, round_minutes=15)
    item = charge(use(3000, busy=0), rates)
    assert (item.busy_seconds, item.idle_seconds) == (3600, 0)
    assert item.cents == 1200


def test_a_busy_period_of_its_own_is_all_busy() -> None:
    # 1,234 s -> 2 quarters = 1,800 s, all busy: 1,800 * 1200 / 3600 = 600.
    item = charge(use(1234, all_busy=True), RATES)
    assert (item.busy_seconds, item.idle_seconds, item.cents) == (1800, 0, 600)


def test_minimum_charge() -> None:
    # 400 s -> 900 s billed, 100 busy: 100*1200/3600 + 800*300/3600 = 33.33 + 66.67
    # = 100 cents exactly, below the minimum of 250.
    item = charge(use(400, busy=100), RATES)
    assert item.cents == 250
    assert item.minimum_applied
    # No time, no minimum.
    assert charge(use(0), RATES).cents == 0


def test_cents_round_half_up_once_per_session() -> None:
    # 1 s at 18.00/h is 0.5 cents: half up is 1 (banker's rounding would say 0).
    rates = Rates(hourly_cents=1800, round_minutes=0)
    assert charge(use(1), rates).cents == 1
    # 7 s at 10.00/h = 1.944.. cents -> 2; three of them are 6, not round(5.83) = 6
    # by luck: the total is the sum of the lines, never recomputed from time.
    rates = Rates(hourly_cents=1000, round_minutes=0)
    items = [charge(use(7, session_id=f"s{i}"), rates) for i in range(3)]
    assert [i.cents for i in items] == [2, 2, 2]
    assert statement("p", 2026, 11, items).total.cents == 6


def test_no_float_drift_over_many_sessions() -> None:
    # 10,000 sessions of 0.1 h at 0.10/h: each 1 cent exactly; a float sum of
    # 0.1 * 10 ten thousand times is not 10,000.0 but the cents are.
    rates = Rates(hourly_cents=10, round_minutes=0)
    items = [charge(use(360, session_id=f"s{i}"), rates) for i in range(10_000)]
    result = statement("p", 2026, 11, items)
    assert result.total.cents == 10_000
    assert result.total.billed_seconds == 3_600_000
    assert format_cents(result.total.cents) == "100.00"


@pytest.mark.parametrize("reason", list(NonBillable))
def test_non_billable_sessions_are_listed_and_charged_nothing(
    reason: NonBillable,
) -> None:
    item = charge(use(7200, busy=7200, non_billable=reason), RATES)
    assert item.cents == 0
    assert item.billed_seconds == 7200  # still listed with its time
    assert not item.minimum_applied


def test_statement_totals_per_machine_type_add_up() -> None:
    items = [
        charge(use(3000, busy=1800, session_id="a", machine_type_id="laser"), RATES),
        charge(use(400, busy=100, session_id="b", machine_type_id="laser"), RATES),
        charge(
            use(7200, session_id="c", machine_type_id="cnc", start=1.0), Rates()
        ),  # free machine: 0
        charge(
            use(60, session_id="d", non_billable=NonBillable.STAFF),
            RATES,
        ),
    ]
    result = statement("p", 2026, 11, items)
    assert [c.use.session_id for c in result.charges] == ["c", "a", "b", "d"]
    assert result.total.cents == 750 + 250 == 1000
    assert result.total.sessions == 4
    assert result.total.non_billable == 1
    assert result.by_machine_type["laser"].cents == 1000
    assert result.by_machine_type["cnc"].cents == 0
    assert result.by_machine_type[None].sessions == 1
    assert sum(t.cents for t in result.by_machine_type.values()) == result.total.cents
    assert result.total.seconds == Decimal(10660)


def test_months_in_the_lab_time_zone() -> None:
    start, end = month_bounds(2026, 11, ROME)
    assert (
        datetime.fromtimestamp(start, ROME).isoformat() == "2026-11-01T00:00:00+01:00"
    )
    assert datetime.fromtimestamp(end, ROME).isoformat() == "2026-12-01T00:00:00+01:00"
    start, end = month_bounds(2026, 12, ROME)
    assert datetime.fromtimestamp(end, ROME).isoformat() == "2027-01-01T00:00:00+01:00"
    # March has the change to summer time: 31 days less one hour.
    start, end = month_bounds(2026, 3, ROME)
    assert end - start == 31 * 86400 - 3600


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11", (2026, 11)),
        ("2026-01", (2026, 1)),
        ("2026-13", None),
        ("2026-00", None),
        ("2026-1", None),
        ("26-11", None),
        ("november", None),
        ("\uff12\uff10\uff12\uff16-11", None),  # full-width digits are not a month
        ("", None),
    ],
)
def test_parse_month(text: str, expected: tuple[int, int] | None) -> None:
    assert parse_month(text) == expected


def test_format_cents() -> None:
    assert format_cents(0) == "0.00"
    assert format_cents(5) == "0.05"
    assert format_cents(123456) == "1234.56"
    assert format_cents(-250) == "-2.50"
