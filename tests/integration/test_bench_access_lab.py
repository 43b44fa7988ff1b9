"""The access-lab bench's stall finder on a py-spy trace made by hand.

scripts/bench_access_lab.py reports the event loop's longest stalls from py-spy's
chrometrace output; what it finds there is checked here on a trace whose answer is
known, so a change of the parser cannot quietly move the bench's figures.
"""

from __future__ import annotations

from pathlib import Path
import runpy
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
FLUX = f"{REPO}/custom_components/fluxilab/access/engine.py"
LOOP = [
    ("<module>", "/usr/lib/python3.14/runpy.py"),
    ("BaseEventLoop.run_forever", "/usr/lib/python3.14/asyncio/base_events.py"),
    ("BaseEventLoop._run_once", "/usr/lib/python3.14/asyncio/base_events.py"),
]
SELECT = ("EpollSelector.select", "/usr/lib/python3.14/selectors.py")
HANDLE = ("Handle._run", "/usr/lib/python3.14/asyncio/events.py")


@pytest.fixture(scope="module")
def bench() -> dict[str, Any]:
    """The bench's functions (scripts/ is not a package)."""
    return runpy.run_path(str(REPO / "scripts" / "bench_access_lab.py"))


def _event(phase: str, ms: float, frame: tuple[str, str], tid: int = 1) -> dict:
    name, filename = frame
    return {
        "ph": phase,
        "ts": int(ms * 1000),
        "tid": tid,
        "name": name,
        "args": {"filename": filename, "line": 1},
    }


def _span(
    start: float, end: float, frames: list[tuple[str, str]], tid: int = 1
) -> list:
    opened = [_event("B", start, frame, tid) for frame in frames]
    return opened + [_event("E", end, frame, tid) for frame in reversed(frames)]


def _trace() -> list[dict]:
    """Idle; a FluxiLab callback for 70 ms, then a task for 20 ms; idle; 20 ms; idle."""
    decide = [HANDLE, ("MqttHandler.on_message", FLUX), ("json.dumps", "/x/json.py")]
    task = [
        HANDLE,
        ("Task.__step_run_and_handle_result", "/usr/lib/python3.14/asyncio/tasks.py"),
        ("Recorder.async_commit", "/x/recorder/core.py"),
    ]
    events = [_event("B", 0, frame) for frame in LOOP]
    events += _span(0, 10, [SELECT])
    events += _span(10, 80, decide)
    events += _span(80, 100, task)
    events += _span(100, 120, [SELECT])
    events += _span(120, 140, decide)
    events += _span(140, 150, [SELECT])
    # The recorder's thread: busy throughout, never the event loop.
    events += _span(0, 150, [("Recorder._run", "/x/recorder/core.py")], tid=2)
    return events


def test_the_loop_stall_over_the_threshold_is_found_with_its_callback(
    bench: dict[str, Any],
) -> None:
    """One stall over 50 ms: its length, and the FluxiLab frame that held the loop."""
    found = bench["loop_stalls"](_trace(), 50.0, 10)
    assert found["found_loop"] is True
    assert found["stalls_over_threshold"] == 1
    assert found["stalls_over_100_ms"] == 0
    assert found["longest_ms"] == 70.0
    # 10-100 ms without select: two callbacks, one busy stretch.
    assert found["longest_busy_stretch_ms"] == 90.0
    assert found["busy_percent"] == round(100 * 110 / 150, 1)
    (stall,) = found["top"]
    assert stall["ms"] == 70.0
    assert stall["at_s"] == 0.01
    assert stall["callback"] == "MqttHandler.on_message (engine.py)"
    assert stall["fluxilab"] == [["MqttHandler.on_message (engine.py:1)", 70.0]]
    assert stall["innermost"] == [["json.dumps (json.py:1)", 70.0]]


def test_a_lower_threshold_lists_every_callback_longest_first(
    bench: dict[str, Any],
) -> None:
    """At 10 ms the two 20 ms callbacks count too; a task is named by its coroutine."""
    found = bench["loop_stalls"](_trace(), 10.0, 10)
    assert [stall["ms"] for stall in found["top"]] == [70.0, 20.0, 20.0]
    callbacks = {stall["callback"] for stall in found["top"][1:]}
    assert callbacks == {
        "Recorder.async_commit (core.py)",
        "MqttHandler.on_message (engine.py)",
    }


def test_a_trace_without_an_event_loop_reports_none(bench: dict[str, Any]) -> None:
    """No asyncio loop in the trace: nothing found, nothing invented."""
    events = _span(0, 100, [("Recorder._run", "/x/recorder/core.py")], tid=2)
    found = bench["loop_stalls"](events, 50.0, 10)
    assert found["found_loop"] is False
    assert found["top"] == []
    assert found["longest_ms"] == 0.0


