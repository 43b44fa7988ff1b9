"""The history in its database: today's JSON file moved in whole, nothing capped,
the panel's views paged and filtered in SQL, the CSV streamed, the database moved."""

from __future__ import annotations

import copy
import csv
import io
import json
import time
from typing import Any

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)

from custom_components.fluxilab.access import history as history_module
from custom_components.fluxilab.access.const import HISTORY_STORAGE_KEY
from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.access.history import (
    DATABASE_FILE,
    DATABASE_SETTINGS_KEY,
    STATE_FIELDS,
    AccessHistory,
)
from custom_components.fluxilab.history_db import (
    AuditQuery,
    LiveAudit,
    LiveSession,
    SessionQuery,
    sqlite_url,
)
from custom_components.fluxilab.journal import DATA_JOURNAL

NOW = time.time()
DAY = 86400.0


def json_history() -> dict[str, Any]:
    """A history file as the JSON-era code wrote it: every list, every field.

    Sessions and audit entries of every kind the engine writes (decisions live and
    buffered, routing, maintenance, check-ins, training, telemetry rule entries);
    the oldest entries predate entry ids (no ``entry_id``).
    """
    sessions: list[dict[str, Any]] = []
    audit: list[dict[str, Any]] = []
    entry_id = 0
    for n in range(300):
        entry_id += 1
        start = NOW - 300 * 3600 + n * 3600
        sessions.append(
            {
                "session_id": f"01J{n:023d}",
                "device_id": f"hood-{n % 3}",
                "member_id": f"m{n % 7}",
                "member_name": f"Member {n % 7} — è",
                "card": f"04AA{n:04X}",
                "start": start,
                "last_seen": start + 600,
                "end": None if n == 299 else start + 900.5,
                "duration": 900.5,
                "closed_by": None if n == 299 else ("device", "timeout")[n % 2],
                "buffered": n % 5 == 0,
                **({} if n < 3 else {"entry_id": entry_id}),
            }
        )
    kinds = ("decision", "routing", "maintenance", "checkin", "checkout", "training")
    for n in range(700):
        entry_id += 1
        entry: dict[str, Any] = {
            "ts": NOW - 700 * 600 + n * 600,
            "kind": kinds[n % len(kinds)],
            "device_id": f"hood-{n % 3}",
            "member_id": None if n % 11 == 0 else f"m{n % 7}",
            "card": f"04AA{n:04X}",
            "reason": "granted" if n % 4 else "not_authorized",
            "buffered": n % 9 == 0,
        }
        if entry["kind"] == "decision":
            entry["request_id"] = f"req-{n}"
            entry["session_id"] = f"01J{n % 300:023d}"
        if entry["kind"] == "training":
            entry |= {"trainer_id": "m1", "trainer_name": "Trainer One"}
        if entry["kind"] == "routing":
            entry |= {"user_id": f"user-{n}", "member_name": "Routed Member"}
        if n >= 5:
            entry["entry_id"] = entry_id
        audit.append(entry)
    return {
        "sessions": sessions,
        "audit": audit,
        "unknown_cards": [
            {"card": f"DEAD{n:04X}", "device_id": "hood-1", "ts": NOW - n * 3600}
            for n in range(12)
        ],
        "usage": {
            "hood-0": {
                "hours": 12.5,
                "since_maintenance": 2.25,
                "last_maintenance": NOW - DAY,
                "conditions": {"filter": {"hours": 1.5}},
            },
            "hood-1": {
                "hours": 3.0,
                "since_maintenance": 3.0,
                "last_maintenance": None,
            },
        },
        "generation": 17,
        "settings": {
            "usage_retention_days": 400,
            "unknown_card_retention_days": 30,
            "session_check_interval": 45,
            "admin_notify_services": ["notify.mobile_app_admin"],
            "lapse_notice_days": 10,
            "interest_expiry_hours": 8,
            "checkin_expiry_hours": 12,
            "show_member_names": False,
        },
        "checked_in": {
            "m1": {"since": NOW - 3600, "device_id": "door", "card": "04AA"}
        },
        "last_used": {"auth-1": "2026-11-30T10:00:00+00:00"},
        "lapse_notices": {"auth-2": "2026-12-20"},
        "interest": [{"member_id": "m2", "device_id": "hood-0", "since": NOW}],
        "pseudonym_key": "ab" * 32,
        "last_entry_id": entry_id,
        "journal_mark": 0,
    }


