"""Records a device kept offline and sent later stay marked ``buffered`` everywhere.

A swipe the hub decides live and a session the device ran on its own while the hub
was unreachable (replayed from its backlog with its own times): the offline one is
marked in the history database, in the panel's audit, usage history and profile
replies, in the usage CSV, in the event and in the logbook; the live one nowhere.
"""

from __future__ import annotations

import csv
import io
import time
from typing import Any

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockUser, async_capture_events
from pytest_homeassistant_custom_component.typing import WebSocketGenerator
from sqlalchemy import select

from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.const import DOMAIN, EVENT_ACCESS
from custom_components.fluxilab.device.runtime import FluxiLabDevice
from custom_components.fluxilab.history_db.schema import audit, sessions
from custom_components.fluxilab.logbook import describe_access
from custom_components.fluxilab.protocol.security import KeyPair
from custom_components.fluxilab.protocol.topics import Channel

from .conftest import MACHINE_TYPE
from .test_answered_replay import CARD, send_sealed

OFFLINE = "recorded offline at the device, sent later"


async def admin_call(client: Any, **msg: Any) -> Any:
    await client.send_json_auto_id(msg)
    reply = await client.receive_json()
    assert reply["success"], reply
    return reply["result"]


async def test_replayed_backlog_is_marked_buffered_and_live_records_are_not(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    device_keys: KeyPair,
    hass_admin_user: MockUser,
    hass_ws_client: WebSocketGenerator,
) -> None:
    device.values["face_velocity"] = 0.6
    member = await engine.members.async_create_item(
        {"name": "Ada", "cards": [CARD], "user_id": hass_admin_user.id}
    )
    await engine.authorizations.async_create_item(
        {"member_id": member["id"], "machine_type_id": MACHINE_TYPE}
    )
    events = async_capture_events(hass, EVENT_ACCESS)

    # Live: the hub decides the swipe and opens the session.
    await send_sealed(
        hass,
        device_keys,
        Channel.ACCESS_REQUEST,
        {"id": "req-live", "action": "session_start", "card": CARD},
    )
    assert device.in_use is True
    # Offline an hour ago: the device granted from its mirror, ran a session and
    # kept both records; they reach the hub now, with their own times.
    then = time.time() - 3600
    start = {
        "action": "session_start",
        "request_id": "req-offline",
        "card": CARD,
        "member_id": member["id"],
        "granted": True,
        "offline": True,
        "reason": "granted",
        "session_id": "dev-offline",
    }
    stop = {
        "action": "session_stop",
        "offline": True,
        "session_id": "dev-offline",
        "card": CARD,
        "member_id": member["id"],
        "duration": 600,
    }
    await send_sealed(
        hass,
        device_keys,
        Channel.BACKLOG,
        {
            "records": [
                {
                    "seq": 1,
                    "ts": then,
                    "kind": "access",
                    "buffered": True,
                    "event": start,
                },
                {
                    "seq": 2,
                    "ts": then + 600,
                    "kind": "access",
                    "buffered": True,
                    "event": stop,
                },
            ]
        },
    )

    # The history database: both tables' columns say which is which.
    history = engine.history
    await history.async_flush()
    db = history.database
    assert db.engine is not None

    def _columns() -> tuple[list[Any], list[Any]]:
        assert db.engine is not None
        with db.engine.connect() as connection:
            decisions = connection.execute(
                select(audit.c.data, audit.c.buffered)
                .where(audit.c.kind == "decision")
                .order_by(audit.c.entry_id)
            ).all()
            rows = connection.execute(
                select(
                    sessions.c.session_id, sessions.c.buffered, sessions.c.start_ts
                ).order_by(sessions.c.entry_id)
            ).all()
        return [
            (('"req-live"' in d and "live") or "offline", b) for d, b in decisions
        ], [tuple(r) for r in rows]

    audited, stored = await db.async_run(_columns)
    assert audited == [("live", False), ("offline", True)]
    (live_session, offline_session) = stored
    assert live_session[1] is False
    assert offline_session[:2] == ("dev-offline", True)
    assert abs(offline_session[2] - then) < 1  # the device's own time

    # The panel's replies.
    client = await hass_ws_client(hass)
    page = await admin_call(client, type=f"{DOMAIN}/panel/admin/audit", kind="decision")
    offline_entry, live_entry = page["audit"]  # newest (the latest written) first
    assert (offline_entry["buffered"], abs(offline_entry["ts"] - then) < 1) == (
        True,
        True,
    )
    assert (live_entry["request_id"], live_entry["buffered"]) == ("req-live", False)
    only = await admin_call(client, type=f"{DOMAIN}/panel/admin/audit", buffered=True)
    assert only["audit"] == [offline_entry]
    rest = await admin_call(client, type=f"{DOMAIN}/panel/admin/audit", buffered=False)
    assert live_entry in rest["audit"]
    assert offline_entry not in rest["audit"]

    usage = await admin_call(client, type=f"{DOMAIN}/panel/admin/history")
    marks = {s["session_id"]: s["buffered"] for s in usage["sessions"]}
    assert marks == {live_session[0]: False, "dev-offline": True}
    csv_marks = {
        row["session_id"]: row["buffered"]
        for row in csv.DictReader(io.StringIO(usage["csv"]))
    }
    assert csv_marks == {live_session[0]: "False", "dev-offline": "True"}

    profile = await admin_call(client, type=f"{DOMAIN}/panel/profile")
    assert {s["session_id"]: s["buffered"] for s in profile["sessions"]} == marks

    # The events carry the mark; the logbook says so of the offline ones only.
    by_mark = {
        (e.data["type"], e.data["buffered"]): describe_access(e.data) for e in events
    }
    assert set(by_mark) == {
        ("granted", False),
        ("session_started", False),
        ("offline_granted", True),
        ("session_started", True),
        ("session_ended", True),
    }
    for (_kind, buffered), message in by_mark.items():
        assert message.endswith(f" ({OFFLINE})") is buffered, message
