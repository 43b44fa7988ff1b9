"""A block from the hub while someone works at the machine ends that session at
once: the interlock opens and the hub hears the session stop with its reason."""

from __future__ import annotations

from collections.abc import Callable

from fluxilab_agent.agent import Agent
from fluxilab_protocol.topics import Channel
from tests.agent.conftest import eventually, paired
from tests.agent.stub_hub import StubHub
from tests.agent.test_agent import give_credentials


async def test_block_ends_the_running_session(
    make_agent: Callable[..., Agent], hub: StubHub
) -> None:
    agent = make_agent()
    await paired(agent, hub)
    await give_credentials(agent, hub)
    granted = await agent.handle_card("CARD-1")
    assert granted.granted
    assert agent.outputs["interlock"].state is True

    hub.send(agent.device_id, Channel.COMMAND, {"id": "b", "command": "block"})
    await eventually(lambda: agent.status()["user"] is None, what="the session end")
    assert agent.outputs["interlock"].state is False
    assert agent.status()["blocked"] is True
    await eventually(
        lambda: any(r["action"] == "session_stop" for r in hub.requests),
        what="the stop at the hub",
    )
    stop = next(r for r in hub.requests if r["action"] == "session_stop")
    assert stop["session_id"] == granted.session_id
    # And the next card is refused locally.
    denied = await agent.handle_card("CARD-1")
    assert (denied.granted, denied.reason) == (False, "blocked")
