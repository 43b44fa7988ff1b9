"""Who is in the lab, supervisors at the machines, and training at the machine.

Three lab-operations rules (docs/ACCESS.md) share one record of who is where:

* **Occupancy** (the fire list): a granted swipe at a device marked as the lab
  entrance checks its member in, the next one checks them out; a check-in expires
  after the ``checkin_expiry_hours`` setting. Present are the checked-in members
  plus every member with an open session (a session at an entrance is the door's
  unlock period and does not count). When the last checked-in member leaves,
  the sessions still open are closed (``lab_empty``), except at machines that
  telemetry says are working.
* **Supervisor present**: a machine type (or the hours outside its supervised
  window) requires a supervisor: an active member with the ``supervise`` flag or a
  role that may supervise, who swiped at the same device or was checked in within
  the type's ``supervisor_minutes``.
* **Instructor grant**: a trainer's granted swipe opens a training window of
  ``TRAINING_WINDOW`` seconds at that device; the next member refused for lack of an
  authorization there is authorized for the machine type and decided again.

Check-ins live in the history store (they survive a restart); supervisor swipes,
recent check-outs and training windows live in memory only: losing them on a restart
costs at most a new swipe.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time as dt_time, timedelta
import time
from typing import TYPE_CHECKING, Any, Final

from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import CALLBACK_TYPE, Context, Event, callback
from homeassistant.helpers import collection
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util

from custom_components.fluxilab.const import (
    ATTR_REASON,
    ATTR_TYPE,
    DOMAIN,
    EVENT_LAB,
)
from custom_components.fluxilab.history_db import LiveAudit

from .const import (
    CONF_ENTRANCE,
    DEFAULT_SUPERVISOR_MINUTES,
    AccessEventType,
    Reason,
    SessionEnd,
)
from .decisions import applies
from .events import fire_access_event
from .history import CheckIn
from .lab_models import Authorization, MachineType
from .member_models import Member
from .roles import LabRoles, Role, role_flags

if TYPE_CHECKING:
    from custom_components.fluxilab.device.port import AccessDevice

    from .lab import Lab

TRAINING_WINDOW: Final = 60.0
"""Seconds after a trainer's granted swipe in which the next refused member at the
same device is trained (one trainee per trainer swipe)."""
EXPIRY_CHECK_INTERVAL: Final = timedelta(minutes=1)
SIGNAL_OCCUPANCY: Final = f"{DOMAIN}_occupancy"
"""Dispatcher signal, argument the number of people present: occupancy changed."""
ENTRANCE: Final = "entrance"
"""``where`` of a checked-in member in the occupancy list."""

TRAINABLE: Final = frozenset({Reason.NOT_AUTHORIZED, Reason.EXPIRED})
"""Refusals a training window turns into an authorization (plus a lapsed one, when
the engine knows that reason)."""


class CheckOut:
    """Why a member was checked out (the ``reason`` of ``checked_out``)."""

    SWIPE: Final = "swipe"
    SERVICE: Final = "service"
    EXPIRED: Final = "expired"


@dataclass(frozen=True, slots=True, kw_only=True)
class PresentMember:
    """One member in the lab."""

    member_id: str
    name: str = field(repr=False)
    since: float
    where: tuple[str, ...]
    """``entrance`` if checked in, then the names of devices with an open session."""
    checked_in: bool
    card: str | None = field(repr=False)
    """The check-in card, masked (last four characters)."""

    def as_dict(self) -> dict[str, Any]:
        """Return the list entry of the service and websocket command."""
        return {
            "member_id": self.member_id,
            "name": self.name,
            "since": dt_util.utc_from_timestamp(self.since).isoformat(),
            "where": list(self.where),
            "checked_in": self.checked_in,
            "card": self.card,
        }


@dataclass(slots=True, kw_only=True)
class _Found:
    """A member found present, while the list is gathered."""

    name: str = field(repr=False)
    since: float
    where: list[str]
    checked_in: bool
    card: str | None = field(default=None, repr=False)


def mask_card(card: str) -> str:
    """Show only the last four characters of a card number."""
    return "•" * max(len(card) - 4, 2) + card[-4:]


def is_supervisor(member: Member, roles: LabRoles) -> bool:
    """Return True if an active member may supervise (flag set, or role may)."""
    return member.active and (
        member.supervise or role_flags(member.role, roles).may_supervise
    )


def _inside(begin: dt_time, finish: dt_time, now: datetime) -> bool:
    local = dt_util.as_local(now).time()
    if begin <= finish:
        return begin <= local < finish
    return local >= begin or local < finish  # a window across midnight


def supervision_required(machine_type: MachineType | None, now: datetime) -> bool:
    """Return True if the machine type needs a supervisor present at ``now``.

    ``requires_supervisor`` always does; otherwise a supervised-hours window
    (local HH:MM) requires one outside of it.
    """
    if machine_type is None:
        return False
    if machine_type.requires_supervisor:
        return True
    start = machine_type.supervised_hours_start
    end = machine_type.supervised_hours_end
    if start is None or end is None:
        return False
    return not _inside(start, end, now)


def is_entrance(device: AccessDevice) -> bool:
    """Return True if the admin marked the device as the lab entrance."""
    return bool(device.entry.options.get(CONF_ENTRANCE, False))


class Presence:
    """Check-ins, supervisor swipes and training windows of the engine."""

    def __init__(self, engine: Lab) -> None:
        """Prepare an empty record (check-ins load with the history)."""
        self.engine = engine
        self.hass = engine.hass
        self._supervisor_swipes: dict[str, dict[str, float]] = {}
        self._left: dict[str, float] = {}
        self._training: dict[str, tuple[str, float]] = {}
        self._unsubs: list[CALLBACK_TYPE] = []
        self._count: int | None = None

    # Setup ------------------------------------------------------------------------

    @callback
    def async_setup(self) -> None:
        """Start the expiry check and follow member changes (after history loads)."""
        self._unsubs = [
            async_track_time_interval(
                self.hass,
                self._async_expire,
                EXPIRY_CHECK_INTERVAL,
                name=f"{DOMAIN} check-in expiry",
            ),
            self.engine.members.async_add_listener(self._async_member_changed),
        ]
        self.hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, self._async_stop)

    async def _async_stop(self, _event: Event) -> None:
        for unsub in self._unsubs:
            unsub()
        self._unsubs = []

    async def _async_member_changed(
        self, change_type: str, item_id: str, item: dict[str, Any]
    ) -> None:
        """Forget a removed member's check-in and their name as a trainer."""
        if change_type != collection.CHANGE_REMOVED:
            return
        self._left.pop(item_id, None)
        for swipes in self._supervisor_swipes.values():
            swipes.pop(item_id, None)
        changed = self.engine.history.data["checked_in"].pop(item_id, None) is not None
        trained = [
            entry
            for entry in self.engine.history.data["audit"]
            if entry.detail("trainer_id") == item_id
        ]
        for entry in trained:
            entry.set_detail("trainer_id", None)
            entry.set_detail("trainer_name", None)
        if changed or trained:
            # Named, so the journal replaces its rows of them (crash-safe forgetting).
            self.engine.history.async_changed(*trained)
        self.async_changed()

    # Occupancy ----------------------------------------------------------------------

    def _check_ins(self) -> dict[str, CheckIn]:
        """Check-ins by member id, as the history holds them (a copy)."""
        return dict(self.engine.history.data["checked_in"])

    @property
    def expiry(self) -> float:
        """Seconds after which a check-in expires."""
        return float(self.engine.history.data["settings"].checkin_expiry_hours) * 3600

    def _current(self, now: float) -> dict[str, CheckIn]:
        """Check-ins not yet expired at ``now``."""
        expiry = self.expiry
        return {
            member_id: check_in
            for member_id, check_in in self._check_ins().items()
            if now - check_in.since < expiry
        }

    def checked_in(self, member_id: str, now: float) -> bool:
        """Return True if the member is checked in to the lab at ``now``."""
        return member_id in self._current(now)

    def present_members(self, now: float) -> list[PresentMember]:
        """Return who is in the lab: checked in, or with a session open somewhere."""
        members = self.engine.members
        found: dict[str, _Found] = {}
        for member_id, check_in in self._current(now).items():
            card = check_in.card
            member = members.member(member_id)
            found[member_id] = _Found(
                name=(member.name if member else None) or member_id,
                since=check_in.since,
                where=[ENTRANCE],
                checked_in=True,
                card=mask_card(card) if card else None,
            )
        for session in self.engine.history.open_sessions():
            if session.member_id is None:
                continue
            member_id = session.member_id
            device = self.engine.device(session.device_id)
            if device is not None and is_entrance(device):
                continue  # the door's unlock period, not work in the lab
            place = device.entry.title if device is not None else session.device_id
            member = members.member(member_id)
            present = found.setdefault(
                member_id,
                _Found(
                    name=(member.name if member else None)
                    or session.member_name
                    or member_id,
                    since=session.start,
                    where=[],
                    checked_in=False,
                ),
            )
            present.since = min(present.since, session.start)
            if place not in present.where:
                present.where.append(place)
        return sorted(
            (
                PresentMember(
                    member_id=member_id,
                    name=present.name,
                    since=present.since,
                    where=tuple(present.where),
                    checked_in=present.checked_in,
                    card=present.card,
                )
                for member_id, present in found.items()
            ),
            key=lambda present: (present.name.casefold(), present.member_id),
        )

    def count(self, now: float | None = None) -> int:
        """Return how many people are in the lab."""
        return len(self.present_members(time.time() if now is None else now))

    @callback
    def async_changed(self) -> None:
        """Tell the occupancy sensors when the count changed (sessions or check-ins)."""
        count = self.count()
        if count != self._count:
            self._count = count
            async_dispatcher_send(self.hass, SIGNAL_OCCUPANCY, count)

    @callback
    def async_check_in(
        self,
        member: Member,
        now: float,
        *,
        device: AccessDevice | None = None,
        card: str | None = None,
    ) -> None:
        """Check a member in (again: the time is renewed)."""
        self.engine.history.data["checked_in"][member.id] = CheckIn(
            since=now,
            device_id=device.device_id if device is not None else None,
            card=card,
        )
        self._left.pop(member.id, None)
        self.engine.history.async_changed()
        self._fire(AccessEventType.CHECKED_IN, member, card, device, None, now)
        self.async_changed()

    @callback
    def async_check_out(
        self,
        member: Member,
        now: float,
        reason: str,
        *,
        device: AccessDevice | None = None,
        card: str | None = None,
        last_out: bool = True,
    ) -> bool:
        """Check a member out; False if they were not checked in.

        The last member out closes the sessions still open (``lab_empty``), unless
        ``last_out`` is False (the expiry check does that once for all).
        """
        if self.engine.history.data["checked_in"].pop(member.id, None) is None:
            return False
        self._left[member.id] = now
        self.engine.history.async_changed()
        self._fire(AccessEventType.CHECKED_OUT, member, card, device, reason, now)
        if last_out and not self._current(now):
            self._lab_empty(member, now)
        self.async_changed()
        return True

    async def _async_expire(self, _now: datetime) -> None:
        """Check out members whose check-in is older than the expiry."""
        now = time.time()
        expiry = self.expiry
        last: Member | None = None
        for member_id, check_in in self._check_ins().items():
            if now - check_in.since < expiry:
                continue
            # A check-in outliving its member (removal forgets it) is named by id.
            last = self.engine.members.member(member_id) or Member(
                id=member_id, name=member_id, role=Role.USER.value
            )
            self.async_check_out(
                last,
                now,
                CheckOut.EXPIRED,
                device=self.engine.device(check_in.device_id or ""),
                card=check_in.card,
                last_out=False,
            )
        if last is not None and not self._current(now):
            self._lab_empty(last, now)
            self.async_changed()

    @callback
    def _lab_empty(self, member: Member, now: float) -> None:
        """Close every open session, except where telemetry says a machine works."""
        rules = getattr(self.engine, "telemetry_rules", None)
        closed: list[str] = []
        kept: list[str] = []
        for session in list(self.engine.history.open_sessions()):
            device_id = session.device_id
            if rules is not None and rules.is_busy(device_id):
                kept.append(device_id)
                continue
            if (device := self.engine.device(device_id)) is None or is_entrance(device):
                continue  # a door's session is its unlock period: it ends itself
            self.engine.close_session(device, session, SessionEnd.LAB_EMPTY)
            closed.append(session.session_id)
        self._fire_lab(
            AccessEventType.LAB_EMPTY,
            member,
            None,
            None,
            now,
            {"closed_sessions": closed, "busy_devices": sorted(set(kept))},
        )

    @callback
    def _fire(
        self,
        event_type: AccessEventType,
        member: Member,
        card: str | None,
        device: AccessDevice | None,
        reason: str | None,
        now: float,
    ) -> None:
        """Announce on the entrance device, or as a lab event without a device."""
        if device is not None:
            fire_access_event(
                self.hass,
                device,
                event_type,
                member=member,
                card=card,
                reason=reason,
                ts=now,
            )
            return
        self._fire_lab(event_type, member, card, reason, now, {})

    @callback
    def _fire_lab(
        self,
        event_type: AccessEventType,
        member: Member,
        card: str | None,
        reason: str | None,
        now: float,
        extra: Mapping[str, list[str]],
    ) -> None:
        privacy = self.engine.privacy
        person = privacy.person_fields(member, card)
        self.hass.bus.async_fire(
            EVENT_LAB,
            privacy.event_data(
                {
                    ATTR_TYPE: event_type.value,
                    **person,
                    ATTR_REASON: reason,
                    "ts": now,
                    **extra,
                }
            ),
            context=Context(user_id=person["user_id"]),
        )

    # Supervisor present ---------------------------------------------------------------

    def supervised(
        self,
        member: Member,
        device: AccessDevice,
        machine_type: MachineType | None,
        now: float,
    ) -> bool:
        """Return False if the machine needs a supervisor and none is present."""
        if not supervision_required(machine_type, dt_util.utc_from_timestamp(now)):
            return True
        if is_supervisor(member, self.engine.roles.typed()):
            return True
        minutes = (
            machine_type.supervisor_minutes if machine_type else None
        ) or DEFAULT_SUPERVISOR_MINUTES
        horizon = now - minutes * 60
        members = self.engine.members
        recent = [
            member_id
            for member_id, ts in self._supervisor_swipes.get(
                device.device_id, {}
            ).items()
            if ts >= horizon
        ]
        recent += list(self._current(now))
        recent += [member_id for member_id, ts in self._left.items() if ts >= horizon]
        return any(
            member_id != member.id
            and (other := members.member(member_id)) is not None
            and is_supervisor(other, self.engine.roles.typed())
            for member_id in recent
        )

    # Instructor grant ------------------------------------------------------------------

    def _trainer_of(self, member: Member, device: AccessDevice) -> bool:
        """Return True if the member holds a current trainer authorization here."""
        if not member.active:
            return False
        machine_type = self.engine.machine_type_of(device)
        type_id = machine_type.id if machine_type is not None else None
        now = dt_util.utcnow()
        for auth in self.engine.authorizations.typed_of_member(member.id):
            if not auth.trainer or not applies(auth, device.device_id, type_id):
                continue
            if auth.expires is None or now < auth.expires:
                return True
        return False

    async def async_train(
        self,
        device: AccessDevice,
        member: Member,
        card: str | None,
        reason: Reason,
        now: float,
    ) -> bool:
        """Authorize a refused member inside a trainer's window; True if done.

        The engine then decides the swipe again, so every other rule still applies.
        """
        trainable = set(TRAINABLE)
        if (lapsed := getattr(Reason, "LAPSED", None)) is not None:
            trainable.add(lapsed)
        window = self._training.get(device.device_id)
        if (
            window is None
            or reason not in trainable
            or not member.active
            or window[0] == member.id
        ):
            return False
        trainer_id, opened = window
        if now - opened > TRAINING_WINDOW:
            del self._training[device.device_id]
            return False
        trainer = self.engine.members.member(trainer_id)
        if trainer is None or not self._trainer_of(trainer, device):
            del self._training[device.device_id]
            return False
        del self._training[device.device_id]  # one trainee per trainer swipe
        auth = await self._async_authorize(device, member, trainer, now)
        trainer_fields = {"trainer_id": trainer.id, "trainer_name": trainer.name}
        self.engine.history.add_audit(
            LiveAudit.from_entry(
                {
                    "ts": now,
                    "kind": "training",
                    "device_id": device.device_id,
                    "member_id": member.id,
                    "card": card,
                    "reason": AccessEventType.AUTHORIZATION_GRANTED.value,
                    "buffered": False,
                    "member_name": member.name,
                    "authorization_id": auth.id,
                    **trainer_fields,
                }
            )
        )
        fire_access_event(
            self.hass,
            device,
            AccessEventType.AUTHORIZATION_GRANTED,
            member=member,
            card=card,
            ts=now,
            extra={
                **trainer_fields,
                "authorization_id": auth.id,
                "machine_type_id": auth.machine_type_id,
                "expires": auth.expires.isoformat() if auth.expires else None,
            },
        )
        return True

    async def _async_authorize(
        self,
        device: AccessDevice,
        member: Member,
        trainer: Member,
        now: float,
    ) -> Authorization:
        """Create (or renew the lapsed) authorization of a trainee."""
        machine_type = self.engine.machine_type_of(device)
        expires: str | None = None
        if machine_type is not None and (days := machine_type.training_expiry_days):
            expires = (
                dt_util.utc_from_timestamp(now) + timedelta(days=days)
            ).isoformat()
        authorizations = self.engine.authorizations
        fields = {"expires": expires, "granted_by": trainer.id, "training": True}
        type_id = machine_type.id if machine_type is not None else None
        for auth in authorizations.typed_of_member(member.id):
            if applies(auth, device.device_id, type_id):
                return Authorization.from_storage(
                    await authorizations.async_update_item(auth.id, fields)
                )
        target = (
            {"machine_type_id": type_id}
            if type_id is not None
            else {"device_id": device.device_id}
        )
        return Authorization.from_storage(
            await authorizations.async_create_item(
                {"member_id": member.id, **target, **fields}
            )
        )

    # After a decision -------------------------------------------------------------------

    @callback
    def async_swiped(
        self,
        device: AccessDevice,
        member: Member | None,
        card: str | None,
        reason: Reason,
        now: float,
    ) -> None:
        """Note a decided swipe: supervisor seen, training window, entrance toggle.

        A supervisor counts as present on any recognised swipe at the device (even
        one refused there): the rule is about being at the machine.
        """
        if member is None:
            return
        if is_supervisor(member, self.engine.roles.typed()):
            self._supervisor_swipes.setdefault(device.device_id, {})[member.id] = now
        if reason is not Reason.GRANTED:
            return
        if self._trainer_of(member, device):
            self._training[device.device_id] = (member.id, now)
        if is_entrance(device):
            if self.checked_in(member.id, now):
                self.async_check_out(
                    member, now, CheckOut.SWIPE, device=device, card=card
                )
            else:
                self.async_check_in(member, now, device=device, card=card)

    def supervisor_swiped(self, device_id: str, member_id: str) -> float | None:
        """Return when a supervisor last swiped at the device (None: not seen)."""
        return self._supervisor_swipes.get(device_id, {}).get(member_id)

    def training_open(self, device_id: str, now: float) -> str | None:
        """Return the trainer whose window is open at a device, if any."""
        window = self._training.get(device_id)
        if window is None or now - window[1] > TRAINING_WINDOW:
            return None
        return window[0]
