"""Websocket commands behind the FluxiLab panel.

Every command works out who is calling from ``connection.user`` and the lab member
linked to that user, on every call: the panel hiding a button is not security. Who may
call which command is in access/permissions.py.

* A **manager** may open the admin console (``fluxilab/panel/admin/state``); whoever
  may see or open *any* device (``Scope.ANY``) sees and opens every device.
* Anyone else sees and opens only the devices their active member may use: an
  authorization for the device or its machine type that has not expired, a machine
  type without authorizations, or a role that bypasses them. A user without a linked
  member sees no device.

Opening a device issues a gateway token (``protocol.security.issue_token``, one
minute, single use at the gateway) for that user and device, fires
``fluxilab_routing`` on the bus and writes an audit entry.
"""

from __future__ import annotations

from dataclasses import replace
import time
from typing import TYPE_CHECKING, Any, Final

from homeassistant.auth.models import User
from homeassistant.components import websocket_api
from homeassistant.config_entries import SIGNAL_CONFIG_ENTRY_CHANGED, ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, Unauthorized
from homeassistant.helpers import (
    area_registry as ar,
    config_validation as cv,
    device_registry as dr,
    entity_registry as er,
)
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.event import async_call_later
from homeassistant.util import dt as dt_util
import probatio as vol
from yarl import URL

from custom_components.fluxilab.access import admin, gdpr, maintenance
from custom_components.fluxilab.access.admin import public_member
from custom_components.fluxilab.access.admin_audit import settings_changes
from custom_components.fluxilab.access.const import SETTING_SHOW_MEMBER_NAMES
from custom_components.fluxilab.access.credentials import mask_card
from custom_components.fluxilab.access.decisions import authorization_reason
from custom_components.fluxilab.access.engine import ACCESS_ENGINE, AccessEngine
from custom_components.fluxilab.access.errors import AccessValidationError
from custom_components.fluxilab.access.member_models import CredentialType
from custom_components.fluxilab.access.permissions import (
    Scope,
    caller_for_user,
    require_permission,
)
from custom_components.fluxilab.access.roles import Role, built_in_like, flags
from custom_components.fluxilab.access.store import CARD, MACHINE_TYPE_FIELDS
from custom_components.fluxilab.const import (
    ATTR_FLUXILAB_DEVICE,
    ATTR_MEMBER_ID,
    ATTR_MEMBER_NAME,
    CONF_FABOMATIC_MACHINE,
    DOMAIN,
    LOGGER,
)
from custom_components.fluxilab.history_db import AuditQuery, LiveAudit, SessionQuery
from custom_components.fluxilab.protocol.schemas import valid_ui_url
from custom_components.fluxilab.protocol.security import MAX_BACK_URL, issue_token

from .history import async_setup_history_api

if TYPE_CHECKING:
    from custom_components.fluxilab.device.port import AccessDevice

EVENT_ROUTING: Final = "fluxilab_routing"
"""A user was sent to a device's UI: fluxilab_device, device_id, member_id,
member_name, user_id."""
TOKEN_PARAM: Final = "fluxilab_token"  # noqa: S105  # the gateway's parameter name
TOKEN_LIFETIME: Final = 60
"""Seconds a routing token stays valid: enough to load the device UI."""
UPDATE_DELAY: Final = 0.5
"""Seconds over which device changes are batched into one subscription update."""
RECENT_SESSIONS: Final = 20
MAX_AUDIT_ROWS: Final = 500
MAX_HISTORY_ROWS: Final = 5_000
"""Sessions in one page of ``panel/admin/history`` (with ``limit``)."""
NOT_AVAILABLE: Final = "not_available"


# Who is calling ----------------------------------------------------------------------


