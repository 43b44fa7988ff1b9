"""The FluxiLab panel: registration and every websocket command, as each role sees it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import copy
from datetime import timedelta
import json
from pathlib import Path
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
from aiohttp import web
import bcrypt
from homeassistant.auth.providers import homeassistant as auth_ha
from homeassistant.components import frontend
from homeassistant.components.websocket_api import ERR_UNAUTHORIZED
from homeassistant.core import Event, HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
    async_capture_events,
    async_fire_mqtt_message,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    MqttMockHAClient,
    WebSocketGenerator,
)

from custom_components.fluxilab.access.engine import ACCESS_ENGINE, AccessEngine
from custom_components.fluxilab.access.member_models import Member
from custom_components.fluxilab.access.sync import credential_members
from custom_components.fluxilab.api.panel import EVENT_ROUTING
from custom_components.fluxilab.const import (
    CONF_BASE_TOPIC,
    CONF_DEVICE_ID,
    CONF_DEVICE_KEY,
    CONF_FINGERPRINT,
    CONF_MACHINE_TYPE,
    CONF_UI_URL,
    DOMAIN,
)
from custom_components.fluxilab.device.models import Announcement
from custom_components.fluxilab.history_db import LiveSession
from custom_components.fluxilab.hub import async_get_hub_keys
from custom_components.fluxilab.panel import FRONTEND_DIR, PANEL_URL_PATH
from custom_components.fluxilab.protocol.schemas import DeviceKind
from custom_components.fluxilab.protocol.security import (
    KeyPair,
    ProtocolSecurityError,
    seal,
    verify_token,
)
from fluxilab_agent.gateway import COOKIE_NAME as GATEWAY_COOKIE, Gateway
from fluxilab_agent.mirror import CredentialMirror

HOOD, LASER, NEW = "hood-1", "laser-1", "hood-new"
HOOD_KEYS, LASER_KEYS = KeyPair.generate(), KeyPair.generate()

type Client = Any
type ClientFactory = Callable[[MockUser], Awaitable[Client]]


@pytest.fixture(autouse=True)
def fast_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash PINs at bcrypt's minimum cost."""
    monkeypatch.setattr("custom_components.fluxilab.access.store.BCRYPT_COST", 4)


def _entry(device_id: str, keys: KeyPair | None, machine_type: str) -> MockConfigEntry:
    data = {
        CONF_DEVICE_ID: device_id,
        CONF_BASE_TOPIC: "fluxilab",
        CONF_FINGERPRINT: "0000-0000-0000",
    }
    if keys is not None:
        data[CONF_DEVICE_KEY] = keys.public_b64
    return MockConfigEntry(
        domain=DOMAIN,
        title=device_id.title(),
        unique_id=device_id,
        data=data,
        options={
            CONF_MACHINE_TYPE: machine_type,
            CONF_UI_URL: f"http://127.0.0.1:8{len(device_id)}80/ui?lang=it",
        },
    )


@pytest.fixture
async def engine(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    hass_read_only_user: MockUser,
) -> AccessEngine:
    """Three devices (a fumehood, a laser, an unpaired hood) and a member Alice.

    Alice (the read-only HA user) is a plain user authorized for fumehoods.
    """
    for entry in (
        _entry(HOOD, HOOD_KEYS, "fumehood"),
        _entry(LASER, LASER_KEYS, "laser"),
        _entry(NEW, None, "fumehood"),
    ):
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    access = hass.data[ACCESS_ENGINE]
    await access.machine_types.async_create_item({"name": "Fumehood"})
    await access.machine_types.async_create_item({"name": "Laser"})
    await access.members.async_create_item(
        {
            "name": "Alice",
            "user_id": hass_read_only_user.id,
            "cards": ["04A1B2C3D4"],
            "pin": "123456",
        }
    )
    await access.authorizations.async_create_item(
        {"member_id": "alice", "machine_type_id": "fumehood"}
    )
    access.devices[HOOD].values["face_velocity"] = 0.52
    await hass.async_block_till_done()
    return access


@pytest.fixture
async def ws_as(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator
) -> ClientFactory:
    """Open a websocket connection authenticated as a given user."""

    async def _connect(user: MockUser) -> Client:
        refresh = await hass.auth.async_create_refresh_token(
            user, "https://example.com/"
        )
        return await hass_ws_client(hass, hass.auth.async_create_access_token(refresh))

    return _connect


