"""Fab-O-Matic boards through the access engine, with the boards' exact messages.

Payload builders copy the firmware's string building (src/MQTTtypes.cpp, including
its odd spaces) and its replay marking (include/BufferedMsg.hpp, BufferedQuery).
"""

from __future__ import annotations

from datetime import timedelta
import json
import time
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_MQTT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.service_info.mqtt import MqttServiceInfo
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_mqtt_message,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.fluxilab.access.engine import ACCESS_ENGINE, AccessEngine
from custom_components.fluxilab.const import (
    CONF_BASE_TOPIC,
    CONF_DEVICE_ID,
    CONF_DEVICE_KEY,
    CONF_FABOMATIC_MACHINE,
    CONF_FINGERPRINT,
    CONF_MACHINE_TYPE,
    DOMAIN,
    EVENT_ACCESS,
)
from custom_components.fluxilab.device.fabomatic import (
    DEFAULT_ALIVE_TIMEOUT,
    FABOMATIC_BOARDS,
)
from custom_components.fluxilab.device.runtime import FluxiLabDevice
from custom_components.fluxilab.protocol.fabomatic import BackendRequestType

MACHINE = 7
TOPIC = f"machine/{MACHINE}"
REPLY = f"machine/{MACHINE}/reply"
BOARD_ID = f"fabomatic-{MACHINE}"
CARD = "0a1b2c3d"
STAFF_CARD = "11223344"
ADMIN_CARD = "deadbeef"
STRANGER = "00c0ffee"


def checkuser(uid: str) -> str:
    """UserQuery::payload."""
    return '{"action":"checkuser","uid":"' + uid + '"}'


def checkmachine() -> str:
    """MachineQuery::payload."""
    return '{"action":"checkmachine"}'


def alive() -> str:
    """AliveQuery::payload (heap is a string there)."""
    return (
        '{"action":"alive","version":"1.0.3,v1.0.3-2-g1a2b3c4","ip":"192.168.1.57",'
        '"serial":"A0B1C2D3E4F5","heap":"143220"}'
    )


def startuse(uid: str) -> str:
    """StartUseQuery::payload."""
    return '{"action":"startuse", "uid":"' + uid + '"}'


def inuse(uid: str, duration: int) -> str:
    """InUseQuery::payload."""
    return '{"action":"inuse", "uid":"' + uid + '","duration":' + str(duration) + "}"


def stopuse(uid: str, duration: int) -> str:
    """StopUseQuery::payload."""
    return '{"action":"stopuse", "uid":"' + uid + '","duration":' + str(duration) + "}"


def maintenance(uid: str) -> str:
    """RegisterMaintenanceQuery::payload."""
    return '{"action":"maintenance", "uid":"' + uid + '"}'


def replayed(payload: str) -> str:
    """BufferedQuery::payload: a buffered message as the board re-sends it."""
    if payload.find("}") == len(payload) - 1 and "replay" not in payload:
        return payload[:-1] + ', "replay":true}'
    return payload


def replies(mqtt_mock: MqttMockHAClient, topic: str = REPLY) -> list[dict[str, Any]]:
    """Every reply the hub published to the board, parsed."""
    return [
        json.loads(call.args[1])
        for call in mqtt_mock.async_publish.call_args_list
        if call.args[0] == topic
    ]


async def send(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, payload: str
) -> dict[str, Any] | None:
    """Publish a board query; return the reply it got (None if none)."""
    before = len(replies(mqtt_mock))
    async_fire_mqtt_message(hass, TOPIC, payload)
    await hass.async_block_till_done()
    got = replies(mqtt_mock)
    assert len(got) - before <= 1
    return got[-1] if len(got) > before else None


