"""GDPR: retention purge, anonymization, member data export, usage export.

The history's retention is a policy, not a count: entries are anonymized once older
than ``usage_retention_days`` (a year by default) and unknown cards deleted after
``unknown_card_retention_days`` (30); the history database does it in SQL.

The purge and a member's removal also anonymize what FluxiLab wrote to Home
Assistant's recorder: its bus events (and ``tag_scanned`` of its cards) and the
states of its event entities, current user sensors and card tags. That runs on the
recorder's own executor, in batches, with plain SQL on the JSON text the recorder
stores (``LIKE`` narrows, Python rewrites), so SQLite, PostgreSQL and MariaDB alike.
"""

from __future__ import annotations

from collections.abc import (
    AsyncIterator,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
import csv
from dataclasses import dataclass
from functools import cached_property
import io
import json
import re
from typing import Any, Final, cast

from homeassistant.components.recorder import get_instance
from homeassistant.components.recorder.db_schema import (
    EventData,
    Events,
    EventTypes,
    StateAttributes,
    States,
    StatesMeta,
)
from homeassistant.components.recorder.util import session_scope
from homeassistant.components.tag import EVENT_TAG_SCANNED
from homeassistant.const import (
    ATTR_DOMAIN,
    ATTR_SERVICE_DATA,
    EVENT_CALL_SERVICE,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.json import json_bytes_strip_null
from sqlalchemy import or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from custom_components.fluxilab.const import (
    DOMAIN,
    EVENT_ACCESS,
    EVENT_LAB,
    LOGGER,
)
from custom_components.fluxilab.history_db import (
    PERSONAL_FIELDS,
    LiveAudit,
    SessionQuery,
    SessionRecord,
)

from . import maintenance
from .bookings import Booking
from .history import AccessHistory, LiveEntry
from .member_models import Member
from .notify import EVENT_NOTIFICATION
from .privacy import (
    CARD_PREFIX,
    CARD_PSEUDONYM,
    IN_USE,
    SERVICE_CARD_FIELDS,
    SERVICE_MEMBER_FIELDS,
    Privacy,
)
from .roles import Role

DAY = 86400.0
SESSION_CSV_FIELDS = (
    "session_id",
    "device_id",
    "member_id",
    "member_name",
    "card",
    "start",
    "end",
    "duration",
    "closed_by",
    "buffered",
)

RECORDED_EVENT_TYPES: Final = (
    EVENT_ACCESS,
    EVENT_LAB,
    EVENT_NOTIFICATION,
    f"{DOMAIN}_routing",  # api/panel.py EVENT_ROUTING (the api sits above access)
    EVENT_TAG_SCANNED,
    EVENT_CALL_SERVICE,  # FluxiLab's, with pseudonyms (privacy.service_call_data)
)
"""Recorded event types that may name a member or a card (not fluxilab_device)."""
RECORDED_ENTITY_KEYS: Final = ("access", "current_user")
"""Our entities (unique id suffixes) whose recorded states may name someone."""
MEMBER_FIELDS: Final = ("member_id", "member_name", "user_id", "card", "member")
TRAINER_FIELDS: Final = ("trainer_id", "trainer_name", "trainer")
SHOWN_USERS: Final = frozenset(
    {*(r.value for r in Role), IN_USE, STATE_UNKNOWN, STATE_UNAVAILABLE}
)
"""Current user states that name nobody."""
ANONYMIZED: Final = "anonymized"
REDACTED_NAME: Final = "…"
TAG_NAME: Final = "Tag"
RECORDER_BATCH: Final = 500
ERASED_TEXT: Final[Mapping[str, tuple[str, ...]]] = {maintenance.KIND: ("note",)}
"""Audit kind -> free text of the member's own entries that an erasure blanks too.

An intervention's note is what its member wrote and may name them; its hours and
interval stay (the device's maintenance history), nameless."""
SIGNAL_ANONYMIZE: Final = f"{DOMAIN}_anonymize"
"""Dispatcher signal, argument a ``Subject``: forget them in what entities show now."""


def _anonymize(entry: LiveEntry) -> bool:
    """Blank an entry's personal fields; True if anything changed."""
    return entry.anonymize(PERSONAL_FIELDS)


def _retention_cutoffs(history: AccessHistory, now: float) -> tuple[float, float]:
    settings = history.data["settings"]
    return (
        now - settings.usage_retention_days * DAY,
        now - settings.unknown_card_retention_days * DAY,
    )


async def async_purge(history: AccessHistory, now: float) -> dict[str, int]:
    """Apply the retention settings; return how many entries were touched.

    Sessions ended and audit entries made before the usage retention lose their
    personal fields (in memory and in the database, where the UPDATE does it in
    SQL); unknown cards older than their retention go.
    """
    usage_cutoff, card_cutoff = _retention_cutoffs(history, now)
    before = len(history.data["unknown_cards"])
    history.data["unknown_cards"] = {
        uid: c
        for uid, c in history.data["unknown_cards"].items()
        if c.ts >= card_cutoff
    }
    deleted = before - len(history.data["unknown_cards"])

    def _old(entry: LiveEntry) -> bool:
        if isinstance(entry, LiveAudit):
            return entry.ts < usage_cutoff and _anonymize(entry)
        end = entry.end
        return end is not None and end < usage_cutoff and _anonymize(entry)

    anonymized = await history.async_anonymize(
        _old, lambda db: db.anonymize_before(usage_cutoff)
    )
    return {"anonymized": anonymized, "unknown_cards_deleted": deleted}


async def async_forget_member(
    history: AccessHistory, member_id: str, cards: list[str]
) -> None:
    """Remove a deleted member's personal data from the history."""
    history.data["interest"] = [
        s for s in history.data["interest"] if s.member_id != member_id
    ]

    def _theirs(entry: LiveEntry) -> bool:
        erased = isinstance(entry, LiveAudit) and _erase_own_text(entry, member_id)
        actor = (
            entry.detail("actor_member_id") if isinstance(entry, LiveAudit) else None
        )
        return (
            member_id in (entry.member_id, actor)
            or (entry.card is not None and entry.card in cards)
        ) and (_anonymize(entry) or erased)

    await history.async_anonymize(
        _theirs, lambda db: db.anonymize_member(member_id, cards, ERASED_TEXT)
    )


def _erase_own_text(entry: LiveAudit, member_id: str) -> bool:
    """Blank the free text a member wrote in their own entry; True if it had any."""
    fields = ERASED_TEXT.get(entry.kind, ())
    if entry.member_id != member_id or all(
        entry.detail(name) is None for name in fields
    ):
        return False
    for name in fields:
        entry.set_detail(name, None)
    return True


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberProject:
    """A project a member belongs to, as their export names it (project_store.py)."""

    id: str
    name: str
    default: bool
    """One of the member's default projects (``default_members``)."""

    def as_wire(self) -> dict[str, Any]:
        """Return the project as the export lists it."""
        return {"id": self.id, "name": self.name, "default": self.default}


async def async_member_export(
    member: dict[str, Any],  # edge: the stored member, exported as stored
    # edge: the stored authorizations, exported as stored
    authorizations: list[dict[str, Any]],
    history: AccessHistory,
    *,
    bookings: Sequence[Booking],
    projects: Sequence[MemberProject],
    # edge: the stored problem reports, exported as stored
    problem_reports: list[dict[str, Any]],
) -> dict[str, Any]:  # edge: the GDPR export's reply, everything as stored
    """Return everything held about one member (the PIN hash is named, not shown).

    ``bookings``, ``projects`` and ``problem_reports`` (those they made or resolved)
    are theirs from their stores (the engine's ``async_member_export`` gathers them
    for every door).
    """
    view = Member.from_storage(member)
    profile = {k: v for k, v in member.items() if k != "credentials"}
    profile["credentials"] = [credential.as_wire() for credential in view.credentials]
    profile["has_pin"] = view.pin_hash(active_only=False) is not None
    member_id = member["id"]
    entries = await history.async_member_entries(member_id)
    return {
        "member": profile,
        "authorizations": authorizations,
        "bookings": [booking.as_dict() for booking in bookings],
        "projects": [project.as_wire() for project in projects],
        "problem_reports": problem_reports,
        "sessions": [session.as_wire() for session in entries.sessions],
        "audit": [entry.as_wire() for entry in entries.audit],
        "checked_in": None
        if (check_in := history.data["checked_in"].get(member_id)) is None
        else check_in.as_dict(),
        "interest": [
            s.as_dict() for s in history.data["interest"] if s.member_id == member_id
        ],
    }


def usage_csv_header() -> str:
    """Return the first line of a usage CSV."""
    return ",".join(SESSION_CSV_FIELDS) + "\n"


@dataclass(frozen=True, slots=True)
class UsageExport:
    """The sessions matching an export's filters, and their CSV if asked for."""

    sessions: list[SessionRecord]
    csv: str | None = None

    def as_wire(self) -> dict[str, Any]:
        """Return the export as the service answers it."""
        body: dict[str, Any] = {"sessions": [s.as_wire() for s in self.sessions]}
        if self.csv is not None:
            body["csv"] = self.csv
        return body


def usage_csv_rows(sessions: Iterable[SessionRecord]) -> str:
    """Return sessions as usage CSV lines (no header)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer,
        fieldnames=SESSION_CSV_FIELDS,
        extrasaction="ignore",
        lineterminator="\n",
    )
    writer.writerows(session.as_wire() for session in sessions)
    return buffer.getvalue()


async def async_usage_csv(
    history: AccessHistory, query: SessionQuery
) -> AsyncIterator[str]:
    """Yield the usage CSV of the sessions matching ``query``, a batch at a time.

    Each batch is read (columns only) and formatted on the database's thread.
    """
    yield usage_csv_header()
    await history.async_flush()
    db = history.database
    after: int | None = None
    while True:
        lines, after = await db.async_run(
            db.csv_batch, query, SESSION_CSV_FIELDS, after
        )
        if after is None:
            return
        yield lines


async def async_usage_export(
    history: AccessHistory, query: SessionQuery, *, with_csv: bool = True
) -> UsageExport:
    """Return closed and open sessions matching the filters, and their CSV."""
    sessions = await history.async_sessions(query)
    if not with_csv:
        return UsageExport(sessions)
    lines = await history.database.async_run(usage_csv_rows, sessions)
    return UsageExport(sessions, usage_csv_header() + lines)


# The recorder ----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Subject:
    """Whom to anonymize in the recorder: what identifies them in a row.

    ``before``: also every row of ours older than this (retention), whoever it names.
    """

    members: frozenset[str] = frozenset()
    """Member ids and member pseudonyms."""
    names: frozenset[str] = frozenset()
    user_ids: frozenset[str] = frozenset()
    cards: frozenset[str] = frozenset()
    """Card pseudonyms, and uids (rows written before cards were pseudonymous)."""
    entity_ids: frozenset[str] = frozenset()
    """Entities beside ours: the card tags (gone from the registry by then)."""
    before: float | None = None

    @cached_property
    def needles(self) -> list[str]:
        """Return the texts a row naming this subject contains (JSON-encoded)."""
        quoted = [
            json.dumps(value, ensure_ascii=False)
            for value in (*self.members, *self.user_ids, *self.cards)
        ]
        names = [json.dumps(name, ensure_ascii=False)[1:-1] for name in self.names]
        return sorted({*quoted, *names})

    @property
    def empty(self) -> bool:
        """True if nothing identifies anybody (and no retention cut-off)."""
        return self.before is None and not (
            self.members or self.names or self.user_ids or self.cards
        )

    @cached_property
    def name_pattern(self) -> re.Pattern[str] | None:
        """Return a pattern matching the subject's names as whole words."""
        if not self.names:
            return None
        alternatives = "|".join(
            re.escape(n) for n in sorted(self.names, key=len, reverse=True)
        )
        return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


def _tag_entity_ids(hass: HomeAssistant, tag_ids: Iterable[str]) -> frozenset[str]:
    registry = er.async_get(hass)
    return frozenset(
        entity_id
        for tag_id in tag_ids
        if (entity_id := registry.async_get_entity_id("tag", "tag", tag_id))
    )


def member_subject(
    hass: HomeAssistant,
    privacy: Privacy,
    member: Member,
    cards: Iterable[str],
) -> Subject:
    """Describe a member being removed (before their tags go)."""
    uids = set(cards)
    pseudonyms = {privacy.card(card) for card in uids}
    return Subject(
        members=frozenset({member.id, privacy.member(member.id)}),
        names=frozenset({member.name} if member.name else ()),
        user_ids=frozenset({member.user_id} if member.user_id else ()),
        cards=frozenset(uids | pseudonyms),
        entity_ids=_tag_entity_ids(hass, pseudonyms),
    )


def retention_subject(
    hass: HomeAssistant,
    privacy: Privacy,
    history: AccessHistory,
    now: float,
    purged_cards: Iterable[str],
) -> Subject:
    """Describe the retention purge (before the purged cards' tags go).

    Rows older than the usage retention, and the unknown cards it deleted.
    """
    uids = set(purged_cards)
    pseudonyms = {privacy.card(card) for card in uids}
    return Subject(
        cards=frozenset(uids | pseudonyms),
        entity_ids=_tag_entity_ids(hass, pseudonyms),
        before=now - history.data["settings"].usage_retention_days * DAY,
    )


def _concerns(
    # edge: recorded event data or state attributes from the recorder
    data: Mapping[str, Any],
    subject: Subject,
    fields: tuple[str, ...],
) -> bool:
    return any(
        isinstance(value := data.get(key), str)
        and (
            value in subject.members
            or value in subject.user_ids
            or value in subject.cards
        )
        for key in fields
    )


# edge: recorded event data or state attributes from the recorder
def scrub(data: dict[str, Any], subject: Subject, *, old: bool) -> bool:
    """Anonymize one recorded event's data or state's attributes; True if changed.

    ``old``: the row is older than the retention, so it loses every personal field.
    """
    changed = False
    for fields in (MEMBER_FIELDS, TRAINER_FIELDS):
        if old or _concerns(data, subject, fields):
            for key in fields:
                if data.get(key) is not None:
                    data[key] = None
                    changed = True
    tag_id = data.get("tag_id")
    if isinstance(tag_id, str) and (
        tag_id in subject.cards or (old and tag_id.startswith(CARD_PREFIX))
    ):
        data["tag_id"] = None
        data.pop("name", None)
        changed = True
    service_data = data.get(ATTR_SERVICE_DATA)
    if data.get(ATTR_DOMAIN) == DOMAIN and isinstance(service_data, dict):
        changed = _scrub_service_call(service_data, subject, old=old) or changed
    if (pattern := subject.name_pattern) is not None:
        for key, value in data.items():
            if isinstance(value, str) and pattern.search(value):
                data[key] = pattern.sub(REDACTED_NAME, value)
                changed = True
    if changed:
        data[ANONYMIZED] = True
    return changed


def _scrub_service_call(
    # edge: a recorded service call's data from the recorder
    service_data: dict[str, Any],
    subject: Subject,
    *,
    old: bool,
) -> bool:
    """Forget the subject's member and card pseudonyms in a recorded service call."""
    changed = False
    for key in (*SERVICE_MEMBER_FIELDS, *SERVICE_CARD_FIELDS):
        value = service_data.get(key)
        names = (*subject.members, *subject.cards)
        if isinstance(value, str) and (old or value in names):
            service_data[key] = None
            changed = True
        elif isinstance(value, list):
            kept = [] if old else [v for v in value if v not in names]
            if len(kept) != len(value):
                service_data[key] = kept
                changed = True
    return changed


def _count(result: Any) -> int:
    """Rows an UPDATE changed."""
    return int(cast(CursorResult[Any], result).rowcount)


# edge: a recorded tag state's attributes from the recorder
def scrub_tag(data: dict[str, Any]) -> bool:
    """Anonymize a recorded state of a card's tag entity (its name may be a member's)."""
    if data.get(ANONYMIZED):
        return False
    data["friendly_name"] = TAG_NAME
    data.pop("tag_id", None)
    data[ANONYMIZED] = True
    return True


# edge: recorded JSON written back to the recorder
def _dump(data: Mapping[str, Any]) -> bytes:
    dumped: bytes = json_bytes_strip_null(data)
    return dumped


def _batches(
    session: Session, query: Any, id_column: Any
) -> Iterator[list[tuple[int, str]]]:
    """Yield (id, json text) rows of ``query`` in id order, a batch at a time."""
    last = -1
    while True:
        rows = session.execute(
            query.where(id_column > last).order_by(id_column).limit(RECORDER_BATCH)
        ).all()
        if not rows:
            return
        last = rows[-1][0]
        yield [(row[0], row[1]) for row in rows]


def _matches(column: Any, subject: Subject) -> Any:
    return or_(*(column.contains(n, autoescape=True) for n in subject.needles))


def _anonymize_events(session: Session, subject: Subject) -> int:
    type_ids = session.scalars(
        select(EventTypes.event_type_id).where(
            EventTypes.event_type.in_(RECORDED_EVENT_TYPES)
        )
    ).all()
    if not type_ids:
        return 0
    touched = 0
    ours = Events.event_type_id.in_(type_ids)
    queries: list[tuple[Any, bool]] = []
    if subject.needles:
        queries.append(
            (
                select(EventData.data_id, EventData.shared_data).where(
                    EventData.data_id.in_(select(Events.data_id).where(ours)),
                    _matches(EventData.shared_data, subject),
                ),
                False,
            )
        )
    if subject.before is not None:
        queries.append(
            (
                select(EventData.data_id, EventData.shared_data).where(
                    EventData.data_id.in_(
                        select(Events.data_id).where(
                            ours, Events.time_fired_ts < subject.before
                        )
                    ),
                    EventData.shared_data.not_like(f'%"{ANONYMIZED}":true%'),
                ),
                True,
            )
        )
    for query, old in queries:
        for batch in _batches(session, query, EventData.data_id):
            for data_id, text in batch:
                data = json.loads(text or "{}")
                if not isinstance(data, dict) or not scrub(data, subject, old=old):
                    continue
                dumped = _dump(data)
                session.execute(
                    update(EventData)
                    .where(EventData.data_id == data_id)
                    .values(
                        shared_data=dumped.decode(),
                        hash=EventData.hash_shared_data_bytes(dumped),
                    )
                )
                # The member's HA user was the event's context user.
                session.execute(
                    update(Events)
                    .where(Events.data_id == data_id, ours)
                    .values(context_user_id_bin=None)
                )
                touched += 1
            session.commit()
    return touched


def _anonymize_states(
    session: Session, subject: Subject, entity_ids: Mapping[str, str]
) -> int:
    """Scrub our entities' recorded attributes and the current user's names."""
    meta: dict[str, int] = {
        entity_id: metadata_id
        for entity_id, metadata_id in session.execute(
            select(StatesMeta.entity_id, StatesMeta.metadata_id).where(
                StatesMeta.entity_id.in_(list(entity_ids))
            )
        ).all()
        if entity_id is not None
    }
    if not meta:
        return 0
    touched = 0
    users = [
        meta[e] for e, key in entity_ids.items() if key == "current_user" and e in meta
    ]
    if users and subject.names:
        touched += _count(
            session.execute(
                update(States)
                .where(States.metadata_id.in_(users), States.state.in_(subject.names))
                .values(state=IN_USE)
            )
        )
    if users and subject.before is not None:
        touched += _count(
            session.execute(
                update(States)
                .where(
                    States.metadata_id.in_(users),
                    States.last_updated_ts < subject.before,
                    States.state.not_in(SHOWN_USERS),
                )
                .values(state=IN_USE)
            )
        )

    def _ids(*kinds: str) -> list[int]:
        return [meta[e] for e, key in entity_ids.items() if key in kinds and e in meta]

    def _attributes(*where: Any) -> Any:
        return select(
            StateAttributes.attributes_id, StateAttributes.shared_attrs
        ).where(
            StateAttributes.attributes_id.in_(
                select(States.attributes_id).where(*where)
            ),
            StateAttributes.shared_attrs.not_like(f'%"{ANONYMIZED}":true%'),
        )

    # edge: recorded JSON rows from the recorder's database
    queries: list[tuple[Any, Callable[[dict[str, Any]], bool]]] = []
    if (access := _ids("access")) and subject.needles:
        queries.append(
            (
                _attributes(States.metadata_id.in_(access)).where(
                    _matches(StateAttributes.shared_attrs, subject)
                ),
                lambda data: scrub(data, subject, old=False),
            )
        )
    if tags := _ids("tag"):  # the subject's own card tags: every row
        queries.append((_attributes(States.metadata_id.in_(tags)), scrub_tag))
    if subject.before is not None:
        old = States.last_updated_ts < subject.before
        if access:
            queries.append(
                (
                    _attributes(States.metadata_id.in_(access), old),
                    lambda data: scrub(data, subject, old=True),
                )
            )
        if card_tags := _ids("card_tag"):
            queries.append(
                (_attributes(States.metadata_id.in_(card_tags), old), scrub_tag)
            )
    for query, scrubber in queries:
        for batch in _batches(session, query, StateAttributes.attributes_id):
            for attributes_id, text in batch:
                data = json.loads(text or "{}")
                if not isinstance(data, dict) or not scrubber(data):
                    continue
                dumped = _dump(data)
                session.execute(
                    update(StateAttributes)
                    .where(StateAttributes.attributes_id == attributes_id)
                    .values(
                        shared_attrs=dumped.decode(),
                        hash=StateAttributes.hash_shared_attrs_bytes(dumped),
                    )
                )
                touched += 1
            session.commit()
    return touched


def _recorded_entities(hass: HomeAssistant, subject: Subject) -> dict[str, str]:
    """Return entity id -> kind to scrub.

    ``access`` and ``current_user`` (ours), ``tag`` (the subject's card tags),
    ``card_tag`` (every card tag FluxiLab made, for the retention).
    """
    found: dict[str, str] = {}
    for entry in er.async_get(hass).entities.values():
        if entry.platform == "tag" and CARD_PSEUDONYM.fullmatch(entry.unique_id):
            found[entry.entity_id] = "card_tag"
        if entry.platform != DOMAIN:
            continue
        for key in RECORDED_ENTITY_KEYS:
            if entry.unique_id.endswith(f"_{key}"):
                found[entry.entity_id] = key
    found.update(dict.fromkeys(subject.entity_ids, "tag"))
    return found


async def async_anonymize_recorder(hass: HomeAssistant, subject: Subject) -> int:
    """Anonymize recorder rows naming ``subject``; return how many rows changed.

    Waits for the recorder's pending writes first, so an event fired just before
    the removal is anonymized too. Never raises: a failure is logged.
    """
    if subject.empty or "recorder" not in hass.config.components:
        return 0
    try:
        instance = get_instance(hass)
    except KeyError:  # the recorder is still setting up, or failed to
        return 0
    if not await instance.async_db_ready:
        return 0
    await instance.async_block_till_done()
    entity_ids = _recorded_entities(hass, subject)

    def _anonymize() -> int:
        with session_scope(session=instance.get_session()) as session:
            return _anonymize_events(session, subject) + _anonymize_states(
                session, subject, entity_ids
            )

    try:
        touched = await instance.async_add_executor_job(_anonymize)
    except Exception:
        LOGGER.exception("Could not anonymize the recorder's rows")
        return 0
    LOGGER.debug("Anonymized %s recorder rows", touched)
    return touched
