"""Logbook lines for access and device events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.components.logbook import (
    LOGBOOK_ENTRY_ENTITY_ID,
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.fluxilab.const import (
    DOMAIN,
    EVENT_ACCESS,
    EVENT_DEVICE,
    EVENT_LAB,
)
from custom_components.fluxilab.logbook import async_describe_events, describe_access

from .conftest import DEVICE_ID
from .test_device import bring_online

type Describer = Callable[[Event], dict[str, str]]


@pytest.fixture
async def describers(
    hass: HomeAssistant, init_integration: MockConfigEntry, announce: dict[str, Any]
) -> dict[str, Describer]:
    """The describe callbacks the logbook would get, per event type."""
    await bring_online(hass, announce)
    found: dict[str, Describer] = {}

    def _register(domain: str, event_type: str, describe: Describer) -> None:
        assert domain == DOMAIN
        found[event_type] = describe

    async_describe_events(hass, _register)
    assert set(found) == {EVENT_ACCESS, EVENT_DEVICE, EVENT_LAB}
    return found


def _ha_device_id(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, DEVICE_ID), entry.entry_id
    )
    assert device is not None
    return device.id


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"type": "granted", "member_name": "Ada Lovelace"},
            "granted access to Ada Lovelace",
        ),
        (
            {"type": "denied", "card": "04A1B2C3", "reason": "unknown_card"},
            "denied access to card 04A1B2C3: unknown card",
        ),
        (
            {
                "type": "denied",
                "member_name": "Ada Lovelace",
                "card": "04A1B2C3",
                "reason": "not_authorized",
            },
            "denied access to Ada Lovelace: not authorized for this machine type",
        ),
        (
            {"type": "denied", "reason": "no_such_reason_yet"},
            "denied access to an unknown member: no such reason yet",
        ),
        ({"type": "denied"}, "denied access to an unknown member: no reason given"),
        (
            {"type": "offline_granted", "member_name": "Ada", "buffered": True},
            "granted access to Ada while offline, from its credential mirror"
            " (recorded offline at the device, sent later)",
        ),
        (
            {"type": "session_started", "member_name": "Ada"},
            "session started by Ada",
        ),
        (
            {"type": "session_ended", "member_name": "Ada", "duration": 1500},
            "session of Ada ended after 25 min",
        ),
        (
            {"type": "session_ended", "member_name": "Ada", "duration": 3900},
            "session of Ada ended after 1 h 5 min",
        ),
        ({"type": "session_ended"}, "session of an unknown member ended"),
        (
            {"type": "maintenance_recorded", "member_name": "Grace"},
            "maintenance recorded by Grace",
        ),
        ({"type": "maintenance_recorded"}, "maintenance recorded"),
        ({"type": "teleported"}, "access event teleported"),
    ],
)
def test_access_messages(data: dict[str, Any], message: str) -> None:
    assert describe_access(data) == message


async def test_access_event_names_the_device_and_links_its_entity(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    describers: dict[str, Describer],
) -> None:
    event = Event(
        EVENT_ACCESS,
        {
            "type": "denied",
            "device_id": _ha_device_id(hass, init_integration),
            "fluxilab_device": DEVICE_ID,
            "card": "card_0123456789",
            "reason": "unknown_card",
        },
    )
    assert describers[EVENT_ACCESS](event) == {
        LOGBOOK_ENTRY_NAME: "Fumehood 1",
        LOGBOOK_ENTRY_MESSAGE: "denied access to card card_0123456789: unknown card",
        LOGBOOK_ENTRY_ENTITY_ID: "event.fumehood_1_access",
    }


async def test_renamed_device_and_unknown_device(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    describers: dict[str, Describer],
) -> None:
    device_id = _ha_device_id(hass, init_integration)
    dr.async_get(hass).async_update_device(device_id, name_by_user="Hood by the door")
    described = describers[EVENT_DEVICE](
        Event(EVENT_DEVICE, {"type": "offline", "device_id": device_id})
    )
    assert described == {
        LOGBOOK_ENTRY_NAME: "Hood by the door",
        LOGBOOK_ENTRY_MESSAGE: "went offline",
    }
    described = describers[EVENT_ACCESS](
        Event(EVENT_ACCESS, {"type": "granted", "fluxilab_device": "gone-1"})
    )
    assert described[LOGBOOK_ENTRY_NAME] == "gone-1"
    assert LOGBOOK_ENTRY_ENTITY_ID not in described


@pytest.mark.parametrize(
    ("kind", "message", "entity_id"),
    [
        ("online", "came online", "binary_sensor.fumehood_1_connectivity"),
        ("offline", "went offline", "binary_sensor.fumehood_1_connectivity"),
        (
            "maintenance_due",
            "is due for maintenance",
            "binary_sensor.fumehood_1_maintenance_due",
        ),
        ("key_changed", "announced a new pairing key: confirm it in Repairs", None),
        ("exploded", "reported exploded", None),
    ],
)
async def test_device_messages(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    describers: dict[str, Describer],
    kind: str,
    message: str,
    entity_id: str | None,
) -> None:
    described = describers[EVENT_DEVICE](
        Event(
            EVENT_DEVICE,
            {
                "type": kind,
                "device_id": _ha_device_id(hass, init_integration),
                "fluxilab_device": DEVICE_ID,
            },
        )
    )
    assert described[LOGBOOK_ENTRY_NAME] == "Fumehood 1"
    assert described[LOGBOOK_ENTRY_MESSAGE] == message
    assert described.get(LOGBOOK_ENTRY_ENTITY_ID) == entity_id
