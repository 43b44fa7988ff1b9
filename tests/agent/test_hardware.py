"""Outputs (simulated, command, GPIO) and line card readers."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
import sys
import threading

import pytest

from fluxilab_agent.config import ActuatorConfig
from fluxilab_agent.hardware import (
    CommandOutput,
    GpioOutput,
    LineReader,
    OutputError,
    SimulatedReader,
    build_output,
    clean_card,
)
from fluxilab_protocol.schemas import ActuatorKind


def test_command_output(tmp_path: Path) -> None:
    marker = tmp_path / "relay"
    write = [sys.executable, "-c", f"open({str(marker)!r}, 'w').write('on')"]
    output = CommandOutput("relay", tuple(write), ("/bin/false",))
    output.set(True)
    assert output.state is True
    assert marker.read_text() == "on"
    with pytest.raises(OutputError, match="failed"):
        output.set(False)
    assert output.state is True
    output.close()  # failure to switch off on close is contained


def test_gpio_without_library_is_a_clear_error() -> None:
    try:
        import gpiozero  # noqa: F401, PLC0415
    except ImportError:
        pass
    else:
        pytest.skip("gpiozero is installed here")
    with pytest.raises(OutputError, match="gpiozero or gpiod"):
        GpioOutput("relay", 17)


def test_build_output_simulated() -> None:
    output = build_output(ActuatorConfig(key="i", kind=ActuatorKind.INTERLOCK))
    output.set(True)
    assert output.state is True
    output.close()
    assert output.state is False


def test_clean_card() -> None:
    assert clean_card(" 04A1B2 \n") == "04A1B2"
    assert clean_card("\n") is None
    assert clean_card("x" * 65) is None
    assert clean_card("04\x00A1") is None


async def test_line_reader_from_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "reader"
    os.mkfifo(fifo)
    cards: asyncio.Queue[str] = asyncio.Queue()
    reader = LineReader(fifo)
    reader.start(asyncio.get_running_loop(), cards.put_nowait)

    def write() -> None:
        with fifo.open("w") as stream:
            stream.write("04A1B2\n\n   \nCARD-2\n")

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert await asyncio.wait_for(cards.get(), 5) == "04A1B2"
        assert await asyncio.wait_for(cards.get(), 5) == "CARD-2"
    finally:
        reader.stop()
        writer.join(5)


def test_simulated_reader() -> None:
    seen: list[str] = []
    reader = SimulatedReader()
    reader.swipe("lost")
    loop = asyncio.new_event_loop()
    reader.start(loop, seen.append)
    loop.close()
    reader.swipe(" CARD-1 ")
    reader.stop()
    reader.swipe("after")
    assert seen == ["CARD-1"]
