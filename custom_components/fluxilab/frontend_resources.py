"""The FluxiLab Lovelace resources: the device card and the lab dashboard strategy.

``frontend/fluxilab-cards.js`` is a second committed bundle of the repository's
``frontend/`` sources (``npm run build``). It defines ``custom:fluxilab-device-card``
(with its visual editor) and the ``custom:fluxilab`` dashboard strategy. Home
Assistant loads it on every page as an extra module (``add_extra_js_url``), the way
custom integrations ship cards, so no one has to add a dashboard resource by hand.
The card talks to Home Assistant only through the panel's websocket commands and
the entities' states, so it shows what those already allow (access/privacy.py).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Final

from homeassistant.components import frontend
from homeassistant.core import HomeAssistant

from .const import LOGGER

CARDS_FILE: Final = "fluxilab-cards.js"


def _cards_version(frontend_dir: Path) -> str:
    """Return a short digest of the bundle, so browsers reload it after an update."""
    return hashlib.sha256((frontend_dir / CARDS_FILE).read_bytes()).hexdigest()[:12]


async def async_register_cards(
    hass: HomeAssistant, static_url: str, frontend_dir: Path
) -> str | None:
    """Load the cards bundle (already served under ``static_url``) on every page.

    Return the module's URL, or None without Home Assistant's frontend (no page
    loads a module then). Registering twice (a reloaded entry) adds it once.
    """
    if "frontend" not in hass.config.components:
        LOGGER.debug("No frontend: the FluxiLab cards are not registered")
        return None
    version = await hass.async_add_executor_job(_cards_version, frontend_dir)
    url = f"{static_url}/{CARDS_FILE}?v={version}"
    frontend.add_extra_js_url(hass, url)
    return url
