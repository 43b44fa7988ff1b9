"""The hub's key pair survives a restart of the lab as the devices pinned it.

A lab's first start (scripts/develop on a fresh config) discovers every device at
once: each discovery flow asks for the hub's key pair before any exists. The key the
hub then announces (and the agents pin) must be the one stored, or the next start
loads another key and every agent refuses the hub ("the hub announced a different
key") while the hub drops their messages as ``signature``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator
import json
from typing import Any
from unittest.mock import patch

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import storage
from homeassistant.helpers.service_info.mqtt import MqttServiceInfo
import pytest
from pytest_homeassistant_custom_component.typing import MqttMockHAClient

from custom_components.fluxilab.const import DOMAIN
from custom_components.fluxilab.hub import (
    HUB_ANNOUNCED,
    HUB_KEYS,
    STORAGE_KEY,
    async_announce_hub,
    async_get_hub_keys,
)
from custom_components.fluxilab.protocol.security import KeyPair


@pytest.fixture(autouse=True)
def disk_storage(hass: HomeAssistant) -> Generator[None]:
    """Storage that yields while it reads and writes, as the real one does.

    The real Store reads and writes in the executor; the test harness's in-memory
    storage answers without ever yielding, which hides every race through a load.
    """
    mocked_load = storage.Store._async_load
    mocked_write = storage.Store._async_write_data

    async def load(store: storage.Store) -> Any:
        await asyncio.sleep(0)
        return await mocked_load(store)

    async def write(store: storage.Store, data: dict[str, Any]) -> None:
        await asyncio.sleep(0)
        await mocked_write(store, data)

    with (
        patch.object(storage.Store, "_async_load", load),
        patch.object(storage.Store, "_async_write_data", write),
    ):
        yield


def _restart(hass: HomeAssistant) -> None:
    """Forget what this Home Assistant run holds in memory; storage stays."""
    hass.data.pop(HUB_KEYS, None)
    hass.data.pop(HUB_ANNOUNCED, None)


async def test_concurrent_first_use_stores_the_key_it_returns(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """Callers racing through the first load all get, and store, one key."""
    keys = await asyncio.gather(*(async_get_hub_keys(hass) for _ in range(5)))
    assert len({k.public_b64 for k in keys}) == 1
    stored = hass_storage[STORAGE_KEY]["data"]["private_key"]
    assert KeyPair.from_private_b64(stored).public_b64 == keys[0].public_b64

    _restart(hass)
    assert (await async_get_hub_keys(hass)).public_b64 == keys[0].public_b64


async def test_first_start_discovering_many_devices_keeps_the_key_across_restart(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    mqtt_mock: MqttMockHAClient,
    announce: dict[str, Any],
) -> None:
    """The lab's first start as scripts/develop runs it, then a restart.

    Seven agents announce at once; the fingerprint each discovery shows (what the
    admin compares, and what the agent computes from the hub key it pins) must
    come from the hub key that is still there after the restart.
    """
    devices = {f"sim-{n}": KeyPair.generate() for n in range(7)}
    results = await asyncio.gather(
        *(
            hass.config_entries.flow.async_init(
                DOMAIN,
                context={"source": "mqtt"},
                data=MqttServiceInfo(
                    topic=f"fluxilab/{device_id}/announce",
                    payload=json.dumps(
                        {**announce, "id": device_id, "key": device.public_b64}
                    ),
                    qos=1,
                    retain=True,
                    subscribed_topic="fluxilab/+/announce",
                    timestamp=0,
                ),
            )
            for device_id, device in devices.items()
        )
    )
    fingerprints = {r["description_placeholders"]["fingerprint"] for r in results}

    _restart(hass)
    hub = await async_get_hub_keys(hass)
    assert fingerprints == {
        device.derive(hub.public_b64).fingerprint for device in devices.values()
    }


async def test_announcement_that_failed_is_tried_again(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient
) -> None:
    """A publish refused (broker gone) leaves the base topic unannounced."""
    with (
        patch(
            "custom_components.fluxilab.hub.mqtt.async_publish",
            side_effect=HomeAssistantError("not connected"),
        ),
        pytest.raises(HomeAssistantError),
    ):
        await async_announce_hub(hass, "fluxilab")
    assert "fluxilab" not in hass.data[HUB_ANNOUNCED]

    mqtt_mock.async_publish.reset_mock()
    await async_announce_hub(hass, "fluxilab")
    await async_announce_hub(hass, "fluxilab")  # once per base topic
    hub = await async_get_hub_keys(hass)
    assert mqtt_mock.async_publish.call_count == 1
    topic, payload, qos, retain = mqtt_mock.async_publish.call_args.args
    assert (topic, qos, retain) == ("fluxilab/_hub/announce", 1, True)
    assert json.loads(payload)["key"] == hub.public_b64
