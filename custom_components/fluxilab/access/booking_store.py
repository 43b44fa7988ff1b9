"""Bookings in Home Assistant storage, indexed by device (rules: bookings.py).

Bookings are configuration-like, future-facing data, like members and machine
types: a ``DictStorageCollection`` validates each one against its machine type's
rules when it is made or moved, and keeps an index per device sorted by start, so a
card check reads the few bookings around now, however many lie ahead.

Every minute, bookings nobody showed up for are released (``no_show`` set, the
member told); a member may end their own booking early (``async_end``).

Outages (``kind`` ``outage``, staff taking a device out of service) live in the
same collection and index: ``async_schedule_outage`` checks one
(``check_outage``), cancels the bookings it meets and tells their members.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Protocol, override

from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.helpers import collection, config_validation as cv
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
import probatio as vol

from custom_components.fluxilab.const import DOMAIN, LOGGER
from custom_components.fluxilab.protocol.schemas import (
    MAX_MIRRORED_BOOKINGS,
    MAX_MIRRORED_OUTAGES,
)

from . import admin_audit
from .bookings import (
    Booking,
    BookingKind,
    BookingMirror,
    BookingProblem,
    BookingRules,
    BookingShare,
    BookingVerdict,
    BookingVerdictReason,
    MirroredSpan,
    SessionSpan,
    booking_verdict,
    check_booking,
    check_outage,
    is_no_show,
    outage_collisions,
    shares,
)
from .const import (
    COLLECTION_STORAGE_VERSION,
    SIGNAL_DEVICE_FREE,
    AccessEventType,
    Reason,
)
from .decisions import authorization_reason
from .errors import AccessValidationError
from .events import fire_access_event
from .interest import device_name
from .lab import Lab
from .notify import async_notification_text, async_notify_member
from .presence import Presence, is_supervisor
from .roles import flags
from .store import CountedItems

if TYPE_CHECKING:
    from .admin_audit import AdminAudit
    from .interest import InterestQueue
    from .sync import CredentialSync


class BookingLab(Lab, Protocol):
    """What the bookings use of the engine: the lab, its sync and interest queue."""

    sync: CredentialSync
    interest: InterestQueue
    admin_audit: AdminAudit
    presence: Presence

    def async_after_reply_done(self) -> None:
        """Run the decisions' after-reply work now (their sessions are needed)."""


BOOKINGS_STORAGE_KEY: Final = f"{DOMAIN}.bookings"
NO_SHOW_CHECK_INTERVAL: Final = timedelta(minutes=1)
MIRROR_AHEAD: Final = timedelta(days=1)
"""How far ahead a device's mirror carries its bookings (they hold offline)."""
KEEP_PAST_DAYS: Final = 90
"""Days a booking is kept after its end (no-shows are counted over them)."""
SIGNAL_BOOKINGS_CHANGED: Final = f"{DOMAIN}_bookings_changed"
"""Dispatcher signal, argument our device id: that device's bookings changed."""


def _aware(value: Any) -> datetime:
    parsed: datetime = cv.datetime(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt_util.get_default_time_zone())
    return dt_util.as_utc(parsed)


BOOKING_FIELDS: dict[Any, Any] = {
    vol.Required("device_id"): vol.All(cv.string, vol.Length(min=1, max=64)),
    vol.Required("member_id"): vol.All(cv.string, vol.Length(min=1, max=100)),
    vol.Required("start"): _aware,
    vol.Required("end"): _aware,
}
MAX_OUTAGE_NOTE: Final = 200
"""Longest outage note (what the device and the calendar show)."""
OUTAGE_FIELDS: dict[Any, Any] = {
    vol.Required("kind"): BookingKind.OUTAGE.value,
    vol.Required("device_id"): vol.All(cv.string, vol.Length(min=1, max=64)),
    vol.Required("start"): _aware,
    vol.Required("end"): _aware,
    vol.Optional("note", default=""): vol.All(
        cv.string, vol.Length(max=MAX_OUTAGE_NOTE)
    ),
}
BOOKING_UPDATE_FIELDS: dict[Any, Any] = {
    vol.Optional("start"): _aware,
    vol.Optional("end"): _aware,
}

