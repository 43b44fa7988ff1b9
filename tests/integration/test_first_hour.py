"""The first hour of a lab with boards (issue 20, "The first hour").

A board whose machine is not adopted is answered as the Fab-O-Matic backend answers
it (``is_valid: false``) instead of silence; boards never pair, so blocking one
logs no pairing warning; a board added by its machine id is a board.
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.fluxilab.access import AccessEngine
from custom_components.fluxilab.const import DOMAIN
from custom_components.fluxilab.device import FluxiLabDevice
from custom_components.fluxilab.fabomatic import NOT_ADOPTED_NAME

from .test_fabomatic import MACHINE, alive, board, checkmachine, engine, send

__all__ = ["board", "engine"]  # fixtures


async def test_unadopted_board_is_told_its_machine_is_not_valid(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    engine: AccessEngine,
    caplog: pytest.LogCaptureFixture,
) -> None:
    reply = await send(hass, mqtt_mock, checkmachine())
    assert reply is not None
    assert reply["request_ok"] is True
    assert reply["is_valid"] is False
    assert reply["allowed"] is False
    assert reply["name"] == NOT_ADOPTED_NAME
    # Every check, not only the first (MQTT discovery passes repeats to no flow).
    for _ in range(2):
        again = await send(hass, mqtt_mock, checkmachine())
        assert again is not None
        assert again["is_valid"] is False
    assert caplog.text.count(f"Fab-O-Matic board {MACHINE} is not adopted") == 1

    # Its alive offers it for adoption; once adopted, it is answered as itself.
    assert await send(hass, mqtt_mock, alive()) is None
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["step_id"] for f in flows] == ["fabomatic_confirm"]
    result = await hass.config_entries.flow.async_configure(flows[0]["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    adopted = await send(hass, mqtt_mock, checkmachine())  # exactly one reply
    assert adopted is not None
    assert adopted["is_valid"] is True
    assert adopted["name"] == f"Fab-O-Matic {MACHINE}"


async def test_blocking_a_board_logs_no_pairing_warning(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    board: FluxiLabDevice,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await board.async_set_blocked(True)
    assert board.blocked
    assert "is not paired" not in caplog.text
    reply = await send(hass, mqtt_mock, checkmachine())
    assert reply is not None
    assert reply["allowed"] is False  # the board learns it from its next check
