"""The history database: every call here is blocking and runs on its own thread.

``HistoryDatabase`` knows SQL and nothing of Home Assistant: the history
(access/history.py) hands it typed entries (records.py) and gets typed entries
back; the stored documents become rows here and rows documents again, nowhere else. Its
methods are called through :meth:`HistoryDatabase.async_run`, which runs them on the
database's one worker thread, so the event loop never waits for a disk or a server
and the calls keep their order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
import csv
from dataclasses import dataclass, field
import io
import logging
import os
from typing import Any, Final

import orjson
from sqlalchemy import (
    Row,
    Table,
    and_,
    create_engine,
    delete,
    event,
    false,
    func,
    insert,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.engine import Connection, CursorResult, Engine, make_url
from sqlalchemy.pool import ConnectionPoolEntry

from .migration import migrate
from .records import (
    AuditEntry,
    LiveAudit,
    LiveSession,
    MemberEntries,
    SessionRecord,
    UnknownCard,
)
from .schema import (
    ENTRY_TABLES,
    PERSONAL_FIELDS,
    SESSION_COLUMNS,
    audit,
    meta,
    sessions,
    state,
    unknown_cards,
)

_LOGGER = logging.getLogger(__name__)

JOURNAL_MARK: Final = "journal_mark"
WRITE_CHUNK: Final = 5_000
"""Rows per INSERT statement (bulk writes, imports)."""
EXPORT_BATCH: Final = 5_000
"""Sessions per batch of a streamed export."""
DELETE_CHUNK: Final = 500
"""Ids per ``IN (...)`` of the rows a checkpoint replaces."""
IMPORT_ID: Final = "import_id"
"""What an entry brought from another system is known by (imports never repeat it)."""


@dataclass(slots=True)
class Checkpoint:
    """What one checkpoint writes, in one transaction, with the journal's mark."""

    mark: int
    sessions: list[SessionRecord] = field(default_factory=list)
    """Sessions to insert or replace (by ``entry_id``, which each must have)."""
    audit: list[AuditEntry] = field(default_factory=list)
    """Audit entries to insert or replace (likewise)."""
    state: dict[str, bytes] = field(default_factory=dict)
    """Small documents changed since the last checkpoint, JSON."""
    unknown_cards: list[UnknownCard] | None = None
    """The whole list of unknown cards, if it changed."""


@dataclass(slots=True)
class Loaded:
    """What start-up reads: the mark, the small documents, the recent entries."""

    mark: int
    state: dict[str, str]
    """The small documents by name, JSON (the history reads them)."""
    unknown_cards: list[UnknownCard]
    sessions: list[LiveSession]
    audit: list[LiveAudit]
    last_entry_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportBatch:
    """Entries another system's history brings, each with an ``import_id``."""

    sessions: list[SessionRecord] = field(default_factory=list)
    audit: list[AuditEntry] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportPrefixes:
    """Where an earlier import's entries are found (``HistoryDatabase.imported_ids``).

    ``sessions``: a session's import id is its session id; ``audit`` and
    ``audit_kind``: the import ids of the audit entries of that kind.
    """

    sessions: str | None = None
    audit: str | None = None
    audit_kind: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditQuery:
    """Filters of an audit page; newest first, ``before`` an entry id (the cursor).

    ``member_id``: the entries about the member and the admin changes they made.
    """

    device_id: str | None = None
    member_id: str | None = None
    kind: str | None = None
    buffered: bool | None = None
    """True: only what devices recorded offline and sent later; False: the rest."""
    start: float | None = None
    end: float | None = None
    before: int | None = None
    limit: int = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionQuery:
    """Filters of sessions: ``start <= session start < end``, in entry order."""

    device_id: str | None = None
    member_id: str | None = None
    start: float | None = None
    end: float | None = None
    offset: int = 0
    limit: int | None = None
    newest_first: bool = False


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # A checkpoint is durable before the journal drops its rows.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def sqlite_url(path: str) -> str:
    """Return the URL of a SQLite file."""
    return f"sqlite:///{path}"


