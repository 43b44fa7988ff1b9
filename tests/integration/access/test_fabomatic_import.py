"""A lab moving from Fab-O-Matic's backend imports its database (fabomatic_import.py).

The database here is built with the tables and columns the backend's models have
(fablab-bergamo FabOMatic, database/models.py): roles with their flags, users with
a surname and one card, machine types in minutes, machines with their hours,
per-machine authorizations, and the history: uses, maintenance plans and
interventions, unknown cards.
"""

from __future__ import annotations

import copy
from pathlib import Path
import sqlite3
import time
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser

from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.access.errors import AccessValidationError
from custom_components.fluxilab.access.member_models import Member
from custom_components.fluxilab.const import CONF_FABOMATIC_MACHINE
from custom_components.fluxilab.history_db import (
    AuditEntry,
    AuditQuery,
    HistoryDatabase,
    SessionQuery,
    SessionRecord,
)
from tests.integration.conftest import DEVICE_ID

from .conftest import call

SCHEMA = """
CREATE TABLE roles (role_id INTEGER PRIMARY KEY, role_name TEXT NOT NULL,
  authorize_all BOOLEAN NOT NULL, reserved BOOLEAN NOT NULL,
  maintenance BOOLEAN NOT NULL, backend_admin BOOLEAN NOT NULL);
CREATE TABLE users (user_id INTEGER PRIMARY KEY, name TEXT NOT NULL,
  surname TEXT NOT NULL, role_id INTEGER NOT NULL, card_UUID TEXT,
  disabled BOOLEAN NOT NULL, deleted BOOLEAN NOT NULL, password_hash TEXT,
  email TEXT, receive_weekly_summary BOOLEAN NOT NULL DEFAULT 0);
CREATE TABLE machine_types (type_id INTEGER PRIMARY KEY, type_name TEXT NOT NULL,
  type_timeout_min INTEGER NOT NULL, grace_period_min INTEGER,
  access_management INTEGER);
CREATE TABLE machines (machine_id INTEGER PRIMARY KEY, machine_name TEXT NOT NULL,
  machine_type_id INTEGER, machine_hours FLOAT NOT NULL, blocked BOOLEAN NOT NULL,
  last_seen FLOAT);
CREATE TABLE authorizations (authorization_id INTEGER PRIMARY KEY,
  user_id INTEGER NOT NULL, machine_id INTEGER NOT NULL);
CREATE TABLE uses (use_id INTEGER PRIMARY KEY, user_id INTEGER, machine_id INTEGER,
  start_timestamp FLOAT, last_seen FLOAT, end_timestamp FLOAT, replay BOOLEAN);
CREATE TABLE maintenances (maintenance_id INTEGER PRIMARY KEY, hours_between FLOAT,
  description TEXT, lcd_message TEXT, machine_id INTEGER, instructions_url TEXT);
CREATE TABLE interventions (intervention_id INTEGER PRIMARY KEY,
  maintenance_id INTEGER, machine_id INTEGER, user_id INTEGER, timestamp FLOAT,
  replay BOOLEAN);
CREATE TABLE unknown_cards (id INTEGER PRIMARY KEY, card_UUID TEXT, timestamp FLOAT,
  machine_id INTEGER);
"""

ROLES = [
    (1, "Fab Manager", 1, 1, 1, 1),
    (2, "Maintainer", 0, 0, 1, 0),
    (3, "Member", 0, 0, 0, 0),
    (4, "Tutor", 1, 0, 0, 0),
]
USERS = [
    (1, "Anna", "Verdi", 1, "04A1B2C3D4", 0, 0, None, "anna@lab.example", 0),
    (2, "Marco", "Neri", 2, "04FFEE0011", 0, 0, None, None, 0),
    (3, "Luca", "Blu", 3, "04ABCDEF01", 1, 0, None, None, 0),
    (4, "Old", "Timer", 3, "04DEADBEEF", 0, 1, None, None, 0),
    (5, "Tina", "Rosa", 4, None, 0, 0, None, None, 0),
]
MACHINE_TYPES = [
    (1, "Laser", 60, 2, 0),
    (2, "Printer 3D", 30, 90, 0),
    (3, "Drill", 5, 0, 1),
    (4, "Kiln", 600, 2000, 0),
]
MACHINES = [
    (1, "Laser 1", 1, 120.5, 0, None),
    (2, "Prusa A", 2, 300.0, 0, None),
    (3, "Prusa B", 2, 10.0, 0, None),
    (4, "Drill", 3, 1.0, 0, None),
]
# Luca may use both printers (the whole type) and the laser; Marco one printer.
AUTHORIZATIONS = [(1, 3, 2), (2, 3, 3), (3, 3, 1), (4, 2, 2)]


