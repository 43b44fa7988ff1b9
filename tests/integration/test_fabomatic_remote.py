"""Remote start and stop of a Fab-O-Matic board (fluxilab.remote_start / remote_stop).

What reaches the board is the firmware's BackendRequest (machine/<id>/request); the
board then swipes the card itself, so the engine still decides the start.
"""

from __future__ import annotations

import logging
from typing import Any

from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ServiceValidationError, Unauthorized
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockUser
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.const import DOMAIN
from custom_components.fluxilab.device.runtime import FluxiLabDevice
from tests.integration.test_fabomatic import (  # noqa: F401  # fixtures
    BOARD_ID,
    CARD,
    MACHINE,
    board,
    checkuser,
    engine,
    replies,
    send,
    startuse,
    stopuse,
)

REQUEST = f"machine/{MACHINE}/request"


def _ha_device(hass: HomeAssistant, device_id: str = BOARD_ID) -> str:
    (entry,) = [
        e for e in hass.config_entries.async_entries(DOMAIN) if e.unique_id == device_id
    ]
    found = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, device_id), entry.entry_id
    )
    assert found is not None
    return found.id


def _member(engine: AccessEngine, name: str) -> dict[str, Any]:  # noqa: F811
    return next(m for m in engine.members.data.values() if m["name"] == name)


def _our_log(caplog: pytest.LogCaptureFixture) -> str:
    """What FluxiLab logged (MQTT's own debug log shows every payload it sends)."""
    return "\n".join(
        record.getMessage()
        for record in caplog.records
        if record.name.startswith("custom_components.fluxilab")
    )


async def _call(
    hass: HomeAssistant, service: str, data: dict[str, Any], user: MockUser
) -> Any:
    return await hass.services.async_call(
        DOMAIN,
        service,
        data,
        blocking=True,
        context=Context(user_id=user.id),
        return_response=True,
    )


async def test_remote_start_sends_the_members_card_and_the_board_asks(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    engine: AccessEngine,  # noqa: F811
    board: FluxiLabDevice,  # noqa: F811
    hass_admin_user: MockUser,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The board gets {"request_type":"start","uid":…}; its checkuser is decided."""
    caplog.set_level(logging.DEBUG, logger="custom_components.fluxilab")
    ada = _member(engine, "Ada")
    result = await _call(
        hass,
        "remote_start",
        {"device_id": _ha_device(hass), "member_id": ada["id"]},
        hass_admin_user,
    )
    assert result == {"machine_id": MACHINE, "member_id": ada["id"]}
    # BackendRequest::fromJson: request_type and uid, nothing else.
    assert replies(mqtt_mock, REQUEST) == [{"request_type": "start", "uid": CARD}]
    assert "Asked Fab-O-Matic board 7 to start" in _our_log(caplog)
    assert CARD not in _our_log(caplog)
    # The board acts as if the card were swiped: checkuser, then startuse.
    reply = await send(hass, mqtt_mock, checkuser(CARD))
    assert reply is not None
    assert reply["is_valid"] is True
    assert (await send(hass, mqtt_mock, startuse(CARD)) or {})["request_ok"] is True
    (session,) = engine.history.open_sessions(BOARD_ID)

    result = await _call(
        hass, "remote_stop", {"device_id": _ha_device(hass)}, hass_admin_user
    )
    assert result == {
        "machine_id": MACHINE,
        "session_id": session.session_id,
        "member_id": ada["id"],
    }
    assert replies(mqtt_mock, REQUEST)[-1] == {"request_type": "stop", "uid": CARD}
    assert CARD not in _our_log(caplog)
    await send(hass, mqtt_mock, stopuse(CARD, 60))
    assert engine.history.open_sessions(BOARD_ID) == []


async def test_remote_start_is_decided_by_the_engine(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    engine: AccessEngine,  # noqa: F811
    board: FluxiLabDevice,  # noqa: F811
    hass_admin_user: MockUser,
) -> None:
    """Grace has no authorization for the laser: the board is told so when it asks."""
    grace = _member(engine, "Grace")
    await _call(
        hass,
        "remote_start",
        {"device_id": _ha_device(hass), "member_id": grace["id"]},
        hass_admin_user,
    )
    (request,) = replies(mqtt_mock, REQUEST)
    reply = await send(hass, mqtt_mock, checkuser(request["uid"]))
    assert reply is not None
    assert reply["is_valid"] is False


@pytest.mark.parametrize(
    ("service", "key"),
    [("remote_start", "board_in_use"), ("remote_stop", "board_no_session")],
)
async def test_bad_requests_are_refused_translated(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    engine: AccessEngine,  # noqa: F811
    board: FluxiLabDevice,  # noqa: F811
    hass_admin_user: MockUser,
    service: str,
    key: str,
) -> None:
    """A start while a session runs, a stop with none: nothing reaches the board."""
    ada = _member(engine, "Ada")
    if service == "remote_start":
        await send(hass, mqtt_mock, checkuser(CARD))
        await send(hass, mqtt_mock, startuse(CARD))
    data = {"device_id": _ha_device(hass), "member_id": ada["id"]}
    if service == "remote_stop":
        del data["member_id"]
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, service, data, hass_admin_user)
    assert err.value.translation_key == key
    assert replies(mqtt_mock, REQUEST) == []


async def test_member_without_a_card_offline_board_and_no_board(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    engine: AccessEngine,  # noqa: F811
    board: FluxiLabDevice,  # noqa: F811
    hass_admin_user: MockUser,
) -> None:
    """Each refusal is a translated validation error; nothing is published."""
    nobody = await engine.members.async_create_item({"name": "Nocard"})
    start = {"device_id": _ha_device(hass), "member_id": nobody["id"]}
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "remote_start", start, hass_admin_user)
    assert err.value.translation_key == "member_without_board_card"
    assert err.value.translation_placeholders == {"member": nobody["id"]}

    board.online = False
    start["member_id"] = _member(engine, "Ada")["id"]
    with pytest.raises(ServiceValidationError) as err:
        await _call(hass, "remote_start", start, hass_admin_user)
    assert err.value.translation_key == "board_offline"
    assert err.value.translation_placeholders == {"device": "Laser cutter"}
    assert replies(mqtt_mock, REQUEST) == []


async def test_only_lab_admins_may(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    engine: AccessEngine,  # noqa: F811
    board: FluxiLabDevice,  # noqa: F811
    hass_read_only_user: MockUser,
) -> None:
    """Staff and members are refused with the translated not_permitted; a lab admin
    who is no Home Assistant administrator may."""
    staff = _member(engine, "Grace")
    await engine.members.async_update_item(
        staff["id"], {"user_id": hass_read_only_user.id}
    )
    ada = _member(engine, "Ada")
    start = {"device_id": _ha_device(hass), "member_id": ada["id"]}
    for service, data in (
        ("remote_start", start),
        ("remote_stop", {"device_id": start["device_id"]}),
    ):
        with pytest.raises(Unauthorized) as err:
            await _call(hass, service, data, hass_read_only_user)
        assert err.value.translation_key == "not_permitted"
        assert err.value.translation_placeholders == {
            "operation": f"{DOMAIN}.{service}"
        }
    assert replies(mqtt_mock, REQUEST) == []
    admin = _member(engine, "Linus")
    await engine.members.async_update_item(staff["id"], {"user_id": None})
    await engine.members.async_update_item(
        admin["id"], {"user_id": hass_read_only_user.id}
    )
    await _call(hass, "remote_start", start, hass_read_only_user)
    assert replies(mqtt_mock, REQUEST) == [{"request_type": "start", "uid": CARD}]