class Caller:
    """The calling Home Assistant user, their member and what they may do."""

    def __init__(self, engine: AccessEngine, user: User) -> None:
        """Look the user's member up now: roles may have changed since last call."""
        self.user = user
        self.lab = caller_for_user(user, engine.members.members(), engine.roles.typed())
        self.member = self.lab.member
        self.manager = self.lab.scope(f"{DOMAIN}/panel/admin/state") is Scope.ANY
        self._engine = engine

    @property
    def role(self) -> str:
        """The role the gateway gets (the agent knows admin, staff and user only).

        The built-in role the member's ranks with, or admin for HA admins.
        """
        if self.member is not None:
            return built_in_like(flags(self.member, self._engine.roles.typed())).value
        return Role.ADMIN.value if self.manager else Role.USER.value

    def may_use(self, device: AccessDevice, operation: str) -> bool:
        """Return True if this user may reach ``device`` through ``operation``."""
        if (scope := self.lab.scope(operation)) is Scope.ANY:
            return True
        if scope is None or self.member is None:
            return False
        member = self.member
        if member is None or not member.active:
            return False
        reason = authorization_reason(
            member,
            self._engine.authorizations.typed_of_member(member.id),
            device.device_id,
            self._engine.machine_type_of(device),
            dt_util.utcnow(),
            role=self._engine.roles.flags(member.role),
            check_window=False,
        )
        return reason.value == "granted"


def _engine(hass: HomeAssistant) -> AccessEngine:
    if (engine := hass.data.get(ACCESS_ENGINE)) is None:
        raise HomeAssistantError(
            translation_domain=DOMAIN, translation_key="access_engine_missing"
        )
    return engine


def _caller(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection
) -> tuple[AccessEngine, Caller]:
    engine = _engine(hass)
    return engine, Caller(engine, connection.user)


# What the panel shows ------------------------------------------------------------------


def ui_url(device: AccessDevice) -> str | None:
    """Return the device UI's address an admin pinned (never the announced one)."""
    return device.ui_url


def gateway_fingerprint(device: AccessDevice) -> str | None:
    """Return the SHA-256 fingerprint of the gateway's certificate, if announced.

    The announce passed ``ANNOUNCE_SCHEMA``, which checks the field's format.
    """
    announce = device.announce
    return announce.gateway_fingerprint if announce is not None else None


def _area_name(hass: HomeAssistant, device: AccessDevice) -> str | None:
    registry_entry = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, device.device_id), device.entry.entry_id
    )
    area_id = registry_entry.area_id if registry_entry is not None else None
    if area_id is not None and (area := ar.async_get(hass).async_get_area(area_id)):
        return area.name
    return device.announce.area if device.announce is not None else None


def _entity_id(
    entities: er.EntityRegistry, device: AccessDevice, key: str
) -> str | None:
    """Return the entity of one of ``device``'s values, whichever platform has it."""
    unique_id = f"{device.device_id}_{key}"
    for platform in ("sensor", "binary_sensor"):
        if entity_id := entities.async_get_entity_id(platform, DOMAIN, unique_id):
            return entity_id
    return None


def device_status(
    hass: HomeAssistant, engine: AccessEngine, device: AccessDevice
) -> dict[str, Any]:
    """Return the live status of one device as the panel shows it."""
    machine_type = engine.machine_types.data.get(device.machine_type_id or "")
    entities = er.async_get(hass)
    telemetry = [
        {
            "key": channel.key,
            "name": channel.name or channel.key,
            "unit": channel.unit,
            "value": device.values.get(channel.key),
            # The channel's sensor, whose recorded history the sparklines plot.
            "entity_id": _entity_id(entities, device, channel.key),
        }
        for channel in device.enabled_channels
    ]
    announce = device.announce
    return {
        "device_id": device.device_id,
        "name": device.entry.title
        or (announce.name if announce is not None else None)
        or device.device_id,
        "kind": announce.kind if announce is not None else None,
        "area": _area_name(hass, device),
        "machine_type": machine_type["name"] if machine_type else None,
        "machine_type_id": machine_type["id"] if machine_type else None,
        "online": device.online,
        "in_use": device.in_use,
        "member_name": device.member_name,
        "maintenance_due": device.maintenance_due,
        "hours_to_maintenance": device.hours_to_maintenance,
        "usage_hours": device.usage_hours,
        "blocked": device.blocked,
        "paired": device.keys is not None,
        # A Fab-O-Matic board never pairs: the panel shows no "Not paired" for it.
        "board": CONF_FABOMATIC_MACHINE in device.entry.data,
        # The secure link (link.py): "broken" while the device's messages are refused.
        "link": device.link.state.value,
        "has_ui": ui_url(device) is not None,
        # The gateway's TLS certificate, for users to compare with the browser's.
        "gateway_fingerprint": gateway_fingerprint(device),
        "telemetry": telemetry,
        # The interlock's limits, shown beside the live values they apply to.
        "safety_limits": list(machine_type.get("safety_limits") or [])
        if machine_type
        else [],
        # Telemetry rules: busy from a channel, maintenance conditions' progress.
        "busy": engine.telemetry_rules.is_busy(device.device_id),
        # Who uses it as every HA user may see it (the show_member_names setting).
        "current_user_entity_id": _entity_id(entities, device, "current_user"),
        "maintenance_conditions": [
            condition.as_wire()
            for condition in engine.telemetry_rules.conditions(device)
        ],
    }