async def command(client: Client, type_: str, **data: Any) -> dict[str, Any]:
    """Send one command and return its result message."""
    await client.send_json_auto_id({"type": f"{DOMAIN}/panel/{type_}", **data})
    result: dict[str, Any] = await client.receive_json()
    return result


def device_ids(view: dict[str, Any]) -> list[str]:
    """All device ids of a lab view, in order."""
    return [d["device_id"] for area in view["areas"] for d in area["devices"]]


async def test_panel_registered_and_module_served(
    hass: HomeAssistant, engine: AccessEngine, hass_client: ClientSessionGenerator
) -> None:
    panel = hass.data[frontend.DATA_PANELS][PANEL_URL_PATH]
    assert panel.sidebar_title == "FluxiLab"
    assert panel.sidebar_icon == "mdi:flask"
    assert panel.require_admin is False
    custom = panel.config["_panel_custom"]
    assert custom["name"] == "fluxilab-panel"
    client = await hass_client()
    response = await client.get(custom["module_url"])
    assert response.status == 200
    body = await response.text()
    # The committed bundle, which defines the element the panel names (through
    # frontend/src/define.ts, so the name is an argument of a minified call).
    assert body == (FRONTEND_DIR / "fluxilab-panel.js").read_text(encoding="utf-8")
    assert "customElements.define(" in body
    assert '"fluxilab-panel",' in body


async def test_lab_shows_the_gateway_certificate_fingerprint(
    engine: AccessEngine, ws_as: ClientFactory, hass_read_only_user: MockUser
) -> None:
    """Users compare it with the browser's warning for a self-signed gateway."""
    fingerprint = ":".join(["3F"] * 32)
    engine.devices[HOOD].announce = Announcement(
        id=HOOD,
        name="Hood",
        kind=DeviceKind.FUMEHOOD,
        model="FluxiLab agent",
        sw_version="0.1.0",
        key="device key",
        gateway_fingerprint=fingerprint,
    )
    view = (await command(await ws_as(hass_read_only_user), "lab"))["result"]
    shown = {
        d["device_id"]: d["gateway_fingerprint"]
        for area in view["areas"]
        for d in area["devices"]
    }
    assert shown == {HOOD: fingerprint, NEW: None}


async def test_lab_shows_the_safety_limits_and_boards(
    engine: AccessEngine, ws_as: ClientFactory, hass_read_only_user: MockUser
) -> None:
    """Issue 18 item 10: the interlock's limit is shown beside its live value; a
    device that is not a Fab-O-Matic board says so (boards never pair)."""
    limit = {"channel": "face_velocity", "min": 0.4}
    await engine.machine_types.async_update_item("fumehood", {"safety_limits": [limit]})
    view = (await command(await ws_as(hass_read_only_user), "lab"))["result"]
    shown = {
        d["device_id"]: (d["safety_limits"], d["board"])
        for area in view["areas"]
        for d in area["devices"]
    }
    assert shown == {HOOD: ([limit], False), NEW: ([limit], False)}


async def test_lab_shows_only_usable_devices(
    hass: HomeAssistant,
    engine: AccessEngine,
    ws_as: ClientFactory,
    hass_admin_user: MockUser,
    hass_read_only_user: MockUser,
) -> None:
    alice = await command(await ws_as(hass_read_only_user), "lab")
    assert alice["success"]
    view = alice["result"]
    assert view["member"] == {"id": "alice", "name": "Alice", "role": "user"}
    assert view["manager"] is False
    assert view["staff"] is False
    assert device_ids(view) == [NEW, HOOD] or device_ids(view) == [HOOD, NEW]
    hood = next(
        d for a in view["areas"] for d in a["devices"] if d["device_id"] == HOOD
    )
    assert hood["machine_type"] == "Fumehood"
    assert hood["paired"] is True
    assert hood["has_ui"] is True
    assert hood["blocked"] is False
    assert hood["in_use"] is False

    admin = (await command(await ws_as(hass_admin_user), "lab"))["result"]
    assert admin["manager"] is True
    assert admin["staff"] is True
    assert sorted(device_ids(admin)) == sorted([HOOD, LASER, NEW])

    stranger = await hass.auth.async_create_user("Stranger")
    assert device_ids((await command(await ws_as(stranger), "lab"))["result"]) == []

    # An expired authorization, or an inactive member, shows nothing.
    auth_id = next(iter(engine.authorizations.data))
    await engine.authorizations.async_update_item(
        auth_id, {"expires": (dt_util.utcnow() - timedelta(days=1)).isoformat()}
    )
    assert (
        device_ids((await command(await ws_as(hass_read_only_user), "lab"))["result"])
        == []
    )


