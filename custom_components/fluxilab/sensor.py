"""Sensors of a FluxiLab device: usage, maintenance and numeric telemetry channels."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory, UnitOfTime
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import collection
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from .access.billing import Totals
from .access.const import CONF_PROJECT_SENSORS
from .access.engine import ACCESS_ENGINE, AccessEngine
from .access.presence import SIGNAL_OCCUPANCY, Presence, is_entrance
from .device.models import AnnouncedChannel
from .device.runtime import FluxiLabConfigEntry, FluxiLabDevice
from .entity import (
    FluxiLabChannelEntity,
    FluxiLabEntity,
    async_setup_channel_entities,
)
from .link import LinkState
from .protocol.schemas import ValueType

PARALLEL_UPDATES = 0
SCAN_INTERVAL = timedelta(minutes=5)
"""How often the project sensors read this month's charges (the only polled ones)."""

KNOWN_CHANNELS = frozenset({"face_velocity", "sash_height", "voc", "spindle_current"})
"""Channel keys with a translated name; others take the name the device announces."""


@dataclass(frozen=True, kw_only=True)
class FluxiLabSensorEntityDescription(SensorEntityDescription):
    """Describes a FluxiLab sensor."""

    value_fn: Callable[[FluxiLabDevice], StateType]


CURRENT_USER = SensorEntityDescription(
    key="current_user", translation_key="current_user"
)

SENSORS: tuple[FluxiLabSensorEntityDescription, ...] = (
    FluxiLabSensorEntityDescription(
        key="usage_hours",
        translation_key="usage_hours",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.HOURS,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=1,
        value_fn=lambda device: device.usage_hours,
    ),
    FluxiLabSensorEntityDescription(
        key="hours_to_maintenance",
        translation_key="hours_to_maintenance",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.HOURS,
        suggested_display_precision=1,
        value_fn=lambda device: device.hours_to_maintenance,
    ),
)


OCCUPANCY = SensorEntityDescription(key="occupancy", translation_key="occupancy")
PROJECT_USAGE = SensorEntityDescription(
    key="project_usage",
    translation_key="project_usage",
    device_class=SensorDeviceClass.MONETARY,
    state_class=SensorStateClass.TOTAL,
    suggested_display_precision=2,
)

SECURE_LINK = SensorEntityDescription(
    key="secure_link",
    translation_key="secure_link",
    device_class=SensorDeviceClass.ENUM,
    options=[state.value for state in LinkState],
    entity_category=EntityCategory.DIAGNOSTIC,
)


def _enum[T](enum: type[T], value: Any) -> T | None:
    """Return the enum member for an announced string, None if HA does not know it."""
    try:
        return enum(value)  # type: ignore[call-arg]
    except ValueError:
        return None


def channel_description(
    channel: AnnouncedChannel,
) -> FluxiLabSensorEntityDescription:
    """Describe the sensor of one announced numeric channel."""
    key = channel.key
    state_class = channel.state_class
    return FluxiLabSensorEntityDescription(
        key=key,
        translation_key=key if key in KNOWN_CHANNELS else None,
        device_class=_enum(SensorDeviceClass, channel.device_class),
        native_unit_of_measurement=channel.unit,
        # Without a state class HA keeps no long-term statistics.
        state_class=_enum(SensorStateClass, state_class)
        if state_class
        else SensorStateClass.MEASUREMENT,
        value_fn=lambda device: _number(device.values.get(key)),
    )


def _number(value: int | float | bool | None) -> StateType:
    return None if isinstance(value, bool) else value


