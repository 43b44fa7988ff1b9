"""Typed device messages, credential sets and interest entries (issue 16).

Read once from the wire or the store, written back there unchanged, and nothing
personal (names, card uids, PIN hashes) in a repr.
"""

from __future__ import annotations

from datetime import UTC, datetime
import json

from custom_components.fluxilab.access.bookings import BookingMirror, BookingMode
from custom_components.fluxilab.access.interest import QueuePlace, Subscription
from custom_components.fluxilab.access.lab_models import SafetyLimit
from custom_components.fluxilab.access.sync import (
    CredentialSet,
    MachineOfflineRules,
    MirroredGrant,
    MirroredMember,
    OfflineRules,
)
from custom_components.fluxilab.device.models import (
    Announcement,
    BacklogBatch,
    BoardInfo,
    BoardQuery,
    CommandResult,
    MachineStatus,
    SimpleReply,
    TelemetryMessage,
    UserCheck,
)
from custom_components.fluxilab.protocol.fabomatic import (
    BoardAction,
    UserLevel,
    UserResult,
    machine_response,
    parse_query,
    simple_response,
    user_response,
)
from custom_components.fluxilab.protocol.schemas import (
    ANNOUNCE_SCHEMA,
    COMMAND_RESULT_SCHEMA,
    CREDENTIALS_SCHEMA,
    TELEMETRY_SCHEMA,
    ActuatorKind,
    DeviceKind,
    OfflinePolicy,
    validate_backlog,
)

NAME = "Ada Lovelace"
CARD = "04a1b2c3"
PIN_HASH = "$2b$12$abcdefghijklmnopqrstuv"


def test_announcement_reads_the_validated_body_and_keeps_it() -> None:
    body = ANNOUNCE_SCHEMA(
        {
            "v": 1,
            "id": "hood-1",
            "name": "Fume hood",
            "kind": "fumehood",
            "model": "FH-1",
            "sw_version": "0.1.0",
            "key": "device-public-key",
            "area": "Chemistry",
            "extra": {"kept": True},
            "capabilities": {
                "channels": [{"key": "airflow", "name": "Airflow", "type": "float"}],
                "actuators": [{"key": "interlock", "kind": "interlock"}],
            },
        }
    )
    announce = Announcement.from_wire(body)
    assert announce.kind is DeviceKind.FUMEHOOD
    assert announce.area == "Chemistry"
    assert [c.key for c in announce.channels] == ["airflow"]
    assert announce.actuators[0].kind is ActuatorKind.INTERLOCK
    assert announce.as_wire() == body  # extra fields and all, for diagnostics
    assert "device-public-key" not in repr(announce)
    blank = Announcement.from_wire({**body, "area": ""})
    assert blank.area is None  # no suggested area, as before


def test_telemetry_message_does_not_copy_its_values() -> None:
    body = TELEMETRY_SCHEMA({"seq": 7, "ts": 1.5, "values": {"airflow": 0.4}})
    message = TelemetryMessage.from_wire(body)
    assert (message.stream, message.seq, message.ts) == (None, 7, 1.5)
    assert message.values is body["values"]


def test_command_result_reads_its_fields_and_keeps_the_body() -> None:
    body = COMMAND_RESULT_SCHEMA({"id": "c1", "ok": True, "relay": False, "x": 1})
    result = CommandResult.from_wire(body)
    assert (result.id, result.ok, result.relay) == ("c1", True, False)
    assert (result.error, result.generation) == (None, None)
    assert result.as_wire() == body  # diagnostics show it as it came


def test_backlog_batch_keeps_the_validated_records() -> None:
    body = validate_backlog(
        {
            "stream": "stream-01",
            "records": [
                {"seq": 1, "ts": 1.0, "kind": "telemetry", "values": {"t": 1.0}}
            ],
        }
    )
    batch = BacklogBatch.from_wire(body)
    assert batch.stream == "stream-01"
    assert batch.records is body["records"]


def test_board_query_and_info_hide_the_card() -> None:
    query = BoardQuery.from_wire(
        parse_query(json.dumps({"action": "stopuse", "uid": CARD, "duration": 90}))
    )
    assert query == BoardQuery(action=BoardAction.STOP_USE, uid=CARD, duration=90)
    assert CARD not in repr(query)
    machine = BoardQuery.from_wire(parse_query('{"action": "checkmachine"}'))
    assert (machine.uid, machine.replay, machine.duration) == ("", False, 0)
    alive = {"version": "1.0.3", "ip": "10.0.0.2", "serial": "A0", "heap": 12}
    info = BoardInfo.from_wire(parse_query(json.dumps({"action": "alive", **alive})))
    assert info.as_wire() == alive


