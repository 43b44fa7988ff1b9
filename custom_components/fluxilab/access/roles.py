"""Lab roles and what they do at the machines (who may do what: permissions.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    """A member's role in the lab."""

    ADMIN = "admin"
    STAFF = "staff"
    USER = "user"


@dataclass(frozen=True, slots=True, kw_only=True)
class RoleFlags:
    """What a role may do at the machines."""

    may_maintain: bool
    """Register maintenance at a device."""
    bypass_authorization: bool
    """Use any machine without an authorization for its type."""
    may_supervise: bool
    """Count as the supervisor where one must be present."""
    manage: bool
    """Manage members, cards, authorizations and devices (the admin column)."""


ROLE_FLAGS: dict[Role, RoleFlags] = {
    Role.ADMIN: RoleFlags(
        may_maintain=True, bypass_authorization=True, may_supervise=True, manage=True
    ),
    Role.STAFF: RoleFlags(
        may_maintain=True, bypass_authorization=False, may_supervise=True, manage=False
    ),
    Role.USER: RoleFlags(
        may_maintain=False,
        bypass_authorization=False,
        may_supervise=False,
        manage=False,
    ),
}


def flags(member: Mapping[str, Any]) -> RoleFlags:
    """Return the flags of a member's role."""
    return ROLE_FLAGS[Role(member["role"])]


def member_of_user(
    user_id: str | None, members: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """Return the member linked to a Home Assistant user, if any."""
    if user_id is None:
        return None
    return next((m for m in members if m.get("user_id") == user_id), None)
