"""Interest queue: "tell me when it's free" (docs/ACCESS.md "Interest queue").

A member subscribes to a device that is in use (an open session, or busy by its
telemetry). When the engine signals the device became free (``SIGNAL_DEVICE_FREE``),
every subscriber gets one push notification, ``interest_notified`` fires on
``fluxilab_access`` for that device, and the subscriptions are gone. Subscribing to a
free device is refused (``device_free``): the member can go now, and a button that
silently waits for the next session to end would surprise them.

Subscriptions live in the history store (they survive a restart) and expire after
``interest_expiry_hours`` (default 8): nobody wants a push about yesterday's queue.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
import logging
import time
from typing import TYPE_CHECKING, Any, Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.util import dt as dt_util

from custom_components.fluxilab.const import DOMAIN

from .const import SIGNAL_DEVICE_FREE, AccessEventType
from .errors import AccessValidationError
from .events import fire_access_event
from .history import Subscription
from .member_models import Member
from .notify import async_notification_text, async_notify_member

if TYPE_CHECKING:
    from custom_components.fluxilab.device.port import AccessDevice

    from .lab import Lab

_LOGGER = logging.getLogger(__name__)

MAX_SUBSCRIPTIONS: Final = 500
"""Bound on stored subscriptions over all devices (the oldest go first)."""


def device_name(hass: HomeAssistant, device: AccessDevice) -> str:
    """Return the name people know a device by (the registry's, else its id)."""
    entry = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, device.device_id), device.entry.entry_id
    )
    if entry is not None and (name := entry.name_by_user or entry.name):
        return name
    return device.device_id


@dataclass(frozen=True, slots=True, kw_only=True)
class QueuePlace:
    """A subscription with its place in its device's queue (1 = first)."""

    subscription: Subscription
    position: int

    def as_wire(self) -> dict[str, Any]:
        """Return the subscription as callers see it (websocket, service replies)."""
        sub = self.subscription
        return {
            "device_id": sub.device_id,
            "member_id": sub.member_id,
            "position": self.position,
            "since": dt_util.utc_from_timestamp(sub.ts).isoformat(),
            "expires": dt_util.utc_from_timestamp(sub.expires).isoformat(),
        }


def _live(
    subscriptions: list[Subscription], device_id: str, now: float
) -> list[Subscription]:
    """Return a device's live subscriptions among ``subscriptions``, oldest first."""
    return [s for s in subscriptions if s.device_id == device_id and s.expires > now]


