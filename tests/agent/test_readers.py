"""Card readers on hardware: keyboard-wedge input events and a PN532, both faked."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
import os
from pathlib import Path
import sys
import threading
import types
from typing import Any, ClassVar

import pytest

from fluxilab_agent import readers
from fluxilab_agent.config import ConfigError, ReaderConfig, parse_config
from fluxilab_agent.hardware import build_reader
from fluxilab_agent.readers import (
    EV_KEY,
    InputEvent,
    KeyboardWedgeReader,
    KeyDecoder,
    Pn532Reader,
    ReaderError,
)
from tests.agent.conftest import eventually

EV_SYN, EV_MSC = 0, 4
KEY_CODES = {
    **{str(d): c for d, c in zip("1234567890", range(2, 12), strict=True)},
    "a": 30,
    "b": 48,
    "c": 46,
    "d": 32,
    "e": 18,
    "f": 33,
    "\n": 28,
    "x": 45,
}


def typed(text: str, *, t0: int = 1_700_000_000) -> list[InputEvent]:
    """The events a wedge reader sends typing ``text``: scan code, down, sync, up."""
    events: list[InputEvent] = []
    for i, char in enumerate(text):
        code = KEY_CODES[char]
        for value in (1, 0):
            events += [
                InputEvent(t0, i * 1000, EV_MSC, 4, 0x70000 + code),
                InputEvent(t0, i * 1000, EV_KEY, code, value),
                InputEvent(t0, i * 1000, EV_SYN, 0, 0),
            ]
    return events


# A recording of a real 125 kHz wedge reader typing card 0004567891 on the keypad
# (KP digits, KPENTER), with an auto-repeat event in the middle.
RECORDED_KEYPAD = [
    InputEvent(1, 0, EV_KEY, code, value)
    for code, value in [
        (82, 1), (82, 0), (82, 1), (82, 0), (82, 1), (82, 0),
        (75, 1), (75, 2), (75, 0), (76, 1), (76, 0), (77, 1), (77, 0),
        (71, 1), (71, 0), (72, 1), (72, 0), (73, 1), (73, 0), (79, 1), (79, 0),
        (96, 1), (96, 0),
    ]
]  # fmt: skip


def decode(events: list[InputEvent]) -> list[str]:
    decoder = KeyDecoder()
    return [
        card
        for event in events
        if (card := decoder.feed(event.type, event.code, event.value)) is not None
    ]


def test_decoder_reads_digits_hex_and_keypad() -> None:
    assert decode(typed("0412ab9f\n")) == ["0412ab9f"]
    assert decode(RECORDED_KEYPAD) == ["0004567891"]
    # Shift (upper-case hex) is the same card.
    shifted = [InputEvent(1, 0, EV_KEY, 42, 1), *typed("ab\n")]
    assert decode(shifted) == ["ab"]


def test_decoder_drops_a_card_with_a_foreign_key_and_keeps_the_next() -> None:
    decoder = KeyDecoder()
    cards = [
        card
        for event in typed("12x4\n\n5678\n")
        if (card := decoder.feed(event.type, event.code, event.value)) is not None
    ]
    assert cards == ["5678"]
    assert decoder.rejected == 1


def test_decoder_refuses_an_endless_card() -> None:
    assert decode(typed("1" * 65 + "\n" + "42\n")) == ["42"]


class FakeInputDevice:
    """An evdev InputDevice on a pipe: write() makes the fd readable."""

    def __init__(self) -> None:
        self._read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._read_fd, False)
        self.fd = self._read_fd
        self.pending: list[InputEvent] = []
        self.grabbed = False
        self.closed = False
        self.fail: OSError | None = None

    def send(self, events: list[InputEvent]) -> None:
        self.pending.extend(events)
        os.write(self._write_fd, b"x")

    def read(self) -> Iterator[InputEvent]:
        if self.fail is not None:
            raise self.fail
        try:
            os.read(self._read_fd, 4096)
        except BlockingIOError:
            raise BlockingIOError from None
        events, self.pending = self.pending, []
        return iter(events)

    def grab(self) -> None:
        self.grabbed = True

    def ungrab(self) -> None:
        self.grabbed = False

    def close(self) -> None:
        self.closed = True
        os.close(self._read_fd)
        os.close(self._write_fd)


async def test_keyboard_reader_grabs_and_delivers_cards() -> None:
    device = FakeInputDevice()
    opened: list[str] = []

    def opener(path: str) -> FakeInputDevice:
        opened.append(path)
        return device

    reader = KeyboardWedgeReader("/dev/input/event3", opener=opener)
    cards: asyncio.Queue[str] = asyncio.Queue()
    reader.start(asyncio.get_running_loop(), cards.put_nowait)
    assert opened == ["/dev/input/event3"]
    assert device.grabbed
    events = typed("0412ab9f\n")
    device.send(events[:10])  # a card arrives in pieces
    device.send(events[10:])
    device.send(RECORDED_KEYPAD)
    assert await asyncio.wait_for(cards.get(), 5) == "0412ab9f"
    assert await asyncio.wait_for(cards.get(), 5) == "0004567891"
    reader.stop()
    assert not device.grabbed
    assert device.closed


async def test_keyboard_reader_reopens_an_unplugged_reader(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(readers, "REOPEN_DELAY", 0.01)
    devices = [FakeInputDevice(), FakeInputDevice()]
    handed = iter(devices)
    reader = KeyboardWedgeReader("/dev/input/event3", opener=lambda _p: next(handed))
    cards: asyncio.Queue[str] = asyncio.Queue()
    reader.start(asyncio.get_running_loop(), cards.put_nowait)
    first, second = devices
    first.fail = OSError(19, "No such device")
    first.send([])
    await eventually(lambda: second.grabbed, what="the reader to open again")
    assert first.closed
    second.send(typed("77\n"))
    assert await asyncio.wait_for(cards.get(), 5) == "77"
    reader.stop()


async def test_keyboard_reader_that_cannot_be_grabbed_is_not_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(readers, "REOPEN_DELAY", 3600)
    device = FakeInputDevice()

    def refuse() -> None:
        raise OSError(16, "Device or resource busy")

    device.grab = refuse  # type: ignore[method-assign]
    reader = KeyboardWedgeReader("/dev/input/event3", opener=lambda _p: device)
    reader.start(asyncio.get_running_loop(), lambda card: pytest.fail(card))
    assert device.closed
    reader.stop()


class FakePn532:
    """The PN532 driver's surface: cards appear in the field as the test says."""

    def __init__(self, field: list[bytes | None]) -> None:
        self.field = field
        self.configured = False

    def SAM_configuration(self) -> None:
        self.configured = True

    def read_passive_target(self, *, timeout: float = 1) -> bytes | None:
        if not self.field:
            threading.Event().wait(timeout)
            return None
        return self.field.pop(0)


