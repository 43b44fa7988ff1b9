"""Backlog bookkeeping: which records are stored, and buffered samples into statistics.

Two promises to the device rest here. A record is acknowledged only once it is safely
stored, so the agent never deletes something the hub could lose. A record is counted
once, however often a batch is replayed: every stored sequence number is remembered in
a compact interval set persisted with a Store.

Buffered telemetry lands in Home Assistant's long-term statistics for the hour it was
measured in, under the sensor entity's own statistic id (source ``recorder``). We keep
per channel and hour what the device measured (count, sum, min, max) and import the
whole merged row each time, never an increment: a batch processed twice, or a crash
between import and save, recomputes the same row. Where the recorder had compiled a
row from live states for that hour, that row is read once, before our first import,
and merged in, weighted by the live samples the hub received in that hour. An hour is
imported only after the recorder has compiled it: importing earlier would collide with
its own hourly compile.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
import time
from typing import Any

from homeassistant.components.recorder import get_instance
from homeassistant.components.recorder.models import (
    StatisticData,
    StatisticMeanType,
    StatisticMetaData,
)
from homeassistant.components.recorder.statistics import (
    STATISTIC_UNIT_TO_UNIT_CONVERTER,
    async_import_statistics,
    get_metadata,
    statistics_during_period,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

from .const import DOMAIN, LOGGER

STORAGE_VERSION = 1
HOUR = 3600
COMPILE_MARGIN = 300.0
"""Seconds after an hour ends before we import into it (the recorder compiles it at
about ten seconds past; the margin covers a busy recorder queue)."""
KEEP_HOURS = 31 * 24
"""Hour aggregates older than this are forgotten once imported."""
SAVE_DELAY = 5.0
MAX_STREAMS = 4
"""Record streams remembered per device, most recently used first to stay."""


class SeqSet:
    """A set of sequence numbers kept as sorted, disjoint, inclusive intervals."""

    def __init__(self, intervals: Iterable[Iterable[int]] = ()) -> None:
        """Load intervals as stored by :meth:`as_list`."""
        self._starts: list[int] = []
        self._ends: list[int] = []
        for start, end in sorted(tuple(pair) for pair in intervals):
            self._starts.append(start)
            self._ends.append(end)

    def __contains__(self, seq: object) -> bool:
        """Return True if ``seq`` was added."""
        if not isinstance(seq, int):
            return False
        index = bisect_right(self._starts, seq) - 1
        return index >= 0 and self._ends[index] >= seq

    def __len__(self) -> int:
        """Return the number of intervals (not of sequence numbers)."""
        return len(self._starts)

    def add(self, seq: int) -> bool:
        """Add ``seq``; return False if it was already there."""
        starts, ends = self._starts, self._ends
        index = bisect_right(starts, seq) - 1
        if index >= 0 and ends[index] >= seq:
            return False
        joins_left = index >= 0 and ends[index] == seq - 1
        joins_right = index + 1 < len(starts) and starts[index + 1] == seq + 1
        if joins_left and joins_right:
            ends[index] = ends[index + 1]
            del starts[index + 1], ends[index + 1]
        elif joins_left:
            ends[index] = seq
        elif joins_right:
            starts[index + 1] = seq
        else:
            starts.insert(index + 1, seq)
            ends.insert(index + 1, seq)
        return True

    def as_list(self) -> list[list[int]]:
        """Return the intervals for storage."""
        return [
            [start, end] for start, end in zip(self._starts, self._ends, strict=True)
        ]


@dataclass(slots=True)
class HourAggregate:
    """What the device measured on one channel during one hour, from its backlog."""

    count: int = 0
    total: float = 0.0
    low: float = float("inf")
    high: float = float("-inf")
    dirty: bool = False
    """Changed since the last import."""
    base: list[float] | None = None
    """The recorder's own row ``[mean, min, max]`` before our first import."""
    base_read: bool = False

    def add(self, value: float) -> None:
        """Count one sample."""
        self.count += 1
        self.total += value
        self.low = min(self.low, value)
        self.high = max(self.high, value)
        self.dirty = True

    def as_dict(self) -> dict[str, Any]:
        """Return the aggregate for storage."""
        return {
            "n": self.count,
            "sum": self.total,
            "min": self.low,
            "max": self.high,
            "dirty": self.dirty,
            "base": self.base,
            "base_read": self.base_read,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HourAggregate:
        """Load an aggregate stored by :meth:`as_dict`."""
        return cls(
            count=data["n"],
            total=data["sum"],
            low=data["min"],
            high=data["max"],
            dirty=data["dirty"],
            base=data["base"],
            base_read=data["base_read"],
        )

    def merged(self, start: datetime, live_count: int) -> StatisticData:
        """Return the hour's row: our samples merged with the recorder's own row."""
        mean = self.total / self.count
        low, high = self.low, self.high
        if self.base is not None:
            base_mean, base_low, base_high = self.base
            weight = max(live_count, 1)
            mean = (base_mean * weight + self.total) / (weight + self.count)
            low, high = min(low, base_low), max(high, base_high)
        return StatisticData(start=start, mean=mean, min=low, max=high)


@dataclass(frozen=True, slots=True)
class ChannelStatistic:
    """Where one channel's statistics go."""

    statistic_id: str
    unit: str | None


def hour_start(ts: float) -> int:
    """Return the start of the hour holding ``ts`` (epoch seconds)."""
    return int(ts // HOUR * HOUR)


class DeviceBacklog:
    """Stored sequence numbers and hour aggregates of one device."""

    def __init__(self, hass: HomeAssistant, device_id: str) -> None:
        """Prepare the store; call async_load before use."""
        self.hass = hass
        self.store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{device_id}.backlog", private=True
        )
        self.device_id = device_id
        self.seqs = SeqSet()
        """Stored sequence numbers of a sender that names no stream."""
        self.streams: dict[str, SeqSet] = {}
        """Stored sequence numbers per named stream, least recently used first."""
        self.hours: dict[str, dict[int, HourAggregate]] = {}
        self.live: dict[int, int] = {}
        """Live telemetry messages received per hour, to weigh the recorder's row."""
        self.blocked = False

    async def async_load(self) -> None:
        """Load what was stored before."""
        if not (data := await self.store.async_load()):
            return
        self.seqs = SeqSet(data.get("seqs", ()))
        self.streams = {
            stream: SeqSet(intervals) for stream, intervals in data.get("streams", ())
        }
        self.hours = {
            key: {
                int(hour): HourAggregate.from_dict(agg) for hour, agg in hours.items()
            }
            for key, hours in data.get("hours", {}).items()
        }
        self.live = {int(hour): count for hour, count in data.get("live", {}).items()}
        self.blocked = bool(data.get("blocked", False))

    def _data(self) -> dict[str, Any]:
        oldest = hour_start(time.time()) - KEEP_HOURS * HOUR
        for hours in self.hours.values():
            for hour in [h for h, agg in hours.items() if h < oldest and not agg.dirty]:
                del hours[hour]
        for hour in [h for h in self.live if h < oldest]:
            del self.live[hour]
        return {
            "seqs": self.seqs.as_list(),
            "streams": [
                [stream, seqs.as_list()] for stream, seqs in self.streams.items()
            ],
            "hours": {
                key: {str(hour): agg.as_dict() for hour, agg in hours.items()}
                for key, hours in self.hours.items()
            },
            "live": {str(hour): count for hour, count in self.live.items()},
            "blocked": self.blocked,
        }

    async def async_save(self) -> None:
        """Save now; returns once the data is on disk."""
        await self.store.async_save(self._data())

    def async_delay_save(self) -> None:
        """Save soon, coalescing bursts (live telemetry)."""
        self.store.async_delay_save(self._data, SAVE_DELAY)

    def seqs_for(self, stream: str | None) -> SeqSet:
        """Return the stored sequence numbers of ``stream``; a new stream starts empty."""
        if stream is None:
            return self.seqs
        streams = self.streams
        if (seqs := streams.get(stream)) is None:
            LOGGER.info(
                "Device %s started record stream %s (its buffer was created anew): "
                "sequence numbers count from the start again",
                self.device_id,
                stream,
            )
            seqs = streams[stream] = SeqSet()
            while len(streams) > MAX_STREAMS:
                del streams[next(iter(streams))]
        elif next(reversed(streams)) != stream:
            streams[stream] = streams.pop(stream)
        return seqs

    def count_live(self, ts: float) -> None:
        """Count one live telemetry message in its hour."""
        hour = hour_start(ts)
        self.live[hour] = self.live.get(hour, 0) + 1

    def add_sample(self, key: str, ts: float, value: float) -> None:
        """Count one buffered sample of ``key`` in the hour it was measured in."""
        hours = self.hours.setdefault(key, {})
        hour = hour_start(ts)
        if (agg := hours.get(hour)) is None:
            agg = hours[hour] = HourAggregate()
        agg.add(value)

    def next_due(self) -> float | None:
        """Return when the earliest changed hour may be imported, if any."""
        due = [
            hour + HOUR + COMPILE_MARGIN
            for hours in self.hours.values()
            for hour, agg in hours.items()
            if agg.dirty
        ]
        return min(due, default=None)

    async def async_import_due(
        self, targets: dict[str, ChannelStatistic], now: float | None = None
    ) -> int:
        """Import every changed hour the recorder has compiled; return rows queued.

        Bases are read and saved before anything is queued, so a crash can never
        make us read our own row back as the recorder's.
        """
        now = time.time() if now is None else now
        due: dict[str, list[tuple[int, HourAggregate]]] = {}
        for key, hours in self.hours.items():
            if key not in targets:
                continue
            ready = [
                (hour, agg)
                for hour, agg in sorted(hours.items())
                if agg.dirty and hour + HOUR + COMPILE_MARGIN <= now
            ]
            if ready:
                due[key] = ready
        if not due or "recorder" not in self.hass.config.components:
            # Without a recorder the hours stay changed (and stored) until one runs.
            return 0
        recorder = get_instance(self.hass)
        metadata: dict[str, StatisticMetaData] = {}
        for key, ready in due.items():
            target = targets[key]
            unread = [(hour, agg) for hour, agg in ready if not agg.base_read]
            if unread:
                rows = await recorder.async_add_executor_job(
                    _read_rows,
                    self.hass,
                    target.statistic_id,
                    unread[0][0],
                    unread[-1][0] + HOUR,
                )
                for hour, agg in unread:
                    agg.base = rows.get(hour)
                    agg.base_read = True
            metadata[key] = await recorder.async_add_executor_job(
                _metadata, self.hass, target
            )
        await self.async_save()
        queued = 0
        for key, ready in due.items():
            rows_out: list[StatisticData] = []
            for hour, agg in ready:
                rows_out.append(
                    agg.merged(
                        datetime.fromtimestamp(hour, UTC), self.live.get(hour, 0)
                    )
                )
                agg.dirty = False
            async_import_statistics(self.hass, metadata[key], rows_out)
            queued += len(rows_out)
        LOGGER.debug("Queued %d backfilled statistics rows", queued)
        self.async_delay_save()
        return queued


def _read_rows(
    hass: HomeAssistant, statistic_id: str, start: int, end: int
) -> dict[int, list[float]]:
    """Read the recorder's hourly rows ``[mean, min, max]`` (recorder thread)."""
    result = statistics_during_period(
        hass,
        datetime.fromtimestamp(start, UTC),
        datetime.fromtimestamp(end, UTC),
        {statistic_id},
        "hour",
        None,
        {"mean", "min", "max"},
    )
    rows: dict[int, list[float]] = {}
    for row in result.get(statistic_id, []):
        mean, low, high = row.get("mean"), row.get("min"), row.get("max")
        if mean is not None and low is not None and high is not None:
            rows[int(row["start"])] = [mean, low, high]
    return rows


def _metadata(hass: HomeAssistant, target: ChannelStatistic) -> StatisticMetaData:
    """Return the metadata the sensor platform uses for this statistic id.

    An existing row's unit and unit class win: importing different ones would flip
    the metadata back and forth with every compile of the sensor platform.
    """
    if existing := get_metadata(hass, statistic_ids={target.statistic_id}):
        _, meta = existing[target.statistic_id]
        unit, unit_class = meta["unit_of_measurement"], meta["unit_class"]
    else:
        unit = target.unit
        converter = STATISTIC_UNIT_TO_UNIT_CONVERTER.get(unit)
        unit_class = converter.UNIT_CLASS if converter is not None else None
    return StatisticMetaData(
        mean_type=StatisticMeanType.ARITHMETIC,
        has_sum=False,
        name=None,
        source="recorder",
        statistic_id=target.statistic_id,
        unit_class=unit_class,
        unit_of_measurement=unit,
    )
