"""Base entity of every FluxiLab entity."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

from homeassistant.auth.permissions.const import POLICY_CONTROL
from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription

from .access import admin_audit
from .access.permissions import async_caller
from .const import DOMAIN, MANUFACTURER
from .device.models import AnnouncedChannel
from .device.runtime import FluxiLabConfigEntry, FluxiLabDevice
from .protocol.schemas import ValueType


class FluxiLabEntity(Entity):
    """An entity of one FluxiLab device, updated by push.

    The device notifies every entity when its own state changes, and a channel's
    entities when telemetry carries that channel; an entity writes its state only
    when what it shows has changed, so a telemetry message costs one comparison per
    channel it carries and one state write per changed value.
    """

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, device: FluxiLabDevice, description: EntityDescription) -> None:
        """Bind the entity to its device and description."""
        self.device = device
        self.entity_description = description
        self._attr_unique_id = f"{device.device_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, device.device_id)},
            manufacturer=MANUFACTURER,
            name=device.entry.title,
        )
        self._written: tuple[Any, ...] | None = None

    @property
    def available(self) -> bool:
        """Unavailable while the device is offline."""
        return self.device.online

    def _shown(self) -> tuple[Any, ...]:
        """Return what the entity shows; a change of it is worth a state write."""
        return (self.available,)

    @asynccontextmanager
    async def async_permitted(self, action: str) -> AsyncIterator[None]:
        """Run the action (``button.reboot.press``) if the caller may, through its door.

        Home Assistant sets the calling service's context on the entity before it
        calls the action; without a user it is the system and allowed. What the
        action changes is audited as coming through this entity (admin_audit.py).
        """
        context = self._context
        caller = await async_caller(
            self.hass, context.user_id if context is not None else None
        )
        operation = f"{self.platform.domain}.{self.entity_description.key}.{action}"
        caller.require(
            operation,
            context=context,
            entity_id=self.entity_id,
            permission=POLICY_CONTROL,
        )
        with admin_audit.through(caller, admin_audit.DOOR_ENTITY, operation):
            yield

    async def async_added_to_hass(self) -> None:
        """Follow the device's state."""
        await super().async_added_to_hass()
        self._written = self._shown()
        self.async_on_remove(self.device.async_add_listener(self._handle_device_update))

    @callback
    def _handle_device_update(self) -> None:
        if (shown := self._shown()) != self._written:
            self._written = shown
            self.async_write_ha_state()


class FluxiLabChannelEntity(FluxiLabEntity):
    """An entity for a telemetry channel the device announced, made at run time.

    Listed before the platform's entity class so that its availability wins.
    """

    def __init__(
        self,
        device: FluxiLabDevice,
        description: EntityDescription,
        channel: AnnouncedChannel,
        created: set[str],
    ) -> None:
        """Describe the entity from the announced channel."""
        super().__init__(device, description)
        self._created = created
        if description.translation_key is None:
            self._attr_name = channel.name

    @property
    def available(self) -> bool:
        """Unavailable while offline or once the device stops announcing it."""
        return self.device.channel_available(self.entity_description.key)

    async def async_added_to_hass(self) -> None:
        """Also follow the telemetry of this entity's channel."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self.device.async_add_value_listener(
                self.entity_description.key, self._handle_device_update
            )
        )

    async def async_will_remove_from_hass(self) -> None:
        """Let the channel be created again if the device announces it later."""
        self._created.discard(self.entity_description.key)


@callback
def async_setup_channel_entities(
    entry: FluxiLabConfigEntry,
    types: frozenset[ValueType],
    make: Callable[[FluxiLabDevice, AnnouncedChannel, set[str]], Entity],
    add: Callable[[Iterable[Entity]], None],
) -> None:
    """Add an entity per enabled channel of ``types`` now and whenever one appears."""
    device = entry.runtime_data
    created: set[str] = set()

    @callback
    def _add_channels() -> None:
        new = [
            channel
            for channel in device.enabled_channels
            if channel.type in types and channel.key not in created
        ]
        created.update(channel.key for channel in new)
        add(make(device, channel, created) for channel in new)

    _add_channels()
    entry.async_on_unload(device.async_add_channel_listener(_add_channels))
