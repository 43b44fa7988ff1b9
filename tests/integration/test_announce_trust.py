"""Trust in what a device announces, message sizes, replays across a restart.

Issue 14, finding 1 (an unsigned announcement steered the panel's Open button),
finding 7 (oversized payloads parsed on the event loop) and the replay window of
finding 8 (lost on restart).
"""

from __future__ import annotations

import json
import time
from typing import Any
from unittest.mock import patch

from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_mqtt_message,
)

from custom_components.fluxilab.const import (
    CONF_ANNOUNCED_UI_URL,
    CONF_UI_URL,
    DOMAIN,
)
from custom_components.fluxilab.hub import async_get_hub_keys
from custom_components.fluxilab.protocol.schemas import MAX_PAYLOAD_BYTES
from custom_components.fluxilab.protocol.security import (
    KeyPair,
    seal,
    seal_announce,
)
from custom_components.fluxilab.protocol.topics import DEVICE_TO_HUB, Channel
from custom_components.fluxilab.repairs import ui_url_issue_id

from .conftest import DEVICE_ID
from .test_device import BASE, FACE_VELOCITY, bring_online, send_sealed

UI = "http://10.0.0.5:8080/"
MOVED = "http://10.0.0.6:8080/"


@pytest.fixture
async def repairs(hass: HomeAssistant) -> None:
    """Set up the repairs integration (its flow manager)."""
    assert await async_setup_component(hass, "repairs", {})


async def sealed_announce(
    hass: HomeAssistant,
    device_keys: KeyPair,
    announce: dict[str, Any],
    *,
    now: float | None = None,
) -> str:
    """The announcement sealed by the paired device, at ``now``."""
    hub = await async_get_hub_keys(hass)
    keys = device_keys.derive(hub.public_b64)
    return json.dumps(seal_announce(keys, f"{BASE}/announce", announce, now=now))


def ui_issue(hass: HomeAssistant, entry: MockConfigEntry) -> ir.IssueEntry | None:
    """The device's new-UI-address issue, if raised."""
    return ir.async_get(hass).async_get_issue(DOMAIN, ui_url_issue_id(entry))


# Finding 1: the announcement ------------------------------------------------------


@pytest.mark.parametrize("ui_url", [UI, "javascript:alert(document.cookie)"])
async def test_unsealed_announce_of_a_paired_device_changes_nothing(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
    ui_url: str,
) -> None:
    """Anyone on the broker can publish it: with the device's own key it is ignored."""
    await bring_online(hass, announce)
    device = init_integration.runtime_data
    forged = {
        **announce,
        "ui_url": ui_url,
        "sw_version": "6.6.6",
        "capabilities": {"channels": []},
    }
    async_fire_mqtt_message(hass, f"{BASE}/announce", json.dumps(forged))
    await hass.async_block_till_done()
    assert device.announce is not None
    assert device.announce.sw_version == "0.1.0"
    assert [channel.key for channel in device.channels] == ["face_velocity"]
    assert device.ui_url is None
    assert ui_issue(hass, init_integration) is None
    assert device.keys is not None  # and the genuine device stays trusted
    counted = "announce_unsealed" if ui_url == UI else "announce_malformed"
    assert device.counters[counted] == 1


async def test_badly_sealed_or_older_announce_is_refused(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
    device_keys: KeyPair,
) -> None:
    device = init_integration.runtime_data
    now = time.time()
    async_fire_mqtt_message(
        hass, f"{BASE}/announce", await sealed_announce(hass, device_keys, announce)
    )
    await hass.async_block_till_done()
    assert device.announce is not None
    # Sealed by someone else (another device's keys, or for another topic).
    impostor = KeyPair.generate().derive((await async_get_hub_keys(hass)).public_b64)
    changed = {**announce, "sw_version": "6.6.6"}
    for payload in (
        json.dumps(seal_announce(impostor, f"{BASE}/announce", changed)),
        json.dumps(
            {
                **json.loads(await sealed_announce(hass, device_keys, announce)),
                "sw_version": "6.6.6",
            }
        ),
    ):
        async_fire_mqtt_message(hass, f"{BASE}/announce", payload)
    # A genuine announcement captured earlier and replayed (it is retained, so not
    # held to the replay window): older than the last one taken.
    old = await sealed_announce(hass, device_keys, changed, now=now - 3600)
    async_fire_mqtt_message(hass, f"{BASE}/announce", old)
    await hass.async_block_till_done()
    assert device.announce.sw_version == "0.1.0"
    assert device.counters["announce_rejected"] == 3


