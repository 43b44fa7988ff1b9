"""The device runtime: announce, telemetry, acks, malformed input, channels, keys."""

from __future__ import annotations

from datetime import timedelta
import json
import time
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_mqtt_message,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.fluxilab.const import (
    CONF_DEVICE_KEY,
    CONF_PENDING_KEY,
    DOMAIN,
    EVENT_DEVICE,
    LIVE_ACK_INTERVAL,
)
from custom_components.fluxilab.device.runtime import _loads_body
from custom_components.fluxilab.hub import async_get_hub_keys
from custom_components.fluxilab.protocol.schemas import ACK_SCHEMA
from custom_components.fluxilab.protocol.security import (
    KeyPair,
    open_envelope,
    seal,
    seal_payload,
)
from custom_components.fluxilab.protocol.topics import Channel
from custom_components.fluxilab.repairs import key_issue_id

from .conftest import DEVICE_ID, wire_announce

BASE = f"fluxilab/{DEVICE_ID}"
FACE_VELOCITY = "sensor.fumehood_1_face_velocity"
CONNECTIVITY = "binary_sensor.fumehood_1_connectivity"


async def send_sealed(
    hass: HomeAssistant,
    device_keys: KeyPair,
    channel: Channel,
    body: dict[str, Any],
    *,
    now: float | None = None,
) -> None:
    """Publish ``body`` as the device's agent would: sealed for the hub."""
    hub = await async_get_hub_keys(hass)
    topic = f"{BASE}/{channel.value}"
    payload = seal_payload(device_keys.derive(hub.public_b64), topic, body, now=now)
    async_fire_mqtt_message(hass, topic, payload)
    await hass.async_block_till_done()


async def bring_online(
    hass: HomeAssistant, announce: dict[str, Any] | None = None
) -> None:
    """Announce the device (if given) and report it online."""
    if announce is not None:
        payload = await wire_announce(hass, announce)
        async_fire_mqtt_message(hass, f"{BASE}/announce", payload)
    async_fire_mqtt_message(hass, f"{BASE}/status", "online")
    await hass.async_block_till_done()


async def published_acks(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, device_keys: KeyPair
) -> list[int]:
    """Open every ack the hub published (as the device would) and list the seqs."""
    hub = await async_get_hub_keys(hass)
    keys = device_keys.derive(hub.public_b64)
    topic = f"{BASE}/ack"
    seqs: list[int] = []
    for call in mqtt_mock.async_publish.call_args_list:
        if call.args[0] == topic:
            body = ACK_SCHEMA(open_envelope(keys, topic, json.loads(call.args[1])))
            seqs.extend(body["seqs"])
    return seqs


async def test_hub_key_is_announced_retained(
    hass: HomeAssistant, init_integration: MockConfigEntry, mqtt_mock: MqttMockHAClient
) -> None:
    hub = await async_get_hub_keys(hass)
    mqtt_mock.async_publish.assert_any_call(
        "fluxilab/_hub/announce",
        json.dumps({"v": 1, "key": hub.public_b64}),
        1,
        True,
        message_expiry_interval=None,
    )


async def test_announce_updates_registry_and_creates_channels(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
    device_registry: dr.DeviceRegistry,
) -> None:
    announce["hw_version"] = "rev B"
    announce["ui_url"] = "http://10.0.0.5:8080/"
    await bring_online(hass, announce)
    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, DEVICE_ID), init_integration.entry_id
    )
    assert device is not None
    assert (device.model, device.sw_version, device.hw_version) == (
        "FH-1200",
        "0.1.0",
        "rev B",
    )
    assert device.serial_number == "SN-0001"
    # An announced UI address is not taken as it comes (the entry was adopted
    # without one): it waits for an admin in Repairs (test_ui_url_*).
    assert device.configuration_url is None
    runtime = init_integration.runtime_data
    assert runtime.announce is not None
    assert [c.key for c in runtime.channels] == ["face_velocity"]
    assert hass.states.get(FACE_VELOCITY).state == "unknown"


