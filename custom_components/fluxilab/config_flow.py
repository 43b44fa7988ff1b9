"""Config flow: adopt a FluxiLab device discovered over MQTT, or add one by id.

One config entry per device, unique id = device id. Ignoring a discovered device
stores an ignored entry with that unique id, so its (retained, repeated)
announcements never start a flow again. Re-announcements of an adopted device
refresh what is safe to refresh (its announced name); the pairing key is never
taken from a flow: a different key goes through the repair issue (repairs.py). The UI
address announced at adoption is pinned in the entry's options; a later one goes
through a repair issue too.
"""

from __future__ import annotations

import json
from typing import Any

from homeassistant.config_entries import (
    SOURCE_IGNORE,
    ConfigEntry,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.const import CONF_NAME
from homeassistant.core import callback
from homeassistant.helpers import config_validation as cv, selector
from homeassistant.helpers.service_info.mqtt import MqttServiceInfo
import probatio
import voluptuous as vol

from .access.const import (
    CONF_ENTRANCE,
    CONF_MAINTENANCE_INTERVAL,
    CONF_PROJECT_SENSORS,
)
from .access.engine import ACCESS_ENGINE
from .const import (
    CONF_ANNOUNCED_UI_URL,
    CONF_BASE_TOPIC,
    CONF_CHANNELS,
    CONF_DEVICE_ID,
    CONF_DEVICE_KEY,
    CONF_FABOMATIC_MACHINE,
    CONF_FINGERPRINT,
    CONF_MACHINE_TYPE,
    CONF_STALE_CHANNEL_HOURS,
    CONF_UI_URL,
    DEFAULT_BASE,
    DEFAULT_STALE_CHANNEL_HOURS,
    DOMAIN,
    FIXED_ENTITY_KEYS,
    LOGGER,
)
from .device.fabomatic import (
    async_answer_unadopted,
    async_follow_boards,
    board_adopted,
)
from .hub import async_get_hub_keys
from .protocol.fabomatic import (
    BoardAction,
    BoardMessageError,
    device_id as fabomatic_device_id,
    machine_id_from_device_id,
    machine_id_from_topic,
    parse_query,
)
from .protocol.schemas import ANNOUNCE_SCHEMA, oversized
from .protocol.security import (
    SEAL_FIELD,
    ProtocolSecurityError,
    open_announce,
    parse_public_key,
)
from .protocol.topics import HUB_SEGMENT, Channel, valid_base_topic, valid_device_id

OPTION_KEYS = (
    CONF_MACHINE_TYPE,
    CONF_UI_URL,
    CONF_CHANNELS,
    CONF_MAINTENANCE_INTERVAL,
    CONF_STALE_CHANNEL_HOURS,
    CONF_ENTRANCE,
    CONF_PROJECT_SENSORS,
)
"""Options this flow edits; any other option (set elsewhere) is kept as it is."""


class FluxiLabConfigFlow(ConfigFlow, domain=DOMAIN):
    """Adopt one lab device per config entry."""

    VERSION = 1

    def __init__(self) -> None:
        """Start with nothing discovered."""
        self._announce: dict[str, Any] = {}
        self._base_topic = DEFAULT_BASE
        self._fingerprint = ""

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> FluxiLabOptionsFlow:
        """Return the options flow of one device."""
        return FluxiLabOptionsFlow()

    async def async_step_mqtt(
        self, discovery_info: MqttServiceInfo
    ) -> ConfigFlowResult:
        """Handle a device announcement seen on MQTT."""
        if machine_id_from_topic(discovery_info.topic) is not None:
            return await self.async_step_fabomatic(discovery_info)
        suffix = f"/{Channel.ANNOUNCE.value}"
        base, _, device_id = discovery_info.topic.removesuffix(suffix).rpartition("/")
        if device_id == HUB_SEGMENT:
            # The hub's own retained key announcement matches the same wildcard.
            return self.async_abort(reason="not_a_device")
        if not discovery_info.payload:
            return self.async_abort(reason="invalid_discovery_info")
        if oversized(Channel.ANNOUNCE, discovery_info.payload):
            LOGGER.warning(
                "Ignoring an oversized announcement on %s (%d bytes)",
                discovery_info.topic,
                len(discovery_info.payload),
            )
            return self.async_abort(reason="invalid_discovery_info")
        try:
            document = json.loads(discovery_info.payload)
            announce = ANNOUNCE_SCHEMA(document)
            parse_public_key(announce["key"])
        except (ValueError, RecursionError, vol.Invalid) as err:
            LOGGER.warning(
                "Ignoring invalid announcement on %s: %s", discovery_info.topic, err
            )
            return self.async_abort(reason="invalid_discovery_info")
        if announce["id"] != device_id:
            return self.async_abort(reason="invalid_discovery_info")
        hub_keys = await async_get_hub_keys(self.hass)
        keys = hub_keys.derive(announce["key"])
        if SEAL_FIELD in document:
            # An agent that already pinned the hub's key seals its announcement:
            # a seal that does not verify is not the key's owner speaking.
            try:
                open_announce(keys, discovery_info.topic, document)
            except ProtocolSecurityError as err:
                LOGGER.warning(
                    "Ignoring a badly sealed announcement on %s: %s",
                    discovery_info.topic,
                    err,
                )
                return self.async_abort(reason="invalid_discovery_info")
        entry = await self.async_set_unique_id(device_id)
        if entry is not None and entry.source != SOURCE_IGNORE:
            self._async_refresh_entry(entry, announce)
        # Aborts for adopted and for ignored devices alike.
        self._abort_if_unique_id_configured()
        self._announce = announce
        self._base_topic = base
        self._fingerprint = keys.fingerprint
        self.context["title_placeholders"] = {"name": announce["name"]}
        return await self.async_step_confirm()

    @callback
    def _async_refresh_entry(
        self, entry: ConfigEntry, announce: dict[str, Any]
    ) -> None:
        """Take the announced name, unless the admin renamed the device.

        The key is left alone on purpose: the running device compares it with the
        confirmed one and raises a repair issue when it differs.
        """
        data = entry.data
        renamed = entry.title not in (data.get(CONF_NAME), data[CONF_DEVICE_ID])
        self.hass.config_entries.async_update_entry(
            entry,
            title=entry.title if renamed else announce["name"],
            data={**data, CONF_NAME: announce["name"]},
        )

    async def async_step_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask the admin to compare the fingerprint and adopt the device."""
        announce = self._announce
        ui_url: str | None = announce.get("ui_url")
        if user_input is not None:
            # The UI address is pinned with the key the admin compared: a later
            # announcement cannot move the Open button elsewhere (repairs.py).
            return self.async_create_entry(
                title=announce["name"],
                data={
                    CONF_DEVICE_ID: announce["id"],
                    CONF_BASE_TOPIC: self._base_topic,
                    CONF_DEVICE_KEY: announce["key"],
                    CONF_FINGERPRINT: self._fingerprint,
                    CONF_NAME: announce["name"],
                },
                options={CONF_UI_URL: ui_url, CONF_ANNOUNCED_UI_URL: ui_url}
                if ui_url
                else {},
            )
        self._set_confirm_only()
        return self.async_show_form(
            step_id="confirm",
            description_placeholders={
                "name": announce["name"],
                "kind": str(announce["kind"]),
                "model": announce["model"],
                "fingerprint": self._fingerprint,
                "ui_url": ui_url or "-",
            },
        )

    async def async_step_fabomatic(
        self, discovery_info: MqttServiceInfo
    ) -> ConfigFlowResult:
        """Handle a Fab-O-Matic board's alive message on machine/<id>.

        Home Assistant's MQTT discovery starts this flow for every message on
        ``machine/+`` whose payload differs from the topic's last one: an adopted
        board's every card check too. Those abort first, before any parsing.
        """
        machine_id = machine_id_from_topic(discovery_info.topic)
        if machine_id is None:
            return self.async_abort(reason="invalid_discovery_info")
        await self.async_set_unique_id(fabomatic_device_id(machine_id))
        if board_adopted(self.hass, machine_id):
            # Its own transport answers it (device/fabomatic.py).
            self._abort_if_unique_id_configured()
        try:
            query = parse_query(discovery_info.payload)
        except BoardMessageError:
            return self.async_abort(reason="invalid_discovery_info")
        # A board nobody adopted is told so (is_valid: false), now and from now on.
        if await async_follow_boards(self.hass):
            await async_answer_unadopted(self.hass, machine_id, query["action"])
        self._abort_if_unique_id_configured()
        if query["action"] is not BoardAction.ALIVE:
            # Queries of a board come and go; only its alive message adopts it.
            return self.async_abort(reason="invalid_discovery_info")
        self._announce = {"machine_id": machine_id, "version": query["version"]}
        self.context["title_placeholders"] = {"name": f"Fab-O-Matic {machine_id}"}
        return await self.async_step_fabomatic_confirm()

    async def async_step_fabomatic_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Adopt a board, telling the admin that it cannot verify signatures."""
        machine_id: int = self._announce["machine_id"]
        name = f"Fab-O-Matic {machine_id}"
        if user_input is not None:
            return self.async_create_entry(
                title=name,
                data={
                    CONF_DEVICE_ID: fabomatic_device_id(machine_id),
                    CONF_BASE_TOPIC: DEFAULT_BASE,
                    CONF_DEVICE_KEY: None,
                    CONF_FINGERPRINT: None,
                    CONF_NAME: name,
                    CONF_FABOMATIC_MACHINE: machine_id,
                },
            )
        self._set_confirm_only()
        return self.async_show_form(
            step_id="fabomatic_confirm",
            description_placeholders={
                "name": name,
                "machine_id": str(machine_id),
                "version": self._announce["version"],
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
                if (machine_id := machine_id_from_device_id(device_id)) is not None:
                    # A Fab-O-Matic board (it never announces, never pairs): its
                    # entry is a board's, so its broker login gets machine/<id>.
                    self._announce = {"machine_id": machine_id, "version": "-"}
                    return await self.async_step_fabomatic_confirm()
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

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Rename a device or move it to another base topic."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            name = user_input[CONF_NAME].strip()
            base = user_input[CONF_BASE_TOPIC].strip().strip("/")
            if not name:
                errors[CONF_NAME] = "invalid_name"
            elif not valid_base_topic(base):
                errors[CONF_BASE_TOPIC] = "invalid_base_topic"
            else:
                return self.async_update_reload_and_abort(
                    entry, title=name, data_updates={CONF_BASE_TOPIC: base}
                )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                probatio.Schema(
                    {
                        probatio.Required(CONF_NAME): str,
                        probatio.Required(CONF_BASE_TOPIC): str,
                    }
                ),
                user_input
                or {
                    CONF_NAME: entry.title,
                    CONF_BASE_TOPIC: entry.data[CONF_BASE_TOPIC],
                },
            ),
            description_placeholders={"device_id": entry.data[CONF_DEVICE_ID]},
            errors=errors,
        )


class FluxiLabOptionsFlow(OptionsFlowWithReload):
    """Per-device settings: machine type, routed UI, channels, maintenance."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show and validate the device's options."""
        errors: dict[str, str] = {}
        announced = self._announced_channels()
        if user_input is not None:
            options = self._validate(user_input, announced, errors)
            if not errors:
                if (engine := self.hass.data.get(ACCESS_ENGINE)) is not None:
                    engine.admin_audit.options_changed(self.config_entry, options)
                return self.async_create_entry(data=options)
        current = {
            key: value
            for key, value in self.config_entry.options.items()
            if key in OPTION_KEYS
        }
        if CONF_CHANNELS not in current:
            current[CONF_CHANNELS] = list(announced)
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                self._schema(announced), user_input or current
            ),
            errors=errors,
        )

    def _validate(
        self,
        user_input: dict[str, Any],
        announced: dict[str, str],
        errors: dict[str, str],
    ) -> dict[str, Any]:
        """Return the new options (others kept), filling ``errors`` when invalid."""
        options = {
            key: value
            for key, value in self.config_entry.options.items()
            if key not in OPTION_KEYS
        }
        if machine_type := str(user_input.get(CONF_MACHINE_TYPE) or "").strip():
            engine = self.hass.data.get(ACCESS_ENGINE)
            if engine is not None and machine_type not in engine.machine_types.data:
                errors[CONF_MACHINE_TYPE] = "unknown_machine_type"
            options[CONF_MACHINE_TYPE] = machine_type
        if ui_url := str(user_input.get(CONF_UI_URL) or "").strip():
            try:
                options[CONF_UI_URL] = cv.url(ui_url)
            except probatio.Invalid:
                errors[CONF_UI_URL] = "invalid_url"
        if CONF_CHANNELS in user_input:
            channels = sorted(set(user_input[CONF_CHANNELS]))
            # Every announced channel kept: store nothing, so that channels the
            # device announces later are enabled too.
            if set(channels) != set(announced):
                options[CONF_CHANNELS] = channels
        if (interval := user_input.get(CONF_MAINTENANCE_INTERVAL)) is not None:
            options[CONF_MAINTENANCE_INTERVAL] = float(interval)
        options[CONF_STALE_CHANNEL_HOURS] = float(
            user_input.get(CONF_STALE_CHANNEL_HOURS, DEFAULT_STALE_CHANNEL_HOURS)
        )
        if user_input.get(CONF_ENTRANCE):
            options[CONF_ENTRANCE] = True
        if user_input.get(CONF_PROJECT_SENSORS):
            options[CONF_PROJECT_SENSORS] = True
        return options

    def _announced_channels(self) -> dict[str, str]:
        """Channel keys the device announced (with their names), when it runs.

        Channels enabled earlier but not announced now stay listed, so that saving
        the form does not silently drop them.
        """
        entry = self.config_entry
        channels: dict[str, str] = {}
        if entry.state is ConfigEntryState.LOADED:
            for channel in entry.runtime_data.channels:
                if channel.key not in FIXED_ENTITY_KEYS:
                    channels[channel.key] = channel.name
        for key in entry.options.get(CONF_CHANNELS) or []:
            channels.setdefault(key, key)
        return channels

    def _schema(self, announced: dict[str, str]) -> probatio.Schema:
        """Build the form; the machine type is a list once the engine has types."""
        engine = self.hass.data.get(ACCESS_ENGINE)
        machine_type: selector.Selector[Any]
        if engine is not None:
            machine_type = selector.SelectSelector(
                selector.SelectSelectorConfig(
                    options=[
                        selector.SelectOptionDict(value=type_id, label=item["name"])
                        for type_id, item in sorted(
                            engine.machine_types.data.items(),
                            key=lambda pair: str(pair[1]["name"]).casefold(),
                        )
                    ],
                    mode=selector.SelectSelectorMode.DROPDOWN,
                )
            )
        else:
            machine_type = selector.TextSelector()
        fields: dict[Any, Any] = {
            probatio.Optional(CONF_MACHINE_TYPE): machine_type,
            probatio.Optional(CONF_UI_URL): selector.TextSelector(
                selector.TextSelectorConfig(type=selector.TextSelectorType.URL)
            ),
        }
        if announced:
            fields[probatio.Optional(CONF_CHANNELS)] = selector.SelectSelector(
                selector.SelectSelectorConfig(
                    options=[
                        selector.SelectOptionDict(value=key, label=name)
                        for key, name in announced.items()
                    ],
                    multiple=True,
                    mode=selector.SelectSelectorMode.LIST,
                )
            )
        fields[probatio.Optional(CONF_MAINTENANCE_INTERVAL)] = selector.NumberSelector(
            selector.NumberSelectorConfig(
                min=0.1,
                step=0.1,
                mode=selector.NumberSelectorMode.BOX,
                unit_of_measurement="h",
            )
        )
        fields[
            probatio.Required(
                CONF_STALE_CHANNEL_HOURS, default=DEFAULT_STALE_CHANNEL_HOURS
            )
        ] = selector.NumberSelector(
            selector.NumberSelectorConfig(
                min=0,
                step=1,
                mode=selector.NumberSelectorMode.BOX,
                unit_of_measurement="h",
            )
        )
        fields[probatio.Optional(CONF_ENTRANCE, default=False)] = (
            selector.BooleanSelector()
        )
        fields[probatio.Optional(CONF_PROJECT_SENSORS, default=False)] = (
            selector.BooleanSelector()
        )
        return probatio.Schema(fields)
