"""Backlog bookkeeping: which records are stored, and buffered samples into statistics.

Two promises to the device rest here. A record is acknowledged only once it is safely
stored, so the agent never deletes something the hub could lose. A record is counted
once, however often a batch is replayed: every stored sequence number is remembered in
a compact interval set. Sequence numbers and hourly figures reach the write-ahead
journal (``journal.py``) in the same commit as what the records produced (sessions,
audit), before the acknowledgement; the Store file is a checkpoint saved later.

Buffered telemetry lands in Home Assistant's long-term statistics for the hour it was
measured in, under the sensor entity's own statistic id (source ``recorder``). We keep
per channel and hour what the device measured (count, sum, min, max) and import the
whole merged row each time, never an increment: a batch processed twice, or a crash
between import and save, recomputes the same row. Where the recorder had compiled a
row from live states for that hour, that row is read once, before our first import,
and merged in, weighted by the live samples the hub received in that hour. An hour is
imported only after the recorder has compiled it: importing earlier would collide with
its own hourly compile. An imported hour stays marked as changed in what is stored
until the recorder has committed the import: a crash before that imports it again.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_right
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
import time
from typing import Any, TypedDict

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
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.json import json_bytes
from homeassistant.helpers.storage import Store

from .const import DOMAIN, LOGGER
from .journal import Journal, async_get_journal, async_recorder_commit

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


_FLOAT_ONLY = {float}
"""A column counted as it is: floats only (no ints to convert, no booleans)."""


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


class HourAggregateData(TypedDict):
    """One stored hour aggregate (``HourAggregate.as_dict``)."""

    n: int
    sum: float
    min: float
    max: float
    dirty: bool
    base: list[float] | None
    base_read: bool


class SeqsDocument(TypedDict):
    """The stored sequence numbers: unnamed, and per named stream."""

    seqs: list[list[int]]
    """Intervals ``[first, last]`` of a sender that names no stream."""
    streams: list[tuple[str, list[list[int]]]]
    """``(stream, intervals)`` per stream, least recently used first (JSON: lists)."""


class BacklogData(TypedDict, total=False):
    """What a device's backlog file holds (``DeviceBacklog._data``)."""

    seqs: list[list[int]]
    streams: list[tuple[str, list[list[int]]]]
    hours: dict[str, dict[str, HourAggregateData]]
    """Per channel, per hour start (as text), its aggregate."""
    live: dict[str, int]
    """Live telemetry messages per hour start (as text)."""
    blocked: bool
    journal_mark: int


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
    pending: bool = False
    """Imported, but not yet committed by the recorder: stored as still changed."""
    imports: int = 0
    """Imports queued for this hour since start-up: a confirmation clears
    ``pending`` only for the latest (an earlier import's commit says nothing about
    a later one still queued)."""

    def add(self, value: float) -> None:
        """Count one sample."""
        self.count += 1
        self.total += value
        self.low = min(self.low, value)
        self.high = max(self.high, value)
        self.dirty = True

    def add_many(self, values: Sequence[float]) -> None:
        """Count several samples (``values`` not empty)."""
        self.count += len(values)
        self.total += sum(values)
        self.low = min(self.low, *values)
        self.high = max(self.high, *values)
        self.dirty = True

    def as_dict(self) -> HourAggregateData:
        """Return the aggregate for storage."""
        return {
            "n": self.count,
            "sum": self.total,
            "min": self.low,
            "max": self.high,
            "dirty": self.dirty or self.pending,
            "base": self.base,
            "base_read": self.base_read,
        }

    @classmethod
    def from_dict(cls, data: HourAggregateData) -> HourAggregate:
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
        self.store: Store[BacklogData] = Store(
            hass,
            STORAGE_VERSION,
            f"{DOMAIN}.{device_id}.backlog",
            private=True,
            atomic_writes=True,
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
        self.journal_name = f"backlog.{device_id}"
        self._journal: Journal | None = None
        self._seqs_journaled: SeqsDocument | None = None
        """The sequence numbers as the journal last got them (compared each commit:
        callers add to the sets they hold at any time, even between two commits of
        one batch)."""
        self._hours_dirty: set[tuple[str, int]] = set()
        self._live_dirty: set[int] = set()
        self._blocked_journaled = False
        self._save_timer: asyncio.TimerHandle | None = None

    async def async_load(self) -> None:
        """Load what was stored before, and what the journal holds beyond it."""
        data = await self.store.async_load() or {}
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
        self._journal = journal = await async_get_journal(self.hass)
        for key, value in journal.async_register(
            self.journal_name,
            self._journal_changes,
            int(data.get("journal_mark", 0)),
            self.async_save,
        ):
            self._apply(key, value)
        self._blocked_journaled = self.blocked
        self._seqs_journaled = self._seqs_document()

    def _apply(self, key: str, value: Any) -> None:
        """Apply one journal document (start-up)."""
        kind, _, rest = key.partition("/")
        if kind == "seqs":
            self.seqs = SeqSet(value["seqs"])
            self.streams = {stream: SeqSet(iv) for stream, iv in value["streams"]}
        elif kind == "hour":
            hour_text, _, channel = rest.partition("/")
            hours = self.hours.setdefault(channel, {})
            if value is None:
                hours.pop(int(hour_text), None)
            else:
                hours[int(hour_text)] = HourAggregate.from_dict(value)
        elif kind == "live":
            if value is None:
                self.live.pop(int(rest), None)
            else:
                self.live[int(rest)] = int(value)
        elif kind == "blocked":
            self.blocked = bool(value)

    @callback
    def _journal_changes(
        self,
    ) -> dict[str, bytes | None]:
        """Documents changed since the last commit, as JSON (called by the journal).

        ``seqs``, ``hour/<start>/<channel>`` and ``live/<start>`` (None: dropped),
        ``blocked``.
        """
        changes: dict[str, bytes | None] = {}
        seqs = self._seqs_document()
        if seqs != self._seqs_journaled:
            self._seqs_journaled = seqs
            changes["seqs"] = json_bytes(seqs)
        hours_dirty, self._hours_dirty = self._hours_dirty, set()
        for channel, hour in hours_dirty:
            agg = self.hours.get(channel, {}).get(hour)
            changes[f"hour/{hour}/{channel}"] = (
                None if agg is None else json_bytes(agg.as_dict())
            )
        live_dirty, self._live_dirty = self._live_dirty, set()
        for hour in live_dirty:
            count = self.live.get(hour)
            changes[f"live/{hour}"] = None if count is None else json_bytes(count)
        if self.blocked != self._blocked_journaled:
            self._blocked_journaled = self.blocked
            changes["blocked"] = json_bytes(self.blocked)
        return changes

    def _seqs_document(self) -> SeqsDocument:
        return {
            "seqs": self.seqs.as_list(),
            "streams": [
                (stream, seqs.as_list()) for stream, seqs in self.streams.items()
            ],
        }

    async def async_commit(self) -> None:
        """Return once every change so far is in the journal (durable)."""
        if self._journal is not None:
            await self._journal.async_commit()

    def _data(self) -> BacklogData:
        oldest = hour_start(time.time()) - KEEP_HOURS * HOUR
        for hours in self.hours.values():
            for hour in [h for h, agg in hours.items() if h < oldest and not agg.dirty]:
                del hours[hour]
        for hour in [h for h in self.live if h < oldest]:
            del self.live[hour]
        return {
            "seqs": self.seqs.as_list(),
            "streams": [
                (stream, seqs.as_list()) for stream, seqs in self.streams.items()
            ],
            "hours": {
                key: {str(hour): agg.as_dict() for hour, agg in hours.items()}
                for key, hours in self.hours.items()
            },
            "live": {str(hour): count for hour, count in self.live.items()},
            "blocked": self.blocked,
        }

    async def async_save(self) -> None:
        """Save the file now (a journal checkpoint); returns once it is on disk."""
        if self._save_timer is not None:
            self._save_timer.cancel()
            self._save_timer = None
        if self._journal is None:
            await self.store.async_save(self._data())
            return
        await self._journal.async_checkpoint(
            self.journal_name,
            lambda mark: {**self._data(), "journal_mark": mark},
            self.store.async_save,
        )

    @callback
    def async_delay_save(self) -> None:
        """Save the file in a while, coalescing bursts; the journal has it before."""
        if self._save_timer is None:
            self._save_timer = self.hass.loop.call_later(SAVE_DELAY, self._save_due)

    @callback
    def _save_due(self) -> None:
        self._save_timer = None
        self.hass.async_create_background_task(
            self._async_save_quietly(), f"{DOMAIN} {self.device_id} backlog save"
        )

    async def _async_save_quietly(self) -> None:
        try:
            await self.async_save()
        except Exception:
            # Logged by the journal, which still holds everything: try again later.
            self.async_delay_save()

    @callback
    def async_stop(self) -> None:
        """Stop the delayed save and leave the journal (after a last save)."""
        if self._save_timer is not None:
            self._save_timer.cancel()
            self._save_timer = None
        if self._journal is not None:
            self._journal.async_unregister(self.journal_name)

    def seqs_for(self, stream: str | None) -> SeqSet:
        """Return the stored sequence numbers of ``stream``; a new stream starts empty.

        The caller may add to it: the set is journaled with the next commit.
        """
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
        self._live_dirty.add(hour)

    def add_sample(self, key: str, ts: float, value: float) -> None:
        """Count one buffered sample of ``key`` in the hour it was measured in."""
        hours = self.hours.setdefault(key, {})
        hour = hour_start(ts)
        if (agg := hours.get(hour)) is None:
            agg = hours[hour] = HourAggregate()
        agg.add(value)
        self._hours_dirty.add((key, hour))

    def add_samples(
        self,
        keys: Collection[str],
        by_hour: Mapping[int, Sequence[Mapping[str, int | float | bool]]],
    ) -> None:
        """Count buffered samples: per hour start, the values of records measured in it.

        One pass per channel and hour (count, sum, min and max in C), not per value;
        booleans and channels not in ``keys`` are not counted. Where every row has
        every channel, the rows are cut into columns in C; a column of floats only
        is counted as it is (the same values in the same order as value by value).
        """
        ordered = tuple(keys)
        cut = itemgetter(*ordered) if len(ordered) > 1 else None
        for hour, rows in by_hour.items():
            columns: list[tuple[Any, ...]] = []
            if cut is not None:
                try:
                    columns = list(zip(*map(cut, rows), strict=True))
                except KeyError:  # a row without one of the channels
                    columns = []
            for index, key in enumerate(ordered):
                values: Sequence[float]
                if columns and {*map(type, columns[index])} == _FLOAT_ONLY:
                    values = columns[index]
                else:
                    values = [
                        float(value)
                        for row in rows
                        if (value := row.get(key)) is not None
                        and value.__class__ is not bool
                    ]
                if not values:
                    continue
                hours = self.hours.setdefault(key, {})
                if (agg := hours.get(hour)) is None:
                    agg = hours[hour] = HourAggregate()
                agg.add_many(values)
                self._hours_dirty.add((key, hour))

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
        bases_read = False
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
                    self._hours_dirty.add((key, hour))
                bases_read = True
            metadata[key] = await recorder.async_add_executor_job(
                _metadata, self.hass, target
            )
        if bases_read:
            await self.async_commit()
        queued = 0
        imported: list[tuple[str, int, HourAggregate, int]] = []
        for key, ready in due.items():
            rows_out: list[StatisticData] = []
            for hour, agg in ready:
                rows_out.append(
                    agg.merged(
                        datetime.fromtimestamp(hour, UTC), self.live.get(hour, 0)
                    )
                )
                agg.dirty = False
                agg.pending = True
                agg.imports += 1
                imported.append((key, hour, agg, agg.imports))
            async_import_statistics(self.hass, metadata[key], rows_out)
            queued += len(rows_out)
        LOGGER.debug("Queued %d backfilled statistics rows", queued)
        self.hass.async_create_background_task(
            self._async_confirm_imports(imported),
            f"{DOMAIN} {self.device_id} statistics import",
        )
        return queued

    async def _async_confirm_imports(
        self, imported: list[tuple[str, int, HourAggregate, int]]
    ) -> None:
        """Once the recorder has committed the imports, store the hours as done.

        An hour imported again meanwhile stays pending: its newer row is queued
        behind this barrier, and a crash before it is committed must import it again.
        """
        await async_recorder_commit(self.hass)
        for key, hour, agg, generation in imported:
            if agg.imports == generation:
                agg.pending = False
                self._hours_dirty.add((key, hour))
        if self._journal is not None:
            self._journal.async_commit_soon()
        self.async_delay_save()


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
