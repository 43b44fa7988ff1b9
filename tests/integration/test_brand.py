"""Brand images: the brands rules, the script that draws them, and HA serving them.

Since Home Assistant 2026.3 the `brands` integration serves a custom integration's
custom_components/<domain>/brand/ images at /api/brands/integration/<domain>/<image>
before it asks the brands CDN.
"""

from __future__ import annotations

from http import HTTPStatus
from pathlib import Path
import runpy

from homeassistant.components.brands.const import ALLOWED_IMAGES
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from PIL import Image
import pytest
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)

from custom_components.fluxilab.const import DOMAIN

REPO = Path(__file__).resolve().parents[2]
BRAND_DIR = REPO / "custom_components" / DOMAIN / "brand"
ICONS = ("icon.png", "icon@2x.png", "dark_icon.png", "dark_icon@2x.png")
LOGOS = ("logo.png", "logo@2x.png", "dark_logo.png", "dark_logo@2x.png")


def _write_brand(out_dir: Path) -> list[Path]:
    """Run scripts/make_brand.py's write_brand (scripts/ is not a package)."""
    script = runpy.run_path(str(REPO / "scripts" / "make_brand.py"))
    written: list[Path] = script["write_brand"](out_dir)
    return written


def _scale(name: str) -> int:
    """1 for the standard image, 2 for the hDPI (@2x) one."""
    return 2 if name.endswith("@2x.png") else 1


def test_brand_folder_holds_exactly_the_eight_images() -> None:
    """Every name HA's brands view accepts is present, and nothing else."""
    assert set(ICONS + LOGOS) == ALLOWED_IMAGES
    assert sorted(path.name for path in BRAND_DIR.iterdir()) == sorted(ICONS + LOGOS)


@pytest.mark.parametrize("name", ICONS)
def test_icon_follows_the_brands_rules(name: str) -> None:
    """Square 256x256 (512x512 hDPI) PNG, transparent background, trimmed."""
    with Image.open(BRAND_DIR / name) as image:
        assert image.format == "PNG"
        assert image.mode == "RGBA"
        side = 256 * _scale(name)
        assert image.size == (side, side)
        alpha = image.getchannel("A")
        assert alpha.getpixel((0, 0)) == 0
        assert alpha.getpixel((side - 1, side - 1)) == 0
        bbox = alpha.getbbox()
        assert bbox is not None
        left, top, right, bottom = bbox
        # Trimmed: the artwork touches both edges of its longer dimension.
        assert (left, right) == (0, side) or (top, bottom) == (0, side)


@pytest.mark.parametrize("name", LOGOS)
def test_logo_follows_the_brands_rules(name: str) -> None:
    """Landscape PNG whose shortest side is the maximum allowed, trimmed."""
    with Image.open(BRAND_DIR / name) as image:
        assert image.format == "PNG"
        assert image.mode == "RGBA"
        width, height = image.size
        assert height == 256 * _scale(name)
        assert width > 2 * height
        alpha = image.getchannel("A")
        assert alpha.getpixel((width - 1, 0)) == 0
        assert alpha.getbbox() == (0, 0, width, height)


@pytest.mark.parametrize(
    ("light", "dark"),
    [(name, f"dark_{name}") for name in ICONS + LOGOS if not name.startswith("dark_")],
)
def test_dark_variants_differ_from_light(light: str, dark: str) -> None:
    """The dark variants are drawn for dark backgrounds, not copies."""
    assert (BRAND_DIR / light).read_bytes() != (BRAND_DIR / dark).read_bytes()


def test_committed_images_are_what_the_script_draws(tmp_path: Path) -> None:
    """Regenerating gives the committed bytes: the images cannot drift."""
    written = _write_brand(tmp_path)
    assert sorted(path.name for path in written) == sorted(ICONS + LOGOS)
    stale = [
        path.name
        for path in written
        if path.read_bytes() != (BRAND_DIR / path.name).read_bytes()
    ]
    assert not stale, f"run scripts/make_brand.py: {stale} differ"


@pytest.fixture
async def brands(hass: HomeAssistant) -> None:
    """Home Assistant's brands integration (with http and websocket_api)."""
    assert await async_setup_component(hass, "brands", {})
    await hass.async_block_till_done()


@pytest.mark.usefixtures("brands")
@pytest.mark.parametrize("name", ICONS + LOGOS)
async def test_home_assistant_serves_our_images(
    hass_client: ClientSessionGenerator, name: str
) -> None:
    """HA finds custom_components/fluxilab/brand/ and serves each image from it."""
    client = await hass_client()
    response = await client.get(f"/api/brands/integration/{DOMAIN}/{name}")
    assert response.status == HTTPStatus.OK
    assert response.content_type == "image/png"
    assert await response.read() == (BRAND_DIR / name).read_bytes()


@pytest.mark.usefixtures("brands")
async def test_frontend_token_fetches_icon(
    hass_client_no_auth: ClientSessionGenerator,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """An <img> without a session uses the websocket-issued token, as the UI does."""
    url = f"/api/brands/integration/{DOMAIN}/icon.png"
    client = await hass_client_no_auth()
    response = await client.get(url)
    assert response.status == HTTPStatus.FORBIDDEN

    websocket = await hass_ws_client()
    await websocket.send_json_auto_id({"type": "brands/access_token"})
    message = await websocket.receive_json()
    assert message["success"]
    token = message["result"]["token"]

    response = await client.get(url, params={"token": token})
    assert response.status == HTTPStatus.OK
    assert await response.read() == (BRAND_DIR / "icon.png").read_bytes()