async def test_open_issues_a_token_for_the_device(
    hass: HomeAssistant,
    engine: AccessEngine,
    ws_as: ClientFactory,
    hass_read_only_user: MockUser,
) -> None:
    events = async_capture_events(hass, EVENT_ROUTING)
    reply = await command(await ws_as(hass_read_only_user), "open", device_id=HOOD)
    assert reply["success"], reply
    url = urlsplit(reply["result"]["url"])
    assert (url.scheme, url.netloc, url.path) == ("http", "127.0.0.1:8680", "/ui")
    query = parse_qs(url.query)
    assert query["lang"] == ["it"]
    token = query["fluxilab_token"][0]

    hub = await async_get_hub_keys(hass)
    gateway_keys = HOOD_KEYS.derive(hub.public_b64)
    claims = verify_token(gateway_keys, token, device_id=HOOD)
    assert claims["aud"] == f"fluxilab:{HOOD}"
    assert (claims["sub"], claims["role"], claims["name"]) == ("alice", "user", "Alice")
    assert claims["exp"] - claims["iat"] == 60
    with pytest.raises(ProtocolSecurityError, match="audience"):
        verify_token(gateway_keys, token, device_id=LASER)
    with pytest.raises(ProtocolSecurityError, match="signature"):
        verify_token(LASER_KEYS.derive(hub.public_b64), token, device_id=HOOD)

    await hass.async_block_till_done()
    assert len(events) == 1
    assert events[0].data["fluxilab_device"] == HOOD
    assert events[0].data["member_id"] == "alice"
    assert events[0].data["user_id"] == hass_read_only_user.id
    assert events[0].context.user_id == hass_read_only_user.id
    assert token not in str(events[0].data)
    audit = engine.history.data["audit"][-1]
    assert (audit.kind, audit.device_id, audit.member_id) == (
        "routing",
        HOOD,
        "alice",
    )


async def test_open_signs_the_page_to_go_back_to_only_if_it_is_a_web_address(
    hass: HomeAssistant,
    engine: AccessEngine,
    ws_as: ClientFactory,
    hass_read_only_user: MockUser,
) -> None:
    """The device's "Back to Home Assistant" link: what the panel sent, if http(s)."""
    hub = await async_get_hub_keys(hass)
    gateway_keys = HOOD_KEYS.derive(hub.public_b64)
    alice = await ws_as(hass_read_only_user)

    async def back_claim(**back: str) -> str | None:
        reply = await command(alice, "open", device_id=HOOD, **back)
        assert reply["success"], reply
        token = parse_qs(urlsplit(reply["result"]["url"]).query)["fluxilab_token"][0]
        claim: str | None = verify_token(gateway_keys, token, device_id=HOOD).get(
            "back"
        )
        return claim

    page = "https://ha.lab.example/fluxilab?view=lab"
    assert await back_claim(back=page) == page
    assert await back_claim() is None
    assert await back_claim(back="javascript:alert(1)") is None
    assert await back_claim(back="https://alice@elsewhere.example/") is None
    too_long = await command(
        alice, "open", device_id=HOOD, back="https://a/" + "x" * 600
    )
    assert too_long["error"]["code"] == "invalid_format"


async def test_open_refused(
    hass: HomeAssistant,
    engine: AccessEngine,
    ws_as: ClientFactory,
    hass_admin_user: MockUser,
    hass_read_only_user: MockUser,
) -> None:
    events: list[Event] = async_capture_events(hass, EVENT_ROUTING)
    alice = await ws_as(hass_read_only_user)
    for device_id in (LASER, "no-such-device"):
        reply = await command(alice, "open", device_id=device_id)
        assert not reply["success"]
        assert reply["error"]["code"] == ERR_UNAUTHORIZED
        assert "result" not in reply

    stranger = await hass.auth.async_create_user("Stranger")
    reply = await command(await ws_as(stranger), "open", device_id=HOOD)
    assert reply["error"]["code"] == ERR_UNAUTHORIZED

    await engine.members.async_update_item("alice", {"active": False})
    reply = await command(alice, "open", device_id=HOOD)
    assert reply["error"]["code"] == ERR_UNAUTHORIZED

    # Unpaired: no keys, so no token, even for an admin.
    reply = await command(await ws_as(hass_admin_user), "open", device_id=NEW)
    assert reply["error"]["translation_key"] == "device_not_paired"
    await hass.async_block_till_done()
    assert events == []
    assert all(a.kind != "routing" for a in engine.history.data["audit"])


