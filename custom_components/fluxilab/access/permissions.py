"""Who may do what, through every door: one table, one check.

Every way into FluxiLab is an *operation* named in ``PERMISSIONS``: each service
(``fluxilab.add_member``), each websocket command (``fluxilab/panel/open``), each
entity action (``button.reboot.press``: platform, entity key, action) and the flows
Home Assistant runs for the integration (``config_flow``, ``options_flow``,
``repair_flow``). Each maps to a
``Permission``: the lowest ``Level`` that may do it for anyone, and the lowest that may
do it for their own member only (their profile, their PIN, their lost card, the
devices their authorizations cover). What a lab role may do is therefore the same
whichever door it comes through, and tests/security/test_permission_sweep.py calls
every registered door as every actor and checks the outcome against this table.

The caller's level: a Home Assistant administrator may do everything; otherwise the
role of the active member linked to the Home Assistant user (``user_id``) decides
(``role_level``: a role that manages the lab is a lab admin, one that maintains or
supervises lab staff, any other a lab member); a user with no (or an inactive)
member is a plain Home Assistant user. Calls without a
user (automations, scripts, the integration itself) are the system and are allowed,
as Home Assistant allows them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from functools import wraps
import logging
from typing import TYPE_CHECKING, Any, Final

from homeassistant.auth.models import User
from homeassistant.exceptions import Unauthorized

from custom_components.fluxilab.const import DOMAIN

from . import admin_audit
from .engine import ACCESS_ENGINE
from .member_models import Member
from .roles import LabRoles, Role, RoleFlags, built_in_like, flags, member_of_user

if TYPE_CHECKING:
    from homeassistant.components.websocket_api import ActiveConnection
    from homeassistant.components.websocket_api.const import WebSocketCommandHandler
    from homeassistant.core import Context, HomeAssistant

_LOGGER = logging.getLogger(__name__)


class Level(IntEnum):
    """How far a caller reaches; each level may do what the ones below it may."""

    HA_USER = 0
    """A Home Assistant user with no active lab member."""
    LAB_MEMBER = 1
    LAB_STAFF = 2
    LAB_ADMIN = 3
    HA_ADMIN = 4
    SYSTEM = 5
    """No user: automations, scripts, the integration itself."""


BUILT_IN_LEVEL: Final[Mapping[Role, Level]] = {
    Role.USER: Level.LAB_MEMBER,
    Role.STAFF: Level.LAB_STAFF,
    Role.ADMIN: Level.LAB_ADMIN,
}


def role_level(role: RoleFlags) -> Level:
    """Return the level of a role's flags: the built-in role it ranks with's."""
    return BUILT_IN_LEVEL[built_in_like(role)]


class Scope(StrEnum):
    """What a permitted call may reach."""

    ANY = "any"
    """Any member, any device."""
    OWN = "own"
    """The caller's own member only, or the devices their member may use."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Permission:
    """Who may do one kind of thing."""

    name: str
    """What it lets one do (the row of the table in docs/ACCESS.md)."""
    anyone: Level | None = None
    """The lowest level that may do it for anyone; None: nobody, only for oneself."""
    own: Level | None = None
    """The lowest level that may do it for their own member only."""
    own_means: str = ""
    """What "their own" covers, when ``own`` is set."""
    for_anyone_flag: str | None = None
    """A ``RoleFlags`` flag that lets a role below ``anyone`` do it for anyone too."""

    def scope(self, level: Level, role: RoleFlags | None = None) -> Scope | None:
        """Return what a caller of ``level`` (``role``: their role) may reach."""
        if self.anyone is not None and level >= self.anyone:
            return Scope.ANY
        if (
            self.for_anyone_flag is not None
            and role is not None
            and level >= Level.LAB_MEMBER
            and getattr(role, self.for_anyone_flag)
        ):
            return Scope.ANY
        if self.own is not None and level >= self.own:
            return Scope.OWN
        return None


# What there is to do ------------------------------------------------------------------

