"""Secrets never reach logs or diagnostics.

One scenario with every logger at DEBUG: a device is discovered and paired through
the config flow; members are created with cards and PINs and their credentials are
synced (encrypted) to the devices; a member changes their PIN; a routing token is
issued; the device's gateway (the real one from the agent, on loopback) takes that
token and a PIN login with the credential set the hub really published. Then the
captured log text and the diagnostics of every device are searched for the hub's
private key, every derived key (hex and base64), bcrypt hashes, PINs, the gateway
token, and (in diagnostics, where they are redacted) card ids.
"""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path
import time
from typing import Any

import aiohttp
from homeassistant.config_entries import SOURCE_MQTT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.mqtt import MqttServiceInfo
import pytest
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.fluxilab.access.member_models import Member
from custom_components.fluxilab.const import DOMAIN
from custom_components.fluxilab.diagnostics import (
    async_get_config_entry_diagnostics,
    async_get_device_diagnostics,
)
from custom_components.fluxilab.hub import async_get_hub_keys
from custom_components.fluxilab.protocol.security import (
    KeyPair,
    SessionKeys,
    b64decode,
    open_envelope,
)
from fluxilab_agent.gateway import COOKIE_NAME, TOKEN_PARAM, Gateway
from fluxilab_agent.mirror import CredentialMirror

from .conftest import ALICE_CARD, ALICE_PIN, DEVICE_KEYS, HOOD, Lab

NEW_PIN = "70315926"
WEBSOCKET_DEBUG_LOGGER = "homeassistant.components.websocket_api.http.connection"
NEW_DEVICE = "hood-9"
NEW_KEYS = KeyPair.generate()


def encodings(secret: bytes) -> set[str]:
    """Every way a key could be printed."""
    standard = base64.b64encode(secret).decode()
    urlsafe = base64.urlsafe_b64encode(secret).decode()
    return {
        secret.hex(),
        secret.hex().upper(),
        standard,
        standard.rstrip("="),
        urlsafe,
        urlsafe.rstrip("="),
    }


def key_secrets(keys: SessionKeys) -> set[str]:
    """The derived keys of one pairing."""
    found: set[str] = set()
    for name in ("mac", "enc", "token"):
        found |= encodings(getattr(keys, name))
    return found


def published(mqtt_mock: MqttMockHAClient, topic: str) -> list[dict[str, Any]]:
    """Envelopes the hub published on ``topic`` (decoded JSON)."""
    return [
        json.loads(call.args[1])
        for call in mqtt_mock.async_publish.call_args_list
        if call.args[0] == topic
    ]


