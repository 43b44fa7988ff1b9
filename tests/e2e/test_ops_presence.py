"""Issue 9 items 6, 2 and 3 end to end: occupancy, supervisor present, instructor grant.

One Home Assistant, one agent simulating a door and a fumehood. ``sim-door-1`` runs
the agent in door mode (every swipe is a ``check``; a granted one opens the lock for
a moment, no session) and becomes the lab entrance through its options flow (a
"Door" type everyone may use); ``sim-hood-1`` is a laser that needs a supervisor
present and whose trainers may train others. Members are made with services.
Through the agent's control socket, MQTT and Home Assistant:

* item 6: Ada swipes in at the door: the lock opens, no session, the door's occupancy
  sensor says 1 (/api/states); she swipes again at once and is checked out (0), with
  no session timeout to wait for; then she checks in again;
* item 2: Ada is refused ``no_supervisor`` at the laser until Sue (supervise flag,
  not authorized there herself) swipes at it; then Ada is granted;
* item 3: Tom (a trainer) swipes, Bob swipes within 60 s: Bob holds a new
  authorization naming Tom, and is granted;
* item 6: the occupancy service lists Ada (entrance) and Bob (the laser); Ada checks
  out at the door, the last one out: Bob's forgotten session closes ``lab_empty``.
  The door never had a session.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from tests.e2e.conftest import Lab
from tests.e2e.lab import (
    AgentProcess,
    HassClient,
    access_events,
    adopt,
    create_machine_type,
    entity_ids,
    ha_device,
    set_machine_type,
    wait_running,
    wait_until,
)

DOOR = "sim-door-1"
LASER = "sim-hood-1"
ADA, SUE, TOM, BOB = "04AD0001", "04500002", "04700003", "04B00004"


def state(admin: HassClient, entity_id: str) -> str:
    """Return an entity's state through /api/states."""
    return str(admin.request("GET", f"/api/states/{entity_id}")["state"])


def swipe(agent: AgentProcess, device: str, card: str) -> dict[str, Any]:
    """Present a card at a simulated device; return its decision."""
    decision: dict[str, Any] = json.loads(
        agent.control("swipe", "--device", device, "--card", card)
    )["decision"]
    return decision


def end_session(agent: AgentProcess, device: str, card: str) -> None:
    """Swipe again to end the device's running session (the agent's log-off)."""
    decision = swipe(agent, device, card)
    assert decision["reason"] == "session_ended", decision
    wait_until(
        lambda: agent.status(device)["status"]["user"] is None, 10, "session end"
    )


def synced(agent: AgentProcess, device: str, count: int) -> bool:
    """True once the device's credential mirror holds ``count`` members."""
    return bool(agent.status(device)["status"]["credentials"] == count)


def make_entrance(admin: HassClient, device_id: str, machine_type_id: str) -> None:
    """Mark a device as the lab entrance in its options flow, as an admin would."""
    (entry_id,) = ha_device(admin, device_id)["config_entries"]
    flow = admin.request(
        "POST", "/api/config/config_entries/options/flow", {"handler": entry_id}
    )
    names = [field["name"] for field in flow["data_schema"]]
    assert "entrance" in names, names
    result = admin.request(
        "POST",
        f"/api/config/config_entries/options/flow/{flow['flow_id']}",
        {"machine_type": machine_type_id, "entrance": True},
    )
    assert result["type"] == "create_entry", result


def add_member(admin: HassClient, name: str, card: str, **fields: Any) -> str:
    """Create a member with one card through the service; return the id."""
    result = admin.call(
        "fluxilab",
        "add_member",
        {"name": name, "cards": [card], **fields},
        response=True,
    )
    return str(result["member_id"])