def lab_view(
    hass: HomeAssistant, engine: AccessEngine, caller: Caller, operation: str
) -> dict[str, Any]:
    """Return the devices ``caller`` may see, grouped by area, and who they are."""
    areas: dict[str, list[dict[str, Any]]] = {}
    for device in sorted(engine.devices.values(), key=lambda d: d.device_id):
        if not caller.may_use(device, operation):
            continue
        status = device_status(hass, engine, device)
        areas.setdefault(status["area"] or "", []).append(status)
    member = caller.member
    return {
        "user": {"name": caller.user.name, "is_admin": caller.user.is_admin},
        "member": (
            {"id": member.id, "name": member.name, "role": member.role}
            if member is not None
            else None
        ),
        "manager": caller.manager,
        # Lab staff's part of the panel (outages, resolving reports), by the table.
        "staff": caller.lab.scope(f"{DOMAIN}/problem/resolve") is Scope.ANY,
        "areas": [
            {"area": name or None, "devices": sorted(devices, key=lambda d: d["name"])}
            for name, devices in sorted(
                areas.items(), key=lambda item: (not item[0], item[0])
            )
        ],
    }


# Everyone ------------------------------------------------------------------------------


@require_permission
@websocket_api.websocket_command({vol.Required("type"): f"{DOMAIN}/panel/lab"})
@websocket_api.async_response
async def ws_lab(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Return the devices the caller may use, grouped by area, with live status."""
    engine, caller = _caller(hass, connection)
    connection.send_result(msg["id"], lab_view(hass, engine, caller, msg["type"]))


@require_permission
@websocket_api.websocket_command({vol.Required("type"): f"{DOMAIN}/panel/subscribe"})
@websocket_api.async_response
async def ws_subscribe(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Send the lab view now and again whenever a visible device or the data changes.

    Changes are batched over half a second. The caller's rights are worked out again
    for every update, so a revoked authorization hides the device at once.
    """
    engine = _engine(hass)
    user = connection.user
    followed: dict[str, tuple[AccessDevice, CALLBACK_TYPE]] = {}
    timer: CALLBACK_TYPE | None = None

    @callback
    def _send(_now: Any = None) -> None:
        nonlocal timer
        timer = None
        _follow_devices()
        connection.send_message(
            websocket_api.event_message(
                msg["id"], lab_view(hass, engine, Caller(engine, user), msg["type"])
            )
        )

    @callback
    def _changed(*_args: Any) -> None:
        nonlocal timer
        if timer is None:
            timer = async_call_later(hass, UPDATE_DELAY, _send)

    @callback
    def _follow_devices() -> None:
        for device_id, (device, unsub) in list(followed.items()):
            if engine.devices.get(device_id) is not device:
                unsub()
                del followed[device_id]
        for device_id, device in engine.devices.items():
            if device_id not in followed:
                followed[device_id] = (device, _follow(device))

    @callback
    def _follow(device: AccessDevice) -> CALLBACK_TYPE:
        # The device's own state, and its telemetry (the view shows live values).
        unsubs = [
            device.async_add_listener(_changed),
            device.async_add_telemetry_listener(_changed),
        ]

        @callback
        def _unfollow() -> None:
            while unsubs:
                unsubs.pop()()

        return _unfollow

    @callback
    def _entry_changed(_change: Any, entry: ConfigEntry) -> None:
        if entry.domain == DOMAIN:
            _changed()

    async def _collection_changed(*_args: Any) -> None:
        _changed()

    unsubs = [
        async_dispatcher_connect(hass, SIGNAL_CONFIG_ENTRY_CHANGED, _entry_changed),
        engine.members.async_add_listener(_collection_changed),
        engine.machine_types.async_add_listener(_collection_changed),
        engine.authorizations.async_add_listener(_collection_changed),
    ]

    @callback
    def _unsubscribe() -> None:
        nonlocal timer
        if timer is not None:
            timer()
            timer = None
        for unsub in unsubs:
            unsub()
        for _device, unsub in followed.values():
            unsub()
        followed.clear()

    connection.subscriptions[msg["id"]] = _unsubscribe
    connection.send_result(msg["id"])
    _send()


@require_permission
@websocket_api.websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/panel/open",
        vol.Required("device_id"): vol.All(cv.string, vol.Length(min=1, max=64)),
        # The panel page the person opens the device from: the device's page links
        # back to it. Only an http(s) address is signed into the token.
        vol.Optional("back"): vol.All(cv.string, vol.Length(max=MAX_BACK_URL)),
    }
)
@websocket_api.async_response
async def ws_open(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Return a one-minute signed URL into a device's UI, through its gateway."""
    engine, caller = _caller(hass, connection)
    device = engine.device(msg["device_id"])
    if device is None or not caller.may_use(device, msg["type"]):
        # The same answer for a device that does not exist and one the user may not
        # use: the panel learns nothing about devices outside the user's lab.
        LOGGER.warning(
            "User %s was refused a routing token for %s",
            connection.user.name,
            msg["device_id"],
        )
        raise Unauthorized(context=connection.context(msg))
    if device.keys is None:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="device_not_paired",
            translation_placeholders={"device": device.device_id},
        )
    # Checked again here, whatever stored it: the browser is sent there with a
    # token, so only an http(s) address with a host will do.
    if (base := ui_url(device)) is None or not valid_ui_url(base):
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="no_device_ui",
            translation_placeholders={"device": device.device_id},
        )
    member = caller.member
    subject = member.id if member is not None else f"ha:{caller.user.id}"
    name = member.name if member is not None else caller.user.name or subject
    now = time.time()
    token = issue_token(
        device.keys,
        device_id=device.device_id,
        subject=subject,
        role=caller.role,
        name=name,
        lifetime=TOKEN_LIFETIME,
        now=now,
        back=back if valid_ui_url(back := msg.get("back")) else None,
    )
    url = URL(base).update_query({TOKEN_PARAM: token})
    engine.history.add_audit(
        LiveAudit.from_entry(
            {
                "ts": now,
                "kind": "routing",
                "device_id": device.device_id,
                "member_id": member.id if member is not None else None,
                "card": None,
                "reason": None,
                "buffered": False,
                "user_id": caller.user.id,
            }
        )
    )
    hass.bus.async_fire(
        EVENT_ROUTING,
        {
            ATTR_FLUXILAB_DEVICE: device.device_id,
            ATTR_MEMBER_ID: member.id if member is not None else None,
            ATTR_MEMBER_NAME: engine.privacy.name(member),
            "user_id": caller.user.id,
        },
        context=connection.context(msg),
    )
    LOGGER.info(
        "Routing user %s (%s) to the UI of %s",
        caller.user.id,
        caller.role,
        device.device_id,
    )
    connection.send_result(
        msg["id"], {"url": str(url), "expires": int(now) + TOKEN_LIFETIME}
    )


