"""The Lovelace cards bundle is loaded on every page once the frontend runs: the
integration registers it as an extra module, versioned by its content."""

from __future__ import annotations

import hashlib

from homeassistant.components import frontend
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    MqttMockHAClient,
)

from custom_components.fluxilab.frontend_resources import CARDS_FILE
from custom_components.fluxilab.panel import FRONTEND_DIR


async def test_cards_module_is_registered_and_served(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    mock_config_entry: MockConfigEntry,
    hass_client: ClientSessionGenerator,
) -> None:
    assert await async_setup_component(hass, "frontend", {})
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    bundle = (FRONTEND_DIR / CARDS_FILE).read_bytes()
    version = hashlib.sha256(bundle).hexdigest()[:12]
    url = f"/fluxilab_static/{CARDS_FILE}?v={version}"
    assert url in hass.data[frontend.DATA_EXTRA_MODULE_URL].urls
    client = await hass_client()
    response = await client.get(url)
    assert response.status == 200
    assert await response.read() == bundle
