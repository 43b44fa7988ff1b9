"""The agent as a real process: SIGKILL in the middle of a backlog replay, SIGTERM."""

from __future__ import annotations

from collections.abc import Iterator
import os
from pathlib import Path
import signal
import subprocess
import sys

import pytest

from fluxilab_agent.buffer import RecordBuffer
from fluxilab_protocol.schemas import RecordKind
from tests.agent.stub_hub import StubHub, wait_until
from tests.mosquitto import Mosquitto

REPO = Path(__file__).resolve().parents[2]
BACKLOG = 20_000


def write_config(path: Path, broker: Mosquitto, data_dir: Path) -> Path:
    path.write_text(
        f"""
data_dir = "{data_dir}"

[device]
id = "hood-9"
name = "Hood 9"
kind = "fumehood"

[broker]
host = "{broker.host}"
port = {broker.port}

[[channels]]
key = "face_velocity"
name = "Face velocity"
type = "float"
unit = "m/s"
period = 0.2

[buffer]
batch_size = 500
max_in_flight = 2
resend_after = 3.0
replay_interval = 0.2
""",
        encoding="utf-8",
    )
    return path


class AgentProcess:
    def __init__(self, config: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "fluxilab_agent", "run", "--config", str(config)],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=20)


@pytest.fixture
def processes() -> Iterator[list[AgentProcess]]:
    started: list[AgentProcess] = []
    yield started
    for process in started:
        process.kill()


def test_sigkill_mid_replay_then_restart_loses_nothing(
    mosquitto: Mosquitto, tmp_path: Path, processes: list[AgentProcess]
) -> None:
    data_dir = tmp_path / "data"
    # A long outage's worth of records already waits in the buffer.
    buffer = RecordBuffer(data_dir / "buffer.sqlite")
    for i in range(BACKLOG):
        buffer.append(
            RecordKind.TELEMETRY, {"face_velocity": 0.5}, ts=1_700_000_000 + i
        )
    buffer.append(RecordKind.ACCESS, {"action": "session_start", "offline": True})
    buffer.close()
    config = write_config(tmp_path / "agent.toml", mosquitto, data_dir)

    hub = StubHub(mosquitto.host, mosquitto.port)
    hub.ack_delay = 0.05  # a slow hub: the replay takes a few seconds
    try:
        processes.append(first := AgentProcess(config))
        wait_until(lambda: len(hub.seqs()) >= BACKLOG // 4, 30, "part of the replay")
        first.kill()  # SIGKILL mid-replay
        assert len(hub.seqs()) < BACKLOG

        processes.append(second := AgentProcess(config))
        wait_until(
            lambda: set(range(1, BACKLOG + 2)) <= hub.seqs(), 60, "the whole backlog"
        )
        arrivals = hub.first_backlog_arrivals()
        assert arrivals[: BACKLOG // 2] == sorted(arrivals[: BACKLOG // 2])
        wait_until(lambda: len(hub.live) >= 3, 10, "live telemetry")
        assert second.terminate() == 0
        wait_until(lambda: hub.statuses[-1:] == ["offline"], 10, "offline status")
    finally:
        hub.close()

    # Whatever the hub did not ack is still buffered; nothing else was lost.
    buffer = RecordBuffer(data_dir / "buffer.sqlite")
    left = {record.seq for record in buffer}
    last = buffer.last_seq()
    buffer.close()
    assert set(range(1, last + 1)) <= hub.seqs() | left
    # Only what was in flight at the SIGTERM can still be waiting for its ack.
    assert len(left) <= 10
