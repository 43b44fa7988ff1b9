"""Fixtures shared by both sides of the test suite.

``import custom_components`` must come first: pytest-homeassistant-custom-component
ships a ``custom_components`` package of its own, and Home Assistant's loader uses
whichever one is imported first. The repository root is first on sys.path (see
``pythonpath`` in pyproject.toml), so this import binds ours.
"""

from __future__ import annotations

import custom_components  # noqa: F401  # isort: skip

from collections.abc import Iterator
import logging
from pathlib import Path
from unittest.mock import PropertyMock, patch

import pytest

from tests.mosquitto import Mosquitto

# pytest-homeassistant-custom-component turns SQLAlchemy's statement log on (INFO,
# through logging.basicConfig) for Home Assistant's recorder tests. The history
# database's and the recorder's worker threads then printed every statement past
# pytest's capture into the CI log; no FluxiLab test reads SQL from the log.
logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)

DEPRECATION_REPORT = "custom integration 'fluxilab'"
"""What Home Assistant logs when FluxiLab uses something deprecated ("Detected that
custom integration 'fluxilab' calls ..., which is deprecated ... This will stop
working in Home Assistant ..."): a log record, not a Python warning."""


@pytest.fixture(autouse=True)
def no_deprecation_report(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail a test during which Home Assistant reported FluxiLab's use of a deprecation.

    Python's own DeprecationWarnings raised from FluxiLab's modules are errors
    already (``filterwarnings`` in pyproject.toml).
    """
    yield
    reports = [
        record.getMessage()
        for when in ("setup", "call", "teardown")
        for record in caplog.get_records(when)
        if DEPRECATION_REPORT in record.getMessage()
    ]
    assert not reports, reports


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A real broker on a free loopback port, stopped after the test."""
    broker = Mosquitto(tmp_path)
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def hass_config_dir(hass_tmp_config_dir: str) -> str:
    """Give each test's Home Assistant a config dir of its own.

    FluxiLab's write-ahead journal is a real file in ``.storage`` (unlike ``Store``,
    which the tests mock): it must not land in the shared testing config.
    """
    return hass_tmp_config_dir


@pytest.fixture
def entity_registry_enabled_by_default() -> Iterator[None]:
    """Create every entity enabled, also those disabled by default (core's fixture)."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        return_value=True,
        new_callable=PropertyMock,
    ):
        yield
