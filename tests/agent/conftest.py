"""Fixtures for agent tests: a stub hub on the real broker and agent factories."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
import dataclasses
from pathlib import Path
import time
from typing import Any

import pytest

from fluxilab_agent.agent import Agent
from fluxilab_agent.cli import simulated_config
from fluxilab_agent.config import AccessConfig, AgentConfig, BufferConfig
from tests.agent.stub_hub import StubHub
from tests.mosquitto import Mosquitto


async def eventually(
    predicate: Callable[[], bool], seconds: float = 10.0, what: str = "condition"
) -> None:
    """Await ``predicate`` becoming true without blocking the agent's loop."""
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        await asyncio.sleep(0.02)


@pytest.fixture
def hub(mosquitto: Mosquitto) -> Iterator[StubHub]:
    """A stub hub on the test broker."""
    stub = StubHub(mosquitto.host, mosquitto.port)
    yield stub
    stub.close()


def agent_config(
    broker: Mosquitto, data_dir: Path, *, period: float = 0.2, **changes: Any
) -> AgentConfig:
    """A simulated fumehood talking to ``broker`` with fast test timings."""
    config = simulated_config(
        1, data_dir=data_dir, host=broker.host, port=broker.port, period=period
    )
    defaults: dict[str, Any] = {
        "buffer": BufferConfig(resend_after=1.5, replay_interval=0.2, batch_size=200),
        "access": AccessConfig(timeout=0.5, heartbeat=60.0),
    }
    return dataclasses.replace(config, **(defaults | changes))


@pytest.fixture
async def make_agent(
    mosquitto: Mosquitto, tmp_path: Path
) -> AsyncIterator[Callable[..., Agent]]:
    """Create started-on-demand agents; every one is stopped after the test."""
    agents: list[Agent] = []

    def make(**changes: Any) -> Agent:
        agent = Agent(agent_config(mosquitto, tmp_path / "data", **changes))
        agents.append(agent)
        return agent

    yield make
    for agent in agents:
        await agent.stop()


async def paired(agent: Agent, hub: StubHub) -> None:
    """Start ``agent`` and wait until it and the hub trust each other."""
    await agent.start()
    await eventually(
        lambda: agent.keys is not None, what="the agent to pin the hub key"
    )
    await eventually(
        lambda: agent.device_id in hub.device_keys, what="the hub to see the device"
    )
