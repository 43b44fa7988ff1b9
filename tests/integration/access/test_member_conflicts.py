"""A card or a Home Assistant account belongs to one member only, and a grant
names what it grants: refusals with their translated error, nothing changed."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockUser

from custom_components.fluxilab.access.engine import AccessEngine
from custom_components.fluxilab.access.member_models import Member
from custom_components.fluxilab.const import DOMAIN
from custom_components.fluxilab.device.runtime import FluxiLabDevice

from .conftest import call


@pytest.fixture
async def two_members(
    hass: HomeAssistant, engine: AccessEngine, hass_read_only_user: MockUser
) -> None:
    await engine.members.async_create_item(
        {"name": "Ada", "cards": ["C1"], "user_id": hass_read_only_user.id}
    )
    await engine.members.async_create_item({"name": "Bob", "cards": ["C2"]})


@pytest.mark.parametrize(
    ("service", "data", "key"),
    [
        ("update_member", {"member_id": "bob", "user_id": "<ada's user>"}, "user_linked"),
        ("add_member", {"name": "Eve", "user_id": "<ada's user>"}, "user_linked"),
        ("add_member", {"name": "Eve", "cards": ["C1"]}, "card_in_use"),
        ("add_card", {"member_id": "bob", "card": "C1"}, "card_in_use"),
        ("grant_authorization", {"member_id": "bob"}, "authorization_target"),
        ("grant_authorization", {"member_id": "bob", "machine_type_id": "toaster"},
         "unknown_machine_type"),
        ("grant_authorization", {"member_id": "ghost", "machine_type_id": "fumehood"},
         "unknown_member"),
    ],
)  # fmt: skip
@pytest.mark.usefixtures("two_members")
async def test_refused_and_nothing_changed(
    hass: HomeAssistant,
    engine: AccessEngine,
    device: FluxiLabDevice,
    hass_read_only_user: MockUser,
    service: str,
    data: dict[str, Any],
    key: str,
) -> None:
    data = {
        k: hass_read_only_user.id if v == "<ada's user>" else v for k, v in data.items()
    }
    members = {k: dict(v) for k, v in engine.members.data.items()}
    authorizations = dict(engine.authorizations.data)
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, service, data)
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == key
    assert {k: dict(v) for k, v in engine.members.data.items()} == members
    assert dict(engine.authorizations.data) == authorizations


@pytest.mark.usefixtures("two_members")
async def test_unlinking_and_relinking_an_account(
    hass: HomeAssistant, engine: AccessEngine, hass_read_only_user: MockUser
) -> None:
    # Freed from Ada, the account can go to Bob.
    await engine.members.async_update_item("ada", {"user_id": None})
    await call(
        hass, "update_member", {"member_id": "bob", "user_id": hass_read_only_user.id}
    )
    assert engine.members.data["bob"]["user_id"] == hass_read_only_user.id
    assert engine.members.data["ada"]["user_id"] is None
    # A card keeps its owner through an edit of the owner.
    await call(hass, "update_member", {"member_id": "ada", "name": "Ada L."})
    assert Member.from_storage(engine.members.data["ada"]).cards() == ["C1"]
    holder = engine.members.by_card("C1")
    assert holder is not None
    assert holder.name == "Ada L."


@pytest.mark.usefixtures("two_members")
async def test_an_expiry_without_a_zone_is_the_labs_local_time(
    hass: HomeAssistant, engine: AccessEngine, device: FluxiLabDevice
) -> None:
    await hass.config.async_set_time_zone("Europe/Rome")
    response = await call(
        hass,
        "grant_authorization",
        {
            "member_id": "bob",
            "machine_type_id": "fumehood",
            "expires": "2030-07-01T18:00:00",
        },
        response=True,
    )
    stored = engine.authorizations.data[response["authorization_id"]]
    # 18:00 in Rome in summer (UTC+2) is 16:00 UTC.
    assert stored["expires"] == "2030-07-01T16:00:00+00:00"
