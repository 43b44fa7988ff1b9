#!/usr/bin/env python3
"""Edge agent benchmark (figures, not a test).

Measures, against a real Mosquitto on loopback:
  * buffer write rate: telemetry records/s (synchronous=NORMAL) and access
    records/s (synchronous=FULL) into the SQLite buffer;
  * replay rate: a pre-filled buffer replayed by a real agent to a stub acker in
    another process that verifies every envelope (HMAC) and acks by seq (signed);
  * agent RSS: ``fluxilab-agent simulate`` with 1 device, 1 device with its
    gateway (before and after a first page view: the gateway loads on its first
    connection), and 50 devices, after they have run for a while; and one device
    as deployed (``fluxilab-agent run``): its HTTPS gateway with a self-signed
    certificate in front of a device UI, before use and after a local login, a
    proxied page and a proxied WebSocket that stays open. The agent runs
    from compiled bytecode, as an installed one does (pip and Debian's packaging
    byte-compile on install): the sources are compiled into a private
    ``PYTHONPYCACHEPREFIX`` first, whatever ``PYTHONDONTWRITEBYTECODE`` says, so
    the figure is not the compiler's memory (about 2 MiB once the gateway loads).

Prints a table and a JSON line. Run from the repository root:
    ~/.cache/fluxilab/agent-venv/bin/python scripts/bench_agent.py
    scripts/run python scripts/bench_agent.py
The devices run Python 3.11 (Raspberry Pi OS); scripts/bench measures the RSS on the
agent venv's 3.11 first (``--rss-only --json-out F``) and hands that run to the
3.14 run (``--include F``), so one table shows both.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import multiprocessing
import os
from pathlib import Path
import platform
import subprocess
import sys
import tempfile
import time
from typing import Any
import urllib.request

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fluxilab_agent.agent import Agent  # noqa: E402
from fluxilab_agent.buffer import RecordBuffer  # noqa: E402
from fluxilab_agent.cli import simulated_config  # noqa: E402
from fluxilab_agent.config import BufferConfig  # noqa: E402
from fluxilab_agent.mirror import CredentialMirror, hash_secret  # noqa: E402
from fluxilab_agent.state import MIRROR_FILE  # noqa: E402
from fluxilab_protocol.schemas import RecordKind  # noqa: E402
from tests.mosquitto import Mosquitto, free_port  # noqa: E402

VALUES = {
    "face_velocity": 0.512,
    "sash_height": 40.2,
    "temperature": 21.6,
    "voc": 0.41,
    "fan_running": True,
}


def bench_buffer_writes(workdir: Path, count: int) -> dict[str, float]:
    """Records/s appended one by one (each its own transaction)."""
    buffer = RecordBuffer(workdir / "write.sqlite", max_records=10 * count)
    start = time.perf_counter()
    for _ in range(count):
        buffer.append(RecordKind.TELEMETRY, VALUES)
    telemetry = count / (time.perf_counter() - start)
    access_count = max(100, count // 50)
    start = time.perf_counter()
    for _ in range(access_count):
        buffer.append(RecordKind.ACCESS, {"action": "session_start", "offline": True})
    access = access_count / (time.perf_counter() - start)
    buffer.close()
    return {"telemetry_per_s": telemetry, "access_per_s": access}


def _acker(host: str, port: int, ready: Any) -> None:
    """Stub hub in its own process: verify each backlog envelope, ack signed."""
    import paho.mqtt.client as mqtt  # noqa: PLC0415
    from paho.mqtt.enums import CallbackAPIVersion  # noqa: PLC0415

    from fluxilab_protocol.security import (  # noqa: PLC0415
        KeyPair,
        ReplayGuard,
        open_envelope,
        seal,
    )
    from fluxilab_protocol.topics import (  # noqa: PLC0415
        Channel,
        DeviceTopics,
        hub_topic,
        parse_topic,
    )

    hub = KeyPair.generate()
    keys: dict[str, Any] = {}
    guard = ReplayGuard()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-acker")
    client.max_inflight_messages_set(1000)

    def on_connect(c: mqtt.Client, *_: Any) -> None:
        c.subscribe("fluxilab/+/#", qos=1)
        c.publish(
            hub_topic("fluxilab"),
            json.dumps({"v": 1, "key": hub.public_b64}),
            qos=1,
            retain=True,
        )
        ready.set()

    def on_message(c: mqtt.Client, _u: Any, msg: Any) -> None:
        parsed = parse_topic("fluxilab", msg.topic)
        if parsed is None:
            return
        device_id, channel = parsed
        if channel is Channel.ANNOUNCE:
            keys[device_id] = hub.derive(json.loads(msg.payload)["key"])
            return
        if channel not in (Channel.BACKLOG, Channel.TELEMETRY):
            return
        body = open_envelope(
            keys[device_id], msg.topic, json.loads(msg.payload), guard=guard
        )
        seqs = (
            [record["seq"] for record in body["records"]]
            if channel is Channel.BACKLOG
            else [body["seq"]]
        )
        topic = DeviceTopics("fluxilab", device_id).topic(Channel.ACK)
        c.publish(
            topic, json.dumps(seal(keys[device_id], topic, {"seqs": seqs})), qos=1
        )

    client.on_connect = on_connect
    client.on_message = on_message
    client.connect(host, port)
    client.loop_forever()


async def _replay(broker: Mosquitto, data_dir: Path, count: int) -> dict[str, float]:
    config = simulated_config(
        1, data_dir=data_dir, host=broker.host, port=broker.port, period=3600
    )
    config = dataclasses.replace(
        config,
        channels=(),
        buffer=BufferConfig(
            max_records=10 * count,
            batch_size=1000,
            max_in_flight=8,
            resend_after=10.0,
            replay_interval=0.05,
        ),
    )
    buffer = RecordBuffer(data_dir / config.device.id / "buffer.sqlite")
    for i in range(count):
        buffer.append(RecordKind.TELEMETRY, VALUES, ts=1_700_000_000 + i)
    buffer.close()
    agent = Agent(config)
    acked = 0
    first: float | None = None
    done = asyncio.Event()

    def on_ack(seqs: list[int]) -> None:
        nonlocal acked, first
        if first is None:
            first = time.perf_counter()
        acked += len(seqs)
        if len(agent.buffer) == 0:
            done.set()

    agent.on_ack = on_ack
    started = time.perf_counter()
    await agent.start()
    try:
        await asyncio.wait_for(done.wait(), 300)
    finally:
        end = time.perf_counter()
        await agent.stop()
    return {
        "records": count,
        "records_per_s": count / (end - started),
        "seconds": end - started,
        "first_ack_after_s": (first or end) - started,
    }


def bench_replay(workdir: Path, count: int) -> dict[str, float]:
    """Replay ``count`` buffered records through Mosquitto to the stub acker."""
    broker = Mosquitto(workdir)
    broker.start()
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    acker = ctx.Process(target=_acker, args=(broker.host, broker.port, ready))
    acker.start()
    try:
        if not ready.wait(30):
            raise RuntimeError("the stub acker did not start")
        return asyncio.run(_replay(broker, workdir / "replay", count))
    finally:
        acker.terminate()
        acker.join(10)
        broker.stop()


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def bytecode_env(pycache: Path) -> dict[str, str]:
    """An environment that runs the agent from bytecode compiled into ``pycache``.

    Every module the agent imports (the standard library's too: a pycache prefix
    holds them all) is compiled here first, so the measured agent does not compile.
    """
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "PYTHONPYCACHEPREFIX": str(pycache),
    }
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    modules = "fluxilab_agent.cli, fluxilab_agent.gateway, fluxilab_agent.certificate"
    subprocess.run(
        [sys.executable, "-c", f"import {modules}"], cwd=REPO, env=env, check=True
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "compileall",
            "-q",
            "fluxilab_agent",
            "fluxilab_protocol",
        ],
        cwd=REPO,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return env


def bench_rss(
    workdir: Path,
    devices: int,
    *,
    gateway: bool,
    settle: float,
    env: dict[str, str],
) -> tuple[float, float | None]:
    """RSS (MiB) of ``fluxilab-agent simulate`` after ``settle`` seconds.

    With the gateway, also the RSS after one page of it was fetched (second value).
    """
    broker = Mosquitto(workdir)
    broker.start()
    args = [
        sys.executable,
        "-m",
        "fluxilab_agent",
        "simulate",
        "--devices",
        str(devices),
        "--data-dir",
        str(workdir / "sim"),
        "--broker",
        f"{broker.host}:{broker.port}",
    ]
    port = free_port()
    if gateway:
        args += ["--base-port", str(port)]
    process = subprocess.Popen(
        args,
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(settle)
        if process.poll() is not None:
            raise RuntimeError(f"simulate exited with {process.returncode}")
        idle = _rss_kib(process.pid) / 1024
        if not gateway:
            return idle, None
        url = f"http://127.0.0.1:{port}/_fluxilab/login"
        with urllib.request.urlopen(url, timeout=30) as response:
            response.read()
        time.sleep(1.0)
        return idle, _rss_kib(process.pid) / 1024
    finally:
        process.terminate()
        process.wait(30)
        broker.stop()


BENCH_PIN = "2468-bench"
DEPLOYED_CONFIG = """\
data_dir = "{data}"

