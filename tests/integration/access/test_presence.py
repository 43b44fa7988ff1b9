"""Issue 9 items 2, 3 and 6: supervisor present, instructor grant, live occupancy.

Two devices: the fumehood of the access fixtures (machine type ``fumehood``) and a
front door marked as the lab entrance in its options (machine type ``door``, which
needs no authorization). Swipes go through the engine as the MQTT handler passes
them; time moves with the freezer.
"""

from __future__ import annotations

from datetime import datetime, timedelta
import json
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ServiceValidationError, Unauthorized
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
    async_capture_events,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.fluxilab.access.const import CONF_ENTRANCE
from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.access.presence import TRAINING_WINDOW
from custom_components.fluxilab.const import (
    CONF_BASE_TOPIC,
    CONF_DEVICE_ID,
    CONF_DEVICE_KEY,
    CONF_FINGERPRINT,
    CONF_MACHINE_TYPE,
    DOMAIN,
    EVENT_ACCESS,
    EVENT_LAB,
)
from custom_components.fluxilab.device.runtime import FluxiLabDevice
from custom_components.fluxilab.logbook import describe_access, describe_presence

from .conftest import MACHINE_TYPE, answer_request

DOOR_ID = "door-1"
SENSOR = "sensor.front_door_people_in_the_lab"
ADA, BOB, SUE, TOM = "04AD0001", "04B00002", "04500003", "04700004"
TRANSLATIONS = Path(__file__).parents[3] / "custom_components/fluxilab/translations"


@pytest.fixture(autouse=True)
def safe_airflow(device: FluxiLabDevice) -> None:
    """Face velocity inside the fumehood type's limit."""
    device.values["face_velocity"] = 0.5


@pytest.fixture
async def door(
    hass: HomeAssistant, engine: AccessEngine, device_keys: Any
) -> FluxiLabDevice:
    """A second device, the lab entrance, of a type everyone may use."""
    await engine.machine_types.async_create_item(
        {"name": "Door", "requires_authorization": False}
    )
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Front door",
        unique_id=DOOR_ID,
        data={
            CONF_DEVICE_ID: DOOR_ID,
            CONF_BASE_TOPIC: "fluxilab",
            CONF_DEVICE_KEY: device_keys.public_b64,
            CONF_FINGERPRINT: "0000-0000-0001",
        },
        options={CONF_MACHINE_TYPE: "door", CONF_ENTRANCE: True},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    runtime: FluxiLabDevice = entry.runtime_data
    return runtime


async def member(
    engine: AccessEngine,
    name: str,
    card: str,
    *,
    authorized: bool = True,
    **fields: Any,
) -> dict[str, Any]:
    """Create a member holding ``card``, authorized for the fumehood type."""
    created: dict[str, Any] = await engine.members.async_create_item(
        {"name": name, "cards": [card], **fields}
    )
    if authorized:
        await engine.authorizations.async_create_item(
            {"member_id": created["id"], "machine_type_id": MACHINE_TYPE}
        )
    return created


async def swipe(
    engine: AccessEngine,
    device: FluxiLabDevice,
    card: str,
    action: str = "check",
) -> dict[str, Any]:
    """Swipe a card at a device; return the hub's reply."""
    return await answer_request(
        engine, device, {"id": f"r-{card}", "action": action, "card": card}
    )


def tick(hass: HomeAssistant, freezer: FrozenDateTimeFactory, **delta: float) -> None:
    """Move time on and let timers due by then run."""
    freezer.tick(timedelta(**delta))
    async_fire_time_changed(hass)


def shown(hass: HomeAssistant) -> str:
    """Return the state of the entrance's occupancy sensor."""
    state = hass.states.get(SENSOR)
    assert state is not None
    return state.state


def session(engine: AccessEngine, session_id: str) -> dict[str, Any]:
    """Return a recorded session."""
    found = engine.history.session(session_id)
    assert found is not None
    return found.as_dict()


def translated(key: str) -> tuple[str, str]:
    """Return the English and Italian text of an exception translation key."""
    en = json.loads((TRANSLATIONS / "en.json").read_text())["exceptions"][key]
    it = json.loads((TRANSLATIONS / "it.json").read_text())["exceptions"][key]
    return en["message"], it["message"]


# 6 Occupancy ------------------------------------------------------------------------


