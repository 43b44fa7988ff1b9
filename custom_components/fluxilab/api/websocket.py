"""Websocket CRUD of members, machine types and authorizations.

Home Assistant's collection commands admit HA administrators only; ours admit whom
access/permissions.py names (``fluxilab/member/create`` ...), lab admins included.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, override

from homeassistant.components import websocket_api
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import collection
import probatio as vol

from custom_components.fluxilab.access import admin
from custom_components.fluxilab.access.admin import public_member
from custom_components.fluxilab.access.admin_audit import settings_changes
from custom_components.fluxilab.access.const import (
    MAX_SESSION_CHECK_INTERVAL,
    MIN_SESSION_CHECK_INTERVAL,
    SETTING_SHOW_MEMBER_NAMES,
)
from custom_components.fluxilab.access.engine import ACCESS_ENGINE
from custom_components.fluxilab.access.permissions import require_permission
from custom_components.fluxilab.access.store import (
    AUTHORIZATION_FIELDS,
    AUTHORIZATION_UPDATE_FIELDS,
    MACHINE_TYPE_FIELDS,
    MACHINE_TYPE_UPDATE_FIELDS,
    ROLE_FIELDS,
    ROLE_UPDATE_FIELDS,
    MemberCollection,
    RoleCollection,
)
from custom_components.fluxilab.const import DOMAIN

from .notify import OPS_SETTINGS, ops_changes


class _PublicMemberReplies(websocket_api.ActiveConnection):
    """A connection whose messages show members through ``public_member``.

    The collection's subscription sends stored items, which hold the PIN hash inside
    ``credentials``; this strips it on the way out.
    """

    def __init__(self, connection: websocket_api.ActiveConnection) -> None:
        # Deliberately no super().__init__: everything else goes to ``connection``.
        self._connection = connection

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)

    @override
    def send_result(self, msg_id: int, result: Any | None = None) -> None:
        if isinstance(result, dict) and "credentials" in result:
            result = public_member(result)
        self._connection.send_result(msg_id, result)

    @override
    def send_message(self, message: bytes | str | dict[str, Any]) -> None:
        """Strip hashes from the collection's change events (``/subscribe``)."""
        if isinstance(message, dict) and isinstance(message.get("event"), list):
            message = {
                **message,
                "event": [
                    {**change, "item": public_member(change["item"])}
                    if isinstance(change.get("item"), dict)
                    and "credentials" in change["item"]
                    else change
                    for change in message["event"]
                ],
            }
        self._connection.send_message(message)


class LabCollectionWebsocket(collection.DictStorageCollectionWebsocket):
    """A collection's commands, each admitted by the permission table."""

    @override
    @callback
    def async_setup(self, hass: HomeAssistant) -> None:
        """Register list, subscribe, create, update and delete (as HA does)."""
        item_id = {vol.Required(self.item_id_key): str}
        commands: dict[str, tuple[Any, dict[Any, Any]]] = {
            "list": (self.ws_list_item, {}),
            "create": (
                websocket_api.async_response(self.ws_create_item),
                self.create_schema,
            ),
            "subscribe": (self._ws_subscribe, {}),
            "update": (
                websocket_api.async_response(self.ws_update_item),
                {**self.update_schema, **item_id},
            ),
            "delete": (websocket_api.async_response(self.ws_delete_item), item_id),
        }
        for verb, (handler, fields) in commands.items():
            command = f"{self.api_prefix}/{verb}"
            websocket_api.async_register_command(
                hass,
                command,
                require_permission(handler),
                websocket_api.BASE_COMMAND_MESSAGE_SCHEMA.extend(
                    {**fields, vol.Required("type"): command}
                ),
            )


