"""Ingestion and backfill benchmark: FluxiLab telemetry against HA's native MQTT sensors.

    scripts/run python scripts/bench_ingest.py            # 500 devices, 60 s phases
    scripts/run python scripts/bench_ingest.py --quick    # 50 devices, 10 s smoke run

Starts a private Mosquitto and a real Home Assistant (``hass`` on a temporary config
dir, MQTT and the adopted FluxiLab devices pre-created in ``.storage``; like
scripts/develop, the first start on a machine installs the frontend), then:

a. N simulated devices x 10 channels at 1 Hz publish sealed FluxiLab telemetry, and
   then the same values as HA's floor: a helper's sensors, ten written per MQTT
   message with no envelope, schema or acks (the most any integration can reach);
b. CPU per value against HA's native MQTT-discovered sensors (one discovery config and
   one state topic per value) in the same run: native sensors fall behind long before
   5,000 values/s, so both loads run on ``--ratio-devices`` devices, alternated for
   ``--rounds`` rounds; the median of the rounds' ratios is the figure;
c. one day of 1 Hz x 10 channels from one device (864,000 values) replayed as backlog
   batches, until every record is acknowledged and every hour is in the long-term
   statistics.

Values handled are counted inside Home Assistant by a tiny helper integration written
into the config dir (``bench_counter``: sensor state changes per integration, read over
MQTT), so both phases are counted the same way; FluxiLab acks are checked too. CPU is
the ``hass`` process's user+system time (psutil). The figure that matters is the ratio
of CPU per value, FluxiLab over native, measured on the same machine in the same run;
it is taken net of HA's idle CPU (measured for a few seconds before each phase: the
recorder's commits and HA's timers cost the same with or without load, and at 200
values/s would otherwise make up a third of either side). The gross ratio is printed
too.
Prints a table and a JSON document (also written to --json).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from datetime import UTC, datetime
import json
import os
from pathlib import Path
import shutil
import signal
import socket
import sqlite3
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

from homeassistant.components.http.config import HTTP_STORAGE_SCHEMA  # noqa: E402
import paho.mqtt.client as paho  # noqa: E402
import psutil  # noqa: E402

from fluxilab_protocol.security import (  # noqa: E402
    KeyPair,
    SessionKeys,
    seal_announce,
    seal_payload,
)
from tests.mosquitto import Mosquitto, free_port  # noqa: E402

BASE = "fluxilab"
CHANNELS = 10
BACKFILL_DEVICE = "bench-backfill"
PY_SPY = REPO / ".bench" / "tools" / "py-spy" / "bin" / "py-spy"
"""Where scripts/bench installs py-spy (pip --target, outside the test venv)."""
DAY = 86_400
SUBSCRIBE_SETTLE = 3.0
SETTLE_WINDOW = 2.0
IDLE_WINDOW = 3.0
"""Seconds over which HA's background CPU is measured before a load phase."""
IDLE_ATTEMPTS = 10
"""Idle windows tried before a phase until one is quiet (QUIET_CPU)."""
QUIET_CPU = 0.15
"""Share of a core under which Home Assistant counts as idle before a phase."""
HOUR = 3600
COMPILE_MARGIN = 300
"""Backfilled hours must be this far in the past to be importable (see backfill.py)."""

COUNTER_MANIFEST = {
    "domain": "bench_counter",
    "name": "Bench counter",
    "dependencies": ["mqtt"],
    "codeowners": [],
    "documentation": "https://example.invalid",
    "iot_class": "local_push",
    "version": "0.0.1",
}
COUNTER_MODULE = '''"""Count sensor state changes per integration; report them over MQTT."""

import ctypes
import gc
import json
import os
import re
import sys
import tempfile

from homeassistant.components import mqtt
from homeassistant.components.recorder import get_instance
from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import CoreState, Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
import homeassistant.helpers.config_validation as cv
from homeassistant.helpers.discovery import async_load_platform

DOMAIN = "bench_counter"
CONFIG_SCHEMA = cv.empty_config_schema(DOMAIN)
CHANNEL = re.compile(r"_ch[0-9][0-9]$")


def _jemalloc() -> dict[str, int]:
    """jemalloc's own totals, when hass runs on it (LD_PRELOAD)."""
    try:
        mallctl = ctypes.CDLL(None).mallctl
    except AttributeError:
        return {}
    epoch = ctypes.c_uint64(1)
    mallctl(b"epoch", None, None, ctypes.byref(epoch), ctypes.c_size_t(8))
    stats = {}
    for name in ("allocated", "active", "resident", "retained", "mapped"):
        value, size = ctypes.c_size_t(0), ctypes.c_size_t(ctypes.sizeof(ctypes.c_size_t))
        if mallctl(f"stats.{name}".encode(), ctypes.byref(value), ctypes.byref(size), None, 0) == 0:
            stats[f"jemalloc_{name}"] = value.value
    return stats


def _sqlite() -> dict[str, int]:
    """Heap that SQLite itself holds (page caches, statements), whole process."""
    try:
        library = ctypes.CDLL("libsqlite3.so.0")
    except OSError:
        return {}
    library.sqlite3_memory_used.restype = ctypes.c_int64
    library.sqlite3_memory_highwater.restype = ctypes.c_int64
    return {
        "sqlite_used": library.sqlite3_memory_used(),
        "sqlite_highwater": library.sqlite3_memory_highwater(0),
    }


def _pymalloc() -> dict[str, int]:
    """pymalloc's arenas (1 MiB mmaps): what Python's small objects occupy."""
    with tempfile.TemporaryFile() as sink:
        # _debugmallocstats writes to the C stderr: point fd 2 at a file briefly.
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(sink.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        sink.seek(0)
        text = sink.read().decode(errors="replace")
    found = {}
    for key, pattern in (
        ("pymalloc_arena_bytes", r"arenas \\* [0-9]+ bytes/arena\\s*=\\s*([0-9,]+)"),
        ("pymalloc_block_bytes", r"# bytes in allocated blocks\\s*=\\s*([0-9,]+)"),
        ("pymalloc_free_bytes", r"# bytes in available blocks\\s*=\\s*([0-9,]+)"),
    ):
        if (match := re.search(pattern, text)) is not None:
            found[key] = int(match.group(1).replace(",", ""))
    return found


def native_memory() -> dict[str, int]:
    """Where the process's memory is: jemalloc, SQLite, pymalloc arenas."""
    return {**_jemalloc(), **_sqlite(), **_pymalloc()}


async def async_setup(hass: HomeAssistant, config: dict) -> bool:
    counts: dict[str, int] = {}
    registry = er.async_get(hass)
    platform_of: dict[str, str | None] = {}

    @callback
    def _changed(event: Event) -> None:
        entity_id = event.data["entity_id"]
        if not entity_id.startswith("sensor."):
            return
        new, old = event.data["new_state"], event.data["old_state"]
        if new is None or old is None or new.state == old.state:
            return
        if new.state in ("unavailable", "unknown"):
            return
        if (platform := platform_of.get(entity_id)) is None:
            entry = registry.async_get(entity_id)
            platform = platform_of[entity_id] = entry.platform if entry else "other"
        counts[platform] = counts.get(platform, 0) + 1

    hass.bus.async_listen(EVENT_STATE_CHANGED, _changed)

    async def _report(msg: mqtt.ReceiveMessage) -> None:
        request = json.loads(msg.payload)
        ready: dict[str, int] = {}
        for state in hass.states.async_all("sensor"):
            if state.state == "unavailable":
                continue
            entry = registry.async_get(state.entity_id)
            if entry is None or not CHANNEL.search(entry.unique_id):
                continue
            platform = entry.platform if entry else "other"
            ready[platform] = ready.get(platform, 0) + 1
        memory = {}
        if request.get("memory"):
            # Python's own live allocations: flat while RSS climbs means the growth
            # is memory the C allocator keeps, not objects anyone still holds.
            memory["python_blocks"] = sys.getallocatedblocks()
            memory["gc_objects"] = len(gc.get_objects())
            # Events waiting for the recorder: Python objects that grow when the
            # recorder falls behind (a starved machine), not a leak.
            memory["recorder_backlog"] = get_instance(hass).backlog
            memory.update(native_memory())
            if request.get("trim"):
                # Hand free heap pages back to the kernel (glibc): what RSS drops
                # by was retained by the allocator, not leaked.
                memory["trimmed"] = bool(ctypes.CDLL(None).malloc_trim(0))
        prefix = request.get("prefix")
        ids = {
            entry.unique_id: entry.entity_id
            for entry in registry.entities.values()
            if prefix and entry.domain == "sensor" and entry.unique_id.startswith(prefix)
        }
        await mqtt.async_publish(
            hass,
            "bench/report",
            json.dumps(
                {
                    "id": request["id"],
                    "running": hass.state is CoreState.running,
                    "counts": counts,
                    "ready": ready,
                    "ids": ids,
                    "memory": memory,
                }
            ),
        )

    await mqtt.async_wait_for_mqtt_client(hass)
    await mqtt.async_subscribe(hass, "bench/request", _report)
    hass.async_create_task(
        async_load_platform(hass, "sensor", DOMAIN, {}, config), eager_start=True
    )
    return True
'''

