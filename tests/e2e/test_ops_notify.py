"""Issue 9 items 5 and 4 end to end: the interest queue and lapsing qualifications.

One Home Assistant, one agent simulating one laser (machine type "Laser", whose
authorizations lapse after 6 months unused). Through the agent's control socket,
MQTT and Home Assistant's websocket:

* item 5: Ann swipes and holds a session; Bea is queued for the laser with the
  ``notify_when_free`` action (an admin acting for her); Ann swipes again to log off:
  Bea is told once (``interest_notified`` on ``fluxilab_access``, a
  ``fluxilab_notification`` for her), and Ann's next session tells nobody;
* item 4: Cy's authorization was last used 7 months ago and Dee's 6 months less 5
  days ago (``grant_authorization`` with ``last_used``): the ``lapsing`` action lists
  both (Cy lapsed), the repair issue lists them, Cy's swipe is denied ``lapsed``, and
  saving the notice setting tells Dee once (``authorization_lapsing`` on
  ``fluxilab_lab`` and her notification).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
from typing import Any

from tests.e2e.conftest import Lab
from tests.e2e.lab import (
    AgentProcess,
    HassClient,
    adopt,
    bus_events,
    create_machine_type,
    ha_device,
    set_machine_type,
    wait_running,
    wait_until,
)

LASER = "sim-hood-1"
ANN, BEA, CY, DEE = "04A00001", "04B00002", "04C00003", "04D00004"
EVENTS = ("fluxilab_access", "fluxilab_lab", "fluxilab_notification")


def swipe(agent: AgentProcess, card: str) -> dict[str, Any]:
    """Present a card at the laser; return its decision."""
    decision: dict[str, Any] = json.loads(
        agent.control("swipe", "--device", LASER, "--card", card)
    )["decision"]
    return decision


def add_member(admin: HassClient, name: str, card: str) -> str:
    result = admin.call(
        "fluxilab", "add_member", {"name": name, "cards": [card]}, response=True
    )
    return str(result["member_id"])


def grant(admin: HassClient, member_id: str, type_id: str, **fields: Any) -> str:
    result = admin.call(
        "fluxilab",
        "grant_authorization",
        {"member_id": member_id, "machine_type_id": type_id, **fields},
        response=True,
    )
    return str(result["authorization_id"])


def of(
    events: list[tuple[str, dict[str, Any]]], bus: str, kind: str | None = None
) -> list[dict[str, Any]]:
    """The events of one bus event type (and ``type``/``target`` field)."""
    return [
        data
        for name, data in events
        if name == bus and kind in (None, data.get("type"), data.get("target"))
    ]


def test_interest_queue_and_lapsing(lab: Lab) -> None:
    """Items 5 and 4 through the agent, MQTT and Home Assistant."""
    admin = lab.hass.client
    agent = lab.agent("sim", devices=1)
    agent.start()
    adopt(admin, {LASER})
    wait_running(admin, agent, LASER)
    laser_type = create_machine_type(admin, name="Laser", lapse_after_months=6)
    set_machine_type(admin, LASER, laser_type)
    wait_running(admin, agent, LASER)
    ann, bea, cy, dee = (
        add_member(admin, name, card)
        for name, card in (("Ann", ANN), ("Bea", BEA), ("Cy", CY), ("Dee", DEE))
    )
    now = datetime.now(UTC)
    grant(admin, ann, laser_type)
    grant(admin, cy, laser_type, last_used=(now - timedelta(days=214)).isoformat())
    dee_last = (now - timedelta(days=178)).isoformat()
    dee_auth = grant(admin, dee, laser_type, last_used=dee_last)
    wait_until(
        lambda: agent.status(LASER)["status"]["credentials"] >= 2,
        30,
        "credential sync",
    )
    device_id = ha_device(admin, LASER)["id"]

    with bus_events(admin, *EVENTS) as events:
        # Item 5: the interest queue.
        first = swipe(agent, ANN)
        assert first["granted"], first
        queued = admin.call(
            "fluxilab",
            "notify_when_free",
            {"device_id": device_id, "member_id": bea},
            response=True,
        )
        assert queued["position"] == 1, queued
        assert swipe(agent, ANN)["reason"] == "session_ended"
        (told,) = wait_until(
            lambda: of(events, "fluxilab_access", "interest_notified"),
            15,
            "Bea's interest_notified",
        )
        assert told["member_id"] == bea
        assert told["device_id"] == device_id
        assert told["fluxilab_device"] == LASER
        (note,) = wait_until(
            lambda: [
                n
                for n in of(events, "fluxilab_notification", "member")
                if n["member_id"] == bea
            ],
            15,
            "Bea's notification",
        )
        assert note["tag"] == f"fluxilab_free_{LASER}"
        assert note["title"].endswith(" is free"), note
        # Told once: Ann's next session ends without another notice.
        assert swipe(agent, ANN)["granted"]
        assert swipe(agent, ANN)["reason"] == "session_ended"
        wait_until(
            lambda: len(of(events, "fluxilab_access", "session_ended")) == 2,
            15,
            "the second session_ended",
        )

        # Item 4: lapsing qualifications.
        listed = admin.call("fluxilab", "lapsing", {}, response=True)
        rows = {row["member_id"]: row for row in listed["authorizations"]}
        assert set(rows) == {cy, dee}, listed
        assert rows[cy]["lapsed"] is True
        assert rows[dee]["lapsed"] is False
        assert rows[dee]["cause"] == "inactivity"
        denied = swipe(agent, CY)
        assert not denied["granted"]
        assert denied["reason"] == "lapsed", denied
        (issues,) = admin.ws({"type": "repairs/list_issues"})
        (issue,) = [
            i
            for i in issues["result"]["issues"]
            if i["domain"] == "fluxilab" and i["issue_id"] == "authorizations_lapsing"
        ]
        assert issue["translation_placeholders"]["count"] == "2"
        (saved,) = admin.ws(
            {"type": "fluxilab/notify/settings", "lapse_notice_days": 10}
        )
        assert saved["result"]["lapse_notice_days"] == 10
        (lapsing,) = wait_until(
            lambda: of(events, "fluxilab_lab", "authorization_lapsing"),
            15,
            "Dee's authorization_lapsing",
        )
        assert lapsing["member_id"] == dee
        assert lapsing["authorization_id"] == dee_auth
        assert lapsing["machine_type_id"] == laser_type
        wait_until(
            lambda: [
                n
                for n in of(events, "fluxilab_notification", "member")
                if n["member_id"] == dee
            ],
            15,
            "Dee's notification",
        )
        wait_until(
            lambda: of(events, "fluxilab_notification", "admins"), 15, "the summary"
        )

    assert len(of(events, "fluxilab_access", "interest_notified")) == 1
    assert len(of(events, "fluxilab_lab", "authorization_lapsing")) == 1
    print(json.dumps({"events": len(events), "lapsing": len(rows)}))
