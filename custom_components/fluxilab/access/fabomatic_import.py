"""A lab moving from Fab-O-Matic's backend: its database read into FluxiLab.

The backend (fablab-bergamo's FabOMatic) keeps a SQLite database: ``roles`` (with
the flags ``authorize_all``, ``maintenance``, ``backend_admin``), ``users`` (name,
surname, one ``card_UUID``, ``disabled``, ``deleted``, email), ``machine_types``
(timeout and grace in minutes, whether authorizations are needed), ``machines``,
per-machine ``authorizations``, and history (``uses``, ``maintenances``,
``interventions``, ``unknown_cards``, ``boards``). This module reads it read-only,
maps what FluxiLab has a place for, and says what it cannot map:

- machine types by name (an existing FluxiLab type of the same name is reused);
- users as members through the CSV import (member_import.py), so the same row
  checks, dry run, strict mode and undo apply; "name surname" is the member's name;
- roles by their flags: all three set is the built-in admin, ``maintenance`` alone
  staff, none user; any other set of flags becomes a lab role of its own of the same
  name (``authorize_all``, ``maintenance``, and ``backend_admin`` as ``manage``; an
  existing lab role of that name is reused);
- a per-machine authorization as its machine type's when the user may use every
  machine of that type, else as the adopted board's device; a machine no FluxiLab
  device adopted cannot be mapped and is reported.

History is reported, not imported: uses, maintenance plans and interventions,
unknown cards, boards and machine hours stay in the Fab-O-Matic database.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
import io
from pathlib import Path
import sqlite3
from typing import TYPE_CHECKING, Any, Final

from custom_components.fluxilab.const import CONF_FABOMATIC_MACHINE

from . import member_import
from .errors import AccessValidationError
from .roles import Role, RoleFlags

if TYPE_CHECKING:
    from .lab import Lab

TABLES: Final = ("roles", "users", "machine_types", "machines", "authorizations")
"""What a Fab-O-Matic database must have to be read."""
COUNTED: Final = ("uses", "maintenances", "interventions", "unknown_cards", "boards")
"""History the import reports and leaves in the Fab-O-Matic database."""
MAX_GRACE_SECONDS: Final = 3600
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
        )
    except sqlite3.DatabaseError as err:
        raise AccessValidationError("fabomatic_no_database", path=path.name) from err
    finally:
        db.close()


@dataclass(slots=True)
class FabOMaticPlan:
    """What the import makes of a Fab-O-Matic database."""

    machine_types: list[dict[str, Any]]
    """Each: ``name``, ``action`` (create or existing), ``id`` (existing ones)
    and ``fields`` (those to create)."""
    roles: list[dict[str, Any]]
    """Fab-O-Matic's roles that are no built-in role: ``name``, ``action`` (create or
    existing), ``id`` (the lab role's; of one to create, the id it will get) and
    ``fields`` (those to create)."""
    csv_text: str
    """The members, in the CSV import's format."""
    not_mapped: list[dict[str, Any]]
    """What FluxiLab has no place for: ``what`` and what it concerns."""


def _minutes(value: Any, default: float) -> float:
    return float(value) * 60 if isinstance(value, int | float) else default


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


def plan(lab: Lab, data: FabOMaticData) -> FabOMaticPlan:
    """Map a Fab-O-Matic database onto the lab; nothing is written."""
    notes: list[dict[str, Any]] = []
    existing = {
        " ".join(str(t["name"]).split()).casefold(): t["id"]
        for t in lab.machine_types.data.values()
    }
    machine_types: list[dict[str, Any]] = []
    type_name: dict[int, str] = {}
    for type_id, fab_type in sorted(data.machine_types.items()):
        name = str(fab_type["type_name"]).strip()
        type_name[type_id] = name
        if (found := existing.get(" ".join(name.split()).casefold())) is not None:
            machine_types.append({"name": name, "action": "existing", "id": found})
        else:
            machine_types.append(
                {
                    "name": name,
                    "action": "create",
                    "fields": _type_fields(fab_type, notes),
                }
            )
    devices = {
        machine_id: device_id
        for device_id, device in lab.devices.items()
        if isinstance(machine_id := device.entry.data.get(CONF_FABOMATIC_MACHINE), int)
    }
    machines_of_type: dict[int, set[int]] = {}
    for machine_id, machine in data.machines.items():
        of_type = machine.get("machine_type_id")
        if isinstance(of_type, int) and of_type in data.machine_types:
            machines_of_type.setdefault(of_type, set()).add(machine_id)
    lab_roles = _roles(lab, data)
    granted: dict[int, set[int]] = {}
    for user_id, machine_id in data.authorizations:
        granted.setdefault(user_id, set()).add(machine_id)

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
    for table, count in data.counts.items():
        if count:
            notes.append({"what": table, "count": count})
    hours = sum(float(m.get("machine_hours") or 0) for m in data.machines.values())
    if hours:
        notes.append({"what": "machine_hours", "hours": round(hours, 2)})
    return FabOMaticPlan(machine_types, list(lab_roles.values()), out.getvalue(), notes)


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
        machine = data.machines.get(machine_id) or {}
        notes.append(
            {
                "what": "machine_authorization",
                "user_id": user["user_id"],
                "machine": str(machine.get("machine_name") or machine_id),
            }
        )
    return targets


async def async_import(
    lab: Lab, data: FabOMaticData, *, dry_run: bool, strict: bool = True
) -> dict[str, Any]:
    """Import a Fab-O-Matic database's machine types and members; the report.

    The members go through the CSV import (its checks, dry run and undo); machine
    types and lab roles it needs are made first and taken away again if the members
    are not imported.
    """
    mapped = plan(lab, data)
    created = [t for t in mapped.machine_types if t["action"] == "create"]
    new_roles = [r for r in mapped.roles if r["action"] == "create"]
    report: dict[str, Any] = {
        "machine_types": _shown(mapped.machine_types),
        "roles": _shown(mapped.roles),
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
        return {**report, "members": {**dry, "dry_run": dry_run}, "applied": False}
    made: list[str] = []
    made_roles: list[str] = []
    try:
        for machine_type in created:
            item = await lab.machine_types.async_create_item(machine_type["fields"])
            machine_type["id"] = item["id"]
            made.append(item["id"])
        for role in new_roles:
            item = await lab.roles.async_create_item(role["fields"])
            role["id"] = item["id"]
            made_roles.append(item["id"])
        # Planned again: the roles made are the lab's now, with the ids they got.
        members = await member_import.async_import(
            lab, plan(lab, data).csv_text, dry_run=False, strict=strict
        )
    except BaseException:
        await _async_remove_made(lab, made, made_roles)
        raise
    if not members["applied"] and members["summary"]["reject"]:
        # Strict, and the lab changed meanwhile.
        await _async_remove_made(lab, made, made_roles)
        return {**report, "members": members, "applied": False}
    report["machine_types"] = _shown(mapped.machine_types)
    report["roles"] = _shown(mapped.roles)
    return {**report, "members": members, "applied": True}


def _shown(planned: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return what the report shows of planned types or roles (not their fields)."""
    return [{k: v for k, v in item.items() if k != "fields"} for item in planned]


async def _async_remove_made(
    lab: Lab, type_ids: list[str], role_ids: list[str]
) -> None:
    for type_id in reversed(type_ids):
        if type_id in lab.machine_types.data:
            await lab.machine_types.async_delete_item(type_id)
    for role_id in reversed(role_ids):
        if role_id in lab.roles.data:
            await lab.roles.async_delete_item(role_id)
