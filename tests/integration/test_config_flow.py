"""Adoption flows: MQTT discovery and manual add."""

from __future__ import annotations

import json
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import (
    SOURCE_IGNORE,
    SOURCE_MQTT,
    SOURCE_USER,
    ConfigEntryState,
)
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import (
    device_registry as dr,
    issue_registry as ir,
    selector,
)
from homeassistant.helpers.service_info.mqtt import MqttServiceInfo
from homeassistant.util.dt import utcnow
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_mqtt_message,
)
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.fluxilab.access.const import CONF_MAINTENANCE_INTERVAL
from custom_components.fluxilab.access.engine import ACCESS_ENGINE
from custom_components.fluxilab.const import (
    CONF_ANNOUNCED_UI_URL,
    CONF_BASE_TOPIC,
    CONF_CHANNELS,
    CONF_DEVICE_ID,
    CONF_DEVICE_KEY,
    CONF_FINGERPRINT,
    CONF_LATEST_SW_VERSION,
    CONF_MACHINE_TYPE,
    CONF_STALE_CHANNEL_HOURS,
    CONF_UI_URL,
    DEFAULT_STALE_CHANNEL_HOURS,
    DOMAIN,
)
from custom_components.fluxilab.hub import async_get_hub_keys
from custom_components.fluxilab.protocol.schemas import COMMAND_SCHEMA
from custom_components.fluxilab.protocol.security import (
    KeyPair,
    ProtocolSecurityError,
    open_envelope,
)
from custom_components.fluxilab.repairs import async_create_maintenance_issue

from .conftest import wire_announce

TOPIC = "fluxilab/hood-1/announce"


def _discovery(payload: str, topic: str = TOPIC) -> MqttServiceInfo:
    return MqttServiceInfo(
        topic=topic,
        payload=payload,
        qos=1,
        retain=True,
        subscribed_topic="fluxilab/+/announce",
        timestamp=utcnow(),
    )


async def test_discovery_shows_fingerprint_and_adopts(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    announce_payload: str,
    device_keys: KeyPair,
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_MQTT}, data=_discovery(announce_payload)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "confirm"
    hub = await async_get_hub_keys(hass)
    expected = hub.derive(device_keys.public_b64).fingerprint
    assert result["description_placeholders"] == {
        "name": "Fumehood 1",
        "kind": "fumehood",
        "model": "FH-1200",
        "fingerprint": expected,
        "ui_url": "-",
    }
    # The device computes the same fingerprint from the hub's announced key.
    assert device_keys.derive(hub.public_b64).fingerprint == expected

    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Fumehood 1"
    assert result["result"].unique_id == "hood-1"
    assert result["data"] == {
        CONF_DEVICE_ID: "hood-1",
        CONF_BASE_TOPIC: "fluxilab",
        CONF_DEVICE_KEY: device_keys.public_b64,
        CONF_FINGERPRINT: expected,
        CONF_NAME: "Fumehood 1",
    }


async def test_adoption_pins_the_announced_ui_url(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    announce: dict[str, Any],
    device_keys: KeyPair,
) -> None:
    """The UI address is pinned with the key the admin compared (finding 1).

    The agent has usually pinned the hub's key before the admin adopts it, so its
    announcement arrives sealed: discovery verifies the seal with the announced key.
    """
    announce["ui_url"] = "http://10.0.0.5:8080/"
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_MQTT},
        data=_discovery(await wire_announce(hass, announce)),
    )
    assert result["description_placeholders"]["ui_url"] == "http://10.0.0.5:8080/"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].options == {
        CONF_UI_URL: "http://10.0.0.5:8080/",
        CONF_ANNOUNCED_UI_URL: "http://10.0.0.5:8080/",
    }


@pytest.mark.parametrize(
    "forge",
    [
        # A seal over other contents: not what the key's owner announced.
        lambda sealed: {**sealed, "ui_url": "http://elsewhere/"},
        lambda sealed: {**sealed, "seal": {**sealed["seal"], "sig": "0" * 64}},
        # Not http(s), or no host: refused by the schema, sealed or not.
        lambda sealed: {**sealed, "ui_url": "javascript:alert(document.cookie)"},
        lambda sealed: {**sealed, "ui_url": "http:///nohost"},
    ],
)
async def test_discovery_refuses_forged_or_unsafe_announcements(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    announce: dict[str, Any],
    forge: Any,
) -> None:
    announce["ui_url"] = "http://10.0.0.5:8080/"
    sealed = json.loads(await wire_announce(hass, announce))
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_MQTT},
        data=_discovery(json.dumps(forge(sealed))),
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "invalid_discovery_info"


