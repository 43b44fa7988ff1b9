"""Issue 9 item 1: several credentials per member (cards and a PIN, each on its own)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError, Unauthorized
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockUser,
    async_capture_events,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import (
    MqttMockHAClient,
    WebSocketGenerator,
)

from custom_components.fluxilab.access.const import MEMBERS_STORAGE_KEY
from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.access.member_models import Member
from custom_components.fluxilab.const import DOMAIN, EVENT_ACCESS
from custom_components.fluxilab.device.runtime import FluxiLabDevice
from custom_components.fluxilab.logbook import describe_access
from custom_components.fluxilab.protocol.access import AccessRecord
from custom_components.fluxilab.protocol.security import KeyPair

from .conftest import MACHINE_TYPE, answer_request, call, credential_sets

LOST = "04AAAA0001"
SPARE = "04BBBB0002"
PIN = "246810"
INITIAL_PIN = "13572468"


async def ada(engine: AccessEngine, **extra: Any) -> dict[str, Any]:
    """Ada with two cards and her own PIN (the initial one replaced), authorized."""
    member = await engine.members.async_create_item(
        {"name": "Ada", "cards": [LOST, SPARE], "pin": INITIAL_PIN, **extra}
    )
    await engine.members.async_change_pin(member["id"], INITIAL_PIN, PIN)
    await engine.authorizations.async_create_item(
        {"member_id": member["id"], "machine_type_id": MACHINE_TYPE}
    )
    return engine.members.data[member["id"]]


def credential_id(engine: AccessEngine, member_id: str, card: str) -> str:
    """Return the id of the credential holding ``card``."""
    member = engine.members.data[member_id]
    return next(c["id"] for c in member["credentials"] if c.get("card") == card)


async def test_migration_from_cards_and_pin_hash(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
) -> None:
    """A 1.2 store (cards list, pin_hash) loads as credentials, nothing lost."""
    hass_storage[MEMBERS_STORAGE_KEY] = {
        "version": 1,
        "minor_version": 2,
        "key": MEMBERS_STORAGE_KEY,
        "data": {
            "items": [
                {
                    "id": "ada",
                    "name": "Ada",
                    "active": True,
                    "role": "user",
                    "cards": ["C1", "C2"],
                    "pin_hash": "$2b$04$abcdefghijklmnopqrstuuBhashhashhashhashhashhashhash",
                    "created": "2026-01-01T00:00:00+00:00",
                    "updated": "2026-01-01T00:00:00+00:00",
                },
                {"id": "bob", "name": "Bob", "active": True, "role": "user"},
            ]
        },
    }
    engine = AccessEngine(hass)
    await engine.members.async_load()
    member = engine.members.data["ada"]
    assert "cards" not in member
    assert "pin_hash" not in member
    cards = [c for c in member["credentials"] if c["type"] == "card"]
    assert [(c["card"], c["label"], c["active"]) for c in cards] == [
        ("C1", "Card 1", True),
        ("C2", "Card 2", True),
    ]
    assert all(c["created"] == "2026-01-01T00:00:00+00:00" for c in cards)
    assert all(c["last_used"] is None for c in member["credentials"])
    assert Member.from_storage(member).pin_hash() is not None
    assert (
        Member.from_storage(member).pin.must_change is False
    )  # a stored PIN is the member's
    assert Member.from_storage(member).pin_hash(active_only=False) is not None
    assert engine.members.data["bob"]["credentials"] == []
    assert engine.members.by_card("C2") is engine.members.member(member["id"])
    # Saved in the new layout.
    await engine.members.async_update_credential(
        "ada", cards[0]["id"], label="Blue badge"
    )
    await hass.async_block_till_done()
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=11))
    await hass.async_block_till_done()
    stored = hass_storage[MEMBERS_STORAGE_KEY]
    assert stored["minor_version"] == 4
    (saved,) = [i for i in stored["data"]["items"] if i["id"] == "ada"]
    assert "cards" not in saved
    assert saved["credentials"][0]["label"] == "Blue badge"


async def test_lost_card_denied_other_card_and_pin_work(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    hass_read_only_user: MockUser,
) -> None:
    """The member reports a card lost: it is refused, the spare card and PIN are not."""
    device.values["face_velocity"] = 0.6
    member = await ada(engine, user_id=hass_read_only_user.id)
    events = async_capture_events(hass, EVENT_ACCESS)
    lost_id = credential_id(engine, member["id"], LOST)
    # The member deactivates their own card: no admin needed.
    await call(
        hass,
        "update_credential",
        {"member_id": member["id"], "credential_id": lost_id, "active": False},
        hass_read_only_user,
    )
    reply = await answer_request(
        engine, device, {"id": "r1", "action": "check", "card": LOST}
    )
    assert (reply["granted"], reply["reason"]) == (False, "credential_inactive")
    assert reply["member_id"] == member["id"]
    await hass.async_block_till_done()  # audited after the reply
    audit = engine.history.data["audit"][-1].as_dict()
    assert (audit["card"], audit["member_id"], audit["reason"]) == (
        LOST,
        member["id"],
        "credential_inactive",
    )
    assert engine.history.last_unknown_card(device.device_id) is None
    reply = await answer_request(
        engine, device, {"id": "r2", "action": "check", "card": SPARE}
    )
    assert (reply["granted"], reply["reason"]) == (True, "granted")
    reply = await answer_request(
        engine, device, {"id": "r3", "action": "check", "member_id": member["id"]}
    )
    assert reply["granted"] is True
    await hass.async_block_till_done()
    denied = events[0].data
    assert denied["type"] == "denied"
    assert (denied["member_id"], denied["card"], denied["user_id"]) == (
        member["id"],
        engine.privacy.card(LOST),
        hass_read_only_user.id,
    )
    assert denied["fluxilab_device"] == device.device_id
    assert describe_access(denied) == (
        "denied access to a member: card or PIN deactivated"
    )
    # Uses were noted on the credentials that were used, not on the lost card.
    current = engine.members.data[member["id"]]
    used = {c["id"]: c["last_used"] for c in current["credentials"]}
    assert used[lost_id] is None
    assert used[credential_id(engine, member["id"], SPARE)] is not None
    pin = Member.from_storage(current).pin
    assert pin is not None
    assert pin.last_used is not None
    # by_card (used by other features) no longer names the holder of a lost card.
    assert engine.members.by_card(LOST) is None
    assert engine.members.by_card(SPARE) is engine.members.member(member["id"])
    # The member cannot reactivate it themselves; an admin can.
    with pytest.raises(Unauthorized):
        await call(
            hass,
            "update_credential",
            {"member_id": member["id"], "credential_id": lost_id, "active": True},
            hass_read_only_user,
        )
    await call(
        hass,
        "update_credential",
        {"member_id": member["id"], "credential_id": lost_id, "active": True},
    )
    reply = await answer_request(
        engine, device, {"id": "r4", "action": "check", "card": LOST}
    )
    assert reply["granted"] is True


async def test_deactivated_pin_refuses_device_login(
    hass: HomeAssistant, engine: AccessEngine, device: FluxiLabDevice
) -> None:
    """A deactivated PIN refuses device logins; the cards still work."""
    device.values["face_velocity"] = 0.6
    member = await ada(engine)
    pin = Member.from_storage(member).pin
    assert pin is not None
    await engine.members.async_update_credential(member["id"], pin.id, active=False)
    reply = await answer_request(
        engine, device, {"id": "r1", "action": "check", "member_id": member["id"]}
    )
    assert reply["reason"] == "credential_inactive"
    reply = await answer_request(
        engine, device, {"id": "r2", "action": "check", "card": LOST}
    )
    assert reply["granted"] is True


async def test_last_used_from_buffered_record_and_never_backwards(
    hass: HomeAssistant, engine: AccessEngine, device: FluxiLabDevice
) -> None:
    """An offline grant replayed later notes its own time; an older one changes nothing."""
    member = await ada(engine)
    spare = credential_id(engine, member["id"], SPARE)
    recent = dt_util.utcnow().timestamp() - 60
    await engine.async_handle_record(
        device,
        AccessRecord.from_wire(
            {"action": "check", "card": SPARE, "granted": True, "offline": True}
        ),
        recent,
        True,
    )
    await engine.async_handle_record(
        device,
        AccessRecord.from_wire(
            {"action": "check", "card": SPARE, "granted": True, "offline": True}
        ),
        recent - 3600,
        True,
    )
    credential = next(
        c for c in engine.members.data[member["id"]]["credentials"] if c["id"] == spare
    )
    assert credential["last_used"] == dt_util.utc_from_timestamp(recent).isoformat()


async def test_sync_mirrors_only_active_credentials(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    mqtt_mock: MqttMockHAClient,
    device_keys: KeyPair,
) -> None:
    """Deactivating a card or the PIN publishes a set without it."""
    member = await ada(engine)
    await hass.async_block_till_done()
    (entry,) = (await credential_sets(hass, mqtt_mock, device_keys))[-1]["members"]
    assert entry["cards"] == [LOST, SPARE]
    assert entry["pin_hash"].startswith("$2b$")
    await engine.members.async_update_credential(
        member["id"], credential_id(engine, member["id"], LOST), active=False
    )
    await hass.async_block_till_done()
    (entry,) = (await credential_sets(hass, mqtt_mock, device_keys))[-1]["members"]
    assert entry["cards"] == [SPARE]
    assert "pin_hash" in entry
    pin = Member.from_storage(engine.members.data[member["id"]]).pin
    assert pin is not None
    await engine.members.async_update_credential(member["id"], pin.id, active=False)
    await hass.async_block_till_done()
    (entry,) = (await credential_sets(hass, mqtt_mock, device_keys))[-1]["members"]
    assert entry["cards"] == [SPARE]
    assert entry.get("pin_hash") is None
    # A use changes no set: nothing is published for last_used.
    sent = len(await credential_sets(hass, mqtt_mock, device_keys))
    await answer_request(engine, device, {"id": "r", "action": "check", "card": SPARE})
    await hass.async_block_till_done()
    assert len(await credential_sets(hass, mqtt_mock, device_keys)) == sent


async def test_services_add_update_remove_list(
    hass: HomeAssistant,
    engine: AccessEngine,
    hass_admin_user: MockUser,
    hass_read_only_user: MockUser,
) -> None:
    """Admins manage credentials; members list theirs; nobody adds a PIN (a reset)."""
    own = await engine.members.async_create_item(
        {"name": "Ada", "cards": [LOST], "user_id": hass_read_only_user.id}
    )
    other = await engine.members.async_create_item({"name": "Bob", "cards": ["B0B"]})
    added = await call(
        hass,
        "add_credential",
        {
            "member_id": own["id"],
            "credential_type": "card",
            "card": SPARE,
            "label": "Phone sticker",
        },
        hass_admin_user,
        response=True,
    )
    # Nobody adds a PIN (issue 14: the admin's reset issues it): an admin is told
    # so; a member may not add credentials at all, their own PIN included.
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            "add_credential",
            {"member_id": own["id"], "credential_type": "pin", "pin": PIN},
            hass_admin_user,
        )
    assert err.value.translation_key == "pin_by_reset"
    with pytest.raises(Unauthorized):
        await call(
            hass,
            "add_credential",
            {"member_id": own["id"], "credential_type": "pin", "pin": PIN},
            hass_read_only_user,
        )
    await call(hass, "reset_pin", {"member_id": own["id"]}, response=True)
    for data in (
        {"member_id": own["id"], "credential_type": "card", "card": "FFFF"},
        {"member_id": other["id"], "credential_type": "pin", "pin": PIN},
    ):
        with pytest.raises(Unauthorized):
            await call(hass, "add_credential", data, hass_read_only_user)
    listed = await call(
        hass, "list_credentials", {}, hass_read_only_user, response=True
    )
    assert listed["member_id"] == own["id"]
    shown = {c["label"]: c for c in listed["credentials"]}
    assert set(shown) == {"Card 1", "Phone sticker", "PIN"}
    assert shown["Phone sticker"]["id"] == added["credential_id"]
    assert shown["Phone sticker"]["card"] == SPARE
    assert "pin_hash" not in str(listed)
    with pytest.raises(Unauthorized):
        await call(
            hass,
            "list_credentials",
            {"member_id": other["id"]},
            hass_read_only_user,
            response=True,
        )
    # Members do not rename or remove, even their own.
    for service, data in (
        (
            "update_credential",
            {
                "member_id": own["id"],
                "credential_id": added["credential_id"],
                "label": "Mine",
            },
        ),
        (
            "remove_credential",
            {"member_id": own["id"], "credential_id": added["credential_id"]},
        ),
    ):
        with pytest.raises(Unauthorized):
            await call(hass, service, data, hass_read_only_user)
    await call(
        hass,
        "update_credential",
        {
            "member_id": own["id"],
            "credential_id": added["credential_id"],
            "label": "Keyring",
        },
        hass_admin_user,
    )
    await call(
        hass,
        "remove_credential",
        {"member_id": own["id"], "credential_id": added["credential_id"]},
        hass_admin_user,
    )
    member = engine.members.data[own["id"]]
    assert Member.from_storage(member).cards() == [LOST]
    # The old card services still work on credentials.
    await call(hass, "add_card", {"member_id": own["id"], "card": SPARE})
    await call(hass, "remove_card", {"card": LOST})
    assert Member.from_storage(engine.members.data[own["id"]]).cards() == [SPARE]


@pytest.mark.parametrize(
    ("service", "data", "key"),
    [
        ("add_credential", {"credential_type": "card", "card": "B0B"}, "card_in_use"),
        ("add_credential", {"credential_type": "card", "card": LOST}, "card_duplicate"),
        # Issue 14: not even an admin adds a PIN (it comes from a reset)
        (
            "add_credential",
            {"credential_type": "pin", "pin": "13579111"},
            "pin_by_reset",
        ),
        ("add_credential", {"credential_type": "pin", "pin": "12"}, "pin_by_reset"),
        ("add_credential", {"credential_type": "card"}, "credential_card_missing"),
        (
            "add_credential",
            {"credential_type": "card", "card": "X1", "pin": "123456"},
            "credential_wrong_secret",
        ),
        (
            "update_credential",
            {"credential_id": "nope", "active": False},
            "unknown_credential",
        ),
        ("remove_credential", {"credential_id": "nope"}, "unknown_credential"),
    ],
)
async def test_bad_data_is_a_translated_error(
    hass: HomeAssistant,
    engine: AccessEngine,
    service: str,
    data: dict[str, Any],
    key: str,
) -> None:
    """Duplicate cards, a second PIN, unknown ids: translated, nothing changed."""
    member = await ada(engine)
    await engine.members.async_create_item({"name": "Bob", "cards": ["B0B"]})
    before = [dict(c) for c in engine.members.data[member["id"]]["credentials"]]
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, service, {"member_id": member["id"], **data})
    assert err.value.translation_key == key
    assert engine.members.data[member["id"]]["credentials"] == before


async def test_pin_rules_on_a_new_pin(
    hass: HomeAssistant, engine: AccessEngine, hass_read_only_user: MockUser
) -> None:
    """A member's new PIN follows the PIN rules (issue 14: PINs are not added)."""
    member = await engine.members.async_create_item(
        {"name": "Cy", "pin": INITIAL_PIN, "user_id": hass_read_only_user.id}
    )
    before = [dict(c) for c in engine.members.data[member["id"]]["credentials"]]
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            "update_member",
            {"member_id": member["id"], "current_pin": INITIAL_PIN, "pin": "12"},
            hass_read_only_user,
        )
    assert err.value.translation_key == "pin_too_short"
    assert engine.members.data[member["id"]]["credentials"] == before