@pytest.fixture
async def with_fan(
    hass: HomeAssistant, init_integration: MockConfigEntry, announce: dict[str, Any]
) -> None:
    """The device online, announcing face_velocity and a boolean fan_running."""
    announce["capabilities"]["channels"].append(
        {"key": "fan_running", "name": "Fan", "type": "bool"}
    )
    await bring_online(hass, announce)


@pytest.mark.usefixtures("with_fan")
async def test_telemetry_updates_states_and_writes_only_changes(
    hass: HomeAssistant, init_integration: MockConfigEntry, device_keys: KeyPair
) -> None:
    writes: list[Event] = async_capture_events(hass, "state_changed")
    now = time.time()
    await send_sealed(
        hass,
        device_keys,
        Channel.TELEMETRY,
        {"seq": 1, "ts": now, "values": {"face_velocity": 0.5, "fan_running": True}},
    )
    assert hass.states.get(FACE_VELOCITY).state == "0.5"
    assert hass.states.get("binary_sensor.fumehood_1_fan_running").state == STATE_ON
    assert len(writes) == 2
    # Same values again: nothing is written.
    await send_sealed(
        hass,
        device_keys,
        Channel.TELEMETRY,
        {
            "seq": 2,
            "ts": now + 1,
            "values": {"face_velocity": 0.5, "fan_running": True},
        },
    )
    assert len(writes) == 2
    await send_sealed(
        hass,
        device_keys,
        Channel.TELEMETRY,
        {
            "seq": 3,
            "ts": now + 2,
            "values": {"face_velocity": 0.4, "fan_running": True},
        },
    )
    assert [e.data["entity_id"] for e in writes[2:]] == [FACE_VELOCITY]
    assert init_integration.runtime_data.counters["telemetry_received"] == 3


@pytest.mark.usefixtures("with_fan")
async def test_telemetry_reaches_only_the_channels_it_carries(
    hass: HomeAssistant, init_integration: MockConfigEntry, device_keys: KeyPair
) -> None:
    """A message calls back its channels' entities, not every entity of the device."""
    device = init_integration.runtime_data
    calls: list[str] = []
    device.async_add_listener(lambda: calls.append("device"))
    for key in ("face_velocity", "fan_running"):
        device.async_add_value_listener(key, lambda key=key: calls.append(key))
    readings: list[dict[str, Any]] = []
    device.async_add_telemetry_listener(lambda values: readings.append(dict(values)))
    now = time.time()
    await send_sealed(
        hass,
        device_keys,
        Channel.TELEMETRY,
        {"seq": 1, "ts": now, "values": {"fan_running": True}},
    )
    assert calls == ["fan_running"]
    assert readings == [{"fan_running": True}]
    assert hass.states.get("binary_sensor.fumehood_1_fan_running").state == STATE_ON
    await send_sealed(
        hass,
        device_keys,
        Channel.TELEMETRY,
        {"seq": 2, "ts": now + 1, "values": {"face_velocity": 0.3}},
    )
    assert calls == ["fan_running", "face_velocity"]
    assert hass.states.get(FACE_VELOCITY).state == "0.3"
    # A change of the device itself still reaches every entity.
    async_fire_mqtt_message(hass, f"{BASE}/status", "offline")
    await hass.async_block_till_done()
    assert calls[-1] == "device"
    assert hass.states.get(FACE_VELOCITY).state == STATE_UNAVAILABLE


