"""Fixtures shared by both sides of the test suite.

``import custom_components`` must come first: pytest-homeassistant-custom-component
ships a ``custom_components`` package of its own, and Home Assistant's loader uses
whichever one is imported first. The repository root is first on sys.path (see
``pythonpath`` in pyproject.toml), so this import binds ours.
"""

from __future__ import annotations

import custom_components  # noqa: F401  # isort: skip

from collections.abc import Iterator
from pathlib import Path
from unittest.mock import PropertyMock, patch

import pytest

from tests.mosquitto import Mosquitto


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
