"""Fab-O-Matic boards: a second transport into the same access engine.

An adopted board is an ordinary FluxiLab device (its config entry, entities and
history are the same); what differs is the wire. This module follows every
board's queries on one ``machine/+`` subscription (``async_follow_boards``), hands
each adopted board's parsed query to its :class:`BoardHandler` (the engine's side,
access/fabomatic.py) and answers on ``machine/<id>/reply`` in the board's own
(unsigned) format (protocol/fabomatic.py, docs/FABOMATIC.md).

One subscription, not one per board: Home Assistant's MQTT discovery already
subscribes ``machine/+`` (the manifest), and a broker sends a client one copy of a
message per subscription it matches (Mosquitto does), so a ``machine/<id>``
subscription beside it brought every query twice: twice the reading and parsing,
and on MQTT 3.1.1 (no subscription identifiers) every handler of the topic called
for each copy, the board's too.

Queries of one board are answered one at a time, in the order they arrived: a
board replaying its buffer sends startuse before stopuse and expects them booked
in that order. Malformed queries are counted and logged (at most once a minute per
kind), and answered with ``request_ok: false`` when the board waits for a reply.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
import time
from typing import TYPE_CHECKING, Any, Final, Protocol

from homeassistant.components import mqtt
from homeassistant.config_entries import SOURCE_IGNORE, ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.event import async_call_later
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from custom_components.fluxilab.const import CONF_FABOMATIC_MACHINE, DOMAIN, LOGGER
from custom_components.fluxilab.protocol.fabomatic import (
    DISCOVERY_TOPIC,
    WAITS_FOR_REPLY,
    BackendRequestType,
    BoardAction,
    BoardMessageError,
    backend_request,
    device_id as board_device_id,
    dumps,
    machine_id_from_topic,
    machine_response,
    parse_query,
    reply_topic,
    request_topic,
    simple_response,
)

from .models import BoardInfo, BoardQuery, BoardReply

if TYPE_CHECKING:
    from .runtime import FluxiLabDevice


class BoardHandler(Protocol):
    """The engine's side of one board (access/fabomatic.py implements it)."""

    async def async_answer(self, query: BoardQuery) -> BoardReply:
        """Decide one parsed board query; return the board's reply."""

    def online_changed(self) -> None:
        """Recompute the device's usage state after its board came or went."""


CONF_ALIVE_TIMEOUT: Final = "alive_timeout"
DEFAULT_ALIVE_TIMEOUT: Final = 300.0
"""Seconds without any message after which a board counts as offline. Boards send
alive every 2 minutes and query the machine every 30 s; they have no last will."""
LOG_INTERVAL: Final = 60.0

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
    hass: HomeAssistant, machine_id: int, action: BoardAction
) -> None:
    """Answer a checkmachine of a board nobody adopted: ``is_valid: false``.

    As the Fab-O-Matic backend does for a machine it does not know: the board then
    shows that its machine is not valid instead of waiting for a server that seems
    down. Its alive message meanwhile offers it for adoption (the config flow).
    """
    if action is not BoardAction.CHECK_MACHINE or board_adopted(hass, machine_id):
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


async def async_follow_boards(hass: HomeAssistant) -> bool:
    """Follow every board's queries, from now on (once per instance).

    An adopted board's go to its transport (``FABOMATIC_BOARDS``); a board nobody
    adopted has its checkmachine answered ``is_valid: false``. Started by the first
    board attached or the config flow when a board first shows up (Home Assistant's
    MQTT discovery passes a repeated, identical query to no flow, so the flow alone
    would answer a board's checkmachine once). True if it started now: the query
    that brought the flow came before the subscription, and the flow answers it.
    """
    if UNADOPTED_BOARDS in hass.data:
        return False
    hass.data[UNADOPTED_BOARDS] = set()
    boards = hass.data.setdefault(FABOMATIC_BOARDS, {})

    @callback
    def _handle(msg: mqtt.ReceiveMessage) -> None:
        if (machine_id := machine_id_from_topic(msg.topic)) is None:
            return
        if (board := boards.get(board_device_id(machine_id))) is not None:
            board.handle_query(msg)
            return
        if board_adopted(hass, machine_id):
            return  # its entry is being set up: it is never told it is not valid
        try:
            query = parse_query(msg.payload)
        except BoardMessageError:
            return  # not ours to count: no transport follows this board
        if query["action"] is not BoardAction.CHECK_MACHINE:
            return
        hass.async_create_background_task(
            async_answer_unadopted(hass, machine_id, query["action"]),
            f"{DOMAIN} unadopted board {machine_id}",
        )

    # Raw bytes: a query that is not UTF-8 is counted as malformed by its board
    # rather than dropped by the MQTT integration before we see it. QoS 0 (as
    # device.py subscribes access requests): a PUBACK per query is a small write on
    # HA's broker socket, and the reply written right after it then waits (Nagle)
    # for the broker's delayed ACK, ~20-40 ms. The board still gets its PUBACK from
    # the broker, and a query lost with HA's connection goes unanswered, which the
    # board handles as any timeout (it asks again or decides alone).
    try:
        await mqtt.async_subscribe(hass, DISCOVERY_TOPIC, _handle, qos=0, encoding=None)
    except BaseException:
        # Not following after all: the board's entry setup fails and is retried.
        del hass.data[UNADOPTED_BOARDS]
        raise
    return True


