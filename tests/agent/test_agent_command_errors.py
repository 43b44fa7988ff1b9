"""Hub commands the device cannot carry out: each is answered with a result that
says why (the hub shows it to the admin), and the device keeps working."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import logging
from pathlib import Path
import sys
from typing import Any

import pytest
import voluptuous as vol

from fluxilab_agent.agent import Agent, decode_backlog, run_agent
from fluxilab_agent.hardware import CommandOutput
from fluxilab_protocol.topics import Channel
from tests.agent.conftest import eventually, paired
from tests.agent.stub_hub import StubHub
from tests.agent.test_agent import CREDENTIALS, give_credentials


class _Commands:
    def __init__(self, agent: Agent, hub: StubHub) -> None:
        self.agent = agent
        self.hub = hub

    async def run(self, cid: str, name: str, **args: Any) -> dict[str, Any]:
        self.hub.send(
            self.agent.device_id,
            Channel.COMMAND,
            {"id": cid, "command": name, "args": args},
        )
        await eventually(
            lambda: any(r["id"] == cid for r in self.hub.results), what=f"result {cid}"
        )
        return next(r for r in self.hub.results if r["id"] == cid)


async def test_refused_settings_and_relays_say_why(
    make_agent: Callable[..., Agent], hub: StubHub
) -> None:
    agent = make_agent()
    await paired(agent, hub)
    commands = _Commands(agent, hub)
    period = agent.periods["face_velocity"]

    for cid, periods in (
        ("p1", {"face_velocity": 0.01}),  # too fast
        ("p2", {"no_such_channel": 5}),
        ("p3", {"face_velocity": True}),  # a bool is not a number of seconds
        ("p4", ["face_velocity"]),
    ):
        result = await commands.run(cid, "config", periods=periods)
        assert result["ok"] is False
        assert result["error"] == "periods must map known channels to 0.05..86400 s"
    for cid, timeout in (("t1", 0.01), ("t2", 61), ("t3", "5"), ("t4", False)):
        result = await commands.run(cid, "config", access_timeout=timeout)
        assert result["error"] == "access_timeout must be 0.1..60 s"
    # Nothing refused was applied.
    assert agent.periods["face_velocity"] == period
    assert agent.access_timeout == 0.5

    # A blocked device does not switch its interlock on, even when told to.
    assert (await commands.run("b", "block"))["ok"] is True
    result = await commands.run("r1", "relay", on=True)
    assert result == {
        "id": "r1",
        "ok": False,
        "error": "the device is blocked",
        "generation": -1,
        "relay": False,
    }
    assert agent.outputs["interlock"].state is False
    # Switching it off stays possible; unblocked, on works again.
    assert (await commands.run("r2", "relay", on=False))["ok"] is True
    assert (await commands.run("u", "unblock"))["ok"] is True
    assert (await commands.run("r3", "relay", on=True)) == {
        "id": "r3",
        "ok": True,
        "generation": -1,
        "relay": True,  # what the hub's relay switch shows
    }
    assert agent.outputs["interlock"].state is True
    # Every result says what the output is now, whatever the command.
    assert (await commands.run("s", "sync"))["relay"] is True


async def test_failing_hooks_and_relay_hardware_are_reported(
    make_agent: Callable[..., Agent], hub: StubHub, tmp_path: Path
) -> None:
    agent = make_agent()
    object.__setattr__(agent.config.hooks, "reboot", ("sh", "-c", "exit 3"))
    object.__setattr__(
        agent.config.hooks, "update", (str(tmp_path / "no-such-updater"),)
    )
    # The interlock relay is a command whose "on" program fails.
    agent.outputs["interlock"] = CommandOutput(
        "interlock", ("/bin/false",), (sys.executable, "-c", "pass")
    )
    await paired(agent, hub)
    commands = _Commands(agent, hub)

    assert (await commands.run("rb", "reboot"))["error"] == "reboot hook exited with 3"
    result = await commands.run("up", "update", version="2.0")
    assert result["ok"] is False
    assert result["error"].startswith("update hook failed:")
    assert "no-such-updater" in result["error"]
    result = await commands.run("r", "relay", on=True)
    assert result["ok"] is False
    assert result["error"].startswith("/bin/false failed")
    assert agent.outputs["interlock"].state is False
    # The device still answers what it can do.
    assert (await commands.run("s", "sync"))["ok"] is True


async def test_a_session_whose_interlock_fails_is_logged_not_fatal(
    make_agent: Callable[..., Agent],
    hub: StubHub,
    caplog: pytest.LogCaptureFixture,
) -> None:
    agent = make_agent()
    agent.outputs["interlock"] = CommandOutput(
        "interlock", ("/bin/false",), ("/bin/false",)
    )
    await paired(agent, hub)
    await give_credentials(agent, hub)
    with caplog.at_level(logging.ERROR, logger="fluxilab_agent"):
        decision = await agent.handle_card("CARD-1")
    assert decision.granted
    assert "Could not switch interlock: /bin/false failed" in caplog.text
    assert agent.status()["user"] == "Ada"
    # A swipe from the reader (the callback) ends that session.
    agent.swipe("CARD-1")
    await eventually(lambda: agent.status()["user"] is None, what="the session end")


async def test_a_credential_set_that_cannot_be_stored_keeps_the_old_one(
    make_agent: Callable[..., Agent],
    hub: StubHub,
    caplog: pytest.LogCaptureFixture,
) -> None:
    agent = make_agent()
    await paired(agent, hub)
    await give_credentials(agent, hub)
    # The file's place is taken by a folder: the new set cannot be written.
    stored = agent.mirror.path
    stored.unlink()
    stored.mkdir()
    members: list[Any] = CREDENTIALS["members"]  # type: ignore[assignment]
    newer = {**CREDENTIALS, "generation": 2, "members": members[:1]}
    with caplog.at_level(logging.ERROR, logger="fluxilab_agent"):
        hub.send(agent.device_id, Channel.CREDENTIALS, newer, encrypt=True)
        await eventually(
            lambda: "Could not store the credential mirror" in caplog.text,
            what="the store error",
        )
    assert agent.mirror.generation == 1
    assert len(agent.mirror.members) == 2


async def test_a_command_that_fails_unexpectedly_is_answered_internal_error(
    make_agent: Callable[..., Agent],
    hub: StubHub,
    caplog: pytest.LogCaptureFixture,
) -> None:
    agent = make_agent()
    await paired(agent, hub)
    # The state file's place is taken by a folder: the block cannot be saved.
    agent.state.path.unlink(missing_ok=True)
    agent.state.path.mkdir()
    with caplog.at_level(logging.ERROR, logger="fluxilab_agent"):
        result = await _Commands(agent, hub).run("b", "block")
    assert result == {
        "id": "b",
        "ok": False,
        "error": "internal error",
        "generation": -1,
        "relay": False,
    }
    assert "Command block failed" in caplog.text


async def test_run_agent_runs_until_stopped(
    make_agent: Callable[..., Agent], hub: StubHub
) -> None:
    agent = make_agent()
    stop = asyncio.Event()
    task = asyncio.create_task(run_agent(agent, stop))
    await eventually(lambda: agent.device_id in hub.device_keys, what="the pairing")
    await eventually(lambda: hub.statuses[-1:] == ["online"], what="online")
    stop.set()
    await asyncio.wait_for(task, 15)
    # A clean stop: offline said, not left to the broker's will.
    await eventually(lambda: hub.statuses[-1:] == ["offline"], what="offline")
    assert agent.status()["online"] is False


def test_decode_backlog_checks_the_body() -> None:
    record = {
        "seq": 1,
        "ts": 1_700_000_000.0,
        "kind": "telemetry",
        "buffered": True,
        "values": {"face_velocity": 0.5},
    }
    assert decode_backlog({"records": [record]}) == [record]
    with pytest.raises(vol.Invalid):
        decode_backlog({"records": []})
    with pytest.raises(vol.Invalid):
        decode_backlog({"records": [{**record, "seq": -1}]})
