"""Maintenance interventions' doors: the list per device and its CSV.

- ``fluxilab/panel/admin/maintenance_log``: a device's interventions (or every
  device's), newest first, a page at a time (``before``/``next`` as the audit's);
- ``GET /api/fluxilab/maintenance.csv?device_id=..``: the same as CSV, every page.

An intervention is the audit entry maintenance registration writes (kind
``maintenance``, access/maintenance.py): who (member id; the name as the member is
named now), when, the usage hours then, the hours since the one before, the plan's
interval then and the note. Both doors need the right of the audit log
(``USAGE_DATA`` in access/permissions.py). Registering one is
``panel/admin/record_maintenance`` / ``fluxilab.record_maintenance`` (with ``note``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web
from homeassistant.components import websocket_api
from homeassistant.components.http import KEY_HASS, KEY_HASS_USER, HomeAssistantView
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import config_validation as cv
import probatio as vol

from custom_components.fluxilab.access import maintenance
from custom_components.fluxilab.access.engine import ACCESS_ENGINE
from custom_components.fluxilab.access.errors import AccessValidationError
from custom_components.fluxilab.access.permissions import (
    NotPermitted,
    caller_for_user,
    require_permission,
)
from custom_components.fluxilab.const import DOMAIN
from custom_components.fluxilab.history_db import AuditQuery

if TYPE_CHECKING:
    from custom_components.fluxilab.access.engine import AccessEngine

OPERATION: Final = f"{DOMAIN}/panel/admin/maintenance_log"
CSV_URL: Final = f"/api/{DOMAIN}/maintenance.csv"
MAX_ROWS: Final = 500
"""Interventions in one page of the list."""
CSV_BATCH: Final = 500
MAX_PARAMETER: Final = 255


def _names(engine: AccessEngine) -> tuple[dict[str, str], dict[str, str]]:
    members = {m["id"]: str(m["name"]) for m in engine.members.data.values()}
    devices = {
        device_id: device.entry.title or device_id
        for device_id, device in engine.devices.items()
    }
    return members, devices


async def async_interventions(
    engine: AccessEngine,
    device_id: str | None,
    *,
    before: int | None = None,
    limit: int = MAX_ROWS,
) -> tuple[list[dict[str, Any]], int | None]:
    """Return a page of interventions, newest first, and the next page's cursor."""
    entries = await engine.history.async_audit_page(
        AuditQuery(
            device_id=device_id, kind=maintenance.KIND, before=before, limit=limit + 1
        )
    )
    members, devices = _names(engine)
    rows = [
        maintenance.intervention_row(entry, members, devices)
        for entry in entries[:limit]
    ]
    more = len(entries) > limit
    return rows, (entries[limit - 1].entry_id if more else None)


async def async_interventions_csv(
    engine: AccessEngine, device_id: str | None
) -> AsyncIterator[str]:
    """Yield the interventions' CSV: the header, then a page at a time."""
    yield maintenance.intervention_csv_header()
    before: int | None = None
    while True:
        rows, before = await async_interventions(
            engine, device_id, before=before, limit=CSV_BATCH
        )
        if rows:
            yield maintenance.intervention_csv_rows(rows)
        if before is None:
            return


class MaintenanceCsvView(HomeAssistantView):
    """Stream the maintenance interventions (of one device) as CSV."""

    url = CSV_URL
    name = f"api:{DOMAIN}:maintenance_csv"
    requires_auth = True

    async def get(self, request: web.Request) -> web.StreamResponse:
        """Check the caller's right and the parameters, then stream the CSV."""
        hass = request.app[KEY_HASS]
        if (engine := hass.data.get(ACCESS_ENGINE)) is None:
            return self.json_message("not ready", HTTPStatus.SERVICE_UNAVAILABLE)
        caller = caller_for_user(
            request[KEY_HASS_USER], engine.members.members(), engine.roles.typed()
        )
        try:
            caller.require(OPERATION)
        except NotPermitted:
            return self.json_message("not permitted", HTTPStatus.FORBIDDEN)
        params = request.query
        if any(len(value) > MAX_PARAMETER for value in params.values()):
            return self.json_message("parameter too long", HTTPStatus.BAD_REQUEST)
        device_id = params.get("device_id") or None
        if device_id is not None and engine.device(device_id) is None:
            return self.json_message("unknown device", HTTPStatus.NOT_FOUND)
        safe = "".join(
            c if c.isascii() and (c.isalnum() or c in "-_") else "_"
            for c in f"fluxilab-maintenance-{device_id or 'all'}"
        )
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/csv; charset=utf-8",
                "Content-Disposition": f'attachment; filename="{safe}.csv"',
                "Cache-Control": "no-store",
            }
        )
        await response.prepare(request)
        async for chunk in async_interventions_csv(engine, device_id):
            await response.write(chunk.encode())
        await response.write_eof()
        return response


@require_permission
@websocket_api.websocket_command(
    {
        vol.Required("type"): OPERATION,
        vol.Optional("device_id"): vol.All(cv.string, vol.Length(max=MAX_PARAMETER)),
        vol.Optional("before"): vol.All(vol.Coerce(int), vol.Range(min=1)),
        vol.Optional("limit", default=100): vol.All(
            vol.Coerce(int), vol.Range(min=1, max=MAX_ROWS)
        ),
    }
)
@websocket_api.async_response
async def ws_maintenance_log(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Answer a device's interventions (every device's without ``device_id``)."""
    engine: AccessEngine = hass.data[ACCESS_ENGINE]
    device_id = msg.get("device_id")
    if device_id is not None and engine.device(device_id) is None:
        raise AccessValidationError("unknown_device", device=device_id)
    rows, after = await async_interventions(
        engine, device_id, before=msg.get("before"), limit=msg["limit"]
    )
    connection.send_result(msg["id"], {"interventions": rows, "next": after})


@callback
def async_setup_maintenance_api(hass: HomeAssistant) -> None:
    """Register the interventions' websocket command and CSV."""
    websocket_api.async_register_command(hass, ws_maintenance_log)
    if "http" in hass.config.components:
        hass.http.register_view(MaintenanceCsvView())
