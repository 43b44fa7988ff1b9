"""Services of the access-control engine (registered once from async_setup).

Who may call which service is decided in access/permissions.py (``fluxilab.<name>``):
a caller with no right to a service is refused before anything else; a handler whose
service members may call for themselves keeps such a caller to their own member. A
refused caller gets Unauthorized; bad data gets a translated ServiceValidationError and
changes nothing (every check runs before the first write).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import Unauthorized
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.util import dt as dt_util
import probatio as vol

from custom_components.fluxilab.access import admin, admin_audit, gdpr, maintenance
from custom_components.fluxilab.access.const import SessionEnd
from custom_components.fluxilab.access.credentials import LABEL, credential_of
from custom_components.fluxilab.access.engine import ACCESS_ENGINE, AccessEngine
from custom_components.fluxilab.access.errors import AccessValidationError
from custom_components.fluxilab.access.member_models import CredentialType
from custom_components.fluxilab.access.notify import check_own_target
from custom_components.fluxilab.access.permissions import Scope, async_caller
from custom_components.fluxilab.access.privacy import async_redact_service_calls
from custom_components.fluxilab.access.roles import member_of_user
from custom_components.fluxilab.access.store import CARD, ROLE_ID
from custom_components.fluxilab.const import DOMAIN, LOGGER
from custom_components.fluxilab.device.broker import (
    DEFAULT_BRIDGE_PORT,
    BridgeTarget,
    async_generate_broker_config,
)
from custom_components.fluxilab.device.fabomatic import (
    FABOMATIC_BOARDS,
    FabOMaticBoard,
)
from custom_components.fluxilab.history_db import SessionQuery
from custom_components.fluxilab.protocol.fabomatic import (
    CARD_UID_RE,
    BackendRequestType,
)
from custom_components.fluxilab.protocol.schemas import CommandArgs, CommandName

from .interest import async_member_for
from .occupancy import async_check_in, async_check_out, occupancy

if TYPE_CHECKING:
    from custom_components.fluxilab.device.port import AccessDevice

ATTR_MEMBER = "member_id"
ATTR_DEVICE = "device_id"

type Handler = Callable[
    [AccessEngine, ServiceCall], Coroutine[Any, Any, ServiceResponse]
]

MEMBER = vol.All(cv.string, vol.Length(min=1))
PIN = vol.All(cv.string, vol.Length(max=1024))
DEVICE = vol.All(cv.string, vol.Length(min=1))


def _engine(hass: HomeAssistant) -> AccessEngine:
    return hass.data[ACCESS_ENGINE]


def _member(engine: AccessEngine, member_id: str) -> dict[str, Any]:
    if (member := engine.members.data.get(member_id)) is None:
        raise AccessValidationError("unknown_member", member=member_id)
    return member


async def _device(engine: AccessEngine, ha_device_id: str) -> AccessDevice:
    """Resolve a Home Assistant device id (device selector) to a followed device.

    A device whose entry is being set up again (renamed, new options) is not
    followed for that moment: the action waits for it instead of failing.
    """
    entry = dr.async_get(engine.hass).async_get(ha_device_id)
    if entry is None:
        raise AccessValidationError("unknown_device", device=ha_device_id)
    for domain, device_id in entry.identifiers:
        if domain != DOMAIN:
            continue
        if (device := await engine.async_device(device_id)) is not None:
            return device
    raise AccessValidationError("unknown_device", device=ha_device_id)


async def _require(
    engine: AccessEngine, call: ServiceCall, *, own: bool = False
) -> Scope:
    """Return the caller's scope for this service, or raise Unauthorized.

    ``own``: the call reaches only the caller's own member.
    """
    caller = await async_caller(engine.hass, call.context.user_id)
    return caller.require(_operation(call), own=own, context=call.context)


def _operation(call: ServiceCall) -> str:
    """Return the service's name in the permission table (``fluxilab.add_member``)."""
    return f"{DOMAIN}.{call.service}"


async def _add_member(engine: AccessEngine, call: ServiceCall) -> ServiceResponse:
    request = admin.MemberCreate.from_wire(call.data)
    result = await admin.async_create_member(engine.members, request)
    return {"member_id": result.member_id}