async def test_a_login_fluxilab_created_opens_the_device_ui_without_a_second_password(
    hass: HomeAssistant,
    engine: AccessEngine,
    ws_as: ClientFactory,
    hass_admin_user: MockUser,
    local_auth: auth_ha.HassAuthProvider,
    tmp_path: Path,
) -> None:
    """One identity: the Home Assistant login the admin made with the member is all
    they need; the panel's signed link opens a gateway session as their member."""
    admin = await ws_as(hass_admin_user)
    reply = await command(
        admin,
        "admin/member_create",
        name="Bruno",
        login_username="bruno",
        login_password="one password only",
    )
    assert reply["success"], reply
    member_id = reply["result"]["member_id"]
    await engine.authorizations.async_create_item(
        {"member_id": member_id, "machine_type_id": "fumehood"}
    )
    # Bruno logs in to Home Assistant with that username and password...
    await local_auth.async_validate_login("bruno", "one password only")
    credentials = await local_auth.async_get_or_create_credentials(
        {"username": "bruno"}
    )
    user = await hass.auth.async_get_user_by_credentials(credentials)
    assert user is not None
    assert user.id == engine.members.data[member_id]["user_id"]
    # ... and opens the fumehood from the panel.
    reply = await command(await ws_as(user), "open", device_id=HOOD)  # type: ignore[arg-type]
    assert reply["success"], reply
    url = urlsplit(reply["result"]["url"])

    # The device's gateway, with the credential set the hub sends it.
    hub = await async_get_hub_keys(hass)
    mirror = CredentialMirror(tmp_path / "credentials.json")
    mirror.replace(
        {
            "generation": 1,
            "members": [
                m.as_wire() for m in credential_members(engine, engine.devices[HOOD])
            ],
        }
    )
    seen: list[dict[str, str]] = []

    async def device_ui(request: web.Request) -> web.Response:
        seen.append(
            {k: v for k, v in request.headers.items() if k.startswith("X-FluxiLab")}
        )
        return web.Response(text="device UI")

    app = web.Application()
    app.router.add_get("/{tail:.*}", device_ui)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    gateway = Gateway(
        device_id=HOOD,
        keys_provider=lambda: HOOD_KEYS.derive(hub.public_b64),
        mirror=mirror,
        upstream=f"http://127.0.0.1:{runner.addresses[0][1]}",
        status_provider=dict,
        port=0,
    )
    await gateway.start()
    base = f"http://127.0.0.1:{gateway.port}"
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
            async with http.get(f"{base}{url.path}?{url.query}") as entry:
                assert entry.status == 200
                assert "password" not in (await entry.text()).lower()
                cookie = entry.cookies[GATEWAY_COOKIE].value
            async with http.get(
                f"{base}/ui", headers={"Cookie": f"{GATEWAY_COOKIE}={cookie}"}
            ) as page:
                assert page.status == 200
                assert await page.text() == "device UI"
    finally:
        await gateway.stop()
        await runner.cleanup()
    assert seen == [
        {
            "X-FluxiLab-User": member_id,
            "X-FluxiLab-Role": "user",
            "X-FluxiLab-Name": "Bruno",
        }
    ]


async def test_admin_without_member_opens_as_admin(
    hass: HomeAssistant,
    engine: AccessEngine,
    ws_as: ClientFactory,
    hass_admin_user: MockUser,
) -> None:
    reply = await command(await ws_as(hass_admin_user), "open", device_id=LASER)
    token = parse_qs(urlsplit(reply["result"]["url"]).query)["fluxilab_token"][0]
    hub = await async_get_hub_keys(hass)
    claims = verify_token(LASER_KEYS.derive(hub.public_b64), token, device_id=LASER)
    assert claims["role"] == "admin"
    assert claims["sub"] == f"ha:{hass_admin_user.id}"


async def test_profile(
    hass: HomeAssistant,
    engine: AccessEngine,
    ws_as: ClientFactory,
    hass_read_only_user: MockUser,
) -> None:
    engine.history.data["sessions"].append(
        LiveSession.from_entry(
            {
                "session_id": "s1",
                "device_id": HOOD,
                "member_id": "alice",
                "member_name": "Alice",
                "card": "04A1B2C3D4",
                "start": 1000.0,
                "end": 1600.0,
                "duration": 600.0,
            }
        )
    )
    reply = await command(await ws_as(hass_read_only_user), "profile")
    profile = reply["result"]
    assert profile["member"]["cards"] == ["••••••C3D4"]
    assert "04A1B2C3D4" not in str(profile)
    assert "pin_hash" not in str(profile)
    assert profile["member"]["has_pin"] is True
    assert profile["authorizations"][0]["target"] == "Fumehood"
    assert profile["authorizations"][0]["expired"] is False
    assert profile["sessions"] == [
        {
            "session_id": "s1",
            "device_id": HOOD,
            "start": 1000.0,
            "end": 1600.0,
            "duration": 600.0,
            "buffered": False,
        }
    ]
    stranger = await hass.auth.async_create_user("Stranger")
    assert (await command(await ws_as(stranger), "profile"))["result"]["member"] is None


