"""Home Assistant stopped and started again in the middle of a backlog replay.

A fumehood was offline for four hours (its buffer holds 14,400 records measured two
to six hours ago, written through the agent's own buffer). It reconnects and replays;
Home Assistant is stopped (SIGTERM) mid-replay and started again. The replay resumes:
nothing acknowledged is lost, nothing is stored twice (per hour counts exact), and the
long-term statistics of every hour hold exactly what the device measured.
"""

from __future__ import annotations

import json
import logging
import time

from fluxilab_agent.buffer import RecordBuffer, RecordKind
from tests.e2e.conftest import Lab
from tests.e2e.lab import adopt, check_delivery, entity_ids, statistics, wait_until

_LOGGER = logging.getLogger(__name__)

DEVICE = "sim-hood-1"
HOURS = 4
RECORDS = HOURS * 3600


def value(k: int) -> float:
    """The face velocity the device measured at second ``k`` of the outage."""
    return round(0.3 + (k * 37 % 101) / 200, 3)


def test_hass_restart_mid_replay(lab: Lab) -> None:
    admin = lab.hass.client
    agent = lab.agent("sim", devices=1)
    # Small batches, one in flight: the replay lasts longer than HA's stop (with the
    # default window it is over in about a second, before the stop has begun).
    agent.replay_batch = 20
    agent.start()
    adopt(admin, {DEVICE})
    wait_until(lambda: agent.status(DEVICE)["status"]["paired"], 30, "pairing")
    sensor = wait_until(
        lambda: entity_ids(admin, DEVICE).get(f"{DEVICE}_face_velocity"),
        30,
        "the face velocity sensor",
    )
    agent.stop()

    # Four hours offline, ending two hours ago, recorded as the agent records them.
    first = (int(time.time()) // 3600 - 2 - HOURS) * 3600
    buffer = RecordBuffer(agent.data_dir / DEVICE / "buffer.sqlite")
    with agent.journal.open("a") as journal:
        for k in range(RECORDS):
            data = {"face_velocity": value(k), "fan_running": True}
            record = buffer.append(RecordKind.TELEMETRY, data, first + k)
            line = {
                "device": DEVICE,
                "stream": buffer.stream,
                "seq": record.seq,
                "ts": record.ts,
                "kind": "telemetry",
                "data": data,
            }
            journal.write(json.dumps(line) + "\n")
    buffer.close()

    agent.start()
    started = time.monotonic()
    left = wait_until(
        lambda: (n := agent.status(DEVICE)["status"]["buffered"]) < RECORDS * 0.7 and n,
        60,
        "the replay to start",
    )
    lab.hass.stop()
    stopped = agent.status(DEVICE)["status"]["buffered"]
    assert stopped > 100, "the replay finished before Home Assistant stopped"
    lab.hass.start()
    wait_until(
        lambda: agent.status(DEVICE)["status"]["buffered"] <= 2, 90, "the replay"
    )
    replay = time.monotonic() - started
    expected = {
        first + h * 3600: sum(value(k) for k in range(h * 3600, (h + 1) * 3600)) / 3600
        for h in range(HOURS)
    }
    database = str(lab.hass.config / "home-assistant_v2.db")
    rows = wait_until(
        lambda: (r := statistics(database, sensor, first))
        and set(expected) <= set(r)
        and r,
        60,
        "the backfilled hours in long-term statistics",
    )
    for hour, mean in expected.items():
        assert abs(rows[hour] - mean) < 1e-6, (hour, rows[hour], mean)
    agent.stop()
    lab.hass.stop()
    summary = check_delivery(lab.hass, agent, [DEVICE], {DEVICE: "face_velocity"})
    report = {
        "records": RECORDS,
        "buffered_when_hass_stopped": left,
        "buffered_after_stop": stopped,
        "replay_s": round(replay, 1),
        "statistics_hours": len(expected),
        **summary,
    }
    print(json.dumps(report))
    _LOGGER.warning("hass restart: %s", json.dumps(report))