async def test_cards_input_keeps_existing_credentials(
    hass: HomeAssistant, engine: AccessEngine, freezer: FrozenDateTimeFactory
) -> None:
    """Updating ``cards`` keeps the label, flag and last use of cards still listed."""
    member = await ada(engine)
    lost = credential_id(engine, member["id"], LOST)
    await engine.members.async_update_credential(
        member["id"], lost, label="Old badge", active=False
    )
    await engine.members.async_update_item(member["id"], {"cards": [LOST, "NEW1"]})
    current = engine.members.data[member["id"]]
    kept = next(c for c in current["credentials"] if c["id"] == lost)
    assert (kept["label"], kept["active"]) == ("Old badge", False)
    assert Member.from_storage(current).cards(active_only=False) == [LOST, "NEW1"]
    assert Member.from_storage(current).cards() == ["NEW1"]
    assert Member.from_storage(current).pin_hash() is not None  # the PIN is kept
    with pytest.raises(ServiceValidationError):
        await engine.members.async_update_item(member["id"], {"cards": ["A", "A"]})


async def test_gdpr_export_lists_credentials_without_hashes(
    hass: HomeAssistant, engine: AccessEngine
) -> None:
    member = await ada(engine)
    export = await call(
        hass, "export_member_data", {"member_id": member["id"]}, response=True
    )
    credentials = export["member"]["credentials"]
    assert {c["type"] for c in credentials} == {"card", "pin"}
    assert export["member"]["has_pin"] is True
    assert "$2b$" not in str(export)


