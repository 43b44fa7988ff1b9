"""Card readers on real hardware: USB keyboard-wedge readers and PN532 modules.

* ``keyboard``: a USB reader that "types" the card number and Enter, read as Linux
  input events (``/dev/input/event*``, through ``evdev``). The device is grabbed, so
  the digits never reach a console or a login prompt. Key codes become digits and the
  hex letters ``a``-``f``; Enter (main or keypad) ends the card.
* ``pn532``: an NXP PN532 module on I2C, SPI or UART through Adafruit's maintained
  CircuitPython driver (``adafruit-circuitpython-pn532`` on Blinka). The module is
  polled for a passive ISO14443A target; its UID becomes lowercase hex (as
  Fab-O-Matic boards write UIDs). A card held on the reader is one swipe: the next one
  counts once the field was empty.

Both libraries are optional extras (``pip install 'fluxilab-agent[keyboard]'`` /
``'fluxilab-agent[pn532]'``), imported only when such a reader is configured. The
device or module is opened through a replaceable ``opener``, so tests hand in a fake
input device or a fake PN532.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
import contextlib
import importlib
import importlib.util
import logging
import threading
import time
from typing import Any, NamedTuple, Protocol

from .config import ReaderConfig

_LOGGER = logging.getLogger(__name__)

CardHandler = Callable[[str], None]
MAX_CARD_LENGTH = 64
REOPEN_DELAY = 2.0
"""Seconds before a reader that vanished (unplugged, bus error) is opened again."""

# Linux input event ABI (linux/input-event-codes.h): stable kernel numbers, so the
# decoding needs no evdev import and tests need no /dev/input.
EV_KEY = 1
KEY_UP, KEY_DOWN, KEY_HOLD = 0, 1, 2
KEY_ENTER = 28
KEY_KPENTER = 96
KEY_LEFTSHIFT = 42
KEY_RIGHTSHIFT = 54
KEY_CHARACTERS: dict[int, str] = {
    # Main row 1..9, 0 and the keypad's digits.
    **{
        code: str(digit) for code, digit in zip(range(2, 11), range(1, 10), strict=True)
    },
    11: "0",
    79: "1",
    80: "2",
    81: "3",
    75: "4",
    76: "5",
    77: "6",
    71: "7",
    72: "8",
    73: "9",
    82: "0",
    # Hex letters (readers that type the UID in hex).
    30: "a",
    48: "b",
    46: "c",
    32: "d",
    18: "e",
    33: "f",
}


class ReaderError(RuntimeError):
    """A configured reader cannot be used (missing library, no device)."""


class InputEvent(NamedTuple):
    """One Linux input event, as evdev's ``InputEvent`` carries it."""

    sec: int
    usec: int
    type: int
    code: int
    value: int


class KeyDecoder:
    """Turn key events into card numbers: characters until Enter.

    Anything but a digit or hex letter spoils the card being typed (it is dropped at
    its Enter); so does a card longer than MAX_CARD_LENGTH.
    """

    def __init__(self) -> None:
        """Start with nothing typed."""
        self._chars: list[str] = []
        self._spoiled = False
        self.rejected = 0
        """Cards dropped because of a key that is not a digit or hex letter."""

    def feed(self, event_type: int, code: int, value: int) -> str | None:
        """Take one event; return the card it completes, if any."""
        if event_type != EV_KEY or value != KEY_DOWN:
            return None  # sync, scan-code and auto-repeat events, key releases
        if code in (KEY_ENTER, KEY_KPENTER):
            card = "".join(self._chars)
            spoiled = self._spoiled
            self._chars.clear()
            self._spoiled = False
            if spoiled:
                self.rejected += 1
                return None
            return card or None
        if code in (KEY_LEFTSHIFT, KEY_RIGHTSHIFT):
            return None  # upper-case hex is the same card
        char = KEY_CHARACTERS.get(code)
        if char is None or len(self._chars) >= MAX_CARD_LENGTH:
            self._spoiled = True
        else:
            self._chars.append(char)
        return None


class InputDevice(Protocol):
    """What the reader uses of ``evdev.InputDevice``."""

    fd: int

    def read(self) -> Iterable[Any]:
        """Return the pending events (BlockingIOError when there are none)."""

    def grab(self) -> None:
        """Take the device for this process alone."""

    def ungrab(self) -> None:
        """Give the device back."""

    def close(self) -> None:
        """Close the device node."""


