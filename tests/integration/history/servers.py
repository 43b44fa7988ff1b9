"""Throwaway database servers for the history database tests.

PostgreSQL is tests/integration/test_backfill_postgresql.py's server, started once
per module here. MariaDB is
Debian's ``mariadb-server`` (installed by scripts/bootstrap), made fresh with
``mariadb-install-db`` in a temporary folder and started on a free loopback port; a
test is skipped, saying why, only where that server cannot start here.
"""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
import os
from pathlib import Path
import pwd
import shutil
import socket
import subprocess
import tempfile
import time

import pytest
import pytest_socket

from tests.integration.test_backfill_postgresql import (
    PostgreSQLServer,
    _server_binaries,
    _server_user,
)
from tests.mosquitto import free_port

START_TIMEOUT = 60.0
DATABASE = "fluxilab_history"


def _mariadb_user() -> str | None:
    """Return the user to run the server as when we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("mysql", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    pytest.skip("MariaDB refuses root and there is no mysql or nobody user")


class MariaDBServer:
    """A throwaway MariaDB server listening on 127.0.0.1 only."""

    def __init__(self, workdir: Path, user: str | None) -> None:
        """Prepare paths; nothing runs until start."""
        self.workdir = workdir
        self.datadir = workdir / "data"
        self.log = workdir / "mariadb.log"
        self.user = user
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Make the data folder, start the server and create the database."""
        user = [f"--user={self.user}"] if self.user else []
        install = subprocess.run(
            [
                "mariadb-install-db",
                "--no-defaults",
                f"--datadir={self.datadir}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                *user,
            ],
            capture_output=True,
            check=False,
            timeout=START_TIMEOUT,
        )
        if install.returncode:
            pytest.skip(f"mariadb-install-db failed: {install.stderr.decode()[-500:]}")
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    "mariadbd",
                    "--no-defaults",
                    f"--datadir={self.datadir}",
                    f"--port={self.port}",
                    "--bind-address=127.0.0.1",
                    f"--socket={self.workdir / 'mariadb.sock'}",
                    f"--pid-file={self.workdir / 'mariadb.pid'}",
                    # Only this test connects; nothing here needs the grant tables.
                    "--skip-grant-tables",
                    "--skip-log-bin",
                    # A throwaway server: durability buys nothing here.
                    "--innodb-flush-log-at-trx-commit=0",
                    "--innodb-buffer-pool-size=256M",
                    *user,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        import pymysql  # noqa: PLC0415  # only where a MariaDB test runs

        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.skip(f"MariaDB exited: {self.log.read_text()[-500:]}")
            try:
                connection = pymysql.connect(
                    host="127.0.0.1", port=self.port, user="root", connect_timeout=1
                )
            except pymysql.err.OperationalError:
                time.sleep(0.2)
                continue
            with connection.cursor() as cursor:
                cursor.execute(
                    f"CREATE DATABASE {DATABASE} CHARACTER SET utf8mb4"
                    " COLLATE utf8mb4_unicode_ci"
                )
            connection.close()
            return
        self.stop()
        pytest.skip(f"MariaDB did not accept connections in {START_TIMEOUT} s")

    def url(self, database: str = DATABASE) -> str:
        """Return the SQLAlchemy URL of a database."""
        return f"mysql+pymysql://root@127.0.0.1:{self.port}/{database}?charset=utf8mb4"

    def create_database(self, name: str) -> str:
        """Create another (empty) database; return its URL."""
        import pymysql  # noqa: PLC0415  # only where a MariaDB test runs

        connection = pymysql.connect(host="127.0.0.1", port=self.port, user="root")
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
        connection.close()
        return self.url(name)

    def stop(self) -> None:
        """Stop the server (SIGTERM, then kill)."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


@contextlib.contextmanager
def sockets_allowed() -> Iterator[None]:
    """Let a module-wide fixture connect to its loopback server (pytest-socket).

    Home Assistant's test plugin guards sockets its own way: put back exactly what
    it had set.
    """
    saved = (socket.socket, socket.getaddrinfo, socket.gethostbyname)
    pytest_socket.enable_socket()
    try:
        yield
    finally:
        socket.socket, socket.getaddrinfo, socket.gethostbyname = saved  # type: ignore[misc]


@pytest.fixture(scope="module")
def mariadb_server() -> Iterator[MariaDBServer]:
    """A MariaDB server for the module's tests, or a skip saying why it cannot start.

    Tests take a database of their own on it (``create_database``).
    """
    pytest.importorskip("pymysql", reason="PyMySQL missing: run scripts/bootstrap")
    if shutil.which("mariadbd") is None or shutil.which("mariadb-install-db") is None:
        pytest.skip("MariaDB server not installed: run scripts/bootstrap")
    user = _mariadb_user()
    workdir = Path(tempfile.mkdtemp(prefix="fluxilab-mariadb-"))
    if user is not None:
        shutil.chown(workdir, user)
    server = MariaDBServer(workdir, user)
    try:
        with sockets_allowed():
            server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def postgresql_module_server() -> Iterator[PostgreSQLServer]:
    """A PostgreSQL server for the module's tests (``create_database`` for each)."""
    pytest.importorskip("psycopg2", reason="psycopg2 missing: run scripts/bootstrap")
    if (bindir := _server_binaries()) is None:
        pytest.skip("PostgreSQL server not installed: run scripts/bootstrap")
    user = _server_user()
    workdir = Path(tempfile.mkdtemp(prefix="fluxilab-pg-"))
    if user is not None:
        shutil.chown(workdir, user)
    server = PostgreSQLServer(bindir, workdir, user)
    try:
        with sockets_allowed():
            server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def create_postgresql_database(server: PostgreSQLServer, name: str) -> str:
    """Create another (empty) database on the server; return its URL."""
    import psycopg2  # noqa: PLC0415  # only where a PostgreSQL test runs

    connection = psycopg2.connect(server.url("postgres"))
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name} ENCODING 'UTF8'")
    connection.close()
    return server.url(name)