async def _update_member(engine: AccessEngine, call: ServiceCall) -> ServiceResponse:
    """Admins edit profiles; a member edits their own and changes their own PIN.

    A PIN change (``change_pin``) gives the current PIN; an admin only resets PINs.
    """
    data = dict(call.data)
    member = _member(engine, data.pop(ATTR_MEMBER))
    own = member_of_user(call.context.user_id, engine.members.members())
    is_self = own is not None and own.id == member["id"]
    new_pin, current_pin = data.pop("pin", None), data.pop("current_pin", None)
    if (new_pin is not None or current_pin is not None) and not is_self:
        # Not even an admin sets another member's PIN after creation.
        raise Unauthorized(context=call.context)
    if not is_self or data.keys() - admin.OWN_PROFILE_FIELDS:
        # Beyond their profile (admin.py) only managers change a member: which Home
        # Assistant user a member is decides whose rights a login gets, the role
        # and the cards what the member may do.
        await _require(engine, call)
    elif "notify_service" in data and await _require(engine, call, own=True) is (
        Scope.OWN
    ):
        check_own_target(
            engine.hass, engine.members.known(member["id"]), data["notify_service"]
        )
    request = admin.MemberUpdate.from_wire({ATTR_MEMBER: member["id"], **data})
    if new_pin is not None:
        # The profile changes ride on the PIN change: checked as any update first.
        admin.check_update(engine.members, request)
        await engine.members.async_change_pin(
            member["id"], current_pin or "", new_pin, update_data=request.fields
        )
    elif current_pin is not None:
        raise AccessValidationError("credential_pin_missing")
    else:
        await admin.async_update_member(engine.members, request)
    return None


async def _reset_pin(engine: AccessEngine, call: ServiceCall) -> ServiceResponse:
    """Issue a member a random initial PIN, shown once in the response (``reset_pin``)."""
    member = _member(engine, call.data[ATTR_MEMBER])
    pin, credential = await engine.members.async_reset_pin(member["id"])
    return {
        "member_id": member["id"],
        "credential_id": credential.id,
        "pin": pin,
        "must_change": True,
    }


async def _remove_member(engine: AccessEngine, call: ServiceCall) -> ServiceResponse:
    request = admin.MemberDelete.from_wire(call.data, call.context.user_id)
    await admin.async_delete_member(engine.members, request)
    return None


async def _set_member_role(engine: AccessEngine, call: ServiceCall) -> ServiceResponse:
    """One field of ``update_member``, kept as its own action."""
    await admin.async_update_member(
        engine.members, admin.MemberUpdate.from_wire(call.data)
    )
    return None


async def _set_member_active(
    engine: AccessEngine, call: ServiceCall
) -> ServiceResponse:
    """One field of ``update_member``, kept as its own action."""
    await admin.async_update_member(
        engine.members, admin.MemberUpdate.from_wire(call.data)
    )
    return None


async def _add_card(engine: AccessEngine, call: ServiceCall) -> ServiceResponse:
    member = _member(engine, call.data[ATTR_MEMBER])
    # A pseudonym (from an event or the logbook) names an unknown card seen.
    card = engine.resolve_card(call.data["card"], unknown=True)
    await engine.members.async_add_credential(
        member["id"], CredentialType.CARD, card=card
    )
    return None


async def _remove_card(engine: AccessEngine, call: ServiceCall) -> ServiceResponse:
    card = engine.resolve_card(call.data["card"], unknown=False)
    if (found := engine.members.card_holder(card)) is None:
        raise AccessValidationError("unknown_card", card=card)
    member, credential = found
    await engine.members.async_remove_credential(member.id, credential.id)
    return None


async def _assign_last_unknown_card(
    engine: AccessEngine, call: ServiceCall
) -> ServiceResponse:
    device = await _device(engine, call.data[ATTR_DEVICE])
    member = _member(engine, call.data[ATTR_MEMBER])
    if (seen := engine.history.last_unknown_card(device.device_id)) is None:
        raise AccessValidationError("no_unknown_card", device=device.device_id)
    await engine.members.async_add_credential(
        member["id"], CredentialType.CARD, card=seen.card
    )
    return {"card": seen.card}


# Lab operations: credentials


