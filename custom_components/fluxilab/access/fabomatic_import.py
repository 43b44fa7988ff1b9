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
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
import csv
from dataclasses import dataclass, field
import io
from itertools import accumulate
from pathlib import Path
import sqlite3
import time
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from custom_components.fluxilab.const import CONF_FABOMATIC_MACHINE
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
PREFIXES: Final = {
    "sessions": USE_PREFIX,
    "audit": INTERVENTION_PREFIX,
    "audit_kind": maintenance.KIND,
}
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


@dataclass(slots=True)
class FabOMaticData:
    """The rows read from a Fab-O-Matic database."""

    roles: dict[int, dict[str, Any]]
    users: list[dict[str, Any]]
    machine_types: dict[int, dict[str, Any]]
    machines: dict[int, dict[str, Any]]
    authorizations: list[tuple[int, int]]
    """(user_id, machine_id)."""
    counts: dict[str, int] = field(default_factory=dict)
    uses: list[dict[str, Any]] = field(default_factory=list)
    maintenances: dict[int, dict[str, Any]] = field(default_factory=dict)
    interventions: list[dict[str, Any]] = field(default_factory=list)
    unknown_cards: list[dict[str, Any]] = field(default_factory=list)


def _rows(db: sqlite3.Connection, table: str) -> list[dict[str, Any]]:
    cursor = db.execute(f'SELECT * FROM "{table}"')  # noqa: S608  # a fixed name
    names = [column[0] for column in cursor.description]
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        if row.get("card_UUID"):
            row["card_UUID"] = _card(row["card_UUID"])
    return rows


def _card(value: Any) -> str:
    """Return a card as boards send it (lowercase hex, 8 digits at least), else as stored.

    The reference backend keeps a uid as it was typed or received: an uppercase
    ``04AABBCC`` would never match the ``04aabbcc`` a board asks about.
    """
    try:
        return card_uid(value)
    except vol.Invalid:
        return str(value).strip()


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
        return FabOMaticData(
            roles={r["role_id"]: r for r in _rows(db, "roles")},
            users=_rows(db, "users"),
            machine_types={t["type_id"]: t for t in _rows(db, "machine_types")},
            machines={m["machine_id"]: m for m in _rows(db, "machines")},
            authorizations=[
                (a["user_id"], a["machine_id"]) for a in _rows(db, "authorizations")
            ],
            counts={
                table: db.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]  # noqa: S608
                for table in COUNTED
                if table in tables
            },
            uses=history["uses"],
            maintenances={m["maintenance_id"]: m for m in history["maintenances"]},
            interventions=history["interventions"],
            unknown_cards=history["unknown_cards"],
        )
    except sqlite3.DatabaseError as err:
        raise AccessValidationError("fabomatic_no_database", path=path.name) from err
    finally:
        db.close()


@dataclass(slots=True)
class FabOMaticPlan:
    """What the import makes of a Fab-O-Matic database."""

    machine_types: list[dict[str, Any]]
    """Each: ``name``, ``action`` (create or existing), ``id`` (existing ones),
    ``fields`` (those to create) and ``plan`` (a maintenance plan to give an
    existing type that has none)."""
    roles: list[dict[str, Any]]
    """Fab-O-Matic's roles that are no built-in role: ``name``, ``action`` (create or
    existing), ``id`` (the lab role's; of one to create, the id it will get) and
    ``fields`` (those to create)."""
    csv_text: str
    """The members, in the CSV import's format."""
    not_mapped: list[dict[str, Any]]
    """What FluxiLab has no place for: ``what`` and what it concerns."""
    history: HistoryPlan


