"""Access control: members, cards, authorizations, sessions, maintenance, GDPR."""

from __future__ import annotations

from homeassistant.core import HomeAssistant

from .engine import ACCESS_ENGINE, AccessEngine

__all__ = ["ACCESS_ENGINE", "AccessEngine", "async_setup_access"]


async def async_setup_access(hass: HomeAssistant) -> None:
    """Load access storage and register the engine (once, from async_setup)."""
    if ACCESS_ENGINE in hass.data:
        return
    engine = AccessEngine(hass)
    await engine.async_load()
    hass.data[ACCESS_ENGINE] = engine
