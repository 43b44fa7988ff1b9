"""The lab's rules as the core reads them: machine types and authorizations.

The storage collections (store.py) keep the stored dicts (that is the storage
edge, and what the websocket and services reply); the decision, the credential
sync, lapsing, maintenance and the telemetry rules read these typed, immutable
views instead. Each is parsed once when its collection changes (ISO dates and
lab-hours times included), never per card check.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time as dt_time
from typing import Any

from homeassistant.util import dt as dt_util

from custom_components.fluxilab.protocol.schemas import OfflinePolicy

from .bookings import BookingRules
from .const import (
    DEFAULT_GRACE_PERIOD,
    DEFAULT_OFFLINE_MAX_AGE_HOURS,
    DEFAULT_SESSION_TIMEOUT,
)
from .rule_models import Condition, condition_from_storage


def _moment(text: str | None) -> datetime | None:
    """Return a stored ISO date/time, or None (absent, empty or unreadable)."""
    return dt_util.parse_datetime(text) if text else None


def _clock(text: str | None) -> dt_time | None:
    """Return a stored lab-hours bound (HH:MM), or None."""
    return dt_time.fromisoformat(text) if text else None


def hh_mm(value: dt_time) -> str:
    """Return a lab-hours bound as stored and mirrored (HH:MM)."""
    return value.strftime("%H:%M")


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class SafetyLimit:
    """A telemetry channel's allowed range while a session runs."""

    channel: str
    min: float | None = None
    max: float | None = None

    @classmethod
    def from_storage(cls, item: Mapping[str, Any]) -> SafetyLimit:
        """Read one stored limit (``channel``, optional ``min`` and ``max``)."""
        return cls(
            channel=str(item["channel"]),
            min=_optional_float(item.get("min")),
            max=_optional_float(item.get("max")),
        )

    def as_wire(self) -> dict[str, Any]:
        """Return the limit as stored and mirrored (unset bounds left out)."""
        wire: dict[str, Any] = {"channel": self.channel}
        if self.min is not None:
            wire["min"] = self.min
        if self.max is not None:
            wire["max"] = self.max
        return wire


def default_offline_policy(item: Mapping[str, Any]) -> OfflinePolicy:
    """``deny`` for a type with safety limits, else ``allow_mirrored``.

    A device can check its own readings offline, but a hub that cannot see them
    does not vouch for them: a type that guards against a hazard refuses offline
    unless its admin chooses otherwise.
    """
    if item.get("safety_limits"):
        return OfflinePolicy.DENY
    return OfflinePolicy.ALLOW_MIRRORED


