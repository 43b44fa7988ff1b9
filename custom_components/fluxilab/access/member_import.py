"""Members, cards and authorizations in and out as CSV (docs/IMPORT.md).

An import reads the whole file first (its size capped before parsing), plans every
row against the lab as it is and as the rows before it leave it, and writes only
then: a dry run answers the plan; a real run applies it through the one admin API
(admin.py), so every write is checked and audited (admin_audit.py) as any door's.
In strict mode (the default) one rejected row means nothing is written; otherwise
the rows planned cleanly are written and the rejected ones are reported. If a write
fails midway anyway (the lab changed meanwhile, a storage error), what this import
wrote is undone before the error is raised: nothing is left half imported.

One row is one member, matched by ``member_id`` or else by name; ``cards`` is the
member's whole card list (a row without the column leaves the cards alone);
``authorizations`` lists machine types (or ``device:<id>``) each with an optional
``@expiry``; listed ones are granted or renewed, others are never revoked.

Card uids are personal data: the report names a card masked (``mask_card``), the
log says only counts. An export neutralizes cells a spreadsheet would run as a
formula (a leading ``'``), and an import reads that quote back off.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
import csv
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
import io
import logging
from typing import TYPE_CHECKING, Any, Final

from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util
import probatio as vol

from custom_components.fluxilab.const import DOMAIN

from . import admin
from .credentials import mask_card
from .errors import AccessValidationError
from .lab_models import Authorization, hh_mm
from .member_models import Member
from .roles import Role

if TYPE_CHECKING:
    from .lab import Lab

_LOGGER = logging.getLogger(__name__)

COLUMNS: Final = (
    "member_id",
    "name",
    "email",
    "role",
    "active",
    "cards",
    "authorizations",
)
"""The columns, in the order an export writes them; ``name`` is the one required."""
MAX_IMPORT_BYTES: Final = 1024 * 1024
"""The largest CSV an import reads (checked before parsing)."""
MAX_IMPORT_ROWS: Final = 5000
"""The most members one import takes."""
MAX_NAME: Final = 100
MAX_EMAIL: Final = 254
MAX_CARD: Final = 64
LIST_SEPARATOR: Final = ";"
EXPIRY_SEPARATOR: Final = "@"
DEVICE_PREFIX: Final = "device:"
FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a cell as a formula (OWASP's CSV injection list)."""
NEUTRALIZER: Final = "'"


