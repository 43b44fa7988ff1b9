"""The history's entries as the core reads them: a session, an audit entry.

Built at the database edge (``HistoryDatabase`` reads rows into them, and a live
session in memory is read with ``from_entry``) and turned back into the stored
document only where it leaves the core (``as_wire``: websocket replies, exports).
Every field the core reads is typed here; ``as_wire`` returns the entry's stored
document unchanged (its fields in their order, whatever kind-specific ones it has),
so replies and exports are what the stored entry says, byte for byte.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _number(value: Any) -> float | None:
    """Return the number as stored (an int stays an int, as in ``as_wire``)."""
    return value if isinstance(value, int | float) else None


def _flag(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _entry_id(value: Any) -> int | None:
    return None if value is None else int(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionRecord:
    """One session of the usage history (access/sessions.py writes them)."""

    entry_id: int | None
    """None only for a live session the journal has not taken yet."""
    session_id: str
    device_id: str
    member_id: str | None
    member_name: str | None
    card: str | None
    start: float
    end: float | None
    """None while the session is open."""
    duration: float | None
    closed_by: str | None
    """A ``SessionEnd`` value once closed."""
    buffered: bool | None
    project_id: str | None
    """The project chosen at start (project_store.py)."""
    machine_type_id: str | None
    """The device's machine type at start (project_store.py)."""
    busy_seconds: float | None
    """Busy time telemetry counted inside the session (telemetry_rules.py)."""
    anonymized: bool
    document: Mapping[str, Any] = field(repr=False, compare=False)
    """The stored entry, a read-only copy (a record never changes a live entry,
    nor it the record): what ``as_wire`` returns."""

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any]) -> SessionRecord:
        """Read a stored session entry (the database's, or a live one's copy)."""
        return cls(
            entry_id=_entry_id(entry.get("entry_id")),
            session_id=str(entry.get("session_id") or ""),
            device_id=str(entry.get("device_id") or ""),
            member_id=_text(entry.get("member_id")),
            member_name=_text(entry.get("member_name")),
            card=_text(entry.get("card")),
            start=_number(entry.get("start")) or 0.0,
            end=_number(entry.get("end")),
            duration=_number(entry.get("duration")),
            closed_by=_text(entry.get("closed_by")),
            buffered=_flag(entry.get("buffered")),
            project_id=_text(entry.get("project_id")),
            machine_type_id=_text(entry.get("machine_type_id")),
            busy_seconds=_number(entry.get("busy_seconds")),
            anonymized=bool(entry.get("anonymized")),
            document=MappingProxyType(dict(entry)),
        )

    def as_wire(self) -> dict[str, Any]:
        """Return the session as stored (websocket replies, exports)."""
        return dict(self.document)


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry:
    """One audit entry: a decision, a device's record, an admin change, ...

    What all kinds share is typed; a kind's own fields (a decision's ``reason``,
    an intervention's ``note``) are read with :meth:`detail`.
    """

    entry_id: int | None
    """None only for a live entry the journal has not taken yet."""
    ts: float
    kind: str
    device_id: str | None
    member_id: str | None
    member_name: str | None
    card: str | None
    buffered: bool | None
    """Recorded at the device while the hub was unreachable; None: no such notion."""
    anonymized: bool
    document: Mapping[str, Any] = field(repr=False, compare=False)
    """The stored entry, a read-only copy (a record never changes a live entry,
    nor it the record): what ``as_wire`` returns."""

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any]) -> AuditEntry:
        """Read a stored audit entry."""
        return cls(
            entry_id=_entry_id(entry.get("entry_id")),
            ts=_number(entry.get("ts")) or 0.0,
            kind=str(entry.get("kind") or ""),
            device_id=_text(entry.get("device_id")),
            member_id=_text(entry.get("member_id")),
            member_name=_text(entry.get("member_name")),
            card=_text(entry.get("card")),
            buffered=_flag(entry.get("buffered")),
            anonymized=bool(entry.get("anonymized")),
            document=MappingProxyType(dict(entry)),
        )

    def detail(self, name: str) -> Any:
        """Return a field of the entry's own kind (None when it has none)."""
        return self.document.get(name)

    def as_wire(self) -> dict[str, Any]:
        """Return the entry as stored (websocket replies, exports)."""
        return dict(self.document)


@dataclass(frozen=True, slots=True)
class MemberEntries:
    """Every session and audit entry naming one member (GDPR access), in order."""

    sessions: list[SessionRecord]
    audit: list[AuditEntry]
