"""Websocket commands of the interest queue (access/interest.py), and whom a call is for."""

from __future__ import annotations

import time
from typing import Any

from homeassistant.components import websocket_api
from homeassistant.core import HomeAssistant, callback
import probatio as vol

from custom_components.fluxilab.access.engine import ACCESS_ENGINE, AccessEngine
from custom_components.fluxilab.access.errors import AccessValidationError
from custom_components.fluxilab.access.permissions import (
    Scope,
    async_caller,
    require_permission,
    websocket_caller,
)
from custom_components.fluxilab.const import DOMAIN
from custom_components.fluxilab.device.port import AccessDevice

# Websocket commands ------------------------------------------------------------------------------


def _engine(hass: HomeAssistant) -> AccessEngine:
    return hass.data[ACCESS_ENGINE]


async def async_member_for(
    engine: AccessEngine, user_id: str | None, member_id: str | None, operation: str
) -> dict[str, Any]:
    """Return whom a call is for: the caller's own member, or (managers) any member.

    Raises Unauthorized when the caller may not ``operation`` for that member, and a
    translated error when nobody can be worked out.
    """
    caller = await async_caller(engine.hass, user_id)
    own = caller.member
    if member_id is None or caller.is_own(member_id):
        caller.require(operation, own=True)
        if own is None or (stored := engine.members.data.get(own.id)) is None:
            raise AccessValidationError("no_member")
        return stored
    caller.require(operation)
    if (member := engine.members.data.get(member_id)) is None:
        raise AccessValidationError("unknown_member", member=member_id)
    return member


def _followed(engine: AccessEngine, device_id: str) -> AccessDevice:
    if (device := engine.device(device_id)) is None:
        raise AccessValidationError("unknown_device", device=device_id)
    return device


@callback
def async_setup_interest_websocket(hass: HomeAssistant) -> None:
    """Register ``fluxilab/interest/subscribe|cancel|list``."""
    websocket_api.async_register_command(hass, ws_interest_subscribe)
    websocket_api.async_register_command(hass, ws_interest_cancel)
    websocket_api.async_register_command(hass, ws_interest_list)


@require_permission
@websocket_api.websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/interest/subscribe",
        vol.Required("fluxilab_device"): str,
        vol.Optional("member_id"): str,
    }
)
@websocket_api.async_response
async def ws_interest_subscribe(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Queue the caller (or, for managers, a member) for a busy device."""
    engine = _engine(hass)
    member = await async_member_for(
        engine, connection.user.id, msg.get("member_id"), msg["type"]
    )
    device = _followed(engine, msg["fluxilab_device"])
    connection.send_result(
        msg["id"], engine.interest.async_subscribe(member["id"], device).as_wire()
    )


@require_permission
@websocket_api.websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/interest/cancel",
        vol.Required("fluxilab_device"): str,
        vol.Optional("member_id"): str,
    }
)
@websocket_api.async_response
async def ws_interest_cancel(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Leave a device's queue."""
    engine = _engine(hass)
    member = await async_member_for(
        engine, connection.user.id, msg.get("member_id"), msg["type"]
    )
    cancelled = engine.interest.async_cancel(member["id"], msg["fluxilab_device"])
    connection.send_result(msg["id"], {"cancelled": cancelled})


@require_permission
@websocket_api.websocket_command({vol.Required("type"): f"{DOMAIN}/interest/list"})
@websocket_api.async_response
async def ws_interest_list(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """List the caller's own subscriptions; managers also get every queue."""
    engine = _engine(hass)
    caller = websocket_caller(hass, connection)
    own = caller.member
    result: dict[str, Any] = {
        "subscriptions": [
            place.as_wire() for place in engine.interest.of_member(own.id)
        ]
        if own
        else [],
    }
    if caller.scope(msg["type"]) is Scope.ANY:
        now = time.time()
        result["queues"] = {
            device_id: [
                place.as_wire() for place in engine.interest.of_device(device_id, now)
            ]
            for device_id in sorted(
                {s.device_id for s in engine.interest.subscriptions}
            )
        }
    connection.send_result(msg["id"], result)
