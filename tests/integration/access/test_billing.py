"""Charge-back in Home Assistant: projects, a month's statement, its doors and CSV.

The month's statement is checked against totals worked out by hand (below), and
against the usage history it is read from.
"""

from __future__ import annotations

import csv
from datetime import datetime
import io
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError, Unauthorized
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity_component import async_update_entity
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)

from custom_components.fluxilab.access.billing import Rates, charge
from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.device.runtime import FluxiLabDevice
from custom_components.fluxilab.history_db import LiveSession, SessionQuery
from custom_components.fluxilab.protocol.security import KeyPair
from tests.integration.conftest import DEVICE_ID

from .conftest import MACHINE_TYPE, answer_request, call
from .test_telemetry_rules import set_rules, telemetry, wait

# The fumehood's rates: 12.00 an hour busy, 3.00 idle, at least 2.50 a session,
# billed by the started quarter hour; busy detection on the face velocity.
RATES = {
    "billing_hourly_cents": 1200,
    "billing_idle_hourly_cents": 300,
    "billing_minimum_cents": 250,
    "billing_round_minutes": 15,
    "busy_channel": "sash_height",
    "busy_above": 10.0,
}


def rome(text: str) -> float:
    return (
        datetime.fromisoformat(text)
        .replace(tzinfo=dt_util.get_time_zone("Europe/Rome"))
        .timestamp()
    )


def add_session(
    engine: AccessEngine,
    session_id: str,
    member: dict[str, Any],
    start: float,
    duration: float | None,
    **extra: Any,
) -> dict[str, Any]:
    """A session in the usage history, as the engine and telemetry write them."""
    session = {
        "session_id": session_id,
        "device_id": DEVICE_ID,
        "member_id": member["id"],
        "member_name": member["name"],
        "card": None,
        "start": start,
        "last_seen": start + (duration or 0.0),
        "end": None if duration is None else start + duration,
        "duration": duration or 0.0,
        "closed_by": None if duration is None else "device",
        "buffered": False,
        **extra,
    }
    engine.history.data["sessions"].append(LiveSession.from_entry(session))
    engine.history.async_changed()
    return session


@pytest.fixture
async def lab(hass: HomeAssistant, engine: AccessEngine) -> dict[str, Any]:
    """Ada and Bob, projects Grant A (Ada's default) and Grant B (Bob's)."""
    await hass.config.async_set_time_zone("Europe/Rome")
    await engine.machine_types.async_update_item(MACHINE_TYPE, RATES)
    ada = await engine.members.async_create_item({"name": "Ada", "cards": ["04AA01"]})
    bob = await engine.members.async_create_item({"name": "Bob", "cards": ["04BB02"]})
    await engine.authorizations.async_create_item(
        {"member_id": ada["id"], "machine_type_id": MACHINE_TYPE}
    )
    grant_a = await engine.projects.async_create_item(
        {"name": "Grant A", "code": "GA-1", "default_members": [ada["id"]]}
    )
    grant_b = await engine.projects.async_create_item(
        {"name": "Grant B", "members": [ada["id"]], "default_members": [bob["id"]]}
    )
    await hass.async_block_till_done()
    return {"ada": ada, "bob": bob, "a": grant_a["id"], "b": grant_b["id"]}


async def november(engine: AccessEngine, lab: dict[str, Any]) -> None:
    """Sessions of November 2026 (and around it), in the lab's time zone, Rome."""
    ada, bob = lab["ada"], lab["bob"]
    nov = "2026-11-"
    add_session(engine, "s1", ada, rome(nov + "03T09:00"), 3000, busy_seconds=1800)
    add_session(engine, "s2", ada, rome(nov + "04T09:00"), 400, busy_seconds=100)
    add_session(engine, "s3", ada, rome(nov + "05T09:00"), 5400.4)
    add_session(
        engine, "s4", ada, rome(nov + "06T09:00"), 1234, closed_by="idle"
    )  # a busy period nobody's session covered
    add_session(engine, "s5", ada, rome(nov + "07T09:00"), 7200, busy_seconds=7200)
    add_session(engine, "s6", bob, rome(nov + "10T09:00"), 3600, busy_seconds=3600)
    add_session(engine, "s7", ada, rome(nov + "30T23:50"), 600, busy_seconds=600)
    add_session(engine, "s8", ada, rome("2026-12-01T00:30"), 900)  # December
    add_session(engine, "s9", ada, rome(nov + "12T09:00"), None)  # still open
    add_session(engine, "s10", ada, rome(nov + "13T09:00"), 1800, project_id=lab["b"])
    add_session(engine, "s11", ada, rome("2026-10-31T23:30"), 900)  # October


