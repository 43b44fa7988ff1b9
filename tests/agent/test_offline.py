"""Offline decisions: the device applies the rules the hub mirrored (issue 14, 6).

Before, a device that could not reach the hub granted every mirrored member: no
expiry, lab hours, maintenance block, supervisor rule or safety limit, for ever.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime
import json
from pathlib import Path
import time
from types import SimpleNamespace
from typing import Any

import pytest
import voluptuous as vol

from fluxilab_agent.agent import Agent
from fluxilab_agent.mirror import (
    MirrorGrant,
    MirrorMember,
    OfflineContext,
    OfflineRules,
    SafetyLimit,
    offline_decision,
)
from fluxilab_agent.state import MIRROR_FILE
from fluxilab_protocol.schemas import CREDENTIALS_SCHEMA, OfflinePolicy
from fluxilab_protocol.topics import Channel
from tests.agent.conftest import agent_config, eventually, paired
from tests.agent.stub_hub import StubHub

DAY = 86400.0
NOW = datetime(2026, 12, 2, 10, 30, tzinfo=UTC).timestamp()
"""A Wednesday, 10:30 UTC."""


def _hhmm(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%H:%M")


def _member(**changes: Any) -> MirrorMember:
    base = MirrorMember(
        id="m-1",
        name="Ada",
        level="user",
        cards=("CARD-1",),
        pin_hash=None,
        maintenance=False,
        grants=(MirrorGrant(expires=None, window=None),),
    )
    return replace(base, **changes)


def _rules(**changes: Any) -> OfflineRules:
    base = OfflineRules(policy=OfflinePolicy.ALLOW_MIRRORED, max_age=DAY, tz="UTC")
    return replace(base, **changes)


def _context(**changes: Any) -> OfflineContext:
    base = OfflineContext(
        now=NOW, last_contact=NOW - 60, values={}, supervisor_swipes={}
    )
    return replace(base, **changes)


def test_everything_passes() -> None:
    assert offline_decision(_member(), _rules(), _context()) == "granted"
    # A member who needs no authorization here (grants None) passes too.
    assert offline_decision(_member(grants=None), _rules(), _context()) == "granted"


@pytest.mark.parametrize(
    ("member", "rules", "context", "reason"),
    [
        (None, _rules(), _context(), "unknown_card"),
        (_member(), None, _context(), "offline_denied"),  # hub sent no policy
        (_member(), _rules(policy=OfflinePolicy.DENY), _context(), "offline_denied"),
        (_member(), _rules(), _context(last_contact=None), "mirror_stale"),
        (_member(), _rules(), _context(last_contact=NOW - DAY - 1), "mirror_stale"),
        # A contact "in the future": the clock went back, the age is unknown.
        (_member(), _rules(), _context(last_contact=NOW + 3600), "mirror_stale"),
        (
            _member(grants=(MirrorGrant(expires=NOW - 1, window=None),)),
            _rules(),
            _context(),
            "expired",
        ),
        (_member(grants=()), _rules(), _context(), "expired"),
        (
            _member(grants=(MirrorGrant(expires=None, window=("12:00", "18:00")),)),
            _rules(),
            _context(),
            "outside_hours",
        ),
        # Hours in a time zone the device cannot load: refused, not guessed.
        (
            _member(grants=(MirrorGrant(expires=None, window=("08:00", "18:00")),)),
            _rules(tz="Nowhere/Atlantis"),
            _context(),
            "outside_hours",
        ),
        (_member(), _rules(maintenance_due=True), _context(), "maintenance_due"),
        (_member(), _rules(supervisor_required=True), _context(), "no_supervisor"),
        (
            _member(),
            _rules(supervised_hours=("12:00", "18:00")),  # 10:30 is outside
            _context(),
            "no_supervisor",
        ),
        (
            _member(),
            _rules(supervisor_required=True),
            _context(supervisor_swipes={"m-boss": NOW - 31 * 60}),  # too long ago
            "no_supervisor",
        ),
        (
            _member(),
            _rules(safety_limits=(SafetyLimit("face_velocity", min=0.4),)),
            _context(values={"face_velocity": 0.2}),
            "safety_limit",
        ),
        (
            _member(),
            _rules(safety_limits=(SafetyLimit("face_velocity", max=1.0),)),
            _context(values={}),  # no reading: the device cannot vouch for it
            "safety_limit",
        ),
    ],
)
def test_refusals(
    member: MirrorMember | None,
    rules: OfflineRules | None,
    context: OfflineContext,
    reason: str,
) -> None:
    assert offline_decision(member, rules, context) == reason


def test_what_still_passes() -> None:
    """Each rule lets through what the hub would let through."""
    windows = (
        MirrorGrant(expires=NOW - 1, window=None),  # expired, but another is not
        MirrorGrant(expires=NOW + 60, window=("22:00", "11:00")),  # across midnight
    )
    assert offline_decision(_member(grants=windows), _rules(), _context()) == "granted"
    # Members who maintain pass a maintenance block, as at the hub.
    assert (
        offline_decision(
            _member(maintenance=True), _rules(maintenance_due=True), _context()
        )
        == "granted"
    )
    # A supervisor who swiped here recently supervises; a supervisor needs none.
    supervised = _rules(supervisor_required=True, supervisor_minutes=30)
    recent = _context(supervisor_swipes={"m-boss": NOW - 60})
    assert offline_decision(_member(), supervised, recent) == "granted"
    assert offline_decision(_member(supervisor=True), supervised, _context()) == (
        "granted"
    )
    # The member's own swipe does not count as a supervisor's.
    own = _context(supervisor_swipes={"m-1": NOW - 60})
    assert offline_decision(_member(), supervised, own) == "no_supervisor"
    inside = _rules(supervised_hours=("08:00", "18:00"))
    assert offline_decision(_member(), inside, _context()) == "granted"
    safe = _rules(safety_limits=(SafetyLimit("face_velocity", min=0.4, max=2.0),))
    reading = _context(values={"face_velocity": 0.5})
    assert offline_decision(_member(), safe, reading) == "granted"


# The agent itself, offline (never connected), deciding real swipes ----------------


def _set(**offline: Any) -> dict[str, Any]:
    """A credential set for CARD-1 (member m-1) with the given offline rules."""
    return {
        "generation": 1,
        "members": [
            {
                "id": "m-1",
                "name": "Ada",
                "level": "user",
                "cards": ["CARD-1"],
                "grants": offline.pop("grants", [{"expires": None}]),
            },
            {
                "id": "m-boss",
                "name": "Boss",
                "level": "staff",
                "cards": ["CARD-BOSS"],
                "supervisor": True,
            },
        ],
        "timeout": 3600,
        "offline": {"policy": "allow_mirrored", "max_age": DAY, "tz": "UTC"} | offline,
    }


@pytest.fixture
async def offline_agent(tmp_path: Path) -> AsyncIterator[Agent]:
    """An agent that never reaches a broker: every decision is offline."""
    broker = SimpleNamespace(host="127.0.0.1", port=9)
    agent = Agent(agent_config(broker, tmp_path / "data"))  # type: ignore[arg-type]
    yield agent
    await agent.stop()


async def _swipe(agent: Agent, body: dict[str, Any], card: str = "CARD-1") -> str:
    agent.mirror.replace(CREDENTIALS_SCHEMA(body))
    decision = await agent.handle_card(card)
    assert decision.offline
    if decision.granted:
        await agent.handle_card(card)  # ends the session again
    return decision.reason


async def test_agent_grants_when_the_mirrored_rules_pass(offline_agent: Agent) -> None:
    assert await _swipe(offline_agent, _set()) == "granted"
    assert offline_agent.buffer.read(0, 10)[0].data["granted"] is True


async def test_the_status_says_whose_session_and_the_limits(
    offline_agent: Agent,
) -> None:
    """What the device page needs (issue 18 item 8): the holder, the limits."""
    offline_agent.values["face_velocity"] = 0.5
    body = _set(safety_limits=[{"channel": "face_velocity", "min": 0.4}])
    offline_agent.mirror.replace(CREDENTIALS_SCHEMA(body))
    assert offline_agent.status()["session_member"] is None
    assert (await offline_agent.handle_card("CARD-1")).granted
    status = offline_agent.status()
    assert status["session_member"] == "m-1"
    assert status["safety_limits"] == [{"channel": "face_velocity", "min": 0.4}]
    await offline_agent.handle_card("CARD-1")
    assert offline_agent.status()["session_member"] is None


async def test_the_status_shows_the_due_maintenance_plan(offline_agent: Agent) -> None:
    """While maintenance is due the hub mirrors the plan; the page shows it."""
    offline_agent.mirror.replace(CREDENTIALS_SCHEMA(_set()))
    assert offline_agent.status()["maintenance"] is None
    body = _set(
        maintenance={
            "message": None,
            "description": "Change the filter",
            "url": "https://lab.example/hood",
        }
    )
    offline_agent.mirror.replace(CREDENTIALS_SCHEMA(body | {"generation": 2}))
    assert offline_agent.status()["maintenance"] == {
        "description": "Change the filter",
        "url": "https://lab.example/hood",
    }
    # Offline, a refusal for due maintenance says the plan's line, as the hub would.
    due = _set(
        maintenance_due=True,
        maintenance={"message": "Filter change", "description": "Change the filter"},
    )
    offline_agent.mirror.replace(CREDENTIALS_SCHEMA(due | {"generation": 3}))
    decision = await offline_agent.handle_card("CARD-1")
    assert (decision.reason, decision.message) == ("maintenance_due", "Filter change")
    # An address that is not http(s) never gets as far as the mirror.
    bad = _set(maintenance={"description": "x", "url": "javascript:alert(1)"})
    with pytest.raises(vol.Invalid):
        CREDENTIALS_SCHEMA(bad)


@pytest.mark.parametrize(
    ("offline", "reason"),
    [
        ({"grants": [{"expires": time.time() - 60}]}, "expired"),
        (
            {
                "grants": [
                    {
                        "window": [
                            _hhmm(time.time() + 3600),
                            _hhmm(time.time() + 7200),
                        ]
                    }
                ]
            },
            "outside_hours",
        ),
        ({"maintenance_due": True}, "maintenance_due"),
        ({"supervisor_required": True}, "no_supervisor"),
        (
            {"safety_limits": [{"channel": "face_velocity", "min": 1000.0}]},
            "safety_limit",
        ),
        ({"policy": "deny"}, "offline_denied"),
    ],
)
async def test_agent_refuses_offline(
    offline_agent: Agent, offline: dict[str, Any], reason: str
) -> None:
    """Each refusal fails on the old agent, which granted every mirrored member."""
    offline_agent.values["face_velocity"] = 0.5
    assert await _swipe(offline_agent, _set(**offline)) == reason
    (record,) = offline_agent.buffer.read(0, 10)
    assert (record.data["granted"], record.data["reason"]) == (False, reason)


async def test_agent_needs_the_hubs_policy(offline_agent: Agent) -> None:
    """A set without offline rules (an older hub) grants nothing offline."""
    body = _set()
    del body["offline"]
    assert await _swipe(offline_agent, body) == "offline_denied"


async def test_agent_saw_the_supervisor(offline_agent: Agent) -> None:
    """A supervisor's swipe at this device lets a member in for supervisor_minutes."""
    body = _set(supervisor_required=True)
    assert await _swipe(offline_agent, body) == "no_supervisor"
    assert await _swipe(offline_agent, body, "CARD-BOSS") == "granted"
    assert await _swipe(offline_agent, body) == "granted"


