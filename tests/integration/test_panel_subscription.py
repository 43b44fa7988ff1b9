"""The panel's live lab view follows devices coming and going: a removed device
disappears from the next push, and nothing is pushed after unsubscribing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockUser,
    async_fire_time_changed,
)

from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.const import DOMAIN
from tests.integration.test_panel import (  # noqa: F401  # fixtures
    HOOD,
    LASER,
    NEW,
    ClientFactory,
    device_ids,
    engine,
    fast_bcrypt,
    ws_as,
)


async def test_removed_device_leaves_the_view_and_unsubscribe_stops_pushes(
    hass: HomeAssistant,
    engine: AccessEngine,  # noqa: F811
    ws_as: ClientFactory,  # noqa: F811
    hass_admin_user: MockUser,
) -> None:
    ws = await ws_as(hass_admin_user)
    await ws.send_json_auto_id({"type": f"{DOMAIN}/panel/subscribe"})
    subscribed = await ws.receive_json()
    assert subscribed["success"]
    first = (await ws.receive_json())["event"]
    assert set(device_ids(first)) == {HOOD, LASER, NEW}

    async def next_event() -> dict[str, Any]:
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=1))
        await hass.async_block_till_done()
        event: dict[str, Any] = (await ws.receive_json())["event"]
        return event

    laser = next(
        entry
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.unique_id == LASER
    )
    assert await hass.config_entries.async_remove(laser.entry_id)
    await hass.async_block_till_done()
    assert set(device_ids(await next_event())) == {HOOD, NEW}

    # A change is pending (pushed after a short delay) when the panel goes away.
    await engine.devices[HOOD].async_set_blocked(True)
    await ws.send_json_auto_id(
        {"type": "unsubscribe_events", "subscription": subscribed["id"]}
    )
    assert (await ws.receive_json())["success"]
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=5))
    await hass.async_block_till_done()
    with pytest.raises(TimeoutError):
        await ws.receive_json(timeout=0.2)
