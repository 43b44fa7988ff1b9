"""The signed conversation with the hub: pairing, sealing, opening, the MQTT link.

Pairing is trust on first use: the hub key from the config, or the first one the hub
announces, is pinned in ``state.json``; another key later is refused (``pair
--reset`` forgets the pinned one). Everything sent is sealed with the pairing keys;
everything received is size-capped before it is parsed, then verified (signature,
freshness, the replay window that survives a restart) and validated against its
schema before a handler sees it. Refusals are counted and logged at most once a
minute, never with their contents.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
import json
import logging
import time
from typing import Any

import voluptuous as vol

from fluxilab_protocol.schemas import (
    ACCESS_REPLY_SCHEMA,
    ACK_SCHEMA,
    COMMAND_SCHEMA,
    CREDENTIALS_SCHEMA,
    HUB_ANNOUNCE_MAX_BYTES,
    HUB_ANNOUNCE_SCHEMA,
    oversized,
)
from fluxilab_protocol.security import (
    INTERRUPTED,
    KeyPair,
    ProtocolSecurityError,
    ReplayGuard,
    SessionKeys,
    open_payload,
    parse_public_key,
    seal_announce,
    seal_payload,
)
from fluxilab_protocol.topics import Channel, DeviceTopics, hub_topic

from .config import AgentConfig
from .counters import Counters
from .link import MqttLink, TlsSettings
from .state import AgentState, load_replay, save_replay

_LOGGER = logging.getLogger("fluxilab_agent.agent")

LINK_BROKEN_AFTER = 3
"""Hub messages refused in a row for ``signature``/``decrypt`` before the link is
broken (one forged message is not)."""

HUB_CHANNELS: dict[Channel, vol.Schema] = {
    Channel.ACK: ACK_SCHEMA,
    Channel.ACCESS_REPLY: ACCESS_REPLY_SCHEMA,
    Channel.COMMAND: COMMAND_SCHEMA,
    Channel.CREDENTIALS: CREDENTIALS_SCHEMA,
}
"""What the hub sends a device, and the schema each body must pass."""

Handler = Callable[[Channel, dict[str, Any]], None]


class HubChannel:
    """Keys, replay window and MQTT link of one device."""

    def __init__(
        self,
        config: AgentConfig,
        state: AgentState,
        key_pair: KeyPair,
        counters: Counters,
        *,
        announcement: Callable[[], dict[str, Any]],
        on_message: Handler,
        last_contact: float | None,
    ) -> None:
        """Load the pinned hub key and the replay window; nothing networked yet.

        Verified and validated bodies from the hub reach ``on_message``.
        """
        self.config = config
        self.state = state
        self.key_pair = key_pair
        self.topics = DeviceTopics(config.base_topic, config.device.id)
        self._counters = counters
        self._announcement = announcement
        self._on_message = on_message
        self.keys: SessionKeys | None = None
        self.hub_key: str | None = config.hub_key or state.hub_key
        if self.hub_key is not None:
            self._set_hub_key(self.hub_key)
        self.last_contact = last_contact
        self.link_problem: str | None = None
        """Why the secure link to the hub is broken (``hub_key_changed``,
        ``signature``), None while it works: the log, status and device page say so."""
        self._refused_in_a_row = 0
        """Unix time of the last verified message from the hub."""
        # The replay window survives a restart: saved by stop(), and marked
        # interrupted while the agent runs (a crash then refuses what came before).
        self.guard = ReplayGuard()
        self.guard.restore(load_replay(config.data_dir))
        save_replay(config.data_dir, INTERRUPTED)
        self.link: MqttLink | None = None
        self.on_paired: Callable[[], None] | None = None
        """Called when the hub's key was pinned on first use."""

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
        return self.link is not None and self.link.connected.is_set()

    @property
    def ready(self) -> bool:
        """True while paired and connected: what is sent now can reach the hub."""
        return self.keys is not None and self.connected

    def announce_message(self) -> dict[str, Any]:
        """Return the announcement as published: sealed once paired (PROTOCOL.md).

        The hub takes a paired device's channels, versions and UI address only from
        a sealed announcement; before pairing it is plain, for discovery.
        """
        announce = self._announcement()
        if self.keys is None:
            return announce
        return seal_announce(self.keys, self.topics.topic(Channel.ANNOUNCE), announce)

    def reannounce(self) -> None:
        """Publish the announcement again (it changed, or the pairing did)."""
        if self.link is not None:
            self.link.set_announce(self.announce_message())

    def start(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        on_connection: Callable[[], None],
    ) -> None:
        """Connect in the background; ``on_connection`` on every (dis)connect."""
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

        def connected() -> None:
            self._counters.count("connects")
            on_connection()

        self.link = MqttLink(
            self.topics,
            self.announce_message(),
            host=broker.host,
            port=broker.port,
            username=broker.username,
            password=broker.password,
            keepalive=broker.keepalive,
            on_message=from_thread(self.handle_message),
            on_connected=from_thread(connected),
            on_disconnected=from_thread(on_connection),
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
        self.link.start()

    async def stop(self) -> None:
        """Publish offline, disconnect, and keep the replay window for the restart."""
        if self.link is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.link.stop)
        save_replay(self.config.data_dir, self.guard.snapshot())

    def publish(self, channel: Channel, body: dict[str, Any]) -> bool:
        """Seal and publish; False if not paired or not connected."""
        if self.keys is None or self.link is None:
            return False
        topic = self.topics.topic(channel)
        # Body last, in its signed form: encoded once, and the hub checks the
        # signature over these bytes (fluxilab_protocol.security.seal_payload).
        return self.link.publish(topic, seal_payload(self.keys, topic, body))

    def handle_message(self, topic: str, payload: bytes) -> None:
        """Take one message from the broker (in the loop)."""
        if topic == hub_topic(self.config.base_topic):
            self._handle_hub_announce(payload)
            return
        for channel in HUB_CHANNELS:
            if topic == self.topics.topic(channel):
                break
        else:
            return
        body = self._open(channel, topic, payload)
        if body is None:
            return
        try:
            self._on_message(channel, body)
        except Exception:
            # A verified but unexpected message must not take the agent down.
            self._counters.count("handler_errors")
            _LOGGER.exception("Could not handle a %s message", channel.value)

    def _open(
        self, channel: Channel, topic: str, payload: bytes
    ) -> dict[str, Any] | None:
        """Verify and validate a message from the hub; None (counted) if refused."""
        counters = self._counters
        if not payload and channel is Channel.CREDENTIALS:
            # The hub clearing a set an older hub retained: refused, not logged.
            counters.count("rejected")
            counters.count("rejected_credentials_empty")
            return None
        counters.count(f"received_{channel.value.replace('/', '_')}")
        if oversized(channel, payload):
            # Dropped before anything parses it (PROTOCOL.md, "Message sizes").
            counters.reject(channel.value, "oversized", f"{len(payload)} bytes")
            return None
        if self.keys is None:
            counters.reject(channel.value, "unpaired", "no hub key pinned yet")
            return None
        try:
            body = open_payload(
                self.keys,
                topic,
                payload,
                guard=self.guard,
                decrypt=channel is Channel.CREDENTIALS,
            )
        except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
            counters.reject(channel.value, "malformed", "not JSON")
            return None
        except ProtocolSecurityError as err:
            counters.reject(channel.value, err.reason)
            if err.reason in ("signature", "decrypt"):
                self._refused_in_a_row += 1
                if self._refused_in_a_row >= LINK_BROKEN_AFTER:
                    self._link_broken("signature")
            return None
        self.last_contact = time.time()
        self._refused_in_a_row = 0
        if self.link_problem is not None:
            self.link_problem = None
            _LOGGER.warning("The secure link to the hub works again")
        try:
            valid: dict[str, Any] = HUB_CHANNELS[channel](body)
        except vol.Invalid as err:
            counters.reject(channel.value, "invalid", str(err))
            return None
        return valid

    def _handle_hub_announce(self, payload: bytes) -> None:
        if not payload:
            return  # a cleared retained message
        if len(payload) > HUB_ANNOUNCE_MAX_BYTES:
            self._counters.reject("hub_announce", "oversized", f"{len(payload)} bytes")
            return
        try:
            key = HUB_ANNOUNCE_SCHEMA(json.loads(payload))["key"]
            parse_public_key(key)
        except (ValueError, RecursionError, vol.Invalid) as err:
            self._counters.reject("hub_announce", "invalid", str(err))
            return
        if key == self.hub_key:
            return
        if self.config.hub_key is not None or self.state.hub_key is not None:
            self._counters.reject(
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
        self.reannounce()  # sealed from now on
        if self.on_paired is not None:
            self.on_paired()

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

    def forget_pairing(self) -> None:
        """Drop the pinned hub key (revoked); the configured one, if any, stays."""
        self.state.hub_key = None
        self.state.save()
        self.keys = None
        self.hub_key = self.config.hub_key
        if self.hub_key is not None:
            self._set_hub_key(self.hub_key)

    def cut(self, seconds: float) -> None:
        """Drop the broker connection for ``seconds`` (simulated network cut)."""
        if self.link is None:
            return
        link = self.link
        link.sever()
        _LOGGER.warning("Broker connection cut for %.0f s (simulation)", seconds)
        asyncio.get_running_loop().call_later(seconds, link.resume)