MANAGE_MEMBERS = Permission(
    name="see every member; add, remove and (de)activate members, set their roles "
    "and their Home Assistant logins (create one, deactivate it with the member)",
    anyone=Level.LAB_ADMIN,
)
EDIT_PROFILE = Permission(
    name="edit a member's profile",
    anyone=Level.LAB_ADMIN,
    own=Level.LAB_MEMBER,
    own_means="their own name, email, PIN (giving the current one) and notification target",
)
IMPORT_MEMBERS = Permission(
    name="import and export members, their cards and authorizations (CSV, "
    "a Fab-O-Matic backend's database)",
    anyone=Level.LAB_ADMIN,
)
MANAGE_CREDENTIALS = Permission(
    name="give and take away cards and PINs",
    anyone=Level.LAB_ADMIN,
)
ADD_CREDENTIAL = Permission(
    name="add a card to a member (a PIN comes only from a reset)",
    anyone=Level.LAB_ADMIN,
)
RESET_PIN = Permission(
    name="reset a member's PIN to a one-time initial PIN",
    anyone=Level.LAB_ADMIN,
)
CHANGE_CREDENTIAL = Permission(
    name="rename, deactivate or reactivate a card or PIN",
    anyone=Level.LAB_ADMIN,
    own=Level.LAB_MEMBER,
    own_means="deactivate their own (a lost card)",
)
LIST_CREDENTIALS = Permission(
    name="list a member's cards and PIN (never a hash)",
    anyone=Level.LAB_ADMIN,
    own=Level.LAB_MEMBER,
    own_means="their own, cards masked",
)
OWN_PIN = Permission(
    name="change one's PIN (the current one first)",
    own=Level.LAB_MEMBER,
    own_means="their own",
)
OWN_PROFILE = Permission(
    name="see one's own member, authorizations, lapse dates and sessions",
    own=Level.HA_USER,
    own_means="their own (nothing without a member)",
)
NOTIFY_TARGET = Permission(
    name="see and set where a member's notifications go",
    anyone=Level.LAB_ADMIN,
    own=Level.LAB_MEMBER,
    own_means="their own member, to one of their own phones",
)
VIEW_MACHINE_TYPES = Permission(
    name="see the machine types",
    anyone=Level.HA_USER,
)
MANAGE_ROLES = Permission(
    name="see, create, change and delete the lab's own roles",
    anyone=Level.LAB_ADMIN,
)
MANAGE_MACHINE_TYPES = Permission(
    name="create, change and delete machine types",
    anyone=Level.LAB_ADMIN,
)
MANAGE_AUTHORIZATIONS = Permission(
    name="see, grant, renew and revoke authorizations; lapsing qualifications",
    anyone=Level.LAB_ADMIN,
)
SEE_DEVICES = Permission(
    name="see devices and their live status in the panel",
    anyone=Level.LAB_ADMIN,
    own=Level.HA_USER,
    own_means="the devices their member may use (none without a member)",
)
OPEN_DEVICES = Permission(
    name="open a device's UI through its gateway",
    anyone=Level.LAB_ADMIN,
    own=Level.LAB_MEMBER,
    own_means="the devices their member may use",
)
LAB_CONSOLE = Permission(
    name="open the panel's admin console (members, devices, unknown cards, users)",
    anyone=Level.LAB_ADMIN,
)
BLOCK_DEVICES = Permission(
    name="block and unblock a device",
    anyone=Level.LAB_ADMIN,
)
SWITCH_RELAYS = Permission(
    name="switch a device's relay (its interlock) by hand",
    anyone=Level.LAB_ADMIN,
)
RECORD_MAINTENANCE = Permission(
    name="record maintenance done on a device",
    anyone=Level.LAB_STAFF,
)
SYNC_DEVICES = Permission(
    name="re-send a device its credential set",
    anyone=Level.LAB_ADMIN,
)
RESTART_DEVICES = Permission(
    name="restart a device",
    anyone=Level.LAB_ADMIN,
)
CONFIGURE_DEVICES = Permission(
    name="change an agent's settings (telemetry periods, access timeout)",
    anyone=Level.LAB_ADMIN,
)
UPDATE_DEVICES = Permission(
    name="install, skip or un-skip a device's agent update (Home Assistant's update "
    "actions are for its administrators only)",
    anyone=Level.HA_ADMIN,
)
REMOTE_SESSIONS = Permission(
    name="start a session for a member on a Fab-O-Matic board, or stop its session, "
    "from Home Assistant (the board still asks the engine)",
    anyone=Level.LAB_ADMIN,
)
CLOSE_SESSIONS = Permission(
    name="close anyone's open session",
    anyone=Level.LAB_ADMIN,
)
USAGE_DATA = Permission(
    name="export usage, the audit log, maintenance interventions and a member's "
    "data (GDPR access)",
    anyone=Level.LAB_ADMIN,
)
RETENTION = Permission(
    name="set retention and purge old data",
    anyone=Level.LAB_ADMIN,
)
LAB_SETTINGS = Permission(
    name="lab settings (session checks, notifications, lapse notice, "
    "interest expiry, check-in expiry)",
    anyone=Level.LAB_ADMIN,
)
PRESENCE = Permission(
    name="check members in and out without a card",
    anyone=Level.LAB_ADMIN,
    own=Level.LAB_MEMBER,
    own_means="themselves",
)
FIRE_LIST = Permission(
    name="see who is in the lab (the fire list)",
    anyone=Level.LAB_STAFF,
    own=Level.HA_USER,
    own_means="the count only, no names",
)
INTEREST = Permission(
    name="queue for a busy device (notify when free), leave the queue",
    anyone=Level.LAB_ADMIN,
    own=Level.LAB_MEMBER,
    own_means="themselves",
)
INTEREST_QUEUES = Permission(
    name="see the interest queues",
    anyone=Level.LAB_ADMIN,
    own=Level.HA_USER,
    own_means="their own subscriptions (none without a member)",
)
BOOK = Permission(
    name="book a device; cancel a booking or end it early",
    anyone=Level.LAB_STAFF,
    own=Level.LAB_MEMBER,
    own_means="their own bookings (the machine type's rules decide who may book)",
    for_anyone_flag="may_book_for_others",
)
BOOK_IN_CALENDAR = Permission(
    name="book a device for a member through Home Assistant's calendar",
    anyone=Level.LAB_STAFF,
    for_anyone_flag="may_book_for_others",
)
SEE_BOOKINGS = Permission(
    name="see who booked a device when",
    anyone=Level.LAB_STAFF,
    own=Level.HA_USER,
    own_means="their own bookings; others' as booked times without a name",
)
BOOKING_CALENDARS = Permission(
    name="read a device's booking calendar (names only if the lab shows them)",
    anyone=Level.HA_USER,
)
MANAGE_OUTAGES = Permission(
    name="schedule and end a device's outages (the bookings they meet are cancelled)",
    anyone=Level.LAB_STAFF,
)
REPORT_PROBLEMS = Permission(
    name="report a problem with a device, or mark it unsafe (blocked until resolved)",
    anyone=Level.LAB_STAFF,
    own=Level.LAB_MEMBER,
    own_means="the devices their member may use",
)
RESOLVE_PROBLEMS = Permission(
    name="resolve problem reports (a device reported unsafe is free again)",
    anyone=Level.LAB_STAFF,
)
SEE_PROBLEMS = Permission(
    name="see problem reports and who made and resolved them",
    anyone=Level.LAB_STAFF,
    own=Level.LAB_MEMBER,
    own_means="their own reports, and which devices are reported unsafe",
)
MANAGE_PROJECTS = Permission(
    name="create, change and delete projects; set a member's default project",
    anyone=Level.LAB_ADMIN,
)
SEE_PROJECTS = Permission(
    name="see the projects sessions are charged to",
    anyone=Level.LAB_STAFF,
)
CHARGE_SESSIONS = Permission(
    name="charge a session to another project, mark it non-billable",
    anyone=Level.LAB_STAFF,
)
STATEMENTS = Permission(
    name="see and export a project's monthly statement",
    anyone=Level.LAB_ADMIN,
)
HA_CONFIGURATION = Permission(
    name="broker configuration (every device's login); adopt and reconfigure "
    "devices, their options, confirm a pairing key (Home Assistant's flows)",
    anyone=Level.HA_ADMIN,
)