async def load(hass: HomeAssistant) -> AccessHistory:
    history = AccessHistory(hass)
    await history.async_load()
    return history


def crash(hass: HomeAssistant, history: AccessHistory) -> None:
    """Drop memory and the journal without a checkpoint, as SIGKILL does."""
    journal = hass.data.pop(DATA_JOURNAL)
    if history._save_timer is not None:
        history._save_timer.cancel()
        history._save_timer = None
    if journal._soon is not None:
        journal._soon.cancel()
        journal._soon = None
    journal._closed = True
    journal._close_db()


async def test_json_history_moves_into_the_database_with_nothing_lost(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """Every session, audit entry, unknown card and document of the file is found."""
    stored = json_history()
    hass_storage[HISTORY_STORAGE_KEY] = {
        "version": 1,
        "minor_version": 1,
        "key": HISTORY_STORAGE_KEY,
        "data": copy.deepcopy(stored),
    }
    history = await load(hass)
    assert HISTORY_STORAGE_KEY not in hass_storage  # moved, then removed
    db = history.database
    in_db = await db.async_run(db.sessions, SessionQuery())
    audit_rows = await db.async_run(db.audit_page, AuditQuery(limit=10_000))
    # The entries without ids got the next ones, as the JSON-era code gave them.
    expected_sessions = copy.deepcopy(stored["sessions"])
    expected_audit = copy.deepcopy(stored["audit"])
    next_id = stored["last_entry_id"]
    for entry in (*expected_sessions, *expected_audit):
        if "entry_id" not in entry:
            next_id += 1
            entry["entry_id"] = next_id
    by_id = sorted(expected_sessions, key=lambda e: e["entry_id"])
    assert [s.as_wire() for s in in_db] == by_id
    assert [e.as_wire() for e in audit_rows] == sorted(
        expected_audit, key=lambda e: -e["entry_id"]
    )
    state = await db.async_run(db.stored_state)
    for name in STATE_FIELDS:
        expected = next_id if name == "last_entry_id" else stored[name]
        assert json.loads(state[name]) == expected, name
    loaded = await db.async_run(db.load, 10, 10)
    assert loaded is not None
    assert sorted(
        (card.as_dict() for card in loaded.unknown_cards), key=lambda c: c["card"]
    ) == sorted(stored["unknown_cards"], key=lambda c: c["card"])
    # Memory has it too: the pseudonyms' secret never moves.
    assert history.data["pseudonym_key"] == stored["pseudonym_key"]
    assert history.data["settings"].as_dict() == stored["settings"]
    assert history.session(f"01J{299:023d}") is not None

    # A second start reads the database alone.
    crash(hass, history)
    history = await load(hass)
    assert history.data["generation"] == 17
    db = history.database
    assert await db.async_run(db.count, "audit") == 700
    assert await db.async_run(db.count, "sessions") == 300


async def test_nothing_is_capped_and_memory_keeps_the_recent_part(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history_module, "MAX_AUDIT", 5)
    monkeypatch.setattr(history_module, "MAX_SESSIONS", 5)
    history = await load(hass)
    for n in range(40):
        history.add_audit(
            LiveAudit.from_entry(
                {
                    "ts": NOW + n,
                    "kind": "decision",
                    "device_id": "d",
                    "member_id": None,
                    "card": None,
                    "reason": "granted",
                    "buffered": False,
                }
            )
        )
        history.data["sessions"].append(
            LiveSession.from_entry(
                {
                    "session_id": f"s{n}",
                    "device_id": "d",
                    "member_id": None,
                    "member_name": None,
                    "card": None,
                    "start": NOW + n,
                    "last_seen": NOW + n,
                    "end": None if n == 0 else NOW + n + 1,
                    "duration": 1.0,
                    "closed_by": None,
                    "buffered": False,
                }
            )
        )
        history.async_changed()
        if n % 10 == 0:
            await history.async_commit()  # entries get ids; some fall out of memory
    await history.async_commit()
    assert len(history.data["audit"]) == 5
    # The five newest sessions and the open one, whatever its age.
    assert [s.session_id for s in history.data["sessions"]] == [
        "s0",
        "s35",
        "s36",
        "s37",
        "s38",
        "s39",
    ]
    crash(hass, history)  # before any checkpoint: the journal has them all
    history = await load(hass)
    db = history.database
    await history.async_save()
    assert await db.async_run(db.count, "audit") == 40
    assert await db.async_run(db.count, "sessions") == 40
    assert history.session("s0") is not None  # open: back in memory


async def admin_call(client: Any, **msg: Any) -> Any:
    await client.send_json_auto_id(msg)
    reply = await client.receive_json()
    assert reply["success"], reply
    return reply["result"]


async def fill(engine: AccessEngine, sessions: int, audits: int) -> None:
    history = engine.history
    for n in range(sessions):
        history.data["sessions"].append(
            LiveSession.from_entry(
                {
                    "session_id": f"s{n}",
                    "device_id": f"hood-{n % 2}",
                    "member_id": f"m{n % 3}",
                    "member_name": f"M{n % 3}",
                    "card": None,
                    "start": NOW - DAY + n,
                    "last_seen": NOW - DAY + n,
                    "end": NOW - DAY + n + 5,
                    "duration": 5.0,
                    "closed_by": "device",
                    "buffered": False,
                }
            )
        )
    for n in range(audits):
        history.data["audit"].append(
            LiveAudit.from_entry(
                {
                    "ts": NOW - DAY + n,
                    "kind": ("decision", "routing")[n % 2],
                    "device_id": f"hood-{n % 2}",
                    "member_id": f"m{n % 3}",
                    "card": None,
                    "reason": "granted",
                    "buffered": False,
                }
            )
        )
    history.async_changed()
    await history.async_commit()


async def test_panel_views_page_and_filter_in_sql(
    hass: HomeAssistant, engine: AccessEngine, hass_ws_client: WebSocketGenerator
) -> None:
    await fill(engine, 30, 50)
    client = await hass_ws_client(hass)
    seen: list[int] = []
    before = None
    while True:
        page = await admin_call(
            client,
            type="fluxilab/panel/admin/audit",
            limit=20,
            kind="routing",
            **({"before": before} if before else {}),
        )
        seen += [e["entry_id"] for e in page["audit"]]
        assert all(e["kind"] == "routing" for e in page["audit"])
        if (before := page["next"]) is None:
            break
    routing = [e.entry_id for e in engine.history.data["audit"] if e.kind == "routing"]
    assert seen == routing[::-1]
    # A period, newest first, the last page's next is None.
    page = await admin_call(
        client,
        type="fluxilab/panel/admin/audit",
        device_id="hood-1",
        member_id="m1",
        start="2000-01-01T00:00:00+00:00",
        end="2100-01-01T00:00:00+00:00",
    )
    assert page["next"] is None
    assert page["audit"] == [
        e.as_dict()
        for e in engine.history.data["audit"][::-1]
        if e.device_id == "hood-1" and e.member_id == "m1"
    ]

    # Sessions: pages of 8 newest first, without CSV; then everything with CSV.
    rows: list[dict[str, Any]] = []
    offset: int | None = 0
    while offset is not None:
        result = await admin_call(
            client,
            type="fluxilab/panel/admin/history",
            limit=8,
            offset=offset,
            order="desc",
            csv=False,
        )
        assert "csv" not in result
        rows += result["sessions"]
        offset = result["next_offset"]
    assert [r["session_id"] for r in rows] == [f"s{n}" for n in range(29, -1, -1)]
    whole = await admin_call(
        client, type="fluxilab/panel/admin/history", member_id="m2"
    )
    assert [r["session_id"] for r in whole["sessions"]] == [
        f"s{n}" for n in range(30) if n % 3 == 2
    ]
    assert "next_offset" not in whole
    assert len(whole["csv"].splitlines()) == 1 + 10


async def test_usage_csv_streams_to_whoever_may_export(
    hass: HomeAssistant,
    engine: AccessEngine,
    hass_client: ClientSessionGenerator,
    hass_read_only_access_token: str,
) -> None:
    await fill(engine, 25, 0)
    client = await hass_client()
    response = await client.get(
        "/api/fluxilab/usage.csv", params={"device_id": "hood-0"}
    )
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert [r["session_id"] for r in rows] == [f"s{n}" for n in range(0, 25, 2)]
    bad = await client.get("/api/fluxilab/usage.csv", params={"start": "soon"})
    assert bad.status == 400
    stranger = await hass_client(hass_read_only_access_token)
    assert (await stranger.get("/api/fluxilab/usage.csv")).status == 403


async def test_purge_reaches_rows_no_longer_in_memory(
    hass: HomeAssistant, engine: AccessEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history_module, "MAX_AUDIT", 2)
    history = engine.history
    for n in range(6):
        history.add_audit(
            LiveAudit.from_entry(
                {
                    "ts": NOW - 500 * DAY + n,
                    "kind": "decision",
                    "device_id": "d",
                    "member_id": "m1",
                    "card": "C1",
                    "reason": "granted",
                    "buffered": False,
                }
            )
        )
    await history.async_commit()
    await history.async_save()
    assert len(history.data["audit"]) == 2
    result = await engine.async_purge()
    assert result["anonymized"] == 6
    db = history.database
    rows = await db.async_run(db.audit_page, AuditQuery(kind="decision"))
    assert len(rows) == 6
    assert all(r.member_id is None and r.card is None for r in rows)
    assert all(r.anonymized for r in rows)


async def test_history_moves_to_another_database(
    hass: HomeAssistant,
    engine: AccessEngine,
    hass_ws_client: WebSocketGenerator,
    hass_storage: dict[str, Any],
    tmp_path: Any,
) -> None:
    await fill(engine, 5, 7)
    client = await hass_ws_client(hass)
    state = await admin_call(client, type="fluxilab/history/database")
    assert state == {
        "setting": "default",
        "url": sqlite_url(hass.config.path(DATABASE_FILE)),
        "dialect": "sqlite",
    }
    target = sqlite_url(str(tmp_path / "elsewhere.db"))
    moved = await admin_call(client, type="fluxilab/history/set_database", url=target)
    assert moved["url"] == target
    assert moved["setting"] == "url"
    assert hass_storage[DATABASE_SETTINGS_KEY]["data"] == {"url": target}
    db = engine.history.database
    assert await db.async_run(db.count, "sessions") == 5
    # The seven, and the engine fixture's machine type (an admin change, audited).
    assert await db.async_run(db.count, "audit") == 7 + 1
    # The old file holds a history: moving back there is refused, nothing changes.
    await client.send_json_auto_id(
        {"type": "fluxilab/history/set_database", "url": "default"}
    )
    reply = await client.receive_json()
    assert not reply["success"]
    assert "already holds" in reply["error"]["message"]
    assert engine.history.database.url == target
    await client.send_json_auto_id(
        {"type": "fluxilab/history/set_database", "url": "ftp://nowhere"}
    )
    reply = await client.receive_json()
    assert not reply["success"]
    assert "must be a SQLite, PostgreSQL or MariaDB" in reply["error"]["message"]
