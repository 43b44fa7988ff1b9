"""The agent killed with SIGKILL during buffer writes and again during a replay.

Two simulated fumehoods write telemetry at 10 Hz each into their SQLite buffers;
the agent process is killed (no shutdown, no checkpoint) while they write. One
fumehood then holds a backlog of measurements from hours ago and the agent is
killed again while it replays it. After each kill every buffer passes SQLite's
``integrity_check``, every record the device committed is still there with its
content (nothing committed lost, the highest sequence number kept), and once the
agent runs again everything reaches Home Assistant exactly once (``check_delivery``).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
import signal
import sqlite3
import time
from typing import Any

from fluxilab_agent.buffer import RecordBuffer, RecordKind
from tests.e2e.conftest import Lab
from tests.e2e.lab import AgentProcess, adopt, check_delivery, wait_until

_LOGGER = logging.getLogger(__name__)

DEVICES = ["sim-hood-1", "sim-hood-2"]
CHANNEL_OF = dict.fromkeys(DEVICES, "face_velocity")
BACKLOG = 6000
"""Records of the replayed outage (100 minutes at 1 Hz)."""


def check_buffer(agent: AgentProcess, device_id: str) -> dict[str, int]:
    """Check a killed agent's buffer against its journal; return counts.

    The journal line is written right after the record is committed, so a kill
    can fall between the two: such committed records are added to the journal
    (from the buffer itself) as what the device measured.
    """
    path = agent.data_dir / device_id / "buffer.sqlite"
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        (integrity,) = connection.execute("PRAGMA integrity_check").fetchone()
        stored = {
            int(seq): (round(float(ts), 3), kind, json.loads(data))
            for seq, ts, kind, data in connection.execute(
                "SELECT seq, ts, kind, data FROM records"
            )
        }
        row = connection.execute(
            "SELECT seq FROM sqlite_sequence WHERE name = 'records'"
        ).fetchone()
    finally:
        connection.close()
    assert integrity == "ok", f"{device_id}: {integrity}"
    journal = agent.records()[device_id]
    highest = int(row[0])
    assert highest >= journal[-1]["seq"], f"{device_id}: committed records lost"
    journaled = {r["seq"]: r for r in journal}
    for seq, (ts, kind, data) in stored.items():
        if (record := journaled.get(seq)) is not None:
            assert (record["ts"], record["kind"], record["data"]) == (ts, kind, data)
    unjournaled = sorted(seq for seq in stored if seq > journal[-1]["seq"])
    with agent.journal.open("a") as out:
        for seq in unjournaled:
            ts, kind, data = stored[seq]
            line = {
                "device": device_id,
                "stream": journal[-1]["stream"],
                "seq": seq,
                "ts": ts,
                "kind": kind,
                "data": data,
            }
            out.write(json.dumps(line) + "\n")
    return {
        "buffered": len(stored),
        "highest_seq": highest,
        "committed_not_journaled": len(unjournaled),
    }


def prefill(agent: AgentProcess, device_id: str) -> None:
    """Buffer ``BACKLOG`` past measurements, as the agent records them offline."""
    first = (int(time.time()) // 3600 - 3) * 3600
    buffer = RecordBuffer(agent.data_dir / device_id / "buffer.sqlite")
    try:
        with agent.journal.open("a") as journal:
            for k in range(BACKLOG):
                data: dict[str, Any] = {
                    "face_velocity": round(0.3 + (k % 50) / 100, 2),
                    "fan_running": True,
                }
                record = buffer.append(RecordKind.TELEMETRY, data, first + k)
                line = {
                    "device": device_id,
                    "stream": buffer.stream,
                    "seq": record.seq,
                    "ts": record.ts,
                    "kind": "telemetry",
                    "data": data,
                }
                journal.write(json.dumps(line) + "\n")
    finally:
        buffer.close()


def buffered(agent: AgentProcess, device_id: str) -> int | None:
    """Records a device still holds; None while the restarted agent comes up."""
    try:
        return int(agent.status(device_id)["status"]["buffered"])
    except AssertionError:  # the control socket is not there yet
        return None


def journal_size(path: Path) -> int:
    """Lines in the journal so far."""
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_agent_killed_during_writes_and_replay(lab: Lab) -> None:
    admin = lab.hass.client
    agent = lab.agent("sim", devices=len(DEVICES), period=0.1)
    # The hub acknowledges a batch once it is committed: with its default window
    # the agent replays 6,000 records in well under a second, faster than a kill
    # can be aimed; a device with small batches, one in flight, replays for seconds.
    agent.replay_batch = 20
    agent.start()
    adopt(admin, set(DEVICES))
    for device_id in DEVICES:
        wait_until(lambda d=device_id: agent.status(d)["status"]["paired"], 30, "pair")

    # Kill 1: in the middle of 20 buffer writes per second.
    before = journal_size(agent.journal)
    wait_until(
        lambda: journal_size(agent.journal) > before + 40, 10, "records being written"
    )
    agent.stop(signal.SIGKILL)
    after_write_kill = {d: check_buffer(agent, d) for d in DEVICES}

    # Kill 2: during the replay of a 100-minute backlog.
    prefill(agent, DEVICES[0])
    agent.start()
    wait_until(
        lambda: (n := buffered(agent, DEVICES[0])) is not None and n < BACKLOG * 0.8,
        30,
        "the replay to start",
    )
    agent.stop(signal.SIGKILL)
    after_replay_kill = {d: check_buffer(agent, d) for d in DEVICES}
    assert after_replay_kill[DEVICES[0]]["buffered"] > 200, (
        "the replay finished before the kill"
    )

    agent.start()
    started = time.monotonic()
    for device_id in DEVICES:
        wait_until(
            lambda d=device_id: (n := buffered(agent, d)) is not None and n <= 2,
            60,
            f"{device_id} to replay",
        )
    replay = time.monotonic() - started
    agent.stop()
    lab.hass.stop()
    summary = check_delivery(lab.hass, agent, DEVICES, CHANNEL_OF)
    report = {
        "after_write_kill": after_write_kill,
        "after_replay_kill": after_replay_kill,
        "replay_after_restart_s": round(replay, 1),
        **summary,
    }
    print(json.dumps(report))
    _LOGGER.warning("agent kill: %s", json.dumps(report))
