"""Issue 17 §5: a machine type may want card + PIN at the device (``require_pin``).

The device checks the PIN against its credential mirror (no secret crosses the
wire) and sends the card with the id of the member whose PIN matched, or
``pin_failed``. The hub refuses a card alone as ``pin_required``, counts wrong PINs
against the member's PIN back-off and never asks for a PIN to stop a session.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.fluxilab.access.const import (
    PIN_CHANGE_BACKOFF,
    PIN_CHANGE_FREE_FAILURES,
    Reason,
)
from custom_components.fluxilab.access.decisions import pin_reason, requires_pin
from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.access.errors import AccessValidationError
from custom_components.fluxilab.access.lab_models import MachineType
from custom_components.fluxilab.device.runtime import FluxiLabDevice
from custom_components.fluxilab.logbook import REASONS
from custom_components.fluxilab.protocol.security import KeyPair

from .conftest import MACHINE_TYPE, answer_request, credential_sets

ADA_CARD = "04ADA001"
BOB_CARD = "04B0B001"
PIN_TYPE = MachineType.from_storage({"id": MACHINE_TYPE, "require_pin": True})


# The pure rule ---------------------------------------------------------------


def _rule(machine_type: MachineType | None, **given: Any) -> Reason:
    fields: dict[str, Any] = {
        "card_member_id": "ada",
        "pin_member_id": None,
        "pin_failed": False,
        "pin_wait": 0.0,
    }
    return pin_reason(machine_type, **(fields | given))


def test_rule_leaves_other_types_alone() -> None:
    """Without ``require_pin`` (or a machine type) the card alone is enough."""
    assert _rule(None) is Reason.GRANTED
    laser = MachineType.from_storage({"id": "laser"})
    assert _rule(laser) is Reason.GRANTED
    assert (
        _rule(MachineType.from_storage({"id": "laser", "require_pin": False}))
        is Reason.GRANTED
    )
    assert not requires_pin(laser)
    assert requires_pin(PIN_TYPE)


def test_rule_wants_the_card_and_its_members_pin() -> None:
    """One reason per way a card + PIN request falls short, in a fixed order."""
    assert _rule(PIN_TYPE) is Reason.PIN_REQUIRED
    assert _rule(PIN_TYPE, card_member_id=None, pin_member_id="ada") is (
        Reason.CARD_REQUIRED
    )
    assert _rule(PIN_TYPE, pin_member_id="ada") is Reason.GRANTED
    assert _rule(PIN_TYPE, pin_member_id="bob") is Reason.PIN_WRONG
    assert _rule(PIN_TYPE, pin_failed=True) is Reason.PIN_WRONG
    # Backing off: even the right PIN waits; a card alone still asks for it.
    assert _rule(PIN_TYPE, pin_member_id="ada", pin_wait=5) is Reason.PIN_LOCKED
    assert _rule(PIN_TYPE, pin_failed=True, pin_wait=5) is Reason.PIN_LOCKED
    assert _rule(PIN_TYPE, pin_wait=5) is Reason.PIN_REQUIRED


# The engine ------------------------------------------------------------------


@pytest.fixture
async def pin_engine(engine: AccessEngine, device: FluxiLabDevice) -> AccessEngine:
    """The fumehood's type wants card + PIN; Ada and Bob have cards and own PINs."""
    await engine.machine_types.async_update_item(MACHINE_TYPE, {"require_pin": True})
    for name, card in (("Ada", ADA_CARD), ("Bob", BOB_CARD)):
        member = await engine.members.async_create_item(
            {"name": name, "cards": [card], "pin": "11223344"}
        )
        await engine.members.async_change_pin(member["id"], "11223344", f"{name}-pin")
        await engine.authorizations.async_create_item(
            {"member_id": member["id"], "machine_type_id": MACHINE_TYPE}
        )
    device.values["face_velocity"] = 0.6
    return engine


