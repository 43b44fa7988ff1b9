"""The admin operations on members and grants: one implementation behind every door.

A member is created, changed and deleted here, and only here: the services
(``fluxilab.add_member``, ``update_member``, ``set_member_role``,
``set_member_active``, ``remove_member``), the collection's websocket commands
(``fluxilab/member/create`` ...) and the panel's (``fluxilab/panel/admin/member_create``
...) read their call into a typed request (``from_wire``), hand it to the operation,
and answer with the typed result; what each door may do is checked before, through
the one permission table (permissions.py), and the write is audited by the
collection's listeners (admin_audit.py) under the door that made it.

The door schemas are the store's (``MEMBER_FIELDS``, ``MEMBER_UPDATE_FIELDS``) plus
``allow_same_name``: a second member with a name someone has already is refused
(``member_name_taken``) unless the admin confirms it, so the same input gives the same
result, or the same translated error, whichever door it comes through.

Grants likewise (``async_grant``, ``async_revoke``): ``grant_authorization`` /
``revoke_authorization``, ``fluxilab/authorization/create`` / ``delete`` and the
panel's ``grant`` / ``revoke``; each door keeps its own shape (the panel grants many
members at once, the service names Home Assistant's device) and the same checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Self

from homeassistant.helpers import config_validation as cv
import probatio as vol

from .const import DEACTIVATE_LOGIN, LOGIN_CREATED
from .errors import AccessValidationError
from .lab_models import Authorization, hh_mm
from .logins import (
    LOGIN_FIELDS,
    LOGIN_PASSWORD,
    LOGIN_USERNAME,
    LoginRequest,
    async_check_option,
    async_create_login,
    async_remove_login,
)
from .member_models import Member
from .store import (
    AUTHORIZATION_UPDATE_FIELDS,
    MEMBER_FIELDS,
    MEMBER_UPDATE_FIELDS,
    MemberCollection,
)

if TYPE_CHECKING:
    from .lab import Lab

ALLOW_SAME_NAME: Final = "allow_same_name"
"""The admin confirmed a member whose name another member has already."""
MEMBER_ID: Final = "member_id"
WIRE_ONLY: Final = ("id", "type")
"""What a websocket message carries besides its data."""

RENEWABLE: Final = frozenset(
    str(marker.schema) for marker in AUTHORIZATION_UPDATE_FIELDS
)
"""What granting an authorization a member already has may change in it."""

_ALLOW: dict[Any, Any] = {vol.Optional(ALLOW_SAME_NAME, default=False): cv.boolean}

CREATE_FIELDS: Final[dict[Any, Any]] = {**MEMBER_FIELDS, **LOGIN_FIELDS, **_ALLOW}
"""What a door takes to create a member (and, if asked, their Home Assistant login)."""
CHANGE_FIELDS: Final[dict[Any, Any]] = {**MEMBER_UPDATE_FIELDS, **_ALLOW}
"""What a door takes as a member's changes."""
UPDATE_FIELDS: Final[dict[Any, Any]] = {
    vol.Required(MEMBER_ID): vol.All(cv.string, vol.Length(min=1)),
    **CHANGE_FIELDS,
}
"""What a door takes to change a member (the member's id and what changes)."""
OWN_PROFILE_FIELDS: Final = frozenset(
    {"name", "email", "notify_service", ALLOW_SAME_NAME}
)
"""What a member may change of their own (permissions.py ``EDIT_PROFILE``); the
rest of an update (linked user, role, active, cards, supervise) is a manager's."""
DELETE_FIELDS: Final[dict[Any, Any]] = {
    vol.Required(MEMBER_ID): vol.All(cv.string, vol.Length(min=1)),
}
"""What a door takes to delete a member."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberCreate:
    """An admin's new member."""

    # edge: door input, checked by the member collection's schema
    fields: Mapping[str, Any]
    """The member's fields, as ``MEMBER_FIELDS`` takes them (the store checks them)."""
    allow_same_name: bool = False
    login: LoginRequest | None = None
    """A Home Assistant login to create and link (logins.py), if any."""

    @classmethod
    def from_wire(cls, wire: Mapping[str, Any]) -> Self:
        """Read a call already validated by ``CREATE_FIELDS``."""
        skip = (*WIRE_ONLY, ALLOW_SAME_NAME, LOGIN_USERNAME, LOGIN_PASSWORD)
        return cls(
            fields={k: v for k, v in wire.items() if k not in skip},
            allow_same_name=bool(wire.get(ALLOW_SAME_NAME)),
            login=LoginRequest.from_wire(wire),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberUpdate:
    """An admin's change to one member."""

    member_id: str
    # edge: door input, checked by the member collection's schema
    fields: Mapping[str, Any]
    """What changes, as ``MEMBER_UPDATE_FIELDS`` takes it (the store checks it)."""
    allow_same_name: bool = False

    @classmethod
    def from_wire(cls, wire: Mapping[str, Any]) -> Self:
        """Read a call already validated by ``UPDATE_FIELDS``."""
        skip = (*WIRE_ONLY, ALLOW_SAME_NAME, MEMBER_ID)
        return cls(
            member_id=str(wire[MEMBER_ID]),
            fields={k: v for k, v in wire.items() if k not in skip},
            allow_same_name=bool(wire.get(ALLOW_SAME_NAME)),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberDelete:
    """An admin's deletion of one member."""

    member_id: str
    by_user_id: str | None
    """The Home Assistant user asking (None: the system); nobody deletes their own."""

    @classmethod
    def from_wire(cls, wire: Mapping[str, Any], by_user_id: str | None) -> Self:
        """Read a call already validated by ``DELETE_FIELDS``."""
        return cls(member_id=str(wire[MEMBER_ID]), by_user_id=by_user_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberResult:
    """A member as an operation left it."""

    member: Member
    """The member's typed view (its repr shows no name, card or PIN hash)."""
    members: MemberCollection = field(repr=False, compare=False)
    """Where it is stored: the doors' reply is the stored member (``as_wire``)."""

    @classmethod
    def of(cls, members: MemberCollection, member_id: str) -> Self:
        """Return the result for a member the collection has just written."""
        return cls(member=members.known(member_id), members=members)

    @property
    def member_id(self) -> str:
        """The member's id."""
        return self.member.id

    def as_wire(self) -> dict[str, Any]:
        """Return the member as the doors reply it to admins (``public_member``)."""
        return public_member(self.members.data[self.member.id])


# edge: the stored member, shaped into the admin reply
def public_member(member: Mapping[str, Any]) -> dict[str, Any]:
    """Return a member as admins see it: the PIN hash is reduced to whether there is one.

    ``cards`` lists every card uid (active or not), the shape ``cards`` updates take.
    """
    view = Member.from_storage(member)
    shown = {k: v for k, v in member.items() if k != "credentials"}
    shown["credentials"] = [credential.as_wire() for credential in view.credentials]
    shown["cards"] = view.cards(active_only=False)
    shown["has_pin"] = view.pin_hash(active_only=False) is not None
    return shown


def _same_name(name: str) -> str:
    return " ".join(name.split()).casefold()


def _check_name(
    members: MemberCollection, name: Any, member_id: str | None, *, allowed: bool
) -> None:
    """Refuse a name another member has already, unless the admin confirmed it."""
    if allowed or not isinstance(name, str):
        return
    wanted = _same_name(name)
    for other in members.members():
        if other.id != member_id and _same_name(other.name) == wanted:
            raise AccessValidationError("member_name_taken", name=name.strip())


def _existing(members: MemberCollection, member_id: str) -> Member:
    if (member := members.member(member_id)) is None:
        raise AccessValidationError("unknown_member", member=member_id)
    return member


async def async_create_member(
    members: MemberCollection, request: MemberCreate
) -> MemberResult:
    """Create a member (an initial PIN hashed if given); every check before the write.

    With ``login``, the member's Home Assistant login is created first and linked
    (``login_created_by_fluxilab``, ``deactivate_login`` on unless given); it is
    removed again if the member then cannot be created.
    """
    _check_name(
        members, request.fields.get("name"), None, allowed=request.allow_same_name
    )
    fields = dict(request.fields)
    if request.login is None:
        await async_check_option(
            members.hass, fields.get("user_id"), bool(fields.get(DEACTIVATE_LOGIN))
        )
        created = await members.async_create_item(fields)
        return MemberResult.of(members, str(created["id"]))
    if fields.get("user_id"):
        raise AccessValidationError("login_and_user")
    user = await async_create_login(members.hass, str(fields["name"]), request.login)
    fields |= {"user_id": user.id, LOGIN_CREATED: True}
    fields.setdefault(DEACTIVATE_LOGIN, True)
    try:
        created = await members.async_create_item(fields)
    except Exception:
        await async_remove_login(members.hass, user)
        raise
    return MemberResult.of(members, str(created["id"]))


def check_update(members: MemberCollection, request: MemberUpdate) -> None:
    """Refuse an update of no member, or to a name taken (unless confirmed).

    The store checks the fields themselves when it writes them.
    """
    _existing(members, request.member_id)
    if "name" in request.fields:
        _check_name(
            members,
            request.fields["name"],
            request.member_id,
            allowed=request.allow_same_name,
        )


async def async_update_member(
    members: MemberCollection, request: MemberUpdate
) -> MemberResult:
    """Change a member's fields (never a PIN: credentials.py's ways only)."""
    check_update(members, request)
    member = members.known(request.member_id)
    if request.fields.get(DEACTIVATE_LOGIN):
        await async_check_option(
            members.hass,
            request.fields.get("user_id", member.user_id),
            deactivate=True,
        )
    await members.async_update_item(request.member_id, dict(request.fields))
    return MemberResult.of(members, request.member_id)


async def async_delete_member(members: MemberCollection, request: MemberDelete) -> None:
    """Delete a member, never the caller's own."""
    member = _existing(members, request.member_id)
    if request.by_user_id is not None and member.user_id == request.by_user_id:
        raise AccessValidationError("cannot_delete_self")
    await members.async_delete_item(request.member_id)


# Authorizations ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Grant:
    """An admin's grant of one machine type, or one device, to one or more members."""

    member_ids: tuple[str, ...]
    machine_type_id: str | None = None
    device_id: str | None = None
    """Our device id (a service resolves Home Assistant's device id first)."""
    # edge: door input, checked by the authorization collection's schema
    fields: Mapping[str, Any]
    """The rest, as ``AUTHORIZATION_FIELDS`` takes it (expires, window, trainer ...)."""

    @classmethod
    def from_wire(cls, wire: Mapping[str, Any]) -> Self:
        """Read a call with ``member_id`` or ``member_ids`` and a target."""
        ids = wire.get("member_ids") or [wire[MEMBER_ID]]
        return cls(
            member_ids=tuple(dict.fromkeys(str(m) for m in ids)),
            machine_type_id=wire.get("machine_type_id"),
            device_id=wire.get("device_id"),
            fields={
                k: v
                for k, v in wire.items()
                if k
                not in (
                    *WIRE_ONLY,
                    MEMBER_ID,
                    "member_ids",
                    "machine_type_id",
                    "device_id",
                )
                and v is not None
            },
        )


def _window(auth: Authorization) -> tuple[str | None, str | None]:
    """Return an authorization's lab hours as stored (HH:MM), or None."""
    return (
        hh_mm(auth.window_start) if auth.window_start is not None else None,
        hh_mm(auth.window_end) if auth.window_end is not None else None,
    )


async def async_grant(lab: Lab, request: Grant) -> tuple[Authorization, ...]:
    """Grant the target to every member; everything checked before the first write.

    Returns the authorizations made or renewed, one per member, in request order.
    """
    type_id = device_id = None
    if request.machine_type_id is not None:
        if request.machine_type_id not in lab.machine_types.data:
            raise AccessValidationError(
                "unknown_machine_type", machine_type=request.machine_type_id
            )
        type_id = request.machine_type_id
    elif request.device_id is not None:
        if await lab.async_device(request.device_id) is None:
            raise AccessValidationError("unknown_device", device=request.device_id)
        device_id = request.device_id
    else:
        raise AccessValidationError("authorization_target")
    for member_id in request.member_ids:
        _existing(lab.members, member_id)
    window = (request.fields.get("window_start"), request.fields.get("window_end"))
    granted: list[Authorization] = []
    for member_id in request.member_ids:
        same = next(
            (
                a
                for a in lab.authorizations.typed_of_member(member_id)
                if a.machine_type_id == type_id
                and a.device_id == device_id
                and _window(a) == window
            ),
            None,
        )
        if same is None:
            target: dict[str, str | None] = (
                {"machine_type_id": type_id}
                if type_id is not None
                else {"device_id": device_id}
            )
            created = await lab.authorizations.async_create_item(
                {**request.fields, MEMBER_ID: member_id, **target}
            )
            granted.append(Authorization.from_storage(created))
            continue
        # Granting what a member already has renews it (new expiry, flags), as an
        # admin means it; it is not a second authorization beside the first.
        renewal = {k: v for k, v in request.fields.items() if k in RENEWABLE}
        renewed = await lab.authorizations.async_update_item(same.id, renewal)
        granted.append(Authorization.from_storage(renewed))
    return tuple(granted)


async def async_revoke(lab: Lab, authorization_id: str) -> None:
    """Remove an authorization."""
    if authorization_id not in lab.authorizations.data:
        raise AccessValidationError(
            "unknown_authorization", authorization=authorization_id
        )
    await lab.authorizations.async_delete_item(authorization_id)
