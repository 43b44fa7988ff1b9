"""The agent's MQTT connection: last will, online status, retained announcement.

The announcement it publishes is built by the agent (sealed once paired, see
:meth:`fluxilab_agent.agent.Agent.announce_message`); the link only re-publishes it
on every (re)connect.
"""

from __future__ import annotations

from collections.abc import Callable
import contextlib
from dataclasses import dataclass
import json
import logging
from pathlib import Path
import socket
import threading
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from fluxilab_protocol.topics import (
    STATUS_OFFLINE,
    STATUS_ONLINE,
    Channel,
    DeviceTopics,
)

_LOGGER = logging.getLogger(__name__)

MessageHandler = Callable[[str, bytes], None]
MAX_INFLIGHT = 200
MAX_QUEUED = 20_000


@dataclass(frozen=True, slots=True)
class TlsSettings:
    """TLS to the broker: CA bundle (None: system roots), optional client cert."""

    ca: Path | None = None
    cert: Path | None = None
    key: Path | None = None


class MqttLink:
    """One device's connection to the broker.

    The broker publishes ``offline`` (retained) on the status topic if the agent
    vanishes; on every (re)connect the agent publishes ``online`` and its
    announcement, both retained, and re-subscribes to what the hub sends it.
    """

    def __init__(
        self,
        topics: DeviceTopics,
        announce: dict[str, Any],
        *,
        host: str,
        port: int = 1883,
        username: str | None = None,
        password: str | None = None,
        keepalive: int = 30,
        on_message: MessageHandler | None = None,
        on_connected: Callable[[], None] | None = None,
        on_disconnected: Callable[[], None] | None = None,
        extra_topics: tuple[str, ...] = (),
        tls: TlsSettings | None = None,
    ) -> None:
        """Prepare the client; nothing touches the network until start()."""
        self.topics = topics
        self._announce = json.dumps(announce, separators=(",", ":"))
        self._host, self._port, self._keepalive = host, port, keepalive
        self._on_message = on_message
        self._on_connected = on_connected
        self._on_disconnected = on_disconnected
        self._extra_topics = extra_topics
        self.connected = threading.Event()
        client_id = f"fluxilab-{topics.device_id}"
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        # Backlog replay keeps several large batches in flight at once.
        self.client.max_inflight_messages_set(MAX_INFLIGHT)
        self.client.max_queued_messages_set(MAX_QUEUED)
        if username is not None:
            self.client.username_pw_set(username, password)
        if tls is not None:
            self.client.tls_set(
                ca_certs=str(tls.ca) if tls.ca else None,
                certfile=str(tls.cert) if tls.cert else None,
                keyfile=str(tls.key) if tls.key else None,
            )
        self.client.will_set(
            topics.topic(Channel.STATUS), STATUS_OFFLINE, qos=1, retain=True
        )
        self.client.reconnect_delay_set(min_delay=1, max_delay=10)
        self.client.on_socket_open = self._handle_socket_open
        self.client.on_connect = self._handle_connect
        self.client.on_disconnect = self._handle_disconnect
        self.client.on_message = self._handle_message
        self.client.on_subscribe = self._handle_subscribe
        self._subscribe_mid: int | None = None

    def start(self) -> None:
        """Connect in the background; reconnects by itself."""
        self.client.connect_async(self._host, self._port, self._keepalive)
        self.client.loop_start()

    def set_announce(self, announce: dict[str, Any]) -> None:
        """Replace the announcement and publish it now if connected."""
        self._announce = json.dumps(announce, separators=(",", ":"))
        if self.connected.is_set():
            self.announce()

    def announce(self) -> None:
        """Publish the retained announcement and online status again."""
        self.client.publish(
            self.topics.topic(Channel.ANNOUNCE), self._announce, qos=1, retain=True
        )
        self.client.publish(
            self.topics.topic(Channel.STATUS), STATUS_ONLINE, qos=1, retain=True
        )

    def publish(self, topic: str, payload: str | bytes, qos: int = 1) -> bool:
        """Publish if connected; False when the message could not be queued."""
        if not self.connected.is_set():
            return False
        info = self.client.publish(topic, payload, qos=qos)
        return info.rc == mqtt.MQTT_ERR_SUCCESS

    def sever(self) -> None:
        """Drop the connection without a goodbye, as a network cut would."""
        self.client.loop_stop()
        sock = self.client.socket()
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        was_connected = self.connected.is_set()
        self.connected.clear()
        if was_connected and self._on_disconnected is not None:
            self._on_disconnected()

    def resume(self) -> None:
        """Let the network thread reconnect after :meth:`sever`."""
        self.client.loop_start()

    def stop(self) -> None:
        """Publish offline, disconnect cleanly and stop the network thread."""
        if self.connected.is_set():
            info = self.client.publish(
                self.topics.topic(Channel.STATUS), STATUS_OFFLINE, qos=1, retain=True
            )
            info.wait_for_publish(timeout=5)
        self.client.disconnect()
        self.client.loop_stop()

    @staticmethod
    def _handle_socket_open(client: mqtt.Client, userdata: Any, sock: Any) -> None:
        # Small request/reply messages must not wait for delayed ACKs (Nagle): that
        # would add ~40 ms to every access decision.
        if isinstance(sock, socket.socket) and sock.family in (
            socket.AF_INET,
            socket.AF_INET6,
        ):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _handle_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        properties: Any,
    ) -> None:
        if reason.is_failure:
            _LOGGER.warning("Broker refused the connection: %s", reason)
            return
        _LOGGER.info("Connected to %s:%s", self._host, self._port)
        hub_channels = (
            Channel.ACK,
            Channel.ACCESS_REPLY,
            Channel.COMMAND,
            Channel.CREDENTIALS,
        )
        _result, self._subscribe_mid = client.subscribe(
            [(self.topics.topic(ch), 1) for ch in hub_channels]
            + [(topic, 1) for topic in self._extra_topics]
        )

    def _handle_subscribe(
        self,
        client: mqtt.Client,
        userdata: Any,
        mid: int,
        reason_codes: list[ReasonCode],
        properties: Any,
    ) -> None:
        # Ready only once the broker confirmed the subscriptions: a reply or ack
        # the hub sends right after our first message must not be missed.
        if mid != self._subscribe_mid:
            return
        self.connected.set()
        self.announce()
        if self._on_connected is not None:
            self._on_connected()

    def _handle_disconnect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.DisconnectFlags,
        reason: ReasonCode,
        properties: Any,
    ) -> None:
        if self.connected.is_set():
            _LOGGER.warning("Lost the broker connection: %s", reason)
            self.connected.clear()
            if self._on_disconnected is not None:
                self._on_disconnected()
        self.connected.clear()

    def _handle_message(
        self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage
    ) -> None:
        if self._on_message is None:
            return
        try:
            self._on_message(msg.topic, msg.payload)
        except Exception:
            # A bad message must never take the network thread down.
            _LOGGER.exception("Handler failed for a message on %s", msg.topic)
