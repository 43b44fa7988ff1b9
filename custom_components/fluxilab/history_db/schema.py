"""The tables of the history database (SQLAlchemy Core; HA-free).

One row per session and per audit entry, keyed by the ``entry_id`` the history gives
every entry (the journal's key too, so applying a journal row again replaces the row).
The columns the panel filters and sorts on are real, indexed columns; the personal
fields are columns as well, so the retention anonymizes with one UPDATE; whatever
else an entry holds is kept whole in ``data`` (JSON, with the personal fields'
keys present and null), so a row gives back exactly the entry it was made from.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects import mysql

SCHEMA_VERSION: Final = 3
"""The version this code writes; migration.py brings older databases to it."""
TABLE_PREFIX: Final = "fluxilab_"
"""Every table is prefixed: the database may be the recorder's own."""

PERSONAL_FIELDS: Final = (
    "member_id",
    "member_name",
    "card",
    "trainer_id",
    "trainer_name",
    "actor_user_id",
    "actor_name",
    "actor_member_id",
)
"""Entry fields that name a person: columns, blanked by the anonymization.

``actor_*`` (schema 2): who made an admin change (access/admin_audit.py)."""
ACTOR_FIELDS: Final = PERSONAL_FIELDS[5:]
"""The personal columns schema 2 added (migration.py)."""

# Doubles everywhere (MySQL's FLOAT is single precision); long text for MySQL.
DOUBLE = Float().with_variant(mysql.DOUBLE(asdecimal=False), "mysql", "mariadb")
JSON_TEXT = Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
ID = String(255)
ENTRY_ID = BigInteger().with_variant(Integer, "sqlite")
"""SQLite: INTEGER PRIMARY KEY, the table's own row id (no second index)."""

metadata = MetaData()

schema_version = Table(
    f"{TABLE_PREFIX}schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("applied", DOUBLE, nullable=False),
)
"""One row per migration step applied (the highest is the schema's version)."""

meta = Table(
    f"{TABLE_PREFIX}meta",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", BigInteger, nullable=False),
)
"""``journal_mark``: the journal commit the database holds everything of."""

state = Table(
    f"{TABLE_PREFIX}state",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", JSON_TEXT, nullable=False),
)
"""The history's small documents, whole (settings, usage counters, check-ins ...)."""


def _personal() -> list[Column[str]]:
    """Ids (indexed) as strings, names as text."""
    return [
        Column(name, Text if name.endswith("_name") else ID, nullable=True)
        for name in PERSONAL_FIELDS
    ]


sessions = Table(
    f"{TABLE_PREFIX}sessions",
    metadata,
    Column("entry_id", ENTRY_ID, primary_key=True, autoincrement=False),
    Column("session_id", ID, nullable=False),
    Column("device_id", ID, nullable=False),
    Column("start_ts", DOUBLE, nullable=False),
    Column("end_ts", DOUBLE, nullable=True),
    Column("duration", DOUBLE, nullable=True),
    Column("closed_by", String(64), nullable=True),
    Column("buffered", Boolean, nullable=True),
    *_personal(),
    Column("anonymized", Boolean, nullable=False, default=False),
    Column("data", JSON_TEXT, nullable=False),
    Index(f"ix_{TABLE_PREFIX}sessions_session_id", "session_id"),
    Index(f"ix_{TABLE_PREFIX}sessions_start", "start_ts"),
    Index(f"ix_{TABLE_PREFIX}sessions_end", "end_ts"),
    Index(f"ix_{TABLE_PREFIX}sessions_device_start", "device_id", "start_ts"),
    Index(f"ix_{TABLE_PREFIX}sessions_member_start", "member_id", "start_ts"),
    Index(f"ix_{TABLE_PREFIX}sessions_card", "card"),
)

audit = Table(
    f"{TABLE_PREFIX}audit",
    metadata,
    Column("entry_id", ENTRY_ID, primary_key=True, autoincrement=False),
    Column("ts", DOUBLE, nullable=False),
    Column("kind", String(64), nullable=False),
    Column("device_id", ID, nullable=True),
    *_personal(),
    Column("anonymized", Boolean, nullable=False, default=False),
    Column("data", JSON_TEXT, nullable=False),
    # Schema 3: recorded at the device while the hub was unreachable, sent later
    # (null: the entry has no such notion, e.g. an admin change).
    Column("buffered", Boolean, nullable=True),
    Index(f"ix_{TABLE_PREFIX}audit_ts", "ts"),
    Index(f"ix_{TABLE_PREFIX}audit_kind", "kind", "entry_id"),
    Index(f"ix_{TABLE_PREFIX}audit_device", "device_id", "entry_id"),
    Index(f"ix_{TABLE_PREFIX}audit_member", "member_id", "entry_id"),
    Index(f"ix_{TABLE_PREFIX}audit_card", "card"),
    Index(f"ix_{TABLE_PREFIX}audit_actor_member", "actor_member_id"),
    Index(f"ix_{TABLE_PREFIX}audit_buffered", "buffered", "entry_id"),
)

unknown_cards = Table(
    f"{TABLE_PREFIX}unknown_cards",
    metadata,
    Column("card", ID, primary_key=True),
    Column("device_id", ID, nullable=False),
    Column("ts", DOUBLE, nullable=False),
    Index(f"ix_{TABLE_PREFIX}unknown_cards_ts", "ts"),
)
"""Cards seen that nobody holds: the latest sighting of each."""

ENTRY_TABLES: Final = {"sessions": sessions, "audit": audit}
SESSION_COLUMNS: Final = {
    "session_id": sessions.c.session_id,
    "device_id": sessions.c.device_id,
    "member_id": sessions.c.member_id,
    "member_name": sessions.c.member_name,
    "card": sessions.c.card,
    "start": sessions.c.start_ts,
    "end": sessions.c.end_ts,
    "duration": sessions.c.duration,
    "closed_by": sessions.c.closed_by,
    "buffered": sessions.c.buffered,
}
"""Session fields that are columns too (the usage CSV reads only these)."""
