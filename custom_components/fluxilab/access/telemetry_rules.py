"""Rules driven by live telemetry: busy/idle detection and condition-based maintenance.

A machine type may name a ``busy_channel``: while that channel is above
``busy_above`` the machine counts as in use, and it counts as idle again once the
channel stayed at or below the threshold for ``busy_delay`` seconds (no flapping).
The busy period ends at the moment the channel dropped, not when the delay ran out;
a device that goes offline while busy ends it at its last busy-channel reading.

Busy time is usage: it is booked as a closed session of its own (``closed_by:
idle``, member = the open session's member or the last member granted at that
device within :data:`BUSY_MEMBER_WINDOW`), but only for the stretches when no
regular session is open, so the union of session time and busy time is counted
once. Busy time inside a regular session is added to it (``busy_seconds``), which
charge-back bills at the busy rate (billing.py).

``maintenance_conditions`` are rules whose counters live in the history store
(per device, ``usage["conditions"]``) and are reset by recorded maintenance:

- ``channel_hours``: due after ``hours`` hours with ``channel`` above ``above``
  (booleans count as 1/0), measured between consecutive live readings; a gap longer
  than :data:`MAX_SAMPLE_GAP` is not counted.
- ``below_baseline``: due when the channel's daily mean (local days) stayed below
  ``baseline`` for ``days`` consecutive days; a day without readings is not below
  and breaks the run.

Once a condition is due it stays due until maintenance is recorded. The machine
type's conditions arrive typed (rule_models.py), and so do their counters: the
history holds each as its model (read once when the history loads), and the next
one takes its place.

Only live telemetry counts: replayed (buffered) backlog never starts or ends a busy
period and never moves a condition counter (it goes to long-term statistics only).
Devices whose machine type has no rules are not followed at all, so telemetry
ingestion pays nothing for this module.

The functions at the top are pure; :class:`TelemetryRules` wires them to the engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
import time
from typing import TYPE_CHECKING, Any, Final, overload
import uuid

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later, async_track_time_change
from homeassistant.util import dt as dt_util

from custom_components.fluxilab.const import LOGGER
from custom_components.fluxilab.history_db import LiveSession

from .const import AccessEventType, Reason, SessionEnd
from .events import fire_access_event
from .lab_models import MachineType
from .member_models import Member
from .rule_models import (
    BelowBaseline,
    ChannelHours,
    Condition,
    DailyCounter,
    HoursCounter,
)

if TYPE_CHECKING:
    from custom_components.fluxilab.device.port import AccessDevice

    from .history import DeviceUsage
    from .lab import Lab

DEFAULT_BUSY_DELAY: Final = 30.0
"""Seconds at or below the threshold before a busy machine counts as idle."""
MAX_SAMPLE_GAP: Final = 900.0
"""Seconds between two readings beyond which the gap is not counted as hours."""
BUSY_MEMBER_WINDOW: Final = 12 * 3600.0
"""How long ago a grant at the device may be to name the member of a busy period."""


# Pure rule evaluation ------------------------------------------------------------


def channel_number(value: Any) -> float | None:
    """Return a reading as a number (True is 1, False 0); None if it is not one."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    return None


@dataclass(frozen=True, slots=True)
class BusyRule:
    """When a machine counts as busy."""

    channel: str
    above: float
    delay: float


