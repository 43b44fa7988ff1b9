"""Benchmark: card-check round trip through a real Mosquitto and Home Assistant.

Not a test: it prints a table and a JSON line. Run it in the 3.14 env:

    scripts/run python scripts/bench_access.py [--quick] [--devices K]
        [--duration S] [--rates 10,100,500] [--bridge] [--bookings N [--pairs P]]

Home Assistant runs in this process (a real instance with a temp config dir, MQTT
connected to a Mosquitto started here, the FluxiLab integration with K adopted and
paired devices, a machine type, K members with cards and authorizations made through
the collections). The emulated devices run in a child process (``--load``), so their
work does not share an interpreter with Home Assistant; each has its own MQTT client
(connection and network thread), as real devices do, keeps at most one sealed
ACCESS_REQUEST outstanding and waits for the sealed reply. Requests are offered at a
fixed rate and handed to the next idle device; a request a device cannot take in time
counts as backpressure, one unanswered for 2 s as a timeout. The floor is the
broker's own round trip measured the same way: the same device clients send plain
echo requests to an echo client in a process of its own (like Home Assistant), which
subscribes and answers with Home Assistant's QoS; same broker, same run, same rate.

``--bridge``: the devices connect to a second Mosquitto, a site broker bridged to
the hub's with the bridge section FluxiLab generates (docs/BRIDGE.md; plain TCP on
loopback), while Home Assistant and the echo client stay on the hub's broker. Both
paths then cross the bridge twice, the echo requests at the QoS the bridge gives
access requests (0).

``--bookings N``: the bookings store holds N bookings when Home Assistant starts, as
a lab's does after months of use (issue 17: card checks must not slow down with the
bookings ahead): each device has one running now, its own member's (so every check
goes through the booking verdict and is granted as the booker's), and the rest are
hour-long slots of other members, back to back from two hours on. With ``--pairs P``
the bench runs P interleaved pairs, without bookings then with them, each a fresh
Home Assistant and broker, and prints per rate the card check's p50 and p99 and its
p99 over the same run's broker floor, and the ratio "with bookings / without" of
that p99/floor and of the p50.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import timedelta
import json
from pathlib import Path
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any
import uuid

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import custom_components  # noqa: E402, F401  (ours before the test plugin's)

TIMEOUT = 2.0


# --------------------------------------------------------------------------------
# Load generator (child process)
# --------------------------------------------------------------------------------


def _percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def nodelay(client: Any) -> None:
    """Turn Nagle off on a paho client's socket (paho leaves it on).

    With it on, a PUBACK followed at once by the next PUBLISH waits for the broker's
    delayed ACK (~40 ms) and both paths show that instead of their own latency. The
    broker has it off (set_tcp_nodelay); the agent's link does not yet.
    """
    if (sock := client.socket()) is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def run_echo(host: str, port: int) -> None:
    """Answer every echo request at once: the broker's round trip, without HA.

    Runs in a process of its own, as Home Assistant does, and subscribes and replies
    with the QoS Home Assistant uses for access requests (0) and replies (1).
    """
    import paho.mqtt.client as paho  # noqa: PLC0415

    subscribed = threading.Event()

    def on_message(client: Any, _u: Any, msg: Any) -> None:
        client.publish(msg.topic.removesuffix("/request") + "/reply", msg.payload, 1)

    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="bench-echo")
    client.on_message = on_message
    client.on_subscribe = lambda *_args: subscribed.set()
    client.connect(host, port)
    nodelay(client)
    client.subscribe("bench/echo/+/request", 0)
    client.loop_start()
    if not subscribed.wait(10):
        raise RuntimeError("the echo client was not subscribed")
    print("ready", flush=True)
    sys.stdin.read()  # until the load generator closes our stdin
    client.loop_stop()
    client.disconnect()


def run_load(spec: dict[str, Any]) -> dict[str, Any]:
    """Offer requests at each rate to the devices (and to the echo floor).

    Every emulated device has its own MQTT client (connection and network thread),
    as real devices do, and uses it for both paths: its sealed card checks to Home
    Assistant and its plain echo requests to the echo process. The two paths differ
    only in who answers.
    """
    import paho.mqtt.client as paho  # noqa: PLC0415

    from custom_components.fluxilab.protocol.security import (  # noqa: PLC0415
        KeyPair,
        open_envelope,
        seal,
    )

    echo = subprocess.Popen(
        [sys.executable, __file__, "--echo", spec["host"], str(spec["port"])],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    if echo.stdout is None or echo.stdin is None:
        raise RuntimeError("the echo process has no pipes")
    if echo.stdout.readline().strip() != b"ready":
        raise RuntimeError("the echo process did not start")
    hub_public = spec["hub_public"]
    lock = threading.Lock()
    pending: dict[str, tuple[float, dict[str, Any]]] = {}
    latencies: list[float] = []
    denied = [0]

    def on_message(_c: Any, device: dict[str, Any], msg: Any) -> None:
        now = time.perf_counter()
        if msg.topic == device["echo_rep"]:
            key = msg.payload.decode()
        else:
            body = open_envelope(device["keys"], msg.topic, json.loads(msg.payload))
            key = body["id"]
            if not body["granted"]:
                denied[0] += 1
        with lock:
            entry = pending.pop(key, None)
            if entry is not None:
                latencies.append(now - entry[0])
                entry[1]["busy"] = False

    devices: list[dict[str, Any]] = []
    for index, d in enumerate(spec["devices"]):
        device: dict[str, Any] = {
            "id": d["id"],
            "card": d["card"],
            "keys": KeyPair.from_private_b64(d["private"]).derive(hub_public),
            "req": f"fluxilab/{d['id']}/access/request",
            "rep": f"fluxilab/{d['id']}/access/reply",
            "echo_req": f"bench/echo/{index}/request",
            "echo_rep": f"bench/echo/{index}/reply",
            "subscribed": threading.Event(),
        }
        client = paho.Client(
            paho.CallbackAPIVersion.VERSION2,
            client_id=f"bench-{d['id']}",
            userdata=device,
        )
        client.on_message = on_message
        client.on_subscribe = lambda _c, dev, *_a: dev["subscribed"].set()
        client.connect(spec["host"], spec.get("device_port", spec["port"]))
        nodelay(client)
        client.subscribe([(device["rep"], 1), (device["echo_rep"], 1)])
        client.loop_start()
        device["client"] = client
        devices.append(device)
    for device in devices:
        if not device["subscribed"].wait(10):
            raise RuntimeError(f"{device['id']} was not subscribed")
    if "device_port" in spec:
        # Through a bridge the subscriptions reach the hub a moment later.
        time.sleep(1.0)

    def phase(rate: float, duration: float, floor: bool) -> dict[str, Any]:
        slots = devices
        for slot in slots:
            slot["busy"] = False
        latencies.clear()
        pending.clear()
        denied[0] = 0
        backpressure = timeouts = sent = 0
        start = time.perf_counter()
        n = 0
        while (due := start + n / rate) < start + duration:
            if (wait := due - time.perf_counter()) > 0:
                time.sleep(wait)
            n += 1
            now = time.perf_counter()
            with lock:
                for key, (t0, slot) in list(pending.items()):
                    if now - t0 > TIMEOUT:
                        del pending[key]
                        slot["busy"] = False
                        timeouts += 1
                slot = next((s for s in slots if not s["busy"]), None)
                if slot is None:
                    backpressure += 1
                    continue
                slot["busy"] = True
                request_id = uuid.uuid4().hex
                pending[request_id] = (now, slot)
            if floor:
                slot["client"].publish(slot["echo_req"], request_id, 1)
            else:
                body = {"id": request_id, "action": "check", "card": slot["card"]}
                envelope = seal(slot["keys"], slot["req"], body)
                slot["client"].publish(slot["req"], json.dumps(envelope), 1)
            sent += 1
        elapsed = time.perf_counter() - start
        deadline = time.perf_counter() + TIMEOUT
        while pending and time.perf_counter() < deadline:
            time.sleep(0.01)
        with lock:
            timeouts += len(pending)
            done = list(latencies)
        return {
            "rate": rate,
            "offered": n,
            "sent": sent,
            "answered": len(done),
            "achieved": round(len(done) / elapsed, 1),
            "p50_ms": round(1000 * _percentile(done, 50), 2),
            "p95_ms": round(1000 * _percentile(done, 95), 2),
            "p99_ms": round(1000 * _percentile(done, 99), 2),
            "mean_ms": round(1000 * statistics.fmean(done), 2) if done else None,
            "timeouts": timeouts,
            "backpressure": backpressure,
            "denied": 0 if floor else denied[0],
        }

    # Warm-up (also proves every device is paired and authorized).
    phase(min(spec["rates"]), 1.0, False)
    results = []
    for rate in spec["rates"]:
        results.append({"kind": "broker_echo", **phase(rate, spec["duration"], True)})
        results.append({"kind": "card_check", **phase(rate, spec["duration"], False)})
    for device in devices:
        device["client"].loop_stop()
        device["client"].disconnect()
    echo.stdin.close()
    echo.wait(10)
    return {"results": results}


# --------------------------------------------------------------------------------
# Home Assistant side (this process)
# --------------------------------------------------------------------------------


def seed_bookings(config_dir: Path, count: int, devices: int) -> None:
    """Write a bookings store of ``count`` bookings for the bench's devices.

    Written before FluxiLab starts, as the store a lab restarts with: the engine
    loads it like any other. Device ``bench-i``'s member is ``member_i`` (the id the
    member collection gives "Member i"; run_hub checks it).
    """
    from homeassistant.util import dt as dt_util  # noqa: PLC0415

    from custom_components.fluxilab.access.booking_store import (  # noqa: PLC0415
        BOOKINGS_STORAGE_KEY,
    )
    from custom_components.fluxilab.access.const import (  # noqa: PLC0415
        COLLECTION_STORAGE_VERSION,
    )

    now = dt_util.utcnow().replace(microsecond=0)
    first = now.replace(minute=0, second=0) + timedelta(hours=2)
    items = []
    for index in range(count):
        device = index % devices
        slot = index // devices
        if slot == 0:
            member, start = device, now - timedelta(minutes=5)
            end = start + timedelta(hours=1)
        else:
            member = (device + slot) % devices
            start = first + timedelta(hours=slot - 1)
            end = start + timedelta(hours=1)
        items.append(
            {
                "id": f"bench-{device}_{start.isoformat()[:16]}",
                "device_id": f"bench-{device}",
                "member_id": f"member_{member}",
                "start": start.isoformat(),
                "end": end.isoformat(),
                "released": False,
                "no_show": False,
                "created": now.isoformat(),
            }
        )
    storage = config_dir / ".storage"
    storage.mkdir(parents=True, exist_ok=True)
    (storage / BOOKINGS_STORAGE_KEY).write_text(
        json.dumps(
            {
                "version": COLLECTION_STORAGE_VERSION,
                "minor_version": 1,
                "key": BOOKINGS_STORAGE_KEY,
                "data": {"items": items},
            }
        )
    )


async def run_hub(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Start Mosquitto and Home Assistant, adopt K devices, run the load child."""
    from homeassistant import loader  # noqa: PLC0415
    from homeassistant.setup import async_setup_component  # noqa: PLC0415
    from homeassistant.util import dt as dt_util  # noqa: PLC0415
    from pytest_homeassistant_custom_component.common import (  # noqa: PLC0415
        MockConfigEntry,
        async_test_home_assistant,
    )

    from custom_components.fluxilab.access.engine import ACCESS_ENGINE  # noqa: PLC0415
    from custom_components.fluxilab.const import (  # noqa: PLC0415
        CONF_BASE_TOPIC,
        CONF_DEVICE_ID,
        CONF_DEVICE_KEY,
        CONF_FINGERPRINT,
        CONF_MACHINE_TYPE,
        DOMAIN,
    )
    from custom_components.fluxilab.device.broker import (  # noqa: PLC0415
        BridgeTarget,
        BridgeTopic,
        BridgeUser,
        bridge_conf,
        bridge_user,
    )
    from custom_components.fluxilab.hub import async_get_hub_keys  # noqa: PLC0415
    from custom_components.fluxilab.protocol.security import KeyPair  # noqa: PLC0415
    from tests.mosquitto import Mosquitto, free_port  # noqa: PLC0415

    (workdir / "mosquitto").mkdir()
    site: Mosquitto | None = None
    broker = Mosquitto(workdir / "mosquitto")
    # Without it Nagle's algorithm holds small packets for tens of milliseconds.
    with broker.config.open("a") as config:
        config.write("set_tcp_nodelay true\n")
    broker.start()
    config_dir = workdir / "config"
    (config_dir / "custom_components").mkdir(parents=True)
    (config_dir / "configuration.yaml").write_text("")
    if args.bookings:
        seed_bookings(config_dir, args.bookings, args.devices)
    (config_dir / "custom_components" / "fluxilab").symlink_to(
        REPO / "custom_components" / "fluxilab"
    )
    try:
        async with async_test_home_assistant(config_dir=str(config_dir)) as hass:
            hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)
            MockConfigEntry(
                domain="mqtt", data={"broker": broker.host, "port": broker.port}
            ).add_to_hass(hass)
            # Our own loopback port: a dev instance may hold 8123.
            http = {"server_host": ["127.0.0.1"], "server_port": free_port()}
            for domain, conf in (("http", {"http": http}), ("mqtt", {}), (DOMAIN, {})):
                if not await async_setup_component(hass, domain, conf):
                    raise RuntimeError(f"{domain} did not set up")
            await hass.async_block_till_done()
            engine = hass.data[ACCESS_ENGINE]
            await engine.machine_types.async_create_item(
                {"name": "Laser", "session_timeout": 3600, "grace_period": 60}
            )
            hub = await async_get_hub_keys(hass)
            devices = []
            for index in range(args.devices):
                keys = KeyPair.generate()
                device_id = f"bench-{index}"
                card = f"card{index:04d}"
                member = await engine.members.async_create_item(
                    {"name": f"Member {index}", "cards": [card]}
                )
                if member["id"] != f"member_{index}":
                    raise RuntimeError(f"member id {member['id']}: bookings not theirs")
                await engine.authorizations.async_create_item(
                    {"member_id": member["id"], "machine_type_id": "laser"}
                )
                entry = MockConfigEntry(
                    domain=DOMAIN,
                    title=device_id,
                    unique_id=device_id,
                    data={
                        CONF_DEVICE_ID: device_id,
                        CONF_BASE_TOPIC: "fluxilab",
                        CONF_DEVICE_KEY: keys.public_b64,
                        CONF_FINGERPRINT: "bench",
                    },
                    options={CONF_MACHINE_TYPE: "laser"},
                )
                entry.add_to_hass(hass)
                if not await hass.config_entries.async_setup(entry.entry_id):
                    raise RuntimeError(f"device {device_id} did not set up")
                devices.append(
                    {"id": device_id, "card": card, "private": keys.private_b64()}
                )
            await hass.async_block_till_done()
            if len(engine.bookings.data) != args.bookings:
                raise RuntimeError(
                    f"{len(engine.bookings.data)} bookings loaded, not {args.bookings}"
                )
            if args.bookings >= args.devices:
                now = dt_util.utcnow()
                for index in range(args.devices):
                    running = engine.bookings.current_or_next(f"bench-{index}", now)
                    if running is None or running.member_id != f"member_{index}":
                        raise RuntimeError(f"bench-{index} is not booked by its member")
            if args.bridge:
                user = bridge_user(
                    "bench",
                    [dict(e.data) for e in hass.config_entries.async_entries(DOMAIN)],
                )
                echo = (
                    BridgeTopic(topic="bench/echo/+/request", outgoing=True, qos=0),
                    BridgeTopic(topic="bench/echo/+/reply", outgoing=False),
                )
                user = BridgeUser(
                    site=user.site,
                    username=user.username,
                    device_ids=user.device_ids,
                    topics=(*user.topics, *echo),
                )
                (workdir / "site").mkdir()
                while (site_port := free_port()) == broker.port:
                    pass
                site = Mosquitto(workdir / "site", port=site_port)
                with site.config.open("a") as config:
                    config.write(
                        bridge_conf(
                            user,
                            "bench",
                            BridgeTarget(host=broker.host, port=broker.port, tls=False),
                        )
                    )
                site.start()
                await _wait_for_bridge(broker.log, user.username)
            spec = {
                "host": broker.host,
                "port": broker.port,
                "hub_public": hub.public_b64,
                "devices": devices,
                "rates": args.rates,
                "duration": args.duration,
            }
            if site is not None:
                spec["device_port"] = site.port
            child = await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "--load",
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
            out, _ = await child.communicate(json.dumps(spec).encode())
            if child.returncode != 0:
                raise RuntimeError("the load generator failed")
            result: dict[str, Any] = json.loads(out)
            for entry in hass.config_entries.async_entries(DOMAIN):
                await hass.config_entries.async_unload(entry.entry_id)
            await hass.async_block_till_done()
            await hass.async_stop(force=True)
    finally:
        if site is not None:
            site.stop()
        broker.stop()
    result["devices"] = args.devices
    result["bridge"] = bool(args.bridge)
    result["bookings"] = args.bookings
    return result


