"""Maintenance registered at a device while the hub was away reaches the hub with
the backlog: from a member who may maintain it resets the counter, from anyone
else it changes nothing."""

from __future__ import annotations

import csv
import io

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.device.runtime import FluxiLabDevice
from custom_components.fluxilab.protocol.security import KeyPair
from tests.integration.conftest import DEVICE_ID

from .conftest import MACHINE_TYPE
from .test_answered_replay import replay

TECH_CARD, USER_CARD = "0AA11BB2", "0CC33DD4"


def maintenance_audits(engine: AccessEngine) -> list[str | None]:
    return [
        a.member_id
        for a in engine.history.data["audit"]
        if a.kind == "maintenance" and a.device_id == DEVICE_ID
    ]


async def test_buffered_maintenance_from_staff_resets_the_counter(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    device_keys: KeyPair,
    hass_client: ClientSessionGenerator,
) -> None:
    tech = await engine.members.async_create_item(
        {"name": "Tech", "role": "staff", "cards": [TECH_CARD]}
    )
    user = await engine.members.async_create_item({"name": "Ada", "cards": [USER_CARD]})
    await engine.authorizations.async_create_item(
        {"member_id": user["id"], "machine_type_id": MACHINE_TYPE}
    )
    usage = engine.history.usage(DEVICE_ID)
    usage["since_maintenance"] = 42.0

    # A plain user's card at the maintenance prompt: recorded nowhere.
    await replay(
        hass,
        device_keys,
        1,
        {"action": "maintenance", "card": USER_CARD, "offline": True},
    )
    assert engine.history.usage(DEVICE_ID)["since_maintenance"] == 42.0
    assert maintenance_audits(engine) == []

    await replay(
        hass,
        device_keys,
        2,
        {"action": "maintenance", "card": TECH_CARD, "offline": True},
    )
    assert engine.history.usage(DEVICE_ID)["since_maintenance"] == 0.0
    assert maintenance_audits(engine) == [tech["id"]]
    assert device.maintenance_due is False
    # The device's maintenance log marks it as recorded offline, sent later.
    client = await hass_client()
    response = await client.get(
        "/api/fluxilab/maintenance.csv", params={"device_id": DEVICE_ID}
    )
    (line,) = csv.DictReader(io.StringIO(await response.text()))
    assert (line["member_id"], line["buffered"]) == (tech["id"], "True")