async def test_entrance_swipe_checks_in_and_out(
    hass: HomeAssistant,
    engine: AccessEngine,
    door: FluxiLabDevice,
    hass_read_only_user: MockUser,
) -> None:
    """A granted swipe at the entrance toggles the check-in; the sensor follows."""
    events = async_capture_events(hass, EVENT_ACCESS)
    ada = await member(engine, "Ada", ADA, user_id=hass_read_only_user.id)
    assert shown(hass) == "0"
    reply = await swipe(engine, door, ADA)
    await hass.async_block_till_done()
    assert reply["granted"] is True
    checked_in = [e for e in events if e.data["type"] == "checked_in"]
    assert len(checked_in) == 1
    data = checked_in[0].data
    assert data["member_id"] == ada["id"]
    assert data["member_name"] is None  # names are off by default
    assert data["card"] == engine.privacy.card(ADA)
    assert data["fluxilab_device"] == DOOR_ID
    assert data["device_id"] is not None
    assert data["user_id"] == hass_read_only_user.id
    assert checked_in[0].context.user_id == hass_read_only_user.id
    assert describe_access(data) == "a member checked in to the lab"
    state = hass.states.get(SENSOR)
    assert state is not None
    assert state.state == "1"
    assert state.attributes["state_class"] == "measurement"
    assert state.attributes["unit_of_measurement"] == "people"
    assert "Ada" not in json.dumps(dict(state.attributes))  # names stay out
    assert engine.presence.checked_in(ada["id"], dt_util.utcnow().timestamp())

    await swipe(engine, door, ADA)
    await hass.async_block_till_done()
    out = [e for e in events if e.data["type"] == "checked_out"]
    assert len(out) == 1
    assert out[0].data["reason"] == "swipe"
    assert describe_access(out[0].data) == "a member checked out of the lab"
    assert shown(hass) == "0"


async def test_refused_swipe_at_entrance_checks_nobody_in(
    hass: HomeAssistant, engine: AccessEngine, door: FluxiLabDevice
) -> None:
    """An inactive member is refused at the door and not counted."""
    await member(engine, "Ada", ADA, active=False)
    reply = await swipe(engine, door, ADA)
    await hass.async_block_till_done()
    assert reply["reason"] == "inactive"
    assert engine.presence.count() == 0
    assert shown(hass) == "0"


async def test_present_members_list_sessions_and_check_ins(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    door: FluxiLabDevice,
    hass_admin_user: MockUser,
    hass_read_only_user: MockUser,
) -> None:
    """The fire list: checked-in members and members with an open session."""
    ada = await member(engine, "Ada", ADA)
    bob = await member(engine, "Bob", BOB)
    # The door opens a session (its unlock period): not a place in the list.
    door_session = await swipe(engine, door, ADA, "session_start")
    await swipe(engine, device, ADA, "session_start")
    await swipe(engine, device, BOB, "session_start")
    await hass.async_block_till_done()
    assert shown(hass) == "2"
    result = await hass.services.async_call(
        DOMAIN,
        "occupancy",
        {},
        blocking=True,
        return_response=True,
        context=Context(user_id=hass_admin_user.id),
    )
    assert result["count"] == 2
    assert session(engine, door_session["session_id"])["end"] is None
    by_id = {m["member_id"]: m for m in result["members"]}
    assert by_id[ada["id"]]["where"] == ["entrance", "Fumehood 1"]
    assert by_id[ada["id"]]["checked_in"] is True
    assert by_id[ada["id"]]["card"] == "••••0001"
    assert by_id[bob["id"]]["where"] == ["Fumehood 1"]
    assert by_id[bob["id"]]["checked_in"] is False
    assert by_id[bob["id"]]["name"] == "Bob"
    assert datetime.fromisoformat(by_id[bob["id"]]["since"]) <= dt_util.utcnow()
    # Without a lab role, the count only (as fluxilab/occupancy/list answers).
    result = await hass.services.async_call(
        DOMAIN,
        "occupancy",
        {},
        blocking=True,
        return_response=True,
        context=Context(user_id=hass_read_only_user.id),
    )
    assert result == {"count": 2}
    # Automations call without a user: they get the list.
    result = await hass.services.async_call(
        DOMAIN, "occupancy", {}, blocking=True, return_response=True
    )
    assert result["count"] == 2