def _id(engine: AccessEngine, name: str) -> str:
    return next(m["id"] for m in engine.members.data.values() if m["name"] == name)


async def start(
    engine: AccessEngine, device: FluxiLabDevice, **fields: Any
) -> dict[str, Any]:
    return await answer_request(
        engine, device, {"id": "r1", "action": "session_start", **fields}
    )


async def test_card_alone_asks_for_the_pin(
    pin_engine: AccessEngine, device: FluxiLabDevice
) -> None:
    """A card alone is refused as ``pin_required``; no session starts."""
    reply = await start(pin_engine, device, card=ADA_CARD)
    assert (reply["granted"], reply["reason"]) == (False, "pin_required")
    assert reply["member_id"] == _id(pin_engine, "Ada")  # the device knows whose PIN
    assert "session_id" not in reply
    assert pin_engine.history.open_sessions(device.device_id) == []


async def test_card_and_right_pin_start_a_session_stop_needs_none(
    pin_engine: AccessEngine, device: FluxiLabDevice
) -> None:
    """Card + the card's member's PIN is granted; the stop is the card alone."""
    ada = _id(pin_engine, "Ada")
    reply = await start(pin_engine, device, card=ADA_CARD, member_id=ada)
    assert (reply["granted"], reply["reason"]) == (True, "granted")
    assert reply["member_id"] == ada
    stop = await answer_request(
        pin_engine,
        device,
        {
            "id": "r2",
            "action": "session_stop",
            "card": ADA_CARD,
            "session_id": reply["session_id"],
            "duration": 60,
        },
    )
    assert (stop["granted"], stop["reason"]) == (True, "session_ended")


async def test_the_rest_of_the_rules_still_apply(
    pin_engine: AccessEngine, device: FluxiLabDevice
) -> None:
    """The right PIN is a second factor, not a pass: the safety limit still holds."""
    device.values["face_velocity"] = 0.1
    reply = await start(
        pin_engine, device, card=ADA_CARD, member_id=_id(pin_engine, "Ada")
    )
    assert reply["reason"] == "safety_limit"


async def test_a_pin_login_alone_wants_the_card(
    pin_engine: AccessEngine, device: FluxiLabDevice
) -> None:
    """A PIN login without a card is one factor: ``card_required``."""
    reply = await start(pin_engine, device, member_id=_id(pin_engine, "Ada"))
    assert (reply["granted"], reply["reason"]) == (False, "card_required")


async def test_wrong_pin_is_refused_and_counted(
    pin_engine: AccessEngine, device: FluxiLabDevice
) -> None:
    """The device's ``pin_failed`` refuses and counts against Ada's PIN."""
    ada = _id(pin_engine, "Ada")
    reply = await start(pin_engine, device, card=ADA_CARD, pin_failed=True)
    assert (reply["granted"], reply["reason"]) == (False, "pin_wrong")
    assert pin_engine.members.pin_failures(ada).count == 1
    # The right PIN clears the count.
    assert (await start(pin_engine, device, card=ADA_CARD, member_id=ada))["granted"]
    assert pin_engine.members.pin_failures(ada).count == 0


async def test_card_of_one_member_pin_of_another_is_refused(
    pin_engine: AccessEngine, device: FluxiLabDevice
) -> None:
    """Ada's card with Bob's PIN: refused, counted against Ada's (the card's) PIN."""
    ada, bob = _id(pin_engine, "Ada"), _id(pin_engine, "Bob")
    reply = await start(pin_engine, device, card=ADA_CARD, member_id=bob)
    assert (reply["granted"], reply["reason"]) == (False, "pin_wrong")
    assert pin_engine.members.pin_failures(ada).count == 1
    assert pin_engine.members.pin_failures(bob).count == 0
    assert pin_engine.history.open_sessions(device.device_id) == []


