"""The panel's booking commands: book, cancel or end early, list (docs/BOOKINGS.md).

``fluxilab/booking/create`` books a device for the caller (staff and admins: for any
member), ``fluxilab/booking/delete`` cancels a booking not begun yet or ends a
running one now, ``fluxilab/booking/list`` lists the caller's own bookings ("my
bookings") and, for one device, its bookings in a window (the week view). Who may
do which: access/permissions.py ``BOOK`` and ``SEE_BOOKINGS``; callers who may see
only their own get others' bookings as booked times without a member.

``fluxilab/outage/create`` schedules an outage of a device (the bookings it meets
are cancelled and their members told), ``fluxilab/outage/delete`` cancels or ends
one: ``MANAGE_OUTAGES``. Outages are listed with the bookings (``kind``,
``note``), to everyone.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from homeassistant.components import websocket_api
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util
import probatio as vol

from custom_components.fluxilab.access.bookings import Booking
from custom_components.fluxilab.access.engine import ACCESS_ENGINE
from custom_components.fluxilab.access.errors import AccessValidationError
from custom_components.fluxilab.access.permissions import (
    Scope,
    require_permission,
    websocket_caller,
)
from custom_components.fluxilab.const import DOMAIN

from .interest import async_member_for

if TYPE_CHECKING:
    from custom_components.fluxilab.access.engine import AccessEngine

MAX_LIST_DAYS: Final = 62
"""Longest window one list answers (a week view asks for 7 days)."""


def public_booking(
    engine: AccessEngine, booking: Booking, *, named: bool
) -> dict[str, Any]:
    """Return a booking as the panel shows it; ``named``: with its member."""
    item = engine.bookings.data.get(booking.id, {})
    shown: dict[str, Any] = {
        "id": booking.id,
        "device_id": booking.device_id,
        "start": booking.start.isoformat(),
        "end": booking.end.isoformat(),
        "released": booking.released,
        "no_show": bool(item.get("no_show")),
        "kind": booking.kind.value,
        "note": item.get("note") if booking.is_outage else None,
        "member_id": None,
        "member_name": None,
    }
    if named and not booking.is_outage:
        member = engine.members.data.get(booking.member_id)
        shown["member_id"] = booking.member_id
        shown["member_name"] = member["name"] if member else None
    return shown


def _engine(hass: HomeAssistant) -> AccessEngine:
    return hass.data[ACCESS_ENGINE]


@callback
def async_setup_booking_websocket(hass: HomeAssistant) -> None:
    """Register ``fluxilab/booking/create|delete|list``."""
    websocket_api.async_register_command(hass, ws_booking_create)
    websocket_api.async_register_command(hass, ws_booking_delete)
    websocket_api.async_register_command(hass, ws_booking_list)
    websocket_api.async_register_command(hass, ws_outage_create)
    websocket_api.async_register_command(hass, ws_outage_delete)


@require_permission
@websocket_api.websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/booking/create",
        vol.Required("fluxilab_device"): vol.All(str, vol.Length(max=64)),
        vol.Required("start"): vol.All(str, vol.Length(max=64)),
        vol.Required("end"): vol.All(str, vol.Length(max=64)),
        vol.Optional("member_id"): vol.All(str, vol.Length(max=100)),
    }
)
@websocket_api.async_response
async def ws_booking_create(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Book a device for the caller (or, for staff, a member)."""
    engine = _engine(hass)
    member = await async_member_for(
        engine, connection.user.id, msg.get("member_id"), msg["type"]
    )
    item = await engine.bookings.async_create_item(
        {
            "device_id": msg["fluxilab_device"],
            "member_id": member["id"],
            "start": msg["start"],
            "end": msg["end"],
        }
    )
    connection.send_result(
        msg["id"], public_booking(engine, Booking.from_storage(item), named=True)
    )


