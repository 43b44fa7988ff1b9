"""The history's entries as the core reads and writes them: sessions, audit entries.

Read path: ``SessionRecord`` and ``AuditEntry``, frozen, built at the database edge
(``HistoryDatabase`` reads rows into them) and turned back into the stored document
only where they leave the core (``as_wire``: websocket replies, exports).

Write path: ``LiveSession`` and ``LiveAudit``, what the history holds in memory and
the core changes in place (a session's heartbeat and stop, an answered decision's
merge, an anonymization). Each keeps its stored document and brings it up to date
in ``as_dict``, where it leaves for the journal and the database (access/history.py),
field by field: a value that did not change is not written again and a key keeps
its place, so the JSON stored is what the untyped entries stored, byte for byte.

Every field the core reads is typed here; ``as_wire`` returns the entry's stored
document unchanged (its fields in their order, whatever kind-specific ones it has),
so replies and exports are what the stored entry says, byte for byte.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
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
    # edge: the stored entry, the history database's document
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

    def with_entry_id(self, entry_id: int) -> SessionRecord:
        """Return the record given an entry id (stored in its document too)."""
        return replace(
            self,
            entry_id=entry_id,
            document=MappingProxyType({**self.document, "entry_id": entry_id}),
        )


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
    # edge: the stored entry, the history database's document
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

    def with_entry_id(self, entry_id: int) -> AuditEntry:
        """Return the entry given an entry id (stored in its document too)."""
        return replace(
            self,
            entry_id=entry_id,
            document=MappingProxyType({**self.document, "entry_id": entry_id}),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownCard:
    """The latest sighting of a card nobody holds (for registration)."""

    card: str = field(repr=False)
    """The card's uid (personal: kept out of the repr)."""
    device_id: str
    ts: float
    """When it was seen; an int stays the int it was stored as (``as_dict``)."""

    @classmethod
    def from_dict(cls, item: Mapping[str, Any]) -> UnknownCard:
        """Read one of the history's stored unknown cards."""
        ts = item["ts"]
        return cls(
            card=str(item["card"]),
            device_id=str(item["device_id"]),
            ts=ts if isinstance(ts, int | float) else 0.0,
        )

    def as_dict(self) -> dict[str, Any]:
        """Return the card as the history stores it."""
        return {"card": self.card, "device_id": self.device_id, "ts": self.ts}


@dataclass(frozen=True, slots=True)
class MemberEntries:
    """Every session and audit entry naming one member (GDPR access), in order."""

    sessions: list[SessionRecord]
    audit: list[AuditEntry]


def _sync(
    entry: LiveSession | LiveAudit, name: str, value: Any, *, present: bool
) -> None:
    """Write one typed field of a live entry back into its stored document.

    A key the document has is replaced only when the value changed (an int stays
    the int it was stored as), so an entry read and written back unchanged stays
    byte for byte the same; a key it lacks is added only when ``present``.
    """
    document = entry.document
    if name in document:
        if document[name] != value:
            document[name] = value
    elif present:
        document[name] = value


PERSONAL_TYPED: tuple[str, ...] = ("member_id", "member_name", "card")
"""The personal fields a live entry types; the rest (trainer, actor) are details."""


def _blank_untyped(entry: LiveSession | LiveAudit, personal: tuple[str, ...]) -> bool:
    """Blank the personal fields a live entry does not type; True if any had one."""
    document = entry.document
    changed = False
    for name in personal:
        if name not in PERSONAL_TYPED and document.get(name) is not None:
            document[name] = None
            changed = True
    return changed


def _anonymize_live(entry: LiveSession | LiveAudit, personal: tuple[str, ...]) -> bool:
    """Blank a live entry's personal fields, typed and untyped; True if any was set."""
    changed = _blank_untyped(entry, personal)
    if entry.member_id is not None or entry.member_name is not None:
        entry.member_id = entry.member_name = None
        changed = True
    if entry.card is not None:
        entry.card = None
        changed = True
    if changed:
        entry.anonymized = True
    return changed