class RowAction(StrEnum):
    """What an import does with one row."""

    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    REJECT = "reject"


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a row is refused: a translated exception of the integration."""

    error: AccessValidationError

    def as_wire(self) -> dict[str, Any]:
        """Return the reason as websocket errors carry it, with its English text."""
        return {
            "translation_domain": DOMAIN,
            "translation_key": self.error.translation_key,
            "translation_placeholders": dict(self.error.translation_placeholders or {}),
            "message": str(self.error),
        }


@dataclass(slots=True, kw_only=True)
class PlannedGrant:
    """One authorization of a row: new, renewed (new expiry) or as it is."""

    target: str
    """As the CSV names it: a machine type id, or ``device:<id>``."""
    machine_type_id: str | None = None
    device_id: str | None = None
    expires: datetime | None = None
    """In UTC, as stored (None: never)."""
    existing: Authorization | None = None
    """The authorization it renews, if the member has one for the target."""

    @property
    def action(self) -> RowAction:
        """Create, update (a new expiry) or unchanged."""
        if self.existing is None:
            return RowAction.CREATE
        if self.existing.expires != self.expires:
            return RowAction.UPDATE
        return RowAction.UNCHANGED

    def grant(self, member_id: str) -> admin.Grant:
        """Return the admin API's request (an existing window kept: it is renewed)."""
        fields = {"expires": None if self.expires is None else self.expires.isoformat()}
        if self.existing is not None and self.existing.window_start is not None:
            start, end = self.existing.window_start, self.existing.window_end
            fields["window_start"] = hh_mm(start)
            fields["window_end"] = None if end is None else hh_mm(end)
        return admin.Grant(
            member_ids=(member_id,),
            machine_type_id=self.machine_type_id,
            device_id=self.device_id,
            fields=fields,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberFields:
    """The member fields a row writes: all it gives for a new member, else the changes.

    A column not in ``given`` is left alone; ``email`` given as None clears it. The
    name, e-mail and cards are personal: none is in the repr.
    """

    given: frozenset[str] = frozenset()
    name: str = field(default="", repr=False)
    email: str | None = field(default=None, repr=False)
    role: str | None = None
    active: bool | None = None
    cards: tuple[str, ...] = field(default=(), repr=False)

    def changed(self, columns: Iterable[str]) -> MemberFields:
        """Return these fields with only ``columns`` given (of those given)."""
        return replace(self, given=self.given & frozenset(columns))

    def as_dict(self) -> dict[str, Any]:
        """Return the fields given, as the admin API and the member collection take them."""
        stored: dict[str, Any] = {
            "name": self.name,
            "email": self.email,
            "role": self.role,
            "active": self.active,
            "cards": list(self.cards),
        }
        return {key: value for key, value in stored.items() if key in self.given}


@dataclass(slots=True, kw_only=True)
class PlannedRow:
    """One row of the file and what the import does with it."""

    line: int
    action: RowAction
    name: str | None = field(default=None, repr=False)
    member_id: str | None = None
    """The member it changes (None: a new member)."""
    fields: MemberFields = field(default_factory=MemberFields)
    """The member's fields to create, or only those that change."""
    grants: list[PlannedGrant] = field(default_factory=list)
    rejection: Rejection | None = None

    def as_wire(self) -> dict[str, Any]:
        """Return the row as reported (cards only counted, never shown)."""
        row: dict[str, Any] = {
            "line": self.line,
            "action": self.action.value,
            "name": self.name,
            "member_id": self.member_id,
            "changes": sorted(self.fields.given),
            "authorizations": [
                {"target": g.target, "action": g.action.value}
                for g in self.grants
                if g.action is not RowAction.UNCHANGED
            ],
        }
        if "cards" in self.fields.given:
            row["cards"] = len(self.fields.cards)
        if self.rejection is not None:
            row["reason"] = self.rejection.as_wire()
        return row


@dataclass(slots=True)
class ImportPlan:
    """Every row of a file, planned."""

    rows: list[PlannedRow]

    @property
    def rejected(self) -> list[PlannedRow]:
        """The rows refused."""
        return [row for row in self.rows if row.action is RowAction.REJECT]

    @property
    def writes(self) -> list[PlannedRow]:
        """The rows that change something."""
        return [
            row
            for row in self.rows
            if row.action in (RowAction.CREATE, RowAction.UPDATE)
        ]


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportReport:
    """What an import did, or would do, row by row."""

    plan: ImportPlan
    dry_run: bool
    strict: bool
    applied: bool

    def as_wire(self) -> dict[str, Any]:
        """Return the report as the doors answer it (cards only counted)."""
        summary = {action.value: 0 for action in RowAction}
        for row in self.plan.rows:
            summary[row.action.value] += 1
        return {
            "dry_run": self.dry_run,
            "strict": self.strict,
            "applied": self.applied,
            "summary": summary,
            "rows": [row.as_wire() for row in self.plan.rows],
        }


# Reading a file ---------------------------------------------------------------------


def check_size(text: str) -> None:
    """Refuse a file above the cap, before anything parses it."""
    if len(text) > MAX_IMPORT_BYTES or len(text.encode()) > MAX_IMPORT_BYTES:
        raise AccessValidationError("import_too_large", max=str(MAX_IMPORT_BYTES))


def _cell(value: str | None) -> str:
    """Return a cell stripped, an export's formula guard read back off."""
    text = (value or "").strip()
    if text.startswith(NEUTRALIZER) and text[1:2] and text[1] in FORMULA_START:
        return text[1:]
    return text


def read_rows(text: str) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Return the header and the rows (with their line numbers), cells stripped."""
    check_size(text)
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    try:
        header = [cell.strip().lower() for cell in next(reader, [])]
        if not any(header):
            raise AccessValidationError("import_empty")
        if unknown := [c for c in header if c not in COLUMNS]:
            raise AccessValidationError("import_unknown_column", column=unknown[0][:40])
        if len(set(header)) != len(header):
            repeated = next(c for c in header if header.count(c) > 1)
            raise AccessValidationError("import_repeated_column", column=repeated)
        if "name" not in header:
            raise AccessValidationError("import_missing_column", column="name")
        rows: list[tuple[int, dict[str, str]]] = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= MAX_IMPORT_ROWS:
                raise AccessValidationError(
                    "import_too_many_rows", max=str(MAX_IMPORT_ROWS)
                )
            row = {
                column: _cell(cells[i] if i < len(cells) else "")
                for i, column in enumerate(header)
            }
            if any(cell.strip() for cell in cells[len(header) :]):
                row[""] = "extra"  # refused when planned, with its line
            rows.append((reader.line_num, row))
    except csv.Error as err:
        raise AccessValidationError(
            "import_unreadable", line=str(reader.line_num)
        ) from err
    return header, rows


# Planning -----------------------------------------------------------------------------


def same_name(name: str) -> str:
    """Return a name as two names are compared: spaces and case aside."""
    return " ".join(name.split()).casefold()


def _expiry(value: str, target: str) -> datetime | None:
    """Return an expiry in UTC, as stored; a date alone is its day's end."""
    if not value:
        return None
    text = f"{value}T23:59:59" if len(value) == len("2026-12-31") else value
    try:
        parsed = cv.datetime(text)
    except vol.Invalid as err:
        raise AccessValidationError(
            "import_bad_expiry", value=value[:40], target=target[:100]
        ) from err
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt_util.get_default_time_zone())
    return dt_util.as_utc(parsed)


