"""A lab moving from Fab-O-Matic's backend: its database read into FluxiLab.

The backend (fablab-bergamo's FabOMatic) keeps a SQLite database: ``roles`` (with
the flags ``authorize_all``, ``maintenance``, ``backend_admin``), ``users`` (name,
surname, one ``card_UUID``, ``disabled``, ``deleted``, email), ``machine_types``
(timeout and grace in minutes, whether authorizations are needed), ``machines``
(with their ``machine_hours``), per-machine ``authorizations``, and history
(``uses``, ``maintenances``, ``interventions``, ``unknown_cards``, ``boards``). This
module reads it read-only, maps what FluxiLab has a place for, and says what it
cannot map:

- machine types by name (an existing FluxiLab type of the same name is reused);
  grace periods over FluxiLab's day are capped and reported;
- users as members through the CSV import (member_import.py), so the same row
  checks, dry run, strict mode and undo apply; "name surname" is the member's name
  (FluxiLab keeps one name);
- roles by their flags: all three set is the built-in admin, ``maintenance`` alone
  staff, none user; any other set of flags becomes a lab role of its own of the same
  name (``authorize_all``, ``maintenance``, and ``backend_admin`` as ``manage``; an
  existing lab role of that name is reused);
- a per-machine authorization as its machine type's when the user may use every
  machine of that type, else as the adopted board's device; a machine no FluxiLab
  device adopted cannot be mapped and is reported;
- maintenance plans (``maintenances``: hours between, description, LCD message,
  instructions) onto their machine type's plan: the plan most of its machines
  share; a machine's other or different plans are reported, and so is a FluxiLab
  type that has a plan already (kept);
- the history onto each machine's device: the adopted board's, else the id its
  board gets once adopted (``fabomatic-<machine id>``, reported). Uses become
  closed sessions (a replayed use as buffered), interventions audit entries of kind
  ``maintenance`` with the hours then and the plan's description as note, unknown
  cards the unknown-cards list (not those a user holds, nor those the retention
  would drop at once), machine hours the device's usage hours (and the hours since
  its last intervention the counter towards the next).

Sessions and interventions carry their Fab-O-Matic row as ``import_id``
(``fabomatic-use-<id>``, ``fabomatic-intervention-<id>``) and go into the history
database in one transaction; an import run again skips what an earlier one wrote,
and adds to the usage hours only what the backend counted since. Boards stay in the
Fab-O-Matic database (counted).

Each row is read once, at the edge, into a frozen model (``FabUser``, ``FabUse``,
``FabIntervention``, ...); planning and writing work on those and on the typed plan
(``TypeMapping``, ``ImportedSession``, ...). Dicts are made only where they leave:
the stores' and the history's entries (``as_dict``) and the reply (``as_wire``).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Mapping
import csv
from dataclasses import dataclass, field, replace
import io
from itertools import accumulate
from pathlib import Path
import sqlite3
import time
from typing import TYPE_CHECKING, Any, Final, Literal

import voluptuous as vol

from custom_components.fluxilab.const import CONF_FABOMATIC_MACHINE
from custom_components.fluxilab.history_db import (
    AuditEntry,
    ImportBatch,
    ImportPrefixes,
    SessionRecord,
    UnknownCard as SeenCard,
)
from custom_components.fluxilab.protocol.fabomatic import (
    card_uid,
    device_id as board_device_id,
    valid_machine_id,
)
from custom_components.fluxilab.protocol.schemas import (
    MAX_MAINTENANCE_MESSAGE,
    MAX_MAINTENANCE_TEXT,
    valid_ui_url,
)

from . import maintenance, member_import
from .const import MAX_GRACE_PERIOD, SessionEnd
from .errors import AccessValidationError
from .roles import Role, RoleFlags

if TYPE_CHECKING:
    from .lab import Lab

TABLES: Final = ("roles", "users", "machine_types", "machines", "authorizations")
"""What a Fab-O-Matic database must have to be read."""
HISTORY: Final = ("uses", "maintenances", "interventions", "unknown_cards")
"""History the import brings over, when the database has it."""
COUNTED: Final = ("boards",)
"""What the import reports and leaves in the Fab-O-Matic database."""
MAX_GRACE_SECONDS: Final = MAX_GRACE_PERIOD
MIN_TIMEOUT_SECONDS: Final = 10
MAX_TIMEOUT_SECONDS: Final = 7 * 86400
WITHOUT_AUTHORIZATION: Final = 1
"""Fab-O-Matic's ``access_management`` for a type anyone may use."""
BUILT_IN_ROLES: Final[dict[tuple[bool, bool, bool], Role]] = {
    (True, True, True): Role.ADMIN,
    (False, True, False): Role.STAFF,
    (False, False, False): Role.USER,
}
"""Fab-O-Matic's flags (authorize_all, maintenance, backend_admin) of the roles that
are a built-in one."""
USE_PREFIX: Final = "fabomatic-use-"
INTERVENTION_PREFIX: Final = "fabomatic-intervention-"
PREFIXES: Final = ImportPrefixes(
    sessions=USE_PREFIX, audit=INTERVENTION_PREFIX, audit_kind=maintenance.KIND
)
"""Where an earlier import's entries are found (HistoryDatabase.imported_ids)."""
SOURCE: Final = "fabomatic"
"""The ``imported`` mark of an entry this import wrote."""
PLAN_FIELDS: Final = (
    "maintenance_interval",
    "maintenance_description",
    "maintenance_url",
    "maintenance_message",
)
MIN_INTERVAL: Final = 0.1
"""The shortest maintenance interval a machine type takes (store.py)."""
DAY: Final = 86400.0

type Note = dict[str, str | int | float]
"""One line of the report's ``not_mapped``: ``what``, and what it concerns."""
type Action = Literal["create", "existing"]
"""What the import does about a machine type or role: make it, or reuse the lab's."""