async def test_last_member_out_closes_open_sessions(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    door: FluxiLabDevice,
) -> None:
    """The last check-out closes sessions left open (lab_empty), and says so."""
    lab_events = async_capture_events(hass, EVENT_LAB)
    access = async_capture_events(hass, EVENT_ACCESS)
    ada = await member(engine, "Ada", ADA)
    await member(engine, "Bob", BOB)
    await swipe(engine, door, ADA)
    door_session = await swipe(engine, door, BOB, "session_start")
    reply = await swipe(engine, device, BOB, "session_start")
    await swipe(engine, door, BOB)  # Bob leaves, Ada is still in: nothing closes
    await hass.async_block_till_done()
    assert session(engine, reply["session_id"])["end"] is None
    assert not lab_events
    await swipe(engine, door, ADA)  # the last one out
    await hass.async_block_till_done()
    assert session(engine, reply["session_id"])["closed_by"] == "lab_empty"
    # The door's own session (its unlock period) ends by itself.
    assert session(engine, door_session["session_id"])["end"] is None
    ended = [e for e in access if e.data["type"] == "session_ended"]
    assert ended[-1].data["reason"] == "lab_empty"
    assert ended[-1].data["member_id"] == "bob"
    assert len(lab_events) == 1
    data = lab_events[0].data
    assert data["type"] == "lab_empty"
    assert data["member_id"] == ada["id"]
    assert data["closed_sessions"] == [reply["session_id"]]
    assert data["busy_devices"] == []
    assert describe_presence(data) == (
        "the lab is empty (a member left last): 1 open sessions closed"
    )
    assert shown(hass) == "0"


async def test_lab_empty_keeps_sessions_of_busy_machines(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    door: FluxiLabDevice,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A machine telemetry says is working keeps its session."""
    lab_events = async_capture_events(hass, EVENT_LAB)
    await member(engine, "Ada", ADA)
    await member(engine, "Bob", BOB)
    reply = await swipe(engine, device, BOB, "session_start")
    monkeypatch.setattr(
        engine.telemetry_rules, "is_busy", lambda device_id: device_id == "hood-1"
    )
    await swipe(engine, door, ADA)
    await swipe(engine, door, ADA)
    await hass.async_block_till_done()
    assert session(engine, reply["session_id"])["end"] is None
    assert lab_events[-1].data["busy_devices"] == ["hood-1"]
    assert lab_events[-1].data["closed_sessions"] == []


async def test_check_in_expires(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    door: FluxiLabDevice,
    freezer: FrozenDateTimeFactory,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """A forgotten check-out expires after the setting's hours; lab empty follows."""
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {"type": f"{DOMAIN}/occupancy/settings", "checkin_expiry_hours": 2}
    )
    assert (await client.receive_json())["result"] == {"checkin_expiry_hours": 2}
    access = async_capture_events(hass, EVENT_ACCESS)
    lab_events = async_capture_events(hass, EVENT_LAB)
    # Sessions outlive the check-in here (the device would send heartbeats).
    await engine.machine_types.async_update_item(
        MACHINE_TYPE, {"session_timeout": 4 * 3600}
    )
    await member(engine, "Ada", ADA)
    await swipe(engine, door, ADA)
    reply = await swipe(engine, device, ADA, "session_start")
    tick(hass, freezer, minutes=119)
    await hass.async_block_till_done()
    assert not [e for e in access if e.data["type"] == "checked_out"]
    tick(hass, freezer, minutes=2)
    await hass.async_block_till_done()
    out = [e for e in access if e.data["type"] == "checked_out"]
    assert len(out) == 1
    assert out[0].data["reason"] == "expired"
    assert describe_access(out[0].data) == (
        "a member checked out of the lab (check-in expired)"
    )
    assert [e.data["type"] for e in lab_events] == ["lab_empty"]
    assert session(engine, reply["session_id"])["closed_by"] == "lab_empty"
    assert shown(hass) == "0"