@pytest.mark.usefixtures("socket_enabled")
async def test_no_secret_in_logs_or_diagnostics(
    hass: HomeAssistant,
    lab: Lab,
    mqtt_mock: MqttMockHAClient,
    ws_as: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Pair, sync, set a PIN, route, log in at the gateway; then grep everything."""
    caplog.set_level(logging.DEBUG)
    hub = await async_get_hub_keys(hass)

    # Pairing: a new device announces itself and the admin adopts it.
    announce = {
        "v": 1,
        "id": NEW_DEVICE,
        "name": "Fumehood 9",
        "kind": "fumehood",
        "model": "FH-1200",
        "sw_version": "0.1.0",
        "serial": "SN-SECRET-9",
        "key": NEW_KEYS.public_b64,
    }
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_MQTT},
        data=MqttServiceInfo(
            topic=f"fluxilab/{NEW_DEVICE}/announce",
            payload=json.dumps(announce),
            qos=1,
            retain=True,
            subscribed_topic="fluxilab/+/announce",
            timestamp=time.time(),
        ),
    )
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()

    # Credentials: a member with a card and a PIN, synced to every device.
    mqtt_mock.async_publish.reset_mock()
    bob = await lab.engine.members.async_create_item(
        {"name": "Bob", "cards": ["B0B5CA4D"], "pin": "55119933"}
    )
    await lab.engine.authorizations.async_create_item(
        {"member_id": bob["id"], "machine_type_id": "fumehood"}
    )
    await hass.services.async_call(DOMAIN, "force_sync", {}, blocking=True)
    await hass.async_block_till_done()

    # A member changes their PIN in the panel, then opens the hood's UI.
    client = await ws_as(lab.plain)
    await client.send_json_auto_id(
        {
            "type": f"{DOMAIN}/panel/change_pin",
            "current_pin": ALICE_PIN,
            "new_pin": NEW_PIN,
        }
    )
    assert (await client.receive_json())["success"]
    await hass.async_block_till_done()
    await client.send_json_auto_id({"type": f"{DOMAIN}/panel/open", "device_id": HOOD})
    reply = await client.receive_json()
    assert reply["success"], reply
    token = reply["result"]["url"].split(f"{TOKEN_PARAM}=")[1]

    # The gateway of the hood, with the credential set the hub really sent it.
    hood_keys = DEVICE_KEYS[HOOD].derive(hub.public_b64)
    topic = f"fluxilab/{HOOD}/credentials"
    envelopes = published(mqtt_mock, topic)
    assert envelopes, "no credentials were synced to the hood"
    credentials = open_envelope(hood_keys, topic, envelopes[-1], decrypt=True)
    mirror = CredentialMirror(Path(hass.config.path("fluxilab-mirror.json")))
    mirror.replace(credentials)
    gateway = Gateway(
        device_id=HOOD,
        keys_provider=lambda: hood_keys,
        mirror=mirror,
        upstream=None,
        status_provider=lambda: {"name": "Fumehood 1", "online": True},
        port=0,
    )
    await gateway.start()
    try:
        base = f"http://127.0.0.1:{gateway.port}"
        async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
            async with http.get(base + "/", params={TOKEN_PARAM: token}) as response:
                assert response.status == 200
                cookie = response.cookies[COOKIE_NAME].value
            async with http.post(
                base + "/_fluxilab/login",
                data={"login": "alice", "secret": NEW_PIN},
                allow_redirects=False,
            ) as response:
                assert response.status in (302, 303)
                session = response.cookies[COOKIE_NAME].value
    finally:
        await gateway.stop()

    # Everything that must never be printed.
    alice = lab.engine.members.data[lab.alice["id"]]
    secrets: dict[str, set[str]] = {
        "hub private key": encodings(b64decode(hub.private_b64())),
        "PIN": {ALICE_PIN, NEW_PIN, "55119933"},
        "bcrypt hash": {
            Member.from_storage(alice).pin_hash(),
            Member.from_storage(bob).pin_hash(),
        }
        | {m["pin_hash"] for m in credentials["members"] if m.get("pin_hash")},
        "gateway token": {token, token.split(".")[2]},
        "gateway session": {cookie, session},
    }
    for device_id, keys in (*DEVICE_KEYS.items(), (NEW_DEVICE, NEW_KEYS)):
        secrets[f"derived keys of {device_id}"] = key_secrets(
            keys.derive(hub.public_b64)
        )
        secrets[f"private key of {device_id}"] = {keys.private_b64()}
    assert all(len(value) >= 6 for values in secrets.values() for value in values)

    # Home Assistant's own websocket debug log echoes every received command, PIN
    # changes included (as it echoes the auth message's access token): a
    # developer-only log that must stay off in production. Everything else counts.
    logs = "\n".join(
        f"{record.name} {record.getMessage()} {record.exc_text or ''}"
        for record in caplog.records
        if not record.name.startswith(WEBSOCKET_DEBUG_LOGGER)
    )
    assert "Routing user" in logs  # the scenario did log at debug/info level
    for what, values in secrets.items():
        for value in values:
            assert value not in logs, f"{what} in the logs"

    diagnostics: list[Any] = []
    for entry in hass.config_entries.async_entries(DOMAIN):
        diagnostics.append(await async_get_config_entry_diagnostics(hass, entry))
        registry_device = device_registry_entry(hass, entry)
        if registry_device is not None:
            diagnostics.append(
                await async_get_device_diagnostics(hass, entry, registry_device)
            )
    text = json.dumps(diagnostics, default=str)
    redacted = {
        **secrets,
        "card id": {ALICE_CARD, "B0B5CA4D", "5EE5EE", "ADA0001"},
        "serial": {"SN-SECRET-9"},
        "device public key": {NEW_KEYS.public_b64},
    }
    for what, values in redacted.items():
        for value in values:
            assert value not in text, f"{what} in the diagnostics"


def device_registry_entry(hass: HomeAssistant, entry: Any) -> Any:
    """The registry device of a config entry, if it has one."""
    from homeassistant.helpers import device_registry as dr  # noqa: PLC0415

    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    return devices[0] if devices else None
