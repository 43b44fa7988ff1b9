"""Issue 14 finding 4: the admin sets the initial PIN; after that only the member changes it.

An admin's reset issues a random one-time initial PIN (``must_change``) that works only
to be replaced; every change gives the current PIN, and wrong ones back off.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import bcrypt
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError, Unauthorized
import pytest
from pytest_homeassistant_custom_component.common import MockUser
from pytest_homeassistant_custom_component.typing import (
    MqttMockHAClient,
    WebSocketGenerator,
)

from custom_components.fluxilab.access.const import (
    INITIAL_PIN_LENGTH,
    MEMBERS_STORAGE_KEY,
    PIN_CHANGE_BACKOFF,
    PIN_CHANGE_FREE_FAILURES,
    Reason,
)
from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.access.member_models import Member
from custom_components.fluxilab.const import DOMAIN
from custom_components.fluxilab.device.runtime import FluxiLabDevice
from custom_components.fluxilab.logbook import REASONS
from custom_components.fluxilab.protocol.security import KeyPair
from fluxilab_agent.mirror import CredentialMirror

from .conftest import MACHINE_TYPE, answer_request, call, credential_sets

INITIAL = "11223344"
OWN = "ada-own-pin"
TRANSLATIONS = Path(__file__).parents[3] / "custom_components/fluxilab/translations"


def matches(engine: AccessEngine, member_id: str, pin: str) -> bool:
    pin_hash = Member.from_storage(engine.members.data[member_id]).pin_hash(
        active_only=False
    )
    assert pin_hash is not None
    return bcrypt.checkpw(pin.encode(), pin_hash.encode())


async def ada(
    engine: AccessEngine, user: MockUser, *, own_pin: bool = True
) -> dict[str, Any]:
    """Ada, linked to ``user``, authorized; her PIN her own unless ``own_pin`` is False."""
    member = await engine.members.async_create_item(
        {"name": "Ada", "cards": ["ADA1"], "pin": INITIAL, "user_id": user.id}
    )
    if own_pin:
        await engine.members.async_change_pin(member["id"], INITIAL, OWN)
    await engine.authorizations.async_create_item(
        {"member_id": member["id"], "machine_type_id": MACHINE_TYPE}
    )
    return engine.members.data[member["id"]]


async def login(engine: AccessEngine, device: FluxiLabDevice, member_id: str) -> str:
    """A device login (the device checked the PIN against its mirror): the reason."""
    device.values["face_velocity"] = 0.6
    reply = await answer_request(
        engine, device, {"id": "login", "action": "check", "member_id": member_id}
    )
    return str(reply["reason"])


# The broken rules, as found ------------------------------------------------------------


async def test_admin_cannot_remove_and_readd_a_pin(
    hass: HomeAssistant,
    engine: AccessEngine,
    hass_ws_client: WebSocketGenerator,
    hass_admin_user: MockUser,
    hass_read_only_user: MockUser,
) -> None:
    """An admin removing a member's PIN cannot add one of their choosing back."""
    member = await ada(engine, hass_read_only_user)
    pin = Member.from_storage(member).pin
    assert pin is not None
    await call(
        hass,
        "remove_credential",
        {"member_id": member["id"], "credential_id": pin.id},
        hass_admin_user,
    )
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            "add_credential",
            {
                "member_id": member["id"],
                "credential_type": "pin",
                "pin": "known-2-admin",
            },
            hass_admin_user,
        )
    assert err.value.translation_key == "pin_by_reset"
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {
            "type": f"{DOMAIN}/credentials/add",
            "member_id": member["id"],
            "credential_type": "pin",
            "pin": "known-2-admin",
        }
    )
    reply = await client.receive_json()
    assert reply["error"]["translation_key"] == "pin_by_reset"
    assert Member.from_storage(engine.members.data[member["id"]]).pin is None


