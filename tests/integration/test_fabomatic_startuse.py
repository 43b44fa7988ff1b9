"""A Fab-O-Matic board's startuse: a repeat of a start already booked is answered
yes without a second session; a card nobody holds starts nothing."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.device.runtime import FluxiLabDevice
from custom_components.fluxilab.history_db import LiveSession
from tests.integration.test_fabomatic import (  # noqa: F401  # fixtures
    BOARD_ID,
    CARD,
    STRANGER,
    board,
    checkuser,
    engine,
    send,
    startuse,
)


def board_sessions(engine: AccessEngine) -> list[LiveSession]:  # noqa: F811  # the fixture's name
    return [s for s in engine.history.data["sessions"] if s.device_id == BOARD_ID]


async def test_a_repeated_startuse_books_one_session(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    engine: AccessEngine,  # noqa: F811
    board: FluxiLabDevice,  # noqa: F811
) -> None:
    await send(hass, mqtt_mock, checkuser(CARD))
    first = await send(hass, mqtt_mock, startuse(CARD))
    # The board missed the reply and asks again.
    again = await send(hass, mqtt_mock, startuse(CARD))
    assert first == again == {"request_ok": True, "message": ""}
    assert len(board_sessions(engine)) == 1
    assert board.member_name == "Ada"


async def test_startuse_with_a_card_nobody_holds_starts_nothing(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    engine: AccessEngine,  # noqa: F811
    board: FluxiLabDevice,  # noqa: F811
) -> None:
    reply = await send(hass, mqtt_mock, startuse(STRANGER))
    assert reply == {"request_ok": False, "message": "Invalid card"}
    assert board_sessions(engine) == []
    assert board.in_use is False
