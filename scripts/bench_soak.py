"""Soak: many devices' telemetry plus card swipes for minutes against real HA and Mosquitto.

    scripts/run python scripts/bench_soak.py                  # 100 devices, 10 minutes
    scripts/run python scripts/bench_soak.py --minutes 1      # a short run

Reuses scripts/bench_ingest.py's harness: a private Mosquitto and a real ``hass``
process on a temporary config dir with the devices pre-adopted, and its
``bench_counter`` helper that counts sensor values handled inside Home Assistant. A
second helper integration (``bench_soak``) creates a machine type, one member with a
card and an authorization per device through the access engine's collections, so
every swipe is a real decision (granted) from the engine.

Load: every device publishes sealed telemetry at 1 Hz x 10 channels and, spread over
the devices, card swipes (``check`` access requests) arrive at ``--swipes`` per second.
Reported: Home Assistant's and the broker's RSS at the start and the end of the load
(and every minute), values sent and handled (dropped = sent - handled), telemetry
records acknowledged, and the access decision latency (request published to sealed
reply received) per minute as percentiles. Prints a table and a JSON document.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
import statistics
import sys
import tempfile
import threading
import time
from typing import Any
import uuid

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ingest import ALLOCATORS, CHANNELS, COUNTER_MANIFEST, Bench, print_json
import psutil

from fluxilab_protocol.security import open_envelope

TIMEOUT = 5.0
"""Seconds after which an unanswered swipe counts as a timeout."""
RSS_TARGET = 5.0
"""Target RSS growth over the load, percent."""
NATIVE_MEMORY = (
    "jemalloc_allocated",
    "jemalloc_resident",
    "jemalloc_retained",
    "sqlite_used",
    "sqlite_highwater",
    "pymalloc_arena_bytes",
    "pymalloc_block_bytes",
    "pymalloc_free_bytes",
)
"""Where HA's memory is, per minute (MiB): jemalloc's totals, SQLite's heap, pymalloc."""

SEED_MODULE = '''"""Seed the access engine for the soak: machine type, members, authorizations."""

import json

from homeassistant.components import mqtt
from homeassistant.core import HomeAssistant
import homeassistant.helpers.config_validation as cv

DOMAIN = "bench_soak"
CONFIG_SCHEMA = cv.empty_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: dict) -> bool:
    async def _seed(msg: mqtt.ReceiveMessage) -> None:
        from custom_components.fluxilab.access.engine import ACCESS_ENGINE

        request = json.loads(msg.payload)
        engine = hass.data[ACCESS_ENGINE]
        if not engine.machine_types.data:
            await engine.machine_types.async_create_item(
                {"name": "Soak", "session_timeout": 3600, "grace_period": 60}
            )
        machine_type_id = next(iter(engine.machine_types.data))
        for card in request["cards"]:
            member = await engine.members.async_create_item(
                {"name": f"Member {card}", "cards": [card]}
            )
            await engine.authorizations.async_create_item(
                {"member_id": member["id"], "machine_type_id": machine_type_id}
            )
        await mqtt.async_publish(
            hass,
            "bench/seeded",
            json.dumps({"id": request["id"], "machine_type": machine_type_id}),
        )

    await mqtt.async_wait_for_mqtt_client(hass)
    await mqtt.async_subscribe(hass, "bench/seed", _seed)
    return True
'''


