"""A local control socket for simulations and tests (one JSON object per line).

``fluxilab-agent swipe``/``airflow``/``cut``/``status`` talk to a running ``run`` or
``simulate`` through a Unix socket in the data dir (mode 0600: only the agent's own
user can use it). Requests: ``{"op": "swipe", "device": ID, "card": CARD}``,
``{"op": "login", "device", "login", "secret"}``, ``{"op": "maintenance", "device",
"card"}``, ``{"op": "override", "device", "signal", "value", "seconds"?}``,
``{"op": "clear", "device", "signal"?}``, ``{"op": "cut", "device", "seconds"}``,
``{"op": "status", "device"?}``. Replies: ``{"ok": true, ...}`` or
``{"ok": false, "error": "..."}``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
import contextlib
from dataclasses import asdict
import json
import logging
import os
from pathlib import Path
import socket
from typing import Any

from .agent import Agent

_LOGGER = logging.getLogger(__name__)

MAX_REQUEST = 64 * 1024
MAX_CUT = 3600.0


class ControlServer:
    """Serves control requests for the agents of this process."""

    def __init__(self, path: Path, agents: Mapping[str, Agent]) -> None:
        """Listen on ``path`` once started."""
        self.path = path
        self._agents = agents
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        """Create the socket (replacing a stale one) with mode 0600."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        old_umask = os.umask(0o177)
        try:
            self._server = await asyncio.start_unix_server(
                self._serve, path=str(self.path), limit=MAX_REQUEST
            )
        finally:
            os.umask(old_umask)
        _LOGGER.info("Control socket at %s", self.path)

    async def stop(self) -> None:
        """Close the socket."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            line = await reader.readline()
            try:
                request = json.loads(line)
                if not isinstance(request, dict):
                    raise TypeError("not an object")
                reply = await self.handle(request)
            except (ValueError, TypeError, KeyError, RecursionError) as err:
                reply = {"ok": False, "error": f"bad request: {err}"}
            writer.write(json.dumps(reply, default=str).encode() + b"\n")
            await writer.drain()
        except (ConnectionError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    def _agent(self, request: dict[str, Any]) -> Agent:
        device = request.get("device")
        if device is None and len(self._agents) == 1:
            return next(iter(self._agents.values()))
        if not isinstance(device, str) or device not in self._agents:
            raise KeyError(f"no device {device!r} here ({', '.join(self._agents)})")
        return self._agents[device]

    async def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        """Carry out one request."""
        op = request.get("op")
        if op == "status":
            if request.get("device") is None:
                return {
                    "ok": True,
                    "devices": {key: a.status() for key, a in self._agents.items()},
                }
            return {"ok": True, "status": self._agent(request).status()}
        agent = self._agent(request)
        if op == "swipe":
            decision = await agent.handle_card(str(request["card"]))
            return {"ok": True, "decision": asdict(decision)}
        if op == "login":
            decision = await agent.login(str(request["login"]), str(request["secret"]))
            return {"ok": True, "decision": asdict(decision)}
        if op == "maintenance":
            decision = await agent.register_maintenance(str(request["card"]))
            return {"ok": True, "decision": asdict(decision)}
        if op == "override":
            value = request["value"]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError("value must be a number")
            seconds = request.get("seconds")
            agent.simulator.override(
                str(request["signal"]),
                value,
                float(seconds) if seconds is not None else None,
            )
            return {"ok": True}
        if op == "clear":
            signal = request.get("signal")
            agent.simulator.clear_override(str(signal) if signal else None)
            return {"ok": True}
        if op == "cut":
            seconds = float(request["seconds"])
            if not 0 < seconds <= MAX_CUT:
                raise ValueError(f"seconds must be 0..{MAX_CUT:.0f}")
            agent.cut(seconds)
            return {"ok": True}
        raise ValueError(f"unknown op {op!r}")


def send_request(path: Path, request: dict[str, Any], timeout: float = 30.0) -> Any:
    """Send one request to a control socket and return the decoded reply."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(path))
        sock.sendall(json.dumps(request).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    return json.loads(data)
