"""What the agent touches at the device: relay outputs and card readers.

Outputs (the interlock relay) are pluggable: ``gpio`` through gpiozero or libgpiod
when either is installed, ``command`` (a program per state), or ``simulated``.
Line readers deliver card ids as lines (a serial reader's device file, or stdin); a
simulated reader is driven by :meth:`SimulatedReader.swipe`. Keyboard-wedge readers
(input events) and PN532 modules are in :mod:`fluxilab_agent.readers`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
import importlib
import logging
from pathlib import Path
import subprocess
import sys
import threading
from typing import Any, Protocol

from .config import ActuatorConfig, ReaderConfig
from .readers import MAX_CARD_LENGTH, KeyboardWedgeReader, Pn532Reader

_LOGGER = logging.getLogger(__name__)

COMMAND_TIMEOUT = 10.0


class OutputError(Exception):
    """The output could not be switched."""


class Output(Protocol):
    """A switchable output (relay, interlock)."""

    state: bool

    def set(self, on: bool) -> None:
        """Switch the output; raise OutputError if that failed."""

    def close(self) -> None:
        """Release the hardware (leaves the output off)."""


class SimulatedOutput:
    """An output that only remembers its state."""

    def __init__(self, key: str) -> None:
        """Start off."""
        self.key = key
        self.state = False

    def set(self, on: bool) -> None:
        """Remember the state and log it."""
        self.state = on
        _LOGGER.info("Simulated output %s is now %s", self.key, "on" if on else "off")

    def close(self) -> None:
        """Nothing to release."""
        self.state = False


class CommandOutput:
    """Runs one program to switch on and another to switch off."""

    def __init__(
        self, key: str, command_on: tuple[str, ...], command_off: tuple[str, ...]
    ) -> None:
        """Remember the two commands."""
        self.key = key
        self.state = False
        self._commands = {True: command_on, False: command_off}

    def set(self, on: bool) -> None:
        """Run the command for ``on``."""
        command = self._commands[on]
        try:
            subprocess.run(  # noqa: S603  # configured by the device's admin
                command,
                check=True,
                timeout=COMMAND_TIMEOUT,
                stdin=subprocess.DEVNULL,
                capture_output=True,
            )
        except (OSError, subprocess.SubprocessError) as err:
            raise OutputError(f"{command[0]} failed: {err}") from err
        self.state = on

    def close(self) -> None:
        """Switch off on the way out."""
        with contextlib.suppress(OutputError):
            self.set(False)


class GpioOutput:
    """A GPIO pin through gpiozero (preferred) or libgpiod."""

    def __init__(self, key: str, pin: int, active_high: bool = True) -> None:
        """Claim the pin; OutputError when no GPIO library is installed."""
        self.key = key
        self.state = False
        self._device: Any = None
        self._line: Any = None
        try:
            gpiozero = importlib.import_module("gpiozero")
        except ImportError:
            gpiozero = None
        if gpiozero is not None:
            self._device = gpiozero.OutputDevice(
                pin, active_high=active_high, initial_value=False
            )
            return
        try:
            gpiod = importlib.import_module("gpiod")
        except ImportError as err:
            raise OutputError(
                "GPIO output needs gpiozero or gpiod (pip install gpiozero)"
            ) from err
        chip = gpiod.Chip("gpiochip0")
        self._line = chip.get_line(pin)
        self._line.request(consumer="fluxilab-agent", type=gpiod.LINE_REQ_DIR_OUT)
        self._active_high = active_high
        self._line.set_value(0 if active_high else 1)

    def set(self, on: bool) -> None:
        """Drive the pin."""
        try:
            if self._device is not None:
                self._device.on() if on else self._device.off()
            else:
                self._line.set_value(int(on == self._active_high))
        except Exception as err:
            raise OutputError(f"GPIO {self.key}: {err}") from err
        self.state = on

    def close(self) -> None:
        """Switch off and release the pin."""
        with contextlib.suppress(OutputError):
            self.set(False)
        if self._device is not None:
            self._device.close()
        elif self._line is not None:
            self._line.release()


def build_output(
    config: ActuatorConfig,
) -> SimulatedOutput | CommandOutput | GpioOutput:
    """Create the output an actuator's configuration describes."""
    if config.output == "gpio":
        assert config.pin is not None  # noqa: S101  # checked by the config
        return GpioOutput(config.key, config.pin, config.active_high)
    if config.output == "command":
        return CommandOutput(config.key, config.command_on, config.command_off)
    return SimulatedOutput(config.key)


CardHandler = Callable[[str], None]


def clean_card(line: str) -> str | None:
    """Extract a card id from a reader line (trimmed, printable); None if empty."""
    card = line.strip()
    if not card or len(card) > MAX_CARD_LENGTH or not card.isprintable():
        return None
    return card


class SimulatedReader:
    """A reader swiped from code, the CLI or the control socket."""

    def __init__(self) -> None:
        """Not attached until start()."""
        self._handler: CardHandler | None = None

    def start(self, loop: asyncio.AbstractEventLoop, handler: CardHandler) -> None:
        """Deliver swipes to ``handler`` in ``loop``."""
        del loop
        self._handler = handler

    def swipe(self, card: str) -> None:
        """Present a card (call from the agent's loop)."""
        if self._handler is not None and (cleaned := clean_card(card)) is not None:
            self._handler(cleaned)

    def stop(self) -> None:
        """Detach."""
        self._handler = None


class LineReader:
    """A reader that writes one card id per line (stdin or a device file).

    A daemon thread blocks on the file and hands each line to the agent's loop; it
    reopens a device file that disappears (a USB reader unplugged and plugged back).
    """

    def __init__(self, path: Path | None) -> None:
        """Read ``path`` (None: stdin)."""
        self._path = path
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, loop: asyncio.AbstractEventLoop, handler: CardHandler) -> None:
        """Start the reading thread."""

        def deliver(line: str) -> None:
            if (card := clean_card(line)) is not None:
                loop.call_soon_threadsafe(handler, card)

        self._thread = threading.Thread(
            target=self._run, args=(deliver,), name="fluxilab-reader", daemon=True
        )
        self._thread.start()

    def _run(self, deliver: Callable[[str], None]) -> None:
        while not self._stop.is_set():
            if self._path is None:
                for line in sys.stdin:
                    deliver(line)
                return
            try:
                with self._path.open(encoding="utf-8", errors="replace") as stream:
                    for line in stream:
                        if self._stop.is_set():
                            return
                        deliver(line)
            except OSError as err:
                _LOGGER.warning("Card reader %s unavailable: %s", self._path, err)
            self._stop.wait(2.0)

    def stop(self) -> None:
        """Ask the thread to finish (it is a daemon: it never blocks exit)."""
        self._stop.set()


Reader = SimulatedReader | LineReader | KeyboardWedgeReader | Pn532Reader


def build_reader(config: ReaderConfig) -> Reader:
    """Create the reader the configuration describes.

    ReaderError when its optional library is not installed.
    """
    if config.type == "simulated":
        return SimulatedReader()
    if config.type == "keyboard":
        return KeyboardWedgeReader(str(config.path), grab=config.grab)
    if config.type == "pn532":
        return Pn532Reader(config)
    return LineReader(config.path if config.type == "device" else None)
