"""The FluxiLab sidebar panel: a committed JavaScript module served by the integration.

Nothing is built at install time: ``frontend/fluxilab-panel.js`` is the bundle of the
lit + TypeScript sources in the repository's ``frontend/`` (``npm run build``; the
bundle is committed, so users need no Node), one ES module without external imports
that talks to Home Assistant only through the websocket commands of :mod:`.api.panel`
and the access package. The Lovelace card and dashboard strategy are a second
bundle, loaded on every page by :mod:`.frontend_resources`. Every member may open the panel (``require_admin=False``);
what each user sees and may do is decided server-side.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Final

from homeassistant.components import frontend, panel_custom
from homeassistant.components.http import StaticPathConfig
from homeassistant.core import HomeAssistant

from .api.panel import async_setup_panel_api
from .const import DOMAIN, LOGGER
from .frontend_resources import async_register_cards

PANEL_URL_PATH: Final = DOMAIN
PANEL_TITLE: Final = "FluxiLab"
PANEL_ICON: Final = "mdi:flask"
PANEL_ELEMENT: Final = "fluxilab-panel"
STATIC_URL: Final = f"/{DOMAIN}_static"
MODULE_FILE: Final = "fluxilab-panel.js"
FRONTEND_DIR: Final = Path(__file__).parent / "frontend"


def _module_version() -> str:
    """Return a short digest of the module, so browsers reload it after an update."""
    return hashlib.sha256((FRONTEND_DIR / MODULE_FILE).read_bytes()).hexdigest()[:12]


async def async_setup_panel(hass: HomeAssistant) -> None:
    """Register the panel's websocket commands, its static files, the panel and cards."""
    async_setup_panel_api(hass)
    if "http" not in hass.config.components:
        LOGGER.debug("No HTTP server: the FluxiLab panel is not registered")
        return
    await hass.http.async_register_static_paths(
        [StaticPathConfig(STATIC_URL, str(FRONTEND_DIR), cache_headers=False)]
    )
    version = await hass.async_add_executor_job(_module_version)
    if PANEL_URL_PATH in hass.data.get(frontend.DATA_PANELS, {}):
        return
    await async_register_cards(hass, STATIC_URL, FRONTEND_DIR)
    await panel_custom.async_register_panel(
        hass,
        frontend_url_path=PANEL_URL_PATH,
        webcomponent_name=PANEL_ELEMENT,
        sidebar_title=PANEL_TITLE,
        sidebar_icon=PANEL_ICON,
        module_url=f"{STATIC_URL}/{MODULE_FILE}?v={version}",
        embed_iframe=False,
        require_admin=False,
    )