async def async_setup_entry(
    hass: HomeAssistant,
    entry: FluxiLabConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the device's sensors, and one per numeric channel as they appear."""
    device = entry.runtime_data
    async_add_entities(FluxiLabSensor(device, description) for description in SENSORS)
    async_add_entities([FluxiLabSecureLinkSensor(device, SECURE_LINK)])
    if (engine := hass.data.get(ACCESS_ENGINE)) is not None:
        async_add_entities([FluxiLabCurrentUserSensor(device, engine)])
        if is_entrance(device):
            async_add_entities([FluxiLabOccupancySensor(device, engine.presence)])
        if entry.options.get(CONF_PROJECT_SENSORS):
            _async_setup_project_sensors(entry, engine, async_add_entities)
    async_setup_channel_entities(
        entry,
        frozenset({ValueType.INT, ValueType.FLOAT}),
        lambda device, channel, created: FluxiLabChannelSensor(
            device, channel_description(channel), channel, created
        ),
        async_add_entities,
    )


class FluxiLabSensor(FluxiLabEntity, SensorEntity):
    """A sensor of a FluxiLab device."""

    entity_description: FluxiLabSensorEntityDescription

    @property
    def native_value(self) -> StateType:
        """Return the value from the device."""
        return self.entity_description.value_fn(self.device)

    def _shown(self) -> tuple[Any, ...]:
        return (self.available, self.native_value)


class FluxiLabCurrentUserSensor(FluxiLabEntity, SensorEntity):
    """Who uses the device: their name if the lab shows names, else their role.

    Every Home Assistant user reads states and the recorder keeps them, so names
    are opt-in (the ``show_member_names`` access setting); off, the state is the
    member's role (``in_use`` if unknown), enough to see the device is taken.
    """

    def __init__(self, device: FluxiLabDevice, engine: AccessEngine) -> None:
        """Ask the engine what to show."""
        super().__init__(device, CURRENT_USER)
        self._engine = engine

    @property
    def native_value(self) -> str | None:
        """Return the current user as the lab chose to show them."""
        return self._engine.shown_user(self.device)

    def _shown(self) -> tuple[Any, ...]:
        return (self.available, self.native_value)


class FluxiLabOccupancySensor(FluxiLabEntity, SensorEntity):
    """How many people are in the lab, on each lab-entrance device.

    The count only: names stay out of the recorder (the fire list is the occupancy
    service and the panel). Known at the hub, so available while the device is off.
    """

    _attr_translation_key = "occupancy"
    _attr_state_class = SensorStateClass.MEASUREMENT

    def __init__(self, device: FluxiLabDevice, presence: Presence) -> None:
        """Count from the engine's presence record."""
        super().__init__(device, OCCUPANCY)
        self._presence = presence

    @property
    def available(self) -> bool:
        """Always: the count does not depend on the device being online."""
        return True

    @property
    def native_value(self) -> int:
        """Return the number of people in the lab."""
        return self._presence.count()

    async def async_added_to_hass(self) -> None:
        """Follow occupancy changes."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass, SIGNAL_OCCUPANCY, self._occupancy_changed
            )
        )

    @callback
    def _occupancy_changed(self, _count: int) -> None:
        self._handle_device_update()

    def _shown(self) -> tuple[Any, ...]:
        return (self.native_value,)


@callback
def _async_setup_project_sensors(
    entry: FluxiLabConfigEntry,
    engine: AccessEngine,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a sensor per project, and one for each project created later."""
    device = entry.runtime_data
    async_add_entities(
        FluxiLabProjectUsageSensor(device, engine, project_id)
        for project_id in engine.projects.data
    )

    async def _changed(change_type: str, item_id: str, item: dict[str, Any]) -> None:
        """Add the sensor of a project created (``item``: the stored project)."""
        if change_type == collection.CHANGE_ADDED:
            async_add_entities([FluxiLabProjectUsageSensor(device, engine, item_id)])

    entry.async_on_unload(engine.projects.async_add_listener(_changed))


class FluxiLabProjectUsageSensor(FluxiLabEntity, SensorEntity):
    """One project's charges this month (docs/BILLING.md), in the lab's currency.

    On the devices whose options ask for them; an amount and billed hours, no
    names. Known at the hub, so available while the device is off.
    """

    _attr_should_poll = True

    def __init__(
        self, device: FluxiLabDevice, engine: AccessEngine, project_id: str
    ) -> None:
        """Follow one project's totals."""
        super().__init__(device, PROJECT_USAGE)
        self._engine = engine
        self._project_id = project_id
        self._attr_unique_id = f"{device.device_id}_project_usage_{project_id}"
        project = engine.projects.data.get(project_id) or {}
        self._attr_translation_placeholders = {
            "project": str(project.get("name") or project_id)
        }
        self._totals = Totals()

    @property
    def available(self) -> bool:
        """While the project exists."""
        return self._project_id in self._engine.projects.data

    @property
    def native_unit_of_measurement(self) -> str:
        """The lab's currency (Home Assistant's general settings)."""
        return self.hass.config.currency

    @property
    def native_value(self) -> Decimal:
        """Return the charges of the month so far."""
        return Decimal(self._totals.cents) / 100

    @property
    def last_reset(self) -> datetime:
        """The start of this month (the lab's time zone)."""
        return dt_util.start_of_local_day().replace(day=1)

    @property
    def extra_state_attributes(self) -> dict[str, float]:
        """Billed hours and sessions this month."""
        return {
            "billed_hours": round(self._totals.billed_seconds / 3600, 2),
            "sessions": self._totals.sessions,
        }

    async def async_update(self) -> None:
        """Read this month's totals (shared by the sensors, at most a minute old)."""
        totals = await self._engine.projects.async_this_month()
        self._totals = totals.get(self._project_id) or Totals()

    def _shown(self) -> tuple[Any, ...]:
        return (self.available, self._totals.cents)


class FluxiLabSecureLinkSensor(FluxiLabEntity, SensorEntity):
    """Whether the hub can verify what the device sends (link.py).

    Known at the hub, so available while the device is offline: a device whose
    messages are all refused still looks online everywhere else.
    """

    @property
    def available(self) -> bool:
        """Always: the hub knows what it refused."""
        return True

    @property
    def native_value(self) -> str:
        """Return the link's state."""
        return self.device.link.state.value

    @property
    def extra_state_attributes(self) -> dict[str, int | str | None]:
        """Refused sealed messages since setup and the last reason (never content)."""
        link = self.device.link
        return {"rejected_messages": link.rejected, "last_rejection": link.last_reason}

    def _shown(self) -> tuple[Any, ...]:
        link = self.device.link
        return (link.state, link.rejected, link.last_reason)


class FluxiLabChannelSensor(FluxiLabChannelEntity, FluxiLabSensor):
    """A numeric telemetry channel the device announced."""
