"""The SQLite record buffer: sequence numbers, deletion on ack, full policy, kill -9."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
import signal
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from fluxilab_agent.buffer import RecordBuffer
from fluxilab_protocol.schemas import BACKLOG_SCHEMA, STREAM, RecordKind

TELEMETRY = RecordKind.TELEMETRY
ACCESS = RecordKind.ACCESS
REPO = Path(__file__).resolve().parents[2]


def test_sequence_numbers_never_repeat_even_when_emptied(tmp_path: Path) -> None:
    path = tmp_path / "buffer.sqlite"
    buffer = RecordBuffer(path)
    first = [buffer.append(TELEMETRY, {"t": i}).seq for i in range(5)]
    assert first == sorted(first)
    assert len(set(first)) == 5
    assert buffer.delete(first) == 5
    assert len(buffer) == 0
    buffer.close()
    reopened = RecordBuffer(path)
    assert reopened.append(TELEMETRY, {"t": 9}).seq == first[-1] + 1
    assert reopened.last_seq() == first[-1] + 1
    reopened.close()


def test_records_are_deleted_only_when_acked(tmp_path: Path) -> None:
    buffer = RecordBuffer(tmp_path / "b.sqlite")
    seqs = [buffer.append(TELEMETRY, {"t": i}, ts=1000 + i).seq for i in range(10)]
    access = buffer.append(ACCESS, {"action": "session_start", "offline": True})
    buffer.delete([seqs[1], seqs[2], seqs[7], 99_999])  # unknown seqs are harmless
    remaining = [record.seq for record in buffer]
    assert remaining == [s for s in seqs if s not in (seqs[1], seqs[2], seqs[7])] + [
        access.seq
    ]
    batch = buffer.read(0, 3)
    assert [r.seq for r in batch] == [seqs[0], seqs[3], seqs[4]]
    assert batch[0].ts == 1000
    wire = {"records": [record.wire() for record in buffer]}
    assert BACKLOG_SCHEMA(wire)["records"][-1]["event"]["offline"] is True
    assert all(r["buffered"] for r in wire["records"])
    buffer.close()


def test_full_buffer_drops_oldest_telemetry_never_access(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    buffer = RecordBuffer(tmp_path / "b.sqlite", max_records=5)
    access = [buffer.append(ACCESS, {"action": "check", "n": i}).seq for i in range(3)]
    telemetry = [buffer.append(TELEMETRY, {"t": i}).seq for i in range(6)]
    kept = {record.seq for record in buffer}
    assert set(access) <= kept
    assert kept == set(access) | set(telemetry[-2:])
    assert buffer.dropped == 4
    assert "dropped the oldest telemetry" in caplog.text
    # Access records are kept even beyond the limit.
    more = [buffer.append(ACCESS, {"action": "check"}).seq for _ in range(4)]
    assert set(more) <= {record.seq for record in buffer}
    assert all(r.kind is ACCESS for r in buffer)
    buffer.close()


def test_each_buffer_file_has_its_own_lasting_record_stream(tmp_path: Path) -> None:
    buffer = RecordBuffer(tmp_path / "a.db")
    stream = buffer.stream
    assert STREAM(stream) == stream
    buffer.close()
    assert RecordBuffer(tmp_path / "a.db").stream == stream
    # A wiped (new) buffer starts a new stream.
    assert RecordBuffer(tmp_path / "b.db").stream != stream


def test_invalid_limit(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_records"):
        RecordBuffer(tmp_path / "b.sqlite", max_records=0)


WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from fluxilab_agent.buffer import RecordBuffer
    from fluxilab_protocol.schemas import RecordKind

    buffer = RecordBuffer(Path(sys.argv[1]))
    i = 0
    while True:
        kind = RecordKind.ACCESS if i % 10 == 0 else RecordKind.TELEMETRY
        record = buffer.append(kind, {"i": i, "pad": "x" * 200})
        if i % 3 == 0:
            buffer.delete([record.seq - 1])
        sys.stdout.write(f"{record.seq} {i}\\n")
        sys.stdout.flush()
        i += 1
    """
)


def test_buffer_survives_kill_9_mid_write(tmp_path: Path) -> None:
    """Every record committed before SIGKILL is intact afterwards."""
    path = tmp_path / "buffer.sqlite"
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert process.stdout is not None
    committed: dict[int, int] = {}
    try:
        for line in process.stdout:
            seq, index = map(int, line.split())
            committed[seq] = index
            if len(committed) >= 3000:
                break
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    # Everything the writer printed before dying was committed before printing.
    for line in process.stdout:
        if line.endswith("\n"):
            seq, index = map(int, line.split())
            committed[seq] = index
    process.stdout.close()
    assert len(committed) >= 3000

    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    buffer = RecordBuffer(path)
    stored = {record.seq: record for record in buffer}
    last = max(committed)
    for seq, index in committed.items():
        # Writing record i (i % 3 == 0) acked, i.e. deleted, record i - 1.
        if (index + 1) % 3 == 0 and seq != last:
            assert seq not in stored
            continue
        if seq == last and seq not in stored:
            continue  # the kill may have hit between this record's ack and print
        assert stored[seq].data == {"i": index, "pad": "x" * 200}
        expected = ACCESS if index % 10 == 0 else TELEMETRY
        assert stored[seq].kind is expected
    assert len(stored) >= len(committed) - len(committed) // 3 - 2
    # Numbering continues after the highest number handed out.
    assert buffer.append(TELEMETRY, {}).seq > max(committed)
    buffer.close()
