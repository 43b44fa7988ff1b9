"""Usage history, audit log, unknown cards and per-device counters.

Where a session gets stored: in :attr:`AccessHistory.data` first, then in the
write-ahead journal (``journal.py``) within a fraction of a second (or before the
acknowledgement, for a device's buffered records), then in the history database
(``history_db/``) a few seconds later: a *checkpoint* writes what changed since the
last one, together with the journal's mark, in one database transaction. Every
session and audit entry carries an ``entry_id`` (increasing): the journal and the
database key them by it, so applying a journal row again only replaces a row.

Nothing is capped by count: the database keeps every entry until the retention
(gdpr.py) anonymizes it; memory keeps the recent part for the live lookups. The
database is a SQLite file in Home Assistant's configuration folder unless the lab
chose a server (PostgreSQL, MariaDB, or the recorder's own database):
:class:`HistoryDatabaseSettings`. The JSON history file older versions wrote is moved
into the database on the first start and then removed.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_left
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
import logging
import secrets
import time
from typing import Any, Final, NotRequired, TypedDict

from homeassistant.components.recorder import get_instance
from homeassistant.const import EVENT_HOMEASSISTANT_CLOSE
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.json import json_bytes
from homeassistant.helpers.storage import Store
from homeassistant.util.json import JsonObjectType, json_loads

from custom_components.fluxilab.const import DOMAIN
from custom_components.fluxilab.history_db import (
    AuditEntry,
    AuditQuery,
    Checkpoint,
    HistoryDatabase,
    ImportBatch,
    ImportPrefixes,
    LiveAudit,
    LiveSession,
    MemberEntries,
    SessionQuery,
    SessionRecord,
    UnknownCard,
    redact_url,
    sqlite_url,
)
from custom_components.fluxilab.journal import (
    Journal,
    JournalError,
    async_get_journal,
)

from .const import (
    HISTORY_SAVE_DELAY,
    HISTORY_STORAGE_KEY,
    HISTORY_STORAGE_VERSION,
    MAX_AUDIT,
    MAX_SESSIONS,
)
from .rule_models import DailyCounter, HoursCounter
from .settings_models import LabSettings


def new_key() -> str:
    """Return a fresh pseudonym secret (hex)."""
    return secrets.token_hex(32)


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckIn:
    """A member checked in to the lab (presence.py), as the history holds it."""

    since: float
    device_id: str | None = None
    """The entrance swiped at (None: checked in by a service)."""
    card: str | None = field(default=None, repr=False)
    """The card swiped (personal: never in the repr)."""

    @classmethod
    def from_storage(cls, item: Mapping[str, Any]) -> CheckIn:
        """Read a stored check-in (``since``, ``device_id``, ``card``)."""
        return cls(
            since=float(item["since"]),
            device_id=item.get("device_id"),
            card=item.get("card"),
        )

    def as_dict(self) -> dict[str, Any]:
        """Return the check-in as the history stores it."""
        return {"since": self.since, "device_id": self.device_id, "card": self.card}


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscription:
    """One member waiting for one device (interest.py), as the history holds it."""

    device_id: str
    member_id: str
    ts: float
    """When the member subscribed (epoch seconds)."""
    expires: float
    """When the subscription is dropped (epoch seconds)."""

    @classmethod
    def from_storage(cls, item: Mapping[str, Any]) -> Subscription:
        """Read a stored subscription (one lacking its times reads as expired)."""
        return cls(
            device_id=item["device_id"],
            member_id=item["member_id"],
            ts=item.get("ts", 0.0),
            expires=item.get("expires", 0.0),
        )

    def as_dict(self) -> dict[str, Any]:
        """Return the subscription as the history stores it."""
        return {
            "device_id": self.device_id,
            "member_id": self.member_id,
            "ts": self.ts,
            "expires": self.expires,
        }


def counter_from_storage(item: Mapping[str, Any]) -> HoursCounter | DailyCounter:
    """Read a stored maintenance-condition counter by its shape.

    A ``below_baseline`` counter stores its open day's ``sum``; a ``channel_hours``
    one only ``hours`` and ``due`` (``due`` read as False when missing).
    """
    if "sum" in item:
        return DailyCounter.from_storage(item)
    return HoursCounter(hours=float(item.get("hours", 0.0)), due=bool(item.get("due")))


class DeviceUsage(TypedDict):
    """Usage counters of one device."""

    hours: float
    since_maintenance: float
    last_maintenance: float | None
    conditions: dict[str, HoursCounter | DailyCounter]
    """Counters of the machine type's maintenance conditions (telemetry_rules.py), by
    the condition's key; stored as their ``as_dict``."""
    fabomatic_hours: NotRequired[float]
    """Machine hours a Fab-O-Matic import added (fabomatic_import.py): a second
    import adds only what its backend counted since."""


