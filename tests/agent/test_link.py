"""The agent's MQTT link against a real Mosquitto broker."""

from __future__ import annotations

from collections.abc import Iterator
import json
import queue
import socket
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
import pytest

from fluxilab_agent.link import MqttLink
from fluxilab_protocol.topics import Channel, DeviceTopics
from tests.mosquitto import Mosquitto

TOPICS = DeviceTopics("fluxilab", "hood-1")
ANNOUNCE = {"v": 1, "id": "hood-1", "name": "Hood 1"}


class Observer:
    """A plain MQTT client that records what it receives."""

    def __init__(self, broker: Mosquitto) -> None:
        self.messages: queue.Queue[tuple[str, bytes, bool]] = queue.Queue()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="observer")
        self.client.on_message = lambda _c, _u, msg: self.messages.put(
            (msg.topic, msg.payload, msg.retain)
        )
        self.client.connect(broker.host, broker.port)
        self.client.subscribe(TOPICS.subtree, qos=1)
        self.client.loop_start()

    def wait_for(self, topic: str, payload: bytes, timeout: float = 10) -> bool:
        """Return the retain flag of the first matching message."""
        while True:
            got_topic, got_payload, retain = self.messages.get(timeout=timeout)
            if (got_topic, got_payload) == (topic, payload):
                return retain

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def observer(mosquitto: Mosquitto) -> Iterator[Observer]:
    obs = Observer(mosquitto)
    yield obs
    obs.close()


def _link(broker: Mosquitto, **kwargs: Any) -> MqttLink:
    return MqttLink(TOPICS, ANNOUNCE, host=broker.host, port=broker.port, **kwargs)


def test_connect_announces_and_goes_online(
    mosquitto: Mosquitto, observer: Observer
) -> None:
    """On connect the agent publishes its announcement and online status."""
    link = _link(mosquitto)
    link.start()
    try:
        assert link.connected.wait(10)
        sock = link.client.socket()
        assert isinstance(sock, socket.socket)
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        announce = json.dumps(ANNOUNCE, separators=(",", ":")).encode()
        observer.wait_for(TOPICS.topic(Channel.ANNOUNCE), announce)
        observer.wait_for(TOPICS.topic(Channel.STATUS), b"online")
    finally:
        link.stop()
    # A clean stop says offline itself.
    observer.wait_for(TOPICS.topic(Channel.STATUS), b"offline")


def test_last_will_marks_a_vanished_device_offline(
    mosquitto: Mosquitto, observer: Observer
) -> None:
    """If the agent's connection dies, the broker publishes the retained will."""
    link = _link(mosquitto, keepalive=5)
    link.start()
    assert link.connected.wait(10)
    observer.wait_for(TOPICS.topic(Channel.STATUS), b"online")
    # Simulate a power cut: stop the network thread and drop the socket unannounced.
    link.client.loop_stop()
    sock = link.client.socket()
    assert isinstance(sock, socket.socket)
    sock.shutdown(socket.SHUT_RDWR)
    sock.close()
    observer.wait_for(TOPICS.topic(Channel.STATUS), b"offline", timeout=15)

    # The retained status is what a hub that starts later sees first.
    late = Observer(mosquitto)
    try:
        assert late.wait_for(TOPICS.topic(Channel.STATUS), b"offline") is True
    finally:
        late.close()


def test_incoming_messages_reach_the_handler_and_bad_handlers_do_not_kill_it(
    mosquitto: Mosquitto,
) -> None:
    """Hub-to-device topics are subscribed; a failing handler is contained."""
    received: queue.Queue[tuple[str, bytes]] = queue.Queue()

    def handler(topic: str, payload: bytes) -> None:
        received.put((topic, payload))
        if payload == b"boom":
            raise ValueError("bad payload")

    link = _link(mosquitto, on_message=handler)
    link.start()
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="hub")
    publisher.connect(mosquitto.host, mosquitto.port)
    publisher.loop_start()
    try:
        assert link.connected.wait(10)
        command = TOPICS.topic(Channel.COMMAND)
        publisher.publish(command, b"boom", qos=1).wait_for_publish(5)
        publisher.publish(command, b"after", qos=1).wait_for_publish(5)
        assert received.get(timeout=10) == (command, b"boom")
        assert received.get(timeout=10) == (command, b"after")
    finally:
        publisher.disconnect()
        publisher.loop_stop()
        link.stop()