def _column_value(member: Member | MemberFields, column: str) -> str | bool | None:
    """Return a member's (or a row's) value of a column compared (``cards`` aside)."""
    match column:
        case "name":
            return member.name
        case "email":
            return member.email
        case "role":
            return member.role
        case "active":
            return member.active
    raise KeyError(column)


def _wanted(fields: MemberFields, column: str) -> bool:
    """Return True unless the row gives ``column`` empty (only an e-mail can be)."""
    return column == "cards" or _column_value(fields, column) is not None


def _boolean(value: str, column: str) -> bool:
    try:
        return bool(cv.boolean(value))
    except vol.Invalid as err:
        raise AccessValidationError("import_invalid_field", field=column) from err


def _text(value: str, column: str, most: int) -> str:
    if len(value) > most:
        raise AccessValidationError("import_too_long", field=column, max=str(most))
    return value


class _Planner:
    """Plans rows in order; each sees what the accepted rows before it take."""

    def __init__(
        self,
        lab: Lab,
        header: Iterable[str],
        pending_types: Iterable[str] = (),
        pending_roles: Iterable[str] = (),
    ) -> None:
        self.lab = lab
        self.header = set(header)
        self.pending_types = {same_name(name) for name in pending_types}
        """Names of machine types a dry run takes as made (another import's)."""
        self.roles = {r.value for r in Role} | set(lab.roles.data) | set(pending_roles)
        """Role ids a row may name: built in, the lab's own, a dry run's pending."""
        self.members = {member.id: member for member in lab.members.members()}
        self.card_owner = {
            card: member.id
            for member in self.members.values()
            for card in member.cards(active_only=False)
        }
        self.by_name: dict[str, list[str]] = {}
        for member in self.members.values():
            self.by_name.setdefault(same_name(member.name), []).append(member.id)
        self.types_by_name = {
            same_name(str(t["name"])): t["id"] for t in lab.machine_types.data.values()
        }
        self.seen_members: dict[str, int] = {}
        """Member id, or "name:" + name of a new one -> the line that took it."""
        self.seen_cards: dict[str, int] = {}
        self.released_cards: set[str] = set()
        """Cards an earlier row takes from their member: a later row may give them."""

    def plan(self, line: int, row: Mapping[str, str]) -> PlannedRow:
        try:
            planned = self._plan(line, row)
        except AccessValidationError as err:
            # A row's first failing check: its reason, and planning goes on.
            return PlannedRow(
                line=line,
                action=RowAction.REJECT,
                name=row.get("name") or None,
                member_id=row.get("member_id") or None,
                rejection=Rejection(err),
            )
        # Only an accepted row takes its member, its name (a member's new one too)
        # and its cards from the rows after it.
        if planned.member_id is not None:
            self.seen_members[planned.member_id] = line
        if planned.member_id is None or "name" in planned.fields.given:
            self.seen_members[f"name:{same_name(planned.name or '')}"] = line
        for card in self._cards_of(planned):
            self.seen_cards[card] = line
        if planned.member_id is not None and "cards" in planned.fields.given:
            held = self.members[planned.member_id].cards(active_only=False)
            self.released_cards |= set(held) - set(planned.fields.cards)
        return planned

    def _cards_of(self, planned: PlannedRow) -> list[str]:
        if "cards" in planned.fields.given:
            return list(planned.fields.cards)
        if planned.member_id is not None:
            return self.members[planned.member_id].cards(active_only=False)
        return []

    def _member(self, row: Mapping[str, str], name: str) -> str | None:
        """Return the member the row changes (None: a new one)."""
        if member_id := row.get("member_id", ""):
            if member_id not in self.members:
                raise AccessValidationError("unknown_member", member=member_id[:100])
        else:
            found = self.by_name.get(same_name(name), [])
            if len(found) > 1:
                raise AccessValidationError("import_ambiguous_name", name=name)
            member_id = found[0] if found else ""
        key = member_id or f"name:{same_name(name)}"
        if (earlier := self.seen_members.get(key)) is not None:
            raise AccessValidationError("import_repeated_member", line=str(earlier))
        return member_id or None

    def _plan(self, line: int, row: Mapping[str, str]) -> PlannedRow:
        if "" in row:
            raise AccessValidationError("import_extra_cells")
        if not (name := _text(row.get("name", ""), "name", MAX_NAME)):
            raise AccessValidationError("import_missing_name")
        member_id = self._member(row, name)
        given = {"name"}
        email = role = None
        active = None
        cards: list[str] = []
        if "email" in self.header:
            email = _text(row.get("email", ""), "email", MAX_EMAIL) or None
            given.add("email")
        if role_cell := row.get("role", ""):
            if role_cell.lower() not in self.roles:
                raise AccessValidationError("import_invalid_field", field="role")
            role = role_cell.lower()
            given.add("role")
        if active_cell := row.get("active", ""):
            active = _boolean(active_cell, "active")
            given.add("active")
        if "cards" in self.header:
            cards = self._cards(row.get("cards", ""), member_id)
            given.add("cards")
        wanted = MemberFields(
            given=frozenset(given),
            name=name,
            email=email,
            role=role,
            active=active,
            cards=tuple(cards),
        )
        if member_id is not None and name != self.members[member_id].name:
            taken = self.by_name.get(same_name(name), [])
            if any(other != member_id for other in taken):
                raise AccessValidationError("member_name_taken", name=name)
        if member_id is not None and same_name(name) != same_name(
            self.members[member_id].name
        ):
            # Renamed: to a name no earlier row gave (two members may share a
            # name the lab confirmed, as long as no import makes it so).
            earlier = self.seen_members.get(f"name:{same_name(name)}")
            if earlier is not None:
                raise AccessValidationError("import_repeated_member", line=str(earlier))
        fields = self._changes(member_id, wanted)
        self._check_schema(member_id, fields)
        grants = self._grants(row.get("authorizations", ""), member_id)
        if member_id is None:
            action = RowAction.CREATE
        elif fields.given or any(g.action is not RowAction.UNCHANGED for g in grants):
            action = RowAction.UPDATE
        else:
            action = RowAction.UNCHANGED
        return PlannedRow(
            line=line,
            action=action,
            name=name,
            member_id=member_id,
            fields=fields,
            grants=grants,
        )

    def _cards(self, cell: str, member_id: str | None) -> list[str]:
        cards = [c.strip() for c in cell.split(LIST_SEPARATOR) if c.strip()]
        for card in cards:
            if len(card) > MAX_CARD:
                raise AccessValidationError(
                    "import_too_long", field="cards", max=str(MAX_CARD)
                )
        if len(set(cards)) != len(cards):
            repeated = next(c for c in cards if cards.count(c) > 1)
            raise AccessValidationError("card_duplicate", card=mask_card(repeated))
        for card in cards:
            if (earlier := self.seen_cards.get(card)) is not None:
                raise AccessValidationError(
                    "import_repeated_card", card=mask_card(card), line=str(earlier)
                )
            owner = self.card_owner.get(card)
            if (
                owner is not None
                and owner != member_id
                and card not in self.released_cards
            ):
                raise AccessValidationError("card_in_use", card=mask_card(card))
        return cards

    def _changes(self, member_id: str | None, wanted: MemberFields) -> MemberFields:
        """All of ``wanted`` for a new member (no empty e-mail); what differs else."""
        if member_id is None:
            return wanted.changed(c for c in wanted.given if _wanted(wanted, c))
        member = self.members[member_id]
        changes = []
        for column in wanted.given:
            if column == "cards":
                held = member.cards(active_only=False)
                if sorted(held) != sorted(wanted.cards):
                    changes.append(column)
            elif _column_value(member, column) != _column_value(wanted, column):
                changes.append(column)
        return wanted.changed(changes)

    @staticmethod
    def _check_schema(member_id: str | None, fields: MemberFields) -> None:
        """Check the fields by the store's own rules (an email's type, a card's)."""
        schema = admin.CREATE_FIELDS if member_id is None else admin.CHANGE_FIELDS
        try:
            vol.Schema(schema)(fields.as_dict())
        except vol.Invalid as err:
            column = str(err.path[0]) if err.path else "name"
            raise AccessValidationError("import_invalid_field", field=column) from err

    def _grants(self, cell: str, member_id: str | None) -> list[PlannedGrant]:
        grants: list[PlannedGrant] = []
        targets: set[str] = set()
        for entry in (e.strip() for e in cell.split(LIST_SEPARATOR)):
            if not entry:
                continue
            target, _sep, expiry = entry.partition(EXPIRY_SEPARATOR)
            target = target.strip()
            grant = self._target(target)
            grant.expires = _expiry(expiry.strip(), target)
            key = grant.machine_type_id or f"{DEVICE_PREFIX}{grant.device_id}"
            if key in targets:
                raise AccessValidationError(
                    "import_repeated_authorization", target=target[:100]
                )
            targets.add(key)
            if member_id is not None:
                grant.existing = self._existing(member_id, grant)
            grants.append(grant)
        return grants

    def _target(self, target: str) -> PlannedGrant:
        if target.startswith(DEVICE_PREFIX):
            device_id = target.removeprefix(DEVICE_PREFIX)
            if self.lab.device(device_id) is None:
                raise AccessValidationError("unknown_device", device=device_id[:100])
            return PlannedGrant(target=target, device_id=device_id)
        if same_name(target) in self.pending_types:
            return PlannedGrant(target=target, machine_type_id=target)
        types = self.lab.machine_types.data
        type_id = (
            target if target in types else self.types_by_name.get(same_name(target))
        )
        if type_id is None:
            raise AccessValidationError(
                "unknown_machine_type", machine_type=target[:100]
            )
        return PlannedGrant(target=type_id, machine_type_id=type_id)

    def _existing(self, member_id: str, grant: PlannedGrant) -> Authorization | None:
        """Return the member's authorization for the target (unwindowed first)."""
        same = [
            a
            for a in self.lab.authorizations.typed_of_member(member_id)
            if a.machine_type_id == grant.machine_type_id
            and a.device_id == grant.device_id
        ]
        same.sort(key=lambda a: a.window_start is not None)
        return same[0] if same else None