def usage_from_storage(item: Mapping[str, Any]) -> DeviceUsage:
    """Read a device's stored usage counters (one stored before conditions had none)."""
    usage: DeviceUsage = {
        "hours": item.get("hours", 0.0),
        "since_maintenance": item.get("since_maintenance", 0.0),
        "last_maintenance": item.get("last_maintenance"),
        "conditions": {
            key: counter_from_storage(counter)
            for key, counter in (item.get("conditions") or {}).items()
        },
    }
    if "fabomatic_hours" in item:
        usage["fabomatic_hours"] = item["fabomatic_hours"]
    return usage


class HistoryData(TypedDict):
    """What the history holds in memory (stored field by field: ``_encode_field``)."""

    sessions: list[LiveSession]
    audit: list[LiveAudit]
    unknown_cards: dict[str, UnknownCard]
    """The latest sighting of each unknown card, by uid, oldest first (stored as a
    list in this order; a card seen again moves to the end)."""
    usage: dict[str, DeviceUsage]
    generation: int
    settings: LabSettings
    """The lab's settings (stored as their ``as_dict``): replaced whole, never
    changed in place."""
    checked_in: dict[str, CheckIn]
    """Members checked in to the lab (presence.py), by member id."""
    last_used: dict[str, str]
    """Last granted use of each authorization, by id (lapsing.py)."""
    lapse_notices: dict[str, str]
    """Lapse date each authorization's member was told about (lapsing.py)."""
    interest: list[Subscription]
    """Members waiting for a busy device (interest.py), oldest first."""
    pseudonym_key: str
    """Secret of the card and member pseudonyms (privacy.py), hex."""
    last_entry_id: int
    """The highest ``entry_id`` given to a session or audit entry."""
    journal_mark: int
    """The journal commit the database holds everything of (journal.py)."""


JOURNAL_STORE = "history"
ENTRY_LISTS = ("sessions", "audit")
"""Lists whose entries the journal keeps one by one (key ``<list>/<entry_id>``)."""
SMALL_FIELDS = (
    "unknown_cards",
    "usage",
    "generation",
    "settings",
    "checked_in",
    "last_used",
    "lapse_notices",
    "interest",
    "last_entry_id",
    "pseudonym_key",
)
"""Fields the journal keeps whole (key ``f/<field>``), whenever they changed."""
STATE_FIELDS = tuple(name for name in SMALL_FIELDS if name != "unknown_cards")
"""Fields the database keeps whole (its state table); unknown cards have a table."""

type LiveEntry = LiveSession | LiveAudit
"""A session or an audit entry in memory."""


def _encode_field(data: HistoryData, name: str) -> bytes:
    """Return one small field as the journal and the database store it (JSON).

    The storage edge of the typed fields: each leaves memory as its ``as_dict``.
    """
    if name == "unknown_cards":
        return json_bytes([card.as_dict() for card in data["unknown_cards"].values()])
    if name == "usage":
        return json_bytes(
            {
                device_id: {
                    **usage,
                    "conditions": {
                        key: counter.as_dict()
                        for key, counter in usage["conditions"].items()
                    },
                }
                for device_id, usage in data["usage"].items()
            }
        )
    if name == "checked_in":
        return json_bytes(
            {member_id: c.as_dict() for member_id, c in data["checked_in"].items()}
        )
    if name == "interest":
        return json_bytes([sub.as_dict() for sub in data["interest"]])
    if name == "settings":
        return json_bytes(data["settings"].as_dict())
    return json_bytes(data[name])  # type: ignore[literal-required]


def _read_field(data: HistoryData, name: str, value: Any) -> None:
    """Set one small field from its stored document (the database's, the journal's).

    The storage edge the other way: each typed field is read here once.
    """
    if name == "unknown_cards":
        data["unknown_cards"] = {
            card.card: card for card in map(UnknownCard.from_dict, value)
        }
    elif name == "usage":
        data["usage"] = {
            device_id: usage_from_storage(item) for device_id, item in value.items()
        }
    elif name == "checked_in":
        data["checked_in"] = {
            member_id: CheckIn.from_storage(item) for member_id, item in value.items()
        }
    elif name == "interest":
        data["interest"] = [Subscription.from_storage(item) for item in value]
    elif name == "settings":
        data["settings"] = LabSettings.from_storage(value)
    else:
        data[name] = value  # type: ignore[literal-required]