FLOOR_PLATFORM = '''"""Home Assistant's floor: measurement sensors written with no protocol at all.

``bench/floor/setup`` (a device count) adds ten sensors per device, like a FluxiLab
device's channels; each ``bench/floor`` message ("<device> <second>") then writes the
ten values of one device: one MQTT message per ten values, as FluxiLab's telemetry,
but no envelope, no schema, no acknowledgement.
"""

from homeassistant.components import mqtt
from homeassistant.components.sensor import SensorEntity, SensorStateClass
from homeassistant.core import HomeAssistant, callback

CHANNELS = 10


class FloorSensor(SensorEntity):
    _attr_should_poll = False
    _attr_state_class = SensorStateClass.MEASUREMENT
    _attr_native_unit_of_measurement = "ppm"

    def __init__(self, device: int, channel: int) -> None:
        self._attr_unique_id = f"floor_{device:04d}_ch{channel:02d}"
        self._attr_name = f"Floor {device:04d} ch{channel:02d}"


async def async_setup_platform(hass: HomeAssistant, config, async_add_entities, discovery_info=None) -> None:
    devices: list[list[FloorSensor]] = []

    @callback
    def _setup(msg: mqtt.ReceiveMessage) -> None:
        wanted = int(msg.payload)
        new = [
            [FloorSensor(device, channel) for channel in range(CHANNELS)]
            for device in range(len(devices), wanted)
        ]
        devices.extend(new)
        async_add_entities(sensor for sensors in new for sensor in sensors)

    @callback
    def _write(msg: mqtt.ReceiveMessage) -> None:
        device, second = (int(part) for part in msg.payload.split())
        for channel, sensor in enumerate(devices[device]):
            sensor._attr_native_value = round(20.0 + channel + second * 0.01, 2)
            sensor.async_write_ha_state()

    await mqtt.async_subscribe(hass, "bench/floor/setup", _setup)
    await mqtt.async_subscribe(hass, "bench/floor", _write, qos=0)
'''


ALLOCATORS = ("glibc", "jemalloc", "jemalloc-all")
"""hass's malloc: glibc; jemalloc (as HA's container); jemalloc for every object."""
DOMAIN_COUNTER = "bench_counter"
"""The helper integration; also the platform of its floor sensors."""
JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
JEMALLOC_CONF = (
    "background_thread:true,metadata_thp:auto,dirty_decay_ms:20000,muzzy_decay_ms:20000"
)
"""What Home Assistant's own container runs hass with (its s6 ``run`` script)."""


def hass_environment(allocator: str) -> dict[str, str]:
    """Return the environment of the hass process for the chosen allocator.

    ``jemalloc`` is how Home Assistant's official container and HA OS run it;
    ``glibc`` is a plain ``python -m homeassistant`` on a distribution's Python.
    """
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.pop("PYTHONMALLOC", None)
    if allocator in ALLOCATORS[1:]:
        if not Path(JEMALLOC).exists():
            raise SystemExit(f"{JEMALLOC} missing: run scripts/bootstrap")
        env["LD_PRELOAD"] = JEMALLOC
        env["MALLOC_CONF"] = JEMALLOC_CONF
    if allocator == "jemalloc-all":
        # Python's small objects too (no pymalloc arenas): an experiment on where
        # the soak's RSS growth lives, not how Home Assistant ships.
        env["PYTHONMALLOC"] = "malloc"
    return env


