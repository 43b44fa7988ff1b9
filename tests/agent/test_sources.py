"""Telemetry sources: simulated models, sysfs files, commands."""

from __future__ import annotations

from pathlib import Path
import sys

import pytest

from fluxilab_agent.sources import (
    CommandSource,
    DeviceSimulator,
    FileSource,
    SourceError,
    coerce,
)
from fluxilab_protocol.schemas import DeviceKind, ValueType


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_fumehood_model_is_plausible_and_overridable() -> None:
    clock = Clock()
    hood = DeviceSimulator(DeviceKind.FUMEHOOD, seed=1, clock=clock)
    samples = []
    for _ in range(300):
        clock.now += 1
        samples.append(hood.value("face_velocity"))
    assert 0.3 < sum(samples) / len(samples) < 0.7
    assert all(0 <= hood.value("sash_height") <= 100 for _ in range(10))
    assert 15 < hood.value("temperature") < 30
    assert hood.value("voc") >= 0
    assert isinstance(hood.value("fan_running"), bool)
    hood.override("face_velocity", 0.1, duration=5)
    assert hood.value("face_velocity") == 0.1
    clock.now += 6
    assert hood.value("face_velocity") != 0.1
    hood.override("fan_running", False)
    assert hood.value("fan_running") is False
    hood.clear_override()
    with pytest.raises(ValueError, match="unknown signal"):
        hood.override("warp", 1)


def test_machine_draws_current_only_while_running() -> None:
    machine = DeviceSimulator(DeviceKind.MACHINE, seed=2, clock=Clock())
    machine.relay_on = False
    assert machine.value("spindle_current") == 0.0
    assert machine.value("running") is False
    machine.relay_on = True
    assert machine.value("running") is True
    assert machine.value("spindle_current") > 3


def test_coerce() -> None:
    assert coerce("42.7\n", ValueType.INT) == 43
    assert coerce(" on ", ValueType.BOOL) is True
    assert coerce("0", ValueType.BOOL) is False
    assert coerce(1.23456789, ValueType.FLOAT) == 1.2346
    for bad, value_type in (("x", ValueType.FLOAT), ("maybe", ValueType.BOOL)):
        with pytest.raises(SourceError):
            coerce(bad, value_type)
    with pytest.raises(SourceError):
        coerce(float("nan"), ValueType.FLOAT)


async def test_file_source(tmp_path: Path) -> None:
    path = tmp_path / "temp"
    path.write_text("48500\n")
    assert await FileSource(path, 0.001).read() == pytest.approx(48.5)
    path.write_text("garbage")
    with pytest.raises(SourceError, match="holds"):
        await FileSource(path).read()
    with pytest.raises(SourceError, match="cannot read"):
        await FileSource(tmp_path / "missing").read()


async def test_command_source() -> None:
    assert await CommandSource((sys.executable, "-c", "print(3.5)")).read() == "3.5"
    with pytest.raises(SourceError, match="exited with 3"):
        await CommandSource((sys.executable, "-c", "raise SystemExit(3)")).read()
    with pytest.raises(SourceError, match="longer than"):
        await CommandSource(
            (sys.executable, "-c", "import time; time.sleep(5)"), timeout=0.3
        ).read()
    with pytest.raises(SourceError, match="cannot run"):
        await CommandSource(("/nonexistent/program",)).read()
