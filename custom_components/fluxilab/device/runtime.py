"""Runtime state of one adopted device, fed by its MQTT subtree.

Every handler here is a ``@callback``: it parses, verifies, validates, updates state
and returns. Work that must wait (storing a backlog, answering an access request,
publishing acks) runs as a task of the config entry, so unloading cancels it.
Malformed or unverifiable input is counted and logged (at most once a minute per
kind), never raised.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import datetime
import json
import time
from typing import Any, Protocol, TypedDict
import uuid

from homeassistant.components import mqtt
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import EVENT_HOMEASSISTANT_FINAL_WRITE, Platform
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.event import async_call_later, async_track_point_in_time
from homeassistant.helpers.storage import Store
from homeassistant.helpers.typing import UNDEFINED
from homeassistant.util import dt as dt_util
from homeassistant.util.json import json_loads
import voluptuous as vol

from custom_components.fluxilab.backfill import (
    ChannelStatistic,
    DeviceBacklog,
    hour_start,
)
from custom_components.fluxilab.const import (
    ATTR_FLUXILAB_DEVICE,
    ATTR_TYPE,
    CONF_ANNOUNCED_UI_URL,
    CONF_BASE_TOPIC,
    CONF_CHANNELS,
    CONF_DEVICE_ID,
    CONF_DEVICE_KEY,
    CONF_FABOMATIC_MACHINE,
    CONF_MACHINE_TYPE,
    CONF_PENDING_KEY,
    CONF_STALE_CHANNEL_HOURS,
    CONF_UI_URL,
    DEFAULT_STALE_CHANNEL_HOURS,
    DOMAIN,
    EVENT_DEVICE,
    FIXED_ENTITY_KEYS,
    LIVE_ACK_INTERVAL,
    LOGGER,
    MANUFACTURER,
)
from custom_components.fluxilab.device.models import (
    AnnouncedChannel,
    Announcement,
    BacklogBatch,
    BacklogRecord,
    CommandResult,
    TelemetryMessage,
)
from custom_components.fluxilab.device.port import (
    SIGNAL_ACCESS_EVENT,
    SIGNAL_USAGE,
    UsageState,
)
from custom_components.fluxilab.hub import async_announce_hub
from custom_components.fluxilab.journal import JournalError, async_recorder_barrier
from custom_components.fluxilab.link import LinkHealth, LinkState
from custom_components.fluxilab.protocol.access import (
    AccessRecord,
    AccessRequest,
    Decision,
)
from custom_components.fluxilab.protocol.backlog import AckQueue
from custom_components.fluxilab.protocol.schemas import (
    ACCESS_REQUEST_SCHEMA,
    ACK_SCHEMA,
    ANNOUNCE_SCHEMA,
    COMMAND_RESULT_SCHEMA,
    TELEMETRY_SCHEMA,
    ActuatorKind,
    CommandArgs,
    CommandName,
    ValueType,
    oversized,
    valid_ui_url,
    validate_backlog,
)
from custom_components.fluxilab.protocol.security import (
    INTERRUPTED,
    SEAL_FIELD,
    GuardWindow,
    KeyPair,
    ProtocolSecurityError,
    ReplayGuard,
    SessionKeys,
    open_announce,
    open_payload,
    parse_public_key,
    seal_payload,
)
from custom_components.fluxilab.protocol.topics import (
    STATUS_OFFLINE,
    STATUS_ONLINE,
    Channel,
    DeviceTopics,
)
from custom_components.fluxilab.repairs import (
    async_create_key_changed_issue,
    async_create_link_broken_issue,
    async_create_ui_url_issue,
    async_delete_link_broken_issue,
    async_delete_ui_url_issue,
)

type FluxiLabConfigEntry = ConfigEntry[FluxiLabDevice]

LOG_INTERVAL = 60.0
"""Seconds between two log lines about the same kind of bad input from one device."""
CHANNEL_PLATFORMS = (Platform.SENSOR, Platform.BINARY_SENSOR)
REPLAY_STORAGE_VERSION = 1
REPLAY_IMPORT_INTERVAL = 2.0
"""Seconds between statistics imports while backlog batches keep coming."""


_DIGIT_MARKS = bytes(0x31 if 0x30 <= byte <= 0x39 else 0x30 for byte in range(256))
"""Every digit to ``1``, every other byte to ``0`` (bytes.translate, in C)."""
_LONG_RUN = b"1" * 20
"""20 digits in a row: may spell an int of 2**64 or more (orjson reads it as a float)."""


def _loads_body(raw: bytes) -> Any:
    """Parse a verified body as the standard library would, with orjson where it can.

    orjson refuses what the standard library reads beyond JSON (NaN, infinities,
    lone surrogates: open_payload then opens the message the general way) and reads
    an int of 2**64 or more as a float: a body with 20 digits in a row anywhere goes
    to the standard library (the check is a third of orjson's time).
    """
    if _LONG_RUN in raw.translate(_DIGIT_MARKS):
        return json.loads(raw)
    return json_loads(raw)


def _telemetry_from_wire(body: Any) -> TelemetryMessage:
    """Validate a telemetry body and read it (its values are not copied)."""
    return TelemetryMessage.from_wire(TELEMETRY_SCHEMA(body))


def _command_result_from_wire(body: Any) -> CommandResult:
    """Validate a command result and read it."""
    return CommandResult.from_wire(COMMAND_RESULT_SCHEMA(body))


def _request_from_wire(body: Any) -> AccessRequest:
    """Validate an access request and read it (the one parse of a card check)."""
    return AccessRequest.from_wire(ACCESS_REQUEST_SCHEMA(body))


def _backlog_from_wire(body: Any) -> BacklogBatch:
    """Validate a batch ``_open`` has just parsed: nothing else holds it, no copies."""
    return BacklogBatch.from_wire(validate_backlog(body, owned=True))


class StoredReplay(TypedDict):
    """What a device's replay Store holds (written when it stops, marked meanwhile)."""

    guard: GuardWindow
    """The replay window, or ``INTERRUPTED`` while the device runs."""
    announce_ts: float
    """When the last sealed announcement taken was sealed (device clock)."""


class AccessPort(Protocol):
    """The access engine as a device sees it (access/engine.py implements it).

    The device layer sits below the engine and never imports it: ``__init__.py``
    hands each device the engine as this port when it wires the entry (as tasmota
    hands its MQTT functions to hatasmota). Decisions, sessions and usage stay the
    engine's; the device forwards what it heard and sends back what it was told.
    Typed both ways: the device reads a message once at its edge into the
    protocol's models (protocol/access.py) and writes the decision's reply body.
    """

    async def async_device_added(self, device: FluxiLabDevice) -> None:
        """Follow a device that started: send its credential set, show its usage."""

    async def async_device_removed(self, device: FluxiLabDevice) -> None:
        """Stop following a device that stopped (its history stays)."""

    async def async_decide(
        self, device: FluxiLabDevice, request: AccessRequest
    ) -> Decision:
        """Decide an access request."""

    async def async_handle_record(
        self, device: FluxiLabDevice, event: AccessRecord, ts: float, buffered: bool
    ) -> None:
        """Book an access record the device decided alone (from its backlog)."""

    async def async_device_generation(
        self, device: FluxiLabDevice, generation: int
    ) -> None:
        """Note the credential generation a device reported it holds."""


class FluxiLabDevice:
    """One lab device as Home Assistant sees it."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: FluxiLabConfigEntry,
        hub_keys: KeyPair,
        access: AccessPort | None,
    ) -> None:
        """Prepare the runtime object; subscriptions start in async_start.

        ``access`` is the engine as this device sees it (None: not set up, so
        requests go unanswered and access records stay on the device).
        """
        self.hass = hass
        self.entry = entry
        self.access = access
        self.device_id: str = entry.data[CONF_DEVICE_ID]
        self.topics = DeviceTopics(entry.data[CONF_BASE_TOPIC], self.device_id)
        self.online = False
        self.announce: Announcement | None = None
        self.channels: tuple[AnnouncedChannel, ...] = ()
        """The channels of the last announcement taken."""
        self.values: dict[str, int | float | bool] = {}
        self.counters: dict[str, int] = {}
        self.in_use = False
        self.member_name: str | None = None
        self.usage_hours = 0.0
        self.hours_to_maintenance: float | None = None
        self.maintenance_due = False
        self.last_command_result: CommandResult | None = None
        self.relay_on: bool | None = None
        """The relay's state as far as the hub knows: what the device's last command
        result reported (or, from an agent that does not report it, what it confirmed
        switching it to), or what a session starting or ending switched it to; None
        until either happens."""
        self._relay_commands: dict[str, bool] = {}
        """Relay commands sent and not yet answered: command id -> requested state."""
        self.link = LinkHealth()
        self._hub_keys = hub_keys
        self.keys: SessionKeys | None = None
        if (device_key := entry.data.get(CONF_DEVICE_KEY)) is not None:
            self.keys = hub_keys.derive(device_key)
        self._backlog = DeviceBacklog(hass, self.device_id)
        self._backlog_lock = asyncio.Lock()
        self._guard = ReplayGuard()
        # The replay window and the last sealed announcement survive a restart:
        # written when the device stops, an "interrupted" marker while it runs.
        self._replay_store: Store[StoredReplay] = Store(
            hass,
            REPLAY_STORAGE_VERSION,
            f"{DOMAIN}.{self.device_id}.replay",
            private=True,
        )
        self._announce_ts = 0.0
        """When the last sealed announcement taken was sealed (device clock)."""
        self._unsub_final_write: CALLBACK_TYPE | None = None
        self._listeners: list[Callable[[], None]] = []
        self._channel_listeners: list[Callable[[], None]] = []
        # edge: the bus event data, as fired
        self._event_listeners: list[Callable[[str, dict[str, Any]], None]] = []
        self._telemetry_listeners: list[
            Callable[[Mapping[str, int | float | bool]], None]
        ] = []
        self._value_listeners: dict[str, list[Callable[[], None]]] = {}
        self._unsubscribe: list[CALLBACK_TYPE] = []
        self._pending_acks = AckQueue()
        """Live telemetry stored, acknowledged together every LIVE_ACK_INTERVAL."""
        self._ack_timer: CALLBACK_TYPE | None = None
        self._import_timer: CALLBACK_TYPE | None = None
        self._import_due = 0.0
        self._last_import = 0.0
        """When the last statistics import started (monotonic)."""
        self._batches_waiting = 0
        """Backlog batches received and not yet stored."""
        self._cleanup_timer: CALLBACK_TYPE | None = None
        self._gone_since: dict[str, float] = {}
        self._status_known = False
        self._last_log: dict[str, float] = {}
        self._enabled_keys: tuple[
            tuple[AnnouncedChannel, ...] | None, Any, frozenset[str]
        ] = (None, None, frozenset())
        """The channels and enabled option the enabled keys were built of, and them."""

    # Public state -------------------------------------------------------------

    @property
    def machine_type_id(self) -> str | None:
        """Machine type the admin assigned (options flow)."""
        machine_type: str | None = self.entry.options.get(CONF_MACHINE_TYPE)
        return machine_type

    @property
    def ui_url(self) -> str | None:
        """The device UI's address the admin pinned (adoption, repair or options).

        Never what the device announces now: a changed address takes effect only
        once an admin accepts it (repairs.py).
        """
        url = self.entry.options.get(CONF_UI_URL)
        return url if valid_ui_url(url) else None

    @property
    def blocked(self) -> bool:
        """Whether new sessions are refused on this device."""
        return self._backlog.blocked

    @property
    def relay_key(self) -> str | None:
        """The output the device's relay command switches (None: it has none).

        The agent's own choice: its interlock, else its first relay.
        """
        if self.announce is None:
            return None
        actuators = self.announce.actuators
        for kind in (ActuatorKind.INTERLOCK, ActuatorKind.RELAY):
            for actuator in actuators:
                if actuator.kind == kind:
                    return actuator.key
        return None

    @property
    def enabled_channels(self) -> list[AnnouncedChannel]:
        """Announced channels the admin kept enabled, minus reserved keys."""
        enabled = self.entry.options.get(CONF_CHANNELS)
        return [
            channel
            for channel in self.channels
            if channel.key not in FIXED_ENTITY_KEYS
            and (enabled is None or channel.key in enabled)
        ]

    def channel_available(self, key: str) -> bool:
        """Return True while ``key`` is an enabled, announced channel."""
        if not self.online:
            return False
        # Asked by every channel entity on every message: the key set is rebuilt
        # only when the announced channels or the enabled option change.
        channels, enabled = self.channels, self.entry.options.get(CONF_CHANNELS)
        cached_channels, cached_enabled, keys = self._enabled_keys
        if channels is not cached_channels or enabled is not cached_enabled:
            keys = frozenset(channel.key for channel in self.enabled_channels)
            self._enabled_keys = (channels, enabled, keys)
        return key in keys

    # Lifecycle ----------------------------------------------------------------

    async def async_start(self) -> None:
        """Load stored state, announce the hub and subscribe to the device."""
        await self._backlog.async_load()
        await self._async_load_replay()
        await async_announce_hub(self.hass, self.topics.base)
        handlers: dict[Channel, Callable[[mqtt.ReceiveMessage], None]] = {
            Channel.ANNOUNCE: self._handle_announce,
            Channel.STATUS: self._handle_status,
            Channel.TELEMETRY: self._handle_telemetry,
            Channel.BACKLOG: self._handle_backlog,
            Channel.ACCESS_REQUEST: self._handle_access_request,
            Channel.COMMAND_RESULT: self._handle_command_result,
        }
        if CONF_FABOMATIC_MACHINE in self.entry.data:
            # A board speaks only on machine/<id> (its transport, fabomatic.py,
            # wired by __init__.py); nothing of it ever comes on fluxilab/<id>/...
            handlers = {}
        for channel, handler in handlers.items():
            # No PUBACK from the hub where it adds nothing, because every PUBACK is
            # a small write on HA's broker socket, and the next access reply then
            # waits (Nagle) for the broker's delayed ACK, ~40 ms. Access requests are
            # answered at once or not at all (the device falls back to its mirror);
            # telemetry records are acknowledged by the hub itself (signed acks) and
            # the agent resends what stays unacknowledged, from its buffer.
            qos = 0 if channel in (Channel.ACCESS_REQUEST, Channel.TELEMETRY) else 1
            # Raw bytes (encoding=None): a payload that is not UTF-8 reaches the
            # handler and is counted as malformed, instead of being dropped (and
            # logged each time) by the MQTT integration before we see it.
            self._unsubscribe.append(
                await mqtt.async_subscribe(
                    self.hass,
                    self.topics.topic(channel),
                    handler,
                    qos=qos,
                    encoding=None,
                )
            )
        self._schedule_import()
        # What the engine decides about this device comes back as signals: it
        # never calls into the device.
        self._unsubscribe.append(
            async_dispatcher_connect(
                self.hass, SIGNAL_USAGE.format(self.device_id), self._usage_changed
            )
        )
        self._unsubscribe.append(
            async_dispatcher_connect(
                self.hass,
                SIGNAL_ACCESS_EVENT.format(self.device_id),
                self.async_access_event,
            )
        )
        if (access := self.access) is not None:
            await access.async_device_added(self)

    async def async_stop(self) -> None:
        """Release subscriptions and timers; keep what is stored."""
        while self._unsubscribe:
            self._unsubscribe.pop()()
        for timer in (self._ack_timer, self._import_timer, self._cleanup_timer):
            if timer is not None:
                timer()
        self._ack_timer = self._import_timer = self._cleanup_timer = None
        if (access := self.access) is not None:
            await access.async_device_removed(self)
        await self._backlog.async_save()
        self._backlog.async_stop()
        await self._async_save_replay()

    async def _async_load_replay(self) -> None:
        """Restore the replay window, then mark it interrupted until the stop."""
        stored = await self._replay_store.async_load()
        # As stored, or whatever a crash or damage left: restore checks the window.
        self._guard.restore(stored.get("guard") if stored else None)
        announce_ts = stored.get("announce_ts") if stored else None
        if isinstance(announce_ts, (int, float)) and not isinstance(announce_ts, bool):
            self._announce_ts = float(announce_ts)
        await self._replay_store.async_save(
            {"guard": INTERRUPTED, "announce_ts": self._announce_ts}
        )
        # Home Assistant stops without unloading entries: save on its final write.
        self._unsub_final_write = self.hass.bus.async_listen_once(
            EVENT_HOMEASSISTANT_FINAL_WRITE, self._async_save_replay
        )

    async def _async_save_replay(self, event: Event | None = None) -> None:
        if event is None and self._unsub_final_write is not None:
            self._unsub_final_write()
        self._unsub_final_write = None
        await self._replay_store.async_save(
            {"guard": self._guard.snapshot(), "announce_ts": self._announce_ts}
        )

    @callback
    def async_add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` on every state change; returns the remover."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    @callback
    def async_add_value_listener(
        self, key: str, listener: Callable[[], None]
    ) -> Callable[[], None]:
        """Call ``listener`` when live telemetry carries channel ``key``.

        Telemetry reaches only the entities of the channels a message carries;
        state changes of the device itself (online, usage, blocked) reach every
        listener of async_add_listener.
        """
        listeners = self._value_listeners.setdefault(key, [])
        listeners.append(listener)

        @callback
        def _remove() -> None:
            listeners.remove(listener)
            if not listeners and self._value_listeners.get(key) is listeners:
                del self._value_listeners[key]

        return _remove

    @callback
    def async_add_channel_listener(
        self, listener: Callable[[], None]
    ) -> Callable[[], None]:
        """Call ``listener`` when the announced channels change."""
        self._channel_listeners.append(listener)
        return lambda: self._channel_listeners.remove(listener)

    @callback
    def async_add_event_listener(
        self,
        # edge: the bus event data, as fired
        listener: Callable[[str, dict[str, Any]], None],
    ) -> Callable[[], None]:
        """Call ``listener(event_type, data)`` for every access event."""
        self._event_listeners.append(listener)
        return lambda: self._event_listeners.remove(listener)

    @callback
    def async_add_telemetry_listener(
        self, listener: Callable[[Mapping[str, int | float | bool]], None]
    ) -> Callable[[], None]:
        """Call ``listener(values)`` for every live telemetry message (not backlog)."""
        self._telemetry_listeners.append(listener)
        return lambda: self._telemetry_listeners.remove(listener)

    @callback
    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()

    # Signals from the access engine, calls from the entities ------------------

    @callback
    def async_update_usage(
        self,
        *,
        in_use: bool,
        member_name: str | None,
        usage_hours: float,
        hours_to_maintenance: float | None,
        maintenance_due: bool,
    ) -> None:
        """Take the usage state the access engine computed."""
        became_due = maintenance_due and not self.maintenance_due
        if in_use != self.in_use and self.relay_key is not None:
            # The agent switches its interlock on with a session, off at its end.
            self.relay_on = in_use
        self.in_use = in_use
        self.member_name = member_name
        self.usage_hours = usage_hours
        self.hours_to_maintenance = hours_to_maintenance
        self.maintenance_due = maintenance_due
        if became_due:
            self._fire_device_event("maintenance_due")
        self._notify()

    @callback
    def _usage_changed(self, state: UsageState) -> None:
        self.async_update_usage(
            in_use=state.in_use,
            member_name=state.member_name,
            usage_hours=state.usage_hours,
            hours_to_maintenance=state.hours_to_maintenance,
            maintenance_due=state.maintenance_due,
        )

    @callback
    def async_access_event(self, event_type: str, event_data: dict[str, Any]) -> None:
        """Show an access decision or session change on the event entity.

        ``event_data`` is the data of the ``fluxilab_access`` event fired on the bus.
        """
        for listener in list(self._event_listeners):
            listener(event_type, event_data)

    async def async_set_blocked(self, blocked: bool) -> None:
        """Block or unblock new sessions, remember it, and tell the device."""
        self._backlog.blocked = blocked
        await self._backlog.async_save()
        self._notify()
        if self.keys is None:
            # Boards never pair: they learn it from their next checkmachine.
            if CONF_FABOMATIC_MACHINE not in self.entry.data:
                LOGGER.warning(
                    "Device %s is not paired: it learns it is %s once it is",
                    self.device_id,
                    "blocked" if blocked else "unblocked",
                )
            return
        await self.async_send_command(
            CommandName.BLOCK if blocked else CommandName.UNBLOCK
        )

    async def async_send_command(
        self, command: CommandName, args: CommandArgs | None = None
    ) -> str:
        """Send a signed command to the device; return its id."""
        command_id = uuid.uuid4().hex
        await self.async_send(
            Channel.COMMAND,
            {"id": command_id, "command": command.value, "args": dict(args or {})},
        )
        return command_id

    async def async_set_relay(self, on: bool) -> None:
        """Ask the device to switch its relay; the state follows once it confirms.

        A blocked device refuses to switch it on (and says so); offline, the
        command waits on the broker for it.
        """
        command_id = await self.async_send_command(CommandName.RELAY, {"on": on})
        self._relay_commands[command_id] = on

    async def async_send(
        self,
        channel: Channel,
        body: dict[str, Any],
        *,
        encrypt: bool = False,
        retain: bool = False,
    ) -> None:
        """Seal ``body`` with the pairing keys and publish it to the device."""
        if self.keys is None:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="device_not_paired",
                translation_placeholders={"device": self.device_id},
            )
        topic = self.topics.topic(channel)
        await mqtt.async_publish(
            self.hass,
            topic,
            seal_payload(self.keys, topic, body, encrypt=encrypt),
            qos=1,
            retain=retain,
        )

    # Input --------------------------------------------------------------------

    def _count(self, channel: Channel, kind: str) -> None:
        key = f"{channel.value.replace('/', '_')}_{kind}"
        self.counters[key] = self.counters.get(key, 0) + 1

    def _log_bad(self, channel: Channel, kind: str, detail: str) -> None:
        """Count bad input; log it at most once a minute per channel and kind."""
        self._count(channel, kind)
        now = time.monotonic()
        mark = f"{channel}:{kind}"
        if now - self._last_log.get(mark, -LOG_INTERVAL) < LOG_INTERVAL:
            return
        self._last_log[mark] = now
        LOGGER.warning(
            "Ignoring %s %s message from %s: %s",
            kind,
            channel.value,
            self.device_id,
            detail,
        )

    def _link_refused(self, reason: str) -> None:
        """Count a refused sealed message; say so loudly once the link is broken."""
        was = self.link.state
        if not self.link.record_rejection(reason):
            return
        if was is not LinkState.BROKEN and self.link.state is LinkState.BROKEN:
            # A warning, not an error: forged messages on its topic look the same.
            LOGGER.warning(
                "The secure link to %s is broken: its messages are refused (%s); "
                "see Settings > Repairs for the fix",
                self.device_id,
                reason,
            )
            if reason != "untrusted_key":  # that one has its pairing issue
                async_create_link_broken_issue(self.hass, self.entry, reason)
        self._notify()

    def _link_verified(self) -> None:
        was = self.link.state
        if self.link.record_verified():
            if was is LinkState.BROKEN:
                LOGGER.info("The secure link to %s works again", self.device_id)
                async_delete_link_broken_issue(self.hass, self.entry)
            self._notify()

    def _open[T](
        self,
        channel: Channel,
        msg: mqtt.ReceiveMessage,
        read: Callable[[Any], T],
    ) -> T | None:
        """Verify a sealed message and read its body; None (counted, logged) if bad.

        ``read`` validates the body (a schema) and may read it into its model.
        """
        self._count(channel, "received")
        if oversized(channel, msg.payload):
            self._log_bad(channel, "oversized", f"{len(msg.payload)} bytes")
            return None
        if self.keys is None:
            self._log_bad(channel, "rejected", "the device's key is not trusted")
            if self.entry.data.get(CONF_DEVICE_KEY) is not None:
                self._link_refused("untrusted_key")
            return None
        try:
            # A device's own layout (seal_payload) is verified over the bytes that
            # arrived, and only its body parsed (orjson, once signed); any other
            # is parsed and re-encoded for the signature as ever.
            body = open_payload(
                self.keys, msg.topic, msg.payload, guard=self._guard, loads=_loads_body
            )
        except (ValueError, RecursionError) as err:  # nesting deeper than the stack
            self._log_bad(channel, "malformed", f"not JSON ({err})")
            return None
        except ProtocolSecurityError as err:
            kind = "malformed" if err.reason == "malformed" else "rejected"
            self._log_bad(channel, kind, str(err))
            self._link_refused(err.reason)
            return None
        self._link_verified()
        try:
            result = read(body)
        except vol.Invalid as err:
            self._log_bad(channel, "malformed", str(err))
            return None
        except OverflowError as err:  # an int too large for a float (10**400)
            self._log_bad(channel, "malformed", str(err))
            return None
        return result

    @callback
    def _handle_status(self, msg: mqtt.ReceiveMessage) -> None:
        payload = msg.payload
        self._count(Channel.STATUS, "received")
        if oversized(Channel.STATUS, payload):
            self._log_bad(Channel.STATUS, "oversized", f"{len(payload)} bytes")
            return
        if isinstance(payload, bytes):
            payload = payload.decode("utf-8", "replace")
        if payload not in (STATUS_ONLINE, STATUS_OFFLINE):
            self._log_bad(
                Channel.STATUS, "malformed", f"{payload[:64]!r} is not online/offline"
            )
            return
        online = payload == STATUS_ONLINE
        known, self._status_known = self._status_known, True
        if online == self.online:
            return
        self.online = online
        # Log once when a device goes down and once when it returns.
        if online:
            LOGGER.info("Device %s is online", self.device_id)
            if self.blocked and self.keys is not None:
                # A device that was away may have missed the block command.
                self.entry.async_create_task(
                    self.hass,
                    self.async_send_command(CommandName.BLOCK),
                    f"{DOMAIN} {self.device_id} resend block",
                )
        else:
            LOGGER.info("Device %s went offline", self.device_id)
        if known:
            self._fire_device_event("online" if online else "offline")
        self._notify()

    @callback
    def _handle_announce(self, msg: mqtt.ReceiveMessage) -> None:
        self._count(Channel.ANNOUNCE, "received")
        if oversized(Channel.ANNOUNCE, msg.payload):
            self._log_bad(Channel.ANNOUNCE, "oversized", f"{len(msg.payload)} bytes")
            return
        try:
            document = json.loads(msg.payload)
            validated = ANNOUNCE_SCHEMA(document)
            parse_public_key(validated["key"])
        except (ValueError, RecursionError, vol.Invalid) as err:
            self._log_bad(Channel.ANNOUNCE, "malformed", str(err))
            return
        # The schema's result is a new dict: the seal is verified over the document.
        validated.pop(SEAL_FIELD, None)  # how it came, not what it says
        announce = Announcement.from_wire(validated)
        if announce.id != self.device_id:
            self._log_bad(Channel.ANNOUNCE, "malformed", "id differs from its topic")
            return
        confirmed: str | None = self.entry.data.get(CONF_DEVICE_KEY)
        if confirmed is None:
            # Not paired yet (added by id): nothing it sends is trusted, and it
            # cannot seal; its announcement only describes it until it is paired.
            self._check_key(announce.key)
        elif announce.key != confirmed:
            # A new key: a reinstalled device cannot seal with it, so this raises
            # the pairing repair as it is; what it describes is not taken.
            self._check_key(announce.key)
            return
        else:
            # Anyone on the broker can publish on the announce topic: once paired,
            # only what the device sealed is taken. The document is verified here,
            # where it was parsed; what it says is read (``announce``) already.
            keys = self.keys or self._hub_keys.derive(confirmed)
            try:
                sealed_at = open_announce(keys, msg.topic, document)
            except ProtocolSecurityError as err:
                kind = "unsealed" if err.reason == "unsealed" else "rejected"
                self._log_bad(Channel.ANNOUNCE, kind, str(err))
                self._link_refused(err.reason)
                return
            self._link_verified()
            if not self._take_sealed_announce(sealed_at, announce):
                return
        self.announce = announce
        self._update_registry(announce)
        channels = announce.channels
        if channels != self.channels:
            self.channels = channels
            for listener in list(self._channel_listeners):
                listener()
            self._track_gone_channels()
        self._notify()

    def _take_sealed_announce(self, sealed_at: float, announce: Announcement) -> bool:
        """Take a paired device's verified announcement unless it is an old one.

        Only what the device sealed changes its channels, versions or UI address.
        The announcement is retained, so it is not held to the replay window; one
        sealed (``sealed_at``, device clock) earlier than the last taken (a captured
        old one, replayed) is refused.
        """
        if sealed_at < self._announce_ts:
            self._log_bad(
                Channel.ANNOUNCE, "rejected", "sealed before the last announcement"
            )
            return False
        self._announce_ts = sealed_at
        self._check_key(announce.key)
        self._check_ui_url(announce.ui_url)
        return True

    def _check_ui_url(self, announced: str | None) -> None:
        """Ask the admin before a newly announced UI address is used."""
        options = self.entry.options
        # The address Open uses already (an entry adopted before addresses were
        # pinned, with the same one in its options) needs nobody's consent either.
        if announced is None or announced in (
            options.get(CONF_ANNOUNCED_UI_URL),
            options.get(CONF_UI_URL),
        ):
            async_delete_ui_url_issue(self.hass, self.entry)
            return
        LOGGER.warning(
            "Device %s announced a new UI address: it is used once an admin "
            "accepts it in Repairs",
            self.device_id,
        )
        async_create_ui_url_issue(self.hass, self.entry, announced)

    def _check_key(self, key: str) -> None:
        """Trust only the key the admin confirmed; report any other."""
        data = self.entry.data
        confirmed = data.get(CONF_DEVICE_KEY)
        if key == confirmed:
            if self.keys is None:
                self.keys = self._hub_keys.derive(key)
            return
        self.keys = None
        if data.get(CONF_PENDING_KEY) == key:
            return
        LOGGER.warning(
            "Device %s announced a key the admin has not confirmed: nothing it sends "
            "is trusted until the pairing is confirmed",
            self.device_id,
        )
        self.hass.config_entries.async_update_entry(
            self.entry, data={**data, CONF_PENDING_KEY: key}
        )
        if confirmed is not None:
            self._fire_device_event("key_changed")
        async_create_key_changed_issue(self.hass, self.entry, key)

    def _update_registry(self, announce: Announcement) -> None:
        ui_url = self.ui_url
        dr.async_get(self.hass).async_get_or_create(
            config_entry_id=self.entry.entry_id,
            identifiers={(DOMAIN, self.device_id)},
            manufacturer=MANUFACTURER,
            model=announce.model,
            sw_version=announce.sw_version,
            hw_version=announce.hw_version,
            serial_number=announce.serial,
            configuration_url=ui_url or None,
            suggested_area=announce.area or UNDEFINED,
        )

    @callback
    def _handle_telemetry(self, msg: mqtt.ReceiveMessage) -> None:
        if (
            message := self._open(Channel.TELEMETRY, msg, _telemetry_from_wire)
        ) is None:
            return
        values = message.values
        self.values.update(values)
        # Telemetry rules (machine types with rules) and the panel's live view.
        for reader in list(self._telemetry_listeners):
            reader(values)
        stream = message.stream
        if self._backlog.seqs_for(stream).add(message.seq):
            self._backlog.count_live(message.ts)
            self._backlog.async_delay_save()
        self._queue_live_ack(stream, message.seq)
        # One pass over the channels the message carries: each of their entities
        # re-reads its value and writes only if it changed. The device's other
        # entities (usage, connectivity, buttons...) do not depend on telemetry.
        for key in values:
            if (entities := self._value_listeners.get(key)) is not None:
                for update in list(entities):
                    update()

    @callback
    def _handle_backlog(self, msg: mqtt.ReceiveMessage) -> None:
        if (batch := self._open(Channel.BACKLOG, msg, _backlog_from_wire)) is None:
            return
        self._batches_waiting += 1
        self.entry.async_create_task(
            self.hass,
            self._async_store_backlog(batch.stream, batch.records),
            f"{DOMAIN} {self.device_id} backlog",
        )

    async def _async_store_backlog(
        self, stream: str | None, records: list[BacklogRecord]
    ) -> None:
        """Store a batch, then acknowledge what is safely stored."""
        try:
            await self._async_store_batch(stream, records)
        finally:
            self._batches_waiting -= 1
            self._schedule_import()

    async def _async_store_batch(
        self, stream: str | None, records: list[BacklogRecord]
    ) -> None:
        async with self._backlog_lock:
            backlog = self._backlog
            seqs = backlog.seqs_for(stream)
            stored: list[int] = []
            numeric = self._statistic_keys()
            engine = self.access
            # Per hour, the values of the telemetry records taken so far: added to
            # the hour figures in one go, and always before an await (a commit
            # meanwhile must never hold a sequence number without its samples).
            samples: dict[int, list[dict[str, int | float | bool]]] = {}
            for record in records:
                seq = record["seq"]
                if seq in seqs:
                    stored.append(seq)  # a replay: stored before, ack again
                    continue
                if record["kind"] == "telemetry":  # RecordKind.TELEMETRY
                    hour = hour_start(record["ts"])
                    if (rows := samples.get(hour)) is None:
                        rows = samples[hour] = []
                    rows.append(record["values"])
                elif engine is None:
                    # Never acknowledged: the device keeps it until the engine runs.
                    self._log_bad(
                        Channel.BACKLOG, "deferred", "the access engine is not set up"
                    )
                    continue
                else:
                    if samples:
                        backlog.add_samples(numeric, samples)
                        samples = {}
                    try:
                        await engine.async_handle_record(
                            self,
                            AccessRecord.from_wire(record["event"]),
                            record["ts"],
                            record["buffered"],
                        )
                    except Exception:
                        LOGGER.exception(
                            "Access record %s of %s not stored", seq, self.device_id
                        )
                        continue
                seqs.add(seq)
                stored.append(seq)
            if samples:
                backlog.add_samples(numeric, samples)
        try:
            # One journal commit holds the batch's sessions, audit entries, hourly
            # figures and sequence numbers: only then is the batch acknowledged.
            await self._backlog.async_commit()
        except JournalError:
            return  # logged; unacknowledged, the device sends the batch again
        self._backlog.async_delay_save()
        self._count(Channel.BACKLOG, "records")
        # At once: the device's replay window (a few batches unacknowledged at most)
        # waits on this ack, so any wait here caps the replay at window / wait.
        stored_acks = AckQueue()
        stored_acks.add(stream, stored)
        self._send_acks(stored_acks)

    def _statistic_keys(self) -> set[str]:
        """Channels whose buffered samples go to long-term statistics."""
        return {
            channel.key
            for channel in self.channels
            if channel.type in (ValueType.INT, ValueType.FLOAT)
            and channel.state_class == "measurement"
        }

    def _statistic_targets(self) -> dict[str, ChannelStatistic]:
        registry = er.async_get(self.hass)
        units = {channel.key: channel.unit for channel in self.channels}
        targets: dict[str, ChannelStatistic] = {}
        for key in self._statistic_keys():
            entity_id = registry.async_get_entity_id(
                Platform.SENSOR, DOMAIN, f"{self.device_id}_{key}"
            )
            if entity_id is not None:
                targets[key] = ChannelStatistic(entity_id, units[key])
        return targets

    @callback
    def _schedule_import(self) -> None:
        """Import changed hours once the recorder has compiled them.

        While batches keep coming (a replay), at most every REPLAY_IMPORT_INTERVAL:
        each import writes the whole merged row of an hour, so one import covers
        every batch before it, and the hour figures are in the journal meanwhile.
        Once the last batch is stored, at once.
        """
        if (due := self._backlog.next_due()) is None:
            if self._import_timer is not None:
                self._import_timer()
                self._import_timer = None
            return
        now = time.time()
        if self._batches_waiting:
            since = time.monotonic() - self._last_import
            due = max(due, now + REPLAY_IMPORT_INTERVAL - since)
        if self._import_timer is not None:
            if self._import_due <= due:
                return
            self._import_timer()
            self._import_timer = None
        if due <= now:
            self._start_import()
            return

        @callback
        def _due(_now: datetime) -> None:
            self._import_timer = None
            self._start_import()

        self._import_due = due
        self._import_timer = async_track_point_in_time(
            self.hass, _due, dt_util.utc_from_timestamp(due)
        )

    @callback
    def _start_import(self) -> None:
        self._last_import = time.monotonic()
        self.entry.async_create_task(
            self.hass, self._async_import(), f"{DOMAIN} {self.device_id} import"
        )

    async def _async_import(self) -> None:
        async with self._backlog_lock:
            await self._backlog.async_import_due(self._statistic_targets())
        # The journal holds what the import changed; the file is a checkpoint.
        self._backlog.async_delay_save()
        self._schedule_import()

    @callback
    def _handle_access_request(self, msg: mqtt.ReceiveMessage) -> None:
        request = self._open(Channel.ACCESS_REQUEST, msg, _request_from_wire)
        if request is None:
            return
        if (engine := self.access) is None:
            self._log_bad(
                Channel.ACCESS_REQUEST, "unanswered", "the access engine is not set up"
            )
            return
        self.entry.async_create_task(
            self.hass,
            self._async_answer(engine, request),
            f"{DOMAIN} {self.device_id} access {request.id}",
        )

    async def _async_answer(self, engine: AccessPort, request: AccessRequest) -> None:
        try:
            decision = await engine.async_decide(self, request)
            await self.async_send(Channel.ACCESS_REPLY, decision.as_wire())
        except Exception:
            LOGGER.exception(
                "Access request %s of %s not answered", request.id, self.device_id
            )

    @callback
    def _handle_command_result(self, msg: mqtt.ReceiveMessage) -> None:
        result = self._open(Channel.COMMAND_RESULT, msg, _command_result_from_wire)
        if result is None:
            return
        self.last_command_result = result
        requested = self._relay_commands.pop(result.id, None)
        if (reported := result.relay) is not None:
            self.relay_on = reported  # the agent says what its output is now
        elif requested is not None and result.ok:
            self.relay_on = requested  # an agent that does not say
        if (generation := result.generation) is not None and (
            engine := self.access
        ) is not None:
            self.entry.async_create_task(
                self.hass,
                engine.async_device_generation(self, generation),
                f"{DOMAIN} {self.device_id} generation",
            )
        if not result.ok:
            LOGGER.warning(
                "Device %s could not run command %s: %s",
                self.device_id,
                result.id,
                result.error,
            )
        self._notify()

    # Acknowledgements ---------------------------------------------------------

    @callback
    def _queue_live_ack(self, stream: str | None, seq: int) -> None:
        """Batch the acks of live telemetry: one message every LIVE_ACK_INTERVAL.

        A device at 1 Hz would otherwise get one signed ack (and one recorder
        barrier) per record. Stored backlog batches are acknowledged at once instead
        (``_async_store_batch``).
        """
        self._pending_acks.add(stream, [seq])
        if self._ack_timer is None:
            self._ack_timer = async_call_later(
                self.hass, LIVE_ACK_INTERVAL, self._flush_live_acks
            )

    @callback
    def _flush_live_acks(self, _now: datetime) -> None:
        self._ack_timer = None
        pending, self._pending_acks = self._pending_acks, AckQueue()
        self.entry.async_create_task(
            self.hass,
            self._async_flush_live_acks(pending),
            f"{DOMAIN} {self.device_id} live ack",
        )

    async def _async_flush_live_acks(self, pending: AckQueue) -> None:
        """Acknowledge live telemetry once its state and sequence number are durable.

        The recorder commits the states first, then the journal the sequence numbers
        and live counts: a crash in between can at worst count a resent message
        twice in its hour, never lose one the device deleted.
        """
        try:
            await async_recorder_barrier(self.hass).async_wait()
            await self._backlog.async_commit()
        except (TimeoutError, JournalError) as err:
            # Unacknowledged records are resent and recognized as stored.
            LOGGER.warning(
                "Live records of %s not acknowledged yet: %s", self.device_id, err
            )
            return
        self._send_acks(pending)

    @callback
    def _send_acks(self, pending: AckQueue) -> None:
        for body in pending.drain():
            self.entry.async_create_task(
                self.hass,
                self._async_send_ack(ACK_SCHEMA(body)),
                f"{DOMAIN} {self.device_id} ack",
            )

    async def _async_send_ack(self, body: dict[str, Any]) -> None:
        try:
            await self.async_send(Channel.ACK, body)
        except HomeAssistantError as err:
            # Unacknowledged records are replayed and recognized as stored.
            LOGGER.warning(
                "Could not acknowledge records of %s: %s", self.device_id, err
            )

    # Channels that disappear ----------------------------------------------------

    @callback
    def _track_gone_channels(self) -> None:
        """Remove entities of channels the device stopped announcing, after a grace."""
        current = {channel.key for channel in self.enabled_channels}
        now = time.time()
        for key in self._registered_channel_keys():
            if key in current:
                self._gone_since.pop(key, None)
            else:
                self._gone_since.setdefault(key, now)
        for key in [k for k in self._gone_since if k in current]:
            del self._gone_since[key]
        self._schedule_cleanup()

    def _registered_channel_keys(self) -> dict[str, str]:
        """Map channel keys with an entity in the registry to their entity ids."""
        prefix = f"{self.device_id}_"
        keys: dict[str, str] = {}
        for entry in er.async_entries_for_config_entry(
            er.async_get(self.hass), self.entry.entry_id
        ):
            key = entry.unique_id.removeprefix(prefix)
            if entry.domain in CHANNEL_PLATFORMS and key not in FIXED_ENTITY_KEYS:
                keys[key] = entry.entity_id
        return keys

    @callback
    def _schedule_cleanup(self) -> None:
        if self._cleanup_timer is not None:
            self._cleanup_timer()
            self._cleanup_timer = None
        if not self._gone_since:
            return
        grace = 3600 * self.entry.options.get(
            CONF_STALE_CHANNEL_HOURS, DEFAULT_STALE_CHANNEL_HOURS
        )
        delay = max(0.0, min(self._gone_since.values()) + grace - time.time())
        self._cleanup_timer = async_call_later(self.hass, delay, self._cleanup)

    @callback
    def _cleanup(self, _now: datetime) -> None:
        self._cleanup_timer = None
        grace = 3600 * self.entry.options.get(
            CONF_STALE_CHANNEL_HOURS, DEFAULT_STALE_CHANNEL_HOURS
        )
        registry = er.async_get(self.hass)
        entity_ids = self._registered_channel_keys()
        for key, since in list(self._gone_since.items()):
            if time.time() - since < grace:
                continue
            del self._gone_since[key]
            if (entity_id := entity_ids.get(key)) is not None:
                LOGGER.info(
                    "Removing %s: device %s stopped announcing channel %s",
                    entity_id,
                    self.device_id,
                    key,
                )
                registry.async_remove(entity_id)
        self._schedule_cleanup()

    def _fire_device_event(self, event_type: str) -> None:
        device = dr.async_get(self.hass).async_get_device_by_identifier(
            (DOMAIN, self.device_id), self.entry.entry_id
        )
        self.hass.bus.async_fire(
            EVENT_DEVICE,
            {
                ATTR_TYPE: event_type,
                ATTR_FLUXILAB_DEVICE: self.device_id,
                "device_id": device.id if device else None,
            },
        )
