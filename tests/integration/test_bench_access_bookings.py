"""The card-check bench's bookings store and its with/without comparison.

scripts/bench_access.py --bookings N --pairs P (issue 17's "card-check latency
with 10,000 future bookings does not regress") writes the store a lab restarts
with and compares runs pairwise; both are checked here on inputs whose answer is
known, so the bench cannot quietly measure an empty store or the wrong ratio.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise
import json
from pathlib import Path
import runpy
from typing import Any

from homeassistant.util import dt as dt_util
import pytest

from custom_components.fluxilab.access.booking_store import BOOKINGS_STORAGE_KEY

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench() -> dict[str, Any]:
    """The bench's functions (scripts/ is not a package)."""
    return runpy.run_path(str(REPO / "scripts" / "bench_access.py"))


def test_the_store_holds_one_running_booking_per_device_and_slots_ahead(
    bench: dict[str, Any], tmp_path: Path
) -> None:
    """N bookings, none overlapping on a device, each device's own member now."""
    bench["seed_bookings"](tmp_path, 1000, 20)
    stored = json.loads((tmp_path / ".storage" / BOOKINGS_STORAGE_KEY).read_text())
    items = stored["data"]["items"]
    assert len(items) == len({item["id"] for item in items}) == 1000
    now = dt_util.utcnow()
    by_device: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        by_device.setdefault(item["device_id"], []).append(item)
    assert len(by_device) == 20
    for device_id, bookings in by_device.items():
        bookings.sort(key=lambda item: item["start"])
        spans = [
            (datetime.fromisoformat(b["start"]), datetime.fromisoformat(b["end"]))
            for b in bookings
        ]
        assert all(end <= nxt for (_, end), (nxt, _) in pairwise(spans))
        running = [
            b
            for b, (start, end) in zip(bookings, spans, strict=True)
            if start <= now < end
        ]
        assert [b["member_id"] for b in running] == [
            f"member_{device_id.removeprefix('bench-')}"
        ]
        assert spans[-1][0] > now + timedelta(days=1)  # 50 hour-long slots ahead


def test_the_comparison_is_of_p99_over_each_runs_own_floor(
    bench: dict[str, Any],
) -> None:
    """A slower machine in one run moves its floor too; the ratio sees through it."""

    def run(bookings: int, floor: float, p50: float, p99: float) -> dict[str, Any]:
        return {
            "bookings": bookings,
            "results": [
                {"kind": "broker_echo", "rate": 100.0, "p50_ms": 0.5, "p99_ms": floor},
                {"kind": "card_check", "rate": 100.0, "p50_ms": p50, "p99_ms": p99},
            ],
        }

    runs = [
        run(0, 2.0, 1.0, 4.0),  # p99/floor 2.0
        run(10000, 4.0, 1.5, 8.0),  # a busier run: 2.0 as well
        run(0, 2.0, 1.0, 6.0),  # 3.0
        run(10000, 2.0, 1.5, 6.0),  # 3.0
    ]
    (row,) = bench["compare_bookings"](runs)["rates"]
    assert row["without_p99_over_floor"] == [2.0, 3.0]
    assert row["with_p99_over_floor"] == [2.0, 3.0]
    assert row["p99_over_floor_ratio"] == 1.0
    assert row["p50_ratio"] == 1.5
