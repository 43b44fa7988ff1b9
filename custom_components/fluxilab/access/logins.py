"""Members' Home Assistant logins: one identity for the lab and Home Assistant.

A member may be linked to a Home Assistant user (``user_id``): that login is how they
open the panel and, through the panel's signed link, their devices' own UI (the
gateway opens a session as their member; no second password). FluxiLab can create
that login with the member (``login_username`` / ``login_password`` on create: a
Home Assistant user of the *Users* group with credentials of the ``homeassistant``
auth provider, as Home Assistant's own user settings make one); the member then
carries ``login_created_by_fluxilab``.

``deactivate_login`` (on by default for a login FluxiLab created, off for a linked
user who was there before): deactivating the member (``active`` false) or deleting
them deactivates the linked Home Assistant user too, and reactivating the member
reactivates the user, but only if FluxiLab deactivated it (remembered here, in its
own store, so a user an HA administrator deactivated stays so). The owner and Home
Assistant administrators are never deactivated: setting the option for a member
linked to one is refused (``login_not_deactivatable``); a user who became one later
is skipped and the skip audited. Every change is an admin audit entry of target
``login`` (admin_audit.py: who, what, before -> after, door).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
import logging
from typing import TYPE_CHECKING, Any, Final, Self

from homeassistant.auth.const import GROUP_ID_USER
from homeassistant.auth.providers import homeassistant as auth_ha
from homeassistant.helpers import collection, config_validation as cv
from homeassistant.helpers.storage import Store
import probatio as vol

from . import admin_audit
from .const import MEMBER_LOGINS_STORAGE_KEY
from .errors import AccessValidationError
from .member_models import Member

if TYPE_CHECKING:
    from homeassistant.auth.models import User
    from homeassistant.core import HomeAssistant

    from .admin_audit import AuditedLab

_LOGGER = logging.getLogger(__name__)

LOGIN_USERNAME: Final = "login_username"
LOGIN_PASSWORD: Final = "login_password"  # noqa: S105 (a field name)

LOGIN_FIELDS: Final[dict[Any, Any]] = {
    vol.Inclusive(LOGIN_USERNAME, "login"): vol.All(
        cv.string, vol.Strip, vol.Length(min=1, max=64)
    ),
    vol.Inclusive(LOGIN_PASSWORD, "login"): vol.All(
        cv.string, vol.Length(min=1, max=1024)
    ),
}
"""What a door takes, on create, to give the member a Home Assistant login."""

LOGINS_STORAGE_VERSION: Final = 1

TARGET: Final = "login"
"""The admin audit's target of a member's Home Assistant login."""
SKIPPED: Final = "skipped"
"""The audit action of a deactivation FluxiLab did not do (owner, administrator)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LoginRequest:
    """A Home Assistant login to create with a member."""

    username: str
    password: str

    @classmethod
    def from_wire(cls, wire: Mapping[str, Any]) -> Self | None:
        """Read a call validated with ``LOGIN_FIELDS`` (None: no login asked)."""
        if wire.get(LOGIN_USERNAME) is None:
            return None
        return cls(
            username=str(wire[LOGIN_USERNAME]), password=str(wire[LOGIN_PASSWORD])
        )


def protected(user: User) -> str | None:
    """Return why FluxiLab never deactivates ``user`` (owner, administrator), or None."""
    if user.is_owner:
        return "owner"
    if user.is_admin:
        return "administrator"
    if user.system_generated:
        return "system"
    return None


async def async_check_option(
    hass: HomeAssistant, user_id: str | None, deactivate: bool
) -> None:
    """Refuse ``deactivate_login`` for a member linked to the owner or an admin."""
    if not deactivate or user_id is None:
        return
    if (user := await hass.auth.async_get_user(user_id)) is None:
        return
    if (why := protected(user)) is not None:
        raise AccessValidationError("login_not_deactivatable", why=why)


async def async_create_login(
    hass: HomeAssistant, name: str, request: LoginRequest
) -> User:
    """Create a Home Assistant user (group *Users*) that logs in with a password.

    As Home Assistant's ``config/auth/create`` and
    ``config/auth_provider/homeassistant/create`` do, in one step; a username taken
    (or one the provider refuses) creates nothing.
    """
    try:
        provider = auth_ha.async_get_provider(hass)
    except RuntimeError as err:  # Home Assistant runs without password logins
        raise AccessValidationError("login_unavailable") from err
    user = await hass.auth.async_create_user(name, group_ids=[GROUP_ID_USER])
    try:
        await provider.async_add_auth(request.username, request.password)
    except auth_ha.InvalidUser as err:
        await hass.auth.async_remove_user(user)
        raise AccessValidationError(
            "login_username_taken", username=request.username
        ) from err
    credentials = await provider.async_get_or_create_credentials(
        {"username": request.username}
    )
    await hass.auth.async_link_user(user, credentials)
    return user