@require_permission
@websocket_api.websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/booking/delete",
        vol.Required("booking_id"): vol.All(str, vol.Length(max=200)),
    }
)
@websocket_api.async_response
async def ws_booking_delete(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Cancel a booking not begun, or end a running one now."""
    engine = _engine(hass)
    booking = engine.bookings.booking(msg["booking_id"])
    if booking.is_outage:
        raise AccessValidationError("booking_is_outage", booking=booking.id)
    # Refuses (Unauthorized) a caller who may touch only their own bookings.
    await async_member_for(engine, connection.user.id, booking.member_id, msg["type"])
    ended = await engine.bookings.async_end(booking.id)
    connection.send_result(msg["id"], public_booking(engine, ended, named=True))


@require_permission
@websocket_api.websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/outage/create",
        vol.Required("fluxilab_device"): vol.All(str, vol.Length(max=64)),
        vol.Required("start"): vol.All(str, vol.Length(max=64)),
        vol.Required("end"): vol.All(str, vol.Length(max=64)),
        vol.Optional("note", default=""): vol.All(str, vol.Length(max=200)),
    }
)
@websocket_api.async_response
async def ws_outage_create(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Take a device out of service for a while (staff); answer the outage."""
    engine = _engine(hass)
    outage = await engine.bookings.async_schedule_outage(
        msg["fluxilab_device"], msg["start"], msg["end"], msg["note"]
    )
    connection.send_result(msg["id"], public_booking(engine, outage, named=False))


@require_permission
@websocket_api.websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/outage/delete",
        vol.Required("outage_id"): vol.All(str, vol.Length(max=200)),
    }
)
@websocket_api.async_response
async def ws_outage_delete(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """Cancel an outage not begun, or end a running one now (staff)."""
    engine = _engine(hass)
    ended = await engine.bookings.async_end_outage(msg["outage_id"])
    connection.send_result(msg["id"], public_booking(engine, ended, named=False))


def _moment(value: Any, default: datetime) -> datetime:
    if value is None:
        return default
    try:
        parsed: datetime = cv.datetime(value)
    except vol.Invalid as err:
        raise AccessValidationError("invalid_data", error=str(err)) from err
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt_util.get_default_time_zone())
    return dt_util.as_utc(parsed)


@require_permission
@websocket_api.websocket_command(
    {
        vol.Required("type"): f"{DOMAIN}/booking/list",
        vol.Optional("fluxilab_device"): vol.All(str, vol.Length(max=64)),
        vol.Optional("start"): vol.All(str, vol.Length(max=64)),
        vol.Optional("end"): vol.All(str, vol.Length(max=64)),
    }
)
@websocket_api.async_response
async def ws_booking_list(
    hass: HomeAssistant, connection: websocket_api.ActiveConnection, msg: dict[str, Any]
) -> None:
    """List the caller's bookings ahead, and a device's bookings in a window."""
    engine = _engine(hass)
    caller = websocket_caller(hass, connection)
    everyone = caller.scope(msg["type"]) is Scope.ANY
    now = dt_util.utcnow()
    own = caller.member
    result: dict[str, Any] = {
        "mine": [
            public_booking(engine, booking, named=True)
            for booking in engine.bookings.of_member(own.id)
            if booking.end > now
        ]
        if own is not None
        else [],
        # Bookings of the caller's released because nobody came (the last 90 days).
        "no_shows": engine.bookings.no_shows(own.id) if own is not None else 0,
    }
    if (device_id := msg.get("fluxilab_device")) is not None:
        if engine.device(device_id) is None:
            raise AccessValidationError("unknown_device", device=device_id)
        start = _moment(msg.get("start"), now)
        end = _moment(msg.get("end"), start + timedelta(days=7))
        if end <= start or end - start > timedelta(days=MAX_LIST_DAYS):
            raise AccessValidationError("invalid_period")
        rules = engine.bookings.rules_of(device_id)
        result["device"] = {
            "device_id": device_id,
            "mode": rules.mode.value,
            "min_minutes": rules.min_minutes,
            "max_minutes": rules.max_minutes,
            "ahead_days": rules.ahead_days,
            "bookings": [
                public_booking(
                    engine,
                    booking,
                    named=everyone or caller.is_own(booking.member_id),
                )
                for booking in engine.bookings.between(device_id, start, end)
            ],
        }
    connection.send_result(msg["id"], result)
