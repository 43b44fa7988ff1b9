"""The first hour of a lab with boards (issue 20, "The first hour").

A board whose machine is not adopted is answered as the Fab-O-Matic backend answers
it (``is_valid: false``) instead of silence; boards never pair, so blocking one
logs no pairing warning; a board added by its machine id is a board.
"""

from __future__ import annotations

import asyncio
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import async_fire_mqtt_message
from pytest_homeassistant_custom_component.typing import (
    MqttMockHAClient,
    WebSocketGenerator,
)

from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.const import (
    CONF_BASE_TOPIC,
    CONF_DEVICE_ID,
    CONF_FABOMATIC_MACHINE,
    DOMAIN,
)
from custom_components.fluxilab.device.broker import device_user
from custom_components.fluxilab.device.fabomatic import NOT_ADOPTED_NAME
from custom_components.fluxilab.device.runtime import FluxiLabDevice

from .test_fabomatic import (
    BOARD_ID,
    MACHINE,
    alive,
    board,
    checkmachine,
    engine,
    replies,
    send,
)

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


async def test_adding_a_board_by_its_id_makes_a_board_with_its_login(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, engine: AccessEngine
) -> None:
    """README's "add it by id first" for fabomatic-77: a board, not an agent."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_DEVICE_ID: "fabomatic-77", CONF_BASE_TOPIC: "fluxilab"},
    )
    # The same warning as when a board is discovered: boards cannot verify.
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "fabomatic_confirm"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert entry.unique_id == "fabomatic-77"
    assert entry.data[CONF_FABOMATIC_MACHINE] == 77
    user = device_user(dict(entry.data))
    assert user.username == "fabomatic-77"
    assert user.readwrite == ("machine/77", "machine/77/#")
    await hass.async_block_till_done()

    # Its later alive starts no second adoption; its checks are answered as its own.
    async_fire_mqtt_message(hass, "machine/77", alive())
    await hass.async_block_till_done()
    assert hass.config_entries.flow.async_progress_by_handler(DOMAIN) == []
    async_fire_mqtt_message(hass, "machine/77", checkmachine())
    await hass.async_block_till_done()
    assert replies(mqtt_mock, "machine/77/reply")[-1]["is_valid"] is True


@pytest.mark.parametrize("device_id", ["fabomatic-0", "fabomatic-077", "fabomatic-x"])
async def test_other_ids_are_agents(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    engine: AccessEngine,
    device_id: str,
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_DEVICE_ID: device_id, CONF_BASE_TOPIC: "fluxilab"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert CONF_FABOMATIC_MACHINE not in result["data"]


async def test_block_device_while_its_entry_reloads(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    engine: AccessEngine,
    board: FluxiLabDevice,
) -> None:
    """Renaming a board reloads its entry; an action meanwhile waits, not fails."""
    entry = board.entry
    ha_device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, BOARD_ID), board.entry.entry_id
    )
    assert ha_device is not None
    stopped, proceed = asyncio.Event(), asyncio.Event()
    removed = engine.async_device_removed

    async def removed_then_wait(device: FluxiLabDevice) -> None:
        await removed(device)
        stopped.set()
        await proceed.wait()  # the reload pauses here, between unload and setup

    with patch.object(engine, "async_device_removed", removed_then_wait):
        reload = hass.async_create_task(
            hass.config_entries.async_reload(entry.entry_id)
        )
        await stopped.wait()
        assert engine.device(BOARD_ID) is None
        assert entry.setup_lock.locked()
        block = hass.async_create_task(
            hass.services.async_call(
                DOMAIN, "block_device", {"device_id": ha_device.id}, blocking=True
            )
        )
        await asyncio.sleep(0)
        proceed.set()
        await reload
    await block
    reloaded = engine.device(BOARD_ID)
    assert reloaded is not None
    assert reloaded is not board
    assert reloaded.blocked


@pytest.mark.parametrize(
    "command",
    [
        {"type": "fluxilab/panel/admin/block", "blocked": True},
        {"type": "fluxilab/panel/admin/grant", "member_ids": []},
    ],
    ids=["block", "grant"],
)
async def test_panel_actions_wait_while_the_entry_reloads(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    mqtt_mock: MqttMockHAClient,
    engine: AccessEngine,
    board: FluxiLabDevice,
    command: dict[str, Any],
) -> None:
    """The panel's device actions (by our id) wait for a reload as services do."""
    member = await engine.members.async_create_item({"name": "Grace Hopper"})
    if "member_ids" in command:
        command = {**command, "member_ids": [member["id"]]}
    client = await hass_ws_client(hass)
    stopped, proceed = asyncio.Event(), asyncio.Event()
    removed = engine.async_device_removed

    async def removed_then_wait(device: FluxiLabDevice) -> None:
        await removed(device)
        stopped.set()
        await proceed.wait()  # the reload pauses here, between unload and setup

    with patch.object(engine, "async_device_removed", removed_then_wait):
        reload = hass.async_create_task(
            hass.config_entries.async_reload(board.entry.entry_id)
        )
        await stopped.wait()
        assert engine.device(BOARD_ID) is None
        await client.send_json_auto_id({**command, "device_id": BOARD_ID})
        await asyncio.sleep(0)
        proceed.set()
        await reload
    reply = await client.receive_json()
    assert reply["success"], reply
    reloaded = engine.device(BOARD_ID)
    assert reloaded is not None
    assert reloaded is not board
    if command["type"].endswith("block"):
        assert reloaded.blocked
    else:
        granted = engine.authorizations.of_member(member["id"])
        assert [a.get("device_id") for a in granted] == [BOARD_ID]


async def test_a_device_that_is_not_loaded_is_still_refused(
    hass: HomeAssistant, engine: AccessEngine, board: FluxiLabDevice
) -> None:
    ha_device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, BOARD_ID), board.entry.entry_id
    )
    assert ha_device is not None
    await hass.config_entries.async_unload(board.entry.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "block_device", {"device_id": ha_device.id}, blocking=True
        )
    assert err.value.translation_key == "unknown_device"