async def test_discovery_drops_an_oversized_announcement_unparsed(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, announce: dict[str, Any]
) -> None:
    payload = json.dumps({**announce, "padding": "x" * (67 * 1024 * 1024)})
    with patch(
        "custom_components.fluxilab.config_flow.json.loads", wraps=json.loads
    ) as loads:
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_MQTT}, data=_discovery(payload)
        )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "invalid_discovery_info"
    loads.assert_not_called()


async def test_discovery_of_adopted_device_aborts(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    mock_config_entry: MockConfigEntry,
    announce_payload: str,
) -> None:
    mock_config_entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_MQTT}, data=_discovery(announce_payload)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


@pytest.mark.parametrize(
    ("mutate", "topic"),
    [
        (lambda a: a.update(v=2), TOPIC),
        (lambda a: a.update(key="not-a-key"), TOPIC),
        (lambda a: a.pop("name"), TOPIC),
        (lambda a: a.update(kind="toaster"), TOPIC),
        (lambda a: None, "fluxilab/hood-2/announce"),
    ],
)
async def test_invalid_announcements_abort(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    announce: dict[str, Any],
    mutate: Any,
    topic: str,
) -> None:
    mutate(announce)
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_MQTT},
        data=_discovery(json.dumps(announce), topic),
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "invalid_discovery_info"


async def test_hub_announcement_is_not_a_device(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, caplog: pytest.LogCaptureFixture
) -> None:
    """The hub's retained key matches the discovery wildcard; it is skipped quietly."""
    hub = await async_get_hub_keys(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_MQTT},
        data=_discovery(
            json.dumps({"v": 1, "key": hub.public_b64}), "fluxilab/_hub/announce"
        ),
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "not_a_device"
    assert "Ignoring invalid announcement" not in caplog.text


@pytest.mark.parametrize("payload", ["", "{not json", "[]"])
async def test_garbage_announcements_abort(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, payload: str
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_MQTT}, data=_discovery(payload)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "invalid_discovery_info"


async def test_user_step_adds_device_by_id(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_DEVICE_ID: "Bad Id!", CONF_BASE_TOPIC: "fluxilab"}
    )
    assert result["errors"] == {CONF_DEVICE_ID: "invalid_device_id"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_DEVICE_ID: "lathe-1", CONF_BASE_TOPIC: "lab/#"}
    )
    assert result["errors"] == {CONF_BASE_TOPIC: "invalid_base_topic"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_DEVICE_ID: " Lathe-1 ", CONF_BASE_TOPIC: "/lab/fluxi/"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_DEVICE_ID] == "lathe-1"
    assert result["data"][CONF_BASE_TOPIC] == "lab/fluxi"


async def test_ignored_device_does_not_start_flows(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, announce_payload: str
) -> None:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_MQTT}, data=_discovery(announce_payload)
    )
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_IGNORE},
        data={"unique_id": "hood-1", "title": "Fumehood 1"},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    # Ignoring aborts the pending discovery flow ...
    assert hass.config_entries.flow.async_progress_by_handler(DOMAIN) == []
    # ... and the device's next announcement starts none.
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_MQTT}, data=_discovery(announce_payload)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert hass.config_entries.flow.async_progress_by_handler(DOMAIN) == []
    (entry,) = hass.config_entries.async_entries(DOMAIN, include_ignore=True)
    assert entry.source == SOURCE_IGNORE
    assert entry.data == {}


async def test_ignored_device_can_be_added_by_hand(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient
) -> None:
    MockConfigEntry(
        domain=DOMAIN, unique_id="hood-1", source=SOURCE_IGNORE, data={}
    ).add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_USER},
        data={CONF_DEVICE_ID: "hood-1", CONF_BASE_TOPIC: "fluxilab"},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    (entry,) = hass.config_entries.async_entries(DOMAIN, include_ignore=True)
    assert entry.source == SOURCE_USER


