"""A device's access request, the hub's decision, and what a device decided alone.

The messages of the access channels (``ACCESS_REQUEST_SCHEMA``,
``ACCESS_REPLY_SCHEMA`` and the backlog's ``ACCESS_EVENT_SCHEMA``,
protocol/schemas.py) as the hub works with them. The device runtime reads a
checked request body once into an :class:`AccessRequest` (``from_wire``), the
engine decides it (``AccessEngine.async_decide``), and the runtime sends the
:class:`Decision` back as its reply body (``as_wire``). What a device decided on
its own comes later from its backlog, read once into an :class:`AccessRecord`
(``AccessEngine.async_handle_record``). A Fab-O-Matic board's side
(access/fabomatic.py) builds these from the board's own queries. Pure Python
like the rest of the protocol: the device layer, below the engine, speaks these
too. No repr shows a card, a name or a problem report's text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .schemas import ACCESS_REPLY_SCHEMA, AccessAction


class Reason(StrEnum):
    """Stable reason codes of decisions (docs/ACCESS.md)."""

    GRANTED = "granted"
    UNKNOWN_CARD = "unknown_card"
    CREDENTIAL_INACTIVE = "credential_inactive"
    """The card (or PIN) was deactivated, e.g. reported lost."""
    PIN_CHANGE_REQUIRED = "pin_change_required"
    """A device login with an initial PIN: it only serves to replace it."""
    PIN_REQUIRED = "pin_required"
    """The machine type wants card + PIN and only the card came: ask for the PIN."""
    PIN_WRONG = "pin_wrong"
    """The PIN given with the card is not the card's member's (counted, backs off)."""
    PIN_LOCKED = "pin_locked"
    """Too many wrong PINs for the card's member: PINs back off for a while."""
    CARD_REQUIRED = "card_required"
    """The machine type wants card + PIN and only a PIN login came."""
    UNKNOWN_MEMBER = "unknown_member"
    NO_CREDENTIAL = "no_credential"
    INACTIVE = "inactive"
    NOT_AUTHORIZED = "not_authorized"
    EXPIRED = "expired"
    LAPSED = "lapsed"
    """Unused for longer than the machine type's ``lapse_after_months``."""
    OUTSIDE_HOURS = "outside_hours"
    BLOCKED = "blocked"
    MAINTENANCE_DUE = "maintenance_due"
    SAFETY_LIMIT = "safety_limit"
    NO_SUPERVISOR = "no_supervisor"
    """The machine needs a supervisor present and none is."""
    BOOKED_BY_OTHER = "booked_by_other"
    """Another member's booking runs now (bookings.py)."""
    BOOKING_REQUIRED = "booking_required"
    """The machine type requires a booking and the member has none running now."""
    BOOKED_SOON = "booked_soon"
    """Granted, with a warning: another member's booking starts soon."""
    OUTAGE = "outage"
    """Staff scheduled an outage of the device that runs now (bookings.py)."""
    UNSAFE = "unsafe"
    """A member reported the machine unsafe; staff have not cleared it (problems.py)."""
    NOT_ALLOWED = "not_allowed"
    """The member may not register maintenance."""
    PROBLEM_REPORTED = "problem_reported"
    """A member's problem report from the device was filed (problems.py)."""
    SESSION_UPDATED = "session_updated"
    SESSION_ENDED = "session_ended"
    SESSION_UNKNOWN = "session_unknown"
    MAINTENANCE_RECORDED = "maintenance_recorded"


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessRequest:
    """What a device asks: a check, a session start, heartbeat or stop, maintenance."""

    id: str
    action: AccessAction
    card: str | None = field(default=None, repr=False)
    member_id: str | None = None
    """A member who logged in at the device (PIN checked there, from its mirror).

    With ``card`` too: the card's member gave this member's PIN (``require_pin``)."""
    pin_failed: bool = False
    """With ``card``: the PIN given at the device did not match the card's member."""
    session_id: str | None = None
    duration: float | None = None
    description: str | None = field(default=None, repr=False)
    """A problem report's text (``problem_report``)."""
    unsafe: bool = False
    """A problem report marks the machine unsafe."""
    project: str | None = None
    """For a session start: the project chosen at the device (project_store.py)."""

    @classmethod
    def from_wire(cls, body: Mapping[str, Any]) -> AccessRequest:
        """Read a request body already validated by ``ACCESS_REQUEST_SCHEMA``."""
        return cls(
            id=body["id"],
            action=AccessAction(body["action"]),
            card=body.get("card"),
            member_id=body.get("member_id"),
            pin_failed=bool(body.get("pin_failed", False)),
            session_id=body.get("session_id"),
            duration=body.get("duration"),
            description=body.get("description"),
            unsafe=bool(body.get("unsafe", False)),
            project=body.get("project"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessRecord:
    """What a device decided or ran on its own and reports later (its backlog).

    The event of an access record (``ACCESS_EVENT_SCHEMA``); the record's time and
    whether it was buffered come beside it.
    """

    action: AccessAction
    request_id: str | None = None
    """The request the device asked the hub first, if it did (its reply was lost)."""
    card: str | None = field(default=None, repr=False)
    member_id: str | None = None
    granted: bool = False
    offline: bool = False
    """Granted from the device's own mirror while the hub was away."""
    reason: str | None = None
    session_id: str | None = None
    duration: float | None = None

    @classmethod
    def from_wire(cls, body: Mapping[str, Any]) -> AccessRecord:
        """Read an access event as ``ACCESS_EVENT_SCHEMA`` leaves it."""
        return cls(
            action=AccessAction(body["action"]),
            request_id=body.get("request_id"),
            card=body.get("card"),
            member_id=body.get("member_id"),
            granted=bool(body.get("granted")),
            offline=bool(body.get("offline")),
            reason=body.get("reason"),
            session_id=body.get("session_id"),
            duration=body.get("duration"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """The engine's answer to one request."""

    id: str
    granted: bool
    reason: Reason
    member_id: str | None = None
    name: str | None = field(default=None, repr=False)
    """The member's name, for the device to show."""
    level: str | None = None
    """The member's role."""
    session_id: str | None = None
    timeout: float | None = None
    grace: float | None = None
    message: str | None = None
    """The machine type's maintenance message, for a refusal as maintenance due."""

    def as_wire(self) -> dict[str, Any]:
        """Return the reply body (unset fields left out), checked by its schema."""
        body: dict[str, Any] = {"id": self.id, "granted": self.granted}
        body["reason"] = self.reason.value
        for key in _OPTIONAL:
            if (value := getattr(self, key)) is not None:
                body[key] = value
        reply: dict[str, Any] = ACCESS_REPLY_SCHEMA(body)
        return reply


_OPTIONAL = ("member_id", "name", "level", "session_id", "timeout", "grace", "message")
