"""The write-ahead journal: what makes an acknowledgement mean "stored".

Where does a session get stored? Three places, in this order:

1. In memory: ``access/history.py`` (sessions, audit, usage ...) and ``backfill.py``
   (per device: stored sequence numbers, hourly telemetry figures). Handlers change
   these on the event loop.
2. Here, within a fraction of a second: every *commit* collects, on the event loop
   and in one go, each changed document of every participant (a session, an audit
   entry, a device's sequence numbers, one hour of one channel ...) and writes them
   in ONE SQLite transaction (WAL, ``synchronous=FULL``, in the executor). A device
   record is acknowledged only after the commit that holds both its effects and its
   sequence number: "seen" and "stored" are made durable together, so a crash
   (SIGKILL, power cut) can leave neither without the other. Live card checks do
   not wait: their changes ride on the next commit, a moment later
   (:meth:`Journal.async_commit_soon`).
3. In the regular JSON files of ``.storage`` (HA's ``Store``), a few seconds later: a
   *checkpoint* takes a copy of one participant's state at the instant of a commit,
   writes it (atomically, fsynced) with that commit's id as its ``journal_mark``, and
   then drops the participant's journal rows up to the mark.

On start-up each participant loads its JSON file and applies, in commit order, its
journal rows newer than the file's mark. Rows hold whole documents (the latest
version of each, keyed per participant), so applying them again is harmless. A
journal that cannot be read is moved aside and reported (log and repair issue);
set-up goes on with the JSON files alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
import contextlib
from dataclasses import dataclass, field
import logging
import os
import sqlite3
import threading
import time
from typing import Any

from homeassistant.components.recorder import get_instance
from homeassistant.components.recorder.tasks import SynchronizeTask
from homeassistant.const import (
    EVENT_HOMEASSISTANT_CLOSE,
    EVENT_HOMEASSISTANT_FINAL_WRITE,
)
from homeassistant.core import CoreState, Event, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.storage import STORAGE_DIR
from homeassistant.util.hass_dict import HassKey
from homeassistant.util.json import json_loads

from .const import DOMAIN

_LOGGER = logging.getLogger(__name__)

JOURNAL_FILE = f"{DOMAIN}.journal.sqlite3"
COMMIT_SOON_DELAY = 0.2
"""Seconds a live change (card check, session) waits to share a commit."""
ISSUE_JOURNAL_UNREADABLE = "journal_unreadable"

BARRIER_WINDOW = 0.1
"""Seconds live acks of several devices wait to share one recorder commit."""
RECORDER_TIMEOUT = 30.0
"""Seconds to wait for the recorder's commit before giving up on an ack."""

DATA_JOURNAL: HassKey[Journal] = HassKey(f"{DOMAIN}_journal")
DATA_BARRIER: HassKey[RecorderBarrier] = HassKey(f"{DOMAIN}_recorder_barrier")
_OPEN_LOCK: HassKey[asyncio.Lock] = HassKey(f"{DOMAIN}_journal_open")

type Changes = Callable[[], Mapping[str, bytes | None]]
"""A participant's changed documents since the last call: key -> the document as
JSON (``json_bytes``, encoded by the participant in the same event-loop step), or
None to drop the key."""

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS docs ("
    " store TEXT NOT NULL, key TEXT NOT NULL, txid INTEGER NOT NULL, value BLOB,"
    " PRIMARY KEY (store, key)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
)


class JournalError(Exception):
    """A commit could not be written: nothing it held may be acknowledged."""


@dataclass(slots=True)
class JournalStats:
    """Counters for diagnostics and tests."""

    commits: int = 0
    rows: int = 0
    failed: int = 0
    unreadable_rows: int = 0
    replayed: dict[str, int] = field(default_factory=dict)
    last_commit_ms: float = 0.0


async def async_get_journal(hass: HomeAssistant) -> Journal:
    """Return the journal, opening it (once) on first use."""
    if (journal := hass.data.get(DATA_JOURNAL)) is not None:
        return journal
    lock = hass.data.setdefault(_OPEN_LOCK, asyncio.Lock())
    async with lock:
        if (journal := hass.data.get(DATA_JOURNAL)) is None:
            journal = Journal(hass, hass.config.path(STORAGE_DIR, JOURNAL_FILE))
            await journal.async_open()
            hass.data[DATA_JOURNAL] = journal
    return journal