async def test_reannouncement_refreshes_name_never_key(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    mock_config_entry: MockConfigEntry,
    announce: dict[str, Any],
    device_keys: KeyPair,
) -> None:
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry, data={**mock_config_entry.data, CONF_NAME: "Fumehood 1"}
    )
    announce["name"] = "Fumehood 1 (room 2.14)"
    announce["key"] = KeyPair.generate().public_b64
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_MQTT},
        data=_discovery(json.dumps(announce)),
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert mock_config_entry.title == "Fumehood 1 (room 2.14)"
    assert mock_config_entry.data[CONF_NAME] == "Fumehood 1 (room 2.14)"
    assert mock_config_entry.data[CONF_DEVICE_KEY] == device_keys.public_b64
    assert mock_config_entry.data[CONF_FINGERPRINT] == "0000-0000-0000"


async def test_reannouncement_keeps_a_name_the_admin_chose(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    mock_config_entry: MockConfigEntry,
    announce: dict[str, Any],
) -> None:
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry,
        title="Hood by the window",
        data={**mock_config_entry.data, CONF_NAME: "Fumehood 1"},
    )
    announce["name"] = "FH renamed by firmware"
    await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_MQTT},
        data=_discovery(json.dumps(announce)),
    )
    assert mock_config_entry.title == "Hood by the window"
    assert mock_config_entry.data[CONF_NAME] == "FH renamed by firmware"


async def test_user_step_of_adopted_device_aborts(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_USER},
        data={CONF_DEVICE_ID: "hood-1", CONF_BASE_TOPIC: "fluxilab"},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_discovery_in_progress_aborts_second_flow(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, announce_payload: str
) -> None:
    first = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_MQTT}, data=_discovery(announce_payload)
    )
    assert first["type"] is FlowResultType.FORM
    second = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_MQTT}, data=_discovery(announce_payload)
    )
    assert second["type"] is FlowResultType.ABORT
    assert second["reason"] == "already_in_progress"


async def test_reconfigure_renames_and_moves_base_topic(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    entry = init_integration
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert result["description_placeholders"] == {"device_id": "hood-1"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NAME: "   ", CONF_BASE_TOPIC: "lab"}
    )
    assert result["errors"] == {CONF_NAME: "invalid_name"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NAME: "Hood A", CONF_BASE_TOPIC: "lab/+"}
    )
    assert result["errors"] == {CONF_BASE_TOPIC: "invalid_base_topic"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NAME: " Hood A ", CONF_BASE_TOPIC: "/lab/chem/"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.title == "Hood A"
    assert entry.data[CONF_BASE_TOPIC] == "lab/chem"
    assert entry.data[CONF_DEVICE_KEY] is not None
    # Reloaded: the runtime now listens under the new base topic.
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.topics.base == "lab/chem"


async def _announce_channels(hass: HomeAssistant, announce: dict[str, Any]) -> None:
    channels = announce["capabilities"]["channels"]
    if all(channel["key"] != "sash_height" for channel in channels):
        channels.append(
            {"key": "sash_height", "name": "Sash height", "type": "int", "unit": "cm"}
        )
    async_fire_mqtt_message(hass, TOPIC, await wire_announce(hass, announce))
    await hass.async_block_till_done()


async def test_options_without_access_engine(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
) -> None:
    entry = init_integration
    hass.config_entries.async_update_entry(
        entry, options={CONF_LATEST_SW_VERSION: "0.2.0"}
    )
    await _announce_channels(hass, announce)
    hass.data.pop(ACCESS_ENGINE, None)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    schema = result["data_schema"].schema
    channels = next(k for k in schema if k == CONF_CHANNELS)
    # Every announced channel is suggested as enabled.
    assert channels.description == {"suggested_value": ["face_velocity", "sash_height"]}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_MACHINE_TYPE: "fumehood",
            CONF_UI_URL: "not a url",
            CONF_CHANNELS: ["face_velocity"],
            CONF_MAINTENANCE_INTERVAL: 250,
            CONF_STALE_CHANNEL_HOURS: 12,
        },
    )
    assert result["errors"] == {CONF_UI_URL: "invalid_url"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_MACHINE_TYPE: "fumehood",
            CONF_UI_URL: "https://lab.example.org:8443/hood-1/",
            CONF_CHANNELS: ["face_velocity"],
            CONF_MAINTENANCE_INTERVAL: 250,
            CONF_STALE_CHANNEL_HOURS: 12,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options == {
        CONF_LATEST_SW_VERSION: "0.2.0",  # kept: not this form's to change
        CONF_MACHINE_TYPE: "fumehood",
        CONF_UI_URL: "https://lab.example.org:8443/hood-1/",
        CONF_CHANNELS: ["face_velocity"],
        CONF_MAINTENANCE_INTERVAL: 250.0,
        CONF_STALE_CHANNEL_HOURS: 12.0,
    }
    # Reloaded with the new options: the routed UI is the device's link.
    assert entry.state is ConfigEntryState.LOADED
    await _announce_channels(hass, announce)
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, "hood-1"), entry.entry_id
    )
    assert device is not None
    assert device.configuration_url == "https://lab.example.org:8443/hood-1/"
    assert [c.key for c in entry.runtime_data.enabled_channels] == ["face_velocity"]