def board_machine_id(entry: ConfigEntry) -> int | None:
    """Return the machine id if ``entry`` adopted a Fab-O-Matic board."""
    machine_id = entry.data.get(CONF_FABOMATIC_MACHINE)
    return machine_id if isinstance(machine_id, int) else None


async def async_attach_board(
    hass: HomeAssistant,
    device: FluxiLabDevice,
    machine_id: int,
    handler: BoardHandler,
) -> None:
    """Start the board transport of a device adopted as a Fab-O-Matic board."""
    boards = hass.data.setdefault(FABOMATIC_BOARDS, {})
    if (old := boards.pop(device.device_id, None)) is not None:
        old.async_stop()
    board = FabOMaticBoard(hass, handler, device, machine_id)
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
        handler: BoardHandler,
        device: FluxiLabDevice,
        machine_id: int,
    ) -> None:
        """Bind the board to its device; nothing is subscribed yet."""
        self.hass = hass
        self.handler = handler
        self.device = device
        self.machine_id = machine_id
        self.info: BoardInfo | None = None
        """What the last alive said: version, ip, serial, heap (None: none yet)."""
        self._lock = asyncio.Lock()
        self._offline_timer: CALLBACK_TYPE | None = None
        self._last_seen = dt_util.utcnow()
        self._last_log: dict[str, float] = {}

    # Lifecycle ------------------------------------------------------------------

    async def async_start(self) -> None:
        """Follow the boards' queries (this one's come once it is registered)."""
        await async_follow_boards(self.hass)

    @callback
    def async_stop(self) -> None:
        """Stop following the board (unregistered by the caller)."""
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
    def handle_query(self, msg: mqtt.ReceiveMessage) -> None:
        """Take one message of the board's ``machine/<id>``."""
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
            self._alive(BoardInfo.from_wire(query))
            return
        self._schedule(self._async_answer(BoardQuery.from_wire(query)))

    def _schedule(self, coro: Any) -> None:
        self.device.entry.async_create_task(
            self.hass, coro, f"{DOMAIN} fabomatic {self.machine_id}"
        )

    async def _async_answer(self, query: BoardQuery) -> None:
        """Answer one query, after the ones that came before it."""
        async with self._lock:
            self._count(query.action.value)
            try:
                reply = (await self.handler.async_answer(query)).as_wire()
            except Exception:
                LOGGER.exception(
                    "Query %s of Fab-O-Matic board %s not answered",
                    query.action,
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
        """Any message proves the board is up; silence for a while means down.

        One timer per board, not one per message (a cancelled timer and a new one
        for every query): it fires when the first message's timeout is up and,
        if the board spoke since, waits again for what is left of the last one's.
        """
        self._last_seen = dt_util.utcnow()
        if self._offline_timer is None:
            self._offline_timer = async_call_later(
                self.hass, self._alive_timeout(), self._silent
            )
        if not self.device.online:
            LOGGER.info("Fab-O-Matic board %s is online", self.machine_id)
            self._set_online(True)

    def _alive_timeout(self) -> float:
        timeout: float = self.device.entry.options.get(
            CONF_ALIVE_TIMEOUT, DEFAULT_ALIVE_TIMEOUT
        )
        return timeout

    @callback
    def _silent(self, _now: datetime) -> None:
        self._offline_timer = None
        silence = (dt_util.utcnow() - self._last_seen).total_seconds()
        if (left := self._alive_timeout() - silence) > 0:
            self._offline_timer = async_call_later(self.hass, left, self._silent)
            return
        LOGGER.info("Fab-O-Matic board %s went silent", self.machine_id)
        self._set_online(False)

    @callback
    def _set_online(self, online: bool) -> None:
        # The device runtime has no setter for boards (they send no status); its
        # listeners (entities, the engine's reconnect handling) run on the update.
        self.device.online = online
        self.handler.online_changed()

    @callback
    def _alive(self, info: BoardInfo) -> None:
        self.info = info
        dr.async_get(self.hass).async_get_or_create(
            config_entry_id=self.device.entry.entry_id,
            identifiers={(DOMAIN, self.device.device_id)},
            model="Fab-O-Matic",
            sw_version=info.version or None,
            serial_number=info.serial or None,
        )

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