async def test_websocket_commands(
    hass: HomeAssistant,
    engine: AccessEngine,
    hass_ws_client: WebSocketGenerator,
    hass_admin_user: MockUser,
) -> None:
    """Admins list/add/update/remove; a member lists (masked) and reports a card lost."""
    member = await ada(engine)
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {"type": f"{DOMAIN}/credentials/list", "member_id": member["id"]}
    )
    listed = (await client.receive_json())["result"]
    assert [c.get("card") for c in listed["credentials"]] == [LOST, SPARE, None]
    assert "$2b$" not in str(listed)
    await client.send_json_auto_id(
        {
            "type": f"{DOMAIN}/credentials/add",
            "member_id": member["id"],
            "credential_type": "card",
            "card": "04CCCC0003",
            "label": "Watch",
        }
    )
    added = (await client.receive_json())["result"]
    assert (added["label"], added["active"]) == ("Watch", True)
    await client.send_json_auto_id(
        {
            "type": f"{DOMAIN}/credentials/add",
            "member_id": member["id"],
            "credential_type": "pin",
            "pin": "99887766",
        }
    )
    reply = await client.receive_json()
    assert reply["error"]["translation_key"] == "pin_by_reset"  # issue 14
    await client.send_json_auto_id(
        {
            "type": f"{DOMAIN}/credentials/update",
            "member_id": member["id"],
            "credential_id": added["id"],
            "label": "Smart watch",
        }
    )
    assert (await client.receive_json())["result"]["label"] == "Smart watch"
    await client.send_json_auto_id(
        {
            "type": f"{DOMAIN}/credentials/remove",
            "member_id": member["id"],
            "credential_id": added["id"],
        }
    )
    assert (await client.receive_json())["success"]
    assert "04CCCC0003" not in Member.from_storage(
        engine.members.data[member["id"]]
    ).cards(active_only=False)


