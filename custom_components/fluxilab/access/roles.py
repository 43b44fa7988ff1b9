"""Lab roles and what they do at the machines (who may do what: permissions.py).

A role is a set of flags, as Fab-O-Matic's roles and FabAccess's are. The three
built-in roles (admin, staff, user) always exist with fixed flags; a lab names its
own roles beside them (the roles' collection, store.py ``RoleCollection``), and a
member's ``role`` is either kind's id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from .member_models import Member


class Role(StrEnum):
    """The built-in roles."""

    ADMIN = "admin"
    STAFF = "staff"
    USER = "user"


@dataclass(frozen=True, slots=True, kw_only=True)
class RoleFlags:
    """What a role may do."""

    may_maintain: bool
    """Register maintenance at a device."""
    bypass_authorization: bool
    """Use any machine without an authorization for its type."""
    may_supervise: bool
    """Count as the supervisor where one must be present."""
    manage: bool
    """Manage members, cards, authorizations and devices (the admin column)."""
    may_book_for_others: bool = False
    """Book a device for another member."""

    @classmethod
    def of_role(cls, item: Mapping[str, Any]) -> RoleFlags:
        """Return the flags of a lab role as its collection stores it (``FLAG_FIELDS``)."""
        return cls(
            may_maintain=bool(item.get("maintenance")),
            bypass_authorization=bool(item.get("authorize_all")),
            may_supervise=bool(item.get("supervisor")),
            manage=bool(item.get("manage")),
            may_book_for_others=bool(item.get("book_for_others")),
        )

    def as_role(self) -> dict[str, bool]:
        """Return the flags as a stored lab role has them."""
        return {
            "authorize_all": self.bypass_authorization,
            "maintenance": self.may_maintain,
            "supervisor": self.may_supervise,
            "manage": self.manage,
            "book_for_others": self.may_book_for_others,
        }


FLAG_FIELDS: Final = (
    "authorize_all",
    "maintenance",
    "supervisor",
    "manage",
    "book_for_others",
)
"""A stored role's flags (``RoleFlags.of_role``)."""

ROLE_FLAGS: Final[Mapping[Role, RoleFlags]] = {
    Role.ADMIN: RoleFlags(
        may_maintain=True,
        bypass_authorization=True,
        may_supervise=True,
        manage=True,
        may_book_for_others=True,
    ),
    Role.STAFF: RoleFlags(
        may_maintain=True,
        bypass_authorization=False,
        may_supervise=True,
        manage=False,
        may_book_for_others=True,
    ),
    Role.USER: RoleFlags(
        may_maintain=False,
        bypass_authorization=False,
        may_supervise=False,
        manage=False,
    ),
}
"""The built-in roles' flags: fixed, so what they may do stays as it was."""

BUILT_IN_IDS: Final = frozenset(role.value for role in Role)


@dataclass(frozen=True, slots=True, kw_only=True)
class LabRole:
    """One of the lab's own roles, as the core reads it (store.py ``RoleCollection``).

    Read from the stored role once per change of the roles, not per card check.
    """

    id: str
    name: str
    flags: RoleFlags

    @classmethod
    def from_storage(cls, item: Mapping[str, Any]) -> LabRole:
        """Read a role as its collection stores it (``ROLE_FIELDS`` and its id)."""
        return cls(
            id=str(item["id"]),
            name=str(item.get("name", "")),
            flags=RoleFlags.of_role(item),
        )

    def as_dict(self) -> dict[str, Any]:
        """Return the role as its collection stores it."""
        return {"id": self.id, "name": self.name, **self.flags.as_role()}


type LabRoles = Mapping[str, LabRole]
"""The lab's own roles by id, typed (store.py ``RoleCollection.typed``)."""


def role_flags(role_id: str, roles: LabRoles) -> RoleFlags:
    """Return the flags of a role by id; an unknown role may do no more than a user."""
    if role_id in BUILT_IN_IDS:
        return ROLE_FLAGS[Role(role_id)]
    if (role := roles.get(role_id)) is not None:
        return role.flags
    return ROLE_FLAGS[Role.USER]


def built_in_like(role: RoleFlags) -> Role:
    """Return the built-in role a role's flags rank with (its permission level).

    A role that manages the lab ranks as admin, one that maintains or supervises as
    staff, any other as user: the one rule behind permissions.py ``role_level`` and
    what devices are told of a member (the mirror's ``level``, the gateway's role).
    """
    if role.manage:
        return Role.ADMIN
    if role.may_maintain or role.may_supervise:
        return Role.STAFF
    return Role.USER


def flags(member: Member, roles: LabRoles) -> RoleFlags:
    """Return the flags of a member's role, the lab's own ``roles`` given."""
    return role_flags(member.role, roles)


def member_of_user(user_id: str | None, members: Iterable[Member]) -> Member | None:
    """Return the member linked to a Home Assistant user, if any."""
    if user_id is None:
        return None
    return next((m for m in members if m.user_id == user_id), None)
