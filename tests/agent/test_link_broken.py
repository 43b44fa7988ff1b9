"""The agent says so when its secure link to the hub is broken.

After Home Assistant came back with another key pair than the one this device
pinned, the agent refused the hub silently (a rate-limited warning) while still
looking paired. Now: one warning with the fix, ``link: broken`` in its status (the
control socket, the gateway's device page: tests/agent/test_gateway.py) and a clear page for a refused link.
"""

from __future__ import annotations

from collections.abc import Callable
import logging

import pytest

from fluxilab_agent.agent import LINK_BROKEN_AFTER, Agent
from fluxilab_protocol.security import KeyPair
from fluxilab_protocol.topics import Channel
from tests.agent.conftest import eventually, paired
from tests.agent.stub_hub import StubHub
from tests.mosquitto import Mosquitto


async def test_hub_with_another_key_breaks_the_link_loudly(
    make_agent: Callable[..., Agent],
    hub: StubHub,
    mosquitto: Mosquitto,
    caplog: pytest.LogCaptureFixture,
) -> None:
    agent = make_agent()
    await paired(agent, hub)
    assert agent.status()["link"] == "ok"
    hub.close()

    # Home Assistant restarted with another key pair: it announces that key.
    replaced = StubHub(mosquitto.host, mosquitto.port, keys=KeyPair.generate())
    try:
        await eventually(lambda: agent.link_problem is not None, what="the refusal")
        status = agent.status()
        assert status["link"] == "broken"
        assert status["link_problem"] == "hub_key_changed"
        assert status["paired"] is True  # still pinned to the old hub
        said = [
            r
            for r in caplog.records
            if "secure link to the hub is broken" in r.getMessage()
        ]
        assert len(said) == 1  # once, not per refused message
        assert said[0].levelno == logging.WARNING
        assert "pair --reset" in said[0].getMessage()
    finally:
        replaced.close()

    # The original hub returns: its first verified message mends the link.
    original = StubHub(mosquitto.host, mosquitto.port, keys=hub.keys)
    try:
        await eventually(lambda: agent.device_id in original.device_keys)
        original.send(agent.device_id, Channel.COMMAND, {"id": "c1", "command": "sync"})
        await eventually(lambda: agent.link_problem is None, what="the mended link")
        assert agent.status()["link"] == "ok"
        assert "secure link to the hub works again" in caplog.text
    finally:
        original.close()


async def test_hub_messages_failing_signature_break_the_link(
    make_agent: Callable[..., Agent],
    hub: StubHub,
) -> None:
    agent = make_agent()
    await paired(agent, hub)
    # The hub seals with keys the device does not derive (its key pair changed).
    hub.device_keys[agent.device_id] = KeyPair.generate().derive(
        KeyPair.generate().public_b64
    )
    for n in range(LINK_BROKEN_AFTER - 1):
        hub.send(agent.device_id, Channel.COMMAND, {"id": f"c{n}", "command": "sync"})
    await eventually(
        lambda: agent.counters.get("rejected_command_signature", 0)
        == LINK_BROKEN_AFTER - 1
    )
    assert agent.link_problem is None  # one or two forged messages are not a break
    hub.send(agent.device_id, Channel.COMMAND, {"id": "last", "command": "sync"})
    await eventually(lambda: agent.link_problem == "signature", what="broken")
    assert agent.status()["link"] == "broken"
