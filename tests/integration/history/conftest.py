"""The history database on each dialect it supports: SQLite, PostgreSQL, MariaDB."""

from __future__ import annotations

from collections.abc import Iterator
import itertools
from pathlib import Path

import pytest

from custom_components.fluxilab.history_db import HistoryDatabase, sqlite_url

from .servers import (  # noqa: F401  # fixtures
    create_postgresql_database,
    mariadb_server,
    postgresql_module_server,
)

DIALECTS = ("sqlite", "postgresql", "mariadb")


_names = itertools.count(1)


@pytest.fixture(params=DIALECTS)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, socket_enabled: None
) -> str:
    """The URL of an empty database of each dialect (a server per module)."""
    name = f"fluxilab_t{next(_names)}"
    if request.param == "postgresql":
        server = request.getfixturevalue("postgresql_module_server")
        return create_postgresql_database(server, name)
    if request.param == "mariadb":
        return str(request.getfixturevalue("mariadb_server").create_database(name))
    return sqlite_url(str(tmp_path / "history.db"))


def opened(url: str) -> HistoryDatabase:
    """Open a database here (tests call its blocking methods directly)."""
    db = HistoryDatabase(url)
    db.open()
    return db


def closed(db: HistoryDatabase) -> None:
    """Close a database and stop its worker thread."""
    db.close()
    db.shutdown()


@pytest.fixture
def database(database_url: str) -> Iterator[HistoryDatabase]:
    """An open, empty history database of each dialect."""
    db = opened(database_url)
    yield db
    closed(db)