class Journal:
    """One SQLite file of documents not yet in their JSON files."""

    def __init__(self, hass: HomeAssistant, path: str) -> None:
        """Prepare; call async_open before use."""
        self.hass = hass
        self.path = path
        self.stats = JournalStats()
        self._db: sqlite3.Connection | None = None
        self._db_lock = threading.Lock()
        self._participants: dict[str, Changes] = {}
        self._final: dict[str, Callable[[], Awaitable[None]]] = {}
        self._loaded: dict[str, list[tuple[int, str, Any]]] = {}
        self._retry: dict[tuple[str, str], bytes | None] = {}
        self._txid = 0
        self._lock = asyncio.Lock()
        self._collected = 0
        self._durable = 0
        self._soon: asyncio.TimerHandle | None = None
        self._closed = False

    # Opening and replay -----------------------------------------------------------

    async def async_open(self) -> None:
        """Open (or create) the file and read what it holds; never raises."""
        unreadable = await self.hass.async_add_executor_job(self._open)
        if unreadable is not None:
            _LOGGER.error(
                "The FluxiLab journal %s could not be read (%s): moved aside; what it"
                " held since the last save of the history and backlog files is lost",
                self.path,
                unreadable,
            )
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                ISSUE_JOURNAL_UNREADABLE,
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key=ISSUE_JOURNAL_UNREADABLE,
                translation_placeholders={"path": self.path, "error": unreadable},
            )
        else:
            ir.async_delete_issue(self.hass, DOMAIN, ISSUE_JOURNAL_UNREADABLE)
        if self.stats.unreadable_rows:
            _LOGGER.error(
                "The FluxiLab journal held %d unreadable documents: skipped",
                self.stats.unreadable_rows,
            )
        self.hass.bus.async_listen_once(
            EVENT_HOMEASSISTANT_FINAL_WRITE, self._async_final_write
        )
        self.hass.bus.async_listen_once(EVENT_HOMEASSISTANT_CLOSE, self._async_close)

    def _open(self) -> str | None:
        """Open and load (executor); return why the old file was unusable, if so."""
        try:
            self._connect_and_load()
        except sqlite3.Error as err:
            self._disconnect()
            aside = f"{self.path}.unreadable-{int(time.time())}"
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(self.path + suffix):
                    os.replace(self.path + suffix, aside + suffix)
            self._loaded = {}
            self._connect_and_load()
            return str(err)
        return None

    def _connect_and_load(self) -> None:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        # Private like the history file (member names, cards): SQLite gives its
        # -wal and -shm files the mode of the database file.
        os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600))
        os.chmod(self.path, 0o600)
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db = db
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        for statement in _SCHEMA:
            db.execute(statement)
        if (check := db.execute("PRAGMA quick_check").fetchone()[0]) != "ok":
            raise sqlite3.DatabaseError(check)
        row = db.execute("SELECT value FROM meta WHERE name = 'txid'").fetchone()
        txid = int(row[0]) if row else 0
        loaded: dict[str, list[tuple[int, str, Any]]] = {}
        for store, key, row_txid, value in db.execute(
            "SELECT store, key, txid, value FROM docs ORDER BY txid"
        ):
            txid = max(txid, row_txid)
            try:
                decoded = None if value is None else json_loads(value)
            except ValueError:
                self.stats.unreadable_rows += 1
                continue
            loaded.setdefault(store, []).append((row_txid, key, decoded))
        self._loaded = loaded
        self._txid = txid

    def _disconnect(self) -> None:
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None

    @callback
    def async_register(
        self,
        store: str,
        changes: Changes,
        mark: int,
        final_save: Callable[[], Awaitable[None]] | None = None,
    ) -> list[tuple[str, Any]]:
        """Follow a participant; return its rows newer than ``mark`` to apply.

        ``mark`` is the journal mark of the participant's JSON file. Rows are
        returned as ``(key, value)`` in commit order. ``final_save`` (a checkpoint)
        runs when Home Assistant stops, so a clean stop leaves complete JSON files.
        """
        self._participants[store] = changes
        if final_save is not None:
            self._final[store] = final_save
        # A journal made anew (unreadable) counts on from the files' marks.
        self._txid = max(self._txid, mark)
        rows = [
            (key, value)
            for txid, key, value in self._loaded.pop(store, [])
            if txid > mark
        ]
        if rows:
            self.stats.replayed[store] = len(rows)
            _LOGGER.info(
                "%s: %d documents recovered from the journal", store, len(rows)
            )
        return rows

    @callback
    def async_unregister(self, store: str) -> None:
        """Stop following a participant (its rows stay until its next checkpoint)."""
        self._participants.pop(store, None)
        self._final.pop(store, None)

    # Commits ------------------------------------------------------------------------

    @callback
    def _collect(self) -> list[tuple[str, str, bytes | None]]:
        """Take every participant's changed documents, serialized now (event loop)."""
        pending = self._retry
        self._retry = {}
        for store, changes in list(self._participants.items()):
            for key, value in changes().items():
                pending[store, key] = value
        return [(store, key, value) for (store, key), value in pending.items()]

    async def async_commit(self) -> int:
        """Make every change made so far durable; return the commit's id.

        Commits are written one at a time, in order; callers that arrive while one
        is written share the next (group commit). Raises JournalError if the write
        failed: its documents are kept for the next commit.
        """
        wanted = self._collected + 1
        async with self._lock:
            if self._durable >= wanted:
                return self._txid
            return int(await self._async_commit_locked(None))

    async def _async_commit_locked(self, snapshot: Callable[[int], Any] | None) -> Any:
        self._collected += 1
        collected = self._collected
        rows = self._collect()
        txid = self._txid + 1 if rows or snapshot is not None else self._txid
        taken = snapshot(txid) if snapshot is not None else txid
        if rows:
            started = time.perf_counter()
            try:
                await self.hass.async_add_executor_job(self._write, txid, rows)
            except (sqlite3.Error, OSError) as err:
                self.stats.failed += 1
                for store, key, value in rows:
                    self._retry.setdefault((store, key), value)
                _LOGGER.error("FluxiLab journal commit failed: %s", err)
                raise JournalError(str(err)) from err
            self.stats.commits += 1
            self.stats.rows += len(rows)
            self.stats.last_commit_ms = (time.perf_counter() - started) * 1000
        self._txid = txid
        self._durable = collected
        return taken

    def _write(self, txid: int, rows: list[tuple[str, str, bytes | None]]) -> None:
        """Write one commit (executor): one transaction, fsynced."""
        with self._db_lock:
            if (db := self._db) is None:
                raise sqlite3.OperationalError("the journal is closed")
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(
                    "INSERT INTO docs (store, key, txid, value) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (store, key) DO UPDATE"
                    " SET txid = excluded.txid, value = excluded.value",
                    [(store, key, txid, value) for store, key, value in rows],
                )
                db.execute(
                    "INSERT INTO meta (name, value) VALUES ('txid', ?)"
                    " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    (txid,),
                )
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    @callback
    def async_commit_soon(self) -> None:
        """Commit within COMMIT_SOON_DELAY (live changes nobody waits for)."""
        if self._soon is not None or self._closed:
            return
        self._soon = self.hass.loop.call_later(COMMIT_SOON_DELAY, self._commit_due)

    @callback
    def _commit_due(self) -> None:
        self._soon = None
        self.hass.async_create_background_task(
            self._async_commit_quietly(), f"{DOMAIN} journal commit"
        )

    async def _async_commit_quietly(self) -> None:
        try:
            await self.async_commit()
        except JournalError:
            self.async_commit_soon()  # logged; its documents wait for the next

    # Checkpoints ------------------------------------------------------------------

    async def async_checkpoint(
        self,
        store: str,
        snapshot: Callable[[int], Any],
        save: Callable[[Any], Awaitable[None]],
    ) -> None:
        """Save a participant's JSON file and drop the journal rows it now holds.

        ``snapshot(mark)`` must return a copy of the participant's whole state: it
        runs in the same event-loop step as a commit's collection, so the copy holds
        exactly what the journal holds up to ``mark``. ``save`` writes it.
        """
        async with self._lock:
            data, mark = await self._async_commit_locked(
                lambda txid: (snapshot(txid), txid)
            )
        await save(data)
        # While stopping, Store defers the write to its final write: the rows stay
        # until a checkpoint that is on disk (they are older than its mark anyway).
        if self._db is not None and self.hass.state is not CoreState.stopping:
            await self.hass.async_add_executor_job(self._drop, store, mark)

    def _drop(self, store: str, mark: int) -> None:
        with self._db_lock:
            if self._db is None:
                return
            try:
                self._db.execute(
                    "DELETE FROM docs WHERE store = ? AND txid <= ?", (store, mark)
                )
            except sqlite3.Error as err:
                # Harmless: the rows are older than the file's mark, never applied.
                _LOGGER.warning("FluxiLab journal rows not dropped: %s", err)

    # Shutdown ---------------------------------------------------------------------

    async def _async_final_write(self, _event: Event) -> None:
        if self._closed:
            return
        for store, final_save in list(self._final.items()):
            try:
                await final_save()
            except JournalError:
                pass  # logged; its rows stay in the journal
            except Exception:
                _LOGGER.exception("%s not saved at shutdown", store)
        with contextlib.suppress(JournalError):  # logged
            await self.async_commit()

    async def _async_close(self, _event: Event) -> None:
        self._closed = True
        if self._soon is not None:
            self._soon.cancel()
            self._soon = None
        async with self._lock:
            await self.hass.async_add_executor_job(self._close_db)

    def _close_db(self) -> None:
        with self._db_lock:
            self._disconnect()

    def rows_on_disk(self) -> int:
        """Rows the file holds now (tests, diagnostics; executor)."""
        with self._db_lock:
            if self._db is None:
                return 0
            (count,) = self._db.execute("SELECT COUNT(*) FROM docs").fetchone()
            return int(count)