def now_iso() -> str:
    """Return the current UTC time as HA stores it."""
    return datetime.now(UTC).isoformat()


def entry(domain: str, title: str, unique_id: str | None, data: dict[str, Any]) -> dict:
    """Return one config entry as HA's core.config_entries stores it."""
    return {
        "created_at": now_iso(),
        "data": data,
        "discovery_keys": {},
        "disabled_by": None,
        "domain": domain,
        "entry_id": uuid.uuid4().hex.upper()[:26],
        "minor_version": 1,
        "modified_at": now_iso(),
        "options": {},
        "pref_disable_new_entities": False,
        "pref_disable_polling": False,
        "source": "user",
        "subentries": [],
        "title": title,
        "unique_id": unique_id,
        "version": 1,
    }


def http_storage(port: int) -> str:
    """Return the .storage/http file serving on 127.0.0.1:``port``.

    Off port 8123, which a live system on this machine may hold. HA 2026.10 migrates
    YAML http settings into a *pending* config and, unless someone confirms it in the
    UI, reverts and restarts after five minutes; stored as the stable config they
    simply apply.
    """
    return json.dumps(
        {
            "version": 2,
            "minor_version": 2,
            "key": "http",
            "data": {
                "stable": {
                    **HTTP_STORAGE_SCHEMA({}),
                    "server_host": ["127.0.0.1"],
                    "server_port": port,
                    "created_at": now_iso(),
                    "error": None,
                    "error_message": None,
                },
                "pending": None,
                "yaml_migration_done": True,
            },
        }
    )


def storage(key: str, data: Any, minor: int = 1) -> str:
    """Return a .storage file of HA's Store."""
    return json.dumps({"version": 1, "minor_version": minor, "key": key, "data": data})


@dataclass
class Device:
    """One simulated lab device."""

    device_id: str
    title: str
    keys: KeyPair
    session: SessionKeys | None = None
    seq: int = 0
    acked: set[int] = field(default_factory=set)

    def announce(self) -> dict[str, Any]:
        """Return the device's announcement."""
        return {
            "v": 1,
            "id": self.device_id,
            "name": self.title,
            "kind": "sensor_station",
            "model": "Bench-10",
            "sw_version": "0.1.0",
            "key": self.keys.public_b64,
            "capabilities": {
                "channels": [
                    {
                        "key": f"ch{c:02d}",
                        "name": f"Channel {c:02d}",
                        "type": "float",
                        "unit": "ppm",
                        "state_class": "measurement",
                    }
                    for c in range(CHANNELS)
                ]
            },
        }