@pytest.fixture
async def engine(hass: HomeAssistant, mqtt_mock: MqttMockHAClient) -> AccessEngine:
    """The engine with a laser cutter type and three members."""
    assert await async_setup_component(hass, DOMAIN, {})
    access: AccessEngine = hass.data[ACCESS_ENGINE]
    laser = await access.machine_types.async_create_item(
        {
            "name": "Laser",
            "session_timeout": 3600,
            "grace_period": 90,
            "maintenance_interval": 1,
            "block_when_maintenance_due": True,
            "maintenance_message": "Clean the lens",
        }
    )
    assert laser["id"] == "laser"
    user = await access.members.async_create_item(
        {"name": "Ada", "cards": [CARD], "role": "user"}
    )
    await access.authorizations.async_create_item(
        {"member_id": user["id"], "machine_type_id": "laser"}
    )
    await access.members.async_create_item(
        {"name": "Grace", "cards": [STAFF_CARD], "role": "staff"}
    )
    await access.members.async_create_item(
        {"name": "Linus", "cards": [ADMIN_CARD], "role": "admin"}
    )
    return access


@pytest.fixture
async def board(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, engine: AccessEngine
) -> FluxiLabDevice:
    """An adopted board on machine/7, assigned to the laser type, online."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Laser cutter",
        unique_id=BOARD_ID,
        data={
            CONF_DEVICE_ID: BOARD_ID,
            CONF_BASE_TOPIC: "fluxilab",
            CONF_DEVICE_KEY: None,
            CONF_FINGERPRINT: None,
            CONF_FABOMATIC_MACHINE: MACHINE,
        },
        options={CONF_MACHINE_TYPE: "laser"},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert await send(hass, mqtt_mock, alive()) is None  # alive wants no reply
    device: FluxiLabDevice = entry.runtime_data
    return device


async def test_discovery_from_alive(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient
) -> None:
    """A board's alive message offers it for adoption, with the unsigned warning."""
    info = MqttServiceInfo(
        topic=TOPIC,
        payload=alive(),
        qos=0,
        retain=False,
        subscribed_topic="machine/+",
        timestamp=time.time(),
    )
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_MQTT}, data=info
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "fabomatic_confirm"
    assert result["description_placeholders"] == {
        "name": "Fab-O-Matic 7",
        "machine_id": "7",
        "version": "1.0.3,v1.0.3-2-g1a2b3c4",
    }
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == BOARD_ID
    assert result["data"][CONF_FABOMATIC_MACHINE] == MACHINE
    assert result["data"][CONF_DEVICE_KEY] is None
    await hass.async_block_till_done()

    # The board's next alive (another payload) does not offer it again.
    again = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_MQTT},
        data=MqttServiceInfo(
            topic=TOPIC,
            payload=alive().replace("143220", "140000"),
            qos=0,
            retain=False,
            subscribed_topic="machine/+",
            timestamp=time.time(),
        ),
    )
    assert again["type"] is FlowResultType.ABORT
    assert again["reason"] == "already_configured"


@pytest.mark.parametrize(
    ("topic", "payload"),
    [
        (TOPIC, checkuser(CARD)),  # a query, not an alive message
        (TOPIC, "{not json"),
        (TOPIC, '{"action":"alive"}'),  # no version
        ("machine/0", alive()),  # 0 is the firmware's "not configured"
    ],
)
async def test_discovery_ignores_other_messages(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, topic: str, payload: str
) -> None:
    """Only a valid alive message of a configured machine id starts adoption."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_MQTT},
        data=MqttServiceInfo(
            topic=topic,
            payload=payload,
            qos=0,
            retain=False,
            subscribed_topic="machine/+",
            timestamp=time.time(),
        ),
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "invalid_discovery_info"


async def test_alive_registers_board(
    hass: HomeAssistant, board: FluxiLabDevice
) -> None:
    """Alive brings the board online and fills its registry entry."""
    assert board.online
    entry = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, BOARD_ID), board.entry.entry_id
    )
    assert entry is not None
    assert entry.sw_version == "1.0.3,v1.0.3-2-g1a2b3c4"
    assert entry.serial_number == "A0B1C2D3E4F5"
    info = hass.data[FABOMATIC_BOARDS][BOARD_ID].info
    assert info is not None
    assert info.as_wire() == {
        "version": "1.0.3,v1.0.3-2-g1a2b3c4",
        "ip": "192.168.1.57",
        "serial": "A0B1C2D3E4F5",
        "heap": 143220,
    }


async def test_checkmachine(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, board: FluxiLabDevice
) -> None:
    """The machine status comes in the firmware's units: minutes, flags."""
    assert await send(hass, mqtt_mock, checkmachine()) == {
        "request_ok": True,
        "is_valid": True,
        "maintenance": False,
        "allowed": True,
        "logoff": 60,
        "name": "Laser cutter",
        "type": 5,
        "grace": 2,
        "description": "",
    }
    await board.async_set_blocked(True)
    reply = await send(hass, mqtt_mock, checkmachine())
    assert reply is not None
    assert reply["allowed"] is False


