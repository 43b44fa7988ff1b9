"""Door mode (issue 9, item 6): every swipe is a ``check``, a granted one pulses the lock.

The agent runs against a real Mosquitto and the stub hub. The lock is the simulated
interlock output; a spy on it records every switch with its time, so the pulse
lengths are checked from what the output saw, not from sleeps.
"""

from __future__ import annotations

from collections.abc import Callable
import dataclasses
from pathlib import Path
import re
import time
import tomllib
from typing import Any

import pytest

from fluxilab_agent.agent import Agent
from fluxilab_agent.config import (
    AccessConfig,
    AccessMode,
    ConfigError,
    parse_config,
)
from fluxilab_agent.control import ControlServer
from fluxilab_agent.mirror import hash_secret
from fluxilab_protocol.topics import Channel
from tests.agent.conftest import eventually, paired
from tests.agent.stub_hub import StubHub

UNLOCK = 1.0
"""Seconds of the test door's unlock pulse."""

CREDENTIALS = {
    "generation": 1,
    "members": [
        {
            "id": "m-1",
            "name": "Ada",
            "level": "user",
            "cards": ["CARD-1"],
            "pin_hash": hash_secret("246810", rounds=4),
        },
    ],
    "timeout": 3600,
    "grace": 60,
    # Offline, the mirrored members are granted (the type's offline policy).
    "offline": {"policy": "allow_mirrored", "max_age": 86400},
}


def check_reply(device_id: str, request: dict[str, Any]) -> dict[str, Any]:
    """The hub's answer to a door: granted to CARD-1 and m-1, no session."""
    del device_id
    granted = request.get("card") == "CARD-1" or request.get("member_id") == "m-1"
    return {
        "id": request["id"],
        "granted": granted,
        "reason": "granted" if granted else "not_authorized",
        "member_id": "m-1" if granted else None,
        "name": "Ada" if granted else None,
        "timeout": 900,
        "grace": 60,
    }


class LockSpy:
    """Records every switch of the door's lock output with its monotonic time."""

    def __init__(self, agent: Agent) -> None:
        self.output = agent.outputs["interlock"]
        self.switches: list[tuple[float, bool]] = []
        original = self.output.set

        def spy(on: bool) -> None:
            self.switches.append((time.monotonic(), on))
            original(on)

        self.output.set = spy  # type: ignore[method-assign]

    def opened(self) -> bool:
        """True if the lock was ever switched on."""
        return any(on for _when, on in self.switches)


def door(unlock_seconds: float = UNLOCK) -> AccessConfig:
    """Door mode with fast test timings."""
    return AccessConfig(
        timeout=0.5,
        heartbeat=60.0,
        mode=AccessMode.DOOR,
        unlock_seconds=unlock_seconds,
    )


async def door_agent(make_agent: Callable[..., Agent], hub: StubHub) -> Agent:
    """A paired door with Ada in its credential mirror."""
    agent = make_agent(access=door())
    await paired(agent, hub)
    hub.send(agent.device_id, Channel.CREDENTIALS, CREDENTIALS, encrypt=True)
    await eventually(lambda: agent.mirror.generation == 1, what="credentials")
    return agent


def access_records(hub: StubHub) -> list[dict[str, Any]]:
    """The access events the door buffered and the hub received."""
    return [r["event"] for r in hub.seen.values() if r.get("kind") == "access"]


async def test_granted_check_pulses_the_lock_and_a_swipe_extends_it(
    make_agent: Callable[..., Agent], hub: StubHub
) -> None:
    hub.policy = check_reply
    agent = await door_agent(make_agent, hub)
    lock = LockSpy(agent)

    first = await agent.handle_card("CARD-1")
    assert (first.granted, first.offline, first.member_id) == (True, False, "m-1")
    assert first.session_id is None
    assert agent.session is None
    assert lock.output.state is True
    status = agent.status()
    assert (status["mode"], status["unlocked"], status["user"]) == ("door", True, None)
    await eventually(lambda: lock.output.state is False, 5, "the lock to close")
    (opened, on), (closed, off) = lock.switches
    assert (on, off) == (True, False)
    assert closed - opened >= UNLOCK - 0.01
    assert agent.status()["unlocked"] is False

    # A second granted swipe while it is open restarts the pulse.
    lock.switches.clear()
    await agent.handle_card("CARD-1")
    await eventually(lambda: time.monotonic() - lock.switches[0][0] > UNLOCK * 0.3)
    assert lock.output.state is True
    again = await agent.handle_card("CARD-1")
    assert again.granted
    extended_at = time.monotonic()
    await eventually(lambda: lock.output.state is False, 5, "the lock to close")
    assert [on for _when, on in lock.switches] == [True, True, False]
    assert lock.switches[-1][0] - extended_at >= UNLOCK - 0.05
    assert lock.switches[-1][0] - lock.switches[0][0] >= UNLOCK * 1.3 - 0.01

    # A PIN login at the door is a check too, with the member id only.
    lock.switches.clear()
    login = await agent.login("ada", "246810")
    assert login.granted
    assert lock.output.state is True
    assert hub.requests[-1]["member_id"] == "m-1"
    assert "card" not in hub.requests[-1]

    actions = {request["action"] for request in hub.requests}
    assert actions == {"check"}
    assert all("session_id" not in request for request in hub.requests)
    assert agent.session is None


