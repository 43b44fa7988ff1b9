"""The engine's side of a Fab-O-Matic board: each query decided and booked.

device/fabomatic.py is the board's transport (its topics, liveness and replies);
it hands every parsed query to the :class:`BoardAccess` the engine made for that
device (``Lab.board_handler``). Here a query becomes the engine's requests
and records, with the board's own reply format (protocol/fabomatic.py).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Final
import uuid

from homeassistant.core import callback

from custom_components.fluxilab.device.models import (
    BoardQuery,
    BoardReply,
    MachineStatus,
    SimpleReply,
    UserCheck,
)
from custom_components.fluxilab.history_db import LiveSession
from custom_components.fluxilab.protocol.access import AccessRecord, AccessRequest
from custom_components.fluxilab.protocol.fabomatic import (
    BoardAction,
    UserLevel,
    UserResult,
    whole_minutes,
)
from custom_components.fluxilab.protocol.schemas import (
    MAX_MAINTENANCE_MESSAGE,
    AccessAction,
)

from . import maintenance
from .const import DEFAULT_GRACE_PERIOD, DEFAULT_SESSION_TIMEOUT, Reason, SessionEnd
from .decisions import requires_pin
from .roles import RoleFlags

if TYPE_CHECKING:
    from custom_components.fluxilab.device.port import AccessDevice

    from .lab import Lab

MACHINE_TYPE_OTHER: Final = 5
"""The firmware's MachineType::Other (informative only on the board)."""
DUPLICATE_WINDOW: Final = 24 * 3600.0
"""A stopuse matching a session the board already closed this long ago at most is
a repeat of it (the board re-sends when a reply is lost), not a new session."""
PIN_REFUSAL: Final = "Card + PIN only"
"""A board's startuse on a ``require_pin`` type: boards have no keypad, so they
are refused (the LCD line holds 16 characters)."""


def board_level(role: RoleFlags) -> UserLevel:
    """Return the board's level of a role's flags.

    The firmware offers to register maintenance from FabStaff up (FabUser::UserLevel),
    so a role that may maintain is FabStaff, one that manages the lab FabAdmin.
    """
    if role.manage:
        return UserLevel.FAB_ADMIN
    if role.may_maintain:
        return UserLevel.FAB_STAFF
    return UserLevel.NORMAL_USER