def plan_import(
    lab: Lab,
    text: str,
    pending_types: Iterable[str] = (),
    pending_roles: Iterable[str] = (),
) -> ImportPlan:
    """Read and plan a CSV import; nothing is written."""
    header, rows = read_rows(text)
    planner = _Planner(lab, header, pending_types, pending_roles)
    return ImportPlan([planner.plan(line, row) for line, row in rows])


# Applying -----------------------------------------------------------------------------


@dataclass(slots=True)
class _Undo:
    """What an import wrote, to take back in reverse if a later write fails."""

    created_members: list[str] = field(default_factory=list)
    changed_members: list[tuple[Member, frozenset[str]]] = field(default_factory=list)
    """Each member as it was before the import changed it, and what it changed."""
    created_authorizations: list[str] = field(default_factory=list)
    changed_authorizations: list[tuple[str, str | None]] = field(default_factory=list)
    """Each renewed authorization's id and its expiry as stored before."""
    steps: list[tuple[str, int]] = field(default_factory=list)
    """(what was written, its index in the list above), in write order."""

    async def async_rollback(self, lab: Lab) -> None:
        for kind, index in reversed(self.steps):
            try:
                await self._undo(lab, kind, index)
            except Exception:  # undo what can be undone
                _LOGGER.exception("Could not undo one write of a member import")

    async def _undo(self, lab: Lab, kind: str, index: int) -> None:
        if kind == "member_created":
            member_id = self.created_members[index]
            if member_id in lab.members.data:
                await lab.members.async_delete_item(member_id)
        elif kind == "member_changed":
            before, keys = self.changed_members[index]
            restore = {
                key: _column_value(before, key) for key in keys if key != "cards"
            }
            cards = (
                {"credentials": [c.as_dict() for c in before.credentials]}
                if "cards" in keys
                else {}
            )
            await lab.members.async_update_item(before.id, {**restore, **cards})
        elif kind == "authorization_created":
            auth_id = self.created_authorizations[index]
            if auth_id in lab.authorizations.data:
                await lab.authorizations.async_delete_item(auth_id)
        else:
            auth_id, expires = self.changed_authorizations[index]
            await lab.authorizations.async_update_item(auth_id, {"expires": expires})