# Luca used the laser seven times, a minute each; the rest are the odd cases.
USES = [
    *((i, 3, 1, 1000.0 * i, 1000.0 * i + 60, 1000.0 * i + 60, 0) for i in range(7)),
    (10, 4, 2, 50_000.0, 50_600.0, 50_600.0, 0),  # a deleted user: no member
    (11, 2, 2, 60_000.0, 60_300.0, None, 0),  # never stopped: until last seen
    (12, 1, 3, 70_000.0, 70_900.0, 70_900.0, 1),  # replayed by the board
    (13, 3, 99, 80_000.0, 80_060.0, 80_060.0, 0),  # no such machine
]
NOZZLE = "https://wiki.lab.example/nozzle"
MAINTENANCES = [
    (1, 100, "Clean lens", "Lens", 1, ""),
    (2, 50, "Change nozzle", "Nozzle", 2, NOZZLE),
    (3, 40, "Change nozzle", "Nozzle", 3, NOZZLE),  # differs from Prusa A's
    (4, 500, "Grease rails", None, 2, None),  # a second plan of Prusa A
    (5, 10, "Check chuck", "", 4, "ftp://files.lab.example/chuck"),
]
# Marco cleaned the laser's lens before Luca's last three uses; Anna changed
# Prusa A's nozzle (recorded offline by the board).
INTERVENTIONS = [(1, 1, 1, 2, 3500.0, 0), (2, 2, 2, 1, 65_000.0, 1)]


def unknown_cards(now: float) -> list[tuple[Any, ...]]:
    return [
        (1, "CAFEBABE", now - 3600, 1),
        (2, "CAFEBABE", now - 60, 4),  # the latest sighting counts
        (3, "04A1B2C3D4", now - 100, 1),  # Anna's card, a member's now
        (4, "DEADBEEF00", 1000.0, 1),  # older than the retention keeps
    ]


def make_database(path: Path, users: list[tuple[Any, ...]] = USERS) -> Path:
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    db.executemany("INSERT INTO roles VALUES (?,?,?,?,?,?)", ROLES)
    db.executemany("INSERT INTO users VALUES (?,?,?,?,?,?,?,?,?,?)", users)
    db.executemany("INSERT INTO machine_types VALUES (?,?,?,?,?)", MACHINE_TYPES)
    db.executemany("INSERT INTO machines VALUES (?,?,?,?,?,?)", MACHINES)
    db.executemany("INSERT INTO authorizations VALUES (?,?,?)", AUTHORIZATIONS)
    db.executemany("INSERT INTO uses VALUES (?,?,?,?,?,?,?)", USES)
    db.executemany("INSERT INTO maintenances VALUES (?,?,?,?,?,?)", MAINTENANCES)
    db.executemany("INSERT INTO interventions VALUES (?,?,?,?,?,?)", INTERVENTIONS)
    db.executemany(
        "INSERT INTO unknown_cards VALUES (?,?,?,?)", unknown_cards(time.time())
    )
    db.commit()
    db.close()
    return path


def state(engine: AccessEngine) -> tuple[Any, ...]:
    return (
        *(
            copy.deepcopy(dict(c.data))
            for c in (engine.members, engine.authorizations, engine.machine_types)
        ),
        copy.deepcopy(engine.history.data["usage"]),
        copy.deepcopy(engine.history.data["unknown_cards"]),
        copy.deepcopy(dict(engine.roles.data)),
    )


async def imported(engine: AccessEngine) -> tuple[dict[str, Any], dict[str, Any]]:
    """The sessions and interventions in the history database, by import id."""
    sessions = await engine.history.async_sessions(SessionQuery())
    audit = await engine.history.async_audit_page(
        AuditQuery(kind="maintenance", limit=1000)
    )
    return (
        {
            s["import_id"]: s
            for s in map(SessionRecord.as_wire, sessions)
            if "import_id" in s
        },
        {a["import_id"]: a for a in map(AuditEntry.as_wire, audit) if "import_id" in a},
    )


