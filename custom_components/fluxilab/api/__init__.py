"""The doors into the lab core: websocket commands and service handlers.

Every handler checks the one permission table (access/permissions.py) and then
calls the engine; nothing below this package imports it. ``__init__.py`` registers
it all once with :func:`async_setup_api`.
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant, callback

from custom_components.fluxilab.access.engine import AccessEngine

from .billing import async_setup_billing_api
from .bookings import async_setup_booking_websocket
from .credentials import async_setup_credentials_websocket
from .interest import async_setup_interest_websocket
from .lapsing import async_setup_lapsing_websocket
from .maintenance import async_setup_maintenance_api
from .member_import import async_setup_member_import
from .notify import async_setup_notify_websocket
from .occupancy import async_setup_presence_websocket
from .problems import async_setup_problem_websocket
from .services import async_setup_services
from .websocket import async_setup_websocket


@callback
def async_setup_api(hass: HomeAssistant, engine: AccessEngine) -> None:
    """Register the websocket commands and the services (once)."""
    async_setup_websocket(
        hass,
        engine.members,
        engine.roles,
        engine.machine_types,
        engine.authorizations,
    )
    async_setup_credentials_websocket(hass)
    async_setup_notify_websocket(hass)
    async_setup_interest_websocket(hass)
    async_setup_lapsing_websocket(hass)
    async_setup_presence_websocket(hass)
    async_setup_booking_websocket(hass)
    async_setup_problem_websocket(hass)
    async_setup_billing_api(hass, engine)
    async_setup_maintenance_api(hass)
    async_setup_services(hass)
    async_setup_member_import(hass)
