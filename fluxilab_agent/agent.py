"""The edge agent: one lab device's connection to the hub.

The agent runs in one asyncio loop. paho-mqtt's network thread hands every incoming
message to the loop with ``call_soon_threadsafe``; all state (buffer, sessions,
replay bookkeeping) is touched from the loop only.

:class:`Agent` wires the parts, one module per concern, and runs the hub's commands:

* :mod:`~fluxilab_agent.channel`: pairing, sealing and opening, the MQTT link;
* :mod:`~fluxilab_agent.backlog`: the buffer, live telemetry and the backlog replay
  (docs/PROTOCOL.md, "Backlog and ack");
* :mod:`~fluxilab_agent.telemetry`: the channels' sources;
* :mod:`~fluxilab_agent.access`: swipes, logins, sessions, the door;
* :mod:`~fluxilab_agent.device_ui`: the device UI gateway and its certificate.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
import logging
import os
from typing import TYPE_CHECKING, Any

from fluxilab_protocol import PROTOCOL_VERSION
from fluxilab_protocol.schemas import (
    ANNOUNCE_SCHEMA,
    BACKLOG_SCHEMA,
    COMMAND_RESULT_SCHEMA,
    ActuatorKind,
    CommandName,
)
from fluxilab_protocol.security import KeyPair, SessionKeys
from fluxilab_protocol.topics import Channel, DeviceTopics

from . import __version__
from .access import AccessControl, AccessDecision, Session
from .backlog import Backlog
from .buffer import Record, RecordBuffer
from .channel import LINK_BROKEN_AFTER, HubChannel
from .config import AgentConfig
from .counters import Counters
from .device_ui import LazyGateway, gateway_certificate, start_gateway
from .hardware import (
    OutputError,
    Reader,
    SimulatedOutput,
    build_output,
    build_reader,
)
from .mirror import CredentialMirror
from .sources import DeviceSimulator
from .state import BUFFER_FILE, MIRROR_FILE, AgentState, load_device_key
from .telemetry import Telemetry

if TYPE_CHECKING:
    from .certificate import GatewayCertificate

__all__ = [
    "LINK_BROKEN_AFTER",
    "AccessDecision",
    "Agent",
    "CommandError",
    "Session",
    "run_agent",
]

_LOGGER = logging.getLogger(__name__)

HOOK_TIMEOUT = 300.0


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
        self.gateway_certificate: GatewayCertificate | None = gateway_certificate(
            config
        )
        self._counters = Counters()
        self.counters = self._counters.counts
        self.simulator = simulator or DeviceSimulator(config.device.kind)
        self.telemetry = Telemetry(
            config,
            self.simulator,
            self.state.overrides.get("periods", {}),
            self._counters,
        )
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
        self.reader: Reader | None = (
            build_reader(config.rfid) if config.rfid is not None else None
        )
        self.channel = HubChannel(
            config,
            self.state,
            self.key_pair,
            self._counters,
            announcement=self.announcement,
            on_message=self._handle_hub_message,
            last_contact=self.mirror.received,
        )
        self.backlog = Backlog(
            RecordBuffer(data_dir / BUFFER_FILE, max_records=config.buffer.max_records),
            config.buffer,
            publish=self.channel.publish,
            ready=lambda: self.channel.ready,
            counters=self._counters,
        )
        self.channel.on_paired = lambda: self.backlog.wake(reset=True)
        self.access = AccessControl(
            config,
            state=self.state,
            mirror=self.mirror,
            channel=self.channel,
            backlog=self.backlog,
            counters=self._counters,
            set_interlock=self._set_interlock,
            values=lambda: self.telemetry.values,
            timeout=float(
                self.state.overrides.get("access_timeout", config.access.timeout)
            ),
        )
        self.gateway: LazyGateway | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._background_tasks: set[asyncio.Task[Any]] = set()
        self._stopped = asyncio.Event()

    # -- the parts, as tests, the CLI and the gateway see them -------------------

    @property
    def buffer(self) -> RecordBuffer:
        """The durable record buffer."""
        return self.backlog.buffer

    @property
    def keys(self) -> SessionKeys | None:
        """The pairing keys, once paired."""
        return self.channel.keys

    @property
    def hub_key(self) -> str | None:
        """The pinned (or configured) hub key."""
        return self.channel.hub_key

    @property
    def link_problem(self) -> str | None:
        """Why the secure link to the hub is broken, None while it works."""
        return self.channel.link_problem

    @property
    def fingerprint(self) -> str | None:
        """The pairing fingerprint the admin compares with the hub's, once paired."""
        return self.channel.fingerprint

    @property
    def connected(self) -> bool:
        """True while the broker connection is up."""
        return self.channel.connected

    @property
    def last_hub_contact(self) -> float | None:
        """Unix time of the last verified message from the hub (offline mirror age)."""
        return self.channel.last_contact

    @last_hub_contact.setter
    def last_hub_contact(self, when: float | None) -> None:
        self.channel.last_contact = when

    @property
    def session(self) -> Session | None:
        """The session running now (machines)."""
        return self.access.session

    @property
    def values(self) -> dict[str, int | float | bool]:
        """The latest telemetry values."""
        return self.telemetry.values

    @property
    def periods(self) -> dict[str, float]:
        """Each channel's telemetry period (the hub may change them)."""
        return self.telemetry.periods

    @property
    def access_timeout(self) -> float:
        """Seconds the device waits for the hub's access reply."""
        return self.access.timeout

    @property
    def on_ack(self) -> Callable[[list[int]], None] | None:
        """Test/bench hook: called with the seqs of every verified ack."""
        return self.backlog.on_ack

    @on_ack.setter
    def on_ack(self, hook: Callable[[list[int]], None] | None) -> None:
        self.backlog.on_ack = hook

    def _handle_message(self, topic: str, payload: bytes) -> None:
        """Take one message from the broker (tests feed this directly)."""
        self.channel.handle_message(topic, payload)

    def _publish(self, channel: Channel, body: dict[str, Any]) -> bool:
        return self.channel.publish(channel, body)

    def record_telemetry(
        self, values: dict[str, Any], ts: float | None = None
    ) -> Record:
        """Buffer one tick, then send it live when connected and paired."""
        return self.backlog.record_telemetry(values, ts)

    def record_access(self, event: dict[str, Any]) -> Record:
        """Buffer an access event the hub has not seen; the backlog delivers it."""
        return self.backlog.record_access(event)

    def replay_step(self) -> int:
        """Send backlog batches while the in-flight window has room."""
        return self.backlog.replay_step()

    # -- identity ---------------------------------------------------------------

    def announcement(self) -> dict[str, Any]:
        """Build the retained announcement (ANNOUNCE_SCHEMA)."""
        device = self.config.device
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
                    {
                        **channel.announce(),
                        "period": self.telemetry.periods[channel.key],
                    }
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
            ("ui_url", device.ui_url),
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
        """Return the announcement as published: sealed once paired (PROTOCOL.md)."""
        return self.channel.announce_message()

    # -- lifecycle --------------------------------------------------------------

    async def start(self) -> None:
        """Connect, start telemetry, replay, the reader and the gateway."""
        loop = asyncio.get_running_loop()
        self.channel.start(
            loop,
            # Everything still unacked is replayed from the oldest on every
            # connect (and forgotten as sent on a disconnect).
            on_connection=lambda: self.backlog.wake(reset=True),
        )
        if self.state.blocked:
            _LOGGER.warning("This device is blocked by the hub: access is denied")
        self._tasks = [
            asyncio.create_task(self.backlog.run(), name="fluxilab-replay"),
        ]
        if self.config.channels:
            self._tasks.append(
                asyncio.create_task(
                    self.telemetry.run(self.backlog.record_telemetry),
                    name="fluxilab-telemetry",
                )
            )
        if self.reader is not None:
            self.reader.start(loop, self.swipe)
        self.gateway = await start_gateway(
            self.config,
            self.gateway_certificate,
            keys_provider=lambda: self.channel.keys,
            mirror=self.mirror,
            status_provider=self.status,
            actions=self._gateway_action,
            report=self._gateway_report,
        )

    async def stop(self) -> None:
        """Clean shutdown: end the session, publish offline, flush the buffer."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        if self.reader is not None:
            self.reader.stop()
        if self.access.session is not None:
            await self.access.end_session("shutdown", ask_hub=False)
        if self.access.unlocked_until is not None:
            self.access.relock()
        tasks = [*self._tasks, *self._background_tasks]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.gateway is not None:
            await self.gateway.stop()
        await self.channel.stop()
        for output in self.outputs.values():
            output.close()
        self.buffer.close()
        _LOGGER.info("Stopped; %d records stay buffered for the hub", len(self.buffer))

    # -- what the hub sends -----------------------------------------------------

    def _handle_hub_message(self, channel: Channel, body: dict[str, Any]) -> None:
        if channel is Channel.ACK:
            self.backlog.handle_ack(body)
        elif channel is Channel.ACCESS_REPLY:
            self.access.handle_reply(body)
        elif channel is Channel.COMMAND:
            self._background(self._answer_command(body))
        else:
            self._handle_credentials(body)

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
            self._counters.count("credentials_behind")
            self.channel.publish(
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

    # -- access -----------------------------------------------------------------

    def _background(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run ``coro`` as a task the agent keeps a reference to until it ends."""
        task = asyncio.get_running_loop().create_task(coro)
        self._background_tasks.add(task)
        task.add_done_callback(self._background_tasks.discard)

    def swipe(self, card: str) -> None:
        """Handle a presented card (reader callback, in the loop)."""
        self._background(self.handle_card(card))

    async def handle_card(self, card: str) -> AccessDecision:
        """Start a session, or end the one running; at a door, check the card."""
        return await self.access.handle_card(card)

    async def login(self, login: str, secret: str) -> AccessDecision:
        """Local PIN/password login at the device (checked against the mirror)."""
        return await self.access.login(login, secret)

    async def register_maintenance(self, card: str) -> AccessDecision:
        """Register maintenance done on the device by the card's member."""
        return await self.access.register_maintenance(card)

    def _set_interlock(self, on: bool) -> None:
        if self.interlock is None:
            return
        try:
            self.outputs[self.interlock].set(on)
        except OutputError as err:
            _LOGGER.error("Could not switch %s: %s", self.interlock, err)
        if isinstance(self.outputs[self.interlock], SimulatedOutput):
            self.simulator.relay_on = on

    # -- commands ---------------------------------------------------------------

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
        if self.interlock is not None:
            # The hub's relay switch shows what the output is now, whatever ran.
            result["relay"] = self.outputs[self.interlock].state
        self._counters.count(f"command_{command.value}")
        self.channel.publish(Channel.COMMAND_RESULT, COMMAND_RESULT_SCHEMA(result))
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
            if self.state.blocked:
                await self.access.blocked()
        elif command is CommandName.RELAY:
            self._relay(args)
        elif command is CommandName.SYNC:
            self.channel.reannounce()
            self.backlog.wake(reset=True)
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
        if key == self.interlock:
            # Door mode: switched by hand, the lock stays as set (no pulse ends it).
            self.access.hand_switched()
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
        known = self.telemetry.periods
        if not isinstance(periods, dict) or not all(
            key in known
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
        known.update({key: float(value) for key, value in periods.items()})
        overrides = self.state.overrides
        overrides.setdefault("periods", {}).update(periods)
        if timeout is not None:
            self.access.timeout = overrides["access_timeout"] = float(timeout)
        self.state.save()
        self.channel.reannounce()

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
        self.channel.forget_pairing()
        self.mirror.clear()
        if self.gateway is not None:
            self.gateway.end_sessions("the device was revoked")

    async def _gateway_report(
        self, member_id: str, description: str, unsafe: bool
    ) -> str:
        """Send the problem report of a member signed in at the device UI (§2)."""
        return await self.access.report_problem(member_id, description, unsafe=unsafe)

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
        self.channel.cut(seconds)

    # -- status -----------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """Live status for the gateway page, the control socket and tests."""
        units = {c.key: (c.name, c.unit) for c in self.config.channels}
        session = self.access.session
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
                for key, value in self.telemetry.values.items()
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
            # The plan while maintenance is due: shown as a board shows it on its LCD.
            "maintenance": self._maintenance(),
            "relay": self.outputs[self.interlock].state if self.interlock else None,
            "user": session.name or session.member_id if session else None,
            # Whose session it is: the gateway shows a member their own session.
            "session_member": session.member_id if session else None,
            "session_duration": session.duration() if session else None,
            # A card + PIN type refused a card alone: the reader wants its PIN now.
            "pin_wanted": self.access.pin_is_wanted(),
            # The interlock's limits (mirrored from the machine type), shown beside
            # the readings they apply to.
            "safety_limits": [
                {
                    key: value
                    for key, value in (
                        ("channel", limit.channel),
                        ("min", limit.min),
                        ("max", limit.max),
                    )
                    if value is not None
                }
                for limit in (
                    self.mirror.rules.safety_limits if self.mirror.rules else ()
                )
            ],
            "buffered": len(self.buffer),
            "credentials": len(self.mirror.members),
            "credential_generation": self.mirror.generation,
            "mode": self.config.access.mode.value,
            "unlocked": (
                self.outputs[self.interlock].state
                if self.access.door and self.interlock
                else None
            ),
        }

    def _maintenance(self) -> dict[str, str] | None:
        rules = self.mirror.rules
        notice = rules.maintenance if rules is not None else None
        if notice is None:
            return None
        shown = {
            "message": notice.message,
            "description": notice.description,
            "url": notice.url,
        }
        return {key: value for key, value in shown.items() if value}


class CommandError(Exception):
    """A command could not be carried out; the message goes back to the hub."""


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