@dataclass(slots=True)
class HistoryPlan:
    """The history, each row on its device; members are found when it is written."""

    sessions: list[dict[str, Any]] = field(default_factory=list)
    """Session entries, with ``user_id`` (Fab-O-Matic's) in place of the member."""
    interventions: list[dict[str, Any]] = field(default_factory=list)
    """Audit entries of kind ``maintenance``, with ``user_id`` likewise."""
    unknown_cards: list[dict[str, Any]] = field(default_factory=list)
    usage: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Device id -> ``hours``, ``since_maintenance``, ``last_maintenance``."""
    users: dict[int, dict[str, Any]] = field(default_factory=dict)
    """The users imported as members, by Fab-O-Matic id."""


def _minutes(value: Any, default: float) -> float:
    return float(value) * 60 if isinstance(value, int | float) else default


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _type_fields(
    fab_type: dict[str, Any], notes: list[dict[str, Any]]
) -> dict[str, Any]:
    name = str(fab_type["type_name"])
    timeout = _minutes(fab_type.get("type_timeout_min"), 900)
    grace = _minutes(fab_type.get("grace_period_min"), 120)
    if grace > MAX_GRACE_SECONDS:
        notes.append(
            {"what": "grace_period_capped", "machine_type": name, "minutes": grace / 60}
        )
        grace = MAX_GRACE_SECONDS
    fields: dict[str, Any] = {
        "name": name,
        "session_timeout": min(max(timeout, MIN_TIMEOUT_SECONDS), MAX_TIMEOUT_SECONDS),
        "grace_period": grace,
    }
    if fab_type.get("access_management") == WITHOUT_AUTHORIZATION:
        fields["requires_authorization"] = False
    return fields


def _fab_flags(role: dict[str, Any]) -> tuple[bool, bool, bool]:
    return (
        bool(role.get("authorize_all")),
        bool(role.get("maintenance")),
        bool(role.get("backend_admin")),
    )


def _roles(lab: Lab, data: FabOMaticData) -> dict[int, dict[str, Any]]:
    """Map Fab-O-Matic's roles that are no built-in one onto lab roles, by id."""
    existing = {
        " ".join(str(r["name"]).split()).casefold(): r["id"]
        for r in lab.roles.data.values()
    }
    taken: set[str] = set()
    mapped: dict[int, dict[str, Any]] = {}
    for role_id, role in sorted(data.roles.items()):
        if _fab_flags(role) in BUILT_IN_ROLES:
            continue
        name = " ".join(str(role.get("role_name") or f"Role {role_id}").split())
        if (found := existing.get(name.casefold())) is not None:
            mapped[role_id] = {"name": name, "action": "existing", "id": found}
            continue
        authorize_all, maintenance, backend_admin = _fab_flags(role)
        flags = RoleFlags(
            may_maintain=maintenance,
            bypass_authorization=authorize_all,
            may_supervise=False,
            manage=backend_admin,
        )
        new_id = lab.roles.id_manager.generate_id(name)
        while new_id in taken:  # two Fab-O-Matic roles of names alike
            new_id = f"{new_id}_{role_id}"
        taken.add(new_id)
        existing[name.casefold()] = new_id
        mapped[role_id] = {
            "name": name,
            "action": "create",
            "id": new_id,
            "fields": {"name": name, **flags.as_role()},
        }
    return mapped


def _role(
    role_id: Any, data: FabOMaticData, lab_roles: dict[int, dict[str, Any]]
) -> str:
    if not isinstance(role_id, int) or (role := data.roles.get(role_id)) is None:
        return Role.USER.value
    if (built_in := BUILT_IN_ROLES.get(_fab_flags(role))) is not None:
        return built_in.value
    return str(lab_roles[role_id]["id"])


def _plan_of(
    row: dict[str, Any], machine: str, notes: list[dict[str, Any]]
) -> dict[str, Any]:
    """Return a Fab-O-Matic maintenance as a machine type's plan fields."""
    hours = _number(row.get("hours_between"))
    url = str(row.get("instructions_url") or "").strip() or None
    if url is not None and not valid_ui_url(url):
        notes.append(
            {
                "what": "maintenance_url_invalid",
                "machine": machine,
                "maintenance_id": row["maintenance_id"],
            }
        )
        url = None
    texts: list[str | None] = []
    for column, most in (
        ("description", MAX_MAINTENANCE_TEXT),
        ("lcd_message", MAX_MAINTENANCE_MESSAGE),
    ):
        text = str(row.get(column) or "").strip()
        if len(text) > most:
            notes.append(
                {
                    "what": "maintenance_text_cut",
                    "machine": machine,
                    "maintenance_id": row["maintenance_id"],
                    "column": column,
                }
            )
            text = (
                text[: most - len(maintenance.ELLIPSIS)].rstrip() + maintenance.ELLIPSIS
            )
        texts.append(text or None)
    description, message = texts
    return {
        "maintenance_interval": max(hours, MIN_INTERVAL) if hours else None,
        "maintenance_description": description,
        "maintenance_url": url,
        "maintenance_message": message,
    }