def _require(module: str, extra: str, what: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise ReaderError(
            f'rfid.type = "{what}" needs the {module!r} package: '
            f"pip install 'fluxilab-agent[{extra}]'"
        )


def open_evdev(path: str) -> InputDevice:
    """Open an input event node with evdev (imported only here)."""
    evdev = importlib.import_module("evdev")
    device: InputDevice = evdev.InputDevice(path)
    return device


class KeyboardWedgeReader:
    """A USB keyboard-wedge reader read as input events, grabbed from the console.

    The device's fd is watched by the agent's loop (no thread). A read error (the
    reader unplugged) closes it; it is opened again every REOPEN_DELAY seconds.
    """

    def __init__(
        self,
        path: str,
        *,
        grab: bool = True,
        opener: Callable[[str], InputDevice] | None = None,
    ) -> None:
        """Read ``path``; ``opener`` replaces evdev (tests)."""
        if opener is None:
            _require("evdev", "keyboard", "keyboard")
            opener = open_evdev
        self._path = path
        self._grab = grab
        self._opener = opener
        self._decoder = KeyDecoder()
        self._device: InputDevice | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handler: CardHandler | None = None
        self._reopen: asyncio.TimerHandle | None = None

    @property
    def rejected(self) -> int:
        """Cards dropped because they held a key that is no digit or hex letter."""
        return self._decoder.rejected

    def start(self, loop: asyncio.AbstractEventLoop, handler: CardHandler) -> None:
        """Open and grab the device, then deliver cards to ``handler`` in ``loop``."""
        self._loop = loop
        self._handler = handler
        self._open()

    def _open(self) -> None:
        self._reopen = None
        if self._loop is None:
            return
        try:
            device = self._opener(self._path)
        except OSError as err:
            _LOGGER.warning("Card reader %s unavailable: %s", self._path, err)
            self._schedule_reopen()
            return
        if self._grab:
            try:
                device.grab()
            except OSError as err:
                # Another process holds it: the digits would reach it as well.
                _LOGGER.warning("Card reader %s cannot be grabbed: %s", self._path, err)
                device.close()
                self._schedule_reopen()
                return
        self._device = device
        self._loop.add_reader(device.fd, self._readable)
        _LOGGER.info(
            "Card reader %s open%s", self._path, " (grabbed)" if self._grab else ""
        )

    def _schedule_reopen(self) -> None:
        if self._loop is not None and self._reopen is None:
            self._reopen = self._loop.call_later(REOPEN_DELAY, self._open)

    def _readable(self) -> None:
        device = self._device
        if device is None:
            return
        try:
            events = list(device.read())
        except BlockingIOError:
            return
        except OSError as err:
            _LOGGER.warning("Card reader %s went away: %s", self._path, err)
            self._close()
            self._schedule_reopen()
            return
        for event in events:
            card = self._decoder.feed(event.type, event.code, event.value)
            if card is not None and self._handler is not None:
                self._handler(card)

    def _close(self) -> None:
        device, self._device = self._device, None
        if device is None:
            return
        if self._loop is not None:
            self._loop.remove_reader(device.fd)
        if self._grab:
            with contextlib.suppress(OSError):
                device.ungrab()
        with contextlib.suppress(OSError):
            device.close()

    def stop(self) -> None:
        """Release the device."""
        if self._reopen is not None:
            self._reopen.cancel()
            self._reopen = None
        self._close()
        self._loop = None
        self._handler = None


class Pn532(Protocol):
    """What the reader uses of Adafruit's ``PN532`` driver object."""

    def SAM_configuration(self) -> None:  # the library's name
        """Configure the module to read cards."""

    def read_passive_target(self, *, timeout: float = 1) -> bytes | bytearray | None:
        """Wait up to ``timeout`` s for a card; its UID, or None."""


def open_pn532(config: ReaderConfig) -> Pn532:
    """Open a PN532 on the configured bus with Adafruit's driver (imported here)."""
    if config.bus == "uart":
        serial = importlib.import_module("serial")
        driver = importlib.import_module("adafruit_pn532.uart")
        uart = serial.Serial(str(config.path), baudrate=config.baudrate, timeout=0.1)
        pn532: Pn532 = driver.PN532_UART(uart, debug=False)
    else:
        board = importlib.import_module("board")
        busio = importlib.import_module("busio")
        if config.bus == "i2c":
            driver = importlib.import_module("adafruit_pn532.i2c")
            pn532 = driver.PN532_I2C(busio.I2C(board.SCL, board.SDA), debug=False)
        else:
            digitalio = importlib.import_module("digitalio")
            driver = importlib.import_module("adafruit_pn532.spi")
            chip_select = digitalio.DigitalInOut(getattr(board, f"D{config.cs_pin}"))
            pn532 = driver.PN532_SPI(
                busio.SPI(board.SCK, board.MOSI, board.MISO), chip_select, debug=False
            )
    pn532.SAM_configuration()
    return pn532


class Pn532Reader:
    """Polls a PN532 for cards in a daemon thread (the driver blocks)."""

    def __init__(
        self,
        config: ReaderConfig,
        *,
        opener: Callable[[ReaderConfig], Pn532] | None = None,
    ) -> None:
        """Poll the module ``config`` describes; ``opener`` replaces the driver."""
        if opener is None:
            _require("adafruit_pn532", "pn532", "pn532")
            opener = open_pn532
        self._config = config
        self._opener = opener
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, loop: asyncio.AbstractEventLoop, handler: CardHandler) -> None:
        """Start polling; cards reach ``handler`` in ``loop``."""

        def deliver(card: str) -> None:
            with contextlib.suppress(RuntimeError):  # loop closed on the way out
                loop.call_soon_threadsafe(handler, card)

        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, args=(deliver,), name="fluxilab-pn532", daemon=True
        )
        self._thread.start()

    def _run(self, deliver: Callable[[str], None]) -> None:
        last_log = -60.0
        while not self._stop.is_set():
            try:
                self._poll(self._opener(self._config), deliver)
            except Exception as err:  # any bus or driver failure
                if time.monotonic() - last_log >= 60.0:
                    last_log = time.monotonic()
                    _LOGGER.warning(
                        "PN532 on %s unavailable: %s", self._config.bus, err
                    )
            self._stop.wait(REOPEN_DELAY)

    def _poll(self, pn532: Pn532, deliver: Callable[[str], None]) -> None:
        present: str | None = None
        while not self._stop.is_set():
            uid = pn532.read_passive_target(timeout=self._config.poll_interval)
            card = bytes(uid).hex() if uid else None
            if card is not None and card != present and len(card) <= MAX_CARD_LENGTH:
                deliver(card)
            present = card

    def stop(self, timeout: float = 2.0) -> None:
        """Stop polling (the thread ends after its current poll)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
