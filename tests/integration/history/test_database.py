"""The history database on SQLite, PostgreSQL and MariaDB: schema, checkpoints,
pages and filters in SQL, exports in batches, the retention's UPDATEs, copying."""

from __future__ import annotations

from collections.abc import Iterable
import json
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, insert, select, text, update

from custom_components.fluxilab.history_db import (
    AuditEntry,
    AuditQuery,
    Checkpoint,
    HistoryDatabase,
    ImportBatch,
    ImportPrefixes,
    MemberEntries,
    SchemaTooNewError,
    SessionQuery,
    SessionRecord,
    UnknownCard,
    migration,
)
from custom_components.fluxilab.history_db.schema import (
    SCHEMA_VERSION,
    audit as audit_table,
    schema_version,
)

from .conftest import closed, opened

T0 = 1_796_192_478.9024386
"""A start time with every digit a double holds (MySQL's FLOAT would lose them)."""


def session(entry_id: int, **fields: Any) -> dict[str, Any]:
    """A session as sessions.start_session/stop_session leave it."""
    return {
        "session_id": f"01S{entry_id:020d}",
        "device_id": "hood-1",
        "member_id": "ada",
        "member_name": "Ada Lovelace — ñ 🧪",
        "card": "C0FFEE01",
        "start": T0 + entry_id,
        "last_seen": T0 + entry_id + 30,
        "end": T0 + entry_id + 60,
        "duration": 60.0,
        "closed_by": "device",
        "buffered": False,
        "entry_id": entry_id,
        **fields,
    }


def audit(entry_id: int, **fields: Any) -> dict[str, Any]:
    """An audit entry as the engine's _audit writes it."""
    return {
        "ts": T0 + entry_id,
        "kind": "decision",
        "device_id": "hood-1",
        "member_id": "ada",
        "card": "C0FFEE01",
        "reason": "granted",
        "buffered": False,
        "request_id": f"r{entry_id}",
        "entry_id": entry_id,
        **fields,
    }


def wire(records: Iterable[SessionRecord | AuditEntry]) -> list[dict[str, Any]]:
    """The records as the API sends them: their stored entries."""
    return [record.as_wire() for record in records]


def records(
    sessions: Iterable[dict[str, Any]] = (), audit: Iterable[dict[str, Any]] = ()
) -> dict[str, Any]:
    """The entries as the history hands them to the database: typed records."""
    return {
        "sessions": [SessionRecord.from_entry(entry) for entry in sessions],
        "audit": [AuditEntry.from_entry(entry) for entry in audit],
    }


def checkpoint(db: HistoryDatabase, mark: int, **entries: list[dict[str, Any]]) -> None:
    db.checkpoint(Checkpoint(mark=mark, **records(**entries)))


def test_new_database_is_stamped_and_a_newer_one_refused(
    database: HistoryDatabase,
) -> None:
    engine = database.engine
    assert engine is not None
    with engine.connect() as connection:
        assert migration.current_version(connection) == SCHEMA_VERSION
        connection.execute(
            insert(schema_version).values(version=SCHEMA_VERSION + 1, applied=0.0)
        )
        connection.commit()
    again = HistoryDatabase(database.url)
    with pytest.raises(SchemaTooNewError):
        again.open()
    again.shutdown()


