"""Wrong PINs and their back-off: the same rule at the hub and at the device.

The hub counts a member's wrong PINs (the current PIN of a PIN change, the PIN given
with the card where a machine type has ``require_pin``); a device offline counts the
wrong PINs given at it with a member's card. Both back off alike: the first
``PIN_FREE_FAILURES`` cost nothing, each one after that doubles the wait before the
next attempt is even checked, up to ``PIN_MAX_BACKOFF``; a right PIN clears it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

PIN_FREE_FAILURES: Final = 3
"""Wrong PINs that cost nothing."""
PIN_BACKOFF: Final = 30.0
"""Seconds of the first back-off; each further wrong PIN doubles it."""
PIN_MAX_BACKOFF: Final = 3600.0
"""The longest wait between two checked attempts."""


@dataclass(slots=True)
class PinFailures:
    """Wrong PINs of one member (at the hub) or one card (at a device), the back-off."""

    count: int = 0
    retry_at: float = 0.0

    def wait(self, now: float) -> float:
        """Seconds until the next attempt is checked (0: now)."""
        return max(0.0, self.retry_at - now)

    def failed(self, now: float) -> None:
        """Count a wrong PIN; back off from the free ones on."""
        self.count += 1
        if self.count >= PIN_FREE_FAILURES:
            excess = self.count - PIN_FREE_FAILURES
            self.retry_at = now + min(
                PIN_BACKOFF * 2 ** min(excess, 32), PIN_MAX_BACKOFF
            )