@pytest.mark.parametrize(
    ("flags", "level"),
    [
        ({"maintenance": True}, 2),  # FabStaff: the board offers maintenance
        ({"maintenance": True, "supervisor": True}, 2),
        ({"manage": True}, 3),
        ({"authorize_all": True}, 1),
        ({"supervisor": True, "book_for_others": True}, 1),
    ],
)
async def test_board_level_follows_the_role_flags(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    engine: AccessEngine,
    board: FluxiLabDevice,
    flags: dict[str, bool],
    level: int,
) -> None:
    """A lab role's level at the board is its flags', whatever its name."""
    role = await engine.roles.async_create_item({"name": "Technician", **flags})
    member = await engine.members.async_create_item(
        {"name": "Tess", "cards": ["0a0b0c0d"], "role": role["id"]}
    )
    await engine.authorizations.async_create_item(
        {"member_id": member["id"], "machine_type_id": "laser"}
    )
    reply = await send(hass, mqtt_mock, checkuser("0a0b0c0d"))
    assert reply is not None
    assert (reply["is_valid"], reply["level"]) == (True, level), reply


async def test_checkuser(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    engine: AccessEngine,
    board: FluxiLabDevice,
) -> None:
    """Every answer is the engine's decision, with its reason, in board terms."""
    events = async_capture_events(hass, EVENT_ACCESS)
    assert await send(hass, mqtt_mock, checkuser(CARD)) == {
        "request_ok": True,
        "is_valid": True,
        "name": "Ada",
        "level": 1,
        "missing_auth": False,
        "reason": "granted",
    }
    assert events[-1].data["type"] == "granted"
    assert events[-1].data["fluxilab_device"] == BOARD_ID

    staff = await send(hass, mqtt_mock, checkuser(STAFF_CARD))
    assert staff is not None
    assert (staff["is_valid"], staff["level"], staff["reason"]) == (
        False,
        0,
        "not_authorized",
    )
    assert staff["missing_auth"] is True

    admin = await send(hass, mqtt_mock, checkuser(ADMIN_CARD))
    assert admin is not None
    assert (admin["is_valid"], admin["level"]) == (True, 3)

    unknown = await send(hass, mqtt_mock, checkuser(STRANGER))
    assert unknown is not None
    assert (unknown["is_valid"], unknown["level"], unknown["reason"]) == (
        False,
        0,
        "unknown_card",
    )
    assert unknown["missing_auth"] is False
    last = engine.history.last_unknown_card(BOARD_ID)
    assert last is not None
    assert last.card == STRANGER
    assert events[-1].data["card"] == engine.privacy.card(STRANGER)

    await board.async_set_blocked(True)
    blocked = await send(hass, mqtt_mock, checkuser(CARD))
    assert blocked is not None
    assert (blocked["is_valid"], blocked["reason"]) == (False, "blocked")