def redact_url(url: str) -> str:
    """Return the URL without its password (logs, the panel)."""
    return make_url(url).render_as_string(hide_password=True)


def _row_to_entry(row: Row[Any]) -> dict[str, Any]:
    mapping = row._mapping  # SQLAlchemy's documented row view
    entry: dict[str, Any] = orjson.loads(mapping["data"])
    for name in PERSONAL_FIELDS:
        if name in entry:
            entry[name] = mapping[name]
    if mapping["anonymized"]:
        entry["anonymized"] = True
    return entry


def _row_document(
    document: Mapping[str, Any], entry_id: int | None, anonymized: bool
) -> dict[str, Any]:
    """Return the row columns every entry has: its id, personal fields and data.

    ``data``: the stored document as JSON, its personal fields' keys kept with
    null values (the columns hold them, so the anonymization is one UPDATE).
    """
    if entry_id is None:
        raise ValueError("an entry is written only once it has an entry_id")
    return {
        "entry_id": entry_id,
        **{
            name: value
            if isinstance(value := document.get(name), str) or value is None
            else str(value)
            for name in PERSONAL_FIELDS
        },
        "anonymized": anonymized,
        "data": orjson.dumps(
            {k: (None if k in PERSONAL_FIELDS else v) for k, v in document.items()}
        ).decode(),
    }


def _number(value: float | None, default: float = 0.0) -> float:
    return default if value is None else float(value)


def session_row(record: SessionRecord) -> dict[str, Any]:
    """Return the sessions row of one session."""
    return {
        **_row_document(record.document, record.entry_id, record.anonymized),
        "session_id": record.session_id,
        "device_id": record.device_id,
        "start_ts": float(record.start),
        "end_ts": _number(record.end) if record.end is not None else None,
        "duration": _number(record.duration) if record.duration is not None else None,
        "closed_by": record.closed_by,
        "buffered": record.buffered,
    }


def audit_row(record: AuditEntry) -> dict[str, Any]:
    """Return the audit row of one audit entry."""
    return {
        **_row_document(record.document, record.entry_id, record.anonymized),
        "ts": float(record.ts),
        "kind": record.kind,
        "device_id": record.device_id,
        "buffered": record.buffered,
    }


def _entry_rows(records: Iterable[SessionRecord | AuditEntry]) -> list[dict[str, Any]]:
    """Return the rows of entries of one table."""
    return [
        session_row(record) if isinstance(record, SessionRecord) else audit_row(record)
        for record in records
    ]


def _chunks[T](items: list[T], size: int) -> Iterator[list[T]]:
    for index in range(0, len(items), size):
        yield items[index : index + size]


def _count(result: Any) -> int:
    rowcount: int = result.rowcount if isinstance(result, CursorResult) else 0
    return max(rowcount, 0)


