"""Credential sync: each device's mirror of the members who may use it.

The set per device holds only members who may start a session there (active and
authorized for its machine type or the device, or bypassing by role), with their
active cards, the hash of their PIN if it is active (flagged ``pin_must_change`` while
it is an initial PIN), level and maintenance flag: a
deactivated card or PIN is left out, so the device refuses it offline too.

With them goes what the device needs to apply the hub's rules itself while it cannot
reach the hub (docs/ACCESS.md, "Offline decisions"): each member's usable
authorizations (when each stops working, its lab-hours window) and supervisor flag,
and the machine type's offline policy, maximum mirror age, maintenance block,
supervisor requirement and safety limits.

A set is published (signed, encrypted, not retained: a device that connects gets
the current set then) only when it differs from the last one sent to that device;
every published set carries a higher generation. The generation counter is saved
at once when it changes, in a small store of its own. A device reports the
generation it holds in its command results, and answers a set that is not newer
than its own with one: a device ahead of the hub means the hub's counter went back
(Home Assistant restored from a backup), which a device would otherwise answer by ignoring every newer set in silence; the hub then jumps
its counter past the device's, raises a repair issue and resends every set.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

from homeassistant.components import mqtt
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from custom_components.fluxilab.const import LOGGER
from custom_components.fluxilab.protocol.schemas import (
    CREDENTIALS_SCHEMA,
    OfflinePolicy,
)
from custom_components.fluxilab.protocol.topics import Channel
from custom_components.fluxilab.repairs import async_create_generation_issue

from . import maintenance
from .bookings import BookingMirror
from .const import (
    DEFAULT_GRACE_PERIOD,
    DEFAULT_OFFLINE_MAX_AGE_HOURS,
    DEFAULT_SESSION_TIMEOUT,
    DEFAULT_SUPERVISOR_MINUTES,
    GENERATION_STORAGE_KEY,
    Reason,
)
from .decisions import applies, authorization_reason
from .lab_models import Authorization, MachineType, SafetyLimit, hh_mm
from .lapses import lapse_date
from .presence import is_supervisor
from .roles import RoleFlags, built_in_like

if TYPE_CHECKING:
    from custom_components.fluxilab.device.port import AccessDevice

    from .lab import Lab


class GenerationData(TypedDict):
    """What the generation store holds."""

    generation: int


@dataclass(frozen=True, slots=True, kw_only=True)
class MirroredGrant:
    """One authorization as a device checks it offline."""

    expires: float | None
    """When it stops working (its expiry or lapse, epoch seconds); None: never."""
    window: tuple[str, str] | None = None
    """Its lab-hours window, HH:MM to HH:MM (None: any time)."""

    def as_wire(self) -> dict[str, Any]:
        """Return the grant as the credential set carries it."""
        wire: dict[str, Any] = {"expires": self.expires}
        if self.window is not None:
            wire["window"] = list(self.window)
        return wire


@dataclass(frozen=True, slots=True, kw_only=True)
class MirroredMember:
    """One member in a device's mirror: who may start a session there, and how."""

    id: str
    name: str = field(repr=False)
    level: str
    """The built-in level the device knows (``built_in_like``)."""
    cards: tuple[str, ...] = field(repr=False)
    """The uids of the member's active cards."""
    maintenance: bool
    supervisor: bool
    grants: tuple[MirroredGrant, ...] | None = None
    """None: the member needs no authorization there (the type or the role)."""
    pin_hash: str | None = field(default=None, repr=False)
    """The hash of the member's PIN if it is active."""
    pin_must_change: bool = False
    """An initial PIN: the device refuses it with a reason instead of logging in."""

    def as_wire(self) -> dict[str, Any]:
        """Return the mirror entry as the credential set carries it."""
        wire: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "level": self.level,
            "cards": list(self.cards),
            "maintenance": self.maintenance,
            "supervisor": self.supervisor,
        }
        if self.grants is not None:
            wire["grants"] = [grant.as_wire() for grant in self.grants]
        if self.pin_hash is not None:
            wire["pin_hash"] = self.pin_hash
            if self.pin_must_change:
                wire["pin_must_change"] = True
        return wire