async def test_websocket_member_reports_own_card_lost(
    hass: HomeAssistant,
    engine: AccessEngine,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_user: MockUser,
    hass_read_only_access_token: str,
) -> None:
    member = await ada(engine, user_id=hass_read_only_user.id)
    other = await engine.members.async_create_item({"name": "Bob", "cards": ["B0B"]})
    client = await hass_ws_client(hass, hass_read_only_access_token)
    await client.send_json_auto_id({"type": f"{DOMAIN}/credentials/list"})
    listed = (await client.receive_json())["result"]
    assert listed["member_id"] == member["id"]
    assert LOST not in str(listed)  # masked for the member
    assert listed["credentials"][0]["card"].endswith(LOST[-4:])
    lost = credential_id(engine, member["id"], LOST)
    for data, allowed in (
        ({"credential_id": lost, "active": True}, False),
        ({"credential_id": lost, "label": "x"}, False),
        ({"credential_id": lost, "active": False}, True),
    ):
        await client.send_json_auto_id({"type": f"{DOMAIN}/credentials/update", **data})
        reply = await client.receive_json()
        assert reply["success"] is allowed, reply
        if not allowed:
            assert reply["error"]["code"] == "unauthorized"
    assert Member.from_storage(engine.members.data[member["id"]]).cards() == [SPARE]
    for command in ("list", "remove"):
        await client.send_json_auto_id(
            {
                "type": f"{DOMAIN}/credentials/{command}",
                "member_id": other["id"],
                "credential_id": "x",
            }
            if command == "remove"
            else {"type": f"{DOMAIN}/credentials/list", "member_id": other["id"]}
        )
        reply = await client.receive_json()
        assert reply["error"]["code"] == "unauthorized"