async def test_update_member_needs_the_current_pin(
    hass: HomeAssistant, engine: AccessEngine, hass_read_only_user: MockUser
) -> None:
    """A member's own PIN change through update_member proves the current PIN."""
    member = await ada(engine, hass_read_only_user)
    for data in ({"pin": "taken-over"}, {"pin": "taken-over", "current_pin": "nope!!"}):
        with pytest.raises(ServiceValidationError) as err:
            await call(
                hass,
                "update_member",
                {"member_id": member["id"], "name": "Eve", **data},
                hass_read_only_user,
            )
        assert err.value.translation_key == "wrong_pin"
    assert matches(engine, member["id"], OWN)
    assert engine.members.data[member["id"]]["name"] == "Ada"  # nothing written
    await call(
        hass,
        "update_member",
        {"member_id": member["id"], "current_pin": OWN, "pin": "ada-next-pin"},
        hass_read_only_user,
    )
    assert matches(engine, member["id"], "ada-next-pin")


async def test_admin_sets_no_pin_after_creation(
    hass: HomeAssistant,
    engine: AccessEngine,
    hass_admin_user: MockUser,
    hass_read_only_user: MockUser,
) -> None:
    """Not update_member, nor the member collection: an admin only resets."""
    member = await ada(engine, hass_read_only_user)
    with pytest.raises(Unauthorized):
        await call(
            hass,
            "update_member",
            {"member_id": member["id"], "current_pin": OWN, "pin": "by-the-admin"},
            hass_admin_user,
        )
    with pytest.raises(ServiceValidationError):
        await engine.members.async_update_item(member["id"], {"pin": "by-the-admin"})
    assert matches(engine, member["id"], OWN)


# The reset flow ---------------------------------------------------------------------


async def test_reset_flow_end_to_end(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    mqtt_mock: MqttMockHAClient,
    device_keys: KeyPair,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_user: MockUser,
    hass_read_only_access_token: str,
    tmp_path: Path,
) -> None:
    """Reset → member must change → device refuses the initial PIN → change → works."""
    member = await ada(engine, hass_read_only_user)
    assert await login(engine, device, member["id"]) == Reason.GRANTED
    label = Member.from_storage(member).pin.label

    issued = await call(hass, "reset_pin", {"member_id": member["id"]}, response=True)
    initial = issued["pin"]
    assert len(initial) == INITIAL_PIN_LENGTH
    assert initial.isdigit()
    assert issued["must_change"] is True
    pin = Member.from_storage(engine.members.data[member["id"]]).pin
    assert pin is not None
    assert (pin.id, pin.label, pin.must_change) == (
        issued["credential_id"],
        label,
        True,
    )
    assert matches(engine, member["id"], initial)
    assert not matches(engine, member["id"], OWN)
    # Stored only as a hash: the collection's items are what its store saves.
    assert initial not in json.dumps(engine.members.data)

    # The device learns it from its credential set and refuses it, with the reason.
    await hass.async_block_till_done()
    latest = (await credential_sets(hass, mqtt_mock, device_keys))[-1]
    (entry,) = latest["members"]
    assert entry["pin_must_change"] is True
    mirror = CredentialMirror(tmp_path / "mirror.json")
    mirror.replace(latest)
    seen = mirror.verify_login(member["id"], initial)
    assert seen is not None
    assert seen.pin_must_change is True
    # The hub refuses it too (a device whose mirror predates the reset).
    assert await login(engine, device, member["id"]) == "pin_change_required"
    await hass.async_block_till_done()  # audited after the reply
    assert engine.history.data["audit"][-1].detail("reason") == "pin_change_required"

    # The panel asks the member to replace it.
    client = await hass_ws_client(hass, hass_read_only_access_token)
    await client.send_json_auto_id({"type": f"{DOMAIN}/panel/profile"})
    profile = (await client.receive_json())["result"]["member"]
    assert profile["pin_must_change"] is True
    assert initial not in str(profile)
    await client.send_json_auto_id(
        {"type": f"{DOMAIN}/panel/change_pin", "new_pin": "ada-third-pin"}
    )
    assert (await client.receive_json())["error"]["translation_key"] == "wrong_pin"
    await client.send_json_auto_id(
        {
            "type": f"{DOMAIN}/panel/change_pin",
            "current_pin": initial,
            "new_pin": initial,
        }
    )
    assert (await client.receive_json())["error"]["translation_key"] == "pin_unchanged"
    await client.send_json_auto_id(
        {
            "type": f"{DOMAIN}/panel/change_pin",
            "current_pin": initial,
            "new_pin": "ada-third-pin",
        }
    )
    assert (await client.receive_json())["success"]
    await client.send_json_auto_id({"type": f"{DOMAIN}/panel/profile"})
    assert (await client.receive_json())["result"]["member"]["pin_must_change"] is False

    # Now it works, at the hub and from the device's next set.
    assert await login(engine, device, member["id"]) == Reason.GRANTED
    await hass.async_block_till_done()
    latest = (await credential_sets(hass, mqtt_mock, device_keys))[-1]
    (entry,) = latest["members"]
    assert "pin_must_change" not in entry
    mirror.replace(latest)
    assert mirror.verify_login(member["id"], initial) is None
    own = mirror.verify_login(member["id"], "ada-third-pin")
    assert own is not None
    assert own.pin_must_change is False


