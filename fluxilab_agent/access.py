"""Access at the device: card swipes and logins, sessions, the door, maintenance.

Access has two modes (``access.mode``, docs/AGENT.md). A machine (``session``) runs
sessions: a granted swipe switches the interlock on until the same member swipes
again, the hub's timeout runs out or the device is blocked. A door (``door``) has no
sessions: every swipe asks the hub to ``check`` the member, and a granted one opens
the lock (the same interlock/relay output) for ``access.unlock_seconds``; the hub
decides whether the swipe checks the member in or out of the lab.

The hub decides when it answers within ``access.timeout``; otherwise the credential
mirror decides under the hub's mirrored rules, and the decision reaches the hub later
as a buffered record.

A machine type may want card + PIN (``require_pin``): a card alone is refused as
``pin_required``, and for ``access.pin_seconds`` the reader's next input (a keypad
typing digits and Enter, as a keyboard-wedge reader types a card) is that card's
PIN. The device checks it against the card's member's mirrored hash and sends the
hub the card with the member's id, or ``pin_failed``; the PIN never leaves the
device. Wrong PINs back off here as at the hub (fluxilab_protocol.pins).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
import logging
import time
from typing import Any
import uuid

from fluxilab_protocol.pins import PinFailures
from fluxilab_protocol.schemas import (
    ACCESS_REQUEST_SCHEMA,
    MAX_PROBLEM_TEXT,
    AccessAction,
)
from fluxilab_protocol.topics import Channel

from .backlog import Backlog
from .channel import HubChannel
from .config import AccessMode, AgentConfig
from .counters import Counters
from .mirror import CredentialMirror, MirrorMember, OfflineContext, offline_decision
from .state import AgentState

_LOGGER = logging.getLogger("fluxilab_agent.agent")


@dataclass(frozen=True, slots=True)
class AccessDecision:
    """What the device did with a card swipe or login."""

    granted: bool
    reason: str
    offline: bool
    member_id: str | None = None
    name: str | None = None
    session_id: str | None = None
    message: str | None = None
    """What the hub's reply says with it (due maintenance: the plan's line)."""


@dataclass(slots=True)
class Session:
    """A member using the device right now."""

    id: str
    member_id: str | None
    name: str | None
    card: str | None
    started: float
    timeout: float | None
    grace: float | None
    offline: bool
    task: asyncio.Task[None] | None = None

    def duration(self) -> float:
        """Seconds since the session started."""
        return round(time.monotonic() - self.started, 1)


class AccessControl:
    """Decides swipes and logins, and runs the session or the door lock."""

    def __init__(
        self,
        config: AgentConfig,
        *,
        state: AgentState,
        mirror: CredentialMirror,
        channel: HubChannel,
        backlog: Backlog,
        counters: Counters,
        set_interlock: Callable[[bool], None],
        values: Callable[[], dict[str, int | float | bool]],
        timeout: float,
    ) -> None:
        """Wire the parts a decision needs; ``timeout`` may be changed by the hub."""
        self.config = config
        self.state = state
        self.mirror = mirror
        self.channel = channel
        self.backlog = backlog
        self._counters = counters
        self._set_interlock = set_interlock
        self._values = values
        self.timeout = timeout
        self.door = config.access.mode is AccessMode.DOOR
        self.session: Session | None = None
        self.unlocked_until: float | None = None
        """Door mode: monotonic time the open lock closes again, None while locked."""
        self._relock_timer: asyncio.TimerHandle | None = None
        self.last_decision: AccessDecision | None = None
        self._supervisor_swipes: dict[str, float] = {}
        self._member_sessions: dict[str, tuple[float, float | None]] = {}
        """Each member's latest session here (wall clock): offline no-shows."""
        """Unix time of each mirrored supervisor's last swipe at this device."""
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.lock = asyncio.Lock()
        self.pin_wanted: tuple[str, float] | None = None
        """The card refused as ``pin_required`` and the monotonic time its PIN may
        come until; the reader's next input meanwhile is that PIN."""
        self._pin_failures: dict[str, PinFailures] = {}

    # -- the hub's answers ------------------------------------------------------

    def handle_reply(self, body: dict[str, Any]) -> None:
        """Hand a verified access reply to the request waiting for it."""
        future = self._pending.get(body["id"])
        if future is None or future.done():
            self._counters.count("late_replies")
            return
        future.set_result(body)

    async def _ask_hub(
        self, action: AccessAction, *, request_id: str | None = None, **fields: Any
    ) -> dict[str, Any] | None:
        """Send an access request; the signed reply, or None (offline, timeout)."""
        if not self.channel.ready:
            return None
        request_id = request_id or uuid.uuid4().hex[:16]
        body = ACCESS_REQUEST_SCHEMA(
            {"id": request_id, "action": action.value}
            | {k: v for k, v in fields.items() if v is not None}
        )
        future: asyncio.Future[dict[str, Any]] = (
            asyncio.get_running_loop().create_future()
        )
        self._pending[request_id] = future
        try:
            if not self.channel.publish(Channel.ACCESS_REQUEST, body):
                return None
            async with asyncio.timeout(self.timeout):
                return await future
        except TimeoutError:
            self._counters.count("access_timeouts")
            _LOGGER.warning("The hub did not answer within %.1f s", self.timeout)
            return None
        finally:
            self._pending.pop(request_id, None)

    async def report_problem(
        self, member_id: str, description: str, *, unsafe: bool = False
    ) -> str:
        """Send a signed-in member's problem report; the hub's reason, or why not sent.

        Online only: a report is for staff to act on, and the hub files it
        (``problem_reported``); offline the device says so (``hub_unreachable``).
        """
        reply = await self._ask_hub(
            AccessAction.PROBLEM_REPORT,
            member_id=member_id,
            description=description[:MAX_PROBLEM_TEXT],
            unsafe=unsafe,
        )
        if reply is None:
            return "hub_unreachable"
        return str(reply.get("reason") or "hub_unreachable")

    # -- swipes and logins ------------------------------------------------------

    async def handle_card(self, card: str) -> AccessDecision:
        """Start a session, or end the one running; at a door, check the card.

        Right after a card was refused as ``pin_required``, the input is its PIN.
        """
        if (wanted := self._take_pin_wanted()) is not None:
            return await self.card_with_pin(wanted, card)
        rules = self.mirror.rules
        if rules is None or not rules.require_pin:
            # Card + PIN: a card alone proves nobody there (card_with_pin notes it).
            self._note_supervisor(self.mirror.by_card(card))
        async with self.lock:
            if self.door:
                return await self._check(card=card)
            if self.session is not None:
                return await self.end_session("card")
            return await self._start_session(card=card)

    def pin_is_wanted(self) -> bool:
        """Return True while the reader's next input is a card's PIN."""
        wanted = self.pin_wanted
        return wanted is not None and time.monotonic() <= wanted[1]

    def _take_pin_wanted(self) -> str | None:
        """Return (and forget) the card waiting for its PIN, if its time still runs."""
        wanted, self.pin_wanted = self.pin_wanted, None
        if wanted is None or time.monotonic() > wanted[1]:
            return None
        return wanted[0]

    async def card_with_pin(self, card: str, pin: str) -> AccessDecision:
        """Card + PIN (``require_pin``): check the PIN here, then decide as a swipe.

        The PIN is checked against the card's member's mirrored hash (bcrypt, in an
        executor); the hub gets the card with the member's id, or ``pin_failed``.
        While wrong PINs back off, the PIN is not even checked (``pin_locked``). A
        card the mirror does not hold (its member may not use the device) has no hash
        to check against: refused here as ``pin_wrong``, nothing counted at the hub.
        """
        self.pin_wanted = None
        member = self.mirror.by_card(card)
        # Unknown cards share one count: they cannot pass, and cannot grow memory.
        key = member.id if member is not None else ""
        failures = self._pin_failures.setdefault(key, PinFailures())
        now = time.monotonic()
        async with self.lock:
            if self.session is not None:
                return await self.end_session("card")  # a stop needs no PIN
            if failures.wait(now) > 0:
                self._counters.count("pin_locked")
                return self._refused_locally(card, member, "pin_locked")
            matched = await asyncio.get_running_loop().run_in_executor(
                None, self.mirror.verify_pin, member, pin
            )
            if matched and member is not None and member.pin_must_change:
                self._counters.count("initial_pin_logins")
                return self._refused_locally(card, member, "pin_change_required")
            if matched:
                self._pin_failures.pop(key, None)
            else:
                failures.failed(now)
                self._counters.count("wrong_pins")
                _LOGGER.warning(
                    "Wrong PIN with a card (%d in a row here)", failures.count
                )
            if member is None:
                return self._refused_locally(card, None, "pin_wrong")
            self._note_supervisor(member if matched else None)
            start = self._check if self.door else self._start_session
            return await start(
                card=card, member=member if matched else None, pin=matched
            )

    def _refused_locally(
        self, card: str, member: MirrorMember | None, reason: str
    ) -> AccessDecision:
        """Refuse at the device without asking the hub; the hub audits it later."""
        member_id = member.id if member is not None else None
        action = AccessAction.CHECK if self.door else AccessAction.SESSION_START
        self.backlog.record_access(
            {
                "action": action.value,
                "card": card,
                "member_id": member_id,
                "granted": False,
                "offline": True,
                "reason": reason,
            }
        )
        return self._decided(
            AccessDecision(False, reason, offline=True, member_id=member_id)
        )

    async def login(self, login: str, secret: str) -> AccessDecision:
        """Local PIN/password login at the device (checked against the mirror)."""
        member = await asyncio.get_running_loop().run_in_executor(
            None, self.mirror.verify_login, login, secret
        )
        if member is None:
            self._counters.count("failed_logins")
            _LOGGER.warning("Failed local login")
            return AccessDecision(False, "no_credential", offline=True)
        if member.pin_must_change:
            self._counters.count("initial_pin_logins")
            _LOGGER.warning("Local login refused: the PIN is an initial one")
            return AccessDecision(
                False, "pin_change_required", offline=True, member_id=member.id
            )
        self._note_supervisor(member)
        async with self.lock:
            if self.door:
                return await self._check(member=member)
            if self.session is not None:
                return await self.end_session("login")
            return await self._start_session(member=member)

    def _note_supervisor(self, member: MirrorMember | None) -> None:
        """Remember a supervisor's swipe here: offline, it supervises others."""
        if member is not None and member.supervisor:
            self._supervisor_swipes[member.id] = time.time()

    def _want_pin(self, card: str | None, decision: AccessDecision) -> AccessDecision:
        """After ``pin_required``, take the reader's next input as the card's PIN."""
        if card is not None and decision.reason == "pin_required":
            self.pin_wanted = (card, time.monotonic() + self.config.access.pin_seconds)
        return decision

    def _offline_reason(
        self,
        member: MirrorMember | None,
        *,
        with_card: bool = True,
        pin: bool | None = None,
    ) -> str:
        """Decide from the mirror (offline_decision), logging why it refuses."""
        now = time.time()
        contacts = [t for t in (self.channel.last_contact, self.mirror.received) if t]
        reason = offline_decision(
            member,
            self.mirror.rules,
            OfflineContext(
                now=now,
                last_contact=max(contacts) if contacts else None,
                values=dict(self._values()),
                supervisor_swipes=dict(self._supervisor_swipes),
                member_sessions=dict(self._member_sessions),
                with_card=with_card,
                pin=pin,
            ),
        )
        if reason == "mirror_stale":
            rules = self.mirror.rules
            self._counters.count("offline_stale")
            self._counters.log_once(
                "offline:stale",
                "Offline grants refused: no contact with the hub for %s (the "
                "credential mirror may be used for %.1f h at most)",
                f"{(now - max(contacts)) / 3600:.1f} h" if contacts else "ever",
                (rules.max_age if rules is not None else 0) / 3600,
            )
        elif reason == "offline_denied":
            self._counters.count("offline_denied")
            self._counters.log_once(
                "offline:denied",
                "Offline grants refused: %s",
                "the machine type's offline policy is deny"
                if self.mirror.rules is not None
                else "the hub sent no offline policy",
            )
        return reason

    async def _start_session(
        self,
        *,
        card: str | None = None,
        member: MirrorMember | None = None,
        pin: bool | None = None,
    ) -> AccessDecision:
        member_id = member.id if member is not None else None
        if self.state.blocked:
            decision = AccessDecision(
                False, "blocked", offline=True, member_id=member_id
            )
            self.backlog.record_access(
                {
                    "action": AccessAction.SESSION_START.value,
                    "card": card,
                    "member_id": member_id,
                    "granted": False,
                    "offline": True,
                    "reason": "blocked",
                }
            )
            return self._decided(decision)
        # If the hub decided but its reply was lost, this id lets it merge the
        # offline decision recorded below with its own instead of counting it twice.
        request_id = uuid.uuid4().hex[:16]
        reply = await self._ask_hub(
            AccessAction.SESSION_START,
            request_id=request_id,
            card=card,
            member_id=member_id,
            pin_failed=True if pin is False else None,
        )
        if reply is not None:
            decision = AccessDecision(
                reply["granted"],
                reply["reason"],
                offline=False,
                member_id=reply.get("member_id"),
                name=reply.get("name"),
                message=reply.get("message"),
                session_id=reply.get("session_id") or uuid.uuid4().hex[:16],
            )
            if decision.granted:
                self._open_session(
                    decision, card, reply.get("timeout"), reply.get("grace")
                )
            return self._decided(self._want_pin(card, decision))
        decision = self._want_pin(
            card, self._decide_offline(card, member, session=True, pin=pin)
        )
        self.backlog.record_access(
            {
                "action": AccessAction.SESSION_START.value,
                "request_id": request_id,
                "card": card,
                "member_id": decision.member_id,
                "granted": decision.granted,
                "offline": True,
                "reason": decision.reason,
                "session_id": decision.session_id,
            }
        )
        if decision.granted:
            self._open_session(decision, card, self.mirror.timeout, self.mirror.grace)
        return self._decided(decision)

    def _decide_offline(
        self,
        card: str | None,
        member: MirrorMember | None,
        *,
        session: bool,
        pin: bool | None = None,
    ) -> AccessDecision:
        """Decide from the mirror while the hub does not answer.

        A granted session start gets its own session id, as the hub would give it.
        """
        known = member or (self.mirror.by_card(card) if card is not None else None)
        reason = self._offline_reason(known, with_card=card is not None, pin=pin)
        granted = reason == "granted"
        rules = self.mirror.rules
        notice = rules.maintenance if rules is not None else None
        return AccessDecision(
            granted,
            reason,
            offline=True,
            member_id=known.id if known is not None else None,
            name=known.name if known is not None else None,
            session_id=uuid.uuid4().hex[:16] if session and granted else None,
            # What the hub would say with the refusal: the plan's line.
            message=(notice.message or notice.description)
            if reason == "maintenance_due" and notice is not None
            else None,
        )

    # -- the door ---------------------------------------------------------------

    async def _check(
        self,
        *,
        card: str | None = None,
        member: MirrorMember | None = None,
        pin: bool | None = None,
    ) -> AccessDecision:
        """Door mode: ask the hub to check the member; granted, open the lock.

        The hub decides like for a session start and, at the lab entrance, checks
        the member in or out. Offline the mirror decides, and the swipe reaches the
        hub later as a buffered ``check`` (audited; it does not toggle a check-in).
        """
        member_id = member.id if member is not None else None
        if self.state.blocked:
            self.backlog.record_access(
                {
                    "action": AccessAction.CHECK.value,
                    "card": card,
                    "member_id": member_id,
                    "granted": False,
                    "offline": True,
                    "reason": "blocked",
                }
            )
            return self._decided(
                AccessDecision(False, "blocked", offline=True, member_id=member_id)
            )
        # The id lets a hub whose reply was lost merge the offline record below.
        request_id = uuid.uuid4().hex[:16]
        reply = await self._ask_hub(
            AccessAction.CHECK,
            request_id=request_id,
            card=card,
            member_id=member_id,
            pin_failed=True if pin is False else None,
        )
        if reply is not None:
            decision = AccessDecision(
                reply["granted"],
                reply["reason"],
                offline=False,
                member_id=reply.get("member_id"),
                name=reply.get("name"),
                message=reply.get("message"),
            )
        else:
            decision = self._decide_offline(card, member, session=False, pin=pin)
            self.backlog.record_access(
                {
                    "action": AccessAction.CHECK.value,
                    "request_id": request_id,
                    "card": card,
                    "member_id": decision.member_id,
                    "granted": decision.granted,
                    "offline": True,
                    "reason": decision.reason,
                }
            )
        if decision.granted:
            self._unlock()
        return self._decided(self._want_pin(card, decision))

    def _unlock(self) -> None:
        """Open the door's lock for ``unlock_seconds`` (a swipe meanwhile extends it)."""
        if self.state.blocked:  # blocked while the hub was deciding
            return
        seconds = self.config.access.unlock_seconds
        if self._relock_timer is not None:
            self._relock_timer.cancel()
        self._relock_timer = asyncio.get_running_loop().call_later(seconds, self.relock)
        self.unlocked_until = time.monotonic() + seconds
        self._set_interlock(True)

    def relock(self) -> None:
        """Close the door's lock again."""
        if self._relock_timer is not None:
            self._relock_timer.cancel()
            self._relock_timer = None
        self.unlocked_until = None
        self._set_interlock(False)

    def hand_switched(self) -> None:
        """End a running unlock pulse: the lock was switched by hand and stays so."""
        if self._relock_timer is not None:
            self._relock_timer.cancel()
            self._relock_timer = None
            self.unlocked_until = None

    def _decided(self, decision: AccessDecision) -> AccessDecision:
        self.last_decision = decision
        self._counters.count("granted" if decision.granted else "denied")
        _LOGGER.info(
            "Access %s (%s%s)%s%s",
            "granted" if decision.granted else "denied",
            decision.reason,
            ", offline" if decision.offline else "",
            f" to {decision.member_id}" if decision.member_id else "",
            f": {decision.message}" if decision.message else "",
        )
        return decision

    # -- sessions ---------------------------------------------------------------

    def _open_session(
        self,
        decision: AccessDecision,
        card: str | None,
        timeout: float | None,
        grace: float | None,
    ) -> None:
        assert decision.session_id is not None  # noqa: S101  # granted decisions
        self.session = Session(
            id=decision.session_id,
            member_id=decision.member_id,
            name=decision.name,
            card=card,
            started=time.monotonic(),
            timeout=timeout or None,
            grace=grace,
            offline=decision.offline,
        )
        if decision.member_id is not None:
            self._member_sessions[decision.member_id] = (time.time(), None)
        self._set_interlock(True)
        self.session.task = asyncio.get_running_loop().create_task(
            self._session_watch(self.session)
        )

    async def _session_watch(self, session: Session) -> None:
        """Heartbeats, and the end of a session that ran past timeout plus grace."""
        heartbeat = self.config.access.heartbeat
        next_beat = session.started + heartbeat
        warn_at = session.started + session.timeout if session.timeout else None
        end_at = warn_at + (session.grace or 0.0) if warn_at is not None else None
        while self.session is session:
            now = time.monotonic()
            if end_at is not None and now >= end_at:
                async with self.lock:
                    if self.session is session:
                        session.task = None  # do not cancel ourselves
                        await self.end_session("timeout")
                return
            if warn_at is not None and now >= warn_at:
                warn_at = None
                _LOGGER.warning(
                    "Session time is up: the interlock opens in %.0f s",
                    (end_at or now) - now,
                )
            if now >= next_beat:
                next_beat += heartbeat
                await self._session_event(session, AccessAction.SESSION_HEARTBEAT)
            wake = min(t for t in (next_beat, warn_at, end_at) if t is not None)
            await asyncio.sleep(max(0.0, wake - time.monotonic()))

    async def _session_event(self, session: Session, action: AccessAction) -> None:
        """Tell the hub about a running session: live, or as a buffered record."""
        fields: dict[str, Any] = {
            "session_id": session.id,
            "duration": session.duration(),
            "card": session.card,
            "member_id": session.member_id,
        }
        # A session the hub learns about from the backlog must stay in the backlog,
        # so that the hub sees its start before its heartbeats and stop.
        if not session.offline and await self._ask_hub(action, **fields) is not None:
            return
        self.backlog.record_access({"action": action.value, "offline": True} | fields)

    async def end_session(self, why: str, *, ask_hub: bool = True) -> AccessDecision:
        """End the running session (the caller holds the lock or is shutting down)."""
        session = self.session
        assert session is not None  # noqa: S101  # callers check
        self.session = None
        if session.task is not None:
            session.task.cancel()
        if (seen := self._member_sessions.get(session.member_id or "")) is not None:
            self._member_sessions[session.member_id or ""] = (seen[0], time.time())
        self._set_interlock(False)
        if ask_hub:
            await self._session_event(session, AccessAction.SESSION_STOP)
        else:
            self.backlog.record_access(
                {
                    "action": AccessAction.SESSION_STOP.value,
                    "offline": True,
                    "session_id": session.id,
                    "duration": session.duration(),
                    "card": session.card,
                    "member_id": session.member_id,
                    "reason": why,
                }
            )
        _LOGGER.info("Session ended (%s) after %.0f s", why, session.duration())
        return AccessDecision(
            False,
            "session_ended",
            offline=session.offline,
            member_id=session.member_id,
            name=session.name,
            session_id=session.id,
        )

    async def blocked(self) -> None:
        """Act on a block: end the running session, close the door."""
        if self.session is not None:
            async with self.lock:
                if self.session is not None:
                    await self.end_session("blocked")
        if self.unlocked_until is not None:
            self.relock()

    async def register_maintenance(self, card: str) -> AccessDecision:
        """Register maintenance done on the device by the card's member."""
        reply = await self._ask_hub(AccessAction.MAINTENANCE, card=card)
        if reply is not None:
            return self._decided(
                AccessDecision(
                    reply["granted"],
                    reply["reason"],
                    offline=False,
                    member_id=reply.get("member_id"),
                )
            )
        member = self.mirror.by_card(card)
        allowed = member is not None and member.maintenance
        self.backlog.record_access(
            {
                "action": AccessAction.MAINTENANCE.value,
                "card": card,
                "member_id": member.id if member is not None else None,
                "granted": allowed,
                "offline": True,
                "reason": "maintenance_recorded" if allowed else "not_allowed",
            }
        )
        return self._decided(
            AccessDecision(
                allowed,
                "maintenance_recorded" if allowed else "not_allowed",
                offline=True,
                member_id=member.id if member is not None else None,
            )
        )