async def import_now(hass: HomeAssistant, user: MockUser, path: str) -> Any:
    report = await call(
        hass, "import_fabomatic", {"path": path, "dry_run": False}, user, response=True
    )
    await hass.async_block_till_done()
    return report


@pytest.fixture
def database(hass: HomeAssistant, tmp_path: Path) -> str:
    """A Fab-O-Matic database in the configuration folder; its name."""
    hass.config.config_dir = str(tmp_path)
    make_database(tmp_path / "fabomatic.db")
    return "fabomatic.db"


async def test_dry_run_maps_and_reports(
    hass: HomeAssistant, engine: AccessEngine, hass_admin_user: MockUser, database: str
) -> None:
    """What would be made of each table, and what has no place: nothing written."""
    before = state(engine)
    report = await call(
        hass, "import_fabomatic", {"path": database}, hass_admin_user, response=True
    )
    assert state(engine) == before
    assert report["applied"] is False
    assert await imported(engine) == ({}, {})
    assert [
        (t["name"], t["action"], t.get("maintenance_interval"))
        for t in report["machine_types"]
    ] == [
        ("Laser", "create", 100),
        ("Printer 3D", "create", 50),
        ("Drill", "create", 10),
        ("Kiln", "create", None),
    ]
    rows = {row["name"]: row for row in report["members"]["rows"]}
    # The deleted user is not a member; the surname is part of the name.
    assert set(rows) == {"Anna Verdi", "Marco Neri", "Luca Blu", "Tina Rosa"}
    assert all(row["action"] == "create" for row in rows.values())
    assert {a["target"] for a in rows["Luca Blu"]["authorizations"]} == {
        "Laser",
        "Printer 3D",
    }
    # Tina's role authorizes all machines and is no built-in role: a lab role of
    # its own would be made (the others are admin, staff and user), not grants.
    assert report["roles"] == [{"name": "Tutor", "action": "create", "id": "tutor"}]
    assert rows["Tina Rosa"]["authorizations"] == []
    notes = report["not_mapped"]
    assert {"what": "deleted_user", "user_id": 4} in notes
    assert {"what": "surname_in_name", "count": 4} in notes
    assert not any(note["what"] == "authorize_all_as_grants" for note in notes)
    # Marco may use one printer of two, on no adopted device: reported.
    assert {
        "what": "machine_authorization",
        "user_id": 2,
        "machine": "Prusa A",
    } in notes
    # A grace over FluxiLab's day is capped; an hour and a half is not.
    assert [n for n in notes if n["what"] == "grace_period_capped"] == [
        {"what": "grace_period_capped", "machine_type": "Kiln", "minutes": 2000.0}
    ]
    # The history: what would come, and what has no place.
    assert report["history"] == {
        "sessions": 10,
        "sessions_already_imported": 0,
        "interventions": 2,
        "interventions_already_imported": 0,
        "unknown_cards": 1,
        "usage_hours": {
            "fabomatic-1": 120.5,
            "fabomatic-2": 300.0,
            "fabomatic-3": 10.0,
            "fabomatic-4": 1.0,
        },
    }
    for note in (
        {"what": "use_not_mapped", "count": 1},
        {"what": "use_not_ended", "count": 1},
        {"what": "unknown_card_expired", "count": 1},
        {"what": "unknown_card_now_member", "count": 1},
        {
            "what": "machine_not_adopted",
            "machine": "Laser 1",
            "device_id": "fabomatic-1",
        },
        {
            "what": "maintenance_plan_conflict",
            "machine_type": "Printer 3D",
            "machine": "Prusa B",
            "maintenance_id": 3,
        },
        {
            "what": "maintenance_plan_not_mapped",
            "machine": "Prusa A",
            "maintenance_id": 4,
        },
        {"what": "maintenance_url_invalid", "machine": "Drill", "maintenance_id": 5},
    ):
        assert note in notes
    assert not any(n["what"] in ("uses", "machine_hours") for n in notes)


