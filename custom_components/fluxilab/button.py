"""Buttons of a FluxiLab device: record maintenance, force sync, reboot."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from homeassistant.components.button import (
    ButtonDeviceClass,
    ButtonEntity,
    ButtonEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .access.engine import ACCESS_ENGINE, AccessEngine
from .const import DOMAIN
from .device.runtime import FluxiLabConfigEntry, FluxiLabDevice
from .entity import FluxiLabEntity
from .protocol.schemas import CommandName

PARALLEL_UPDATES = 1


def _engine(device: FluxiLabDevice) -> AccessEngine:
    engine = device.hass.data.get(ACCESS_ENGINE)
    if engine is None:
        # async_setup always sets the engine up; only a failed setup leaves none.
        raise HomeAssistantError(
            translation_domain=DOMAIN, translation_key="access_engine_missing"
        )
    return engine


async def _record_maintenance(device: FluxiLabDevice) -> None:
    await _engine(device).async_record_maintenance(device)


async def _force_sync(device: FluxiLabDevice) -> None:
    """Ask the device to re-announce and push it its current credential set."""
    await device.async_send_command(CommandName.SYNC)
    await _engine(device).sync.async_sync(device, force=True)


async def _reboot(device: FluxiLabDevice) -> None:
    await device.async_send_command(CommandName.REBOOT)


@dataclass(frozen=True, kw_only=True)
class FluxiLabButtonEntityDescription(ButtonEntityDescription):
    """Describes a FluxiLab button."""

    press_fn: Callable[[FluxiLabDevice], Awaitable[None]]


BUTTONS: tuple[FluxiLabButtonEntityDescription, ...] = (
    FluxiLabButtonEntityDescription(
        key="record_maintenance",
        translation_key="record_maintenance",
        press_fn=_record_maintenance,
    ),
    FluxiLabButtonEntityDescription(
        key="force_sync",
        translation_key="force_sync",
        entity_category=EntityCategory.CONFIG,
        # The hub syncs on its own (every change, every reconnect): for troubleshooting.
        entity_registry_enabled_default=False,
        press_fn=_force_sync,
    ),
    FluxiLabButtonEntityDescription(
        key="reboot",
        device_class=ButtonDeviceClass.RESTART,
        entity_category=EntityCategory.CONFIG,
        press_fn=_reboot,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: FluxiLabConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the device's buttons."""
    async_add_entities(
        FluxiLabButton(entry.runtime_data, description) for description in BUTTONS
    )


class FluxiLabButton(FluxiLabEntity, ButtonEntity):
    """A button of a FluxiLab device."""

    entity_description: FluxiLabButtonEntityDescription

    async def async_press(self) -> None:
        """Run the button's action, if the caller may (access/permissions.py)."""
        async with self.async_permitted("press"):
            await self.entity_description.press_fn(self.device)