def test_occupancy_supervisor_and_instructor_grant(lab: Lab) -> None:
    """Items 6, 2 and 3 through the agent, MQTT and Home Assistant."""
    admin = lab.hass.client
    agent = lab.agent("sim", devices=1, doors=1)
    agent.start()
    adopt(admin, {DOOR, LASER})
    wait_running(admin, agent, DOOR)
    wait_running(admin, agent, LASER)
    door_type = create_machine_type(admin, name="Door", requires_authorization=False)
    laser_type = create_machine_type(
        admin,
        name="Laser",
        requires_supervisor=True,
        supervisor_minutes=30,
        training_expiry_days=90,
    )
    make_entrance(admin, DOOR, door_type)
    set_machine_type(admin, LASER, laser_type)
    wait_running(admin, agent, DOOR)
    wait_running(admin, agent, LASER)
    occupancy = wait_until(
        lambda: entity_ids(admin, DOOR).get(f"{DOOR}_occupancy"),
        30,
        "the door's occupancy sensor",
    )
    assert state(admin, occupancy) == "0"
    assert f"{LASER}_occupancy" not in entity_ids(admin, LASER)

    ada = add_member(admin, "Ada Lovelace", ADA)
    add_member(admin, "Sue Supervisor", SUE, supervise=True)
    tom = add_member(admin, "Tom Trainer", TOM)
    bob = add_member(admin, "Bob Beginner", BOB)
    for member_id, trainer in ((ada, False), (tom, True)):
        admin.call(
            "fluxilab",
            "grant_authorization",
            {"member_id": member_id, "machine_type_id": laser_type, "trainer": trainer},
        )
    # The laser's mirror holds only those authorized there (Ada and Tom).
    for device, count in ((DOOR, 4), (LASER, 2)):
        wait_until(
            functools.partial(synced, agent, device, count),
            30,
            f"credential sync of {device}",
        )

    with access_events(admin) as events:
        # Item 6: check in at the entrance: a check, no session; the lock opens.
        decision = swipe(agent, DOOR, ADA)
        assert decision["granted"], decision
        assert decision["session_id"] is None, decision
        door = agent.status(DOOR)["status"]
        assert (door["mode"], door["unlocked"], door["user"]) == ("door", True, None)
        wait_until(lambda: state(admin, occupancy) == "1", 15, "the count at 1")
        checked_in = wait_until(
            lambda: [e for e in events if e["type"] == "checked_in"], 10, "checked_in"
        )
        assert checked_in[0]["member_id"] == ada
        assert checked_in[0]["card"].startswith("card_")  # never the uid
        assert checked_in[0]["fluxilab_device"] == DOOR

        # Item 6: out again right away: the hub decides the second swipe too.
        assert swipe(agent, DOOR, ADA)["granted"]
        wait_until(lambda: state(admin, occupancy) == "0", 15, "the count at 0")
        checked_out = wait_until(
            lambda: [e for e in events if e["type"] == "checked_out"], 10, "checked_out"
        )
        assert checked_out[0]["member_id"] == ada
        assert checked_out[0]["reason"] == "swipe"
        assert checked_out[0]["fluxilab_device"] == DOOR
        assert swipe(agent, DOOR, ADA)["granted"]  # in again, for what follows
        wait_until(lambda: state(admin, occupancy) == "1", 15, "the count at 1 again")

        # Item 2: no supervisor, then Sue swipes at the laser, then granted.
        decision = swipe(agent, LASER, ADA)
        assert not decision["granted"], decision
        assert decision["reason"] == "no_supervisor", decision
        assert swipe(agent, LASER, SUE)["reason"] == "not_authorized"
        assert swipe(agent, LASER, ADA)["granted"]
        end_session(agent, LASER, ADA)

        # Item 3: the trainer swipes, the trainee within 60 s.
        assert swipe(agent, LASER, TOM)["granted"]
        end_session(agent, LASER, TOM)
        decision = swipe(agent, LASER, BOB)
        assert decision["granted"], decision
        bob_session = decision["session_id"]
        (reply,) = admin.ws({"type": "fluxilab/authorization/list"})
        (trained,) = [a for a in reply["result"] if a["member_id"] == bob]
        assert trained["granted_by"] == tom
        assert trained["training"] is True
        assert trained["machine_type_id"] == laser_type
        assert trained["expires"] is not None
        granted = wait_until(
            lambda: [e for e in events if e["type"] == "authorization_granted"],
            10,
            "authorization_granted",
        )
        assert granted[0]["member_id"] == bob
        assert granted[0]["trainer_id"] == tom
        assert granted[0]["fluxilab_device"] == LASER

        # Item 6: the fire list; Bob's session at the laser is left running.
        fire_list = admin.call("fluxilab", "occupancy", {}, response=True)
        assert fire_list["count"] == 2, fire_list
        where = {m["member_id"]: m["where"] for m in fire_list["members"]}
        assert where == {ada: ["entrance"], bob: ["Simulated fumehood 1"]}
        assert state(admin, occupancy) == "2"

        # The last one out closes the stale session.
        assert swipe(agent, DOOR, ADA)["granted"]
        ended = wait_until(
            lambda: [
                e
                for e in events
                if e["type"] == "session_ended" and e["session_id"] == bob_session
            ],
            15,
            "Bob's session closed",
        )
        assert ended[0]["reason"] == "lab_empty", ended
        assert ended[0]["member_id"] == bob
        checked_out = [e for e in events if e["type"] == "checked_out"]
        assert checked_out[-1]["member_id"] == ada
        wait_until(lambda: state(admin, occupancy) == "0", 15, "the count at 0")
        # Sessions ran at the laser only: the door never had one.
        sessions = {
            e["fluxilab_device"]
            for e in events
            if e["type"] in ("session_started", "session_ended")
        }
        assert sessions == {LASER}, sessions
        assert agent.status(DOOR)["status"]["user"] is None
    (reply,) = admin.ws({"type": "fluxilab/occupancy/list"})
    assert reply["result"] == {"count": 0, "members": []}