def _own_member(engine: AccessEngine, call: ServiceCall) -> dict[str, Any] | None:
    """Return the stored member linked to the calling user, if any."""
    own = member_of_user(call.context.user_id, engine.members.members())
    return None if own is None else engine.members.data.get(own.id)


def _is_own(engine: AccessEngine, call: ServiceCall, member: dict[str, Any]) -> bool:
    own = _own_member(engine, call)
    return own is not None and own["id"] == member["id"]


async def _add_credential(engine: AccessEngine, call: ServiceCall) -> ServiceResponse:
    """Add a card (admins); a PIN is refused: it comes from ``reset_pin`` only."""
    member = _member(engine, call.data[ATTR_MEMBER])
    kind = CredentialType(call.data["credential_type"])
    if kind is CredentialType.CARD and "pin" in call.data:
        raise AccessValidationError("credential_wrong_secret", type=kind.value)
    if kind is CredentialType.PIN and "card" in call.data:
        raise AccessValidationError("credential_wrong_secret", type=kind.value)
    card = call.data.get("card")
    added = await engine.members.async_add_credential(
        member["id"],
        kind,
        card=None if card is None else engine.resolve_card(card, unknown=True),
        label=call.data.get("label"),
    )
    return {"credential_id": added.id}


async def _update_credential(
    engine: AccessEngine, call: ServiceCall
) -> ServiceResponse:
    """Rename or (de)activate: admins; a member deactivates their own (lost) card."""
    member = _member(engine, call.data[ATTR_MEMBER])
    report_lost = (
        set(call.data) <= {ATTR_MEMBER, "credential_id", "active"}
        and call.data.get("active") is False
    )
    if not (report_lost and _is_own(engine, call, member)):
        await _require(engine, call)
    credential_of(engine.members.known(member["id"]), call.data["credential_id"])
    await engine.members.async_update_credential(
        member["id"],
        call.data["credential_id"],
        label=call.data.get("label"),
        active=call.data.get("active"),
    )
    return None


async def _remove_credential(
    engine: AccessEngine, call: ServiceCall
) -> ServiceResponse:
    member = _member(engine, call.data[ATTR_MEMBER])
    credential_of(engine.members.known(member["id"]), call.data["credential_id"])
    await engine.members.async_remove_credential(
        member["id"], call.data["credential_id"]
    )
    return None


async def _list_credentials(engine: AccessEngine, call: ServiceCall) -> ServiceResponse:
    """List a member's credentials (never a hash): their own, or any for admins."""
    if ATTR_MEMBER in call.data:
        member = _member(engine, call.data[ATTR_MEMBER])
    elif (own := _own_member(engine, call)) is not None:
        member = own
    else:
        raise AccessValidationError("no_member")
    if not _is_own(engine, call, member):
        await _require(engine, call)
    view = engine.members.known(member["id"])
    return {
        "member_id": view.id,
        "credentials": [credential.as_wire() for credential in view.credentials],
    }


async def _grant_authorization(
    engine: AccessEngine, call: ServiceCall
) -> ServiceResponse:
    data = dict(call.data)
    if ATTR_DEVICE in data:
        data[ATTR_DEVICE] = (await _device(engine, data[ATTR_DEVICE])).device_id
    (auth,) = await admin.async_grant(engine, admin.Grant.from_wire(data))
    return {"authorization_id": auth.id}


async def _revoke_authorization(
    engine: AccessEngine, call: ServiceCall
) -> ServiceResponse:
    await admin.async_revoke(engine, call.data["authorization_id"])
    return None


async def _block_device(engine: AccessEngine, call: ServiceCall) -> ServiceResponse:
    await (await _device(engine, call.data[ATTR_DEVICE])).async_set_blocked(True)
    return None


async def _unblock_device(engine: AccessEngine, call: ServiceCall) -> ServiceResponse:
    await (await _device(engine, call.data[ATTR_DEVICE])).async_set_blocked(False)
    return None


async def _record_maintenance(
    engine: AccessEngine, call: ServiceCall
) -> ServiceResponse:
    device = await _device(engine, call.data[ATTR_DEVICE])
    member_id = call.data.get(ATTR_MEMBER)
    if member_id is not None:
        _member(engine, member_id)
    await engine.async_record_maintenance(device, member_id, call.data.get("note"))
    return None


