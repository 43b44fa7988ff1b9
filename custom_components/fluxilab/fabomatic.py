"""Fab-O-Matic boards: a second transport into the same access engine.

An adopted board is an ordinary FluxiLab device (its config entry, entities and
history are the same); what differs is the wire. This module follows the board's
``machine/<id>`` topic, turns each query into the engine's requests and records,
and answers on ``machine/<id>/reply`` in the board's own (unsigned) format
(protocol/fabomatic.py, docs/FABOMATIC.md).

Queries of one board are answered one at a time, in the order they arrived: a
board replaying its buffer sends startuse before stopuse and expects them booked
in that order. Malformed queries are counted and logged (at most once a minute per
kind), and answered with ``request_ok: false`` when the board waits for a reply.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
import time
from typing import TYPE_CHECKING, Any, Final
import uuid

from homeassistant.components import mqtt
from homeassistant.config_entries import SOURCE_IGNORE
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.event import async_call_later
from homeassistant.util.hass_dict import HassKey

from .access.const import (
    DEFAULT_GRACE_PERIOD,
    DEFAULT_SESSION_TIMEOUT,
    Reason,
    SessionEnd,
)
from .access.roles import Role, flags
from .const import CONF_FABOMATIC_MACHINE, DOMAIN, LOGGER
from .protocol.fabomatic import (
    DISCOVERY_TOPIC,
    WAITS_FOR_REPLY,
    BackendRequestType,
    BoardAction,
    BoardMessageError,
    UserLevel,
    UserResult,
    backend_request,
    device_id as board_device_id,
    dumps,
    machine_id_from_topic,
    machine_response,
    parse_query,
    query_topic,
    reply_topic,
    request_topic,
    simple_response,
    user_response,
    whole_minutes,
)
from .protocol.schemas import AccessAction

if TYPE_CHECKING:
    from .access.engine import AccessEngine
    from .device import FluxiLabDevice

CONF_ALIVE_TIMEOUT: Final = "alive_timeout"
DEFAULT_ALIVE_TIMEOUT: Final = 300.0
"""Seconds without any message after which a board counts as offline. Boards send
alive every 2 minutes and query the machine every 30 s; they have no last will."""
MACHINE_TYPE_OTHER: Final = 5
"""The firmware's MachineType::Other (informative only on the board)."""
LOG_INTERVAL: Final = 60.0
DUPLICATE_WINDOW: Final = 24 * 3600.0
"""A stopuse matching a session the board already closed this long ago at most is
a repeat of it (the board re-sends when a reply is lost), not a new session."""

__all__ = ["CONF_FABOMATIC_MACHINE"]  # kept importable from here

FABOMATIC_BOARDS: HassKey[dict[str, FabOMaticBoard]] = HassKey(
    f"{DOMAIN}_fabomatic_boards"
)
"""Running boards by our device id."""
UNADOPTED_BOARDS: HassKey[set[int]] = HassKey(f"{DOMAIN}_fabomatic_unadopted")
"""Machine ids answered as not adopted (each logged once); set while followed."""
NOT_ADOPTED_NAME: Final = "Not adopted"
NOT_ADOPTED_DESCRIPTION: Final = "Adopt it in HA"
"""The board's LCD line (16 characters) for a machine nobody adopted."""


def board_adopted(hass: HomeAssistant, machine_id: int) -> bool:
    """Return True if an enabled config entry (not an ignored one) has the board.

    Its own transport answers it, also while the entry reloads: a board is never
    told it is not valid because its entry is being set up again.
    """
    entry = hass.config_entries.async_entry_for_domain_unique_id(
        DOMAIN, board_device_id(machine_id)
    )
    return (
        entry is not None
        and entry.source != SOURCE_IGNORE
        and entry.disabled_by is None
    )