async def test_session_live(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    engine: AccessEngine,
    board: FluxiLabDevice,
) -> None:
    """checkuser, startuse, inuse, stopuse: one session, one grant, hours booked."""
    events = async_capture_events(hass, EVENT_ACCESS)
    await send(hass, mqtt_mock, checkuser(CARD))
    assert await send(hass, mqtt_mock, startuse(CARD)) == {
        "request_ok": True,
        "message": "",
    }
    assert board.in_use
    assert board.member_name == "Ada"
    reply = await send(hass, mqtt_mock, inuse(CARD, 120))
    assert reply == {"request_ok": True, "message": "inUse"}
    [session] = engine.history.open_sessions(BOARD_ID)
    assert session.duration == 120
    assert session.card == CARD
    reply = await send(hass, mqtt_mock, stopuse(CARD, 1800))
    assert reply == {"request_ok": True, "message": "Duration 1800 seconds"}
    assert engine.history.open_sessions(BOARD_ID) == []
    assert session.duration == 1800
    assert session.closed_by == "device"
    assert not board.in_use
    assert board.usage_hours == 0.5
    assert [e.data["type"] for e in events] == [
        "granted",
        "session_started",
        "session_ended",
    ]


async def test_a_card_and_pin_type_refuses_boards(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    engine: AccessEngine,
    board: FluxiLabDevice,
) -> None:
    """A board cannot give a PIN: on a require_pin type it is refused, briefly."""
    await engine.machine_types.async_update_item("laser", {"require_pin": True})
    refused = await send(hass, mqtt_mock, checkuser(CARD))
    assert refused is not None
    assert (refused["is_valid"], refused["reason"]) == (False, "pin_required")
    reply = await send(hass, mqtt_mock, startuse(CARD))
    assert reply == {"request_ok": False, "message": "Card + PIN only"}
    assert len(reply["message"]) <= 16  # the board's LCD line
    assert not board.in_use
    assert engine.history.open_sessions(BOARD_ID) == []
    # Stopping needs no PIN: a session the board had open before still ends.
    await engine.machine_types.async_update_item("laser", {"require_pin": False})
    await send(hass, mqtt_mock, checkuser(CARD))
    await send(hass, mqtt_mock, startuse(CARD))
    await engine.machine_types.async_update_item("laser", {"require_pin": True})
    reply = await send(hass, mqtt_mock, stopuse(CARD, 600))
    assert reply == {"request_ok": True, "message": "Duration 600 seconds"}
    assert engine.history.open_sessions(BOARD_ID) == []


async def test_session_replayed(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    engine: AccessEngine,
    board: FluxiLabDevice,
) -> None:
    """A buffer replayed after an outage books one session, once, as buffered."""
    events = async_capture_events(hass, EVENT_ACCESS)
    assert replayed(startuse(CARD)) == (
        '{"action":"startuse", "uid":"0a1b2c3d", "replay":true}'
    )
    for payload in (replayed(startuse(CARD)), replayed(stopuse(CARD, 900))):
        reply = await send(hass, mqtt_mock, payload)
        assert reply is not None
        assert reply["request_ok"] is True
    sessions = [s for s in engine.history.data["sessions"] if s.device_id == BOARD_ID]
    assert len(sessions) == 1
    assert sessions[0].buffered is True
    assert sessions[0].duration == 900
    assert [e.data["type"] for e in events] == [
        "offline_granted",
        "session_started",
        "session_ended",
    ]
    assert all(e.data["buffered"] for e in events)

    # The board re-sends a stop whose reply it missed: merged, not a new session.
    await send(hass, mqtt_mock, replayed(stopuse(CARD, 900)))
    await send(hass, mqtt_mock, stopuse(CARD, 900))
    assert (
        len([s for s in engine.history.data["sessions"] if s.device_id == BOARD_ID])
        == 1
    )
    assert board.usage_hours == 0.25


async def test_stop_without_start(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    engine: AccessEngine,
    board: FluxiLabDevice,
) -> None:
    """Only the replayed stop reached the hub: the session is built from it."""
    await send(hass, mqtt_mock, replayed(stopuse(CARD, 600)))
    [session] = [s for s in engine.history.data["sessions"] if s.device_id == BOARD_ID]
    assert session.duration == 600
    assert session.member_name == "Ada"
    assert session.end - session.start == 600