PERIOD_RANGE = (0.05, 86400.0)
"""Seconds between two readings of a channel the agent takes (agent.py _configure)."""
ACCESS_TIMEOUT_RANGE = (0.1, 60.0)
"""Seconds the agent waits for the hub's answer before deciding offline."""


async def _configure_device(engine: AccessEngine, call: ServiceCall) -> ServiceResponse:
    """Send an agent new settings (telemetry periods, access timeout); audited."""
    device = await _device(engine, call.data[ATTR_DEVICE])
    periods: dict[str, float] = call.data.get("telemetry_periods", {})
    timeout: float | None = call.data.get("access_timeout")
    if not periods and timeout is None:
        raise AccessValidationError("nothing_to_configure", device=device.device_id)
    if device.keys is None:
        # Boards have no settings FluxiLab may change; an unpaired agent cannot
        # take a signed command.
        raise AccessValidationError("device_not_configurable", device=device.device_id)
    announced = {channel.key: channel for channel in device.enabled_channels}
    for key in periods:
        if key not in announced:
            raise AccessValidationError(
                "unknown_channel", channel=key, device=device.device_id
            )
    args: CommandArgs = {}
    changes: dict[str, admin_audit.FieldChange] = {}
    if periods:
        args["periods"] = periods
        for key, period in periods.items():
            changes[f"period_{key}"] = admin_audit.change(announced[key].period, period)
    if timeout is not None:
        args["access_timeout"] = timeout
        changes["access_timeout"] = admin_audit.change(None, timeout)
    await device.async_send_command(CommandName.CONFIG, args)
    engine.admin_audit.record(
        "device",
        admin_audit.UPDATED,
        changes,
        device_id=device.device_id,
        target_id=device.device_id,
        label=device.entry.title or device.device_id,
    )
    return None


async def _force_sync(engine: AccessEngine, call: ServiceCall) -> ServiceResponse:
    if ATTR_DEVICE in call.data:
        devices = [await _device(engine, call.data[ATTR_DEVICE])]
    else:
        devices = list(engine.devices.values())
    for device in devices:
        await engine.sync.async_sync(device, force=True)
    return None


async def _online_board(engine: AccessEngine, ha_device_id: str) -> FabOMaticBoard:
    """Return the running transport of a Fab-O-Matic board that is online."""
    device = await _device(engine, ha_device_id)
    board = engine.hass.data.get(FABOMATIC_BOARDS, {}).get(device.device_id)
    label = device.entry.title or device.device_id
    if board is None:
        raise AccessValidationError("not_a_board", device=label)
    if not device.online:
        raise AccessValidationError("board_offline", device=label)
    return board


async def _remote_start(engine: AccessEngine, call: ServiceCall) -> ServiceResponse:
    """Ask a board to start a session for a member, as if they swiped their card.

    The board then asks checkuser with the card, so the engine decides the start
    like any other (authorization, block, maintenance, bookings).
    """
    board = await _online_board(engine, call.data[ATTR_DEVICE])
    member = _member(engine, call.data[ATTR_MEMBER])
    cards = engine.members.known(member["id"]).cards()
    card = next((c for c in cards if CARD_UID_RE.match(c)), None)
    if card is None:
        raise AccessValidationError("member_without_board_card", member=member["id"])
    if engine.history.open_sessions(board.device.device_id):
        raise AccessValidationError(
            "board_in_use", device=board.device.entry.title or board.device.device_id
        )
    await board.async_request(BackendRequestType.START, card)
    # The card stays out of the log (personal data); the member id names it.
    LOGGER.info(
        "Asked Fab-O-Matic board %s to start a session for member %s",
        board.machine_id,
        member["id"],
    )
    return {"machine_id": board.machine_id, "member_id": member["id"]}