def _services(permission: Permission, *names: str) -> dict[str, Permission]:
    return {f"{DOMAIN}.{name}": permission for name in names}


def _commands(permission: Permission, *names: str) -> dict[str, Permission]:
    return {f"{DOMAIN}/{name}": permission for name in names}


def _collection(permission: Permission, prefix: str) -> dict[str, Permission]:
    return _commands(
        permission,
        *(f"{prefix}/{verb}" for verb in ("create", "update", "delete")),
    )


def _collection_reads(permission: Permission, prefix: str) -> dict[str, Permission]:
    return _commands(permission, f"{prefix}/list", f"{prefix}/subscribe")


PERMISSIONS: Final[Mapping[str, Permission]] = {
    # Members
    **_services(
        MANAGE_MEMBERS,
        "add_member",
        "remove_member",
        "set_member_role",
        "set_member_active",
    ),
    **_collection(MANAGE_MEMBERS, "member"),
    **_collection_reads(MANAGE_MEMBERS, "member"),
    **_commands(
        MANAGE_MEMBERS,
        "panel/admin/member_create",
        "panel/admin/member_update",
        "panel/admin/member_delete",
        "panel/admin/member_from_card",
    ),
    **_collection(MANAGE_ROLES, "role"),
    **_collection_reads(MANAGE_ROLES, "role"),
    **_services(IMPORT_MEMBERS, "import_members", "export_members", "import_fabomatic"),
    **_commands(IMPORT_MEMBERS, "members/import", "members/export"),
    **_services(EDIT_PROFILE, "update_member"),
    # Cards and PINs
    **_services(
        MANAGE_CREDENTIALS,
        "add_card",
        "remove_card",
        "assign_last_unknown_card",
        "remove_credential",
    ),
    **_commands(MANAGE_CREDENTIALS, "credentials/remove", "panel/admin/assign_card"),
    **_services(ADD_CREDENTIAL, "add_credential"),
    **_commands(ADD_CREDENTIAL, "credentials/add"),
    **_services(RESET_PIN, "reset_pin"),
    **_commands(RESET_PIN, "credentials/reset_pin"),
    **_services(CHANGE_CREDENTIAL, "update_credential"),
    **_commands(CHANGE_CREDENTIAL, "credentials/update"),
    **_services(LIST_CREDENTIALS, "list_credentials"),
    **_commands(LIST_CREDENTIALS, "credentials/list"),
    **_commands(OWN_PIN, "panel/change_pin"),
    **_commands(OWN_PROFILE, "panel/profile", "lapsing/mine"),
    **_commands(NOTIFY_TARGET, "notify/get", "notify/set"),
    # Machine types and authorizations
    **_collection_reads(VIEW_MACHINE_TYPES, "machine_type"),
    **_collection(MANAGE_MACHINE_TYPES, "machine_type"),
    **_commands(
        MANAGE_MACHINE_TYPES,
        "panel/admin/machine_type_save",
        "panel/admin/machine_type_delete",
    ),
    **_services(
        MANAGE_AUTHORIZATIONS,
        "grant_authorization",
        "revoke_authorization",
        "renew_authorization",
        "lapsing",
    ),
    **_collection(MANAGE_AUTHORIZATIONS, "authorization"),
    **_collection_reads(MANAGE_AUTHORIZATIONS, "authorization"),
    **_commands(
        MANAGE_AUTHORIZATIONS,
        "panel/admin/grant",
        "panel/admin/revoke",
        "lapsing/list",
        "lapsing/renew",
    ),
    # Devices
    **_commands(SEE_DEVICES, "panel/lab", "panel/subscribe"),
    **_commands(OPEN_DEVICES, "panel/open"),
    **_commands(LAB_CONSOLE, "panel/admin/state"),
    **_services(BLOCK_DEVICES, "block_device", "unblock_device"),
    **_commands(BLOCK_DEVICES, "panel/admin/block"),
    "switch.blocked.turn_on": BLOCK_DEVICES,
    "switch.blocked.turn_off": BLOCK_DEVICES,
    "switch.relay.turn_on": SWITCH_RELAYS,
    "switch.relay.turn_off": SWITCH_RELAYS,
    **_services(RECORD_MAINTENANCE, "record_maintenance"),
    **_commands(RECORD_MAINTENANCE, "panel/admin/record_maintenance"),
    "button.record_maintenance.press": RECORD_MAINTENANCE,
    **_services(SYNC_DEVICES, "force_sync"),
    "button.force_sync.press": SYNC_DEVICES,
    "button.reboot.press": RESTART_DEVICES,
    **_services(CONFIGURE_DEVICES, "configure_device"),
    "update.firmware.install": UPDATE_DEVICES,
    "update.firmware.skip": UPDATE_DEVICES,
    "update.firmware.clear_skipped": UPDATE_DEVICES,
    **_services(CLOSE_SESSIONS, "close_session"),
    **_services(REMOTE_SESSIONS, "remote_start", "remote_stop"),
    # Usage data and GDPR
    **_services(USAGE_DATA, "export_usage", "export_member_data"),
    **_commands(
        USAGE_DATA,
        "panel/admin/history",
        "panel/admin/audit",
        "panel/admin/member_export",
        "panel/admin/maintenance_log",
    ),
    **_services(RETENTION, "purge"),
    **_commands(RETENTION, "panel/admin/retention"),
    # Settings
    **_commands(
        LAB_SETTINGS, "access/settings", "notify/settings", "occupancy/settings"
    ),
    # Presence and the interest queue
    **_services(PRESENCE, "check_in", "check_out"),
    **_services(FIRE_LIST, "occupancy"),
    **_commands(FIRE_LIST, "occupancy/list"),
    **_services(INTEREST, "notify_when_free", "cancel_notify_when_free"),
    **_commands(INTEREST, "interest/subscribe", "interest/cancel"),
    **_commands(INTEREST_QUEUES, "interest/list"),
    # Bookings
    **_commands(BOOK, "booking/create", "booking/delete"),
    **_commands(SEE_BOOKINGS, "booking/list"),
    "calendar.bookings.create_event": BOOK_IN_CALENDAR,
    "calendar.bookings.get_events": BOOKING_CALENDARS,
    # Outages and problem reports
    **_commands(MANAGE_OUTAGES, "outage/create", "outage/delete"),
    **_commands(REPORT_PROBLEMS, "problem/report"),
    **_commands(RESOLVE_PROBLEMS, "problem/resolve"),
    **_commands(SEE_PROBLEMS, "problem/list"),
    # Charge-back
    **_collection(MANAGE_PROJECTS, "project"),
    **_commands(MANAGE_PROJECTS, "billing/set_default"),
    **_collection_reads(SEE_PROJECTS, "project"),
    **_services(CHARGE_SESSIONS, "set_session_charge"),
    **_commands(CHARGE_SESSIONS, "billing/set_session"),
    **_services(STATEMENTS, "billing_statement"),
    **_commands(STATEMENTS, "billing/statement"),
    # Home Assistant's own configuration
    **_services(HA_CONFIGURATION, "generate_broker_config"),
    **_commands(HA_CONFIGURATION, "history/database", "history/set_database"),
    # Home Assistant runs these flows for its administrators only.
    "config_flow": HA_CONFIGURATION,
    "options_flow": HA_CONFIGURATION,
    "repair_flow": HA_CONFIGURATION,
}
"""Every operation of the integration and who may do it."""