async def test_change_pin(
    hass: HomeAssistant,
    engine: AccessEngine,
    ws_as: ClientFactory,
    hass_read_only_user: MockUser,
) -> None:
    alice = await ws_as(hass_read_only_user)
    old_hash = Member.from_storage(engine.members.data["alice"]).pin_hash()
    for data, key in (
        ({"current_pin": "123456", "new_pin": "12345"}, "pin_too_short"),
        ({"current_pin": "123456", "new_pin": "é" * 37}, "pin_too_long"),
        ({"current_pin": "654321", "new_pin": "new-secret"}, "wrong_pin"),
        ({"new_pin": "new-secret"}, "wrong_pin"),
    ):
        reply = await command(alice, "change_pin", **data)
        assert reply["error"]["translation_key"] == key, data
        assert Member.from_storage(engine.members.data["alice"]).pin_hash() == old_hash

    reply = await command(
        alice, "change_pin", current_pin="123456", new_pin="new-secret"
    )
    assert reply["success"], reply
    new_hash = Member.from_storage(engine.members.data["alice"]).pin_hash()
    assert bcrypt.checkpw(b"new-secret", new_hash.encode())

    # A user without a member has no PIN to change (access/permissions.py).
    stranger = await hass.auth.async_create_user("Stranger")
    reply = await command(await ws_as(stranger), "change_pin", new_pin="abcdefg")
    assert reply["error"]["code"] == ERR_UNAUTHORIZED


ADMIN_COMMANDS: list[tuple[str, dict[str, Any]]] = [
    ("admin/state", {}),
    ("admin/member_create", {"name": "Mallory", "role": "admin", "pin": "123456"}),
    ("admin/member_update", {"member_id": "alice", "role": "admin"}),
    ("admin/member_delete", {"member_id": "bob"}),
    ("admin/assign_card", {"member_id": "alice", "card": "FFFF0001"}),
    ("admin/grant", {"member_ids": ["alice"], "machine_type_id": "laser"}),
    ("admin/revoke", {"authorization_id": "alice_fumehood"}),
    ("admin/block", {"device_id": HOOD, "blocked": True}),
    ("admin/history", {}),
    ("admin/audit", {}),
    ("admin/machine_type_save", {"name": "Lathe"}),
    ("admin/machine_type_save", {"machine_type_id": "laser", "grace_period": 5}),
    ("admin/machine_type_delete", {"machine_type_id": "laser"}),
    ("admin/retention", {"usage_retention_days": 1}),
    ("admin/member_export", {"member_id": "alice"}),
]


def lab_state(engine: AccessEngine) -> Any:
    """Everything an admin command could change."""
    return copy.deepcopy(
        (
            engine.members.data,
            engine.authorizations.data,
            engine.machine_types.data,
            {
                d: (dev.blocked, engine.history.usage(d))
                for d, dev in engine.devices.items()
            },
            len(engine.history.data["audit"]),
        )
    )


@pytest.mark.parametrize(("type_", "data"), ADMIN_COMMANDS)
async def test_admin_commands_refused_for_non_admins(
    hass: HomeAssistant,
    engine: AccessEngine,
    ws_as: ClientFactory,
    hass_read_only_user: MockUser,
    type_: str,
    data: dict[str, Any],
) -> None:
    await engine.members.async_create_item({"name": "Bob"})
    # Staff is not enough: only the admin role (or a HA admin) manages the lab.
    staff = await hass.auth.async_create_user("Sam")
    await engine.members.async_create_item(
        {"name": "Sam", "role": "staff", "user_id": staff.id}
    )
    before = lab_state(engine)
    for user in (hass_read_only_user, staff):
        reply = await command(await ws_as(user), type_, **data)
        assert not reply["success"]
        assert reply["error"]["code"] == ERR_UNAUTHORIZED
    await hass.async_block_till_done()
    assert lab_state(engine) == before