async def _wait_for_bridge(log: Path, username: str) -> None:
    """Wait until the hub's broker logs the site's bridge connecting."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if log.exists() and f" as {username} " in log.read_text():
            return
        await asyncio.sleep(0.1)
    raise RuntimeError("the site broker's bridge did not connect")


def print_table(result: dict[str, Any]) -> None:
    """Print the figures as a table, then as one JSON line."""
    header = (
        f"{'kind':<12}{'rate/s':>8}{'achieved':>10}{'p50 ms':>9}{'p95 ms':>9}"
        f"{'p99 ms':>9}{'timeouts':>10}{'backpr.':>9}{'denied':>8}"
    )
    bridged = ", through a bridged site broker" if result.get("bridge") else ""
    booked = f", {result['bookings']:,} bookings" if result.get("bookings") else ""
    print(
        f"K = {result['devices']} devices, one request outstanding each"
        f"{bridged}{booked}"
    )
    print(header)
    print("-" * len(header))
    for row in result["results"]:
        print(
            f"{row['kind']:<12}{row['rate']:>8}{row['achieved']:>10}"
            f"{row['p50_ms']:>9}{row['p95_ms']:>9}{row['p99_ms']:>9}"
            f"{row['timeouts']:>10}{row['backpressure']:>9}{row['denied']:>8}"
        )
    print(json.dumps(result))


def compare_bookings(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per rate: the card check with bookings against without, over the runs' pairs.

    Each run's card-check p99 is taken over its own broker floor at the same rate,
    so a pair's two runs are compared on what FluxiLab adds, not on the machine's
    mood; the ratio is of the medians over the pairs.
    """

    def rows(result: dict[str, Any], kind: str) -> dict[float, dict[str, Any]]:
        return {row["rate"]: row for row in result["results"] if row["kind"] == kind}

    rates: dict[float, dict[str, list[float]]] = {}
    for result in runs:
        side = "with" if result["bookings"] else "without"
        floors = rows(result, "broker_echo")
        for rate, row in rows(result, "card_check").items():
            figures = rates.setdefault(rate, {})
            floor = floors[rate]["p99_ms"] or 0.01
            figures.setdefault(f"{side}_p50_ms", []).append(row["p50_ms"])
            figures.setdefault(f"{side}_p99_ms", []).append(row["p99_ms"])
            figures.setdefault(f"{side}_p99_over_floor", []).append(
                round(row["p99_ms"] / floor, 2)
            )
    table = []
    for rate, figures in sorted(rates.items()):
        median = {key: statistics.median(values) for key, values in figures.items()}
        table.append(
            {
                "rate": rate,
                **figures,
                "p50_ratio": round(median["with_p50_ms"] / median["without_p50_ms"], 2),
                "p99_over_floor_ratio": round(
                    median["with_p99_over_floor"] / median["without_p99_over_floor"], 2
                ),
            }
        )
    return {"comparison": "bookings", "rates": table}