async def _remote_stop(engine: AccessEngine, call: ServiceCall) -> ServiceResponse:
    """Ask a board to end its running session, as if its member swiped again."""
    board = await _online_board(engine, call.data[ATTR_DEVICE])
    running = [
        (session, session.card)
        for session in engine.history.open_sessions(board.device.device_id)
        if session.card is not None
    ]
    if not running:
        raise AccessValidationError(
            "board_no_session",
            device=board.device.entry.title or board.device.device_id,
        )
    session, card = running[-1]
    await board.async_request(BackendRequestType.STOP, card)
    LOGGER.info(
        "Asked Fab-O-Matic board %s to stop session %s",
        board.machine_id,
        session.session_id,
    )
    return {
        "machine_id": board.machine_id,
        "session_id": session.session_id,
        "member_id": session.member_id,
    }


async def _close_session(engine: AccessEngine, call: ServiceCall) -> ServiceResponse:
    session_id = call.data["session_id"]
    session = engine.history.session(session_id)
    if session is None or session.end is not None:
        raise AccessValidationError("unknown_session", session=session_id)
    if (device := engine.device(session.device_id)) is None:
        raise AccessValidationError("unknown_device", device=session.device_id)
    engine.close_session(device, session, SessionEnd.SERVICE)
    return None


async def _export_usage(engine: AccessEngine, call: ServiceCall) -> ServiceResponse:
    member_id = call.data.get(ATTR_MEMBER)
    if member_id is not None:
        _member(engine, member_id)
    device_id = None
    if ATTR_DEVICE in call.data:
        device_id = (await _device(engine, call.data[ATTR_DEVICE])).device_id
    start, end = call.data.get("start"), call.data.get("end")
    if start is not None and end is not None and start >= end:
        raise AccessValidationError("invalid_period")
    export = await gdpr.async_usage_export(
        engine.history,
        SessionQuery(
            member_id=member_id,
            device_id=device_id,
            start=start.timestamp() if start else None,
            end=end.timestamp() if end else None,
        ),
    )
    return export.as_wire()


async def _export_member_data(
    engine: AccessEngine, call: ServiceCall
) -> ServiceResponse:
    member = _member(engine, call.data[ATTR_MEMBER])
    return await engine.async_member_export(member["id"])


async def _purge(engine: AccessEngine, call: ServiceCall) -> ServiceResponse:
    retention = {
        key: call.data[key]
        for key in ("usage_retention_days", "unknown_card_retention_days")
        if key in call.data
    }
    with admin_audit.settings_changes(engine):
        settings = engine.history.data["settings"]
        engine.history.data["settings"] = replace(settings, **retention)
    return dict(await engine.async_purge())


async def _generate_broker_config(
    engine: AccessEngine, call: ServiceCall
) -> ServiceResponse:
    """Broker files hold every device's login: Home Assistant administrators only."""
    data = call.data
    target = None
    if "bridge_host" in data:
        target = BridgeTarget(
            host=data["bridge_host"],
            port=data["bridge_port"],
            tls=data["bridge_tls"],
            cafile=data.get("bridge_cafile"),
            certfile=data.get("bridge_certfile"),
            keyfile=data.get("bridge_keyfile"),
        )
    return await async_generate_broker_config(
        engine.hass,
        folder=data.get("folder"),
        device=data.get(ATTR_DEVICE),
        password=data.get("password"),
        bridge_site=data.get("bridge_site"),
        bridge_devices=data.get("bridge_devices"),
        bridge_target=target,
        remove_bridge=data.get("remove_bridge"),
    )


# Lab operations: presence (occupancy, check-in without a card)


def _presence_member(engine: AccessEngine, call: ServiceCall) -> dict[str, Any]:
    """Return the member named (a manager's call), or the caller's own member."""
    own = _own_member(engine, call)
    if (member_id := call.data.get(ATTR_MEMBER)) is None:
        if own is None:
            raise AccessValidationError("no_member_linked")
        return own
    return _member(engine, member_id)


async def _check_in(engine: AccessEngine, call: ServiceCall) -> ServiceResponse:
    """Check in: managers anyone, a member themselves."""
    member = _presence_member(engine, call)
    if not _is_own(engine, call, member):
        await _require(engine, call)
    async_check_in(engine, member)
    return None


async def _check_out(engine: AccessEngine, call: ServiceCall) -> ServiceResponse:
    """Check out: managers anyone, a member themselves."""
    member = _presence_member(engine, call)
    if not _is_own(engine, call, member):
        await _require(engine, call)
    async_check_out(engine, member)
    return None


