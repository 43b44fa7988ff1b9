"""Runtime state of one adopted device, fed by its MQTT subtree."""

from __future__ import annotations

from collections.abc import Callable

from homeassistant.components import mqtt
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback

from .const import CONF_BASE_TOPIC, CONF_DEVICE_ID, LOGGER
from .protocol.topics import STATUS_OFFLINE, STATUS_ONLINE, Channel, DeviceTopics

type FluxiLabConfigEntry = ConfigEntry[FluxiLabDevice]


class FluxiLabDevice:
    """One lab device as Home Assistant sees it."""

    def __init__(self, hass: HomeAssistant, entry: FluxiLabConfigEntry) -> None:
        """Prepare the runtime object; subscriptions start in async_start."""
        self.hass = hass
        self.entry = entry
        self.device_id: str = entry.data[CONF_DEVICE_ID]
        self.topics = DeviceTopics(entry.data[CONF_BASE_TOPIC], self.device_id)
        self.online = False
        self._listeners: list[Callable[[], None]] = []
        self._unsubscribe: list[Callable[[], None]] = []

    async def async_start(self) -> None:
        """Subscribe to the device's status topic."""
        self._unsubscribe.append(
            await mqtt.async_subscribe(
                self.hass,
                self.topics.topic(Channel.STATUS),
                self._handle_status,
                qos=1,
            )
        )

    @callback
    def async_stop(self) -> None:
        """Release every subscription."""
        while self._unsubscribe:
            self._unsubscribe.pop()()

    @callback
    def async_add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` on every state change; returns the remover."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    @callback
    def _handle_status(self, msg: mqtt.ReceiveMessage) -> None:
        payload = msg.payload
        if isinstance(payload, bytes):
            payload = payload.decode("utf-8", "replace")
        if payload not in (STATUS_ONLINE, STATUS_OFFLINE):
            LOGGER.warning(
                "Ignoring status %r from %s: expected online or offline",
                payload[:64],
                self.device_id,
            )
            return
        online = payload == STATUS_ONLINE
        if online == self.online:
            return
        self.online = online
        # Log once when a device goes down and once when it returns.
        if online:
            LOGGER.info("Device %s is online", self.device_id)
        else:
            LOGGER.info("Device %s went offline", self.device_id)
        for listener in list(self._listeners):
            listener()
