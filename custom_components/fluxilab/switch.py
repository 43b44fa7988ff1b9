"""The block switch of a FluxiLab device."""

from __future__ import annotations

from typing import Any

from homeassistant.auth.permissions.const import POLICY_CONTROL
from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import Unauthorized
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .device import FluxiLabConfigEntry
from .entity import FluxiLabEntity

PARALLEL_UPDATES = 1

BLOCKED = SwitchEntityDescription(
    key="blocked", translation_key="blocked", entity_category=EntityCategory.CONFIG
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: FluxiLabConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the device's block switch."""
    async_add_entities([FluxiLabBlockSwitch(entry.runtime_data, BLOCKED)])


class FluxiLabBlockSwitch(FluxiLabEntity, SwitchEntity):
    """Refuses new sessions on the device while on. Only admins may flip it."""

    @property
    def is_on(self) -> bool:
        """Return True while the device is blocked."""
        return self.device.blocked

    def _shown(self) -> tuple[Any, ...]:
        return (self.available, self.is_on)

    async def _async_check_admin(self) -> None:
        """Refuse a user who is not an admin (automations run without a user)."""
        if self._context is None or (user_id := self._context.user_id) is None:
            return
        user = await self.hass.auth.async_get_user(user_id)
        if user is None or not user.is_admin:
            raise Unauthorized(
                context=self._context,
                entity_id=self.entity_id,
                permission=POLICY_CONTROL,
            )

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Block the device."""
        await self._async_check_admin()
        await self.device.async_set_blocked(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Unblock the device."""
        await self._async_check_admin()
        await self.device.async_set_blocked(False)