async def test_wrong_pins_back_off_as_pin_changes_do(
    pin_engine: AccessEngine,
    device: FluxiLabDevice,
    freezer: FrozenDateTimeFactory,
) -> None:
    """After the free failures the right PIN waits too, and so does a PIN change."""
    freezer.move_to(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    ada = _id(pin_engine, "Ada")
    for _ in range(PIN_CHANGE_FREE_FAILURES):
        reply = await start(pin_engine, device, card=ADA_CARD, pin_failed=True)
        assert reply["reason"] == "pin_wrong"
    reply = await start(pin_engine, device, card=ADA_CARD, member_id=ada)
    assert (reply["granted"], reply["reason"]) == (False, "pin_locked")
    with pytest.raises(AccessValidationError) as err:
        await pin_engine.members.async_change_pin(ada, "Ada-pin", "Ada-new-pin")
    assert err.value.translation_key == "pin_change_locked"
    freezer.tick(PIN_CHANGE_BACKOFF + 1)
    reply = await start(pin_engine, device, card=ADA_CARD, member_id=ada)
    assert (reply["granted"], reply["reason"]) == (True, "granted")


async def test_a_supervisors_card_alone_is_nobody_present(
    pin_engine: AccessEngine, device: FluxiLabDevice
) -> None:
    """Bob supervises; his card without his PIN does not make him present."""
    await pin_engine.machine_types.async_update_item(
        MACHINE_TYPE, {"requires_supervisor": True}
    )
    ada, bob = _id(pin_engine, "Ada"), _id(pin_engine, "Bob")
    await pin_engine.members.async_update_item(bob, {"supervise": True})
    assert (await start(pin_engine, device, card=BOB_CARD))["reason"] == "pin_required"
    reply = await start(pin_engine, device, card=ADA_CARD, member_id=ada)
    assert reply["reason"] == "no_supervisor"
    assert (await start(pin_engine, device, card=BOB_CARD, member_id=bob))["granted"]
    reply = await start(pin_engine, device, card=ADA_CARD, member_id=ada)
    assert (reply["granted"], reply["reason"]) == (True, "granted")


async def test_an_initial_pin_does_not_count_as_the_second_factor(
    pin_engine: AccessEngine, device: FluxiLabDevice
) -> None:
    """A PIN an admin's reset issued serves only to be replaced, here too."""
    ada = _id(pin_engine, "Ada")
    await pin_engine.members.async_reset_pin(ada)
    reply = await start(pin_engine, device, card=ADA_CARD, member_id=ada)
    assert (reply["granted"], reply["reason"]) == (False, "pin_change_required")


async def test_setting_is_validated_and_mirrored(
    hass: HomeAssistant,
    pin_engine: AccessEngine,
    device: FluxiLabDevice,
    mqtt_mock: MqttMockHAClient,
    device_keys: KeyPair,
) -> None:
    """``require_pin`` is a boolean, off by default, and reaches the credential set."""
    with pytest.raises(AccessValidationError):
        await pin_engine.machine_types.async_update_item(
            MACHINE_TYPE, {"require_pin": "sometimes"}
        )
    created = await pin_engine.machine_types.async_create_item({"name": "Drill"})
    assert created["require_pin"] is False
    await pin_engine.async_sync_all()
    await hass.async_block_till_done()
    latest = (await credential_sets(hass, mqtt_mock, device_keys))[-1]
    assert latest["offline"]["require_pin"] is True
    await pin_engine.machine_types.async_update_item(
        MACHINE_TYPE, {"require_pin": False}
    )
    await hass.async_block_till_done()
    latest = (await credential_sets(hass, mqtt_mock, device_keys))[-1]
    assert latest["offline"]["require_pin"] is False


def test_reasons_read_as_words() -> None:
    """The logbook says each new reason in words."""
    for reason in (
        Reason.PIN_REQUIRED,
        Reason.PIN_WRONG,
        Reason.PIN_LOCKED,
        Reason.CARD_REQUIRED,
    ):
        assert REASONS[reason]
