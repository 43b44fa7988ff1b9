"""scripts/dev_lab.py wait: the develop banner waits for the devices to be online.

Against a small stand-in for Home Assistant's REST and websocket API: the entity
registry lists FluxiLab's connectivity sensors, /api/states says which are on.
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path
import sys
from types import ModuleType
from typing import Any

from aiohttp import web
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _dev_lab() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "dev_lab", ROOT / "scripts/dev_lab.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["dev_lab"] = module
    spec.loader.exec_module(module)
    return module


REGISTRY = [
    {"entity_id": "binary_sensor.hood_connectivity", "platform": "fluxilab",
     "unique_id": "sim-hood-1_connectivity"},
    {"entity_id": "binary_sensor.board_connectivity", "platform": "fluxilab",
     "unique_id": "fabomatic-1_connectivity"},
    {"entity_id": "binary_sensor.other_connectivity", "platform": "zha",
     "unique_id": "x_connectivity"},
]  # fmt: skip


async def _fake_hass(
    states: dict[str, str], polls: list[int] | None = None
) -> web.AppRunner:
    async def websocket(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"type": "auth_required"})
        await ws.receive_json()
        await ws.send_json({"type": "auth_ok"})
        async for msg in ws:
            message: dict[str, Any] = msg.json()
            assert message["type"] == "config/entity_registry/list"
            await ws.send_json(
                {"id": message["id"], "type": "result", "success": True,
                 "result": REGISTRY}
            )  # fmt: skip
        return ws

    async def api_states(request: web.Request) -> web.Response:
        # Every poll, the first offline device comes online.
        if polls is not None:
            polls.append(1)
        offline = [e for e, s in states.items() if s != "on"]
        answer = [{"entity_id": e, "state": s} for e, s in states.items()]
        if offline:
            states[offline[0]] = "on"
        return web.json_response(answer)

    app = web.Application()
    app.router.add_get("/api/websocket", websocket)
    app.router.add_get("/api/states", api_states)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner


@pytest.mark.parametrize(("kind", "polled"), [(None, 3), ("agent", 2)])
async def test_wait_returns_once_every_device_is_online(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str | None, polled: int
) -> None:
    dev_lab = _dev_lab()
    states = {
        "binary_sensor.hood_connectivity": "off",
        "binary_sensor.board_connectivity": "unavailable",
        "binary_sensor.other_connectivity": "off",  # not FluxiLab's: not waited for
    }
    polls: list[int] = []
    runner = await _fake_hass(states, polls)
    port = runner.addresses[0][1]
    (tmp_path / "admin-password").write_text("pw\n")

    async def login(*_args: Any) -> str:
        return "token"

    monkeypatch.setattr(dev_lab, "login", login)
    monkeypatch.setattr(dev_lab.asyncio, "sleep", _no_sleep)
    try:
        args = argparse.Namespace(
            url=f"http://127.0.0.1:{port}", state=tmp_path, kind=kind, timeout=60
        )
        await dev_lab.wait_online(args)
    finally:
        await runner.cleanup()
    # Polled until the devices waited for were on: the board too unless agents only.
    assert len(polls) == polled


async def _no_sleep(_seconds: float) -> None:
    return None


async def test_wait_gives_up_naming_the_offline_devices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dev_lab = _dev_lab()
    runner = await _fake_hass({})  # no states at all: nothing ever comes online
    port = runner.addresses[0][1]
    (tmp_path / "admin-password").write_text("pw\n")

    async def login(*_args: Any) -> str:
        return "token"

    monkeypatch.setattr(dev_lab, "login", login)
    try:
        args = argparse.Namespace(
            url=f"http://127.0.0.1:{port}", state=tmp_path, kind=None, timeout=0
        )
        with pytest.raises(SystemExit) as err:
            await dev_lab.wait_online(args)
    finally:
        await runner.cleanup()
    assert str(err.value) == ("still offline after 0 s: fabomatic-1, sim-hood-1")