_LOGGER = logging.getLogger(__name__)

DATABASE_FILE: Final = f"{DOMAIN}_history.db"
"""The default database: a SQLite file in Home Assistant's configuration folder."""
DATABASE_SETTINGS_KEY: Final = f"{DOMAIN}.history_database"
RECORDER_URL: Final = "recorder"
"""The database setting that means: the recorder's own database."""
ISSUE_HISTORY_DB: Final = "history_db_unavailable"


class StoredDatabaseSetting(TypedDict):
    """What the database settings file holds."""

    url: str | None


class HistoryDatabaseSettings:
    """Which database holds the history: the SQLite file, a server, the recorder's.

    Kept in its own private ``.storage`` file (the URL may hold a password), read
    before the history since the history lives in the database it names.
    """

    def __init__(self, hass: HomeAssistant) -> None:
        """Prepare; nothing is read yet."""
        self.hass = hass
        self._store: Store[StoredDatabaseSetting] = Store(
            hass, 1, DATABASE_SETTINGS_KEY, private=True, atomic_writes=True
        )
        self.setting: str | None = None
        """None (the SQLite file), RECORDER_URL, or a database URL."""

    @property
    def default_url(self) -> str:
        """The SQLite file's URL."""
        return sqlite_url(self.hass.config.path(DATABASE_FILE))

    def url_of(self, setting: str | None) -> str:
        """Return the database URL a setting names."""
        if setting is None:
            return self.default_url
        if setting == RECORDER_URL:
            try:
                return str(get_instance(self.hass).db_url)
            except KeyError as err:
                raise HomeAssistantError(
                    translation_domain=DOMAIN, translation_key="recorder_missing"
                ) from err
        return setting

    async def async_url(self) -> str:
        """Read the setting and return the URL it names."""
        stored = await self._store.async_load()
        setting = None if stored is None else stored.get("url")
        self.setting = setting if isinstance(setting, str) and setting else None
        return self.url_of(self.setting)

    async def async_set(self, setting: str | None) -> None:
        """Remember a new setting (the history has moved to its database)."""
        self.setting = setting
        await self._store.async_save({"url": setting})


def _empty() -> HistoryData:
    return {
        "sessions": [],
        "audit": [],
        "unknown_cards": {},
        "usage": {},
        "generation": 0,
        "settings": LabSettings(),
        "checked_in": {},
        "last_used": {},
        "lapse_notices": {},
        "interest": [],
        "pseudonym_key": new_key(),
        "last_entry_id": 0,
        "journal_mark": 0,
    }


