"""Outputs (simulated, command, GPIO) and line card readers."""

from __future__ import annotations

import asyncio
import io
import os
from pathlib import Path
import sys
import threading
from typing import ClassVar

import pytest

from fluxilab_agent.config import ActuatorConfig, ReaderConfig
from fluxilab_agent.hardware import (
    CommandOutput,
    GpioOutput,
    LineReader,
    OutputError,
    SimulatedReader,
    build_output,
    build_reader,
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


class _FakeGpiozeroDevice:
    """gpiozero.OutputDevice as the agent uses it: on/off/close, pin claimed off."""

    instances: ClassVar[list[_FakeGpiozeroDevice]] = []

    def __init__(self, pin: int, *, active_high: bool, initial_value: bool) -> None:
        self.pin = pin
        self.active_high = active_high
        self.driven = [initial_value]
        self.closed = False
        self.fail = False
        _FakeGpiozeroDevice.instances.append(self)

    def on(self) -> None:
        if self.fail:
            raise RuntimeError("pin busy")
        self.driven.append(True)

    def off(self) -> None:
        if self.fail:
            raise RuntimeError("pin busy")
        self.driven.append(False)

    def close(self) -> None:
        self.closed = True


def test_gpio_output_through_gpiozero(monkeypatch: pytest.MonkeyPatch) -> None:
    _FakeGpiozeroDevice.instances.clear()
    gpiozero = type(sys)("gpiozero")
    gpiozero.OutputDevice = _FakeGpiozeroDevice  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "gpiozero", gpiozero)
    output = build_output(
        ActuatorConfig(
            key="relay",
            kind=ActuatorKind.INTERLOCK,
            output="gpio",
            pin=17,
            active_high=False,
        )
    )
    assert isinstance(output, GpioOutput)
    (device,) = _FakeGpiozeroDevice.instances
    # The pin is claimed switched off, with the configured polarity.
    assert (device.pin, device.active_high, device.driven) == (17, False, [False])
    output.set(True)
    assert output.state is True
    output.set(False)
    assert device.driven == [False, True, False]
    # A failing pin is an OutputError and the state stays what it was.
    output.set(True)
    device.fail = True
    with pytest.raises(OutputError, match="GPIO relay: pin busy"):
        output.set(False)
    assert output.state is True
    # Closing contains that failure and still releases the pin.
    output.close()
    assert device.closed is True


class _FakeGpiodLine:
    def __init__(self) -> None:
        self.values: list[int] = []
        self.requested: dict[str, object] = {}
        self.released = False

    def request(self, **kwargs: object) -> None:
        self.requested = kwargs

    def set_value(self, value: int) -> None:
        self.values.append(value)

    def release(self) -> None:
        self.released = True


def _fake_gpiod(line: _FakeGpiodLine, chips: list[str], pins: list[int]) -> object:
    module = type(sys)("gpiod")

    class Chip:
        def __init__(self, name: str) -> None:
            chips.append(name)

        def get_line(self, pin: int) -> _FakeGpiodLine:
            pins.append(pin)
            return line

    module.Chip = Chip  # type: ignore[attr-defined]
    module.LINE_REQ_DIR_OUT = 3  # type: ignore[attr-defined]
    return module


@pytest.mark.parametrize(
    ("active_high", "off", "on"), [(True, 0, 1), (False, 1, 0)], ids=["high", "low"]
)
def test_gpio_output_through_libgpiod(
    monkeypatch: pytest.MonkeyPatch, active_high: bool, off: int, on: int
) -> None:
    line = _FakeGpiodLine()
    chips: list[str] = []
    pins: list[int] = []
    # No gpiozero here (None in sys.modules makes the import fail), libgpiod is.
    monkeypatch.setitem(sys.modules, "gpiozero", None)
    monkeypatch.setitem(sys.modules, "gpiod", _fake_gpiod(line, chips, pins))
    output = GpioOutput("lock", 22, active_high=active_high)
    assert (chips, pins) == (["gpiochip0"], [22])
    assert line.requested == {"consumer": "fluxilab-agent", "type": 3}
    assert line.values == [off]  # claimed switched off
    output.set(True)
    output.set(False)
    assert line.values == [off, on, off]
    output.set(True)
    output.close()
    assert line.values[-1] == off
    assert output.state is False
    assert line.released is True


def test_gpio_without_either_library(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gpiozero", None)
    monkeypatch.setitem(sys.modules, "gpiod", None)
    with pytest.raises(OutputError, match="pip install gpiozero"):
        build_output(
            ActuatorConfig(
                key="relay", kind=ActuatorKind.INTERLOCK, output="gpio", pin=4
            )
        )


def test_build_output_command_runs_the_configured_programs(tmp_path: Path) -> None:
    log = tmp_path / "relay.log"
    script = f"import sys; open({str(log)!r}, 'a').write(sys.argv[1] + '\\n')"
    output = build_output(
        ActuatorConfig(
            key="relay",
            kind=ActuatorKind.INTERLOCK,
            output="command",
            command_on=(sys.executable, "-c", script, "on"),
            command_off=(sys.executable, "-c", script, "off"),
        )
    )
    assert isinstance(output, CommandOutput)
    output.set(True)
    output.close()  # switches off on the way out
    assert log.read_text().splitlines() == ["on", "off"]
    assert output.state is False


def test_command_output_missing_program_is_an_output_error(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-such-relay-tool")
    output = CommandOutput("relay", (missing,), (missing,))
    with pytest.raises(OutputError, match="no-such-relay-tool failed"):
        output.set(True)
    assert output.state is False


@pytest.mark.parametrize(
    ("reader", "expected"),
    [
        (ReaderConfig(type="simulated"), SimulatedReader),
        (ReaderConfig(type="stdin"), LineReader),
        (ReaderConfig(type="device", path=Path("/dev/ttyACM0")), LineReader),
    ],
    ids=["simulated", "stdin", "device"],
)
def test_build_reader(reader: ReaderConfig, expected: type) -> None:
    assert isinstance(build_reader(reader), expected)


async def test_line_reader_reopens_a_device_that_comes_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    device = tmp_path / "ttyACM0"
    cards: asyncio.Queue[str] = asyncio.Queue()
    reader = LineReader(device)
    reader.start(asyncio.get_running_loop(), cards.put_nowait)
    try:
        # Not plugged in: a warning, then another try after a pause.
        for _ in range(250):
            if "unavailable" in caplog.text:
                break
            await asyncio.sleep(0.02)
        assert f"Card reader {device} unavailable" in caplog.text
        device.write_text("CARD-AFTER-REPLUG\n")
        assert await asyncio.wait_for(cards.get(), 10) == "CARD-AFTER-REPLUG"
    finally:
        reader.stop()


async def test_line_reader_from_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("04A1B2\n\nCARD-2\n"))
    cards: asyncio.Queue[str] = asyncio.Queue()
    reader = build_reader(ReaderConfig(type="stdin"))
    reader.start(asyncio.get_running_loop(), cards.put_nowait)
    try:
        assert await asyncio.wait_for(cards.get(), 5) == "04A1B2"
        assert await asyncio.wait_for(cards.get(), 5) == "CARD-2"
    finally:
        reader.stop()
