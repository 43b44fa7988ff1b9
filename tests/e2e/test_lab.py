"""End to end: a real agent process, a real Mosquitto, a real Home Assistant.

The agent announces, the admin adopts it through the discovery flow, its telemetry
lands in sensor states, and a card swipe is decided by the access engine (member and
authorization made through services), fired on the device's event entity and written
to the device's audit history.
"""

from __future__ import annotations

import json

from tests.e2e.conftest import Lab
from tests.e2e.lab import (
    adopt,
    audit,
    entity_ids,
    ha_device,
    wait_running,
    wait_until,
)

DEVICE = "sim-hood-1"
CARD = "04A1B2C3"


def test_agent_adopted_telemetry_and_card_swipe(lab: Lab) -> None:
    admin = lab.hass.client
    agent = lab.agent("sim", devices=1, period=0.5)
    agent.start()
    adopt(admin, {DEVICE})
    entities = wait_until(
        lambda: (ids := entity_ids(admin, DEVICE))
        and f"{DEVICE}_face_velocity" in ids
        and ids,
        30,
        "the channel sensors",
    )
    face_velocity = entities[f"{DEVICE}_face_velocity"]

    # Telemetry: the sensor shows a value the device measured (from its journal).
    def measured_shown() -> bool:
        state = admin.states()[face_velocity]["state"]
        measured = {
            r["data"]["face_velocity"]
            for r in agent.records().get(DEVICE, [])
            if r["kind"] == "telemetry"
        }
        return state not in ("unknown", "unavailable") and float(state) in measured

    wait_until(measured_shown, 30, f"{face_velocity} to show a measured value")
    assert admin.states()[face_velocity]["attributes"]["unit_of_measurement"] == "m/s"

    # The paired device answers to cards: a member and an authorization via services.
    wait_running(admin, agent, DEVICE)
    member = admin.call(
        "fluxilab",
        "add_member",
        {"name": "Ada Lovelace", "cards": [CARD]},
        response=True,
    )
    device = ha_device(admin, DEVICE)
    admin.call(
        "fluxilab",
        "grant_authorization",
        {"member_id": member["member_id"], "device_id": device["id"]},
    )
    reply = json.loads(agent.control("swipe", "--device", DEVICE, "--card", CARD))
    decision = reply["decision"]
    assert decision["granted"], decision
    assert not decision["offline"], decision
    assert decision["member_id"] == member["member_id"]

    event_entity = entities[f"{DEVICE}_access"]
    state = wait_until(
        lambda: (s := admin.states()[event_entity])["attributes"].get("event_type")
        in ("granted", "session_started")
        and s,
        15,
        "the access event",
    )
    assert (
        state["attributes"].get("member_id", member["member_id"]) == member["member_id"]
    )
    entries = wait_until(
        lambda: [a for a in audit(admin, DEVICE) if a["kind"] == "decision"],
        15,
        "the audit entry",
    )
    assert entries[-1]["member_id"] == member["member_id"]
    assert entries[-1]["card"] == CARD
    assert entries[-1]["reason"] == "granted"
    assert entries[-1]["buffered"] is False