async def test_check_in_services(
    hass: HomeAssistant,
    engine: AccessEngine,
    hass_read_only_user: MockUser,
    hass_admin_user: MockUser,
) -> None:
    """Members check themselves in and out without a card; admins anyone."""
    lab_events = async_capture_events(hass, EVENT_LAB)
    own = await member(engine, "Ada", ADA, user_id=hass_read_only_user.id)
    other = await member(engine, "Bob", BOB)
    user = Context(user_id=hass_read_only_user.id)
    await hass.services.async_call(DOMAIN, "check_in", {}, blocking=True, context=user)
    assert engine.presence.count() == 1
    data = lab_events[-1].data
    assert data["type"] == "checked_in"
    assert data["member_id"] == own["id"]
    assert data["user_id"] == hass_read_only_user.id
    assert lab_events[-1].context.user_id == hass_read_only_user.id
    with pytest.raises(Unauthorized):
        await hass.services.async_call(
            DOMAIN, "check_in", {"member_id": other["id"]}, blocking=True, context=user
        )
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "check_in", {}, blocking=True, context=user
        )
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "already_checked_in"
    assert all(translated("already_checked_in"))
    admin = Context(user_id=hass_admin_user.id)
    await hass.services.async_call(
        DOMAIN, "check_in", {"member_id": other["id"]}, blocking=True, context=admin
    )
    assert engine.presence.count() == 2
    await hass.services.async_call(
        DOMAIN, "check_out", {"member_id": other["id"]}, blocking=True, context=admin
    )
    assert lab_events[-1].data["reason"] == "service"
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "check_out", {"member_id": other["id"]}, blocking=True
        )
    assert err.value.translation_key == "not_checked_in"
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "check_in", {}, blocking=True, context=admin
        )
    assert err.value.translation_key == "no_member_linked"
    await engine.members.async_update_item(other["id"], {"active": False})
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN, "check_in", {"member_id": other["id"]}, blocking=True
        )
    assert err.value.translation_key == "member_inactive"
    for key in ("not_checked_in", "no_member_linked", "member_inactive"):
        assert all(translated(key))
    await hass.services.async_call(DOMAIN, "check_out", {}, blocking=True, context=user)
    assert engine.presence.count() == 0
    assert lab_events[-1].data["type"] == "lab_empty"


async def test_occupancy_websocket_by_role(
    hass: HomeAssistant,
    engine: AccessEngine,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_user: MockUser,
    hass_read_only_access_token: str,
) -> None:
    """Admins and staff get names; a plain member gets the count only."""
    ada = await member(engine, "Ada", ADA, user_id=hass_read_only_user.id)
    engine.presence.async_check_in(
        engine.members.known(ada["id"]), dt_util.utcnow().timestamp()
    )
    admin = await hass_ws_client(hass)
    await admin.send_json_auto_id({"type": f"{DOMAIN}/occupancy/list"})
    result = (await admin.receive_json())["result"]
    assert result["count"] == 1
    assert result["members"][0]["name"] == "Ada"
    plain = await hass_ws_client(hass, hass_read_only_access_token)
    await plain.send_json_auto_id({"type": f"{DOMAIN}/occupancy/list"})
    assert (await plain.receive_json())["result"] == {"count": 1}
    await plain.send_json_auto_id(
        {"type": f"{DOMAIN}/occupancy/settings", "checkin_expiry_hours": 1}
    )
    reply = await plain.receive_json()
    assert reply["success"] is False
    assert reply["error"]["code"] == "unauthorized"
    assert engine.history.data["settings"].checkin_expiry_hours == 12
    await engine.members.async_update_item(ada["id"], {"role": "staff"})
    await plain.send_json_auto_id({"type": f"{DOMAIN}/occupancy/list"})
    result = (await plain.receive_json())["result"]
    assert [m["member_id"] for m in result["members"]] == [ada["id"]]


async def test_removed_member_leaves_the_list(
    hass: HomeAssistant, engine: AccessEngine, door: FluxiLabDevice
) -> None:
    """The member's data export shows the check-in; deleting forgets it (GDPR)."""
    ada = await member(engine, "Ada", ADA)
    await swipe(engine, door, ADA)
    export = await hass.services.async_call(
        DOMAIN,
        "export_member_data",
        {"member_id": ada["id"]},
        blocking=True,
        return_response=True,
    )
    assert export["checked_in"]["card"] == ADA
    assert export["checked_in"]["device_id"] == DOOR_ID
    await engine.members.async_delete_item(ada["id"])
    await hass.async_block_till_done()
    assert engine.history.data["checked_in"] == {}
    assert shown(hass) == "0"


