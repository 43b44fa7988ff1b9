"""Usage history, audit log, unknown cards and per-device counters.

One ``Store`` with delayed saves: these change on every swipe and heartbeat, so writes
are batched. Every list is bounded; the oldest entries go first.
"""

from __future__ import annotations

from typing import Any, TypedDict

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import Store

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
    }


class AccessHistory:
    """Sessions, audit entries and counters, saved a few seconds after a change."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Prepare an empty history."""
        self._store: Store[HistoryData] = Store(
            hass, HISTORY_STORAGE_VERSION, HISTORY_STORAGE_KEY, private=True
        )
        self.data: HistoryData = _empty()

    async def async_load(self) -> None:
        """Load stored history, keeping defaults for anything missing."""
        if (stored := await self._store.async_load()) is not None:
            empty = _empty()
            self.data = {**empty, **stored}
            self.data["settings"] = {**empty["settings"], **stored["settings"]}
            for usage in self.data["usage"].values():
                usage.setdefault("conditions", {})  # stored before conditions existed
            if not stored.get("pseudonym_key"):
                self.async_changed()  # keep the new secret: pseudonyms must not move

    @callback
    def async_changed(self) -> None:
        """Trim the bounded lists and schedule a save."""
        data = self.data
        for key, limit in (
            ("sessions", MAX_SESSIONS),
            ("audit", MAX_AUDIT),
            ("unknown_cards", MAX_UNKNOWN_CARDS),
        ):
            items: list[dict[str, Any]] = data[key]  # type: ignore[literal-required]
            if len(items) > limit:
                del items[: len(items) - limit]
        self._store.async_delay_save(lambda: self.data, HISTORY_SAVE_DELAY)

    async def async_save(self) -> None:
        """Save now (tests and shutdown)."""
        await self._store.async_save(self.data)

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
