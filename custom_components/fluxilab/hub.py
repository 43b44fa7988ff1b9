"""The hub's own identity: its X25519 key pair, one per Home Assistant instance."""

from __future__ import annotations

import asyncio
import json

from homeassistant.components import mqtt
from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN
from .protocol import PROTOCOL_VERSION
from .protocol.schemas import HUB_ANNOUNCE_SCHEMA
from .protocol.security import KeyPair
from .protocol.topics import hub_topic

STORAGE_KEY = f"{DOMAIN}.hub"
STORAGE_VERSION = 1
HUB_KEYS: HassKey[KeyPair] = HassKey(f"{DOMAIN}_hub_keys")
HUB_ANNOUNCED: HassKey[set[str]] = HassKey(f"{DOMAIN}_hub_announced")
_HUB_KEYS_LOCK: HassKey[asyncio.Lock] = HassKey(f"{DOMAIN}_hub_keys_lock")


async def async_get_hub_keys(hass: HomeAssistant) -> KeyPair:
    """Load the hub's key pair, creating and storing it on first use.

    One caller at a time loads or creates it: a lab's first start discovers every
    device at once, and two callers each generating a key would store one and use
    the other, so the devices would pin a key the next start no longer has.
    """
    if (keys := hass.data.get(HUB_KEYS)) is not None:
        return keys
    async with hass.data.setdefault(_HUB_KEYS_LOCK, asyncio.Lock()):
        if (keys := hass.data.get(HUB_KEYS)) is not None:
            return keys
        store: Store[dict[str, str]] = Store(
            hass, STORAGE_VERSION, STORAGE_KEY, private=True
        )
        stored = await store.async_load()
        if stored and "private_key" in stored:
            keys = KeyPair.from_private_b64(stored["private_key"])
        else:
            keys = KeyPair.generate()
            await store.async_save({"private_key": keys.private_b64()})
        hass.data[HUB_KEYS] = keys
        return keys


async def async_announce_hub(hass: HomeAssistant, base: str) -> None:
    """Publish the hub's public key, retained, under ``base`` (once per base topic).

    Devices pin this key when they pair; retained, so a device that connects later
    still finds it.
    """
    announced = hass.data.setdefault(HUB_ANNOUNCED, set())
    if base in announced:
        return
    announced.add(base)
    keys = await async_get_hub_keys(hass)
    payload = HUB_ANNOUNCE_SCHEMA({"v": PROTOCOL_VERSION, "key": keys.public_b64})
    try:
        await mqtt.async_publish(
            hass, hub_topic(base), json.dumps(payload), qos=1, retain=True
        )
    except Exception:
        announced.discard(base)
        raise