async def _occupancy(engine: AccessEngine, call: ServiceCall) -> ServiceResponse:
    """Return the fire list (staff, admins, automations); the count to others."""
    found = occupancy(engine)
    if await _require(engine, call, own=True) is Scope.OWN:
        return {"count": found["count"]}
    return found


# Lab operations: lapsing qualifications


async def _lapsing(engine: AccessEngine, call: ServiceCall) -> ServiceResponse:
    """List authorizations that lapsed or lapse within the notice period (``days``)."""
    found = engine.lapsing.lapsing(dt_util.utcnow(), call.data.get("days"))
    return {"authorizations": [lapse.as_wire() for lapse in found]}


async def _renew_authorization(
    engine: AccessEngine, call: ServiceCall
) -> ServiceResponse:
    auth_id = call.data["authorization_id"]
    if auth_id not in engine.authorizations.data:
        raise AccessValidationError("unknown_authorization", authorization=auth_id)
    update: dict[str, Any] = {}
    if "expires" in call.data:
        update["expires"] = call.data["expires"]
    auth = await engine.authorizations.async_update_item(auth_id, update)
    return {"authorization_id": auth_id, "last_used": auth["last_used"]}


# Lab operations: interest queue


async def _notify_when_free(engine: AccessEngine, call: ServiceCall) -> ServiceResponse:
    """Queue the caller's member (managers: anyone) for a busy device."""
    member = await async_member_for(
        engine, call.context.user_id, call.data.get(ATTR_MEMBER), _operation(call)
    )
    device = await _device(engine, call.data[ATTR_DEVICE])
    return engine.interest.async_subscribe(member["id"], device).as_wire()


async def _cancel_notify_when_free(
    engine: AccessEngine, call: ServiceCall
) -> ServiceResponse:
    member = await async_member_for(
        engine, call.context.user_id, call.data.get(ATTR_MEMBER), _operation(call)
    )
    device = await _device(engine, call.data[ATTR_DEVICE])
    return {"cancelled": engine.interest.async_cancel(member["id"], device.device_id)}


DAYS = vol.All(vol.Coerce(int), vol.Range(min=1, max=36500))