@dataclass(slots=True, kw_only=True)
class LiveSession:
    """A session in memory, changed in place while it runs (access/sessions.py).

    The history holds these; the journal and the database get the stored
    document (``as_dict``), built here and nowhere else. ``document`` keeps
    the stored form's key order and whatever fields the core does not type (an
    import's id), so what is stored stays what it was before sessions were typed.
    """

    session_id: str
    device_id: str
    member_id: str | None
    member_name: str | None
    card: str | None
    start: float
    last_seen: float
    end: float | None = None
    """None while the session is open."""
    duration: float = 0.0
    closed_by: str | None = None
    """A ``SessionEnd`` value once closed."""
    buffered: bool = False
    stamped: bool = False
    """The projects stamped it (project_store.py): ``project_id`` and
    ``machine_type_id`` are stored, None or not."""
    project_id: str | None = None
    machine_type_id: str | None = None
    busy_seconds: float | None = None
    """Busy time telemetry counted inside the session; None: none counted yet."""
    anonymized: bool = False
    entry_id: int | None = None
    """None until the journal takes the session."""
    project_request: str | None = field(default=None, compare=False)
    """The project the device asked for at start, until the projects read it (never
    stored)."""
    # edge: the stored form, the history database's document
    document: dict[str, Any] = field(default_factory=dict, repr=False)
    """The stored form as last written (``as_dict`` brings it up to date)."""

    @classmethod
    def new(
        cls,
        *,
        session_id: str,
        device_id: str,
        member_id: str | None,
        member_name: str | None,
        card: str | None,
        start: float,
        last_seen: float | None = None,
        end: float | None = None,
        duration: float = 0.0,
        closed_by: str | None = None,
        buffered: bool = False,
    ) -> LiveSession:
        """Return a new session with its stored form's fields in their order."""
        session = cls(
            session_id=session_id,
            device_id=device_id,
            member_id=member_id,
            member_name=member_name,
            card=card,
            start=start,
            last_seen=start if last_seen is None else last_seen,
            end=end,
            duration=duration,
            closed_by=closed_by,
            buffered=buffered,
        )
        session.document = {
            "session_id": session.session_id,
            "device_id": session.device_id,
            "member_id": session.member_id,
            "member_name": session.member_name,
            "card": session.card,
            "start": session.start,
            "last_seen": session.last_seen,
            "end": session.end,
            "duration": session.duration,
            "closed_by": session.closed_by,
            "buffered": session.buffered,
        }
        return session

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any]) -> LiveSession:
        """Read a stored session (the database's, the journal's) into memory."""
        start = _number(entry.get("start")) or 0.0
        document = dict(entry)
        request = document.pop("project_request", None)
        return cls(
            session_id=str(entry.get("session_id") or ""),
            device_id=str(entry.get("device_id") or ""),
            member_id=_text(entry.get("member_id")),
            member_name=_text(entry.get("member_name")),
            card=_text(entry.get("card")),
            start=start,
            last_seen=_number(entry.get("last_seen")) or start,
            end=_number(entry.get("end")),
            duration=_number(entry.get("duration")) or 0.0,
            closed_by=_text(entry.get("closed_by")),
            buffered=bool(entry.get("buffered")),
            stamped="project_id" in entry,
            project_id=_text(entry.get("project_id")),
            machine_type_id=_text(entry.get("machine_type_id")),
            busy_seconds=_number(entry.get("busy_seconds")),
            anonymized=bool(entry.get("anonymized")),
            entry_id=_entry_id(entry.get("entry_id")),
            project_request=_text(request),
            document=document,
        )

    def anonymize(self, personal: tuple[str, ...]) -> bool:
        """Blank the personal fields (``personal``: the database's); True if any."""
        return _anonymize_live(self, personal)

    def as_dict(self) -> dict[str, Any]:
        """Return the stored form as of now (the journal's, the database's), a copy."""
        # What ``from_entry`` reads a missing field as: a field a stored session
        # lacks is added only once it says something else (``new`` has them all).
        for name, absent in (
            ("session_id", ""),
            ("device_id", ""),
            ("member_id", None),
            ("member_name", None),
            ("card", None),
            ("start", 0.0),
            ("last_seen", self.start),
            ("end", None),
            ("duration", 0.0),
            ("closed_by", None),
            ("buffered", False),
        ):
            value = getattr(self, name)
            _sync(self, name, value, present=value != absent)
        _sync(self, "project_id", self.project_id, present=self.stamped)
        _sync(self, "machine_type_id", self.machine_type_id, present=self.stamped)
        _sync(
            self,
            "busy_seconds",
            self.busy_seconds,
            present=self.busy_seconds is not None,
        )
        _sync(self, "anonymized", self.anonymized, present=self.anonymized)
        _sync(self, "entry_id", self.entry_id, present=self.entry_id is not None)
        return dict(self.document)

    def as_record(self) -> SessionRecord:
        """Return the read-only record of the session as of now."""
        return SessionRecord.from_entry(self.as_dict())


