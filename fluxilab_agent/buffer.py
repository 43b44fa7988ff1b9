"""The record buffer: every record lives in SQLite until the hub acknowledges it.

Each telemetry tick and each access event the hub has not seen yet is written here
*before* it is sent, with a per-device sequence number that never repeats (SQLite
``AUTOINCREMENT`` keeps the highest number ever used in ``sqlite_sequence``, inside
the same transaction as the insert, so even an emptied buffer never hands out a
number twice). A record is deleted only when the hub's signed ack names its number.

Durability: the database runs in WAL mode. Telemetry is committed with
``synchronous=NORMAL``: a commit is in the WAL file (the OS page cache) when
``commit()`` returns, so a SIGKILL of the agent loses nothing committed; a power cut
may roll back the last fraction of a second of telemetry but never corrupts the
database. Access records (decisions the hub has not seen) are committed with
``synchronous=FULL``, so they also survive a power cut once written.

Bounded size: above ``max_records`` the oldest *telemetry* records are dropped
(logged, counted); access records are never dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
import json
import logging
from pathlib import Path
import secrets
import sqlite3
import time
from typing import Any

from fluxilab_protocol.backlog import seq_ranges
from fluxilab_protocol.schemas import RecordKind

_LOGGER = logging.getLogger(__name__)

DEFAULT_MAX_RECORDS = 200_000
DROP_LOG_INTERVAL = 60.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_kind ON records (kind, seq);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class Record:
    """One buffered record: telemetry ``values`` or an access ``event``."""

    seq: int
    ts: float
    kind: RecordKind
    data: dict[str, Any]

    def wire(self, *, buffered: bool = True) -> dict[str, Any]:
        """Return the record as it appears in a backlog batch (RECORD_SCHEMA)."""
        field = "values" if self.kind is RecordKind.TELEMETRY else "event"
        return {
            "seq": self.seq,
            "ts": self.ts,
            "kind": self.kind.value,
            "buffered": buffered,
            field: self.data,
        }


class RecordBuffer:
    """SQLite-backed store of unacknowledged records (one per device)."""

    def __init__(self, path: Path, *, max_records: int = DEFAULT_MAX_RECORDS) -> None:
        """Open (or create) the buffer at ``path``."""
        if max_records < 1:
            raise ValueError("max_records must be at least 1")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.max_records = max_records
        self.dropped = 0
        self._last_drop_log = -DROP_LOG_INTERVAL
        # Autocommit mode: every write below is one explicit transaction.
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._synchronous = ""
        self._set_synchronous("NORMAL")
        self._db.executescript(_SCHEMA)
        self.stream = self._load_stream()
        self._count = int(
            self._db.execute("SELECT COUNT(*) FROM records").fetchone()[0]
        )
        path.chmod(0o600)

    def _load_stream(self) -> str:
        """Return this buffer's record stream id, choosing it when the file is new.

        Sequence numbers are unique within a stream. A wiped buffer starts a new
        stream, so the hub does not take its first records for replays of old ones.
        """
        row = self._db.execute("SELECT value FROM meta WHERE key = 'stream'").fetchone()
        if row is not None:
            return str(row[0])
        stream = secrets.token_urlsafe(12)
        self._db.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('stream', ?)", (stream,)
        )
        row = self._db.execute("SELECT value FROM meta WHERE key = 'stream'").fetchone()
        return str(row[0])

    def _set_synchronous(self, level: str) -> None:
        if level != self._synchronous:
            self._db.execute(f"PRAGMA synchronous={level}")
            self._synchronous = level

    def __len__(self) -> int:
        """Return the number of records waiting for an ack."""
        return self._count

    def close(self) -> None:
        """Checkpoint the WAL into the database and close it."""
        try:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as err:
            _LOGGER.warning("Could not checkpoint the buffer: %s", err)
        self._db.close()

    def append(
        self, kind: RecordKind, data: dict[str, Any], ts: float | None = None
    ) -> Record:
        """Store a record durably and return it with its sequence number."""
        ts = round(time.time() if ts is None else ts, 3)
        text = json.dumps(data, separators=(",", ":"))
        self._set_synchronous("FULL" if kind is RecordKind.ACCESS else "NORMAL")
        cursor = self._db.execute(
            "INSERT INTO records (ts, kind, data) VALUES (?, ?, ?)",
            (ts, kind.value, text),
        )
        seq = cursor.lastrowid
        assert seq is not None  # noqa: S101  # an INSERT always sets it
        self._count += 1
        if self._count > self.max_records:
            self._drop_oldest_telemetry(self._count - self.max_records)
        return Record(seq, ts, kind, data)

    def _drop_oldest_telemetry(self, excess: int) -> None:
        """Apply the full-buffer policy: oldest telemetry goes, access stays."""
        self._set_synchronous("NORMAL")
        cursor = self._db.execute(
            "DELETE FROM records WHERE seq IN (SELECT seq FROM records "
            "WHERE kind = ? ORDER BY seq LIMIT ?)",
            (RecordKind.TELEMETRY.value, excess),
        )
        dropped = max(cursor.rowcount, 0)
        self._count -= dropped
        self.dropped += dropped
        now = time.monotonic()
        if dropped and now - self._last_drop_log >= DROP_LOG_INTERVAL:
            self._last_drop_log = now
            _LOGGER.warning(
                "Buffer full (%d records): dropped the oldest telemetry "
                "(%d dropped so far); access records are kept",
                self.max_records,
                self.dropped,
            )

    def delete(self, seqs: Iterable[int]) -> int:
        """Delete acknowledged records; return how many were deleted."""
        ranges = seq_ranges(seqs)
        if not ranges:
            return 0
        self._set_synchronous("NORMAL")
        deleted = 0
        self._db.execute("BEGIN")
        try:
            for first, last in ranges:
                cursor = self._db.execute(
                    "DELETE FROM records WHERE seq BETWEEN ? AND ?", (first, last)
                )
                deleted += max(cursor.rowcount, 0)
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._count -= deleted
        return deleted

    def read(self, after: int, limit: int) -> list[Record]:
        """Return up to ``limit`` records with ``seq > after``, oldest first."""
        rows = self._db.execute(
            "SELECT seq, ts, kind, data FROM records WHERE seq > ? ORDER BY seq "
            "LIMIT ?",
            (after, limit),
        ).fetchall()
        return [
            Record(seq, ts, RecordKind(kind), json.loads(data))
            for seq, ts, kind, data in rows
        ]

    def __iter__(self) -> Iterator[Record]:
        """Every record, oldest first (for tools and tests)."""
        after = 0
        while batch := self.read(after, 1000):
            yield from batch
            after = batch[-1].seq

    def last_seq(self) -> int:
        """Return the highest sequence number ever handed out (0 if none)."""
        row = self._db.execute(
            "SELECT seq FROM sqlite_sequence WHERE name = 'records'"
        ).fetchone()
        return int(row[0]) if row else 0