# The Fab-O-Matic database, read once -------------------------------------------


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _minutes(value: Any, default: float) -> float:
    return float(value) * 60 if isinstance(value, int | float) else default


def _int(value: Any) -> int | None:
    """Return a column meant to hold an id, None if it holds none."""
    return value if isinstance(value, int) else None


def _text(value: Any) -> str:
    return str(value or "")


def _card(value: Any) -> str:
    """Return a card as boards send it (lowercase hex, 8 digits at least), else as stored.

    The reference backend keeps a uid as it was typed or received: an uppercase
    ``04AABBCC`` would never match the ``04aabbcc`` a board asks about.
    """
    try:
        return card_uid(value)
    except vol.Invalid:
        return str(value).strip()


@dataclass(frozen=True, slots=True, kw_only=True)
class FabRole:
    """A Fab-O-Matic role: its name and its flags."""

    role_id: int
    name: str | None
    flags: tuple[bool, bool, bool]
    """(authorize_all, maintenance, backend_admin)."""

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> FabRole:
        """Read a ``roles`` row."""
        name = row.get("role_name")
        return cls(
            role_id=row["role_id"],
            name=str(name) if name else None,
            flags=(
                bool(row.get("authorize_all")),
                bool(row.get("maintenance")),
                bool(row.get("backend_admin")),
            ),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class FabUser:
    """A Fab-O-Matic user: the member it becomes."""

    user_id: int
    name: str
    """Name and surname, as FluxiLab keeps one name."""
    has_surname: bool
    email: str
    role_id: int | None
    card: str | None
    """As boards send it (``_card``)."""
    disabled: bool
    deleted: bool

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> FabUser:
        """Read a ``users`` row."""
        card = row.get("card_UUID")
        return cls(
            user_id=row["user_id"],
            name=" ".join(
                str(part).strip()
                for part in (row.get("name"), row.get("surname"))
                if part and str(part).strip()
            ),
            has_surname=bool(row.get("surname")),
            email=_text(row.get("email")),
            role_id=_int(row.get("role_id")),
            card=_card(card) if card else None,
            disabled=bool(row.get("disabled")),
            deleted=bool(row.get("deleted")),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class FabMachineType:
    """A Fab-O-Matic machine type, its times in seconds."""

    type_id: int
    name: str
    session_timeout: float
    grace_period: float
    without_authorization: bool
    """Anyone may use its machines (``access_management``)."""

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> FabMachineType:
        """Read a ``machine_types`` row."""
        return cls(
            type_id=row["type_id"],
            name=str(row["type_name"]),
            session_timeout=_minutes(row.get("type_timeout_min"), 900),
            grace_period=_minutes(row.get("grace_period_min"), 120),
            without_authorization=row.get("access_management") == WITHOUT_AUTHORIZATION,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class FabMachine:
    """A Fab-O-Matic machine and the hours it counted."""

    machine_id: int
    name: str
    type_id: int | None
    hours: float

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> FabMachine:
        """Read a ``machines`` row."""
        return cls(
            machine_id=row["machine_id"],
            name=str(row.get("machine_name") or row["machine_id"]),
            type_id=_int(row.get("machine_type_id")),
            hours=_number(row.get("machine_hours")) or 0.0,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class FabUse:
    """A use of a machine: a session once imported."""

    use_id: int
    user_id: int | None
    machine_id: int | None
    start: float | None
    end: float | None
    """None: never stopped (the board went away)."""
    last_seen: float | None
    replay: bool
    """Recorded offline by the board and replayed."""

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> FabUse:
        """Read a ``uses`` row."""
        return cls(
            use_id=row["use_id"],
            user_id=_int(row.get("user_id")),
            machine_id=_int(row.get("machine_id")),
            start=_number(row.get("start_timestamp")),
            end=_number(row.get("end_timestamp")),
            last_seen=_number(row.get("last_seen")),
            replay=bool(row.get("replay")),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class FabMaintenance:
    """A machine's maintenance plan, its texts as stored."""

    maintenance_id: int
    machine_id: int | None
    hours_between: float | None
    description: str
    lcd_message: str
    instructions_url: str

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> FabMaintenance:
        """Read a ``maintenances`` row."""
        return cls(
            maintenance_id=row["maintenance_id"],
            machine_id=_int(row.get("machine_id")),
            hours_between=_number(row.get("hours_between")),
            description=_text(row.get("description")),
            lcd_message=_text(row.get("lcd_message")),
            instructions_url=_text(row.get("instructions_url")).strip(),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class FabIntervention:
    """A maintenance done on a machine."""

    intervention_id: int
    maintenance_id: int | None
    machine_id: int | None
    user_id: int | None
    ts: float | None
    replay: bool

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> FabIntervention:
        """Read an ``interventions`` row."""
        return cls(
            intervention_id=row["intervention_id"],
            maintenance_id=_int(row.get("maintenance_id")),
            machine_id=_int(row.get("machine_id")),
            user_id=_int(row.get("user_id")),
            ts=_number(row.get("timestamp")),
            replay=bool(row.get("replay")),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class FabUnknownCard:
    """A card a machine saw that no user held then."""

    card: str
    ts: float | None
    machine_id: int | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> FabUnknownCard:
        """Read an ``unknown_cards`` row."""
        card = row.get("card_UUID")
        return cls(
            card=_card(card).strip() if card else "",
            ts=_number(row.get("timestamp")),
            machine_id=_int(row.get("machine_id")),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class FabOMaticData:
    """What a Fab-O-Matic database holds, read once (``read_database``)."""

    roles: Mapping[int, FabRole]
    users: tuple[FabUser, ...]
    machine_types: Mapping[int, FabMachineType]
    machines: Mapping[int, FabMachine]
    authorizations: tuple[tuple[int, int], ...]
    """(user_id, machine_id)."""
    counts: Mapping[str, int] = field(default_factory=dict)
    uses: tuple[FabUse, ...] = ()
    maintenances: Mapping[int, FabMaintenance] = field(default_factory=dict)
    interventions: tuple[FabIntervention, ...] = ()
    unknown_cards: tuple[FabUnknownCard, ...] = ()


def _rows(db: sqlite3.Connection, table: str) -> list[dict[str, Any]]:
    cursor = db.execute(f'SELECT * FROM "{table}"')  # noqa: S608  # a fixed name
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def read_database(path: Path) -> FabOMaticData:
    """Read a Fab-O-Matic database, never writing to it (run in the executor)."""
    if not path.is_file():
        raise AccessValidationError("fabomatic_no_database", path=path.name)
    try:
        db = sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error as err:
        raise AccessValidationError("fabomatic_no_database", path=path.name) from err
    try:
        tables = {
            row[0]
            for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        if missing := [t for t in TABLES if t not in tables]:
            raise AccessValidationError("fabomatic_missing_table", table=missing[0])
        history = {t: _rows(db, t) if t in tables else [] for t in HISTORY}
        roles = map(FabRole.from_row, _rows(db, "roles"))
        machine_types = map(FabMachineType.from_row, _rows(db, "machine_types"))
        machines = map(FabMachine.from_row, _rows(db, "machines"))
        maintenances = map(FabMaintenance.from_row, history["maintenances"])
        return FabOMaticData(
            roles={r.role_id: r for r in roles},
            users=tuple(map(FabUser.from_row, _rows(db, "users"))),
            machine_types={t.type_id: t for t in machine_types},
            machines={m.machine_id: m for m in machines},
            authorizations=tuple(
                (a["user_id"], a["machine_id"]) for a in _rows(db, "authorizations")
            ),
            counts={
                table: db.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]  # noqa: S608
                for table in COUNTED
                if table in tables
            },
            uses=tuple(map(FabUse.from_row, history["uses"])),
            maintenances={m.maintenance_id: m for m in maintenances},
            interventions=tuple(
                map(FabIntervention.from_row, history["interventions"])
            ),
            unknown_cards=tuple(map(FabUnknownCard.from_row, history["unknown_cards"])),
        )
    except sqlite3.DatabaseError as err:
        raise AccessValidationError("fabomatic_no_database", path=path.name) from err
    finally:
        db.close()


# What the import makes of it ------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class MaintenancePlan:
    """A machine type's maintenance plan, as the import maps one."""

    interval: float | None
    description: str | None
    url: str | None
    message: str | None

    @classmethod
    def from_dict(cls, machine_type: Mapping[str, Any]) -> MaintenancePlan:
        """Return the plan a stored machine type has (``PLAN_FIELDS``)."""
        return cls(
            interval=machine_type.get("maintenance_interval"),
            description=machine_type.get("maintenance_description"),
            url=machine_type.get("maintenance_url"),
            message=machine_type.get("maintenance_message"),
        )

    def as_dict(self) -> dict[str, Any]:
        """Return the plan as a stored machine type's fields (``PLAN_FIELDS``)."""
        return {
            "maintenance_interval": self.interval,
            "maintenance_description": self.description,
            "maintenance_url": self.url,
            "maintenance_message": self.message,
        }

    def given(self) -> dict[str, float | str]:
        """Return the fields the plan sets (those it leaves unset left out)."""
        return {k: v for k, v in self.as_dict().items() if v is not None}


@dataclass(frozen=True, slots=True, kw_only=True)
class NewMachineType:
    """A machine type the import creates."""

    name: str
    session_timeout: float
    grace_period: float
    requires_authorization: bool
    plan: MaintenancePlan | None

    def as_dict(self) -> dict[str, Any]:
        """Return the fields it is created with."""
        fields: dict[str, Any] = {
            "name": self.name,
            "session_timeout": self.session_timeout,
            "grace_period": self.grace_period,
        }
        if not self.requires_authorization:
            fields["requires_authorization"] = False
        if self.plan is not None:
            fields.update(self.plan.given())
        return fields


@dataclass(frozen=True, slots=True, kw_only=True)
class TypeMapping:
    """A Fab-O-Matic machine type and the lab's it becomes."""

    name: str
    action: Action
    id: str | None = None
    """The lab's type (one to create: once it is)."""
    create: NewMachineType | None = None
    """The type to create."""
    plan: MaintenancePlan | None = None
    """A plan to give an existing type that has none."""

    def report(self) -> dict[str, str | float]:
        """Return the line of the report: name, action, id and plan interval."""
        item: dict[str, str | float] = {"name": self.name, "action": self.action}
        if self.id is not None:
            item["id"] = self.id
        plan = self.plan or (self.create.plan if self.create is not None else None)
        if plan is not None and plan.interval is not None:
            item["maintenance_interval"] = plan.interval
        return item


@dataclass(frozen=True, slots=True, kw_only=True)
class RoleMapping:
    """A Fab-O-Matic role that is no built-in one, and the lab role it becomes."""

    name: str
    action: Action
    id: str
    """The lab role's (of one to create, the id it will get)."""
    flags: RoleFlags | None = None
    """Of one to create."""

    def as_dict(self) -> dict[str, Any]:
        """Return the fields the lab role is created with."""
        flags = self.flags.as_role() if self.flags is not None else {}
        return {"name": self.name, **flags}

    def report(self) -> dict[str, str]:
        """Return the line of the report: name, action and id."""
        return {"name": self.name, "action": self.action, "id": self.id}


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportedMember:
    """The member an imported user became."""

    id: str
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportedSession:
    """A use as a closed session on its device."""

    import_id: str
    device_id: str
    user_id: int | None
    """Fab-O-Matic's: the member is found when it is written."""
    start: float
    last_seen: float
    end: float
    duration: float
    closed_by: SessionEnd
    buffered: bool

    def as_dict(self, member: ImportedMember | None) -> dict[str, Any]:
        """Return the session entry the history database stores."""
        return {
            "session_id": self.import_id,
            "device_id": self.device_id,
            "card": None,
            "start": self.start,
            "last_seen": self.last_seen,
            "end": self.end,
            "duration": self.duration,
            "closed_by": self.closed_by.value,
            "buffered": self.buffered,
            "imported": SOURCE,
            "import_id": self.import_id,
            "member_id": member.id if member else None,
            "member_name": member.name if member else None,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportedIntervention:
    """An intervention as an audit entry of kind ``maintenance``."""

    import_id: str
    ts: float
    device_id: str
    user_id: int | None
    """Fab-O-Matic's: the member is found when it is written."""
    buffered: bool
    hours: float
    since_maintenance: float
    interval: float | None
    note: str | None

    def as_dict(self, member: ImportedMember | None) -> dict[str, Any]:
        """Return the audit entry the history database stores."""
        return {
            "ts": self.ts,
            "kind": maintenance.KIND,
            "device_id": self.device_id,
            "card": None,
            "reason": None,
            "buffered": self.buffered,
            "hours": self.hours,
            "since_maintenance": self.since_maintenance,
            "interval": self.interval,
            "note": self.note,
            "imported": SOURCE,
            "import_id": self.import_id,
            "member_id": member.id if member else None,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownCard:
    """A card for the unknown-cards list: its latest sighting."""

    card: str
    device_id: str
    ts: float

    def as_dict(self) -> dict[str, Any]:
        """Return the entry as the unknown-cards list stores it."""
        return {"card": self.card, "device_id": self.device_id, "ts": self.ts}


@dataclass(frozen=True, slots=True, kw_only=True)
class MachineHours:
    """A machine's hours, for its device's usage counters."""

    hours: float
    since_maintenance: float
    last_maintenance: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryPlan:
    """The history, each row on its device; members are found when it is written."""

    sessions: tuple[ImportedSession, ...] = ()
    interventions: tuple[ImportedIntervention, ...] = ()
    unknown_cards: tuple[UnknownCard, ...] = ()
    usage: Mapping[str, MachineHours] = field(default_factory=dict)
    """By device id."""
    users: Mapping[int, FabUser] = field(default_factory=dict)
    """The users imported as members, by Fab-O-Matic id."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FabOMaticPlan:
    """What the import makes of a Fab-O-Matic database."""

    machine_types: tuple[TypeMapping, ...]
    roles: tuple[RoleMapping, ...]
    csv_text: str
    """The members, in the CSV import's format."""
    not_mapped: list[Note]
    """What FluxiLab has no place for."""
    history: HistoryPlan


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryReport:
    """What the history would bring (a dry run): new rows, and those here."""

    sessions: int
    sessions_already_imported: int
    interventions: int
    interventions_already_imported: int
    unknown_cards: int
    usage_hours: Mapping[str, float]

    def as_wire(self) -> dict[str, Any]:
        """Return the report's ``history``."""
        return {
            "sessions": self.sessions,
            "sessions_already_imported": self.sessions_already_imported,
            "interventions": self.interventions,
            "interventions_already_imported": self.interventions_already_imported,
            "unknown_cards": self.unknown_cards,
            "usage_hours": dict(self.usage_hours),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryWritten:
    """What the history brought: rows written, cards listed, hours added."""

    sessions: int
    interventions: int
    unknown_cards: int
    usage_hours: Mapping[str, float]
    sessions_without_member: int

    def as_wire(self) -> dict[str, Any]:
        """Return the report's ``history``."""
        return {
            "sessions": self.sessions,
            "interventions": self.interventions,
            "unknown_cards": self.unknown_cards,
            "usage_hours": dict(self.usage_hours),
            "sessions_without_member": self.sessions_without_member,
        }


def _type_fields(
    fab_type: FabMachineType, plan: MaintenancePlan | None, notes: list[Note]
) -> NewMachineType:
    """Return the machine type to create of a Fab-O-Matic one, with its plan."""
    grace = fab_type.grace_period
    if grace > MAX_GRACE_SECONDS:
        notes.append(
            {
                "what": "grace_period_capped",
                "machine_type": fab_type.name,
                "minutes": grace / 60,
            }
        )
        grace = MAX_GRACE_SECONDS
    timeout = fab_type.session_timeout
    return NewMachineType(
        name=fab_type.name,
        session_timeout=min(max(timeout, MIN_TIMEOUT_SECONDS), MAX_TIMEOUT_SECONDS),
        grace_period=grace,
        requires_authorization=not fab_type.without_authorization,
        plan=plan,
    )


def _roles(lab: Lab, data: FabOMaticData) -> dict[int, RoleMapping]:
    """Map Fab-O-Matic's roles that are no built-in one onto lab roles, by id."""
    existing = {
        " ".join(r.name.split()).casefold(): r.id for r in lab.roles.typed().values()
    }
    taken: set[str] = set()
    mapped: dict[int, RoleMapping] = {}
    for role_id, role in sorted(data.roles.items()):
        if role.flags in BUILT_IN_ROLES:
            continue
        name = " ".join((role.name or f"Role {role_id}").split())
        if (found := existing.get(name.casefold())) is not None:
            mapped[role_id] = RoleMapping(name=name, action="existing", id=found)
            continue
        authorize_all, may_maintain, backend_admin = role.flags
        flags = RoleFlags(
            may_maintain=may_maintain,
            bypass_authorization=authorize_all,
            may_supervise=False,
            manage=backend_admin,
        )
        new_id = lab.roles.id_manager.generate_id(name)
        while new_id in taken:  # two Fab-O-Matic roles of names alike
            new_id = f"{new_id}_{role_id}"
        taken.add(new_id)
        existing[name.casefold()] = new_id
        mapped[role_id] = RoleMapping(
            name=name, action="create", id=new_id, flags=flags
        )
    return mapped


def _role(
    role_id: int | None, data: FabOMaticData, lab_roles: Mapping[int, RoleMapping]
) -> str:
    if role_id is None or (role := data.roles.get(role_id)) is None:
        return Role.USER.value
    if (built_in := BUILT_IN_ROLES.get(role.flags)) is not None:
        return built_in.value
    return str(lab_roles[role_id].id)


def _plan_of(row: FabMaintenance, machine: str, notes: list[Note]) -> MaintenancePlan:
    """Return a Fab-O-Matic maintenance as a machine type's plan."""
    hours = row.hours_between
    url = row.instructions_url or None
    if url is not None and not valid_ui_url(url):
        notes.append(
            {
                "what": "maintenance_url_invalid",
                "machine": machine,
                "maintenance_id": row.maintenance_id,
            }
        )
        url = None
    texts: list[str | None] = []
    for column, value, most in (
        ("description", row.description, MAX_MAINTENANCE_TEXT),
        ("lcd_message", row.lcd_message, MAX_MAINTENANCE_MESSAGE),
    ):
        text = value.strip()
        if len(text) > most:
            notes.append(
                {
                    "what": "maintenance_text_cut",
                    "machine": machine,
                    "maintenance_id": row.maintenance_id,
                    "column": column,
                }
            )
            text = (
                text[: most - len(maintenance.ELLIPSIS)].rstrip() + maintenance.ELLIPSIS
            )
        texts.append(text or None)
    description, message = texts
    return MaintenancePlan(
        interval=max(hours, MIN_INTERVAL) if hours else None,
        description=description,
        url=url,
        message=message,
    )


def _type_plans(
    data: FabOMaticData, machines_of_type: dict[int, set[int]], notes: list[Note]
) -> dict[int, MaintenancePlan]:
    """Return each machine type's maintenance plan: the one most machines share.

    FluxiLab keeps one plan per machine type; a machine's further plans, and a
    machine whose plan differs from its type's, are reported.
    """
    by_machine: dict[int | None, list[FabMaintenance]] = {}
    for row in sorted(data.maintenances.values(), key=lambda m: m.maintenance_id):
        by_machine.setdefault(row.machine_id, []).append(row)
    plans: dict[int, MaintenancePlan] = {}
    for type_id, machine_ids in sorted(machines_of_type.items()):
        candidates: dict[int, MaintenancePlan] = {}
        for machine_id in sorted(machine_ids):
            rows = by_machine.get(machine_id)
            if not rows:
                continue
            name = _machine_name(data, machine_id)
            candidates[machine_id] = _plan_of(rows[0], name, notes)
            notes.extend(
                {
                    "what": "maintenance_plan_not_mapped",
                    "machine": name,
                    "maintenance_id": extra.maintenance_id,
                }
                for extra in rows[1:]
            )
        if not candidates:
            continue
        counts = Counter(candidates.values())
        chosen = max(counts, key=lambda key: counts[key])  # the first of a tie
        for machine_id, candidate in candidates.items():
            if candidate == chosen:
                plans.setdefault(type_id, candidate)
                continue
            notes.append(
                {
                    "what": "maintenance_plan_conflict",
                    "machine_type": data.machine_types[type_id].name,
                    "machine": _machine_name(data, machine_id),
                    "maintenance_id": by_machine[machine_id][0].maintenance_id,
                }
            )
    return plans


def _machine_name(data: FabOMaticData, machine_id: int) -> str:
    machine = data.machines.get(machine_id)
    return machine.name if machine is not None else str(machine_id)


def plan(lab: Lab, data: FabOMaticData) -> FabOMaticPlan:
    """Map a Fab-O-Matic database onto the lab; nothing is written."""
    notes: list[Note] = []
    existing = {
        " ".join(str(t["name"]).split()).casefold(): t
        for t in lab.machine_types.data.values()
    }
    machines_of_type: dict[int, set[int]] = {}
    for machine_id, machine in data.machines.items():
        of_type = machine.type_id
        if of_type is not None and of_type in data.machine_types:
            machines_of_type.setdefault(of_type, set()).add(machine_id)
    plans = _type_plans(data, machines_of_type, notes)
    machine_types: list[TypeMapping] = []
    type_name: dict[int, str] = {}
    for type_id, fab_type in sorted(data.machine_types.items()):
        name = fab_type.name.strip()
        type_name[type_id] = name
        type_plan = plans.get(type_id)
        if (found := existing.get(" ".join(name.split()).casefold())) is not None:
            given: MaintenancePlan | None = None
            if type_plan is not None:
                if not any(found.get(key) for key in PLAN_FIELDS):
                    given = type_plan
                elif MaintenancePlan.from_dict(found) != type_plan:
                    notes.append(
                        {"what": "maintenance_plan_kept", "machine_type": name}
                    )
            machine_types.append(
                TypeMapping(name=name, action="existing", id=found["id"], plan=given)
            )
        else:
            create = _type_fields(fab_type, type_plan, notes)
            machine_types.append(TypeMapping(name=name, action="create", create=create))
    devices = {
        board: device_id
        for device_id, device in lab.devices.items()
        if isinstance(board := device.entry.data.get(CONF_FABOMATIC_MACHINE), int)
    }
    lab_roles = _roles(lab, data)
    granted: dict[int, set[int]] = {}
    for user_id, machine_id in data.authorizations:
        granted.setdefault(user_id, set()).add(machine_id)

    imported: dict[int, FabUser] = {}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("name", "email", "role", "active", "cards", "authorizations"))
    for user in sorted(data.users, key=lambda u: u.user_id):
        if user.deleted:
            notes.append({"what": "deleted_user", "user_id": user.user_id})
            continue
        targets = _targets(
            user,
            granted.get(user.user_id, set()),
            data,
            type_name,
            machines_of_type,
            devices,
            notes,
        )
        cells = (
            user.name,
            user.email,
            _role(user.role_id, data, lab_roles),
            "false" if user.disabled else "true",
            user.card or "",
            member_import.LIST_SEPARATOR.join(targets),
        )
        writer.writerow([member_import.neutralize(cell) for cell in cells])
        imported[user.user_id] = user
    if surnamed := sum(
        1 for user in data.users if not user.deleted and user.has_surname
    ):
        # FluxiLab keeps one name: the surname is in it, not apart.
        notes.append({"what": "surname_in_name", "count": surnamed})
    for table, count in data.counts.items():
        if count:
            notes.append({"what": table, "count": count})
    return FabOMaticPlan(
        machine_types=tuple(machine_types),
        roles=tuple(lab_roles.values()),
        csv_text=out.getvalue(),
        not_mapped=notes,
        history=_history(lab, data, devices, imported, notes),
    )


def _targets(
    user: FabUser,
    machine_ids: set[int],
    data: FabOMaticData,
    type_name: dict[int, str],
    machines_of_type: dict[int, set[int]],
    devices: dict[int, str],
    notes: list[Note],
) -> list[str]:
    """Return the authorizations: whole machine types where all are granted."""
    targets: list[str] = []
    covered: set[int] = set()
    for type_id, machines in sorted(machines_of_type.items()):
        if machines <= machine_ids:
            targets.append(type_name[type_id])
            covered |= machines
    for machine_id in sorted(machine_ids - covered):
        if (device_id := devices.get(machine_id)) is not None:
            targets.append(f"{member_import.DEVICE_PREFIX}{device_id}")
            continue
        notes.append(
            {
                "what": "machine_authorization",
                "user_id": user.user_id,
                "machine": _machine_name(data, machine_id),
            }
        )
    return targets


# History --------------------------------------------------------------------------


def _history(
    lab: Lab,
    data: FabOMaticData,
    devices: dict[int, str],
    users: dict[int, FabUser],
    notes: list[Note],
) -> HistoryPlan:
    """Put uses, interventions, unknown cards and machine hours on their devices."""
    tally: Counter[str] = Counter()
    """Rows skipped, or taken with a change, by why (reported as counts)."""
    not_adopted: dict[int, str] = {}

    def device_of(machine_id: int | None) -> str | None:
        if machine_id is None or machine_id not in data.machines:
            return None
        if (device_id := devices.get(machine_id)) is not None:
            return device_id
        if not valid_machine_id(machine_id):
            return None  # no board can have it
        not_adopted[machine_id] = board_device_id(machine_id)
        return not_adopted[machine_id]

    sessions: list[ImportedSession] = []
    durations: dict[int, list[tuple[float, float]]] = {}
    """Machine id -> (start, duration) of its uses."""
    for use in sorted(data.uses, key=lambda u: u.use_id):
        start, machine_id = use.start, use.machine_id
        if (
            machine_id is None
            or (device_id := device_of(machine_id)) is None
            or start is None
        ):
            tally["use_not_mapped"] += 1
            continue
        end = use.end
        closed_by = SessionEnd.DEVICE
        if end is None:
            # Never stopped (the board went away): over when it was last heard of.
            end = max(use.last_seen or start, start)
            closed_by = SessionEnd.TIMEOUT
            tally["use_not_ended"] += 1
        duration = max(end - start, 0.0)
        durations.setdefault(machine_id, []).append((start, duration))
        sessions.append(
            ImportedSession(
                import_id=f"{USE_PREFIX}{use.use_id}",
                device_id=device_id,
                user_id=use.user_id,
                start=start,
                last_seen=max(use.last_seen or end, start),
                end=start + duration,
                duration=duration,
                closed_by=closed_by,
                buffered=use.replay,
            )
        )

    # Per machine: its uses' starts in order, and the seconds used from each on.
    starts: dict[int, list[float]] = {}
    used_from: dict[int, list[float]] = {}
    for used, uses in durations.items():
        uses.sort()
        starts[used] = [start for start, _ in uses]
        tail = list(accumulate(reversed([d for _, d in uses])))
        used_from[used] = [*reversed(tail), 0.0]

    def hours_at(machine_id: int, ts: float) -> float:
        """Return the machine's hours at ``ts``: today's, less the uses begun since."""
        total = data.machines[machine_id].hours
        index = bisect_left(starts.get(machine_id, []), ts)
        after = used_from[machine_id][index] if machine_id in used_from else 0.0
        return max(total - after / 3600, 0.0)

    interventions: list[ImportedIntervention] = []
    last: dict[int, tuple[float, float]] = {}
    """Machine id -> (time, hours) of its last intervention."""
    for row in sorted(
        data.interventions, key=lambda i: (i.ts or 0.0, i.intervention_id)
    ):
        ts, machine_id = row.ts, row.machine_id
        if (
            machine_id is None
            or (device_id := device_of(machine_id)) is None
            or ts is None
        ):
            tally["intervention_not_mapped"] += 1
            continue
        hours = hours_at(machine_id, ts)
        done = (
            data.maintenances.get(row.maintenance_id)
            if row.maintenance_id is not None
            else None
        )
        note = done.description if done is not None else ""
        previous = last.get(machine_id)
        interventions.append(
            ImportedIntervention(
                import_id=f"{INTERVENTION_PREFIX}{row.intervention_id}",
                ts=ts,
                device_id=device_id,
                user_id=row.user_id,
                buffered=row.replay,
                hours=round(hours, 3),
                since_maintenance=round(hours - previous[1], 3)
                if previous
                else round(hours, 3),
                interval=done.hours_between if done is not None else None,
                note=maintenance.cut(note, maintenance.MAX_NOTE) or None,
            )
        )
        last[machine_id] = (ts, hours)

    usage: dict[str, MachineHours] = {}
    for machine_id, machine in sorted(data.machines.items()):
        hours = machine.hours
        if hours <= 0 and machine_id not in last:
            continue
        if (device_id := device_of(machine_id)) is None:
            tally["machine_hours_not_mapped"] += 1
            continue
        since = last.get(machine_id)
        usage[device_id] = MachineHours(
            hours=hours,
            since_maintenance=round(max(hours - since[1], 0.0), 3) if since else hours,
            last_maintenance=since[0] if since else None,
        )

    settings = lab.history.data["settings"]
    oldest = time.time() - settings.unknown_card_retention_days * DAY
    held = {user.card.strip() for user in data.users if user.card and not user.deleted}
    latest: dict[str, UnknownCard] = {}
    for sighting in data.unknown_cards:
        card = sighting.card
        ts = sighting.ts
        if (
            not card
            or ts is None
            or (device_id := device_of(sighting.machine_id)) is None
        ):
            tally["unknown_card_not_mapped"] += 1
            continue
        if ts < oldest:
            tally["unknown_card_expired"] += 1
            continue
        if card in held:
            tally["unknown_card_now_member"] += 1  # a user's card since
            continue
        if card not in latest or latest[card].ts < ts:
            latest[card] = UnknownCard(card=card, device_id=device_id, ts=ts)

    notes.extend({"what": what, "count": count} for what, count in tally.items())
    notes.extend(
        {
            "what": "machine_not_adopted",
            "machine": _machine_name(data, machine_id),
            "device_id": device_id,
        }
        for machine_id, device_id in sorted(not_adopted.items())
    )
    return HistoryPlan(
        sessions=tuple(sessions),
        interventions=tuple(interventions),
        unknown_cards=tuple(sorted(latest.values(), key=lambda c: c.ts)),
        usage=usage,
        users=users,
    )


def _members_of(lab: Lab, users: Mapping[int, FabUser]) -> dict[int, ImportedMember]:
    """Return the member each imported user became: by card, else by a unique name."""
    by_name: dict[str, list[ImportedMember]] = {}
    for member in lab.members.data.values():
        by_name.setdefault(member_import.same_name(str(member["name"])), []).append(
            ImportedMember(id=member["id"], name=member["name"])
        )
    found: dict[int, ImportedMember] = {}
    for user_id, user in users.items():
        if user.card and (held := lab.members.card_holder(user.card)):
            found[user_id] = ImportedMember(id=held[0].id, name=held[0].name)
        elif len(named := by_name.get(member_import.same_name(user.name), [])) == 1:
            found[user_id] = named[0]
    return found


async def _async_write_history(lab: Lab, history: HistoryPlan) -> HistoryWritten:
    """Write the history: sessions and interventions at once, then the counters."""
    members = _members_of(lab, history.users)
    sessions = [
        s.as_dict(members.get(s.user_id) if s.user_id is not None else None)
        for s in history.sessions
    ]
    audit = [
        i.as_dict(members.get(i.user_id) if i.user_id is not None else None)
        for i in history.interventions
    ]
    written = await lab.history.async_import_entries(
        ImportBatch(
            sessions=[SessionRecord.from_entry(session) for session in sessions],
            audit=[AuditEntry.from_entry(entry) for entry in audit],
        ),
        PREFIXES,
    )
    hours = _apply_usage(lab, history.usage)
    cards = _apply_unknown_cards(lab, history.unknown_cards)
    return HistoryWritten(
        sessions=written.get("sessions", 0),
        interventions=written.get("audit", 0),
        unknown_cards=cards,
        usage_hours=hours,
        sessions_without_member=sum(1 for s in sessions if s["member_id"] is None),
    )


def _apply_usage(lab: Lab, usage: Mapping[str, MachineHours]) -> dict[str, float]:
    """Add the machines' hours to their devices' counters; return what was added.

    The first import adds them; a later one only what the backend counted since
    (``fabomatic_hours``). The counter towards maintenance is the backend's when
    its last intervention is newer than the device's, else the device's own.
    """
    added: dict[str, float] = {}
    for device_id, counted in usage.items():
        counters = lab.history.usage(device_id)
        before = counters.get("fabomatic_hours", 0.0)
        delta = round(counted.hours - before, 3)
        own = max(counters["hours"] - before, 0.0)
        if delta > 0:
            counters["hours"] += delta
            counters["fabomatic_hours"] = counted.hours
            added[device_id] = delta
        done = counted.last_maintenance
        mine = counters["last_maintenance"]
        if done is not None and (mine is None or done > mine):
            counters["last_maintenance"] = done
            counters["since_maintenance"] = round(counted.since_maintenance + own, 3)
        elif done is None and mine is None and delta > 0:
            counters["since_maintenance"] += delta
    if added:
        lab.history.async_changed()
    return added


def _apply_unknown_cards(lab: Lab, cards: tuple[UnknownCard, ...]) -> int:
    """Add the cards nobody holds to the unknown-cards list; return how many."""
    listed = dict(lab.history.data["unknown_cards"])
    fresh = [
        card
        for card in cards
        if lab.members.card_holder(card.card) is None
        and (card.card not in listed or listed[card.card].ts < card.ts)
    ]
    if fresh:
        listed.update(
            {
                card.card: SeenCard(
                    card=card.card, device_id=card.device_id, ts=card.ts
                )
                for card in fresh
            }
        )
        lab.history.data["unknown_cards"] = {
            seen.card: seen for seen in sorted(listed.values(), key=lambda c: c.ts)
        }
        lab.history.async_changed()
    return len(fresh)


async def _async_history_report(lab: Lab, history: HistoryPlan) -> HistoryReport:
    """Return what the history would bring (dry run): new rows, and those here."""
    known = await lab.history.async_imported_ids(PREFIXES)
    sessions = sum(1 for s in history.sessions if s.import_id not in known)
    interventions = sum(1 for i in history.interventions if i.import_id not in known)
    listed = {uid: c.ts for uid, c in lab.history.data["unknown_cards"].items()}
    usage = lab.history.data["usage"]
    return HistoryReport(
        sessions=sessions,
        sessions_already_imported=len(history.sessions) - sessions,
        interventions=interventions,
        interventions_already_imported=len(history.interventions) - interventions,
        unknown_cards=sum(
            1
            for c in history.unknown_cards
            if lab.members.card_holder(c.card) is None
            and listed.get(c.card, -1.0) < c.ts
        ),
        usage_hours={
            device_id: delta
            for device_id, counted in history.usage.items()
            if (
                delta := round(
                    counted.hours
                    - (
                        usage[device_id].get("fabomatic_hours", 0.0)
                        if device_id in usage
                        else 0.0
                    ),
                    3,
                )
            )
            > 0
        },
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class FabImportResult:
    """What an import did (or, a dry run, would do): the service's reply, typed."""

    machine_types: tuple[TypeMapping, ...]
    roles: tuple[RoleMapping, ...]
    not_mapped: list[Note] = field(repr=False)
    """What FluxiLab has no place for (it may name members: not in a repr)."""
    members: member_import.ImportReport
    dry_run: bool | None = None
    """Set on a dry run's (or a refused strict run's) members report."""
    history: HistoryReport | HistoryWritten | None = None
    """None: no history was written (strict, and the lab changed meanwhile)."""
    applied: bool

    def as_wire(self) -> dict[str, Any]:
        """Return the service's reply."""
        members = self.members.as_wire()
        if self.dry_run is not None:
            members = {**members, "dry_run": self.dry_run}
        wire: dict[str, Any] = {
            "machine_types": [t.report() for t in self.machine_types],
            "roles": [r.report() for r in self.roles],
            "not_mapped": self.not_mapped,
            "members": members,
        }
        if self.history is not None:
            wire["history"] = self.history.as_wire()
        wire["applied"] = self.applied
        return wire


async def async_import(
    lab: Lab, data: FabOMaticData, *, dry_run: bool, strict: bool = True
) -> FabImportResult:
    """Import a Fab-O-Matic database's machine types, members and history.

    The members go through the CSV import (its checks, dry run and undo); machine
    types and lab roles it needs are made first, and plans given to existing types,
    and taken back if the members are not imported; the history is written once the members are
    in (so sessions name them) and its failure undoes the members and types too.

    Returns what was done (the service's reply: ``as_wire``).
    """
    mapped = plan(lab, data)
    machine_types = list(mapped.machine_types)
    roles = list(mapped.roles)
    dry = await member_import.async_import(
        lab,
        mapped.csv_text,
        dry_run=True,
        strict=strict,
        pending_types=[t.name for t in machine_types if t.action == "create"],
        pending_roles=[r.id for r in roles if r.action == "create"],
    )
    if dry_run or (strict and dry.plan.rejected):
        return FabImportResult(
            machine_types=tuple(machine_types),
            roles=tuple(roles),
            not_mapped=mapped.not_mapped,
            members=dry,
            dry_run=dry_run,
            history=await _async_history_report(lab, mapped.history),
            applied=False,
        )
    planned_types, planned_roles = tuple(machine_types), tuple(roles)
    made: list[str] = []
    made_roles: list[str] = []
    changed: list[tuple[str, MaintenancePlan]] = []
    written: list[HistoryWritten] = []

    async def _async_history() -> None:
        written.append(await _async_write_history(lab, mapped.history))

    try:
        for index, machine_type in enumerate(machine_types):
            if machine_type.create is not None:
                item = await lab.machine_types.async_create_item(
                    machine_type.create.as_dict()
                )
                machine_types[index] = replace(machine_type, id=item["id"])
                made.append(item["id"])
        for machine_type in machine_types:
            if machine_type.plan is None or machine_type.id is None:
                continue
            before = lab.machine_types.data[machine_type.id]
            await lab.machine_types.async_update_item(
                machine_type.id, machine_type.plan.given()
            )
            changed.append((machine_type.id, MaintenancePlan.from_dict(before)))
        for index, role in enumerate(roles):
            if role.action == "create":
                item = await lab.roles.async_create_item(role.as_dict())
                roles[index] = replace(role, id=item["id"])
                made_roles.append(item["id"])
        # Planned again: the roles made are the lab's now, with the ids they got.
        members = await member_import.async_import(
            lab,
            plan(lab, data).csv_text,
            dry_run=False,
            strict=strict,
            then=_async_history,
        )
    except BaseException:
        await _async_undo_types(lab, made, changed)
        await _async_undo_roles(lab, made_roles)
        raise
    if not written:
        # Strict, and the lab changed meanwhile: no member and no history written.
        await _async_undo_types(lab, made, changed)
        await _async_undo_roles(lab, made_roles)
        return FabImportResult(
            machine_types=planned_types,
            roles=planned_roles,
            not_mapped=mapped.not_mapped,
            members=members,
            applied=False,
        )
    for device_id in written[0].usage_hours:
        if (device := lab.device(device_id)) is not None:
            lab.publish_usage(device)  # the hours on its entities
    return FabImportResult(
        machine_types=tuple(machine_types),
        roles=tuple(roles),
        not_mapped=mapped.not_mapped,
        members=members,
        history=written[0],
        applied=True,
    )


async def _async_undo_roles(lab: Lab, made: list[str]) -> None:
    for role_id in reversed(made):
        if role_id in lab.roles.data:
            await lab.roles.async_delete_item(role_id)


async def _async_undo_types(
    lab: Lab, made: list[str], changed: list[tuple[str, MaintenancePlan]]
) -> None:
    for type_id, before in reversed(changed):
        if type_id in lab.machine_types.data:
            await lab.machine_types.async_update_item(type_id, before.as_dict())
    for type_id in reversed(made):
        if type_id in lab.machine_types.data:
            await lab.machine_types.async_delete_item(type_id)