# 2 Supervisor present -------------------------------------------------------------------


async def test_supervisor_must_be_present(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    door: FluxiLabDevice,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Refused no_supervisor until a supervisor swipes there or is checked in."""
    events = async_capture_events(hass, EVENT_ACCESS)
    await engine.machine_types.async_update_item(
        MACHINE_TYPE, {"requires_supervisor": True, "supervisor_minutes": 10}
    )
    await member(engine, "Ada", ADA)
    # Sue supervises (flag) without an authorization for fumehoods.
    await member(engine, "Sue", SUE, authorized=False, supervise=True)
    reply = await swipe(engine, device, ADA)
    await hass.async_block_till_done()
    assert reply["granted"] is False
    assert reply["reason"] == "no_supervisor"
    assert events[-1].data["reason"] == "no_supervisor"
    assert events[-1].data["card"] == engine.privacy.card(ADA)
    assert describe_access(events[-1].data) == (
        "denied access to a member: no supervisor present"
    )
    assert (await swipe(engine, device, SUE))["reason"] == "not_authorized"
    assert (await swipe(engine, device, ADA))["granted"] is True
    tick(hass, freezer, minutes=11)
    assert (await swipe(engine, device, ADA))["reason"] == "no_supervisor"
    # A supervisor checked in to the lab counts while checked in.
    await swipe(engine, door, SUE)
    tick(hass, freezer, minutes=30)
    assert (await swipe(engine, device, ADA))["granted"] is True
    await swipe(engine, door, SUE)  # out: still counts for the type's minutes
    tick(hass, freezer, minutes=9)
    assert (await swipe(engine, device, ADA))["granted"] is True
    tick(hass, freezer, minutes=2)
    assert (await swipe(engine, device, ADA))["reason"] == "no_supervisor"


async def test_supervisors_themselves_and_inactive_ones(
    hass: HomeAssistant, engine: AccessEngine, device: FluxiLabDevice
) -> None:
    """A supervisor needs nobody; staff supervise by role; inactive ones never."""
    await engine.machine_types.async_update_item(
        MACHINE_TYPE, {"requires_supervisor": True}
    )
    await member(engine, "Sue", SUE, supervise=True)
    await member(engine, "Tom", TOM, role="staff")
    bob = await member(engine, "Bob", BOB, supervise=True)
    await member(engine, "Ada", ADA)
    assert (await swipe(engine, device, SUE))["granted"] is True
    assert (await swipe(engine, device, TOM))["granted"] is True
    await engine.members.async_update_item(bob["id"], {"active": False})
    assert (await swipe(engine, device, BOB))["reason"] == "inactive"
    # Sue and Tom swiped a moment ago: Ada may go ahead.
    assert (await swipe(engine, device, ADA))["granted"] is True


async def test_supervised_hours_window(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    freezer: FrozenDateTimeFactory,
) -> None:
    """With a supervised-hours window, a supervisor is needed only outside it."""
    await engine.machine_types.async_update_item(
        MACHINE_TYPE,
        {"supervised_hours_start": "08:00", "supervised_hours_end": "18:00"},
    )
    await member(engine, "Ada", ADA)
    local = dt_util.get_default_time_zone()
    freezer.move_to(datetime(2026, 3, 2, 10, 0, tzinfo=local))
    assert (await swipe(engine, device, ADA))["granted"] is True
    freezer.move_to(datetime(2026, 3, 2, 20, 0, tzinfo=local))
    assert (await swipe(engine, device, ADA))["reason"] == "no_supervisor"
    freezer.move_to(datetime(2026, 3, 2, 7, 59, tzinfo=local))
    assert (await swipe(engine, device, ADA))["reason"] == "no_supervisor"


# 3 Instructor grant ------------------------------------------------------------------------


async def trainer(engine: AccessEngine) -> dict[str, Any]:
    """Tom, authorized for fumehoods as a trainer."""
    tom = await member(engine, "Tom", TOM, authorized=False)
    await engine.authorizations.async_create_item(
        {"member_id": tom["id"], "machine_type_id": MACHINE_TYPE, "trainer": True}
    )
    return tom


async def test_trainer_then_trainee_within_the_window(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    freezer: FrozenDateTimeFactory,
    hass_read_only_user: MockUser,
) -> None:
    """The trainee is authorized (type's default expiry), granted, and audited."""
    await engine.machine_types.async_update_item(
        MACHINE_TYPE, {"training_expiry_days": 30}
    )
    events = async_capture_events(hass, EVENT_ACCESS)
    tom = await trainer(engine)
    ada = await member(
        engine, "Ada", ADA, authorized=False, user_id=hass_read_only_user.id
    )
    bob = await member(engine, "Bob", BOB, authorized=False)
    assert (await swipe(engine, device, TOM))["granted"] is True
    tick(hass, freezer, seconds=TRAINING_WINDOW - 5)
    reply = await swipe(engine, device, ADA)
    await hass.async_block_till_done()
    assert reply["granted"] is True
    (auth,) = engine.authorizations.of_member(ada["id"])
    assert auth["machine_type_id"] == MACHINE_TYPE
    assert auth["granted_by"] == tom["id"]
    assert auth["training"] is True
    expires = dt_util.parse_datetime(auth["expires"])
    assert expires == dt_util.utcnow() + timedelta(days=30)
    granted = [e for e in events if e.data["type"] == "authorization_granted"]
    assert len(granted) == 1
    data = granted[0].data
    assert data["member_id"] == ada["id"]
    assert data["user_id"] == hass_read_only_user.id
    assert data["card"] == engine.privacy.card(ADA)
    assert data["fluxilab_device"] == "hood-1"
    assert data["trainer_id"] == tom["id"]
    assert data["trainer_name"] is None  # names are off by default
    assert data["authorization_id"] == auth["id"]
    assert describe_access(data) == "a member was trained and authorized by a trainer"
    assert events[-1].data["type"] == "granted"  # decided again, after the grant
    audit = [a for a in engine.history.data["audit"] if a.kind == "training"]
    assert audit[-1].member_id == ada["id"]
    assert audit[-1].member_name == "Ada"
    assert audit[-1].detail("trainer_name") == "Tom"
    # One trainee per trainer swipe.
    assert (await swipe(engine, device, BOB))["reason"] == "not_authorized"
    assert not engine.authorizations.of_member(bob["id"])
    # Deleting the trainer takes their name out of the audit (GDPR).
    await engine.members.async_delete_item(tom["id"])
    await hass.async_block_till_done()
    assert audit[-1].detail("trainer_id") is None
    assert audit[-1].detail("trainer_name") is None


async def test_training_window_closes_after_a_minute(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Too late, not a trainer, or inactive: nobody is trained."""
    await trainer(engine)
    await member(engine, "Sue", SUE)  # authorized, not a trainer
    ada = await member(engine, "Ada", ADA, authorized=False)
    bob = await member(engine, "Bob", BOB, authorized=False, active=False)
    await swipe(engine, device, TOM)
    tick(hass, freezer, seconds=TRAINING_WINDOW + 1)
    assert (await swipe(engine, device, ADA))["reason"] == "not_authorized"
    await swipe(engine, device, SUE)
    assert (await swipe(engine, device, ADA))["reason"] == "not_authorized"
    await swipe(engine, device, TOM)
    assert (await swipe(engine, device, BOB))["reason"] == "inactive"
    assert not engine.authorizations.of_member(bob["id"])
    # The window is still open for the next eligible member.
    assert (await swipe(engine, device, ADA))["granted"] is True
    assert engine.authorizations.of_member(ada["id"])[0]["expires"] is None


async def test_training_renews_an_expired_authorization_and_keeps_rules(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
) -> None:
    """An expired authorization is renewed; the second decision still checks safety."""
    await trainer(engine)
    ada = await member(engine, "Ada", ADA, authorized=False)
    old = await engine.authorizations.async_create_item(
        {
            "member_id": ada["id"],
            "machine_type_id": MACHINE_TYPE,
            "expires": "2020-01-01T00:00:00+00:00",
        }
    )
    assert (await swipe(engine, device, ADA))["reason"] == "expired"
    await swipe(engine, device, TOM)
    device.values["face_velocity"] = 0.1
    assert (await swipe(engine, device, ADA))["reason"] == "safety_limit"
    (auth,) = engine.authorizations.of_member(ada["id"])
    assert auth["id"] == old["id"]
    assert auth["expires"] is None
    assert auth["granted_by"] is not None