async def test_pn532_reader_delivers_each_presentation_once() -> None:
    uid = bytes.fromhex("04a1b2c3d4e5f6")
    # Held for three polls, taken away, presented again, then another card.
    fake = FakePn532([uid, uid, uid, None, uid, bytes.fromhex("deadbeef")])
    config = ReaderConfig(type="pn532", bus="i2c", poll_interval=0.01)

    def opener(seen: ReaderConfig) -> FakePn532:
        assert seen is config
        fake.SAM_configuration()
        return fake

    reader = Pn532Reader(config, opener=opener)
    cards: asyncio.Queue[str] = asyncio.Queue()
    reader.start(asyncio.get_running_loop(), cards.put_nowait)
    try:
        got = [await asyncio.wait_for(cards.get(), 5) for _ in range(3)]
    finally:
        reader.stop()
    assert got == ["04a1b2c3d4e5f6", "04a1b2c3d4e5f6", "deadbeef"]
    assert cards.empty()
    assert fake.configured


async def test_pn532_reader_survives_a_bus_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(readers, "REOPEN_DELAY", 0.01)
    attempts: list[int] = []

    def opener(_config: ReaderConfig) -> FakePn532:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("Did not receive expected ACK from PN532!")
        return FakePn532([bytes.fromhex("cafe")])

    reader = Pn532Reader(ReaderConfig(type="pn532", poll_interval=0.01), opener=opener)
    cards: asyncio.Queue[str] = asyncio.Queue()
    reader.start(asyncio.get_running_loop(), cards.put_nowait)
    try:
        assert await asyncio.wait_for(cards.get(), 5) == "cafe"
    finally:
        reader.stop()
    assert len(attempts) == 2


def test_missing_library_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readers.importlib.util, "find_spec", lambda _name: None)
    with pytest.raises(ReaderError, match=r"fluxilab-agent\[keyboard\]"):
        build_reader(ReaderConfig(type="keyboard", path=Path("/dev/input/event0")))
    with pytest.raises(ReaderError, match=r"fluxilab-agent\[pn532\]"):
        build_reader(ReaderConfig(type="pn532"))


