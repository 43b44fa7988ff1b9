"""A device whose small state files are damaged (power cut, full SD card, a hand
edit) still starts, says what it ignored, and pairs again with the hub."""

from __future__ import annotations

from collections.abc import Callable
import json
import logging
from pathlib import Path

import pytest

from fluxilab_agent.agent import Agent
from fluxilab_agent.state import REPLAY_FILE, STATE_FILE, AgentState, reset_pairing
from fluxilab_protocol.security import KeyPair
from tests.agent.conftest import paired
from tests.agent.stub_hub import StubHub


@pytest.mark.parametrize(
    ("content", "logged"),
    [
        ("{not json", "Ignoring the damaged state file"),
        ('["hub_key"]', "Ignoring the damaged state file"),
        (
            '{"hub_key": "not-a-key", "blocked": true, "overrides": {"x": 1}}',
            "Ignoring the damaged pinned hub key",
        ),
    ],
    ids=["not-json", "not-an-object", "bad-hub-key"],
)
def test_a_damaged_state_file_is_reported_and_ignored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, content: str, logged: str
) -> None:
    (tmp_path / STATE_FILE).write_text(content)
    with caplog.at_level(logging.ERROR):
        state = AgentState(tmp_path)
    assert logged in caplog.text
    assert state.hub_key is None
    if "blocked" in content:
        # What is still readable is kept: a blocked device stays blocked.
        assert state.blocked is True
        assert state.overrides == {"x": 1}
    else:
        assert (state.blocked, state.overrides) == (False, {})


def test_pinned_key_and_settings_survive_a_reload(tmp_path: Path) -> None:
    hub_key = KeyPair.generate().public_b64
    state = AgentState(tmp_path)
    state.hub_key = hub_key
    state.overrides = {"periods": {"voc": 5.0}}
    state.save()
    again = AgentState(tmp_path)
    assert (again.hub_key, again.blocked, again.overrides) == (
        hub_key,
        False,
        {"periods": {"voc": 5.0}},
    )


def test_reset_without_anything_pinned_writes_nothing(tmp_path: Path) -> None:
    assert reset_pairing(tmp_path) is False
    assert list(tmp_path.iterdir()) == []


async def test_agent_with_damaged_state_and_replay_files_pairs_again(
    make_agent: Callable[..., Agent],
    hub: StubHub,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    data = tmp_path / "data" / "sim-hood-1"  # the simulated fumehood's own folder
    data.mkdir(parents=True)
    (data / STATE_FILE).write_text("\x00\x00\x00")
    (data / REPLAY_FILE).write_text('{"window": [1, 2')  # cut off mid-write
    with caplog.at_level(logging.ERROR):
        agent = make_agent()
    assert "Ignoring the damaged state file" in caplog.text
    assert f"Ignoring the damaged replay window {REPLAY_FILE}" in caplog.text
    assert agent.status()["paired"] is False
    await paired(agent, hub)
    assert agent.status()["link"] == "ok"
    # The pairing is stored again, in a readable file.
    stored = json.loads((data / STATE_FILE).read_text())
    assert stored["hub_key"] == agent.channel.hub_key
