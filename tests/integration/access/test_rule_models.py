"""Typed telemetry rules, their counters, check-ins and lapse lists.

Each is read from its stored dict once and written back unchanged (same keys, same
order); nothing personal shows in a repr.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from custom_components.fluxilab.access.lab_models import MachineType
from custom_components.fluxilab.access.lapsing import Lapse
from custom_components.fluxilab.access.presence import CheckIn, PresentMember
from custom_components.fluxilab.access.rule_models import (
    BelowBaseline,
    ChannelHours,
    DailyCounter,
    HoursCounter,
    condition_from_storage,
)
from custom_components.fluxilab.access.rule_schema import (
    MACHINE_TYPE_RULE_FIELDS,
)
from custom_components.fluxilab.access.telemetry_rules import (
    add_channel_hours,
    add_daily_sample,
    close_days,
    new_counter,
    progress,
)

HOURS = {"kind": "channel_hours", "channel": "fan_running", "above": 0.5, "hours": 2.0}
BASELINE = {"kind": "below_baseline", "channel": "fv", "baseline": 0.4, "days": 3}


def test_conditions_round_trip_and_read_by_kind() -> None:
    """A stored condition reads as its kind's model and writes back as stored."""
    hours = condition_from_storage(HOURS)
    baseline = condition_from_storage(BASELINE)
    assert hours == ChannelHours(channel="fan_running", above=0.5, hours=2.0)
    assert baseline == BelowBaseline(channel="fv", baseline=0.4, days=3)
    assert hours.as_dict() == HOURS
    assert baseline.as_dict() == BASELINE
    assert (hours.key, hours.text) == (
        "channel_hours:fan_running:0.5",
        "fan_running > 0.5: 2 h",
    )
    assert (baseline.key, baseline.text) == ("below_baseline:fv:0.4", "fv < 0.4: 3 d")
    with pytest.raises(ValueError, match="oil_level"):
        condition_from_storage({"kind": "oil_level", "channel": "oil"})


def test_machine_type_reads_validated_conditions() -> None:
    """What the schema stores is what the machine type's typed view reads."""
    schema = MACHINE_TYPE_RULE_FIELDS
    validated = {
        "maintenance_conditions": [
            {"kind": "channel_hours", "channel": "fan_running", "hours": 2},
            BASELINE,
        ]
    }
    key = next(k for k in schema if k.schema == "maintenance_conditions")
    stored = schema[key](validated["maintenance_conditions"])
    machine_type = MachineType.from_storage(
        {"id": "hood", "maintenance_conditions": stored}
    )
    assert machine_type.maintenance_conditions == (
        ChannelHours(channel="fan_running", above=0.5, hours=2.0),
        BelowBaseline(channel="fv", baseline=0.4, days=3),
    )
    assert [c.as_dict() for c in machine_type.maintenance_conditions] == stored


def test_counters_round_trip_in_stored_order() -> None:
    """Counters are stored with the keys, order and ISO dates they always had."""
    fresh_hours = new_counter(ChannelHours(channel="f", above=0.5, hours=1.0))
    fresh_daily = new_counter(BelowBaseline(channel="f", baseline=0.5, days=2))
    assert list(fresh_hours.as_dict().items()) == [("hours", 0.0), ("due", False)]
    assert list(fresh_daily.as_dict().items()) == [
        ("day", None),
        ("sum", 0.0),
        ("count", 0),
        ("days", 0),
        ("streak_end", None),
        ("due", False),
    ]
    stored = {
        "day": "2026-12-02",
        "sum": 0.9,
        "count": 2,
        "days": 1,
        "streak_end": "2026-12-01",
        "due": False,
    }
    counter = DailyCounter.from_storage(stored)
    assert counter.day == date(2026, 12, 2)
    assert counter.streak_end == date(2026, 12, 1)
    assert counter.as_dict() == stored
    assert HoursCounter.from_storage({"hours": 1.5, "due": True}).as_dict() == {
        "hours": 1.5,
        "due": True,
    }


def test_counting_returns_new_counters() -> None:
    """The pure rules give the next counter and leave the one they got."""
    rule = ChannelHours(channel="f", above=0.5, hours=1.0)
    start = HoursCounter()
    half = add_channel_hours(start, rule, 1800)
    assert start == HoursCounter()
    assert (half.hours, half.due) == (0.5, False)
    assert add_channel_hours(half, rule, 1800).due is True

    low = BelowBaseline(channel="v", baseline=0.5, days=2)
    day1 = add_daily_sample(DailyCounter(), low, 0.3, date(2026, 12, 1))
    day2 = add_daily_sample(day1, low, 0.2, date(2026, 12, 2))  # closes day 1
    assert (day2.days, day2.streak_end, day2.day, day2.count) == (
        1,
        date(2026, 12, 1),
        date(2026, 12, 2),
        1,
    )
    closed = close_days(day2, low, date(2026, 12, 3))
    assert (closed.days, closed.due, closed.day, closed.count) == (2, True, None, 0)
    shown = progress(low, closed, date(2026, 12, 3)).as_wire()
    assert shown == {
        "kind": "below_baseline",
        "channel": "v",
        "key": "below_baseline:v:0.5",
        "value": 2,
        "target": 2,
        "due": True,
        "text": "v < 0.5: 2 d",
    }
    # A run that ended before yesterday shows as no run.
    assert progress(low, closed, date(2026, 12, 5)).value == 0


def test_check_in_round_trip_and_repr_hides_the_card() -> None:
    """A check-in is stored as it always was; its card never shows in a repr."""
    stored = {"since": 1700000000.5, "device_id": "door", "card": "04A1B2C3D4"}
    check_in = CheckIn.from_storage(stored)
    assert check_in.as_dict() == stored
    assert list(check_in.as_dict()) == ["since", "device_id", "card"]
    assert "04A1B2C3D4" not in repr(check_in)
    present = PresentMember(
        member_id="ada",
        name="Ada Lovelace",
        since=1.0,
        where=("entrance",),
        checked_in=True,
        card="••••C3D4",
    )
    assert "Ada Lovelace" not in repr(present)
    assert "C3D4" not in repr(present)


def test_lapse_wire_and_repr_hides_the_name() -> None:
    """A lapse list entry replies with ISO dates; its member's name is no repr."""
    moment = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    lapse = Lapse(
        authorization_id="a1",
        member_id="ada",
        member_name="Ada Lovelace",
        lapse_date=moment,
        cause="inactivity",
        lapsed=False,
    )
    assert "Ada Lovelace" not in repr(lapse)
    wire = lapse.as_wire()
    assert wire["lapse_date"] == "2026-12-03T09:00:00+00:00"
    assert (wire["member_name"], wire["last_used"], wire["granted"]) == (
        "Ada Lovelace",
        None,
        None,
    )
    assert lapse.target_name == "None"
