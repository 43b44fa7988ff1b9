"""Access control: members, cards, authorizations, sessions, maintenance, GDPR."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component

from .booking_websocket import async_setup_booking_websocket
from .credentials_websocket import async_setup_credentials_websocket
from .engine import ACCESS_ENGINE, AccessEngine
from .interest import async_setup_interest_websocket
from .lapsing import async_setup_lapsing_websocket
from .notify import async_setup_notify_websocket
from .occupancy import async_setup_presence_websocket
from .websocket import async_setup_websocket

__all__ = ["ACCESS_ENGINE", "AccessEngine", "async_setup_access"]


async def async_setup_access(hass: HomeAssistant) -> None:
    """Load access storage, register services and websocket commands (once)."""
    if ACCESS_ENGINE in hass.data:
        return
    # Cards are HA tags too: swipes fire tag_scanned, unknown cards are listed.
    await async_setup_component(hass, "tag", {})
    engine = AccessEngine(hass)
    await engine.async_load()
    hass.data[ACCESS_ENGINE] = engine
    async_setup_websocket(
        hass, engine.members, engine.machine_types, engine.authorizations
    )
    async_setup_credentials_websocket(hass)
    async_setup_notify_websocket(hass)
    async_setup_interest_websocket(hass)
    async_setup_lapsing_websocket(hass)
    async_setup_presence_websocket(hass)
    async_setup_booking_websocket(hass)
    from custom_components.fluxilab.services import (  # noqa: PLC0415
        async_setup_services,
    )

    async_setup_services(hass)