class InterestQueue:
    """Members waiting for a busy device, told once when it is free."""

    def __init__(self, engine: Lab) -> None:
        """Attach to the engine (nothing loaded yet)."""
        self.engine = engine
        self.hass = engine.hass
        self._unsub: CALLBACK_TYPE | None = None

    @property
    def subscriptions(self) -> list[Subscription]:
        """Stored subscriptions, oldest first (the history's, a copy)."""
        return list(self.engine.history.data["interest"])

    @callback
    def _save(self, subscriptions: list[Subscription]) -> None:
        """Store ``subscriptions`` in place of the stored ones."""
        self.engine.history.data["interest"][:] = subscriptions
        self.engine.history.async_changed()

    @property
    def expiry_hours(self) -> float:
        """Hours a subscription waits before it is dropped."""
        return float(self.engine.history.data["settings"].interest_expiry_hours)

    @callback
    def async_load(self) -> None:
        """Listen for devices becoming free."""
        self._unsub = async_dispatcher_connect(
            self.hass, SIGNAL_DEVICE_FREE, self._async_device_free
        )

    @callback
    def async_stop(self) -> None:
        """Stop listening."""
        if self._unsub is not None:
            self._unsub()
            self._unsub = None

    # Queue ------------------------------------------------------------------------------

    def in_use(self, device_id: str) -> bool:
        """Return True while a device has an open session or works by its telemetry."""
        if self.engine.history.open_sessions(device_id):
            return True
        rules = getattr(self.engine, "telemetry_rules", None)
        return bool(rules is not None and rules.is_busy(device_id))

    def held(self, device_id: str) -> bool:
        """Return True while a device is in use or someone's booking runs on it.

        A booked device is worth waiting for: a no-show or an early end frees it,
        and the queue is told (booking_store.py).
        """
        if self.in_use(device_id):
            return True
        now = dt_util.utcnow()
        return any(
            b.covers(now) and not b.released
            for b in self.engine.bookings.around(device_id, now, timedelta(0))
        )

    @callback
    def _purge(self, now: float) -> None:
        """Drop expired subscriptions (and members or devices gone)."""
        subscriptions = self.subscriptions
        kept = [
            s
            for s in subscriptions
            if s.expires > now and s.member_id in self.engine.members.data
        ]
        if len(kept) != len(subscriptions):
            self._save(kept)

    def of_device(self, device_id: str, now: float | None = None) -> list[QueuePlace]:
        """Return a device's live subscriptions, oldest first, with their places."""
        now = time.time() if now is None else now
        return [
            QueuePlace(subscription=sub, position=place)
            for place, sub in enumerate(_live(self.subscriptions, device_id, now), 1)
        ]

    def of_member(self, member_id: str) -> list[QueuePlace]:
        """Return a member's live subscriptions with their places in the queues."""
        now = time.time()
        subscriptions = self.subscriptions
        shown = []
        for sub in subscriptions:
            if sub.member_id != member_id or sub.expires <= now:
                continue
            queue = _live(subscriptions, sub.device_id, now)
            shown.append(QueuePlace(subscription=sub, position=queue.index(sub) + 1))
        return shown

    @callback
    def async_subscribe(self, member_id: str, device: AccessDevice) -> QueuePlace:
        """Queue a member for a busy device; return their place (1 = first).

        Subscribing again keeps the original place but waits longer.
        """
        now = time.time()
        self._purge(now)
        if not self.held(device.device_id):
            raise AccessValidationError("device_free", device=device.device_id)
        expires = now + self.expiry_hours * 3600
        subscriptions = self.subscriptions
        queue = _live(subscriptions, device.device_id, now)
        mine = next((s for s in queue if s.member_id == member_id), None)
        if mine is not None:
            sub = replace(mine, expires=expires)
            subscriptions = [sub if s is mine else s for s in subscriptions]
            queue = [sub if s is mine else s for s in queue]
        else:
            sub = Subscription(
                device_id=device.device_id, member_id=member_id, ts=now, expires=expires
            )
            subscriptions.append(sub)
            queue.append(sub)
            if len(subscriptions) > MAX_SUBSCRIPTIONS:
                del subscriptions[: len(subscriptions) - MAX_SUBSCRIPTIONS]
        self._save(subscriptions)
        return QueuePlace(subscription=sub, position=queue.index(sub) + 1)

    @callback
    def async_cancel(self, member_id: str, device_id: str) -> bool:
        """Leave a device's queue; return False if the member was not in it."""
        subscriptions = self.subscriptions
        kept = [
            s
            for s in subscriptions
            if not (s.member_id == member_id and s.device_id == device_id)
        ]
        if len(kept) == len(subscriptions):
            return False
        self._save(kept)
        return True

    @callback
    def _async_device_free(self, device_id: str) -> None:
        """Tell everyone waiting for the device, once, and empty its queue."""
        now = time.time()
        self._purge(now)
        subscriptions = self.subscriptions
        waiting = _live(subscriptions, device_id, now)
        if not waiting or (device := self.engine.device(device_id)) is None:
            return
        self._save([s for s in subscriptions if s.device_id != device_id])
        for sub in waiting:
            member = self.engine.members.member(sub.member_id)
            if member is None:
                continue
            fire_access_event(
                self.hass,
                device,
                AccessEventType.INTEREST_NOTIFIED,
                member=member,
                ts=now,
            )
            device.entry.async_create_task(
                self.hass,
                self._async_tell(member, device),
                f"{DOMAIN} device free {device_id}",
            )

    async def _async_tell(self, member: Member, device: AccessDevice) -> None:
        title, message = await async_notification_text(
            self.hass, "device_free", device=device_name(self.hass, device)
        )
        await async_notify_member(
            self.hass,
            member,
            title=title,
            message=message,
            tag=f"{DOMAIN}_free_{device.device_id}",
            data={"fluxilab_device": device.device_id},
        )