async def async_remove_login(hass: HomeAssistant, user: User) -> None:
    """Remove a login created for a member whose creation then failed."""
    provider = auth_ha.async_get_provider(hass)
    for credentials in user.credentials:
        if credentials.auth_provider_type == provider.type:
            await provider.async_remove_auth(str(credentials.data["username"]))
    await hass.auth.async_remove_user(user)


class MemberLogins:
    """Deactivates and reactivates the linked Home Assistant users with the members."""

    def __init__(self, engine: AuditedLab) -> None:
        """Prepare; :meth:`async_load` follows the members."""
        self.engine = engine
        self._store: Store[dict[str, str]] = Store(
            engine.hass, LOGINS_STORAGE_VERSION, MEMBER_LOGINS_STORAGE_KEY
        )
        self._deactivated: dict[str, str] = {}
        """Member id -> the Home Assistant user FluxiLab deactivated with them."""
        self._copies: dict[str, Member] = {}
        """Each member as last seen: immutable views, so no copy is needed."""

    @property
    def deactivated(self) -> Mapping[str, str]:
        """The users FluxiLab deactivated, by member id."""
        return self._deactivated

    async def async_load(self) -> None:
        """Load what FluxiLab deactivated, then follow the members' changes."""
        self._deactivated = dict(await self._store.async_load() or {})
        members = self.engine.members
        self._copies = {member.id: member for member in members.members()}
        members.async_add_change_set_listener(self._changed)

    async def _changed(self, changes: Iterable[collection.CollectionChange]) -> None:
        for change in changes:
            before = self._copies.pop(change.item_id, None)
            if change.change_type == collection.CHANGE_REMOVED:
                if before is not None:
                    await self._async_member_gone(before)
                continue
            after = self._copies[change.item_id] = Member.from_storage(change.item)
            if change.change_type == collection.CHANGE_ADDED:
                if after.login_created and after.user_id:
                    self.engine.admin_audit.record(
                        TARGET,
                        admin_audit.CREATED,
                        {"is_active": admin_audit.change(None, True)},
                        member=after,
                    )
                if not after.active:
                    await self._async_deactivate(after, after)
                continue
            if before is None:
                continue
            if before.active and not after.active:
                await self._async_deactivate(after, after)
            elif after.active and not before.active:
                await self._async_reactivate(after, after)
            elif before.user_id != after.user_id:
                # Linked to someone else: what FluxiLab did to the old user stays.
                self._forget(after.id)

    async def _async_user(self, member: Member) -> User | None:
        return (
            None
            if not member.user_id
            else await self.engine.hass.auth.async_get_user(member.user_id)
        )

    async def _async_deactivate(self, member: Member, shown: Member | None) -> None:
        """Deactivate the member's login if the option says so.

        ``shown`` is the member the admin audit names (None: a removed
        member, whom the audit no longer names).
        """
        if not member.deactivate_login:
            return
        if (user := await self._async_user(member)) is None or not user.is_active:
            return
        if (why := protected(user)) is not None:
            _LOGGER.warning(
                "A member's Home Assistant login was not deactivated with them: %s",
                why,
            )
            self.engine.admin_audit.record(
                TARGET,
                SKIPPED,
                {"is_active": admin_audit.FieldChange(kept_because=why)},
                member=shown,
            )
            return
        await self.engine.hass.auth.async_update_user(user, is_active=False)
        self.engine.admin_audit.record(
            TARGET,
            admin_audit.UPDATED,
            {"is_active": admin_audit.change(True, False)},
            member=shown,
        )
        if shown is not None:
            self._deactivated[member.id] = user.id
            self._save()

    async def _async_reactivate(self, member: Member, shown: Member) -> None:
        user_id = self._deactivated.get(member.id)
        if user_id is None:
            return
        self._forget(member.id)
        if user_id != member.user_id:
            return
        if (user := await self._async_user(member)) is None or user.is_active:
            return
        await self.engine.hass.auth.async_update_user(user, is_active=True)
        self.engine.admin_audit.record(
            TARGET,
            admin_audit.UPDATED,
            {"is_active": admin_audit.change(False, True)},
            member=shown,
        )

    async def _async_member_gone(self, member: Member) -> None:
        """Deactivate a deleted (or erased) member's login, if the option says."""
        self._forget(member.id)
        await self._async_deactivate(member, None)

    def _forget(self, member_id: str) -> None:
        if self._deactivated.pop(member_id, None) is not None:
            self._save()

    def _save(self) -> None:
        self._store.async_delay_save(lambda: dict(self._deactivated), 0)