async def test_subscriptions_without_puback_where_the_hub_acknowledges(
    hass: HomeAssistant, init_integration: MockConfigEntry, mqtt_mock: MqttMockHAClient
) -> None:
    """Telemetry and access requests come at QoS 0, the rest at QoS 1.

    Telemetry records get the hub's own signed acks (the agent resends the rest) and
    access requests are answered at once or never; a PUBACK per message would only
    make the next access reply wait for the broker's delayed ACK (Nagle).
    """
    subscribed = {
        call.args[0]: call.args[2] for call in mqtt_mock.async_subscribe.call_args_list
    }
    assert {
        channel: subscribed[f"{BASE}/{channel.value}"]
        for channel in (
            Channel.TELEMETRY,
            Channel.ACCESS_REQUEST,
            Channel.BACKLOG,
            Channel.COMMAND_RESULT,
            Channel.ANNOUNCE,
            Channel.STATUS,
        )
    } == {
        Channel.TELEMETRY: 0,
        Channel.ACCESS_REQUEST: 0,
        Channel.BACKLOG: 1,
        Channel.COMMAND_RESULT: 1,
        Channel.ANNOUNCE: 1,
        Channel.STATUS: 1,
    }


async def test_acks_are_batched_and_signed(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
    device_keys: KeyPair,
    mqtt_mock: MqttMockHAClient,
    freezer: FrozenDateTimeFactory,
) -> None:
    await bring_online(hass, announce)
    now = time.time()
    for seq in (7, 8, 9):
        await send_sealed(
            hass,
            device_keys,
            Channel.TELEMETRY,
            {"seq": seq, "ts": now, "values": {"face_velocity": 0.1 * seq}},
        )
    assert await published_acks(hass, mqtt_mock, device_keys) == []
    # Live telemetry alone: acked over LIVE_ACK_INTERVAL, not every ack interval.
    freezer.tick(timedelta(seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert await published_acks(hass, mqtt_mock, device_keys) == []
    freezer.tick(timedelta(seconds=LIVE_ACK_INTERVAL - 1 + 0.1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert await published_acks(hass, mqtt_mock, device_keys) == [7, 8, 9]

    # A stored backlog batch is acked as soon as it is committed, on no timer (the
    # device's replay window waits on it); the live record beside it still waits.
    mqtt_mock.async_publish.reset_mock()
    await send_sealed(
        hass,
        device_keys,
        Channel.TELEMETRY,
        {"seq": 10, "ts": now, "values": {"face_velocity": 1.0}},
    )
    record = {"seq": 5, "ts": now - 60, "kind": "telemetry", "buffered": True}
    await send_sealed(
        hass,
        device_keys,
        Channel.BACKLOG,
        {"records": [{**record, "values": {"face_velocity": 0.2}}]},
    )
    await hass.async_block_till_done()
    assert await published_acks(hass, mqtt_mock, device_keys) == [5]
    mqtt_mock.async_publish.reset_mock()
    freezer.tick(timedelta(seconds=LIVE_ACK_INTERVAL + 0.1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert await published_acks(hass, mqtt_mock, device_keys) == [10]


@pytest.mark.parametrize(
    "payload",
    [
        "not json",
        json.dumps([1, 2]),
        json.dumps({"v": 1, "ts": 1, "nonce": "x", "body": {}, "sig": "y"}),
    ],
)
async def test_malformed_payloads_are_counted_not_raised(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
    payload: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await bring_online(hass, announce)
    for channel in ("telemetry", "backlog", "access/request", "command/result"):
        async_fire_mqtt_message(hass, f"{BASE}/{channel}", payload)
    async_fire_mqtt_message(hass, f"{BASE}/announce", payload)
    await hass.async_block_till_done()
    counters = init_integration.runtime_data.counters
    for key in ("telemetry", "backlog", "access_request", "command_result", "announce"):
        assert counters[f"{key}_malformed"] == 1, key
    assert "Ignoring malformed telemetry message from hood-1" in caplog.text


async def test_forged_and_invalid_bodies_are_rejected(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
    device_keys: KeyPair,
) -> None:
    await bring_online(hass, announce)
    forger = KeyPair.generate()
    hub = await async_get_hub_keys(hass)
    topic = f"{BASE}/telemetry"
    forged = seal(
        forger.derive(hub.public_b64),
        topic,
        {"seq": 1, "ts": time.time(), "values": {"face_velocity": 9.0}},
    )
    async_fire_mqtt_message(hass, topic, json.dumps(forged))
    # Genuine but invalid body, and a replay of a genuine message.
    await send_sealed(
        hass, device_keys, Channel.TELEMETRY, {"seq": -1, "ts": 0, "values": {}}
    )
    genuine = seal(
        device_keys.derive(hub.public_b64),
        topic,
        {"seq": 2, "ts": time.time(), "values": {"face_velocity": 0.3}},
    )
    async_fire_mqtt_message(hass, topic, json.dumps(genuine))
    async_fire_mqtt_message(hass, topic, json.dumps(genuine))
    await hass.async_block_till_done()
    counters = init_integration.runtime_data.counters
    assert counters["telemetry_rejected"] == 2  # forged + replayed
    assert counters["telemetry_malformed"] == 1
    assert hass.states.get(FACE_VELOCITY).state == "0.3"


async def test_backlog_in_the_agents_layout_is_verified_over_its_bytes(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
    device_keys: KeyPair,
    mqtt_mock: MqttMockHAClient,
) -> None:
    """seal_payload's layout: forged, changed and replayed batches are refused."""
    await bring_online(hass, announce)
    hub = await async_get_hub_keys(hass)
    keys = device_keys.derive(hub.public_b64)
    topic = f"{BASE}/backlog"
    now = time.time()

    def batch(seq: int, value: Any = 0.5) -> dict[str, Any]:
        record = {"seq": seq, "ts": now - 60, "kind": "telemetry"}
        return {"records": [{**record, "values": {"face_velocity": value}}]}

    forger = KeyPair.generate().derive(hub.public_b64)
    async_fire_mqtt_message(hass, topic, seal_payload(forger, topic, batch(1)))
    genuine = seal_payload(keys, topic, batch(2))
    changed = genuine.replace(b'"seq":2', b'"seq":3')
    async_fire_mqtt_message(hass, topic, changed)
    async_fire_mqtt_message(hass, topic, genuine)
    async_fire_mqtt_message(hass, topic, genuine)  # a replay
    # Signed, but no float holds the value, and a string UTF-8 cannot hold: counted.
    async_fire_mqtt_message(hass, topic, seal_payload(keys, topic, batch(4, 10**400)))
    envelope = seal(keys, topic, batch(5))
    envelope["body"]["records"][0]["values"]["face_velocity"] = "\ud800"
    async_fire_mqtt_message(hass, topic, json.dumps(envelope))
    await hass.async_block_till_done()
    counters = init_integration.runtime_data.counters
    assert counters["backlog_rejected"] == 3  # forged, changed, replayed
    assert counters["backlog_malformed"] == 2
    assert await published_acks(hass, mqtt_mock, device_keys) == [2]


async def test_offline_makes_entities_unavailable_and_recovers(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
    device_keys: KeyPair,
) -> None:
    events = async_capture_events(hass, EVENT_DEVICE)
    await bring_online(hass, announce)
    await send_sealed(
        hass,
        device_keys,
        Channel.TELEMETRY,
        {"seq": 1, "ts": time.time(), "values": {"face_velocity": 0.5}},
    )
    async_fire_mqtt_message(hass, f"{BASE}/status", "offline")
    await hass.async_block_till_done()
    assert hass.states.get(CONNECTIVITY).state == STATE_OFF
    for entity_id in (
        FACE_VELOCITY,
        "binary_sensor.fumehood_1_in_use",
        "sensor.fumehood_1_usage_hours",
        "switch.fumehood_1_blocked",
        "update.fumehood_1_firmware",
        "event.fumehood_1_access",
    ):
        assert hass.states.get(entity_id).state == STATE_UNAVAILABLE, entity_id
    async_fire_mqtt_message(hass, f"{BASE}/status", "online")
    await hass.async_block_till_done()
    assert hass.states.get(FACE_VELOCITY).state == "0.5"
    assert hass.states.get("binary_sensor.fumehood_1_in_use").state == STATE_OFF
    assert [e.data["type"] for e in events] == ["offline", "online"]


async def test_channels_appear_and_stale_ones_are_removed(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
    entity_registry: er.EntityRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await bring_online(hass, announce)
    announce["capabilities"]["channels"].append(
        {
            "key": "sash_height",
            "name": "Sash",
            "type": "int",
            "unit": "%",
            "state_class": "measurement",
        }
    )
    await bring_online(hass, announce)
    sash = "sensor.fumehood_1_sash_height"
    assert hass.states.get(sash) is not None
    # The device stops announcing face velocity: unavailable, then removed.
    announce["capabilities"]["channels"].pop(0)
    await bring_online(hass, announce)
    assert hass.states.get(FACE_VELOCITY).state == STATE_UNAVAILABLE
    assert entity_registry.async_get(FACE_VELOCITY) is not None
    freezer.tick(timedelta(hours=23))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert entity_registry.async_get(FACE_VELOCITY) is not None
    freezer.tick(timedelta(hours=2))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert entity_registry.async_get(FACE_VELOCITY) is None
    assert hass.states.get(FACE_VELOCITY) is None
    assert entity_registry.async_get(sash) is not None


async def test_changed_key_is_not_trusted(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    announce: dict[str, Any],
    device_keys: KeyPair,
) -> None:
    events = async_capture_events(hass, EVENT_DEVICE)
    impostor = KeyPair.generate()
    announce["key"] = impostor.public_b64
    await bring_online(hass, announce)
    runtime = init_integration.runtime_data
    assert runtime.keys is None
    assert init_integration.data[CONF_PENDING_KEY] == impostor.public_b64
    assert init_integration.data[CONF_DEVICE_KEY] == device_keys.public_b64
    # The admin is told through a repair issue.
    issue = ir.async_get(hass).async_get_issue(DOMAIN, key_issue_id(init_integration))
    assert issue is not None
    assert [e.data["type"] for e in events] == ["key_changed"]
    # Nothing the device sends is trusted now, whoever signed it.
    await send_sealed(
        hass,
        device_keys,
        Channel.TELEMETRY,
        {"seq": 1, "ts": time.time(), "values": {"face_velocity": 0.5}},
    )
    assert runtime.counters["telemetry_rejected"] == 1
    with pytest.raises(HomeAssistantError, match="not paired"):
        await runtime.async_send(Channel.COMMAND, {"id": "x", "command": "reboot"})


async def test_device_added_by_id_stays_untrusted(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    mock_config_entry: MockConfigEntry,
    announce: dict[str, Any],
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="hood-1",
        unique_id=DEVICE_ID,
        data={**mock_config_entry.data, CONF_DEVICE_KEY: None},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    events = async_capture_events(hass, EVENT_DEVICE)
    await bring_online(hass, announce)
    assert entry.runtime_data.keys is None
    assert entry.data[CONF_PENDING_KEY] == announce["key"]
    assert events == []  # no key to change: only the repair asks the admin


@pytest.mark.parametrize(
    "raw",
    [
        b'{"seq":18446744073709551615,"n":[1,-2,3.5]}',
        b'{"seq":18446744073709551616}',  # 2**64: orjson would read a float
        b'{"v":-123456789012345678901234567890}',
        b'{"v":1.2345678901234567e+25,"s":"012345678901234567890123"}',
        b'{"a":1,"a":2,"b":{"c":[true,false,null]},"d":"\\u00e9\\n"}',
    ],
)
def test_a_verified_body_parses_as_the_standard_library_would(raw: bytes) -> None:
    parsed = _loads_body(raw)
    assert parsed == json.loads(raw)
    assert repr(parsed) == repr(json.loads(raw))  # ints stay ints
