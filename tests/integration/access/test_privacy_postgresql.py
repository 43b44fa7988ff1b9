"""A member's removal anonymizes the recorder on a real PostgreSQL server too.

The server and its fixtures are test_backfill_postgresql's (skipped, saying why,
where it cannot start here).
"""

from __future__ import annotations

from homeassistant.components.recorder import Recorder, get_instance
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockUser

from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.device.runtime import FluxiLabDevice
from tests.integration.test_backfill_postgresql import (  # noqa: F401
    postgresql_server,
    recorder_db_url,
)

from .test_privacy_recorder import check_member_removal


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> None:
    """Start the recorder before Home Assistant (the conftest one starts HA first)."""


@pytest.fixture(autouse=True)
def safe_airflow(device: FluxiLabDevice) -> None:
    """Face velocity inside the fumehood type's limit."""
    device.values["face_velocity"] = 0.5


async def test_member_removal_anonymizes_postgresql(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    hass_read_only_user: MockUser,
) -> None:
    assert get_instance(hass).dialect_name == "postgresql"
    await check_member_removal(hass, engine, device, hass_read_only_user)
