"""Issue 9 item 1 end to end: a member with two cards and a PIN loses one card.

Real Mosquitto, a real Home Assistant process and a simulated agent. The admin
deactivates card A through the ``update_credential`` service. The hub re-syncs: the
agent's stored credential mirror holds card B and the PIN but no longer card A. A
swipe of card A is refused as ``credential_inactive`` (audit and ``fluxilab_access``
event name the member, card and device), card B is granted and its last use is
recorded, and a PIN login at the device still works.

Issue 14 finding 4 on the way: the admin's PIN is an initial one; the device refuses
a login with it (``pin_change_required``) until the member replaced it with the
current PIN, which reaches the device's mirror as an ordinary PIN.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.e2e.conftest import Lab
from tests.e2e.lab import (
    HassClient,
    access_events,
    adopt,
    audit,
    ha_device,
    wait_running,
    wait_until,
)

DEVICE = "sim-hood-1"
CARD_A = "04A11CE0A1"
CARD_B = "04A11CE0B2"
PIN = "482615"
INITIAL_PIN = "91827364"


def mirror(data_dir: Path) -> dict[str, Any]:
    """Return the credential mirror the agent stored for the device."""
    (path,) = [p for p in data_dir.rglob("credentials.json") if DEVICE in str(p)]
    body: dict[str, Any] = json.loads(path.read_text())
    return body


def mirror_cards(data_dir: Path) -> list[str] | None:
    """Cards the device would accept offline (None before the first set)."""
    try:
        body = mirror(data_dir)
    except ValueError, OSError:
        return None
    return [card for member in body["members"] for card in member.get("cards", [])]


def swipe(lab: Lab, card: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(
        lab.agents[0].control("swipe", "--device", DEVICE, "--card", card)
    )["decision"]
    return result


def credentials(admin: HassClient, member_id: str) -> dict[str, dict[str, Any]]:
    """The member's credentials by card uid (the PIN under ``pin``)."""
    listed = admin.call(
        "fluxilab", "list_credentials", {"member_id": member_id}, response=True
    )
    return {c.get("card") or c["type"]: c for c in listed["credentials"]}


def test_item1_lost_card_refused_other_card_and_pin_work(lab: Lab) -> None:
    """Item 1: deactivating one card never locks the member out of the others."""
    admin = lab.hass.client
    agent = lab.agent("sim", devices=1)
    agent.start()
    adopt(admin, {DEVICE})
    wait_running(admin, agent, DEVICE)
    # The member is linked to the test's (only) Home Assistant user, so that user's
    # calls are the member's own when replacing the initial PIN below.
    (me,) = admin.ws({"type": "auth/current_user"})
    member_id = admin.call(
        "fluxilab",
        "add_member",
        {
            "name": "Rosalind Franklin",
            "cards": [CARD_A, CARD_B],
            "pin": INITIAL_PIN,
            "user_id": me["result"]["id"],
        },
        response=True,
    )["member_id"]
    admin.call(
        "fluxilab",
        "grant_authorization",
        {"member_id": member_id, "device_id": ha_device(admin, DEVICE)["id"]},
    )
    wait_until(
        lambda: mirror_cards(agent.data_dir) == [CARD_A, CARD_B],
        30,
        "both cards in the device's mirror",
    )
    held = credentials(admin, member_id)
    assert set(held) == {CARD_A, CARD_B, "pin"}
    assert "$2b$" not in json.dumps(held)

    # The admin's initial PIN only serves to be replaced: the device says so.
    (entry,) = mirror(agent.data_dir)["members"]
    assert entry["pin_must_change"] is True
    refused = json.loads(
        agent.control(
            "login", "--device", DEVICE, "--login", member_id, "--secret", INITIAL_PIN
        )
    )["decision"]
    assert (refused["granted"], refused["reason"]) == (False, "pin_change_required")
    admin.call(
        "fluxilab",
        "update_member",
        {"member_id": member_id, "current_pin": INITIAL_PIN, "pin": PIN},
    )
    wait_until(
        lambda: "pin_must_change" not in mirror(agent.data_dir)["members"][0],
        30,
        "the member's own PIN in the device's mirror",
    )

    admin.call(
        "fluxilab",
        "update_credential",
        {
            "member_id": member_id,
            "credential_id": held[CARD_A]["id"],
            "active": False,
        },
    )
    wait_until(
        lambda: mirror_cards(agent.data_dir) == [CARD_B],
        30,
        "card A gone from the device's mirror",
    )
    (entry,) = mirror(agent.data_dir)["members"]
    assert entry["pin_hash"]  # the PIN is still mirrored

    with access_events(admin) as events:
        refused = swipe(lab, CARD_A)
        assert not refused["granted"], refused
        assert refused["reason"] == "credential_inactive", refused
        assert not refused["offline"], refused
        granted = swipe(lab, CARD_B)
        assert granted["granted"], granted
        swipe(lab, CARD_B)  # ends the session
        login = json.loads(
            agent.control(
                "login", "--device", DEVICE, "--login", member_id, "--secret", PIN
            )
        )["decision"]
        assert login["granted"], login
        wait_until(
            lambda: any(e["type"] == "denied" for e in events),
            15,
            "the denied event",
        )
    denied = next(e for e in events if e["type"] == "denied")
    assert denied["reason"] == "credential_inactive"
    assert (denied["member_id"], denied["fluxilab_device"]) == (member_id, DEVICE)
    assert denied["card"].startswith("card_")  # the pseudonym, never the uid
    entries = [e for e in audit(admin, DEVICE) if e.get("card") == CARD_A]
    assert entries[-1]["reason"] == "credential_inactive"
    assert entries[-1]["member_id"] == member_id

    after = credentials(admin, member_id)
    assert after[CARD_A]["active"] is False
    assert after[CARD_A]["last_used"] is None
    assert after[CARD_B]["last_used"] is not None
    assert after["pin"]["last_used"] is not None
