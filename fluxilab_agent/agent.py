"""The edge agent: one lab device's connection to the hub.

The agent runs in one asyncio loop. paho-mqtt's network thread hands every incoming
message to the loop with ``call_soon_threadsafe``; all state (buffer, sessions,
replay bookkeeping) is touched from the loop only.

Access has two modes (``access.mode``, docs/AGENT.md). A machine (``session``) runs
sessions: a granted swipe switches the interlock on until the same member swipes
again, the hub's timeout runs out or the device is blocked. A door (``door``) has no
sessions: every swipe asks the hub to ``check`` the member, and a granted one opens
the lock (the same interlock/relay output) for ``access.unlock_seconds``; the hub
decides whether the swipe checks the member in or out of the lab.

Data path (docs/PROTOCOL.md, "Backlog and ack"):

1. every telemetry tick, and every access event the hub has not seen, is written
   to the SQLite :class:`~fluxilab_agent.buffer.RecordBuffer` with its sequence
   number *before* anything is sent;
2. when connected and paired, telemetry goes out live at once (signed);
3. the hub acks sequence numbers; only acked records are deleted;
4. the replay task resends what is still unacked (everything after a reconnect,
   otherwise whatever was last sent more than ``resend_after`` seconds ago) on the
   backlog topic, oldest first, in batches, with at most ``max_in_flight`` batches
   waiting for their ack, while live telemetry keeps flowing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
import contextlib
from dataclasses import dataclass
import itertools
import json
import logging
import os
import time
from typing import Any
from urllib.parse import urlsplit
import uuid

import voluptuous as vol

from fluxilab_protocol import PROTOCOL_VERSION
from fluxilab_protocol.schemas import (
    ACCESS_EVENT_SCHEMA,
    ACCESS_REPLY_SCHEMA,
    ACCESS_REQUEST_SCHEMA,
    ACK_SCHEMA,
    ANNOUNCE_SCHEMA,
    BACKLOG_SCHEMA,
    COMMAND_RESULT_SCHEMA,
    COMMAND_SCHEMA,
    CREDENTIALS_SCHEMA,
    HUB_ANNOUNCE_MAX_BYTES,
    HUB_ANNOUNCE_SCHEMA,
    AccessAction,
    ActuatorKind,
    CommandName,
    RecordKind,
    oversized,
)
from fluxilab_protocol.security import (
    INTERRUPTED,
    KeyPair,
    ProtocolSecurityError,
    ReplayGuard,
    SessionKeys,
    open_envelope,
    parse_public_key,
    seal,
    seal_announce,
)
from fluxilab_protocol.topics import Channel, DeviceTopics, hub_topic

from . import __version__
from .buffer import Record, RecordBuffer
from .certificate import (
    GatewayCertificate,
    load_certificate,
    self_signed_certificate,
)
from .config import AccessMode, AgentConfig
from .hardware import (
    LineReader,
    OutputError,
    SimulatedOutput,
    SimulatedReader,
    build_output,
    build_reader,
)
from .link import MqttLink, TlsSettings
from .mirror import CredentialMirror, MirrorMember, OfflineContext, offline_decision
from .sources import DeviceSimulator, SourceError, build_source, coerce
from .state import (
    BUFFER_FILE,
    MIRROR_FILE,
    AgentState,
    load_device_key,
    load_replay,
    save_replay,
)

_LOGGER = logging.getLogger(__name__)

LOG_INTERVAL = 60.0
LINK_BROKEN_AFTER = 3
"""Hub messages refused in a row for ``signature``/``decrypt`` before the link is
broken (one forged message is not)."""
"""Seconds between two log lines about the same kind of rejected input."""
HOOK_TIMEOUT = 300.0


@dataclass(frozen=True, slots=True)
class AccessDecision:
    """What the device did with a card swipe or login."""

    granted: bool
    reason: str
    offline: bool
    member_id: str | None = None
    name: str | None = None
    session_id: str | None = None


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


class Agent:
    """One device: telemetry, buffer and replay, access, commands."""

    def __init__(
        self, config: AgentConfig, *, simulator: DeviceSimulator | None = None
    ) -> None:
        """Open the data dir (keys, state, mirror, buffer); nothing networked yet."""
        self.config = config
        data_dir = config.data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        data_dir.chmod(0o700)
        self.device_id = config.device.id
        self.topics = DeviceTopics(config.base_topic, self.device_id)
        self.key_pair: KeyPair = load_device_key(data_dir)
        self.state = AgentState(data_dir)
        self.mirror = CredentialMirror(data_dir / MIRROR_FILE)
        self.gateway_certificate = _gateway_certificate(config)
        self.buffer = RecordBuffer(
            data_dir / BUFFER_FILE, max_records=config.buffer.max_records
        )
        self.simulator = simulator or DeviceSimulator(config.device.kind)
        self.sources = {
            channel.key: build_source(channel.source, channel.key, self.simulator)
            for channel in config.channels
        }
        self.periods = {
            channel.key: float(
                self.state.overrides.get("periods", {}).get(channel.key, channel.period)
            )
            for channel in config.channels
        }
        self.outputs = {act.key: build_output(act) for act in config.actuators}
        self.interlock = next(
            (
                act.key
                for kind in (ActuatorKind.INTERLOCK, ActuatorKind.RELAY)
                for act in config.actuators
                if act.kind is kind
            ),
            None,
        )
        self.reader: SimulatedReader | LineReader | None = (
            build_reader(config.rfid) if config.rfid is not None else None
        )
        self.access_timeout = float(
            self.state.overrides.get("access_timeout", config.access.timeout)
        )
        self.keys: SessionKeys | None = None
        self.hub_key: str | None = config.hub_key or self.state.hub_key
        if self.hub_key is not None:
            self._set_hub_key(self.hub_key)
        # The replay window survives a restart: saved by stop(), and marked
        # interrupted while the agent runs (a crash then refuses what came before).
        self.guard = ReplayGuard()
        self.last_hub_contact: float | None = self.mirror.received
        """Unix time of the last verified message from the hub (offline mirror age)."""
        self.link_problem: str | None = None
        """Why the secure link to the hub is broken (``hub_key_changed``,
        ``signature``), None while it works: the log, status and device page say so."""
        self._refused_in_a_row = 0
        self._supervisor_swipes: dict[str, float] = {}
        """Unix time of each mirrored supervisor's last swipe at this device."""
        self.guard.restore(load_replay(data_dir))
        save_replay(data_dir, INTERRUPTED)
        self.counters: dict[str, int] = {}
        self.values: dict[str, int | float | bool] = {}
        self.session: Session | None = None
        self.door = config.access.mode is AccessMode.DOOR
        self.unlocked_until: float | None = None
        """Door mode: monotonic time the open lock closes again, None while locked."""
        self._relock_timer: asyncio.TimerHandle | None = None
        self.last_decision: AccessDecision | None = None
        self.gateway: Any = None
        self.on_ack: Callable[[list[int]], None] | None = None
        """Test/bench hook: called with the seqs of every verified ack."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._link: MqttLink | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._background_tasks: set[asyncio.Task[Any]] = set()
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._access_lock = asyncio.Lock()
        self._last_log: dict[str, float] = {}
        # Replay bookkeeping, valid for the current connection only.
        self._sent: dict[int, float] = {}
        self._in_flight: dict[int, tuple[set[int], float]] = {}
        self._batch_ids = itertools.count(1)
        self._cursor = 0
        self._replay_wakeup = asyncio.Event()
        self._stopped = asyncio.Event()

    # -- identity ---------------------------------------------------------------

    def _set_hub_key(self, hub_key: str) -> None:
        self.hub_key = hub_key
        self.keys = self.key_pair.derive(hub_key)

    @property
    def fingerprint(self) -> str | None:
        """The pairing fingerprint the admin compares with the hub's, once paired."""
        return self.keys.fingerprint if self.keys is not None else None

    @property
    def connected(self) -> bool:
        """True while the broker connection is up."""
        return self._link is not None and self._link.connected.is_set()

    def announcement(self) -> dict[str, Any]:
        """Build the retained announcement (ANNOUNCE_SCHEMA)."""
        device = self.config.device
        ui_url = device.ui_url
        announce: dict[str, Any] = {
            "v": PROTOCOL_VERSION,
            "id": self.device_id,
            "name": device.name,
            "kind": device.kind.value,
            "model": device.model,
            "sw_version": __version__,
            "key": self.key_pair.public_b64,
            "capabilities": {
                "channels": [
                    {**channel.announce(), "period": self.periods[channel.key]}
                    for channel in self.config.channels
                ],
                "actuators": [
                    {"key": a.key, "kind": a.kind.value}
                    | ({"name": a.name} if a.name else {})
                    for a in self.config.actuators
                ],
                "rfid": self.reader is not None,
                "ui": self.config.gateway is not None,
            },
        }
        for name, value in (
            ("hw_version", device.hw_version),
            ("serial", device.serial),
            ("ui_url", ui_url),
            ("area", device.area),
            (
                "gateway_fingerprint",
                self.gateway_certificate.fingerprint
                if self.gateway_certificate is not None
                else None,
            ),
        ):
            if value is not None:
                announce[name] = value
        ANNOUNCE_SCHEMA(announce)
        return announce

    def announce_message(self) -> dict[str, Any]:
        """Return the announcement as published: sealed once paired (PROTOCOL.md).

        The hub takes a paired device's channels, versions and UI address only from
        a sealed announcement; before pairing it is plain, for discovery.
        """
        announce = self.announcement()
        if self.keys is None:
            return announce
        return seal_announce(self.keys, self.topics.topic(Channel.ANNOUNCE), announce)

    # -- lifecycle --------------------------------------------------------------

    async def start(self) -> None:
        """Connect, start telemetry, replay, the reader and the gateway."""
        self._loop = loop = asyncio.get_running_loop()
        broker = self.config.broker
        tls = (
            TlsSettings(ca=broker.ca, cert=broker.cert, key=broker.key)
            if broker.tls
            else None
        )

        def from_thread(callback: Callable[..., None]) -> Callable[..., None]:
            def hand_over(*args: Any) -> None:
                with contextlib.suppress(RuntimeError):  # loop already closed
                    loop.call_soon_threadsafe(callback, *args)

            return hand_over

        self._link = MqttLink(
            self.topics,
            self.announce_message(),
            host=broker.host,
            port=broker.port,
            username=broker.username,
            password=broker.password,
            keepalive=broker.keepalive,
            on_message=from_thread(self._handle_message),
            on_connected=from_thread(self._handle_connected),
            on_disconnected=from_thread(self._handle_disconnected),
            extra_topics=(hub_topic(self.config.base_topic),),
            tls=tls,
        )
        if self.keys is None:
            _LOGGER.info(
                "Not paired yet: waiting for the hub's key on %s",
                hub_topic(self.config.base_topic),
            )
        else:
            _LOGGER.info("Paired with the hub, fingerprint %s", self.fingerprint)
        if self.state.blocked:
            _LOGGER.warning("This device is blocked by the hub: access is denied")
        self._link.start()
        self._tasks = [
            asyncio.create_task(self._replay_loop(), name="fluxilab-replay"),
        ]
        if self.config.channels:
            self._tasks.append(
                asyncio.create_task(self._telemetry_loop(), name="fluxilab-telemetry")
            )
        if self.reader is not None:
            self.reader.start(loop, self.swipe)
        await self._start_gateway()

    async def _start_gateway(self) -> None:
        gateway_config = self.config.gateway
        if gateway_config is None:
            return
        try:
            from .gateway import Gateway  # noqa: PLC0415  # optional part
        except ImportError as err:
            _LOGGER.warning("Device UI gateway unavailable: %s", err)
            return
        self.gateway = Gateway(
            device_id=self.device_id,
            keys_provider=lambda: self.keys,
            mirror=self.mirror,
            upstream=self.config.ui_upstream,
            status_provider=self.status,
            actions=self._gateway_action,
            host=gateway_config.host,
            port=gateway_config.port,
            cookie_secure=gateway_config.secure_cookies,
            ssl_context=(
                self.gateway_certificate.server_context()
                if self.gateway_certificate is not None
                else None
            ),
        )
        await self.gateway.start()

    async def stop(self) -> None:
        """Clean shutdown: end the session, publish offline, flush the buffer."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        if self.reader is not None:
            self.reader.stop()
        if self.session is not None:
            await self._end_session("shutdown", ask_hub=False)
        if self.unlocked_until is not None:
            self._relock()
        tasks = [*self._tasks, *self._background_tasks]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.gateway is not None:
            await self.gateway.stop()
        if self._link is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._link.stop)
        for output in self.outputs.values():
            output.close()
        self.buffer.close()
        save_replay(self.config.data_dir, self.guard.snapshot())
        _LOGGER.info("Stopped; %d records stay buffered for the hub", len(self.buffer))

    # -- incoming ---------------------------------------------------------------

    def _count(self, key: str) -> None:
        self.counters[key] = self.counters.get(key, 0) + 1

    def _reject(self, channel: str, reason: str, detail: str = "") -> None:
        """Count and log (rate limited, never the contents) a rejected message."""
        self._count("rejected")
        self._count(f"rejected_{channel.replace('/', '_')}_{reason}")
        now = time.monotonic()
        mark = f"{channel}:{reason}"
        if now - self._last_log.get(mark, -LOG_INTERVAL) < LOG_INTERVAL:
            return
        self._last_log[mark] = now
        _LOGGER.warning(
            "Rejected a %s message (%s)%s",
            channel,
            reason,
            f": {detail}" if detail else "",
        )

    def _handle_message(self, topic: str, payload: bytes) -> None:
        if topic == hub_topic(self.config.base_topic):
            self._handle_hub_announce(payload)
            return
        for channel in (
            Channel.ACK,
            Channel.ACCESS_REPLY,
            Channel.COMMAND,
            Channel.CREDENTIALS,
        ):
            if topic == self.topics.topic(channel):
                break
        else:
            return
        if not payload and channel is Channel.CREDENTIALS:
            # The hub clearing a set an older hub retained: refused, not logged.
            self._count("rejected")
            self._count("rejected_credentials_empty")
            return
        self._count(f"received_{channel.value.replace('/', '_')}")
        if oversized(channel, payload):
            # Dropped before anything parses it (PROTOCOL.md, "Message sizes").
            self._reject(channel.value, "oversized", f"{len(payload)} bytes")
            return
        if self.keys is None:
            self._reject(channel.value, "unpaired", "no hub key pinned yet")
            return
        try:
            envelope = json.loads(payload)
        except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
            self._reject(channel.value, "malformed", "not JSON")
            return
        try:
            body = open_envelope(
                self.keys,
                topic,
                envelope,
                guard=self.guard,
                decrypt=channel is Channel.CREDENTIALS,
            )
        except ProtocolSecurityError as err:
            self._reject(channel.value, err.reason)
            if err.reason in ("signature", "decrypt"):
                self._refused_in_a_row += 1
                if self._refused_in_a_row >= LINK_BROKEN_AFTER:
                    self._link_broken("signature")
            return
        self.last_hub_contact = time.time()
        self._refused_in_a_row = 0
        if self.link_problem is not None:
            self.link_problem = None
            _LOGGER.warning("The secure link to the hub works again")
        handlers: dict[Channel, tuple[vol.Schema, Callable[[dict[str, Any]], None]]] = {
            Channel.ACK: (ACK_SCHEMA, self._handle_ack),
            Channel.ACCESS_REPLY: (ACCESS_REPLY_SCHEMA, self._handle_reply),
            Channel.COMMAND: (COMMAND_SCHEMA, self._handle_command),
            Channel.CREDENTIALS: (CREDENTIALS_SCHEMA, self._handle_credentials),
        }
        schema, handler = handlers[channel]
        try:
            valid = schema(body)
        except vol.Invalid as err:
            self._reject(channel.value, "invalid", str(err))
            return
        try:
            handler(valid)
        except Exception:
            # A verified but unexpected message must not take the agent down.
            self._count("handler_errors")
            _LOGGER.exception("Could not handle a %s message", channel.value)

    def _handle_hub_announce(self, payload: bytes) -> None:
        if not payload:
            return  # a cleared retained message
        if len(payload) > HUB_ANNOUNCE_MAX_BYTES:
            self._reject("hub_announce", "oversized", f"{len(payload)} bytes")
            return
        try:
            key = HUB_ANNOUNCE_SCHEMA(json.loads(payload))["key"]
            parse_public_key(key)
        except (ValueError, RecursionError, vol.Invalid) as err:
            self._reject("hub_announce", "invalid", str(err))
            return
        if key == self.hub_key:
            return
        if self.config.hub_key is not None or self.state.hub_key is not None:
            self._reject(
                "hub_announce",
                "unpinned_key",
                "the hub announced a different key; run 'fluxilab-agent pair "
                "--reset' if the hub really was replaced",
            )
            self._link_broken("hub_key_changed")
            return
        self.state.hub_key = key
        self.state.save()
        self._set_hub_key(key)
        _LOGGER.warning(
            "Paired with the hub (trust on first use): fingerprint %s. Compare it "
            "with the one Home Assistant shows before adopting this device",
            self.fingerprint,
        )
        if self._link is not None:
            self._link.set_announce(self.announce_message())  # sealed from now on
        self._wake_replay(reset=True)

    def _link_broken(self, problem: str) -> None:
        """Say once, loudly, that the hub and this device no longer share keys."""
        if self.link_problem is not None:
            return
        self.link_problem = problem
        # A warning, not an error: a forged hub announcement looks the same.
        _LOGGER.warning(
            "The secure link to the hub is broken (%s): the hub's messages are "
            "refused here and this device's are refused by the hub, so access "
            "falls back to the offline mirror and records wait in the buffer. If "
            "Home Assistant was reinstalled or restored, run 'fluxilab-agent pair "
            "--reset' and restart the agent; Home Assistant shows the fingerprint "
            "to expect under Settings > Repairs",
            problem,
        )

    def _handle_ack(self, body: dict[str, Any]) -> None:
        if body.get("stream", self.buffer.stream) != self.buffer.stream:
            # An ack for the records of an earlier (wiped) buffer: its sequence
            # numbers mean other records here.
            self._count("foreign_stream_acks")
            return
        seqs: list[int] = body["seqs"]
        self.buffer.delete(seqs)
        acked = set(seqs)
        for seq in acked:
            self._sent.pop(seq, None)
        for batch_id, (waiting, _sent_at) in list(self._in_flight.items()):
            waiting.difference_update(acked)
            if not waiting:
                del self._in_flight[batch_id]
                self._replay_wakeup.set()
        self._count("acked_records")
        if self.on_ack is not None:
            self.on_ack(seqs)

    def _handle_reply(self, body: dict[str, Any]) -> None:
        future = self._pending.get(body["id"])
        if future is None or future.done():
            self._count("late_replies")
            return
        future.set_result(body)

    def _handle_credentials(self, body: dict[str, Any]) -> None:
        try:
            installed = self.mirror.replace(body)
        except OSError as err:
            _LOGGER.error("Could not store the credential mirror: %s", err)
            return
        if not installed:
            # Verified (genuine, fresh) but not newer than ours: the hub's counter
            # went back (restored backup). Say so, or the hub never learns that
            # every set it sends is ignored.
            self._count("credentials_behind")
            self._publish(
                Channel.COMMAND_RESULT,
                COMMAND_RESULT_SCHEMA(
                    {
                        "id": f"credentials-{body['generation']}",
                        "ok": False,
                        "error": f"credential generation {body['generation']} is "
                        f"not newer than the held {self.mirror.generation}",
                        "generation": self.mirror.generation,
                    }
                ),
            )

    def _handle_connected(self) -> None:
        self._count("connects")
        # Everything still unacked is replayed from the oldest on every connect.
        self._wake_replay(reset=True)

    def _handle_disconnected(self) -> None:
        self._wake_replay(reset=True)

    # -- telemetry --------------------------------------------------------------

    async def _read_channel(self, key: str) -> None:
        channel = next(c for c in self.config.channels if c.key == key)
        try:
            raw = await self.sources[key].read()
            self.values[key] = coerce(raw, channel.type)
        except SourceError as err:
            self.values.pop(key, None)
            self._count("source_errors")
            now = time.monotonic()
            if now - self._last_log.get(f"source:{key}", -LOG_INTERVAL) >= LOG_INTERVAL:
                self._last_log[f"source:{key}"] = now
                _LOGGER.warning("Channel %s: %s", key, err)

    async def _telemetry_loop(self) -> None:
        due = dict.fromkeys(self.periods, time.monotonic())
        while True:
            now = time.monotonic()
            ready = [key for key, when in due.items() if when <= now]
            await asyncio.gather(*(self._read_channel(key) for key in ready))
            for key in ready:
                due[key] = max(due[key] + self.periods[key], now)
            if ready and self.values:
                self.record_telemetry(dict(self.values))
            await asyncio.sleep(max(0.0, min(due.values()) - time.monotonic()))

    def record_telemetry(
        self, values: dict[str, Any], ts: float | None = None
    ) -> Record:
        """Buffer one tick, then send it live when connected and paired."""
        record = self.buffer.append(RecordKind.TELEMETRY, values, ts)
        self._count("telemetry_records")
        if self.keys is not None and self.connected:
            body = {
                "stream": self.buffer.stream,
                "seq": record.seq,
                "ts": record.ts,
                "values": record.data,
            }
            if self._publish(Channel.TELEMETRY, body):
                self._sent[record.seq] = time.monotonic()
        return record

    def record_access(self, event: dict[str, Any]) -> Record:
        """Buffer an access event the hub has not seen; the backlog delivers it."""
        event = ACCESS_EVENT_SCHEMA(event)
        record = self.buffer.append(RecordKind.ACCESS, event)
        self._count("access_records")
        self._replay_wakeup.set()
        return record

    def _publish(self, channel: Channel, body: dict[str, Any]) -> bool:
        """Seal and publish; False if not paired or not connected."""
        if self.keys is None or self._link is None:
            return False
        topic = self.topics.topic(channel)
        envelope = seal(self.keys, topic, body)
        return self._link.publish(topic, json.dumps(envelope, separators=(",", ":")))

    # -- backlog replay ---------------------------------------------------------

    def _wake_replay(self, *, reset: bool = False) -> None:
        if reset:
            self._sent.clear()
            self._in_flight.clear()
            self._cursor = 0
        self._replay_wakeup.set()

    async def _replay_loop(self) -> None:
        interval = self.config.buffer.replay_interval
        loop = asyncio.get_running_loop()
        while True:
            # A timer rather than wait_for: on Python 3.11 wait_for can swallow a
            # cancellation that coincides with the event being set.
            timer = loop.call_later(interval, self._replay_wakeup.set)
            try:
                await self._replay_wakeup.wait()
            finally:
                timer.cancel()
            self._replay_wakeup.clear()
            self.replay_step()

    def _next_batch(self, now: float) -> list[Record]:
        """Collect the next unacked records not sent recently, oldest first."""
        size = self.config.buffer.batch_size
        resend_after = self.config.buffer.resend_after
        batch: list[Record] = []
        while len(batch) < size:
            chunk = self.buffer.read(self._cursor, size)
            if not chunk:
                self._cursor = 0  # end of this pass; the next starts over
                break
            for record in chunk:
                self._cursor = record.seq
                if now - self._sent.get(record.seq, -resend_after) >= resend_after:
                    batch.append(record)
                    if len(batch) == size:
                        break
        return batch

    def replay_step(self) -> int:
        """Send backlog batches while the in-flight window has room."""
        if self.keys is None or not self.connected or not len(self.buffer):
            return 0
        now = time.monotonic()
        resend_after = self.config.buffer.resend_after
        for batch_id, (_waiting, sent_at) in list(self._in_flight.items()):
            if now - sent_at >= resend_after:
                del self._in_flight[batch_id]  # its leftovers go in a later pass
        sent = 0
        while len(self._in_flight) < self.config.buffer.max_in_flight:
            batch = self._next_batch(now)
            if not batch:
                break
            body = {
                "stream": self.buffer.stream,
                "records": [record.wire() for record in batch],
            }
            if not self._publish(Channel.BACKLOG, body):
                self._cursor = batch[0].seq - 1
                break
            seqs = {record.seq for record in batch}
            self._in_flight[next(self._batch_ids)] = (seqs, now)
            for seq in seqs:
                self._sent[seq] = now
            sent += len(batch)
        if sent:
            self._count("replayed_batches")
        return sent

    # -- access -----------------------------------------------------------------

    def _background(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run ``coro`` as a task the agent keeps a reference to until it ends."""
        task = asyncio.get_running_loop().create_task(coro)
        self._background_tasks.add(task)
        task.add_done_callback(self._background_tasks.discard)

    def swipe(self, card: str) -> None:
        """Handle a presented card (reader callback, in the loop)."""
        self._background(self.handle_card(card))

    async def _ask_hub(
        self, action: AccessAction, *, request_id: str | None = None, **fields: Any
    ) -> dict[str, Any] | None:
        """Send an access request; the signed reply, or None (offline, timeout)."""
        if self.keys is None or not self.connected:
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
            if not self._publish(Channel.ACCESS_REQUEST, body):
                return None
            async with asyncio.timeout(self.access_timeout):
                return await future
        except TimeoutError:
            self._count("access_timeouts")
            _LOGGER.warning("The hub did not answer within %.1f s", self.access_timeout)
            return None
        finally:
            self._pending.pop(request_id, None)

    async def handle_card(self, card: str) -> AccessDecision:
        """Start a session, or end the one running; at a door, check the card."""
        self._note_supervisor(self.mirror.by_card(card))
        async with self._access_lock:
            if self.door:
                return await self._check(card=card)
            if self.session is not None:
                return await self._end_session("card")
            return await self._start_session(card=card)

    async def login(self, login: str, secret: str) -> AccessDecision:
        """Local PIN/password login at the device (checked against the mirror)."""
        member = await asyncio.get_running_loop().run_in_executor(
            None, self.mirror.verify_login, login, secret
        )
        if member is None:
            self._count("failed_logins")
            _LOGGER.warning("Failed local login")
            return AccessDecision(False, "no_credential", offline=True)
        if member.pin_must_change:
            self._count("initial_pin_logins")
            _LOGGER.warning("Local login refused: the PIN is an initial one")
            return AccessDecision(
                False, "pin_change_required", offline=True, member_id=member.id
            )
        self._note_supervisor(member)
        async with self._access_lock:
            if self.door:
                return await self._check(member=member)
            if self.session is not None:
                return await self._end_session("login")
            return await self._start_session(member=member)

    def _note_supervisor(self, member: MirrorMember | None) -> None:
        """Remember a supervisor's swipe here: offline, it supervises others."""
        if member is not None and member.supervisor:
            self._supervisor_swipes[member.id] = time.time()

    def _offline_reason(self, member: MirrorMember | None) -> str:
        """Decide from the mirror (offline_decision), logging why it refuses."""
        now = time.time()
        contacts = [t for t in (self.last_hub_contact, self.mirror.received) if t]
        reason = offline_decision(
            member,
            self.mirror.rules,
            OfflineContext(
                now=now,
                last_contact=max(contacts) if contacts else None,
                values=dict(self.values),
                supervisor_swipes=dict(self._supervisor_swipes),
            ),
        )
        if reason == "mirror_stale":
            rules = self.mirror.rules
            self._count("offline_stale")
            self._log_once(
                "offline:stale",
                "Offline grants refused: no contact with the hub for %s (the "
                "credential mirror may be used for %.1f h at most)",
                f"{(now - max(contacts)) / 3600:.1f} h" if contacts else "ever",
                (rules.max_age if rules is not None else 0) / 3600,
            )
        elif reason == "offline_denied":
            self._count("offline_denied")
            self._log_once(
                "offline:denied",
                "Offline grants refused: %s",
                "the machine type's offline policy is deny"
                if self.mirror.rules is not None
                else "the hub sent no offline policy",
            )
        return reason

    def _log_once(self, mark: str, message: str, *args: Any) -> None:
        """Log a warning at most once per LOG_INTERVAL for the same ``mark``."""
        now = time.monotonic()
        if now - self._last_log.get(mark, -LOG_INTERVAL) < LOG_INTERVAL:
            return
        self._last_log[mark] = now
        _LOGGER.warning(message, *args)

    async def _start_session(
        self, *, card: str | None = None, member: MirrorMember | None = None
    ) -> AccessDecision:
        member_id = member.id if member is not None else None
        if self.state.blocked:
            decision = AccessDecision(
                False, "blocked", offline=True, member_id=member_id
            )
            self.record_access(
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
        )
        if reply is not None:
            decision = AccessDecision(
                reply["granted"],
                reply["reason"],
                offline=False,
                member_id=reply.get("member_id"),
                name=reply.get("name"),
                session_id=reply.get("session_id") or uuid.uuid4().hex[:16],
            )
            if decision.granted:
                self._open_session(
                    decision, card, reply.get("timeout"), reply.get("grace")
                )
            return self._decided(decision)
        known = member or (self.mirror.by_card(card) if card is not None else None)
        reason = self._offline_reason(known)
        decision = AccessDecision(
            reason == "granted",
            reason,
            offline=True,
            member_id=known.id if known is not None else None,
            name=known.name if known is not None else None,
            session_id=uuid.uuid4().hex[:16] if reason == "granted" else None,
        )
        self.record_access(
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

    async def _check(
        self, *, card: str | None = None, member: MirrorMember | None = None
    ) -> AccessDecision:
        """Door mode: ask the hub to check the member; granted, open the lock.

        The hub decides like for a session start and, at the lab entrance, checks
        the member in or out. Offline the mirror decides, and the swipe reaches the
        hub later as a buffered ``check`` (audited; it does not toggle a check-in).
        """
        member_id = member.id if member is not None else None
        if self.state.blocked:
            self.record_access(
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
            AccessAction.CHECK, request_id=request_id, card=card, member_id=member_id
        )
        if reply is not None:
            decision = AccessDecision(
                reply["granted"],
                reply["reason"],
                offline=False,
                member_id=reply.get("member_id"),
                name=reply.get("name"),
            )
        else:
            known = member or (self.mirror.by_card(card) if card is not None else None)
            reason = self._offline_reason(known)
            decision = AccessDecision(
                reason == "granted",
                reason,
                offline=True,
                member_id=known.id if known is not None else None,
                name=known.name if known is not None else None,
            )
            self.record_access(
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
        return self._decided(decision)

    def _unlock(self) -> None:
        """Open the door's lock for ``unlock_seconds`` (a swipe meanwhile extends it)."""
        if self.state.blocked:  # blocked while the hub was deciding
            return
        seconds = self.config.access.unlock_seconds
        if self._relock_timer is not None:
            self._relock_timer.cancel()
        self._relock_timer = asyncio.get_running_loop().call_later(
            seconds, self._relock
        )
        self.unlocked_until = time.monotonic() + seconds
        self._set_interlock(True)

    def _relock(self) -> None:
        """Close the door's lock again."""
        if self._relock_timer is not None:
            self._relock_timer.cancel()
            self._relock_timer = None
        self.unlocked_until = None
        self._set_interlock(False)

    def _decided(self, decision: AccessDecision) -> AccessDecision:
        self.last_decision = decision
        self._count("granted" if decision.granted else "denied")
        _LOGGER.info(
            "Access %s (%s%s)%s",
            "granted" if decision.granted else "denied",
            decision.reason,
            ", offline" if decision.offline else "",
            f" to {decision.member_id}" if decision.member_id else "",
        )
        return decision

    def _set_interlock(self, on: bool) -> None:
        if self.interlock is None:
            return
        try:
            self.outputs[self.interlock].set(on)
        except OutputError as err:
            _LOGGER.error("Could not switch %s: %s", self.interlock, err)
        if isinstance(self.outputs[self.interlock], SimulatedOutput):
            self.simulator.relay_on = on

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
                async with self._access_lock:
                    if self.session is session:
                        session.task = None  # do not cancel ourselves
                        await self._end_session("timeout")
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
        self.record_access({"action": action.value, "offline": True} | fields)

    async def _end_session(self, why: str, *, ask_hub: bool = True) -> AccessDecision:
        session = self.session
        assert session is not None  # noqa: S101  # callers check
        self.session = None
        if session.task is not None:
            session.task.cancel()
        self._set_interlock(False)
        if ask_hub:
            await self._session_event(session, AccessAction.SESSION_STOP)
        else:
            self.record_access(
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
        self.record_access(
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

    # -- commands ---------------------------------------------------------------

    def _handle_command(self, body: dict[str, Any]) -> None:
        self._background(self._answer_command(body))

    async def _answer_command(self, body: dict[str, Any]) -> None:
        command = CommandName(body["command"])
        _LOGGER.info("Command from the hub: %s", command.value)
        try:
            await self.execute(command, body["args"])
        except CommandError as err:
            result = {"id": body["id"], "ok": False, "error": str(err)[:255]}
        except Exception:
            _LOGGER.exception("Command %s failed", command.value)
            result = {"id": body["id"], "ok": False, "error": "internal error"}
        else:
            result = {"id": body["id"], "ok": True}
        # The hub learns which credential generation we hold (a hub restored from
        # a backup counts from an older one and would be ignored).
        result["generation"] = self.mirror.generation
        self._count(f"command_{command.value}")
        self._publish(Channel.COMMAND_RESULT, COMMAND_RESULT_SCHEMA(result))
        if command is CommandName.REVOKE and result["ok"]:
            self.revoke()

    async def execute(self, command: CommandName, args: dict[str, Any]) -> None:
        """Run a command (from the hub or the gateway); CommandError if it failed."""
        if command in (CommandName.BLOCK, CommandName.UNBLOCK):
            self.state.blocked = command is CommandName.BLOCK
            self.state.save()
            _LOGGER.warning(
                "Device %s by the hub", "blocked" if self.state.blocked else "unblocked"
            )
            if self.state.blocked and self.session is not None:
                async with self._access_lock:
                    if self.session is not None:
                        await self._end_session("blocked")
            if self.state.blocked and self.unlocked_until is not None:
                self._relock()
        elif command is CommandName.RELAY:
            self._relay(args)
        elif command is CommandName.SYNC:
            if self._link is not None:
                self._link.set_announce(self.announce_message())
            self._wake_replay(reset=True)
        elif command is CommandName.CONFIG:
            self._configure(args)
        elif command is CommandName.REBOOT:
            await self._hook("reboot", self.config.hooks.reboot, {})
        elif command is CommandName.UPDATE:
            await self._hook("update", self.config.hooks.update, args)
        # REVOKE: acted on after the result is sent (it needs the keys to sign it).

    def _relay(self, args: dict[str, Any]) -> None:
        on = args.get("on")
        key = args.get("key", self.interlock)
        if not isinstance(on, bool):
            raise CommandError('relay needs {"on": true|false}')
        if key not in self.outputs:
            raise CommandError(f"no relay {key!r} on this device")
        if key == self.interlock and on and self.state.blocked:
            raise CommandError("the device is blocked")
        if key == self.interlock and self._relock_timer is not None:
            # Door mode: switched by hand, the lock stays as set (no pulse ends it).
            self._relock_timer.cancel()
            self._relock_timer = None
            self.unlocked_until = None
        try:
            self.outputs[key].set(on)
        except OutputError as err:
            raise CommandError(str(err)) from err

    def _configure(self, args: dict[str, Any]) -> None:
        periods = args.get("periods", {})
        timeout = args.get("access_timeout")
        unknown = set(args) - {"periods", "access_timeout"}
        if unknown:
            raise CommandError(f"unknown settings: {', '.join(sorted(unknown))}")
        if not isinstance(periods, dict) or not all(
            key in self.periods
            and isinstance(value, (int, float))
            and not isinstance(value, bool)
            and 0.05 <= value <= 86400
            for key, value in periods.items()
        ):
            raise CommandError("periods must map known channels to 0.05..86400 s")
        if timeout is not None and (
            isinstance(timeout, bool)
            or not isinstance(timeout, (int, float))
            or not 0.1 <= timeout <= 60
        ):
            raise CommandError("access_timeout must be 0.1..60 s")
        self.periods.update({key: float(value) for key, value in periods.items()})
        overrides = self.state.overrides
        overrides.setdefault("periods", {}).update(periods)
        if timeout is not None:
            self.access_timeout = overrides["access_timeout"] = float(timeout)
        self.state.save()
        if self._link is not None:
            self._link.set_announce(self.announce_message())

    async def _hook(
        self, name: str, command: tuple[str, ...], args: dict[str, Any]
    ) -> None:
        if not command:
            raise CommandError(f"no {name} hook configured")
        env_args = {
            f"FLUXILAB_{key.upper()}": str(value)
            for key, value in args.items()
            if isinstance(key, str)
            and key.isidentifier()
            and isinstance(value, (str, int, float))
        }
        try:
            process = await asyncio.create_subprocess_exec(
                *command,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
                env={**os.environ, **env_args},
            )
            code = await asyncio.wait_for(process.wait(), HOOK_TIMEOUT)
        except (OSError, TimeoutError) as err:
            raise CommandError(f"{name} hook failed: {err}") from err
        if code != 0:
            raise CommandError(f"{name} hook exited with {code}")

    def revoke(self) -> None:
        """Forget the hub key and the credential mirror (the hub revoked us)."""
        _LOGGER.warning("Revoked by the hub: the pairing and credentials are forgotten")
        self.state.hub_key = None
        self.state.save()
        self.mirror.clear()
        self.keys = None
        if self.gateway is not None:
            self.gateway.end_sessions("the device was revoked")
        self.hub_key = self.config.hub_key
        if self.hub_key is not None:
            self._set_hub_key(self.hub_key)

    async def _gateway_action(self, name: str, args: dict[str, Any]) -> None:
        try:
            command = CommandName(name)
        except ValueError as err:
            raise CommandError(f"unknown action {name!r}") from err
        if command not in (
            CommandName.RELAY,
            CommandName.SYNC,
            CommandName.BLOCK,
            CommandName.UNBLOCK,
        ):
            raise CommandError(f"{name} is not a local action")
        await self.execute(command, args)

    def cut(self, seconds: float) -> None:
        """Drop the broker connection for ``seconds`` (simulated network cut)."""
        if self._link is None:
            return
        link = self._link
        link.sever()
        _LOGGER.warning("Broker connection cut for %.0f s (simulation)", seconds)
        asyncio.get_running_loop().call_later(seconds, link.resume)

    # -- status -----------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """Live status for the gateway page, the control socket and tests."""
        units = {c.key: (c.name, c.unit) for c in self.config.channels}
        session = self.session
        return {
            "name": self.config.device.name,
            "kind": self.config.device.kind.value,
            "telemetry": [
                {
                    "key": key,
                    "name": units[key][0],
                    "value": value,
                    "unit": units[key][1],
                }
                for key, value in self.values.items()
                if key in units
            ],
            "actions": ["relay", "sync", "block", "unblock"]
            if self.interlock is not None
            else ["sync", "block", "unblock"],
            "online": self.connected,
            "paired": self.keys is not None,
            "link": (
                "unpaired"
                if self.keys is None
                else "broken"
                if self.link_problem
                else "ok"
            ),
            "link_problem": self.link_problem,
            "fingerprint": self.fingerprint,
            "blocked": self.state.blocked,
            "relay": self.outputs[self.interlock].state if self.interlock else None,
            "user": session.name or session.member_id if session else None,
            "session_duration": session.duration() if session else None,
            "buffered": len(self.buffer),
            "credentials": len(self.mirror.members),
            "credential_generation": self.mirror.generation,
            "mode": self.config.access.mode.value,
            "unlocked": (
                self.outputs[self.interlock].state
                if self.door and self.interlock
                else None
            ),
        }


class CommandError(Exception):
    """A command could not be carried out; the message goes back to the hub."""


def _gateway_certificate(config: AgentConfig) -> GatewayCertificate | None:
    """Load (or create) the gateway's certificate; None when it speaks plain HTTP."""
    gateway = config.gateway
    if gateway is None or not gateway.tls:
        return None
    if gateway.cert is not None and gateway.key is not None:
        certificate = load_certificate(gateway.cert, gateway.key)
    else:
        hosts = [gateway.host]
        if config.device.ui_url and (
            ui_host := urlsplit(config.device.ui_url).hostname
        ):
            hosts.append(ui_host)
        certificate = self_signed_certificate(
            config.data_dir, device_id=config.device.id, hosts=hosts
        )
    _LOGGER.info(
        "Device UI gateway certificate (%s), SHA-256 fingerprint %s",
        "self-signed" if certificate.self_signed else str(certificate.cert),
        certificate.fingerprint,
    )
    return certificate


async def run_agent(agent: Agent, stop: asyncio.Event) -> None:
    """Run ``agent`` until ``stop`` is set, then shut it down cleanly."""
    await agent.start()
    try:
        await stop.wait()
    finally:
        await agent.stop()


def decode_backlog(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Validate a backlog body (for tools and tests that act as the hub)."""
    records: list[dict[str, Any]] = BACKLOG_SCHEMA(payload)["records"]
    return records