async def test_staff_record_maintenance(
    hass: HomeAssistant,
    engine: AccessEngine,
    ws_as: ClientFactory,
    hass_read_only_user: MockUser,
) -> None:
    """Staff may maintain (as at the device); a user without a lab role may not."""
    staff = await hass.auth.async_create_user("Sam")
    await engine.members.async_create_item(
        {"name": "Sam", "role": "staff", "user_id": staff.id}
    )
    reply = await command(
        await ws_as(hass_read_only_user), "admin/record_maintenance", device_id=HOOD
    )
    assert reply["error"]["code"] == ERR_UNAUTHORIZED
    reply = await command(
        await ws_as(staff), "admin/record_maintenance", device_id=HOOD
    )
    assert reply["success"], reply


async def test_admin_console_as_lab_admin(
    hass: HomeAssistant,
    engine: AccessEngine,
    ws_as: ClientFactory,
    mqtt_mock: MqttMockHAClient,
) -> None:
    """A member with the admin role manages the lab without being a HA admin."""
    user = await hass.auth.async_create_user("Grace")
    await engine.members.async_create_item(
        {"name": "Grace", "role": "admin", "user_id": user.id}
    )
    ws = await ws_as(user)

    state = (await command(ws, "admin/state"))["result"]
    assert {m["id"] for m in state["members"]} == {"alice", "grace"}
    assert all("pin_hash" not in m for m in state["members"])
    assert {d["device_id"] for d in state["devices"]} == {HOOD, LASER, NEW}
    assert "Grace" in {u["name"] for u in state["users"]}

    reply = await command(
        ws, "admin/member_create", name="Bob", pin="abcdef", cards=["B0B"]
    )
    assert reply["result"] == {"member_id": "bob"}
    assert Member.from_storage(engine.members.data["bob"]).pin_hash().startswith("$2b$")
    reply = await command(ws, "admin/member_create", name="Eve", pin="short")
    assert reply["error"]["translation_key"] == "pin_too_short"
    assert "eve" not in engine.members.data

    assert (
        await command(
            ws, "admin/member_update", member_id="bob", role="staff", active=False
        )
    )["success"]
    assert (
        engine.members.data["bob"]["role"],
        engine.members.data["bob"]["active"],
    ) == ("staff", False)

    engine.history.add_unknown_card("CAFE01", HOOD, 1000.0)
    assert (await command(ws, "admin/assign_card", member_id="bob", card="CAFE01"))[
        "success"
    ]
    assert Member.from_storage(engine.members.data["bob"]).cards() == ["B0B", "CAFE01"]
    assert engine.history.data["unknown_cards"] == {}

    reply = await command(
        ws,
        "admin/grant",
        member_ids=["alice", "bob", "nobody"],
        machine_type_id="laser",
    )
    assert reply["error"]["translation_key"] == "unknown_member"
    assert "bob_laser" not in engine.authorizations.data
    reply = await command(
        ws,
        "admin/grant",
        member_ids=["alice", "bob"],
        machine_type_id="laser",
        expires="2099-01-01T00:00:00+00:00",
    )
    assert reply["result"]["authorization_ids"] == ["alice_laser", "bob_laser"]
    assert engine.authorizations.data["bob_laser"]["expires"].startswith("2099-01-01")
    assert (await command(ws, "admin/revoke", authorization_id="bob_laser"))["success"]
    assert "bob_laser" not in engine.authorizations.data

    assert (await command(ws, "admin/block", device_id=HOOD, blocked=True))["success"]
    assert engine.devices[HOOD].blocked is True
    assert (await command(ws, "admin/block", device_id=HOOD, blocked=False))["success"]
    assert engine.devices[HOOD].blocked is False
    reply = await command(ws, "admin/block", device_id="nope", blocked=True)
    assert reply["error"]["translation_key"] == "unknown_device"

    engine.history.usage(HOOD)["since_maintenance"] = 5.0
    assert (await command(ws, "admin/record_maintenance", device_id=HOOD))["success"]
    assert engine.history.usage(HOOD)["since_maintenance"] == 0.0
    assert engine.history.data["audit"][-1].member_id == "grace"

    engine.history.data["sessions"] += [
        LiveSession.from_entry(
            {
                "session_id": "a",
                "device_id": HOOD,
                "member_id": "alice",
                "member_name": "Alice",
                "card": None,
                "start": 100.0,
                "end": 200.0,
                "duration": 100.0,
                "closed_by": "device",
                "buffered": False,
            }
        ),
        LiveSession.from_entry(
            {
                "session_id": "b",
                "device_id": LASER,
                "member_id": "bob",
                "member_name": "Bob",
                "card": None,
                "start": 300.0,
                "end": 400.0,
                "duration": 100.0,
                "closed_by": "device",
                "buffered": False,
            }
        ),
    ]
    history = (await command(ws, "admin/history", member_id="alice"))["result"]
    assert [s["session_id"] for s in history["sessions"]] == ["a"]
    assert history["csv"].splitlines()[0].startswith("session_id,device_id,member_id")
    assert len(history["csv"].splitlines()) == 2
    reply = await command(
        ws, "admin/history", start="2024-01-02T00:00:00", end="2024-01-01T00:00:00"
    )
    assert reply["error"]["translation_key"] == "invalid_period"

    audit = (await command(ws, "admin/audit", device_id=HOOD, limit=1))["result"][
        "audit"
    ]
    assert [a["kind"] for a in audit] == ["maintenance"]

    # Not even a lab admin deletes their own member; deleting others works.
    reply = await command(ws, "admin/member_delete", member_id="grace")
    assert reply["error"]["translation_key"] == "cannot_delete_self"
    assert (await command(ws, "admin/member_delete", member_id="bob"))["success"]
    assert set(engine.members.data) == {"alice", "grace"}


