"""What the engine's features use of it: one Protocol, implemented by engine.py.

Lapsing, the interest queue, presence, telemetry rules, credential sync and the
Fab-O-Matic board's side are made by the engine and handed it as a :class:`Lab`:
the collections, the history and a few lookups, never the features of one
another. The Protocol sits below them all, so no feature imports engine.py and
engine.py imports every feature without a cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from datetime import datetime, timedelta

    from homeassistant.core import HomeAssistant

    from custom_components.fluxilab.device.port import AccessDevice
    from custom_components.fluxilab.history_db import LiveSession
    from custom_components.fluxilab.protocol.access import (
        AccessRecord,
        AccessRequest,
        Decision,
    )

    from .bookings import Booking, BookingMirror
    from .const import SessionEnd
    from .history import AccessHistory
    from .lab_models import MachineType
    from .privacy import Privacy
    from .store import (
        AuthorizationCollection,
        MachineTypeCollection,
        MemberCollection,
        RoleCollection,
    )


class BookingIndex(Protocol):
    """What features read of the bookings (booking_store.py implements it)."""

    def mirrored(self, device_id: str) -> BookingMirror:
        """Return what a device's mirror carries of its bookings."""

    def around(self, device_id: str, now: datetime, ahead: timedelta) -> list[Booking]:
        """Return the bookings running at ``now`` or starting within ``ahead``."""


class ProblemIndex(Protocol):
    """What features read of the problem reports (problems.py implements it)."""

    def unsafe(self, device_id: str) -> bool:
        """Return True while an open report says the device is unsafe."""


class Lab(Protocol):
    """The lab's data and the engine's few shared operations."""

    hass: HomeAssistant
    members: MemberCollection
    roles: RoleCollection
    machine_types: MachineTypeCollection
    authorizations: AuthorizationCollection
    history: AccessHistory
    privacy: Privacy

    @property
    def bookings(self) -> BookingIndex:
        """The devices' bookings."""

    @property
    def problems(self) -> ProblemIndex:
        """The devices' problem reports."""

    devices: dict[str, AccessDevice]
    """Followed devices by our id."""

    def device(self, device_id: str) -> AccessDevice | None:
        """Return a followed device by our id."""

    async def async_device(self, device_id: str) -> AccessDevice | None:
        """Return a followed device, waiting while its entry is set up again."""

    def machine_type_of(self, device: AccessDevice) -> MachineType | None:
        """Return the machine type the admin assigned to a device (typed)."""

    def publish_usage(self, device: AccessDevice) -> None:
        """Push in-use, current member, usage hours and maintenance state."""

    def open_session(
        self, device: AccessDevice, session_id: str, card: str | None, ts: float
    ) -> LiveSession | None:
        """Open a session the device did not ask for (None: the card is refused)."""

    def close_session(
        self, device: AccessDevice, session: LiveSession, closed_by: SessionEnd
    ) -> None:
        """Close an open session now."""

    async def async_sync_all(self) -> None:
        """Send every followed device its current credential set."""

    async def async_decide(
        self, device: AccessDevice, request: AccessRequest, *, buffered: bool = False
    ) -> Decision:
        """Decide an access request (``buffered``: a device's kept maintenance)."""

    async def async_handle_record(
        self, device: AccessDevice, event: AccessRecord, ts: float, buffered: bool
    ) -> None:
        """Take an access record the device buffered, with its original time."""