class BoardAccess:
    """Decides the queries of one board adopted as ``device``."""

    def __init__(self, engine: Lab, device: AccessDevice) -> None:
        """Bind the engine to the board's device."""
        self.engine = engine
        self.device = device
        self._run_id = uuid.uuid4().hex[:12]
        self._requests = 0

    @callback
    def online_changed(self) -> None:
        """Recompute the device's usage state after the board came or went."""
        self.engine.publish_usage(self.device)

    async def async_answer(self, query: BoardQuery) -> BoardReply:
        """Decide one parsed query of the board; return its reply."""
        action = query.action
        if action is BoardAction.CHECK_MACHINE:
            return self._machine_status()
        card = query.uid
        if action is BoardAction.CHECK_USER:
            return await self._async_check_user(card)
        if action is BoardAction.START_USE:
            return await self._async_start_use(card, query.replay)
        if action is BoardAction.IN_USE:
            return await self._async_in_use(card, query.duration)
        if action is BoardAction.STOP_USE:
            return await self._async_stop_use(card, query.duration, query.replay)
        return await self._async_maintenance(card, query.replay)

    def _request(self, action: AccessAction, **fields: Any) -> AccessRequest:
        # The board's queries carry no id: the engine's request id (in the audit
        # entry) is made here, unique per board and run without a syscall
        # (uuid4 reads os.urandom, a point where a busy host preempts the loop).
        return AccessRequest(id=self._next_id(), action=action, **fields)

    def _next_id(self) -> str:
        self._requests += 1
        return f"{self._run_id}-{self._requests}"

    def _machine_status(self) -> MachineStatus:
        machine_type = self.engine.machine_type_of(self.device)
        timeout = DEFAULT_SESSION_TIMEOUT
        grace = DEFAULT_GRACE_PERIOD
        message = ""
        if machine_type is not None:
            timeout = machine_type.session_timeout
            grace = machine_type.grace_period
            # The board's LCD line: the short message, else the plan's description
            # (what Fab-O-Matic's backend sends), cut to fit.
            message = maintenance.lcd_text(machine_type, MAX_MAINTENANCE_MESSAGE)
        due = self.device.maintenance_due
        return MachineStatus(
            name=self.device.entry.title,
            maintenance=due,
            allowed=not self.device.blocked,
            logoff_minutes=whole_minutes(timeout),
            grace_minutes=whole_minutes(grace),
            description=message if due else "",
            machine_type=MACHINE_TYPE_OTHER,
        )

    async def _async_check_user(self, card: str) -> UserCheck:
        reply = await self.engine.async_decide(
            self.device, self._request(AccessAction.CHECK, card=card)
        )
        member = self.engine.members.member(reply.member_id or "")
        if reply.granted and member is not None:
            return UserCheck(
                result=UserResult.AUTHORIZED,
                name=member.name,
                level=board_level(self.engine.roles.flags(member.role)),
                reason=reply.reason.value,
            )
        return UserCheck(
            result=UserResult.INVALID if member is None else UserResult.UNAUTHORIZED,
            name=member.name if member is not None else "?",
            level=UserLevel.UNKNOWN,
            reason=reply.reason.value,
        )

    def _open_session(self, card: str) -> LiveSession | None:
        """Return the board's running session with this card, if the hub has it open."""
        return next(
            (
                s
                for s in reversed(
                    self.engine.history.open_sessions(self.device.device_id)
                )
                if s.card == card
            ),
            None,
        )

    async def _async_start_use(self, card: str, replay: bool) -> SimpleReply:
        if self._open_session(card) is not None:
            return SimpleReply(ok=True)  # a repeat of a start already booked
        if not replay and requires_pin(self.engine.machine_type_of(self.device)):
            # checkuser refused it (pin_required) already; a board cannot give a PIN.
            return SimpleReply(ok=False, message=PIN_REFUSAL)
        now = time.time()
        # A board runs one session at a time: whatever else it left open is over.
        for session in self.engine.history.open_sessions(self.device.device_id):
            self.engine.close_session(self.device, session, SessionEnd.RECONNECT)
        session_id = f"{self.device.device_id}-{uuid.uuid4().hex}"
        if replay:
            # Decided by the board from its card cache while the hub was away.
            await self.engine.async_handle_record(
                self.device,
                AccessRecord(
                    action=AccessAction.SESSION_START,
                    card=card,
                    granted=True,
                    offline=True,
                    session_id=session_id,
                ),
                now,
                True,
            )
            return SimpleReply(ok=True)
        if self.engine.open_session(self.device, session_id, card, now) is None:
            return SimpleReply(ok=False, message="Invalid card")
        return SimpleReply(ok=True)

    async def _async_in_use(self, card: str, duration: int) -> SimpleReply:
        if (session := self._open_session(card)) is None:
            # No startuse reached the hub (the board started while it was away).
            session_id = f"{self.device.device_id}-{uuid.uuid4().hex}"
            session = self.engine.open_session(
                self.device, session_id, card, time.time() - duration
            )
            if session is None:
                return SimpleReply(ok=False, message="Invalid card")
        reply = await self.engine.async_decide(
            self.device,
            self._request(
                AccessAction.SESSION_HEARTBEAT,
                session_id=session.session_id,
                duration=duration,
            ),
        )
        return SimpleReply(ok=reply.granted, message="inUse")

    def _repeated_stop(self, card: str, duration: int, now: float) -> bool:
        """Return True if the board already had this exact session closed."""
        for session in reversed(self.engine.history.data["sessions"]):
            if session.device_id != self.device.device_id or session.end is None:
                continue
            if now - session.end > DUPLICATE_WINDOW:
                return False
            if (
                session.card == card
                and session.closed_by == SessionEnd.DEVICE
                and round(session.duration) == duration
            ):
                return True
        return False

    async def _async_stop_use(
        self, card: str, duration: int, replay: bool
    ) -> SimpleReply:
        now = time.time()
        session = self._open_session(card)
        if session is None and self._repeated_stop(card, duration, now):
            return SimpleReply(ok=True, message=f"Duration {duration} seconds")
        session_id = (
            session.session_id
            if session is not None
            else f"{self.device.device_id}-{uuid.uuid4().hex}"
        )
        if replay:
            stop = AccessRecord(
                action=AccessAction.SESSION_STOP,
                card=card,
                session_id=session_id,
                duration=float(duration),
            )
            await self.engine.async_handle_record(self.device, stop, now, True)
        else:
            await self.engine.async_decide(
                self.device,
                self._request(
                    AccessAction.SESSION_STOP,
                    card=card,
                    session_id=session_id,
                    duration=float(duration),
                ),
            )
        return SimpleReply(ok=True, message=f"Duration {duration} seconds")

    async def _async_maintenance(self, card: str, replay: bool) -> SimpleReply:
        # A replay carries no time of its own: recorded now, marked buffered.
        reply = await self.engine.async_decide(
            self.device,
            self._request(AccessAction.MAINTENANCE, card=card),
            buffered=replay,
        )
        if reply.granted:
            return SimpleReply(ok=True)
        message = (
            "Wrong user card"
            if reply.reason is Reason.UNKNOWN_CARD
            else "Not authorized"
        )
        return SimpleReply(ok=False, message=message)
