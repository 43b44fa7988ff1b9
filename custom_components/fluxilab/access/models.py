"""The engine's typed way in and out: an access request, its decision.

Devices speak wire bodies (``ACCESS_REQUEST_SCHEMA`` and ``ACCESS_REPLY_SCHEMA``,
protocol/schemas.py). ``AccessEngine.async_handle_request`` turns one into an
:class:`AccessRequest` and its :class:`Decision` back into a reply body; the
engine itself, and the Fab-O-Matic board's side, decide on these. What a device
decided on its own comes later from its backlog, an :class:`AccessRecord`
(``AccessEngine.async_handle_record``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from custom_components.fluxilab.protocol.schemas import (
    ACCESS_REPLY_SCHEMA,
    AccessAction,
)

from .const import Reason


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessRequest:
    """What a device asks: a check, a session start, heartbeat or stop, maintenance."""

    id: str
    action: AccessAction
    card: str | None = None
    member_id: str | None = None
    """A member who logged in at the device (PIN checked there, from its mirror).

    With ``card`` too: the card's member gave this member's PIN (``require_pin``)."""
    pin_failed: bool = False
    """With ``card``: the PIN given at the device did not match the card's member."""
    session_id: str | None = None
    duration: float | None = None
    description: str | None = None
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
    name: str | None = None
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