async def test_new_ui_url_waits_for_an_admin(
    hass: HomeAssistant,
    repairs: None,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
    device_keys: KeyPair,
    device_registry: dr.DeviceRegistry,
) -> None:
    """A sealed announcement with another UI address raises a repair; nothing moves."""
    entry = init_integration
    device = entry.runtime_data
    hass.config_entries.async_update_entry(
        entry, options={CONF_UI_URL: UI, CONF_ANNOUNCED_UI_URL: UI}
    )
    announce["ui_url"] = UI
    await bring_online(hass, announce)
    assert ui_issue(hass, entry) is None

    announce["ui_url"] = MOVED
    await bring_online(hass, announce)
    issue = ui_issue(hass, entry)
    assert issue is not None
    assert issue.is_fixable
    assert issue.translation_key == "ui_url_changed"
    assert issue.translation_placeholders == {
        "name": "Fumehood 1",
        "old_url": UI,
        "new_url": MOVED,
    }
    assert device.ui_url == UI

    manager = repairs_flow_manager(hass)
    assert manager is not None
    result = await manager.async_init(DOMAIN, data={"issue_id": issue.issue_id})
    assert result["type"] is FlowResultType.FORM
    assert result["description_placeholders"] == issue.translation_placeholders
    result = await manager.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert device.ui_url == MOVED
    assert entry.options[CONF_ANNOUNCED_UI_URL] == MOVED
    registered = device_registry.async_get_device_by_identifier(
        (DOMAIN, DEVICE_ID), entry.entry_id
    )
    assert registered is not None
    assert registered.configuration_url == MOVED
    assert ui_issue(hass, entry) is None

    # The device announcing the accepted address again raises nothing.
    await bring_online(hass, announce)
    assert ui_issue(hass, entry) is None


async def test_own_ui_url_of_the_admin_stays(
    hass: HomeAssistant,
    repairs: None,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
) -> None:
    """An address set in the options (a routed one) survives accepting a new one."""
    entry = init_integration
    routed = "https://lab.example.org/hood-1/"
    hass.config_entries.async_update_entry(
        entry, options={CONF_UI_URL: routed, CONF_ANNOUNCED_UI_URL: UI}
    )
    announce["ui_url"] = MOVED
    await bring_online(hass, announce)
    issue = ui_issue(hass, entry)
    assert issue is not None
    manager = repairs_flow_manager(hass)
    assert manager is not None
    result = await manager.async_init(DOMAIN, data={"issue_id": issue.issue_id})
    await manager.async_configure(result["flow_id"], {})
    assert entry.options == {CONF_UI_URL: routed, CONF_ANNOUNCED_UI_URL: MOVED}


async def test_ui_url_repair_superseded(
    hass: HomeAssistant,
    repairs: None,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
) -> None:
    """A flow opened for one address cannot accept it once another was announced."""
    entry = init_integration
    announce["ui_url"] = UI
    await bring_online(hass, announce)
    issue = ui_issue(hass, entry)
    assert issue is not None
    manager = repairs_flow_manager(hass)
    assert manager is not None
    result = await manager.async_init(DOMAIN, data={"issue_id": issue.issue_id})
    announce["ui_url"] = MOVED
    await bring_online(hass, announce)
    result = await manager.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "ui_url_superseded"
    assert CONF_UI_URL not in entry.options


# Finding 7: sizes -----------------------------------------------------------------


@pytest.mark.parametrize("channel", sorted(DEVICE_TO_HUB))
async def test_oversized_payload_is_dropped_unparsed(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
    channel: Channel,
) -> None:
    """A 67 MB payload costs a length check: json.loads never sees it."""
    await bring_online(hass, announce)
    device = init_integration.runtime_data
    huge = b'{"v":1,"body":"' + b"x" * (67 * 1024 * 1024) + b'"}'
    just_over = b" " * (MAX_PAYLOAD_BYTES[channel] + 1)
    with patch(
        "custom_components.fluxilab.device.runtime.json.loads", wraps=json.loads
    ) as loads:
        for payload in (huge, just_over):
            async_fire_mqtt_message(hass, f"{BASE}/{channel.value}", payload)
        await hass.async_block_till_done()
    loads.assert_not_called()
    assert device.counters[f"{channel.value.replace('/', '_')}_oversized"] == 2
    assert device.online


