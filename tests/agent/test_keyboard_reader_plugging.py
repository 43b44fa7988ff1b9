"""A keyboard-wedge reader selected in the config (``rfid.type = "keyboard"``)
through evdev: one that is not plugged in yet at start is opened once it appears,
not grabbed when asked not to be, and a card with a foreign key is counted."""

from __future__ import annotations

import asyncio
import importlib.machinery
import logging
from pathlib import Path
import sys
import types

import pytest

from fluxilab_agent import readers
from fluxilab_agent.config import ReaderConfig
from fluxilab_agent.hardware import build_reader
from fluxilab_agent.readers import KeyboardWedgeReader
from tests.agent.conftest import eventually
from tests.agent.test_readers import FakeInputDevice, typed


def fake_evdev(
    monkeypatch: pytest.MonkeyPatch, nodes: dict[str, FakeInputDevice]
) -> list[str]:
    """An evdev whose InputDevice opens the nodes in ``nodes`` (others: ENOENT)."""
    opened: list[str] = []

    def input_device(path: str) -> FakeInputDevice:
        opened.append(path)
        if path not in nodes:
            raise FileNotFoundError(2, "No such file or directory", path)
        return nodes[path]

    module = types.ModuleType("evdev")
    module.__spec__ = importlib.machinery.ModuleSpec("evdev", None)
    module.InputDevice = input_device  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "evdev", module)
    return opened


async def test_a_reader_plugged_in_after_start_is_opened(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(readers, "REOPEN_DELAY", 0.01)
    nodes: dict[str, FakeInputDevice] = {}
    opened = fake_evdev(monkeypatch, nodes)
    path = "/dev/input/by-id/usb-reader-event-kbd"
    reader = build_reader(ReaderConfig(type="keyboard", path=Path(path)))
    assert isinstance(reader, KeyboardWedgeReader)
    cards: asyncio.Queue[str] = asyncio.Queue()
    with caplog.at_level(logging.WARNING, logger="fluxilab_agent"):
        reader.start(asyncio.get_running_loop(), cards.put_nowait)
    assert f"Card reader {path} unavailable" in caplog.text
    device = nodes[path] = FakeInputDevice()  # plugged in
    await eventually(lambda: device.grabbed, what="the reader to be opened")
    assert len(opened) >= 2
    device.send(typed("0412\n"))
    assert await asyncio.wait_for(cards.get(), 5) == "0412"
    # A card with a key that is no digit or hex letter is dropped and counted.
    device.send(typed("04x2\n"))
    device.send(typed("99\n"))
    assert await asyncio.wait_for(cards.get(), 5) == "99"
    assert reader.rejected == 1
    reader.stop()
    assert device.closed


async def test_grab_false_leaves_the_device_shared(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = "/dev/input/event5"
    device = FakeInputDevice()
    fake_evdev(monkeypatch, {path: device})
    reader = build_reader(ReaderConfig(type="keyboard", path=Path(path), grab=False))
    cards: asyncio.Queue[str] = asyncio.Queue()
    reader.start(asyncio.get_running_loop(), cards.put_nowait)
    assert device.grabbed is False
    device.send(typed("ab12\n"))
    assert await asyncio.wait_for(cards.get(), 5) == "ab12"
    reader.stop()
    assert device.closed
    assert device.grabbed is False


async def test_a_reader_stopped_before_it_appears_is_never_opened(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(readers, "REOPEN_DELAY", 0.01)
    nodes: dict[str, FakeInputDevice] = {}
    opened = fake_evdev(monkeypatch, nodes)
    path = "/dev/input/event9"
    reader = build_reader(ReaderConfig(type="keyboard", path=Path(path)))
    reader.start(asyncio.get_running_loop(), lambda card: pytest.fail(card))
    reader.stop()
    nodes[path] = FakeInputDevice()
    await asyncio.sleep(0.1)
    assert opened == [path]  # no retry after stop
    assert nodes[path].grabbed is False
    nodes[path].close()
