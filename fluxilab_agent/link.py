"""The agent's MQTT connection: last will, online status, retained announcement."""

from __future__ import annotations

from collections.abc import Callable
import json
import logging
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
    ) -> None:
        """Prepare the client; nothing touches the network until start()."""
        self.topics = topics
        self._announce = json.dumps(announce, separators=(",", ":"))
        self._host, self._port, self._keepalive = host, port, keepalive
        self._on_message = on_message
        self._on_connected = on_connected
        self.connected = threading.Event()
        client_id = f"fluxilab-{topics.device_id}"
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        if username is not None:
            self.client.username_pw_set(username, password)
        self.client.will_set(
            topics.topic(Channel.STATUS), STATUS_OFFLINE, qos=1, retain=True
        )
        self.client.reconnect_delay_set(min_delay=1, max_delay=10)
        self.client.on_connect = self._handle_connect
        self.client.on_disconnect = self._handle_disconnect
        self.client.on_message = self._handle_message

    def start(self) -> None:
        """Connect in the background; reconnects by itself."""
        self.client.connect_async(self._host, self._port, self._keepalive)
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
        client.subscribe([(self.topics.topic(ch), 1) for ch in hub_channels])
        client.publish(
            self.topics.topic(Channel.ANNOUNCE), self._announce, qos=1, retain=True
        )
        client.publish(
            self.topics.topic(Channel.STATUS), STATUS_ONLINE, qos=1, retain=True
        )
        self.connected.set()
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