async def test_a_months_statement_agrees_with_hand_computed_totals(
    hass: HomeAssistant, engine: AccessEngine, lab: dict[str, Any]
) -> None:
    await november(engine, lab)
    # Staff's changes: Bob's session s6 goes to Grant A, Ada's s5 was training.
    await call(hass, "set_session_charge", {"session_id": "s6", "project_id": lab["a"]})
    await call(
        hass, "set_session_charge", {"session_id": "s5", "non_billable": "training"}
    )
    result = await call(
        hass,
        "billing_statement",
        {"project_id": lab["a"], "month": "2026-11"},
        response=True,
    )
    # By hand, quarter hours of 900 s, busy at 1200/h = 1/3 cent a second, idle at
    # 300/h = 1/12 cent a second, minimum 250:
    #  s1 3000 s -> 3600 billed; busy 1800 = 600, idle 1800 = 150        ->  750
    #  s2  400 s ->  900 billed; busy 100 = 33.33, idle 800 = 66.67 = 100 ->  250 (min)
    #  s3 5400.4 s -> 5401 -> 6300 billed; no busy time: 6300 idle = 525 ->  525
    #  s4 1234 s (busy period of its own) -> 1800 billed, all busy = 600  ->  600
    #  s5 7200 s, training                                                ->    0
    #  s6 3600 s, Bob's, moved to Grant A; all busy = 1200                -> 1200
    #  s7  600 s on Nov 30 23:50 (Rome) -> 900; busy 600 = 200, idle 300
    #      = 25 -> 225                                                    ->  250 (min)
    #  not in it: s8 (Dec 1 00:30 Rome, still Nov 30 in UTC), s9 (open), s10 (Grant
    #  B), s11 (Oct 31 23:30 Rome, Oct 31 22:30 UTC).
    #  Total 750 + 250 + 525 + 600 + 0 + 1200 + 250 = 3575 cents = 35.75.
    assert [line["session_id"] for line in result["lines"]] == [
        "s1",
        "s2",
        "s3",
        "s4",
        "s5",
        "s6",
        "s7",
    ]
    assert [line["cents"] for line in result["lines"]] == [
        750,
        250,
        525,
        600,
        0,
        1200,
        250,
    ]
    assert [line["minimum_applied"] for line in result["lines"]] == [
        False,
        True,
        False,
        False,
        False,
        False,
        True,
    ]
    assert result["lines"][4]["non_billable"] == "training"
    assert result["lines"][5]["member_name"] == "Bob"
    assert result["project"] == {"id": lab["a"], "name": "Grant A", "code": "GA-1"}
    total = result["total"]
    assert total["cents"] == 3575
    assert total["amount"] == "35.75"
    assert total["sessions"] == 7
    assert total["non_billable"] == 1
    # 3600 + 900 + 6300 + 1800 + 7200 + 3600 + 900
    assert total["billed_seconds"] == 24300
    # 3000 + 400 + 5400.4 + 1234 + 7200 + 3600 + 600, the usage history's durations
    assert total["seconds"] == pytest.approx(21434.4, abs=1e-9)
    assert [(t["name"], t["cents"]) for t in result["by_machine_type"]] == [
        ("Fumehood", 3575)
    ]

    # The usage history of the month, every project together, to the second: the
    # statements of Grant A, Grant B and of no project cover it all, once.
    start, end = rome("2026-11-01T00:00"), rome("2026-12-01T00:00")
    closed = [
        s
        for s in await engine.history.async_sessions(SessionQuery(start=start, end=end))
        if s.end is not None
    ]
    statements = [
        await call(
            hass,
            "billing_statement",
            {"project_id": p, "month": "2026-11"},
            response=True,
        )
        for p in (lab["a"], lab["b"], "")
    ]
    assert sorted(
        line["session_id"] for s in statements for line in s["lines"]
    ) == sorted(s.session_id for s in closed)
    assert sum(s["total"]["seconds"] for s in statements) == pytest.approx(
        sum(s.duration or 0.0 for s in closed), abs=1e-9
    )
    # Grant B: s10, 1800 s -> 1800 billed, no busy time: 1800 idle = 150 -> 250 (min).
    assert statements[1]["total"]["cents"] == 250
    assert statements[2]["lines"] == []

    # Grant B deleted: its session s10 is on the statement of no project now.
    await engine.projects.async_delete_item(lab["b"])
    orphans = await call(
        hass, "billing_statement", {"project_id": "", "month": "2026-11"}, response=True
    )
    assert [line["session_id"] for line in orphans["lines"]] == ["s10"]
    assert orphans["project"] is None


