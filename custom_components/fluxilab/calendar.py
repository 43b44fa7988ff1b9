"""Each device's bookings as a Home Assistant calendar (rules: access/bookings.py).

The events are the device's bookings; their summary names the member only if the
lab shows names (``show_member_names``), else the member's pseudonym. Staff and
admins book through ``calendar.create_event`` (who may: access/permissions.py),
naming the member by id or name in the summary. Bookings are changed and cancelled
through the panel's booking commands (api/bookings.py): Home Assistant's
calendar/event/delete and /update websocket commands carry no caller to an entity,
so the permission table could not be checked there, and they are not offered.

Outages (access/bookings.py ``BookingKind.OUTAGE``) are events of their own kind on
the same calendar: their summary is ``Outage`` (``Fuori servizio`` in Italian) and
the note staff gave. Staff schedule one through ``calendar.create_event`` with such
a summary (``Outage: new laser tube``; a description is the note too); who may:
access/permissions.py ``MANAGE_OUTAGES``, the panel's ``fluxilab/outage/create``.
"""

from __future__ import annotations

from datetime import datetime
import re
from typing import Any, Final

from homeassistant.components.calendar import (
    CalendarEntity,
    CalendarEntityDescription,
    CalendarEntityFeature,
    CalendarEvent,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .access.booking_store import SIGNAL_BOOKINGS_CHANGED
from .access.bookings import Booking
from .access.engine import ACCESS_ENGINE
from .access.errors import AccessValidationError
from .access.permissions import async_caller
from .const import DOMAIN
from .device.runtime import FluxiLabConfigEntry, FluxiLabDevice
from .entity import FluxiLabEntity

PARALLEL_UPDATES = 1

BOOKINGS = CalendarEntityDescription(key="bookings", translation_key="bookings")
OUTAGE_SUMMARY: Final = "Outage"
"""The summary of an outage event (the note follows it)."""
OUTAGE_WORDS: Final = re.compile(r"^\s*(outage|fuori servizio)\b\s*:?\s*", re.I)
"""A create_event summary naming an outage (en, it), and what follows is its note."""


async def async_setup_entry(
    hass: HomeAssistant,
    entry: FluxiLabConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the device's bookings calendar."""
    async_add_entities([FluxiLabBookingCalendar(entry.runtime_data, BOOKINGS)])


class FluxiLabBookingCalendar(FluxiLabEntity, CalendarEntity):
    """A device's bookings."""

    _attr_supported_features = CalendarEntityFeature.CREATE_EVENT

    def __init__(
        self, device: FluxiLabDevice, description: CalendarEntityDescription
    ) -> None:
        """Bind the calendar to its device."""
        super().__init__(device, description)

    @property
    def available(self) -> bool:
        """Bookings stand while the device is offline: always available."""
        return True

    def _summary(self, booking: Booking) -> str:
        engine = self.hass.data[ACCESS_ENGINE]
        if booking.is_outage:
            note = engine.bookings.data.get(booking.id, {}).get("note")
            return f"{OUTAGE_SUMMARY}: {note}" if note else OUTAGE_SUMMARY
        member = engine.members.member(booking.member_id)
        if (name := engine.privacy.name(member)) is not None:
            return name
        return engine.privacy.member(booking.member_id)

    def _event(self, booking: Booking) -> CalendarEvent:
        note = None
        if booking.is_outage:
            engine = self.hass.data[ACCESS_ENGINE]
            note = engine.bookings.data.get(booking.id, {}).get("note") or None
        return CalendarEvent(
            start=dt_util.as_local(booking.start),
            end=dt_util.as_local(booking.end),
            summary=self._summary(booking),
            uid=booking.id,
            description=note,
        )

    def _shown_bookings(self, start: datetime, end: datetime) -> list[Booking]:
        engine = self.hass.data[ACCESS_ENGINE]
        return [
            booking
            for booking in engine.bookings.between(self.device.device_id, start, end)
            if not engine.bookings.data[booking.id].get("no_show")
        ]

    @property
    def event(self) -> CalendarEvent | None:
        """Return the booking running now, else the next one."""
        engine = self.hass.data[ACCESS_ENGINE]
        booking = engine.bookings.current_or_next(
            self.device.device_id, dt_util.utcnow()
        )
        return None if booking is None else self._event(booking)

    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        """Return the bookings between two moments."""
        return [
            self._event(booking)
            for booking in self._shown_bookings(
                dt_util.as_utc(start_date), dt_util.as_utc(end_date)
            )
        ]

    async def async_create_event(self, **kwargs: Any) -> None:
        """Book the device for the member the summary names (staff and admins)."""
        async with self.async_permitted("create_event"):
            start, end = kwargs["dtstart"], kwargs["dtend"]
            if kwargs.get("rrule"):
                raise AccessValidationError("booking_repeating")
            if not isinstance(start, datetime) or not isinstance(end, datetime):
                raise AccessValidationError("booking_all_day")
            engine = self.hass.data[ACCESS_ENGINE]
            summary = str(kwargs.get("summary") or "").strip()
            if (outage := OUTAGE_WORDS.match(summary)) is not None:
                await self._async_schedule_outage(
                    start,
                    end,
                    summary[outage.end() :] or str(kwargs.get("description") or ""),
                )
                return
            wanted = summary.casefold()
            member = engine.members.data.get(summary) or next(
                (
                    m
                    for m in engine.members.data.values()
                    if str(m["name"]).casefold() == wanted
                ),
                None,
            )
            if member is None:
                raise AccessValidationError("booking_member_unknown", summary=summary)
            await engine.bookings.async_create_item(
                {
                    "device_id": self.device.device_id,
                    "member_id": member["id"],
                    "start": start.isoformat(),
                    "end": end.isoformat(),
                }
            )

    async def _async_schedule_outage(
        self, start: datetime, end: datetime, note: str
    ) -> None:
        """Schedule an outage, if the caller may (the panel's door's permission)."""
        context = self._context
        caller = await async_caller(
            self.hass, context.user_id if context is not None else None
        )
        caller.require(
            f"{DOMAIN}/outage/create", context=context, entity_id=self.entity_id
        )
        await self.hass.data[ACCESS_ENGINE].bookings.async_schedule_outage(
            self.device.device_id, start.isoformat(), end.isoformat(), note.strip()
        )

    async def async_added_to_hass(self) -> None:
        """Follow the device's bookings."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass, SIGNAL_BOOKINGS_CHANGED, self._bookings_changed
            )
        )

    @callback
    def _bookings_changed(self, device_id: str) -> None:
        if device_id == self.device.device_id:
            self.async_write_ha_state()

    def _shown(self) -> tuple[Any, ...]:
        event = self.event
        return (event.uid, event.start, event.end) if event else (None,)
