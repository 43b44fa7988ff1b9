"""What members and users without a lab role get from the doors open to them.

The sweep of every door against the permission table is test_permission_sweep.py;
these tests look inside the answers of the doors everyone may call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from homeassistant.components.websocket_api import ERR_UNAUTHORIZED
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockUser

from custom_components.fluxilab.access.member_models import Member
from custom_components.fluxilab.const import DOMAIN

from .conftest import ALICE_PIN, HOOD, LASER, Client, Lab

type Connect = Callable[[MockUser], Awaitable[Client]]


async def test_member_updates_only_themselves(
    hass: HomeAssistant, lab: Lab, ws_as: Connect
) -> None:
    """update_member: own profile yes (the everyone-list reason holds), others no."""
    client = await ws_as(lab.plain)
    await client.send_json_auto_id(
        {
            "type": "call_service",
            "domain": DOMAIN,
            "service": "update_member",
            "service_data": {"member_id": lab.alice["id"], "name": "Alice B."},
        }
    )
    assert (await client.receive_json())["success"]
    assert lab.engine.members.data[lab.alice["id"]]["name"] == "Alice B."
    # Even an own call cannot smuggle a role in: the schema has no role field.
    await client.send_json_auto_id(
        {
            "type": "call_service",
            "domain": DOMAIN,
            "service": "update_member",
            "service_data": {"member_id": lab.alice["id"], "role": "admin"},
        }
    )
    reply = await client.receive_json()
    assert not reply["success"]
    assert lab.engine.members.data[lab.alice["id"]]["role"] == "user"


async def test_everyone_commands_stay_within_the_caller(
    hass: HomeAssistant, lab: Lab, ws_as: Connect
) -> None:
    """The commands open to everyone show a plain user only their own lab."""
    client = await ws_as(lab.plain)
    await client.send_json_auto_id({"type": f"{DOMAIN}/panel/lab"})
    view = (await client.receive_json())["result"]
    assert HOOD in str(view)
    assert LASER not in str(view)
    await client.send_json_auto_id({"type": f"{DOMAIN}/panel/profile"})
    profile = (await client.receive_json())["result"]
    assert profile["member"]["id"] == lab.alice["id"]
    assert profile["manager"] is False
    assert "04A1B2C3D4" not in str(profile)  # cards masked
    before = Member.from_storage(lab.engine.members.data[lab.alice["id"]]).pin_hash()
    await client.send_json_auto_id(
        {"type": f"{DOMAIN}/panel/change_pin", "current_pin": "000000", "new_pin": "1"}
    )
    assert not (await client.receive_json())["success"]
    await client.send_json_auto_id(
        {"type": f"{DOMAIN}/panel/change_pin", "new_pin": "13572468"}
    )
    assert not (await client.receive_json())["success"]  # current PIN required
    assert (
        Member.from_storage(lab.engine.members.data[lab.alice["id"]]).pin_hash()
        == before
    )
    await client.send_json_auto_id(
        {
            "type": f"{DOMAIN}/panel/change_pin",
            "current_pin": ALICE_PIN,
            "new_pin": "13572468",
        }
    )
    assert (await client.receive_json())["success"]
    assert (
        Member.from_storage(lab.engine.members.data[lab.alice["id"]]).pin_hash()
        != before
    )


@pytest.mark.parametrize(
    ("who", "device_id"),
    [
        ("plain", LASER),  # authorized for fumehoods only
        ("staff", HOOD),  # staff without authorizations
        ("staff", LASER),
        ("stranger", HOOD),  # no member at all
        ("plain", "no-such-device"),
    ],
)
async def test_routing_token_refused_for_other_devices(
    hass: HomeAssistant, lab: Lab, ws_as: Connect, who: str, device_id: str
) -> None:
    """fluxilab/panel/open refuses a device the user may not use, and audits nothing."""
    client = await ws_as(getattr(lab, who))
    audit_before = len(lab.engine.history.data["audit"])
    await client.send_json_auto_id(
        {"type": f"{DOMAIN}/panel/open", "device_id": device_id}
    )
    reply = await client.receive_json()
    assert not reply["success"]
    assert reply["error"]["code"] == ERR_UNAUTHORIZED
    assert "fluxilab_token" not in str(reply)
    assert len(lab.engine.history.data["audit"]) == audit_before


async def test_routing_token_for_own_device(
    hass: HomeAssistant, lab: Lab, ws_as: Connect
) -> None:
    """The same user gets a token for the device they may use (the refusal is real)."""
    client = await ws_as(lab.plain)
    await client.send_json_auto_id({"type": f"{DOMAIN}/panel/open", "device_id": HOOD})
    reply = await client.receive_json()
    assert reply["success"], reply
    assert "fluxilab_token=" in reply["result"]["url"]