@dataclass(frozen=True, slots=True, kw_only=True)
class MachineType:
    """A kind of equipment: its session rules, plans and limits (store.py fields).

    Absent fields read as the schema's defaults, so a type stored before a field
    existed reads as a new one would.
    """

    id: str
    name: str | None = None
    session_timeout: float = DEFAULT_SESSION_TIMEOUT
    grace_period: float = DEFAULT_GRACE_PERIOD
    requires_authorization: bool = True
    safety_limits: tuple[SafetyLimit, ...] = ()
    maintenance_interval: float | None = None
    """Usage hours between two maintenances (a device's option overrides it)."""
    maintenance_description: str | None = None
    maintenance_url: str | None = None
    maintenance_message: str | None = None
    block_when_maintenance_due: bool = False
    require_pin: bool = False
    """A session needs the card and its member's PIN."""
    lapse_after_months: int | None = None
    """Unused this long, an authorization lapses (lapses.py)."""
    requires_supervisor: bool = False
    supervisor_minutes: int | None = None
    supervised_hours_start: dt_time | None = None
    supervised_hours_end: dt_time | None = None
    training_expiry_days: int | None = None
    offline_policy: OfflinePolicy = OfflinePolicy.ALLOW_MIRRORED
    offline_max_age: float = DEFAULT_OFFLINE_MAX_AGE_HOURS
    """Hours a device's mirror stays good offline."""
    busy_channel: str | None = None
    busy_above: float | None = None
    busy_delay: float | None = None
    maintenance_conditions: tuple[Condition, ...] = ()
    """Condition rules (rule_models.py; telemetry_rules.py runs them)."""
    booking: BookingRules = field(default_factory=BookingRules)
    """Booking rules (bookings.py), their defaults where the type sets none."""

    @classmethod
    def from_storage(cls, item: Mapping[str, Any]) -> MachineType:
        """Read a stored machine type (as validated by ``MACHINE_TYPE_FIELDS``)."""
        policy = item.get("offline_policy")
        return cls(
            id=str(item["id"]),
            name=item.get("name"),
            session_timeout=float(item.get("session_timeout", DEFAULT_SESSION_TIMEOUT)),
            grace_period=float(item.get("grace_period", DEFAULT_GRACE_PERIOD)),
            requires_authorization=bool(item.get("requires_authorization", True)),
            safety_limits=tuple(
                SafetyLimit.from_storage(limit)
                for limit in item.get("safety_limits") or ()
            ),
            maintenance_interval=_optional_float(item.get("maintenance_interval")),
            maintenance_description=item.get("maintenance_description"),
            maintenance_url=item.get("maintenance_url"),
            maintenance_message=item.get("maintenance_message"),
            block_when_maintenance_due=bool(
                item.get("block_when_maintenance_due", False)
            ),
            require_pin=bool(item.get("require_pin", False)),
            lapse_after_months=_optional_int(item.get("lapse_after_months")),
            requires_supervisor=bool(item.get("requires_supervisor", False)),
            supervisor_minutes=_optional_int(item.get("supervisor_minutes")),
            supervised_hours_start=_clock(item.get("supervised_hours_start")),
            supervised_hours_end=_clock(item.get("supervised_hours_end")),
            training_expiry_days=_optional_int(item.get("training_expiry_days")),
            offline_policy=OfflinePolicy(policy)
            if policy is not None
            else default_offline_policy(item),
            offline_max_age=float(
                item.get("offline_max_age", DEFAULT_OFFLINE_MAX_AGE_HOURS)
            ),
            busy_channel=item.get("busy_channel") or None,
            busy_above=_optional_float(item.get("busy_above")),
            busy_delay=_optional_float(item.get("busy_delay")),
            maintenance_conditions=tuple(
                condition_from_storage(condition)
                for condition in item.get("maintenance_conditions") or ()
            ),
            booking=BookingRules.from_storage(item),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Authorization:
    """Who may use which machine type (or single device), until when, at what hours."""

    id: str
    member_id: str
    machine_type_id: str | None = None
    device_id: str | None = None
    """Set instead of ``machine_type_id`` for one device only."""
    expires: datetime | None = None
    window_start: dt_time | None = None
    """Lab hours (local time; both or neither): a window may cross midnight."""
    window_end: dt_time | None = None
    trainer: bool = False
    """The member trains others on the target (presence.py)."""
    granted_by: str | None = None
    training: bool = False
    granted: datetime | None = None
    last_used: datetime | None = None
    """The last granted use (lapsing.py notes it in place on every swipe)."""

    @classmethod
    def from_storage(cls, item: Mapping[str, Any]) -> Authorization:
        """Read a stored authorization (as validated by ``AUTHORIZATION_FIELDS``)."""
        return cls(
            id=str(item["id"]),
            member_id=str(item["member_id"]),
            machine_type_id=item.get("machine_type_id"),
            device_id=item.get("device_id"),
            expires=_moment(item.get("expires")),
            window_start=_clock(item.get("window_start")),
            window_end=_clock(item.get("window_end")),
            trainer=bool(item.get("trainer", False)),
            granted_by=item.get("granted_by"),
            training=bool(item.get("training", False)),
            granted=_moment(item.get("granted")),
            last_used=_moment(item.get("last_used")),
        )
