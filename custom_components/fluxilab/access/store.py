"""Members, machine types and authorizations: Home Assistant storage collections.

Each collection validates what it stores, so the websocket CRUD commands and the
services share one set of rules. PINs are hashed here (bcrypt, in the executor) and
only the hash is ever stored.
"""

from __future__ import annotations

from datetime import time as dt_time
from typing import Any, override

import bcrypt
from homeassistant.core import HomeAssistant
from homeassistant.helpers import collection, config_validation as cv
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
import probatio as vol

from .const import (
    BCRYPT_COST,
    COLLECTION_STORAGE_VERSION,
    MEMBERS_STORAGE_KEY,
    MEMBERS_STORAGE_MINOR_VERSION,
    MEMBERS_STORAGE_VERSION,
    PIN_MAX_BYTES,
    PIN_MIN_LENGTH,
)
from .errors import AccessValidationError
from .notify import notify_service
from .roles import Role

CARD = vol.All(cv.string, vol.Strip, vol.Length(min=1, max=64))
NAME = vol.All(cv.string, vol.Strip, vol.Length(min=1, max=100))


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


MEMBER_FIELDS: dict[Any, Any] = {
    vol.Required("name"): NAME,
    vol.Optional("email"): vol.Any(None, vol.All(cv.string, vol.Length(max=254))),
    vol.Optional("active", default=True): cv.boolean,
    vol.Optional("role", default=Role.USER.value): vol.All(vol.Coerce(Role), str),
    vol.Optional("user_id"): vol.Any(None, cv.string),
    vol.Optional("cards", default=list): vol.All(cv.ensure_list, [CARD]),
    vol.Optional("pin"): cv.string,
    vol.Optional("notify_service"): vol.Any(None, notify_service),
}
MEMBER_UPDATE_FIELDS: dict[Any, Any] = {
    vol.Optional("name"): NAME,
    vol.Optional("email"): vol.Any(None, vol.All(cv.string, vol.Length(max=254))),
    vol.Optional("active"): cv.boolean,
    vol.Optional("role"): vol.All(vol.Coerce(Role), str),
    vol.Optional("user_id"): vol.Any(None, cv.string),
    vol.Optional("cards"): vol.All(cv.ensure_list, [CARD]),
    vol.Optional("notify_service"): vol.Any(None, notify_service),
}
"""What an admin may change; a PIN only its member changes (services)."""