async def test_new_member_pin_is_initial(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_user: MockUser,
) -> None:
    """The PIN an admin gives a new member, by any door, works only to be changed."""
    created = await call(
        hass, "add_member", {"name": "Bea", "pin": "bea-initial"}, response=True
    )
    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {"type": f"{DOMAIN}/member/create", "name": "Cy", "pin": "cy-initial"}
    )
    cy = (await client.receive_json())["result"]
    await client.send_json_auto_id(
        {"type": f"{DOMAIN}/panel/admin/member_create", "name": "Di", "pin": "di-initl"}
    )
    di = (await client.receive_json())["result"]
    for member_id in (created["member_id"], cy["id"], di["member_id"]):
        pin = Member.from_storage(engine.members.data[member_id]).pin
        assert pin is not None
        assert pin.must_change is True
        await engine.authorizations.async_create_item(
            {"member_id": member_id, "machine_type_id": MACHINE_TYPE}
        )
        assert await login(engine, device, member_id) == "pin_change_required"
    listed = await call(
        hass, "list_credentials", {"member_id": cy["id"]}, response=True
    )
    assert listed["credentials"][0]["must_change"] is True


async def test_reset_pin_websocket(
    hass: HomeAssistant,
    engine: AccessEngine,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_user: MockUser,
    hass_read_only_access_token: str,
) -> None:
    """Admins reset over the websocket (the panel's button); members cannot."""
    member = await ada(engine, hass_read_only_user)
    bob = await engine.members.async_create_item({"name": "Bob"})
    admin = await hass_ws_client(hass)
    await admin.send_json_auto_id(
        {"type": f"{DOMAIN}/credentials/reset_pin", "member_id": bob["id"]}
    )
    reply = (await admin.receive_json())["result"]
    assert reply["member_id"] == bob["id"]
    assert reply["credential"]["must_change"] is True
    assert "pin_hash" not in reply["credential"]
    assert matches(engine, bob["id"], reply["pin"])  # a PIN for a member without one
    own = await hass_ws_client(hass, hass_read_only_access_token)
    for member_id in (member["id"], bob["id"]):
        await own.send_json_auto_id(
            {"type": f"{DOMAIN}/credentials/reset_pin", "member_id": member_id}
        )
        assert (await own.receive_json())["error"]["code"] == "unauthorized"
    with pytest.raises(Unauthorized):
        await call(
            hass,
            "reset_pin",
            {"member_id": member["id"]},
            hass_read_only_user,
            response=True,
        )
    assert matches(engine, member["id"], OWN)
    await admin.send_json_auto_id(
        {"type": f"{DOMAIN}/credentials/reset_pin", "member_id": "ghost"}
    )
    assert (await admin.receive_json())["error"]["translation_key"] == "unknown_member"