async def _async_write(lab: Lab, row: PlannedRow, undo: _Undo) -> None:
    member_id = row.member_id
    if member_id is None:
        created = await admin.async_create_member(
            lab.members, admin.MemberCreate(fields=row.fields.as_dict())
        )
        member_id = created.member_id
        undo.steps.append(("member_created", len(undo.created_members)))
        undo.created_members.append(member_id)
    elif row.fields.given:
        before = lab.members.known(member_id)
        await admin.async_update_member(
            lab.members,
            admin.MemberUpdate(member_id=member_id, fields=row.fields.as_dict()),
        )
        undo.steps.append(("member_changed", len(undo.changed_members)))
        undo.changed_members.append((before, row.fields.given))
    for grant in row.grants:
        if grant.action is RowAction.UNCHANGED:
            continue
        if grant.existing is not None:
            auth_id = grant.existing.id
            expired = lab.authorizations.data[auth_id].get("expires")
            await admin.async_grant(lab, grant.grant(member_id))
            undo.steps.append(
                ("authorization_changed", len(undo.changed_authorizations))
            )
            undo.changed_authorizations.append((auth_id, expired))
            continue
        (auth,) = await admin.async_grant(lab, grant.grant(member_id))
        undo.steps.append(("authorization_created", len(undo.created_authorizations)))
        undo.created_authorizations.append(auth.id)