def _type_plans(
    data: FabOMaticData,
    machines_of_type: dict[int, set[int]],
    notes: list[dict[str, Any]],
) -> dict[int, dict[str, Any]]:
    """Return each machine type's maintenance plan: the one most machines share.

    FluxiLab keeps one plan per machine type; a machine's further plans, and a
    machine whose plan differs from its type's, are reported.
    """
    by_machine: dict[int, list[dict[str, Any]]] = {}
    for row in sorted(data.maintenances.values(), key=lambda m: m["maintenance_id"]):
        by_machine.setdefault(row["machine_id"], []).append(row)
    plans: dict[int, dict[str, Any]] = {}
    for type_id, machine_ids in sorted(machines_of_type.items()):
        candidates: dict[int, tuple[dict[str, Any], tuple[Any, ...]]] = {}
        for machine_id in sorted(machine_ids):
            rows = by_machine.get(machine_id)
            if not rows:
                continue
            name = _machine_name(data, machine_id)
            fields = _plan_of(rows[0], name, notes)
            candidates[machine_id] = (fields, tuple(fields.values()))
            notes.extend(
                {
                    "what": "maintenance_plan_not_mapped",
                    "machine": name,
                    "maintenance_id": extra["maintenance_id"],
                }
                for extra in rows[1:]
            )
        if not candidates:
            continue
        counts = Counter(key for _fields, key in candidates.values())
        chosen = max(counts, key=lambda key: counts[key])  # the first of a tie
        for machine_id, (fields, key) in candidates.items():
            if key == chosen:
                plans.setdefault(type_id, fields)
                continue
            notes.append(
                {
                    "what": "maintenance_plan_conflict",
                    "machine_type": str(data.machine_types[type_id]["type_name"]),
                    "machine": _machine_name(data, machine_id),
                    "maintenance_id": by_machine[machine_id][0]["maintenance_id"],
                }
            )
    return plans


def _machine_name(data: FabOMaticData, machine_id: int) -> str:
    machine = data.machines.get(machine_id) or {}
    return str(machine.get("machine_name") or machine_id)


