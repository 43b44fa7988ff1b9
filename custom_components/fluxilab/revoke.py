"""Removing a device's config entry revokes the device.

The pairing key goes with the entry's data; before that, the device is told with a
signed ``revoke`` command so that it stops trusting this hub too. A device that is
offline at that moment does not get the command (signed commands expire, so it is
not retained); it is no longer trusted by the hub either way.
"""

from __future__ import annotations

import json
import uuid

from homeassistant.components import mqtt
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from .const import CONF_BASE_TOPIC, CONF_DEVICE_ID, CONF_DEVICE_KEY, LOGGER
from .device.runtime import FluxiLabConfigEntry
from .hub import async_get_hub_keys
from .protocol.schemas import COMMAND_SCHEMA, CommandName
from .protocol.security import seal
from .protocol.topics import Channel, DeviceTopics
from .repairs import async_delete_issues


async def async_remove_entry(hass: HomeAssistant, entry: FluxiLabConfigEntry) -> None:
    """Revoke a removed device: tell it (signed), drop its issues and key."""
    async_delete_issues(hass, entry)
    if (device_key := entry.data.get(CONF_DEVICE_KEY)) is None:
        return  # never paired: nothing the device would trust to hear
    device_id: str = entry.data[CONF_DEVICE_ID]
    topic = DeviceTopics(entry.data[CONF_BASE_TOPIC], device_id).topic(Channel.COMMAND)
    keys = (await async_get_hub_keys(hass)).derive(device_key)
    body = COMMAND_SCHEMA(
        {"id": uuid.uuid4().hex, "command": CommandName.REVOKE.value, "args": {}}
    )
    envelope = seal(keys, topic, body)
    try:
        await mqtt.async_publish(
            hass, topic, json.dumps(envelope, separators=(",", ":")), qos=1
        )
    except HomeAssistantError as err:
        LOGGER.warning("Device %s removed but not told so: %s", device_id, err)
        return
    LOGGER.info("Device %s removed and revoked", device_id)