async def async_answer_unadopted(
    hass: HomeAssistant, machine_id: int, query: dict[str, Any]
) -> None:
    """Answer a checkmachine of a board nobody adopted: ``is_valid: false``.

    As the Fab-O-Matic backend does for a machine it does not know: the board then
    shows that its machine is not valid instead of waiting for a server that seems
    down. Its alive message meanwhile offers it for adoption (the config flow).
    """
    if query["action"] is not BoardAction.CHECK_MACHINE or board_adopted(
        hass, machine_id
    ):
        return
    answered = hass.data.setdefault(UNADOPTED_BOARDS, set())
    if machine_id not in answered:
        answered.add(machine_id)
        LOGGER.info(
            "Fab-O-Matic board %s is not adopted: told it its machine is not valid; "
            "adopt it under Settings > Devices & services",
            machine_id,
        )
    body = machine_response(
        name=NOT_ADOPTED_NAME,
        maintenance=False,
        allowed=False,
        logoff_minutes=0,
        grace_minutes=0,
        description=NOT_ADOPTED_DESCRIPTION,
        is_valid=False,
    )
    try:
        await mqtt.async_publish(hass, reply_topic(machine_id), dumps(body), qos=1)
    except Exception as err:  # the board asks again in 30 s
        LOGGER.debug("Could not answer board %s: %s", machine_id, err)


async def async_follow_unadopted_boards(hass: HomeAssistant) -> bool:
    """Answer every board that is not adopted, from now on (once per instance).

    Started by the config flow when a board first shows up: Home Assistant's MQTT
    discovery passes a repeated, identical query to no flow, so the flow alone would
    answer a board's checkmachine once. True if it started now: the query that
    brought the flow came before the subscription, and the flow answers it.
    """
    if UNADOPTED_BOARDS in hass.data:
        return False
    hass.data[UNADOPTED_BOARDS] = set()

    @callback
    def _handle(msg: mqtt.ReceiveMessage) -> None:
        if (machine_id := machine_id_from_topic(msg.topic)) is None:
            return
        try:
            query = parse_query(msg.payload)
        except BoardMessageError:
            return  # an adopted board's transport counts it; others are not ours
        hass.async_create_background_task(
            async_answer_unadopted(hass, machine_id, query),
            f"{DOMAIN} unadopted board {machine_id}",
        )

    await mqtt.async_subscribe(hass, DISCOVERY_TOPIC, _handle, qos=1, encoding=None)
    return True


def board_machine_id(device: FluxiLabDevice) -> int | None:
    """Return the machine id if ``device`` is an adopted Fab-O-Matic board."""
    machine_id = device.entry.data.get(CONF_FABOMATIC_MACHINE)
    return machine_id if isinstance(machine_id, int) else None


def board_level(member: dict[str, Any]) -> UserLevel:
    """Return the board's level of a member (staff level is offered maintenance)."""
    if member["role"] == Role.ADMIN:
        return UserLevel.FAB_ADMIN
    if flags(member).may_maintain:
        return UserLevel.FAB_STAFF
    return UserLevel.NORMAL_USER


async def async_attach_board(engine: AccessEngine, device: FluxiLabDevice) -> None:
    """Start the board transport of a device adopted as a Fab-O-Matic board."""
    if (machine_id := board_machine_id(device)) is None:
        return
    boards = engine.hass.data.setdefault(FABOMATIC_BOARDS, {})
    if (old := boards.pop(device.device_id, None)) is not None:
        old.async_stop()
    board = FabOMaticBoard(engine.hass, engine, device, machine_id)
    await board.async_start()
    boards[device.device_id] = board


@callback
def async_detach_board(hass: HomeAssistant, device: FluxiLabDevice) -> None:
    """Stop the board transport of a device being unloaded."""
    boards = hass.data.get(FABOMATIC_BOARDS, {})
    if (board := boards.get(device.device_id)) is not None and board.device is device:
        del boards[device.device_id]
        board.async_stop()


