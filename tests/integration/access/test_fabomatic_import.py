"""A lab moving from Fab-O-Matic's backend imports its database (fabomatic_import.py).

The database here is built with the tables and columns the backend's models have
(fablab-bergamo FabOMatic, database/models.py): roles with their flags, users with
a surname and one card, machine types in minutes, machines, per-machine
authorizations, and history FluxiLab reports but does not import.
"""

from __future__ import annotations

import copy
from pathlib import Path
import sqlite3
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser

from custom_components.fluxilab.access.credentials import member_cards
from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.const import CONF_FABOMATIC_MACHINE
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
]
MACHINES = [
    (1, "Laser 1", 1, 120.5, 0, None),
    (2, "Prusa A", 2, 300.0, 0, None),
    (3, "Prusa B", 2, 10.0, 0, None),
    (4, "Drill", 3, 1.0, 0, None),
]
# Luca may use both printers (the whole type) and the laser; Marco one printer.
AUTHORIZATIONS = [(1, 3, 2), (2, 3, 3), (3, 3, 1), (4, 2, 2)]


def make_database(path: Path, users: list[tuple[Any, ...]] = USERS) -> Path:
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    db.executemany("INSERT INTO roles VALUES (?,?,?,?,?,?)", ROLES)
    db.executemany("INSERT INTO users VALUES (?,?,?,?,?,?,?,?,?,?)", users)
    db.executemany("INSERT INTO machine_types VALUES (?,?,?,?,?)", MACHINE_TYPES)
    db.executemany("INSERT INTO machines VALUES (?,?,?,?,?,?)", MACHINES)
    db.executemany("INSERT INTO authorizations VALUES (?,?,?)", AUTHORIZATIONS)
    db.executemany(
        "INSERT INTO uses VALUES (?,?,?,?,?,?,?)",
        [(i, 3, 1, 1000.0 * i, 1000.0 * i + 60, 1000.0 * i + 60, 0) for i in range(7)],
    )
    db.execute("INSERT INTO maintenances VALUES (1, 100, 'Clean lens', 'Lens', 1, '')")
    db.commit()
    db.close()
    return path


def state(engine: AccessEngine) -> tuple[Any, ...]:
    return tuple(
        copy.deepcopy(dict(c.data))
        for c in (
            engine.members,
            engine.authorizations,
            engine.machine_types,
            engine.roles,
        )
    )


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
    assert [(t["name"], t["action"]) for t in report["machine_types"]] == [
        ("Laser", "create"),
        ("Printer 3D", "create"),
        ("Drill", "create"),
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
    assert not any(note["what"] == "authorize_all_as_grants" for note in notes)
    # Marco may use one printer of two, on no adopted device: reported.
    assert {
        "what": "machine_authorization",
        "user_id": 2,
        "machine": "Prusa A",
    } in notes
    assert {
        "what": "grace_period_capped",
        "machine_type": "Printer 3D",
        "minutes": 90.0,
    } in notes
    assert {"what": "uses", "count": 7} in notes
    assert {"what": "maintenances", "count": 1} in notes
    assert {"what": "machine_hours", "hours": 431.5} in notes


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
    assert types["Printer 3D"]["grace_period"] == 3600  # capped, and reported
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
    assert member_cards(members["Anna Verdi"]) == ["04A1B2C3D4"]
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
