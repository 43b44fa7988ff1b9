"""Authorization sweep: every FluxiLab service and websocket command as non-admin users.

Services and commands are enumerated from Home Assistant itself (the service registry
and the websocket command table), so one added later is swept automatically: it is
either refused to non-admins or listed in ``FOR_EVERYONE`` with the reason. Call data
comes from the command's own schema, filled from ``SAMPLES``; a new required field
without a sample fails the sweep loudly instead of being skipped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from homeassistant.components import websocket_api
from homeassistant.components.websocket_api import ERR_UNAUTHORIZED
from homeassistant.core import Context, HomeAssistant, SupportsResponse
from homeassistant.exceptions import Unauthorized
import pytest
from pytest_homeassistant_custom_component.common import MockUser
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.fluxilab.access.credentials import member_pin_hash
from custom_components.fluxilab.const import DOMAIN
from custom_components.fluxilab.services import SERVICES

from .conftest import ALICE_PIN, HOOD, LASER, Client, Lab, snapshot

type Connect = Callable[[MockUser], Awaitable[Client]]

FOR_EVERYONE: dict[str, str] = {
    f"{DOMAIN}/panel/lab": "lists only the devices the caller's member may use",
    f"{DOMAIN}/panel/subscribe": "live updates of that same filtered list",
    f"{DOMAIN}/panel/open": "routing token, refused for devices the member may not "
    "use (test_routing_token_refused_for_other_devices)",
    f"{DOMAIN}/panel/profile": "the caller's own member, cards masked",
    f"{DOMAIN}/panel/change_pin": "the caller's own PIN, after the current one",
    f"{DOMAIN}/machine_type/list": "machine types are lab settings, not personal "
    "data; read-only, as docs/ACCESS.md says (creating, updating, deleting is "
    "admin-only)",
    f"{DOMAIN}/machine_type/subscribe": "the same list, live",
    f"{DOMAIN}/occupancy/list": "the count of people in the lab for everyone; names "
    "only for admins and staff (test_presence.py: test_occupancy_websocket_by_role)",
    f"{DOMAIN}/notify/get": "the caller's own notification target and phones",
    f"{DOMAIN}/notify/set": "the caller's own notification target (notify.*/script.*)",
    f"{DOMAIN}/interest/list": "the caller's own subscriptions; every queue only for "
    "managers (test_interest.py: test_panel_commands)",
    f"{DOMAIN}/lapsing/mine": "the caller's own authorizations with their lapse dates",
}
"""Websocket commands any logged-in user may call, and why."""

SERVICES_FOR_EVERYONE: dict[str, str] = {
    "add_credential": "a member adds their own PIN; cards and other members' "
    "credentials need a manager (swept here with another member's id)",
    "update_credential": "a member deactivates their own credential (a lost card); "
    "anything else needs a manager",
    "list_credentials": "a member lists their own credentials, never a hash",
    "update_member": "a member edits their own profile and PIN; another member's "
    "profile needs a manager (swept here with another member's id)",
    "check_in": "a member checks themselves in; anyone else needs a manager "
    "(swept here with another member's id)",
    "check_out": "the same for checking out",
    "notify_when_free": "a member queues themselves for a busy device; anyone else "
    "needs a manager (swept here with another member's id)",
    "cancel_notify_when_free": "the same for leaving the queue",
}
"""Services a non-admin may call on their own member only."""


def samples(lab: Lab, *, service: bool) -> dict[str, Any]:
    """Values that pass the schemas and would change something if accepted.

    Targets are other people's things (Ada the admin, the laser): a refused call
    must be refused because of who calls, not because the target is missing.
    """
    device = lab.ha_device[LASER] if service else LASER
    return {
        "name": "Mallory",
        "email": "mallory@example.com",
        "member_id": lab.admin_member["id"],
        "member_ids": [lab.alice["id"], lab.steve["id"]],
        "role": "admin",
        "active": False,
        "blocked": True,
        "card": "BADC0FFEE",
        "cards": ["BADC0FFEE"],
        "credential_type": "card",
        "credential_id": "0123456789abcdef0123456789abcdef",
        "label": "Mallory's",
        "pin": "999999",
        "user_id": lab.plain.id,
        "device_id": device,
        "fluxilab_device": LASER,
        "machine_type_id": "laser",
        "authorization_id": lab.authorization["id"],
        "session_id": "01HZZZZZZZZZZZZZZZZZZZZZZZ",
        "usage_retention_days": 1,
        "unknown_card_retention_days": 1,
        "folder": "/tmp/fluxilab-broker",
        "password": "hunter2hunter2",
        "session_timeout": 60,
    }


def fill(schema: Any, values: dict[str, Any], name: str) -> dict[str, Any]:
    """Return call data with every required field of ``schema`` (and known optional ones).

    Exclusive and Inclusive groups get their first member only (Inclusive ones as a
    pair, since both are in ``values``).
    """
    data: dict[str, Any] = {}
    exclusive: set[str] = set()
    fields = getattr(schema, "schema", schema)
    if not isinstance(fields, dict):
        return data
    for marker in fields:
        key = str(getattr(marker, "schema", marker))
        if key in ("type", "id"):
            continue
        kind = type(marker).__name__
        if kind == "Exclusive":
            group = marker.group_of_exclusion
            if group in exclusive:
                continue
            exclusive.add(group)
        if key in values:
            data[key] = values[key]
        elif kind == "Required":
            pytest.fail(f"{name}: add a sample value for its required field {key!r}")
    return data


def fluxilab_commands(hass: HomeAssistant) -> dict[str, Any]:
    """Every websocket command registered under fluxilab/, with its schema."""
    handlers: dict[str, tuple[Any, Any]] = hass.data[websocket_api.DOMAIN]
    return {
        name: schema
        for name, (_handler, schema) in handlers.items()
        if name.startswith(f"{DOMAIN}/")
    }


def test_sweep_covers_what_is_registered(hass: HomeAssistant, lab: Lab) -> None:
    """The sweep sees the panel, admin and collection commands and every service."""
    commands = fluxilab_commands(hass)
    assert set(FOR_EVERYONE) <= set(commands)
    for expected in (
        f"{DOMAIN}/panel/admin/member_create",
        f"{DOMAIN}/member/create",
        f"{DOMAIN}/authorization/list",
        f"{DOMAIN}/machine_type/delete",
    ):
        assert expected in commands
    assert len(commands) >= 35
    services = hass.services.async_services_for_domain(DOMAIN)
    assert set(SERVICES_FOR_EVERYONE) <= set(services)
    assert {"add_member", "block_device", "generate_broker_config"} <= set(services)


@pytest.mark.parametrize("who", ["plain", "staff", "stranger"])
async def test_admin_websocket_commands_refused(
    hass: HomeAssistant,
    lab: Lab,
    ws_as: Connect,
    mqtt_mock: MqttMockHAClient,
    who: str,
) -> None:
    """Every admin command answers unauthorized to a non-admin and changes nothing."""
    user: MockUser = getattr(lab, who)
    client = await ws_as(user)
    before = snapshot(lab.engine)
    mqtt_mock.async_publish.reset_mock()
    values = samples(lab, service=False)
    swept = []
    for name, schema in sorted(fluxilab_commands(hass).items()):
        if name in FOR_EVERYONE:
            continue
        data = fill(schema, values, name)
        await client.send_json_auto_id({"type": name, **data})
        reply = await client.receive_json()
        assert not reply["success"], f"{who} ran {name}: {reply}"
        assert reply["error"]["code"] == ERR_UNAUTHORIZED, f"{name}: {reply}"
        swept.append(name)
    await hass.async_block_till_done()
    assert len(swept) >= 28
    assert snapshot(lab.engine) == before
    # Nothing went to the devices either (block commands, credential syncs).
    assert mqtt_mock.async_publish.call_count == 0


@pytest.mark.parametrize("who", ["plain", "staff", "stranger"])
async def test_admin_services_refused(
    hass: HomeAssistant,
    lab: Lab,
    mqtt_mock: MqttMockHAClient,
    who: str,
) -> None:
    """Every service, called with a non-admin's context, raises Unauthorized."""
    user: MockUser = getattr(lab, who)
    before = snapshot(lab.engine)
    mqtt_mock.async_publish.reset_mock()
    values = samples(lab, service=True)
    services = hass.services.async_services_for_domain(DOMAIN)
    for name, service in sorted(services.items()):
        data = fill(service.schema, values, name)
        with pytest.raises(Unauthorized):
            await hass.services.async_call(
                DOMAIN,
                name,
                data,
                blocking=True,
                context=Context(user_id=user.id),
                return_response=service.supports_response is SupportsResponse.ONLY,
            )
    await hass.async_block_till_done()
    assert set(services) == set(SERVICES)  # the registry, not a list kept here
    assert snapshot(lab.engine) == before
    assert mqtt_mock.async_publish.call_count == 0


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
    before = member_pin_hash(lab.engine.members.data[lab.alice["id"]])
    await client.send_json_auto_id(
        {"type": f"{DOMAIN}/panel/change_pin", "current_pin": "000000", "new_pin": "1"}
    )
    assert not (await client.receive_json())["success"]
    await client.send_json_auto_id(
        {"type": f"{DOMAIN}/panel/change_pin", "new_pin": "13572468"}
    )
    assert not (await client.receive_json())["success"]  # current PIN required
    assert member_pin_hash(lab.engine.members.data[lab.alice["id"]]) == before
    await client.send_json_auto_id(
        {
            "type": f"{DOMAIN}/panel/change_pin",
            "current_pin": ALICE_PIN,
            "new_pin": "13572468",
        }
    )
    assert (await client.receive_json())["success"]
    assert member_pin_hash(lab.engine.members.data[lab.alice["id"]]) != before


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
