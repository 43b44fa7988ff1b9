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

Everything here is pure (no I/O) and typed: the rules take and return
member_models.py's ``Credential`` and ``Member``. The member collection (store.py)
reads its stored dicts into them and writes ``Credential.as_dict()`` back, and the
replies show ``Credential.as_wire()``. Only the migrations below work on the stored
item itself (the storage edge).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, Final
import uuid

from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util
import probatio as vol

from .errors import AccessValidationError
from .member_models import Credential, CredentialType, Member

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
) -> Credential:
    """Build a fresh, active credential (a PIN: initial if ``must_change``)."""
    is_card = kind is CredentialType.CARD
    return Credential(
        id=uuid.uuid4().hex,
        type=kind,
        label=label,
        active=True,
        created=now,
        last_used=None,
        card=card if is_card else None,
        pin_hash=None if is_card else pin_hash,
        must_change=False if is_card else must_change,
    )


def default_label(kind: CredentialType, credentials: Sequence[Credential]) -> str:
    """Name a credential nobody named: ``Card 2``, ``PIN``."""
    if kind is CredentialType.PIN:
        return DEFAULT_PIN_LABEL
    taken = {c.label for c in credentials}
    number = sum(1 for c in credentials if c.is_card) + 1
    while f"Card {number}" in taken:
        number += 1
    return f"Card {number}"


def credential_of(member: Member, credential_id: str) -> Credential:
    """Return one of a member's credentials; unknown ids are a translated error."""
    for credential in member.credentials:
        if credential.id == credential_id:
            return credential
    raise AccessValidationError(
        "unknown_credential", credential=credential_id, member=member.id
    )


def touch(credential: Credential, when: datetime) -> Credential | None:
    """Note a granted use: the credential with its new ``last_used``.

    None if ``last_used`` would not move (older replays do not).
    """
    seen = credential.last_used
    if seen is not None and seen >= when:
        return None
    return replace(credential, last_used=dt_util.as_utc(when))


def mask_card(card: str) -> str:
    """Show only the last four characters of a card number."""
    return "•" * max(len(card) - 4, 2) + card[-4:]


def with_cards(
    credentials: Sequence[Credential], uids: list[str], now: datetime
) -> list[Credential]:
    """Return ``credentials`` holding exactly the cards ``uids`` (the list input).

    Cards already held keep their id, label, active flag and last use; new ones get a
    default label; cards not listed are dropped. The PIN is kept.
    """
    if len(set(uids)) != len(uids):
        duplicate = next(uid for uid in uids if uids.count(uid) > 1)
        raise AccessValidationError("card_duplicate", card=duplicate)
    held = {c.card: c for c in credentials if c.is_card}
    result = [c for c in credentials if not c.is_card]
    cards: list[Credential] = []
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
    credentials: Sequence[Credential],
    pin_hash: str,
    now: datetime,
    *,
    must_change: bool,
) -> list[Credential]:
    """Return ``credentials`` with the PIN set to ``pin_hash`` (added if missing).

    ``must_change`` marks an initial PIN (an admin's); the member's own change clears
    it. A changed PIN keeps its label and active flag: re-setting a PIN an admin
    deactivated does not reactivate it.
    """
    result: list[Credential] = []
    found = False
    for credential in credentials:
        if credential.type is CredentialType.PIN:
            result.append(
                replace(credential, pin_hash=pin_hash, must_change=must_change)
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


def check_credentials(credentials: Sequence[Credential]) -> None:
    """Refuse a second PIN or a card listed twice within one member."""
    if sum(1 for c in credentials if c.type is CredentialType.PIN) > 1:
        raise AccessValidationError("pin_exists")
    for credential in credentials:
        if credential.is_card and not credential.card:
            raise AccessValidationError("invalid_data", error="card missing")
        if credential.type is CredentialType.PIN and not credential.pin_hash:
            raise AccessValidationError("invalid_data", error="pin_hash missing")
    uids = [c.card for c in credentials if c.is_card]
    if len(set(uids)) != len(uids):
        duplicate = next(uid for uid in uids if uids.count(uid) > 1)
        raise AccessValidationError("card_duplicate", card=str(duplicate))
    ids = [c.id for c in credentials]
    if len(set(ids)) != len(ids):
        raise AccessValidationError("invalid_data", error="credential id repeated")


def card_uids(credentials: Iterable[Credential]) -> list[str]:
    """Return the uids of the cards among ``credentials`` (active or not)."""
    return [c.card for c in credentials if c.is_card and c.card is not None]


def migrate_member(item: dict[str, Any], now: datetime) -> None:
    """Turn a 1.2 member (``cards`` list, ``pin_hash``) into ``credentials`` (1.3)."""
    if "credentials" in item:
        item.pop("cards", None)
        item.pop("pin_hash", None)
        return
    credentials = with_cards([], list(dict.fromkeys(item.pop("cards", []) or [])), now)
    if pin_hash := item.pop("pin_hash", None):
        credentials = with_pin_hash(credentials, pin_hash, now, must_change=False)
    stored = [credential.as_dict() for credential in credentials]
    if created := item.get("created"):
        for credential in stored:
            credential["created"] = created
    item["credentials"] = stored


def migrate_pin_flag(item: dict[str, Any]) -> None:
    """Mark a 1.3 member's PIN as their own (1.4 knows initial PINs)."""
    for credential in item.get("credentials", []):
        if credential["type"] == CredentialType.PIN:
            credential.setdefault("must_change", False)
