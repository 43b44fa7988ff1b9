"""Backlog and ack bookkeeping: what each end of a device link keeps track of.

docs/PROTOCOL.md, "Backlog and ack", gives the rules; this module is their one
implementation, shared by the hub and the agent:

* the sender (the device) keeps a :class:`ReplayWindow`: which records it sent when,
  which backlog batches wait for their ack (flow control), where the current replay
  pass is, and what an ack frees;
* the receiver (the hub) queues what it stored in an :class:`AckQueue` and sends
  :func:`ack_bodies`: sorted, de-duplicated sequence numbers per record stream, cut to
  what one ack may carry;
* :func:`seq_ranges` compresses sequence numbers into ranges (what the device deletes
  in one statement per range).

Pure bookkeeping: no clock of its own (callers pass ``now``), no I/O, no MQTT.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
import itertools
from typing import Any, Protocol, TypeVar

from .schemas import MAX_BACKLOG_BATCH

MAX_ACK_SEQS = 10 * MAX_BACKLOG_BATCH
"""Sequence numbers one ack carries at most (ACK_SCHEMA)."""


def seq_ranges(seqs: Iterable[int]) -> list[tuple[int, int]]:
    """Compress sequence numbers into sorted, inclusive ``(first, last)`` ranges."""
    ranges: list[tuple[int, int]] = []
    for seq in sorted(set(seqs)):
        if ranges and seq == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], seq)
        else:
            ranges.append((seq, seq))
    return ranges


def ack_bodies(stream: str | None, seqs: Iterable[int]) -> list[dict[str, Any]]:
    """Return the ack bodies (ACK_SCHEMA) that acknowledge ``seqs`` of ``stream``.

    ``stream`` None: a device from before record streams (its acks carry none).
    """
    ordered = sorted(set(seqs))
    bodies: list[dict[str, Any]] = []
    for start in range(0, len(ordered), MAX_ACK_SEQS):
        body: dict[str, Any] = {"seqs": ordered[start : start + MAX_ACK_SEQS]}
        if stream is not None:
            body["stream"] = stream
        bodies.append(body)
    return bodies


@dataclass(slots=True)
class AckQueue:
    """The receiver's stored-but-not-yet-acknowledged sequence numbers, per stream."""

    _pending: dict[str | None, set[int]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        """Return True while something waits to be acknowledged."""
        return bool(self._pending)

    def add(self, stream: str | None, seqs: Iterable[int]) -> None:
        """Queue ``seqs`` of ``stream`` (a replayed record is acked again)."""
        self._pending.setdefault(stream, set()).update(seqs)
        if not self._pending[stream]:
            del self._pending[stream]

    def drain(self) -> list[dict[str, Any]]:
        """Return every queued ack body and start empty."""
        pending, self._pending = self._pending, {}
        return [
            body
            for stream, seqs in pending.items()
            for body in ack_bodies(stream, seqs)
        ]


class SequencedRecord(Protocol):
    """A buffered record as the replay window sees it."""

    @property
    def seq(self) -> int:
        """Its sequence number, unique within the buffer's stream."""


RecordT = TypeVar("RecordT", bound=SequencedRecord)


class ReplayWindow:
    """The sender's view of what is in flight, valid for one connection.

    ``sent_at`` holds when each record last went out (live or in a batch); a record
    goes out again only once ``resend_after`` seconds passed without its ack. At most
    ``max_in_flight`` backlog batches wait for their ack at once; a batch whose ack
    does not come within ``resend_after`` stops counting (its leftovers go out in a
    later pass). A pass walks the buffer oldest first from ``cursor``.
    """

    def __init__(
        self, *, batch_size: int, max_in_flight: int, resend_after: float
    ) -> None:
        """Start with nothing sent."""
        if not 1 <= batch_size <= MAX_BACKLOG_BATCH:
            raise ValueError(f"batch_size must be 1..{MAX_BACKLOG_BATCH}")
        self.batch_size = batch_size
        self.max_in_flight = max_in_flight
        self.resend_after = resend_after
        self.sent_at: dict[int, float] = {}
        self.in_flight: dict[int, tuple[set[int], float]] = {}
        self.cursor = 0
        self._batch_ids = itertools.count(1)

    def reset(self) -> None:
        """Forget what was sent: everything unacked goes out again, oldest first.

        On every (re)connect and disconnect, and when the hub asks for a sync.
        """
        self.sent_at.clear()
        self.in_flight.clear()
        self.cursor = 0

    @property
    def has_room(self) -> bool:
        """Return True while another batch may be sent."""
        return len(self.in_flight) < self.max_in_flight

    def sent_live(self, seq: int, now: float) -> None:
        """Note a record sent live (telemetry): not replayed before resend_after."""
        self.sent_at[seq] = now

    def acked(self, seqs: Iterable[int]) -> bool:
        """Forget acknowledged records; True if a batch is complete (room freed)."""
        acked = set(seqs)
        for seq in acked:
            self.sent_at.pop(seq, None)
        freed = False
        for batch_id, (waiting, _sent_at) in list(self.in_flight.items()):
            waiting.difference_update(acked)
            if not waiting:
                del self.in_flight[batch_id]
                freed = True
        return freed

    def expire(self, now: float) -> None:
        """Stop waiting for batches whose ack is overdue."""
        for batch_id, (_waiting, sent_at) in list(self.in_flight.items()):
            if now - sent_at >= self.resend_after:
                del self.in_flight[batch_id]

    def next_batch(
        self, read: Callable[[int, int], Sequence[RecordT]], now: float
    ) -> list[RecordT]:
        """Collect the next records not sent recently, oldest first.

        ``read(after, limit)`` returns up to ``limit`` buffered records with a
        sequence number above ``after``, in order. An empty result ends the pass:
        the next one starts over from the oldest.
        """
        size = self.batch_size
        batch: list[RecordT] = []
        while len(batch) < size:
            chunk = read(self.cursor, size)
            if not chunk:
                self.cursor = 0
                break
            for record in chunk:
                self.cursor = record.seq
                if now - self.sent_at.get(record.seq, -self.resend_after) >= (
                    self.resend_after
                ):
                    batch.append(record)
                    if len(batch) == size:
                        break
        return batch

    def sent_batch(self, seqs: Iterable[int], now: float) -> None:
        """Note a batch published: it waits for its ack in the window."""
        waiting = set(seqs)
        self.in_flight[next(self._batch_ids)] = (waiting, now)
        for seq in waiting:
            self.sent_at[seq] = now

    def unsent(self, first_seq: int) -> None:
        """Retry next the batch starting at ``first_seq`` (it could not be published)."""
        self.cursor = first_seq - 1
