"""Who is in the lab, for the panel and the services (the fire list).

The list names people, so it goes only to those who need it: staff and admins (and
automations); everyone else sees the count only (``FIRE_LIST`` in permissions.py). Entity attributes never carry names (the recorder would keep them):
the occupancy sensor shows the count alone.
"""

from __future__ import annotations

from dataclasses import replace
import time
from typing import Any

from homeassistant.components import websocket_api
from homeassistant.core import HomeAssistant, callback
import probatio as vol

from custom_components.fluxilab.access.admin_audit import settings_changes
from custom_components.fluxilab.access.engine import ACCESS_ENGINE, AccessEngine
from custom_components.fluxilab.access.errors import AccessValidationError
from custom_components.fluxilab.access.permissions import (
    Scope,
    require_permission,
    websocket_caller,
)
from custom_components.fluxilab.access.presence import CheckOut
from custom_components.fluxilab.const import DOMAIN

MAX_CHECKIN_EXPIRY_HOURS = 7 * 24


def occupancy(engine: AccessEngine, now: float | None = None) -> dict[str, Any]:
    """Return the fire list: count and who is present, oldest arrival first."""
    present = engine.presence.present_members(time.time() if now is None else now)
    return {
        "count": len(present),
        "members": [
            p.as_dict() for p in sorted(present, key=lambda p: (p.since, p.name))
        ],
    }


@callback
def async_check_in(engine: AccessEngine, member: dict[str, Any]) -> None:
    """Check a member in without a card (service); refuse inactive or present ones."""
    now = time.time()
    view = engine.members.known(member["id"])
    if not view.active:
        raise AccessValidationError("member_inactive", member=view.id)
    if engine.presence.checked_in(view.id, now):
        raise AccessValidationError("already_checked_in", member=view.id)
    engine.presence.async_check_in(view, now)


@callback
def async_check_out(engine: AccessEngine, member: dict[str, Any]) -> None:
    """Check a member out without a card (service)."""
    now = time.time()
    view = engine.members.known(member["id"])
    if not engine.presence.checked_in(view.id, now):
        raise AccessValidationError("not_checked_in", member=view.id)
    engine.presence.async_check_out(view, now, CheckOut.SERVICE)


@require_permission
@websocket_api.websocket_command({vol.Required("type"): f"{DOMAIN}/occupancy/list"})
@callback
def ws_occupancy_list(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Send the fire list to admins and staff, the count alone to everyone else."""
    engine = hass.data[ACCESS_ENGINE]
    result = occupancy(engine)
    if websocket_caller(hass, connection).scope(msg["type"]) is not Scope.ANY:
        result = {"count": result["count"]}
    connection.send_result(msg["id"], result)


@require_permission
@websocket_api.websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/occupancy/settings",
        vol.Optional("checkin_expiry_hours"): vol.All(
            vol.Coerce(int), vol.Range(min=1, max=MAX_CHECKIN_EXPIRY_HOURS)
        ),
    }
)
@websocket_api.async_response
async def ws_occupancy_settings(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Show or change (lab managers) after how many hours a check-in expires."""
    engine = hass.data[ACCESS_ENGINE]
    if "checkin_expiry_hours" in msg:
        with settings_changes(engine):
            engine.history.data["settings"] = replace(
                engine.history.data["settings"],
                checkin_expiry_hours=msg["checkin_expiry_hours"],
            )
        engine.history.async_changed()
    settings = engine.history.data["settings"]
    connection.send_result(
        msg["id"], {"checkin_expiry_hours": settings.checkin_expiry_hours}
    )


@callback
def async_setup_presence_websocket(hass: HomeAssistant) -> None:
    """Register fluxilab/occupancy/list and fluxilab/occupancy/settings."""
    websocket_api.async_register_command(hass, ws_occupancy_list)
    websocket_api.async_register_command(hass, ws_occupancy_settings)
