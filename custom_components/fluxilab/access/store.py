"""Members, roles, machine types and authorizations: Home Assistant storage collections.

Each collection validates what it stores, so the websocket CRUD commands and the
services share one set of rules. PINs are hashed here (bcrypt, in the executor) and
only the hash is ever stored. A PIN changes in two ways only (credentials.py): an
admin's reset issues a random initial PIN, and the member replaces it, or their own,
by giving the current one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, time as dt_time
import secrets
from typing import Any, override

import bcrypt
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import collection, config_validation as cv
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
import probatio as vol

from custom_components.fluxilab.const import LOGGER
from custom_components.fluxilab.protocol.pins import PinFailures
from custom_components.fluxilab.protocol.schemas import (
    MAX_MAINTENANCE_MESSAGE,
    MAX_MAINTENANCE_TEXT,
    OfflinePolicy,
    valid_ui_url,
)

from .billing import MAX_CENTS_PER_HOUR
from .bookings import BookingMode, BookingShare, WhoMayBook
from .const import (
    BCRYPT_COST,
    COLLECTION_STORAGE_VERSION,
    DEACTIVATE_LOGIN,
    DEFAULT_OFFLINE_MAX_AGE_HOURS,
    INITIAL_PIN_LENGTH,
    LOGIN_CREATED,
    MACHINE_TYPES_STORAGE_KEY,
    MACHINE_TYPES_STORAGE_MINOR_VERSION,
    MAX_GRACE_PERIOD,
    MEMBERS_STORAGE_KEY,
    MEMBERS_STORAGE_MINOR_VERSION,
    MEMBERS_STORAGE_VERSION,
    PIN_MAX_BYTES,
    PIN_MIN_LENGTH,
    ROLES_STORAGE_KEY,
)
from .credentials import (
    CARD,
    LABEL,
    STORED_CREDENTIAL,
    card_uids,
    check_credentials,
    credential_of,
    default_label,
    migrate_member,
    migrate_pin_flag,
    new_credential,
    touch,
    with_cards,
    with_pin_hash,
)
from .errors import AccessValidationError
from .lab_models import Authorization, MachineType, default_offline_policy
from .member_models import Credential, CredentialType, Member
from .notify import notify_service
from .roles import (
    BUILT_IN_IDS,
    FLAG_FIELDS,
    LabRole,
    LabRoles,
    Role,
    RoleFlags,
    role_flags,
)
from .rule_schema import MACHINE_TYPE_RULE_FIELDS

__all__ = ["CARD", "LABEL", "NAME"]

NAME = vol.All(cv.string, vol.Strip, vol.Length(min=1, max=100))


# edge: the storage collection's stored items themselves
class CountedItems(dict[str, dict[str, Any]]):
    """A collection's items that count their own changes, for the indexes below.

    Home Assistant's collections replace an item whole on every create, update and
    delete (``data[id] = item``, ``data.pop(id)``), so a changed count is the one
    sign an index needs to rebuild; uses noted in place (a credential's last use, an
    authorization's) move no card and no member.
    """

    __slots__ = ("changes",)

    def __init__(self) -> None:
        """Start empty, with no change counted."""
        super().__init__()
        self.changes = 0

    # edge: the storage collection's stored items themselves
    def __setitem__(self, key: str, value: dict[str, Any]) -> None:
        """Set an item and count the change."""
        self.changes += 1
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        """Delete an item and count the change."""
        self.changes += 1
        super().__delitem__(key)

    def pop(self, key: str, *default: Any) -> Any:
        """Remove an item and count the change."""
        self.changes += 1
        return super().pop(key, *default)

    def clear(self) -> None:
        """Remove every item and count the change."""
        self.changes += 1
        super().clear()

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Set several items and count the change."""
        self.changes += 1
        super().update(*args, **kwargs)

    def setdefault(self, key: str, default: Any = None) -> Any:
        """Set an item if missing and count the change."""
        self.changes += 1
        return super().setdefault(key, default)

    # edge: the storage collection's stored items themselves
    def popitem(self) -> tuple[str, dict[str, Any]]:
        """Remove the last item and count the change."""
        self.changes += 1
        return super().popitem()


def _time_text(value: Any) -> str:
    """Validate a lab-hours bound and keep it as HH:MM."""
    parsed: dt_time = cv.time(value)
    return parsed.strftime("%H:%M")


def _datetime_text(value: Any) -> str:
    """Validate a date/time and store it as an ISO string in UTC."""
    parsed = cv.datetime(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt_util.get_default_time_zone())
    return dt_util.as_utc(parsed).isoformat()


ROLE_ID = vol.All(cv.string, vol.Length(min=1, max=100))
ROLE_FIELDS: dict[Any, Any] = {
    vol.Required("name"): NAME,
    **{vol.Optional(flag, default=False): cv.boolean for flag in FLAG_FIELDS},
}
ROLE_UPDATE_FIELDS: dict[Any, Any] = {
    vol.Optional("name"): NAME,
    **{vol.Optional(flag): cv.boolean for flag in FLAG_FIELDS},
}
"""A lab's own role: its name and flags (roles.py ``RoleFlags.of_role``)."""

MEMBER_FIELDS: dict[Any, Any] = {
    vol.Required("name"): NAME,
    vol.Optional("email"): vol.Any(None, vol.All(cv.string, vol.Length(max=254))),
    vol.Optional("active", default=True): cv.boolean,
    vol.Optional("role", default=Role.USER.value): ROLE_ID,
    vol.Optional("user_id"): vol.Any(None, cv.string),
    vol.Optional("cards", default=list): vol.All(cv.ensure_list, [CARD]),
    vol.Optional("pin"): vol.All(cv.string, vol.Length(max=1024)),  # then validate_pin
    vol.Optional("notify_service"): vol.Any(None, notify_service),
    vol.Optional("supervise"): cv.boolean,
    vol.Optional(DEACTIVATE_LOGIN): cv.boolean,
}
MEMBER_UPDATE_FIELDS: dict[Any, Any] = {
    vol.Optional("name"): NAME,
    vol.Optional("email"): vol.Any(None, vol.All(cv.string, vol.Length(max=254))),
    vol.Optional("active"): cv.boolean,
    vol.Optional("role"): ROLE_ID,
    vol.Optional("user_id"): vol.Any(None, cv.string),
    vol.Optional("cards"): vol.All(cv.ensure_list, [CARD]),
    vol.Optional("notify_service"): vol.Any(None, notify_service),
    vol.Optional("supervise"): cv.boolean,
    vol.Optional(DEACTIVATE_LOGIN): cv.boolean,
}
"""What an admin may change; a PIN only its member changes (``async_change_pin``).

``cards`` (and ``pin`` on create) are a convenience over ``credentials``: the listed
cards are what the member holds, cards already held keep their label, active flag and
last use (credentials.py)."""

SAFETY_LIMIT = vol.Schema(
    {
        vol.Required("channel"): vol.All(cv.string, vol.Length(min=1, max=32)),
        vol.Optional("min"): vol.Coerce(float),
        vol.Optional("max"): vol.Coerce(float),
    }
)


def maintenance_url(value: Any) -> str | None:
    """Return an instructions address (http or https with a host), or None for "".

    The panel links to it and the device shows it: another scheme (``javascript:``)
    would run in the page that shows it (protocol.schemas.valid_ui_url).
    """
    if value is None or value == "":
        return None
    if not valid_ui_url(value):
        raise vol.Invalid("maintenance_url must be an http(s) address with a host")
    url: str = value
    return url


def _maintenance_text(most: int) -> Any:
    """Text of a plan, stripped, at most ``most`` characters; empty is nothing."""
    length = vol.Length(max=most)

    def _text(value: Any) -> str | None:
        if value is None:
            return None
        text: str = cv.string(value).strip()
        return length(text) or None

    return _text


def _minutes(most: int) -> Any:
    return vol.All(vol.Coerce(int), vol.Range(min=0, max=most))


BOOKING_RULE_FIELDS: dict[Any, Any] = {
    vol.Optional("booking_mode"): vol.All(vol.Coerce(BookingMode), str),
    vol.Optional("booking_min_minutes"): _minutes(24 * 60),
    vol.Optional("booking_max_minutes"): vol.All(
        vol.Coerce(int), vol.Range(min=1, max=7 * 24 * 60)
    ),
    vol.Optional("booking_ahead_days"): vol.All(
        vol.Coerce(int), vol.Range(min=0, max=366)
    ),
    vol.Optional("booking_max_per_day"): vol.All(
        vol.Coerce(int), vol.Range(min=1, max=100)
    ),
    vol.Optional("booking_max_per_week"): vol.All(
        vol.Coerce(int), vol.Range(min=1, max=700)
    ),
    vol.Optional("booking_who"): vol.All(vol.Coerce(WhoMayBook), str),
    vol.Optional("booking_no_show_minutes"): _minutes(24 * 60),
    vol.Optional("booking_warning_minutes"): _minutes(24 * 60),
    vol.Optional("booking_shared"): vol.All(vol.Coerce(BookingShare), str),
}
"""Booking rules of a machine type (bookings.py); absent: BOOKING_RULE_DEFAULTS."""

_CENTS = vol.All(vol.Coerce(int), vol.Range(min=0, max=MAX_CENTS_PER_HOUR))
BILLING_RATE_FIELDS: dict[Any, Any] = {
    vol.Optional("billing_hourly_cents"): _CENTS,
    vol.Optional("billing_idle_hourly_cents"): vol.Any(None, _CENTS),
    vol.Optional("billing_minimum_cents"): _CENTS,
    vol.Optional("billing_round_minutes"): _minutes(24 * 60),
}
"""Rates of a machine type in cents (billing.py); absent: RATE_DEFAULTS."""

MACHINE_TYPE_FIELDS: dict[Any, Any] = {
    vol.Required("name"): NAME,
    vol.Optional("session_timeout", default=900): vol.All(
        vol.Coerce(float), vol.Range(min=10, max=7 * 86400)
    ),
    vol.Optional("grace_period", default=60): vol.All(
        vol.Coerce(float), vol.Range(min=0, max=MAX_GRACE_PERIOD)
    ),
    vol.Optional("requires_authorization", default=True): cv.boolean,
    vol.Optional("safety_limits", default=list): [SAFETY_LIMIT],
    vol.Optional("maintenance_interval"): vol.Any(
        None, vol.All(vol.Coerce(float), vol.Range(min=0.1))
    ),
    # The maintenance plan (maintenance.py): interval above, what to do, where the
    # instructions are, and the short message an LCD shows.
    vol.Optional("maintenance_description"): _maintenance_text(MAX_MAINTENANCE_TEXT),
    vol.Optional("maintenance_url"): maintenance_url,
    vol.Optional("maintenance_message"): _maintenance_text(MAX_MAINTENANCE_MESSAGE),
    vol.Optional("block_when_maintenance_due", default=False): cv.boolean,
    # A second factor for dangerous equipment: a session needs card + PIN.
    vol.Optional("require_pin", default=False): cv.boolean,
    # Unused for this many months, an authorization lapses (lapsing.py)
    vol.Optional("lapse_after_months"): vol.Any(
        None, vol.All(vol.Coerce(int), vol.Range(min=1, max=120))
    ),
    # Supervisor present and instructor grant (presence.py)
    vol.Optional("requires_supervisor"): cv.boolean,
    vol.Optional("supervisor_minutes"): vol.All(
        vol.Coerce(int), vol.Range(min=1, max=24 * 60)
    ),
    vol.Optional("supervised_hours_start"): vol.Any(None, _time_text),
    vol.Optional("supervised_hours_end"): vol.Any(None, _time_text),
    vol.Optional("training_expiry_days"): vol.Any(
        None, vol.All(vol.Coerce(int), vol.Range(min=1, max=36500))
    ),
    # What a device may do with its credential mirror offline (docs/ACCESS.md);
    # the default follows the safety limits (default_offline_policy).
    vol.Optional("offline_policy"): vol.All(vol.Coerce(OfflinePolicy), str),
    vol.Optional("offline_max_age", default=DEFAULT_OFFLINE_MAX_AGE_HOURS): vol.All(
        vol.Coerce(float), vol.Range(min=0, max=24 * 365)
    ),
    **MACHINE_TYPE_RULE_FIELDS,  # busy/idle and maintenance conditions
    **BOOKING_RULE_FIELDS,
    **BILLING_RATE_FIELDS,
}
MACHINE_TYPE_UPDATE_FIELDS: dict[Any, Any] = {
    vol.Optional(key.schema): value for key, value in MACHINE_TYPE_FIELDS.items()
}

AUTHORIZATION_FIELDS: dict[Any, Any] = {
    vol.Required("member_id"): cv.string,
    vol.Exclusive("machine_type_id", "target"): cv.string,
    vol.Exclusive("device_id", "target"): cv.string,
    vol.Optional("expires"): vol.Any(None, _datetime_text),
    vol.Inclusive("window_start", "window"): _time_text,
    vol.Inclusive("window_end", "window"): _time_text,
    # Instructor grant (presence.py): a trainer trains others on the target;
    # authorizations made by training name the trainer.
    vol.Optional("trainer"): cv.boolean,
    vol.Optional("granted_by"): vol.Any(None, cv.string),
    vol.Optional("training"): cv.boolean,
    # When the member last used it, e.g. carried over from an earlier system; the
    # lapse months count from here (lapsing.py)
    vol.Optional("last_used"): vol.Any(None, _datetime_text),
}
AUTHORIZATION_UPDATE_FIELDS: dict[Any, Any] = {
    vol.Optional("expires"): vol.Any(None, _datetime_text),
    vol.Optional("trainer"): cv.boolean,
    vol.Optional("granted_by"): vol.Any(None, cv.string),
    vol.Optional("training"): cv.boolean,
    vol.Inclusive("window_start", "window"): vol.Any(None, _time_text),
    vol.Inclusive("window_end", "window"): vol.Any(None, _time_text),
}


def validate_pin(pin: str) -> bytes:
    """Check a PIN/password against the rules; return its bytes."""
    secret = pin.encode()
    if len(pin) < PIN_MIN_LENGTH:
        raise AccessValidationError("pin_too_short", min=str(PIN_MIN_LENGTH))
    if len(secret) > PIN_MAX_BYTES:
        raise AccessValidationError("pin_too_long", max=str(PIN_MAX_BYTES))
    return secret


async def async_hash_pin(hass: HomeAssistant, pin: str) -> str:
    """Hash a PIN with bcrypt in the executor (cost >= 12 takes a quarter second)."""
    secret = validate_pin(pin)

    def _hash() -> str:
        return bcrypt.hashpw(secret, bcrypt.gensalt(BCRYPT_COST)).decode()

    return await hass.async_add_executor_job(_hash)


def _pin_matches(pin: str, pin_hash: str) -> bool:
    try:
        return bcrypt.checkpw(pin.encode(), pin_hash.encode())
    except ValueError:
        return False


def initial_pin() -> str:
    """Draw a random one-time PIN for an admin's reset."""
    return "".join(secrets.choice("0123456789") for _ in range(INITIAL_PIN_LENGTH))


class MemberStore(Store[collection.SerializedStorageCollection]):
    """Members' storage, migrated from older layouts."""

    @override
    async def _async_migrate_func(
        self, old_major_version: int, old_minor_version: int, old_data: Any
    ) -> collection.SerializedStorageCollection:
        """Bring stored members to the current layout.

        1.1 had a single ``card`` per member; 1.2 keeps a list ``cards``; 1.3 holds
        ``credentials`` (cards and the PIN, each with label, active flag, last use);
        1.4 marks initial PINs (``must_change``): PINs stored before are the members'.
        """
        data: collection.SerializedStorageCollection = old_data
        if old_major_version == 1 and old_minor_version < 2:
            for item in data["items"]:
                card = item.pop("card", None)
                item.setdefault("cards", [card] if card else [])
        if old_major_version == 1 and old_minor_version < 3:
            now = dt_util.utcnow()
            for item in data["items"]:
                migrate_member(item, now)
        if old_major_version == 1 and old_minor_version < 4:
            for item in data["items"]:
                migrate_pin_flag(item)
        return data


# edge: the storage hooks' input, checked against the schema
def _check(schema: dict[Any, Any], data: dict[str, Any]) -> dict[str, Any]:
    """Validate ``data``; turn schema errors into a translated error."""
    try:
        # edge: the storage hooks' input, as the schema validated it
        validated: dict[str, Any] = vol.Schema(schema)(data)
    except vol.Invalid as err:
        raise AccessValidationError("invalid_data", error=str(err)) from err
    return validated


class RoleCollection(collection.DictStorageCollection):
    """The lab's own roles; the built-in ones (roles.py ``Role``) are not stored."""

    def __init__(self, store: Store[collection.SerializedStorageCollection]) -> None:
        """Keep new ids off the built-in roles' (a role named "admin" is admin_2)."""
        super().__init__(store)
        self._items = CountedItems()
        self.id_manager.collections = [
            self._items,
            {role_id: {} for role_id in BUILT_IN_IDS},
        ]
        self.data = self._items
        self.members: MemberCollection | None = None
        """Set by the members' collection, to refuse deleting a role in use."""
        self._typed: dict[str, LabRole] = {}
        """Role id -> its typed view, as of ``self._items.changes == _typed_at``."""
        self._typed_at = -1

    def typed(self) -> LabRoles:
        """Return the lab's own roles as the core reads them, by id.

        Parsed once after the roles changed, not on every card check (roles.py
        ``role_flags`` reads a role's flags from here).
        """
        if self._typed_at != self._items.changes:
            self._typed = {
                role_id: LabRole.from_storage(item)
                for role_id, item in self._items.items()
            }
            self._typed_at = self._items.changes
        return self._typed

    def flags(self, role_id: str) -> RoleFlags:
        """Return the flags of a role by id, built in or the lab's own (cached)."""
        return role_flags(role_id, self.typed())

    @override
    async def _process_create_data(self, data: dict[str, Any]) -> dict[str, Any]:
        return _check(ROLE_FIELDS, data)

    @override
    def _get_suggested_id(self, info: dict[str, Any]) -> str:
        return str(info["name"])

    @override
    async def _update_data(
        self, item: dict[str, Any], update_data: dict[str, Any]
    ) -> dict[str, Any]:
        return {**item, **_check(ROLE_UPDATE_FIELDS, update_data)}

    @override
    async def async_delete_item(self, item_id: str) -> None:
        """Delete a role no member has (refused, translated, while one has it)."""
        if self.members is not None:
            holders = [m.name for m in self.members.members() if m.role == item_id]
            if holders and item_id in self.data:
                raise AccessValidationError(
                    "role_in_use",
                    role=self.data[item_id]["name"],
                    count=str(len(holders)),
                )
        await super().async_delete_item(item_id)

    def check(self, role_id: str) -> None:
        """Refuse a role that is neither built in nor the lab's own (translated)."""
        if role_id not in BUILT_IN_IDS and role_id not in self.data:
            raise AccessValidationError("unknown_role", role=role_id)


class MemberCollection(collection.DictStorageCollection):
    """Lab members."""

    def __init__(
        self,
        store: Store[collection.SerializedStorageCollection],
        roles: RoleCollection,
    ) -> None:
        """Start with no wrong current PINs counted (they are kept in memory)."""
        super().__init__(store)
        self.roles = roles
        roles.members = self
        self._pin_failures: dict[str, PinFailures] = {}
        self._items = CountedItems()
        # The id manager must see the items that are kept, or a second member with
        # a name someone has already gets that member's id and replaces them.
        self.id_manager.collections = [self._items]
        self.data = self._items
        self._cards: dict[str, str] = {}
        """Card uid -> member id, as of ``self._items.changes == _cards_at``."""
        self._views: dict[str, Member] = {}
        """Member id -> typed view, built on first read after a change."""
        self._cards_at = -1

    @override
    async def _process_create_data(self, data: dict[str, Any]) -> dict[str, Any]:
        # Only admin.py sets it, with the login it has just created (logins.py).
        created_login = bool(data.pop(LOGIN_CREATED, False))
        validated = _check(MEMBER_FIELDS, data)
        self.roles.check(validated["role"])
        validated[LOGIN_CREATED] = created_login and bool(validated.get("user_id"))
        validated.setdefault(DEACTIVATE_LOGIN, validated[LOGIN_CREATED])
        now = dt_util.utcnow()
        credentials = with_cards([], validated.pop("cards"), now)
        self._check_cards(credentials, None)
        self._check_user(validated.get("user_id"), None)
        if (pin := validated.pop("pin", None)) is not None:
            # Whoever creates a member is an admin: the PIN given is an initial one.
            pin_hash = await async_hash_pin(self.hass, pin)
            credentials = with_pin_hash(credentials, pin_hash, now, must_change=True)
        validated["credentials"] = [c.as_dict() for c in credentials]
        validated["created"] = validated["updated"] = now.isoformat()
        return validated

    @override
    def _get_suggested_id(self, info: dict[str, Any]) -> str:
        return str(info["name"])

    @override
    async def _update_data(
        self, item: dict[str, Any], update_data: dict[str, Any]
    ) -> dict[str, Any]:
        # ``credentials`` comes only from the credential methods below: the services'
        # and websocket schemas do not accept it. No update takes a PIN: it changes
        # only through ``async_reset_pin`` and ``async_change_pin``.
        validated = _check(
            {
                **MEMBER_UPDATE_FIELDS,
                vol.Optional("credentials"): [STORED_CREDENTIAL],
            },
            update_data,
        )
        if "role" in validated:
            self.roles.check(validated["role"])
        now = dt_util.utcnow()
        credentials = [
            Credential.from_storage(c)
            for c in validated.pop("credentials", item.get("credentials", []))
        ]
        if "cards" in validated:
            credentials = with_cards(credentials, validated.pop("cards"), now)
        if "user_id" in validated:
            self._check_user(validated["user_id"], item["id"])
            if validated["user_id"] != item.get("user_id"):
                # Another user (or none) is no login FluxiLab created; its option
                # is off unless the same change sets it.
                validated[LOGIN_CREATED] = False
                validated.setdefault(DEACTIVATE_LOGIN, False)
        self._check_cards(credentials, item["id"])
        return {
            **item,
            **validated,
            "credentials": [c.as_dict() for c in credentials],
            "updated": now.isoformat(),
        }

    def _check_cards(
        self, credentials: Sequence[Credential], member_id: str | None
    ) -> None:
        """One PIN at most, and each card belongs to one member only (by the index)."""
        check_credentials(credentials)
        cards = set(card_uids(credentials))
        self._index()
        taken = {
            card
            for card in cards
            if (holder := self._cards.get(card)) is not None and holder != member_id
        }
        if taken:
            raise AccessValidationError("card_in_use", card=sorted(taken)[0])

    def _check_user(self, user_id: str | None, member_id: str | None) -> None:
        if user_id is None:
            return
        for other in self.data.values():
            if other["id"] != member_id and other.get("user_id") == user_id:
                raise AccessValidationError("user_linked", user_id=user_id)

    def _index(self) -> None:
        """Rebuild the card index and drop the typed views after a change."""
        if self._cards_at == self._items.changes:
            return
        self._cards = {
            credential["card"]: member_id
            for member_id, member in self._items.items()
            for credential in member.get("credentials", [])
            if credential["type"] == CredentialType.CARD
        }
        self._views = {}
        self._cards_at = self._items.changes

    def member(self, member_id: str) -> Member | None:
        """Return a member's typed view (None: no such member).

        Built once per change of the members, not per read: a card check reads
        fields, not keys, and parses no date.
        """
        self._index()
        if (view := self._views.get(member_id)) is not None:
            return view
        if (item := self._items.get(member_id)) is None:
            return None
        view = self._views[member_id] = Member.from_storage(item)
        return view

    def known(self, member_id: str) -> Member:
        """Return a member's typed view; an unknown id is a translated error."""
        if (view := self.member(member_id)) is None:
            raise AccessValidationError("unknown_member", member=member_id)
        return view

    def members(self) -> list[Member]:
        """Return every member's typed view, in storage order."""
        return [
            view
            for member_id in list(self._items)
            if (view := self.member(member_id)) is not None
        ]

    def card_holder(self, uid: str) -> tuple[Member, Credential] | None:
        """Return the member holding card ``uid`` and its credential (active or not).

        By the card index: a card check does not scan the members.
        """
        self._index()
        if (member_id := self._cards.get(uid)) is None:
            return None
        if (member := self.member(member_id)) is None:
            return None
        if (credential := member.card(uid)) is None:
            return None
        return member, credential

    def by_card(self, card: str) -> Member | None:
        """Return the member an ACTIVE card identifies (deactivated: nobody).

        ``card_holder`` also finds deactivated cards, with the credential.
        """
        if (found := self.card_holder(card)) is None:
            return None
        member, credential = found
        return member if credential.active else None

    # Credentials (credentials.py) -------------------------------------------------

    async def async_add_credential(
        self,
        member_id: str,
        kind: CredentialType,
        *,
        card: str | None = None,
        label: str | None = None,
    ) -> Credential:
        """Give a member a card; return it.

        A PIN is never added: an admin issues an initial one (``async_reset_pin``),
        so removing a member's PIN and adding one of the admin's choosing is refused.
        """
        credentials = self._stored(member_id).credentials
        if kind is CredentialType.PIN:
            raise AccessValidationError("pin_by_reset")
        if card is None:
            raise AccessValidationError("credential_card_missing")
        label = label or default_label(kind, credentials)
        added = new_credential(kind, label=label, now=dt_util.utcnow(), card=card)
        self._check_cards([*credentials, added], member_id)
        await self._async_write_credentials(member_id, [*credentials, added])
        return added

    async def async_reset_pin(self, member_id: str) -> tuple[str, Credential]:
        """Issue a random initial PIN (an admin's reset); return it and the credential.

        The PIN is returned once, for the admin to hand over, and stored only as a
        hash, marked ``must_change``: devices refuse it until the member replaces it.
        A PIN an admin deactivated stays deactivated.
        """
        self._stored(member_id)
        pin = initial_pin()
        pin_hash = await async_hash_pin(self.hass, pin)
        credentials = with_pin_hash(
            self._stored(member_id).credentials,
            pin_hash,
            dt_util.utcnow(),
            must_change=True,
        )
        await self._async_write_credentials(member_id, credentials)
        self._pin_failures.pop(member_id, None)
        credential = self._stored(member_id).pin
        assert credential is not None  # noqa: S101  # with_pin_hash just set it
        return pin, credential

    def pin_failures(self, member_id: str) -> PinFailures:
        """Return the member's wrong PINs and back-off (kept in memory).

        One count per member's PIN: wrong current PINs of PIN changes and wrong PINs
        given with the card at a ``require_pin`` device (engine.py) add up alike.
        """
        return self._pin_failures.setdefault(member_id, PinFailures())

    def pin_accepted(self, member_id: str) -> None:
        """Forget the member's wrong PINs: the right one was given."""
        self._pin_failures.pop(member_id, None)

    async def async_change_pin(
        self,
        member_id: str,
        current_pin: str,
        new_pin: str,
        *,
        update_data: Mapping[str, Any] | None = None,
    ) -> None:
        """Replace a member's PIN (initial or not): the member proves the current one.

        Wrong current PINs are counted per member and back off (``PinFailures``);
        ``update_data``, the member's own profile changes as the collection's
        update takes them, is written in the same update, so a refused change
        writes nothing.
        """
        if (pin := self._stored(member_id).pin) is None:
            raise AccessValidationError("no_pin")
        now = dt_util.utcnow().timestamp()
        failures = self._pin_failures.setdefault(member_id, PinFailures())
        if (wait := failures.wait(now)) > 0:
            raise AccessValidationError("pin_change_locked", seconds=str(int(wait) + 1))
        validate_pin(new_pin)
        # Counted before the check, so guesses sent in parallel back off too.
        failures.failed(now)
        if not await self.hass.async_add_executor_job(
            _pin_matches, current_pin, pin.pin_hash or ""
        ):
            LOGGER.warning(
                "Wrong current PIN for a PIN change (%d in a row for that member)",
                failures.count,
            )
            raise AccessValidationError("wrong_pin")
        self._pin_failures.pop(member_id, None)
        if new_pin == current_pin:
            raise AccessValidationError("pin_unchanged")
        pin_hash = await async_hash_pin(self.hass, new_pin)
        credentials = with_pin_hash(
            self._stored(member_id).credentials,
            pin_hash,
            dt_util.utcnow(),
            must_change=False,
        )
        await self.async_update_item(
            member_id,
            {**(update_data or {}), "credentials": [c.as_dict() for c in credentials]},
        )

    async def async_update_credential(
        self,
        member_id: str,
        credential_id: str,
        *,
        label: str | None = None,
        active: bool | None = None,
    ) -> Credential:
        """Rename, deactivate or reactivate one of a member's credentials."""
        member = self._stored(member_id)
        changed = credential_of(member, credential_id)
        if label is not None:
            changed = replace(changed, label=label)
        if active is not None:
            changed = replace(changed, active=active)
        await self._async_write_credentials(
            member_id,
            [changed if c.id == credential_id else c for c in member.credentials],
        )
        return changed

    async def async_remove_credential(self, member_id: str, credential_id: str) -> None:
        """Take one credential away from a member."""
        member = self._stored(member_id)
        credential_of(member, credential_id)
        await self._async_write_credentials(
            member_id, [c for c in member.credentials if c.id != credential_id]
        )

    def _stored(self, member_id: str) -> Member:
        """Return a member's typed view read from storage now, for a write to it."""
        if (item := self._items.get(member_id)) is None:
            raise AccessValidationError("unknown_member", member=member_id)
        return Member.from_storage(item)

    async def _async_write_credentials(
        self, member_id: str, credentials: Iterable[Credential]
    ) -> None:
        """Store a member's credentials as the collection keeps them."""
        await self.async_update_item(
            member_id, {"credentials": [c.as_dict() for c in credentials]}
        )

    @callback
    def async_touch(self, member_id: str, credential_id: str, when: datetime) -> None:
        """Note a granted use of a member's credential; saved with the usual delay.

        No change notification: a use changes nothing a device or listener needs,
        and a swipe must not rebuild every device's credential set. Only that
        member's typed view is built again, with the new last use: now, after the
        reply, rather than at the member's next card check.
        """
        if (member := self._items.get(member_id)) is None:
            return
        for stored in member.get("credentials", []):
            if stored["id"] == credential_id and (
                used := touch(Credential.from_storage(stored), when)
            ):
                stored["last_used"] = used.as_dict()["last_used"]
                if member_id in self._views:
                    self._views[member_id] = Member.from_storage(member)
                self._async_schedule_save()


class MachineTypeStore(Store[collection.SerializedStorageCollection]):
    """Machine types' storage, migrated from older layouts."""

    @override
    async def _async_migrate_func(
        self, old_major_version: int, old_minor_version: int, old_data: Any
    ) -> collection.SerializedStorageCollection:
        """1.1 had no offline policy: each type gets its default, made explicit."""
        data: collection.SerializedStorageCollection = old_data
        if old_major_version == 1 and old_minor_version < 2:
            for item in data["items"]:
                item.setdefault("offline_policy", default_offline_policy(item).value)
        return data


class MachineTypeCollection(collection.DictStorageCollection):
    """Kinds of equipment, with their session rules and maintenance plans."""

    def __init__(self, store: Store[collection.SerializedStorageCollection]) -> None:
        """Count changes, for the typed view of the types (``machine_type``)."""
        super().__init__(store)
        self._items = CountedItems()
        self.id_manager.collections = [self._items]  # as MemberCollection: no overwrite
        self.data = self._items
        self._typed: dict[str, MachineType] = {}
        """Type id -> its typed view, as of ``self._items.changes == _typed_at``."""
        self._typed_at = -1

    def machine_type(self, type_id: str | None) -> MachineType | None:
        """Return a machine type as the core reads it (None: no such type).

        Parsed once after the types changed, not on every decision.
        """
        if type_id is None:
            return None
        if self._typed_at != self._items.changes:
            self._typed = {
                item_id: MachineType.from_storage(item)
                for item_id, item in self._items.items()
            }
            self._typed_at = self._items.changes
        return self._typed.get(type_id)

    @override
    async def _process_create_data(self, data: dict[str, Any]) -> dict[str, Any]:
        validated = _check(MACHINE_TYPE_FIELDS, data)
        validated.setdefault("offline_policy", default_offline_policy(validated).value)
        return validated

    @override
    def _get_suggested_id(self, info: dict[str, Any]) -> str:
        return str(info["name"])

    @override
    async def _update_data(
        self, item: dict[str, Any], update_data: dict[str, Any]
    ) -> dict[str, Any]:
        return {**item, **_check(MACHINE_TYPE_UPDATE_FIELDS, update_data)}


class AuthorizationCollection(collection.DictStorageCollection):
    """Who may use which machine type (or single device), until when, at what hours."""

    def __init__(
        self,
        store: Store[collection.SerializedStorageCollection],
        members: MemberCollection,
    ) -> None:
        """Keep the members to check references against."""
        super().__init__(store)
        self.members = members
        self._items = CountedItems()
        self.id_manager.collections = [self._items]  # as MemberCollection: no overwrite
        self.data = self._items
        self._typed: dict[str, Authorization] = {}
        """Authorization id -> its typed view; ``note_use`` keeps last uses current."""
        self._by_member: dict[str, tuple[str, ...]] = {}
        """Member id -> their authorizations' ids; both as of ``self._items.changes
        == _by_member_at``."""
        self._by_member_at = -1

    @override
    async def _process_create_data(self, data: dict[str, Any]) -> dict[str, Any]:
        validated = _check(AUTHORIZATION_FIELDS, data)
        if validated["member_id"] not in self.members.data:
            raise AccessValidationError("unknown_member", member=validated["member_id"])
        if "machine_type_id" not in validated and "device_id" not in validated:
            raise AccessValidationError("authorization_target")
        validated["granted"] = dt_util.utcnow().isoformat()
        return validated

    @override
    def _get_suggested_id(self, info: dict[str, Any]) -> str:
        target = info.get("machine_type_id") or info.get("device_id")
        return f"{info['member_id']}_{target}"

    @override
    async def _update_data(
        self, item: dict[str, Any], update_data: dict[str, Any]
    ) -> dict[str, Any]:
        # Any update renews: the lapse clock starts again (lapsing.py).
        return {
            **item,
            **_check(AUTHORIZATION_UPDATE_FIELDS, update_data),
            "last_used": dt_util.utcnow().isoformat(),
        }

    # edge: stored authorizations for replies and exports
    def of_member(self, member_id: str) -> list[dict[str, Any]]:
        """Return a member's stored authorizations (a new list: callers may delete).

        By an index, rebuilt after an authorization changed: a card check does not
        scan every authorization of the lab.
        """
        self._index()
        return [self._items[auth_id] for auth_id in self._by_member.get(member_id, ())]

    def typed_of_member(self, member_id: str) -> tuple[Authorization, ...]:
        """Return a member's authorizations as the core reads them (parsed once)."""
        self._index()
        return tuple(
            self._typed[auth_id] for auth_id in self._by_member.get(member_id, ())
        )

    def authorization(self, auth_id: str) -> Authorization | None:
        """Return one authorization as the core reads it (None: no such one)."""
        self._index()
        return self._typed.get(auth_id)

    @callback
    def note_use(self, auth_id: str, used: datetime) -> None:
        """Set an authorization's last use in place (lapsing.py; no change counted).

        A use moves no member and no target: the index stays, with the typed view
        of that authorization replaced by one with the new use.
        """
        self._items[auth_id]["last_used"] = used.isoformat()
        if self._by_member_at == self._items.changes and auth_id in self._typed:
            self._typed[auth_id] = replace(self._typed[auth_id], last_used=used)

    def _index(self) -> None:
        """Parse the authorizations and index them by member, after a change."""
        if self._by_member_at == self._items.changes:
            return
        self._typed = {
            auth_id: Authorization.from_storage(item)
            for auth_id, item in self._items.items()
        }
        by_member: dict[str, list[str]] = {}
        for auth in self._typed.values():
            by_member.setdefault(auth.member_id, []).append(auth.id)
        self._by_member = {key: tuple(ids) for key, ids in by_member.items()}
        self._by_member_at = self._items.changes


def member_store(hass: HomeAssistant) -> MemberStore:
    """Return the members' store (private: it holds PIN hashes)."""
    return MemberStore(
        hass,
        MEMBERS_STORAGE_VERSION,
        MEMBERS_STORAGE_KEY,
        minor_version=MEMBERS_STORAGE_MINOR_VERSION,
        private=True,
    )


def role_store(hass: HomeAssistant) -> Store[collection.SerializedStorageCollection]:
    """Return the lab's own roles' store."""
    return Store(hass, COLLECTION_STORAGE_VERSION, ROLES_STORAGE_KEY)


def machine_type_store(hass: HomeAssistant) -> MachineTypeStore:
    """Return the machine types' store."""
    return MachineTypeStore(
        hass,
        COLLECTION_STORAGE_VERSION,
        MACHINE_TYPES_STORAGE_KEY,
        minor_version=MACHINE_TYPES_STORAGE_MINOR_VERSION,
    )


def collection_store(
    hass: HomeAssistant, key: str
) -> Store[collection.SerializedStorageCollection]:
    """Return a plain collection store."""
    return Store(hass, COLLECTION_STORAGE_VERSION, key)