# One translated error per problem, each key written out (the error-text tests
# read them from the source).
_REFUSALS: Final[dict[str, Callable[[dict[str, str]], AccessValidationError]]] = {
    "booking_off": lambda p: AccessValidationError("booking_off", **p),
    "booking_not_authorized": lambda p: AccessValidationError(
        "booking_not_authorized", **p
    ),
    "booking_end_before_start": lambda p: AccessValidationError(
        "booking_end_before_start", **p
    ),
    "booking_in_past": lambda p: AccessValidationError("booking_in_past", **p),
    "booking_too_short": lambda p: AccessValidationError("booking_too_short", **p),
    "booking_too_long": lambda p: AccessValidationError("booking_too_long", **p),
    "booking_too_far_ahead": lambda p: AccessValidationError(
        "booking_too_far_ahead", **p
    ),
    "booking_overlaps": lambda p: AccessValidationError("booking_overlaps", **p),
    "booking_limit_day": lambda p: AccessValidationError("booking_limit_day", **p),
    "booking_limit_week": lambda p: AccessValidationError("booking_limit_week", **p),
    "booking_during_outage": lambda p: AccessValidationError(
        "booking_during_outage", **p
    ),
    "outage_end_before_start": lambda p: AccessValidationError(
        "outage_end_before_start", **p
    ),
    "outage_in_past": lambda p: AccessValidationError("outage_in_past", **p),
    "outage_overlaps": lambda p: AccessValidationError("outage_overlaps", **p),
}


def refusal(problem: BookingProblem) -> AccessValidationError:
    """Return the translated error of a booking problem."""
    return _REFUSALS[problem.code](problem.placeholders)