class AccessHistory:
    """Sessions, audit entries and counters: journaled at once, in the database soon.

    Memory holds the recent part (the newest ``MAX_SESSIONS`` closed sessions and
    every open one, the newest ``MAX_AUDIT`` audit entries) for the live lookups (a
    replayed session, a request answered before); the database holds everything.
    """

    def __init__(self, hass: HomeAssistant) -> None:
        """Prepare an empty history."""
        self.hass = hass
        self._store: Store[JsonObjectType] = Store(
            hass,
            HISTORY_STORAGE_VERSION,
            HISTORY_STORAGE_KEY,
            private=True,
            atomic_writes=True,
        )
        """Today's JSON history file: read once, moved into the database."""
        self.database_settings = HistoryDatabaseSettings(hass)
        self.db: HistoryDatabase | None = None
        self.data: HistoryData = _empty()
        self._journal: Journal | None = None
        self._touched: dict[int, LiveEntry] = {}
        self._journaled: dict[str, bytes] = {}
        self._unsaved: dict[str, LiveEntry] = {}
        """Entries journaled since the last checkpoint ("sessions/<id>" -> entry)."""
        self._saved: dict[str, bytes] = {}
        """Small documents as the database holds them (JSON)."""
        self._in_flight: dict[str, LiveEntry] = {}
        """Entries of the checkpoint being written (back to _unsaved if it fails)."""
        self._cards_taken: dict[int, bytes] = {}
        """The unknown cards (JSON) a checkpoint being written holds, by its mark."""
        self._dirty = False
        """Something changed since the last checkpoint was taken."""
        self._checkpoint_lock = asyncio.Lock()
        self._save_timer: asyncio.TimerHandle | None = None
        self._changed = False
        """async_changed was called since the journal last collected."""
        self.loop_seconds = 0.0
        """Event-loop time spent collecting checkpoints (bench: the loop's share)."""
        self.db_seconds = 0.0
        """Worker-thread time spent writing checkpoints."""
        self._indexed: list[LiveSession] | None = None
        """The session list the index below describes (None: build it anew)."""
        self._indexed_len = 0
        """How many of its sessions (from the front) the index holds."""
        self._by_id: dict[str, LiveSession] = {}
        """Sessions by session id (the newest of any repeated id)."""
        self._open: dict[int, LiveSession] = {}
        """Sessions open when indexed, in list order (closing prunes them lazily)."""
        self._open_by_device: dict[str, dict[int, LiveSession]] = {}
        """The same, per device."""

    @property
    def database(self) -> HistoryDatabase:
        """The open history database."""
        if self.db is None:
            raise HomeAssistantError(
                translation_domain=DOMAIN, translation_key="history_db_unavailable"
            )
        return self.db

    async def async_load(self) -> None:
        """Open the database (moving today's JSON file into it) and the journal."""
        url = await self.database_settings.async_url()
        self.db = db = await self._async_open(url)
        loaded = await db.async_run(db.load, MAX_SESSIONS, MAX_AUDIT)
        if loaded is None and (stored := await self._store.async_load()) is not None:
            await self._async_import_json(db, dict(stored))
            loaded = await db.async_run(db.load, MAX_SESSIONS, MAX_AUDIT)
        if loaded is not None:
            # Whatever the JSON file held is in the database (this start or one
            # before it died right after the import): it must not linger.
            await self._store.async_remove()
        data = self.data = _empty()
        stored_key = False
        if loaded is not None:
            # The storage edge: the small documents are JSON, read here.
            state = {name: json_loads(value) for name, value in loaded.state.items()}
            # Settings a document lacks read as their defaults (LabSettings).
            for name, value in state.items():
                if name in SMALL_FIELDS:
                    _read_field(data, name, value)
            data["sessions"] = loaded.sessions
            data["audit"] = loaded.audit
            data["unknown_cards"] = {card.card: card for card in loaded.unknown_cards}
            data["journal_mark"] = loaded.mark
            data["last_entry_id"] = max(data["last_entry_id"], loaded.last_entry_id)
            stored_key = bool(state.get("pseudonym_key"))
        self._saved = {name: _encode_field(data, name) for name in STATE_FIELDS}
        self._saved["unknown_cards"] = _encode_field(data, "unknown_cards")
        self._journal = journal = await async_get_journal(self.hass)
        for key, value in journal.async_register(
            JOURNAL_STORE, self._journal_changes, data["journal_mark"], self.async_save
        ):
            self._apply(key, value)
        self._trim()
        self._journaled = {name: _encode_field(data, name) for name in SMALL_FIELDS}
        if not stored_key:
            # A new secret (or one only the journal held): journal and save it now,
            # since pseudonyms (tag ids, recorded events) must never move.
            del self._journaled["pseudonym_key"]
            self.async_changed()
        self.hass.bus.async_listen_once(EVENT_HOMEASSISTANT_CLOSE, self._async_close)

    async def async_move_to(self, setting: str | None) -> None:
        """Move the history into another database and keep it there from now on.

        The new database must be empty (a lab's history is never merged into
        another's); everything is copied in one transaction there, under the
        checkpoint lock, then the history writes only there.
        """
        url = self.database_settings.url_of(setting)
        old = self.database
        if url == old.url:
            await self.database_settings.async_set(setting)
            return
        new = await self._async_open(url, report=False)
        try:
            await self.async_save()
            async with self._checkpoint_lock:
                if not await new.async_run(new.is_empty):
                    raise HomeAssistantError(
                        translation_domain=DOMAIN,
                        translation_key="history_db_not_empty",
                        translation_placeholders={"url": redact_url(url)},
                    )
                copied = await old.async_run(old.copy_to, new)
                self.db = new
        except BaseException:
            await new.async_run(new.close)
            await self.hass.async_add_executor_job(new.shutdown)
            raise
        await self.database_settings.async_set(setting)
        await old.async_run(old.close)
        await self.hass.async_add_executor_job(old.shutdown)
        _LOGGER.info("FluxiLab history moved to %s (%d rows)", redact_url(url), copied)

    async def _async_open(self, url: str, *, report: bool = True) -> HistoryDatabase:
        db = HistoryDatabase(url)
        try:
            await db.async_run(db.open)
        except Exception as err:
            await self.hass.async_add_executor_job(db.shutdown)
            if not report:
                raise HomeAssistantError(
                    translation_domain=DOMAIN,
                    translation_key="history_db_unreachable",
                    translation_placeholders={
                        "url": redact_url(url),
                        "error": str(err),
                    },
                ) from err
            _LOGGER.error(
                "The FluxiLab history database %s cannot be opened: %s",
                redact_url(url),
                err,
            )
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                ISSUE_HISTORY_DB,
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key=ISSUE_HISTORY_DB,
                translation_placeholders={"url": redact_url(url), "error": str(err)},
            )
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="history_db_unreachable",
                translation_placeholders={"url": redact_url(url), "error": str(err)},
            ) from err
        if report:
            ir.async_delete_issue(self.hass, DOMAIN, ISSUE_HISTORY_DB)
        return db

    async def _async_import_json(
        self, db: HistoryDatabase, stored: dict[str, Any]
    ) -> None:
        """Write the JSON history file into a new database, in one transaction.

        A storage edge on both sides: the file's documents go into the database's
        state as the file holds them (the history reads them into its typed fields
        when it loads them from there), its entries as records.
        """
        empty = _empty()
        imported: dict[str, Any] = {**empty, **stored}
        imported["settings"] = LabSettings.from_storage(
            stored.get("settings", {})
        ).as_dict()
        for name in ENTRY_LISTS:
            for entry in imported[name]:
                if "entry_id" not in entry:  # stored before entries had ids
                    imported["last_entry_id"] += 1
                    entry["entry_id"] = imported["last_entry_id"]
        checkpoint = Checkpoint(
            mark=int(imported.get("journal_mark") or 0),
            sessions=[SessionRecord.from_entry(e) for e in imported["sessions"]],
            audit=[AuditEntry.from_entry(e) for e in imported["audit"]],
            state={name: json_bytes(imported[name]) for name in STATE_FIELDS},
            unknown_cards=[UnknownCard.from_dict(c) for c in imported["unknown_cards"]],
        )
        await db.async_run(db.checkpoint, checkpoint)
        _LOGGER.info(
            "FluxiLab history moved into the database: %d sessions, %d audit entries",
            len(imported["sessions"]),
            len(imported["audit"]),
        )

    async def _async_close(self, _event: Event | None = None) -> None:
        if (db := self.db) is None:
            return
        self.db = None
        async with self._checkpoint_lock:
            await db.async_run(db.close)
        await self.hass.async_add_executor_job(db.shutdown)

    def _apply(self, key: str, value: Any) -> None:
        """Apply one journal document (start-up); it goes to the next checkpoint."""
        self._dirty = True
        self._indexed = None  # entries replaced or inserted in the middle
        kind, _, name = key.partition("/")
        if kind == "f":
            if name in SMALL_FIELDS and value is not None:
                _read_field(self.data, name, value)
            return
        # The journal's storage edge: a stored entry in, a typed one held.
        if kind == "sessions":
            session = None if value is None else LiveSession.from_entry(value)
            self._apply_entry(key, self.data["sessions"], session)
        elif kind == "audit":
            entry = None if value is None else LiveAudit.from_entry(value)
            self._apply_entry(key, self.data["audit"], entry)

    def _apply_entry[E: (LiveSession, LiveAudit)](
        self, key: str, items: list[E], entry: E | None
    ) -> None:
        """Put one journaled entry in its place, by entry id (None: deleted)."""
        entry_id = int(key.partition("/")[2])
        ids = [item.entry_id or 0 for item in items]
        index = bisect_left(ids, entry_id)
        if entry is None:
            if index < len(items) and ids[index] == entry_id:
                del items[index]
            return
        self._unsaved[key] = entry
        if index < len(items) and ids[index] == entry_id:
            items[index] = entry
        else:
            items.insert(index, entry)

    def _trim(self) -> None:
        """Keep the recent part in memory (the database keeps everything)."""
        sessions = self.data["sessions"]
        if len(sessions) > MAX_SESSIONS:
            excess = len(sessions) - MAX_SESSIONS
            self._index_sessions()  # so that what leaves is in it
            # Open sessions stay (the live lookups need them), and so do
            # entries the journal has not taken yet (no entry_id).
            kept: list[LiveSession] = []
            for session in sessions[:excess]:
                if session.entry_id is None or session.end is None:
                    kept.append(session)
                else:
                    self._unindex_session(session)
            sessions[:excess] = kept
            self._indexed_len -= excess - len(kept)
        audit = self.data["audit"]
        if len(audit) > MAX_AUDIT:
            excess = len(audit) - MAX_AUDIT
            audit[:excess] = [e for e in audit[:excess] if e.entry_id is None]

    def _entry_lists(self) -> tuple[tuple[str, Sequence[LiveEntry]], ...]:
        """Return the lists the journal keeps entry by entry, with their names."""
        return (("sessions", self.data["sessions"]), ("audit", self.data["audit"]))

    # The session index: by id, and the open ones per device --------------------------

    def _index_sessions(self) -> None:
        """Bring the index up to date with ``data["sessions"]``.

        Sessions are only ever appended there (sessions.py, telemetry_rules.py):
        the index takes new ones from the end by itself. A list replaced (load,
        tests), shortened behind its back, or changed in the middle (journal
        replay) is indexed anew; trimming keeps it right as it goes.
        """
        sessions = self.data["sessions"]
        if sessions is not self._indexed or len(sessions) < self._indexed_len:
            self._indexed = sessions
            self._indexed_len = 0
            self._by_id = {}
            self._open = {}
            self._open_by_device = {}
        for index in range(self._indexed_len, len(sessions)):
            session = sessions[index]
            self._by_id[session.session_id] = session
            if session.end is None:
                self._open[id(session)] = session
                self._open_by_device.setdefault(session.device_id, {})[id(session)] = (
                    session
                )
        self._indexed_len = len(sessions)

    def _unindex_session(self, session: LiveSession) -> None:
        """Forget a session leaving memory."""
        if self._by_id.get(session.session_id) is session:
            del self._by_id[session.session_id]
        self._drop_open(session)

    def _drop_open(self, session: LiveSession) -> None:
        if self._open.pop(id(session), None) is not None:
            device = self._open_by_device[session.device_id]
            del device[id(session)]
            if not device:
                del self._open_by_device[session.device_id]

    @callback
    def async_changed(self, *entries: LiveEntry) -> None:
        """Journal the change soon and schedule a checkpoint into the database.

        Pass the sessions or audit entries changed in place:
        the journal finds new entries (appended) and changed small fields by itself,
        but entries changed in place only by being told.
        """
        for entry in entries:
            self._touched[id(entry)] = entry
        self._changed = self._dirty = True
        self._trim()
        if self._journal is not None:
            self._journal.async_commit_soon()
        if self._save_timer is None:
            self._save_timer = self.hass.loop.call_later(
                HISTORY_SAVE_DELAY, self._save_due
            )

    @callback
    def _save_due(self) -> None:
        self._save_timer = None
        self.hass.async_create_background_task(
            self._async_save_quietly(), "fluxilab history save"
        )

    async def _async_save_quietly(self) -> None:
        try:
            await self.async_save()
        except Exception:
            # Logged; everything is still in the journal.
            self.async_changed()

    async def async_commit(self) -> None:
        """Return once every change so far is in the journal (durable)."""
        if self._journal is not None:
            await self._journal.async_commit()

    async def async_save(self) -> None:
        """Write a checkpoint into the database now: queries, shutdown, tests."""
        if self._save_timer is not None:
            self._save_timer.cancel()
            self._save_timer = None
        async with self._checkpoint_lock:
            if self._journal is None or self.db is None:
                return
            db = self.db
            written: list[Checkpoint] = []

            async def _write(checkpoint: Checkpoint) -> None:
                started = time.perf_counter()
                await db.async_run(db.checkpoint, checkpoint)
                self.db_seconds += time.perf_counter() - started
                written.append(checkpoint)

            try:
                await self._journal.async_checkpoint(
                    JOURNAL_STORE, self._snapshot, _write
                )
            except Exception as err:
                # The next checkpoint writes them (newer versions taken since win).
                for key, entry in self._in_flight.items():
                    self._unsaved.setdefault(key, entry)
                self._dirty = True
                if not isinstance(err, JournalError):
                    _LOGGER.error("FluxiLab history checkpoint failed: %s", err)
                raise
            finally:
                self._in_flight = {}
                cards_taken, self._cards_taken = self._cards_taken, {}
            for checkpoint in written:
                self._saved.update(checkpoint.state)
                if checkpoint.unknown_cards is not None:
                    self._saved["unknown_cards"] = cards_taken[checkpoint.mark]
                self.data["journal_mark"] = checkpoint.mark

    async def async_flush(self) -> None:
        """Write a checkpoint if anything changed since the last (before queries).

        Entries appended without ``async_changed`` (no ``entry_id`` yet) count too.
        """
        sessions, audit = self.data["sessions"], self.data["audit"]
        if (sessions and sessions[-1].entry_id is None) or (
            audit and audit[-1].entry_id is None
        ):
            self.async_changed()
        if self._dirty or self._unsaved:
            await self.async_save()

    @callback
    def _journal_changes(self) -> dict[str, bytes]:
        """Documents changed since the last commit, as JSON (called by the journal).

        Encoded here as the journal would encode them (``json_bytes``, in the same
        event-loop step): an entry leaves memory as its stored document.
        """
        if not self._changed:
            return {}  # every change calls async_changed
        self._changed = False
        data = self.data
        changes: dict[str, bytes] = {}
        touched, self._touched = self._touched, {}
        unsaved = self._unsaved
        for name, items in self._entry_lists():
            index = len(items)
            while index and items[index - 1].entry_id is None:
                index -= 1
            for entry in items[index:]:
                data["last_entry_id"] += 1
                entry.entry_id = data["last_entry_id"]
                key = f"{name}/{entry.entry_id}"
                unsaved[key] = entry
                changes[key] = json_bytes(entry.as_dict())
        for entry in touched.values():
            if (entry_id := entry.entry_id) is not None:
                name = "audit" if isinstance(entry, LiveAudit) else "sessions"
                key = f"{name}/{entry_id}"
                unsaved[key] = entry
                changes[key] = json_bytes(entry.as_dict())
        journaled = self._journaled
        for name in SMALL_FIELDS:
            encoded = _encode_field(data, name)
            if journaled.get(name) != encoded:
                journaled[name] = changes[f"f/{name}"] = encoded
        self._trim()  # what the journal took may leave memory now
        return changes

    @callback
    def _snapshot(self, mark: int) -> Checkpoint:
        """Return what changed since the last checkpoint, as of journal commit ``mark``.

        Runs in the event-loop step of the journal commit it follows: copies, so the
        database gets exactly what the journal holds up to ``mark``.
        """
        started = time.perf_counter()
        data = self.data
        unsaved, self._unsaved = self._unsaved, {}
        self._in_flight = unsaved
        self._dirty = False
        checkpoint = Checkpoint(mark=mark)
        for entry in unsaved.values():
            if isinstance(entry, LiveSession):
                checkpoint.sessions.append(entry.as_record())
            else:
                checkpoint.audit.append(entry.as_record())
        for name in STATE_FIELDS:
            encoded = _encode_field(data, name)
            if self._saved.get(name) != encoded:
                checkpoint.state[name] = encoded
        cards = _encode_field(data, "unknown_cards")
        if self._saved.get("unknown_cards") != cards:
            checkpoint.unknown_cards = list(data["unknown_cards"].values())
            self._cards_taken[mark] = cards
        self.loop_seconds += time.perf_counter() - started
        return checkpoint

    # Queries (the database's worker thread) -----------------------------------------

    async def async_audit_page(self, query: AuditQuery) -> list[AuditEntry]:
        """Return one page of the audit log, newest first (filtered in SQL)."""
        await self.async_flush()
        db = self.database
        return await db.async_run(db.audit_page, query)

    async def async_sessions(self, query: SessionQuery) -> list[SessionRecord]:
        """Return the sessions matching the filters (paged in SQL)."""
        await self.async_flush()
        db = self.database
        return await db.async_run(db.sessions, query)

    async def async_iter_sessions(
        self, query: SessionQuery
    ) -> AsyncIterator[list[SessionRecord]]:
        """Yield the sessions matching the filters a batch at a time (exports)."""
        await self.async_flush()
        db = self.database
        after: int | None = None
        while batch := await db.async_run(db.session_batch, query, after):
            yield batch
            after = batch[-1].entry_id

    async def async_imported_ids(self, prefixes: ImportPrefixes) -> set[str]:
        """Return the import ids an earlier import wrote (``HistoryDatabase``)."""
        await self.async_flush()
        db = self.database
        return await db.async_run(db.imported_ids, prefixes)

    async def async_import_entries(
        self, entries: ImportBatch, prefixes: ImportPrefixes
    ) -> dict[str, int]:
        """Write another system's history into the database; return what was new.

        Every entry has an ``import_id``; those an earlier import wrote are skipped,
        the rest written in one transaction (all or nothing), straight into the
        database: old history is not what the live lookups in memory are for, and
        a lab's years of it would crowd them out. Entry ids are given here, so
        they follow every id given before; the database's highest id is where the
        history counts on from after a restart.
        """
        numbered = ImportBatch(
            sessions=[self._next_id(session) for session in entries.sessions],
            audit=[self._next_id(entry) for entry in entries.audit],
        )
        self.async_changed()
        async with self._checkpoint_lock:
            db = self.database
            return await db.async_run(db.insert_imported, numbered, prefixes)

    def _next_id[R: (SessionRecord, AuditEntry)](self, record: R) -> R:
        """Return an imported entry given the next entry id."""
        self.data["last_entry_id"] += 1
        return record.with_entry_id(self.data["last_entry_id"])

    async def async_member_entries(self, member_id: str) -> MemberEntries:
        """Return every session and audit entry naming a member (GDPR access)."""
        await self.async_flush()
        db = self.database
        return await db.async_run(db.member_entries, member_id)

    async def async_anonymize(
        self,
        memory: Callable[[LiveEntry], bool],
        database: Callable[[HistoryDatabase], int],
    ) -> int:
        """Anonymize entries: in memory (``memory`` says if it changed one), then SQL.

        Memory first, journaled, then a checkpoint, then the database's UPDATE: a
        crash at any step never brings back what was blanked before it.
        """
        touched = [
            entry
            for _name, items in self._entry_lists()
            for entry in items
            if memory(entry)
        ]
        self.async_changed(*touched)
        await self.async_flush()
        db = self.database
        return len(touched) + await db.async_run(database, db)

    def usage(self, device_id: str) -> DeviceUsage:
        """Return (creating) the usage counters of a device."""
        return self.data["usage"].setdefault(
            device_id,
            {
                "hours": 0.0,
                "since_maintenance": 0.0,
                "last_maintenance": None,
                "conditions": {},
            },
        )

    def session(self, session_id: str) -> LiveSession | None:
        """Return a session by id (the newest, if a device repeated an id)."""
        self._index_sessions()
        session = self._by_id.get(session_id)
        if session is not None and session.session_id != session_id:
            del self._by_id[session_id]  # renamed without rename_session
            return None
        return session

    def rename_session(self, session: LiveSession, session_id: str) -> None:
        """Give a session in memory another id (the device's own, for the hub's)."""
        self._index_sessions()
        if self._by_id.get(session.session_id) is session:
            del self._by_id[session.session_id]
        session.session_id = session_id
        self._by_id[session_id] = session
        self.async_changed(session)

    def open_sessions(self, device_id: str | None = None) -> list[LiveSession]:
        """Return sessions still open, optionally on one device, in list order."""
        self._index_sessions()
        candidates = (
            self._open if device_id is None else self._open_by_device.get(device_id)
        )
        if not candidates:
            return []
        found: list[LiveSession] = []
        closed: list[LiveSession] = []
        for session in candidates.values():
            (found if session.end is None else closed).append(session)
        for session in closed:  # closed in place (sessions.stop_session), for good
            self._drop_open(session)
        return found

    @callback
    def add_audit(self, entry: LiveAudit) -> None:
        """Append one audit entry."""
        self.data["audit"].append(entry)
        self.async_changed()

    def answered_decision(self, device_id: str, request_id: str) -> LiveAudit | None:
        """Return the audit entry of the hub's live answer to a device's request.

        Newest first over the bounded audit log (not ordered by time: replayed
        records are appended when they arrive).
        """
        for entry in reversed(self.data["audit"]):
            if (
                entry.detail("request_id") == request_id
                and entry.device_id == device_id
                and entry.kind == "decision"
                and not entry.buffered
            ):
                return entry
        return None

    @callback
    def add_unknown_card(self, card: str, device_id: str, ts: float) -> None:
        """Remember an unknown card (latest sighting only) for registration."""
        cards = self.data["unknown_cards"]
        cards.pop(card, None)  # seen again: to the end
        cards[card] = UnknownCard(card=card, device_id=device_id, ts=ts)
        self.async_changed()

    def last_unknown_card(self, device_id: str) -> UnknownCard | None:
        """Return the most recent unknown card seen on a device."""
        seen = [
            c for c in self.data["unknown_cards"].values() if c.device_id == device_id
        ]
        return max(seen, key=lambda c: c.ts) if seen else None

    @callback
    def forget_unknown_card(self, card: str) -> None:
        """Drop a card from the unknown list once it is assigned."""
        self.data["unknown_cards"].pop(card, None)
        self.async_changed()