class HistoryDatabase:
    """One database (a SQLite file, or a server) holding the history."""

    def __init__(self, url: str) -> None:
        """Prepare; :meth:`open` (on the worker) connects and migrates."""
        self.url = url
        self.engine: Engine | None = None
        self._executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="fluxilab_history"
        )

    @property
    def dialect(self) -> str:
        """The database's dialect name: sqlite, postgresql, mysql."""
        return make_url(self.url).get_backend_name()

    async def async_run[T](self, job: Callable[..., T], *args: Any) -> T:
        """Run ``job(*args)`` on the database's worker thread and return its result."""
        return await asyncio.get_running_loop().run_in_executor(
            self._executor, job, *args
        )

    # Opening ------------------------------------------------------------------------

    def open(self) -> int:
        """Connect and bring the schema up to date; return the version found."""
        url = make_url(self.url)
        if url.get_backend_name() == "sqlite":
            if url.database:
                os.makedirs(os.path.dirname(url.database) or ".", exist_ok=True)
                # Private like the JSON history was: member names, cards.
                os.close(os.open(url.database, os.O_CREAT | os.O_RDWR, 0o600))
                os.chmod(url.database, 0o600)
            engine = create_engine(
                url,
                future=True,
                connect_args={"check_same_thread": False, "timeout": 30},
            )
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(
                url, future=True, pool_pre_ping=True, pool_recycle=3600
            )
        try:
            found = migrate(engine)
        except BaseException:
            engine.dispose()
            raise
        self.engine = engine
        return found

    def close(self) -> None:
        """Close every connection (worker thread)."""
        if self.engine is not None:
            self.engine.dispose()
            self.engine = None

    def shutdown(self) -> None:
        """Stop the worker thread once its queued jobs are done (after close)."""
        self._executor.shutdown(wait=True)

    def _engine(self) -> Engine:
        if self.engine is None:
            raise RuntimeError("the history database is closed")
        return self.engine

    # Start-up -----------------------------------------------------------------------

    def load(self, recent_sessions: int, recent_audit: int) -> Loaded | None:
        """Return what the history keeps in memory; None if the database is new."""
        with self._engine().connect() as connection:
            mark = connection.execute(
                select(meta.c.value).where(meta.c.name == JOURNAL_MARK)
            ).scalar()
            if mark is None:
                return None
            loaded_state = {
                str(name): str(value)
                for name, value in connection.execute(
                    select(state.c.name, state.c.value)
                )
            }
            cards = [
                UnknownCard(card=card, device_id=device_id, ts=ts)
                for card, device_id, ts in connection.execute(
                    select(
                        unknown_cards.c.card,
                        unknown_cards.c.device_id,
                        unknown_cards.c.ts,
                    ).order_by(unknown_cards.c.ts)
                )
            ]
            newest = connection.execute(
                select(sessions)
                .order_by(sessions.c.entry_id.desc())
                .limit(recent_sessions)
            ).all()
            oldest_kept = newest[-1].entry_id if newest else None
            open_rows = (
                connection.execute(
                    select(sessions).where(
                        sessions.c.end_ts.is_(None), sessions.c.entry_id < oldest_kept
                    )
                ).all()
                if oldest_kept is not None
                else []
            )
            session_rows = sorted([*open_rows, *newest], key=lambda row: row.entry_id)
            audit_rows = connection.execute(
                select(audit).order_by(audit.c.entry_id.desc()).limit(recent_audit)
            ).all()
            last_id = max(
                connection.execute(select(func.max(sessions.c.entry_id))).scalar() or 0,
                connection.execute(select(func.max(audit.c.entry_id))).scalar() or 0,
            )
        return Loaded(
            mark=int(mark),
            state=loaded_state,
            unknown_cards=cards,
            sessions=[
                LiveSession.from_entry(_row_to_entry(row)) for row in session_rows
            ],
            audit=[
                LiveAudit.from_entry(_row_to_entry(row)) for row in reversed(audit_rows)
            ],
            last_entry_id=int(last_id),
        )

    # Writing ------------------------------------------------------------------------

    def checkpoint(self, checkpoint: Checkpoint) -> None:
        """Write one checkpoint and its journal mark in one transaction."""
        with self._engine().begin() as connection:
            if checkpoint.sessions:
                self._replace(connection, sessions, checkpoint.sessions)
            if checkpoint.audit:
                self._replace(connection, audit, checkpoint.audit)
            if checkpoint.state:
                names = list(checkpoint.state)
                connection.execute(delete(state).where(state.c.name.in_(names)))
                connection.execute(
                    insert(state),
                    [
                        {"name": name, "value": value.decode()}
                        for name, value in checkpoint.state.items()
                    ],
                )
            if checkpoint.unknown_cards is not None:
                connection.execute(delete(unknown_cards))
                rows = {
                    card.card: {
                        "card": card.card,
                        "device_id": card.device_id,
                        "ts": _number(card.ts),
                    }
                    for card in checkpoint.unknown_cards
                }
                if rows:
                    connection.execute(insert(unknown_cards), list(rows.values()))
            connection.execute(delete(meta).where(meta.c.name == JOURNAL_MARK))
            connection.execute(
                insert(meta).values(name=JOURNAL_MARK, value=checkpoint.mark)
            )

    @staticmethod
    def _replace(
        connection: Connection,
        table: Table,
        entries: list[SessionRecord] | list[AuditEntry],
    ) -> None:
        # The last of an entry id wins (a newer version of the same entry).
        rows = {row["entry_id"]: row for row in _entry_rows(entries)}
        ids = list(rows)
        for ids_chunk in _chunks(ids, DELETE_CHUNK):
            connection.execute(delete(table).where(table.c.entry_id.in_(ids_chunk)))
        for rows_chunk in _chunks(list(rows.values()), WRITE_CHUNK):
            connection.execute(insert(table), rows_chunk)

    def bulk_insert(
        self, name: str, entries: Iterable[SessionRecord] | Iterable[AuditEntry]
    ) -> int:
        """Insert new entries (never seen before), in large statements; imports."""
        table = ENTRY_TABLES[name]
        written = 0
        batch: list[SessionRecord | AuditEntry] = []
        with self._engine().begin() as connection:
            for entry in entries:
                batch.append(entry)
                if len(batch) >= WRITE_CHUNK:
                    connection.execute(insert(table), _entry_rows(batch))
                    written += len(batch)
                    batch = []
            if batch:
                connection.execute(insert(table), _entry_rows(batch))
                written += len(batch)
        return written

    @staticmethod
    def _imported(connection: Connection, prefixes: ImportPrefixes) -> set[str]:
        found: set[str] = set()
        if prefix := prefixes.sessions:
            found.update(
                connection.execute(
                    select(sessions.c.session_id).where(
                        sessions.c.session_id.startswith(prefix, autoescape=True)
                    )
                ).scalars()
            )
        if prefix := prefixes.audit:
            kind = prefixes.audit_kind
            statement = select(audit.c.data)
            if kind is not None:
                statement = statement.where(audit.c.kind == kind)  # indexed
            for data in connection.execute(statement).scalars():
                key = orjson.loads(data).get(IMPORT_ID)
                if isinstance(key, str) and key.startswith(prefix):
                    found.add(key)
        return found

    def imported_ids(self, prefixes: ImportPrefixes) -> set[str]:
        """Return the ``import_id`` of entries an earlier import wrote."""
        with self._engine().connect() as connection:
            return self._imported(connection, prefixes)

    def insert_imported(
        self, entries: ImportBatch, prefixes: ImportPrefixes
    ) -> dict[str, int]:
        """Insert imported entries an earlier import did not write; one transaction.

        Each entry has an ``import_id``; the count written of each list is returned.
        """
        written: dict[str, int] = {}
        with self._engine().begin() as connection:
            known = self._imported(connection, prefixes)
            for name, table, items in (
                ("sessions", sessions, entries.sessions),
                ("audit", audit, entries.audit),
            ):
                rows = _entry_rows(
                    entry for entry in items if entry.document[IMPORT_ID] not in known
                )
                for rows_chunk in _chunks(rows, WRITE_CHUNK):
                    connection.execute(insert(table), rows_chunk)
                written[name] = len(rows)
        return written

    # Reading ------------------------------------------------------------------------

    def audit_page(self, query: AuditQuery) -> list[AuditEntry]:
        """Return one page of audit entries, newest first."""
        where = []
        for column, value in (
            (audit.c.device_id, query.device_id),
            (audit.c.kind, query.kind),
        ):
            if value is not None:
                where.append(column == value)
        if query.member_id is not None:
            # Entries about the member, and the admin changes they made.
            where.append(
                or_(
                    audit.c.member_id == query.member_id,
                    audit.c.actor_member_id == query.member_id,
                )
            )
        if query.buffered is True:
            where.append(audit.c.buffered == true())
        elif query.buffered is False:
            # An entry without the field (an admin change) was not recorded offline.
            where.append(or_(audit.c.buffered.is_(None), audit.c.buffered == false()))
        if query.start is not None:
            where.append(audit.c.ts >= query.start)
        if query.end is not None:
            where.append(audit.c.ts < query.end)
        if query.before is not None:
            where.append(audit.c.entry_id < query.before)
        statement = (
            select(audit)
            .where(and_(true(), *where))
            .order_by(audit.c.entry_id.desc())
            .limit(query.limit)
        )
        with self._engine().connect() as connection:
            return [
                AuditEntry.from_entry(_row_to_entry(row))
                for row in connection.execute(statement)
            ]

    @staticmethod
    def _session_filter(query: SessionQuery) -> list[Any]:
        where = []
        if query.device_id is not None:
            where.append(sessions.c.device_id == query.device_id)
        if query.member_id is not None:
            where.append(sessions.c.member_id == query.member_id)
        if query.start is not None:
            where.append(sessions.c.start_ts >= query.start)
        if query.end is not None:
            where.append(sessions.c.start_ts < query.end)
        return where

    def sessions(self, query: SessionQuery) -> list[SessionRecord]:
        """Return the sessions matching the filters (one page, if limited)."""
        order = (
            sessions.c.entry_id.desc() if query.newest_first else sessions.c.entry_id
        )
        statement = (
            select(sessions)
            .where(and_(true(), *self._session_filter(query)))
            .order_by(order)
            .offset(query.offset)
        )
        if query.limit is not None:
            statement = statement.limit(query.limit)
        with self._engine().connect() as connection:
            return [
                SessionRecord.from_entry(_row_to_entry(row))
                for row in connection.execute(statement)
            ]

    def session_batch(
        self, query: SessionQuery, after: int | None
    ) -> list[SessionRecord]:
        """Return the next EXPORT_BATCH sessions past entry id ``after`` (exports)."""
        where = self._session_filter(query)
        if after is not None:
            where.append(sessions.c.entry_id > after)
        statement = (
            select(sessions)
            .where(and_(true(), *where))
            .order_by(sessions.c.entry_id)
            .limit(EXPORT_BATCH)
        )
        with self._engine().connect() as connection:
            return [
                SessionRecord.from_entry(_row_to_entry(row))
                for row in connection.execute(statement)
            ]

    def csv_batch(
        self, query: SessionQuery, fields: tuple[str, ...], after: int | None
    ) -> tuple[str, int | None]:
        """Return the next EXPORT_BATCH sessions as CSV lines, and the last entry id.

        Reads only columns (no JSON): the usage export of a year stays fast.
        """
        where = self._session_filter(query)
        if after is not None:
            where.append(sessions.c.entry_id > after)
        statement = (
            select(sessions.c.entry_id, *(SESSION_COLUMNS[name] for name in fields))
            .where(and_(true(), *where))
            .order_by(sessions.c.entry_id)
            .limit(EXPORT_BATCH)
        )
        with self._engine().connect() as connection:
            rows = connection.execute(statement).all()
        if not rows:
            return "", None
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(row[1:] for row in rows)
        return buffer.getvalue(), int(rows[-1][0])

    def member_entries(self, member_id: str) -> MemberEntries:
        """Return every session and audit entry naming a member (GDPR access)."""
        with self._engine().connect() as connection:
            found = {
                name: [
                    _row_to_entry(row)
                    for row in connection.execute(
                        select(table)
                        .where(
                            table.c.member_id == member_id
                            if table is sessions
                            # and the admin changes they made (indexed)
                            else or_(
                                table.c.member_id == member_id,
                                table.c.actor_member_id == member_id,
                            )
                        )
                        .order_by(table.c.entry_id)
                    )
                ]
                for name, table in ENTRY_TABLES.items()
            }
        return MemberEntries(
            sessions=[SessionRecord.from_entry(entry) for entry in found["sessions"]],
            audit=[AuditEntry.from_entry(entry) for entry in found["audit"]],
        )

    def journal_mark(self) -> int | None:
        """Return the journal mark of the last checkpoint, None before the first."""
        with self._engine().connect() as connection:
            mark = connection.execute(
                select(meta.c.value).where(meta.c.name == JOURNAL_MARK)
            ).scalar()
        return None if mark is None else int(mark)

    def stored_state(self) -> dict[str, str]:
        """Return the small documents as the last checkpoint wrote them, JSON."""
        with self._engine().connect() as connection:
            return {
                str(name): str(value)
                for name, value in connection.execute(
                    select(state.c.name, state.c.value)
                )
            }

    def count(self, name: str) -> int:
        """Return how many entries a table holds (diagnostics, tests)."""
        table = ENTRY_TABLES[name]
        with self._engine().connect() as connection:
            return int(
                connection.execute(select(func.count()).select_from(table)).scalar()
                or 0
            )

    def is_empty(self) -> bool:
        """Return True if the database holds no history yet."""
        with self._engine().connect() as connection:
            return connection.execute(
                select(meta.c.name).limit(1)
            ).first() is None and all(
                connection.execute(select(table.c.entry_id).limit(1)).first() is None
                for table in ENTRY_TABLES.values()
            )

    def copy_to(self, target: HistoryDatabase) -> int:
        """Copy every row into an empty database, in one transaction there."""
        copied = 0
        with self._engine().connect() as source, target._engine().begin() as sink:
            for table in (meta, state, unknown_cards, sessions, audit):
                result = source.execution_options(yield_per=WRITE_CHUNK).execute(
                    select(table)
                )
                for partition in result.mappings().partitions():
                    sink.execute(insert(table), [dict(row) for row in partition])
                    copied += len(partition)
        return copied

    # Retention ----------------------------------------------------------------------

    @staticmethod
    def _named() -> Callable[[Table], Any]:
        return lambda table: or_(
            *(table.c[name].is_not(None) for name in PERSONAL_FIELDS)
        )

    def _blank(self, connection: Connection, table: Table, *where: Any) -> int:
        statement = (
            update(table)
            .where(table.c.anonymized == false(), self._named()(table), *where)
            .values(**dict.fromkeys(PERSONAL_FIELDS), anonymized=True)
        )
        return _count(connection.execute(statement))

    def anonymize_before(self, cutoff: float) -> int:
        """Blank the personal fields of sessions ended and entries made before cutoff."""
        with self._engine().begin() as connection:
            return self._blank(
                connection,
                sessions,
                sessions.c.end_ts.is_not(None),
                sessions.c.end_ts < cutoff,
            ) + self._blank(connection, audit, audit.c.ts < cutoff)

    def anonymize_member(
        self,
        member_id: str,
        cards: list[str],
        erase: Mapping[str, Iterable[str]] | None = None,
    ) -> int:
        """Blank every session and audit entry of a member, of their cards, by them.

        ``erase``: audit kind -> fields of the entry's data that go too in the
        member's own entries of that kind (free text they wrote: a maintenance note).
        """
        with self._engine().begin() as connection:
            touched = 0
            for kind, fields in (erase or {}).items():
                self._erase_fields(
                    connection,
                    tuple(fields),
                    audit.c.kind == kind,
                    audit.c.member_id == member_id,
                )
            for table in ENTRY_TABLES.values():
                match = table.c.member_id == member_id
                if table is audit:  # admin changes they made (sessions have none)
                    match = or_(match, table.c.actor_member_id == member_id)
                if cards:
                    match = or_(match, table.c.card.in_(cards))
                touched += self._blank(connection, table, match)
            return touched

    @staticmethod
    def _erase_fields(
        connection: Connection, fields: tuple[str, ...], *where: Any
    ) -> None:
        """Set ``fields`` of the matching audit entries' data to null."""
        rows = connection.execute(
            select(audit.c.entry_id, audit.c.data).where(*where)
        ).all()
        for entry_id, text in rows:
            data = orjson.loads(text)
            if not isinstance(data, dict) or all(
                data.get(name) is None for name in fields
            ):
                continue
            data.update(dict.fromkeys(fields))
            connection.execute(
                update(audit)
                .where(audit.c.entry_id == entry_id)
                .values(data=orjson.dumps(data).decode())
            )
