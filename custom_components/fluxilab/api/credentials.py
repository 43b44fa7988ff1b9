"""Websocket commands for members' credentials (``fluxilab/credentials/*``).

Who may do what is in access/permissions.py: admins list, add, update and remove
anyone's credentials, and reset a member's PIN (``reset_pin``: a random initial PIN,
shown once in the reply). A member lists their own (cards masked) and deactivates
their own, for a lost card; reactivating, renaming, adding and removing stay with the
admins. No command adds or sets a PIN: the member changes it
(``fluxilab/panel/change_pin``). Who calls is worked out on every call. PIN hashes
are never sent.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components import websocket_api
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import config_validation as cv
import probatio as vol

from custom_components.fluxilab.access.credentials import (
    CARD,
    LABEL,
    credential_of,
    mask_card,
)
from custom_components.fluxilab.access.engine import ACCESS_ENGINE, AccessEngine
from custom_components.fluxilab.access.errors import AccessValidationError
from custom_components.fluxilab.access.member_models import CredentialType, Member
from custom_components.fluxilab.access.permissions import (
    Scope,
    require_permission,
    websocket_caller,
)
from custom_components.fluxilab.const import DOMAIN

CREDENTIAL_ID = vol.All(cv.string, vol.Length(min=1, max=64))
PIN = vol.All(str, vol.Length(max=1024))


async def _resolve(
    hass: HomeAssistant,
    connection: websocket_api.ActiveConnection,
    msg: dict[str, Any],
    *,
    own_allowed: bool,
) -> tuple[AccessEngine, Member, bool]:
    """Return the engine, the target member and whether the caller manages.

    Without a ``member_id`` the target is the caller's own member. A caller allowed
    only their own (permissions.py) gets Unauthorized unless ``own_allowed`` and the
    target is their own.
    """
    engine = hass.data[ACCESS_ENGINE]
    caller = websocket_caller(hass, connection)
    member_id = msg.get("member_id") or caller.member_id
    scope = caller.require(
        msg["type"],
        own=own_allowed and caller.is_own(member_id),
        context=connection.context(msg),
    )
    manager = scope is Scope.ANY
    if member_id is None:
        raise AccessValidationError("no_member")
    return engine, engine.members.known(member_id), manager


@require_permission
@websocket_api.websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/credentials/list",
        vol.Optional("member_id"): cv.string,
    }
)
@websocket_api.async_response
async def ws_list(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """List a member's credentials: anyone's for admins, masked own for members."""
    _engine, member, manager = await _resolve(hass, connection, msg, own_allowed=True)
    connection.send_result(
        msg["id"],
        {
            "member_id": member.id,
            "credentials": [
                c.as_wire(None if manager else mask_card) for c in member.credentials
            ],
        },
    )


@require_permission
@websocket_api.websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/credentials/add",
        vol.Required("member_id"): cv.string,
        vol.Required("credential_type"): vol.In([t.value for t in CredentialType]),
        vol.Exclusive("card", "secret"): CARD,
        # Accepted only to be refused with a reason (pin_by_reset)
        vol.Exclusive("pin", "secret"): PIN,
        vol.Optional("label"): LABEL,
    }
)
@websocket_api.async_response
async def ws_add(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Give a member another card (admins); a PIN comes from ``reset_pin`` only."""
    engine, member, _manager = await _resolve(hass, connection, msg, own_allowed=False)
    added = await engine.members.async_add_credential(
        member.id,
        CredentialType(msg["credential_type"]),
        card=msg.get("card"),
        label=msg.get("label"),
    )
    connection.send_result(msg["id"], added.as_wire())


@require_permission
@websocket_api.websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/credentials/reset_pin",
        vol.Required("member_id"): cv.string,
    }
)
@websocket_api.async_response
async def ws_reset_pin(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Issue a member a random initial PIN (admins); the reply shows it, once."""
    engine, member, _manager = await _resolve(hass, connection, msg, own_allowed=False)
    pin, credential = await engine.members.async_reset_pin(member.id)
    connection.send_result(
        msg["id"],
        {
            "member_id": member.id,
            "pin": pin,
            "credential": credential.as_wire(),
        },
    )


@require_permission
@websocket_api.websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/credentials/update",
        vol.Optional("member_id"): cv.string,
        vol.Required("credential_id"): CREDENTIAL_ID,
        vol.Optional("label"): LABEL,
        vol.Optional("active"): cv.boolean,
    }
)
@websocket_api.async_response
async def ws_update(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Rename or (de)activate (admins); a member deactivates their own credential."""
    report_lost = msg.get("active") is False and "label" not in msg
    engine, member, manager = await _resolve(
        hass, connection, msg, own_allowed=report_lost
    )
    credential_of(member, msg["credential_id"])
    changed = await engine.members.async_update_credential(
        member.id,
        msg["credential_id"],
        label=msg.get("label"),
        active=msg.get("active"),
    )
    connection.send_result(msg["id"], changed.as_wire(None if manager else mask_card))


@require_permission
@websocket_api.websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/credentials/remove",
        vol.Required("member_id"): cv.string,
        vol.Required("credential_id"): CREDENTIAL_ID,
    }
)
@websocket_api.async_response
async def ws_remove(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Take a credential away from a member (admins)."""
    engine, member, _manager = await _resolve(hass, connection, msg, own_allowed=False)
    credential_of(member, msg["credential_id"])
    await engine.members.async_remove_credential(member.id, msg["credential_id"])
    connection.send_result(msg["id"])


@callback
def async_setup_credentials_websocket(hass: HomeAssistant) -> None:
    """Register the credential commands."""
    for command in (ws_list, ws_add, ws_reset_pin, ws_update, ws_remove):
        websocket_api.async_register_command(hass, command)