async def test_a_new_session_keeps_its_project_when_the_default_changes(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    lab: dict[str, Any],
) -> None:
    device.values["face_velocity"] = 0.5
    reply = await answer_request(
        engine,
        device,
        {"id": "r1", "action": "session_start", "card": "04AA01", "session_id": "x1"},
    )
    assert reply["granted"] is True
    await hass.async_block_till_done()
    session = engine.history.session("x1")
    assert session is not None
    assert session.project_id == lab["a"]
    assert session.machine_type_id == MACHINE_TYPE
    await engine.projects.async_set_default(lab["ada"]["id"], lab["b"])
    assert engine.projects.default_project(lab["ada"]["id"]).id == lab["b"]
    assert lab["ada"]["id"] not in engine.projects.data[lab["a"]]["default_members"]
    assert engine.projects.project_of(session.as_record()) == lab["a"]


@pytest.mark.parametrize(
    ("chosen", "charged"),
    [
        ("b", "b"),  # Ada belongs to Grant B: it is charged there
        ("elsewhere", "a"),  # no such project: her default
        (None, "a"),
    ],
)
async def test_a_project_chosen_at_the_device(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    lab: dict[str, Any],
    chosen: str | None,
    charged: str,
) -> None:
    device.values["face_velocity"] = 0.5
    request: dict[str, Any] = {
        "id": "r1",
        "action": "session_start",
        "card": "04AA01",
        "session_id": "p1",
    }
    if chosen is not None:
        request["project"] = lab.get(chosen, chosen)
    assert (await answer_request(engine, device, request))["granted"] is True
    await hass.async_block_till_done()
    session = engine.history.session("p1")
    assert session is not None
    assert session.project_id == lab[charged]
    assert "project_request" not in session.as_dict()


async def test_a_project_the_member_is_not_in_is_not_taken(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    lab: dict[str, Any],
) -> None:
    device.values["face_velocity"] = 0.5
    await engine.projects.async_update_item(lab["b"], {"members": []})
    await answer_request(
        engine,
        device,
        {
            "id": "r1",
            "action": "session_start",
            "card": "04AA01",
            "session_id": "p2",
            "project": lab["b"],
        },
    )
    await hass.async_block_till_done()
    session = engine.history.session("p2")
    assert session is not None
    assert session.project_id == lab["a"]


async def test_busy_time_inside_a_session_is_counted_in_it(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    device_keys: KeyPair,
    freezer: FrozenDateTimeFactory,
    lab: dict[str, Any],
) -> None:
    device.values["face_velocity"] = 0.5
    await set_rules(engine, hass, busy_delay=0, session_timeout=3600)
    await answer_request(
        engine,
        device,
        {"id": "r1", "action": "session_start", "card": "04AA01", "session_id": "b1"},
    )
    await hass.async_block_till_done()
    await wait(hass, freezer, 60)  # idle
    await telemetry(hass, device_keys, {"sash_height": 40.0})
    await wait(hass, freezer, 600)  # busy ten minutes
    await telemetry(hass, device_keys, {"sash_height": 0.0})
    await wait(hass, freezer, 120)  # idle again
    await telemetry(hass, device_keys, {"sash_height": 40.0})
    await wait(hass, freezer, 300)  # busy when the session stops
    await answer_request(
        engine,
        device,
        {"id": "r2", "action": "session_stop", "session_id": "b1", "duration": 1080},
    )
    await hass.async_block_till_done()
    session = engine.history.session("b1")
    assert session is not None
    assert session.end is not None
    assert session.busy_seconds == pytest.approx(900, abs=1)
    # Charged: 1080 s -> 1800 billed; 900 busy = 300, 900 idle = 75 -> 375.
    use = engine.projects.use_of(session.as_record())
    assert (
        charge(use, Rates.from_storage(engine.machine_types.data[MACHINE_TYPE])).cents
        == 375
    )


