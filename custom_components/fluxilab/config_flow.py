"""Config flow: adopt a FluxiLab device discovered over MQTT, or add one by id."""

from __future__ import annotations

import json
from typing import Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
from homeassistant.helpers.service_info.mqtt import MqttServiceInfo
import probatio
import voluptuous as vol

from .const import (
    CONF_BASE_TOPIC,
    CONF_DEVICE_ID,
    CONF_DEVICE_KEY,
    CONF_FINGERPRINT,
    DEFAULT_BASE,
    DOMAIN,
    LOGGER,
)
from .hub import async_get_hub_keys
from .protocol.schemas import ANNOUNCE_SCHEMA
from .protocol.security import parse_public_key
from .protocol.topics import Channel, valid_base_topic, valid_device_id


class FluxiLabConfigFlow(ConfigFlow, domain=DOMAIN):
    """Adopt one lab device per config entry."""

    VERSION = 1

    def __init__(self) -> None:
        """Start with nothing discovered."""
        self._announce: dict[str, Any] = {}
        self._base_topic = DEFAULT_BASE
        self._fingerprint = ""

    async def async_step_mqtt(
        self, discovery_info: MqttServiceInfo
    ) -> ConfigFlowResult:
        """Handle a device announcement seen on MQTT."""
        suffix = f"/{Channel.ANNOUNCE.value}"
        base, _, device_id = discovery_info.topic.removesuffix(suffix).rpartition("/")
        if not discovery_info.payload:
            return self.async_abort(reason="invalid_discovery_info")
        try:
            announce = ANNOUNCE_SCHEMA(json.loads(discovery_info.payload))
            parse_public_key(announce["key"])
        except (ValueError, vol.Invalid) as err:
            LOGGER.warning(
                "Ignoring invalid announcement on %s: %s", discovery_info.topic, err
            )
            return self.async_abort(reason="invalid_discovery_info")
        if announce["id"] != device_id:
            return self.async_abort(reason="invalid_discovery_info")
        await self.async_set_unique_id(device_id)
        self._abort_if_unique_id_configured()
        self._announce = announce
        self._base_topic = base
        hub_keys = await async_get_hub_keys(self.hass)
        self._fingerprint = hub_keys.derive(announce["key"]).fingerprint
        self.context["title_placeholders"] = {"name": announce["name"]}
        return await self.async_step_confirm()

    async def async_step_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask the admin to compare the fingerprint and adopt the device."""
        announce = self._announce
        if user_input is not None:
            return self.async_create_entry(
                title=announce["name"],
                data={
                    CONF_DEVICE_ID: announce["id"],
                    CONF_BASE_TOPIC: self._base_topic,
                    CONF_DEVICE_KEY: announce["key"],
                    CONF_FINGERPRINT: self._fingerprint,
                },
            )
        self._set_confirm_only()
        return self.async_show_form(
            step_id="confirm",
            description_placeholders={
                "name": announce["name"],
                "kind": str(announce["kind"]),
                "model": announce["model"],
                "fingerprint": self._fingerprint,
            },
        )

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Add a device by id before it has announced itself."""
        errors: dict[str, str] = {}
        if user_input is not None:
            device_id = user_input[CONF_DEVICE_ID].strip().lower()
            base = user_input[CONF_BASE_TOPIC].strip().strip("/")
            if not valid_device_id(device_id):
                errors[CONF_DEVICE_ID] = "invalid_device_id"
            elif not valid_base_topic(base):
                errors[CONF_BASE_TOPIC] = "invalid_base_topic"
            else:
                await self.async_set_unique_id(device_id)
                self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    title=device_id,
                    data={
                        CONF_DEVICE_ID: device_id,
                        CONF_BASE_TOPIC: base,
                        CONF_DEVICE_KEY: None,
                        CONF_FINGERPRINT: None,
                    },
                )
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                probatio.Schema(
                    {
                        probatio.Required(CONF_DEVICE_ID): str,
                        probatio.Required(CONF_BASE_TOPIC, default=DEFAULT_BASE): str,
                    }
                ),
                user_input,
            ),
            errors=errors,
        )