BASE: dict[str, Any] = {
    "device": {"id": "hood-1", "name": "Hood", "kind": "fumehood"},
    "broker": {"host": "127.0.0.1"},
}


def test_reader_config_keys() -> None:
    keyboard = parse_config(
        BASE | {"rfid": {"type": "keyboard", "path": "/dev/input/event3"}}
    ).rfid
    assert keyboard == ReaderConfig(
        type="keyboard", path=Path("/dev/input/event3"), grab=True
    )
    pn532 = parse_config(
        BASE
        | {
            "rfid": {
                "type": "pn532",
                "bus": "uart",
                "path": "/dev/serial0",
                "baudrate": 115200,
            }
        }
    ).rfid
    assert pn532 is not None
    assert (pn532.bus, pn532.path) == ("uart", Path("/dev/serial0"))
    assert parse_config(BASE | {"rfid": {"type": "pn532"}}).rfid == ReaderConfig(
        type="pn532", bus="i2c"
    )


@pytest.mark.parametrize(
    ("rfid", "problem"),
    [
        ({"type": "keyboard"}, 'rfid.path: is required when type = "keyboard"'),
        (
            {"type": "pn532", "bus": "uart"},
            'rfid.path: is required when bus = "uart" (serial port)',
        ),
        (
            {"type": "pn532", "bus": "i2c", "cs_pin": 8},
            'rfid.cs_pin: is only used with bus = "spi"',
        ),
        (
            {"type": "pn532", "bus": "can"},
            "rfid.bus: 'can' is not one of: i2c, spi, uart",
        ),
        (
            {"type": "device", "path": "/dev/ttyUSB0", "grab": True},
            'rfid.grab: is not used with type = "device"',
        ),
        (
            {"type": "nfc"},
            "rfid.type: 'nfc' is not one of: stdin, device, keyboard, pn532, simulated",
        ),
    ],
)
def test_reader_config_errors(rfid: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(BASE | {"rfid": rfid})
    assert problem in err.value.problems


class FakeDriver:
    """What Adafruit's PN532_I2C/_SPI/_UART classes are given, and SAM config."""

    made: ClassVar[list[FakeDriver]] = []

    def __init__(self, *bus: Any, debug: bool = False) -> None:
        self.bus = bus
        self.debug = debug
        self.configured = False
        FakeDriver.made.append(self)

    def SAM_configuration(self) -> None:
        self.configured = True


@pytest.fixture
def fake_blinka(monkeypatch: pytest.MonkeyPatch) -> list[FakeDriver]:
    """Blinka's board/busio/digitalio, pyserial and the PN532 driver, faked."""
    FakeDriver.made = []
    modules: dict[str, Any] = {
        "board": types.SimpleNamespace(
            SCL="SCL", SDA="SDA", SCK="SCK", MOSI="MOSI", MISO="MISO", D5="D5", D7="D7"
        ),
        "busio": types.SimpleNamespace(
            I2C=lambda scl, sda: ("I2C", scl, sda),
            SPI=lambda sck, mosi, miso: ("SPI", sck, mosi, miso),
        ),
        "digitalio": types.SimpleNamespace(DigitalInOut=lambda pin: ("CS", pin)),
        "serial": types.SimpleNamespace(
            Serial=lambda port, baudrate, timeout: ("UART", port, baudrate, timeout)
        ),
        "adafruit_pn532.i2c": types.SimpleNamespace(PN532_I2C=FakeDriver),
        "adafruit_pn532.spi": types.SimpleNamespace(PN532_SPI=FakeDriver),
        "adafruit_pn532.uart": types.SimpleNamespace(PN532_UART=FakeDriver),
    }
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    return FakeDriver.made


def test_open_pn532_on_each_bus(fake_blinka: list[FakeDriver]) -> None:
    readers.open_pn532(ReaderConfig(type="pn532", bus="i2c"))
    readers.open_pn532(ReaderConfig(type="pn532", bus="spi", cs_pin=7))
    readers.open_pn532(
        ReaderConfig(type="pn532", bus="uart", path=Path("/dev/serial0"), baudrate=9600)
    )
    i2c, spi, uart = fake_blinka
    assert i2c.bus == (("I2C", "SCL", "SDA"),)
    assert spi.bus == (("SPI", "SCK", "MOSI", "MISO"), ("CS", "D7"))
    assert uart.bus == (("UART", "/dev/serial0", 9600, 0.1),)
    assert all(d.configured and not d.debug for d in fake_blinka)