async def test_inuse_without_start(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    engine: AccessEngine,
    board: FluxiLabDevice,
) -> None:
    """A board that started while the hub was away: its inuse opens the session."""
    reply = await send(hass, mqtt_mock, inuse(CARD, 300))
    assert reply == {"request_ok": True, "message": "inUse"}
    [session] = engine.history.open_sessions(BOARD_ID)
    assert session.duration == 300
    assert time.time() - session.start == pytest.approx(300, abs=5)
    assert await send(hass, mqtt_mock, inuse(STRANGER, 10)) == {
        "request_ok": False,
        "message": "Invalid card",
    }
    # A new user's start closes what the single-user board left open.
    await send(hass, mqtt_mock, startuse(ADMIN_CARD))
    [current] = engine.history.open_sessions(BOARD_ID)
    assert current.card == ADMIN_CARD
    assert session.end is not None


async def test_maintenance(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    engine: AccessEngine,
    board: FluxiLabDevice,
) -> None:
    """Due maintenance blocks users; staff register it from the board, live or replayed."""
    await send(hass, mqtt_mock, checkuser(CARD))
    await send(hass, mqtt_mock, startuse(CARD))
    await send(hass, mqtt_mock, stopuse(CARD, 3600))  # the 1 h interval is used up
    assert board.maintenance_due
    status = await send(hass, mqtt_mock, checkmachine())
    assert status is not None
    assert (status["maintenance"], status["description"]) == (True, "Clean the lens")
    # Without a short message the LCD line is the plan's description, cut to fit
    # (Fab-O-Matic's backend sends its maintenance's description there).
    await engine.machine_types.async_update_item(
        "laser",
        {
            "maintenance_message": None,
            "maintenance_description": "Clean the lens and the mirrors, check the belt",
        },
    )
    status = await send(hass, mqtt_mock, checkmachine())
    assert status is not None
    assert status["description"] == "Clean the lens and the mirrors,…"
    denied = await send(hass, mqtt_mock, checkuser(CARD))
    assert denied is not None
    assert (denied["is_valid"], denied["reason"]) == (False, "maintenance_due")

    assert await send(hass, mqtt_mock, maintenance(CARD)) == {
        "request_ok": False,
        "message": "Not authorized",
    }
    assert await send(hass, mqtt_mock, maintenance(STRANGER)) == {
        "request_ok": False,
        "message": "Wrong user card",
    }
    events = async_capture_events(hass, EVENT_ACCESS)
    assert await send(hass, mqtt_mock, replayed(maintenance(STAFF_CARD))) == {
        "request_ok": True,
        "message": "",
    }
    assert not board.maintenance_due
    assert engine.history.usage(BOARD_ID)["since_maintenance"] == 0
    assert events[-1].data["type"] == "maintenance_recorded"
    assert events[-1].data["member_id"] == "grace"
    # Kept by the board while the hub was away: marked so in the maintenance log.
    assert events[-1].data["buffered"] is True
    (recorded,) = [
        a
        for a in engine.history.data["audit"]
        if a.kind == "maintenance" and a.device_id == BOARD_ID
    ]
    assert recorded.buffered is True


