"""A device ending a session the hub never heard of: without a session id or a
duration there is nothing to book (answered ``session_unknown``); with a duration
the time is booked as a session of its own."""

from __future__ import annotations

from homeassistant.core import HomeAssistant

from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.device.runtime import FluxiLabDevice

from .conftest import answer_request


async def test_stop_without_a_known_session(
    hass: HomeAssistant, engine: AccessEngine, device: FluxiLabDevice
) -> None:
    before = list(engine.history.data["sessions"])
    hours = device.usage_hours
    for request in (
        {"id": "a", "action": "session_stop"},
        {"id": "b", "action": "session_stop", "session_id": "never-started"},
    ):
        reply = await answer_request(engine, device, request)
        assert reply["granted"] is False, request
        assert reply["reason"] == "session_unknown"
    assert engine.history.data["sessions"] == before
    assert device.usage_hours == hours


async def test_stop_of_an_unknown_session_with_its_duration_is_booked(
    hass: HomeAssistant, engine: AccessEngine, device: FluxiLabDevice
) -> None:
    reply = await answer_request(
        engine,
        device,
        {
            "id": "c",
            "action": "session_stop",
            "session_id": "dev-77",
            "duration": 1800,
        },
    )
    assert reply["granted"] is True
    assert reply["reason"] == "session_ended"
    booked = engine.history.session("dev-77")
    assert booked is not None
    assert booked.duration == 1800
    assert booked.member_id is None
    assert device.usage_hours == 0.5
