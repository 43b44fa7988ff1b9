"""A small lab for the security tests: devices, machine types, members and users.

Home Assistant users (none of them an HA administrator):

* ``plain``: linked to Alice, a member with role ``user`` authorized for fumehoods;
* ``staff``: linked to Steve, a member with role ``staff`` (no authorizations);
* ``stranger``: an HA user with no member at all.

Devices: ``hood-1`` (machine type fumehood) and ``laser-1`` (machine type laser), both
paired, both with a UI address.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable
import copy
from dataclasses import dataclass
from typing import Any

from homeassistant.auth.const import GROUP_ID_USER
from homeassistant.components.mqtt.models import DATA_MQTT
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser
from pytest_homeassistant_custom_component.typing import (
    MqttMockHAClient,
    WebSocketGenerator,
)

from custom_components.fluxilab.access.engine import ACCESS_ENGINE, AccessEngine
from custom_components.fluxilab.const import (
    CONF_BASE_TOPIC,
    CONF_DEVICE_ID,
    CONF_DEVICE_KEY,
    CONF_FINGERPRINT,
    CONF_MACHINE_TYPE,
    CONF_UI_URL,
    DOMAIN,
)
from custom_components.fluxilab.protocol.security import KeyPair

HOOD, LASER = "hood-1", "laser-1"
DEVICE_KEYS = {HOOD: KeyPair.generate(), LASER: KeyPair.generate()}
ALICE_PIN = "482916"
ALICE_CARD = "04A1B2C3D4"

type Client = Any


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/fluxilab."""


@pytest.fixture(autouse=True)
def fast_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash PINs at bcrypt's minimum cost."""
    monkeypatch.setattr("custom_components.fluxilab.access.store.BCRYPT_COST", 4)


@pytest.fixture
async def mqtt_mock(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient
) -> AsyncGenerator[MqttMockHAClient]:
    """HA's MQTT mock, with its keep-alive timer cancelled at teardown.

    As in tests/integration/conftest.py: the mocked client never reports its socket
    closed, so its misc timer would outlive the test.
    """
    yield mqtt_mock
    client = hass.data[DATA_MQTT].client
    if (timer := client._misc_timer) is not None:
        timer.cancel()
        client._misc_timer = None


def device_entry(device_id: str, machine_type: str) -> MockConfigEntry:
    """An adopted, paired device with a UI address."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=device_id.title(),
        unique_id=device_id,
        data={
            CONF_DEVICE_ID: device_id,
            CONF_BASE_TOPIC: "fluxilab",
            CONF_DEVICE_KEY: DEVICE_KEYS[device_id].public_b64,
            CONF_FINGERPRINT: "0000-0000-0000",
        },
        options={
            CONF_MACHINE_TYPE: machine_type,
            CONF_UI_URL: f"http://127.0.0.1:18080/{device_id}/",
        },
    )


@dataclass
class Lab:
    """What the tests act on."""

    engine: AccessEngine
    plain: MockUser
    staff: MockUser
    stranger: MockUser
    alice: dict[str, Any]
    steve: dict[str, Any]
    admin_member: dict[str, Any]
    authorization: dict[str, Any]
    ha_device: dict[str, str]
    """FluxiLab device id -> Home Assistant device registry id."""


@pytest.fixture
async def lab(hass: HomeAssistant, mqtt_mock: MqttMockHAClient, local_auth: Any) -> Lab:
    """Two devices, two machine types, three members, three non-admin users."""
    entries = {
        HOOD: device_entry(HOOD, "fumehood"),
        LASER: device_entry(LASER, "laser"),
    }
    for entry in entries.values():
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    users_group = await hass.auth.async_get_group(GROUP_ID_USER)
    plain = MockUser(name="Plain", groups=[users_group]).add_to_hass(hass)
    staff = MockUser(name="Staff", groups=[users_group]).add_to_hass(hass)
    stranger = MockUser(name="Stranger", groups=[users_group]).add_to_hass(hass)
    for user in (plain, staff, stranger):
        assert not user.is_admin
    engine = hass.data[ACCESS_ENGINE]
    await engine.machine_types.async_create_item({"name": "Fumehood"})
    await engine.machine_types.async_create_item({"name": "Laser"})
    alice = await engine.members.async_create_item(
        {
            "name": "Alice",
            "user_id": plain.id,
            "cards": [ALICE_CARD],
            "pin": ALICE_PIN,
        }
    )
    steve = await engine.members.async_create_item(
        {"name": "Steve", "user_id": staff.id, "role": "staff", "cards": ["5EE5EE"]}
    )
    admin_member = await engine.members.async_create_item(
        {"name": "Ada", "role": "admin", "cards": ["ADA0001"]}
    )
    authorization = await engine.authorizations.async_create_item(
        {"member_id": alice["id"], "machine_type_id": "fumehood"}
    )
    registry = dr.async_get(hass)
    ha_device = {}
    for device_id in (HOOD, LASER):
        device = registry.async_get_device_by_identifier(
            (DOMAIN, device_id), entries[device_id].entry_id
        )
        assert device is not None
        ha_device[device_id] = device.id
    await hass.async_block_till_done()
    return Lab(
        engine=engine,
        plain=plain,
        staff=staff,
        stranger=stranger,
        alice=alice,
        steve=steve,
        admin_member=admin_member,
        authorization=authorization,
        ha_device=ha_device,
    )


def snapshot(engine: AccessEngine) -> dict[str, Any]:
    """Everything a refused call must leave as it was."""
    return copy.deepcopy(
        {
            "members": engine.members.data,
            "roles": engine.roles.data,
            "machine_types": engine.machine_types.data,
            "authorizations": engine.authorizations.data,
            "bookings": engine.bookings.data,
            "problems": engine.problems.data,
            "history": engine.history.data,
            "blocked": {
                device_id: device.blocked
                for device_id, device in engine.devices.items()
            },
        }
    )


@pytest.fixture
async def ws_as(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator
) -> Callable[[MockUser], Awaitable[Client]]:
    """Open a websocket connection authenticated as a given user."""

    async def _connect(user: MockUser) -> Client:
        refresh = await hass.auth.async_create_refresh_token(
            user, "https://example.com/"
        )
        return await hass_ws_client(hass, hass.auth.async_create_access_token(refresh))

    return _connect
