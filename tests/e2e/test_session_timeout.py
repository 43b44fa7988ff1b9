"""A device goes offline with a session open for longer than the session timeout.

The machine type gives sessions a 10 s timeout and 2 s of grace; the hub looks for
stale sessions every second (the ``session_check_interval`` setting). Right after a
granted swipe the device is cut off the broker for 16 s. While it is away the hub
closes the session on timeout (a ``session_ended`` event with reason ``timeout``);
the device ends it itself after timeout plus grace and buffers its stop record. When
the device returns, that record reconciles the session: one session, closed by the
device, with the device's measured duration, and usage hours equal to it.
"""

from __future__ import annotations

import json
import time
from typing import Any

from tests.e2e.conftest import Lab
from tests.e2e.lab import (
    access_events,
    adopt,
    audit,
    create_machine_type,
    ha_device,
    set_machine_type,
    wait_running,
    wait_until,
)

DEVICE = "sim-hood-1"
CARD = "04BADA55"
TIMEOUT = 10
GRACE = 2
CUT = 16


def test_session_closed_on_timeout_then_reconciled(lab: Lab) -> None:
    admin = lab.hass.client
    agent = lab.agent("sim", devices=1)
    agent.start()
    adopt(admin, {DEVICE})
    wait_running(admin, agent, DEVICE)
    type_id = create_machine_type(
        admin, name="Short sessions", session_timeout=TIMEOUT, grace_period=GRACE
    )
    set_machine_type(admin, DEVICE, type_id)
    (reply,) = admin.ws(
        {"type": "fluxilab/access/settings", "session_check_interval": 1}
    )
    assert reply["success"], reply
    assert reply["result"]["session_check_interval"] == 1
    member = admin.call(
        "fluxilab",
        "add_member",
        {"name": "Grace Hopper", "cards": [CARD]},
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
    with access_events(admin) as events:
        run_session(lab, events, member["member_id"])


def run_session(lab: Lab, events: list[dict[str, Any]], member_id: str) -> None:
    """Swipe, cut the device off, and follow the session to its reconciliation."""
    admin = lab.hass.client
    agent = lab.agents[0]
    decision = json.loads(agent.control("swipe", "--device", DEVICE, "--card", CARD))[
        "decision"
    ]
    assert decision["granted"], decision
    assert not decision["offline"], decision
    session_id = decision["session_id"]
    agent.control("cut", "--device", DEVICE, "--seconds", str(CUT))
    cut_at = time.monotonic()

    def session_ended() -> list[dict[str, Any]]:
        return [e for e in events if e["type"] == "session_ended"]

    # The hub closes the session on timeout while the device is still away.
    (ended,) = wait_until(session_ended, TIMEOUT + 5, "the timeout session_ended")
    closed_in = time.monotonic() - cut_at
    assert ended["reason"] == "timeout", ended
    assert ended["session_id"] == session_id
    assert ended["member_id"] == member_id
    assert ended["buffered"] is False
    assert not agent.status(DEVICE)["status"]["online"]

    # The device returns; its buffered stop record replaces the hub's estimate.
    def stop_record() -> dict[str, Any] | None:
        for record in agent.records().get(DEVICE, []):
            data = record["data"]
            if record["kind"] == "access" and data.get("action") == "session_stop":
                return dict(data)
        return None

    stop = wait_until(stop_record, TIMEOUT + GRACE + 5, "the device's stop record")
    assert stop["session_id"] == session_id
    measured = stop["duration"]
    assert TIMEOUT + GRACE <= measured < TIMEOUT + GRACE + 2

    def reconciled() -> list[dict[str, Any]] | None:
        (reply,) = admin.ws(
            {"type": "fluxilab/panel/admin/history", "device_id": DEVICE}
        )
        rows = reply["result"]["sessions"]
        return rows if any(r["closed_by"] == "device" for r in rows) else None

    rows = wait_until(reconciled, CUT + 20, "the stop record to reconcile the session")
    assert len(rows) == 1, rows
    (session,) = rows
    assert session["session_id"] == session_id
    assert session["duration"] == measured
    assert session["end"] == session["start"] + measured
    # The reconciliation announced no second start or end.
    assert [e["type"] for e in events] == [
        "granted",
        "session_started",
        "session_ended",
    ]
    decisions = [a for a in audit(admin, DEVICE) if a["kind"] == "decision"]
    assert len(decisions) == 1, decisions

    lab.hass.stop()
    usage = lab.hass.read_history()["usage"][DEVICE]
    assert abs(usage["hours"] - measured / 3600) < 1e-9, usage
    print(
        json.dumps(
            {
                "hub_closed_after_cut_s": round(closed_in, 1),
                "device_duration_s": measured,
                "usage_hours": usage["hours"],
            }
        )
    )
