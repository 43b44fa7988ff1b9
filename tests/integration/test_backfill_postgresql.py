"""Backfill into long-term statistics with the recorder on a real PostgreSQL server.

The server is Debian's ``postgresql`` package (installed in the Home Assistant side
environment by scripts/bootstrap), started by the test from a fresh ``initdb`` on a
free loopback port and removed afterwards. The test is skipped, saying why, only where
that server cannot start here.
"""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
import glob
import os
from pathlib import Path
import pwd
import shutil
import subprocess
import tempfile
import time
from typing import Any

from homeassistant.components.recorder import Recorder, get_instance
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.fluxilab.protocol.security import KeyPair
from tests.mosquitto import free_port

from .test_backfill import check_backlog_lands_in_statistics_once

START_TIMEOUT = 30.0
DATABASE = "fluxilab_test"


def _server_binaries() -> Path | None:
    """Return the bin folder of the newest installed PostgreSQL server, if any."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/postgres"),
        key=lambda path: int(Path(path).parts[-3]),
    )
    if found:
        return Path(found[-1]).parent
    if (postgres := shutil.which("postgres")) is not None:
        return Path(postgres).parent
    return None


def _server_user() -> str | None:
    """Return the user to run the server as: PostgreSQL refuses to run as root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    pytest.skip("PostgreSQL refuses root and there is no postgres or nobody user")


class PostgreSQLServer:
    """A throwaway PostgreSQL cluster listening on 127.0.0.1 only."""

    def __init__(self, bindir: Path, workdir: Path, user: str | None) -> None:
        """Prepare paths; nothing runs until start."""
        self.bindir = bindir
        self.datadir = workdir / "data"
        self.log = workdir / "postgres.log"
        self.user = user
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def _command(self, *args: str) -> list[str]:
        prefix = ["runuser", "-u", self.user, "--"] if self.user else []
        return [*prefix, *args]

    def start(self) -> None:
        """Run initdb, start the server and wait until it accepts connections."""
        init = subprocess.run(
            self._command(
                str(self.bindir / "initdb"),
                "-D",
                str(self.datadir),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-instructions",
            ),
            capture_output=True,
            check=False,
            timeout=START_TIMEOUT,
        )
        if init.returncode:
            pytest.skip(f"PostgreSQL initdb failed: {init.stderr.decode()[-500:]}")
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                self._command(
                    str(self.bindir / "postgres"),
                    "-D",
                    str(self.datadir),
                    "-p",
                    str(self.port),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    f"unix_socket_directories={self.datadir}",
                    # A throwaway cluster: durability buys nothing here.
                    "-c",
                    "fsync=off",
                    "-c",
                    "synchronous_commit=off",
                ),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        import psycopg2  # noqa: PLC0415

        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.skip(f"PostgreSQL exited: {self.log.read_text()[-500:]}")
            try:
                connection = psycopg2.connect(self.url("postgres"), connect_timeout=1)
            except psycopg2.OperationalError:
                time.sleep(0.1)
                continue
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(f"CREATE DATABASE {DATABASE} ENCODING 'UTF8'")
            connection.close()
            return
        self.stop()
        pytest.skip(f"PostgreSQL did not accept connections in {START_TIMEOUT} s")

    def url(self, database: str = DATABASE) -> str:
        """Return the SQLAlchemy URL of ``database``."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        """Stop the server (fast shutdown, then kill)."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def postgresql_server(socket_enabled: None) -> Iterator[PostgreSQLServer]:
    """A PostgreSQL server for one test, or a skip saying why it cannot start."""
    pytest.importorskip("psycopg2", reason="psycopg2 missing: run scripts/bootstrap")
    if (bindir := _server_binaries()) is None:
        pytest.skip("PostgreSQL server not installed: run scripts/bootstrap")
    user = _server_user()
    # Not pytest's tmp_path: its folders are private to us, and the server runs as
    # another user when we are root.
    workdir = Path(tempfile.mkdtemp(prefix="fluxilab-pg-"))
    if user is not None:
        shutil.chown(workdir, user)
    server = PostgreSQLServer(bindir, workdir, user)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def recorder_db_url(postgresql_server: PostgreSQLServer) -> str:
    """Point the recorder at the PostgreSQL server instead of in-memory SQLite."""
    return postgresql_server.url()


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> None:
    """Start the recorder before Home Assistant (the conftest one starts HA first)."""


async def test_backlog_lands_in_postgresql_statistics_once(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
    device_keys: KeyPair,
    mqtt_mock: MqttMockHAClient,
) -> None:
    assert get_instance(hass).dialect_name == "postgresql"
    await check_backlog_lands_in_statistics_once(hass, announce, device_keys, mqtt_mock)
