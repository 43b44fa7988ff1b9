"""Device triggers: access decisions, sessions and device conditions, per device.

Each trigger is one of the documented bus events (fluxilab_access, fluxilab_device)
of one type, filtered by Home Assistant's device id, so automations built in the UI
and the logbook see the very same events.
"""

from __future__ import annotations

from typing import Final

from homeassistant.components.device_automation import DEVICE_TRIGGER_BASE_SCHEMA
from homeassistant.components.homeassistant.triggers import event as event_trigger
from homeassistant.const import (
    ATTR_DEVICE_ID,
    CONF_DEVICE_ID,
    CONF_DOMAIN,
    CONF_EVENT,
    CONF_PLATFORM,
    CONF_TYPE,
)
from homeassistant.core import CALLBACK_TYPE, HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.trigger import TriggerActionType, TriggerInfo
from homeassistant.helpers.typing import ConfigType
import probatio

from .const import ATTR_TYPE, DOMAIN, EVENT_ACCESS, EVENT_DEVICE

TRIGGERS: Final[dict[str, tuple[str, str]]] = {
    "access_granted": (EVENT_ACCESS, "granted"),
    "card_denied": (EVENT_ACCESS, "denied"),
    "session_started": (EVENT_ACCESS, "session_started"),
    "session_ended": (EVENT_ACCESS, "session_ended"),
    "maintenance_due": (EVENT_DEVICE, "maintenance_due"),
    "device_offline": (EVENT_DEVICE, "offline"),
    "device_online": (EVENT_DEVICE, "online"),
}
"""Trigger type -> (bus event, its ``type``)."""

TRIGGER_SCHEMA: Final = DEVICE_TRIGGER_BASE_SCHEMA.extend(
    {probatio.Required(CONF_TYPE): probatio.In(list(TRIGGERS))}
)


async def async_validate_trigger_config(
    hass: HomeAssistant, config: ConfigType
) -> ConfigType:
    """Validate a trigger's configuration."""
    validated: ConfigType = TRIGGER_SCHEMA(config)
    return validated


async def async_get_triggers(
    hass: HomeAssistant, device_id: str
) -> list[dict[str, str]]:
    """List the triggers of a FluxiLab device."""
    device = dr.async_get(hass).async_get(device_id)
    if device is None or not any(ident[0] == DOMAIN for ident in device.identifiers):
        return []
    return [
        {
            CONF_PLATFORM: "device",
            CONF_DOMAIN: DOMAIN,
            CONF_DEVICE_ID: device_id,
            CONF_TYPE: trigger_type,
        }
        for trigger_type in TRIGGERS
    ]


async def async_attach_trigger(
    hass: HomeAssistant,
    config: ConfigType,
    action: TriggerActionType,
    trigger_info: TriggerInfo,
) -> CALLBACK_TYPE:
    """Listen for the bus event behind a trigger, for this device only."""
    event_type, kind = TRIGGERS[config[CONF_TYPE]]
    event_config = event_trigger.TRIGGER_SCHEMA(
        {
            event_trigger.CONF_PLATFORM: CONF_EVENT,
            event_trigger.CONF_EVENT_TYPE: event_type,
            event_trigger.CONF_EVENT_DATA: {
                ATTR_DEVICE_ID: config[CONF_DEVICE_ID],
                ATTR_TYPE: kind,
            },
        }
    )
    return await event_trigger.async_attach_trigger(
        hass, event_config, action, trigger_info, platform_type="device"
    )
