"""Network cut during an access request: the device decides from its mirror.

With the device cut off the broker (``fluxilab-agent cut``), a card swipe is decided
at the device from its synced credential mirror within its access timeout and marked
offline. Once the cut ends, the buffered decision reaches Home Assistant: an
``offline_granted`` event with ``buffered: true`` and an audit entry.
"""

from __future__ import annotations

from datetime import UTC, datetime
import json
import time

from tests.e2e.conftest import Lab
from tests.e2e.lab import (
    adopt,
    audit,
    create_machine_type,
    entity_ids,
    ha_device,
    set_machine_type,
    wait_until,
)

DEVICE = "sim-hood-1"
CARD = "04C0FFEE"
ACCESS_TIMEOUT = 3.0
"""The agent's default ``access.timeout``."""


def test_network_cut_offline_decision_audited_later(lab: Lab) -> None:
    admin = lab.hass.client
    agent = lab.agent("sim", devices=1)
    agent.start()
    adopt(admin, {DEVICE})
    member = admin.call(
        "fluxilab",
        "add_member",
        {"name": "Rosalind Franklin", "cards": [CARD]},
        response=True,
    )
    admin.call(
        "fluxilab",
        "grant_authorization",
        {"member_id": member["member_id"], "device_id": ha_device(admin, DEVICE)["id"]},
    )
    wait_until(
        lambda: agent.status(DEVICE)["status"]["credentials"] == 1,
        30,
        "credential sync",
    )
    event_entity = entity_ids(admin, DEVICE)[f"{DEVICE}_access"]

    agent.control("cut", "--device", DEVICE, "--seconds", "6")
    wait_until(lambda: not agent.status(DEVICE)["status"]["online"], 10, "the cut")
    asked = time.monotonic()
    decision = json.loads(agent.control("swipe", "--device", DEVICE, "--card", CARD))[
        "decision"
    ]
    decided_in = time.monotonic() - asked
    assert decision["granted"], decision
    assert decision["offline"], decision
    assert decision["member_id"] == member["member_id"]
    assert decided_in < ACCESS_TIMEOUT + 1.0
    assert not [a for a in audit(admin, DEVICE) if a["kind"] == "decision"]

    # After the cut the buffered decision is audited, with its original time.
    rows = wait_until(
        lambda: [a for a in audit(admin, DEVICE) if a["kind"] == "decision"],
        30,
        "the buffered decision in the audit",
    )
    assert len(rows) == 1, rows
    assert rows[0]["buffered"] is True
    assert rows[0]["member_id"] == member["member_id"]
    assert rows[0]["ts"] <= time.time() - 1.0
    since = datetime.fromtimestamp(time.time() - 120, UTC).isoformat()

    def offline_granted() -> dict | None:
        (reply,) = admin.ws(
            {
                "type": "history/history_during_period",
                "start_time": since,
                "entity_ids": [event_entity],
                "minimal_response": False,
                "no_attributes": False,
            }
        )
        for state in reply["result"].get(event_entity, []):
            if state["a"].get("event_type") == "offline_granted":
                return dict(state["a"])
        return None

    event = wait_until(offline_granted, 15, "the offline_granted event")
    assert event["buffered"] is True
    # The entity names nobody (names are off by default): pseudonyms only.
    assert event["member"].startswith("member_")
    assert "member_id" not in event
    assert event["card"].startswith("card_")
    assert CARD not in json.dumps(event)
    print(json.dumps({"decided_in_s": round(decided_in, 3), "event": event}))


def test_network_cut_applies_the_machine_types_offline_rules(lab: Lab) -> None:
    """Issue 14, finding 6, end to end: cut off, the device applies the hub's rules.

    A fumehood type with a face-velocity limit denies offline by default; allowed
    mirrored use, the device still refuses when its own reading breaks the limit.
    (Before, the device granted every mirrored member whatever the type said.)
    """
    admin = lab.hass.client
    agent = lab.agent("sim", devices=1)
    agent.start()
    adopt(admin, {DEVICE})
    type_id = create_machine_type(
        admin,
        name="Fumehood",
        safety_limits=[{"channel": "face_velocity", "min": 0.4}],
    )
    set_machine_type(admin, DEVICE, type_id)
    member = admin.call(
        "fluxilab",
        "add_member",
        {"name": "Marie Curie", "cards": [CARD]},
        response=True,
    )
    admin.call(
        "fluxilab",
        "grant_authorization",
        {"member_id": member["member_id"], "device_id": ha_device(admin, DEVICE)["id"]},
    )
    wait_until(
        lambda: agent.status(DEVICE)["status"]["credentials"] == 1,
        30,
        "credential sync",
    )

    def swipe_cut_off() -> dict:
        agent.control("cut", "--device", DEVICE, "--seconds", "5")
        wait_until(lambda: not agent.status(DEVICE)["status"]["online"], 10, "the cut")
        decision = json.loads(
            agent.control("swipe", "--device", DEVICE, "--card", CARD)
        )["decision"]
        assert decision["offline"], decision
        wait_until(lambda: agent.status(DEVICE)["status"]["online"], 30, "the return")
        return dict(decision)

    decision = swipe_cut_off()
    assert (decision["granted"], decision["reason"]) == (False, "offline_denied")

    # The admin allows mirrored use, with a limit the simulated hood cannot meet.
    held = agent.status(DEVICE)["status"]["credential_generation"]
    (reply,) = admin.ws(
        {
            "type": "fluxilab/machine_type/update",
            "machine_type_id": type_id,
            "offline_policy": "allow_mirrored",
            "safety_limits": [{"channel": "face_velocity", "min": 1000}],
        }
    )
    assert reply["success"], reply
    wait_until(
        lambda: agent.status(DEVICE)["status"]["credential_generation"] > held,
        30,
        "the new credential set",
    )
    decision = swipe_cut_off()
    assert (decision["granted"], decision["reason"]) == (False, "safety_limit")