async def test_subscribe_pushes_changes(
    hass: HomeAssistant,
    engine: AccessEngine,
    ws_as: ClientFactory,
    hass_read_only_user: MockUser,
) -> None:
    ws = await ws_as(hass_read_only_user)
    await ws.send_json_auto_id({"type": f"{DOMAIN}/panel/subscribe"})
    assert (await ws.receive_json())["success"]
    first = (await ws.receive_json())["event"]
    assert HOOD in device_ids(first)

    async def next_event() -> dict[str, Any]:
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=1))
        await hass.async_block_till_done()
        event: dict[str, Any] = (await ws.receive_json())["event"]
        return event

    await engine.devices[HOOD].async_set_blocked(True)
    event = await next_event()
    hood = next(
        d for a in event["areas"] for d in a["devices"] if d["device_id"] == HOOD
    )
    assert hood["blocked"] is True

    # Live values: a telemetry message pushes the view again.
    hub = await async_get_hub_keys(hass)
    topic = f"fluxilab/{HOOD}/telemetry"
    body = {"seq": 1, "ts": time.time(), "values": {"face_velocity": 0.61}}
    envelope = seal(HOOD_KEYS.derive(hub.public_b64), topic, body)
    async_fire_mqtt_message(hass, topic, json.dumps(envelope))
    await hass.async_block_till_done()
    assert engine.devices[HOOD].values["face_velocity"] == 0.61
    assert HOOD in device_ids(await next_event())

    await engine.authorizations.async_delete_item("alice_fumehood")
    assert device_ids(await next_event()) == []

    await ws.send_json_auto_id({"type": "unsubscribe_events", "subscription": 1})
    assert (await ws.receive_json())["success"]