async def async_import(
    lab: Lab,
    text: str,
    *,
    dry_run: bool,
    strict: bool = True,
    pending_types: Iterable[str] = (),
    pending_roles: Iterable[str] = (),
    then: Callable[[], Awaitable[None]] | None = None,
) -> ImportReport:
    """Plan a CSV import and, unless a dry run, apply it; return the report.

    Strict: any rejected row and nothing is written. A write that fails midway is
    undone with everything this import wrote before it, then raised. ``then`` runs
    once the rows are written (even if none changed anything): what a caller writes
    with the members in place (a Fab-O-Matic import's history); if it raises, the
    rows are undone too and its error raised.
    """
    plan = plan_import(
        lab,
        text,
        pending_types if dry_run else (),
        pending_roles if dry_run else (),
    )
    if dry_run or (strict and plan.rejected) or (not plan.writes and then is None):
        return ImportReport(plan=plan, dry_run=dry_run, strict=strict, applied=False)
    undo = _Undo()
    for row in plan.writes:
        try:
            await _async_write(lab, row, undo)
        except Exception as err:
            await undo.async_rollback(lab)
            _LOGGER.warning(
                "Member import undone: line %d failed after %d writes",
                row.line,
                len(undo.steps),
            )
            key = err.translation_key if isinstance(err, HomeAssistantError) else None
            raise AccessValidationError(
                "import_rolled_back",
                line=str(row.line),
                error=key or type(err).__name__,
            ) from err
    if then is not None:
        try:
            await then()
        except BaseException:
            await undo.async_rollback(lab)
            _LOGGER.warning("Member import undone: what followed it failed")
            raise
    _LOGGER.info(
        "Member import: %d rows written, %d rejected",
        len(plan.writes),
        len(plan.rejected),
    )
    return ImportReport(
        plan=plan, dry_run=False, strict=strict, applied=bool(plan.writes)
    )


# Exporting ----------------------------------------------------------------------------


def neutralize(value: str) -> str:
    """Return a cell a spreadsheet shows as text, never runs as a formula."""
    return NEUTRALIZER + value if value.startswith(FORMULA_START) else value


def export_csv(lab: Lab) -> str:
    """Every member, their cards and authorizations, in the import's format."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    members = sorted(lab.members.members(), key=lambda m: (same_name(m.name), m.id))
    for member in members:
        authorizations = []
        for auth in sorted(
            lab.authorizations.of_member(member.id),
            key=lambda a: (a.get("machine_type_id") or "", a.get("device_id") or ""),
        ):
            target = auth.get("machine_type_id") or (
                f"{DEVICE_PREFIX}{auth.get('device_id')}"
            )
            if expires := auth.get("expires"):
                target = f"{target}{EXPIRY_SEPARATOR}{expires}"
            authorizations.append(target)
        cells = (
            member.id,
            member.name,
            member.email or "",
            member.role,
            "true" if member.active else "false",
            LIST_SEPARATOR.join(member.cards(active_only=False)),
            LIST_SEPARATOR.join(dict.fromkeys(authorizations)),
        )
        writer.writerow([neutralize(str(cell)) for cell in cells])
    return out.getvalue()