@dataclass(frozen=True, slots=True, kw_only=True)
class MachineOfflineRules:
    """What a machine type adds to the rules a device applies offline."""

    maintenance_due: bool
    """Maintenance is due and the type blocks the device then."""
    maintenance: dict[str, str | None] | None
    """What the device shows while maintenance is due (``maintenance.notice``)."""
    supervisor_required: bool
    require_pin: bool
    """Card + PIN offline too: the device checks the PIN against its mirror."""
    supervised_hours: tuple[str, str] | None
    supervisor_minutes: int
    safety_limits: tuple[SafetyLimit, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class OfflineRules:
    """The rules a device applies to its mirror while it cannot reach the hub."""

    policy: OfflinePolicy
    max_age: float
    """Seconds the mirror stays usable."""
    tz: str
    bookings: BookingMirror
    """What the mirror carries of the device's bookings (``bookings.mirrored``)."""
    unsafe: bool
    machine: MachineOfflineRules | None = None
    """None: the device has no machine type."""

    def as_wire(self) -> dict[str, Any]:
        """Return the rules as the credential set carries them (``offline``)."""
        wire: dict[str, Any] = {
            "policy": self.policy.value,
            "max_age": self.max_age,
            "tz": self.tz,
            **self.bookings.as_wire(),
            "unsafe": self.unsafe,
        }
        if (machine := self.machine) is None:
            return wire
        wire |= {
            "maintenance_due": machine.maintenance_due,
            "maintenance": machine.maintenance,
            "supervisor_required": machine.supervisor_required,
            "require_pin": machine.require_pin,
            "supervised_hours": list(machine.supervised_hours)
            if machine.supervised_hours is not None
            else None,
            "supervisor_minutes": machine.supervisor_minutes,
            "safety_limits": [limit.as_wire() for limit in machine.safety_limits],
        }
        return wire


@dataclass(frozen=True, slots=True, kw_only=True)
class CredentialSet:
    """What a device gets (without its generation): compared with the last sent."""

    members: tuple[MirroredMember, ...]
    timeout: float
    grace: float
    offline: OfflineRules

    def as_wire(self) -> dict[str, Any]:
        """Return the set as ``CREDENTIALS_SCHEMA`` takes it, but the generation."""
        return {
            "members": [member.as_wire() for member in self.members],
            "timeout": self.timeout,
            "grace": self.grace,
            "offline": self.offline.as_wire(),
        }


def _grants(
    role: RoleFlags,
    authorizations: Iterable[Authorization],
    device_id: str,
    machine_type: MachineType | None,
) -> tuple[MirroredGrant, ...] | None:
    """Return the member's authorizations for the device as it checks them offline.

    None when the member needs none there (the type requires no authorization, or
    the role bypasses). Expired and lapsed authorizations are left out (the
    member is then not mirrored at all); each one left says when it stops working
    (its expiry or lapse, whichever comes first) and its lab-hours window.
    """
    if machine_type is not None and not machine_type.requires_authorization:
        return None
    if role.bypass_authorization:
        return None
    type_id = machine_type.id if machine_type is not None else None
    now = dt_util.utcnow()
    grants = []
    for auth in authorizations:
        if not applies(auth, device_id, type_id):
            continue
        ends = lapse_date(auth, machine_type)
        if ends is not None and now >= ends[0]:
            continue
        grants.append(
            MirroredGrant(
                expires=ends[0].timestamp() if ends is not None else None,
                window=(hh_mm(auth.window_start), hh_mm(auth.window_end))
                if auth.window_start is not None and auth.window_end is not None
                else None,
            )
        )
    return tuple(grants)


def credential_members(engine: Lab, device: AccessDevice) -> list[MirroredMember]:
    """Return the mirror entries of the members who may use ``device``."""
    machine_type = engine.machine_type_of(device)
    now = dt_util.utcnow()
    allowed: list[MirroredMember] = []
    for member in sorted(engine.members.members(), key=lambda m: m.id):
        if not member.active:
            continue
        authorizations = engine.authorizations.typed_of_member(member.id)
        role = engine.roles.flags(member.role)
        reason = authorization_reason(
            member,
            authorizations,
            device.device_id,
            machine_type,
            now,
            role=role,
            check_window=False,
        )
        if reason is not Reason.GRANTED:
            continue
        pin_hash = member.pin_hash() or None
        allowed.append(
            MirroredMember(
                id=member.id,
                name=member.name,
                level=built_in_like(role).value,
                cards=tuple(member.cards()),
                maintenance=role.may_maintain,
                supervisor=is_supervisor(member, engine.roles.typed()),
                grants=_grants(role, authorizations, device.device_id, machine_type),
                pin_hash=pin_hash,
                # The device refuses it with a reason instead of logging in with it.
                pin_must_change=pin_hash is not None and member.pin_must_change,
            )
        )
    return allowed


def offline_rules(engine: Lab, device: AccessDevice) -> OfflineRules:
    """Return the machine type's rules a device applies to its mirror offline."""
    machine_type = engine.machine_type_of(device)
    bookings = engine.bookings.mirrored(device.device_id)
    unsafe = engine.problems.unsafe(device.device_id)
    tz = engine.hass.config.time_zone
    if machine_type is None:
        return OfflineRules(
            policy=OfflinePolicy.ALLOW_MIRRORED,
            max_age=DEFAULT_OFFLINE_MAX_AGE_HOURS * 3600,
            tz=tz,
            bookings=bookings,
            unsafe=unsafe,
        )
    start = machine_type.supervised_hours_start
    end = machine_type.supervised_hours_end
    return OfflineRules(
        policy=machine_type.offline_policy,
        max_age=machine_type.offline_max_age * 3600,
        tz=tz,
        bookings=bookings,
        unsafe=unsafe,
        machine=MachineOfflineRules(
            maintenance_due=bool(
                device.maintenance_due and machine_type.block_when_maintenance_due
            ),
            # What the device shows while maintenance is due (a sync follows).
            maintenance=maintenance.notice(machine_type)
            if device.maintenance_due
            else None,
            supervisor_required=machine_type.requires_supervisor,
            require_pin=machine_type.require_pin,
            supervised_hours=(hh_mm(start), hh_mm(end))
            if start is not None and end is not None
            else None,
            supervisor_minutes=machine_type.supervisor_minutes
            or DEFAULT_SUPERVISOR_MINUTES,
            safety_limits=machine_type.safety_limits,
        ),
    )


class CredentialSync:
    """Publishes credential sets and remembers what each device last got."""

    def __init__(self, engine: Lab) -> None:
        """Start with nothing sent."""
        self._engine = engine
        self._sent: dict[str, CredentialSet] = {}
        self._store: Store[GenerationData] = Store(
            engine.hass, 1, GENERATION_STORAGE_KEY
        )
        self._cleared: set[str] = set()
        self.generation = 0
        self._held = 0
        """Writes in a row under ``async_held``: syncs wait for the last one."""

    async def async_load(self) -> None:
        """Load the counter (the history's copy counts: it held it before)."""
        stored = await self._store.async_load()
        self.generation = max(
            stored["generation"] if stored is not None else 0,
            self._engine.history.data["generation"],
        )

    async def _async_set_generation(self, generation: int) -> None:
        """Move the counter and save it now: a restart must never reuse one."""
        self.generation = generation
        history = self._engine.history
        history.data["generation"] = generation
        history.async_changed()
        await self._store.async_save({"generation": generation})

    def credential_set(self, device: AccessDevice) -> CredentialSet:
        """Build the set (without generation) for ``device``."""
        machine_type = self._engine.machine_type_of(device)
        return CredentialSet(
            members=tuple(credential_members(self._engine, device)),
            timeout=machine_type.session_timeout
            if machine_type
            else DEFAULT_SESSION_TIMEOUT,
            grace=machine_type.grace_period if machine_type else DEFAULT_GRACE_PERIOD,
            offline=offline_rules(self._engine, device),
        )

    async def async_sync(self, device: AccessDevice, *, force: bool = False) -> bool:
        """Send the device its set if it changed (or ``force``); True if sent."""
        if device.keys is None:
            LOGGER.debug("Device %s is not paired: no credential set", device.device_id)
            return False
        credentials = self.credential_set(device)
        if not force and self._sent.get(device.device_id) == credentials:
            return False
        await self._async_set_generation(self.generation + 1)
        message = CREDENTIALS_SCHEMA(
            {"generation": self.generation, **credentials.as_wire()}
        )
        if device.device_id not in self._cleared:
            # Hubs before this one retained the set on the broker; clear it once.
            self._cleared.add(device.device_id)
            await mqtt.async_publish(
                self._engine.hass,
                device.topics.topic(Channel.CREDENTIALS),
                "",
                qos=1,
                retain=True,
            )
        await device.async_send(Channel.CREDENTIALS, message, encrypt=True)
        self._sent[device.device_id] = credentials
        return True

    async def async_sync_all(self) -> None:
        """Bring every device's mirror up to date (after the writes held, if any)."""
        if self._held:
            return
        for device in list(self._engine.devices.values()):
            try:
                await self.async_sync(device)
            except Exception:
                LOGGER.exception("Credential set for %s not sent", device.device_id)

    async def async_device_generation(
        self, device: AccessDevice, generation: int
    ) -> None:
        """Take the generation a device reports; a device ahead of us means rollback.

        The counter jumps past the device's, the admin is told (repair issue), and
        every device gets a fresh set with a generation it will install.
        """
        if generation <= self.generation:
            return
        LOGGER.warning(
            "Device %s holds credential generation %s, ahead of this hub's %s: the "
            "counter went back (restored backup?); moving past it and resending "
            "every credential set",
            device.device_id,
            generation,
            self.generation,
        )
        async_create_generation_issue(
            self._engine.hass, device.entry.title, generation, self.generation
        )
        await self._async_set_generation(generation)
        self._sent.clear()
        await self.async_sync_all()

    @asynccontextmanager
    async def async_held(self) -> AsyncIterator[None]:
        """Hold the devices' syncs over many writes in a row (an import), then sync.

        Each write would otherwise rebuild every device's set from every member;
        held, the devices get one set after the last write, and none of the writes
        between (an import undone midway never reaches a device).
        """
        self._held += 1
        try:
            yield
        finally:
            self._held -= 1
            await self.async_sync_all()

    def forget(self, device_id: str) -> None:
        """Forget what a device got (it is removed, or must get everything again)."""
        self._sent.pop(device_id, None)