def plan(lab: Lab, data: FabOMaticData) -> FabOMaticPlan:
    """Map a Fab-O-Matic database onto the lab; nothing is written."""
    notes: list[dict[str, Any]] = []
    existing = {
        " ".join(str(t["name"]).split()).casefold(): t
        for t in lab.machine_types.data.values()
    }
    machines_of_type: dict[int, set[int]] = {}
    for machine_id, machine in data.machines.items():
        of_type = machine.get("machine_type_id")
        if isinstance(of_type, int) and of_type in data.machine_types:
            machines_of_type.setdefault(of_type, set()).add(machine_id)
    plans = _type_plans(data, machines_of_type, notes)
    machine_types: list[dict[str, Any]] = []
    type_name: dict[int, str] = {}
    for type_id, fab_type in sorted(data.machine_types.items()):
        name = str(fab_type["type_name"]).strip()
        type_name[type_id] = name
        type_plan = plans.get(type_id)
        if (found := existing.get(" ".join(name.split()).casefold())) is not None:
            item: dict[str, Any] = {
                "name": name,
                "action": "existing",
                "id": found["id"],
            }
            if type_plan is not None:
                if not any(found.get(key) for key in PLAN_FIELDS):
                    item["plan"] = type_plan
                elif any(found.get(key) != type_plan[key] for key in PLAN_FIELDS):
                    notes.append(
                        {"what": "maintenance_plan_kept", "machine_type": name}
                    )
            machine_types.append(item)
        else:
            fields = _type_fields(fab_type, notes)
            if type_plan is not None:
                fields.update({k: v for k, v in type_plan.items() if v is not None})
            machine_types.append({"name": name, "action": "create", "fields": fields})
    devices = {
        board: device_id
        for device_id, device in lab.devices.items()
        if isinstance(board := device.entry.data.get(CONF_FABOMATIC_MACHINE), int)
    }
    lab_roles = _roles(lab, data)
    granted: dict[int, set[int]] = {}
    for user_id, machine_id in data.authorizations:
        granted.setdefault(user_id, set()).add(machine_id)

    imported: dict[int, dict[str, Any]] = {}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("name", "email", "role", "active", "cards", "authorizations"))
    for user in sorted(data.users, key=lambda u: u["user_id"]):
        if user.get("deleted"):
            notes.append({"what": "deleted_user", "user_id": user["user_id"]})
            continue
        name = " ".join(
            str(part).strip()
            for part in (user.get("name"), user.get("surname"))
            if part and str(part).strip()
        )
        targets = _targets(
            user,
            granted.get(user["user_id"], set()),
            data,
            type_name,
            machines_of_type,
            devices,
            notes,
        )
        cells = (
            name,
            user.get("email") or "",
            _role(user.get("role_id"), data, lab_roles),
            "false" if user.get("disabled") else "true",
            user.get("card_UUID") or "",
            member_import.LIST_SEPARATOR.join(targets),
        )
        writer.writerow([member_import.neutralize(str(cell)) for cell in cells])
        imported[user["user_id"]] = {"name": name, "card": user.get("card_UUID")}
    if surnamed := sum(
        1 for user in data.users if not user.get("deleted") and user.get("surname")
    ):
        # FluxiLab keeps one name: the surname is in it, not apart.
        notes.append({"what": "surname_in_name", "count": surnamed})
    for table, count in data.counts.items():
        if count:
            notes.append({"what": table, "count": count})
    history = _history(lab, data, devices, notes)
    history.users = imported
    return FabOMaticPlan(
        machine_types, list(lab_roles.values()), out.getvalue(), notes, history
    )


def _targets(
    user: dict[str, Any],
    machine_ids: set[int],
    data: FabOMaticData,
    type_name: dict[int, str],
    machines_of_type: dict[int, set[int]],
    devices: dict[int, str],
    notes: list[dict[str, Any]],
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
                "user_id": user["user_id"],
                "machine": _machine_name(data, machine_id),
            }
        )
    return targets


# History --------------------------------------------------------------------------


