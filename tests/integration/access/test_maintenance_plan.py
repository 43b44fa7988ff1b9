"""Maintenance plans (hours, description, instructions URL) and interventions.

The rules as pure functions; the plan through the panel's door (validated, the
machine types' permission); what the device is told while maintenance is due (the
access reply's message, the mirrored notice); the interventions' list and CSV
(the audit log's permission, formulas neutralized).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import Unauthorized
import pytest
from pytest_homeassistant_custom_component.common import MockUser
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    MqttMockHAClient,
    WebSocketGenerator,
)

from custom_components.fluxilab.access import maintenance
from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.access.history import DeviceUsage
from custom_components.fluxilab.access.lab_models import MachineType
from custom_components.fluxilab.device.runtime import FluxiLabDevice
from custom_components.fluxilab.history_db import AuditEntry
from custom_components.fluxilab.protocol.schemas import (
    MAINTENANCE_NOTICE_SCHEMA,
    MAX_REPLY_MESSAGE,
)
from custom_components.fluxilab.protocol.security import KeyPair
from tests.integration.conftest import DEVICE_ID

from .conftest import MACHINE_TYPE, call, credential_sets
from .test_decisions import add_member, check

LONG = "Replace the HEPA filter, then check the sash seal and the airflow alarm"


def _type(**stored: Any) -> MachineType:
    """A machine type as the core reads it, from what the store would hold."""
    return MachineType.from_storage({"id": "fumehood", **stored})


def _usage(hours: float, since: float) -> DeviceUsage:
    return {
        "hours": hours,
        "since_maintenance": since,
        "last_maintenance": None,
        "conditions": {},
    }


# Pure rules -------------------------------------------------------------------------


def test_lcd_text_prefers_the_message_and_cuts_the_description() -> None:
    assert maintenance.lcd_text(None, 32) == ""
    assert maintenance.lcd_text(_type(maintenance_message="Filter"), 32) == "Filter"
    text = maintenance.lcd_text(_type(maintenance_description=LONG), 32)
    assert len(text) == 32
    assert text.endswith("…")
    assert text.startswith("Replace the HEPA filter")
    # Lines and runs of spaces become one line (a display has no newline).
    assert maintenance.lcd_text(_type(maintenance_description="a\n\n b  c"), 32) == (
        "a b c"
    )
    assert maintenance.cut("exactly", 7) == "exactly"


def test_notice_is_the_plan_or_nothing() -> None:
    assert maintenance.notice(None) is None
    assert maintenance.notice(_type(maintenance_interval=5)) is None
    shown = maintenance.notice(
        _type(maintenance_description=LONG, maintenance_url="https://lab.example/h")
    )
    assert shown == {
        "message": None,
        "description": LONG,
        "url": "https://lab.example/h",
    }
    assert MAINTENANCE_NOTICE_SCHEMA(shown) == shown


def test_intervention_keeps_the_hours_before_the_reset() -> None:
    done = maintenance.intervention(_usage(12.34567, 2.5), 2.0, "  new\tfilter \n")
    assert done.as_dict() == {
        "hours": 12.346,
        "since_maintenance": 2.5,
        "interval": 2.0,
        "note": "new filter",
    }
    assert maintenance.intervention(_usage(0, 0), None, "   ").note is None
    long = maintenance.intervention(_usage(0, 0), None, "x" * 900).note
    assert long is not None
    assert len(long) == maintenance.MAX_NOTE


def test_intervention_csv_neutralizes_formulas() -> None:
    row = maintenance.intervention_row(
        AuditEntry.from_entry(
            {
                "ts": 0.0,
                "device_id": "hood-1",
                "member_id": "ada",
                "hours": 3.5,
                "since_maintenance": 1.25,
                "interval": 2.0,
                "note": '=HYPERLINK("http://evil")',
            }
        ),
        {"ada": "@Ada"},
        {"hood-1": "Fumehood 1"},
    )
    lines = list(csv.reader(io.StringIO(maintenance.intervention_csv_rows([row]))))
    assert lines == [
        [
            "1970-01-01T00:00:00+00:00",
            "hood-1",
            "Fumehood 1",
            "ada",
            "'@Ada",
            "3.5",
            "1.25",
            "2",
            '\'=HYPERLINK("http://evil")',
            "False",
        ]
    ]
    # Entries from before interventions kept hours: empty cells, not "None".
    old = maintenance.intervention_row(
        AuditEntry.from_entry({"ts": 0.0, "device_id": "gone", "member_id": None}),
        {},
        {},
    )
    assert old["device"] == "gone"
    assert next(csv.reader(io.StringIO(maintenance.intervention_csv_rows([old])))) == [
        "1970-01-01T00:00:00+00:00",
        "gone",
        "gone",
        "",
        "",
        "",
        "",
        "",
        "",
        "False",
    ]


# The plan through the panel ---------------------------------------------------------


async def _client(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator, user: MockUser | None
) -> Any:
    if user is None:
        client = await hass_ws_client(hass)
    else:
        refresh = await hass.auth.async_create_refresh_token(user, "https://x.org/")
        client = await hass_ws_client(
            hass, hass.auth.async_create_access_token(refresh)
        )

    async def ws(**data: Any) -> dict[str, Any]:
        await client.send_json_auto_id(data)
        reply: dict[str, Any] = await client.receive_json()
        return reply

    return ws


async def test_plan_is_edited_in_the_panel_and_validated(
    hass: HomeAssistant,
    engine: AccessEngine,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_user: MockUser,
) -> None:
    admin = await _client(hass, hass_ws_client, None)
    saved = await admin(
        type="fluxilab/panel/admin/machine_type_save",
        machine_type_id=MACHINE_TYPE,
        maintenance_interval=50,
        maintenance_description=f"  {LONG} ",
        maintenance_url="https://lab.example/hood",
    )
    assert saved["success"], saved
    plan = engine.machine_types.data[MACHINE_TYPE]
    assert plan["maintenance_interval"] == 50
    assert plan["maintenance_description"] == LONG
    assert plan["maintenance_url"] == "https://lab.example/hood"
    assert plan["maintenance_message"] == "Filter change"  # untouched

    for field, value in (
        ("maintenance_url", "javascript:alert(1)"),
        ("maintenance_url", "ftp://lab.example/hood"),
        ("maintenance_url", "https://someone@lab.example/"),
        ("maintenance_description", "x" * 501),
        ("maintenance_message", "x" * 33),
    ):
        bad = await admin(
            type="fluxilab/panel/admin/machine_type_save",
            machine_type_id=MACHINE_TYPE,
            **{field: value},
        )
        assert bad["error"]["translation_key"] == "invalid_data", (field, bad)
    assert engine.machine_types.data[MACHINE_TYPE]["maintenance_url"] == (
        "https://lab.example/hood"
    )
    # Emptied, the URL is gone (the form sends what is in the field).
    cleared = await admin(
        type="fluxilab/panel/admin/machine_type_save",
        machine_type_id=MACHINE_TYPE,
        maintenance_url="",
    )
    assert cleared["success"], cleared
    assert engine.machine_types.data[MACHINE_TYPE]["maintenance_url"] is None

    # Staff record maintenance but do not change plans: the machine types' right.
    await engine.members.async_create_item(
        {"name": "Steve", "role": "staff", "user_id": hass_read_only_user.id}
    )
    staff = await _client(hass, hass_ws_client, hass_read_only_user)
    refused = await staff(
        type="fluxilab/panel/admin/machine_type_save",
        machine_type_id=MACHINE_TYPE,
        maintenance_description="Nothing",
    )
    assert refused["error"]["code"] == "unauthorized"
    assert engine.machine_types.data[MACHINE_TYPE]["maintenance_description"] == LONG


# What the device is told ------------------------------------------------------------


async def test_device_shows_the_description_while_due(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    mqtt_mock: MqttMockHAClient,
    device_keys: KeyPair,
) -> None:
    await add_member(engine)
    await engine.machine_types.async_update_item(
        MACHINE_TYPE,
        {
            "maintenance_message": None,
            "maintenance_description": LONG,
            "maintenance_url": "https://lab.example/hood",
        },
    )
    await hass.async_block_till_done()
    offline = (await credential_sets(hass, mqtt_mock, device_keys))[-1]["offline"]
    assert offline.get("maintenance") is None  # nothing due yet

    engine.history.usage(DEVICE_ID)["since_maintenance"] = 5.0
    engine.publish_usage(device)
    await hass.async_block_till_done()
    reply = await check(engine, device)
    assert reply["reason"] == "maintenance_due"
    assert reply["message"] == maintenance.cut(LONG, MAX_REPLY_MESSAGE)
    assert len(reply["message"]) <= MAX_REPLY_MESSAGE
    offline = (await credential_sets(hass, mqtt_mock, device_keys))[-1]["offline"]
    assert offline["maintenance"] == {
        "message": None,
        "description": LONG,
        "url": "https://lab.example/hood",
    }

    # Registered: the notice is gone from the next set.
    await engine.async_record_maintenance(device)
    await hass.async_block_till_done()
    offline = (await credential_sets(hass, mqtt_mock, device_keys))[-1]["offline"]
    assert offline["maintenance"] is None
    after = await check(engine, device)
    assert after["reason"] != "maintenance_due"
    assert after.get("message") is None


# Interventions ----------------------------------------------------------------------


async def test_interventions_are_listed_and_exported(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    hass_ws_client: WebSocketGenerator,
    hass_client: ClientSessionGenerator,
    hass_read_only_user: MockUser,
    hass_read_only_access_token: str,
    ha_device_id: str,
) -> None:
    tech = await engine.members.async_create_item({"name": "Tech", "role": "staff"})
    usage = engine.history.usage(DEVICE_ID)
    usage["hours"], usage["since_maintenance"] = 10.0, 2.5
    await call(
        hass,
        "record_maintenance",
        {
            "device_id": ha_device_id,
            "member_id": tech["id"],
            "note": "=cmd|' /C calc'!A0",
        },
    )
    usage["hours"], usage["since_maintenance"] = 11.0, 1.0
    admin = await _client(hass, hass_ws_client, None)
    recorded = await admin(
        type="fluxilab/panel/admin/record_maintenance",
        device_id=DEVICE_ID,
        note="New filter",
    )
    assert recorded["success"], recorded
    assert usage["since_maintenance"] == 0.0

    listed = await admin(
        type="fluxilab/panel/admin/maintenance_log", device_id=DEVICE_ID
    )
    rows = listed["result"]["interventions"]
    assert [(r["member_id"], r["note"]) for r in rows] == [
        (None, "New filter"),  # the HA admin has no member
        (tech["id"], "=cmd|' /C calc'!A0"),
    ]
    assert [(r["hours"], r["since_maintenance"], r["interval"]) for r in rows] == [
        (11.0, 1.0, 2),
        (10.0, 2.5, 2),
    ]
    assert rows[1]["member"] == "Tech"
    assert rows[0]["device"] == "Fumehood 1"
    assert listed["result"]["next"] is None
    # Paged: one per page, the cursor leads to the older one.
    first = await admin(
        type="fluxilab/panel/admin/maintenance_log", device_id=DEVICE_ID, limit=1
    )
    assert first["result"]["interventions"][0]["note"] == "New filter"
    second = await admin(
        type="fluxilab/panel/admin/maintenance_log",
        device_id=DEVICE_ID,
        limit=1,
        before=first["result"]["next"],
    )
    assert second["result"]["interventions"][0]["member_id"] == tech["id"]
    assert second["result"]["next"] is None
    unknown = await admin(type="fluxilab/panel/admin/maintenance_log", device_id="x")
    assert unknown["error"]["translation_key"] == "unknown_device"
    too_long = await admin(
        type="fluxilab/panel/admin/record_maintenance",
        device_id=DEVICE_ID,
        note="x" * (maintenance.MAX_NOTE + 1),
    )
    assert too_long["success"] is False

    client = await hass_client()
    response = await client.get(
        "/api/fluxilab/maintenance.csv", params={"device_id": DEVICE_ID}
    )
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "fluxilab-maintenance-hood-1" in response.headers["Content-Disposition"]
    lines = list(csv.DictReader(io.StringIO(await response.text())))
    assert [line["note"] for line in lines] == ["New filter", "'=cmd|' /C calc'!A0"]
    assert lines[1]["member"] == "Tech"
    assert (lines[1]["hours"], lines[1]["hours_since_previous"]) == ("10", "2.5")
    assert [line["buffered"] for line in lines] == ["False", "False"]  # both live
    missing = await client.get(
        "/api/fluxilab/maintenance.csv", params={"device_id": "x"}
    )
    assert missing.status == 404

    # A Home Assistant user without a member registers nothing.
    with pytest.raises(Unauthorized):
        await call(
            hass,
            "record_maintenance",
            {"device_id": ha_device_id, "note": "x"},
            hass_read_only_user,
        )
    # Staff register interventions but the log is the audit log's: lab admins.
    await engine.members.async_create_item(
        {"name": "Steve", "role": "staff", "user_id": hass_read_only_user.id}
    )
    staff = await _client(hass, hass_ws_client, hass_read_only_user)
    refused = await staff(type="fluxilab/panel/admin/maintenance_log")
    assert refused["error"]["code"] == "unauthorized"
    stranger = await hass_client(hass_read_only_access_token)
    assert (await stranger.get("/api/fluxilab/maintenance.csv")).status == 403

    # Their own interventions are in a member's GDPR export (audit entries).
    export = await engine.async_member_export(tech["id"])
    assert [a["note"] for a in export["audit"] if a["kind"] == "maintenance"] == [
        "=cmd|' /C calc'!A0"
    ]
