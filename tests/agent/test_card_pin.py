"""Card + PIN at the device (issue 17 §5): a machine type with ``require_pin``.

The hub mirrors ``require_pin`` with the offline rules and each member's PIN hash.
A card alone is refused as ``pin_required``; the reader's next input is then the
card's PIN, checked here against the card's member's hash. Offline the device
decides so too; online it sends the hub the card with the member's id (or
``pin_failed``), never the PIN.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from fluxilab_agent.agent import Agent
from fluxilab_agent.mirror import (
    MirrorGrant,
    MirrorMember,
    OfflineContext,
    OfflineRules,
    hash_secret,
    offline_decision,
)
from fluxilab_protocol.pins import PIN_FREE_FAILURES
from fluxilab_protocol.schemas import CREDENTIALS_SCHEMA, OfflinePolicy
from tests.agent.conftest import agent_config

DAY = 86400.0
NOW = 1_796_000_000.0
ADA_PIN = "2468"
BOSS_PIN = "1357"


# The pure rule -----------------------------------------------------------------


MEMBER = MirrorMember(
    id="m-1",
    name="Ada",
    level="user",
    cards=("CARD-1",),
    pin_hash=None,
    maintenance=False,
    grants=(MirrorGrant(expires=None, window=None),),
)
RULES = OfflineRules(
    policy=OfflinePolicy.ALLOW_MIRRORED, max_age=DAY, tz="UTC", require_pin=True
)
CONTEXT = OfflineContext(
    now=NOW, last_contact=NOW - 60, values={}, supervisor_swipes={}
)


@pytest.mark.parametrize(
    ("rules", "context", "reason"),
    [
        (RULES, CONTEXT, "pin_required"),
        (RULES, replace(CONTEXT, pin=False), "pin_wrong"),
        (RULES, replace(CONTEXT, pin=True), "granted"),
        (RULES, replace(CONTEXT, with_card=False, pin=True), "card_required"),
        # The other rules still apply after the PIN.
        (replace(RULES, unsafe=True), replace(CONTEXT, pin=True), "unsafe"),
        # Offline refusals that come first: no use asking for the PIN then.
        (replace(RULES, policy=OfflinePolicy.DENY), CONTEXT, "offline_denied"),
        (RULES, replace(CONTEXT, last_contact=None), "mirror_stale"),
        # A type without the flag (or a hub before it): the card alone is enough.
        (replace(RULES, require_pin=False), CONTEXT, "granted"),
    ],
)
def test_offline_rule(
    rules: OfflineRules, context: OfflineContext, reason: str
) -> None:
    assert offline_decision(MEMBER, rules, context) == reason


def test_a_hub_before_second_factors_sends_no_flag() -> None:
    """A credential set without ``require_pin`` reads as False."""
    offline = CREDENTIALS_SCHEMA(_set())["offline"]
    del offline["require_pin"]
    assert (
        CREDENTIALS_SCHEMA({"generation": 1, "members": [], "offline": offline})[
            "offline"
        ]["require_pin"]
        is False
    )


# The agent, offline: the reader's flow -----------------------------------------


def _set(*, require_pin: bool = True) -> dict[str, Any]:
    return {
        "generation": 1,
        "members": [
            {
                "id": "m-1",
                "name": "Ada",
                "level": "user",
                "cards": ["CARD-1"],
                "pin_hash": hash_secret(ADA_PIN, rounds=4),
                "grants": [{"expires": None}],
            },
            {
                "id": "m-boss",
                "name": "Boss",
                "level": "staff",
                "cards": ["CARD-BOSS"],
                "pin_hash": hash_secret(BOSS_PIN, rounds=4),
            },
        ],
        "timeout": 3600,
        "offline": {
            "policy": "allow_mirrored",
            "max_age": DAY,
            "tz": "UTC",
            "require_pin": require_pin,
        },
    }


@pytest.fixture
async def agent(tmp_path: Path) -> AsyncIterator[Agent]:
    """An agent that never reaches a broker, holding a card + PIN credential set."""
    broker = SimpleNamespace(host="127.0.0.1", port=9)
    agent = Agent(agent_config(broker, tmp_path / "data"))  # type: ignore[arg-type]
    agent.mirror.replace(CREDENTIALS_SCHEMA(_set()))
    yield agent
    await agent.stop()


def _reasons(agent: Agent) -> list[tuple[str, bool, str | None]]:
    return [
        (r.data["reason"], r.data["granted"], r.data.get("member_id"))
        for r in agent.buffer.read(0, 100)
        if r.data.get("action") == "session_start"
    ]


async def test_card_then_pin_starts_a_session_offline(agent: Agent) -> None:
    """The card asks for the PIN; the reader's next input is it; the stop needs none."""
    assert agent.status()["pin_wanted"] is False
    first = await agent.handle_card("CARD-1")
    assert (first.granted, first.reason, first.offline) == (False, "pin_required", True)
    assert agent.status()["pin_wanted"] is True  # the device page says so
    second = await agent.handle_card(ADA_PIN)  # typed on the keypad, then Enter
    assert (second.granted, second.reason, second.member_id) == (True, "granted", "m-1")
    assert agent.access.session is not None
    assert agent.access.session.card == "CARD-1"
    assert agent.status()["pin_wanted"] is False
    stop = await agent.handle_card("CARD-1")
    assert stop.reason == "session_ended"
    assert _reasons(agent) == [
        ("pin_required", False, "m-1"),
        ("granted", True, "m-1"),
    ]
    # The PIN itself is nowhere in the buffer.
    assert all(ADA_PIN not in str(r.data) for r in agent.buffer.read(0, 100))