@dataclass(frozen=True, slots=True)
class DeviceRules:
    """The rules of a device's machine type."""

    busy: BusyRule | None
    conditions: tuple[Condition, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ConditionProgress:
    """A condition's progress: value so far, target and due state."""

    kind: str
    channel: str
    key: str
    value: float
    """Hours counted (``channel_hours``) or days of the live run of low days."""
    target: float
    due: bool
    text: str

    def as_wire(self) -> dict[str, Any]:
        """Return the progress as the panel and the diagnostics show it."""
        return {
            "kind": self.kind,
            "channel": self.channel,
            "key": self.key,
            "value": self.value,
            "target": self.target,
            "due": self.due,
            "text": self.text,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class RulesState:
    """A followed device's busy state and condition progress (diagnostics)."""

    busy: bool
    busy_channel: str | None
    conditions: tuple[ConditionProgress, ...]

    def as_wire(self) -> dict[str, Any]:
        """Return the state as the diagnostics show it."""
        return {
            "busy": self.busy,
            "busy_channel": self.busy_channel,
            "conditions": [condition.as_wire() for condition in self.conditions],
        }


def rules_of(machine_type: MachineType | None) -> DeviceRules | None:
    """Return the telemetry rules of a machine type (None: nothing to follow)."""
    if machine_type is None:
        return None
    busy = None
    if channel := machine_type.busy_channel:
        busy = BusyRule(
            channel,
            machine_type.busy_above or 0.0,
            DEFAULT_BUSY_DELAY
            if machine_type.busy_delay is None
            else machine_type.busy_delay,
        )
    conditions = machine_type.maintenance_conditions
    if busy is None and not conditions:
        return None
    return DeviceRules(busy, conditions)


def new_counter(rule: Condition) -> HoursCounter | DailyCounter:
    """Return a fresh counter for a condition."""
    return rule.counter(None)


def add_channel_hours(
    counter: HoursCounter, rule: ChannelHours, seconds: float
) -> HoursCounter:
    """Count ``seconds`` with the channel above its threshold."""
    hours = counter.hours + seconds / 3600
    return replace(counter, hours=hours, due=counter.due or hours >= rule.hours)


def close_days(counter: DailyCounter, rule: BelowBaseline, today: date) -> DailyCounter:
    """Close the counter's open day if it is before ``today`` (its mean is final)."""
    if (closed := counter.day) is None or closed >= today:
        return counter
    below = counter.count > 0 and counter.total / counter.count < rule.baseline
    if below:
        follows = counter.streak_end == closed - timedelta(days=1)
        days = counter.days + 1 if follows else 1
        counter = replace(
            counter,
            days=days,
            streak_end=closed,
            due=counter.due or days >= rule.days,
        )
    else:
        counter = replace(counter, days=0, streak_end=None)
    return replace(counter, day=None, total=0.0, count=0)


def add_daily_sample(
    counter: DailyCounter, rule: BelowBaseline, value: float, today: date
) -> DailyCounter:
    """Add a reading to today's mean, closing an earlier day first."""
    counter = close_days(counter, rule, today)
    return replace(
        counter, day=today, total=counter.total + value, count=counter.count + 1
    )


def progress(
    rule: Condition, counter: HoursCounter | DailyCounter, today: date
) -> ConditionProgress:
    """Return a condition's progress: value so far, target and due state."""
    if isinstance(rule, ChannelHours) and isinstance(counter, HoursCounter):
        value: float = round(counter.hours, 4)
        target: float = rule.hours
    elif isinstance(rule, BelowBaseline) and isinstance(counter, DailyCounter):
        streak_end = counter.streak_end
        alive = streak_end is not None and streak_end >= today - timedelta(days=1)
        value = counter.days if alive else 0
        target = rule.days
    else:
        raise TypeError(f"a {type(counter).__name__} does not count {rule.kind}")
    return ConditionProgress(
        kind=rule.kind,
        channel=rule.channel,
        key=rule.key,
        value=value,
        target=target,
        due=counter.due,
        text=rule.text,
    )


# Wiring ----------------------------------------------------------------------------


@dataclass(slots=True)
class _Live:
    """What is known about a followed device between two readings."""

    rules: DeviceRules
    unsubscribe: list[CALLBACK_TYPE] = field(default_factory=list)
    online: bool = False
    busy: bool = False
    busy_since: float = 0.0
    below_since: float | None = None
    last_reading: float = 0.0
    unbooked_since: float | None = None
    """Start of the busy time not booked yet (None while a session is open)."""
    session_open: bool = False
    session: LiveSession | None = None
    """The open regular session, whose busy time is counted in it (billing)."""
    session_busy_from: float | None = None
    """Start of busy time inside ``session`` not added to it yet."""
    member: Member | None = None
    card: str | None = field(default=None, repr=False)
    idle_timer: CALLBACK_TYPE | None = None
    readings: dict[str, tuple[float, bool]] = field(default_factory=dict)
    """channel_hours condition key -> (time, above) of the last reading."""


class TelemetryRules:
    """Follows the devices whose machine type has telemetry rules."""

    def __init__(self, engine: Lab) -> None:
        """Follow nothing until devices are attached."""
        self.engine = engine
        self.hass: HomeAssistant = engine.hass
        self._live: dict[str, _Live] = {}
        self._unsubs: list[CALLBACK_TYPE] = []

    # Lifecycle ---------------------------------------------------------------------

    @callback
    def async_load(self) -> None:
        """Follow machine-type changes and close daily means at local midnight."""
        self._unsubs = [
            self.engine.machine_types.async_add_listener(self._async_types_changed),
            async_track_time_change(
                self.hass, self._midnight, hour=0, minute=0, second=1
            ),
        ]

    @callback
    def async_stop(self) -> None:
        """Book busy time up to now and stop every timer (Home Assistant stops)."""
        now = time.time()
        for device_id in list(self._live):
            live = self._live[device_id]
            if live.busy and live.unbooked_since is not None:
                self._book(device_id, live, live.unbooked_since, now)
                live.unbooked_since = now
            self._add_session_busy(live, now)
            self.detach(device_id)
        while self._unsubs:
            self._unsubs.pop()()

    async def _async_types_changed(
        self, _change_type: str, _item_id: str, item: dict[str, Any]
    ) -> None:
        for device in list(self.engine.devices.values()):
            was_busy = self.is_busy(device.device_id)
            self.attach(device)
            if was_busy and not self.is_busy(device.device_id):
                self.engine.publish_usage(device)  # busy detection was removed

    @callback
    def attach(self, device: AccessDevice) -> None:
        """(Re)follow a device if its machine type has rules; stop following if not."""
        rules = rules_of(self.engine.machine_type_of(device))
        live = self._live.get(device.device_id)
        if live is not None and live.rules == rules:
            return
        self.detach(device.device_id)
        if rules is None:
            return
        live = _Live(rules, online=device.online)
        open_sessions = self.engine.history.open_sessions(device.device_id)
        live.session_open = bool(open_sessions)
        live.session = open_sessions[-1] if open_sessions else None
        live.unsubscribe = [
            device.async_add_telemetry_listener(
                lambda values: self._reading(device, values)
            ),
            device.async_add_listener(lambda: self._state_changed(device)),
        ]
        self._live[device.device_id] = live
        usage = self.engine.history.usage(device.device_id)
        for rule in rules.conditions:
            self._counter(usage, rule)  # a new condition's counter starts at once

    @callback
    def detach(self, device_id: str) -> None:
        """Stop following a device; a busy period ends now (booked, announced)."""
        if (live := self._live.get(device_id)) is None:
            return
        if live.busy and (device := self.engine.device(device_id)) is not None:
            self._end_busy(device, live, live.below_since or time.time(), publish=False)
        if live.idle_timer is not None:
            live.idle_timer()
        while live.unsubscribe:
            live.unsubscribe.pop()()
        del self._live[device_id]

    # Queries -----------------------------------------------------------------------

    def is_busy(self, device_id: str) -> bool:
        """Return True while telemetry says the device is working."""
        live = self._live.get(device_id)
        return live is not None and live.busy

    def busy_member_name(self, device_id: str) -> str | None:
        """Return the name of the member a busy period is attributed to."""
        member = self.busy_member(device_id)
        return member.name if member is not None else None

    def busy_member(self, device_id: str) -> Member | None:
        """Return the member a busy period is attributed to."""
        live = self._live.get(device_id)
        if live is None or not live.busy:
            return None
        return live.member

    def conditions(self, device: AccessDevice) -> list[ConditionProgress]:
        """Return the progress of every condition of the device's machine type."""
        rules = rules_of(self.engine.machine_type_of(device))
        if rules is None or not rules.conditions:
            return []
        usage = self.engine.history.usage(device.device_id)
        today = dt_util.now().date()
        return [
            progress(rule, self._counter(usage, rule), today)
            for rule in rules.conditions
        ]

    def due_conditions(self, device: AccessDevice) -> list[str]:
        """Return the texts of the conditions that are due (empty: none)."""
        return [c.text for c in self.conditions(device) if c.due]

    def diagnostics(self, device: AccessDevice) -> RulesState | None:
        """Return busy state and condition progress (None: no rules)."""
        if (live := self._live.get(device.device_id)) is None:
            return None
        return RulesState(
            busy=live.busy,
            busy_channel=live.rules.busy.channel if live.rules.busy else None,
            conditions=tuple(self.conditions(device)),
        )

    # Hooks from the engine ---------------------------------------------------------

    @callback
    def session_changed(self, device_id: str, session_open: bool) -> None:
        """Split busy time around regular sessions, so no hour is counted twice."""
        live = self._live.get(device_id)
        if live is None or live.session_open == session_open:
            return
        live.session_open = session_open
        now = time.time()
        if not session_open:
            self._add_session_busy(live, now)
            live.session = None
        else:
            open_sessions = self.engine.history.open_sessions(device_id)
            live.session = open_sessions[-1] if open_sessions else None
        if not live.busy:
            return
        if session_open:
            live.session_busy_from = now
        if session_open and live.unbooked_since is not None:
            self._book(device_id, live, live.unbooked_since, now)
            live.unbooked_since = None
        elif not session_open:
            live.unbooked_since = now

    def _add_session_busy(self, live: _Live, end: float) -> None:
        """Add the busy time since ``session_busy_from`` to the open session."""
        since, live.session_busy_from = live.session_busy_from, None
        session = live.session
        if since is None or session is None:
            return
        if session.end is not None:
            end = min(end, session.end)
        if end > since:
            session.busy_seconds = (session.busy_seconds or 0.0) + end - since
            self.engine.history.async_changed(session)

    @callback
    def reset_conditions(self, device_id: str) -> None:
        """Start every condition counter of a device afresh (maintenance recorded)."""
        usage = self.engine.history.usage(device_id)
        usage["conditions"] = {}
        if (live := self._live.get(device_id)) is not None:
            for rule in live.rules.conditions:
                self._store(usage, rule, new_counter(rule))
            live.readings = {}
        self.engine.history.async_changed()

    # Telemetry ---------------------------------------------------------------------

    @overload
    @staticmethod
    def _counter(usage: DeviceUsage, rule: ChannelHours) -> HoursCounter: ...
    @overload
    @staticmethod
    def _counter(usage: DeviceUsage, rule: BelowBaseline) -> DailyCounter: ...
    @overload
    @staticmethod
    def _counter(
        usage: DeviceUsage, rule: Condition
    ) -> HoursCounter | DailyCounter: ...
    @staticmethod
    def _counter(usage: DeviceUsage, rule: Condition) -> HoursCounter | DailyCounter:
        """Return a condition's counter from the history store (a fresh one stored)."""
        conditions = usage["conditions"]
        counter = conditions.get(rule.key)
        if isinstance(rule, ChannelHours):
            if isinstance(counter, HoursCounter):
                return counter
        elif isinstance(counter, DailyCounter):
            return counter
        fresh = conditions[rule.key] = new_counter(rule)
        return fresh

    @staticmethod
    def _store(
        usage: DeviceUsage, rule: Condition, counter: HoursCounter | DailyCounter
    ) -> None:
        """Write a condition's counter back into the history store."""
        usage["conditions"][rule.key] = counter

    @callback
    def _reading(
        self, device: AccessDevice, values: Mapping[str, int | float | bool]
    ) -> None:
        """Evaluate the device's rules on one live telemetry message."""
        if (live := self._live.get(device.device_id)) is None:
            return
        now = time.time()
        rules = live.rules
        if (
            rules.busy is not None
            and (value := channel_number(values.get(rules.busy.channel))) is not None
        ):
            self._busy_reading(device, live, rules.busy, value, now)
        if not rules.conditions:
            return
        usage = self.engine.history.usage(device.device_id)
        due_before = [self._counter(usage, r).due for r in rules.conditions]
        changed = False
        for rule in rules.conditions:
            if (value := channel_number(values.get(rule.channel))) is None:
                continue
            changed = True
            if isinstance(rule, ChannelHours):
                hours = self._counter(usage, rule)
                previous = live.readings.get(rule.key)
                if previous is not None and previous[1]:
                    gap = now - previous[0]
                    if 0 < gap <= MAX_SAMPLE_GAP:
                        self._store(usage, rule, add_channel_hours(hours, rule, gap))
                live.readings[rule.key] = (now, value > rule.above)
            else:
                daily = add_daily_sample(
                    self._counter(usage, rule), rule, value, dt_util.now().date()
                )
                self._store(usage, rule, daily)
        if not changed:
            return
        self.engine.history.async_changed()
        if due_before != [self._counter(usage, r).due for r in rules.conditions]:
            self.engine.publish_usage(device)

    @callback
    def _busy_reading(
        self,
        device: AccessDevice,
        live: _Live,
        rule: BusyRule,
        value: float,
        now: float,
    ) -> None:
        live.last_reading = now
        if value > rule.above:
            live.below_since = None
            if live.idle_timer is not None:
                live.idle_timer()
                live.idle_timer = None
            if not live.busy:
                self._start_busy(device, live, now)
            return
        if not live.busy or live.below_since is not None:
            return
        live.below_since = now
        if rule.delay <= 0:
            self._end_busy(device, live, now)
            return

        @callback
        def _idle(_now: datetime) -> None:
            live.idle_timer = None
            if live.busy and live.below_since is not None:
                self._end_busy(device, live, live.below_since)

        live.idle_timer = async_call_later(self.hass, rule.delay, _idle)

    @callback
    def _state_changed(self, device: AccessDevice) -> None:
        """End a busy period at the last reading when the device goes offline."""
        if (live := self._live.get(device.device_id)) is None:
            return
        was_online, live.online = live.online, device.online
        if was_online and not device.online:
            live.readings = {}
            if live.busy:
                self._end_busy(device, live, live.below_since or live.last_reading)

    @callback
    def _midnight(self, _now: datetime) -> None:
        """Close yesterday's daily means, so a run of low days is due at midnight."""
        today = dt_util.now().date()
        for device_id, live in list(self._live.items()):
            usage = self.engine.history.usage(device_id)
            rules = [r for r in live.rules.conditions if isinstance(r, BelowBaseline)]
            if not rules:
                continue
            due_before = [self._counter(usage, r).due for r in rules]
            for rule in rules:
                self._store(
                    usage, rule, close_days(self._counter(usage, rule), rule, today)
                )
            self.engine.history.async_changed()
            if due_before != [self._counter(usage, r).due for r in rules] and (
                device := self.engine.device(device_id)
            ):
                self.engine.publish_usage(device)

    # Busy periods ------------------------------------------------------------------

    def _last_grant(self, device_id: str, now: float) -> tuple[str | None, str | None]:
        """Return (member id, card) of the last grant at the device, if recent."""
        for entry in reversed(self.engine.history.data["audit"]):
            if now - entry.ts > BUSY_MEMBER_WINDOW:
                continue
            if (
                entry.device_id == device_id
                and entry.kind == "decision"
                and entry.detail("reason") == Reason.GRANTED.value
                and entry.member_id is not None
            ):
                return entry.member_id, entry.card
        return None, None

    @callback
    def _start_busy(self, device: AccessDevice, live: _Live, now: float) -> None:
        open_sessions = self.engine.history.open_sessions(device.device_id)
        if open_sessions:
            member_id, card = open_sessions[-1].member_id, open_sessions[-1].card
        else:
            member_id, card = self._last_grant(device.device_id, now)
        live.member = self.engine.members.member(member_id) if member_id else None
        live.card = card
        live.busy = True
        live.busy_since = now
        live.session_open = bool(open_sessions)
        live.session = open_sessions[-1] if open_sessions else None
        live.session_busy_from = now if open_sessions else None
        live.unbooked_since = None if open_sessions else now
        LOGGER.debug("%s is busy", device.device_id)
        fire_access_event(
            self.hass,
            device,
            AccessEventType.BUSY_STARTED,
            member=live.member,
            card=live.card,
            ts=now,
        )
        self.engine.publish_usage(device)

    @callback
    def _end_busy(
        self, device: AccessDevice, live: _Live, end: float, *, publish: bool = True
    ) -> None:
        if live.idle_timer is not None:
            live.idle_timer()
            live.idle_timer = None
        end = max(end, live.busy_since)
        if live.unbooked_since is not None:
            self._book(device.device_id, live, live.unbooked_since, end)
        self._add_session_busy(live, end)
        live.busy = False
        live.below_since = None
        live.unbooked_since = None
        LOGGER.debug("%s is idle", device.device_id)
        fire_access_event(
            self.hass,
            device,
            AccessEventType.BUSY_ENDED,
            member=live.member,
            card=live.card,
            duration=round(end - live.busy_since, 3),
            ts=end,
        )
        if publish:
            self.engine.publish_usage(device)

    def _book(self, device_id: str, live: _Live, start: float, end: float) -> None:
        """Book busy time without a session as a closed session of its own."""
        if end <= start:
            return
        member = live.member
        history = self.engine.history
        history.data["sessions"].append(
            LiveSession.new(
                session_id=f"busy-{uuid.uuid4().hex}",
                device_id=device_id,
                member_id=member.id if member else None,
                member_name=member.name if member else None,
                card=live.card,
                start=start,
                last_seen=end,
                end=end,
                duration=end - start,
                closed_by=SessionEnd.IDLE.value,
                buffered=False,
            )
        )
        usage = history.usage(device_id)
        usage["hours"] += (end - start) / 3600
        usage["since_maintenance"] += (end - start) / 3600
        history.async_changed()