async def test_deactivated_pin_stays_deactivated_after_reset(
    hass: HomeAssistant, engine: AccessEngine, hass_read_only_user: MockUser
) -> None:
    """Deactivating a PIN is still an admin's (it only locks it); a reset keeps that."""
    member = await ada(engine, hass_read_only_user)
    pin = Member.from_storage(member).pin
    assert pin is not None
    await call(
        hass,
        "update_credential",
        {"member_id": member["id"], "credential_id": pin.id, "active": False},
    )
    await call(hass, "reset_pin", {"member_id": member["id"]}, response=True)
    after = Member.from_storage(engine.members.data[member["id"]]).pin
    assert after is not None
    assert (after.active, after.must_change) == (False, True)


# Wrong current PINs -----------------------------------------------------------------


async def test_wrong_current_pins_back_off(
    hass: HomeAssistant,
    engine: AccessEngine,
    freezer: FrozenDateTimeFactory,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_user: MockUser,
    hass_read_only_access_token: str,
) -> None:
    """Wrong current PINs are counted across doors; the free ones used, each waits."""
    member = await ada(engine, hass_read_only_user)
    client = await hass_ws_client(hass, hass_read_only_access_token)
    for attempt in range(PIN_CHANGE_FREE_FAILURES):
        if attempt % 2:
            await client.send_json_auto_id(
                {
                    "type": f"{DOMAIN}/panel/change_pin",
                    "current_pin": f"guess-{attempt}",
                    "new_pin": "mallory-pin",
                }
            )
            assert (await client.receive_json())["error"][
                "translation_key"
            ] == "wrong_pin"
        else:
            with pytest.raises(ServiceValidationError) as err:
                await call(
                    hass,
                    "update_member",
                    {
                        "member_id": member["id"],
                        "current_pin": f"guess-{attempt}",
                        "pin": "mallory-pin",
                    },
                    hass_read_only_user,
                )
            assert err.value.translation_key == "wrong_pin"
    # Locked: not even the right PIN is checked now.
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            "update_member",
            {"member_id": member["id"], "current_pin": OWN, "pin": "ada-next-pin"},
            hass_read_only_user,
        )
    assert err.value.translation_key == "pin_change_locked"
    assert int(err.value.translation_placeholders["seconds"]) <= PIN_CHANGE_BACKOFF + 1
    freezer.tick(PIN_CHANGE_BACKOFF + 1)
    # One more wrong one doubles the wait.
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            "update_member",
            {"member_id": member["id"], "current_pin": "guess-x", "pin": "mallory"},
            hass_read_only_user,
        )
    assert err.value.translation_key == "wrong_pin"
    freezer.tick(PIN_CHANGE_BACKOFF + 1)
    await client.send_json_auto_id(
        {
            "type": f"{DOMAIN}/panel/change_pin",
            "current_pin": OWN,
            "new_pin": "ada-next-pin",
        }
    )
    assert (await client.receive_json())["error"][
        "translation_key"
    ] == "pin_change_locked"
    freezer.tick(PIN_CHANGE_BACKOFF)
    await client.send_json_auto_id(
        {
            "type": f"{DOMAIN}/panel/change_pin",
            "current_pin": OWN,
            "new_pin": "ada-next-pin",
        }
    )
    assert (await client.receive_json())["success"]
    assert matches(engine, member["id"], "ada-next-pin")
    # A success clears the count: the next wrong one is free again.
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            "update_member",
            {"member_id": member["id"], "current_pin": "guess", "pin": "mallory"},
            hass_read_only_user,
        )
    assert err.value.translation_key == "wrong_pin"


