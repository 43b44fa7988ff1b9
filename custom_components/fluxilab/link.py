"""The health of a device's secure link, as the hub sees it.

Every sealed message a paired device sends either verifies or is refused. A refusal
for ``signature`` (or ``decrypt``, ``version``) means the two sides no longer derive
the same keys: the hub's key pair is not the one the device pinned (the hub was
reinstalled or its storage restored), or the device has a new key the admin has not
confirmed. Nothing the device sends counts then, while it still looks online; so
the link's state is an entity, a repair issue and part of the panel's data.

Replay protection (``stale``, ``future``, ``replay``) is not a broken link: a device
resends what stays unacknowledged, sealed anew.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
import time

from homeassistant.util import dt as dt_util

LINK_REASONS = frozenset({"signature", "decrypt", "version", "untrusted_key"})
"""Refusals that mean the keys differ; ``untrusted_key``: no confirmed key."""
BROKEN_AFTER = 3
"""Refusals in a row, with nothing verified between, before the link is broken.

One forged message on the device's topic does not make it broken; a device whose
keys differ fails every message, so three come within seconds.
"""
REPORT_INTERVAL = 60.0
"""While broken, how often (s) the refusal count is written to the entity."""


class LinkState(StrEnum):
    """What the hub knows of a device's secure link."""

    UNKNOWN = "unknown"
    """Nothing sealed received since the device was set up."""
    OK = "ok"
    """The last sealed message verified."""
    BROKEN = "broken"
    """The device's sealed messages are refused: the keys differ."""


@dataclass(slots=True)
class LinkHealth:
    """Refused and verified sealed messages of one device since it was set up."""

    rejected: int = 0
    """Sealed messages refused for a key reason (LINK_REASONS)."""
    last_reason: str | None = None
    last_rejected: datetime | None = None
    in_a_row: int = 0
    verified: bool = False
    _reported: float = 0.0

    @property
    def state(self) -> LinkState:
        """The link's state now."""
        if self.in_a_row >= BROKEN_AFTER:
            return LinkState.BROKEN
        return LinkState.OK if self.verified else LinkState.UNKNOWN

    def record_rejection(self, reason: str) -> bool:
        """Count a refusal; True when what the entity shows should be updated.

        Only key reasons count. True when the link became broken, and while broken
        at most once a ``REPORT_INTERVAL``, so a device failing at 1 Hz does not
        write a state (and a recorder row) every second.
        """
        if reason not in LINK_REASONS:
            return False
        was = self.state
        self.rejected += 1
        self.in_a_row += 1
        self.last_reason = reason
        self.last_rejected = dt_util.utcnow()
        now = time.monotonic()
        if self.state is not was or now - self._reported >= REPORT_INTERVAL:
            self._reported = now
            return True
        return False

    def record_verified(self) -> bool:
        """Record a verified sealed message; True when the link's state changed."""
        was = self.state
        self.in_a_row = 0
        self.verified = True
        return self.state is not was