async def test_denied_check_never_unlocks(
    make_agent: Callable[..., Agent], hub: StubHub
) -> None:
    hub.policy = check_reply
    agent = await door_agent(make_agent, hub)
    lock = LockSpy(agent)
    denied = await agent.handle_card("CARD-9")
    assert (denied.granted, denied.reason, denied.offline) == (
        False,
        "not_authorized",
        False,
    )
    assert (await agent.login("ada", "wrong")).granted is False
    assert not lock.opened()
    assert agent.status()["unlocked"] is False
    assert [request["action"] for request in hub.requests] == ["check"]
    assert agent.session is None


async def test_blocked_door_never_unlocks(
    make_agent: Callable[..., Agent], hub: StubHub
) -> None:
    hub.policy = check_reply
    agent = await door_agent(make_agent, hub)
    lock = LockSpy(agent)
    # Open, then blocked while open: the lock closes at once.
    agent.config = dataclasses.replace(agent.config, access=door(unlock_seconds=30))
    assert (await agent.handle_card("CARD-1")).granted
    assert lock.output.state is True
    hub.send(agent.device_id, Channel.COMMAND, {"id": "b", "command": "block"})
    await eventually(lambda: agent.state.blocked, what="the block")
    await eventually(lambda: lock.output.state is False, 5, "the lock to close")
    assert agent.status()["unlocked"] is False

    lock.switches.clear()
    asked = len(hub.requests)
    blocked = await agent.handle_card("CARD-1")
    assert (blocked.granted, blocked.reason) == (False, "blocked")
    assert (await agent.login("ada", "246810")).reason == "blocked"
    assert len(hub.requests) == asked  # decided locally
    assert not lock.opened()
    await eventually(
        lambda: sum(e["reason"] == "blocked" for e in access_records(hub)) == 2,
        what="the blocked swipes at the hub",
    )
    assert {e["action"] for e in access_records(hub)} == {"check"}

    # Blocked while the hub decides: the granted reply does not open the lock.
    hub.send(agent.device_id, Channel.COMMAND, {"id": "u", "command": "unblock"})
    await eventually(lambda: not agent.state.blocked, what="the unblock")

    def block_then_grant(device_id: str, request: dict[str, Any]) -> dict[str, Any]:
        agent.state.blocked = True
        return check_reply(device_id, request)

    hub.policy = block_then_grant
    late = await agent.handle_card("CARD-1")
    assert late.granted  # the hub said so; the door stays shut anyway
    assert not lock.opened()


async def test_offline_check_decides_from_the_mirror_and_is_buffered(
    make_agent: Callable[..., Agent], hub: StubHub
) -> None:
    agent = await door_agent(make_agent, hub)
    lock = LockSpy(agent)
    hub.policy = None  # the hub stops answering
    known = await agent.handle_card("CARD-1")
    assert (known.granted, known.offline, known.member_id, known.reason) == (
        True,
        True,
        "m-1",
        "granted",
    )
    assert lock.output.state is True
    unanswered = hub.requests[-1]
    assert unanswered["action"] == "check"
    unknown = await agent.handle_card("UNKNOWN")
    assert (unknown.granted, unknown.reason, unknown.offline) == (
        False,
        "unknown_card",
        True,
    )
    login = await agent.login("ada", "246810")
    assert (login.granted, login.offline) == (True, True)
    await eventually(lambda: len(access_records(hub)) == 3, what="the records")
    records = access_records(hub)
    assert [(e["action"], e["offline"]) for e in records] == [("check", True)] * 3
    by_card = {e.get("card"): e for e in records}
    assert by_card["CARD-1"]["granted"] is True
    assert by_card["CARD-1"]["member_id"] == "m-1"
    # The id of the request the hub never answered: a hub that did decide merges.
    assert by_card["CARD-1"]["request_id"] == unanswered["id"]
    assert by_card["UNKNOWN"]["granted"] is False
    assert by_card[None]["member_id"] == "m-1"
    assert all(e["request_id"] for e in records)
    assert all(e.get("session_id") is None for e in records)
    await eventually(lambda: lock.output.state is False, 5, "the lock to close")
    assert agent.session is None