@require_permission
@websocket_api.websocket_command({vol.Required("type"): f"{DOMAIN}/panel/profile"})
@websocket_api.async_response
async def ws_profile(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Return the caller's member, masked cards, authorizations and recent sessions."""
    engine, caller = _caller(hass, connection)
    result: dict[str, Any] = {
        "user": {"name": caller.user.name, "is_admin": caller.user.is_admin},
        "manager": caller.manager,
        "member": None,
        "authorizations": [],
        "sessions": [],
    }
    if (member := caller.member) is None:
        connection.send_result(msg["id"], result)
        return
    now = dt_util.utcnow()
    view = member
    result["member"] = {
        "id": member.id,
        "name": member.name,
        "email": member.email,
        "role": member.role,
        "active": member.active,
        "cards": [mask_card(card) for card in view.cards()],
        "credentials": [c.as_wire(mask_card) for c in view.credentials],
        "has_pin": view.pin_hash(active_only=False) is not None,
        "pin_must_change": view.pin_must_change,
    }
    for auth in engine.authorizations.of_member(member.id):
        expires = auth.get("expires")
        moment = dt_util.parse_datetime(expires) if expires else None
        target_type = engine.machine_types.data.get(auth.get("machine_type_id") or "")
        result["authorizations"].append(
            {
                "id": auth["id"],
                "machine_type_id": auth.get("machine_type_id"),
                "device_id": auth.get("device_id"),
                "target": target_type["name"]
                if target_type
                else auth.get("device_id") or auth.get("machine_type_id"),
                "expires": expires,
                "expired": moment is not None and now >= moment,
                "window_start": auth.get("window_start"),
                "window_end": auth.get("window_end"),
            }
        )
    # From the database: memory holds only the lab's newest sessions (history.py).
    try:
        own = await engine.history.async_sessions(
            SessionQuery(member_id=member.id, limit=RECENT_SESSIONS, newest_first=True)
        )
    except HomeAssistantError:
        # The database is unreachable (a repair says so): what memory still holds.
        own = [
            session.as_record()
            for session in reversed(engine.history.data["sessions"])
            if session.member_id == member.id
        ][:RECENT_SESSIONS]
    result["sessions"] = [
        {
            "session_id": session.session_id,
            "device_id": session.device_id,
            "start": session.start,
            "end": session.end,
            "duration": session.duration,
            # Started at the device while the hub was unreachable, sent later
            # (a session stored before the mark existed was not: None).
            "buffered": bool(session.buffered),
        }
        for session in own
    ]
    connection.send_result(msg["id"], result)


@require_permission
@websocket_api.websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/panel/change_pin",
        vol.Optional("current_pin"): vol.All(str, vol.Length(max=1024)),
        vol.Required("new_pin"): vol.All(str, vol.Length(max=1024)),
    }
)
@websocket_api.async_response
async def ws_change_pin(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Change the caller's own device PIN/password (``change_pin``).

    The current PIN (an admin's initial one, or the member's) is required; wrong ones
    are counted and back off (store.py ``async_change_pin``).
    """
    engine, caller = _caller(hass, connection)
    if (member := caller.member) is None:
        raise HomeAssistantError(translation_domain=DOMAIN, translation_key="no_member")
    await engine.members.async_change_pin(
        member.id, msg.get("current_pin", ""), msg["new_pin"]
    )
    connection.send_result(msg["id"])


# Admin console -------------------------------------------------------------------------


@require_permission
@websocket_api.websocket_command({vol.Required("type"): f"{DOMAIN}/panel/admin/state"})
@websocket_api.async_response
async def ws_admin_state(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Members, lab roles, machine types, authorizations, devices, unknown cards, users."""
    engine = _engine(hass)
    users = [
        {"id": user.id, "name": user.name, "is_admin": user.is_admin}
        for user in await hass.auth.async_get_users()
        if not user.system_generated and user.is_active
    ]
    connection.send_result(
        msg["id"],
        {
            "members": [public_member(m) for m in engine.members.async_items()],
            "roles": engine.roles.async_items(),
            "machine_types": engine.machine_types.async_items(),
            "authorizations": engine.authorizations.async_items(),
            "devices": [
                device_status(hass, engine, device)
                for device in sorted(engine.devices.values(), key=lambda d: d.device_id)
            ],
            "unknown_cards": [
                card.as_dict()
                for card in sorted(
                    engine.history.data["unknown_cards"].values(), key=lambda c: -c.ts
                )
            ],
            "users": sorted(users, key=lambda u: u["name"] or ""),
            "settings": engine.history.data["settings"].as_dict(),
        },
    )


@require_permission
@websocket_api.websocket_command(
    {vol.Required("type"): f"{DOMAIN}/panel/admin/member_create", **admin.CREATE_FIELDS}
)
@websocket_api.async_response
async def ws_member_create(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Create a member (with an initial PIN if given): admin.py."""
    request = admin.MemberCreate.from_wire(msg)
    result = await admin.async_create_member(_engine(hass).members, request)
    connection.send_result(msg["id"], {"member_id": result.member_id})


@require_permission
@websocket_api.websocket_command(
    {vol.Required("type"): f"{DOMAIN}/panel/admin/member_update", **admin.UPDATE_FIELDS}
)
@websocket_api.async_response
async def ws_member_update(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Edit a member: role, active flag, name, email, linked user, cards (no PIN)."""
    request = admin.MemberUpdate.from_wire(msg)
    await admin.async_update_member(_engine(hass).members, request)
    connection.send_result(msg["id"])


@require_permission
@websocket_api.websocket_command(
    {vol.Required("type"): f"{DOMAIN}/panel/admin/member_delete", **admin.DELETE_FIELDS}
)
@websocket_api.async_response
async def ws_member_delete(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Delete a member, never the caller's own: admin.py."""
    request = admin.MemberDelete.from_wire(msg, connection.user.id)
    await admin.async_delete_member(_engine(hass).members, request)
    connection.send_result(msg["id"])


@require_permission
@websocket_api.websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/panel/admin/assign_card",
        vol.Required("member_id"): cv.string,
        vol.Required("card"): CARD,
    }
)
@websocket_api.async_response
async def ws_assign_card(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Give a member a card (typically one seen recently as unknown)."""
    engine = _engine(hass)
    member = engine.members.data.get(msg["member_id"])
    if member is None:
        raise AccessValidationError("unknown_member", member=msg["member_id"])
    await engine.members.async_add_credential(
        member["id"], CredentialType.CARD, card=msg["card"]
    )
    connection.send_result(msg["id"])


@require_permission
@websocket_api.websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/panel/admin/grant",
        vol.Required("member_ids"): vol.All([cv.string], vol.Length(min=1, max=500)),
        vol.Exclusive("machine_type_id", "target"): cv.string,
        vol.Exclusive("device_id", "target"): cv.string,
        vol.Optional("expires"): vol.Any(None, cv.string),
        vol.Optional("trainer"): cv.boolean,
    }
)
@websocket_api.async_response
async def ws_grant(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Grant one machine type (or device) to many members at once: admin.py.

    Everything is checked before the first authorization is written.
    """
    # The panel's form sends an empty expiry and an unticked trainer: neither is set.
    wire = {k: v for k, v in msg.items() if k not in ("expires", "trainer")}
    if msg.get("expires"):
        wire["expires"] = msg["expires"]
    if msg.get("trainer"):
        wire["trainer"] = True
    created = await admin.async_grant(_engine(hass), admin.Grant.from_wire(wire))
    connection.send_result(
        msg["id"], {"authorization_ids": [auth.id for auth in created]}
    )


@require_permission
@websocket_api.websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/panel/admin/revoke",
        vol.Required("authorization_id"): cv.string,
    }
)
@websocket_api.async_response
async def ws_revoke(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Remove an authorization: admin.py."""
    await admin.async_revoke(_engine(hass), msg["authorization_id"])
    connection.send_result(msg["id"])


async def _admin_device(engine: AccessEngine, device_id: str) -> AccessDevice:
    if (device := await engine.async_device(device_id)) is None:
        raise AccessValidationError("unknown_device", device=device_id)
    return device


@require_permission
@websocket_api.websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/panel/admin/block",
        vol.Required("device_id"): cv.string,
        vol.Required("blocked"): cv.boolean,
    }
)
@websocket_api.async_response
async def ws_block(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Block or unblock new sessions on a device."""
    device = await _admin_device(_engine(hass), msg["device_id"])
    await device.async_set_blocked(msg["blocked"])
    connection.send_result(msg["id"])


@require_permission
@websocket_api.websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/panel/admin/record_maintenance",
        vol.Required("device_id"): cv.string,
        vol.Optional("note"): vol.Any(
            None, vol.All(cv.string, vol.Length(max=maintenance.MAX_NOTE))
        ),
    }
)
@websocket_api.async_response
async def ws_record_maintenance(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Record maintenance done on a device, by the caller's member if linked."""
    engine, caller = _caller(hass, connection)
    device = await _admin_device(engine, msg["device_id"])
    member_id = caller.member.id if caller.member is not None else None
    await engine.async_record_maintenance(device, member_id, msg.get("note"))
    connection.send_result(msg["id"])


def _period(msg: dict[str, Any]) -> tuple[float | None, float | None]:
    start, end = msg.get("start"), msg.get("end")
    if start is not None and end is not None and start >= end:
        raise AccessValidationError("invalid_period")
    return (
        dt_util.as_utc(start).timestamp() if start else None,
        dt_util.as_utc(end).timestamp() if end else None,
    )


@require_permission
@websocket_api.websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/panel/admin/history",
        vol.Optional("member_id"): cv.string,
        vol.Optional("device_id"): cv.string,
        vol.Optional("start"): cv.datetime,
        vol.Optional("end"): cv.datetime,
        vol.Optional("limit"): vol.All(
            vol.Coerce(int), vol.Range(min=1, max=MAX_HISTORY_ROWS)
        ),
        vol.Optional("offset", default=0): vol.All(vol.Coerce(int), vol.Range(min=0)),
        vol.Optional("order", default="asc"): vol.In(["asc", "desc"]),
        vol.Optional("csv", default=True): cv.boolean,
    }
)
@websocket_api.async_response
async def ws_history(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Sessions matching the filters, as rows and as CSV (paged in SQL if limited).

    Without ``limit`` every matching session comes back (the export); the panel
    pages with ``limit``/``offset`` and gets ``next_offset`` (None on the last page).
    A whole period's CSV streams from ``/api/fluxilab/usage.csv`` (UsageCsvView).
    """
    engine = _engine(hass)
    start, end = _period(msg)
    limit = msg.get("limit")
    export = await gdpr.async_usage_export(
        engine.history,
        SessionQuery(
            member_id=msg.get("member_id"),
            device_id=msg.get("device_id"),
            start=start,
            end=end,
            offset=msg["offset"],
            limit=None if limit is None else limit + 1,
            newest_first=msg["order"] == "desc",
        ),
        with_csv=False,
    )
    sessions = export.sessions[:limit] if limit is not None else export.sessions
    result = gdpr.UsageExport(sessions).as_wire()
    if limit is not None:
        more = len(export.sessions) > limit
        result["next_offset"] = msg["offset"] + limit if more else None
    if msg["csv"]:
        result["csv"] = gdpr.usage_csv_header() + gdpr.usage_csv_rows(sessions)
    connection.send_result(msg["id"], result)


@require_permission
@websocket_api.websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/panel/admin/audit",
        vol.Optional("device_id"): cv.string,
        vol.Optional("member_id"): cv.string,
        vol.Optional("kind"): vol.All(cv.string, vol.Length(max=64)),
        vol.Optional("buffered"): cv.boolean,
        vol.Optional("start"): cv.datetime,
        vol.Optional("end"): cv.datetime,
        vol.Optional("before"): vol.All(vol.Coerce(int), vol.Range(min=1)),
        vol.Optional("limit", default=200): vol.All(
            vol.Coerce(int), vol.Range(min=1, max=MAX_AUDIT_ROWS)
        ),
    }
)
@websocket_api.async_response
async def ws_audit(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Return the newest audit entries matching the filters, a page at a time.

    ``before`` is the cursor: pass the ``next`` of the previous page (the
    ``entry_id`` below which the next page starts); ``next`` is None on the last.
    ``buffered``: only (true) or none (false) of what devices recorded offline.
    """
    engine = _engine(hass)
    start, end = _period(msg)
    limit = msg["limit"]
    rows = await engine.history.async_audit_page(
        AuditQuery(
            device_id=msg.get("device_id"),
            member_id=msg.get("member_id"),
            kind=msg.get("kind"),
            buffered=msg.get("buffered"),
            start=start,
            end=end,
            before=msg.get("before"),
            limit=limit + 1,
        )
    )
    more = len(rows) > limit
    rows = rows[:limit]
    connection.send_result(
        msg["id"],
        {
            "audit": [entry.as_wire() for entry in rows],
            "next": rows[-1].entry_id if more else None,
        },
    )


@require_permission
@websocket_api.websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/panel/admin/machine_type_save",
        vol.Optional("machine_type_id"): cv.string,
        **{vol.Optional(key.schema): object for key in MACHINE_TYPE_FIELDS},
    }
)
@websocket_api.async_response
async def ws_machine_type_save(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Create a machine type, or change one (its fields are validated by the store)."""
    engine = _engine(hass)
    data = {k: v for k, v in msg.items() if k not in ("id", "type", "machine_type_id")}
    if (type_id := msg.get("machine_type_id")) is None:
        item = await engine.machine_types.async_create_item(data)
    elif type_id not in engine.machine_types.data:
        raise AccessValidationError("unknown_machine_type", machine_type=type_id)
    else:
        item = await engine.machine_types.async_update_item(type_id, data)
    connection.send_result(msg["id"], {"machine_type_id": item["id"]})


@require_permission
@websocket_api.websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/panel/admin/machine_type_delete",
        vol.Required("machine_type_id"): cv.string,
    }
)
@websocket_api.async_response
async def ws_machine_type_delete(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Delete a machine type that no authorization refers to."""
    engine = _engine(hass)
    type_id = msg["machine_type_id"]
    if type_id not in engine.machine_types.data:
        raise AccessValidationError("unknown_machine_type", machine_type=type_id)
    if any(
        a.get("machine_type_id") == type_id for a in engine.authorizations.async_items()
    ):
        raise AccessValidationError(
            "invalid_data", error=f"authorizations still refer to {type_id}"
        )
    await engine.machine_types.async_delete_item(type_id)
    connection.send_result(msg["id"])


RETENTION_DAYS = vol.All(vol.Coerce(int), vol.Range(min=1, max=36500))


@require_permission
@websocket_api.websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/panel/admin/retention",
        vol.Optional("usage_retention_days"): RETENTION_DAYS,
        vol.Optional("unknown_card_retention_days"): RETENTION_DAYS,
        vol.Optional(SETTING_SHOW_MEMBER_NAMES): cv.boolean,
    }
)
@websocket_api.async_response
async def ws_retention(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Set the retention periods and apply them now (GDPR purge); names on entities."""
    engine = _engine(hass)
    retention = {
        key: msg[key]
        for key in ("usage_retention_days", "unknown_card_retention_days")
        if key in msg
    }
    with settings_changes(engine):
        settings = engine.history.data["settings"]
        engine.history.data["settings"] = replace(settings, **retention)
        if SETTING_SHOW_MEMBER_NAMES in msg:
            engine.async_set_show_member_names(msg[SETTING_SHOW_MEMBER_NAMES])
    result = await engine.async_purge()
    connection.send_result(
        msg["id"], {"settings": engine.history.data["settings"].as_dict(), **result}
    )


@require_permission
@websocket_api.websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/panel/admin/member_export",
        vol.Required("member_id"): cv.string,
    }
)
@websocket_api.async_response
async def ws_member_export(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Everything held about one member (GDPR access request)."""
    engine = _engine(hass)
    member = engine.members.data.get(msg["member_id"])
    if member is None:
        raise AccessValidationError("unknown_member", member=msg["member_id"])
    connection.send_result(
        msg["id"],
        await engine.async_member_export(member["id"]),
    )


COMMANDS: Final = (
    ws_lab,
    ws_subscribe,
    ws_open,
    ws_profile,
    ws_change_pin,
    ws_admin_state,
    ws_member_create,
    ws_member_update,
    ws_member_delete,
    ws_assign_card,
    ws_grant,
    ws_revoke,
    ws_block,
    ws_record_maintenance,
    ws_history,
    ws_audit,
    ws_machine_type_save,
    ws_machine_type_delete,
    ws_retention,
    ws_member_export,
)


@callback
def async_setup_panel_api(hass: HomeAssistant) -> None:
    """Register the panel's websocket commands (and the history's)."""
    for command in COMMANDS:
        websocket_api.async_register_command(hass, command)
    async_setup_history_api(hass)
