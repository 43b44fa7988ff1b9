"""Several credentials per member: cards and a PIN, each on its own.

A member's ``credentials`` list holds what identifies them at a device::

    {"id": "<uuid hex>", "type": "card" | "pin", "label": "Blue badge",
     "active": True, "created": "<iso>", "last_used": "<iso>" | None,
     "card": "<uid>"}          # cards
     "pin_hash": "<bcrypt>",   # the PIN (at most one)
     "must_change": bool}      # an initial PIN, issued by an admin

Each credential has its own active flag: a lost card is deactivated (by an admin, or
by its member) and refused as ``credential_inactive``, while the member's other cards
and PIN keep working. Card uids are unique across all members, whether active or not.

The PIN belongs to its member. An admin issues an *initial* PIN (when creating the
member, or with a reset that draws a random one); an initial PIN has ``must_change``
and works only to replace it: devices refuse it as ``pin_change_required``. Every
change after that is the member's, and proves the current PIN first.

Everything here is pure (no I/O): the member collection (store.py) applies these
rules to the stored dicts. The core reads members through typed views built from
them (member_models.py ``Member``, ``Credential``); the helpers below that take a
stored member serve the collection's writes and the replies built from storage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, Final
import uuid

from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util
import probatio as vol

from .errors import AccessValidationError
from .member_models import CredentialType

CARD = vol.All(cv.string, vol.Strip, vol.Length(min=1, max=64))
LABEL = vol.All(cv.string, vol.Strip, vol.Length(min=1, max=64))
DEFAULT_PIN_LABEL: Final = "PIN"


STORED_CREDENTIAL = vol.Schema(
    {
        vol.Required("id"): vol.All(cv.string, vol.Length(min=1, max=64)),
        vol.Required("type"): vol.All(vol.Coerce(CredentialType), str),
        vol.Required("label"): LABEL,
        vol.Required("active"): cv.boolean,
        vol.Required("created"): cv.string,
        vol.Optional("last_used"): vol.Any(None, cv.string),
        vol.Optional("card"): CARD,
        vol.Optional("pin_hash"): cv.string,
        vol.Optional("must_change"): cv.boolean,
    }
)
"""A credential as the member collection stores it (internal updates only)."""


def new_credential(
    kind: CredentialType,
    *,
    label: str,
    now: datetime,
    card: str | None = None,
    pin_hash: str | None = None,
    must_change: bool = False,
) -> dict[str, Any]:
    """Build a fresh, active credential (a PIN: initial if ``must_change``)."""
    credential: dict[str, Any] = {
        "id": uuid.uuid4().hex,
        "type": kind.value,
        "label": label,
        "active": True,
        "created": now.isoformat(),
        "last_used": None,
    }
    if kind is CredentialType.CARD:
        credential["card"] = card
    else:
        credential["pin_hash"] = pin_hash
        credential["must_change"] = must_change
    return credential


def default_label(
    kind: CredentialType, credentials: Iterable[Mapping[str, Any]]
) -> str:
    """Name a credential nobody named: ``Card 2``, ``PIN``."""
    if kind is CredentialType.PIN:
        return DEFAULT_PIN_LABEL
    taken = {c["label"] for c in credentials}
    number = sum(1 for c in credentials if c["type"] == CredentialType.CARD) + 1
    while f"Card {number}" in taken:
        number += 1
    return f"Card {number}"


def credentials_of(member: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return a member's credentials (none for a member stored without any)."""
    found: list[dict[str, Any]] = member.get("credentials", [])
    return found


def member_cards(member: Mapping[str, Any], *, active_only: bool = True) -> list[str]:
    """Return the uids of a member's cards (by default only the active ones)."""
    return [
        c["card"]
        for c in credentials_of(member)
        if c["type"] == CredentialType.CARD and (c["active"] or not active_only)
    ]


def pin_credential(member: Mapping[str, Any]) -> dict[str, Any] | None:
    """Return a member's PIN credential, active or not."""
    return next(
        (c for c in credentials_of(member) if c["type"] == CredentialType.PIN), None
    )


def member_pin_hash(
    member: Mapping[str, Any], *, active_only: bool = True
) -> str | None:
    """Return the hash of a member's PIN (by default only if the PIN is active)."""
    pin = pin_credential(member)
    if pin is None or (active_only and not pin["active"]):
        return None
    pin_hash: str | None = pin.get("pin_hash")
    return pin_hash


def pin_must_change(member: Mapping[str, Any]) -> bool:
    """Return True if the member's PIN is an initial one, not yet replaced."""
    pin = pin_credential(member)
    return pin is not None and bool(pin.get("must_change", False))


def credential_of(member: Mapping[str, Any], credential_id: str) -> dict[str, Any]:
    """Return one of a member's credentials; unknown ids are a translated error."""
    for credential in credentials_of(member):
        if credential["id"] == credential_id:
            return credential
    raise AccessValidationError(
        "unknown_credential", credential=credential_id, member=str(member["id"])
    )


