"""The agent's side of issue 14: sealed announcements, size caps, replays after a restart."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
import time
from typing import Any
from unittest.mock import MagicMock, patch

import pytest

from fluxilab_agent.agent import Agent
from fluxilab_agent.cli import simulated_config
from fluxilab_protocol.schemas import ANNOUNCE_SCHEMA, MAX_PAYLOAD_BYTES
from fluxilab_protocol.security import (
    KeyPair,
    ProtocolSecurityError,
    open_announce,
    seal,
)
from fluxilab_protocol.topics import HUB_TO_DEVICE, Channel, hub_topic


@pytest.fixture
def hub() -> KeyPair:
    """The hub's key pair."""
    return KeyPair.generate()


def make(tmp_path: Path, hub_key: str | None) -> Agent:
    """A simulated fumehood on ``tmp_path`` (pinned to ``hub_key`` if given)."""
    config = simulated_config(
        1, data_dir=tmp_path / "data", host="127.0.0.1", port=1, gateway_port=8080
    )
    return Agent(dataclasses.replace(config, hub_key=hub_key))


def sealed(
    agent: Agent,
    hub: KeyPair,
    channel: Channel,
    body: dict[str, Any],
    now: float | None = None,
) -> bytes:
    """A message from the hub to ``agent`` (sealed ``now``)."""
    topic = agent.topics.topic(channel)
    keys = hub.derive(agent.key_pair.public_b64)
    return json.dumps(seal(keys, topic, body, now=now)).encode()


# Finding 1: the agent seals its announcement once paired ---------------------------


def test_announcement_is_sealed_once_paired(tmp_path: Path, hub: KeyPair) -> None:
    agent = make(tmp_path, hub.public_b64)
    message = agent.announce_message()
    topic = agent.topics.topic(Channel.ANNOUNCE)
    assert open_announce(hub.derive(agent.key_pair.public_b64), topic, message) > 0
    # Still a plain, readable announcement (discovery, older hubs).
    ANNOUNCE_SCHEMA(message)
    assert message["ui_url"] == "http://127.0.0.1:8080/"


def test_announcement_is_plain_until_paired_then_sealed(
    tmp_path: Path, hub: KeyPair
) -> None:
    agent = make(tmp_path, None)
    with pytest.raises(ProtocolSecurityError) as err:
        open_announce(
            hub.derive(agent.key_pair.public_b64),
            agent.topics.topic(Channel.ANNOUNCE),
            agent.announce_message(),
        )
    assert err.value.reason == "unsealed"
    agent.channel.link = link = MagicMock()
    hub_announce = json.dumps({"v": 1, "key": hub.public_b64}).encode()
    agent._handle_message(hub_topic(agent.config.base_topic), hub_announce)
    assert agent.keys is not None
    # Re-announced at once, sealed: the hub takes nothing else from a paired device.
    (published,) = link.set_announce.call_args.args
    topic = agent.topics.topic(Channel.ANNOUNCE)
    open_announce(hub.derive(agent.key_pair.public_b64), topic, published)


# Finding 7: sizes --------------------------------------------------------------------


@pytest.mark.parametrize("channel", [*sorted(HUB_TO_DEVICE), "hub"])
def test_oversized_hub_message_is_dropped_unparsed(
    tmp_path: Path, hub: KeyPair, channel: Channel | str
) -> None:
    """A 67 MB payload costs a length check: json.loads never sees it."""
    agent = make(tmp_path, hub.public_b64)
    if channel == "hub":
        topic, name = hub_topic(agent.config.base_topic), "hub_announce"
        just_over = 1025
    else:
        assert isinstance(channel, Channel)
        topic, name = agent.topics.topic(channel), channel.value.replace("/", "_")
        just_over = MAX_PAYLOAD_BYTES[channel] + 1
    huge = b'{"v":1,"body":"' + b"x" * (67 * 1024 * 1024) + b'"}'
    with patch("fluxilab_agent.channel.json.loads", wraps=json.loads) as loads:
        for payload in (huge, b" " * just_over):
            agent._handle_message(topic, payload)
    loads.assert_not_called()
    assert agent.counters[f"rejected_{name}_oversized"] == 2


# Finding 8: the replay window across a restart -------------------------------------


async def test_replay_after_a_restart_is_rejected(tmp_path: Path, hub: KeyPair) -> None:
    """A message the agent took before it restarted is not taken again after."""
    agent = make(tmp_path, hub.public_b64)
    captured = sealed(agent, hub, Channel.ACK, {"seqs": [1]})
    agent._handle_message(agent.topics.topic(Channel.ACK), captured)
    assert agent.counters["acked_records"] == 1
    await agent.stop()

    again = make(tmp_path, hub.public_b64)
    again._handle_message(again.topics.topic(Channel.ACK), captured)
    assert again.counters["rejected_ack_replay"] == 1
    assert "acked_records" not in again.counters
    fresh = sealed(again, hub, Channel.ACK, {"seqs": [2]})
    again._handle_message(again.topics.topic(Channel.ACK), fresh)
    assert again.counters["acked_records"] == 1
    await again.stop()


async def test_after_a_crash_nothing_sealed_before_the_start_is_taken(
    tmp_path: Path, hub: KeyPair
) -> None:
    agent = make(tmp_path, hub.public_b64)
    # The agent has run for a while; the message was sealed a second before the
    # restart below (within a millisecond of a start the guard cannot tell: seal()
    # rounds its time to milliseconds).
    agent.channel.guard.restore(None, now=time.time() - 60)
    captured = sealed(agent, hub, Channel.ACK, {"seqs": [1]}, now=time.time() - 1)
    agent._handle_message(agent.topics.topic(Channel.ACK), captured)
    assert agent.counters["acked_records"] == 1
    # Killed: stop() never runs, the window is not saved.
    again = make(tmp_path, hub.public_b64)
    again._handle_message(again.topics.topic(Channel.ACK), captured)
    assert again.counters["rejected_ack_replay"] == 1
    await again.stop()
    agent.buffer.close()