# name: (handler, schema fields, response); who may call it: access/permissions.py
SERVICES: dict[str, tuple[Handler, dict[Any, Any], SupportsResponse]] = {
    # Lab operations: presence (check_in/check_out check who may do what)
    "occupancy": (_occupancy, {}, SupportsResponse.ONLY),
    "check_in": (
        _check_in,
        {vol.Optional(ATTR_MEMBER): MEMBER},
        SupportsResponse.NONE,
    ),
    "check_out": (
        _check_out,
        {vol.Optional(ATTR_MEMBER): MEMBER},
        SupportsResponse.NONE,
    ),
    # Members: admin.py, whichever door (its schemas)
    "add_member": (_add_member, admin.CREATE_FIELDS, SupportsResponse.OPTIONAL),
    "update_member": (
        _update_member,
        {
            **admin.UPDATE_FIELDS,
            # change_pin: the member's own new PIN, with the current one
            vol.Optional("pin"): PIN,
            vol.Optional("current_pin"): PIN,
        },
        SupportsResponse.NONE,
    ),
    "reset_pin": (
        _reset_pin,
        {vol.Required(ATTR_MEMBER): MEMBER},
        SupportsResponse.ONLY,
    ),
    "remove_member": (_remove_member, admin.DELETE_FIELDS, SupportsResponse.NONE),
    "set_member_role": (
        _set_member_role,
        {
            vol.Required(ATTR_MEMBER): MEMBER,
            vol.Required("role"): ROLE_ID,  # a built-in or lab role (the store checks)
        },
        SupportsResponse.NONE,
    ),
    "set_member_active": (
        _set_member_active,
        {vol.Required(ATTR_MEMBER): MEMBER, vol.Required("active"): cv.boolean},
        SupportsResponse.NONE,
    ),
    "add_card": (
        _add_card,
        {vol.Required(ATTR_MEMBER): MEMBER, vol.Required("card"): CARD},
        SupportsResponse.NONE,
    ),
    "remove_card": (
        _remove_card,
        {vol.Required("card"): CARD},
        SupportsResponse.NONE,
    ),
    "assign_last_unknown_card": (
        _assign_last_unknown_card,
        {vol.Required(ATTR_DEVICE): DEVICE, vol.Required(ATTR_MEMBER): MEMBER},
        SupportsResponse.OPTIONAL,
    ),
    # Lab operations: credentials (each handler checks who may do what)
    "add_credential": (
        _add_credential,
        {
            vol.Required(ATTR_MEMBER): MEMBER,
            vol.Required("credential_type"): vol.In([t.value for t in CredentialType]),
            vol.Optional("card"): CARD,
            # Accepted only to be refused with a reason (pin_by_reset)
            vol.Optional("pin"): PIN,
            vol.Optional("label"): LABEL,
        },
        SupportsResponse.OPTIONAL,
    ),
    "update_credential": (
        _update_credential,
        {
            vol.Required(ATTR_MEMBER): MEMBER,
            vol.Required("credential_id"): vol.All(cv.string, vol.Length(min=1)),
            vol.Optional("label"): LABEL,
            vol.Optional("active"): cv.boolean,
        },
        SupportsResponse.NONE,
    ),
    "remove_credential": (
        _remove_credential,
        {
            vol.Required(ATTR_MEMBER): MEMBER,
            vol.Required("credential_id"): vol.All(cv.string, vol.Length(min=1)),
        },
        SupportsResponse.NONE,
    ),
    "list_credentials": (
        _list_credentials,
        {vol.Optional(ATTR_MEMBER): MEMBER},
        SupportsResponse.ONLY,
    ),
    "grant_authorization": (
        _grant_authorization,
        {
            vol.Required(ATTR_MEMBER): MEMBER,
            vol.Exclusive("machine_type_id", "target"): cv.string,
            vol.Exclusive(ATTR_DEVICE, "target"): DEVICE,
            vol.Optional("expires"): cv.datetime,
            vol.Inclusive("window_start", "window"): cv.time,
            vol.Inclusive("window_end", "window"): cv.time,
            vol.Optional("trainer"): cv.boolean,
            vol.Optional("last_used"): cv.datetime,
        },
        SupportsResponse.OPTIONAL,
    ),
    "revoke_authorization": (
        _revoke_authorization,
        {vol.Required("authorization_id"): cv.string},
        SupportsResponse.NONE,
    ),
    "block_device": (
        _block_device,
        {vol.Required(ATTR_DEVICE): DEVICE},
        SupportsResponse.NONE,
    ),
    "unblock_device": (
        _unblock_device,
        {vol.Required(ATTR_DEVICE): DEVICE},
        SupportsResponse.NONE,
    ),
    "record_maintenance": (
        _record_maintenance,
        {
            vol.Required(ATTR_DEVICE): DEVICE,
            vol.Optional(ATTR_MEMBER): MEMBER,
            vol.Optional("note"): vol.All(
                cv.string, vol.Length(max=maintenance.MAX_NOTE)
            ),
        },
        SupportsResponse.NONE,
    ),
    "configure_device": (
        _configure_device,
        {
            vol.Required(ATTR_DEVICE): DEVICE,
            vol.Optional("telemetry_periods"): vol.Schema(
                {
                    vol.All(cv.string, vol.Length(min=1, max=64)): vol.All(
                        vol.Coerce(float), vol.Range(*PERIOD_RANGE)
                    )
                }
            ),
            vol.Optional("access_timeout"): vol.All(
                vol.Coerce(float), vol.Range(*ACCESS_TIMEOUT_RANGE)
            ),
        },
        SupportsResponse.NONE,
    ),
    "force_sync": (
        _force_sync,
        {vol.Optional(ATTR_DEVICE): DEVICE},
        SupportsResponse.NONE,
    ),
    "remote_start": (
        _remote_start,
        {vol.Required(ATTR_DEVICE): DEVICE, vol.Required(ATTR_MEMBER): MEMBER},
        SupportsResponse.OPTIONAL,
    ),
    "remote_stop": (
        _remote_stop,
        {vol.Required(ATTR_DEVICE): DEVICE},
        SupportsResponse.OPTIONAL,
    ),
    "close_session": (
        _close_session,
        {vol.Required("session_id"): cv.string},
        SupportsResponse.NONE,
    ),
    "export_usage": (
        _export_usage,
        {
            vol.Optional(ATTR_MEMBER): MEMBER,
            vol.Optional(ATTR_DEVICE): DEVICE,
            vol.Optional("start"): cv.datetime,
            vol.Optional("end"): cv.datetime,
        },
        SupportsResponse.ONLY,
    ),
    "export_member_data": (
        _export_member_data,
        {vol.Required(ATTR_MEMBER): MEMBER},
        SupportsResponse.ONLY,
    ),
    "purge": (
        _purge,
        {
            vol.Optional("usage_retention_days"): DAYS,
            vol.Optional("unknown_card_retention_days"): DAYS,
        },
        SupportsResponse.OPTIONAL,
    ),
    # Lab operations: lapsing qualifications
    "lapsing": (
        _lapsing,
        {vol.Optional("days"): vol.All(vol.Coerce(int), vol.Range(min=0, max=3650))},
        SupportsResponse.ONLY,
    ),
    "renew_authorization": (
        _renew_authorization,
        {
            vol.Required("authorization_id"): cv.string,
            vol.Optional("expires"): vol.Any(None, cv.datetime),
        },
        SupportsResponse.OPTIONAL,
    ),
    # Lab operations: interest queue
    "notify_when_free": (
        _notify_when_free,
        {vol.Required(ATTR_DEVICE): DEVICE, vol.Optional(ATTR_MEMBER): MEMBER},
        SupportsResponse.OPTIONAL,
    ),
    "cancel_notify_when_free": (
        _cancel_notify_when_free,
        {vol.Required(ATTR_DEVICE): DEVICE, vol.Optional(ATTR_MEMBER): MEMBER},
        SupportsResponse.OPTIONAL,
    ),
    "generate_broker_config": (
        _generate_broker_config,
        {
            vol.Optional("folder"): vol.All(cv.string, vol.Length(min=1)),
            vol.Inclusive(ATTR_DEVICE, "own_password"): DEVICE,
            vol.Inclusive("password", "own_password"): vol.All(
                cv.string, vol.Length(min=1)
            ),
            # A site broker bridged to the hub's (docs/BRIDGE.md): its name, the
            # devices behind it and how it reaches the hub, checked in broker.py.
            vol.Inclusive("bridge_site", "bridge"): vol.All(
                cv.string, vol.Length(min=1, max=64)
            ),
            vol.Inclusive("bridge_devices", "bridge"): vol.All(
                cv.ensure_list, vol.Length(max=1000), [DEVICE]
            ),
            vol.Inclusive("bridge_host", "bridge"): vol.All(
                cv.string, vol.Length(min=1, max=253)
            ),
            vol.Optional("bridge_port", default=DEFAULT_BRIDGE_PORT): cv.port,
            vol.Optional("bridge_tls", default=True): cv.boolean,
            vol.Optional("bridge_cafile"): vol.All(cv.string, vol.Length(max=1024)),
            vol.Optional("bridge_certfile"): vol.All(cv.string, vol.Length(max=1024)),
            vol.Optional("bridge_keyfile"): vol.All(cv.string, vol.Length(max=1024)),
            vol.Optional("remove_bridge"): vol.All(
                cv.string, vol.Length(min=1, max=64)
            ),
        },
        SupportsResponse.OPTIONAL,
    ),
}


def _wrap(
    handler: Handler,
) -> Callable[[ServiceCall], Coroutine[Any, Any, ServiceResponse]]:
    async def _call(call: ServiceCall) -> ServiceResponse:
        engine = _engine(call.hass)
        # Nobody without a right to the service gets further; a caller allowed only
        # their own member is kept to it by the handler.
        caller = await async_caller(engine.hass, call.context.user_id)
        caller.require(_operation(call), own=True, context=call.context)
        with admin_audit.through(caller, admin_audit.DOOR_SERVICE, _operation(call)):
            return await handler(engine, call)

    return _call


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the access services."""
    async_redact_service_calls(hass)
    for name, (handler, fields, response) in SERVICES.items():
        hass.services.async_register(
            DOMAIN,
            name,
            _wrap(handler),
            schema=vol.Schema(fields),
            supports_response=response,
        )