async def test_import_writes_types_members_and_authorizations(
    hass: HomeAssistant,
    engine: AccessEngine,
    hass_admin_user: MockUser,
    database: str,
    init_integration: MockConfigEntry,
) -> None:
    """Applied: types in seconds, roles by their flags, a board's machine by device."""
    # The fumehood is the adopted board of Fab-O-Matic's "Prusa A".
    hass.config_entries.async_update_entry(
        init_integration, data={**init_integration.data, CONF_FABOMATIC_MACHINE: 2}
    )
    report = await call(
        hass,
        "import_fabomatic",
        {"path": database, "dry_run": False},
        hass_admin_user,
        response=True,
    )
    await hass.async_block_till_done()
    assert report["applied"] is True
    types = {t["name"]: t for t in engine.machine_types.data.values()}
    assert types["Laser"]["session_timeout"] == 3600
    assert types["Laser"]["grace_period"] == 120
    assert types["Printer 3D"]["grace_period"] == 5400  # 90 minutes, not capped
    assert types["Kiln"]["grace_period"] == 86400  # capped at a day, and reported
    # Each type has the plan its machines share (an invalid link left out).
    assert {
        key: types["Laser"].get(key)
        for key in (
            "maintenance_interval",
            "maintenance_description",
            "maintenance_message",
            "maintenance_url",
        )
    } == {
        "maintenance_interval": 100,
        "maintenance_description": "Clean lens",
        "maintenance_message": "Lens",
        "maintenance_url": None,
    }
    assert types["Printer 3D"]["maintenance_interval"] == 50
    assert types["Printer 3D"]["maintenance_url"] == NOZZLE
    assert types["Drill"]["maintenance_interval"] == 10
    assert types["Drill"].get("maintenance_url") is None
    assert types["Kiln"].get("maintenance_interval") is None
    assert types["Drill"]["requires_authorization"] is False
    members = {m["name"]: m for m in engine.members.data.values()}
    assert members["Anna Verdi"]["role"] == "admin"
    assert members["Anna Verdi"]["email"] == "anna@lab.example"
    assert members["Marco Neri"]["role"] == "staff"
    assert members["Luca Blu"]["role"] == "user"
    assert members["Luca Blu"]["active"] is False
    # Fab-O-Matic's "Tutor" (authorize_all only) is a lab role of its own now.
    assert report["roles"] == [{"name": "Tutor", "action": "create", "id": "tutor"}]
    assert members["Tina Rosa"]["role"] == "tutor"
    assert engine.roles.data["tutor"] == {
        "id": "tutor",
        "name": "Tutor",
        "authorize_all": True,
        "maintenance": False,
        "supervisor": False,
        "manage": False,
        "book_for_others": False,
    }
    assert engine.authorizations.of_member(members["Tina Rosa"]["id"]) == []
    # As a board sends it: the reference backend kept the uid as it was typed.
    assert Member.from_storage(members["Anna Verdi"]).cards() == ["04a1b2c3d4"]
    grants = {
        a.get("machine_type_id") or f"device:{a.get('device_id')}"
        for a in engine.authorizations.of_member(members["Marco Neri"]["id"])
    }
    assert grants == {f"device:{DEVICE_ID}"}
    luca = engine.authorizations.of_member(members["Luca Blu"]["id"])
    assert {a["machine_type_id"] for a in luca} == {
        types["Laser"]["id"],
        types["Printer 3D"]["id"],
    }
    assert not any(
        note["what"] == "machine_authorization" for note in report["not_mapped"]
    )


async def test_a_lab_role_of_the_same_name_is_reused(
    hass: HomeAssistant, engine: AccessEngine, hass_admin_user: MockUser, database: str
) -> None:
    """A lab role named as Fab-O-Matic's is taken, not made again."""
    await engine.roles.async_create_item({"name": "tutor", "authorize_all": True})
    report = await call(
        hass,
        "import_fabomatic",
        {"path": database, "dry_run": False},
        hass_admin_user,
        response=True,
    )
    await hass.async_block_till_done()
    assert report["applied"] is True
    assert report["roles"] == [{"name": "Tutor", "action": "existing", "id": "tutor"}]
    assert list(engine.roles.data) == ["tutor"]
    tina = next(m for m in engine.members.data.values() if m["name"] == "Tina Rosa")
    assert tina["role"] == "tutor"


