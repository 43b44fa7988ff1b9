"""The history's small fields: typed in memory, stored as they always were.

Unknown cards, usage counters (with their maintenance-condition counters),
check-ins and interest subscriptions are read from their stored documents once
(``_read_field``) and written back (``_encode_field``) byte for byte; nothing
personal shows in a repr.
"""

from __future__ import annotations

from datetime import date

from homeassistant.helpers.json import json_bytes
from homeassistant.util.json import json_loads

from custom_components.fluxilab.access.history import (
    CheckIn,
    DeviceUsage,
    Subscription,
    _empty,
    _encode_field,
    _read_field,
    counter_from_storage,
    usage_from_storage,
)
from custom_components.fluxilab.access.rule_models import DailyCounter, HoursCounter
from custom_components.fluxilab.history_db import UnknownCard

STORED = {
    "unknown_cards": [
        {"card": "04A1B2C3D4", "device_id": "door", "ts": 100},
        {"card": "DEADBEEF", "device_id": "hood-1", "ts": 250.5},
    ],
    "usage": {
        "hood-1": {
            "hours": 12.5,
            "since_maintenance": 2.25,
            "last_maintenance": 1700000000.0,
            "conditions": {
                "channel_hours:fan:0.5": {"hours": 1.5, "due": False},
                "below_baseline:flow:2.0": {
                    "day": "2026-12-01",
                    "sum": 3.5,
                    "count": 2,
                    "days": 1,
                    "streak_end": "2026-11-30",
                    "due": True,
                },
            },
            "fabomatic_hours": 10.0,
        },
    },
    "checked_in": {
        "ada": {"since": 1700000000.5, "device_id": "door", "card": "04A1B2C3D4"},
        "bob": {"since": 1700000100.0, "device_id": None, "card": None},
    },
    "interest": [
        {"device_id": "hood-1", "member_id": "ada", "ts": 100.0, "expires": 200.0},
    ],
}


def test_fields_read_typed_and_stored_byte_for_byte() -> None:
    """Each field read from its document is written back to the same JSON."""
    data = _empty()
    for name, value in STORED.items():
        _read_field(data, name, json_loads(json_bytes(value)))
        assert _encode_field(data, name) == json_bytes(value), name
    assert data["unknown_cards"] == {
        "04A1B2C3D4": UnknownCard(card="04A1B2C3D4", device_id="door", ts=100),
        "DEADBEEF": UnknownCard(card="DEADBEEF", device_id="hood-1", ts=250.5),
    }
    conditions = data["usage"]["hood-1"]["conditions"]
    assert conditions["channel_hours:fan:0.5"] == HoursCounter(hours=1.5)
    assert conditions["below_baseline:flow:2.0"] == DailyCounter(
        day=date(2026, 12, 1),
        total=3.5,
        count=2,
        days=1,
        streak_end=date(2026, 11, 30),
        due=True,
    )
    assert data["checked_in"]["ada"] == CheckIn(
        since=1700000000.5, device_id="door", card="04A1B2C3D4"
    )
    assert data["interest"] == [
        Subscription(device_id="hood-1", member_id="ada", ts=100.0, expires=200.0)
    ]


def test_plain_fields_pass_through() -> None:
    """Fields without a model are stored as they are held."""
    data = _empty()
    _read_field(data, "last_used", {"auth-1": "2026-11-30T10:00:00+00:00"})
    assert data["last_used"] == {"auth-1": "2026-11-30T10:00:00+00:00"}
    assert _encode_field(data, "generation") == b"0"


def test_usage_stored_before_conditions_reads_with_none() -> None:
    """A device's usage stored before conditions existed gets an empty set."""
    usage = usage_from_storage(
        {"hours": 3.0, "since_maintenance": 3.0, "last_maintenance": None}
    )
    expected: DeviceUsage = {
        "hours": 3.0,
        "since_maintenance": 3.0,
        "last_maintenance": None,
        "conditions": {},
    }
    assert usage == expected


def test_counter_read_by_its_shape() -> None:
    """A daily counter has a ``sum``; an hours counter lacking ``due`` is not due."""
    assert counter_from_storage({"hours": 1.5}) == HoursCounter(hours=1.5)
    daily = DailyCounter(day=date(2026, 12, 1), total=1.0, count=1)
    assert counter_from_storage(daily.as_dict()) == daily


def test_subscription_without_times_reads_as_expired() -> None:
    """A subscription stored without its times is dropped by the next purge."""
    sub = Subscription.from_storage({"device_id": "hood-1", "member_id": "ada"})
    assert sub.expires == 0.0


def test_reprs_hide_card_uids() -> None:
    """Neither a check-in nor an unknown card shows its card in a repr."""
    data = _empty()
    for name, value in STORED.items():
        _read_field(data, name, value)
    assert "04A1B2C3D4" not in repr(data["checked_in"])
    assert "04A1B2C3D4" not in repr(list(data["unknown_cards"].values()))