async def test_wrong_pin_is_refused_counted_and_backs_off(agent: Agent) -> None:
    """Wrong PINs are refused as pin_wrong; after the free ones even the right waits."""
    for _ in range(PIN_FREE_FAILURES):
        await agent.handle_card("CARD-1")
        wrong = await agent.handle_card("0000")
        assert (wrong.granted, wrong.reason) == (False, "pin_wrong")
    assert agent.counters.get("wrong_pins") == PIN_FREE_FAILURES
    await agent.handle_card("CARD-1")
    locked = await agent.handle_card(ADA_PIN)
    assert (locked.granted, locked.reason) == (False, "pin_locked")
    assert agent.access.session is None


async def test_card_of_one_member_with_the_pin_of_another(agent: Agent) -> None:
    """Ada's card with Boss's PIN: checked against Ada's hash, so it is wrong."""
    await agent.handle_card("CARD-1")
    decision = await agent.access.card_with_pin("CARD-1", BOSS_PIN)
    assert (decision.granted, decision.reason) == (False, "pin_wrong")
    assert agent.access.session is None


async def test_a_supervisors_card_alone_is_nobody_present(agent: Agent) -> None:
    """Offline too, a supervisor counts as present only with card + PIN."""
    body = _set()
    body["members"][1]["supervisor"] = True
    body["offline"]["supervisor_required"] = True
    agent.mirror.replace(CREDENTIALS_SCHEMA(body | {"generation": 2}))
    assert (await agent.handle_card("CARD-BOSS")).reason == "pin_required"
    agent.access.pin_wanted = None  # Boss walked away without his PIN
    await agent.handle_card("CARD-1")
    assert (await agent.handle_card(ADA_PIN)).reason == "no_supervisor"
    await agent.handle_card("CARD-BOSS")
    assert (await agent.handle_card(BOSS_PIN)).granted  # Boss supervises himself
    await agent.handle_card("CARD-BOSS")  # and ends his session
    await agent.handle_card("CARD-1")
    assert (await agent.handle_card(ADA_PIN)).granted


async def test_a_card_the_mirror_does_not_hold(agent: Agent) -> None:
    """No hash to check against: refused here, the hub not told of a wrong PIN."""
    decision = await agent.access.card_with_pin("CARD-NEW", ADA_PIN)
    assert (decision.granted, decision.reason) == (False, "pin_wrong")
    (record,) = agent.buffer.read(0, 10)
    assert (record.data["card"], record.data["member_id"]) == ("CARD-NEW", None)


async def test_the_pin_is_wanted_only_for_a_while(agent: Agent) -> None:
    """After ``access.pin_seconds`` the next input is a card again."""
    await agent.handle_card("CARD-1")
    assert agent.access.pin_wanted is not None
    card, _until = agent.access.pin_wanted
    agent.access.pin_wanted = (card, 0.0)  # its time ran out
    assert agent.status()["pin_wanted"] is False
    decision = await agent.handle_card(ADA_PIN)
    assert decision.reason == "unknown_card"


async def test_a_pin_login_alone_wants_the_card(agent: Agent) -> None:
    """A PIN login without a card is one factor: card_required, offline as online."""
    decision = await agent.login("Ada", ADA_PIN)
    assert (decision.granted, decision.reason) == (False, "card_required")


async def test_without_the_flag_the_card_alone_is_enough(agent: Agent) -> None:
    agent.mirror.replace(
        CREDENTIALS_SCHEMA(_set(require_pin=False) | {"generation": 2})
    )
    decision = await agent.handle_card("CARD-1")
    assert (decision.granted, decision.reason) == (True, "granted")
    assert agent.access.pin_wanted is None


# Online: what crosses the wire -------------------------------------------------


async def test_online_the_hub_gets_the_card_and_whose_pin_matched(
    agent: Agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hub's ``pin_required`` asks for the PIN; then card + member id, no PIN."""
    sent: list[dict[str, Any]] = []

    async def ask_hub(action: Any, **fields: Any) -> dict[str, Any]:
        sent.append({"action": action.value} | fields)
        if fields.get("member_id") == "m-1":
            return {"id": "x", "granted": True, "reason": "granted", "member_id": "m-1"}
        reason = "pin_wrong" if fields.get("pin_failed") else "pin_required"
        return {"id": "x", "granted": False, "reason": reason, "member_id": "m-1"}

    monkeypatch.setattr(agent.access, "_ask_hub", ask_hub)
    assert (await agent.handle_card("CARD-1")).reason == "pin_required"
    assert (await agent.handle_card("9999")).reason == "pin_wrong"
    assert (await agent.handle_card("CARD-1")).reason == "pin_required"
    granted = await agent.handle_card(ADA_PIN)
    assert (granted.granted, granted.offline) == (True, False)
    starts = [
        {k: v for k, v in s.items() if k != "request_id" and v is not None}
        for s in sent
    ]
    assert starts == [
        {"action": "session_start", "card": "CARD-1"},
        {"action": "session_start", "card": "CARD-1", "pin_failed": True},
        {"action": "session_start", "card": "CARD-1"},
        {"action": "session_start", "card": "CARD-1", "member_id": "m-1"},
    ]
    assert all(ADA_PIN not in str(s) and "9999" not in str(s) for s in sent)