async def test_import_brings_the_history_once(
    hass: HomeAssistant,
    engine: AccessEngine,
    hass_admin_user: MockUser,
    database: str,
    init_integration: MockConfigEntry,
) -> None:
    """Uses as sessions, interventions, hours and unknown cards; again: nothing."""
    hass.config_entries.async_update_entry(
        init_integration, data={**init_integration.data, CONF_FABOMATIC_MACHINE: 2}
    )
    report = await import_now(hass, hass_admin_user, database)
    assert report["applied"] is True
    assert report["history"] == {
        "sessions": 10,
        "interventions": 2,
        "unknown_cards": 1,
        "usage_hours": {
            "fabomatic-1": 120.5,
            DEVICE_ID: 300.0,
            "fabomatic-3": 10.0,
            "fabomatic-4": 1.0,
        },
        "sessions_without_member": 1,
    }
    members = {m["name"]: m["id"] for m in engine.members.data.values()}
    sessions, interventions = await imported(engine)
    assert len(sessions) == 10
    first = sessions["fabomatic-use-0"]
    assert (first["device_id"], first["member_id"], first["member_name"]) == (
        "fabomatic-1",
        members["Luca Blu"],
        "Luca Blu",
    )
    assert (first["start"], first["end"], first["duration"]) == (0.0, 60.0, 60.0)
    assert (first["closed_by"], first["buffered"], first["imported"]) == (
        "device",
        False,
        "fabomatic",
    )
    # On the adopted board; the deleted user's use names nobody.
    assert sessions["fabomatic-use-10"]["device_id"] == DEVICE_ID
    assert sessions["fabomatic-use-10"]["member_id"] is None
    never_stopped = sessions["fabomatic-use-11"]
    assert (never_stopped["duration"], never_stopped["closed_by"]) == (300.0, "timeout")
    replayed = sessions["fabomatic-use-12"]
    assert (replayed["device_id"], replayed["buffered"]) == ("fabomatic-3", True)
    assert replayed["member_id"] == members["Anna Verdi"]
    assert "fabomatic-use-13" not in sessions  # machine 99 does not exist
    # Interventions: who, the hours then, the plan done as the note.
    lens = interventions["fabomatic-intervention-1"]
    assert lens["ts"] == 3500.0
    assert (lens["device_id"], lens["member_id"]) == (
        "fabomatic-1",
        members["Marco Neri"],
    )
    # 120.5 h today, less Luca's three minutes after it.
    assert (lens["hours"], lens["since_maintenance"]) == (120.45, 120.45)
    assert (lens["interval"], lens["note"], lens["buffered"]) == (
        100,
        "Clean lens",
        False,
    )
    nozzle = interventions["fabomatic-intervention-2"]
    assert (nozzle["device_id"], nozzle["hours"], nozzle["buffered"]) == (
        DEVICE_ID,
        300.0,
        True,
    )
    # Machine hours on the devices, and the hours since the last intervention.
    laser = engine.history.data["usage"]["fabomatic-1"]
    assert (laser["hours"], laser["since_maintenance"], laser["last_maintenance"]) == (
        120.5,
        0.05,
        3500.0,
    )
    board = engine.history.data["usage"][DEVICE_ID]
    assert (board["hours"], board["since_maintenance"]) == (300.0, 0.0)
    assert hass.states.get("sensor.fumehood_1_usage_hours").state == "300.0"
    assert engine.history.data["usage"]["fabomatic-3"]["since_maintenance"] == 10.0
    # The unknown card at its latest sighting; Anna's card is hers.
    cards = engine.history.data["unknown_cards"]
    assert set(cards) == {"cafebabe"}
    assert cards["cafebabe"].device_id == "fabomatic-4"

    before = (state(engine), await imported(engine))
    again = await import_now(hass, hass_admin_user, database)
    assert again["applied"] is True
    assert again["history"] == {
        "sessions": 0,
        "interventions": 0,
        "unknown_cards": 0,
        "usage_hours": {},
        "sessions_without_member": 1,
    }
    assert (state(engine), await imported(engine)) == before
    dry = await call(
        hass, "import_fabomatic", {"path": database}, hass_admin_user, response=True
    )
    assert dry["history"]["sessions"] == 0
    assert dry["history"]["sessions_already_imported"] == 10
    assert dry["history"]["interventions_already_imported"] == 2


