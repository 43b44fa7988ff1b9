"""Websocket commands of lapsing authorizations (access/lapsing.py)."""

from __future__ import annotations

from typing import Any

from homeassistant.components import websocket_api
from homeassistant.core import HomeAssistant, callback
from homeassistant.util import dt as dt_util
import probatio as vol

from custom_components.fluxilab.access.engine import ACCESS_ENGINE, AccessEngine
from custom_components.fluxilab.access.errors import AccessValidationError
from custom_components.fluxilab.access.permissions import (
    require_permission,
)
from custom_components.fluxilab.access.roles import member_of_user
from custom_components.fluxilab.const import DOMAIN

# Websocket commands --------------------------------------------------------------------------------


def _engine(hass: HomeAssistant) -> AccessEngine:
    return hass.data[ACCESS_ENGINE]


@callback
def async_setup_lapsing_websocket(hass: HomeAssistant) -> None:
    """Register ``fluxilab/lapsing/list|renew|mine``."""
    websocket_api.async_register_command(hass, ws_lapsing_list)
    websocket_api.async_register_command(hass, ws_lapsing_renew)
    websocket_api.async_register_command(hass, ws_lapsing_mine)


@require_permission
@websocket_api.websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/lapsing/list",
        vol.Optional("days"): vol.All(int, vol.Range(min=0, max=3650)),
    }
)
@websocket_api.async_response
async def ws_lapsing_list(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """List lapsing and lapsed authorizations (lab managers)."""
    engine = _engine(hass)
    connection.send_result(
        msg["id"],
        {
            "authorizations": [
                lapse.as_wire()
                for lapse in engine.lapsing.lapsing(dt_util.utcnow(), msg.get("days"))
            ],
            "notice_days": engine.lapsing.notice_days,
        },
    )


@require_permission
@websocket_api.websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/lapsing/renew",
        vol.Required("authorization_id"): str,
    }
)
@websocket_api.async_response
async def ws_lapsing_renew(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Renew an authorization: its months start again now (lab managers)."""
    engine = _engine(hass)
    if msg["authorization_id"] not in engine.authorizations.data:
        raise AccessValidationError(
            "unknown_authorization", authorization=msg["authorization_id"]
        )
    auth = await engine.lapsing.async_renew(msg["authorization_id"])
    last_used = auth.last_used.isoformat() if auth.last_used else None
    connection.send_result(msg["id"], {"last_used": last_used})


@require_permission
@websocket_api.websocket_command({vol.Required("type"): f"{DOMAIN}/lapsing/mine"})
@callback
def ws_lapsing_mine(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """List the caller's own authorizations with their lapse dates."""
    engine = _engine(hass)
    member = member_of_user(connection.user.id, engine.members.members())
    connection.send_result(
        msg["id"],
        {
            "authorizations": [
                own.as_wire() for own in engine.lapsing.of_member(member.id)
            ]
            if member
            else [],
            "notice_days": engine.lapsing.notice_days,
        },
    )
