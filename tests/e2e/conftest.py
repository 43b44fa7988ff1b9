"""Fixtures of the end-to-end lab: a real broker, Home Assistant and agent processes.

Everything runs on 127.0.0.1 in the test's temporary folder and is stopped after the
test, whatever its outcome. Run under Home Assistant's pytest plugin, so real sockets
need ``socket_enabled``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
import logging
from pathlib import Path

import pytest

from tests.e2e.lab import AgentProcess, HassProcess
from tests.mosquitto import Mosquitto

_LOGGER = logging.getLogger(__name__)


@dataclass
class Lab:
    """The broker, Home Assistant and the agents of one test."""

    workdir: Path
    broker: Mosquitto
    hass: HassProcess
    agents: list[AgentProcess] = field(default_factory=list)

    def agent(
        self, name: str, devices: int, period: float = 1.0, doors: int = 0
    ) -> AgentProcess:
        """Prepare (not start) a simulation of ``devices`` devices and ``doors`` doors."""
        agent = AgentProcess(
            self.workdir / name,
            self.broker.port,
            devices=devices,
            period=period,
            doors=doors,
        )
        self.agents.append(agent)
        return agent


@pytest.fixture
def lab(tmp_path: Path, socket_enabled: None) -> Iterator[Lab]:
    """A broker and an onboarded Home Assistant connected to it."""
    (tmp_path / "broker").mkdir()
    broker = Mosquitto(tmp_path / "broker")
    broker.start()
    hass = HassProcess(tmp_path)
    lab = Lab(tmp_path, broker, hass)
    try:
        hass.setup(broker.port)
        yield lab
    finally:
        for agent in lab.agents:
            agent.stop()
        hass.stop()
        broker.stop()
        _LOGGER.info("Lab folder: %s", tmp_path)
    assert not hass.deprecation_reports(), hass.deprecation_reports()
