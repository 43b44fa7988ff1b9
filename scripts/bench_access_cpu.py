"""CPU per card check inside Home Assistant, before the reply and after it.

    scripts/run python scripts/bench_access_cpu.py                  # both transports
    scripts/run python scripts/bench_access_cpu.py --checks 3000 --members 200

The lab benches (bench_access_lab.py) measure latency through a real broker, which
on a busy shared machine is mostly the kernel's scheduling. This one measures the
event loop's own CPU (``time.process_time``, so a preempted process does not count)
for each check, in Home Assistant's test harness (the MQTT client mocked, no
recorder): from the request message handed to the device's handler to the reply
handed to MQTT (``reply``), and from there until everything the check set off is
done (``after``: audit entry, events, the event entity, the tag's scan). ``boards-mqtt``
hands the board's query to HA's MQTT dispatch instead (``async_fire_mqtt_message``):
every subscription on ``machine/<id>`` then runs, HA's discovery of the manifest's
topics included, as it does for a real board. Checks are
sent one at a time; one in 25 is a card nobody has. ``idle`` is what waiting for
the loop to settle costs with nothing to do (subtracted from ``after``).

``--lean`` turns off what the test harness adds and a running Home Assistant does
not do: asyncio's debug mode (a stack walk per task and callback) and logging below
warning (the dev lab's ``logger: default: warning``; the harness logs every bus event).
The default keeps the harness as it is, as the earlier figures were measured.

It runs the test suite's own fixtures (tests/integration/...), through pytest; the
same file runs on older commits, so "before" and "after" are measured alike.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
from pathlib import Path
import statistics
import sys
import time
from typing import Any

REPO = Path(__file__).resolve().parent.parent
FIRST = ["homeassistant", "tests.conftest"]
"""Home Assistant's test plugin (its entry point) before any module that imports
the integration."""
PLUGINS = {
    "agents": ["tests.integration.conftest", "tests.integration.access.conftest"],
    "boards": ["tests.integration.conftest", "tests.integration.test_fabomatic"],
    "boards-mqtt": ["tests.integration.conftest", "tests.integration.test_fabomatic"],
}
UNKNOWN_EVERY = 25


def _figures(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "mean_ms": round(1000 * statistics.fmean(ordered), 4),
        "p50_ms": round(1000 * ordered[len(ordered) // 2], 4),
        "p99_ms": round(1000 * ordered[int(len(ordered) * 0.99)], 4),
    }


async def _seed(hass: Any, engine: Any, type_id: str, members: int) -> list[str]:
    """Members with two cards each, one in two authorized for the type."""
    cards = []
    for number in range(members):
        card = f"b{number:07x}"
        member = await engine.members.async_create_item(
            {"name": f"Member {number}", "cards": [card, f"c{number:07x}"]}
        )
        if number % 2 == 0:
            await engine.authorizations.async_create_item(
                {"member_id": member["id"], "machine_type_id": type_id}
            )
        cards.append(card)
    await hass.async_block_till_done()
    return cards


async def _lean(hass: Any) -> None:
    """With --lean: no asyncio debug mode, no log records below warning."""
    if os.environ.get("BENCH_LEAN") == "1":
        asyncio.get_running_loop().set_debug(False)
        logging.disable(logging.INFO)
        # The bus caches whether it logs each event (and builds its repr).
        hass.bus.async_fire("logging_changed")
        await hass.async_block_till_done()


async def _idle(hass: Any, rounds: int = 200) -> float:
    started = time.process_time()
    for _ in range(rounds):
        await hass.async_block_till_done()
    return (time.process_time() - started) / rounds


async def _run(hass: Any, checks: int, send: Any, replied: list[float]) -> dict:
    await _lean(hass)
    idle = await _idle(hass)
    reply, after = [], []
    for number in range(checks):
        handle = send(number)
        started = time.process_time()
        handle()
        for _turn in range(10_000):  # the reply comes within a few loop turns
            if len(replied) > number:
                break
            await asyncio.sleep(0)
        else:
            raise RuntimeError(f"check {number} was never answered")
        await hass.async_block_till_done()
        done = time.process_time()
        reply.append(replied[number] - started)
        after.append(max(done - replied[number] - idle, 0.0))
    return {
        "checks": checks,
        "idle_ms": round(1000 * idle, 4),
        "reply": _figures(reply),
        "after": _figures(after),
        "total_mean_ms": round(
            1000 * (statistics.fmean(reply) + statistics.fmean(after)), 4
        ),
    }


async def test_agents(hass: Any, engine: Any, device: Any, device_keys: Any) -> None:
    """Sealed checks of a signed agent (device.py's request path)."""
    from homeassistant.components.mqtt.models import ReceiveMessage  # noqa: PLC0415

    from custom_components.fluxilab.hub import async_get_hub_keys  # noqa: PLC0415
    from custom_components.fluxilab.protocol.security import seal  # noqa: PLC0415
    from custom_components.fluxilab.protocol.topics import Channel  # noqa: PLC0415

    device.values["face_velocity"] = 0.6
    cards = await _seed(hass, engine, "fumehood", int(os.environ["BENCH_MEMBERS"]))
    hub = await async_get_hub_keys(hass)
    keys = device_keys.derive(hub.public_b64)
    topic = device.topics.topic(Channel.ACCESS_REQUEST)
    replied: list[float] = []
    publish = device.async_send

    async def spy(channel: Any, body: dict[str, Any], **kwargs: Any) -> None:
        if channel is Channel.ACCESS_REPLY:
            replied.append(time.process_time())
        await publish(channel, body, **kwargs)

    device.async_send = spy

    def send(number: int) -> Any:
        card = cards[number % len(cards)]
        if number % UNKNOWN_EVERY == UNKNOWN_EVERY - 1:
            card = "ffff0000"
        body = {"id": f"r{number}", "action": "check", "card": card}
        payload = json.dumps(seal(keys, topic, body)).encode()
        msg = ReceiveMessage(topic, payload, 0, False, topic, time.time())
        return lambda: device._handle_access_request(msg)

    result = await _run(hass, int(os.environ["BENCH_CHECKS"]), send, replied)
    print("BENCH_RESULT agents " + json.dumps(result))


async def _boards(
    hass: Any, engine: Any, board: Any, mqtt_mock: Any, *, dispatch: bool
) -> None:
    from homeassistant.components.mqtt.models import ReceiveMessage  # noqa: PLC0415
    from pytest_homeassistant_custom_component.common import (  # noqa: PLC0415
        async_fire_mqtt_message,
    )

    from custom_components.fluxilab.device.fabomatic import (  # noqa: PLC0415
        FABOMATIC_BOARDS,
    )

    cards = await _seed(hass, engine, "laser", int(os.environ["BENCH_MEMBERS"]))
    runner = hass.data[FABOMATIC_BOARDS][board.device_id]
    replied: list[float] = []
    reply_topic = f"machine/{runner.machine_id}/reply"

    async def published(topic: str, *_args: Any, **_kwargs: Any) -> None:
        # A coroutine, as the client's publish is: a plain function's None would
        # fail the board's await and log a warning per check (earlier figures).
        if topic == reply_topic:
            replied.append(time.process_time())

    mqtt_mock.async_publish.side_effect = published
    topic = f"machine/{runner.machine_id}"

    def send(number: int) -> Any:
        card = cards[number % len(cards)]
        if number % UNKNOWN_EVERY == UNKNOWN_EVERY - 1:
            card = "ffff0000"
        payload = json.dumps({"action": "checkuser", "uid": card}).encode()
        if dispatch:
            return lambda: async_fire_mqtt_message(hass, topic, payload)
        msg = ReceiveMessage(topic, payload, 0, False, topic, time.time())
        # handle_query since one machine/+ subscription serves every board.
        handle = getattr(runner, "handle_query", None) or runner._handle_query
        return lambda: handle(msg)

    result = await _run(hass, int(os.environ["BENCH_CHECKS"]), send, replied)
    name = "boards-mqtt" if dispatch else "boards"
    print(f"BENCH_RESULT {name} " + json.dumps(result))


async def test_boards(hass: Any, engine: Any, board: Any, mqtt_mock: Any) -> None:
    """checkuser queries of a Fab-O-Matic board (fabomatic.py)."""
    await _boards(hass, engine, board, mqtt_mock, dispatch=False)


async def test_boards_mqtt(hass: Any, engine: Any, board: Any, mqtt_mock: Any) -> None:
    """The same queries through HA's MQTT dispatch (discovery's subscription too)."""
    await _boards(hass, engine, board, mqtt_mock, dispatch=True)


def main() -> int:
    """Run each transport's probe in its own pytest session; print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=2000)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--transports", default="agents,boards,boards-mqtt")
    parser.add_argument(
        "--lean", action="store_true", help="no asyncio debug mode, no debug logs"
    )
    args = parser.parse_args()
    import subprocess  # noqa: PLC0415

    results: dict[str, Any] = {}
    for transport in args.transports.split(","):
        command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-s"]
        for plugin in [*FIRST, *PLUGINS[transport]]:
            command += ["-p", plugin]
        test = transport.replace("-", "_")
        command += [f"{__file__}::test_{test}", "-o", "timeout=1800"]
        env = {
            **os.environ,
            "BENCH_CHECKS": str(args.checks),
            "BENCH_MEMBERS": str(args.members),
            "BENCH_LEAN": "1" if args.lean else "0",
        }
        out = subprocess.run(
            command, cwd=REPO, env=env, capture_output=True, text=True, check=False
        )
        for line in out.stdout.splitlines():
            if line.startswith("BENCH_RESULT "):
                _tag, name, document = line.split(" ", 2)
                results[name] = json.loads(document)
        if transport not in results:
            print(out.stdout[-3000:], out.stderr[-3000:], file=sys.stderr)
            return 1
    print(
        f"{'transport':<12}{'checks':>7}{'reply mean':>12}{'p50':>8}{'p99':>8}"
        f"{'after mean':>12}{'p50':>8}{'p99':>8}{'total':>8}  (CPU ms per check)"
    )
    for name, found in results.items():
        reply, after = found["reply"], found["after"]
        print(
            f"{name:<12}{found['checks']:>7}{reply['mean_ms']:>12}{reply['p50_ms']:>8}"
            f"{reply['p99_ms']:>8}{after['mean_ms']:>12}{after['p50_ms']:>8}"
            f"{after['p99_ms']:>8}{found['total_mean_ms']:>8}"
        )
    print(json.dumps({"lean": args.lean, **results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