def percentile(values: list[float], pct: float) -> float | None:
    """Return the nearest-rank percentile of ``values`` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def ms(value: float | None) -> float | None:
    """Seconds to milliseconds, rounded; None stays None."""
    return None if value is None else round(1000 * value, 1)


class Soak(Bench):
    """The ingestion harness plus members, card swipes, RSS and latency over time."""

    def __init__(self, args: argparse.Namespace) -> None:
        """Prepare folders and devices; nothing runs yet."""
        super().__init__(args)
        self.cards = {d.device_id: f"soak-{i:04d}" for i, d in enumerate(self.devices)}
        self.lock = threading.Lock()
        self.pending: dict[str, tuple[float, str]] = {}
        self.latencies: list[tuple[float, float]] = []
        self.denied = 0
        self.seeded = threading.Event()
        self.machine_type = "soak"
        self.cpu_at_start = 0.0

    def write_config(self) -> None:
        """Add the seeding helper; assign the machine type to every device."""
        super().write_config()
        config = self.config / "configuration.yaml"
        config.write_text(config.read_text() + "bench_soak:\n")
        helper = self.config / "custom_components" / "bench_soak"
        helper.mkdir()
        manifest = {
            **COUNTER_MANIFEST,
            "domain": "bench_soak",
            "name": "Bench soak",
            "dependencies": ["mqtt", "fluxilab"],
        }
        (helper / "manifest.json").write_text(json.dumps(manifest))
        (helper / "__init__.py").write_text(SEED_MODULE)
        entries_file = self.config / ".storage" / "core.config_entries"
        stored = json.loads(entries_file.read_text())
        for entry in stored["data"]["entries"]:
            if entry["domain"] == "fluxilab":
                entry["options"] = {"machine_type": self.machine_type}
        entries_file.write_text(json.dumps(stored))

    def start(self) -> None:
        """Start everything, then seed members and listen for access replies."""
        super().start()
        client = self.mqtt()
        client.subscribe([("fluxilab/+/access/reply", 0), ("bench/seeded", 0)])
        time.sleep(1.0)
        self.publish(
            "bench/seed", {"id": uuid.uuid4().hex, "cards": list(self.cards.values())}
        )
        if not self.seeded.wait(self.args.startup_timeout):
            raise RuntimeError("Home Assistant did not seed the members")

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        if msg.topic == "bench/seeded":
            self.seeded.set()
            return
        if msg.topic.endswith("/access/reply"):
            now = time.monotonic()
            device = self.by_id[msg.topic.split("/")[1]]
            if device.session is None:
                return
            body = open_envelope(device.session, msg.topic, json.loads(msg.payload))
            with self.lock:
                entry = self.pending.pop(body["id"], None)
                if entry is not None:
                    self.latencies.append((entry[0], now - entry[0]))
                    if not body["granted"]:
                        self.denied += 1
            return
        super()._on_message(client, userdata, msg)

    def rss(self) -> dict[str, int]:
        """Return Home Assistant's and the broker's resident memory in bytes."""
        if self.proc is None or self.broker.process is None:
            raise RuntimeError("not running")
        broker = psutil.Process(self.broker.process.pid)
        return {"hass": self.proc.memory_info().rss, "broker": broker.memory_info().rss}

    def hass_log_tail(self, lines: int = 20) -> str:
        """Return the end of Home Assistant's log file."""
        log = self.config / "home-assistant.log"
        if not log.exists():
            return "(no log)"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])

    def swipe(self, device_index: int) -> None:
        """Publish one sealed card check from device ``device_index``."""
        device = self.devices[device_index]
        request_id = uuid.uuid4().hex
        with self.lock:
            self.pending[request_id] = (time.monotonic(), device.device_id)
        body = {
            "id": request_id,
            "action": "check",
            "card": self.cards[device.device_id],
        }
        self.publish_sealed(device, "access/request", body)

    def soak(self) -> dict[str, Any]:
        """Run the load for the given minutes; return the figures."""
        devices, seconds = len(self.devices), 60.0 * self.args.minutes
        slots = 10  # every device publishes once a second, spread over 10 slots
        native = self.args.load == "native"
        platform = "mqtt" if native else "fluxilab"
        tick_of = self.native_tick if native else self.fluxilab_tick
        if native:
            self.setup_native(devices)
        swipe_every = 1.0 / self.args.swipes if self.args.swipes > 0 else float("inf")
        before = self.count(platform)
        rss_samples = [
            {"minute": 0, **self.rss(), **self.report(memory=True)["memory"]}
        ]
        start = time.monotonic()
        sent = tick = swipes = timeouts = 0
        next_swipe = start if self.args.swipes > 0 else float("inf")
        next_minute = start + 60.0
        while (now := time.monotonic()) - start < seconds:
            for index in range(tick % slots, devices, slots):
                sent += tick_of(index, tick // slots)
            tick += 1
            while next_swipe <= now:
                self.swipe(swipes % devices)
                swipes += 1
                next_swipe += swipe_every
            if now >= next_minute:
                if self.hass is None or self.hass.poll() is not None:
                    raise RuntimeError(
                        f"Home Assistant exited during the soak: {self.hass_log_tail()}"
                    )
                rss_samples.append(
                    {
                        "minute": round((now - start) / 60),
                        **self.rss(),
                        **self.report(memory=True)["memory"],
                    }
                )
                next_minute += 60.0
                print(f"  minute {rss_samples[-1]}", file=sys.stderr)
            with self.lock:
                for key, (t0, _device) in list(self.pending.items()):
                    if now - t0 > TIMEOUT:
                        del self.pending[key]
                        timeouts += 1
            if (delay := start + tick / slots - time.monotonic()) > 0:
                time.sleep(delay)
        published = time.monotonic()
        rss_end_of_load = self.rss()
        memory_end = self.report(memory=True)["memory"]
        # Drain: until everything is counted or the count stops moving.
        handled = self.count(platform) - before
        while handled < sent:
            time.sleep(2.0)
            current = self.count(platform) - before
            if current == handled:
                break
            handled = current
        deadline = time.monotonic() + TIMEOUT
        while self.pending and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(2.0)  # the last acks are batched (ack interval)
        with self.lock:
            timeouts += len(self.pending)
            samples = list(self.latencies)
        # What the allocator keeps: RSS before and after glibc's malloc_trim.
        rss_before_trim = self.rss()["hass"]
        self.report(memory=True, trim=True)
        time.sleep(1.0)
        rss_after_trim = self.rss()["hass"]
        acked = sum(len(device.acked) for device in self.devices)
        records = sum(device.seq for device in self.devices)
        per_minute = []
        for minute in range(max(1, round(seconds / 60))):
            window = [
                latency
                for t0, latency in samples
                if minute * 60 <= t0 - start < (minute + 1) * 60
            ]
            per_minute.append(
                {
                    "minute": minute + 1,
                    "decisions": len(window),
                    "p50_ms": ms(percentile(window, 50)),
                    "p95_ms": ms(percentile(window, 95)),
                    "p99_ms": ms(percentile(window, 99)),
                    "max_ms": ms(max(window) if window else None),
                }
            )
        all_latencies = [latency for _t0, latency in samples]
        start_rss, end_rss = rss_samples[0], rss_end_of_load
        growth = {
            name: round(100 * (end_rss[name] - start_rss[name]) / start_rss[name], 2)
            for name in ("hass", "broker")
        }
        # Growth after the first minute, when caches and the recorder's queue are warm.
        warm = rss_samples[1] if len(rss_samples) > 1 else start_rss
        growth_warm = {
            name: round(100 * (end_rss[name] - warm[name]) / warm[name], 2)
            for name in ("hass", "broker")
        }
        return {
            "minutes": self.args.minutes,
            "allocator": self.args.allocator,
            "load": self.args.load,
            "devices": devices,
            "channels": CHANNELS,
            "swipes_per_s": self.args.swipes,
            "offered_values_per_s": round(sent / (published - start)),
            "sent_values": sent,
            "handled_values": handled,
            "dropped_values": sent - handled,
            "telemetry_records": records,
            "acked_records": acked,
            "unacked_records": records - acked,
            "swipes": swipes,
            "decisions": len(all_latencies),
            "denied": self.denied,
            "timeouts": timeouts,
            "latency_ms": {
                "p50": ms(percentile(all_latencies, 50)),
                "p95": ms(percentile(all_latencies, 95)),
                "p99": ms(percentile(all_latencies, 99)),
                "mean": ms(statistics.fmean(all_latencies) if all_latencies else None),
                "max": ms(max(all_latencies) if all_latencies else None),
            },
            "latency_per_minute": per_minute,
            "rss_mib": {
                "start": {
                    k: round(start_rss[k] / 2**20, 1) for k in ("hass", "broker")
                },
                "end": {k: round(v / 2**20, 1) for k, v in end_rss.items()},
                "growth_percent": growth,
                "growth_after_first_minute_percent": growth_warm,
                "target_percent": RSS_TARGET,
                "per_minute": [
                    {
                        "minute": s["minute"],
                        "hass": round(s["hass"] / 2**20, 1),
                        "broker": round(s["broker"] / 2**20, 1),
                        "python_blocks": s.get("python_blocks"),
                        "gc_objects": s.get("gc_objects"),
                        "recorder_backlog": s.get("recorder_backlog"),
                        **{
                            key: round(s[key] / 2**20, 1)
                            for key in NATIVE_MEMORY
                            if s.get(key) is not None
                        },
                    }
                    for s in rss_samples
                ],
                "python_blocks_end": memory_end.get("python_blocks"),
                "gc_objects_end": memory_end.get("gc_objects"),
                "hass_after_drain": round(rss_before_trim / 2**20, 1),
                "hass_after_malloc_trim": round(rss_after_trim / 2**20, 1),
            },
            "hass_cpu_percent": round(
                100 * (self.cpu() - self.cpu_at_start) / (published - start), 1
            ),
        }


def print_table(result: dict[str, Any]) -> None:
    """Print the soak's figures as a table."""
    rss = result["rss_mib"]
    print(
        f"\nFluxiLab soak ({result['load']} load): {result['devices']} devices x"
        f" {result['channels']} channels"
        f" at 1 Hz + {result['swipes_per_s']} card swipes/s for {result['minutes']} min,"
        f" hass on {result['allocator']}"
    )
    print(f"{'':<28}{'start':>10}{'end':>10}{'growth %':>10}{'warm %':>9}")
    for name in ("hass", "broker"):
        print(
            f"{name + ' RSS MiB':<28}{rss['start'][name]:>10}{rss['end'][name]:>10}"
            f"{rss['growth_percent'][name]:>10}"
            f"{rss['growth_after_first_minute_percent'][name]:>9}"
        )
    print(
        f"hass RSS after the drain {rss['hass_after_drain']} MiB, after malloc_trim"
        f" {rss['hass_after_malloc_trim']} MiB; Python blocks start/end"
        f" {rss['per_minute'][0]['python_blocks']}/{rss['python_blocks_end']}"
    )
    print(
        f"values sent {result['sent_values']}, handled {result['handled_values']},"
        f" dropped {result['dropped_values']} (target 0); records unacknowledged"
        f" {result['unacked_records']}; HA CPU {result['hass_cpu_percent']} %"
    )
    latency = result["latency_ms"]
    print(
        f"decisions {result['decisions']}/{result['swipes']} (denied"
        f" {result['denied']}, timeouts {result['timeouts']}); latency ms p50"
        f" {latency['p50']} p95 {latency['p95']} p99 {latency['p99']} max"
        f" {latency['max']}"
    )
    print(f"{'minute':>6}{'decisions':>11}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    for row in result["latency_per_minute"]:
        print(
            f"{row['minute']:>6}{row['decisions']:>11}{row['p50_ms']!s:>9}"
            f"{row['p95_ms']!s:>9}{row['p99_ms']!s:>9}"
        )


def main() -> int:
    """Run the soak; print a table and JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=100)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--swipes", type=float, default=2.0, help="card swipes/s")
    parser.add_argument(
        "--load",
        choices=("fluxilab", "native"),
        default="fluxilab",
        help="native: the same values as HA's own MQTT sensors (the peer run;"
        " use with --swipes 0)",
    )
    parser.add_argument("--drain-timeout", type=float, default=300.0)
    parser.add_argument("--startup-timeout", type=float, default=600.0)
    parser.add_argument(
        "--allocator",
        choices=ALLOCATORS,
        default="jemalloc",
        help="malloc of the hass process (jemalloc: as HA's own container runs it)",
    )
    parser.add_argument("--json", type=Path, help="also write the JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    args.duration = 60.0 * args.minutes  # what the ingestion harness reports
    # Work under the repository's ignored .bench/ rather than the shared /tmp, so a
    # kept run (its HA log, database, broker log) survives other runs' cleanups.
    work = Path(__file__).resolve().parent.parent / ".bench" / "work"
    work.mkdir(parents=True, exist_ok=True)
    tempfile.tempdir = str(work)
    soak = Soak(args)
    try:
        print("starting Mosquitto and Home Assistant...", file=sys.stderr)
        soak.start()
        print(f"  ready in {soak.results['startup_s']} s", file=sys.stderr)
        soak.cpu_at_start = soak.cpu()
        result = soak.soak()
    finally:
        soak.stop()
    print_table(result)
    print_json(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