def test_the_loop_profile_splits_busy_time_into_inclusive_and_self(
    bench: dict[str, Any],
) -> None:
    """Busy 110 ms of 150: 90 in the FluxiLab callback, 20 in the recorder's task."""
    profile = bench["loop_profile"](_trace(), 10)
    assert profile["busy_ms"] == 110.0
    inclusive = {name: spent for name, spent, _share in profile["inclusive"]}
    # asyncio's own frames are left out; each function counts once per sample.
    assert inclusive == {
        "MqttHandler.on_message (engine.py)": 90.0,
        "json.dumps (json.py)": 90.0,
        "Recorder.async_commit (core.py)": 20.0,
    }
    assert profile["self"][0] == ["json.dumps (json.py)", 90.0, 81.8]
    assert profile["self"][1] == ["Recorder.async_commit (core.py)", 20.0, 18.2]
    assert profile["fluxilab"] == [["MqttHandler.on_message (engine.py)", 90.0, 81.8]]
    # The recorder's own thread (tid 2), busy throughout, is not the loop's.
    assert "Recorder._run (core.py)" not in inclusive


def test_devices_get_the_machine_type_of_their_kind(bench: dict[str, Any]) -> None:
    """Boards spread over the board types, agents are fumehoods, one entrance."""
    device_type = bench["device_type"]
    assert device_type("Lab entrance") == "Door"
    assert device_type("Fumehood 03") == "Fumehood"
    assert [device_type(f"Fab-O-Matic {n}") for n in (1, 2, 3)] == [
        "CNC",
        "3D printer",
        "Laser",
    ]
    # A board reads the member's card as 8 lowercase hex digits.
    assert bench["board_card"](10) == "b000000a"


def _samples(bench: dict[str, Any]) -> list[Any]:
    """2 ms apart: idle; 60 ms busy (20 on CPU, 30 on a futex, 10 in the run
    queue) while the Recorder ran 25 ms; idle; a 10 ms blip; idle."""
    sample, samples = bench["SchedSample"], []
    cpu = wait = recorder = 0
    for step in range(60):
        ms = 2 * step
        syscall = None if 10 <= ms < 30 or 60 <= ms < 70 or 90 <= ms < 100 else 232
        if 30 <= ms < 60:
            syscall = 202
        others = {"Recorder": recorder, "SyncWorker_0": 0} if step % 5 == 0 else {}
        samples.append(sample(ms / 1000, syscall, cpu, wait, others))
        # The counters of the next sample include the 2 ms that follow this one.
        if syscall is None and 60 <= ms < 70:
            wait += 2_000_000
        elif syscall is None:
            cpu += 2_000_000
        elif syscall == 202:
            recorder += 1_666_667
    return samples


def test_the_kernel_splits_a_loop_stretch_into_cpu_run_queue_and_gil(
    bench: dict[str, Any],
) -> None:
    """The sampler's stretch: how long, and where the loop thread's time went."""
    found = bench["loop_waits"](_samples(bench), 50.0, 10)
    assert found["stretches"] == 1  # the 10 ms blip is under the threshold
    (stretch,) = found["top"]
    assert stretch["at_s"] == pytest.approx(0.010)
    assert stretch["ms"] == pytest.approx(60.0)
    assert stretch["cpu_ms"] == pytest.approx(20.0)
    assert stretch["futex_ms"] == pytest.approx(30.0)
    assert stretch["run_queue_ms"] == pytest.approx(10.0)
    assert stretch["other_syscall_ms"] == 0
    assert stretch["longest_sample_gap_ms"] == pytest.approx(2.0)
    assert found["with_sampler_gap_over_25_ms"] == 0
    assert stretch["others_cpu_ms"][0][0] == "Recorder"
    assert found["share_percent"]["futex_ms"] == pytest.approx(50.0)


def test_an_idle_loop_has_no_stretch(bench: dict[str, Any]) -> None:
    """Samples all in the poll: nothing to split."""
    sample = bench["SchedSample"]
    idle = [sample(step / 500, 232, 0, 0, {}) for step in range(50)]
    found = bench["loop_waits"](idle, 50.0, 10)
    assert found["stretches"] == 0
    assert found["top"] == []


def test_the_loop_is_given_as_a_multiple_of_the_ha_floor(bench: dict[str, Any]) -> None:
    ratio = bench["_loop_ratio"]
    lab = {"net_hass_cpu_ms_per_decision": {"event_loop": 1.2, "recorder": 1.0}}
    ha = {"net_hass_cpu_ms_per_decision": {"event_loop": 0.4, "recorder": 0.9}}
    assert ratio(lab, ha) == 3.0
    # No figure for the floor (a row that answered nothing): no ratio, not a zero.
    assert ratio(lab, {"net_hass_cpu_ms_per_decision": {"event_loop": 0.0}}) is None
    assert ratio(lab, {}) is None
    assert ratio({}, ha) is None
