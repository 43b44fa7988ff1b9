"""Telemetry: each channel's source read on its own period, one record per tick."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import logging
import time
from typing import Any

from .config import AgentConfig
from .counters import Counters
from .sources import DeviceSimulator, SourceError, build_source, coerce

_LOGGER = logging.getLogger("fluxilab_agent.agent")


class Telemetry:
    """The device's channels: their sources, periods and latest values."""

    def __init__(
        self,
        config: AgentConfig,
        simulator: DeviceSimulator,
        overrides: dict[str, Any],
        counters: Counters,
    ) -> None:
        """Build every channel's source; ``overrides`` are the hub's period changes."""
        self.channels = {channel.key: channel for channel in config.channels}
        self.sources = {
            channel.key: build_source(channel.source, channel.key, simulator)
            for channel in config.channels
        }
        self.periods = {
            channel.key: float(overrides.get(channel.key, channel.period))
            for channel in config.channels
        }
        self.values: dict[str, int | float | bool] = {}
        self._counters = counters

    async def _read_channel(self, key: str) -> None:
        try:
            raw = await self.sources[key].read()
            self.values[key] = coerce(raw, self.channels[key].type)
        except SourceError as err:
            self.values.pop(key, None)
            self._counters.count("source_errors")
            self._counters.log_once(
                f"source:{key}", "Channel %s: %s", key, err, logger=_LOGGER
            )

    async def run(self, record: Callable[[dict[str, Any]], object]) -> None:
        """Read every channel when due; ``record`` each tick's values."""
        due = dict.fromkeys(self.periods, time.monotonic())
        while True:
            now = time.monotonic()
            ready = [key for key, when in due.items() if when <= now]
            await asyncio.gather(*(self._read_channel(key) for key in ready))
            for key in ready:
                due[key] = max(due[key] + self.periods[key], now)
            if ready and self.values:
                record(dict(self.values))
            await asyncio.sleep(max(0.0, min(due.values()) - time.monotonic()))
