"""Card checks at the scale of a real lab: boards and signed agents against a live HA.

    scripts/run python scripts/bench_access_lab.py            # 50 boards, 10 agents
    scripts/run python scripts/bench_access_lab.py --quick    # smoke run, a few minutes
    scripts/run python scripts/bench_access_lab.py --minutes 10   # + 10 min at 50/s

The lab (issue 15, step 1) is set up the way scripts/develop sets up the dev lab, in
a temporary config dir: the dev lab's configuration.yaml (its integrations, the
recorder on its SQLite file, the logbook; FluxiLab's panel), a real ``hass`` process
(bench_ingest's launcher, jemalloc as HA's container runs it) and a private Mosquitto;
onboarding and the MQTT config flow by scripts/dev_onboard.py; then, through HA's
REST and websocket APIs as scripts/dev_lab.py does it: the devices adopted through
FluxiLab's config flow (``--boards`` Fab-O-Matic boards and ``--agents`` signed
agents, one of them the lab entrance), machine types with lapsing, maintenance and
telemetry rules given by the options flow, the boards renamed by the reconfigure
flow, ``--members`` members with two cards and a PIN each, ``--authorizations``
authorizations per machine type or per device, one board blocked, the broker's
password file and ACL generated. While it runs, a user
has a dashboard (``subscribe_entities``), the logbook and FluxiLab's panel open on a
websocket, and every agent sends 1 Hz telemetry (four channels, three under rules).

Devices run in a child process (``--load``). Boards are scripts/fabomatic_emulator.py's
``Board``: the firmware's exact JSON, one request outstanding, alive and checkmachine
in the background; signed agents seal their requests as scripts/bench_access.py's
load does (a card, or a member who logged in with a PIN). A check unanswered in 2 s
is a timeout. Each row offers checks at a fixed rate to the idle devices of one
transport; the same row is run first against bench_access.py's echo client (its own
process, the same broker, the same device clients): the floor. During every lab row
py-spy samples hass: the event loop's stalls (one callback holding the loop) are
reported with the callback and the FluxiLab frames that ran in them. HA's CPU is
split into the event loop, the recorder thread and the rest (/proc/<pid>/task), per
decision, also net of what HA spent in the same row's floor (telemetry, the UI).

``--ha-floor`` adds a third row after each lab row, a peer inside Home Assistant: the
same checks answered by the bench's probe integration through HA's own MQTT client,
with one event and one state change per answer (both recorded), the least an
integration does to answer a device and keep a record. The lab's loop CPU per
decision is then also given as a multiple of that floor's per answer.

Prints a table and a JSON document (also written to --json).
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import itertools
import json
import logging
import math
import os
from pathlib import Path
import queue
import re
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any
import uuid

SCRIPTS = Path(__file__).resolve().parent
REPO = SCRIPTS.parent
sys.path.insert(0, str(SCRIPTS))
sys.path.insert(1, str(REPO))

import aiohttp  # noqa: E402
from bench_access import nodelay  # noqa: E402
from bench_ingest import ALLOCATORS, Bench, http_storage, print_json  # noqa: E402
from bench_soak import ms, percentile  # noqa: E402
import dev_lab  # noqa: E402
import dev_onboard  # noqa: E402
import fabomatic_emulator  # noqa: E402
import paho.mqtt.client as paho  # noqa: E402
import psutil  # noqa: E402

from fluxilab_protocol.security import (  # noqa: E402
    KeyPair,
    open_envelope,
    seal,
    seal_announce,
)
from tests.mosquitto import free_port  # noqa: E402

TIMEOUT = 2.0
"""Seconds a board waits for its reply (the firmware's), and so every device here."""
RATES = (50.0, 200.0, 500.0)
TRANSPORTS = ("boards", "agents")
UPTIME_SESSIONS = 10_000
"""Closed sessions a lab's hub holds from before the rows: a month of a busy lab's
(200 members, about 300 sessions a day) since Home Assistant last restarted."""
HUB, ECHO, HA_FLOOR = "hub", "echo", "ha"
"""Where a row's checks go: FluxiLab, the broker's echo client, the HA floor."""
KINDS = {HUB: "lab", ECHO: "floor", HA_FLOOR: "ha"}
STALL_MS = 50.0
"""A stall: the event loop away from its poll for this long (the acceptance's bound)."""
UNKNOWN_EVERY = 25
"""One check in this many is a card nobody has (a visitor's, a lost one)."""
PY_SPY_VERSION = "0.4.3"
PY_SPY = REPO / ".bench" / "tools" / "py-spy" / "bin" / "py-spy"
"""Where scripts/bench installs py-spy (pip --target, outside the test venv)."""
SELECT_FRAMES = frozenset(
    {
        "select",
        "EpollSelector.select",
        "PollSelector.select",
        "KqueueSelector.select",
        "SelectSelector.select",
        "BaseSelector.select",
    }
)
"""py-spy's names of the frame an idle asyncio loop waits in."""

AGENT_CHANNELS = (
    {
        "key": "face_velocity",
        "name": "Face velocity",
        "type": "float",
        "unit": "m/s",
        "state_class": "measurement",
        "safety": True,
    },
    {
        "key": "sash_height",
        "name": "Sash height",
        "type": "float",
        "unit": "cm",
        "state_class": "measurement",
    },
    {"key": "fan_running", "name": "Fan running", "type": "bool"},
    {
        "key": "temperature",
        "name": "Temperature",
        "type": "float",
        "unit": "°C",
        "device_class": "temperature",
        "state_class": "measurement",
    },
)
"""A fumehood agent's channels: safety limit, busy rule and maintenance conditions."""

LAB_MACHINE_TYPES: tuple[dict[str, Any], ...] = (
    {
        "name": "Laser",
        "session_timeout": 3600,
        "grace_period": 120,
        "maintenance_interval": 200,
        "maintenance_description": "Clean the lens and the mirrors",
        "maintenance_message": "Maintenance due",
        "lapse_after_months": 6,
    },
    {
        "name": "CNC",
        "session_timeout": 1800,
        "grace_period": 60,
        "maintenance_interval": 50,
        "maintenance_description": "Clean and lubricate",
        "lapse_after_months": 12,
    },
    {
        "name": "3D printer",
        "session_timeout": 7200,
        "grace_period": 300,
        "lapse_after_months": 3,
    },
    {
        "name": "Fumehood",
        "session_timeout": 3600,
        "grace_period": 120,
        "safety_limits": [{"channel": "face_velocity", "min": 0.4}],
        "maintenance_interval": 500,
        "maintenance_description": "Change the filter, check the airflow",
        "busy_channel": "sash_height",
        "busy_above": 60,
        "busy_delay": 120,
        "maintenance_conditions": [
            {"kind": "channel_hours", "channel": "fan_running", "hours": 500},
            {
                "kind": "below_baseline",
                "channel": "face_velocity",
                "baseline": 0.5,
                "days": 3,
            },
        ],
        "lapse_after_months": 12,
    },
    # The lab entrance (a door-mode agent): every active member may come in.
    {"name": "Door", "requires_authorization": False},
)
BOARD_TYPES = ("Laser", "CNC", "3D printer")
ENTRANCE = "Lab entrance"


# --------------------------------------------------------------------------------
# Pure helpers
# --------------------------------------------------------------------------------


GC_PROBE = """\
\"\"\"Bench probe: the cycle collector's long passes, for the event loop's stalls.\"\"\"

import gc
import itertools
import json
import sys
import threading
import time
from pathlib import Path

from homeassistant.components import mqtt
from homeassistant.core import callback

from custom_components.fluxilab.access.const import SessionEnd
from custom_components.fluxilab.access.engine import ACCESS_ENGINE
from custom_components.fluxilab.access.sessions import start_session, stop_session

LONG_S = 0.02


def _install(path):
    started = {}

    def _collecting(phase, info):
        key = threading.get_ident()
        if phase == "start":
            started[key] = (time.monotonic(), time.thread_time())
            return
        begun = started.pop(key, None)
        if begun is None:
            return
        spent = time.monotonic() - begun[0]
        if spent >= LONG_S:
            with path.open("a") as out:
                out.write(json.dumps({
                    "at": begun[0],
                    "ms": round(1000 * spent, 1),
                    # The collecting thread's own CPU in the pass: far below "ms",
                    # the pass waited (a CPU, or the GIL its finalizers let go).
                    "cpu_ms": round(1000 * (time.thread_time() - begun[1]), 1),
                    "generation": info.get("generation"),
                    "collected": info.get("collected"),
                    "thread": threading.current_thread().name,
                }) + "\\n")

    gc.callbacks.append(_collecting)


async def async_setup(hass, config):
    _install(Path(hass.config.path("gc_pauses.jsonl")))

    async def _thaw(call):
        # --thaw: the same lab with the start's heap back under the collector.
        gc.unfreeze()

    hass.services.async_register("bench_gc_probe", "thaw", _thaw)

    async def _switch_interval(call):
        # --variants switch=S: how long a thread waiting for the GIL waits at most.
        sys.setswitchinterval(float(call.data["seconds"]))

    hass.services.async_register("bench_gc_probe", "switch_interval", _switch_interval)

    thresholds = gc.get_threshold()

    async def _gc_threshold(call):
        # --variants gc=N: the oldest generation's threshold (how many collections
        # of the middle one before a full pass is considered); 0: Python's own.
        oldest = int(call.data["oldest"]) or thresholds[2]
        gc.set_threshold(thresholds[0], thresholds[1], oldest)

    hass.services.async_register("bench_gc_probe", "gc_threshold", _gc_threshold)

    async def _census(call):
        # What the collector's full passes walk: the tracked objects made since the
        # freeze that survived into the oldest generation, by type and module.
        # A full pass now, timed: what the collector's walk costs on this heap.
        timed = {}
        for generation in range(3):
            began = time.perf_counter()
            gc.collect(generation)
            timed[generation] = round(1000 * (time.perf_counter() - began), 2)
        # Five more full passes: one alone is at the mercy of the machine's other
        # work; their least is what the walk itself costs.
        full = []
        for _ in range(5):
            began = time.perf_counter()
            gc.collect()
            full.append(round(1000 * (time.perf_counter() - began), 2))
        old = gc.get_objects(2)
        by_type = {}
        for obj in old:
            kind = type(obj)
            key = f"{kind.__module__}.{kind.__qualname__}"
            by_type[key] = by_type.get(key, 0) + 1
        # A pass visits every reference of the objects it walks: one container
        # made since the freeze that holds many (frozen) objects costs a pass as
        # much as that many objects would.
        walked = [obj for g in range(3) for obj in gc.get_objects(g)]
        references = sum(len(gc.get_referents(obj)) for obj in walked)
        biggest = sorted(walked, key=lambda obj: -len(gc.get_referents(obj)))[:15]
        largest = [_describe(obj) for obj in biggest]
        del old, walked, biggest
        Path(hass.config.path("heap_census.json")).write_text(json.dumps({
            "frozen": gc.get_freeze_count(),
            "generations": [len(gc.get_objects(g)) for g in range(3)],
            "references": references,
            "collect_ms": timed,
            "full_ms": full,
            "largest": largest,
            "top": sorted(by_type.items(), key=lambda kv: -kv[1])[:40],
        }))

    hass.services.async_register("bench_gc_probe", "census", _census)

    async def _history_fill(call):
        # --uptime-sessions N: the sessions a lab's hub books between two restarts
        # (weeks of them), made after the freeze as the lab's own are: closed ones,
        # over its devices and members, through the history's own start and stop.
        engine = hass.data[ACCESS_ENGINE]
        history = engine.history
        devices = sorted(engine.devices)
        members = [engine.members.member(m) for m in sorted(engine.members.data)]
        count = int(call.data["sessions"])
        begin = time.time() - 60.0 * count
        for n in range(count):
            ts = begin + 60.0 * n
            session, _new = start_session(
                history,
                session_id=f"uptime-{n}",
                device_id=devices[n % len(devices)],
                member=members[n % len(members)],
                card=None,
                ts=ts,
                buffered=False,
            )
            stop_session(
                history, session, duration=1800.0, ts=ts + 1800.0,
                closed_by=SessionEnd.DEVICE,
            )
            if n % 1000 == 999:
                await history.async_commit()
        await history.async_commit()
        await history.async_save()
        gc.collect()
        Path(hass.config.path("history_fill.json")).write_text(json.dumps({
            "sessions_made": count,
            "sessions_in_memory": len(history.data["sessions"]),
            "audit_in_memory": len(history.data["audit"]),
        }))

    hass.services.async_register("bench_gc_probe", "history_fill", _history_fill)

    answered = itertools.count()
    floor = []

    @callback
    def _answer(msg):
        # The HA floor: the least an integration does to answer a device and keep
        # a record of it, through Home Assistant's own parts: HA's MQTT client in,
        # one event and one state change (both recorded), the reply out.
        number = next(answered)
        hass.bus.async_fire("bench_floor", {"n": number})
        hass.states.async_set("sensor.bench_floor", str(number))
        hass.async_create_background_task(
            mqtt.async_publish(hass, msg.topic[: -len("request")] + "reply",
                               msg.payload, qos=1),
            "bench floor reply",
            eager_start=True,
        )

    async def _ha_floor(call):
        if not floor:
            floor.append(await mqtt.async_subscribe(
                hass, "bench/ha/+/request", _answer, qos=0, encoding=None
            ))

    hass.services.async_register("bench_gc_probe", "ha_floor", _ha_floor)

    async def _garbage_start(call):
        # What the collector finds unreachable (cycles refcounting cannot free):
        # kept in gc.garbage instead of freed until garbage_stop.
        gc.collect()
        gc.garbage.clear()
        gc.set_debug(gc.DEBUG_SAVEALL)

    async def _garbage_stop(call):
        gc.collect()
        gc.set_debug(0)
        found = list(gc.garbage)
        gc.garbage.clear()
        by_type, where = {}, {}
        for obj in found:
            kind = type(obj)
            key = f"{kind.__module__}.{kind.__qualname__}"
            by_type[key] = by_type.get(key, 0) + 1
            origin = _origin(obj)
            if origin:
                where[origin] = where.get(origin, 0) + 1
        del found
        Path(hass.config.path("heap_garbage.json")).write_text(json.dumps({
            "objects": sum(by_type.values()),
            "top": sorted(by_type.items(), key=lambda kv: -kv[1])[:40],
            "where": sorted(where.items(), key=lambda kv: -kv[1])[:40],
        }))

    hass.services.async_register("bench_gc_probe", "garbage_start", _garbage_start)
    hass.services.async_register("bench_gc_probe", "garbage_stop", _garbage_stop)
    return True


def _describe(obj):
    # A large container: its type, size, a few keys, and who holds it.
    kind = type(obj)
    found = {
        "type": f"{kind.__module__}.{kind.__qualname__}",
        "references": len(gc.get_referents(obj)),
    }
    if isinstance(obj, dict):
        found["keys"] = [repr(key)[:60] for key in itertools.islice(obj, 5)]
    holders = []
    for holder in gc.get_referrers(obj):
        if holder is not obj and not isinstance(holder, list):
            held = type(holder)
            label = f"{held.__module__}.{held.__qualname__}"
            if isinstance(holder, dict):
                label += " " + ",".join(repr(k)[:30] for k in itertools.islice(holder, 4))
            holders.append(label)
    found["held_by"] = holders[:5]
    return found


def _origin(obj):
    # Where a piece of cyclic garbage was made, for the kinds that can tell.
    code = getattr(obj, "f_code", None) or getattr(obj, "cr_code", None)
    if code is None and isinstance(obj, BaseException):
        return f"exception {type(obj).__qualname__}"
    if code is None and hasattr(obj, "get_coro"):
        coro = obj.get_coro()
        code = getattr(coro, "cr_code", None)
        if code is not None:
            return f"task {code.co_filename.rsplit('/', 2)[-1]}:{code.co_qualname}"
    if code is None and callable(obj):
        func = getattr(obj, "__func__", obj)
        code = getattr(func, "__code__", None)
    if code is None:
        return None
    return f"{type(obj).__name__} {code.co_filename.rsplit('/', 2)[-1]}:{code.co_qualname}"
"""

FROZE = re.compile(r"Froze (\d+) objects of Home Assistant's start")
"""heap.py's log line, a minute after a start."""
FREEZE_WAIT = 75.0
"""s after a restart when that line is not logged (``--fluxilab-log warning``)."""

GC_PROBE_MANIFEST = {
    "domain": "bench_gc_probe",
    "name": "Bench GC probe",
    "version": "1.0.0",
    "codeowners": [],
    "documentation": "https://example.invalid",
    "requirements": [],
    "iot_class": "local_push",
}


IDLE_SYSCALLS = frozenset({7, 232, 281, 441})
"""x86_64 poll, epoll_wait, epoll_pwait, epoll_pwait2: the event loop waiting for work."""
FUTEX = 202
SAMPLER_GAP_MS = 25.0
"""A gap between two samples this long: the sampler, not hass, was kept waiting."""
"""x86_64 futex: a thread waiting for a lock; for the loop thread, the GIL."""


@dataclass(frozen=True, slots=True)
class SchedSample:
    """The event loop thread as the kernel saw it at one instant (/proc)."""

    at: float
    """monotonic s (the bench's clock)"""
    syscall: int | None
    """the syscall it sits in, None when it runs (or waits to run) in user space"""
    cpu_ns: int
    """schedstat: time on a CPU so far"""
    wait_ns: int
    """schedstat: time runnable but waiting for a CPU so far"""
    others_ns: dict[str, int] = field(default_factory=dict)
    """CPU so far of hass's other threads by name (every few samples only)"""


def loop_waits(
    samples: list[SchedSample], threshold_ms: float, top: int = 10
) -> dict[str, Any]:
    """Split the loop thread's long busy stretches into what the kernel saw.

    A stretch is a run of samples outside the loop's poll (``IDLE_SYSCALLS``) that
    lasts ``threshold_ms`` or more. Within one, the thread either ran (on-CPU
    time), waited for a CPU (run-queue time: the machine's other processes or
    threads had the cores), waited on a futex (for the loop thread: the GIL, held
    by another of hass's threads) or sat in another syscall. py-spy sees the same
    Python frame through all four; the kernel's counters tell them apart. For each
    stretch the other threads of hass that ran meanwhile are listed (their CPU).
    """
    stretches: list[dict[str, Any]] = []
    start: int | None = None
    for index, sample in enumerate([*samples, None]):
        idle = sample is None or sample.syscall in IDLE_SYSCALLS
        if not idle and start is None:
            start = index
        if idle and start is not None:
            end = index if sample is not None else index - 1
            stretch = samples[start : end + 1]
            start = None
            span_ms = 1000 * (stretch[-1].at - stretch[0].at)
            if span_ms < threshold_ms or len(stretch) < 2:
                continue
            futex = other = gap = 0.0
            for here, after in itertools.pairwise(stretch):
                step = 1000 * (after.at - here.at)
                gap = max(gap, step)
                if here.syscall == FUTEX:
                    futex += step
                elif here.syscall is not None:
                    other += step
            first, last = stretch[0], stretch[-1]
            threads = _others_between(samples, first.at, last.at)
            stretches.append(
                {
                    "at_s": round(first.at - samples[0].at, 3),
                    "ms": round(span_ms, 1),
                    "cpu_ms": round((last.cpu_ns - first.cpu_ns) / 1e6, 1),
                    "run_queue_ms": round((last.wait_ns - first.wait_ns) / 1e6, 1),
                    "futex_ms": round(futex, 1),
                    "other_syscall_ms": round(other, 1),
                    "longest_sample_gap_ms": round(gap, 1),
                    "others_cpu_ms": threads,
                }
            )
    total = sum(s["ms"] for s in stretches) or 1.0
    shares = {
        key: round(100 * sum(s[key] for s in stretches) / total, 1)
        for key in ("cpu_ms", "run_queue_ms", "futex_ms", "other_syscall_ms")
    }
    longest = sorted(stretches, key=lambda s: s["ms"], reverse=True)
    return {
        "samples": len(samples),
        "interval_ms": round(
            1000 * (samples[-1].at - samples[0].at) / max(len(samples) - 1, 1), 2
        )
        if samples
        else None,
        "stretches": len(stretches),
        "stretch_ms_total": round(sum(s["ms"] for s in stretches), 1),
        # The sampler itself went without a sample this long inside the stretch
        # (the bench, not hass, waited for a CPU): that stretch's split is unknown.
        "with_sampler_gap_over_25_ms": sum(
            s["longest_sample_gap_ms"] > SAMPLER_GAP_MS for s in stretches
        ),
        "share_percent": shares,
        "top": longest[:top],
    }


def _others_between(
    samples: list[SchedSample], begin: float, end: float
) -> list[list[Any]]:
    """hass's other threads' CPU ms between the thread snapshots around a span."""
    snaps = [s for s in samples if s.others_ns]
    before = next((s for s in reversed(snaps) if s.at <= begin), None)
    after = next((s for s in snaps if s.at >= end), None)
    if before is None or after is None:
        return []
    spent = Counter[str]()
    for name, ns in after.others_ns.items():
        spent[name] += ns - before.others_ns.get(name, ns)
    return [[name, round(ns / 1e6, 1)] for name, ns in spent.most_common(4) if ns > 0]


class SchedSampler:
    """Samples hass's event loop thread from outside (/proc), in a bench thread.

    Every ``interval`` s: the syscall the loop thread sits in and its schedstat
    (CPU and run-queue time); every ``every``-th sample, the CPU of hass's other
    threads by name. Reading /proc costs the bench, not hass (no ptrace stop).
    """

    def __init__(self, pid: int, interval: float = 0.002, every: int = 5) -> None:
        self.pid, self.interval, self.every = pid, interval, every
        self.samples: list[SchedSample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sched", daemon=True)
        self._handles: dict[str, tuple[str, Any]] = {}
        self.cpu_s = 0.0

    def start(self) -> SchedSampler:
        self._thread.start()
        return self

    def stop(self) -> list[SchedSample]:
        self._stop.set()
        self._thread.join(timeout=5)
        return self.samples

    def _threads(self) -> None:
        """(Re)open the other threads' schedstat files (threads come and go)."""
        for _name, handle in self._handles.values():
            handle.close()
        self._handles = {}
        for task in Path(f"/proc/{self.pid}/task").iterdir():
            if task.name == str(self.pid):
                continue
            try:
                name = (task / "comm").read_text().strip()
                self._handles[task.name] = (
                    name,
                    open(task / "schedstat", "rb", buffering=0),  # noqa: SIM115
                )
            except OSError:
                continue  # the thread ended meanwhile

    def _others(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for name, handle in self._handles.values():
            try:
                handle.seek(0)
                ns = int(handle.read(64).split()[0])
            except (OSError, ValueError, IndexError):
                continue  # the thread ended meanwhile
            found[name] = found.get(name, 0) + ns
        return found

    def _run(self) -> None:
        began = time.thread_time()
        task = f"/proc/{self.pid}/task/{self.pid}"
        count = 0
        try:
            with (
                open(f"{task}/syscall", "rb", buffering=0) as calls,
                open(f"{task}/schedstat", "rb", buffering=0) as stats,
            ):
                while not self._stop.wait(self.interval):
                    now = time.monotonic()
                    calls.seek(0)
                    first = calls.read(64).split(b" ", 1)[0]
                    stats.seek(0)
                    cpu, wait = stats.read(64).split()[:2]
                    if count % 500 == 0:
                        self._threads()
                    others = self._others() if count % self.every == 0 else {}
                    count += 1
                    self.samples.append(
                        SchedSample(
                            at=now,
                            syscall=None if first.strip() == b"running" else int(first),
                            cpu_ns=int(cpu),
                            wait_ns=int(wait),
                            others_ns=others,
                        )
                    )
        except (OSError, ValueError):
            pass  # hass went away: the samples so far stand
        finally:
            for _name, handle in self._handles.values():
                handle.close()
            self.cpu_s = time.thread_time() - began


def latency_row(latencies: list[float]) -> dict[str, float | None]:
    """Return p50/p95/p99/max/mean in ms of the answered checks' latencies (s)."""
    return {
        "p50_ms": ms(percentile(latencies, 50)),
        "p95_ms": ms(percentile(latencies, 95)),
        "p99_ms": ms(percentile(latencies, 99)),
        "max_ms": ms(max(latencies) if latencies else None),
        "mean_ms": ms(statistics.fmean(latencies) if latencies else None),
    }


def board_card(index: int) -> str:
    """Member ``index``'s card as a Fab-O-Matic board reads it (8 lowercase hex)."""
    return f"{0xB0000000 + index:08x}"


def agent_card(index: int) -> str:
    """Member ``index``'s card as a FluxiLab agent's reader writes it."""
    return f"04{index:08X}"


def device_type(title: str) -> str:
    """The machine type of a bench device, from its title."""
    if title == ENTRANCE:
        return "Door"
    if title.startswith("Fab-O-Matic "):
        return BOARD_TYPES[int(title.rsplit(" ", 1)[1]) % len(BOARD_TYPES)]
    return "Fumehood"


def board_name(title: str) -> str:
    """A board's name after its machine ("Laser 3"), from its title."""
    return f"{device_type(title)} {title.rsplit(' ', 1)[1]}"


Frame = tuple[str, str, str]
"""(function, "file.py:line", full filename) of one frame in a py-spy sample."""


@dataclass
class _Stall:
    """One callback holding the event loop: when, and where its time went."""

    callback: str
    start_ms: float
    end_ms: float
    fluxilab: Counter[str] = field(default_factory=Counter)
    leaves: Counter[str] = field(default_factory=Counter)


def _loop_thread(events: list[dict[str, Any]]) -> Any:
    """Return the trace's thread that runs the asyncio loop (most ``_run_once``)."""
    counts = Counter(
        event.get("tid")
        for event in events
        if event.get("ph") == "B" and str(event.get("name", "")).endswith("._run_once")
    )
    return counts.most_common(1)[0][0] if counts else None


def _callback(stack: list[Frame]) -> str | None:
    """The callback the loop runs in this sample; None while it waits in select.

    The first frame under ``Handle._run`` outside asyncio itself (a task's step shows
    the coroutine); work of ``_run_once`` outside any handle (timers, the ready
    queue) is named after its frame under ``_run_once``.
    """
    depth = next(
        (d for d, (name, _w, _f) in enumerate(stack) if name.endswith("._run_once")),
        None,
    )
    if depth is None or len(stack) <= depth + 1:
        return None
    name, where, _filename = stack[depth + 1]
    if name in SELECT_FRAMES:
        return None
    for index in range(depth + 1, len(stack) - 1):
        if stack[index][0] == "Handle._run":
            for inner, inner_where, filename in stack[index + 1 :]:
                if "/asyncio/" not in filename:
                    return f"{inner} ({inner_where.split(':')[0]})"
            break
    return f"{name} ({where.split(':')[0]})"


def loop_stalls(
    events: list[dict[str, Any]], threshold_ms: float = STALL_MS, top: int = 10
) -> dict[str, Any]:
    """Find the event loop's stalls in a py-spy ``--idle`` chrometrace.

    py-spy writes a B event when a frame appears in a thread's samples and an E event
    when it is gone, at the samples' times (microseconds). Between two events the
    loop thread's stack is known: waiting in the selector's ``select`` (idle), or
    running a callback. A stall is one callback running through consecutive samples:
    while it runs, nothing else on the loop (no other message, no reply) moves. Two
    handles of the same callback back to back with no sample in between count as
    one. A busy stretch is consecutive samples without ``select``, whatever ran: the
    loop saturated. Lengths are whole sampling intervals. For every stall: its
    callback, the deepest FluxiLab frames and the innermost frames, with their time.
    """
    tid = _loop_thread(events)
    stack: list[Frame] = []
    stalls: list[_Stall] = []
    current: _Stall | None = None
    first_ms = last_ms = None
    busy_ms = stretch_ms = longest_stretch_ms = 0.0
    for event in events:
        if event.get("tid") != tid or event.get("ph") not in ("B", "E"):
            continue
        now = float(event.get("ts", 0)) / 1000.0
        if last_ms is not None and now > last_ms:
            callback = _callback(stack)
            if callback is None:
                current, stretch_ms = None, 0.0
            else:
                spent = now - last_ms
                busy_ms += spent
                stretch_ms += spent
                longest_stretch_ms = max(longest_stretch_ms, stretch_ms)
                if current is None or current.callback != callback:
                    current = _Stall(callback, start_ms=last_ms, end_ms=now)
                    stalls.append(current)
                current.end_ms = now
                _attribute(current, stack, spent)
        first_ms = now if first_ms is None else first_ms
        last_ms = now
        name, where = _frame(event)
        if event["ph"] == "B":
            filename = str((event.get("args") or {}).get("filename", ""))
            stack.append((name, where, filename))
        else:
            # py-spy closes frames innermost first; a stray E closes up to its frame.
            for depth in range(len(stack) - 1, -1, -1):
                if stack[depth][0] == name:
                    del stack[depth:]
                    break
    span_ms = last_ms - first_ms if last_ms is not None and first_ms is not None else 0
    durations = [stall.end_ms - stall.start_ms for stall in stalls]
    longest = sorted(stalls, key=lambda s: s.end_ms - s.start_ms, reverse=True)

    def _top(counter: Counter[str]) -> list[list[Any]]:
        return [[name, round(spent, 1)] for name, spent in counter.most_common(3)]

    return {
        "found_loop": tid is not None,
        "sampled_s": round(span_ms / 1000, 1),
        "busy_percent": round(100 * busy_ms / span_ms, 1) if span_ms else None,
        "longest_busy_stretch_ms": round(longest_stretch_ms, 1),
        "threshold_ms": threshold_ms,
        "stalls_over_threshold": sum(d >= threshold_ms for d in durations),
        "stalls_over_100_ms": sum(d >= 100 for d in durations),
        "longest_ms": round(max(durations), 1) if durations else 0.0,
        "top": [
            {
                "ms": round(stall.end_ms - stall.start_ms, 1),
                "at_s": round((stall.start_ms - (first_ms or 0)) / 1000, 2),
                "callback": stall.callback,
                "fluxilab": _top(stall.fluxilab),
                "innermost": _top(stall.leaves),
            }
            for stall in longest[:top]
            if stall.end_ms - stall.start_ms >= threshold_ms
        ],
    }


def loop_profile(events: list[dict[str, Any]], top: int = 15) -> dict[str, Any]:
    """Where the event loop's busy time went, from the same py-spy trace.

    Between two events of the loop thread its stack is known; while it is busy (not
    in ``select``) the interval counts for every function on the stack once
    (inclusive) and for the innermost one (self). Functions are named with their
    file, without the line. ``fluxilab`` is the inclusive time of FluxiLab's own
    functions. Milliseconds, and a share of the busy time.
    """
    tid = _loop_thread(events)
    stack: list[Frame] = []
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    fluxilab: Counter[str] = Counter()
    busy_ms = 0.0
    last_ms: float | None = None
    for event in events:
        if event.get("tid") != tid or event.get("ph") not in ("B", "E"):
            continue
        now = float(event.get("ts", 0)) / 1000.0
        if last_ms is not None and now > last_ms and _callback(stack) is not None:
            spent = now - last_ms
            busy_ms += spent
            seen: set[str] = set()
            for name, where, filename in stack:
                key = f"{name} ({where.split(':')[0]})"
                if key in seen:
                    continue
                seen.add(key)
                inclusive[key] += spent
                if "/custom_components/fluxilab/" in filename:
                    fluxilab[key] += spent
            name, where, _filename = stack[-1]
            own[f"{name} ({where.split(':')[0]})"] += spent
        last_ms = now
        name, where = _frame(event)
        if event["ph"] == "B":
            filename = str((event.get("args") or {}).get("filename", ""))
            stack.append((name, where, filename))
        else:
            for depth in range(len(stack) - 1, -1, -1):
                if stack[depth][0] == name:
                    del stack[depth:]
                    break

    def _rank(counter: Counter[str], skip: frozenset[str]) -> list[list[Any]]:
        ranked = [
            (k, v) for k, v in counter.most_common() if k.split(" (")[0] not in skip
        ]
        return [
            [name, round(spent, 1), round(100 * spent / busy_ms, 1) if busy_ms else 0]
            for name, spent in ranked[:top]
        ]

    plumbing = frozenset(
        {
            "<module>",
            "_run_code",
            "_run_module_as_main",
            "main",
            "run",
            "run_forever",
            "BaseEventLoop.run_forever",
            "BaseEventLoop._run_once",
            "BaseEventLoop.run_until_complete",
            "Runner.run",
            "Handle._run",
            "Task.__step",
            "Task.__step_run_and_handle_result",
            "Context.run",
        }
    )
    return {
        "busy_ms": round(busy_ms, 1),
        "inclusive": _rank(inclusive, plumbing),
        "self": _rank(own, frozenset()),
        "fluxilab": _rank(fluxilab, frozenset()),
    }


def _frame(event: dict[str, Any]) -> tuple[str, str]:
    """Return (function, "file.py:line") of a chrometrace event."""
    where = event.get("args") or {}
    filename = str(where.get("filename", "?")).rsplit("/", 1)[-1]
    return str(event.get("name", "?")), f"{filename}:{where.get('line', '?')}"


def _attribute(stall: _Stall, stack: list[Frame], spent: float) -> None:
    for name, where, filename in reversed(stack):
        if "/custom_components/fluxilab/" in filename:
            stall.fluxilab[f"{name} ({where})"] += spent
            break
    stall.leaves[f"{stack[-1][0]} ({stack[-1][1]})"] += spent


# --------------------------------------------------------------------------------
# The devices (child process): boards, agents, the echo floor
# --------------------------------------------------------------------------------


class _Lane:
    """One device's single outstanding request, run by a thread of its own."""

    def __init__(self, device: Any, credentials: list[dict[str, str]]) -> None:
        self.device = device
        self.credentials = credentials or [{"card": device.unknown_card}]
        self.busy = False
        self.jobs: queue.Queue[tuple[float, int, str] | None] = queue.Queue()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.record: Any = None
        self.thread.start()

    def _run(self) -> None:
        while (job := self.jobs.get()) is not None:
            sent, number, target = job
            if number % UNKNOWN_EVERY == UNKNOWN_EVERY - 1:
                credential = {"card": self.device.unknown_card}
            else:
                credential = self.credentials[number % len(self.credentials)]
            outcome = self.device.check(credential, target)
            latency = time.perf_counter() - sent
            if latency > TIMEOUT:
                outcome = "timeout"
            self.record(sent, latency, outcome)
            self.busy = False

    def stop(self) -> None:
        self.jobs.put(None)
        self.thread.join(timeout=TIMEOUT + 5)


class LabBoard(fabomatic_emulator.Board):
    """A Fab-O-Matic board of the lab; its client also sends the floor's echoes."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.echo_topic = f"bench/echo/m{self.machine_id}/request"
        self.ha_topic = f"bench/ha/m{self.machine_id}/request"
        self.unknown_card = f"{0xFFF00000 + self.machine_id:08x}"

    def _on_connect(self, client: Any, *args: Any) -> None:
        super()._on_connect(client, *args)
        if self.connected:
            nodelay(client)
            client.subscribe(
                [
                    (f"bench/echo/m{self.machine_id}/reply", 1),
                    (f"bench/ha/m{self.machine_id}/reply", 1),
                ]
            )

    def check(self, credential: dict[str, str], target: str) -> str:
        """checkuser exactly as the firmware sends it, to the hub or a floor."""
        payload = '{"action":"checkuser","uid":"' + credential["card"] + '"}'
        with self._lock:
            topic = self.topic
            if target != HUB:
                self.topic = self.echo_topic if target == ECHO else self.ha_topic
            try:
                reply = self._query(payload)
            finally:
                self.topic = topic
        if reply is None:
            return "timeout"
        if target != HUB:
            return "echo"
        granted = reply.get("request_ok") and reply.get("is_valid") is True
        return "granted" if granted else "denied"


class Agent:
    """An emulated signed FluxiLab agent: announce, telemetry, sealed card checks."""

    def __init__(self, spec: dict[str, Any], host: str, port: int, index: int) -> None:
        self.device_id: str = spec["id"]
        self.name: str = spec["name"]
        self.channels = bool(spec["channels"])
        self.keys = KeyPair.generate()
        self.session: Any = None
        self.unknown_card = f"04FFFF{index:04X}"
        base = f"fluxilab/{self.device_id}"
        self.req, self.rep, self.ack = (
            f"{base}/access/request",
            f"{base}/access/reply",
            f"{base}/ack",
        )
        self.echo_req = f"bench/echo/a{index}/request"
        self.echo_rep = f"bench/echo/a{index}/reply"
        self.ha_req = f"bench/ha/a{index}/request"
        self.ha_rep = f"bench/ha/a{index}/reply"
        self.replies: queue.Queue[tuple[str, str]] = queue.Queue()
        self.seq = 0
        self.acked = 0
        self.bad = 0
        self.connected = threading.Event()
        self.client = paho.Client(
            paho.CallbackAPIVersion.VERSION2, client_id=f"agent-{self.device_id}"
        )
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.will_set(f"{base}/status", "offline", 1, True)
        self.client.connect_async(host, port)
        self.client.loop_start()

    def announce(self) -> dict[str, Any]:
        """The device's announcement (what the config flow adopts)."""
        return {
            "v": 1,
            "id": self.device_id,
            "name": self.name,
            "kind": "fumehood" if self.channels else "machine",
            "model": "Bench agent",
            "sw_version": "0.1.0",
            "key": self.keys.public_b64,
            "capabilities": {
                "channels": list(AGENT_CHANNELS) if self.channels else [],
                "rfid": True,
            },
        }

    def _on_connect(self, client: Any, *_args: Any) -> None:
        nodelay(client)
        client.subscribe(
            [(self.rep, 1), (self.echo_rep, 1), (self.ha_rep, 1), (self.ack, 1)]
        )
        base = f"fluxilab/{self.device_id}"
        client.publish(f"{base}/announce", json.dumps(self.announce()), 1, True)
        client.publish(f"{base}/status", "online", 1, True)
        self.connected.set()

    def _on_message(self, _client: Any, _userdata: Any, msg: Any) -> None:
        try:
            if msg.topic in (self.echo_rep, self.ha_rep):
                self.replies.put((msg.payload.decode(), "echo"))
            elif msg.topic == self.rep and self.session is not None:
                body = open_envelope(self.session, msg.topic, json.loads(msg.payload))
                self.replies.put(
                    (body["id"], "granted" if body["granted"] else "denied")
                )
            elif msg.topic == self.ack:
                # Counted, not verified: the sender's CPU is not what we measure.
                self.acked += len(json.loads(msg.payload)["body"]["seqs"])
        except (ValueError, KeyError, TypeError):
            self.bad += 1

    def pair(self, hub_key: str) -> None:
        """Derive the session keys from the hub's announced key, announce sealed.

        A paired agent seals its announcement; the hub takes channels and versions
        of a paired device only from a sealed one.
        """
        self.session = self.keys.derive(hub_key)
        topic = f"fluxilab/{self.device_id}/announce"
        sealed = seal_announce(self.session, topic, self.announce())
        self.client.publish(topic, json.dumps(sealed), 1, True)

    def publish_sealed(self, topic: str, body: dict[str, Any]) -> None:
        """Publish ``body`` sealed as the agent does."""
        self.client.publish(topic, json.dumps(seal(self.session, topic, body)), 1)

    def telemetry(self, second: int) -> None:
        """One 1 Hz sample of the fumehood's four channels."""
        self.seq += 1
        wobble = math.sin(second / 30 + self.seq % 7)
        values = {
            "face_velocity": round(0.5 + 0.04 * wobble, 3),
            "sash_height": round(30 + 5 * wobble, 1),
            "fan_running": True,
            "temperature": round(21 + 0.5 * wobble, 2),
        }
        body = {"seq": self.seq, "ts": round(time.time(), 3), "values": values}
        self.publish_sealed(f"fluxilab/{self.device_id}/telemetry", body)

    def check(self, credential: dict[str, str], target: str) -> str:
        """A sealed ``check`` (a card, or a member logged in with a PIN); wait."""
        while not self.replies.empty():
            self.replies.get_nowait()
        request_id = uuid.uuid4().hex
        if target != HUB:
            floor = self.echo_req if target == ECHO else self.ha_req
            self.client.publish(floor, request_id, 1)
        else:
            self.publish_sealed(
                self.req, {"id": request_id, "action": "check", **credential}
            )
        deadline = time.perf_counter() + TIMEOUT
        while (remaining := deadline - time.perf_counter()) > 0:
            try:
                key, outcome = self.replies.get(timeout=remaining)
            except queue.Empty:
                break
            if key == request_id:
                return outcome
        return "timeout"

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class Devices:
    """The child process: every board and agent, the echo client, the rows."""

    def __init__(self, spec: dict[str, Any]) -> None:
        # The firmware gives up on a reply after 2 s (the bench's timeout), as here.
        fabomatic_emulator.REPLY_TIMEOUT = TIMEOUT
        self.host, self.port = spec["host"], spec["port"]
        self.echo = subprocess.Popen(
            [
                sys.executable,
                str(SCRIPTS / "bench_access.py"),
                "--echo",
                self.host,
                str(self.port),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        if self.echo.stdout is None or self.echo.stdout.readline().strip() != b"ready":
            raise RuntimeError("the echo client did not start")
        self.boards = {
            f"fabomatic-{machine_id}": LabBoard(
                machine_id, self.host, self.port, inuse_period=60.0
            )
            for machine_id in spec["boards"]
        }
        for board in self.boards.values():
            board.start()
        self.agents = {
            a["id"]: Agent(a, self.host, self.port, index)
            for index, a in enumerate(spec["agents"])
        }
        self.lanes: dict[str, list[_Lane]] = {}
        self.telemetry_hz = float(spec["telemetry_hz"])
        self.stop_event = threading.Event()
        self.telemetry_thread: threading.Thread | None = None
        self.hub_key: str | None = None
        self.hub_seen = threading.Event()
        self.lock = threading.Lock()
        self.records: list[tuple[float, float, str, str]] = []

    def wait_connected(self, timeout: float) -> dict[str, int]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            boards = sum(b.connected for b in self.boards.values())
            agents = sum(a.connected.is_set() for a in self.agents.values())
            if boards == len(self.boards) and agents == len(self.agents):
                break
            time.sleep(0.2)
        return {"boards": boards, "agents": agents}

    def alive(self) -> dict[str, Any]:
        """Every board says alive again (adoption of those whose first one was lost)."""
        for board in self.boards.values():
            board.alive()
        return {"ok": True}

    def pair(
        self, plan: dict[str, list[dict[str, str]]], timeout: float
    ) -> dict[str, Any]:
        """Pin the hub's key, start telemetry, give every device its members."""

        def on_message(_c: Any, _u: Any, msg: Any) -> None:
            try:
                self.hub_key = str(json.loads(msg.payload)["key"])
                self.hub_seen.set()
            except (ValueError, KeyError, TypeError):
                pass

        client = paho.Client(
            paho.CallbackAPIVersion.VERSION2, client_id="bench-hub-key"
        )
        client.on_message = on_message
        client.on_connect = lambda c, *_a: c.subscribe("fluxilab/_hub/announce", 1)
        client.connect(self.host, self.port)
        client.loop_start()
        found = self.hub_seen.wait(timeout)
        client.loop_stop()
        client.disconnect()
        if not found or self.hub_key is None:
            return {"ok": False, "error": "no hub key on fluxilab/_hub/announce"}
        for agent in self.agents.values():
            agent.pair(self.hub_key)
        self.telemetry_thread = threading.Thread(target=self._telemetry, daemon=True)
        self.telemetry_thread.start()
        for transport, devices in (("boards", self.boards), ("agents", self.agents)):
            self.lanes[transport] = [
                _Lane(device, plan.get(device_id, []))
                for device_id, device in devices.items()
            ]
        for lanes in self.lanes.values():
            for lane in lanes:
                lane.record = self._record
        return {"ok": True, "paired": len(self.agents)}

    def _telemetry(self) -> None:
        period = 1.0 / self.telemetry_hz if self.telemetry_hz > 0 else None
        start, tick = time.monotonic(), 0
        while period is not None and not self.stop_event.is_set():
            for agent in self.agents.values():
                if agent.channels:
                    agent.telemetry(tick)
            tick += 1
            self.stop_event.wait(max(0.0, start + tick * period - time.monotonic()))

    def telemetry_counts(self) -> dict[str, int]:
        return {
            "records_sent": sum(a.seq for a in self.agents.values()),
            "records_acked": sum(a.acked for a in self.agents.values()),
            "bad_messages": sum(a.bad for a in self.agents.values()),
        }

    def _record(self, sent: float, latency: float, outcome: str) -> None:
        with self.lock:
            self.records.append((sent, latency, outcome, ""))

    def row(
        self, transport: str, rate: float, duration: float, target: str, minutes: bool
    ) -> dict[str, Any]:
        """Offer ``rate`` checks/s for ``duration`` s to the idle devices; summarize."""
        lanes = (
            [lane for lanes in self.lanes.values() for lane in lanes]
            if transport == "mixed"
            else self.lanes[transport]
        )
        with self.lock:
            self.records = []
        backpressure = sent = 0
        start = time.perf_counter()
        number = cursor = 0
        while (due := start + number / rate) < start + duration:
            if (wait := due - time.perf_counter()) > 0:
                time.sleep(wait)
            number += 1
            for step in range(len(lanes)):
                lane = lanes[(cursor + step) % len(lanes)]
                if not lane.busy:
                    cursor = (cursor + step + 1) % len(lanes)
                    lane.busy = True
                    lane.jobs.put((time.perf_counter(), sent, target))
                    sent += 1
                    break
            else:
                backpressure += 1
        offered_s = time.perf_counter() - start
        # A board may wait for its PUBACK and then its reply: 2 x TIMEOUT at most.
        deadline = time.perf_counter() + 2 * TIMEOUT + 1.0
        while any(lane.busy for lane in lanes) and time.perf_counter() < deadline:
            time.sleep(0.01)
        with self.lock:
            records = list(self.records)
        answered = [
            latency for _s, latency, outcome, _ in records if outcome != "timeout"
        ]
        outcomes = Counter(outcome for _s, _l, outcome, _ in records)
        result: dict[str, Any] = {
            "transport": transport,
            "kind": KINDS[target],
            "rate": rate,
            "devices": len(lanes),
            "seconds": round(offered_s, 1),
            "asked": number,
            "sent": sent,
            "answered": len(answered),
            "replied_per_s": round(len(answered) / offered_s, 1),
            **latency_row(answered),
            "timeouts": outcomes.get("timeout", 0) + sum(lane.busy for lane in lanes),
            "backpressure": backpressure,
            "granted": outcomes.get("granted", 0),
            "denied": outcomes.get("denied", 0),
        }
        if minutes:
            windows: dict[int, list[float]] = {}
            for sent_at, latency, outcome, _ in records:
                if outcome != "timeout":
                    windows.setdefault(int((sent_at - start) // 60), []).append(latency)
            result["per_minute"] = [
                {"minute": minute + 1, "answered": len(window), **latency_row(window)}
                for minute, window in sorted(windows.items())
            ]
        return result

    def stop(self) -> None:
        self.stop_event.set()
        for lanes in self.lanes.values():
            for lane in lanes:
                lane.stop()
        for board in self.boards.values():
            board.stop()
        for agent in self.agents.values():
            agent.stop()
        if self.echo.stdin is not None:
            self.echo.stdin.close()
        try:
            self.echo.wait(10)
        except subprocess.TimeoutExpired:
            self.echo.kill()


def run_devices() -> None:
    """The child: read one JSON command a line from stdin, answer one line each."""
    logging.basicConfig(level=logging.ERROR, format="%(asctime)s %(name)s: %(message)s")
    devices: Devices | None = None
    for line in sys.stdin:
        command = json.loads(line)
        name = command["cmd"]
        reply: dict[str, Any]
        if name == "start":
            devices = Devices(command["spec"])
            reply = {"ok": True, **devices.wait_connected(command["timeout"])}
        elif devices is None:
            reply = {"ok": False, "error": "not started"}
        elif name == "alive":
            reply = devices.alive()
        elif name == "pair":
            reply = devices.pair(command["plan"], command["timeout"])
        elif name == "row":
            reply = devices.row(
                command["transport"],
                float(command["rate"]),
                float(command["duration"]),
                str(command["target"]),
                bool(command.get("per_minute")),
            )
        elif name == "telemetry":
            reply = devices.telemetry_counts()
        elif name == "stop":
            devices.stop()
            print(json.dumps({"ok": True}), flush=True)
            return
        else:
            reply = {"ok": False, "error": f"unknown command {name}"}
        print(json.dumps(reply), flush=True)
    if devices is not None:
        devices.stop()


# --------------------------------------------------------------------------------
# Home Assistant, the lab and the rows (this process)
# --------------------------------------------------------------------------------


class LabBench(Bench):
    """bench_ingest's Mosquitto and ``hass``, set up as the dev lab, and the devices."""

    def __init__(self, args: argparse.Namespace) -> None:
        args.devices = 0  # bench_ingest's pre-adopted devices: none, ours are adopted
        super().__init__(args)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.password = uuid.uuid4().hex
        self.token = ""
        self.child: subprocess.Popen[str] | None = None
        self.viewer: Viewer | None = None
        self.spy: subprocess.Popen[bytes] | None = None
        self.board_ids = list(range(1, args.boards + 1))
        agents = [
            {"id": f"hood-{i:02d}", "name": f"Fumehood {i:02d}", "channels": True}
            for i in range(1, args.agents)
        ]
        agents.append({"id": "entrance", "name": ENTRANCE, "channels": False})
        self.agent_specs = agents
        self.seeded: dict[str, Any] = {}

    # Setup -------------------------------------------------------------------

    def write_config(self) -> None:
        """The dev lab's configuration.yaml and HTTP on our own loopback port."""
        storage_dir = self.config / ".storage"
        storage_dir.mkdir(parents=True)
        text = (REPO / "config" / "configuration.yaml").read_text()
        text = text.replace("http://127.0.0.1:8123", self.url)
        if self.args.fluxilab_log != "debug":
            text = text.replace(
                "custom_components.fluxilab: debug",
                f"custom_components.fluxilab: {self.args.fluxilab_log}",
            )
        (self.config / "configuration.yaml").write_text(text)
        (self.config / "automations.yaml").write_text("[]\n")
        (storage_dir / "http").write_text(http_storage(self.port))
        components = self.config / "custom_components"
        components.mkdir()
        (components / "fluxilab").symlink_to(REPO / "custom_components" / "fluxilab")
        # The cycle collector's long passes (gc_pauses.jsonl): a stall the profile
        # pins on a trivial frame may be the collector, run by whichever thread.
        probe = components / "bench_gc_probe"
        probe.mkdir()
        (probe / "__init__.py").write_text(GC_PROBE)
        (probe / "manifest.json").write_text(json.dumps(GC_PROBE_MANIFEST))
        with (self.config / "configuration.yaml").open("a") as out:
            out.write("\nbench_gc_probe:\n")

    def start(self) -> None:
        """Broker, hass, onboarding and MQTT (as scripts/develop and dev_onboard.py)."""
        started = time.monotonic()
        self.broker.start()
        self.write_config()
        self.launch_hass()
        ha = dev_onboard.HomeAssistant(self.url)
        ha.wait_until_up(self.args.startup_timeout)
        onboarding = argparse.Namespace(
            name="Lab Admin", username="admin", password=self.password
        )
        dev_onboard.onboard(ha, onboarding)
        dev_onboard.connect_mqtt(ha, self.broker.port, "homeassistant", self.password)
        time.sleep(3)  # core_config's background flows, as dev_onboard.py waits
        dev_onboard.remove_onboarding_extras(ha)
        self.token = str(ha.token)
        deadline = time.monotonic() + self.args.startup_timeout
        while ha.request("GET", "/api/config").get("state") != "RUNNING":
            if time.monotonic() > deadline:
                raise RuntimeError("Home Assistant did not reach RUNNING")
            time.sleep(1)
        self.results["startup_s"] = round(time.monotonic() - started, 1)

    def restart(self) -> dict[str, Any]:
        """Restart hass on the seeded lab, as a lab's hub runs: its lab there at start.

        Waits for the start's heap to be frozen (heap.py logs it a minute after the
        start); with ``--thaw`` the bench's probe gives it back to the collector.
        """
        if self.hass is None:
            raise RuntimeError("Home Assistant is not running")
        log = self.config / "home-assistant.log"
        self.hass.terminate()
        self.hass.wait(timeout=120)
        self.launch_hass()
        ha = dev_onboard.HomeAssistant(self.url)
        ha.token = self.token
        ha.wait_until_up(self.args.startup_timeout)
        deadline = time.monotonic() + self.args.startup_timeout
        while ha.request("GET", "/api/config").get("state") != "RUNNING":
            if time.monotonic() > deadline:
                raise RuntimeError("Home Assistant did not reach RUNNING again")
            time.sleep(1)
        found: dict[str, Any] = {"frozen_objects": None, "thawed": False}
        # Without INFO records from FluxiLab there is no line to wait for.
        deadline = time.monotonic() + (
            180 if self.args.fluxilab_log != "warning" else 0
        )
        if self.args.fluxilab_log == "warning":
            time.sleep(FREEZE_WAIT)
        while time.monotonic() < deadline:
            if match := FROZE.search(log.read_text(errors="replace")):
                found["frozen_objects"] = int(match.group(1))
                break
            time.sleep(2)
        else:
            print("  warning: the start's heap was not frozen", file=sys.stderr)
        if self.args.thaw:
            ha.request("POST", "/api/services/bench_gc_probe/thaw", {})
            found["thawed"] = True
        return found

    def apply_variant(self, variant: str) -> None:
        """Set up one ``--variants`` entry before its rows.

        ``pinned``: every thread of hass on ``--hass-cpus`` (threads it starts later
        inherit it), the bench's own processes (devices, floor, brokers, viewer) on
        the other CPUs: a lab's boards and agents are hardware of their own, not
        processes on the hub's cores. ``switch=S``: hass's interpreter switch
        interval at S seconds (how long a thread waiting for the GIL waits before it
        asks for it). ``gc=N``: the collector's oldest-generation threshold at N
        (full passes rarer, each with more garbage). ``base``: all CPUs for
        everyone, the default interval and thresholds.
        """
        if self.proc is None:
            raise RuntimeError("Home Assistant is not running")
        pinned = variant == "pinned"
        everyone = self.args.all_cpus
        hass_cpus = self.args.hass_cpus if pinned else everyone
        rest = everyone - self.args.hass_cpus if pinned else everyone
        bench = psutil.Process()
        for process in [bench, *bench.children(recursive=True)]:
            cpus = hass_cpus if process.pid == self.proc.pid else rest
            for thread in process.threads():
                try:
                    os.sched_setaffinity(thread.id, cpus)
                except OSError:
                    continue  # the thread ended meanwhile
        seconds = (
            float(variant.split("=", 1)[1]) if variant.startswith("switch=") else 0.005
        )
        ha = dev_onboard.HomeAssistant(self.url)
        ha.token = self.token
        ha.request(
            "POST", "/api/services/bench_gc_probe/switch_interval", {"seconds": seconds}
        )
        oldest = int(variant.split("=", 1)[1]) if variant.startswith("gc=") else 0
        ha.request(
            "POST", "/api/services/bench_gc_probe/gc_threshold", {"oldest": oldest}
        )

    def garbage(self, seconds: float) -> dict[str, Any]:
        """What the collector found unreachable in a mixed row of ``seconds``."""
        ha = dev_onboard.HomeAssistant(self.url)
        ha.token = self.token
        path = self.config / "heap_garbage.json"
        path.unlink(missing_ok=True)
        ha.request("POST", "/api/services/bench_gc_probe/garbage_start", {})
        row = self.row("mixed", self.args.sustained_rate, seconds, HUB)
        ha.request("POST", "/api/services/bench_gc_probe/garbage_stop", {})
        try:
            found = dict(json.loads(path.read_text()))
        except (OSError, ValueError) as err:
            found = {"error": str(err)}
        found["per_decision"] = round(
            found.get("objects", 0) / max(row["answered"], 1), 1
        )
        return found

    def _probe(self, service: str, data: dict[str, Any] | None = None) -> None:
        """Call one of the bench probe's services (it returns once done)."""
        ha = dev_onboard.HomeAssistant(self.url)
        ha.token = self.token
        ha.request("POST", f"/api/services/bench_gc_probe/{service}", data or {})

    def _probe_report(
        self, service: str, report: str, data: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Call a probe service that writes a JSON report in the config; read it."""
        path = self.config / report
        path.unlink(missing_ok=True)
        self._probe(service, data)
        try:
            return dict(json.loads(path.read_text()))
        except (OSError, ValueError) as err:
            return {"error": str(err)}

    def start_ha_floor(self) -> None:
        """Have the probe answer bench/ha/+/request (the HA floor's rows)."""
        self._probe("ha_floor")

    def history_fill(self, sessions: int) -> dict[str, Any]:
        """Book ``sessions`` closed sessions as weeks of a lab's uptime would."""
        return self._probe_report(
            "history_fill", "history_fill.json", {"sessions": sessions}
        )

    def census(self) -> dict[str, Any]:
        """The objects a full collection walks now (the probe's census), by type."""
        return self._probe_report("census", "heap_census.json")

    def command(self, message: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send one command to the devices' process; wait at most ``timeout`` s."""
        if self.child is None or self.child.stdin is None or self.child.stdout is None:
            raise RuntimeError("the devices are not running")
        self.child.stdin.write(json.dumps(message) + "\n")
        self.child.stdin.flush()
        ready, _, _ = select.select([self.child.stdout], [], [], timeout)
        if not ready:
            raise RuntimeError(
                f"the devices did not answer {message['cmd']} in {timeout} s"
            )
        line = self.child.stdout.readline()
        if not line:
            raise RuntimeError(f"the devices' process exited during {message['cmd']}")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def start_devices(self) -> dict[str, Any]:
        """Start the boards and agents (they announce, HA discovers them)."""
        self.child = subprocess.Popen(
            [sys.executable, __file__, "--load"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        spec = {
            "host": self.broker.host,
            "port": self.broker.port,
            "boards": self.board_ids,
            "agents": self.agent_specs,
            "telemetry_hz": self.args.telemetry_hz,
        }
        return self.command({"cmd": "start", "spec": spec, "timeout": 60}, 120)

    def seed(self) -> dict[str, Any]:
        """Adopt, configure and fill the lab through HA's APIs; return what it made."""
        plan = asyncio.run(self._seed())
        reply = self.command({"cmd": "pair", "plan": plan, "timeout": 60}, 90)
        if not reply.get("ok"):
            raise RuntimeError(f"pairing failed: {reply}")
        return self.seeded

    async def _seed(self) -> dict[str, list[dict[str, str]]]:
        expected = len(self.board_ids) + len(self.agent_specs)
        async with aiohttp.ClientSession() as session:
            lab = dev_lab.Lab(session, self.url, self.token)
            try:
                for _attempt in range(5):
                    await dev_lab.adopt_devices(lab, expected, 30)
                    entries = await lab.rest(
                        "GET", "/api/config/config_entries/entry?domain=fluxilab"
                    )
                    if len(entries) >= expected:
                        break
                    # A board's first alive can come before HA subscribed: again.
                    await asyncio.to_thread(self.command, {"cmd": "alive"}, 30)
                types: dict[str, str] = {}
                for data in LAB_MACHINE_TYPES:
                    created = await lab.ws(
                        {"type": "fluxilab/machine_type/create", **data}
                    )
                    types[data["name"]] = created["id"]
                await dev_lab.configure_devices(lab, types, type_for=device_type)
                plan = await self._seed_members(lab, types, entries)
                self.seeded["renamed_by_reconfigure"] = await dev_lab.rename_boards(
                    lab, entries, board_name
                )
                return plan
            finally:
                await lab.close()

    async def _seed_members(
        self, lab: Any, types: dict[str, str], entries: list[dict[str, Any]]
    ) -> dict[str, list[dict[str, str]]]:
        """Members, authorizations, the blocked board; each device's credentials."""
        args = self.args
        registry = await lab.ws({"type": "config/device_registry/list"})
        title = {entry["entry_id"]: entry["title"] for entry in entries}
        ha_device: dict[str, str] = {}
        type_of: dict[str, str] = {}
        for device in registry:
            for domain, identifier in device["identifiers"]:
                entry_ids = [e for e in device["config_entries"] if e in title]
                if domain == "fluxilab" and entry_ids:
                    ha_device[identifier] = device["id"]
                    type_of[identifier] = types[device_type(title[entry_ids[0]])]
        members: list[str] = []
        for index in range(args.members):
            response = await lab.service(
                "add_member",
                {
                    "name": f"Member {index:03d}",
                    "role": "staff" if index % 20 == 0 else "user",
                    "cards": [agent_card(index), board_card(index)],
                    "pin": f"{(index * 7919 + 100000) % 1000000:06d}",
                },
            )
            members.append(response["member_id"])
        # Machine types for most authorizations, a device of its own for every fifth;
        # every fifteenth unused for two years (lapsed where the type lapses).
        machines = [d for d in type_of if d != "entrance"]
        allowed: dict[str, set[int]] = {device: set() for device in type_of}
        granted = 0
        for number in range(args.authorizations):
            member = number % args.members
            data: dict[str, Any] = {"member_id": members[member]}
            if number % 5 == 4:
                device = machines[(number // 5) % len(machines)]
                data["device_id"] = ha_device[device]
                allowed[device].add(member)
            else:
                names = (*BOARD_TYPES, "Fumehood")
                name = names[(number // args.members + number) % len(names)]
                data["machine_type_id"] = types[name]
                for device, type_id in type_of.items():
                    if type_id == types[name]:
                        allowed[device].add(member)
            if number % 15 == 7:
                data["last_used"] = (
                    datetime.now(UTC) - timedelta(days=730)
                ).isoformat()
            try:
                await lab.service("grant_authorization", data)
                granted += 1
            except RuntimeError as err:  # a duplicate of one granted before
                print(f"  grant {number}: {err}", file=sys.stderr)
        allowed["entrance"] = set(range(args.members))
        blocked = f"fabomatic-{self.board_ids[-1]}"
        await lab.service(
            "block_device", {"device_id": ha_device[blocked]}, response=False
        )
        broker_config: Any
        try:
            response = await lab.service(
                "generate_broker_config", {"folder": "mosquitto"}
            )
            broker_config = len(response.get("users", []))
        except RuntimeError as err:
            broker_config = f"failed: {err}"
        self.seeded = {
            "devices": len(entries),
            "boards": len(self.board_ids),
            "agents": len(self.agent_specs),
            "members": len(members),
            "credentials_per_member": 3,
            "authorizations": granted,
            "blocked": blocked,
            "broker_logins": broker_config,
            "machine_types": {
                name: sum(t == types[name] for t in type_of.values()) for name in types
            },
        }
        plan: dict[str, list[dict[str, str]]] = {}
        for turn, (device, member_set) in enumerate(allowed.items()):
            # Each device starts somewhere else in its list: not all on one member.
            chosen = sorted(member_set) or [0]
            shift = (7 * turn) % len(chosen)
            chosen = chosen[shift:] + chosen[:shift]
            if device.startswith("fabomatic-"):
                plan[device] = [{"card": board_card(m)} for m in chosen]
            else:
                # Agents: a card, or the member logged in with a PIN at the device.
                plan[device] = [
                    {"card": agent_card(m)} if k % 2 else {"member_id": members[m]}
                    for k, m in enumerate(chosen)
                ]
        return plan

    # Measurement ----------------------------------------------------------------

    def start_spy(self, seconds: float, path: Path) -> subprocess.Popen[bytes] | None:
        """Sample hass with py-spy (not paused: --nonblocking) for ``seconds``."""
        binary = shutil.which("py-spy") or (str(PY_SPY) if PY_SPY.exists() else None)
        if binary is None or self.args.spy_rate <= 0 or self.proc is None:
            return None
        return subprocess.Popen(
            [
                binary,
                "record",
                "--pid",
                str(self.proc.pid),
                "--rate",
                str(self.args.spy_rate),
                "--nonblocking",
                "--idle",
                "--format",
                "chrometrace",
                "--output",
                str(path),
                "--duration",
                str(math.ceil(seconds)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def finish_spy(
        self, spy: subprocess.Popen[bytes] | None, path: Path, seconds: float
    ) -> dict[str, Any]:
        """Wait for py-spy's trace and find the stalls in it."""
        if spy is None:
            return {
                "found_loop": False,
                "error": "py-spy not installed (scripts/bench installs it)",
            }
        try:
            spy.wait(timeout=seconds + 60)
        except subprocess.TimeoutExpired:
            spy.kill()
            spy.wait(timeout=10)
        try:
            events = json.loads(path.read_text())
        except (OSError, ValueError) as err:
            return {"found_loop": False, "error": f"no py-spy trace: {err}"}
        finally:
            path.unlink(missing_ok=True)
        found = loop_stalls(events, self.args.stall_ms, self.args.top_stalls)
        found["profile"] = loop_profile(events, self.args.top_profile)
        return found

    def row(
        self,
        transport: str,
        rate: float,
        duration: float,
        target: str,
        background: dict[str, float] | None = None,
    ) -> dict[str, Any]:
        """One row: devices' figures, HA's CPU split, the loop's stalls."""
        spy_path = self.workdir / f"spy-{uuid.uuid4().hex}.json"
        floor = target == ECHO
        spy = None if target != HUB else self.start_spy(duration + 1, spy_path)
        if spy is not None:
            time.sleep(0.5)  # py-spy attaches
        sampler = (
            SchedSampler(self.proc.pid, self.args.sched_interval).start()
            if not floor and self.args.sched_interval > 0 and self.proc is not None
            else None
        )
        ui_before = self.viewer.snapshot() if self.viewer else {}
        threads_before, started = self.thread_cpu(), time.monotonic()
        result = self.command(
            {
                "cmd": "row",
                "transport": transport,
                "rate": rate,
                "duration": duration,
                "target": target,
                "per_minute": duration >= 120,
            },
            duration + TIMEOUT + 60,
        )
        elapsed = time.monotonic() - started
        result["gc_pauses"] = self.gc_pauses(started, started + elapsed)
        threads = {
            name: seconds - threads_before[name]
            for name, seconds in self.thread_cpu().items()
        }
        result["hass_cpu_percent"] = {
            name: round(100 * seconds / elapsed, 1) for name, seconds in threads.items()
        }
        result["hass_cpu_s_per_s"] = {
            name: seconds / elapsed for name, seconds in threads.items()
        }
        if self.viewer:
            after = self.viewer.snapshot()
            result["ui_messages"] = {k: after[k] - ui_before.get(k, 0) for k in after}
        if not floor:
            decisions = max(result["answered"], 1)
            result["hass_cpu_ms_per_decision"] = {
                name: round(1000 * seconds / decisions, 3)
                for name, seconds in threads.items()
            }
            if background is not None:
                # Net of what HA spent meanwhile without a single decision (the
                # floor row: telemetry, the UI, timers, the recorder's commits).
                result["net_hass_cpu_ms_per_decision"] = {
                    name: round(
                        1000
                        * max(seconds - background[name] * elapsed, 0.0)
                        / decisions,
                        3,
                    )
                    for name, seconds in threads.items()
                }
            if target == HUB:
                result["stalls"] = self.finish_spy(spy, spy_path, duration)
        if sampler is not None:
            waits = loop_waits(sampler.stop(), self.args.stall_ms, self.args.top_stalls)
            waits["sampler_cpu_s"] = round(sampler.cpu_s, 2)
            result["loop_waits"] = waits
        return result

    def gc_pauses(self, begin: float, end: float) -> dict[str, Any]:
        """The cycle collector's passes of 20 ms or more between two monotonic times."""
        try:
            lines = (self.config / "gc_pauses.jsonl").read_text().splitlines()
        except OSError:
            return {"found": False}
        passes = [json.loads(line) for line in lines if line.strip()]
        inside = [p for p in passes if begin <= p["at"] <= end]
        by_thread: dict[str, int] = {}
        for found in inside:
            by_thread[found["thread"]] = by_thread.get(found["thread"], 0) + 1
        stall_ms = self.args.stall_ms
        return {
            "found": True,
            "over_20_ms": len(inside),
            f"over_{stall_ms:g}_ms": sum(p["ms"] >= stall_ms for p in inside),
            "longest_ms": max((p["ms"] for p in inside), default=0.0),
            "total_ms": round(sum(p["ms"] for p in inside), 1),
            "cpu_ms_total": round(sum(p.get("cpu_ms", 0.0) for p in inside), 1),
            "generations": sorted({p["generation"] for p in inside}),
            "by_thread": by_thread,
        }

    def quiet(self) -> None:
        """Let HA settle between rows (bounded); on a busy shared machine, go on."""
        bound, self.args.startup_timeout = self.args.startup_timeout, self.args.settle
        try:
            self.settle()
        except RuntimeError:
            print("  warning: Home Assistant did not settle", file=sys.stderr)
        finally:
            self.args.startup_timeout = bound

    def run_rows(self) -> list[dict[str, Any]]:
        """Per rate and transport: the floor, then the lab; p99 over the floor's."""
        rows = []
        for variant in self.args.variants:
            self.apply_variant(variant)
            for rate in self.args.rates:
                for transport in TRANSPORTS:
                    self.quiet()
                    floor = self.row(transport, rate, self.args.duration, ECHO)
                    background = floor["hass_cpu_s_per_s"]
                    lab = self.row(
                        transport, rate, self.args.duration, HUB, background=background
                    )
                    if lab["p99_ms"] is not None and floor["p99_ms"]:
                        lab["p99_over_floor"] = round(
                            lab["p99_ms"] / floor["p99_ms"], 1
                        )
                    row = [floor, lab]
                    if self.args.ha_floor:
                        ha = self.row(
                            transport,
                            rate,
                            self.args.duration,
                            HA_FLOOR,
                            background=background,
                        )
                        lab["loop_over_ha_floor"] = _loop_ratio(lab, ha)
                        row.append(ha)
                    for each in row:
                        each["variant"] = variant
                    rows += row
                    print(
                        f"  {variant} {transport} {rate:g}/s: "
                        + " | ".join(_brief(each) for each in row),
                        file=sys.stderr,
                    )
        self.apply_variant(self.args.variants[-1])
        return rows

    def stop(self) -> None:
        """Stop the devices and the viewer, then bench_ingest's broker and hass."""
        try:
            if self.viewer is not None:
                self.viewer.stop()
            if self.child is not None and self.child.poll() is None:
                try:
                    self.command({"cmd": "stop"}, 30)
                    self.child.wait(timeout=10)
                except (RuntimeError, OSError, subprocess.TimeoutExpired):
                    self.child.kill()
                    self.child.wait(timeout=10)
        finally:
            super().stop()


def _loop_ratio(lab: dict[str, Any], ha: dict[str, Any]) -> float | None:
    """The lab's event-loop CPU per decision over the HA floor's per answer (net)."""
    mine = (lab.get("net_hass_cpu_ms_per_decision") or {}).get("event_loop")
    floor = (ha.get("net_hass_cpu_ms_per_decision") or {}).get("event_loop")
    return round(mine / floor, 1) if mine is not None and floor else None


def _brief(row: dict[str, Any]) -> str:
    return (
        f"{row['kind']} {row['replied_per_s']}/s p50 {row['p50_ms']}"
        f" p99 {row['p99_ms']}"
        f" max {row['max_ms']} ms, {row['timeouts']} timeouts"
    )


class Viewer:
    """A user with the dashboard, the logbook and FluxiLab's panel open (websocket)."""

    SUBSCRIPTIONS = (
        ("entities", {"type": "subscribe_entities"}),
        ("logbook", {"type": "logbook/event_stream"}),
        ("panel", {"type": "fluxilab/panel/subscribe"}),
    )

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token
        self.counts: Counter[str] = Counter()
        self.errors: list[str] = []
        self.dropped: list[str] = []
        """Each time Home Assistant closed the viewer's websocket, how."""
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._run()), daemon=True
        )
        self._thread.start()
        self._ready.wait(30)

    async def _run(self) -> None:
        try:
            async with aiohttp.ClientSession() as session:
                while not self._stop.is_set():
                    if await self._view(session):
                        return
                    # Dropped by Home Assistant (a client that cannot keep up is
                    # closed): the frontend connects again, so does the viewer.
                    self.counts["reconnects"] += 1
                    await asyncio.sleep(1.0)
        finally:
            self._ready.set()

    async def _view(self, session: aiohttp.ClientSession) -> bool:
        """Connect, subscribe, count; True once stopped, False if dropped."""
        names: dict[int, str] = {}
        try:
            ws = await session.ws_connect(f"{self.url}/api/websocket", max_msg_size=0)
            await ws.receive_json()
            await ws.send_json({"type": "auth", "access_token": self.token})
            await ws.receive_json()
            for number, (name, subscribe) in enumerate(self.SUBSCRIPTIONS, 1):
                message = dict(subscribe)
                if name == "logbook":
                    message["start_time"] = datetime.now(UTC).isoformat()
                names[number] = name
                await ws.send_json({"id": number, **message})
            self._ready.set()
            while not self._stop.is_set():
                try:
                    msg = await ws.receive(timeout=0.5)
                except TimeoutError:
                    continue
                if msg.type is not aiohttp.WSMsgType.TEXT:
                    self.dropped.append(f"{msg.type.name} {ws.close_code}")
                    return False
                data = json.loads(msg.data)
                for item in data if isinstance(data, list) else [data]:
                    if item.get("type") == "result" and not item.get("success"):
                        self.errors.append(str(item.get("error")))
                    elif item.get("type") == "event":
                        self.counts[names.get(item.get("id"), "other")] += 1
            await ws.close()
        except (OSError, ValueError, aiohttp.ClientError) as err:
            self.dropped.append(str(err) or type(err).__name__)
            return self._stop.is_set()
        return True

    def snapshot(self) -> dict[str, int]:
        names = [name for name, _ in self.SUBSCRIPTIONS]
        return {name: self.counts[name] for name in [*names, "reconnects"]}

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


# --------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------


def print_table(result: dict[str, Any]) -> None:
    """Print the rows, the CPU split and the stalls."""
    seeded = result["lab"]
    print(
        f"\nFluxiLab access, a real lab: {seeded['boards']} Fab-O-Matic boards,"
        f" {seeded['agents']} signed agents, {seeded['members']} members x"
        f" {seeded['credentials_per_member']} credentials,"
        f" {seeded['authorizations']} authorizations, {seeded['blocked']} blocked;"
        f" {result['duration_s']} s per row, timeout {TIMEOUT} s"
    )
    header = (
        f"{'variant':<14}{'transport':<9}{'kind':<6}{'asked/s':>8}{'replied/s':>10}{'p50 ms':>9}"
        f"{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}{'timeouts':>9}{'backpr':>7}"
        f"{'p99/fl':>8}{'loop ms/dec':>12}{'rec ms/dec':>11}{'stalls>50':>10}"
        f"{'longest':>9}"
    )
    print(header)
    print("-" * len(header))
    rows = list(result["rows"])
    if result.get("sustained"):
        rows.append(result["sustained"])
    for row in rows:
        cpu = (
            row.get("net_hass_cpu_ms_per_decision")
            or row.get("hass_cpu_ms_per_decision")
            or {}
        )
        stalls = row.get("stalls") or {}
        print(
            f"{row.get('variant', '-'):<14}{row['transport']:<9}{row['kind']:<6}"
            f"{row['rate']:>8g}"
            f"{row['replied_per_s']:>10}"
            f"{row['p50_ms']!s:>9}{row['p95_ms']!s:>9}{row['p99_ms']!s:>9}"
            f"{row['max_ms']!s:>9}{row['timeouts']:>9}{row['backpressure']:>7}"
            f"{row.get('p99_over_floor', '-')!s:>8}{cpu.get('event_loop', '-')!s:>12}"
            f"{cpu.get('recorder', '-')!s:>11}"
            f"{stalls.get('stalls_over_threshold', '-')!s:>10}"
            f"{stalls.get('longest_ms', '-')!s:>9}"
        )
    print("(ms/dec: HA CPU per decision net of the same row's floor; stalls: py-spy)")
    for row in rows:
        if (ratio := row.get("loop_over_ha_floor")) is not None:
            print(
                f"  {row.get('variant', '-')} {row['transport']} {row['rate']:g}/s:"
                f" the loop's CPU per decision is {ratio}x the HA floor's per answer"
            )
    for row in rows:
        for stall in (row.get("stalls") or {}).get("top", [])[:3]:
            flux = "; ".join(f"{name} {spent} ms" for name, spent in stall["fluxilab"])
            inner = "; ".join(
                f"{name} {spent} ms" for name, spent in stall["innermost"]
            )
            print(
                f"  stall {stall['ms']} ms ({row.get('variant', '-')} {row['transport']}"
                f" {row['rate']:g}/s at"
                f" {stall['at_s']} s): {stall['callback']}"
                + (f" | FluxiLab: {flux}" if flux else "")
                + f" | innermost: {inner}"
            )
    for row in rows:
        if not (waits := row.get("loop_waits")):
            continue
        share = waits["share_percent"]
        print(
            f"  kernel {row.get('variant', '-')} {row['transport']} {row['rate']:g}/s:"
            f" {waits['stretches']}"
            f" busy stretches >= {STALL_MS:g} ms, {waits['stretch_ms_total']} ms:"
            f" on CPU {share['cpu_ms']}%, run queue {share['run_queue_ms']}%,"
            f" futex (GIL) {share['futex_ms']}%, other syscalls"
            f" {share['other_syscall_ms']}% (sampler {waits['interval_ms']} ms,"
            f" {waits['with_sampler_gap_over_25_ms']} with a gap of its own)"
        )
        for stretch in waits["top"][:3]:
            others = ", ".join(f"{name} {ms}" for name, ms in stretch["others_cpu_ms"])
            print(
                f"    {stretch['ms']} ms at {stretch['at_s']} s: cpu"
                f" {stretch['cpu_ms']}, run queue {stretch['run_queue_ms']}, futex"
                f" {stretch['futex_ms']}, syscalls {stretch['other_syscall_ms']};"
                f" others ran: {others or '-'}"
            )
    if result.get("profile"):
        for row in rows:
            profile = (row.get("stalls") or {}).get("profile")
            if not profile:
                continue
            print(
                f"  profile {row['transport']} {row['rate']:g}/s: loop busy"
                f" {profile['busy_ms']} ms over {row['answered']} decisions"
            )
            for part in ("inclusive", "fluxilab", "self"):
                print(f"    {part}:")
                for name, spent, share in profile[part]:
                    print(f"      {spent:>9} ms {share:>5}%  {name}")
    if (census := result.get("heap_census")) and "generations" in census:
        full = sorted(census.get("full_ms") or [0.0])
        kinds = dict(census.get("top") or [])
        print(
            f"heap after the rows: {sum(census['generations'])} objects walked"
            f" ({kinds.get('custom_components.fluxilab.history_db.records.LiveSession', 0)}"
            f" sessions,"
            f" {kinds.get('custom_components.fluxilab.history_db.records.LiveAudit', 0)}"
            f" audit entries), a full pass {full[0]} ms at least,"
            f" {full[len(full) // 2]} ms median"
            + (f"; uptime booked: {result['uptime']}" if result.get("uptime") else "")
        )
    telemetry = result.get("telemetry", {})
    print(
        f"telemetry records sent {telemetry.get('records_sent')}, acknowledged"
        f" {telemetry.get('records_acked')}; UI subscriptions"
        f" {result.get('ui_errors') or 'ok'}"
        + (
            f"; the viewer was dropped by Home Assistant {len(dropped)} times and"
            " connected again (rows' ui_messages: reconnects)"
            if (dropped := result.get("ui_dropped"))
            else ""
        )
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boards", type=int, default=50)
    parser.add_argument(
        "--agents", type=int, default=10, help="the last is the entrance"
    )
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--authorizations", type=int, default=300)
    parser.add_argument("--duration", type=float, default=30.0, help="s per row")
    parser.add_argument("--rates", default=",".join(f"{r:g}" for r in RATES))
    parser.add_argument(
        "--minutes",
        type=float,
        default=0.0,
        help="then a sustained row this long at --sustained-rate, over every device",
    )
    parser.add_argument("--sustained-rate", type=float, default=50.0)
    parser.add_argument("--telemetry-hz", type=float, default=1.0)
    parser.add_argument(
        "--spy-rate", type=int, default=100, help="py-spy samples/s (0: off)"
    )
    parser.add_argument("--stall-ms", type=float, default=STALL_MS)
    parser.add_argument(
        "--sched-interval",
        type=float,
        default=0.002,
        help="s between /proc samples of the loop thread (0: off); see loop_waits",
    )
    parser.add_argument("--top-stalls", type=int, default=10)
    parser.add_argument(
        "--top-profile",
        type=int,
        default=15,
        help="functions listed per row in the loop's profile (JSON; --profile prints)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="print each lab row's event-loop profile (inclusive, self, FluxiLab)",
    )
    parser.add_argument(
        "--fluxilab-log",
        default="debug",
        choices=("debug", "info", "warning"),
        help="custom_components.fluxilab's log level (the dev lab's file says debug)",
    )
    parser.add_argument("--startup-timeout", type=float, default=600.0)
    parser.add_argument(
        "--settle", type=float, default=60.0, help="s at most to wait for a quiet HA"
    )
    parser.add_argument(
        "--allocator",
        default="jemalloc",
        choices=ALLOCATORS,
        help="malloc of the hass process (jemalloc: as HA's own container runs it)",
    )
    parser.add_argument(
        "--no-restart",
        action="store_true",
        help="run the rows on the hass that seeded the lab (not restarted on it)",
    )
    parser.add_argument(
        "--thaw",
        action="store_true",
        help="after the restart, give the start's frozen heap back to the collector",
    )
    parser.add_argument(
        "--variants",
        default="base",
        help="the rows once per variant: base, pinned, switch=S, gc=N (apply_variant)",
    )
    parser.add_argument(
        "--hass-cpus",
        help="the pinned variant's CPUs for hass (default: the last CPU)",
    )
    parser.add_argument(
        "--garbage",
        type=float,
        default=0.0,
        help="s of a mixed row whose cyclic garbage the probe keeps and counts",
    )
    parser.add_argument(
        "--ha-floor",
        action="store_true",
        help="after each lab row, the same checks answered by the HA floor: a bench"
        " integration's MQTT reply with one event and one state change",
    )
    parser.add_argument(
        "--uptime-sessions",
        type=int,
        default=UPTIME_SESSIONS,
        help="closed sessions booked after the freeze, before the rows (a lab's weeks"
        " of uptime; 0: a hub just restarted)",
    )
    parser.add_argument("--quick", action="store_true", help="10 boards, 4 s per row")
    parser.add_argument("--json", type=Path, help="also write the JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--load", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.boards, args.agents = min(args.boards, 10), min(args.agents, 4)
        args.members, args.authorizations = (
            min(args.members, 40),
            min(args.authorizations, 60),
        )
        args.duration, args.settle = 4.0, 10.0
    args.rates = [float(rate) for rate in args.rates.split(",") if rate]
    args.variants = [v for v in args.variants.split(",") if v]
    for variant in args.variants:
        if variant not in ("base", "pinned") and not re.fullmatch(
            r"switch=[0-9.]+|gc=[0-9]+", variant
        ):
            parser.error(f"unknown variant {variant!r}")
    args.all_cpus = os.sched_getaffinity(0)
    args.hass_cpus = (
        {int(cpu) for cpu in args.hass_cpus.split(",") if cpu}
        if args.hass_cpus
        else {max(args.all_cpus)}
    )
    if not args.hass_cpus < args.all_cpus:
        parser.error("--hass-cpus must leave this machine's other CPUs to the rest")
    return args


def main() -> int:
    """Run the bench (or, as the child, the devices)."""
    if "--load" in sys.argv:
        run_devices()
        return 0
    args = parse_args()
    # Under the repository's ignored .bench/ (as bench_soak.py): a kept run survives.
    work = REPO / ".bench" / "work"
    work.mkdir(parents=True, exist_ok=True)
    tempfile.tempdir = str(work)
    lab = LabBench(args)
    result: dict[str, Any] = {
        "variants": args.variants,
        "pinned_hass_cpus": sorted(args.hass_cpus),
        "quick": args.quick,
        "duration_s": args.duration,
        "timeout_s": TIMEOUT,
        "allocator": args.allocator,
        "fluxilab_log_level": args.fluxilab_log,
        "spy_rate": args.spy_rate,
        "profile": args.profile,
    }
    began = time.monotonic()
    try:
        print("starting Mosquitto and Home Assistant, onboarding...", file=sys.stderr)
        lab.start()
        print(f"  ready in {lab.results['startup_s']} s; devices...", file=sys.stderr)
        connected = lab.start_devices()
        print(f"  connected: {connected}; adopting and seeding...", file=sys.stderr)
        seeding = time.monotonic()
        result["lab"] = lab.seed()
        result["seed_s"] = round(time.monotonic() - seeding, 1)
        print(f"  seeded in {result['seed_s']} s: {result['lab']}", file=sys.stderr)
        if not args.no_restart:
            result["heap"] = lab.restart()
            print(f"  restarted on the lab: {result['heap']}", file=sys.stderr)
        if args.uptime_sessions > 0:
            result["uptime"] = lab.history_fill(args.uptime_sessions)
            print(f"  weeks of uptime booked: {result['uptime']}", file=sys.stderr)
        if args.ha_floor:
            lab.start_ha_floor()
        lab.viewer = Viewer(lab.url, lab.token)
        result["rows"] = lab.run_rows()
        if args.minutes > 0:
            lab.quiet()
            seconds = 60 * args.minutes
            floor = lab.row("mixed", args.sustained_rate, min(seconds, 30.0), ECHO)
            result["sustained_floor"] = floor
            result["sustained"] = lab.row(
                "mixed",
                args.sustained_rate,
                seconds,
                HUB,
                background=floor["hass_cpu_s_per_s"],
            )
        if args.garbage > 0:
            result["heap_garbage"] = lab.garbage(args.garbage)
        result["heap_census"] = lab.census()
        result["telemetry"] = lab.command({"cmd": "telemetry"}, 30)
        result["ui_errors"] = lab.viewer.errors
        result["ui_dropped"] = lab.viewer.dropped
        result["startup_s"] = lab.results["startup_s"]
    finally:
        lab.stop()
    result["run_s"] = round(time.monotonic() - began, 1)
    extra = [result.get(name) or {} for name in ("sustained", "sustained_floor")]
    for row in [*result.get("rows", []), *extra]:
        row.pop("hass_cpu_s_per_s", None)
    print_table(result)
    print_json(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
