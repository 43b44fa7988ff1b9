"""Buffered telemetry lands in long-term statistics for the hours it was measured in."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import json
import threading
import time
from typing import Any
from unittest.mock import MagicMock, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import (
    Recorder,
    get_instance,
    statistics as recorder_statistics,
)
from homeassistant.components.recorder.statistics import statistics_during_period
from homeassistant.components.recorder.tasks import RecorderTask
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.fluxilab.access.engine import ACCESS_ENGINE
from custom_components.fluxilab.backfill import MAX_STREAMS, DeviceBacklog, SeqSet
from custom_components.fluxilab.const import LIVE_ACK_INTERVAL
from custom_components.fluxilab.hub import async_get_hub_keys
from custom_components.fluxilab.protocol.access import AccessRecord
from custom_components.fluxilab.protocol.schemas import ACK_SCHEMA
from custom_components.fluxilab.protocol.security import KeyPair, open_envelope
from custom_components.fluxilab.protocol.topics import Channel

from .test_device import (
    BASE,
    FACE_VELOCITY,
    bring_online,
    published_acks,
    send_sealed,
)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> None:
    """Start the recorder before Home Assistant (the conftest one starts HA first)."""


def test_seq_set_merges_intervals() -> None:
    seqs = SeqSet()
    for seq in (5, 3, 4, 10, 1, 2, 9, 11):
        assert seqs.add(seq)
    assert not seqs.add(4)
    assert seqs.as_list() == [[1, 5], [9, 11]]
    assert 3 in seqs
    assert 7 not in seqs
    assert SeqSet(seqs.as_list()).as_list() == [[1, 5], [9, 11]]


async def _hour_row(hass: HomeAssistant, hour: int) -> dict[str, Any] | None:
    await async_wait_recording_done(hass)
    result = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        datetime.fromtimestamp(hour, UTC),
        datetime.fromtimestamp(hour + 3600, UTC),
        {FACE_VELOCITY},
        "hour",
        None,
        {"mean", "min", "max"},
    )
    rows = result.get(FACE_VELOCITY, [])
    assert len(rows) <= 1
    return rows[0] if rows else None


def _records(hour: int, first_seq: int, values: list[float]) -> list[dict[str, Any]]:
    return [
        {
            "seq": first_seq + index,
            "ts": hour + 60 + index,
            "kind": "telemetry",
            "buffered": True,
            "values": {"face_velocity": value},
        }
        for index, value in enumerate(values)
    ]


async def _flush_acks(hass: HomeAssistant) -> None:
    """Let every batched ack go out (live telemetry's wait is the longest)."""
    async_fire_time_changed(
        hass, dt_util.utcnow() + timedelta(seconds=LIVE_ACK_INTERVAL + 0.5)
    )
    await hass.async_block_till_done()


async def check_backlog_lands_in_statistics_once(
    hass: HomeAssistant,
    announce: dict[str, Any],
    device_keys: KeyPair,
    mqtt_mock: MqttMockHAClient,
) -> None:
    """Replay batches and check the hourly rows; shared with the PostgreSQL test.

    Statistics rows hold no sample count: the means of the merged hour prove it, as a
    sample counted twice (or lost) would move them.
    """
    await bring_online(hass, announce)
    hour = int(time.time() // 3600 * 3600) - 3 * 3600
    first = _records(hour, 100, [float(v) for v in range(1, 11)])
    await send_sealed(hass, device_keys, Channel.BACKLOG, {"records": first})
    row = await _hour_row(hass, hour)
    assert row is not None
    assert (row["mean"], row["min"], row["max"]) == pytest.approx((5.5, 1.0, 10.0))
    await _flush_acks(hass)
    assert sorted(await published_acks(hass, mqtt_mock, device_keys)) == list(
        range(100, 110)
    )

    # The same batch replayed (the acks were lost): acknowledged, not counted twice.
    mqtt_mock.async_publish.reset_mock()
    await send_sealed(hass, device_keys, Channel.BACKLOG, {"records": first})
    row = await _hour_row(hass, hour)
    assert (row["mean"], row["min"], row["max"]) == pytest.approx((5.5, 1.0, 10.0))
    await _flush_acks(hass)
    assert sorted(await published_acks(hass, mqtt_mock, device_keys)) == list(
        range(100, 110)
    )

    # More of the same hour, and the next hour: merged into the hours they belong to.
    more = _records(hour, 110, [float(v) for v in range(11, 21)])
    more += _records(hour + 3600, 120, [2.0, 4.0])
    await send_sealed(hass, device_keys, Channel.BACKLOG, {"records": more})
    row = await _hour_row(hass, hour)
    assert (row["mean"], row["min"], row["max"]) == pytest.approx((10.5, 1.0, 20.0))
    row = await _hour_row(hass, hour + 3600)
    assert (row["mean"], row["min"], row["max"]) == pytest.approx((3.0, 2.0, 4.0))
    assert hass.states.get(FACE_VELOCITY).state == "unknown"


async def test_backlog_lands_in_statistics_once(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
    device_keys: KeyPair,
    mqtt_mock: MqttMockHAClient,
) -> None:
    await check_backlog_lands_in_statistics_once(hass, announce, device_keys, mqtt_mock)


async def test_current_hour_waits_for_the_recorder(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
    device_keys: KeyPair,
    mqtt_mock: MqttMockHAClient,
    freezer: FrozenDateTimeFactory,
) -> None:
    await bring_online(hass, announce)
    now = time.time()
    hour = int(now // 3600 * 3600)
    records = [
        {"seq": 1, "ts": now - 1, "kind": "telemetry", "values": {"face_velocity": 3.0}}
    ]
    await send_sealed(hass, device_keys, Channel.BACKLOG, {"records": records})
    # Stored (and so acknowledged) at once, imported only once the hour is compiled.
    await _flush_acks(hass)
    assert await published_acks(hass, mqtt_mock, device_keys) == [1]
    assert await _hour_row(hass, hour) is None
    freezer.move_to(dt_util.utc_from_timestamp(hour + 3600 + 301))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    row = await _hour_row(hass, hour)
    assert row is not None
    assert row["mean"] == pytest.approx(3.0)


async def test_access_records_go_through_the_engine(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
    device_keys: KeyPair,
    mqtt_mock: MqttMockHAClient,
) -> None:
    """Access records reach the engine with their own time and are then acknowledged."""
    await bring_online(hass, announce)
    ts = time.time() - 10
    records = [
        {
            "seq": 5,
            "ts": ts,
            "kind": "access",
            "event": {"action": "check", "card": "04AABB", "granted": True},
        }
    ]
    device = init_integration.runtime_data
    with patch.object(
        hass.data[ACCESS_ENGINE], "async_handle_record", autospec=True
    ) as handle:
        await send_sealed(hass, device_keys, Channel.BACKLOG, {"records": records})
    handle.assert_awaited_once()
    event = AccessRecord.from_wire(records[0]["event"])
    assert handle.await_args.args == (device, event, ts, True)
    await _flush_acks(hass)
    assert await published_acks(hass, mqtt_mock, device_keys) == [5]


@pytest.mark.parametrize("engine", ["missing", "failing"])
async def test_access_records_wait_for_the_engine(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
    device_keys: KeyPair,
    mqtt_mock: MqttMockHAClient,
    engine: str,
) -> None:
    """Without a working access engine, access records stay on the device (no ack)."""
    await bring_online(hass, announce)
    records = [
        {
            "seq": 5,
            "ts": time.time() - 10,
            "kind": "access",
            "event": {"action": "check", "card": "04AABB", "granted": True},
        }
    ]
    if engine == "missing":
        patcher = patch.object(init_integration.runtime_data, "access", None)
    else:
        patcher = patch.object(
            hass.data[ACCESS_ENGINE],
            "async_handle_record",
            side_effect=RuntimeError("boom"),
        )
    with patcher:
        await send_sealed(hass, device_keys, Channel.BACKLOG, {"records": records})
    await _flush_acks(hass)
    assert await published_acks(hass, mqtt_mock, device_keys) == []
    counters = init_integration.runtime_data.counters
    assert counters.get("backlog_deferred", 0) == (1 if engine == "missing" else 0)


async def _acks_by_stream(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, device_keys: KeyPair
) -> list[tuple[str | None, list[int]]]:
    """Open every published ack and list (stream, seqs) in order."""
    hub = await async_get_hub_keys(hass)
    keys = device_keys.derive(hub.public_b64)
    topic = f"{BASE}/ack"
    acks: list[tuple[str | None, list[int]]] = []
    for call in mqtt_mock.async_publish.call_args_list:
        if call.args[0] == topic:
            body = ACK_SCHEMA(open_envelope(keys, topic, json.loads(call.args[1])))
            acks.append((body.get("stream"), body["seqs"]))
    return acks


async def test_new_stream_starts_counting_again(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
    device_keys: KeyPair,
    mqtt_mock: MqttMockHAClient,
) -> None:
    """An agent whose buffer was wiped reuses sequence numbers in a new stream."""
    await bring_online(hass, announce)
    hour = int(time.time() // 3600 * 3600) - 3 * 3600
    old, new = "stream-old-0001", "stream-new-0002"
    first = _records(hour, 1, [1.0, 2.0, 3.0])
    await send_sealed(
        hass, device_keys, Channel.BACKLOG, {"stream": old, "records": first}
    )
    await _flush_acks(hass)
    # Same seqs, new stream, later in the hour: stored, not taken for replays.
    second = [
        {**record, "ts": record["ts"] + 600}
        for record in _records(hour, 1, [7.0, 8.0, 9.0])
    ]
    await send_sealed(
        hass, device_keys, Channel.BACKLOG, {"stream": new, "records": second}
    )
    await _flush_acks(hass)
    row = await _hour_row(hass, hour)
    assert (row["mean"], row["min"], row["max"]) == pytest.approx((5.0, 1.0, 9.0))
    # Replays of either stream are recognized; acks name the stream they answer.
    await send_sealed(
        hass, device_keys, Channel.BACKLOG, {"stream": new, "records": second}
    )
    await send_sealed(
        hass, device_keys, Channel.BACKLOG, {"stream": old, "records": first}
    )
    await _flush_acks(hass)
    row = await _hour_row(hass, hour)
    assert (row["mean"], row["min"], row["max"]) == pytest.approx((5.0, 1.0, 9.0))
    assert await _acks_by_stream(hass, mqtt_mock, device_keys) == [
        (old, [1, 2, 3]),
        (new, [1, 2, 3]),
        (new, [1, 2, 3]),
        (old, [1, 2, 3]),
    ]
    # Live telemetry follows the same rule, and the streams survive a restart.
    mqtt_mock.async_publish.reset_mock()
    now = time.time()
    for stream in (None, new, "stream-third-3"):
        await send_sealed(
            hass,
            device_keys,
            Channel.TELEMETRY,
            {"seq": 1, "ts": now, "values": {"face_velocity": 1.0}}
            | ({"stream": stream} if stream else {}),
        )
    await _flush_acks(hass)
    assert sorted(
        await _acks_by_stream(hass, mqtt_mock, device_keys), key=str
    ) == sorted([(None, [1]), (new, [1]), ("stream-third-3", [1])], key=str)
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    backlog = init_integration.runtime_data._backlog
    assert list(backlog.streams) == [old, new, "stream-third-3"]
    assert 1 in backlog.seqs_for(new)
    assert 1 in backlog.seqs


def test_streams_are_bounded() -> None:
    backlog = DeviceBacklog(MagicMock(), "hood-1")
    for index in range(MAX_STREAMS + 2):
        backlog.seqs_for(f"stream-{index:04d}").add(1)
    backlog.seqs_for("stream-0002")  # used again: kept longest
    assert list(backlog.streams) == [f"stream-{index:04d}" for index in (3, 4, 5, 2)]


@dataclass(slots=True)
class _Busy(RecorderTask):
    """Keeps the recorder thread busy until released: what is queued behind waits."""

    release: threading.Event
    commit_before = False

    def run(self, instance: Recorder) -> None:
        """Wait (recorder thread)."""
        assert self.release.wait(10)


class _HeldImport:
    """Holds the recorder thread inside its ``nth`` statistics import."""

    def __init__(self, nth: int) -> None:
        self.nth = nth
        self.calls = 0
        self.entered = threading.Event()
        self.release = threading.Event()
        self._import = recorder_statistics.import_statistics

    def __call__(self, *args: Any) -> bool:
        self.calls += 1
        if self.calls == self.nth:
            self.entered.set()
            assert self.release.wait(10)
        return bool(self._import(*args))


async def test_hour_stays_changed_while_the_recorder_runs_the_import(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
    device_keys: KeyPair,
    mqtt_mock: MqttMockHAClient,
) -> None:
    """The recorder took the import from its queue but has not committed it yet.

    Its queue is empty then, so ``Recorder.async_block_till_done`` returns at once:
    an hour confirmed on that would be journaled as done, and a crash before the
    recorder's commit would keep the row of the import before (a wrong mean).
    """
    await bring_online(hass, announce)
    hour = int(time.time() // 3600 * 3600) - 3 * 3600
    held = _HeldImport(1)
    queue_import = recorder_mock.async_import_statistics

    def queue_and_wait_until_taken(*args: Any) -> None:
        queue_import(*args)
        assert held.entered.wait(10)  # the recorder thread runs it: queue empty

    with (
        patch.object(recorder_statistics, "import_statistics", held),
        patch.object(
            recorder_mock, "async_import_statistics", queue_and_wait_until_taken
        ),
    ):
        try:
            records = _records(hour, 1, [1.0, 2.0, 3.0])
            await send_sealed(hass, device_keys, Channel.BACKLOG, {"records": records})
            for _ in range(20):
                await asyncio.sleep(0)
            agg = init_integration.runtime_data._backlog.hours["face_velocity"][hour]
            assert not agg.dirty  # imported: not imported again while HA runs
            assert agg.as_dict()["dirty"]  # but stored as changed until committed
        finally:
            held.release.set()
        await hass.async_block_till_done(wait_background_tasks=True)
    assert not agg.as_dict()["dirty"]
    row = await _hour_row(hass, hour)
    assert row is not None
    assert row["mean"] == pytest.approx(2.0)


async def test_confirming_an_import_leaves_a_later_one_of_the_hour_pending(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
    device_keys: KeyPair,
    mqtt_mock: MqttMockHAClient,
) -> None:
    """Two batches of one hour: the first import's commit does not vouch for the second.

    The recorder commits the first import and runs its barrier, then is still busy
    with the second when the first confirmation arrives: the hour must stay stored
    as changed, or a crash now keeps the first batch's row without the second's
    samples (the defect seen after SIGKILLs in ``tests/e2e/test_hass_crash.py``).
    """
    await bring_online(hass, announce)
    hour = int(time.time() // 3600 * 3600) - 3 * 3600
    busy = threading.Event()
    held = _HeldImport(2)
    with patch.object(recorder_statistics, "import_statistics", held):
        recorder_mock.queue_task(_Busy(busy))
        try:
            first = _records(hour, 1, [1.0, 2.0, 3.0])
            await send_sealed(hass, device_keys, Channel.BACKLOG, {"records": first})
            second = _records(hour, 4, [4.0, 5.0, 6.0])
            await send_sealed(hass, device_keys, Channel.BACKLOG, {"records": second})
            busy.set()  # the first import and its barrier run; the second is held
            assert await hass.async_add_executor_job(held.entered.wait, 10)
            for _ in range(20):
                await asyncio.sleep(0)
            agg = init_integration.runtime_data._backlog.hours["face_velocity"][hour]
            assert agg.count == 6
            assert agg.as_dict()["dirty"]  # the second import is not committed yet
        finally:
            busy.set()
            held.release.set()
        await hass.async_block_till_done(wait_background_tasks=True)
    assert not agg.as_dict()["dirty"]
    row = await _hour_row(hass, hour)
    assert row is not None
    assert row["mean"] == pytest.approx(3.5)
