"""The agent/firmware update entity of a FluxiLab device."""

from __future__ import annotations

from typing import Any

from homeassistant.components.update import (
    UpdateDeviceClass,
    UpdateEntity,
    UpdateEntityDescription,
    UpdateEntityFeature,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import CONF_LATEST_SW_VERSION
from .device.runtime import FluxiLabConfigEntry
from .entity import FluxiLabEntity
from .protocol.schemas import CommandName

PARALLEL_UPDATES = 1

FIRMWARE = UpdateEntityDescription(
    key="firmware",
    device_class=UpdateDeviceClass.FIRMWARE,
    entity_category=EntityCategory.CONFIG,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: FluxiLabConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the device's update entity."""
    async_add_entities([FluxiLabUpdate(entry.runtime_data, FIRMWARE)])


class FluxiLabUpdate(FluxiLabEntity, UpdateEntity):
    """The agent version a device runs, and the one the admin wants it to run."""

    _attr_supported_features = UpdateEntityFeature.INSTALL

    @property
    def installed_version(self) -> str | None:
        """Return the version the device announced."""
        if (announce := self.device.announce) is None:
            return None
        return announce.sw_version

    @property
    def latest_version(self) -> str | None:
        """Return the version set in the options, else the installed one."""
        latest: str | None = self.device.entry.options.get(CONF_LATEST_SW_VERSION)
        return latest or self.installed_version

    def _shown(self) -> tuple[Any, ...]:
        return (self.available, self.installed_version, self.latest_version)

    async def async_install(
        self, version: str | None, backup: bool, **kwargs: Any
    ) -> None:
        """Tell the device to install the version (the latest when none is given)."""
        async with self.async_permitted("install"):
            await self.device.async_send_command(
                CommandName.UPDATE, {"version": version or self.latest_version}
            )