async def test_member_websocket_never_sends_hashes(
    hass: HomeAssistant, engine: AccessEngine, hass_ws_client: WebSocketGenerator
) -> None:
    """Member create/update answer with credentials but no PIN hash; errors still work."""
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {"type": f"{DOMAIN}/member/create", "name": "Eve", "cards": [LOST], "pin": PIN}
    )
    created = (await client.receive_json())["result"]
    assert created["has_pin"] is True
    assert created["cards"] == [LOST]
    assert "$2b$" not in str(created)
    await client.send_json_auto_id(
        {
            "type": f"{DOMAIN}/member/update",
            "member_id": created["id"],
            "cards": [LOST, SPARE],
        }
    )
    updated = (await client.receive_json())["result"]
    assert [c.get("card") for c in updated["credentials"]] == [LOST, SPARE, None]
    assert "$2b$" not in str(updated)
    await client.send_json_auto_id(
        {"type": f"{DOMAIN}/member/create", "name": "Mal", "cards": [LOST]}
    )
    reply = await client.receive_json()
    assert reply["success"] is False
    assert [m["name"] for m in engine.members.data.values()] == ["Eve"]


async def test_member_subscription_never_sends_hashes(
    hass: HomeAssistant, engine: AccessEngine, hass_ws_client: WebSocketGenerator
) -> None:
    """The collection's live subscription shows members without PIN hashes."""
    await engine.members.async_create_item({"name": "Eve", "cards": [LOST], "pin": PIN})
    client = await hass_ws_client(hass)
    await client.send_json_auto_id({"type": f"{DOMAIN}/member/subscribe"})
    assert (await client.receive_json())["success"] is True
    initial = (await client.receive_json())["event"]
    assert initial[0]["item"]["has_pin"] is True
    assert "$2b$" not in str(initial)
    member_id = initial[0]["item"]["id"]
    await engine.members.async_reset_pin(member_id)
    changed = (await client.receive_json())["event"]
    assert changed[0]["change_type"] == "updated"
    assert changed[0]["item"]["has_pin"] is True
    assert "$2b$" not in str(changed)
    assert "$2b$" in str(engine.members.data[member_id])  # stored, never sent


async def test_panel_shows_credentials_without_secrets(
    hass: HomeAssistant,
    engine: AccessEngine,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_user: MockUser,
    hass_read_only_access_token: str,
) -> None:
    """The profile lists own credentials masked; the admin console unmasked; no hash."""
    member = await ada(engine, user_id=hass_read_only_user.id)
    client = await hass_ws_client(hass, hass_read_only_access_token)
    await client.send_json_auto_id({"type": f"{DOMAIN}/panel/profile"})
    profile = (await client.receive_json())["result"]["member"]
    assert [c["label"] for c in profile["credentials"]] == ["Card 1", "Card 2", "PIN"]
    assert LOST not in str(profile)
    assert "$2b$" not in str(profile)
    admin = await hass_ws_client(hass)
    await admin.send_json_auto_id({"type": f"{DOMAIN}/panel/admin/state"})
    state = (await admin.receive_json())["result"]
    (shown,) = [m for m in state["members"] if m["id"] == member["id"]]
    assert [c.get("card") for c in shown["credentials"]] == [LOST, SPARE, None]
    assert shown["has_pin"] is True
    assert "$2b$" not in str(state)
