"""The hub's own identity: its X25519 key pair, one per Home Assistant instance."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN
from .protocol.security import KeyPair

STORAGE_KEY = f"{DOMAIN}.hub"
STORAGE_VERSION = 1
HUB_KEYS: HassKey[KeyPair] = HassKey(f"{DOMAIN}_hub_keys")


async def async_get_hub_keys(hass: HomeAssistant) -> KeyPair:
    """Load the hub's key pair, creating and storing it on first use."""
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
    # Another caller may have raced us through the awaits above; keep the first.
    return hass.data.setdefault(HUB_KEYS, keys)