async def test_relay_command_overrides_the_pulse(
    make_agent: Callable[..., Agent], hub: StubHub
) -> None:
    hub.policy = check_reply
    agent = await door_agent(make_agent, hub)
    lock = LockSpy(agent)
    assert (await agent.handle_card("CARD-1")).granted
    # The hub holds the door open: the pulse no longer closes it.
    hub.send(
        agent.device_id,
        Channel.COMMAND,
        {"id": "open", "command": "relay", "args": {"on": True}},
    )
    await eventually(lambda: any(r["id"] == "open" for r in hub.results))
    await eventually(lambda: time.monotonic() - lock.switches[0][0] > UNLOCK + 0.3)
    assert [on for _when, on in lock.switches] == [True, True]
    assert agent.status()["unlocked"] is True
    hub.send(
        agent.device_id,
        Channel.COMMAND,
        {"id": "shut", "command": "relay", "args": {"on": False}},
    )
    await eventually(lambda: agent.status()["unlocked"] is False, what="the lock")


async def test_status_and_control_socket_show_the_door(
    make_agent: Callable[..., Agent], hub: StubHub, tmp_path: Path
) -> None:
    hub.policy = check_reply
    agent = await door_agent(make_agent, hub)
    server = ControlServer(tmp_path / "control.sock", {agent.device_id: agent})
    swipe = await server.handle({"op": "swipe", "card": "CARD-1"})
    assert swipe["decision"]["granted"] is True
    assert swipe["decision"]["session_id"] is None
    status = (await server.handle({"op": "status"}))["devices"][agent.device_id]
    assert (status["mode"], status["unlocked"], status["relay"]) == ("door", True, True)
    await agent.stop()
    assert agent.outputs["interlock"].state is False  # shutdown leaves it shut


async def test_session_mode_is_the_default_and_unchanged(
    make_agent: Callable[..., Agent], hub: StubHub
) -> None:
    agent = make_agent()
    assert agent.config.access.mode is AccessMode.SESSION
    await paired(agent, hub)
    started = await agent.handle_card("CARD-1")
    assert started.session_id is not None
    assert agent.status()["mode"] == "session"
    assert agent.status()["unlocked"] is None
    assert hub.requests[-1]["action"] == "session_start"


# -- configuration ------------------------------------------------------------------

BASE = {
    "device": {"id": "door-1", "name": "Lab entrance", "kind": "sensor_station"},
    "broker": {"host": "127.0.0.1"},
    "actuators": [{"key": "lock", "kind": "relay"}],
}


def test_config_defaults_and_door_mode() -> None:
    config = parse_config(BASE)
    assert config.access.mode is AccessMode.SESSION
    assert config.access.unlock_seconds == 5.0
    door_config = parse_config(BASE | {"access": {"mode": "door", "unlock_seconds": 8}})
    assert door_config.access.mode is AccessMode.DOOR
    assert door_config.access.unlock_seconds == 8.0


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"access": {"mode": "gate"}}, "access.mode: 'gate' is not one of"),
        (
            {"access": {"mode": "door", "unlock_seconds": 0}},
            "access.unlock_seconds: must be a positive number",
        ),
        (
            {"access": {"mode": "door", "unlock_seconds": 601}},
            "access.unlock_seconds: value must be at most 600",
        ),
        (
            {"access": {"mode": "door", "unlock_seconds": "5"}},
            "access.unlock_seconds: must be a positive number",
        ),
        (
            {"access": {"unlock_seconds": 5}},
            'access.unlock_seconds: is only used with access.mode = "door"',
        ),
        (
            {"access": {"mode": "door"}, "actuators": [{"key": "b", "kind": "button"}]},
            'access.mode: "door" needs an actuator of kind "interlock" or "relay"',
        ),
    ],
)
def test_config_rejects_bad_door_settings(
    changes: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(BASE | changes)
    assert any(p.startswith(problem) for p in err.value.problems), err.value.problems


def test_documented_door_example_is_valid() -> None:
    text = (Path(__file__).parents[2] / "docs" / "AGENT.md").read_text()
    section = text.split("### Door mode", 1)[1]
    example = re.search(r"```toml\n(.*?)```", section, re.DOTALL)
    assert example is not None
    config = parse_config(tomllib.loads(example.group(1)))
    assert config.access.mode is AccessMode.DOOR
    assert config.access.unlock_seconds == 5.0
    assert config.actuators[0].key == "lock"
