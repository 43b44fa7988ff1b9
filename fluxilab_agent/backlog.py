"""The device's side of "Backlog and ack" (docs/PROTOCOL.md): buffer, live, replay.

Every telemetry tick and every access event the hub has not seen is written to the
SQLite :class:`~fluxilab_agent.buffer.RecordBuffer` with its sequence number *before*
anything is sent; telemetry also goes out live at once when the link is ready. The hub
acks sequence numbers and only acked records are deleted. The replay task resends
what is still unacked (everything after a reconnect, otherwise whatever was last sent
more than ``resend_after`` seconds ago) on the backlog topic, oldest first, in
batches, with at most ``max_in_flight`` batches waiting for their ack; the
bookkeeping is the protocol's :class:`~fluxilab_protocol.backlog.ReplayWindow`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import time
from typing import Any

from fluxilab_protocol.backlog import ReplayWindow
from fluxilab_protocol.schemas import ACCESS_EVENT_SCHEMA, RecordKind
from fluxilab_protocol.topics import Channel

from .buffer import Record, RecordBuffer
from .config import BufferConfig
from .counters import Counters

Publish = Callable[[Channel, dict[str, Any]], bool]


class Backlog:
    """Records on their way to the hub: stored first, sent live, replayed until acked."""

    def __init__(
        self,
        buffer: RecordBuffer,
        config: BufferConfig,
        *,
        publish: Publish,
        ready: Callable[[], bool],
        counters: Counters,
    ) -> None:
        """Send through ``publish`` (sealed) while ``ready()`` (paired, connected)."""
        self.buffer = buffer
        self.config = config
        self.window = ReplayWindow(
            batch_size=config.batch_size,
            max_in_flight=config.max_in_flight,
            resend_after=config.resend_after,
        )
        self._publish = publish
        self._ready = ready
        self._counters = counters
        self._wakeup = asyncio.Event()
        self.on_ack: Callable[[list[int]], None] | None = None
        """Test/bench hook: called with the seqs of every verified ack."""

    def record_telemetry(
        self, values: dict[str, Any], ts: float | None = None
    ) -> Record:
        """Buffer one tick, then send it live when the link is ready."""
        record = self.buffer.append(RecordKind.TELEMETRY, values, ts)
        self._counters.count("telemetry_records")
        if self._ready():
            body = {
                "stream": self.buffer.stream,
                "seq": record.seq,
                "ts": record.ts,
                "values": record.data,
            }
            if self._publish(Channel.TELEMETRY, body):
                self.window.sent_live(record.seq, time.monotonic())
        return record

    def record_access(self, event: dict[str, Any]) -> Record:
        """Buffer an access event the hub has not seen; the replay delivers it."""
        event = ACCESS_EVENT_SCHEMA(event)
        record = self.buffer.append(RecordKind.ACCESS, event)
        self._counters.count("access_records")
        self._wakeup.set()
        return record

    def handle_ack(self, body: dict[str, Any]) -> None:
        """Delete what a verified ack names; a completed batch frees the window."""
        if body.get("stream", self.buffer.stream) != self.buffer.stream:
            # An ack for the records of an earlier (wiped) buffer: its sequence
            # numbers mean other records here.
            self._counters.count("foreign_stream_acks")
            return
        seqs: list[int] = body["seqs"]
        self.buffer.delete(seqs)
        if self.window.acked(seqs):
            self._wakeup.set()
        self._counters.count("acked_records")
        if self.on_ack is not None:
            self.on_ack(seqs)

    def wake(self, *, reset: bool = False) -> None:
        """Replay now; ``reset``: everything unacked again, from the oldest."""
        if reset:
            self.window.reset()
        self._wakeup.set()

    async def run(self) -> None:
        """Replay on every wake-up and at least every ``replay_interval``."""
        loop = asyncio.get_running_loop()
        while True:
            # A timer rather than wait_for: on Python 3.11 wait_for can swallow a
            # cancellation that coincides with the event being set.
            timer = loop.call_later(self.config.replay_interval, self._wakeup.set)
            try:
                await self._wakeup.wait()
            finally:
                timer.cancel()
            self._wakeup.clear()
            self.replay_step()

    def replay_step(self) -> int:
        """Send backlog batches while the in-flight window has room."""
        if not self._ready() or not len(self.buffer):
            return 0
        now = time.monotonic()
        window = self.window
        window.expire(now)
        sent = 0
        while window.has_room:
            batch = window.next_batch(self.buffer.read, now)
            if not batch:
                break
            body = {
                "stream": self.buffer.stream,
                "records": [record.wire() for record in batch],
            }
            if not self._publish(Channel.BACKLOG, body):
                window.unsent(batch[0].seq)
                break
            window.sent_batch((record.seq for record in batch), now)
            sent += len(batch)
        if sent:
            self._counters.count("replayed_batches")
        return sent