class Bench:
    """Broker, Home Assistant and the simulated devices of one run."""

    def __init__(self, args: argparse.Namespace) -> None:
        """Prepare folders; nothing runs yet."""
        self.args = args
        self.workdir = Path(tempfile.mkdtemp(prefix="fluxilab-bench-"))
        self.config = self.workdir / "config"
        self.broker = Mosquitto(self.workdir)
        self.hass: subprocess.Popen[bytes] | None = None
        self.proc: psutil.Process | None = None
        self.devices = [
            Device(f"bench-{i:04d}", f"Bench {i:04d}", KeyPair.generate())
            for i in range(args.devices)
        ]
        self.backfill = Device(BACKFILL_DEVICE, "Bench backfill", KeyPair.generate())
        self.by_id = {d.device_id: d for d in [*self.devices, self.backfill]}
        self.client: paho.Client | None = None
        self.reports: dict[str, dict[str, Any]] = {}
        self.report_event = threading.Condition()
        self.results: dict[str, Any] = {
            "devices": args.devices,
            "channels": CHANNELS,
            "duration_s": args.duration,
            "cpus": psutil.cpu_count(),
            "allocator": args.allocator,
        }

    # Setup -------------------------------------------------------------------

    def write_config(self) -> None:
        """Write configuration.yaml, .storage and the helper integration."""
        storage_dir = self.config / ".storage"
        storage_dir.mkdir(parents=True)
        (self.config / "configuration.yaml").write_text(
            "homeassistant:\n  name: Bench\n  time_zone: UTC\n  unit_system: metric\n"
            "  latitude: 45.0\n  longitude: 7.6\n  elevation: 0\n"
            "recorder:\nlogger:\n  default: warning\nbench_counter:\n"
        )
        (storage_dir / "http").write_text(http_storage(free_port()))
        components = self.config / "custom_components"
        components.mkdir()
        (components / "fluxilab").symlink_to(REPO / "custom_components" / "fluxilab")
        counter = components / "bench_counter"
        counter.mkdir()
        (counter / "manifest.json").write_text(json.dumps(COUNTER_MANIFEST))
        (counter / "__init__.py").write_text(COUNTER_MODULE)
        (counter / "sensor.py").write_text(FLOOR_PLATFORM)
        hub = KeyPair.generate()
        (storage_dir / "fluxilab.hub").write_text(
            storage("fluxilab.hub", {"private_key": hub.private_b64()})
        )
        entries = [
            entry(
                "mqtt",
                "Bench broker",
                None,
                {"broker": self.broker.host, "port": self.broker.port},
            )
        ]
        for device in self.by_id.values():
            fingerprint = device.keys.derive(hub.public_b64).fingerprint
            entries.append(
                entry(
                    "fluxilab",
                    device.title,
                    device.device_id,
                    {
                        "device_id": device.device_id,
                        "base_topic": BASE,
                        "device_key": device.keys.public_b64,
                        "fingerprint": fingerprint,
                    },
                )
            )
        (storage_dir / "core.config_entries").write_text(
            storage("core.config_entries", {"entries": entries}, minor=5)
        )

    def read_hub_key(self) -> str:
        """Return the hub's public key as Home Assistant stored it."""
        data = json.loads((self.config / ".storage" / "fluxilab.hub").read_text())
        return KeyPair.from_private_b64(data["data"]["private_key"]).public_b64

    def launch_hass(self) -> None:
        """Start ``hass`` on the config dir (its log: home-assistant.log there)."""
        self.hass = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "homeassistant",
                "--config",
                str(self.config),
                "--log-no-color",
            ],
            # Not the repository: its own custom_components would shadow the config's.
            cwd=self.workdir,
            env=hass_environment(self.args.allocator),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.proc = psutil.Process(self.hass.pid)

    def start(self) -> None:
        """Start the broker, Home Assistant and our MQTT client."""
        self.broker.start()
        self.write_config()
        self.launch_hass()
        hub_key = self.read_hub_key()
        for device in self.by_id.values():
            device.session = device.keys.derive(hub_key)
        client = paho.Client(
            paho.CallbackAPIVersion.VERSION2, client_id="fluxilab-bench"
        )
        client.max_inflight_messages_set(5000)
        client.max_queued_messages_set(0)
        client.on_message = self._on_message
        client.connect(self.broker.host, self.broker.port)
        # Nagle off, as on a device's link: otherwise a swipe published right after
        # a PUBACK waits for the broker's delayed ACK (~40 ms) in the soak's latency.
        if (sock := client.socket()) is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client.subscribe([(f"{BASE}/+/ack", 1), ("bench/report", 0)])
        client.loop_start()
        self.client = client
        # Devices announce and come online, retained as the agent does.
        for device in self.by_id.values():
            # Sealed, as a paired agent announces (the hub ignores a plain one then).
            topic = f"{BASE}/{device.device_id}/announce"
            if device.session is None:
                raise RuntimeError(f"{device.device_id} is not paired")
            self.publish(
                topic, seal_announce(device.session, topic, device.announce()), True
            )
            client.publish(f"{BASE}/{device.device_id}/status", "online", 1, True)
        started = time.monotonic()
        expected = CHANNELS * len(self.by_id)
        self.wait_for(
            lambda r: r["running"] and r["ready"].get("fluxilab", 0) >= expected,
            self.args.startup_timeout,
            f"{expected} FluxiLab channel sensors",
        )
        self.results["startup_s"] = round(time.monotonic() - started, 1)
        self.settle()

    def stop(self) -> None:
        """Stop everything this run started and remove its folder."""
        try:
            if self.client is not None:
                self.client.loop_stop()
                self.client.disconnect()
        finally:
            if self.hass is not None and self.hass.poll() is None:
                # An overloaded Home Assistant may take long to stop: then kill it.
                self.hass.send_signal(signal.SIGTERM)
                try:
                    self.hass.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    self.hass.kill()
                    self.hass.wait(timeout=10)
            self.broker.stop()
        if self.args.keep:
            print(f"kept {self.workdir}", file=sys.stderr)
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)

    # MQTT ----------------------------------------------------------------------

    def publish(self, topic: str, body: Any, retain: bool = False) -> None:
        """Publish JSON at QoS 1."""
        self.mqtt().publish(topic, json.dumps(body, separators=(",", ":")), 1, retain)

    def publish_sealed(self, device: Device, channel: str, body: dict) -> None:
        """Publish ``body`` sealed as the device's agent would."""
        if device.session is None:
            raise RuntimeError(f"{device.device_id} is not paired")
        topic = f"{BASE}/{device.device_id}/{channel}"
        # As the agent does: body last, in its signed form (seal_payload).
        self.mqtt().publish(topic, seal_payload(device.session, topic, body), 1)

    def mqtt(self) -> paho.Client:
        """Return the connected client."""
        if self.client is None:
            raise RuntimeError("not connected")
        return self.client

    def _on_message(self, _client: Any, _userdata: Any, msg: Any) -> None:
        if msg.topic == "bench/report":
            report = json.loads(msg.payload)
            with self.report_event:
                self.reports[report["id"]] = report
                self.report_event.notify_all()
            return
        device = self.by_id.get(msg.topic.split("/")[1])
        if device is not None:
            # Counted, not verified: the publisher's CPU is not what we measure.
            device.acked.update(json.loads(msg.payload)["body"]["seqs"])

    def report(
        self, prefix: str | None = None, timeout: float = 30.0, **extra: Any
    ) -> dict:
        """Ask the helper integration for its counts (``memory``/``trim`` too)."""
        request_id = uuid.uuid4().hex
        self.publish("bench/request", {"id": request_id, "prefix": prefix, **extra})
        deadline = time.monotonic() + timeout
        with self.report_event:
            while request_id not in self.reports:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.hass is None or self.hass.poll() is not None:
                    raise RuntimeError(
                        "Home Assistant did not answer the bench counter"
                    )
                self.report_event.wait(remaining)
            return self.reports.pop(request_id)

    def wait_for(self, predicate: Any, timeout: float, what: str) -> dict:
        """Poll reports until ``predicate(report)``; fail after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                report = self.report(timeout=min(10.0, timeout))
            except RuntimeError:
                if self.hass is not None and self.hass.poll() is not None:
                    raise
                report = None
            if report is not None and predicate(report):
                return report
            if time.monotonic() > deadline:
                raise RuntimeError(f"timed out waiting for {what}: {report}")
            time.sleep(1.0)

    def settle(self) -> None:
        """Wait until HA is quiet: a fresh start exposes every entity to Assist."""
        deadline = time.monotonic() + self.args.startup_timeout
        while time.monotonic() < deadline:
            before = self.cpu()
            time.sleep(SETTLE_WINDOW)
            if self.cpu() - before < QUIET_CPU * SETTLE_WINDOW:
                return
        raise RuntimeError("Home Assistant did not settle")

    @staticmethod
    def own_cpu() -> float:
        """Return this process's CPU seconds so far (the simulated device's side)."""
        times = psutil.Process().cpu_times()
        return float(times.user + times.system)

    def cpu(self) -> float:
        """Return the hass process's CPU seconds so far."""
        if self.proc is None:
            raise RuntimeError("Home Assistant is not running")
        times = self.proc.cpu_times()
        return float(times.user + times.system)

    def thread_cpu(self) -> dict[str, float]:
        """Return CPU seconds so far of hass's event loop, its recorder, the rest.

        Every value costs a state write on the event loop (where integrations run)
        and a row the recorder thread writes; the split shows which one a change
        moved, and how much of a ratio is the recorder both sides share.
        """
        if self.proc is None:
            raise RuntimeError("Home Assistant is not running")
        split = {"event_loop": 0.0, "recorder": 0.0, "other": 0.0}
        for thread in self.proc.threads():
            seconds = thread.user_time + thread.system_time
            if thread.id == self.proc.pid:
                split["event_loop"] += seconds
                continue
            try:
                name = Path(f"/proc/{self.proc.pid}/task/{thread.id}/comm").read_text()
            except OSError:  # the thread ended meanwhile
                name = ""
            split["recorder" if name.strip() == "Recorder" else "other"] += seconds
        return split

    # Phases ----------------------------------------------------------------------

    def run_load(
        self,
        name: str,
        platform: str,
        publish_tick: Any,
        devices: int | None = None,
        duration: float | None = None,
    ) -> dict:
        """Publish 1 Hz per device for the duration; count what HA handled.

        Counted from the last idle moment before the phase until HA has handled
        everything it was sent (the counter's answer queues behind the load on the
        same MQTT connection), so a Home Assistant that falls behind shows a lower
        rate, a lag, and more CPU per value, never a flattering window.
        """
        devices = self.args.devices if devices is None else devices
        duration = self.args.duration if duration is None else duration
        slots = 10  # every device publishes once a second, spread over 10 slots
        before = self.count(platform)
        # HA's own background work (recorder commits, timers) goes on whatever the
        # load: measured just before, it is taken off to give the cost per value.
        # A statistics compile that starts in the window is not idle: wait it out.
        for _attempt in range(IDLE_ATTEMPTS):
            idle_start = self.cpu()
            time.sleep(IDLE_WINDOW)
            idle_rate = (self.cpu() - idle_start) / IDLE_WINDOW
            if idle_rate <= QUIET_CPU:
                break
        cpu_start, start = self.cpu(), time.monotonic()
        threads_start = self.thread_cpu()
        sent = tick = 0
        while time.monotonic() - start < duration:
            for index in range(tick % slots, devices, slots):
                sent += publish_tick(index, tick // slots)
            tick += 1
            if (delay := start + tick / slots - time.monotonic()) > 0:
                time.sleep(delay)
        published = time.monotonic()
        # Drain: until everything is counted or the count stops moving.
        handled, done = self.count(platform) - before, time.monotonic()
        while handled < sent:
            time.sleep(1.0)
            current = self.count(platform) - before
            if current == handled:
                break
            handled, done = current, time.monotonic()
        cpu_s = self.cpu() - cpu_start
        threads = {
            name: seconds - threads_start[name]
            for name, seconds in self.thread_cpu().items()
        }
        seconds = done - start
        result = {
            "phase": name,
            "devices": devices,
            "offered_values_per_s": round(sent / (published - start)),
            "handled_values_per_s": round(handled / seconds),
            "lag_s": round(done - published, 1),
            "sent_values": sent,
            "handled_values": handled,
            "dropped_values": sent - handled,
            "hass_cpu_s": round(cpu_s, 2),
            "hass_cpu_percent": round(100 * cpu_s / seconds, 1),
            "cpu_ms_per_1000_values": round(1000 * cpu_s / max(handled, 1) * 1000, 1),
            "idle_cpu_percent": round(100 * idle_rate, 1),
            "net_cpu_ms_per_1000_values": round(
                1000 * max(cpu_s - idle_rate * seconds, 0.0) / max(handled, 1) * 1000,
                1,
            ),
            # Gross, per thread: the event loop (MQTT, the integration, the state
            # machine) and the recorder thread (the rows of every state change).
            **{
                f"{thread}_ms_per_1000_values": round(
                    1000 * cpu / max(handled, 1) * 1000, 1
                )
                for thread, cpu in threads.items()
            },
        }
        print(f"  {name}: {result}", file=sys.stderr)
        return result

    def run_ratio(self) -> dict[str, Any]:
        """CPU per value, FluxiLab over native, at a rate both keep up with.

        HA's native MQTT sensors take one message per value and fall behind long
        before 5,000 values/s, so the ratio is measured on ``--ratio-devices``
        devices, alternating the two loads for ``--rounds`` rounds (each after HA
        went quiet), so a neighbour's burst on a shared machine hits one round, not
        one side; the figure is the median of the rounds' ratios.
        """
        devices, duration = self.args.ratio_devices, self.args.ratio_duration
        self.setup_native(devices)
        rounds = []
        for number in range(1, self.args.rounds + 1):
            self.settle()
            flux = self.run_load(
                f"fluxilab r{number}", "fluxilab", self.fluxilab_tick, devices, duration
            )
            self.settle()
            native = self.run_load(
                f"native r{number}", "mqtt", self.native_tick, devices, duration
            )
            rounds.append(
                {
                    "round": number,
                    "fluxilab": flux,
                    "native": native,
                    "cpu_ratio": round(
                        flux["net_cpu_ms_per_1000_values"]
                        / max(native["net_cpu_ms_per_1000_values"], 1e-9),
                        3,
                    ),
                    "gross_cpu_ratio": round(
                        flux["cpu_ms_per_1000_values"]
                        / native["cpu_ms_per_1000_values"],
                        3,
                    ),
                    "event_loop_ratio": round(
                        flux["event_loop_ms_per_1000_values"]
                        / max(native["event_loop_ms_per_1000_values"], 1e-9),
                        3,
                    ),
                    # The ratio an integration would get if its own work and its
                    # state writes cost nothing and only the recorder's rows remained.
                    "recorder_only_ratio": round(
                        native["recorder_ms_per_1000_values"]
                        / max(native["cpu_ms_per_1000_values"], 1e-9),
                        3,
                    ),
                }
            )
        ratios = [r["cpu_ratio"] for r in rounds]
        gross = [r["gross_cpu_ratio"] for r in rounds]
        loop = [r["event_loop_ratio"] for r in rounds]
        floor = [r["recorder_only_ratio"] for r in rounds]
        return {
            "recorder_only_ratio": round(statistics.median(floor), 3),
            "recorder_only_ratio_range": [min(floor), max(floor)],
            "event_loop_ratio": round(statistics.median(loop), 3),
            "event_loop_ratio_range": [min(loop), max(loop)],
            "ratio_rounds": rounds,
            "cpu_ratio": round(statistics.median(ratios), 3),
            "cpu_ratio_range": [min(ratios), max(ratios)],
            "gross_cpu_ratio": round(statistics.median(gross), 3),
        }

    def count(self, platform: str) -> int:
        """Return the sensor values of ``platform`` HA has handled so far."""
        counts: dict[str, int] = self.report(timeout=self.args.drain_timeout)["counts"]
        return counts.get(platform, 0)

    def fluxilab_tick(self, index: int, second: int) -> int:
        """Publish one sealed telemetry message of device ``index``."""
        device = self.devices[index]
        device.seq += 1
        values = {f"ch{c:02d}": round(20.0 + c + second * 0.01, 2) for c in range(10)}
        body = {"seq": device.seq, "ts": round(time.time(), 3), "values": values}
        self.publish_sealed(device, "telemetry", body)
        return CHANNELS

    def native_tick(self, index: int, second: int) -> int:
        """Publish the ten state topics of native device ``index``."""
        client = self.mqtt()
        for c in range(CHANNELS):
            value = f"{20.0 + c + second * 0.01:.2f}"
            client.publish(f"native/bench_{index:04d}/ch{c:02d}", value, 1)
        return CHANNELS

    def setup_native(self, devices: int) -> None:
        """Publish discovery configs for the native sensors and wait for them."""
        for index in range(devices):
            node = f"bench_{index:04d}"
            for c in range(CHANNELS):
                self.publish(
                    f"homeassistant/sensor/{node}_ch{c:02d}/config",
                    {
                        "name": f"Channel {c:02d}",
                        "unique_id": f"native_{node}_ch{c:02d}",
                        "state_topic": f"native/{node}/ch{c:02d}",
                        "unit_of_measurement": "ppm",
                        "state_class": "measurement",
                        "qos": 1,
                        "device": {"identifiers": [node], "name": f"Native {node}"},
                    },
                )
        expected = CHANNELS * devices
        self.wait_for(
            lambda r: r["ready"].get("mqtt", 0) >= expected,
            self.args.startup_timeout,
            f"{expected} native MQTT sensors",
        )
        # A sensor exists before HA's MQTT client has sent its (debounced) subscribe.
        time.sleep(SUBSCRIBE_SETTLE)
        self.settle()

    def floor_tick(self, index: int, second: int) -> int:
        """Ask the helper to write the ten values of floor device ``index``."""
        self.mqtt().publish("bench/floor", f"{index} {second}", 0)
        return CHANNELS

    def setup_floor(self, devices: int) -> None:
        """Add the helper's sensors (ten per device) and wait for them."""
        self.mqtt().publish("bench/floor/setup", str(devices), 1)
        expected = CHANNELS * devices
        self.wait_for(
            lambda r: r["ready"].get(DOMAIN_COUNTER, 0) >= expected,
            self.args.startup_timeout,
            f"{expected} floor sensors",
        )
        self.settle()

    def run_floor(self) -> dict[str, Any]:
        """Home Assistant's own capacity: the same states with no protocol at all.

        The helper writes ten measurement sensors per MQTT message: what is left is
        MQTT's delivery, the state machine and the recorder, which any integration
        pays. The rate it sustains is the most any integration can reach here.
        """
        devices = self.args.devices
        self.setup_floor(devices)
        return self.run_load("HA floor", DOMAIN_COUNTER, self.floor_tick, devices)

    def run_backfill(self) -> dict:
        """Replay one day of one device in batches; time acks and statistics."""
        device = self.backfill
        batch = self.args.batch
        end = (int(time.time()) - COMPILE_MARGIN) // HOUR * HOUR
        first = end - DAY
        ids = self.report(prefix=f"{BACKFILL_DEVICE}_ch")["ids"]
        channel_of = {
            entity_id: int(unique_id[-2:]) for unique_id, entity_id in ids.items()
        }
        if len(channel_of) != CHANNELS:
            raise RuntimeError(f"backfill device sensors missing: {ids}")

        def value(k: int, c: int) -> float:
            return float((k * 7 + c) % 100)

        expected_mean = {
            c: sum(value(k, c) for k in range(HOUR)) / HOUR for c in range(CHANNELS)
        }
        window = self.args.window * batch
        spy = self.start_spy()
        cpu_started = self.cpu()
        own_started = self.own_cpu()
        loop_started = self.thread_cpu()["event_loop"]
        cpu_s: float | None = None
        own_s: float | None = None
        loop_s: float | None = None
        waited = 0.0
        started = time.monotonic()
        for offset in range(0, DAY, batch):
            if offset - len(device.acked) > window:
                wait_started = time.monotonic()
                while offset - len(device.acked) > window:
                    time.sleep(0.002)
                waited += time.monotonic() - wait_started
            records = [
                {
                    "seq": k,
                    "ts": first + k,
                    "kind": "telemetry",
                    "values": {f"ch{c:02d}": value(k, c) for c in range(CHANNELS)},
                }
                for k in range(offset, min(offset + batch, DAY))
            ]
            self.publish_sealed(device, "backlog", {"records": records})
        deadline = started + self.args.backfill_timeout
        acked_s = stats_s = None
        rows = 0
        while time.monotonic() < deadline:
            # The last ack is timed to 10 ms (a statistics query every 0.5 s would
            # add up to half a second to a five-second replay).
            while acked_s is None and time.monotonic() < deadline:
                if len(device.acked) >= DAY:
                    acked_s = time.monotonic() - started
                    cpu_s = self.cpu() - cpu_started
                    own_s = self.own_cpu() - own_started
                    loop_s = self.thread_cpu()["event_loop"] - loop_started
                    self.stop_spy(spy)
                    break
                time.sleep(0.01)
            rows, good = self.statistics_rows(channel_of, first, end, expected_mean)
            if acked_s is not None and good:
                stats_s = time.monotonic() - started
                break
            time.sleep(0.5)
        self.stop_spy(spy)
        result = {
            "phase": "backfill",
            "values": DAY * CHANNELS,
            "batch_records": batch,
            "acked_records": len(device.acked),
            "acked_s": None if acked_s is None else round(acked_s, 1),
            # hass CPU (user + system) until the last ack: the machine's other load
            # stretches the wall time, not this.
            "acked_cpu_s": None if cpu_s is None else round(cpu_s, 1),
            "records_per_cpu_s": None if not cpu_s else round(DAY / cpu_s),
            "records_per_s": None if not acked_s else round(DAY / acked_s),
            # hass's event-loop thread alone: every message is parsed, verified
            # and stored there, one at a time.
            "loop_cpu_s": None if loop_s is None else round(loop_s, 2),
            # The simulated device's side, on the same machine: its CPU (building,
            # sealing, publishing, reading acks) and how long it waited with its
            # window full. Little waiting means the sender, not hass, set the pace.
            "sender_cpu_s": None if own_s is None else round(own_s, 1),
            "sender_waited_s": round(waited, 2),
            "statistics_rows": rows,
            "expected_rows": 24 * CHANNELS,
            "in_statistics_s": None if stats_s is None else round(stats_s, 1),
        }
        print(f"  backfill: {result}", file=sys.stderr)
        return result

    def run_access_backfill(self) -> dict:
        """Replay offline sessions (a start and a stop record each) as backlog.

        On the backfill device, after its telemetry (sequence numbers go on from
        there): every record goes through the access engine (session, audit entry,
        usage) and the journal before its ack.
        """
        device = self.backfill
        count = self.args.access_records
        batch = self.args.access_batch
        first_seq = DAY
        base = time.time() - 2 * HOUR
        records: list[dict[str, Any]] = []
        for n in range(count // 2):
            ts = base + n * 0.5
            session_id = f"bench-{n}"
            records.append(
                {
                    "seq": first_seq + 2 * n,
                    "ts": ts,
                    "kind": "access",
                    "event": {
                        "action": "session_start",
                        "granted": True,
                        "offline": True,
                        "reason": "granted",
                        "session_id": session_id,
                    },
                }
            )
            records.append(
                {
                    "seq": first_seq + 2 * n + 1,
                    "ts": ts + 0.25,
                    "kind": "access",
                    "event": {
                        "action": "session_stop",
                        "session_id": session_id,
                        "duration": 0.25,
                    },
                }
            )
        total = len(records)
        window = self.args.window * batch
        before = len(device.acked)
        spy = self.start_spy(".access")
        cpu_started = self.cpu()
        own_started = self.own_cpu()
        loop_started = self.thread_cpu()["event_loop"]
        loop_s: float | None = None
        waited = 0.0
        started = time.monotonic()
        for offset in range(0, total, batch):
            if offset - (len(device.acked) - before) > window:
                wait_started = time.monotonic()
                while offset - (len(device.acked) - before) > window:
                    time.sleep(0.002)
                waited += time.monotonic() - wait_started
            body = {"records": records[offset : offset + batch]}
            self.publish_sealed(device, "backlog", body)
        deadline = started + self.args.backfill_timeout
        acked_s = cpu_s = own_s = None
        while time.monotonic() < deadline:
            if len(device.acked) - before >= total:
                acked_s = time.monotonic() - started
                cpu_s = self.cpu() - cpu_started
                own_s = self.own_cpu() - own_started
                loop_s = self.thread_cpu()["event_loop"] - loop_started
                break
            time.sleep(0.01)
        self.stop_spy(spy)
        result = {
            "phase": "access_backfill",
            "records": total,
            "batch_records": batch,
            "acked_records": len(device.acked) - before,
            "acked_s": None if acked_s is None else round(acked_s, 2),
            "records_per_s": None if not acked_s else round(total / acked_s),
            "acked_cpu_s": None if cpu_s is None else round(cpu_s, 2),
            "loop_cpu_s": None if loop_s is None else round(loop_s, 2),
            "sender_cpu_s": None if own_s is None else round(own_s, 2),
            "sender_waited_s": round(waited, 2),
            "records_per_cpu_s": None if not cpu_s else round(total / cpu_s),
        }
        print(f"  access backfill: {result}", file=sys.stderr)
        return result

    def start_spy(self, suffix: str = "") -> subprocess.Popen[bytes] | None:
        """Sample hass with py-spy during a backfill (``--spy``), if installed."""
        if self.args.spy is None:
            return None
        binary = shutil.which("py-spy") or (str(PY_SPY) if PY_SPY.exists() else None)
        if binary is None:
            print("  py-spy not installed (scripts/bench installs it)", file=sys.stderr)
            return None
        spy = subprocess.Popen(
            [
                binary,
                "record",
                "--pid",
                str(self.hass.pid),
                "--rate",
                "200",
                "--nonblocking",
                "--threads",
                "--format",
                "raw",
                "--output",
                f"{self.args.spy}{suffix}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1.0)  # py-spy attaches
        return spy

    @staticmethod
    def stop_spy(spy: subprocess.Popen[bytes] | None) -> None:
        """Stop py-spy; it writes its collapsed stacks on SIGINT."""
        if spy is None or spy.poll() is not None:
            return
        spy.send_signal(signal.SIGINT)
        try:
            spy.wait(30)
        except subprocess.TimeoutExpired:
            spy.kill()

    def statistics_rows(
        self,
        channel_of: dict[str, int],
        first: int,
        end: int,
        expected_mean: dict[int, float],
    ) -> tuple[int, bool]:
        """Count the hourly rows of the day; True once all are there and right."""
        database = self.config / "home-assistant_v2.db"
        try:
            connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        except sqlite3.Error:
            return 0, False
        try:
            result = [
                (statistic_id, mean)
                for statistic_id, mean in connection.execute(
                    "SELECT m.statistic_id, s.mean FROM statistics s"
                    " JOIN statistics_meta m ON s.metadata_id = m.id"
                    " WHERE s.start_ts >= ? AND s.start_ts < ?",
                    [first, end],
                )
                if statistic_id in channel_of
            ]
        except sqlite3.Error:
            return 0, False
        finally:
            connection.close()
        good = len(result) == 24 * CHANNELS and all(
            abs(mean - expected_mean[channel_of[sid]]) < 1e-6 for sid, mean in result
        )
        return len(result), good


def print_json(results: dict[str, Any], path: Path | None) -> None:
    """Print the figures as one indented JSON document (scripts/bench keeps the last
    one a bench prints), and write it to ``path`` too when given."""
    document = json.dumps(results, indent=2)
    print(document)
    if path is not None:
        path.write_text(document + "\n")


def print_table(results: dict[str, Any]) -> None:
    """Print the figures as a table."""
    rows = [results[name] for name in ("fluxilab", "floor") if name in results]
    for ratio_round in results.get("ratio_rounds", []):
        rows += [ratio_round["fluxilab"], ratio_round["native"]]
    print(
        f"\nFluxiLab ingestion benchmark: {results['devices']} devices x "
        f"{CHANNELS} channels at 1 Hz, {results['duration_s']} s per phase, "
        f"{results['cpus']} CPUs, hass on {results['allocator']}"
    )
    header = f"{'phase':<12}{'devices':>8}{'offered/s':>11}{'handled/s':>11}{'lag s':>7}{'dropped':>9}"
    header += f"{'HA CPU %':>10}{'idle %':>8}{'ms/1000 values':>16}{'net':>8}"
    header += f"{'loop':>8}{'recorder':>10}"
    print(header)
    for row in rows:
        print(
            f"{row['phase']:<12}{row['devices']:>8}{row['offered_values_per_s']:>11}"
            f"{row['handled_values_per_s']:>11}{row['lag_s']:>7}{row['dropped_values']:>9}"
            f"{row['hass_cpu_percent']:>10}{row['idle_cpu_percent']:>8}"
            f"{row['cpu_ms_per_1000_values']:>16}{row['net_cpu_ms_per_1000_values']:>8}"
            f"{row.get('event_loop_ms_per_1000_values', '-'):>8}"
            f"{row.get('recorder_ms_per_1000_values', '-'):>10}"
        )
    if "fluxilab" in results and "floor" in results:
        print(
            f"Capacity: FluxiLab handled {results['fluxilab']['handled_values_per_s']}"
            f" values/s, HA's floor (the same states, no protocol)"
            f" {results['floor']['handled_values_per_s']} values/s, of"
            f" {results['fluxilab']['offered_values_per_s']} offered (target 5000)"
        )
    if "native_error" in results:
        print(f"native: no figures, {results['native_error']} (backfill skipped)")
    if "cpu_ratio" in results:
        print(
            f"CPU per value net of HA's idle CPU, FluxiLab / native:"
            f" {results['cpu_ratio']} (median of {len(results['ratio_rounds'])}"
            f" rounds, range {results['cpu_ratio_range']}; target <= 0.5); gross"
            f" {results['gross_cpu_ratio']}"
        )
        print(
            f"Event loop alone (MQTT, integration, state machine; without the recorder"
            f" thread both share): {results['event_loop_ratio']} (range"
            f" {results['event_loop_ratio_range']}); native's recorder thread alone is"
            f" {results['recorder_only_ratio']} of native's CPU per value (range"
            f" {results['recorder_only_ratio_range']}): the ratio of an integration"
            " whose messages and state writes cost nothing"
        )
    if (access := results.get("access_backfill")) is not None:
        print(
            f"Access backfill {access['records']:,} records in batches of "
            f"{access['batch_records']}: acknowledged in {access['acked_s']} s "
            f"({access['records_per_s']} records/s; {access['acked_cpu_s']} s of hass "
            f"CPU: {access['records_per_cpu_s']} records per CPU second; sender "
            f"{access['sender_cpu_s']} s of CPU, waited {access['sender_waited_s']} s)"
        )
    if (backfill := results.get("backfill")) is not None:
        print(
            f"Backfill {backfill['values']:,} values in batches of "
            f"{backfill['batch_records']} records: acknowledged in "
            f"{backfill['acked_s']} s ({backfill['records_per_s']} records/s; "
            f"{backfill['acked_cpu_s']} s of hass CPU: "
            f"{backfill['records_per_cpu_s']} records per CPU second; sender "
            f"{backfill['sender_cpu_s']} s of CPU, waited {backfill['sender_waited_s']}"
            " s), in long-term statistics "
            f"({backfill['statistics_rows']}/{backfill['expected_rows']} rows) in "
            f"{backfill['in_statistics_s']} s (target <= 60 s)"
        )


def main() -> int:
    """Run the benchmark; print a table and JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=500)
    parser.add_argument("--duration", type=float, default=60.0, help="s per phase")
    parser.add_argument(
        "--drain-timeout",
        type=float,
        default=300.0,
        help="s to wait for HA to catch up with a backlog of messages",
    )
    parser.add_argument("--batch", type=int, default=1000, help="backlog batch size")
    parser.add_argument("--window", type=int, default=8, help="batches in flight")
    parser.add_argument(
        "--startup-timeout",
        type=float,
        default=600.0,
        help="s; the first start on a machine installs the frontend",
    )
    parser.add_argument("--backfill-timeout", type=float, default=180.0)
    parser.add_argument("--skip-backfill", action="store_true")
    parser.add_argument(
        "--access-records",
        type=int,
        default=10_000,
        help="access records replayed after the telemetry backfill (0: none)",
    )
    parser.add_argument("--access-batch", type=int, default=500)
    parser.add_argument(
        "--spy",
        type=Path,
        help="sample hass with py-spy during the backfills; collapsed stacks here"
        " (telemetry) and in the same name + .access",
    )
    parser.add_argument("--skip-native", action="store_true")
    parser.add_argument(
        "--skip-floor",
        action="store_true",
        help="skip HA's floor: the same states written with no protocol",
    )
    parser.add_argument(
        "--ratio-devices",
        type=int,
        default=50,
        help="devices in the FluxiLab/native CPU comparison (both must keep up)",
    )
    parser.add_argument("--ratio-duration", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=3, help="ratio rounds")
    parser.add_argument(
        "--allocator",
        choices=ALLOCATORS,
        default="jemalloc",
        help="malloc of the hass process (jemalloc: as HA's own container runs it)",
    )
    parser.add_argument("--quick", action="store_true", help="50 devices, 10 s")
    parser.add_argument("--json", type=Path, help="also write the JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    if args.quick:
        args.devices, args.duration = 50, 10.0
        args.ratio_devices, args.ratio_duration, args.rounds = 20, 10.0, 2
    bench = Bench(args)
    try:
        print("starting Mosquitto and Home Assistant...", file=sys.stderr)
        bench.start()
        print(f"  ready in {bench.results['startup_s']} s", file=sys.stderr)
        bench.results["fluxilab"] = bench.run_load(
            "fluxilab", "fluxilab", bench.fluxilab_tick
        )
        if not args.skip_floor:
            bench.results["floor"] = bench.run_floor()
        overloaded = False
        if not args.skip_native:
            try:
                bench.results.update(bench.run_ratio())
            except RuntimeError as err:
                # HA fell so far behind that it did not catch up in --drain-timeout.
                overloaded = True
                bench.results["native_error"] = str(err)
        if not args.skip_backfill and not overloaded:
            bench.results["backfill"] = bench.run_backfill()
            if args.access_records:
                bench.results["access_backfill"] = bench.run_access_backfill()
    finally:
        bench.stop()
    print_table(bench.results)
    print_json(bench.results, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