def test_migration_steps_run_in_order_once(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = opened(database_url)
    checkpoint(db, 1, sessions=[session(1)])
    closed(db)
    added = MetaData()
    extra = Table("fluxilab_test_step", added, Column("n", Integer, primary_key=True))
    ran: list[int] = []

    def _step(connection: Any) -> None:
        ran.append(2)
        added.create_all(connection)

    monkeypatch.setattr(migration, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    monkeypatch.setitem(migration.STEPS, SCHEMA_VERSION + 1, _step)
    db = opened(database_url)
    assert ran == [2]
    assert db.engine is not None
    with db.engine.connect() as connection:
        assert connection.execute(select(extra.c.n)).all() == []
        assert migration.current_version(connection) == SCHEMA_VERSION + 1
    # The data survived the step; opening again runs nothing more.
    assert wire(db.sessions(SessionQuery())) == [session(1)]
    closed(db)
    db = opened(database_url)
    assert ran == [2]
    closed(db)


def test_schema_3_fills_the_audit_buffered_column_from_each_entry(
    database_url: str,
) -> None:
    """A schema-2 database gains ``buffered`` on audit rows, read from their data."""
    db = opened(database_url)
    offline = audit(1, buffered=True, reason="offline_granted")
    live = audit(2)
    admin = {"ts": T0 + 3, "kind": "admin", "target": "member", "entry_id": 3}
    checkpoint(db, 1, audit=[offline, live, admin])
    assert db.engine is not None
    # Back to schema 2: no column, no index, no step 3 recorded.
    with db.engine.begin() as connection:
        preparer = connection.dialect.identifier_preparer
        table = preparer.format_table(audit_table)
        index = "ix_fluxilab_audit_buffered"
        connection.execute(
            text(f"DROP INDEX {preparer.quote(index)} ON {table}")
            if connection.dialect.name in {"mysql", "mariadb"}
            else text(f"DROP INDEX {preparer.quote(index)}")
        )
        connection.execute(text(f"ALTER TABLE {table} DROP COLUMN buffered"))
        # A new database holds one row, the version it was made at.
        connection.execute(
            update(schema_version)
            .where(schema_version.c.version == 3)
            .values(version=2)
        )
    closed(db)
    db = opened(database_url)
    assert db.engine is not None
    with db.engine.connect() as connection:
        assert migration.current_version(connection) == 3
        rows = connection.execute(
            select(audit_table.c.entry_id, audit_table.c.buffered).order_by(
                audit_table.c.entry_id
            )
        ).all()
    assert [tuple(row) for row in rows] == [(1, True), (2, False), (3, None)]
    # The entries come back whole, and the filter reads the new column.
    assert wire(db.audit_page(AuditQuery(buffered=True))) == [offline]
    assert wire(db.audit_page(AuditQuery(buffered=False))) == [admin, live]
    closed(db)


def test_checkpoint_and_load_give_back_every_field(database: HistoryDatabase) -> None:
    assert database.load(10, 10) is None  # nothing checkpointed yet
    sessions = [session(n) for n in range(1, 8)]
    sessions[1]["end"] = None  # open, and older than the recent window
    sessions[1]["closed_by"] = None
    sessions[2]["nested"] = {"list": [1, 2.5, None], "text": "x"}
    entries = [audit(n) for n in range(8, 20)]
    entries[0] |= {"kind": "routing", "user_id": "u1", "member_name": "Ada"}
    entries[1] |= {"kind": "maintenance", "trainer_id": "t", "trainer_name": "Tina"}
    database.checkpoint(
        Checkpoint(
            mark=42,
            **records(sessions, entries),
            state={"settings": b'{"usage_retention_days":365}', "generation": b"7"},
            unknown_cards=[UnknownCard(card="DEAD", device_id="hood-1", ts=T0)],
        )
    )
    loaded = database.load(3, 5)
    assert loaded is not None
    assert loaded.mark == 42
    assert {name: json.loads(value) for name, value in loaded.state.items()} == {
        "settings": {"usage_retention_days": 365},
        "generation": 7,
    }
    assert loaded.unknown_cards == [UnknownCard(card="DEAD", device_id="hood-1", ts=T0)]
    # The newest three and the open one, in entry order; the newest five audits.
    assert [s.as_dict() for s in loaded.sessions] == [sessions[1], *sessions[-3:]]
    assert [e.as_dict() for e in loaded.audit] == entries[-5:]
    assert loaded.last_entry_id == 19
    assert wire(database.sessions(SessionQuery())) == sessions
    assert wire(database.audit_page(AuditQuery(limit=100))) == entries[::-1]


def test_queries_return_typed_records_whose_wire_is_the_entry(
    database: HistoryDatabase,
) -> None:
    """The core reads typed fields; the API gets the stored entry back unchanged."""
    charged = session(1, project_id="grant-a", machine_type_id="hood", busy_seconds=9)
    open_one = session(2, end=None, closed_by=None, buffered=None)
    note = audit(3, kind="maintenance", note="oiled", hours=12.5, buffered=None)
    checkpoint(database, 1, sessions=[charged, open_one], audit=[note])
    first, second = database.sessions(SessionQuery())
    assert first == SessionRecord(
        entry_id=1,
        session_id=charged["session_id"],
        device_id="hood-1",
        member_id="ada",
        member_name="Ada Lovelace — ñ 🧪",
        card="C0FFEE01",
        start=T0 + 1,
        end=T0 + 61,
        duration=60.0,
        closed_by="device",
        buffered=False,
        project_id="grant-a",
        machine_type_id="hood",
        busy_seconds=9,
        anonymized=False,
        document={},
    )
    assert (second.end, second.closed_by, second.buffered) == (None, None, None)
    assert first.as_wire() == charged
    assert list(first.as_wire()) == list(charged)  # the stored order, too
    with pytest.raises(TypeError):
        first.document["card"] = "x"  # type: ignore[index]
    (entry,) = database.audit_page(AuditQuery())
    assert (entry.entry_id, entry.kind, entry.buffered) == (3, "maintenance", None)
    assert (entry.detail("note"), entry.detail("hours"), entry.detail("x")) == (
        "oiled",
        12.5,
        None,
    )
    assert entry.as_wire() == note
    found = database.member_entries("ada")
    assert [r.entry_id for r in found.sessions] == [1, 2]
    assert [e.entry_id for e in found.audit] == [3]


def test_a_checkpoint_again_replaces_rows_by_entry_id(
    database: HistoryDatabase,
) -> None:
    first = [session(1), session(2, end=None)]
    checkpoint(database, 1, sessions=first)
    changed = session(2, duration=90.0, end=T0 + 92)
    checkpoint(database, 2, sessions=[changed])
    checkpoint(database, 3, sessions=[changed])  # a journal row applied again
    assert database.count("sessions") == 2
    assert wire(database.sessions(SessionQuery())) == [session(1), changed]
    assert database.journal_mark() == 3


def test_audit_pages_and_filters_in_sql(database: HistoryDatabase) -> None:
    entries = [
        audit(
            n,
            kind=("decision", "routing", "maintenance")[n % 3],
            device_id=f"hood-{n % 2}",
            member_id=None if n % 5 == 0 else f"m{n % 4}",
        )
        for n in range(1, 101)
    ]
    checkpoint(database, 1, audit=entries)
    newest_first = entries[::-1]
    pages: list[dict[str, Any]] = []
    before = None
    while page := wire(database.audit_page(AuditQuery(before=before, limit=30))):
        pages += page
        before = page[-1]["entry_id"]
    assert pages == newest_first

    def expect(**filters: Any) -> list[dict[str, Any]]:
        return [e for e in newest_first if all(e[k] == v for k, v in filters.items())]

    assert wire(database.audit_page(AuditQuery(kind="routing", limit=500))) == expect(
        kind="routing"
    )
    assert wire(
        database.audit_page(AuditQuery(device_id="hood-1", member_id="m3", limit=500))
    ) == expect(device_id="hood-1", member_id="m3")
    assert wire(
        database.audit_page(AuditQuery(start=T0 + 10, end=T0 + 20, limit=500))
    ) == [e for e in newest_first if T0 + 10 <= e["ts"] < T0 + 20]
    assert (
        wire(database.audit_page(AuditQuery(kind="maintenance", before=50, limit=3)))
        == [e for e in expect(kind="maintenance") if e["entry_id"] < 50][:3]
    )


def test_audit_filters_what_devices_recorded_offline(
    database: HistoryDatabase,
) -> None:
    entries = [audit(n, buffered=n % 3 == 0) for n in range(1, 31)]
    admin = {"ts": T0 + 31, "kind": "admin", "target": "member", "entry_id": 31}
    checkpoint(database, 1, audit=[*entries, admin])
    offline = [e for e in entries[::-1] if e["buffered"]]
    assert wire(database.audit_page(AuditQuery(buffered=True, limit=500))) == offline
    assert (
        wire(database.audit_page(AuditQuery(buffered=True, before=15, limit=2)))
        == [e for e in offline if e["entry_id"] < 15][:2]
    )
    assert wire(database.audit_page(AuditQuery(buffered=False, limit=500))) == [
        admin,
        *(e for e in entries[::-1] if not e["buffered"]),
    ]


def test_sessions_filter_page_and_stream(
    database: HistoryDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [
        session(n, device_id=f"hood-{n % 3}", member_id=f"m{n % 2}")
        for n in range(1, 61)
    ]
    checkpoint(database, 1, sessions=rows)
    query = SessionQuery(device_id="hood-1", start=T0 + 10, end=T0 + 50)
    expected = [
        r
        for r in rows
        if r["device_id"] == "hood-1" and T0 + 10 <= r["start"] < T0 + 50
    ]
    assert wire(database.sessions(query)) == expected
    newest = SessionQuery(member_id="m0", newest_first=True, offset=2, limit=5)
    assert (
        wire(database.sessions(newest))
        == [r for r in rows if r["member_id"] == "m0"][::-1][2:7]
    )
    monkeypatch.setattr(
        "custom_components.fluxilab.history_db.database.EXPORT_BATCH", 4
    )
    streamed: list[dict[str, Any]] = []
    after = None
    while batch := wire(database.session_batch(query, after)):
        assert len(batch) <= 4
        streamed += batch
        after = batch[-1]["entry_id"]
    assert streamed == expected


def test_imported_entries_are_written_once(database: HistoryDatabase) -> None:
    """An import's rows go in once, by their import id; the live ones are apart."""
    prefixes = ImportPrefixes(
        sessions="fab-use-", audit="fab-fix-", audit_kind="maintenance"
    )
    checkpoint(
        database,
        1,
        sessions=[session(1, session_id="fab_use-live")],  # "_" is no wildcard
        audit=[audit(2, kind="maintenance")],
    )

    def batch(first: int) -> ImportBatch:
        return ImportBatch(
            **records(
                [
                    session(
                        first + i, session_id=f"fab-use-{i}", import_id=f"fab-use-{i}"
                    )
                    for i in range(3)
                ],
                [audit(first + 3, kind="maintenance", import_id="fab-fix-1")],
            )
        )

    assert database.imported_ids(prefixes) == set()
    assert database.insert_imported(batch(10), prefixes) == {"sessions": 3, "audit": 1}
    assert database.imported_ids(prefixes) == {
        "fab-use-0",
        "fab-use-1",
        "fab-use-2",
        "fab-fix-1",
    }
    assert database.insert_imported(batch(20), prefixes) == {"sessions": 0, "audit": 0}
    assert database.count("sessions") == 4
    assert database.count("audit") == 2
    (row,) = wire(database.sessions(SessionQuery(start=T0 + 10, end=T0 + 11)))
    assert row["import_id"] == "fab-use-0"


def test_retention_and_forgetting_blank_personal_fields_in_sql(
    database: HistoryDatabase,
) -> None:
    old, recent = T0 - 400 * 86400, T0
    rows = [
        session(1, start=old, end=old + 60),
        session(2, start=old, end=None),  # still open: kept whole
        session(3, start=recent, end=recent + 60),
    ]
    entries = [
        audit(4, ts=old),
        audit(5, ts=recent),
        audit(6, ts=recent, member_id="bob", card="B0B"),
    ]
    checkpoint(database, 1, sessions=rows, audit=entries)
    cutoff = T0 - 365 * 86400
    assert database.anonymize_before(cutoff) == 2
    assert database.anonymize_before(cutoff) == 0  # nothing named is left there
    kept = wire(database.sessions(SessionQuery()))
    assert kept[0] | {"anonymized": True} == kept[0]
    assert all(kept[0][k] is None for k in ("member_id", "member_name", "card"))
    assert kept[1] == rows[1]
    assert kept[2] == rows[2]
    page = wire(database.audit_page(AuditQuery()))
    assert page[-1]["member_id"] is None
    assert page[-1]["anonymized"] is True
    # Bob by member id, Ada by her card.
    assert database.anonymize_member("bob", []) == 1
    assert database.member_entries("bob") == MemberEntries(sessions=[], audit=[])
    assert database.anonymize_member("nobody", ["C0FFEE01"]) == 3
    assert database.member_entries("ada") == MemberEntries(sessions=[], audit=[])


def test_forgetting_erases_the_note_of_their_maintenance_in_sql(
    database: HistoryDatabase,
) -> None:
    """An intervention keeps its hours; the member's note goes with the member."""
    note = "Ada replaced the filter"
    entries = [
        audit(1, kind="maintenance", card=None, hours=12.5, note=note),
        audit(2, kind="maintenance", card=None, member_id="bob", hours=3.0, note="x"),
        audit(3, note=note),  # another kind: only the personal fields go
    ]
    checkpoint(database, 1, audit=entries)
    assert database.anonymize_member("ada", [], {"maintenance": ("note",)}) == 2
    by_id = {e["entry_id"]: e for e in wire(database.audit_page(AuditQuery()))}
    assert by_id[1]["note"] is None
    assert by_id[1]["hours"] == 12.5
    assert by_id[1]["member_id"] is None
    assert by_id[2]["note"] == "x"  # Bob's stays
    assert by_id[2]["member_id"] == "bob"
    assert by_id[3]["note"] == note
    assert by_id[3]["member_id"] is None


def test_copy_into_an_empty_database(database: HistoryDatabase, tmp_path: Any) -> None:
    database.checkpoint(
        Checkpoint(
            mark=9,
            **records([session(1)], [audit(2)]),
            state={"generation": b"3"},
            unknown_cards=[UnknownCard(card="DEAD", device_id="hood-1", ts=T0)],
        )
    )
    target = opened(f"sqlite:///{tmp_path / 'copy.db'}")
    assert target.is_empty()
    assert database.copy_to(target) == 5
    assert not target.is_empty()
    assert target.load(10, 10) == database.load(10, 10)
    closed(target)