SAFETY_LIMIT = vol.Schema(
    {
        vol.Required("channel"): vol.All(cv.string, vol.Length(min=1, max=32)),
        vol.Optional("min"): vol.Coerce(float),
        vol.Optional("max"): vol.Coerce(float),
    }
)
MACHINE_TYPE_FIELDS: dict[Any, Any] = {
    vol.Required("name"): NAME,
    vol.Optional("session_timeout", default=900): vol.All(
        vol.Coerce(float), vol.Range(min=10, max=7 * 86400)
    ),
    vol.Optional("grace_period", default=60): vol.All(
        vol.Coerce(float), vol.Range(min=0, max=3600)
    ),
    vol.Optional("requires_authorization", default=True): cv.boolean,
    vol.Optional("safety_limits", default=list): [SAFETY_LIMIT],
    vol.Optional("maintenance_interval"): vol.Any(
        None, vol.All(vol.Coerce(float), vol.Range(min=0.1))
    ),
    vol.Optional("maintenance_description"): vol.Any(None, cv.string),
    vol.Optional("maintenance_url"): vol.Any(None, cv.url),
    vol.Optional("maintenance_message"): vol.Any(
        None, vol.All(cv.string, vol.Length(max=32))
    ),
    vol.Optional("block_when_maintenance_due", default=False): cv.boolean,
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
}
AUTHORIZATION_UPDATE_FIELDS: dict[Any, Any] = {
    vol.Optional("expires"): vol.Any(None, _datetime_text),
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


class MemberStore(Store[collection.SerializedStorageCollection]):
    """Members' storage, migrated from older layouts."""

    @override
    async def _async_migrate_func(
        self, old_major_version: int, old_minor_version: int, old_data: Any
    ) -> collection.SerializedStorageCollection:
        """Bring stored members to the current layout.

        1.1 had a single ``card`` per member; 1.2 keeps a list ``cards``.
        """
        data: collection.SerializedStorageCollection = old_data
        if old_major_version == 1 and old_minor_version < 2:
            for item in data["items"]:
                card = item.pop("card", None)
                item.setdefault("cards", [card] if card else [])
        return data


def _check(schema: dict[Any, Any], data: dict[str, Any]) -> dict[str, Any]:
    """Validate ``data``; turn schema errors into a translated error."""
    try:
        validated: dict[str, Any] = vol.Schema(schema)(data)
    except vol.Invalid as err:
        raise AccessValidationError("invalid_data", error=str(err)) from err
    return validated


class MemberCollection(collection.DictStorageCollection):
    """Lab members."""

    @override
    async def _process_create_data(self, data: dict[str, Any]) -> dict[str, Any]:
        validated = _check(MEMBER_FIELDS, data)
        self._check_cards(validated["cards"], None)
        self._check_user(validated.get("user_id"), None)
        if (pin := validated.pop("pin", None)) is not None:
            validated["pin_hash"] = await async_hash_pin(self.hass, pin)
        now = dt_util.utcnow().isoformat()
        validated["created"] = validated["updated"] = now
        return validated

    @override
    def _get_suggested_id(self, info: dict[str, Any]) -> str:
        return str(info["name"])

    @override
    async def _update_data(
        self, item: dict[str, Any], update_data: dict[str, Any]
    ) -> dict[str, Any]:
        validated = _check(
            {**MEMBER_UPDATE_FIELDS, vol.Optional("pin"): str}, update_data
        )
        if "cards" in validated:
            self._check_cards(validated["cards"], item["id"])
        if "user_id" in validated:
            self._check_user(validated["user_id"], item["id"])
        if (pin := validated.pop("pin", None)) is not None:
            validated["pin_hash"] = await async_hash_pin(self.hass, pin)
        return {**item, **validated, "updated": dt_util.utcnow().isoformat()}

    def _check_cards(self, cards: list[str], member_id: str | None) -> None:
        if len(set(cards)) != len(cards):
            raise AccessValidationError("card_duplicate", card=cards[0])
        for other in self.data.values():
            if other["id"] == member_id:
                continue
            if taken := set(cards) & set(other["cards"]):
                raise AccessValidationError("card_in_use", card=sorted(taken)[0])

    def _check_user(self, user_id: str | None, member_id: str | None) -> None:
        if user_id is None:
            return
        for other in self.data.values():
            if other["id"] != member_id and other.get("user_id") == user_id:
                raise AccessValidationError("user_linked", user_id=user_id)

    def by_card(self, card: str) -> dict[str, Any] | None:
        """Return the member holding ``card``."""
        return next((m for m in self.data.values() if card in m["cards"]), None)


class MachineTypeCollection(collection.DictStorageCollection):
    """Kinds of equipment, with their session rules and maintenance plans."""

    @override
    async def _process_create_data(self, data: dict[str, Any]) -> dict[str, Any]:
        return _check(MACHINE_TYPE_FIELDS, data)

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
        return {**item, **_check(AUTHORIZATION_UPDATE_FIELDS, update_data)}

    def of_member(self, member_id: str) -> list[dict[str, Any]]:
        """Return a member's authorizations."""
        return [a for a in self.data.values() if a["member_id"] == member_id]


def member_store(hass: HomeAssistant) -> MemberStore:
    """Return the members' store (private: it holds PIN hashes)."""
    return MemberStore(
        hass,
        MEMBERS_STORAGE_VERSION,
        MEMBERS_STORAGE_KEY,
        minor_version=MEMBERS_STORAGE_MINOR_VERSION,
        private=True,
    )


def collection_store(
    hass: HomeAssistant, key: str
) -> Store[collection.SerializedStorageCollection]:
    """Return a plain collection store."""
    return Store(hass, COLLECTION_STORAGE_VERSION, key)