async def test_options_clear_and_enable_all_channels(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    mock_config_entry: MockConfigEntry,
    announce: dict[str, Any],
) -> None:
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry,
        options={
            CONF_UI_URL: "http://10.0.0.1/",
            CONF_MACHINE_TYPE: "old",
            CONF_CHANNELS: ["face_velocity"],
        },
    )
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    await _announce_channels(hass, announce)
    result = await hass.config_entries.options.async_init(mock_config_entry.entry_id)
    # Fields left empty are omitted by the frontend: they are cleared.
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {CONF_CHANNELS: ["sash_height", "face_velocity"]},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    # All announced channels chosen: nothing stored, later channels enabled too.
    assert mock_config_entry.options == {
        CONF_STALE_CHANNEL_HOURS: DEFAULT_STALE_CHANNEL_HOURS
    }


async def test_options_machine_type_from_access_engine(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    engine = hass.data[ACCESS_ENGINE]
    laser = await engine.machine_types.async_create_item({"name": "Laser cutter"})
    fumehood = await engine.machine_types.async_create_item({"name": "Fumehood"})
    result = await hass.config_entries.options.async_init(init_integration.entry_id)
    schema = result["data_schema"].schema
    machine_type = next(v for k, v in schema.items() if k == CONF_MACHINE_TYPE)
    assert isinstance(machine_type, selector.SelectSelector)
    assert [o["label"] for o in machine_type.config["options"]] == [
        "Fumehood",
        "Laser cutter",
    ]
    # No channel announced yet: no channel list to choose from.
    assert CONF_CHANNELS not in schema
    with pytest.raises(InvalidData):
        await hass.config_entries.options.async_configure(
            result["flow_id"], {CONF_MACHINE_TYPE: "no-such-type"}
        )
    # A type deleted while the form was open is refused, not stored.
    await engine.machine_types.async_delete_item(fumehood["id"])
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_MACHINE_TYPE: fumehood["id"]}
    )
    assert result["errors"] == {CONF_MACHINE_TYPE: "unknown_machine_type"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_MACHINE_TYPE: laser["id"]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert init_integration.runtime_data.machine_type_id == laser["id"]


async def test_remove_entry_revokes_the_device(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mqtt_mock: MqttMockHAClient,
    device_keys: KeyPair,
) -> None:
    entry = init_integration
    async_create_maintenance_issue(hass, entry, "Replace the filter")
    mqtt_mock.async_publish.reset_mock()
    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    topic = "fluxilab/hood-1/command"
    (call,) = [c for c in mqtt_mock.async_publish.call_args_list if c.args[0] == topic]
    assert call.args[2] == 1  # qos
    assert call.args[3] is False  # not retained: signed commands expire
    hub = await async_get_hub_keys(hass)
    keys = device_keys.derive(hub.public_b64)
    body = COMMAND_SCHEMA(open_envelope(keys, topic, json.loads(call.args[1])))
    assert body["command"] == "revoke"
    # A forged copy (other keys) would not verify on the device.
    with pytest.raises(ProtocolSecurityError):
        open_envelope(
            KeyPair.generate().derive(hub.public_b64), topic, json.loads(call.args[1])
        )
    assert hass.config_entries.async_entries(DOMAIN) == []
    assert ir.async_get(hass).issues == {}


async def test_remove_unpaired_entry_publishes_nothing(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, mock_config_entry: MockConfigEntry
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="hood-1",
        data={**mock_config_entry.data, CONF_DEVICE_KEY: None},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    mqtt_mock.async_publish.reset_mock()
    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert not [
        c
        for c in mqtt_mock.async_publish.call_args_list
        if c.args[0].endswith("/command")
    ]


async def test_remove_entry_when_broker_refuses(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with patch(
        "custom_components.fluxilab.revoke.mqtt.async_publish",
        side_effect=HomeAssistantError("not connected"),
    ):
        assert await hass.config_entries.async_remove(init_integration.entry_id)
    assert "removed but not told so" in caplog.text
