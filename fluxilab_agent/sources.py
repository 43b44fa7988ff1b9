"""Telemetry sources: small plug-ins that each read one channel's value.

* ``simulated``: a physically plausible fumehood or machine (one model per device, so
  the channels agree with each other: the face velocity drops when the fan stops or
  the sash goes up; the spindle draws current only while the machine runs). Tests
  and the CLI push a signal to a fixed value with :meth:`DeviceSimulator.override`.
* ``hwmon`` / ``file``: a Linux sysfs file holding one number (hwmon, thermal zones),
  multiplied by ``scale`` (``0.001`` turns millidegrees into degrees).
* ``command``: runs a program and reads one number (or true/false) from its stdout.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import logging
import math
from pathlib import Path
import random
import time
from typing import Any, Protocol

from fluxilab_protocol.schemas import DeviceKind, ValueType

_LOGGER = logging.getLogger(__name__)

Value = int | float | bool

SIMULATED_SIGNALS = (
    "face_velocity",
    "sash_height",
    "temperature",
    "voc",
    "fan_running",
    "spindle_current",
    "running",
)


class SourceError(Exception):
    """A source could not produce a value this time."""


class Source(Protocol):
    """Reads one channel's current value."""

    async def read(self) -> Value:
        """Return the current value or raise SourceError."""