async def test_existing_types_get_a_plan_only_if_they_have_none(
    hass: HomeAssistant, engine: AccessEngine, hass_admin_user: MockUser, database: str
) -> None:
    """The laser had no plan: it gets Fab-O-Matic's. The printers' is kept."""
    laser = await engine.machine_types.async_create_item({"name": "laser"})
    printer = await engine.machine_types.async_create_item(
        {"name": "Printer 3D", "maintenance_interval": 20}
    )
    report = await import_now(hass, hass_admin_user, database)
    assert report["applied"] is True
    laser = engine.machine_types.data[laser["id"]]
    assert (laser["maintenance_interval"], laser["maintenance_message"]) == (
        100,
        "Lens",
    )
    assert engine.machine_types.data[printer["id"]]["maintenance_interval"] == 20
    assert engine.machine_types.data[printer["id"]].get("maintenance_url") is None
    assert {"what": "maintenance_plan_kept", "machine_type": "Printer 3D"} in report[
        "not_mapped"
    ]


async def test_a_failed_history_write_undoes_the_members(
    hass: HomeAssistant,
    engine: AccessEngine,
    hass_admin_user: MockUser,
    database: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The history database refuses: no member, no machine type, no history."""

    def refuse(*_args: Any) -> dict[str, int]:
        raise RuntimeError("disk full")

    monkeypatch.setattr(HistoryDatabase, "insert_imported", refuse)
    await engine.machine_types.async_create_item({"name": "Laser"})  # no plan yet
    before = state(engine)
    with pytest.raises(RuntimeError):
        await import_now(hass, hass_admin_user, database)
    # The laser's plan is taken back (an update can only set it to nothing).
    after = state(engine)
    laser = next(t for t in after[2].values() if t["name"] == "Laser")
    assert {k: v for k, v in laser.items() if v is not None} == next(
        t for t in before[2].values() if t["name"] == "Laser"
    )
    assert (after[0], after[1], after[3], after[4], after[5]) == (
        before[0],
        before[1],
        before[3],
        before[4],
        before[5],  # no lab role left over
    )
    assert set(after[2]) == set(before[2])  # no machine type left over
    assert await imported(engine) == ({}, {})


async def test_a_grace_period_of_up_to_a_day(engine: AccessEngine) -> None:
    """Fab-O-Matic's long grace periods fit a machine type; over a day does not."""
    kiln = await engine.machine_types.async_create_item(
        {"name": "Kiln", "grace_period": 86400}
    )
    assert kiln["grace_period"] == 86400
    with pytest.raises(AccessValidationError):
        await engine.machine_types.async_create_item(
            {"name": "Oven", "grace_period": 86401}
        )


async def test_strict_import_of_a_bad_user_makes_nothing(
    hass: HomeAssistant, engine: AccessEngine, hass_admin_user: MockUser, tmp_path: Path
) -> None:
    """A user FluxiLab refuses: no member, and no machine type either."""
    hass.config.config_dir = str(tmp_path)
    make_database(
        tmp_path / "bad.db",
        [*USERS, (6, " ", " ", 3, "04ABCDEF01", 0, 0, None, None, 0)],
    )
    before = state(engine)
    report = await call(
        hass,
        "import_fabomatic",
        {"path": "bad.db", "dry_run": False},
        hass_admin_user,
        response=True,
    )
    await hass.async_block_till_done()
    assert report["applied"] is False
    reasons = [
        r["reason"]["translation_key"]
        for r in report["members"]["rows"]
        if r["action"] == "reject"
    ]
    assert reasons == ["import_missing_name"]
    assert state(engine) == before


@pytest.mark.parametrize(
    ("path", "content", "key"),
    [
        ("/etc/passwd", None, "fabomatic_path_not_allowed"),
        ("../outside.db", None, "fabomatic_path_not_allowed"),
        ("missing.db", None, "fabomatic_no_database"),
        ("notes.db", b"not a database at all", "fabomatic_no_database"),
        ("empty.db", b"", "fabomatic_missing_table"),
    ],
)
async def test_what_is_not_a_fabomatic_database(
    hass: HomeAssistant,
    engine: AccessEngine,
    hass_admin_user: MockUser,
    tmp_path: Path,
    path: str,
    content: bytes | None,
    key: str,
) -> None:
    """Refused with a translated reason; outside the config folder never read."""
    config = tmp_path / "config"
    config.mkdir()
    hass.config.config_dir = str(config)
    (tmp_path / "outside.db").write_bytes(b"")
    if content is not None:
        (config / path).write_bytes(content)
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass, "import_fabomatic", {"path": path}, hass_admin_user, response=True
        )
    assert err.value.translation_key == key
