"""Each device's bookings as a Home Assistant calendar (rules: access/bookings.py).

The events are the device's bookings; their summary names the member only if the
lab shows names (``show_member_names``), else the member's pseudonym. Staff and
admins book through ``calendar.create_event`` (who may: access/permissions.py),
naming the member by id or name in the summary. Bookings are changed and cancelled
through the panel's booking commands (api/bookings.py): Home Assistant's
calendar/event/delete and /update websocket commands carry no caller to an entity,
so the permission table could not be checked there, and they are not offered.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

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
from .device.runtime import FluxiLabConfigEntry, FluxiLabDevice
from .entity import FluxiLabEntity

PARALLEL_UPDATES = 1

BOOKINGS = CalendarEntityDescription(key="bookings", translation_key="bookings")


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
        member = engine.members.data.get(booking.member_id)
        if (name := engine.privacy.name(member)) is not None:
            return name
        return engine.privacy.member(booking.member_id)

    def _event(self, booking: Booking) -> CalendarEvent:
        return CalendarEvent(
            start=dt_util.as_local(booking.start),
            end=dt_util.as_local(booking.end),
            summary=self._summary(booking),
            uid=booking.id,
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