def coerce(value: Any, value_type: ValueType) -> Value:
    """Turn a raw reading into the channel's type; SourceError if impossible."""
    if isinstance(value, str):
        text = value.strip().lower()
        if value_type is ValueType.BOOL:
            if text in ("1", "true", "on", "yes"):
                return True
            if text in ("0", "false", "off", "no"):
                return False
            raise SourceError(f"{value.strip()[:32]!r} is not a boolean")
        try:
            value = float(text)
        except ValueError as err:
            raise SourceError(f"{value.strip()[:32]!r} is not a number") from err
    if value_type is ValueType.BOOL:
        return bool(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SourceError(f"{value!r} is not a number")
    if not math.isfinite(value):
        raise SourceError("not a finite number")
    if value_type is ValueType.INT:
        return round(float(value))
    return round(float(value), 4)


class DeviceSimulator:
    """A simulated fumehood or machine whose signals evolve together."""

    def __init__(
        self,
        kind: DeviceKind,
        seed: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Start in a typical state: fan on, sash at working height."""
        self.kind = kind
        self._random = random.Random(seed)  # noqa: S311  # simulation, not crypto
        self._clock = clock
        self._last = clock()
        self.fan_running = True
        self.sash_height = 40.0
        self.temperature = 21.5
        self.voc = 0.4
        self.running = False
        self.relay_on: bool | None = None
        self._overrides: dict[str, tuple[Value, float]] = {}

    def override(
        self, signal: str, value: Value, duration: float | None = None
    ) -> None:
        """Force ``signal`` to ``value`` (for ``duration`` seconds, or until cleared)."""
        if signal not in SIMULATED_SIGNALS:
            raise ValueError(f"unknown signal {signal!r}")
        until = math.inf if duration is None else self._clock() + duration
        self._overrides[signal] = (value, until)

    def clear_override(self, signal: str | None = None) -> None:
        """Release one override (or all of them)."""
        if signal is None:
            self._overrides.clear()
        else:
            self._overrides.pop(signal, None)

    def _step(self) -> None:
        now = self._clock()
        dt = min(now - self._last, 60.0)
        if dt <= 0:
            return
        self._last = now
        rnd = self._random
        # Sash: mostly parked at working height, now and then raised to load.
        target = 90.0 if rnd.random() < 0.01 else 40.0
        self.sash_height += (target - self.sash_height) * min(1.0, 0.2 * dt)
        self.sash_height = min(100.0, max(0.0, self.sash_height + rnd.gauss(0, 0.3)))
        if rnd.random() < 0.0005 * dt:
            self.fan_running = not self.fan_running
        self.temperature += (21.5 - self.temperature) * 0.01 * dt + rnd.gauss(0, 0.02)
        source = 0.05 if rnd.random() < 0.02 else 0.0
        decay = 0.3 if self.fan_running else 0.02
        self.voc = max(0.0, self.voc + source * 20 - self.voc * decay * dt * 0.1)
        # Without an interlock the machine starts and stops by itself now and then.
        if self.relay_on is None and rnd.random() < 0.01 * dt:
            self.running = not self.running

    def _natural(self, signal: str) -> Value:
        rnd = self._random
        if signal == "face_velocity":
            if not self.fan_running:
                return max(0.0, rnd.gauss(0.05, 0.02))
            # Same extract flow through a larger opening: slower face velocity.
            opening = max(self.sash_height, 10.0) / 40.0
            return max(0.0, 0.5 / opening + rnd.gauss(0, 0.015))
        if signal == "sash_height":
            return self.sash_height
        if signal == "temperature":
            return self.temperature
        if signal == "voc":
            return self.voc + abs(rnd.gauss(0, 0.02))
        if signal == "fan_running":
            return self.fan_running
        running = self.running if self.relay_on is None else self.relay_on
        if signal == "spindle_current":
            return max(0.0, rnd.gauss(6.5, 0.4)) if running else 0.0
        return running

    def value(self, signal: str) -> Value:
        """Advance the model and return ``signal``'s current value."""
        self._step()
        if (forced := self._overrides.get(signal)) is not None:
            if self._clock() < forced[1]:
                return forced[0]
            del self._overrides[signal]
        return self._natural(signal)


class SimulatedSource:
    """One signal of a device's simulator."""

    def __init__(self, simulator: DeviceSimulator, signal: str) -> None:
        """Read ``signal`` from ``simulator``."""
        self._simulator = simulator
        self._signal = signal

    async def read(self) -> Value:
        """Return the simulated value."""
        return self._simulator.value(self._signal)


class FileSource:
    """A sysfs file (hwmon, thermal zone) holding one number."""

    def __init__(self, path: Path, scale: float = 1.0) -> None:
        """Read ``path`` and multiply by ``scale``."""
        self._path = path
        self._scale = scale

    async def read(self) -> Value:
        """Read the file (sysfs reads are immediate; no executor needed)."""
        try:
            text = self._path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as err:
            raise SourceError(f"cannot read {self._path}: {err}") from err
        try:
            return float(text) * self._scale
        except ValueError as err:
            raise SourceError(f"{self._path} holds {text[:32]!r}") from err


class CommandSource:
    """A program that prints one value on stdout."""

    def __init__(self, command: tuple[str, ...], timeout: float = 5.0) -> None:
        """Run ``command`` (no shell) with a time limit."""
        self._command = command
        self._timeout = timeout

    async def read(self) -> str:
        """Run the program; its stdout's first line is the value."""
        try:
            process = await asyncio.create_subprocess_exec(
                *self._command,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
            )
        except OSError as err:
            raise SourceError(f"cannot run {self._command[0]}: {err}") from err
        try:
            stdout, _ = await asyncio.wait_for(process.communicate(), self._timeout)
        except TimeoutError as err:
            process.kill()
            await process.wait()
            raise SourceError(
                f"{self._command[0]} took longer than {self._timeout} s"
            ) from err
        if process.returncode != 0:
            raise SourceError(f"{self._command[0]} exited with {process.returncode}")
        lines = stdout.decode("utf-8", "replace").strip().splitlines()
        if not lines:
            raise SourceError(f"{self._command[0]} printed nothing")
        return lines[0]


def build_source(
    spec: dict[str, Any], key: str, simulator: DeviceSimulator
) -> SimulatedSource | FileSource | CommandSource:
    """Create the source a channel's validated ``source`` table describes."""
    kind = spec["type"]
    if kind == "simulated":
        return SimulatedSource(simulator, spec.get("signal", key))
    if kind in ("hwmon", "file"):
        return FileSource(spec["path"], spec.get("scale", 1.0))
    return CommandSource(spec["command"], spec.get("timeout", 5.0))