@pytest.mark.parametrize(
    ("payload", "reply", "kind"),
    [
        ("{not json", None, "malformed"),
        ('["checkuser"]', None, "malformed"),
        ('{"action":"synccache"}', None, "malformed"),
        ('{"action":"checkuser"}', "malformed", "malformed"),
        ('{"action":"checkuser","uid":"not-hex!"}', "malformed", "malformed"),
        (
            '{"action":"stopuse", "uid":"0a1b2c3d","duration":"x"}',
            "malformed",
            "malformed",
        ),
        ('{"action":"alive","ip":"1.2.3.4"}', None, "malformed"),
        ("{" + '"x":"' + "a" * 2000 + '"}', None, "malformed"),
    ],
)
async def test_malformed(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    board: FluxiLabDevice,
    payload: str,
    reply: str | None,
    kind: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Bad queries are counted and logged; a waiting board gets request_ok false."""
    got = await send(hass, mqtt_mock, payload)
    if reply is None:
        assert got is None
    else:
        assert got == {"request_ok": False, "message": reply}
    assert board.counters[f"fabomatic_{kind}"] == 1
    assert "Fab-O-Matic board 7" in caplog.text
    # The board keeps working afterwards.
    assert await send(hass, mqtt_mock, checkmachine()) is not None


async def test_engine_failure_is_answered(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    engine: AccessEngine,
    board: FluxiLabDevice,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An exception in the engine is logged and answered, never raised."""

    async def broken(*_args: Any) -> dict[str, Any]:
        raise RuntimeError("boom")

    monkeypatch.setattr(engine, "async_decide", broken)
    assert await send(hass, mqtt_mock, checkuser(CARD)) == {
        "request_ok": False,
        "message": "error",
    }
    assert board.counters["fabomatic_failed"] == 1


async def test_offline_after_silence(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    board: FluxiLabDevice,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Boards have no last will: silence past the timeout means offline."""
    freezer.tick(timedelta(seconds=DEFAULT_ALIVE_TIMEOUT - 10))
    async_fire_time_changed(hass)
    await send(hass, mqtt_mock, checkmachine())
    freezer.tick(timedelta(seconds=DEFAULT_ALIVE_TIMEOUT - 10))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert board.online
    freezer.tick(timedelta(seconds=20))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert not board.online
    await send(hass, mqtt_mock, alive())
    assert board.online


async def test_queries_keep_one_offline_timer(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    board: FluxiLabDevice,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A query does not cancel and re-make the board's offline timer (the reply's
    path): the timer fires when the first message's timeout is up and waits for
    what is left of the last one's."""
    running = hass.data[FABOMATIC_BOARDS][BOARD_ID]
    # The fixture's timer was armed before the clock was frozen: it fires on the
    # first turn and waits again for what is left. From then on it stays.
    await send(hass, mqtt_mock, checkmachine())
    timer = running._offline_timer
    assert timer is not None
    for _ in range(3):
        freezer.tick(timedelta(seconds=60))
        await send(hass, mqtt_mock, checkmachine())
        assert running._offline_timer is timer
    freezer.tick(timedelta(seconds=DEFAULT_ALIVE_TIMEOUT - 180))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert board.online  # 120 s since the last query
    assert running._offline_timer is not timer
    freezer.tick(timedelta(seconds=180))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert not board.online


async def test_backend_request(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, board: FluxiLabDevice
) -> None:
    """Start and stop requests go to machine/<id>/request in the board's format."""
    running = hass.data[FABOMATIC_BOARDS][BOARD_ID]
    await running.async_request(BackendRequestType.START, "0A1B2C3D")
    await running.async_request(BackendRequestType.STOP, CARD)
    assert replies(mqtt_mock, f"machine/{MACHINE}/request") == [
        {"request_type": "start", "uid": CARD},
        {"request_type": "stop", "uid": CARD},
    ]


async def test_board_subscribes_only_to_its_own_topic(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, board: FluxiLabDevice
) -> None:
    """A board entry follows machine/+ (one subscription for every board, as HA's
    discovery has it: a broker sends one copy per matching subscription), none of
    a FluxiLab device's topics, and not machine/<id> beside it."""
    subscribed = {call.args[0] for call in mqtt_mock.async_subscribe.call_args_list}
    assert "machine/+" in subscribed
    assert TOPIC not in subscribed
    assert [t for t in subscribed if t.startswith(f"fluxilab/{BOARD_ID}/")] == []
    qos = {
        call.args[2]
        for call in mqtt_mock.async_subscribe.call_args_list
        if call.args[0] == "machine/+"
    }
    assert qos == {0}, f"a PUBACK per query holds the reply back (Nagle): {qos}"


async def test_unload_stops_board(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, board: FluxiLabDevice
) -> None:
    """After unload the board's queries go unanswered."""
    assert await hass.config_entries.async_unload(board.entry.entry_id)
    await hass.async_block_till_done()
    assert BOARD_ID not in hass.data[FABOMATIC_BOARDS]
    assert await send(hass, mqtt_mock, checkmachine()) is None
