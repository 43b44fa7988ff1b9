"""The access-control engine: the one object the device runtime talks to."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from homeassistant.core import HomeAssistant
from homeassistant.util.hass_dict import HassKey

from custom_components.fluxilab.const import DOMAIN

if TYPE_CHECKING:
    from custom_components.fluxilab.device import FluxiLabDevice

ACCESS_ENGINE: HassKey[AccessEngine] = HassKey(f"{DOMAIN}_access_engine")


class AccessEngine:
    """Decides access requests and records what devices report."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Prepare an engine with nothing loaded."""
        self.hass = hass
        self.devices: dict[str, FluxiLabDevice] = {}

    async def async_load(self) -> None:
        """Load stored members, authorizations and history."""

    async def async_handle_request(
        self, device: FluxiLabDevice, request: dict[str, Any]
    ) -> dict[str, Any]:
        """Decide an access request; return the reply body."""
        return {"id": request["id"], "granted": False, "reason": "unknown_card"}

    async def async_handle_record(
        self, device: FluxiLabDevice, event: dict[str, Any], ts: float, buffered: bool
    ) -> None:
        """Take an access record the device buffered."""

    async def async_device_added(self, device: FluxiLabDevice) -> None:
        """Start following a device."""
        self.devices[device.device_id] = device

    async def async_device_removed(self, device: FluxiLabDevice) -> None:
        """Stop following a device."""
        self.devices.pop(device.device_id, None)

    async def async_record_maintenance(
        self, device: FluxiLabDevice, member_id: str | None = None
    ) -> None:
        """Register maintenance done on a device."""
