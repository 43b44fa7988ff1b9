"""Usage history, audit log, unknown cards and per-device counters.

Where a session gets stored: in :attr:`AccessHistory.data` first, then in the
write-ahead journal (``journal.py``) within a fraction of a second (or before the
acknowledgement, for a device's buffered records), then in one ``Store`` file with
delayed saves (a checkpoint of the journal). Every session and audit entry carries an
``entry_id`` (increasing): the journal keys them by it. Every list is bounded; the
oldest entries go first.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_left
from typing import Any, TypedDict

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.json import json_bytes
from homeassistant.helpers.storage import Store
from homeassistant.util.json import json_loads

from custom_components.fluxilab.journal import Journal, async_get_journal

from .const import (
    DEFAULT_CHECKIN_EXPIRY_HOURS,
    DEFAULT_INTEREST_EXPIRY_HOURS,
    DEFAULT_LAPSE_NOTICE_DAYS,
    DEFAULT_SESSION_CHECK_INTERVAL,
    DEFAULT_UNKNOWN_CARD_RETENTION_DAYS,
    DEFAULT_USAGE_RETENTION_DAYS,
    HISTORY_SAVE_DELAY,
    HISTORY_STORAGE_KEY,
    HISTORY_STORAGE_VERSION,
    MAX_AUDIT,
    MAX_SESSIONS,
    MAX_UNKNOWN_CARDS,
)
from .privacy import DEFAULT_SHOW_MEMBER_NAMES, SETTING_SHOW_MEMBER_NAMES, new_key


class DeviceUsage(TypedDict):
    """Usage counters of one device."""

    hours: float
    since_maintenance: float
    last_maintenance: float | None
    conditions: dict[str, dict[str, Any]]
    """Counters of the machine type's maintenance conditions (telemetry_rules.py)."""


class HistoryData(TypedDict):
    """What the history store holds."""

    sessions: list[dict[str, Any]]
    audit: list[dict[str, Any]]
    unknown_cards: list[dict[str, Any]]
    usage: dict[str, DeviceUsage]
    generation: int
    settings: dict[str, Any]
    checked_in: dict[str, dict[str, Any]]
    """Members checked in to the lab (presence.py): since, device_id, card."""
    last_used: dict[str, str]
    """Last granted use of each authorization, by id (lapsing.py)."""
    lapse_notices: dict[str, str]
    """Lapse date each authorization's member was told about (lapsing.py)."""
    interest: list[dict[str, Any]]
    """Members waiting for a busy device (interest.py)."""
    pseudonym_key: str
    """Secret of the card and member pseudonyms (privacy.py), hex."""
    last_entry_id: int
    """The highest ``entry_id`` given to a session or audit entry."""
    journal_mark: int
    """The journal commit this file holds everything of (journal.py)."""


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


def _empty() -> HistoryData:
    return {
        "sessions": [],
        "audit": [],
        "unknown_cards": [],
        "usage": {},
        "generation": 0,
        "settings": {
            "usage_retention_days": DEFAULT_USAGE_RETENTION_DAYS,
            "unknown_card_retention_days": DEFAULT_UNKNOWN_CARD_RETENTION_DAYS,
            "session_check_interval": DEFAULT_SESSION_CHECK_INTERVAL,
            # Notifications, lapsing qualifications, interest queue
            "admin_notify_services": [],
            "lapse_notice_days": DEFAULT_LAPSE_NOTICE_DAYS,
            "interest_expiry_hours": DEFAULT_INTEREST_EXPIRY_HOURS,
            "checkin_expiry_hours": DEFAULT_CHECKIN_EXPIRY_HOURS,
            SETTING_SHOW_MEMBER_NAMES: DEFAULT_SHOW_MEMBER_NAMES,
        },
        "checked_in": {},
        "last_used": {},
        "lapse_notices": {},
        "interest": [],
        "pseudonym_key": new_key(),
        "last_entry_id": 0,
        "journal_mark": 0,
    }