def _history(
    lab: Lab, data: FabOMaticData, devices: dict[int, str], notes: list[dict[str, Any]]
) -> HistoryPlan:
    """Put uses, interventions, unknown cards and machine hours on their devices."""
    history = HistoryPlan()
    tally: Counter[str] = Counter()
    """Rows skipped, or taken with a change, by why (reported as counts)."""
    not_adopted: dict[int, str] = {}

    def device_of(machine_id: Any) -> str | None:
        if not isinstance(machine_id, int) or machine_id not in data.machines:
            return None
        if (device_id := devices.get(machine_id)) is not None:
            return device_id
        if not valid_machine_id(machine_id):
            return None  # no board can have it
        not_adopted[machine_id] = board_device_id(machine_id)
        return not_adopted[machine_id]

    durations: dict[int, list[tuple[float, float]]] = {}
    """Machine id -> (start, duration) of its uses."""
    for use in sorted(data.uses, key=lambda u: u["use_id"]):
        start = _number(use.get("start_timestamp"))
        if (device_id := device_of(use.get("machine_id"))) is None or start is None:
            tally["use_not_mapped"] += 1
            continue
        end = _number(use.get("end_timestamp"))
        closed_by = SessionEnd.DEVICE
        if end is None:
            # Never stopped (the board went away): over when it was last heard of.
            end = max(_number(use.get("last_seen")) or start, start)
            closed_by = SessionEnd.TIMEOUT
            tally["use_not_ended"] += 1
        duration = max(end - start, 0.0)
        durations.setdefault(use["machine_id"], []).append((start, duration))
        session_id = f"{USE_PREFIX}{use['use_id']}"
        history.sessions.append(
            {
                "session_id": session_id,
                "device_id": device_id,
                "user_id": use.get("user_id"),
                "card": None,
                "start": start,
                "last_seen": max(_number(use.get("last_seen")) or end, start),
                "end": start + duration,
                "duration": duration,
                "closed_by": closed_by.value,
                "buffered": bool(use.get("replay")),
                "imported": SOURCE,
                "import_id": session_id,
            }
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
        total = _number(data.machines[machine_id].get("machine_hours")) or 0.0
        index = bisect_left(starts.get(machine_id, []), ts)
        after = used_from[machine_id][index] if machine_id in used_from else 0.0
        return max(total - after / 3600, 0.0)

    last: dict[int, tuple[float, float]] = {}
    """Machine id -> (time, hours) of its last intervention."""
    for row in sorted(
        data.interventions,
        key=lambda i: (_number(i.get("timestamp")) or 0.0, i["intervention_id"]),
    ):
        ts = _number(row.get("timestamp"))
        machine_id: int = row["machine_id"]
        if (device_id := device_of(machine_id)) is None or ts is None:
            tally["intervention_not_mapped"] += 1
            continue
        hours = hours_at(machine_id, ts)
        plan_row = data.maintenances.get(row["maintenance_id"]) or {}
        note = str(plan_row.get("description") or "")
        previous = last.get(machine_id)
        key = f"{INTERVENTION_PREFIX}{row['intervention_id']}"
        history.interventions.append(
            {
                "ts": ts,
                "kind": maintenance.KIND,
                "device_id": device_id,
                "user_id": row.get("user_id"),
                "card": None,
                "reason": None,
                "buffered": bool(row.get("replay")),
                "hours": round(hours, 3),
                "since_maintenance": round(hours - previous[1], 3)
                if previous
                else round(hours, 3),
                "interval": _number(plan_row.get("hours_between")),
                "note": maintenance.cut(note, maintenance.MAX_NOTE) or None,
                "imported": SOURCE,
                "import_id": key,
            }
        )
        last[machine_id] = (ts, hours)

    for machine_id, machine in sorted(data.machines.items()):
        hours = _number(machine.get("machine_hours")) or 0.0
        if hours <= 0 and machine_id not in last:
            continue
        if (device_id := device_of(machine_id)) is None:
            tally["machine_hours_not_mapped"] += 1
            continue
        done = last.get(machine_id)
        history.usage[device_id] = {
            "hours": hours,
            "since_maintenance": round(max(hours - done[1], 0.0), 3) if done else hours,
            "last_maintenance": done[0] if done else None,
        }

    settings = lab.history.data["settings"]
    oldest = time.time() - settings["unknown_card_retention_days"] * DAY
    held = {
        str(user["card_UUID"]).strip()
        for user in data.users
        if user.get("card_UUID") and not user.get("deleted")
    }
    latest: dict[str, dict[str, Any]] = {}
    for row in data.unknown_cards:
        card = str(row.get("card_UUID") or "").strip()
        ts = _number(row.get("timestamp"))
        if (
            not card
            or ts is None
            or (device_id := device_of(row.get("machine_id"))) is None
        ):
            tally["unknown_card_not_mapped"] += 1
            continue
        if ts < oldest:
            tally["unknown_card_expired"] += 1
            continue
        if card in held:
            tally["unknown_card_now_member"] += 1  # a user's card since
            continue
        if card not in latest or latest[card]["ts"] < ts:
            latest[card] = {"card": card, "device_id": device_id, "ts": ts}
    history.unknown_cards = sorted(latest.values(), key=lambda c: c["ts"])

    notes.extend({"what": what, "count": count} for what, count in tally.items())
    notes.extend(
        {
            "what": "machine_not_adopted",
            "machine": _machine_name(data, machine_id),
            "device_id": device_id,
        }
        for machine_id, device_id in sorted(not_adopted.items())
    )
    return history


def _members_of(
    lab: Lab, users: dict[int, dict[str, Any]]
) -> dict[int, dict[str, Any]]:
    """Return the member each imported user became: by card, else by a unique name."""
    by_name: dict[str, list[dict[str, Any]]] = {}
    for member in lab.members.data.values():
        by_name.setdefault(member_import.same_name(str(member["name"])), []).append(
            member
        )
    found: dict[int, dict[str, Any]] = {}
    for user_id, user in users.items():
        if user["card"] and (held := lab.members.find_card(str(user["card"]))):
            found[user_id] = held[0]
        elif len(named := by_name.get(member_import.same_name(user["name"]), [])) == 1:
            found[user_id] = named[0]
    return found


def _with_member(
    entry: dict[str, Any], members: dict[int, dict[str, Any]], *, named: bool
) -> dict[str, Any]:
    out = {k: v for k, v in entry.items() if k != "user_id"}
    member = members.get(entry["user_id"])
    out["member_id"] = member["id"] if member else None
    if named:
        out["member_name"] = member["name"] if member else None
    return out


async def _async_write_history(lab: Lab, history: HistoryPlan) -> dict[str, Any]:
    """Write the history: sessions and interventions at once, then the counters."""
    members = _members_of(lab, history.users)
    entries = {
        "sessions": [_with_member(s, members, named=True) for s in history.sessions],
        "audit": [_with_member(i, members, named=False) for i in history.interventions],
    }
    written = await lab.history.async_import_entries(entries, dict(PREFIXES))
    hours = _apply_usage(lab, history.usage)
    cards = _apply_unknown_cards(lab, history.unknown_cards)
    return {
        "sessions": written.get("sessions", 0),
        "interventions": written.get("audit", 0),
        "unknown_cards": cards,
        "usage_hours": hours,
        "sessions_without_member": sum(
            1 for s in entries["sessions"] if s["member_id"] is None
        ),
    }


def _apply_usage(lab: Lab, usage: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Add the machines' hours to their devices' counters; return what was added.

    The first import adds them; a later one only what the backend counted since
    (``fabomatic_hours``). The counter towards maintenance is the backend's when
    its last intervention is newer than the device's, else the device's own.
    """
    added: dict[str, float] = {}
    for device_id, counted in usage.items():
        counters = lab.history.usage(device_id)
        before = counters.get("fabomatic_hours", 0.0)
        delta = round(counted["hours"] - before, 3)
        own = max(counters["hours"] - before, 0.0)
        if delta > 0:
            counters["hours"] += delta
            counters["fabomatic_hours"] = counted["hours"]
            added[device_id] = delta
        done = counted["last_maintenance"]
        mine = counters["last_maintenance"]
        if done is not None and (mine is None or done > mine):
            counters["last_maintenance"] = done
            counters["since_maintenance"] = round(counted["since_maintenance"] + own, 3)
        elif done is None and mine is None and delta > 0:
            counters["since_maintenance"] += delta
    if added:
        lab.history.async_changed()
    return added


def _apply_unknown_cards(lab: Lab, cards: list[dict[str, Any]]) -> int:
    """Add the cards nobody holds to the unknown-cards list; return how many."""
    listed = {c["card"]: c for c in lab.history.data["unknown_cards"]}
    fresh = [
        card
        for card in cards
        if lab.members.find_card(card["card"]) is None
        and (card["card"] not in listed or listed[card["card"]]["ts"] < card["ts"])
    ]
    if fresh:
        listed.update({card["card"]: card for card in fresh})
        lab.history.data["unknown_cards"] = sorted(
            listed.values(), key=lambda c: c["ts"]
        )
        lab.history.async_changed()
    return len(fresh)


async def _async_history_report(lab: Lab, history: HistoryPlan) -> dict[str, Any]:
    """Return what the history would bring (dry run): new rows, and those here."""
    known = await lab.history.async_imported_ids(dict(PREFIXES))
    sessions = sum(1 for s in history.sessions if s["import_id"] not in known)
    interventions = sum(1 for i in history.interventions if i["import_id"] not in known)
    listed = {c["card"]: c["ts"] for c in lab.history.data["unknown_cards"]}
    usage: dict[str, Any] = lab.history.data["usage"]
    return {
        "sessions": sessions,
        "sessions_already_imported": len(history.sessions) - sessions,
        "interventions": interventions,
        "interventions_already_imported": len(history.interventions) - interventions,
        "unknown_cards": sum(
            1
            for c in history.unknown_cards
            if lab.members.find_card(c["card"]) is None
            and listed.get(c["card"], -1.0) < c["ts"]
        ),
        "usage_hours": {
            device_id: delta
            for device_id, counted in history.usage.items()
            if (
                delta := round(
                    counted["hours"]
                    - usage.get(device_id, {}).get("fabomatic_hours", 0.0),
                    3,
                )
            )
            > 0
        },
    }


async def async_import(
    lab: Lab, data: FabOMaticData, *, dry_run: bool, strict: bool = True
) -> dict[str, Any]:
    """Import a Fab-O-Matic database's machine types, members and history.

    The members go through the CSV import (its checks, dry run and undo); machine
    types and lab roles it needs are made first, and plans given to existing types,
    and taken back if the members are not imported; the history is written once the members are
    in (so sessions name them) and its failure undoes the members and types too.
    """
    mapped = plan(lab, data)
    created = [t for t in mapped.machine_types if t["action"] == "create"]
    planned = [t for t in mapped.machine_types if "plan" in t]
    new_roles = [r for r in mapped.roles if r["action"] == "create"]
    report: dict[str, Any] = {
        "machine_types": _types_report(mapped.machine_types),
        "roles": _roles_report(mapped.roles),
        "not_mapped": mapped.not_mapped,
    }
    dry = await member_import.async_import(
        lab,
        mapped.csv_text,
        dry_run=True,
        strict=strict,
        pending_types=[t["name"] for t in created],
        pending_roles=[r["id"] for r in new_roles],
    )
    if dry_run or (strict and dry["summary"]["reject"]):
        return {
            **report,
            "members": {**dry, "dry_run": dry_run},
            "history": await _async_history_report(lab, mapped.history),
            "applied": False,
        }
    made: list[str] = []
    made_roles: list[str] = []
    changed: list[tuple[str, dict[str, Any]]] = []
    written: dict[str, Any] = {}

    async def _async_history() -> None:
        written.update(await _async_write_history(lab, mapped.history))

    try:
        for machine_type in created:
            item = await lab.machine_types.async_create_item(machine_type["fields"])
            machine_type["id"] = item["id"]
            made.append(item["id"])
        for machine_type in planned:
            before = lab.machine_types.data[machine_type["id"]]
            await lab.machine_types.async_update_item(
                machine_type["id"],
                {k: v for k, v in machine_type["plan"].items() if v is not None},
            )
            changed.append(
                (machine_type["id"], {key: before.get(key) for key in PLAN_FIELDS})
            )
        for role in new_roles:
            item = await lab.roles.async_create_item(role["fields"])
            role["id"] = item["id"]
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
        return {**report, "members": members, "applied": False}
    for device_id in written["usage_hours"]:
        if (device := lab.device(device_id)) is not None:
            lab.publish_usage(device)  # the hours on its entities
    report["machine_types"] = _types_report(mapped.machine_types)
    report["roles"] = _roles_report(mapped.roles)
    return {**report, "members": members, "history": written, "applied": True}


def _roles_report(roles: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in role.items() if k != "fields"} for role in roles]


async def _async_undo_roles(lab: Lab, made: list[str]) -> None:
    for role_id in reversed(made):
        if role_id in lab.roles.data:
            await lab.roles.async_delete_item(role_id)


def _types_report(machine_types: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for machine_type in machine_types:
        item = {k: v for k, v in machine_type.items() if k not in ("fields", "plan")}
        fields = machine_type.get("plan") or machine_type.get("fields") or {}
        if fields.get("maintenance_interval") is not None:
            item["maintenance_interval"] = fields["maintenance_interval"]
        out.append(item)
    return out


async def _async_undo_types(
    lab: Lab, made: list[str], changed: list[tuple[str, dict[str, Any]]]
) -> None:
    for type_id, before in reversed(changed):
        if type_id in lab.machine_types.data:
            await lab.machine_types.async_update_item(type_id, before)
    for type_id in reversed(made):
        if type_id in lab.machine_types.data:
            await lab.machine_types.async_delete_item(type_id)
