"""The access-control engine: the one object the device runtime talks to.

It owns the collections and the history, answers requests (decisions.py decides),
books sessions (sessions.py) and maintenance (maintenance.py), keeps every device's
credential mirror current (sync.py), and fires the documented events (events.py).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
import time
from typing import TYPE_CHECKING, Any
import uuid

from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers import collection
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from custom_components.fluxilab.const import DOMAIN, LOGGER
from custom_components.fluxilab.history_db import LiveAudit, LiveSession
from custom_components.fluxilab.journal import JournalError
from custom_components.fluxilab.protocol.access import (
    AccessRecord,
    AccessRequest,
    Decision,
)
from custom_components.fluxilab.protocol.schemas import (
    MAX_REPLY_MESSAGE,
    AccessAction,
)

from . import gdpr, maintenance, sessions
from .admin_audit import AdminAudit, change
from .booking_store import BookingCollection
from .bookings import BookingVerdictReason
from .const import (
    AUTHORIZATIONS_STORAGE_KEY,
    DEFAULT_GRACE_PERIOD,
    DEFAULT_SESSION_TIMEOUT,
    SIGNAL_DEVICE_FREE,
    AccessEventType,
    Reason,
    SessionEnd,
)
from .decisions import SECOND_FACTOR_REFUSALS, decide, pin_reason, requires_pin
from .errors import AccessValidationError
from .events import fire_access_event, ha_device_id
from .fabomatic import BoardAccess
from .history import AccessHistory
from .interest import InterestQueue
from .lab_models import MachineType
from .lapsing import Lapsing
from .logins import MemberLogins
from .member_models import Member
from .presence import Presence
from .privacy import IN_USE, PRIVACY, Privacy
from .problems import ProblemReports
from .project_store import ProjectCollection
from .roles import Role
from .store import (
    AuthorizationCollection,
    MachineTypeCollection,
    MemberCollection,
    RoleCollection,
    collection_store,
    machine_type_store,
    member_store,
    role_store,
)
from .sync import CredentialSync
from .tags import async_card_scanned, async_forget_cards, async_register_cards
from .telemetry_rules import TelemetryRules

if TYPE_CHECKING:
    from custom_components.fluxilab.device.port import AccessDevice

ACCESS_ENGINE: HassKey[AccessEngine] = HassKey(f"{DOMAIN}_access_engine")
"""The one access engine (set up by ``__init__.py``'s ``async_setup``)."""

PURGE_INTERVAL = timedelta(days=1)
AFTER_REPLY_SLICE = 0.002
"""Seconds of after-reply work run at a time before the loop gets its turn."""

GRANTING = (AccessAction.CHECK, AccessAction.SESSION_START)


class AccessEngine:
    """Decides access requests and records what devices report."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Prepare an engine with nothing loaded."""
        self.hass = hass
        self.roles = RoleCollection(role_store(hass))
        self.members = MemberCollection(member_store(hass), self.roles)
        self.machine_types = MachineTypeCollection(machine_type_store(hass))
        self.authorizations = AuthorizationCollection(
            collection_store(hass, AUTHORIZATIONS_STORAGE_KEY), self.members
        )
        self.history = AccessHistory(hass)
        self.privacy = Privacy(self.history)
        hass.data[PRIVACY] = self.privacy
        self.sync = CredentialSync(self)
        self.lapsing = Lapsing(self)
        self.interest = InterestQueue(self)
        self.presence = Presence(self)
        self.telemetry_rules = TelemetryRules(self)
        self.admin_audit = AdminAudit(self)
        self.logins = MemberLogins(self)
        self.bookings = BookingCollection(self)
        self.problems = ProblemReports(self)
        self.projects = ProjectCollection(self)
        self.devices: dict[str, AccessDevice] = {}
        self._device_unsubs: dict[str, CALLBACK_TYPE] = {}
        self._online: dict[str, bool] = {}
        self._in_use: dict[str, bool] = {}
        self._member_cards: dict[str, set[str]] = {}
        self._current_members: dict[str, Member | None] = {}
        self._timers: list[CALLBACK_TYPE] = []
        self._stale_timer: CALLBACK_TYPE | None = None
        self._after: deque[Callable[[], None]] = deque()
        """What decisions left for after their reply (``_after_reply``)."""
        self._after_task: asyncio.Task[None] | None = None

    # Setup ----------------------------------------------------------------------

    async def async_load(self) -> None:
        """Load storage, follow collection changes, start the periodic jobs."""
        await self.roles.async_load()
        await self.members.async_load()
        await self.machine_types.async_load()
        await self.authorizations.async_load()
        await self.history.async_load()
        await self.sync.async_load()
        self.presence.async_setup()
        self._member_cards = {
            m.id: set(m.cards(active_only=False)) for m in self.members.members()
        }
        for member in self.members.members():
            await async_register_cards(self.hass, self.privacy, member, set())
        await async_forget_cards(
            self.hass,
            self.privacy,
            list(self.history.data["unknown_cards"]),
        )
        self.admin_audit.async_setup()
        await self.logins.async_load()
        self.members.async_add_listener(self._async_member_changed)
        self.machine_types.async_add_listener(self._async_data_changed)
        self.telemetry_rules.async_load()
        self.authorizations.async_add_listener(self._async_data_changed)
        self._schedule_stale_check()
        await self.lapsing.async_load()
        self.interest.async_load()
        await self.bookings.async_start()
        await self.problems.async_load()
        await self.projects.async_start()
        self.admin_audit.follow_collection("project", self.projects)
        self.admin_audit.follow_collection("role", self.roles)
        self._timers = [
            async_track_time_interval(
                self.hass,
                self._async_daily_purge,
                PURGE_INTERVAL,
                name=f"{DOMAIN} purge",
            ),
        ]
        self.hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, self._async_stop)

    @callback
    def _schedule_stale_check(self) -> None:
        """(Re)start the look for stale sessions at the configured interval."""
        if self._stale_timer is not None:
            self._stale_timer()
        interval = self.history.data["settings"].session_check_interval
        self._stale_timer = async_track_time_interval(
            self.hass,
            self._async_close_stale_sessions,
            timedelta(seconds=interval),
            name=f"{DOMAIN} stale sessions",
        )

    @callback
    def async_set_session_check_interval(self, seconds: int) -> None:
        """Change how often stale sessions are looked for (stored, applied now)."""
        settings = self.history.data["settings"]
        if settings.session_check_interval == seconds:
            return
        self.history.data["settings"] = replace(
            settings, session_check_interval=seconds
        )
        self.history.async_changed()
        self._schedule_stale_check()

    async def _async_stop(self, _event: Event) -> None:
        self.async_after_reply_done()
        for cancel in self._timers:
            cancel()
        self._timers = []
        if self._stale_timer is not None:
            self._stale_timer()
            self._stale_timer = None
        self.telemetry_rules.async_stop()
        self.lapsing.async_stop()
        self.interest.async_stop()
        self.bookings.async_stop()
        self.problems.async_stop()
        self.projects.async_stop()
        await self.history.async_save()

    async def _async_member_changed(
        self, change_type: str, item_id: str, item: dict[str, Any]
    ) -> None:
        self.async_after_reply_done()  # a removed member's last checks, audited
        old_cards = self._member_cards.pop(item_id, set())
        if change_type == collection.CHANGE_REMOVED:
            subject = gdpr.member_subject(
                self.hass, self.privacy, Member.from_storage(item), old_cards
            )
            await async_forget_cards(self.hass, self.privacy, old_cards)
            for auth in self.authorizations.typed_of_member(item_id):
                await self.authorizations.async_delete_item(auth.id)
            # Their bookings go too: the slots free for others, and no booking
            # keeps a removed member's id (past ones are forgotten as they end).
            for booking in self.bookings.of_member(item_id):
                await self.bookings.async_delete_item(booking.id)
            await gdpr.async_forget_member(self.history, item_id, sorted(old_cards))
            self.problems.async_forget_member(item_id)
            for device in list(self.devices.values()):
                self.publish_usage(device)
            self._anonymize_recorder(subject)
        else:
            member = Member.from_storage(item)  # as this change left it
            cards = member.cards(active_only=False)
            self._member_cards[item_id] = set(cards)
            for card in cards:
                self.history.forget_unknown_card(card)
            await async_register_cards(self.hass, self.privacy, member, old_cards)
        await self.sync.async_sync_all()

    # edge: the GDPR export's reply, everything as stored
    async def async_member_export(self, member_id: str) -> dict[str, Any]:
        """Everything held about one member (GDPR access request; every door's).

        The export document, as the doors send it; the member's profile is the
        stored member, all of it (what is held).
        """
        if (member := self.members.data.get(member_id)) is None:
            raise AccessValidationError("unknown_member", member=member_id)
        return await gdpr.async_member_export(
            member,
            self.authorizations.of_member(member_id),
            self.history,
            bookings=self.bookings.of_member(member_id),
            projects=[
                gdpr.MemberProject(
                    id=project.id,
                    name=project.name,
                    default=member_id in project.default_members,
                )
                for project in self.projects.projects_of(member_id)
            ],
            problem_reports=[r.as_dict() for r in self.problems.of_member(member_id)],
        )

    @callback
    def _anonymize_recorder(self, subject: gdpr.Subject) -> None:
        """Anonymize what entities show and FluxiLab wrote to the recorder (a task)."""
        async_dispatcher_send(self.hass, gdpr.SIGNAL_ANONYMIZE, subject)
        self.hass.async_create_task(
            gdpr.async_anonymize_recorder(self.hass, subject),
            f"{DOMAIN} anonymize recorder",
        )

    @callback
    def async_set_show_member_names(self, show: bool) -> None:
        """Show or hide members' names on entities, events and tags (a setting)."""
        settings = self.history.data["settings"]
        if settings.show_member_names == show:
            return
        self.history.data["settings"] = replace(settings, show_member_names=show)
        self.history.async_changed()
        for device in list(self.devices.values()):
            self.publish_usage(device)
        self.hass.async_create_task(self._async_rename_tags(), f"{DOMAIN} tag names")

    async def _async_rename_tags(self) -> None:
        for member in self.members.members():
            await async_register_cards(self.hass, self.privacy, member, set())

    def current_member(self, device_id: str) -> Member | None:
        """Return who is using a device now, as last published (None: nobody known)."""
        return self._current_members.get(device_id)

    def shown_user(self, device: AccessDevice) -> str | None:
        """Return the current user sensor's state: a name if shown, else a role."""
        if self.privacy.show_names:
            return device.member_name
        if (member := self._current_members.get(device.device_id)) is not None:
            return member.role or IN_USE
        return IN_USE if device.member_name is not None else None

    def resolve_card(self, value: str, *, unknown: bool) -> str:
        """Return the uid a card uid or pseudonym names (services take either).

        ``unknown``: look among the unknown cards seen (to register one), else among
        the members' cards.
        """
        if unknown:
            cards = list(self.history.data["unknown_cards"])
        else:
            cards = [
                card
                for member in self.members.members()
                for card in member.cards(active_only=False)
            ]
        if (card := self.privacy.resolve(value, cards)) is None:
            raise AccessValidationError("unknown_card", card=value)
        return card

    async def _async_data_changed(
        self, _change_type: str, _item_id: str, item: dict[str, Any]
    ) -> None:
        """Resync the devices when a machine type or authorization changed.

        ``item``: the collection's stored item (its listener's; not read here).
        """
        await self.sync.async_sync_all()
        for device in list(self.devices.values()):
            self.publish_usage(device)

    # Lookups --------------------------------------------------------------------

    def machine_type_of(self, device: AccessDevice) -> MachineType | None:
        """Return the machine type the admin assigned to a device (typed)."""
        return self.machine_types.machine_type(device.machine_type_id)

    def device(self, device_id: str) -> AccessDevice | None:
        """Return a followed device by our id."""
        return self.devices.get(device_id)

    async def async_device(self, device_id: str) -> AccessDevice | None:
        """Return a followed device, waiting while its entry is being set up again.

        Renaming a device or saving its options reloads its entry: for that moment
        it is not followed, and an admin's action on it must wait, not fail.
        """
        if (device := self.devices.get(device_id)) is not None:
            return device
        entry = self.hass.config_entries.async_entry_for_domain_unique_id(
            DOMAIN, device_id
        )
        if entry is not None and entry.setup_lock.locked():
            async with entry.setup_lock:  # unload and setup run under it
                pass
        return self.devices.get(device_id)

    def _timing(self, device: AccessDevice) -> tuple[float, float]:
        machine_type = self.machine_type_of(device)
        if machine_type is None:
            return DEFAULT_SESSION_TIMEOUT, DEFAULT_GRACE_PERIOD
        return machine_type.session_timeout, machine_type.grace_period

    # Devices --------------------------------------------------------------------

    async def async_device_added(self, device: AccessDevice) -> None:
        """Follow a device: send its credential set, show its usage state."""
        self.devices[device.device_id] = device
        self._online[device.device_id] = device.online
        if (unsub := self._device_unsubs.pop(device.device_id, None)) is not None:
            unsub()
        self.admin_audit.follow(device)
        self._device_unsubs[device.device_id] = device.async_add_listener(
            lambda: self._device_state_changed(device)
        )
        self.sync.forget(device.device_id)
        try:
            await self.sync.async_sync(device)
        except Exception:
            LOGGER.exception("Credential set for %s not sent", device.device_id)
        self.telemetry_rules.attach(device)
        self.publish_usage(device)

    async def async_device_removed(self, device: AccessDevice) -> None:
        """Stop following a device (its history stays)."""
        self.telemetry_rules.detach(device.device_id)
        if self.devices.get(device.device_id) is device:
            del self.devices[device.device_id]
        if (unsub := self._device_unsubs.pop(device.device_id, None)) is not None:
            unsub()
        self._online.pop(device.device_id, None)
        self._in_use.pop(device.device_id, None)
        self.sync.forget(device.device_id)

    async def async_sync_all(self) -> None:
        """Send every followed device its current credential set (sync.py)."""
        await self.sync.async_sync_all()

    async def async_device_generation(
        self, device: AccessDevice, generation: int
    ) -> None:
        """Take the credential generation a device reports holding (sync.py)."""
        await self.sync.async_device_generation(device, generation)

    def board_handler(self, device: AccessDevice) -> BoardAccess:
        """Return what decides the queries of a device adopted as a board."""
        return BoardAccess(self, device)

    @callback
    def _device_state_changed(self, device: AccessDevice) -> None:
        """On reconnect: close what the device left open, send the current set."""
        self.admin_audit.device_changed(device)
        was_online = self._online.get(device.device_id, False)
        self._online[device.device_id] = device.online
        if device.online and not was_online:
            device.entry.async_create_task(
                self.hass, self._async_reconnected(device), f"{DOMAIN} reconnect"
            )

    async def _async_reconnected(self, device: AccessDevice) -> None:
        self.async_after_reply_done()
        now = time.time()
        timeout, _grace = self._timing(device)
        for session in sessions.stale_sessions(
            self.history, device.device_id, now, timeout
        ):
            self._close_session(device, session, None, now, SessionEnd.RECONNECT)
        self.sync.forget(device.device_id)
        try:
            await self.sync.async_sync(device)
        except Exception:
            LOGGER.exception("Credential set for %s not sent", device.device_id)
        self.publish_usage(device)

    @callback
    def publish_usage(self, device: AccessDevice) -> None:
        """Push in-use, current member, usage hours and maintenance state."""
        open_sessions = self.history.open_sessions(device.device_id)
        current = open_sessions[-1] if open_sessions else None
        was_due = device.maintenance_due
        rules = self.telemetry_rules
        rules.session_changed(device.device_id, current is not None)
        self._current_members[device.device_id] = (
            self.members.member(current.member_id or "")
            if current
            else rules.busy_member(device.device_id)
        )
        in_use = current is not None or rules.is_busy(device.device_id)
        maintenance.publish(
            self.hass,
            device,
            self.machine_type_of(device),
            self.history.usage(device.device_id),
            in_use=in_use,
            member_name=current.member_name
            if current
            else rules.busy_member_name(device.device_id),
            conditions_due=rules.due_conditions(device),
        )
        if device.maintenance_due != was_due and device.device_id in self.devices:
            # The device blocks on due maintenance offline too (sync.py).
            device.entry.async_create_task(
                self.hass, self.sync.async_sync(device), f"{DOMAIN} maintenance sync"
            )
        was_in_use = self._in_use.get(device.device_id, False)
        self._in_use[device.device_id] = in_use
        if was_in_use and not in_use:
            async_dispatcher_send(self.hass, SIGNAL_DEVICE_FREE, device.device_id)
        self.presence.async_changed()

    # After the reply ------------------------------------------------------------

    @callback
    def _after_reply(self, job: Callable[[], None]) -> None:
        """Run ``job`` once the reply in hand is on its way: batched, in order.

        A card check does before its reply only what the reply needs (who, may
        they, the session it opens); what only records it (audit entry, events,
        last uses, the tag's scan, usage state) waits here. A tracked task runs the
        queue a slice at a time, after the replies of the same loop turn are
        written; whatever reads what a decision recorded runs the queue first
        (``async_after_reply_done``), and so does a stop, so nothing is lost.
        """
        self._after.append(job)
        if self._after_task is None:
            self._after_task = self.hass.async_create_task(
                self._async_run_after_reply(), f"{DOMAIN} after reply"
            )

    async def _async_run_after_reply(self) -> None:
        try:
            # Twice: the reply's socket write is the MQTT client's writer callback,
            # queued on the loop's next turn; this task's step then comes after it.
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            while self._after:
                until = time.perf_counter() + AFTER_REPLY_SLICE
                while self._after and time.perf_counter() < until:
                    self._run_job(self._after.popleft())
                if self._after:
                    await asyncio.sleep(0)  # let requests in between the slices
        finally:
            self._after_task = None

    def _run_job(self, job: Callable[[], None]) -> None:
        try:
            job()
        except Exception:
            LOGGER.exception("Recording an access decision failed")

    @callback
    def async_after_reply_done(self) -> None:
        """Run now what earlier decisions left for after their reply."""
        while self._after:
            self._run_job(self._after.popleft())

    # Requests -------------------------------------------------------------------

    async def async_decide(
        self, device: AccessDevice, request: AccessRequest, *, buffered: bool = False
    ) -> Decision:
        """Decide an access request.

        A check's audit entry, events and last uses follow after the reply
        (``_after_reply``); other requests first let those of earlier checks land.
        ``buffered``: a maintenance the device kept while the hub was away and asks
        about now (a Fab-O-Matic board's replay), recorded as such.
        """
        action = request.action
        now = time.time()
        if action not in GRANTING:
            self.async_after_reply_done()
        if action in GRANTING:
            return await self._async_decide(device, request, now)
        if action is AccessAction.SESSION_HEARTBEAT:
            return self._heartbeat(device, request, now)
        if action is AccessAction.SESSION_STOP:
            ended = self._end_session(
                device,
                request.session_id,
                request.duration,
                request.card,
                request.member_id,
                now,
                buffered=False,
            )
            return Decision(
                id=request.id,
                granted=ended,
                reason=Reason.SESSION_ENDED if ended else Reason.SESSION_UNKNOWN,
                session_id=request.session_id,
            )
        if action is AccessAction.PROBLEM_REPORT:
            member, reason = self._identify(device, None, request.member_id, now)
            if member is not None and reason is Reason.GRANTED:
                reason = await self.problems.async_device_report(
                    device, member, request
                )
            return Decision(
                id=request.id,
                granted=reason is Reason.PROBLEM_REPORTED,
                reason=reason,
                member_id=member.id if member else None,
            )
        return await self._async_device_maintenance(device, request, buffered)

    def _identify(
        self, device: AccessDevice, card: str | None, member_id: str | None, ts: float
    ) -> tuple[Member | None, Reason]:
        """Find the member behind a card or device login.

        A deactivated card (or PIN) still names its member, for the audit, but is
        refused as ``credential_inactive``; the member's other credentials work. A
        login with an initial PIN is refused as ``pin_change_required``.
        """
        if card is not None:
            if (found := self.members.card_holder(card)) is None:
                self.history.add_unknown_card(card, device.device_id, ts)
                return None, Reason.UNKNOWN_CARD
            holder, credential = found
            if not credential.active:
                return holder, Reason.CREDENTIAL_INACTIVE
            return holder, Reason.GRANTED
        if member_id is not None:
            if (member := self.members.member(member_id)) is None:
                return None, Reason.UNKNOWN_MEMBER
            if (pin := member.pin) is not None and not pin.active:
                return member, Reason.CREDENTIAL_INACTIVE
            if pin is not None and pin.must_change:
                # The device's mirror may predate a reset: the hub refuses too.
                return member, Reason.PIN_CHANGE_REQUIRED
            return member, Reason.GRANTED
        return None, Reason.NO_CREDENTIAL

    def _second_factor(
        self,
        member: Member,
        request: AccessRequest,
        machine_type: MachineType | None,
        now: float,
    ) -> Reason:
        """Card + PIN (``require_pin``): the PIN the device matched is the card's member's.

        A wrong PIN counts against the member's PIN as a wrong current PIN of a PIN
        change does (``PinFailures``), and so backs off; the right one clears it.
        """
        presented = request.card is not None and (
            request.member_id is not None or request.pin_failed
        )
        reason = pin_reason(
            machine_type,
            card_member_id=member.id if request.card is not None else None,
            pin_member_id=request.member_id,
            pin_failed=request.pin_failed,
            pin_wait=self.members.pin_failures(member.id).wait(now)
            if presented
            else 0.0,
        )
        if reason is Reason.PIN_WRONG:
            failures = self.members.pin_failures(member.id)
            failures.failed(now)
            LOGGER.warning(
                "Wrong PIN with a card (%d in a row for that member)", failures.count
            )
        if reason is not Reason.GRANTED:
            return reason
        if (pin := member.pin) is None:
            return Reason.PIN_WRONG  # a mirror older than the PIN's removal
        if not pin.active:
            return Reason.CREDENTIAL_INACTIVE
        if pin.must_change:
            return Reason.PIN_CHANGE_REQUIRED
        self.members.pin_accepted(member.id)
        return Reason.GRANTED

    @callback
    def _credential_used(self, member: Member, card: str | None, ts: float) -> None:
        """Note the last use of the card swiped, or of the PIN of a device login."""
        credential = member.card(card) if card is not None else member.pin
        if credential is not None:
            self.members.async_touch(
                member.id, credential.id, dt_util.utc_from_timestamp(ts)
            )

    async def _async_decide(
        self, device: AccessDevice, request: AccessRequest, now: float
    ) -> Decision:
        card = request.card
        member, reason = self._identify(device, card, request.member_id, now)
        machine_type = self.machine_type_of(device)
        if (
            member is not None
            and reason is Reason.GRANTED
            and requires_pin(machine_type)
        ):
            reason = self._second_factor(member, request, machine_type, now)
        booking = None
        if member is not None and reason is Reason.GRANTED:
            booking = self.bookings.verdict(
                device.device_id, member.id, dt_util.utc_from_timestamp(now)
            )
            # A trainer's open window may authorize a refused member: decide again.
            for _attempt in range(2):
                reason = decide(
                    member=member,
                    role=self.roles.flags(member.role),
                    authorizations=self.authorizations.typed_of_member(member.id),
                    device_id=device.device_id,
                    machine_type=machine_type,
                    blocked=device.blocked,
                    maintenance_due=device.maintenance_due,
                    values=device.values,
                    now=dt_util.utc_from_timestamp(now),
                    supervised=self.presence.supervised(
                        member, device, machine_type, now
                    ),
                    booking=self.problems.refusal(device.device_id)
                    or (booking.reason if not booking.granted else None),
                )
                if not await self.presence.async_train(
                    device, member, card, reason, now
                ):
                    break
        granted = reason is Reason.GRANTED
        timeout, grace = self._timing(device)
        session_id: str | None = None
        if granted and request.action is AccessAction.SESSION_START:
            session_id = request.session_id or uuid.uuid4().hex
        message = (
            maintenance.lcd_text(machine_type, MAX_REPLY_MESSAGE) or None
            if reason is Reason.MAINTENANCE_DUE
            else None
        )
        if reason is Reason.UNSAFE:
            message = "Reported unsafe: ask staff"
        if booking is not None:
            if granted and booking.reason is BookingVerdictReason.BOOKED_SOON:
                upcoming = booking.booking
                what = "Outage" if upcoming and upcoming.is_outage else "Booked"
                message = f"{what} in {booking.minutes_left} min"
            if reason is Reason.OUTAGE and booking.booking is not None:
                message = self.bookings.outage_message(booking.booking)
            if booking.released:
                self.hass.async_create_task(
                    self.bookings.async_release(booking.released), f"{DOMAIN} no-show"
                )
        # What the next request may depend on happens now: the authorizations'
        # last use (it keeps them from lapsing), the session it may stop, the
        # supervisor seen, the training window, the check-in.
        if granted and member is not None:
            self.lapsing.async_record_use(member, device, now)
        started = False
        if session_id is not None:
            session, started = sessions.start_session(
                self.history,
                session_id=session_id,
                device_id=device.device_id,
                member=member,
                card=card,
                ts=now,
                buffered=False,
            )
            if started and request.project is not None:
                session.project_request = request.project  # checked by the projects
        # A card without its PIN proves nobody there: no supervisor seen, either.
        if reason not in SECOND_FACTOR_REFUSALS:
            self.presence.async_swiped(device, member, card, reason, now)
        self._after_reply(
            lambda: self._decided(
                device, request.id, member, card, reason, now, session_id, started
            )
        )
        return Decision(
            id=request.id,
            granted=granted,
            reason=reason,
            member_id=member.id if member else None,
            name=member.name if member else None,
            level=member.role if member else None,
            session_id=session_id,
            timeout=timeout,
            grace=grace,
            message=message,
        )

    @callback
    def _decided(
        self,
        device: AccessDevice,
        request_id: str,
        member: Member | None,
        card: str | None,
        reason: Reason,
        now: float,
        session_id: str | None,
        started: bool,
    ) -> None:
        """Record a live decision whose reply is on its way (after-reply work)."""
        if card is not None:
            # The tag integration's scan (tag_scanned, the tag's last scan) as before
            # the decision's own event; its own await runs on as a task.
            self.hass.async_create_task(
                async_card_scanned(
                    self.hass, self.privacy, card, ha_device_id(self.hass, device)
                ),
                f"{DOMAIN} tag scan",
            )
        granted = reason is Reason.GRANTED
        if granted and member is not None:
            self._credential_used(member, card, now)
        self._audit(
            device,
            "decision",
            member,
            card,
            reason.value,
            now,
            buffered=False,
            request_id=request_id,
            session_id=session_id,
        )
        fire_access_event(
            self.hass,
            device,
            AccessEventType.GRANTED if granted else AccessEventType.DENIED,
            member=member,
            card=card,
            reason=reason.value,
            ts=now,
        )
        if started and session_id is not None:
            self._session_started(device, session_id, member, card, now, False)

    def _heartbeat(
        self, device: AccessDevice, request: AccessRequest, now: float
    ) -> Decision:
        session_id = request.session_id
        session = (
            sessions.heartbeat(self.history, session_id, request.duration, now)
            if session_id
            else None
        )
        timeout, grace = self._timing(device)
        if session is None:
            return Decision(
                id=request.id,
                granted=False,
                reason=Reason.SESSION_UNKNOWN,
                session_id=session_id,
            )
        return Decision(
            id=request.id,
            granted=True,
            reason=Reason.SESSION_UPDATED,
            session_id=session_id,
            member_id=session.member_id,
            name=session.member_name,
            timeout=timeout,
            grace=grace,
        )

    def _end_session(
        self,
        device: AccessDevice,
        session_id: str | None,
        duration: float | None,
        card: str | None,
        member_id: str | None,
        ts: float,
        *,
        buffered: bool,
    ) -> bool:
        """End the session a device stopped; False if it names none we can book."""
        if session_id is None:
            return False
        if (session := self.history.session(session_id)) is None:
            if duration is None:
                return False
            member, _ = self._identify(device, card, member_id, ts)
            session, hours = sessions.stop_unknown_session(
                self.history,
                session_id=session_id,
                device_id=device.device_id,
                member=member,
                card=card,
                duration=duration,
                ts=ts,
                buffered=buffered,
            )
            self._book(device, session, hours, buffered)
            return True
        self._close_session(device, session, duration, ts, SessionEnd.DEVICE, buffered)
        return True

    def _start(
        self,
        device: AccessDevice,
        session_id: str,
        member: Member | None,
        card: str | None,
        ts: float,
        *,
        buffered: bool,
    ) -> None:
        _session, new = sessions.start_session(
            self.history,
            session_id=session_id,
            device_id=device.device_id,
            member=member,
            card=card,
            ts=ts,
            buffered=buffered,
        )
        if new:
            self._session_started(device, session_id, member, card, ts, buffered)

    def _session_started(
        self,
        device: AccessDevice,
        session_id: str,
        member: Member | None,
        card: str | None,
        ts: float,
        buffered: bool,
    ) -> None:
        """Announce a new session and show the device in use."""
        fire_access_event(
            self.hass,
            device,
            AccessEventType.SESSION_STARTED,
            member=member,
            card=card,
            session_id=session_id,
            buffered=buffered,
            ts=ts,
        )
        self.publish_usage(device)

    @callback
    def open_session(
        self, device: AccessDevice, session_id: str, card: str | None, ts: float
    ) -> LiveSession | None:
        """Open a session the hub granted a moment ago (a second, separate message).

        Fab-O-Matic boards ask checkuser (decided and announced here) and then
        report startuse: deciding again would announce the same grant twice.
        Returns the session (None for an unknown card, which was never granted).
        """
        self.async_after_reply_done()
        member, _reason = self._identify(device, card, None, ts)
        if member is None:
            return None
        self._start(device, session_id, member, card, ts, buffered=False)
        return self.history.session(session_id)

    @callback
    def close_session(
        self, device: AccessDevice, session: LiveSession, closed_by: SessionEnd
    ) -> None:
        """Close an open session now (an admin, or a timeout)."""
        self.async_after_reply_done()
        self._close_session(device, session, None, time.time(), closed_by)

    def _close_session(
        self,
        device: AccessDevice,
        session: LiveSession,
        duration: float | None,
        ts: float,
        closed_by: SessionEnd,
        buffered: bool = False,
    ) -> None:
        was_open = session.end is None
        hours = sessions.stop_session(
            self.history, session, duration=duration, ts=ts, closed_by=closed_by
        )
        if was_open:
            self._book(device, session, hours, buffered)
        elif hours:
            usage = self.history.usage(device.device_id)
            usage["hours"] += hours
            usage["since_maintenance"] += hours
            self.publish_usage(device)

    def _book(
        self,
        device: AccessDevice,
        session: LiveSession,
        hours: float,
        buffered: bool,
    ) -> None:
        """Add a closed session's hours and announce its end."""
        usage = self.history.usage(device.device_id)
        usage["hours"] += hours
        usage["since_maintenance"] += hours
        self.history.async_changed()
        member = self.members.member(session.member_id or "")
        fire_access_event(
            self.hass,
            device,
            AccessEventType.SESSION_ENDED,
            member=member
            or (
                # Removed since: the session's own record of them.
                Member(
                    id=session.member_id,
                    name=session.member_name or "",
                    role=Role.USER.value,
                )
                if session.member_id
                else None
            ),
            card=session.card,
            reason=session.closed_by,
            session_id=session.session_id,
            duration=session.duration,
            buffered=buffered,
            ts=session.end,
        )
        self.publish_usage(device)

    async def _async_device_maintenance(
        self, device: AccessDevice, request: AccessRequest, buffered: bool
    ) -> Decision:
        member, reason = self._identify(
            device, request.card, request.member_id, time.time()
        )
        if member is not None and not (
            member.active and self.roles.flags(member.role).may_maintain
        ):
            reason = Reason.NOT_ALLOWED
        if member is None or reason is not Reason.GRANTED:
            fire_access_event(
                self.hass,
                device,
                AccessEventType.DENIED,
                member=member,
                card=request.card,
                reason=reason.value,
            )
            return Decision(id=request.id, granted=False, reason=reason)
        await self.async_record_maintenance(device, member.id, buffered=buffered)
        return Decision(
            id=request.id,
            granted=True,
            reason=Reason.MAINTENANCE_RECORDED,
            member_id=member.id,
            name=member.name,
            level=member.role,
        )

    # Records from the backlog -----------------------------------------------------

    async def async_handle_record(
        self, device: AccessDevice, event: AccessRecord, ts: float, buffered: bool
    ) -> None:
        """Take an access record the device buffered, with its original time.

        ``event``: what the device decided or ran (read by the device's runtime
        from the record's ``ACCESS_EVENT_SCHEMA`` body, or built by a board's side).
        """
        # The hub's live answer to a replayed request must be in the audit first.
        self.async_after_reply_done()
        action = event.action
        card = event.card
        if (
            action in GRANTING
            and (request_id := event.request_id)
            and (
                answered := self.history.answered_decision(device.device_id, request_id)
            )
            is not None
        ):
            self._merge_answered(device, answered, event, ts)
        elif action in GRANTING:
            member, reason = self._identify(device, card, event.member_id, ts)
            granted = event.granted
            reason_text = event.reason or (
                Reason.GRANTED.value if granted else reason.value
            )
            if granted and member is not None:
                self._credential_used(member, card, ts)
                self.lapsing.async_record_use(member, device, ts)
            if granted and event.offline:
                event_type = AccessEventType.OFFLINE_GRANTED
            else:
                event_type = (
                    AccessEventType.GRANTED if granted else AccessEventType.DENIED
                )
            self._audit(
                device, "decision", member, card, reason_text, ts, buffered=buffered
            )
            fire_access_event(
                self.hass,
                device,
                event_type,
                member=member,
                card=card,
                reason=reason_text,
                buffered=buffered,
                ts=ts,
            )
            if granted and action is AccessAction.SESSION_START and event.session_id:
                self._start(
                    device, event.session_id, member, card, ts, buffered=buffered
                )
        elif action is AccessAction.SESSION_HEARTBEAT:
            if event.session_id:
                sessions.heartbeat(self.history, event.session_id, event.duration, ts)
        elif action is AccessAction.SESSION_STOP:
            self._end_session(
                device,
                event.session_id,
                event.duration,
                event.card,
                event.member_id,
                ts,
                buffered=buffered,
            )
        else:
            member, reason = self._identify(device, card, event.member_id, ts)
            if (
                member is not None
                and reason is Reason.GRANTED
                and self.roles.flags(member.role).may_maintain
            ):
                await self.async_record_maintenance(
                    device, member.id, ts=ts, buffered=buffered
                )

    @callback
    def _merge_answered(
        self,
        device: AccessDevice,
        answered: LiveAudit,
        event: AccessRecord,
        ts: float,
    ) -> None:
        """Merge a replayed decision into the hub's own answer to the same request.

        The hub decided and audited the request, but its reply was lost and the
        device decided again from its mirror. The swipe is audited once: the entry
        notes what the device decided, and the session the device actually ran
        (its own id) replaces or closes the one the hub opened.
        """
        device_granted = event.granted
        answered.set_detail("device_granted", device_granted)
        device_session_id = event.session_id if device_granted else None
        hub_session = (
            self.history.session(str(hub_session_id))
            if (hub_session_id := answered.detail("session_id"))
            else None
        )
        LOGGER.debug(
            "%s: replayed decision of request %s merged into the hub's answer",
            device.device_id,
            event.request_id,
        )
        if hub_session is not None and hub_session.device_id == device.device_id:
            if device_session_id is None:
                # The device never ran it: the hub's session lasted nothing.
                self._close_session(
                    device, hub_session, 0.0, hub_session.start, SessionEnd.DEVICE
                )
            elif self.history.session(device_session_id) is None:
                self.history.rename_session(hub_session, device_session_id)
                answered.set_detail("session_id", device_session_id)
        elif (
            device_session_id is not None and event.action is AccessAction.SESSION_START
        ):
            member, _ = self._identify(device, event.card, event.member_id, ts)
            self._start(
                device, device_session_id, member, event.card, ts, buffered=True
            )
        if hub_session is not None:
            self.history.async_changed(answered, hub_session)
        else:
            self.history.async_changed(answered)

    # Maintenance ------------------------------------------------------------------

    async def async_record_maintenance(
        self,
        device: AccessDevice,
        member_id: str | None = None,
        note: str | None = None,
        *,
        ts: float | None = None,
        buffered: bool = False,
    ) -> None:
        """Register maintenance done on a device: reset its counter.

        The intervention (audit kind ``maintenance``) keeps who, when, the hours
        then and the note (maintenance.intervention). A device's own record from
        its backlog keeps the device's time and is marked ``buffered``.
        """
        self.async_after_reply_done()
        usage = self.history.usage(device.device_id)
        member = self.members.member(member_id) if member_id else None
        done = maintenance.intervention(
            usage, maintenance.interval(device, self.machine_type_of(device)), note
        )
        self.admin_audit.record(
            "device",
            "maintenance",
            {"since_maintenance": change(usage["since_maintenance"], 0.0)},
            member=member,
            device_id=device.device_id,
            target_id=device.device_id,
            label=device.entry.title or device.device_id,
        )
        when = time.time() if ts is None else ts
        usage["since_maintenance"] = 0.0
        usage["last_maintenance"] = when
        self.telemetry_rules.reset_conditions(device.device_id)
        self._audit(
            device,
            maintenance.KIND,
            member,
            None,
            None,
            when,
            buffered=buffered,
            intervention=done,
        )
        fire_access_event(
            self.hass,
            device,
            AccessEventType.MAINTENANCE_RECORDED,
            member=member,
            buffered=buffered,
            ts=when,
        )
        self.publish_usage(device)

    # Periodic jobs ------------------------------------------------------------------

    async def _async_close_stale_sessions(self, _now: datetime) -> None:
        """Close sessions whose device stopped reporting for longer than the timeout."""
        self.async_after_reply_done()
        now = time.time()
        for session in self.history.open_sessions():
            device = self.devices.get(session.device_id)
            if device is None:
                continue
            timeout, _grace = self._timing(device)
            if now - session.last_seen > timeout:
                self._close_session(device, session, None, now, SessionEnd.TIMEOUT)

    async def _async_daily_purge(self, _now: datetime) -> None:
        try:
            result = await self.async_purge()
        except JournalError as err:
            # The journal logged why; what the purge changed stays queued in it and
            # goes with its next commit, and tomorrow's purge runs again anyway.
            LOGGER.warning("Daily purge not saved yet: %s", err)
            return
        LOGGER.debug("Daily purge: %s", result)

    async def async_purge(self) -> dict[str, int]:
        """Apply the retention settings, to the history, the tags and the recorder."""
        self.async_after_reply_done()
        before = set(self.history.data["unknown_cards"])
        now = time.time()
        result = await gdpr.async_purge(self.history, now)
        purged = before - set(self.history.data["unknown_cards"])
        subject = gdpr.retention_subject(
            self.hass, self.privacy, self.history, now, purged
        )
        await async_forget_cards(self.hass, self.privacy, purged)
        self._anonymize_recorder(subject)
        return result

    # Audit --------------------------------------------------------------------------

    def _audit(
        self,
        device: AccessDevice,
        kind: str,
        member: Member | None,
        card: str | None,
        reason: str | None,
        ts: float,
        *,
        buffered: bool,
        request_id: str | None = None,
        session_id: str | None = None,
        intervention: maintenance.Intervention | None = None,
    ) -> None:
        # edge: the audit entry's stored document, made here once
        entry: dict[str, Any] = {
            "ts": ts,
            "kind": kind,
            "device_id": device.device_id,
            "member_id": member.id if member else None,
            "card": card,
            "reason": reason,
            "buffered": buffered,
        }
        if request_id is not None:
            entry["request_id"] = request_id
        if session_id is not None:
            entry["session_id"] = session_id
        if intervention is not None:
            entry |= intervention.as_dict()
        self.history.add_audit(LiveAudit.from_entry(entry))