[device]
id = "bench-1"
name = "Bench fumehood"
kind = "fumehood"
ui_url = "https://127.0.0.1:{port}/"

[broker]
host = "{broker_host}"
port = {broker_port}

[[channels]]
key = "face_velocity"
name = "Face velocity"
type = "float"
unit = "m/s"
period = 1.0
source = {{ type = "simulated", signal = "face_velocity" }}

[gateway]
host = "127.0.0.1"
port = {port}

[ui]
upstream = "http://127.0.0.1:{ui_port}"
"""


async def _use_deployed_gateway(pid: int, port: int, hold: float) -> float:
    """Sign in, open a proxied page and a proxied WebSocket; RSS while it is open."""
    import aiohttp  # noqa: PLC0415  # the bench's client, not the agent's

    base = f"https://127.0.0.1:{port}"
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(ssl=False),  # self-signed, on loopback
        cookie_jar=aiohttp.CookieJar(unsafe=True),
    ) as http:
        async with http.post(
            base + "/_fluxilab/login",
            data={"login": "m-bench", "secret": BENCH_PIN, "next": "/"},
        ) as response:
            page = await response.text()
            if response.status != 200 or "device UI" not in page:
                raise RuntimeError(f"login or proxied page failed: {response.status}")
        async with http.ws_connect(base + "/ws", origin=base) as ws:
            if await ws.receive_str(timeout=30) != "ui hello":
                raise RuntimeError("the proxied WebSocket did not answer")
            await ws.send_str("ping")
            if await ws.receive_str(timeout=30) != "ui echo ping":
                raise RuntimeError("the proxied WebSocket did not echo")
            await asyncio.sleep(hold)
            return _rss_kib(pid) / 1024


async def _deployed(
    workdir: Path, broker: Mosquitto, settle: float, env: dict[str, str]
) -> tuple[float, float]:
    from aiohttp import web  # noqa: PLC0415  # the device's own UI, not the agent

    async def page(_request: web.Request) -> web.Response:
        return web.Response(
            text="<!doctype html><title>UI</title><p>The device UI</p>",
            content_type="text/html",
        )

    async def socket(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str("ui hello")
        async for message in ws:
            if message.type is web.WSMsgType.TEXT:
                await ws.send_str("ui echo " + message.data)
        return ws

    app = web.Application()
    app.router.add_get("/", page)
    app.router.add_get("/ws", socket)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    ui_port = runner.addresses[0][1]
    port = free_port()
    data = workdir / "data"
    data.mkdir()
    CredentialMirror(data / MIRROR_FILE).replace(
        {
            "generation": 1,
            "members": [
                {
                    "id": "m-bench",
                    "name": "Bench Member",
                    "level": "user",
                    "cards": ["card-bench"],
                    "pin_hash": hash_secret(BENCH_PIN),
                    "maintenance": False,
                }
            ],
        }
    )
    config = workdir / "agent.toml"
    config.write_text(
        DEPLOYED_CONFIG.format(
            data=data,
            port=port,
            ui_port=ui_port,
            broker_host=broker.host,
            broker_port=broker.port,
        )
    )
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "fluxilab_agent", "run", "--config", str(config)),
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        await asyncio.sleep(settle)
        if process.returncode is not None:
            raise RuntimeError(f"run exited with {process.returncode}")
        idle = _rss_kib(process.pid) / 1024
        used = await _use_deployed_gateway(process.pid, port, hold=1.0)
        return idle, used
    finally:
        if process.returncode is None:
            process.terminate()
        await asyncio.wait_for(process.wait(), 30)
        await runner.cleanup()


def bench_rss_deployed(
    workdir: Path, settle: float, env: dict[str, str]
) -> tuple[float, float]:
    """RSS (MiB) of one deployed agent: before use, and in use (see the docstring)."""
    broker = Mosquitto(workdir)
    broker.start()
    try:
        return asyncio.run(_deployed(workdir, broker, settle, env))
    finally:
        broker.stop()


def measure_rss(root: Path, settle: float) -> dict[str, float]:
    """Every RSS figure of this interpreter."""
    for name in ("warm", "warm-deployed", "rss1", "rss1gw", "rss50", "deployed"):
        (root / name).mkdir()
    env = bytecode_env(root / "pycache")
    # One run of each first, so what the agent imports only at run time (and only
    # with TLS) is compiled too.
    bench_rss(root / "warm", 1, gateway=True, settle=min(settle, 3.0), env=env)
    bench_rss_deployed(root / "warm-deployed", min(settle, 3.0), env)
    one, _ = bench_rss(root / "rss1", 1, gateway=False, settle=settle, env=env)
    idle, used = bench_rss(root / "rss1gw", 1, gateway=True, settle=settle, env=env)
    fifty, _ = bench_rss(root / "rss50", 50, gateway=False, settle=settle, env=env)
    deployed_idle, deployed_used = bench_rss_deployed(root / "deployed", settle, env)
    assert used is not None  # noqa: S101  # measured with a gateway
    return {
        "1_device": one,
        "1_device_gateway": idle,
        "1_device_gateway_used": used,
        "50_devices": fifty,
        "deployed_https": deployed_idle,
        "deployed_https_used": deployed_used,
    }


def rss_rows(rss: dict[str, float], python: str) -> list[tuple[str, str, str]]:
    """Table rows of one interpreter's RSS figures."""
    return [
        (
            f"agent RSS, 1 device (Python {python})",
            f"{rss['1_device']:.1f} MiB",
            "<= 40",
        ),
        (
            f"  + gateway, not opened yet ({python})",
            f"{rss['1_device_gateway']:.1f} MiB",
            "<= 40",
        ),
        (
            f"  + gateway, after a page ({python})",
            f"{rss['1_device_gateway_used']:.1f} MiB",
            "<= 40",
        ),
        (f"agent RSS, 50 devices ({python})", f"{rss['50_devices']:.1f} MiB", ""),
        (
            f"deployed: HTTPS gateway + UI ({python})",
            f"{rss['deployed_https']:.1f} MiB",
            "<= 40",
        ),
        (
            f"  + login, proxied page, WebSocket ({python})",
            f"{rss['deployed_https_used']:.1f} MiB",
            "<= 40",
        ),
    ]


