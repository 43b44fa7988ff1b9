"""Counters every part of the agent bumps, and warnings logged at most once a minute.

The counters are what ``fluxilab-agent status`` and the tests read; the log lines
never carry the contents of what was refused.
"""

from __future__ import annotations

import logging
import time
from typing import Any

_LOGGER = logging.getLogger("fluxilab_agent.agent")

LOG_INTERVAL = 60.0
"""Seconds between two log lines about the same kind of rejected input."""


class Counters:
    """Named counts, and rate-limited warnings keyed by what they are about."""

    def __init__(self) -> None:
        """Start at zero."""
        self.counts: dict[str, int] = {}
        self._last_log: dict[str, float] = {}

    def count(self, key: str) -> None:
        """Add one to ``key``."""
        self.counts[key] = self.counts.get(key, 0) + 1

    def log_once(
        self, mark: str, message: str, *args: Any, logger: logging.Logger = _LOGGER
    ) -> None:
        """Log a warning at most once per LOG_INTERVAL for the same ``mark``."""
        now = time.monotonic()
        if now - self._last_log.get(mark, -LOG_INTERVAL) < LOG_INTERVAL:
            return
        self._last_log[mark] = now
        logger.warning(message, *args)

    def reject(self, channel: str, reason: str, detail: str = "") -> None:
        """Count and log (rate limited, never the contents) a rejected message."""
        self.count("rejected")
        self.count(f"rejected_{channel.replace('/', '_')}_{reason}")
        self.log_once(
            f"{channel}:{reason}",
            "Rejected a %s message (%s)%s",
            channel,
            reason,
            f": {detail}" if detail else "",
        )
