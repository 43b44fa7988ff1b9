"""The stale-session look runs at the stored ``session_check_interval`` setting."""

from __future__ import annotations

from datetime import timedelta
import json
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import (
    async_fire_mqtt_message,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.fluxilab.access.const import DEFAULT_SESSION_CHECK_INTERVAL
from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.device.runtime import FluxiLabDevice
from tests.integration.conftest import DEVICE_ID

from .conftest import MACHINE_TYPE, answer_request

CARD = "04EEEE01"


async def open_session_then_silence(
    hass: HomeAssistant, engine: AccessEngine, device: FluxiLabDevice
) -> None:
    """Open session s1 on the fumehood (600 s timeout), then take it offline."""
    device.values["face_velocity"] = 0.6
    member = await engine.members.async_create_item({"name": "Ada", "cards": [CARD]})
    await engine.authorizations.async_create_item(
        {"member_id": member["id"], "machine_type_id": MACHINE_TYPE}
    )
    await answer_request(
        engine,
        device,
        {"id": "a", "action": "session_start", "card": CARD, "session_id": "s1"},
    )
    async_fire_mqtt_message(hass, f"fluxilab/{DEVICE_ID}/status", "offline")
    await hass.async_block_till_done()


async def advance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float
) -> None:
    """Move the clock on and run what became due."""
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


async def test_default_interval(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    freezer: FrozenDateTimeFactory,
) -> None:
    assert (
        engine.history.data["settings"].session_check_interval
        == DEFAULT_SESSION_CHECK_INTERVAL
    )
    await open_session_then_silence(hass, engine, device)
    await advance(hass, freezer, 595)
    await advance(hass, freezer, 10)  # timed out, but the next look is at 655 s
    assert engine.history.session("s1").end is None  # type: ignore[union-attr]
    await advance(hass, freezer, 55)
    assert engine.history.session("s1").closed_by == "timeout"  # type: ignore[union-attr]


async def test_interval_set_by_admin_applies_now_and_is_stored(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    freezer: FrozenDateTimeFactory,
    hass_ws_client: WebSocketGenerator,
    hass_storage: dict[str, Any],
) -> None:
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {"type": "fluxilab/access/settings", "session_check_interval": 5}
    )
    reply = await client.receive_json()
    assert reply["success"], reply
    assert reply["result"]["session_check_interval"] == 5
    assert reply["result"]["usage_retention_days"] == 365
    await client.send_json_auto_id(
        {"type": "fluxilab/access/settings", "session_check_interval": 0}
    )
    assert not (await client.receive_json())["success"]
    assert engine.history.data["settings"].session_check_interval == 5
    await engine.history.async_save()
    db = engine.history.database
    stored = json.loads((await db.async_run(db.stored_state))["settings"])
    assert stored["session_check_interval"] == 5

    await open_session_then_silence(hass, engine, device)
    await advance(hass, freezer, 595)
    assert engine.history.session("s1").end is None  # type: ignore[union-attr]
    await advance(hass, freezer, 10)
    assert engine.history.session("s1").closed_by == "timeout"  # type: ignore[union-attr]


async def test_settings_refused_to_non_admins(
    hass: HomeAssistant,
    engine: AccessEngine,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_access_token: str,
) -> None:
    client = await hass_ws_client(hass, hass_read_only_access_token)
    await client.send_json_auto_id(
        {"type": "fluxilab/access/settings", "session_check_interval": 5}
    )
    reply = await client.receive_json()
    assert reply["error"]["code"] == "unauthorized"
    assert (
        engine.history.data["settings"].session_check_interval
        == DEFAULT_SESSION_CHECK_INTERVAL
    )