class RecorderBarrier:
    """Wait until the recorder has committed what was queued to it before.

    Live telemetry is acknowledged only once its state is in the database. The
    recorder runs its queue in order and commits before a ``SynchronizeTask``, so
    that task's future is the commit. Callers share barriers: everyone who asks
    within BARRIER_WINDOW shares one (one extra recorder commit for the live acks
    of all devices due in that window, however many messages they hold).
    """

    def __init__(self, hass: HomeAssistant) -> None:
        """Prepare; nothing is queued yet."""
        self.hass = hass
        self._next: asyncio.Future[None] | None = None
        self.barriers = 0

    async def async_wait(self) -> None:
        """Return once the recorder committed everything queued before the call.

        Returns at once without a recorder; raises TimeoutError if it is stuck.
        """
        if "recorder" not in self.hass.config.components:
            return
        if (future := self._next) is None:
            future = self._next = self.hass.loop.create_future()
            self.hass.loop.call_later(BARRIER_WINDOW, self._queue)
        async with asyncio.timeout(RECORDER_TIMEOUT):
            await asyncio.shield(future)

    @callback
    def _queue(self) -> None:
        future, self._next = self._next, None
        if future is None:
            return
        self.barriers += 1
        self.hass.async_create_background_task(
            self._async_barrier(future), f"{DOMAIN} recorder barrier"
        )

    async def _async_barrier(self, future: asyncio.Future[None]) -> None:
        try:
            await async_recorder_commit(self.hass)
        except Exception as err:  # handed to every waiter
            if not future.done():
                future.set_exception(err)
            return
        if not future.done():
            future.set_result(None)


async def async_recorder_commit(hass: HomeAssistant) -> None:
    """Return once the recorder has run and committed everything queued before.

    Not ``Recorder.async_block_till_done``: that returns at once when the queue is
    empty, even while the recorder thread is still running the task it took last
    (a statistics import, a state write) and has not committed it. A
    ``SynchronizeTask`` is always queued, so it runs after that task, and the
    recorder commits its event session before it.
    """
    future: asyncio.Future[None] = hass.loop.create_future()
    get_instance(hass).queue_task(SynchronizeTask(future))
    await future


@callback
def async_recorder_barrier(hass: HomeAssistant) -> RecorderBarrier:
    """Return the shared recorder barrier."""
    if (barrier := hass.data.get(DATA_BARRIER)) is None:
        barrier = hass.data[DATA_BARRIER] = RecorderBarrier(hass)
    return barrier