class FabOMaticBoard:
    """One adopted board: its topic, its queue of queries, its liveness."""

    def __init__(
        self,
        hass: HomeAssistant,
        engine: AccessEngine,
        device: FluxiLabDevice,
        machine_id: int,
    ) -> None:
        """Bind the board to its device; nothing is subscribed yet."""
        self.hass = hass
        self.engine = engine
        self.device = device
        self.machine_id = machine_id
        self.info: dict[str, Any] = {}
        """What the last alive said: version, ip, serial, heap."""
        self._lock = asyncio.Lock()
        self._unsubscribe: CALLBACK_TYPE | None = None
        self._offline_timer: CALLBACK_TYPE | None = None
        self._last_log: dict[str, float] = {}
        self._run_id = uuid.uuid4().hex[:12]
        self._requests = 0

    # Lifecycle ------------------------------------------------------------------

    async def async_start(self) -> None:
        """Follow the board's query topic."""
        # Raw bytes: a query that is not UTF-8 is counted as malformed here rather
        # than dropped by the MQTT integration before we see it. QoS 0 (as device.py
        # subscribes access requests): a PUBACK per query is a small write on HA's
        # broker socket, and the reply written right after it then waits (Nagle)
        # for the broker's delayed ACK, ~20-40 ms. The board still gets its PUBACK
        # from the broker, and a query lost with HA's connection goes unanswered,
        # which the board handles as any timeout (it asks again or decides alone).
        self._unsubscribe = await mqtt.async_subscribe(
            self.hass,
            query_topic(self.machine_id),
            self._handle_query,
            qos=0,
            encoding=None,
        )

    @callback
    def async_stop(self) -> None:
        """Stop following the board."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._offline_timer is not None:
            self._offline_timer()
            self._offline_timer = None

    # Input ----------------------------------------------------------------------

    def _count(self, kind: str) -> None:
        key = f"fabomatic_{kind}"
        self.device.counters[key] = self.device.counters.get(key, 0) + 1

    def _log_bad(self, kind: str, detail: str) -> None:
        """Count a bad query; log it at most once a minute per kind."""
        self._count(kind)
        now = time.monotonic()
        if now - self._last_log.get(kind, -LOG_INTERVAL) < LOG_INTERVAL:
            return
        self._last_log[kind] = now
        LOGGER.warning(
            "Ignoring %s message from Fab-O-Matic board %s: %s",
            kind,
            self.machine_id,
            detail,
        )

    @callback
    def _handle_query(self, msg: mqtt.ReceiveMessage) -> None:
        self._count("received")
        self._seen()
        try:
            query = parse_query(msg.payload)
        except BoardMessageError as err:
            self._log_bad("malformed", str(err))
            if err.action in WAITS_FOR_REPLY:
                self._schedule(self._async_reply(simple_response(False, "malformed")))
            return
        if query["action"] is BoardAction.ALIVE:
            self._alive(query)
            return
        self._schedule(self._async_answer(query))

    def _schedule(self, coro: Any) -> None:
        self.device.entry.async_create_task(
            self.hass, coro, f"{DOMAIN} fabomatic {self.machine_id}"
        )

    async def _async_answer(self, query: dict[str, Any]) -> None:
        """Answer one query, after the ones that came before it."""
        async with self._lock:
            try:
                reply = await self._async_decide(query)
            except Exception:
                LOGGER.exception(
                    "Query %s of Fab-O-Matic board %s not answered",
                    query["action"],
                    self.machine_id,
                )
                self._count("failed")
                reply = simple_response(False, "error")
            await self._async_reply(reply)

    async def _async_reply(self, body: dict[str, Any]) -> None:
        try:
            await mqtt.async_publish(
                self.hass, reply_topic(self.machine_id), dumps(body), qos=1
            )
        except Exception as err:  # the board times out and asks again
            LOGGER.warning(
                "Could not reply to Fab-O-Matic board %s: %s", self.machine_id, err
            )
            return
        self._count("replied")

    # Liveness -------------------------------------------------------------------

    @callback
    def _seen(self) -> None:
        """Any message proves the board is up; silence for a while means down."""
        if self._offline_timer is not None:
            self._offline_timer()
        timeout = self.device.entry.options.get(
            CONF_ALIVE_TIMEOUT, DEFAULT_ALIVE_TIMEOUT
        )
        self._offline_timer = async_call_later(self.hass, timeout, self._silent)
        if not self.device.online:
            LOGGER.info("Fab-O-Matic board %s is online", self.machine_id)
            self._set_online(True)

    @callback
    def _silent(self, _now: datetime) -> None:
        self._offline_timer = None
        LOGGER.info("Fab-O-Matic board %s went silent", self.machine_id)
        self._set_online(False)

    @callback
    def _set_online(self, online: bool) -> None:
        # The device runtime has no setter for boards (they send no status); its
        # listeners (entities, the engine's reconnect handling) run on the update.
        self.device.online = online
        self.engine.publish_usage(self.device)

    @callback
    def _alive(self, query: dict[str, Any]) -> None:
        self.info = {key: query[key] for key in ("version", "ip", "serial", "heap")}
        dr.async_get(self.hass).async_get_or_create(
            config_entry_id=self.device.entry.entry_id,
            identifiers={(DOMAIN, self.device.device_id)},
            model="Fab-O-Matic",
            sw_version=query["version"] or None,
            serial_number=query["serial"] or None,
        )

    # Decisions ------------------------------------------------------------------

    async def _async_decide(self, query: dict[str, Any]) -> dict[str, Any]:
        action: BoardAction = query["action"]
        self._count(action.value)
        if action is BoardAction.CHECK_MACHINE:
            return self._machine_status()
        card: str = query["uid"]
        if action is BoardAction.CHECK_USER:
            return await self._async_check_user(card)
        if action is BoardAction.START_USE:
            return await self._async_start_use(card, query["replay"])
        if action is BoardAction.IN_USE:
            return await self._async_in_use(card, query["duration"])
        if action is BoardAction.STOP_USE:
            return await self._async_stop_use(card, query["duration"], query["replay"])
        return await self._async_maintenance(card)

    def _request(self, action: AccessAction, **fields: Any) -> dict[str, Any]:
        # The board's queries carry no id: the engine's request id (in the audit
        # entry) is made here, unique per board and run without a syscall
        # (uuid4 reads os.urandom, a point where a busy host preempts the loop).
        return {"id": self._next_id(), "action": action.value, **fields}

    def _next_id(self) -> str:
        self._requests += 1
        return f"{self._run_id}-{self._requests}"

    def _machine_status(self) -> dict[str, Any]:
        machine_type = self.engine.machine_type_of(self.device)
        timeout = DEFAULT_SESSION_TIMEOUT
        grace = DEFAULT_GRACE_PERIOD
        message = ""
        if machine_type is not None:
            timeout = machine_type["session_timeout"]
            grace = machine_type["grace_period"]
            message = machine_type.get("maintenance_message") or ""
        due = self.device.maintenance_due
        return machine_response(
            name=self.device.entry.title,
            maintenance=due,
            allowed=not self.device.blocked,
            logoff_minutes=whole_minutes(timeout),
            grace_minutes=whole_minutes(grace),
            description=message if due else "",
            machine_type=MACHINE_TYPE_OTHER,
        )

    async def _async_check_user(self, card: str) -> dict[str, Any]:
        reply = await self.engine.async_handle_request(
            self.device, self._request(AccessAction.CHECK, card=card)
        )
        member = self.engine.members.data.get(reply.get("member_id") or "")
        if reply["granted"] and member is not None:
            return user_response(
                result=UserResult.AUTHORIZED,
                name=member["name"],
                level=board_level(member),
                reason=reply["reason"],
            )
        return user_response(
            result=UserResult.INVALID if member is None else UserResult.UNAUTHORIZED,
            name=member["name"] if member is not None else "?",
            level=UserLevel.UNKNOWN,
            reason=reply["reason"],
        )

    def _open_session(self, card: str) -> dict[str, Any] | None:
        """Return the board's running session with this card, if the hub has it open."""
        return next(
            (
                s
                for s in reversed(
                    self.engine.history.open_sessions(self.device.device_id)
                )
                if s["card"] == card
            ),
            None,
        )

    async def _async_start_use(self, card: str, replay: bool) -> dict[str, Any]:
        if self._open_session(card) is not None:
            return simple_response(True)  # a repeat of a start already booked
        now = time.time()
        # A board runs one session at a time: whatever else it left open is over.
        for session in self.engine.history.open_sessions(self.device.device_id):
            self.engine.close_session(self.device, session, SessionEnd.RECONNECT)
        session_id = f"{self.device.device_id}-{uuid.uuid4().hex}"
        if replay:
            # Decided by the board from its card cache while the hub was away.
            await self.engine.async_handle_record(
                self.device,
                {
                    "action": AccessAction.SESSION_START.value,
                    "card": card,
                    "granted": True,
                    "offline": True,
                    "session_id": session_id,
                },
                now,
                True,
            )
            return simple_response(True)
        if self.engine.open_session(self.device, session_id, card, now) is None:
            return simple_response(False, "Invalid card")
        return simple_response(True)

    async def _async_in_use(self, card: str, duration: int) -> dict[str, Any]:
        if (session := self._open_session(card)) is None:
            # No startuse reached the hub (the board started while it was away).
            session_id = f"{self.device.device_id}-{uuid.uuid4().hex}"
            session = self.engine.open_session(
                self.device, session_id, card, time.time() - duration
            )
            if session is None:
                return simple_response(False, "Invalid card")
        reply = await self.engine.async_handle_request(
            self.device,
            self._request(
                AccessAction.SESSION_HEARTBEAT,
                session_id=session["session_id"],
                duration=duration,
            ),
        )
        return simple_response(reply["granted"], "inUse")

    def _repeated_stop(self, card: str, duration: int, now: float) -> bool:
        """Return True if the board already had this exact session closed."""
        for session in reversed(self.engine.history.data["sessions"]):
            if session["device_id"] != self.device.device_id or session["end"] is None:
                continue
            if now - session["end"] > DUPLICATE_WINDOW:
                return False
            if (
                session["card"] == card
                and session["closed_by"] == SessionEnd.DEVICE
                and round(session["duration"]) == duration
            ):
                return True
        return False

    async def _async_stop_use(
        self, card: str, duration: int, replay: bool
    ) -> dict[str, Any]:
        now = time.time()
        session = self._open_session(card)
        if session is None and self._repeated_stop(card, duration, now):
            return simple_response(True, f"Duration {duration} seconds")
        session_id = (
            session["session_id"]
            if session is not None
            else f"{self.device.device_id}-{uuid.uuid4().hex}"
        )
        stop = {
            "action": AccessAction.SESSION_STOP.value,
            "card": card,
            "session_id": session_id,
            "duration": float(duration),
        }
        if replay:
            await self.engine.async_handle_record(self.device, stop, now, True)
        else:
            await self.engine.async_handle_request(
                self.device, {"id": self._next_id(), **stop}
            )
        return simple_response(True, f"Duration {duration} seconds")

    async def _async_maintenance(self, card: str) -> dict[str, Any]:
        reply = await self.engine.async_handle_request(
            self.device, self._request(AccessAction.MAINTENANCE, card=card)
        )
        if reply["granted"]:
            return simple_response(True)
        message = (
            "Wrong user card"
            if reply["reason"] == Reason.UNKNOWN_CARD
            else "Not authorized"
        )
        return simple_response(False, message)

    # Requests to the board --------------------------------------------------------

    async def async_request(self, request_type: BackendRequestType, card: str) -> None:
        """Ask the board to start a session for ``card``, or to stop the current one.

        The board acts as if the card were swiped: a start still goes through
        checkuser, so the engine decides it like any other.
        """
        await mqtt.async_publish(
            self.hass,
            request_topic(self.machine_id),
            dumps(backend_request(request_type, card)),
            qos=1,
        )