class NotPermitted(Unauthorized):
    """A caller's lab role does not allow an operation (translated)."""

    def __init__(
        self,
        operation: str,
        *,
        context: Context | None = None,
        user_id: str | None = None,
        entity_id: str | None = None,
        permission: str | None = None,
    ) -> None:
        """Refuse ``operation``; Home Assistant answers it as unauthorized."""
        super().__init__(
            context=context, user_id=user_id, entity_id=entity_id, permission=permission
        )
        self.operation = operation
        self.translation_domain = DOMAIN
        self.translation_key = "not_permitted"
        self.translation_placeholders = {"operation": operation}
        self.generate_message = True


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: the Home Assistant user, their member, their level."""

    user: User | None
    member: Member | None
    """The member linked to the user, active or not."""
    level: Level
    role: RoleFlags | None = None
    """The flags of the active member's role (None: no active member)."""

    @property
    def member_id(self) -> str | None:
        """The id of the caller's member, if any."""
        return None if self.member is None else self.member.id

    @property
    def member_name(self) -> str | None:
        """The name of the caller's member, if any (and not empty)."""
        return None if self.member is None else self.member.name or None

    def is_own(self, member_id: str | None) -> bool:
        """Return True if ``member_id`` is the caller's own member."""
        return member_id is not None and member_id == self.member_id

    def scope(self, operation: str) -> Scope | None:
        """Return what the caller may reach through ``operation``, None if nothing."""
        return PERMISSIONS[operation].scope(self.level, self.role)

    def require(
        self,
        operation: str,
        *,
        own: bool = False,
        context: Context | None = None,
        entity_id: str | None = None,
        permission: str | None = None,
    ) -> Scope:
        """Return the caller's scope, or raise NotPermitted.

        ``own``: the call reaches only the caller's own member (or a device their
        member may use), so a permission for their own suffices.
        """
        scope = self.scope(operation)
        if scope is Scope.ANY or (scope is Scope.OWN and own):
            return scope
        _LOGGER.warning(
            "User %s (%s) was refused %s",
            self.user.id if self.user is not None else None,
            self.level.name.lower(),
            operation,
        )
        raise NotPermitted(
            operation,
            context=context,
            user_id=self.user.id if self.user is not None else None,
            entity_id=entity_id,
            permission=permission,
        )