def test_caps_fit_the_largest_valid_messages() -> None:
    """Each cap admits what its schema admits (ASCII at every length limit)."""
    keys = KeyPair.generate().derive(KeyPair.generate().public_b64)
    channels = [
        {
            "key": f"c{i:02d}" + "x" * 29,
            "name": "n" * 255,
            "type": "float",
            "unit": "u" * 32,
            "device_class": "d" * 64,
            "state_class": "s" * 64,
            "period": 1.5,
            "safety": True,
        }
        for i in range(64)
    ]
    announce = {
        "v": 1,
        "id": "d" * 64,
        "name": "n" * 255,
        "kind": "sensor_station",
        "model": "m" * 255,
        "sw_version": "s" * 64,
        "hw_version": "h" * 64,
        "serial": "s" * 128,
        "ui_url": "http://" + "h" * 2000 + "/",
        "key": "k" * 64,
        "area": "a" * 255,
        "capabilities": {
            "channels": channels,
            "actuators": [
                {"key": f"a{i:02d}" + "x" * 29, "kind": "interlock", "name": "n" * 255}
                for i in range(64)
            ],
            "rfid": True,
            "ui": True,
        },
    }
    topic = "fluxilab/hood-1/announce"
    sealed = json.dumps(seal_announce(keys, topic, announce))
    assert len(sealed) <= MAX_PAYLOAD_BYTES[Channel.ANNOUNCE]
    values = {f"c{i:02d}" + "x" * 29: -1.2345678901234567e-300 for i in range(64)}
    telemetry = {"stream": "s" * 64, "seq": 2**53, "ts": 1e10, "values": values}
    envelope = json.dumps(seal(keys, topic, telemetry))  # default separators, too
    assert len(envelope) <= MAX_PAYLOAD_BYTES[Channel.TELEMETRY]
    record = {"seq": 2**53, "ts": 1e10, "kind": "telemetry", "values": values}
    backlog = {"stream": "s" * 64, "records": [record] * 1000}
    envelope = json.dumps(seal(keys, topic, backlog), separators=(",", ":"))
    assert len(envelope) <= MAX_PAYLOAD_BYTES[Channel.BACKLOG]
    request = {
        "id": "i" * 64,
        "action": "session_heartbeat",
        "card": "c" * 64,
        "member_id": "m" * 64,
        "session_id": "s" * 64,
        "duration": 1e10,
    }
    envelope = json.dumps(seal(keys, topic, request))
    assert len(envelope) <= MAX_PAYLOAD_BYTES[Channel.ACCESS_REQUEST]
    result = {"id": "i" * 64, "ok": False, "error": "e" * 255}
    envelope = json.dumps(seal(keys, topic, result))
    assert len(envelope) <= MAX_PAYLOAD_BYTES[Channel.COMMAND_RESULT]


# Finding 8: the replay window across a restart -------------------------------------


async def test_replay_after_a_restart_is_rejected(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
    device_keys: KeyPair,
) -> None:
    """A message taken before Home Assistant restarted is not taken again after."""
    entry = init_integration
    await bring_online(hass, announce)
    hub = await async_get_hub_keys(hass)
    topic = f"{BASE}/{Channel.TELEMETRY.value}"
    body = {"seq": 7, "ts": time.time(), "values": {"face_velocity": 0.3}}
    captured = json.dumps(seal(device_keys.derive(hub.public_b64), topic, body))
    async_fire_mqtt_message(hass, topic, captured)
    await hass.async_block_till_done()
    assert hass.states.get(FACE_VELOCITY).state == "0.3"
    await send_sealed(
        hass,
        device_keys,
        Channel.TELEMETRY,
        {"seq": 8, "ts": time.time(), "values": {"face_velocity": 0.5}},
    )

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    await bring_online(hass, announce)
    device = entry.runtime_data
    async_fire_mqtt_message(hass, topic, captured)
    await hass.async_block_till_done()
    assert device.counters["telemetry_rejected"] == 1
    assert device.values == {}
    # What the device sends after the restart is taken as always.
    await send_sealed(
        hass,
        device_keys,
        Channel.TELEMETRY,
        {"seq": 9, "ts": time.time(), "values": {"face_velocity": 0.4}},
    )
    assert hass.states.get(FACE_VELOCITY).state == "0.4"


async def test_after_a_crash_nothing_sealed_before_the_start_is_taken(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
    device_keys: KeyPair,
) -> None:
    """No window saved (a crash): messages sealed before the restart are refused."""
    entry = init_integration
    await bring_online(hass, announce)
    hub = await async_get_hub_keys(hass)
    topic = f"{BASE}/{Channel.TELEMETRY.value}"
    body = {"seq": 7, "ts": time.time(), "values": {"face_velocity": 0.3}}
    captured = json.dumps(seal(device_keys.derive(hub.public_b64), topic, body))
    async_fire_mqtt_message(hass, topic, captured)
    await hass.async_block_till_done()
    assert hass.states.get(FACE_VELOCITY).state == "0.3"

    # The crash: the stop never saves its window, the store holds the running mark.
    with patch.object(type(entry.runtime_data), "_async_save_replay"):
        assert await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done()
    await bring_online(hass, announce)
    async_fire_mqtt_message(hass, topic, captured)
    await hass.async_block_till_done()
    assert entry.runtime_data.counters["telemetry_rejected"] == 1
    assert entry.runtime_data.values == {}


async def test_ui_url_already_in_the_options_needs_no_repair(
    hass: HomeAssistant,
    repairs: None,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
) -> None:
    """An entry adopted before addresses were pinned, with the address in its options."""
    entry = init_integration
    hass.config_entries.async_update_entry(entry, options={CONF_UI_URL: UI})
    announce["ui_url"] = UI
    await bring_online(hass, announce)
    assert ui_issue(hass, entry) is None
    assert entry.runtime_data.ui_url == UI