AUDIT_TYPED: frozenset[str] = frozenset(
    {"ts", "kind", "device_id", *PERSONAL_TYPED, "buffered", "anonymized", "entry_id"}
)
"""The fields of an audit entry ``LiveAudit`` types (every kind has them)."""


@dataclass(slots=True, kw_only=True)
class LiveAudit:
    """An audit entry in memory (a decision, a device's record, an admin change, ...).

    Built once from the stored form its writer composes (``from_entry``); what all
    kinds share is typed, a kind's own fields are read and changed with
    :meth:`detail` and :meth:`set_detail`. ``as_dict`` is the stored form,
    its keys in the order the writer gave them.
    """

    ts: float
    kind: str
    device_id: str | None
    member_id: str | None
    member_name: str | None
    card: str | None
    buffered: bool | None
    """Recorded at the device while the hub was unreachable; None: no such notion."""
    anonymized: bool = False
    entry_id: int | None = None
    """None until the journal takes the entry."""
    # edge: the stored form, the history database's document
    document: dict[str, Any] = field(default_factory=dict, repr=False)
    """The stored form: the typed fields as last written, and the kind's own."""

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any]) -> LiveAudit:
        """Read a stored audit entry (a writer's, the database's, the journal's)."""
        return cls(
            ts=_number(entry.get("ts")) or 0.0,
            kind=str(entry.get("kind") or ""),
            device_id=_text(entry.get("device_id")),
            member_id=_text(entry.get("member_id")),
            member_name=_text(entry.get("member_name")),
            card=_text(entry.get("card")),
            buffered=_flag(entry.get("buffered")),
            anonymized=bool(entry.get("anonymized")),
            entry_id=_entry_id(entry.get("entry_id")),
            document=dict(entry),
        )

    def detail(self, name: str) -> Any:
        """Return a field of the entry's own kind (None when it has none)."""
        return self.document.get(name)

    def has_detail(self, name: str) -> bool:
        """Whether the entry has a field of that name (None or not)."""
        return name in self.document

    def set_detail(self, name: str, value: Any) -> None:
        """Set a field of the entry's own kind (the caller tells the history).

        The typed fields are set as attributes: ``as_dict`` writes them over.
        """
        if name in AUDIT_TYPED:
            raise ValueError(f"{name} is a typed field of an audit entry")
        self.document[name] = value

    def anonymize(self, personal: tuple[str, ...]) -> bool:
        """Blank the personal fields (``personal``: the database's); True if any."""
        return _anonymize_live(self, personal)

    def as_dict(self) -> dict[str, Any]:
        """Return the stored form as of now (the journal's, the database's), a copy."""
        _sync(self, "ts", self.ts, present=bool(self.ts))
        _sync(self, "kind", self.kind, present=bool(self.kind))
        for name in ("device_id", *PERSONAL_TYPED):
            value = getattr(self, name)
            _sync(self, name, value, present=value is not None)
        _sync(self, "buffered", self.buffered, present=self.buffered is not None)
        _sync(self, "anonymized", self.anonymized, present=self.anonymized)
        _sync(self, "entry_id", self.entry_id, present=self.entry_id is not None)
        return dict(self.document)

    def as_record(self) -> AuditEntry:
        """Return the read-only record of the entry as of now."""
        return AuditEntry.from_entry(self.as_dict())
