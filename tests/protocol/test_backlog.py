"""Backlog and ack bookkeeping (fluxilab_protocol.backlog), used by hub and agent."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from fluxilab_protocol.backlog import (
    MAX_ACK_SEQS,
    AckQueue,
    ReplayWindow,
    ack_bodies,
    seq_ranges,
)
from fluxilab_protocol.schemas import ACK_SCHEMA


@dataclass(frozen=True)
class Rec:
    seq: int


class Buffer:
    """The device's buffer as the window reads it: records above a seq, in order."""

    def __init__(self, seqs: range) -> None:
        self.records = [Rec(seq) for seq in seqs]

    def read(self, after: int, limit: int) -> list[Rec]:
        return [r for r in self.records if r.seq > after][:limit]

    def delete(self, seqs: list[int]) -> None:
        self.records = [r for r in self.records if r.seq not in set(seqs)]


def test_seq_ranges() -> None:
    assert seq_ranges([5, 1, 2, 3, 9, 10, 2]) == [(1, 3), (5, 5), (9, 10)]
    assert seq_ranges([]) == []


def test_ack_bodies_are_sorted_unique_and_cut_to_the_schema() -> None:
    seqs = [*range(MAX_ACK_SEQS + 5, 0, -1), 3, 3]
    bodies = ack_bodies("stream-1", seqs)
    assert [len(body["seqs"]) for body in bodies] == [MAX_ACK_SEQS, 5]
    assert bodies[0]["seqs"][:3] == [1, 2, 3]
    assert all(body["stream"] == "stream-1" for body in bodies)
    for body in bodies:
        assert ACK_SCHEMA(body) == body
    assert ack_bodies(None, [2, 1]) == [{"seqs": [1, 2]}]
    assert ack_bodies("stream-1", []) == []


def test_ack_queue_per_stream() -> None:
    queue = AckQueue()
    assert not queue
    queue.add("old", [4, 2])
    queue.add("new", [1])
    queue.add("old", [2, 3])
    queue.add("empty", [])
    assert queue
    assert queue.drain() == [
        {"seqs": [2, 3, 4], "stream": "old"},
        {"seqs": [1], "stream": "new"},
    ]
    assert not queue
    assert queue.drain() == []


def window(**changes: float) -> ReplayWindow:
    settings = {"batch_size": 3, "max_in_flight": 2, "resend_after": 5.0} | changes
    return ReplayWindow(
        batch_size=int(settings["batch_size"]),
        max_in_flight=int(settings["max_in_flight"]),
        resend_after=settings["resend_after"],
    )


def send_all(win: ReplayWindow, buffer: Buffer, now: float) -> list[list[int]]:
    sent: list[list[int]] = []
    win.expire(now)
    while win.has_room and (batch := win.next_batch(buffer.read, now)):
        seqs = [r.seq for r in batch]
        win.sent_batch(seqs, now)
        sent.append(seqs)
    return sent


def test_window_sends_oldest_first_and_waits_for_acks() -> None:
    win, buffer = window(), Buffer(range(1, 11))
    assert send_all(win, buffer, 0.0) == [[1, 2, 3], [4, 5, 6]]
    assert not win.has_room  # two batches wait for their ack
    assert win.acked([1, 2]) is False  # batch not complete
    assert win.acked([3]) is True  # room again
    buffer.delete([1, 2, 3])
    assert send_all(win, buffer, 1.0) == [[7, 8, 9]]
    # A pass ends at the buffer's end; the next starts over, skipping what is
    # still waiting for an ack.
    win.acked([4, 5, 6, 7, 8, 9])
    buffer.delete([4, 5, 6, 7, 8, 9])
    assert send_all(win, buffer, 2.0) == [[10]]


def test_window_resends_after_resend_after_and_after_a_reset() -> None:
    win, buffer = window(max_in_flight=10), Buffer(range(1, 5))
    win.sent_live(4, 0.0)  # telemetry sent live is not replayed at once
    assert send_all(win, buffer, 0.0) == [[1, 2, 3]]
    assert send_all(win, buffer, 4.9) == []  # within resend_after: nothing again
    assert send_all(win, buffer, 5.0) == [[1, 2, 3], [4]]  # overdue: again
    win.reset()  # a reconnect: everything unacked goes out again at once
    assert send_all(win, buffer, 5.1) == [[1, 2, 3], [4]]


def test_window_expires_overdue_batches() -> None:
    win, buffer = window(max_in_flight=1), Buffer(range(1, 7))
    assert send_all(win, buffer, 0.0) == [[1, 2, 3]]
    assert send_all(win, buffer, 1.0) == []  # the window is full
    # The ack never came: the batch stops counting; its records are due again.
    assert send_all(win, buffer, 5.0) == [[4, 5, 6]]


def test_window_retries_a_batch_that_could_not_be_published() -> None:
    win, buffer = window(), Buffer(range(1, 7))
    batch = win.next_batch(buffer.read, 0.0)
    win.unsent(batch[0].seq)
    assert [r.seq for r in win.next_batch(buffer.read, 0.0)] == [1, 2, 3]


def test_window_refuses_a_batch_larger_than_the_protocol_allows() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        window(batch_size=1001)