class AccessHistory:
    """Sessions, audit entries and counters: journaled at once, saved in a while."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Prepare an empty history."""
        self.hass = hass
        self._store: Store[HistoryData] = Store(
            hass,
            HISTORY_STORAGE_VERSION,
            HISTORY_STORAGE_KEY,
            private=True,
            atomic_writes=True,
        )
        self.data: HistoryData = _empty()
        self._journal: Journal | None = None
        self._touched: dict[int, dict[str, Any]] = {}
        self._journaled: dict[str, bytes] = {}
        self._save_timer: asyncio.TimerHandle | None = None
        self._changed = False
        """async_changed was called since the journal last collected."""

    async def async_load(self) -> None:
        """Load stored history and what the journal holds beyond it."""
        if (stored := await self._store.async_load()) is not None:
            empty = _empty()
            self.data = {**empty, **stored}
            self.data["settings"] = {**empty["settings"], **stored["settings"]}
        data = self.data
        for name in ENTRY_LISTS:
            items: list[dict[str, Any]] = data[name]  # type: ignore[literal-required]
            for entry in items:
                if "entry_id" not in entry:  # stored before entries had ids
                    data["last_entry_id"] += 1
                    entry["entry_id"] = data["last_entry_id"]
        self._journal = journal = await async_get_journal(self.hass)
        for key, value in journal.async_register(
            JOURNAL_STORE, self._journal_changes, data["journal_mark"], self.async_save
        ):
            self._apply(key, value)
        self._trim()
        for usage in data["usage"].values():
            usage.setdefault("conditions", {})  # stored before conditions existed
        self._journaled = {name: json_bytes(data[name]) for name in SMALL_FIELDS}  # type: ignore[literal-required]
        if stored is None or not stored.get("pseudonym_key"):
            # A new secret (or one only the journal held): journal and save it now,
            # since pseudonyms (tag ids, recorded events) must never move.
            del self._journaled["pseudonym_key"]
            self.async_changed()

    def _apply(self, key: str, value: Any) -> None:
        """Apply one journal document (start-up)."""
        kind, _, name = key.partition("/")
        if kind == "f":
            if name in SMALL_FIELDS and value is not None:
                self.data[name] = value  # type: ignore[literal-required]
            return
        if kind not in ENTRY_LISTS:
            return
        items: list[dict[str, Any]] = self.data[kind]  # type: ignore[literal-required]
        entry_id = int(name)
        ids = [entry["entry_id"] for entry in items]
        index = bisect_left(ids, entry_id)
        if index < len(items) and ids[index] == entry_id:
            if value is None:
                del items[index]
            else:
                items[index] = value
        elif value is not None:
            items.insert(index, value)

    def _trim(self) -> None:
        data = self.data
        for key, limit in (
            ("sessions", MAX_SESSIONS),
            ("audit", MAX_AUDIT),
            ("unknown_cards", MAX_UNKNOWN_CARDS),
        ):
            items: list[dict[str, Any]] = data[key]  # type: ignore[literal-required]
            if len(items) > limit:
                del items[: len(items) - limit]

    @callback
    def async_changed(self, *entries: dict[str, Any]) -> None:
        """Trim the bounded lists, journal the change soon and schedule a save.

        Pass the sessions or audit entries (these have a ``kind``) changed in place:
        the journal finds new entries (appended) and changed small fields by itself,
        but entries changed in place only by being told.
        """
        for entry in entries:
            self._touched[id(entry)] = entry
        self._changed = True
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
            # Logged by the journal; everything is still in the journal.
            self.async_changed()

    async def async_commit(self) -> None:
        """Return once every change so far is in the journal (durable)."""
        if self._journal is not None:
            await self._journal.async_commit()

    async def async_save(self) -> None:
        """Save the JSON file now (a journal checkpoint): shutdown, tests."""
        if self._save_timer is not None:
            self._save_timer.cancel()
            self._save_timer = None
        if self._journal is None:
            await self._store.async_save(self.data)
            return
        await self._journal.async_checkpoint(
            JOURNAL_STORE, self._snapshot, self._store.async_save
        )

    @callback
    def _journal_changes(self) -> dict[str, Any]:
        """Documents changed since the last commit (called by the journal)."""
        if not self._changed:
            return {}  # every change calls async_changed
        self._changed = False
        data = self.data
        changes: dict[str, Any] = {}
        touched, self._touched = self._touched, {}
        for name in ENTRY_LISTS:
            items: list[dict[str, Any]] = data[name]  # type: ignore[literal-required]
            index = len(items)
            while index and "entry_id" not in items[index - 1]:
                index -= 1
            for entry in items[index:]:
                data["last_entry_id"] += 1
                entry["entry_id"] = data["last_entry_id"]
                changes[f"{name}/{entry['entry_id']}"] = entry
        for entry in touched.values():
            if (entry_id := entry.get("entry_id")) is not None:
                name = "audit" if "kind" in entry else "sessions"
                changes[f"{name}/{entry_id}"] = entry
        journaled = self._journaled
        for name in SMALL_FIELDS:
            encoded = json_bytes(data[name])  # type: ignore[literal-required]
            if journaled.get(name) != encoded:
                journaled[name] = changes[f"f/{name}"] = encoded
        return changes

    @callback
    def _snapshot(self, mark: int) -> HistoryData:
        """Return a copy of the whole history as of journal commit ``mark``."""
        data = self.data
        copy: dict[str, Any] = {
            name: json_loads(json_bytes(data[name]))  # type: ignore[literal-required]
            for name in SMALL_FIELDS
        }
        for name in ENTRY_LISTS:
            items: list[dict[str, Any]] = data[name]  # type: ignore[literal-required]
            copy[name] = [dict(entry) for entry in items]
        copy["journal_mark"] = mark
        return copy  # type: ignore[return-value]

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

    def session(self, session_id: str) -> dict[str, Any] | None:
        """Return a session by id (newest first: replays concern recent ones)."""
        for session in reversed(self.data["sessions"]):
            if session["session_id"] == session_id:
                return session
        return None

    def open_sessions(self, device_id: str | None = None) -> list[dict[str, Any]]:
        """Return sessions still open, optionally on one device."""
        return [
            s
            for s in self.data["sessions"]
            if s["end"] is None and (device_id is None or s["device_id"] == device_id)
        ]

    @callback
    def add_audit(self, entry: dict[str, Any]) -> None:
        """Append one audit entry."""
        self.data["audit"].append(entry)
        self.async_changed()

    def answered_decision(
        self, device_id: str, request_id: str
    ) -> dict[str, Any] | None:
        """Return the audit entry of the hub's live answer to a device's request.

        Newest first over the bounded audit log (not ordered by time: replayed
        records are appended when they arrive).
        """
        for entry in reversed(self.data["audit"]):
            if (
                entry.get("request_id") == request_id
                and entry["device_id"] == device_id
                and entry["kind"] == "decision"
                and not entry["buffered"]
            ):
                return entry
        return None

    @callback
    def add_unknown_card(self, card: str, device_id: str, ts: float) -> None:
        """Remember an unknown card (latest sighting only) for registration."""
        cards = [c for c in self.data["unknown_cards"] if c["card"] != card]
        cards.append({"card": card, "device_id": device_id, "ts": ts})
        self.data["unknown_cards"] = cards
        self.async_changed()

    def last_unknown_card(self, device_id: str) -> dict[str, Any] | None:
        """Return the most recent unknown card seen on a device."""
        seen = [c for c in self.data["unknown_cards"] if c["device_id"] == device_id]
        return max(seen, key=lambda c: c["ts"]) if seen else None

    @callback
    def forget_unknown_card(self, card: str) -> None:
        """Drop a card from the unknown list once it is assigned."""
        self.data["unknown_cards"] = [
            c for c in self.data["unknown_cards"] if c["card"] != card
        ]
        self.async_changed()
