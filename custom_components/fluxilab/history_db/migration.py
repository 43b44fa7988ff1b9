"""Bring a history database to the schema this code writes.

A new database gets every table of schema.py at once and is stamped with
``SCHEMA_VERSION``. An older one gets the steps above its version, in order, each in
its own transaction with the row that records it: a step that fails leaves the
database at the version before it. Add a step here (and bump ``SCHEMA_VERSION``)
whenever schema.py changes a table that exists in released versions.
"""

from __future__ import annotations

from collections.abc import Callable
import logging
import time
from typing import Final

from sqlalchemy import false, func, insert, inspect, select, text, true, update
from sqlalchemy.engine import Connection, Engine

from .schema import (
    ACTOR_FIELDS,
    SCHEMA_VERSION,
    TABLE_PREFIX,
    audit,
    metadata,
    schema_version,
    sessions,
)

_LOGGER = logging.getLogger(__name__)

type Step = Callable[[Connection], None]


def _add_actor_columns(connection: Connection) -> None:
    """Add who made an admin change (schema 2): personal columns of both tables."""
    preparer = connection.dialect.identifier_preparer
    for table in (sessions, audit):
        for name in ACTOR_FIELDS:
            column = table.c[name]
            connection.execute(
                text(
                    f"ALTER TABLE {preparer.format_table(table)} ADD COLUMN "
                    f"{preparer.format_column(column)} "
                    f"{column.type.compile(dialect=connection.dialect)} NULL"
                )
            )
    for index in audit.indexes:
        if index.name == f"ix_{TABLE_PREFIX}audit_actor_member":
            index.create(connection)


def _add_audit_buffered(connection: Connection) -> None:
    """Add whether a device recorded an audit entry offline (schema 3).

    Filled from each row's ``data``, the entry whole as compact JSON (orjson), where
    the key reads ``"buffered":true`` or ``"buffered":false``; rows without it (admin
    changes) stay null, as new ones are written.
    """
    preparer = connection.dialect.identifier_preparer
    column = audit.c.buffered
    connection.execute(
        text(
            f"ALTER TABLE {preparer.format_table(audit)} ADD COLUMN "
            f"{preparer.format_column(column)} "
            f"{column.type.compile(dialect=connection.dialect)} NULL"
        )
    )
    for value, flag in ((true(), "true"), (false(), "false")):
        connection.execute(
            update(audit)
            .where(audit.c.data.like(f'%"buffered":{flag}%'))
            .values(buffered=value)
        )
    for index in audit.indexes:
        if index.name == f"ix_{TABLE_PREFIX}audit_buffered":
            index.create(connection)


STEPS: Final[dict[int, Step]] = {2: _add_actor_columns, 3: _add_audit_buffered}
"""Version -> the step that brings a database from the version before to it.

Version 1 is the first schema: made by ``metadata.create_all``, so it has no step.
"""


class SchemaTooNewError(Exception):
    """The database was written by a newer FluxiLab: refuse rather than damage it."""


def current_version(connection: Connection) -> int | None:
    """Return the schema version of the database, None if it has no schema yet."""
    if not inspect(connection).has_table(schema_version.name):
        return None
    version = connection.execute(select(func.max(schema_version.c.version))).scalar()
    return int(version) if version is not None else None


def migrate(engine: Engine) -> int:
    """Create or migrate the schema; return the version the database was at (0: new)."""
    with engine.begin() as connection:
        found = current_version(connection)
        if found is None:
            metadata.create_all(connection)
            connection.execute(
                insert(schema_version).values(
                    version=SCHEMA_VERSION, applied=time.time()
                )
            )
            return 0
    if found > SCHEMA_VERSION:
        raise SchemaTooNewError(
            f"history database schema {found} is newer than {SCHEMA_VERSION}"
        )
    for version in range(found + 1, SCHEMA_VERSION + 1):
        _LOGGER.info("Migrating the FluxiLab history database to schema %s", version)
        with engine.begin() as connection:
            STEPS[version](connection)
            connection.execute(
                insert(schema_version).values(version=version, applied=time.time())
            )
    return found
