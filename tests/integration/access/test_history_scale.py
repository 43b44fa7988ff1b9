"""The history at a lab's scale: 1,000,000 audit entries and 200,000 sessions.

Imported in bulk (rows made by SQLite itself, a recursive CTE: the Python side's
bulk import is scripts/bench_history.py's), then the panel pages the audit view and
a year of usage streams out as CSV, all through the integration's own doors. Runs in
CI on SQLite in well under a minute; the timings are the benchmark's
(``scripts/bench --only history``), not asserted here.
"""

from __future__ import annotations

import csv
import io
import time
from typing import Any

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)

from custom_components.fluxilab.access.engine import AccessEngine

AUDIT_ROWS = 1_000_000
SESSION_ROWS = 200_000
YEAR = 365 * 86400.0
DEVICES = 50
START = time.time() - YEAR
SIZES = {"AUDIT_ROWS": AUDIT_ROWS, "SESSION_ROWS": SESSION_ROWS, "DEVICES": DEVICES}

_IMPORT_AUDIT = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {AUDIT_ROWS})
INSERT INTO fluxilab_audit
    (entry_id, ts, kind, device_id, member_id, card, anonymized, data)
SELECT
    {SESSION_ROWS} + i,
    {start!r} + i * {step!r},
    CASE i % 3 WHEN 0 THEN 'routing' WHEN 1 THEN 'decision' ELSE 'maintenance' END,
    'device-' || (i % {DEVICES}),
    'member-' || (i % 200),
    NULL,
    0,
    '{{"ts":' || ({start!r} + i * {step!r}) || ',"kind":"'
        || CASE i % 3 WHEN 0 THEN 'routing' WHEN 1 THEN 'decision'
           ELSE 'maintenance' END
        || '","device_id":"device-' || (i % {DEVICES})
        || '","member_id":null,"card":null,"reason":"granted","buffered":false'
        || ',"entry_id":' || ({SESSION_ROWS} + i) || '}}'
FROM n
"""

_IMPORT_SESSIONS = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {SESSION_ROWS})
INSERT INTO fluxilab_sessions
    (entry_id, session_id, device_id, start_ts, end_ts, duration, closed_by,
     buffered, member_id, member_name, card, anonymized, data)
SELECT
    i, 's' || i, 'device-' || (i % {DEVICES}), {start!r} + i * {step!r},
    {start!r} + i * {step!r} + 1800, 1800.0, 'device', 0,
    'member-' || (i % 200), 'Member ' || (i % 200), NULL, 0,
    '{{"session_id":"s' || i || '","device_id":"device-' || (i % {DEVICES})
        || '","member_id":null,"member_name":null,"card":null,"start":'
        || ({start!r} + i * {step!r}) || ',"end":' || ({start!r} + i * {step!r} + 1800)
        || ',"duration":1800.0,"closed_by":"device","buffered":false,"entry_id":'
        || i || '}}'
FROM n
"""


async def test_a_year_at_scale_pages_and_exports(
    hass: HomeAssistant,
    engine: AccessEngine,
    hass_ws_client: WebSocketGenerator,
    hass_client: ClientSessionGenerator,
) -> None:
    history = engine.history
    await history.async_save()
    db = history.database
    assert db.dialect == "sqlite"

    def _import() -> None:
        assert db.engine is not None
        with db.engine.begin() as connection:
            # The driver's own SQL: the JSON text is full of colons.
            connection.exec_driver_sql(
                _IMPORT_AUDIT.format(start=START, step=YEAR / AUDIT_ROWS, **SIZES)
            )
            connection.exec_driver_sql(
                _IMPORT_SESSIONS.format(start=START, step=YEAR / SESSION_ROWS, **SIZES)
            )

    await db.async_run(_import)
    # And the engine fixture's machine type, an admin change (entry 1).
    assert await db.async_run(db.count, "audit") == AUDIT_ROWS + 1
    assert await db.async_run(db.count, "sessions") == SESSION_ROWS

    client = await hass_ws_client(hass)

    async def audit_page(**msg: Any) -> dict[str, Any]:
        await client.send_json_auto_id({"type": "fluxilab/panel/admin/audit", **msg})
        reply = await client.receive_json()
        assert reply["success"], reply
        result: dict[str, Any] = reply["result"]
        return result

    newest = SESSION_ROWS + AUDIT_ROWS
    first = await audit_page(limit=200)
    assert [e["entry_id"] for e in first["audit"]] == list(
        range(newest, newest - 200, -1)
    )
    second = await audit_page(limit=200, before=first["next"])
    assert second["audit"][0]["entry_id"] == newest - 200
    device = await audit_page(limit=50, device_id="device-7", kind="routing")
    assert len(device["audit"]) == 50
    assert all(
        e["device_id"] == "device-7" and e["kind"] == "routing" for e in device["audit"]
    )
    # Every 150th row is device-7's routing (i % 50 == 7 and i % 3 == 0).
    ids = [e["entry_id"] - SESSION_ROWS for e in device["audit"]]
    assert all(i % 50 == 7 and i % 3 == 0 for i in ids)
    assert ids == sorted(ids, reverse=True)
    assert ids[0] - ids[-1] == 150 * 49

    http = await hass_client()
    response = await http.get(
        "/api/fluxilab/usage.csv",
        params={
            "start": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(START)),
            "end": time.strftime(
                "%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(START + YEAR + 86400)
            ),
        },
    )
    assert response.status == 200
    reader = csv.DictReader(io.StringIO(await response.text()))
    count = 0
    for count, row in enumerate(reader, 1):  # noqa: B007  # the count is the point
        pass
    assert count == SESSION_ROWS
    assert row["session_id"] == f"s{SESSION_ROWS}"
    assert row["member_name"] == f"Member {SESSION_ROWS % 200}"