async def test_stale_mirror_after_a_restart(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """No hub contact for longer than the maximum age: every offline grant stops.

    The agent restarted since (nothing in memory): the set's arrival time, stored
    with it, is the last contact it can be sure of.
    """
    config = agent_config(SimpleNamespace(host="127.0.0.1", port=9), tmp_path)  # type: ignore[arg-type]
    config.data_dir.mkdir(parents=True)
    (config.data_dir / MIRROR_FILE).write_text(
        json.dumps(_set() | {"received": time.time() - DAY - 600})
    )
    agent = Agent(config)
    try:
        assert agent.mirror.by_card("CARD-1") is not None
        decision = await agent.handle_card("CARD-1")
        assert (decision.granted, decision.reason) == (False, "mirror_stale")
        assert "no contact with the hub for 24.2 h" in caplog.text
        assert agent.counters["offline_stale"] == 1
        # Within the age (contact just now), the same member passes.
        agent.last_hub_contact = time.time()
        decision = await agent.handle_card("CARD-1")
        assert decision.granted
    finally:
        await agent.stop()


async def test_stale_is_from_the_last_contact(tmp_path: Path) -> None:
    """The stored arrival time survives a restart; it is not the file's age."""
    config = agent_config(SimpleNamespace(host="127.0.0.1", port=9), tmp_path)  # type: ignore[arg-type]
    config.data_dir.mkdir(parents=True)
    (config.data_dir / MIRROR_FILE).write_text(json.dumps(_set() | {"received": NOW}))
    agent = Agent(config)
    try:
        assert agent.mirror.received == NOW
        assert agent.last_hub_contact == NOW
        assert agent.mirror.rules is not None
        assert agent.mirror.rules.max_age == DAY
    finally:
        await agent.stop()


async def test_a_set_behind_the_mirror_is_reported(
    make_agent: Callable[..., Agent], hub: StubHub
) -> None:
    """A hub whose counter went back learns it: the device answers with its own.

    Before, the device dropped such a set with a debug line, and a hub restored
    from a backup never knew that every set it sent was ignored.
    """
    agent = make_agent()
    await paired(agent, hub)
    hub.send(
        agent.device_id, Channel.CREDENTIALS, _set() | {"generation": 7}, encrypt=True
    )
    await eventually(lambda: agent.mirror.generation == 7, what="the first set")
    assert not hub.results  # an installed set needs no answer
    hub.send(
        agent.device_id, Channel.CREDENTIALS, _set() | {"generation": 3}, encrypt=True
    )
    await eventually(lambda: bool(hub.results), what="the device's answer")
    assert hub.results == [
        {
            "id": "credentials-3",
            "ok": False,
            "error": "credential generation 3 is not newer than the held 7",
            "generation": 7,
        }
    ]
    assert agent.mirror.generation == 7
