"""Websocket commands of notifications (access/notify.py): own target, settings."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Final

from homeassistant.components import websocket_api
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
import probatio as vol

from custom_components.fluxilab.access.admin_audit import settings_changes
from custom_components.fluxilab.access.engine import ACCESS_ENGINE, AccessEngine
from custom_components.fluxilab.access.member_models import Member
from custom_components.fluxilab.access.notify import (
    NOTIFY_SERVICES,
    SETTING_ADMIN_NOTIFY_SERVICES,
    check_own_target,
    member_services,
    mobile_app_phones,
    notify_service,
)
from custom_components.fluxilab.access.permissions import (
    Scope,
    require_permission,
    websocket_caller,
)
from custom_components.fluxilab.access.roles import member_of_user
from custom_components.fluxilab.const import DOMAIN


def _engine(hass: HomeAssistant) -> AccessEngine | None:
    return hass.data.get(ACCESS_ENGINE)


# Websocket commands: a member chooses where their own notifications go -----------------------------


def _caller(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection
) -> Member | None:
    """Return the member linked to the calling user."""
    if (engine := _engine(hass)) is None:
        return None
    return member_of_user(connection.user.id, engine.members.members())


@callback
def async_setup_notify_websocket(hass: HomeAssistant) -> None:
    """Register ``fluxilab/notify/*`` websocket commands."""
    websocket_api.async_register_command(hass, ws_notify_get)
    websocket_api.async_register_command(hass, ws_notify_set)
    websocket_api.async_register_command(hass, ws_notify_settings)


@require_permission
@websocket_api.websocket_command({vol.Required("type"): f"{DOMAIN}/notify/get"})
@callback
def ws_notify_get(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Show the caller's own target and the phones it would otherwise use."""
    engine = _engine(hass)
    if engine is None or (member := _caller(hass, connection)) is None:
        connection.send_error(msg["id"], websocket_api.ERR_NOT_FOUND, "No member")
        return
    phones = mobile_app_phones(hass, connection.user.id)
    connection.send_result(
        msg["id"],
        {
            "notify_service": member.notify_service,
            "phone_names": phones,
            "phones": list(phones),
            "services": member_services(hass, member),
        },
    )


@require_permission
@websocket_api.websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/notify/set",
        vol.Required("notify_service"): vol.Any(None, notify_service),
    }
)
@websocket_api.async_response
async def ws_notify_set(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Set (or clear, with null) the caller's own notification target."""
    engine = _engine(hass)
    if engine is None or (member := _caller(hass, connection)) is None:
        connection.send_error(msg["id"], websocket_api.ERR_NOT_FOUND, "No member")
        return
    if websocket_caller(hass, connection).scope(msg["type"]) is not Scope.ANY:
        check_own_target(hass, member, msg["notify_service"])
    updated = await engine.members.async_update_item(
        member.id, {"notify_service": msg["notify_service"]}
    )
    connection.send_result(
        msg["id"],
        {
            "notify_service": updated.get("notify_service"),
            "services": member_services(hass, engine.members.known(updated["id"])),
        },
    )


OPS_SETTINGS: Final[dict[Any, Any]] = {
    vol.Optional(SETTING_ADMIN_NOTIFY_SERVICES): NOTIFY_SERVICES,
    # lapsing.py and interest.py read these two
    vol.Optional("lapse_notice_days"): vol.All(int, vol.Range(min=1, max=365)),
    vol.Optional("interest_expiry_hours"): vol.All(int, vol.Range(min=1, max=168)),
}
"""Settings of notifications, lapse notices and the interest queue."""


def ops_changes(msg: dict[str, Any]) -> dict[str, Any]:
    """Return the OPS_SETTINGS a door's message changes, as LabSettings fields.

    The schema checked them; the notify services become the field's tuple.
    """
    keys = [str(marker.schema) for marker in OPS_SETTINGS]
    changed = {key: msg[key] for key in keys if key in msg}
    if SETTING_ADMIN_NOTIFY_SERVICES in changed:
        changed[SETTING_ADMIN_NOTIFY_SERVICES] = tuple(
            changed[SETTING_ADMIN_NOTIFY_SERVICES]
        )
    return changed


@require_permission
@websocket_api.websocket_command(
    {vol.Required("type"): f"{DOMAIN}/notify/settings", **OPS_SETTINGS}
)
@websocket_api.async_response
async def ws_notify_settings(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Show and change the notification settings (lab managers, the panel)."""
    if (engine := _engine(hass)) is None:
        raise HomeAssistantError(
            translation_domain=DOMAIN, translation_key="access_engine_missing"
        )
    keys = [str(marker.schema) for marker in OPS_SETTINGS]
    if changed := ops_changes(msg):
        with settings_changes(engine):
            settings = engine.history.data["settings"]
            engine.history.data["settings"] = replace(settings, **changed)
        engine.history.async_changed()
        if "lapse_notice_days" in changed:
            hass.async_create_task(engine.lapsing.async_check())
    stored = engine.history.data["settings"].as_dict()
    connection.send_result(msg["id"], {key: stored.get(key) for key in keys})
