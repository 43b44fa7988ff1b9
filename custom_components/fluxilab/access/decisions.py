"""The access decision: one function, one reason per denial.

Checks run in a fixed order (docs/ACCESS.md), and the first that fails names the
reason: inactive, blocked, not_authorized, expired, outside_hours, unsafe, outage,
booked_by_other or booking_required, maintenance_due, no_supervisor, safety_limit.
Before them, a machine type with ``require_pin`` wants the card and its member's PIN
(``pin_reason``). Everything is computed from data already in memory: no I/O here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum

from homeassistant.util import dt as dt_util

from .const import Reason
from .lab_models import Authorization, MachineType
from .lapses import is_lapsed
from .member_models import Member
from .roles import RoleFlags


def _in_window(auth: Authorization, now: datetime) -> bool:
    """Return True if ``now`` (local time) lies inside the authorization's window."""
    begin, finish = auth.window_start, auth.window_end
    if begin is None or finish is None:
        return True
    local = dt_util.as_local(now).time()
    if begin <= finish:
        return begin <= local < finish
    return local >= begin or local < finish  # a window across midnight


def _expired(auth: Authorization, now: datetime) -> bool:
    return auth.expires is not None and now >= auth.expires


def usable(
    auth: Authorization, machine_type: MachineType | None, now: datetime
) -> bool:
    """Return True if an authorization has neither expired nor lapsed at ``now``."""
    return not _expired(auth, now) and not is_lapsed(auth, machine_type, now)


def applies(auth: Authorization, device_id: str, machine_type_id: str | None) -> bool:
    """Return True if an authorization covers this device."""
    if auth.device_id is not None:
        return auth.device_id == device_id
    return machine_type_id is not None and auth.machine_type_id == machine_type_id


def authorization_reason(
    member: Member,
    authorizations: Iterable[Authorization],
    device_id: str,
    machine_type: MachineType | None,
    now: datetime,
    *,
    role: RoleFlags,
    check_window: bool = True,
) -> Reason:
    """Return GRANTED if the member may use the device's machine type at ``now``.

    A device without a machine type admits only members authorized for it directly
    (or whose ``role``, the flags of the member's role, bypasses authorizations).
    ``member``: whom it is for (the rule reads their authorizations and role, both
    given).
    """
    if machine_type is not None and not machine_type.requires_authorization:
        return Reason.GRANTED
    if role.bypass_authorization:
        return Reason.GRANTED
    type_id = machine_type.id if machine_type is not None else None
    relevant = [a for a in authorizations if applies(a, device_id, type_id)]
    if not relevant:
        return Reason.NOT_AUTHORIZED
    current = [a for a in relevant if not _expired(a, now)]
    if not current:
        return Reason.EXPIRED
    current = [a for a in current if not is_lapsed(a, machine_type, now)]
    if not current:
        return Reason.LAPSED
    if check_window and not any(_in_window(a, now) for a in current):
        return Reason.OUTSIDE_HOURS
    return Reason.GRANTED


def requires_pin(machine_type: MachineType | None) -> bool:
    """Return True if the machine type wants card + PIN to grant its devices."""
    return machine_type is not None and machine_type.require_pin


SECOND_FACTOR_REFUSALS = frozenset(
    {Reason.PIN_REQUIRED, Reason.PIN_WRONG, Reason.PIN_LOCKED, Reason.CARD_REQUIRED}
)
"""``pin_reason``'s refusals: nobody proved who is at the machine."""


def pin_reason(
    machine_type: MachineType | None,
    *,
    card_member_id: str | None,
    pin_member_id: str | None,
    pin_failed: bool,
    pin_wait: float,
) -> Reason:
    """Return GRANTED unless the type wants card + PIN and the request lacks them.

    The device checks the PIN against its mirror (no secret crosses the wire): it
    sends the card with the id of the member whose PIN matched, or ``pin_failed``.
    ``card_member_id`` is the card's member (None: a login without a card);
    ``pin_wait`` the seconds the card's member's PINs still back off. A card alone
    is ``pin_required`` (the device asks for the PIN), a PIN alone
    ``card_required``; a wrong PIN, or the PIN of another member, ``pin_wrong``.
    """
    if not requires_pin(machine_type):
        return Reason.GRANTED
    if card_member_id is None:
        return Reason.CARD_REQUIRED
    if pin_member_id is None and not pin_failed:
        return Reason.PIN_REQUIRED
    if pin_wait > 0:
        return Reason.PIN_LOCKED
    if pin_failed or pin_member_id != card_member_id:
        return Reason.PIN_WRONG
    return Reason.GRANTED


def safety_ok(
    machine_type: MachineType | None, values: Mapping[str, int | float | bool]
) -> bool:
    """Return True if every safety channel has a reading inside its limits.

    A channel with no reading counts as outside: the hub cannot vouch for it.
    """
    if machine_type is None:
        return True
    for limit in machine_type.safety_limits:
        value = values.get(limit.channel)
        if value is None:
            return False
        number = float(value)
        if limit.min is not None and number < limit.min:
            return False
        if limit.max is not None and number > limit.max:
            return False
    return True


def decide(
    *,
    member: Member,
    role: RoleFlags,
    authorizations: Iterable[Authorization],
    device_id: str,
    machine_type: MachineType | None,
    blocked: bool,
    maintenance_due: bool,
    values: Mapping[str, int | float | bool],
    now: datetime,
    supervised: bool = True,
    booking: StrEnum | None = None,
) -> Reason:
    """Decide whether ``member`` may start using the device now.

    ``supervised`` is False when the machine needs a supervisor present and none
    is (presence.py works that out from swipes and check-ins). ``booking`` is why
    the device's bookings refuse the member (``outage``, ``booked_by_other``,
    ``booking_required``: booking_store.py ``verdict``) or an open report says the
    machine is unsafe (``unsafe``: problems.py), None if nothing does.
    """
    if not member.active:
        return Reason.INACTIVE
    if blocked:
        return Reason.BLOCKED
    reason = authorization_reason(
        member, authorizations, device_id, machine_type, now, role=role
    )
    if reason is not Reason.GRANTED:
        return reason
    if booking is not None:
        return Reason(booking.value)
    if (
        maintenance_due
        and machine_type is not None
        and machine_type.block_when_maintenance_due
        and not role.may_maintain
    ):
        return Reason.MAINTENANCE_DUE
    if not supervised:
        return Reason.NO_SUPERVISOR
    if not safety_ok(machine_type, values):
        return Reason.SAFETY_LIMIT
    return Reason.GRANTED
