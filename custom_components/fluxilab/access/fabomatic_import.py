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
- roles by their flags: ``backend_admin`` is admin, ``maintenance`` staff, anyone
  else a user; ``authorize_all`` without admin rights becomes an authorization for
  every machine type (FluxiLab has no role that bypasses them and manages nothing);
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
from .roles import Role

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


def _role(role: dict[str, Any] | None) -> str:
    if role is None:
        return Role.USER.value
    if role.get("backend_admin"):
        return Role.ADMIN.value
    if role.get("maintenance"):
        return Role.STAFF.value
    return Role.USER.value


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
        role_id = user.get("role_id")
        role = data.roles.get(role_id) if isinstance(role_id, int) else None
        targets = _targets(
            user,
            role,
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
            _role(role),
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
    return FabOMaticPlan(machine_types, out.getvalue(), notes)


def _targets(
    user: dict[str, Any],
    role: dict[str, Any] | None,
    machine_ids: set[int],
    data: FabOMaticData,
    type_name: dict[int, str],
    machines_of_type: dict[int, set[int]],
    devices: dict[int, str],
    notes: list[dict[str, Any]],
) -> list[str]:
    """Return the authorizations: whole machine types where all are granted."""
    if role is not None and role.get("authorize_all") and not role.get("backend_admin"):
        notes.append({"what": "authorize_all_as_grants", "user_id": user["user_id"]})
        return sorted(type_name.values())
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
    types it needs are made first and taken away again if the members are not
    imported.
    """
    mapped = plan(lab, data)
    created = [t for t in mapped.machine_types if t["action"] == "create"]
    pending = [t["name"] for t in created]
    report: dict[str, Any] = {
        "machine_types": [
            {k: v for k, v in t.items() if k != "fields"} for t in mapped.machine_types
        ],
        "not_mapped": mapped.not_mapped,
    }
    dry = await member_import.async_import(
        lab, mapped.csv_text, dry_run=True, strict=strict, pending_types=pending
    )
    if dry_run or (strict and dry["summary"]["reject"]):
        return {**report, "members": {**dry, "dry_run": dry_run}, "applied": False}
    made: list[str] = []
    try:
        for machine_type in created:
            item = await lab.machine_types.async_create_item(machine_type["fields"])
            machine_type["id"] = item["id"]
            made.append(item["id"])
        members = await member_import.async_import(
            lab, mapped.csv_text, dry_run=False, strict=strict
        )
    except BaseException:
        await _async_remove_types(lab, made)
        raise
    if not members["applied"] and members["summary"]["reject"]:
        await _async_remove_types(lab, made)  # strict, and the lab changed meanwhile
        return {**report, "members": members, "applied": False}
    report["machine_types"] = [
        {k: v for k, v in t.items() if k != "fields"} for t in mapped.machine_types
    ]
    return {**report, "members": members, "applied": True}


async def _async_remove_types(lab: Lab, type_ids: list[str]) -> None:
    for type_id in reversed(type_ids):
        if type_id in lab.machine_types.data:
            await lab.machine_types.async_delete_item(type_id)