def main() -> int:
    """Run every measurement and print the table and JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=20_000)
    parser.add_argument("--replay", type=int, default=100_000)
    parser.add_argument("--settle", type=float, default=8.0)
    parser.add_argument(
        "--rss-only", action="store_true", help="only the RSS figures (another Python)"
    )
    parser.add_argument("--json-out", type=Path, help="also write the JSON here")
    parser.add_argument(
        "--include",
        type=Path,
        action="append",
        default=[],
        help="an --rss-only run of another Python to report beside this one",
    )
    args = parser.parse_args()
    results: dict[str, Any] = {
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if args.rss_only:
            results["rss_mib"] = measure_rss(root, args.settle)
            for name, value, target in rss_rows(results["rss_mib"], results["python"]):
                print(f"{name:<44} {value:>22}  {target}")
            return _emit(results, args.json_out)
        for name in ("writes", "replay"):
            (root / name).mkdir()
        results["buffer_write"] = bench_buffer_writes(root / "writes", args.writes)
        results["replay"] = bench_replay(root / "replay", args.replay)
        results["rss_mib"] = measure_rss(root, args.settle)
    others = [json.loads(path.read_text()) for path in args.include]
    results["rss_mib_other_python"] = {
        other["python"]: other["rss_mib"] for other in others
    }
    write, replay = results["buffer_write"], results["replay"]
    rows = [
        (
            "buffer write, telemetry (NORMAL)",
            f"{write['telemetry_per_s']:,.0f} records/s",
            "",
        ),
        ("buffer write, access (FULL)", f"{write['access_per_s']:,.0f} records/s", ""),
        (
            f"replay {replay['records']:,} records via Mosquitto",
            f"{replay['records_per_s']:,.0f} records/s",
            ">= 20,000",
        ),
        *rss_rows(results["rss_mib"], results["python"]),
    ]
    for other in others:
        rows += rss_rows(other["rss_mib"], other["python"])
    print(
        f"FluxiLab agent benchmark  (Python {results['python']}, {results['machine']})"
    )
    print(f"{'measure':<44} {'result':>22}  target")
    for name, value, target in rows:
        print(f"{name:<44} {value:>22}  {target}")
    return _emit(results, args.json_out)


def _emit(results: dict[str, Any], path: Path | None) -> int:
    """Print the JSON line (scripts/bench keeps the last one), and write it."""
    text = json.dumps(results)
    print(text)
    if path is not None:
        path.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