async def test_the_doors_check_permissions_and_explain_bad_input(
    hass: HomeAssistant,
    engine: AccessEngine,
    lab: dict[str, Any],
    hass_ws_client: WebSocketGenerator,
    hass_read_only_user: MockUser,
) -> None:
    await november(engine, lab)
    staff = await engine.members.async_create_item(
        {"name": "Steve", "role": "staff", "user_id": hass_read_only_user.id}
    )
    refresh = await hass.auth.async_create_refresh_token(
        hass_read_only_user, "https://x.org/"
    )
    client = await hass_ws_client(hass, hass.auth.async_create_access_token(refresh))

    async def ws(**data: Any) -> dict[str, Any]:
        await client.send_json_auto_id(data)
        reply: dict[str, Any] = await client.receive_json()
        return reply

    # Staff see projects and move sessions, but statements are for lab admins.
    listed = await ws(type="fluxilab/project/list")
    assert {p["name"] for p in listed["result"]} == {"Grant A", "Grant B"}
    refused = await ws(type="fluxilab/billing/statement", month="2026-11")
    assert refused["error"]["code"] == "unauthorized"
    with pytest.raises(Unauthorized):
        await call(
            hass,
            "billing_statement",
            {"month": "2026-11"},
            hass_read_only_user,
            response=True,
        )
    refused = await ws(type="fluxilab/project/create", name="Mine")
    assert refused["error"]["code"] == "unauthorized"
    moved = await ws(
        type="fluxilab/billing/set_session", session_id="s6", project_id=lab["a"]
    )
    assert moved["success"], moved
    assert moved["result"] == {
        "session_id": "s6",
        "project_id": lab["a"],
        "non_billable": None,
    }
    # Audited: who moved which session from where to where.
    entry = engine.history.data["audit"][-1].as_dict()
    assert entry["target"] == "session_charge"
    assert entry["target_id"] == "s6"
    assert entry["changes"] == {"project_id": {"before": lab["b"], "after": lab["a"]}}
    assert entry["actor_member_id"] == staff["id"]
    assert entry["door"] == "websocket"
    # Bad input, in words.
    bad = await ws(
        type="fluxilab/billing/set_session", session_id="s6", non_billable="lunch"
    )
    assert bad["error"]["translation_key"] == "invalid_data"
    ghost = await ws(type="fluxilab/billing/set_session", session_id="nope")
    assert ghost["error"]["translation_key"] == "session_not_found"
    nowhere = await ws(
        type="fluxilab/billing/set_session", session_id="s6", project_id="nowhere"
    )
    assert nowhere["error"]["translation_key"] == "unknown_project"
    # A member may not move sessions at all.
    await engine.members.async_update_item(staff["id"], {"role": "user"})
    refused = await ws(
        type="fluxilab/billing/set_session", session_id="s6", project_id=lab["b"]
    )
    assert refused["error"]["code"] == "unauthorized"
    assert engine.projects.session_charges["s6"].project_id == lab["a"]
    # The admin's doors: a month that is not one, a project that does not exist.
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "billing_statement", {"month": "November"}, response=True)
    assert err.value.translation_key == "invalid_month"
    assert err.value.translation_placeholders == {"month": "November"}
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            "billing_statement",
            {"project_id": "x", "month": "2026-11"},
            response=True,
        )
    assert err.value.translation_key == "unknown_project"
    admin = await hass_ws_client(hass)
    await admin.send_json_auto_id({"type": "fluxilab/billing/statement", "month": "13"})
    reply = await admin.receive_json()
    assert reply["error"]["translation_key"] == "invalid_month"
    assert reply["error"]["translation_placeholders"] == {"month": "13"}


async def test_projects_through_the_panel_are_audited_and_keep_one_default(
    hass: HomeAssistant,
    engine: AccessEngine,
    lab: dict[str, Any],
    hass_ws_client: WebSocketGenerator,
) -> None:
    admin = await hass_ws_client(hass)

    async def ws(**data: Any) -> dict[str, Any]:
        await admin.send_json_auto_id(data)
        reply: dict[str, Any] = await admin.receive_json()
        return reply

    made = await ws(
        type="fluxilab/project/create", name="Teaching", code="T-26", members=[]
    )
    assert made["success"], made
    entry = engine.history.data["audit"][-1].as_dict()
    assert (entry["target"], entry["action"], entry["label"]) == (
        "project",
        "created",
        "Teaching",
    )
    # Ada's default is Grant A: another project may not take it ...
    taken = await ws(
        type="fluxilab/project/update",
        project_id=made["result"]["id"],
        default_members=[lab["ada"]["id"]],
    )
    assert taken["error"]["translation_key"] == "project_default_taken"
    assert taken["error"]["translation_placeholders"] == {
        "member": "Ada",
        "project": "Grant A",
    }
    # ... but moving it does both sides.
    moved = await ws(
        type="fluxilab/billing/set_default",
        member_id=lab["ada"]["id"],
        project_id=made["result"]["id"],
    )
    assert moved["result"]["project_id"] == made["result"]["id"]
    assert engine.projects.data[lab["a"]]["default_members"] == []
    assert engine.projects.data[made["result"]["id"]]["members"] == [lab["ada"]["id"]]
    unknown = await ws(type="fluxilab/project/create", name="X", members=["nobody"])
    assert unknown["error"]["translation_key"] == "unknown_member"
    # A removed member leaves every project.
    await engine.members.async_delete_item(lab["ada"]["id"])
    await hass.async_block_till_done()
    assert all(
        lab["ada"]["id"] not in p["members"] for p in engine.projects.data.values()
    )


