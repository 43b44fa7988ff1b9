"""Pytest plugin for the Home Assistant side runs: import Home Assistant first.

Load it with ``-p tests.ha_first``: pytest loads ``-p`` plugins before the ones
installed packages register, so this runs before pytest-homeassistant-custom-component.
From 2026.11 on, Home Assistant's package ``__init__`` makes ``import httpx`` resolve
to httpx2 and must run before anything imports httpx; the harness released for
2026.10.4 (the newest on PyPI) imports respx, and with it httpx, first. On 2026.10.4
this import is what the harness does a moment later anyway.

The harness also imports ``_clear_logger_overwrites`` from the logger component,
where 2026.10 re-exports it from ``logger.helpers``; 2026.11 keeps it in the helpers
only, so it is put back where the harness looks (nothing else changes).
"""

from __future__ import annotations

import homeassistant  # noqa: F401
from homeassistant.components import logger as _logger
from homeassistant.components.logger import helpers as _logger_helpers

if not hasattr(_logger, "_clear_logger_overwrites"):
    _logger._clear_logger_overwrites = _logger_helpers._clear_logger_overwrites  # type: ignore[attr-defined]