def print_comparison(comparison: dict[str, Any], bookings: int) -> None:
    """Print the with/without table, then the figures as one JSON line."""
    print(f"Card checks with {bookings:,} bookings in the store against none")
    header = (
        f"{'rate/s':>8}{'p50 without':>13}{'p50 with':>10}{'p99/floor without':>19}"
        f"{'p99/floor with':>16}{'ratio':>7}"
    )
    print(header)
    print("-" * len(header))
    for row in comparison["rates"]:
        median = {
            key: round(statistics.median(row[key]), 2)
            for key in (
                "without_p50_ms",
                "with_p50_ms",
                "without_p99_over_floor",
                "with_p99_over_floor",
            )
        }
        print(
            f"{row['rate']:>8}{median['without_p50_ms']:>13}{median['with_p50_ms']:>10}"
            f"{median['without_p99_over_floor']:>19}{median['with_p99_over_floor']:>16}"
            f"{row['p99_over_floor_ratio']:>7}"
        )
    print(json.dumps(comparison))


def main() -> None:
    """Parse arguments and run the benchmark (or, as a child, the load)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=20)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--rates", default="10,100,500")
    parser.add_argument("--quick", action="store_true", help="5 s per rate")
    parser.add_argument(
        "--bridge", action="store_true", help="devices behind a bridged site broker"
    )
    parser.add_argument(
        "--bookings", type=int, default=0, help="bookings in the store at start"
    )
    parser.add_argument(
        "--pairs",
        type=int,
        default=0,
        help="interleaved pairs without/with --bookings (a comparison)",
    )
    parser.add_argument("--load", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--echo", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.echo:
        run_echo(args.echo[0], int(args.echo[1]))
        return
    if args.load:
        print(json.dumps(run_load(json.loads(sys.stdin.read()))))
        return
    args.rates = [float(rate) for rate in args.rates.split(",")]
    if args.quick:
        args.duration = 5.0
    if args.pairs:
        if not args.bookings:
            parser.error("--pairs compares runs with --bookings N against none")
        runs = []
        for _pair in range(args.pairs):
            for bookings in (0, args.bookings):
                run_args = argparse.Namespace(**{**vars(args), "bookings": bookings})
                with tempfile.TemporaryDirectory(prefix="fluxilab-bench-") as tmp:
                    runs.append(asyncio.run(run_hub(run_args, Path(tmp))))
                print_table(runs[-1])
        comparison = compare_bookings(runs)
        comparison["runs"] = runs
        print_comparison(comparison, args.bookings)
        return
    with tempfile.TemporaryDirectory(prefix="fluxilab-bench-") as tmp:
        result = asyncio.run(run_hub(args, Path(tmp)))
    print_table(result)


if __name__ == "__main__":
    main()
