"""A channel whose sensor cannot be read (hwmon file gone, USB sensor unplugged)
stops reporting a value instead of repeating a stale one; it is counted, logged
once, and reported again as soon as it reads."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import logging
from pathlib import Path

import pytest

from fluxilab_agent.agent import Agent
from fluxilab_agent.config import ChannelConfig
from fluxilab_protocol.schemas import ValueType
from tests.agent.conftest import eventually


async def test_an_unreadable_channel_drops_out_and_comes_back(
    make_agent: Callable[..., Agent],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sensor = tmp_path / "temp1_input"
    sensor.write_text("41500\n")
    agent = make_agent(
        channels=(
            ChannelConfig(
                key="board_temperature",
                name="Board temperature",
                type=ValueType.FLOAT,
                source={"type": "hwmon", "path": sensor, "scale": 0.001},
                unit="°C",
                period=0.1,
            ),
        )
    )
    with caplog.at_level(logging.WARNING, logger="fluxilab_agent"):
        await agent.start()
        await eventually(
            lambda: agent.values.get("board_temperature") == pytest.approx(41.5),
            what="the first reading",
        )
        sensor.unlink()
        await eventually(
            lambda: "board_temperature" not in agent.values, what="the drop-out"
        )
        await asyncio.sleep(0.5)  # several failed reads
        assert agent.counters["source_errors"] >= 2
        assert caplog.text.count("Channel board_temperature: cannot read") == 1
        assert all(t["key"] != "board_temperature" for t in agent.status()["telemetry"])
        sensor.write_text("43000\n")
        await eventually(
            lambda: agent.values.get("board_temperature") == pytest.approx(43.0),
            what="the reading after the sensor is back",
        )