@dataclass(frozen=True, slots=True, kw_only=True)
class BookingRequest:
    """A booking asked for (the API, a service): validated, its times aware UTC."""

    device_id: str
    member_id: str
    start: datetime
    end: datetime

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> BookingRequest:
        """Validate what the caller sent (``BOOKING_FIELDS``)."""
        try:
            valid = vol.Schema(BOOKING_FIELDS)(dict(data))
        except vol.Invalid as err:
            raise AccessValidationError("invalid_data", error=str(err)) from err
        return cls(
            device_id=valid["device_id"],
            member_id=valid["member_id"],
            start=valid["start"],
            end=valid["end"],
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class OutageRequest:
    """An outage asked for (the API, the calendar): validated, times aware UTC."""

    device_id: str
    start: datetime
    end: datetime
    note: str

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> OutageRequest:
        """Validate what the caller sent (``OUTAGE_FIELDS``)."""
        try:
            valid = vol.Schema(OUTAGE_FIELDS)(dict(data))
        except vol.Invalid as err:
            raise AccessValidationError("invalid_data", error=str(err)) from err
        return cls(
            device_id=valid["device_id"],
            start=valid["start"],
            end=valid["end"],
            note=valid["note"],
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class BookingMove:
    """A booking's new times (None: unchanged), validated, aware UTC."""

    start: datetime | None
    end: datetime | None

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> BookingMove:
        """Validate what the caller sent (``BOOKING_UPDATE_FIELDS``)."""
        try:
            valid = vol.Schema(BOOKING_UPDATE_FIELDS)(dict(data))
        except vol.Invalid as err:
            raise AccessValidationError("invalid_data", error=str(err)) from err
        return cls(start=valid.get("start"), end=valid.get("end"))


class BookingCollection(collection.DictStorageCollection):
    """Every device's bookings, checked against their machine type's rules."""

    def __init__(self, engine: BookingLab) -> None:
        """Keep the engine for the rules, members, authorizations and devices."""
        super().__init__(
            Store(engine.hass, COLLECTION_STORAGE_VERSION, BOOKINGS_STORAGE_KEY)
        )
        self.engine = engine
        self._items = CountedItems()
        # The id manager must see the kept items, or a booking of a released slot
        # would get the released one's id and replace it (its no-show lost).
        self.id_manager.collections = [self._items]
        self.data = self._items
        self._by_device: dict[str, list[Booking]] = {}
        self._by_device_at = -1
        self._timer: CALLBACK_TYPE | None = None
        self._mirrored: dict[str, BookingMirror] = {}
        """What each device's credential set last carried of its bookings."""

    # Loading and the no-show check -----------------------------------------------------

    async def async_start(self) -> None:
        """Load the bookings and check for no-shows every minute."""
        await self.async_load()
        self.async_add_listener(self._async_changed)
        self._timer = async_track_time_interval(
            self.hass,
            self._async_check_no_shows,
            NO_SHOW_CHECK_INTERVAL,
            name=f"{DOMAIN} booking no-shows",
        )

    @callback
    def async_stop(self) -> None:
        """Stop the no-show check."""
        if self._timer is not None:
            self._timer()
            self._timer = None

    async def _async_changed(
        self, _change_type: str, _item_id: str, item: dict[str, Any]
    ) -> None:
        async_dispatcher_send(self.hass, SIGNAL_BOOKINGS_CHANGED, item["device_id"])
        await self._async_sync_mirror(item["device_id"])

    def mirrored(self, device_id: str) -> BookingMirror:
        """Return (and remember) what a device's mirror carries of its bookings.

        The mode, and the bookings not released that run within the next day,
        nearest first, so a booking holds while the hub is unreachable (sync.py
        sends it, ``BookingMirror.as_wire``).
        """
        now = dt_util.utcnow()
        ahead = [
            b
            for b in self.between(device_id, now, now + MIRROR_AHEAD)
            if not b.released
        ]
        bookings = [b for b in ahead if not b.is_outage][:MAX_MIRRORED_BOOKINGS]
        # Outages go apart: a device before outages ignores the field (the offline
        # schema allows extra keys), where it would refuse a booking it cannot read.
        outages = [b for b in ahead if b.is_outage][:MAX_MIRRORED_OUTAGES]
        rules = self.rules_of(device_id)
        shared_by: list[str] = []
        if rules.shared is BookingShare.SUPERVISOR_PRESENT:
            members = self.engine.members
            # Of the bookings mirrored (at most MAX_MIRRORED_BOOKINGS, so the list
            # stays inside the schema's bound).
            shared_by = sorted(
                {
                    b.member_id
                    for b in bookings
                    if (booker := members.member(b.member_id)) is not None
                    and is_supervisor(booker, self.engine.roles.typed())
                }
            )
        shown = BookingMirror(
            mode=rules.mode,
            no_show_minutes=rules.no_show_minutes,
            shared_by=tuple(shared_by),
            bookings=tuple(
                MirroredSpan(
                    member_id=b.member_id,
                    start=b.start.timestamp(),
                    end=b.end.timestamp(),
                )
                for b in bookings
            ),
            outages=tuple(
                MirroredSpan(start=b.start.timestamp(), end=b.end.timestamp())
                for b in outages
            ),
        )
        self._mirrored[device_id] = shown
        return shown

    async def _async_sync_mirror(self, device_id: str) -> None:
        """Send a device its credential set again if its mirrored bookings moved."""
        if (device := self.engine.device(device_id)) is None:
            return
        before = self._mirrored.get(device_id)
        if before is not None and self.mirrored(device_id) == before:
            return
        try:
            await self.engine.sync.async_sync(device)
        except Exception:
            LOGGER.exception("Credential set for %s not sent", device_id)

    # Reading ------------------------------------------------------------------------

    def of_device(self, device_id: str) -> list[Booking]:
        """Return a device's bookings, by start (a shared list: do not change it)."""
        if self._by_device_at != self._items.changes:
            by_device: dict[str, list[Booking]] = {}
            for item in self._items.values():
                by_device.setdefault(item["device_id"], []).append(
                    Booking.from_storage(item)
                )
            for bookings in by_device.values():
                bookings.sort(key=lambda b: b.start)
            self._by_device = by_device
            self._by_device_at = self._items.changes
        return self._by_device.get(device_id, [])

    def between(self, device_id: str, start: datetime, end: datetime) -> list[Booking]:
        """Return a device's bookings that share time with [start, end)."""
        bookings = self.of_device(device_id)
        stop = bisect_left(bookings, end, key=lambda b: b.start)
        return [b for b in bookings[:stop] if b.end > start]

    def around(self, device_id: str, now: datetime, ahead: timedelta) -> list[Booking]:
        """Return the bookings running at ``now`` or starting within ``ahead``.

        The index is sorted by start and a device's live bookings do not overlap,
        so this looks back only past released ones: a card check costs the few
        bookings around now, not every booking ahead.
        """
        bookings = self.of_device(device_id)
        stop = bisect_right(bookings, now + ahead, key=lambda b: b.start)
        found: list[Booking] = []
        for booking in reversed(bookings[:stop]):
            if booking.end <= now and not booking.released:
                break
            if booking.end > now:
                found.append(booking)
        return found[::-1]

    def current_or_next(self, device_id: str, now: datetime) -> Booking | None:
        """Return the booking running at ``now``, else the next (no-shows left out)."""
        bookings = self.of_device(device_id)
        start = bisect_right(bookings, now, key=lambda b: b.start)
        for booking in reversed(bookings[:start]):
            if booking.end > now and not booking.no_show:
                return booking
            if booking.end <= now and not booking.released:
                break  # live bookings do not overlap: none earlier runs now
        for booking in bookings[start:]:
            if not booking.no_show:
                return booking
        return None

    def of_member(self, member_id: str) -> list[Booking]:
        """Return a member's bookings over every device, by start."""
        return sorted(
            (
                Booking.from_storage(item)
                for item in self._items.values()
                if item["member_id"] == member_id
            ),
            key=lambda b: b.start,
        )

    def no_shows(self, member_id: str) -> int:
        """Count a member's bookings released because nobody came (kept 90 days)."""
        return sum(
            1
            for item in self._items.values()
            if item["member_id"] == member_id and item.get("no_show")
        )

    def outage_message(self, outage: Booking) -> str:
        """Return what the device shows during an outage (its end, its note)."""
        until = dt_util.as_local(outage.end).strftime("%H:%M")
        if outage.end - dt_util.utcnow() > timedelta(days=1):
            until = dt_util.as_local(outage.end).strftime("%d/%m %H:%M")
        note = outage.note
        return f"Out of service until {until}{': ' if note else ''}{note}"[:64]

    def rules_of(self, device_id: str) -> BookingRules:
        """Return the booking rules of a device (its machine type's)."""
        device = self.engine.device(device_id)
        machine_type = self.engine.machine_type_of(device) if device else None
        return machine_type.booking if machine_type else BookingRules.from_storage(None)

    def _spans(self, device_id: str, since: float) -> Iterator[SessionSpan]:
        """Yield the device's sessions since a day before ``since``, newest first."""
        for session in reversed(self.engine.history.data["sessions"]):
            if session.start < since - 86400:
                return  # sessions are appended as they start
            if session.device_id != device_id:
                continue
            end = session.end
            yield SessionSpan(
                session.member_id,
                dt_util.utc_from_timestamp(session.start),
                None if end is None else dt_util.utc_from_timestamp(end),
            )

    def verdict(self, device_id: str, member_id: str, now: datetime) -> BookingVerdict:
        """Return what the device's bookings say about a member starting now."""
        rules = self.rules_of(device_id)
        near = self.around(device_id, now, timedelta(minutes=rules.warning_minutes))
        since = min((b.start for b in near), default=now).timestamp()
        verdict = booking_verdict(
            now, device_id, member_id, near, rules, self._spans(device_id, since)
        )
        held = verdict.booking
        if (
            verdict.reason is BookingVerdictReason.BOOKED_BY_OTHER
            and held is not None
            and rules.shared is not BookingShare.NOBODY
            and self._shared(rules, device_id, held, now)
        ):
            # The booker's role and presence let the member in (a class, a training).
            return BookingVerdict(booking=held, released=verdict.released)
        return verdict

    def _shared(
        self, rules: BookingRules, device_id: str, held: Booking, now: datetime
    ) -> bool:
        booker = self.engine.members.member(held.member_id)
        seen = self.engine.presence.supervisor_swiped(device_id, held.member_id)
        return shares(
            rules,
            booker_supervises=booker is not None
            and is_supervisor(booker, self.engine.roles.typed()),
            booker_seen=None if seen is None else dt_util.utc_from_timestamp(seen),
            now=now,
        )

    # Writing ------------------------------------------------------------------------

    def _check(
        self,
        device_id: str,
        member_id: str,
        start: datetime,
        end: datetime,
        ignore_id: str | None = None,
    ) -> None:
        """Raise the translated refusal if the booking breaks its rules."""
        if (device := self.engine.device(device_id)) is None:
            raise AccessValidationError("unknown_device", device=device_id)
        if (member := self.engine.members.member(member_id)) is None:
            raise AccessValidationError("unknown_member", member=member_id)
        machine_type = self.engine.machine_type_of(device)
        now = dt_util.utcnow()
        authorized = (
            authorization_reason(
                member,
                self.engine.authorizations.typed_of_member(member_id),
                device_id,
                machine_type,
                now,
                role=flags(member, self.engine.roles.typed()),
                check_window=False,
            )
            is Reason.GRANTED
        )
        type_id = device.machine_type_id
        same_type = {
            other.device_id
            for other in self.engine.devices.values()
            if other.device_id == device_id
            or (type_id is not None and other.machine_type_id == type_id)
        }
        problem = check_booking(
            start=start,
            end=end,
            now=now,
            rules=machine_type.booking
            if machine_type
            else BookingRules.from_storage(None),
            device_bookings=self.between(device_id, start, end),
            member_bookings=[
                b for b in self.of_member(member_id) if b.device_id in same_type
            ],
            authorized=authorized,
            staff=flags(member, self.engine.roles.typed()).may_maintain,
            active=member.active,
            tz=dt_util.get_default_time_zone(),
            ignore_id=ignore_id,
        )
        if problem is not None:
            raise refusal(problem)

    def _check_outage(
        self,
        device_id: str,
        start: datetime,
        end: datetime,
        ignore_id: str | None = None,
    ) -> None:
        """Raise the translated refusal if an outage may not be scheduled."""
        if self.engine.device(device_id) is None:
            raise AccessValidationError("unknown_device", device=device_id)
        problem = check_outage(
            start=start,
            end=end,
            now=dt_util.utcnow(),
            device_bookings=self.between(device_id, start, end),
            tz=dt_util.get_default_time_zone(),
            ignore_id=ignore_id,
        )
        if problem is not None:
            raise refusal(problem)

    @override
    async def _process_create_data(self, data: dict[str, Any]) -> dict[str, Any]:
        if data.get("kind") == BookingKind.OUTAGE:
            outage = OutageRequest.from_wire(data)
            self._check_outage(outage.device_id, outage.start, outage.end)
            return {
                "kind": BookingKind.OUTAGE.value,
                "device_id": outage.device_id,
                "member_id": "",
                "note": outage.note.strip(),
                "start": outage.start.isoformat(),
                "end": outage.end.isoformat(),
                "released": False,
                "no_show": False,
                "created": dt_util.utcnow().isoformat(),
            }
        booking = BookingRequest.from_wire(data)
        self._check(booking.device_id, booking.member_id, booking.start, booking.end)
        return {
            "device_id": booking.device_id,
            "member_id": booking.member_id,
            "start": booking.start.isoformat(),
            "end": booking.end.isoformat(),
            "released": False,
            "no_show": False,
            "created": dt_util.utcnow().isoformat(),
        }

    @override
    def _get_suggested_id(self, info: dict[str, Any]) -> str:
        return f"{info['device_id']}_{info['start'][:16]}"

    @override
    async def _update_data(
        self, item: dict[str, Any], update_data: dict[str, Any]
    ) -> dict[str, Any]:
        move = BookingMove.from_wire(update_data)
        booking = Booking.from_storage(item)
        start = booking.start if move.start is None else move.start
        end = booking.end if move.end is None else move.end
        if booking.is_outage:
            self._check_outage(booking.device_id, start, end, booking.id)
        else:
            self._check(booking.device_id, booking.member_id, start, end, booking.id)
        return {**item, "start": start.isoformat(), "end": end.isoformat()}

    async def async_end(self, booking_id: str) -> Booking:
        """End a booking now (its member is done early): the device is free again."""
        booking = self.booking(booking_id)
        now = dt_util.utcnow()
        if booking.start > now:
            await self.async_delete_item(booking_id)  # not begun: simply cancelled
            return replace(booking, released=True)
        if booking.end <= now or booking.released:
            return booking
        return await self._async_release(booking, now, no_show=False)

    async def async_schedule_outage(
        self, device_id: str, start: Any, end: Any, note: str = ""
    ) -> Booking:
        """Take a device out of service for a while; cancel the bookings it meets.

        The members of the bookings cancelled (or cut short, when they began
        before the outage) are told. Audited as an admin change of the device.
        """
        item = await self.async_create_item(
            {
                "kind": BookingKind.OUTAGE.value,
                "device_id": device_id,
                "start": start,
                "end": end,
                "note": note,
            }
        )
        outage = Booking.from_storage(item)
        now = dt_util.utcnow()
        cancelled: list[Booking] = []
        for hit in outage_collisions(
            outage.start,
            outage.end,
            now,
            self.between(device_id, outage.start, outage.end),
        ):
            booking = hit.booking
            if hit.end is None:
                await self.async_delete_item(booking.id)
            elif hit.end <= now:
                await self._async_release(booking, now, no_show=False)
            else:
                await self._async_cut(booking, hit.end)
            cancelled.append(booking)
            self.hass.async_create_task(
                self._async_tell(booking, "booking_cancelled_outage", outage),
                f"{DOMAIN} outage",
            )
        shown: dict[str, str | int | None] = {
            "start": outage.start.isoformat(),
            "end": outage.end.isoformat(),
            "note": outage.note or None,
            "cancelled_bookings": len(cancelled),
        }
        self._audit_outage(
            admin_audit.CREATED,
            outage,
            {k: admin_audit.change(None, v) for k, v in shown.items()},
        )
        return outage

    async def _async_cut(self, booking: Booking, end: datetime) -> None:
        """End a booking earlier, without the rules (it only gets shorter)."""
        cut = {**self.data[booking.id], "end": end.isoformat()}
        self.data[booking.id] = cut
        await self.notify_changes(
            [collection.CollectionChange(collection.CHANGE_UPDATED, booking.id, cut)]
        )
        self._async_schedule_save()

    async def async_end_outage(self, outage_id: str) -> Booking:
        """Cancel an outage not begun, or end a running one now (audited)."""
        outage = self.booking(outage_id)
        if not outage.is_outage:
            raise AccessValidationError("unknown_outage", outage=outage_id)
        ended = await self.async_end(outage_id)
        # Not begun: it is gone (no end); running: it ends now.
        end = ended.end.isoformat() if outage_id in self.data else None
        self._audit_outage(
            admin_audit.DELETED,
            ended,
            {"end": admin_audit.change(outage.end.isoformat(), end)},
        )
        return ended

    def _audit_outage(
        self,
        action: str,
        outage: Booking,
        changes: Mapping[str, admin_audit.FieldChange],
    ) -> None:
        """Audit an outage scheduled or ended: its fields before -> after."""
        device = self.engine.device(outage.device_id)
        self.engine.admin_audit.record(
            "outage",
            action,
            changes,
            device_id=outage.device_id,
            target_id=outage.id,
            label=(device.entry.title if device else None) or outage.device_id,
        )

    async def _async_release(
        self, booking: Booking, now: datetime, *, no_show: bool
    ) -> Booking:
        """Free a booking from ``now``, without the rules (it only gets shorter)."""
        released = {
            **self.data[booking.id],
            "end": max(now, booking.start).isoformat(),
            "released": True,
            "no_show": no_show,
        }
        self.data[booking.id] = released
        await self.notify_changes(
            [
                collection.CollectionChange(
                    collection.CHANGE_UPDATED, booking.id, released
                )
            ]
        )
        self._async_schedule_save()
        device_id = booking.device_id
        down = any(
            b.is_outage and b.covers(now)
            for b in self.around(device_id, now, timedelta(0))
            if not b.released
        )
        if not down and not self.engine.interest.in_use(device_id):
            # The interest queue hears the device is free (the booking held it);
            # not when an outage took the booking's place.
            async_dispatcher_send(self.hass, SIGNAL_DEVICE_FREE, device_id)
        return Booking.from_storage(released)

    def booking(self, booking_id: str) -> Booking:
        """Return a booking, or raise the translated unknown_booking."""
        if (item := self.data.get(booking_id)) is None:
            raise AccessValidationError("unknown_booking", booking=booking_id)
        return Booking.from_storage(item)

    async def async_release_no_shows(self, now: datetime) -> list[Booking]:
        """Release every booking nobody came to; return them."""
        released: list[Booking] = []
        for device_id in {item["device_id"] for item in self._items.values()}:
            rules = self.rules_of(device_id)
            for booking in self.around(device_id, now, timedelta(0)):
                spans = self._spans(device_id, booking.start.timestamp())
                if booking.covers(now) and is_no_show(booking, now, rules, spans):
                    released.append(
                        await self._async_release(booking, now, no_show=True)
                    )
        return released

    async def async_release(self, bookings: Iterable[Booking]) -> None:
        """Release no-shows a decision found (those still held), tell their members."""
        now = dt_util.utcnow()
        for booking in bookings:
            if booking.id not in self.data:
                continue
            held = self.booking(booking.id)
            if held.released:
                continue
            self._released(await self._async_release(held, now, no_show=True))

    def _released(self, booking: Booking) -> None:
        LOGGER.debug("Booking %s released: nobody came", booking.id)
        if (device := self.engine.device(booking.device_id)) is not None:
            fire_access_event(
                self.hass,
                device,
                AccessEventType.BOOKING_RELEASED,
                member=self.engine.members.member(booking.member_id),
                extra={
                    "booking_id": booking.id,
                    "booking_start": booking.start.isoformat(),
                    "booking_end": booking.end.isoformat(),
                },
            )
        self.hass.async_create_task(
            self._async_tell(booking, "booking_released"), f"{DOMAIN} no-show"
        )

    async def _async_check_no_shows(self, now: datetime) -> None:
        self.engine.async_after_reply_done()
        for booking in await self.async_release_no_shows(dt_util.as_utc(now)):
            self._released(booking)
        await self._async_forget_old(dt_util.as_utc(now))
        # The day ahead moves on: bookings enter a device's mirror as it does.
        for device_id in list(self.engine.devices):
            await self._async_sync_mirror(device_id)

    async def _async_tell(
        self, booking: Booking, key: str, outage: Booking | None = None
    ) -> None:
        """Tell a member their booking was released (``key``: which text).

        ``booking_released``: for want of showing up; ``booking_cancelled_outage``:
        an outage of the device took its time (``outage``).
        """
        member = self.engine.members.member(booking.member_id)
        device = self.engine.device(booking.device_id)
        if member is None or device is None:
            return
        local = dt_util.as_local(booking.start)
        placeholders = {
            "device": device_name(self.hass, device),
            "start": local.strftime("%H:%M"),
            "day": local.strftime("%Y-%m-%d"),
            "note": (outage.note if outage is not None else "") or "-",
        }
        title, message = await async_notification_text(self.hass, key, **placeholders)
        await async_notify_member(
            self.hass,
            member,
            title=title,
            message=message,
            tag=f"{DOMAIN}_booking_{booking.id}",
            data={"fluxilab_device": device.device_id},
        )

    async def _async_forget_old(self, now: datetime) -> None:
        cutoff = now - timedelta(days=KEEP_PAST_DAYS)
        for item in list(self._items.values()):
            if datetime.fromisoformat(item["end"]) < cutoff:
                await self.async_delete_item(item["id"])
