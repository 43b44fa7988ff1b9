"""Benchmark: the history database at a lab's scale (issue 16).

Not a test: it prints a table and a JSON document. Run it in the 3.14 env:

    scripts/run python scripts/bench_history.py [--quick] [--url URL]

1. Imports 1,000,000 audit entries and 200,000 sessions spread over a year (bulk
   inserts; ``--quick``: a tenth) into a fresh database (a SQLite file in a temp
   folder, or ``--url``, which must be empty), then times what the panel does:
   the first audit page (200 rows, newest first; unfiltered, by device, by member,
   by kind) and a year's usage CSV streamed (batches read and formatted on the
   database's thread). Targets: first page <= 100 ms, the CSV <= 5 s.
2. Runs the history in a real Home Assistant (temp config dir), adds entries the
   way the engine does, in bursts, and checkpoints: every database write is checked
   to run on the database's own thread, and the event loop's share of the
   checkpoints' time (taking the copy) is reported against the thread's (writing).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
import statistics
import sys
import tempfile
import threading
import time
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import custom_components  # noqa: E402, F401  (ours before the test plugin's)

YEAR = 365 * 86400.0
PAGE_TARGET_MS = 100.0
CSV_TARGET_S = 5.0
DEVICES = 50
MEMBERS = 200
KINDS = ("decision", "decision", "decision", "routing", "maintenance", "checkin")


def audit_entries(count: int, start: float) -> Any:
    """Audit entries as the engine writes them, evenly over a year."""
    step = YEAR / count
    for n in range(count):
        yield {
            "ts": start + n * step,
            "kind": KINDS[n % len(KINDS)],
            "device_id": f"device-{n % DEVICES}",
            "member_id": f"member-{n % MEMBERS}",
            "card": f"04{n % 100000:08X}",
            "reason": "granted" if n % 7 else "not_authorized",
            "buffered": n % 13 == 0,
            "request_id": f"req-{n}",
            "entry_id": 1_000_000_000 + n,
        }


def session_entries(count: int, start: float) -> Any:
    """Closed sessions as sessions.stop_session leaves them, evenly over a year."""
    step = YEAR / count
    for n in range(count):
        begin = start + n * step
        yield {
            "session_id": f"01J{n:023d}",
            "device_id": f"device-{n % DEVICES}",
            "member_id": f"member-{n % MEMBERS}",
            "member_name": f"Member {n % MEMBERS}",
            "card": f"04{n % 100000:08X}",
            "start": begin,
            "last_seen": begin + 1800,
            "end": begin + 1800,
            "duration": 1800.0,
            "closed_by": "device",
            "buffered": False,
            "entry_id": n + 1,
        }


def timed_ms(job: Any, repeat: int) -> dict[str, float]:
    """Run ``job`` ``repeat`` times; the first (cold) and the median, in ms."""
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        job()
        runs.append((time.perf_counter() - started) * 1000)
    return {
        "first_ms": round(runs[0], 2),
        "median_ms": round(statistics.median(runs), 2),
        "max_ms": round(max(runs), 2),
    }


def database_bench(url: str, audits: int, sessions: int) -> dict[str, Any]:
    """Import, page the audit view, stream a year's CSV."""
    from custom_components.fluxilab.access.gdpr import (  # noqa: PLC0415
        SESSION_CSV_FIELDS,
        usage_csv_header,
    )
    from custom_components.fluxilab.history_db import (  # noqa: PLC0415
        AuditEntry,
        AuditQuery,
        HistoryDatabase,
        SessionQuery,
        SessionRecord,
    )

    db = HistoryDatabase(url)
    db.open()
    if not db.is_empty():
        raise SystemExit(f"{url} is not empty")
    start = time.time() - YEAR
    began = time.perf_counter()
    db.bulk_insert("audit", map(AuditEntry.from_entry, audit_entries(audits, start)))
    audit_s = time.perf_counter() - began
    began = time.perf_counter()
    db.bulk_insert(
        "sessions", map(SessionRecord.from_entry, session_entries(sessions, start))
    )
    sessions_s = time.perf_counter() - began
    pages = {
        name: timed_ms(lambda q=query: db.audit_page(q), 20)
        for name, query in (
            ("newest", AuditQuery(limit=200)),
            ("by_device", AuditQuery(device_id="device-7", limit=200)),
            ("by_member", AuditQuery(member_id="member-42", limit=200)),
            ("by_kind", AuditQuery(kind="maintenance", limit=200)),
            ("deep", AuditQuery(before=1_000_000_000 + audits // 2, limit=200)),
        )
    }
    year = SessionQuery(start=start, end=start + YEAR + 1)
    began = time.perf_counter()
    size = len(usage_csv_header())
    rows = 0
    after = None
    while True:
        lines, after = db.csv_batch(year, SESSION_CSV_FIELDS, after)
        if after is None:
            break
        size += len(lines)
        rows += lines.count("\n")
    csv_s = time.perf_counter() - began
    db.close()
    db.shutdown()
    return {
        "dialect": db.dialect,
        "audit_rows": audits,
        "session_rows": sessions,
        "import_s": {"audit": round(audit_s, 2), "sessions": round(sessions_s, 2)},
        "first_audit_page": pages,
        "usage_csv_year": {"rows": rows, "bytes": size, "seconds": round(csv_s, 3)},
    }


async def loop_bench(workdir: Path, entries: int) -> dict[str, Any]:
    """History writes in a real Home Assistant: where does the time go?"""
    from pytest_homeassistant_custom_component.common import (  # noqa: PLC0415
        async_test_home_assistant,
    )

    from custom_components.fluxilab.access.history import (  # noqa: PLC0415
        AccessHistory,
    )
    from custom_components.fluxilab.history_db import (  # noqa: PLC0415
        LiveAudit,
        LiveSession,
        database,
    )

    threads: set[str] = set()
    write = database.HistoryDatabase.checkpoint

    def _recording(self: Any, checkpoint: Any) -> None:
        threads.add(threading.current_thread().name)
        write(self, checkpoint)

    database.HistoryDatabase.checkpoint = _recording  # type: ignore[method-assign]
    config_dir = workdir / "config"
    config_dir.mkdir()
    async with async_test_home_assistant(config_dir=str(config_dir)) as hass:
        loop_thread = threading.current_thread().name
        history = AccessHistory(hass)
        await history.async_load()
        now = time.time()
        began = time.perf_counter()
        for burst in range(entries // 500):
            for n in range(500):
                k = burst * 500 + n
                history.add_audit(
                    LiveAudit.from_entry(
                        {
                            "ts": now + k,
                            "kind": "decision",
                            "device_id": f"d{k % 50}",
                            "member_id": f"m{k % 200}",
                            "card": f"04{k:08X}",
                            "reason": "granted",
                            "buffered": True,
                        }
                    )
                )
                history.data["sessions"].append(
                    LiveSession.from_entry(
                        {
                            "session_id": f"s{k}",
                            "device_id": f"d{k % 50}",
                            "member_id": f"m{k % 200}",
                            "member_name": "M",
                            "card": None,
                            "start": now + k,
                            "last_seen": now + k,
                            "end": now + k + 1,
                            "duration": 1.0,
                            "closed_by": "device",
                            "buffered": True,
                        }
                    )
                )
            history.async_changed()
            await history.async_commit()
            await history.async_save()
        total_s = time.perf_counter() - began
        db = history.database
        stored = await db.async_run(db.count, "audit")
        await hass.async_stop()
    loop_s, db_s = history.loop_seconds, history.db_seconds
    return {
        "entries": entries,
        "stored": stored,
        "checkpoint_threads": sorted(threads),
        "writes_on_event_loop": loop_thread in threads,
        "loop_ms": round(loop_s * 1000, 1),
        "database_thread_ms": round(db_s * 1000, 1),
        "loop_share_percent": round(100 * loop_s / (loop_s + db_s), 2),
        "wall_s": round(total_s, 2),
    }


def main() -> None:
    """Run both parts; print a table and the JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--url", help="an empty database (default: a SQLite file)")
    args = parser.parse_args()
    audits, sessions = (100_000, 20_000) if args.quick else (1_000_000, 200_000)
    with tempfile.TemporaryDirectory(prefix="fluxilab-bench-history-") as tmp:
        url = args.url or f"sqlite:///{tmp}/history.db"
        result = database_bench(url, audits, sessions)
        result["event_loop"] = asyncio.run(
            loop_bench(Path(tmp), 5_000 if args.quick else 20_000)
        )
    page = result["first_audit_page"]["newest"]["median_ms"]
    csv_s = result["usage_csv_year"]["seconds"]
    result["targets"] = {
        "first_audit_page_ms": PAGE_TARGET_MS,
        "usage_csv_year_s": CSV_TARGET_S,
        "met": page <= PAGE_TARGET_MS
        and csv_s <= CSV_TARGET_S
        and not result["event_loop"]["writes_on_event_loop"],
    }
    print(f"{result['dialect']}: {audits:,} audit rows, {sessions:,} sessions")
    print(
        f"{'audit page (200 rows)':<24} {'first ms':>9} {'median ms':>10} {'max ms':>8}"
    )
    for name, figures in result["first_audit_page"].items():
        print(
            f"{name:<24} {figures['first_ms']:>9} {figures['median_ms']:>10}"
            f" {figures['max_ms']:>8}"
        )
    year = result["usage_csv_year"]
    print(
        f"usage CSV, a year: {year['rows']:,} rows, {year['bytes']:,} bytes, {year['seconds']} s"
    )
    loop = result["event_loop"]
    print(
        f"history writes: {loop['entries']:,} entries; checkpoints on"
        f" {loop['checkpoint_threads']}; event loop {loop['loop_ms']} ms"
        f" ({loop['loop_share_percent']} %), database thread {loop['database_thread_ms']} ms"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
