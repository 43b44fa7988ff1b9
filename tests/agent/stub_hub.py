"""A stub hub for agent tests and the agent benchmark: a plain paho client.

It holds the hub's key pair, publishes the retained hub announcement, verifies every
sealed message a device sends (signature, freshness, replay), records what arrived,
acknowledges telemetry and backlog records by sequence number (signed), answers
access requests through a policy function and sends signed commands/credentials.
"""

from __future__ import annotations

from collections.abc import Callable
import json
import threading
import time
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from fluxilab_protocol import PROTOCOL_VERSION
from fluxilab_protocol.schemas import (
    ACCESS_REQUEST_SCHEMA,
    BACKLOG_SCHEMA,
    TELEMETRY_SCHEMA,
)
from fluxilab_protocol.security import (
    KeyPair,
    ProtocolSecurityError,
    ReplayGuard,
    SessionKeys,
    open_envelope,
    seal,
)
from fluxilab_protocol.topics import Channel, DeviceTopics, hub_topic, parse_topic

Policy = Callable[[str, dict[str, Any]], dict[str, Any] | None]


def grant_all(device_id: str, request: dict[str, Any]) -> dict[str, Any] | None:
    """Grant every request (session ids made up from the request id)."""
    del device_id
    return {
        "id": request["id"],
        "granted": True,
        "reason": "granted",
        "member_id": "m-1",
        "name": "Ada",
        "session_id": f"s-{request['id']}",
    }


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``predicate`` until true; AssertionError naming ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


class StubHub:
    """The hub side of the protocol, just enough to test the agent against."""

    def __init__(
        self,
        host: str,
        port: int,
        base: str = "fluxilab",
        *,
        policy: Policy | None = grant_all,
        keys: KeyPair | None = None,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        """Connect, announce the hub key (retained) and listen to every device."""
        self.base = base
        self.keys = keys or KeyPair.generate()
        self.policy = policy
        self.auto_ack = True
        self.ack_delay = 0.0
        self.lock = threading.Lock()
        self.device_keys: dict[str, SessionKeys] = {}
        self._guards: dict[str, ReplayGuard] = {}
        self.live: list[int] = []
        self.backlog: list[list[dict[str, Any]]] = []
        self.seen: dict[int, dict[str, Any]] = {}
        self.acked: set[int] = set()
        self.requests: list[dict[str, Any]] = []
        self.results: list[dict[str, Any]] = []
        self.statuses: list[str] = []
        self.rejected: list[str] = []
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="stub-hub")
        self.client.max_inflight_messages_set(200)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(min_delay=1, max_delay=2)
        if username is not None:
            self.client.username_pw_set(username, password)
        self.client.connect(host, port)
        self.client.loop_start()

    def close(self) -> None:
        """Disconnect and stop the network thread."""
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client: mqtt.Client, *_args: Any) -> None:
        client.subscribe(f"{self.base}/+/#", qos=1)
        client.publish(
            hub_topic(self.base),
            json.dumps({"v": PROTOCOL_VERSION, "key": self.keys.public_b64}),
            qos=1,
            retain=True,
        )

    # -- receiving ------------------------------------------------------------

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: Any) -> None:
        parsed = parse_topic(self.base, msg.topic)
        if parsed is None:
            return
        device_id, channel = parsed
        if channel is Channel.ANNOUNCE:
            announce = json.loads(msg.payload)
            with self.lock:
                if device_id not in self.device_keys:
                    self.device_keys[device_id] = self.keys.derive(announce["key"])
                    self._guards[device_id] = ReplayGuard()
            return
        if channel is Channel.STATUS:
            with self.lock:
                self.statuses.append(msg.payload.decode())
            return
        if channel not in (
            Channel.TELEMETRY,
            Channel.BACKLOG,
            Channel.ACCESS_REQUEST,
            Channel.COMMAND_RESULT,
        ):
            return
        keys = self.device_keys.get(device_id)
        if keys is None:
            self.rejected.append(f"{channel.value}: unknown device")
            return
        try:
            body = open_envelope(
                keys, msg.topic, json.loads(msg.payload), guard=self._guards[device_id]
            )
        except (ValueError, ProtocolSecurityError) as err:
            self.rejected.append(f"{channel.value}: {err}")
            return
        if channel is Channel.TELEMETRY:
            body = TELEMETRY_SCHEMA(body)
            with self.lock:
                self.live.append(body["seq"])
                self.seen.setdefault(body["seq"], {"kind": "telemetry", **body})
            self._ack(device_id, [body["seq"]], body.get("stream"))
        elif channel is Channel.BACKLOG:
            backlog = BACKLOG_SCHEMA(body)
            records = backlog["records"]
            with self.lock:
                self.backlog.append(records)
                for record in records:
                    self.seen.setdefault(record["seq"], record)
            if self.ack_delay:
                time.sleep(self.ack_delay)
            self._ack(
                device_id, [record["seq"] for record in records], backlog.get("stream")
            )
        elif channel is Channel.ACCESS_REQUEST:
            request = ACCESS_REQUEST_SCHEMA(body)
            with self.lock:
                self.requests.append(request)
            reply = self.policy(device_id, request) if self.policy else None
            if reply is not None:
                self.send(device_id, Channel.ACCESS_REPLY, reply)
        else:
            with self.lock:
                self.results.append(body)

    def _ack(self, device_id: str, seqs: list[int], stream: str | None) -> None:
        if not self.auto_ack:
            return
        with self.lock:
            self.acked.update(seqs)
        # Like the real hub, echo the record stream the seqs belong to.
        body: dict[str, Any] = {"seqs": seqs}
        if stream is not None:
            body["stream"] = stream
        self.send(device_id, Channel.ACK, body)

    # -- sending --------------------------------------------------------------

    def envelope(
        self,
        device_id: str,
        channel: Channel,
        body: dict[str, Any],
        *,
        encrypt: bool = False,
    ) -> bytes:
        """A sealed payload for ``channel`` of ``device_id`` (not sent)."""
        topic = DeviceTopics(self.base, device_id).topic(channel)
        sealed = seal(self.device_keys[device_id], topic, body, encrypt=encrypt)
        return json.dumps(sealed).encode()

    def send(
        self,
        device_id: str,
        channel: Channel,
        body: dict[str, Any],
        *,
        encrypt: bool = False,
    ) -> bytes:
        """Seal and publish; return the payload (so a test can replay it)."""
        payload = self.envelope(device_id, channel, body, encrypt=encrypt)
        self.publish_raw(DeviceTopics(self.base, device_id).topic(channel), payload)
        return payload

    def publish_raw(self, topic: str, payload: bytes) -> None:
        """Publish exactly ``payload`` (forgeries, replays)."""
        self.client.publish(topic, payload, qos=1)

    # -- looking ----------------------------------------------------------------

    def seqs(self) -> set[int]:
        """Every sequence number that reached the hub (live or backlog)."""
        with self.lock:
            return set(self.seen)

    def first_backlog_arrivals(self) -> list[int]:
        """Backlog seqs in the order they first arrived (duplicates removed)."""
        order: list[int] = []
        first: set[int] = set()
        live = set(self.live)
        with self.lock:
            for batch in self.backlog:
                for record in batch:
                    seq = record["seq"]
                    if seq not in first and seq not in live:
                        first.add(seq)
                        order.append(seq)
        return order