async def test_machine_types_retention_and_export(
    hass: HomeAssistant,
    engine: AccessEngine,
    ws_as: ClientFactory,
    hass_admin_user: MockUser,
) -> None:
    ws = await ws_as(hass_admin_user)
    reply = await command(
        ws,
        "admin/machine_type_save",
        name="Lathe",
        session_timeout=1200,
        safety_limits=[{"channel": "spindle_current", "max": 8}],
        maintenance_interval=50,
    )
    assert reply["result"] == {"machine_type_id": "lathe"}
    lathe = engine.machine_types.data["lathe"]
    assert lathe["session_timeout"] == 1200
    assert lathe["grace_period"] == 60
    assert lathe["safety_limits"] == [{"channel": "spindle_current", "max": 8.0}]

    reply = await command(
        ws, "admin/machine_type_save", machine_type_id="lathe", session_timeout=5
    )
    assert reply["error"]["translation_key"] == "invalid_data"
    assert engine.machine_types.data["lathe"]["session_timeout"] == 1200
    reply = await command(
        ws, "admin/machine_type_save", machine_type_id="lathe", grace_period=10
    )
    assert reply["success"]
    assert engine.machine_types.data["lathe"]["grace_period"] == 10
    # Offline policy: safety limits made it deny; the admin may allow mirrored use.
    assert engine.machine_types.data["lathe"]["offline_policy"] == "deny"
    reply = await command(
        ws,
        "admin/machine_type_save",
        machine_type_id="lathe",
        offline_policy="allow_mirrored",
        offline_max_age=8,
    )
    assert reply["success"]
    assert engine.machine_types.data["lathe"]["offline_policy"] == "allow_mirrored"
    assert engine.machine_types.data["lathe"]["offline_max_age"] == 8
    reply = await command(
        ws, "admin/machine_type_save", machine_type_id="lathe", offline_policy="maybe"
    )
    assert reply["error"]["translation_key"] == "invalid_data"

    # A type still granted to someone stays; an unused one goes.
    reply = await command(ws, "admin/machine_type_delete", machine_type_id="fumehood")
    assert reply["error"]["translation_key"] == "invalid_data"
    assert "fumehood" in engine.machine_types.data
    assert (await command(ws, "admin/machine_type_delete", machine_type_id="lathe"))[
        "success"
    ]
    assert "lathe" not in engine.machine_types.data

    engine.history.data["sessions"].append(
        LiveSession.from_entry(
            {
                "session_id": "old",
                "device_id": HOOD,
                "member_id": "alice",
                "member_name": "Alice",
                "card": "04A1B2C3D4",
                "start": 1000.0,
                "end": 1600.0,
                "duration": 600.0,
            }
        )
    )
    export = (await command(ws, "admin/member_export", member_id="alice"))["result"]
    assert export["member"]["id"] == "alice"
    assert "pin_hash" not in export["member"]
    assert [s["session_id"] for s in export["sessions"]] == ["old"]

    reply = await command(ws, "admin/retention", usage_retention_days=30)
    assert reply["result"]["settings"]["usage_retention_days"] == 30
    assert reply["result"]["anonymized"] == 1
    assert engine.history.data["sessions"][-1].member_id is None
    reply = await command(ws, "admin/retention", usage_retention_days=0)
    assert not reply["success"]
    assert engine.history.data["settings"].usage_retention_days == 30


# Issue 14, finding 1: where the Open button goes ---------------------------------


@pytest.mark.parametrize(
    "ui_url", ["http://elsewhere.example/", "javascript:alert(document.cookie)"]
)
async def test_open_never_follows_an_unsealed_announcement(
    hass: HomeAssistant,
    engine: AccessEngine,
    ws_as: ClientFactory,
    hass_read_only_user: MockUser,
    ui_url: str,
) -> None:
    """A broker client announcing an address for a paired device gets no token sent."""
    entry = engine.devices[HOOD].entry
    hass.config_entries.async_update_entry(
        entry, options={CONF_MACHINE_TYPE: "fumehood"}
    )
    forged = {
        "v": 1,
        "id": HOOD,
        "name": "Hood",
        "kind": "fumehood",
        "model": "FH",
        "sw_version": "1",
        "key": HOOD_KEYS.public_b64,
        "ui_url": ui_url,
    }
    async_fire_mqtt_message(hass, f"fluxilab/{HOOD}/announce", json.dumps(forged))
    await hass.async_block_till_done()
    reply = await command(await ws_as(hass_read_only_user), "open", device_id=HOOD)
    assert not reply["success"]
    assert reply["error"]["translation_key"] == "no_device_ui"


@pytest.mark.parametrize(
    "stored", ["javascript:alert(1)", "data:text/html,<script>x</script>", "//evil/"]
)
async def test_open_refuses_a_stored_address_that_is_not_http(
    hass: HomeAssistant,
    engine: AccessEngine,
    ws_as: ClientFactory,
    hass_admin_user: MockUser,
    stored: str,
) -> None:
    """Whatever stored it (an older version, a hand-edited file), it is checked."""
    entry = engine.devices[HOOD].entry
    hass.config_entries.async_update_entry(
        entry, options={**entry.options, CONF_UI_URL: stored}
    )
    reply = await command(await ws_as(hass_admin_user), "open", device_id=HOOD)
    assert not reply["success"]
    assert reply["error"]["translation_key"] == "no_device_ui"


async def test_lab_view_says_staff_by_the_role_flags(
    hass: HomeAssistant,
    engine: AccessEngine,
    ws_as: ClientFactory,
    hass_read_only_user: MockUser,
) -> None:
    """A lab role that supervises gives staff's part of the panel; one that only
    uses every machine does not (whatever either is called)."""
    await engine.roles.async_create_item({"name": "Supervisor", "supervisor": True})
    await engine.roles.async_create_item({"name": "Staff tutor", "authorize_all": True})
    for role, staff in (("supervisor", True), ("staff_tutor", False), ("staff", True)):
        await engine.members.async_update_item("alice", {"role": role})
        view = (await command(await ws_as(hass_read_only_user), "lab"))["result"]
        assert view["member"]["role"] == role
        assert view["staff"] is staff, role