def test_board_replies_are_the_firmware_json() -> None:
    check = UserCheck(
        result=UserResult.AUTHORIZED,
        name=NAME,
        level=UserLevel.FAB_STAFF,
        reason="granted",
    )
    assert check.as_wire() == user_response(
        result=UserResult.AUTHORIZED,
        name=NAME,
        level=UserLevel.FAB_STAFF,
        reason="granted",
    )
    assert NAME not in repr(check)
    status = MachineStatus(
        name="Laser",
        maintenance=False,
        allowed=True,
        logoff_minutes=30,
        grace_minutes=2,
        description="",
        machine_type=5,
    )
    assert status.as_wire() == machine_response(
        name="Laser",
        maintenance=False,
        allowed=True,
        logoff_minutes=30,
        grace_minutes=2,
        description="",
        machine_type=5,
    )
    assert SimpleReply(ok=False, message="x").as_wire() == simple_response(False, "x")


NO_BOOKINGS = BookingMirror(
    mode=BookingMode.OFF, no_show_minutes=0, shared_by=(), bookings=(), outages=()
)
"""A device's mirror of no bookings (booking_store.py ``mirrored``)."""


def test_credential_set_wire_and_repr() -> None:
    member = MirroredMember(
        id="ada",
        name=NAME,
        level="staff",
        cards=(CARD,),
        maintenance=True,
        supervisor=False,
        grants=(MirroredGrant(expires=None, window=("08:00", "18:00")),),
        pin_hash=PIN_HASH,
        pin_must_change=True,
    )
    rules = OfflineRules(
        policy=OfflinePolicy.DENY,
        max_age=3600.0,
        tz="UTC",
        bookings=NO_BOOKINGS,
        unsafe=False,
        machine=MachineOfflineRules(
            maintenance_due=False,
            maintenance=None,
            supervisor_required=True,
            require_pin=False,
            supervised_hours=("09:00", "17:00"),
            supervisor_minutes=15,
            safety_limits=(SafetyLimit(channel="airflow", min=0.3),),
        ),
    )
    credentials = CredentialSet(members=(member,), timeout=600, grace=60, offline=rules)
    wire = credentials.as_wire()
    assert wire["members"] == [
        {
            "id": "ada",
            "name": NAME,
            "level": "staff",
            "cards": [CARD],
            "maintenance": True,
            "supervisor": False,
            "grants": [{"expires": None, "window": ["08:00", "18:00"]}],
            "pin_hash": PIN_HASH,
            "pin_must_change": True,
        }
    ]
    assert list(wire["offline"])[:9] == [
        "policy",
        "max_age",
        "tz",
        *NO_BOOKINGS.as_wire(),
        "unsafe",
    ]
    assert list(NO_BOOKINGS.as_wire())[3] == "bookings"
    assert wire["offline"]["supervised_hours"] == ["09:00", "17:00"]
    assert wire["offline"]["safety_limits"] == [{"channel": "airflow", "min": 0.3}]
    CREDENTIALS_SCHEMA({"generation": 1, **wire})  # what the device takes
    shown = repr(credentials)
    for personal in (NAME, CARD, PIN_HASH):
        assert personal not in shown
    # Without a machine type nor a PIN: nothing of either on the wire.
    bare = MirroredMember(
        id="bo", name="Bo", level="user", cards=(), maintenance=False, supervisor=False
    )
    assert set(bare.as_wire()) == {
        "id",
        "name",
        "level",
        "cards",
        "maintenance",
        "supervisor",
    }
    assert (
        "maintenance_due"
        not in OfflineRules(
            policy=OfflinePolicy.ALLOW_MIRRORED,
            max_age=1.0,
            tz="UTC",
            bookings=NO_BOOKINGS,
            unsafe=False,
        ).as_wire()
    )


def test_subscription_round_trip_and_reply() -> None:
    stored = {"device_id": "hood-1", "member_id": "ada", "ts": 100.0, "expires": 200.0}
    sub = Subscription.from_storage(stored)
    assert sub.as_dict() == stored
    assert list(sub.as_dict()) == list(stored)  # the stored keys' order
    assert QueuePlace(subscription=sub, position=2).as_wire() == {
        "device_id": "hood-1",
        "member_id": "ada",
        "position": 2,
        "since": datetime.fromtimestamp(100.0, UTC).isoformat(),
        "expires": datetime.fromtimestamp(200.0, UTC).isoformat(),
    }
