"""Members and their credentials as the core reads them: typed, immutable views.

The member collection (store.py ``MemberCollection``) stores dicts, the storage
edge; it builds a :class:`Member` once per change of a member (``member``,
``card_holder``), so the engine, the sync and presence read fields instead of keys,
and ISO dates are parsed there rather than at every card check.

Nothing personal goes into a repr: names, e-mail addresses and card uids are left
out (log lines and tracebacks show reprs), and so is a PIN's hash.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from homeassistant.util import dt as dt_util

from .const import DEACTIVATE_LOGIN, LOGIN_CREATED


class CredentialType(StrEnum):
    """What a credential is."""

    CARD = "card"
    PIN = "pin"


def _moment(value: Any) -> datetime | None:
    """Parse a stored ISO date/time (None, or unreadable: None)."""
    if not isinstance(value, str):
        return None
    return dt_util.parse_datetime(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class Credential:
    """One of a member's cards, or their PIN (credentials.py has the rules)."""

    id: str
    type: CredentialType
    label: str
    active: bool
    created: datetime | None = None
    last_used: datetime | None = None
    card: str | None = field(default=None, repr=False)
    """The card's uid (cards only): personal, so never in the repr."""
    pin_hash: str | None = field(default=None, repr=False)
    """The PIN's bcrypt hash (the PIN only)."""
    must_change: bool = False
    """An initial PIN an admin issued, refused until its member replaces it."""

    @classmethod
    def from_storage(cls, item: Mapping[str, Any]) -> Credential:
        """Read a credential as the member collection stores it."""
        return cls(
            id=str(item["id"]),
            type=CredentialType(item["type"]),
            label=str(item.get("label", "")),
            active=bool(item.get("active", True)),
            created=_moment(item.get("created")),
            last_used=_moment(item.get("last_used")),
            card=item.get("card"),
            pin_hash=item.get("pin_hash"),
            must_change=bool(item.get("must_change", False)),
        )

    def as_dict(self) -> dict[str, Any]:
        """Return the credential as the member collection stores it.

        In the stored order and with the stored keys: ``card`` for a card,
        ``pin_hash`` and ``must_change`` for the PIN.
        """
        stored: dict[str, Any] = {
            "id": self.id,
            "type": self.type.value,
            "label": self.label,
            "active": self.active,
            "created": self.created.isoformat() if self.created is not None else "",
            "last_used": None if self.last_used is None else self.last_used.isoformat(),
        }
        if self.is_card:
            stored["card"] = self.card
        else:
            stored["pin_hash"] = self.pin_hash
            stored["must_change"] = self.must_change
        return stored

    def as_wire(self, mask: Callable[[str], str] | None = None) -> dict[str, Any]:
        """Return the credential as callers see it: never a hash, the card maybe masked."""
        shown = self.as_dict()
        shown.pop("pin_hash", None)
        if mask is not None and self.card is not None and "card" in shown:
            shown["card"] = mask(self.card)
        return shown

    @property
    def is_card(self) -> bool:
        """Return True for a card (False for the PIN)."""
        return self.type is CredentialType.CARD


@dataclass(frozen=True, slots=True, kw_only=True)
class Member:
    """A lab member with their credentials, as stored when the view was built."""

    id: str
    name: str = field(repr=False)
    email: str | None = field(default=None, repr=False)
    active: bool = True
    role: str
    """A built-in role's id or the lab's own (roles.py)."""
    user_id: str | None = None
    """The linked Home Assistant user (logins.py)."""
    notify_service: str | None = None
    supervise: bool = False
    """Counts as a supervisor whatever the role (presence.py)."""
    deactivate_login: bool = False
    """Deactivate the linked login with the member (logins.py)."""
    login_created: bool = False
    """FluxiLab created the linked login with the member (logins.py audits it)."""
    credentials: tuple[Credential, ...] = ()

    @classmethod
    def from_storage(cls, item: Mapping[str, Any]) -> Member:
        """Read a member as the member collection stores it (parsed once)."""
        return cls(
            id=str(item["id"]),
            name=str(item.get("name", "")),
            email=item.get("email"),
            active=bool(item.get("active", True)),
            role=str(item.get("role", "user")),
            user_id=item.get("user_id"),
            notify_service=item.get("notify_service"),
            supervise=bool(item.get("supervise", False)),
            deactivate_login=bool(item.get(DEACTIVATE_LOGIN, False)),
            login_created=bool(item.get(LOGIN_CREATED, False)),
            credentials=tuple(
                Credential.from_storage(c) for c in item.get("credentials", ())
            ),
        )

    def cards(self, *, active_only: bool = True) -> list[str]:
        """Return the uids of the member's cards (by default only the active ones)."""
        return [
            c.card
            for c in self.credentials
            if c.card is not None and c.is_card and (c.active or not active_only)
        ]

    def card(self, uid: str) -> Credential | None:
        """Return the member's credential of card ``uid`` (active or not)."""
        return next((c for c in self.credentials if c.is_card and c.card == uid), None)

    @property
    def pin(self) -> Credential | None:
        """The member's PIN credential, active or not."""
        return next((c for c in self.credentials if c.type is CredentialType.PIN), None)

    def pin_hash(self, *, active_only: bool = True) -> str | None:
        """Return the hash of the member's PIN (by default only if it is active)."""
        pin = self.pin
        if pin is None or (active_only and not pin.active):
            return None
        return pin.pin_hash

    @property
    def pin_must_change(self) -> bool:
        """True if the member's PIN is an initial one, not yet replaced."""
        pin = self.pin
        return pin is not None and pin.must_change