def caller_for_user(
    user: User | None, members: Iterable[Member], roles: LabRoles
) -> Caller:
    """Return the caller for a Home Assistant user (None: the system).

    ``roles``: the lab's own roles, by id (the built-in ones need no entry).
    """
    if user is None:
        return Caller(None, None, Level.SYSTEM)
    member = member_of_user(user.id, members)
    role = None
    if member is not None and member.active:
        role = flags(member, roles)
    if user.is_admin:
        level = Level.HA_ADMIN
    elif role is not None:
        level = role_level(role)
    else:
        level = Level.HA_USER
    return Caller(user, member, level, role)


def _caller(hass: HomeAssistant, user: User | None) -> Caller:
    if (engine := hass.data.get(ACCESS_ENGINE)) is None:
        return caller_for_user(user, [], {})
    return caller_for_user(user, engine.members.members(), engine.roles.typed())


async def async_caller(hass: HomeAssistant, user_id: str | None) -> Caller:
    """Return the caller behind a context's ``user_id``; refuse an unknown user."""
    if user_id is None:
        return caller_for_user(None, [], {})
    if (user := await hass.auth.async_get_user(user_id)) is None:
        raise Unauthorized(user_id=user_id)
    return _caller(hass, user)


def websocket_caller(hass: HomeAssistant, connection: ActiveConnection) -> Caller:
    """Return the caller behind a websocket connection (worked out on every call)."""
    return _caller(hass, connection.user)


def require_permission(handler: WebSocketCommandHandler) -> WebSocketCommandHandler:
    """Refuse a websocket command (ERR_UNAUTHORIZED) the caller has no right to.

    The operation is the command's type. A caller whose permission covers only their
    own member passes; the handler keeps the command within it (``Scope.OWN``).
    The handler runs through the door (admin_audit.py: who changed what, from where).
    Goes outside ``websocket_command`` and ``async_response``, as
    ``websocket_api.require_admin`` does.
    """

    @wraps(handler)
    def _checked(
        hass: HomeAssistant, connection: ActiveConnection, msg: dict[str, Any]
    ) -> None:
        caller = websocket_caller(hass, connection)
        caller.require(msg["type"], own=True, context=connection.context(msg))
        with admin_audit.through(caller, admin_audit.DOOR_WEBSOCKET, msg["type"]):
            handler(hass, connection, msg)

    return _checked