def find_card(
    members: Iterable[dict[str, Any]], uid: str
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Return the member holding card ``uid`` and its credential (active or not)."""
    for member in members:
        for credential in credentials_of(member):
            if credential["type"] == CredentialType.CARD and credential["card"] == uid:
                return member, credential
    return None


def touch(credential: dict[str, Any], when: datetime) -> bool:
    """Note a granted use; True if ``last_used`` moved (older replays do not)."""
    current = credential.get("last_used")
    seen = dt_util.parse_datetime(current) if current is not None else None
    if seen is not None and seen >= when:
        return False
    credential["last_used"] = dt_util.as_utc(when).isoformat()
    return True


def mask_card(card: str) -> str:
    """Show only the last four characters of a card number."""
    return "•" * max(len(card) - 4, 2) + card[-4:]


def public_credential(
    credential: Mapping[str, Any], mask: Callable[[str], str] | None = None
) -> dict[str, Any]:
    """Return a credential as callers see it: never a hash, the card maybe masked."""
    shown = {k: v for k, v in credential.items() if k != "pin_hash"}
    shown.setdefault("last_used", None)
    if mask is not None and "card" in shown:
        shown["card"] = mask(shown["card"])
    return shown


def public_credentials(
    member: Mapping[str, Any], mask: Callable[[str], str] | None = None
) -> list[dict[str, Any]]:
    """Return all of a member's credentials, without hashes."""
    return [public_credential(c, mask) for c in credentials_of(member)]


def with_cards(
    credentials: list[dict[str, Any]], uids: list[str], now: datetime
) -> list[dict[str, Any]]:
    """Return ``credentials`` holding exactly the cards ``uids`` (the list input).

    Cards already held keep their id, label, active flag and last use; new ones get a
    default label; cards not listed are dropped. The PIN is kept.
    """
    if len(set(uids)) != len(uids):
        duplicate = next(uid for uid in uids if uids.count(uid) > 1)
        raise AccessValidationError("card_duplicate", card=duplicate)
    held = {c["card"]: c for c in credentials if c["type"] == CredentialType.CARD}
    result = [c for c in credentials if c["type"] != CredentialType.CARD]
    cards: list[dict[str, Any]] = []
    for uid in uids:
        if (existing := held.get(uid)) is None:
            existing = new_credential(
                CredentialType.CARD,
                label=default_label(CredentialType.CARD, [*result, *cards]),
                now=now,
                card=uid,
            )
        cards.append(existing)
    return [*cards, *result]


def with_pin_hash(
    credentials: list[dict[str, Any]],
    pin_hash: str,
    now: datetime,
    *,
    must_change: bool,
) -> list[dict[str, Any]]:
    """Return ``credentials`` with the PIN set to ``pin_hash`` (added if missing).

    ``must_change`` marks an initial PIN (an admin's); the member's own change clears
    it. A changed PIN keeps its label and active flag: re-setting a PIN an admin
    deactivated does not reactivate it.
    """
    result: list[dict[str, Any]] = []
    found = False
    for credential in credentials:
        if credential["type"] == CredentialType.PIN:
            result.append(
                {**credential, "pin_hash": pin_hash, "must_change": must_change}
            )
            found = True
        else:
            result.append(credential)
    if not found:
        result.append(
            new_credential(
                CredentialType.PIN,
                label=DEFAULT_PIN_LABEL,
                now=now,
                pin_hash=pin_hash,
                must_change=must_change,
            )
        )
    return result


def check_credentials(credentials: list[dict[str, Any]]) -> None:
    """Refuse a second PIN or a card listed twice within one member."""
    if sum(1 for c in credentials if c["type"] == CredentialType.PIN) > 1:
        raise AccessValidationError("pin_exists")
    for credential in credentials:
        if credential["type"] == CredentialType.CARD and not credential.get("card"):
            raise AccessValidationError("invalid_data", error="card missing")
        if credential["type"] == CredentialType.PIN and not credential.get("pin_hash"):
            raise AccessValidationError("invalid_data", error="pin_hash missing")
    uids = [c["card"] for c in credentials if c["type"] == CredentialType.CARD]
    if len(set(uids)) != len(uids):
        duplicate = next(uid for uid in uids if uids.count(uid) > 1)
        raise AccessValidationError("card_duplicate", card=duplicate)
    ids = [c["id"] for c in credentials]
    if len(set(ids)) != len(ids):
        raise AccessValidationError("invalid_data", error="credential id repeated")


def migrate_member(item: dict[str, Any], now: datetime) -> None:
    """Turn a 1.2 member (``cards`` list, ``pin_hash``) into ``credentials`` (1.3)."""
    if "credentials" in item:
        item.pop("cards", None)
        item.pop("pin_hash", None)
        return
    credentials = with_cards([], list(dict.fromkeys(item.pop("cards", []) or [])), now)
    if pin_hash := item.pop("pin_hash", None):
        credentials = with_pin_hash(credentials, pin_hash, now, must_change=False)
    if created := item.get("created"):
        for credential in credentials:
            credential["created"] = created
    item["credentials"] = credentials


def migrate_pin_flag(item: dict[str, Any]) -> None:
    """Mark a 1.3 member's PIN as their own (1.4 knows initial PINs)."""
    for credential in credentials_of(item):
        if credential["type"] == CredentialType.PIN:
            credential.setdefault("must_change", False)