class MemberWebsocket(LabCollectionWebsocket):
    """Member commands: lists through ``public_member``; changes through admin.py."""

    def __init__(self, members: MemberCollection) -> None:
        """Take the door schemas of the admin operations."""
        super().__init__(
            members,
            f"{DOMAIN}/member",
            "member",
            admin.CREATE_FIELDS,
            admin.CHANGE_FIELDS,
        )
        self.members = members

    @override
    @callback
    def ws_list_item(
        self,
        hass: HomeAssistant,
        connection: websocket_api.ActiveConnection,
        msg: dict[str, Any],
    ) -> None:
        connection.send_result(
            msg["id"],
            [public_member(m) for m in self.storage_collection.async_items()],
        )

    @override
    @callback
    def _ws_subscribe(
        self,
        hass: HomeAssistant,
        connection: websocket_api.ActiveConnection,
        msg: dict[str, Any],
    ) -> None:
        # The collection's subscription sends stored items, PIN hashes included.
        super()._ws_subscribe(hass, _PublicMemberReplies(connection), msg)

    @override
    async def ws_create_item(
        self,
        hass: HomeAssistant,
        connection: websocket_api.ActiveConnection,
        msg: dict[str, Any],
    ) -> None:
        request = admin.MemberCreate.from_wire(msg)
        result = await admin.async_create_member(self.members, request)
        connection.send_result(msg["id"], result.as_wire())

    @override
    async def ws_update_item(
        self,
        hass: HomeAssistant,
        connection: websocket_api.ActiveConnection,
        msg: dict[str, Any],
    ) -> None:
        request = admin.MemberUpdate.from_wire(msg)
        result = await admin.async_update_member(self.members, request)
        connection.send_result(msg["id"], result.as_wire())

    @override
    async def ws_delete_item(
        self,
        hass: HomeAssistant,
        connection: websocket_api.ActiveConnection,
        msg: dict[str, Any],
    ) -> None:
        request = admin.MemberDelete.from_wire(msg, connection.user.id)
        await admin.async_delete_member(self.members, request)
        connection.send_result(msg["id"])


class AuthorizationWebsocket(LabCollectionWebsocket):
    """Authorization commands: grants and revocations through admin.py."""

    @override
    async def ws_create_item(
        self,
        hass: HomeAssistant,
        connection: websocket_api.ActiveConnection,
        msg: dict[str, Any],
    ) -> None:
        engine = hass.data[ACCESS_ENGINE]
        (auth,) = await admin.async_grant(engine, admin.Grant.from_wire(msg))
        connection.send_result(msg["id"], engine.authorizations.data[auth.id])

    @override
    async def ws_delete_item(
        self,
        hass: HomeAssistant,
        connection: websocket_api.ActiveConnection,
        msg: dict[str, Any],
    ) -> None:
        await admin.async_revoke(hass.data[ACCESS_ENGINE], msg[self.item_id_key])
        connection.send_result(msg["id"])


@callback
def async_setup_websocket(
    hass: HomeAssistant,
    members: MemberCollection,
    roles: RoleCollection,
    machine_types: collection.DictStorageCollection,
    authorizations: collection.DictStorageCollection,
) -> None:
    """Register the CRUD commands (fluxilab/member/list, .../create, ...)."""
    websocket_api.async_register_command(hass, ws_access_settings)
    MemberWebsocket(members).async_setup(hass)
    LabCollectionWebsocket(
        roles, f"{DOMAIN}/role", "role", ROLE_FIELDS, ROLE_UPDATE_FIELDS
    ).async_setup(hass)
    LabCollectionWebsocket(
        machine_types,
        f"{DOMAIN}/machine_type",
        "machine_type",
        MACHINE_TYPE_FIELDS,
        MACHINE_TYPE_UPDATE_FIELDS,
    ).async_setup(hass)
    AuthorizationWebsocket(
        authorizations,
        f"{DOMAIN}/authorization",
        "authorization",
        AUTHORIZATION_FIELDS,
        AUTHORIZATION_UPDATE_FIELDS,
    ).async_setup(hass)


@require_permission
@websocket_api.websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/access/settings",
        vol.Optional("session_check_interval"): vol.All(
            int,
            vol.Range(min=MIN_SESSION_CHECK_INTERVAL, max=MAX_SESSION_CHECK_INTERVAL),
        ),
        **OPS_SETTINGS,  # notify.py
        vol.Optional(SETTING_SHOW_MEMBER_NAMES): bool,  # privacy.py
    }
)
@callback
def ws_access_settings(
    hass: HomeAssistant,
    connection: websocket_api.ActiveConnection,
    msg: dict[str, Any],
) -> None:
    """Show the access engine's settings; change the stale-session interval."""
    engine = hass.data[ACCESS_ENGINE]
    with settings_changes(engine):
        if "session_check_interval" in msg:
            engine.async_set_session_check_interval(msg["session_check_interval"])
        if SETTING_SHOW_MEMBER_NAMES in msg:
            engine.async_set_show_member_names(msg[SETTING_SHOW_MEMBER_NAMES])
        if changed := ops_changes(msg):
            settings = engine.history.data["settings"]
            engine.history.data["settings"] = replace(settings, **changed)
            engine.history.async_changed()
    if "lapse_notice_days" in changed:
        hass.async_create_task(engine.lapsing.async_check())
    connection.send_result(msg["id"], engine.history.data["settings"].as_dict())
