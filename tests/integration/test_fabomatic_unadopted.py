"""A Fab-O-Matic board nobody adopted yet is told its machine is not valid (as the
Fab-O-Matic backend tells a machine it does not know), instead of waiting for a
server that seems down; once adopted, the board's own transport answers it."""

from __future__ import annotations

from collections.abc import Callable
import time
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_MQTT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.service_info.mqtt import MqttServiceInfo
import pytest
from pytest_homeassistant_custom_component.common import async_fire_mqtt_message
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.fluxilab import config_flow as flow_module
from custom_components.fluxilab.const import DOMAIN
from custom_components.fluxilab.device import fabomatic as board_module
from custom_components.fluxilab.protocol.fabomatic import parse_query
from tests.integration.test_fabomatic import (
    TOPIC,
    alive,
    checkmachine,
    checkuser,
    replies,
)

NOT_VALID = {
    "request_ok": True,
    "is_valid": False,
    "name": "Not adopted",
    "description": "Adopt it in HA",
}


async def discover(hass: HomeAssistant, payload: str, topic: str = TOPIC) -> str:
    """Hand one board message to the config flow, as MQTT discovery does."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_MQTT},
        data=MqttServiceInfo(
            topic=topic,
            payload=payload,
            qos=0,
            retain=False,
            subscribed_topic="machine/+",
            timestamp=time.time(),
        ),
    )
    await hass.async_block_till_done()
    return str(result.get("reason") or result.get("step_id"))


def assert_not_valid(reply: dict[str, object]) -> None:
    for key, value in NOT_VALID.items():
        assert reply[key] == value, (key, reply)


async def test_unadopted_board_is_told_it_is_not_valid(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The first checkmachine comes through discovery: answered, no adoption offer.
    assert await discover(hass, checkmachine()) == "invalid_discovery_info"
    (first,) = replies(mqtt_mock)
    assert_not_valid(first)
    assert "Fab-O-Matic board 7 is not adopted" in caplog.text

    # From then on every checkmachine of a board nobody adopted is answered, the
    # log line only once per board.
    caplog.clear()
    async_fire_mqtt_message(hass, TOPIC, checkmachine())
    async_fire_mqtt_message(hass, "machine/12", checkmachine())
    await hass.async_block_till_done()
    assert len(replies(mqtt_mock)) == 2
    assert_not_valid(replies(mqtt_mock)[-1])
    assert_not_valid(replies(mqtt_mock, "machine/12/reply")[0])
    assert "board 7 is not adopted" not in caplog.text
    assert "board 12 is not adopted" in caplog.text

    # Other queries and garbage get no such answer.
    async_fire_mqtt_message(hass, TOPIC, '{"action":"checkuser","uid":"0a1b2c3d"}')
    async_fire_mqtt_message(hass, TOPIC, "{not json")
    async_fire_mqtt_message(hass, "machine/x", checkmachine())
    await hass.async_block_till_done()
    assert len(replies(mqtt_mock)) == 2


async def test_adopted_board_is_no_longer_told_so(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient
) -> None:
    assert await discover(hass, checkmachine()) == "invalid_discovery_info"
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_MQTT},
        data=MqttServiceInfo(
            topic=TOPIC,
            payload=alive(),
            qos=0,
            retain=False,
            subscribed_topic="machine/+",
            timestamp=time.time(),
        ),
    )
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    mqtt_mock.async_publish.reset_mock()

    async_fire_mqtt_message(hass, TOPIC, checkmachine())
    await hass.async_block_till_done()
    answers = replies(mqtt_mock)
    assert answers, "the adopted board is answered by its transport"
    assert all(reply["is_valid"] is True for reply in answers), answers


async def test_adopted_board_queries_cost_no_discovery_work(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient
) -> None:
    """MQTT discovery hands the flow every new payload on machine/+ (each card check
    of an adopted board too), and the unadopted boards' follower sees them all:
    neither parses an adopted board's query, only its transport does."""
    assert await discover(hass, checkmachine()) == "invalid_discovery_info"
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_MQTT},
        data=MqttServiceInfo(
            topic=TOPIC,
            payload=alive(),
            qos=0,
            retain=False,
            subscribed_topic="machine/+",
            timestamp=time.time(),
        ),
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    mqtt_mock.async_publish.reset_mock()

    parsed: list[str] = []

    def counting(module: object) -> Callable[[bytes | str], dict[str, Any]]:
        def parse(payload: bytes | str) -> dict[str, Any]:
            parsed.append(getattr(module, "__name__", "?"))
            return parse_query(payload)

        return parse

    with (
        patch.object(flow_module, "parse_query", counting(flow_module)),
        patch.object(board_module, "parse_query", counting(board_module)),
    ):
        # A new payload each: discovery starts a flow for every one of them.
        for uid in ("0a1b2c3d", "0a1b2c3e", "0a1b2c3f"):
            async_fire_mqtt_message(hass, TOPIC, checkuser(uid))
            await hass.async_block_till_done()
        assert await discover(hass, checkuser("0a1b2c40")) == "already_configured"

    # One parse per query: the board transport's (device/fabomatic.py).
    assert parsed == [board_module.__name__] * 3
    assert len(replies(mqtt_mock)) == 3
    assert not hass.config_entries.flow.async_progress()


async def test_follower_not_started_if_subscribing_fails(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient
) -> None:
    """A failed subscription leaves nothing marked as followed: the next board's
    setup (or flow) subscribes again instead of believing it is done."""
    with (
        patch.object(
            board_module.mqtt,
            "async_subscribe",
            side_effect=HomeAssistantError("MQTT is not connected"),
        ),
        pytest.raises(HomeAssistantError),
    ):
        await board_module.async_follow_boards(hass)
    assert await board_module.async_follow_boards(hass) is True
    assert await board_module.async_follow_boards(hass) is False
    async_fire_mqtt_message(hass, TOPIC, checkmachine())
    await hass.async_block_till_done()
    assert_not_valid(replies(mqtt_mock)[-1])