async def test_parallel_guesses_back_off_too(
    hass: HomeAssistant, engine: AccessEngine, hass_read_only_user: MockUser
) -> None:
    """Guesses sent at once are counted before they are checked."""
    member = await ada(engine, hass_read_only_user)

    async def guess(number: int) -> str:
        try:
            await call(
                hass,
                "update_member",
                {
                    "member_id": member["id"],
                    "current_pin": f"guess-{number}",
                    "pin": "mallory-pin",
                },
                hass_read_only_user,
            )
        except ServiceValidationError as err:
            return str(err.translation_key)
        return "changed"

    answers = await asyncio.gather(*(guess(n) for n in range(10)))
    assert answers.count("wrong_pin") == PIN_CHANGE_FREE_FAILURES
    assert answers.count("pin_change_locked") == 10 - PIN_CHANGE_FREE_FAILURES
    assert matches(engine, member["id"], OWN)


async def test_member_without_pin_asks_for_a_reset(
    hass: HomeAssistant,
    engine: AccessEngine,
    hass_ws_client: WebSocketGenerator,
    hass_read_only_user: MockUser,
    hass_read_only_access_token: str,
) -> None:
    """No PIN yet: the member cannot pick one; the admin issues the initial one."""
    member = await engine.members.async_create_item(
        {"name": "Ada", "user_id": hass_read_only_user.id}
    )
    with pytest.raises(ServiceValidationError) as err:
        await call(
            hass,
            "update_member",
            {"member_id": member["id"], "pin": "self-chosen"},
            hass_read_only_user,
        )
    assert err.value.translation_key == "no_pin"
    client = await hass_ws_client(hass, hass_read_only_access_token)
    await client.send_json_auto_id(
        {"type": f"{DOMAIN}/panel/change_pin", "new_pin": "self-chosen"}
    )
    assert (await client.receive_json())["error"]["translation_key"] == "no_pin"
    assert Member.from_storage(engine.members.data[member["id"]]).pin is None


# Storage and texts --------------------------------------------------------------------


async def test_migration_marks_stored_pins_as_the_members(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """A 1.3 store loads with its PINs as the members' own (no change demanded)."""
    pin_hash = bcrypt.hashpw(b"stored-pin", bcrypt.gensalt(4)).decode()
    hass_storage[MEMBERS_STORAGE_KEY] = {
        "version": 1,
        "minor_version": 3,
        "key": MEMBERS_STORAGE_KEY,
        "data": {
            "items": [
                {
                    "id": "ada",
                    "name": "Ada",
                    "active": True,
                    "role": "user",
                    "credentials": [
                        {
                            "id": "p1",
                            "type": "pin",
                            "label": "PIN",
                            "active": True,
                            "created": "2026-01-01T00:00:00+00:00",
                            "last_used": None,
                            "pin_hash": pin_hash,
                        }
                    ],
                    "created": "2026-01-01T00:00:00+00:00",
                    "updated": "2026-01-01T00:00:00+00:00",
                }
            ]
        },
    }
    engine = AccessEngine(hass)
    await engine.members.async_load()
    pin = Member.from_storage(engine.members.data["ada"]).pin
    assert pin is not None
    assert (pin.must_change, pin.pin_hash) == (False, pin_hash)


def test_reason_and_errors_have_texts() -> None:
    """The new reason reads in the logbook; the new errors in English and Italian."""
    assert REASONS[Reason.PIN_CHANGE_REQUIRED]
    for lang in ("en", "it"):
        texts = json.loads((TRANSLATIONS / f"{lang}.json").read_text())
        for key in ("pin_by_reset", "no_pin", "pin_change_locked", "pin_unchanged"):
            assert texts["exceptions"][key]["message"], (lang, key)
        assert texts["services"]["reset_pin"]["fields"]["member_id"]["name"]
        assert texts["services"]["update_member"]["fields"]["current_pin"]["name"]