async def test_statement_csv(
    hass: HomeAssistant,
    engine: AccessEngine,
    lab: dict[str, Any],
    hass_client: ClientSessionGenerator,
    hass_read_only_access_token: str,
) -> None:
    await november(engine, lab)
    await call(hass, "set_session_charge", {"session_id": "s6", "project_id": lab["a"]})
    await call(
        hass, "set_session_charge", {"session_id": "s5", "non_billable": "training"}
    )
    client = await hass_client()
    response = await client.get(
        "/api/fluxilab/statement.csv",
        params={"project_id": lab["a"], "month": "2026-11"},
    )
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "fluxilab-statement-" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert [r["session_id"] for r in rows] == [
        "s1",
        "s2",
        "s3",
        "s4",
        "s5",
        "s6",
        "s7",
        "total",
    ]
    assert [r["amount"] for r in rows] == [
        "7.50",
        "2.50",
        "5.25",
        "6.00",
        "0.00",
        "12.00",
        "2.50",
        "35.75",
    ]
    assert rows[0]["member"] == "Ada"
    assert rows[0]["device"]
    assert rows[0]["machine_type"] == "Fumehood"
    assert (rows[0]["billed_s"], rows[0]["busy_s"], rows[0]["idle_s"]) == (
        "3600",
        "1800",
        "1800",
    )
    assert rows[1]["minimum"] == "yes"
    assert rows[4]["non_billable"] == "training"
    assert rows[2]["duration_s"] == "5400.400"
    assert rows[-1]["billed_s"] == "24300"
    # The lines add up to the total line, to the cent.
    cents = [int(r["amount"].replace(".", "")) for r in rows]
    assert sum(cents[:-1]) == cents[-1] == 3575

    bad = await client.get("/api/fluxilab/statement.csv", params={"month": "soon"})
    assert bad.status == 400
    missing = await client.get(
        "/api/fluxilab/statement.csv", params={"project_id": "x", "month": "2026-11"}
    )
    assert missing.status == 404
    stranger = await hass_client(hass_read_only_access_token)
    refused = await stranger.get(
        "/api/fluxilab/statement.csv",
        params={"project_id": lab["a"], "month": "2026-11"},
    )
    assert refused.status == 403


async def test_project_sensors_on_the_device_an_admin_chose(
    hass: HomeAssistant,
    engine: AccessEngine,
    lab: dict[str, Any],
    init_integration: MockConfigEntry,
) -> None:
    registry = er.async_get(hass)

    def entity_of(project_id: str) -> str | None:
        return registry.async_get_entity_id(
            "sensor", "fluxilab", f"{DEVICE_ID}_project_usage_{project_id}"
        )

    assert entity_of(lab["a"]) is None  # off by default
    month = dt_util.start_of_local_day().replace(day=1).timestamp()
    add_session(engine, "m1", lab["ada"], month + 3600, 3000, busy_seconds=1800)
    add_session(engine, "m2", lab["bob"], month + 7200, 900)
    hass.config_entries.async_update_entry(
        init_integration,
        options={**init_integration.options, "project_sensors": True},
    )
    await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    grant_a, grant_b = entity_of(lab["a"]), entity_of(lab["b"])
    assert grant_a is not None
    assert grant_b is not None
    for entity_id in (grant_a, grant_b):
        await async_update_entity(hass, entity_id)
    # Ada's 3000 s: 750 cents (as in November's s1); Bob's 900 s, no busy time:
    # 900 s at 3.00/h = 75 cents -> the minimum, 250.
    state = hass.states.get(grant_a)
    assert state is not None
    assert float(state.state) == 7.5
    assert state.attributes["unit_of_measurement"] == hass.config.currency
    assert state.attributes["billed_hours"] == 1.0
    assert state.attributes["friendly_name"].endswith("Grant A this month")
    state_b = hass.states.get(grant_b)
    assert state_b is not None
    assert float(state_b.state) == 2.5
    assert "Ada" not in str(state.attributes) + str(state_b.attributes)
    # A project created later gets its sensor too.
    made = await engine.projects.async_create_item({"name": "Teaching"})
    await hass.async_block_till_done()
    assert entity_of(made["id"]) is not None
