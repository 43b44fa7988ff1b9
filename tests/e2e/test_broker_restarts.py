"""Broker restarted 10 times at random moments during telemetry and card swipes.

Three simulated devices (two fumehoods, one machine) send telemetry at 2 Hz while a
member swipes cards; Mosquitto is stopped and started again 10 times at moments from a
seeded RNG (``FLUXILAB_E2E_SEED`` repeats a run; the seed is printed and logged).
Afterwards every record each device buffered is stored by Home Assistant exactly
once: per device and hour the hub counted as many telemetry messages as the device
measured, and every access decision is in the audit history once.
"""

from __future__ import annotations

import json
import logging
import os
import random
import time

from tests.e2e.conftest import Lab
from tests.e2e.lab import adopt, audit, check_delivery, ha_device, wait_until

_LOGGER = logging.getLogger(__name__)

DEVICES = ["sim-hood-1", "sim-hood-2", "sim-machine-3"]
CHANNEL_OF = {
    "sim-hood-1": "face_velocity",
    "sim-hood-2": "face_velocity",
    "sim-machine-3": "spindle_current",
}
CARD = "04B0A7E5"
RESTARTS = 10
SWIPES = 12
PHASE = 36.0


def test_broker_restarts_lose_and_double_nothing(lab: Lab) -> None:
    seed = int(os.environ.get("FLUXILAB_E2E_SEED") or time.time_ns() % 1_000_000)
    print(f"broker restart seed: {seed}")
    _LOGGER.warning("broker restart seed: %s", seed)
    rng = random.Random(seed)
    admin = lab.hass.client
    agent = lab.agent("sim", devices=3, period=0.5)
    agent.start()
    adopt(admin, set(DEVICES))
    member = admin.call(
        "fluxilab",
        "add_member",
        {"name": "Grace Hopper", "cards": [CARD]},
        response=True,
    )
    for device_id in DEVICES:
        admin.call(
            "fluxilab",
            "grant_authorization",
            {
                "member_id": member["member_id"],
                "device_id": ha_device(admin, device_id)["id"],
            },
        )
    # Paired, with the member in the credential mirror for offline decisions.
    wait_until(
        lambda: all(
            (s := agent.status(d)["status"])["paired"] and s["credentials"] == 1
            for d in DEVICES
        ),
        30,
        "pairing and credential sync",
    )

    schedule = sorted(
        [(rng.uniform(1.0, PHASE), "restart") for _ in range(RESTARTS)]
        + [(rng.uniform(0.5, PHASE), "swipe") for _ in range(SWIPES)]
    )
    decisions: dict[str, list[dict]] = {d: [] for d in DEVICES}
    start = time.monotonic()
    for at, action in schedule:
        if (delay := start + at - time.monotonic()) > 0:
            time.sleep(delay)
        if action == "restart":
            lab.broker.stop()
            time.sleep(rng.uniform(0.1, 1.5))
            lab.broker.start()
        else:
            device_id = rng.choice(DEVICES)
            reply = json.loads(
                agent.control("swipe", "--device", device_id, "--card", CARD)
            )
            decisions[device_id].append(reply["decision"])
    phase = time.monotonic() - start

    # Everything buffered reaches the hub once the broker stays up.
    drained = time.monotonic()
    wait_until(
        lambda: all(agent.status(d)["status"]["buffered"] <= 2 for d in DEVICES),
        90,
        "the backlog to drain",
    )
    drain = time.monotonic() - drained
    starts = {
        d: [x for x in decisions[d] if x["reason"] != "session_ended"] for d in DEVICES
    }
    audits = {
        d: wait_until(
            lambda d=d: len(
                rows := [a for a in audit(admin, d) if a["kind"] == "decision"]
            )
            >= len(starts[d])
            and rows,
            30,
            f"the audit of {d}",
        )
        if starts[d]
        else []
        for d in DEVICES
    }
    agent.stop()
    lab.hass.stop()
    summary = check_delivery(lab.hass, agent, DEVICES, CHANNEL_OF)
    for device_id in DEVICES:
        assert all(x["granted"] for x in starts[device_id]), starts[device_id]
        assert len(audits[device_id]) == len(starts[device_id]), (
            device_id,
            audits[device_id],
            starts[device_id],
        )
        offline = sum(x["offline"] for x in starts[device_id])
        assert sum(a["buffered"] for a in audits[device_id]) == offline
    report = {
        "seed": seed,
        "phase_s": round(phase, 1),
        "drain_s": round(drain, 1),
        "swipes": {d: len(decisions[d]) for d in DEVICES},
        "offline_decisions": {d: sum(x["offline"] for x in starts[d]) for d in DEVICES},
        "devices": summary,
    }
    print(json.dumps(report))
    _LOGGER.warning("broker restarts: %s", json.dumps(report))
