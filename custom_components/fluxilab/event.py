"""The access event entity of a FluxiLab device."""

from __future__ import annotations

from typing import Any

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .access.gdpr import SIGNAL_ANONYMIZE, Subject, scrub
from .access.privacy import privacy_of
from .const import EVENT_TYPES
from .device.runtime import FluxiLabConfigEntry
from .entity import FluxiLabEntity

PARALLEL_UPDATES = 0

ACCESS = EventEntityDescription(
    key="access", translation_key="access", event_types=list(EVENT_TYPES)
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: FluxiLabConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the device's access event entity."""
    async_add_entities([FluxiLabAccessEvent(entry.runtime_data, ACCESS)])


class FluxiLabAccessEvent(FluxiLabEntity, EventEntity):
    """Access decisions and session changes at the device.

    Every Home Assistant user reads its attributes and the recorder keeps them: the
    member appears as a pseudonym, by id and name only if the lab shows names.
    """

    # edge: the event entity's state attributes, as Home Assistant keeps them
    _last: dict[str, Any] | None = None
    """The attributes of the last event, the very dict the event entity holds."""

    async def async_added_to_hass(self) -> None:
        """Follow the device's access events, its state, and removed members."""
        await super().async_added_to_hass()
        self.async_on_remove(self.device.async_add_event_listener(self._handle_event))
        self.async_on_remove(
            async_dispatcher_connect(self.hass, SIGNAL_ANONYMIZE, self._anonymize)
        )

    @callback
    def _handle_event(self, event_type: str, event_data: dict[str, Any]) -> None:
        """Show an access event: ``event_data`` is the bus event's (events.py)."""
        if event_type not in EVENT_TYPES:
            return
        self._last = privacy_of(self.hass).entity_event(event_data)
        self._trigger_event(event_type, self._last)
        self.async_write_ha_state()

    @callback
    def _anonymize(self, subject: Subject) -> None:
        """Stop showing a removed member: scrub the shown event in place."""
        if self._last is not None and scrub(self._last, subject, old=False):
            self.async_write_ha_state()
