"""Draw FluxiLab's brand images into custom_components/fluxilab/brand/.

Since Home Assistant 2026.3 a custom integration ships its own brand images in
custom_components/<domain>/brand/; the `brands` integration serves them at
/api/brands/integration/<domain>/<image> ahead of the brands CDN. The images
follow the home-assistant/brands rules: PNG, RGB(A) with a transparent background,
trimmed to the artwork; icons square 256x256 (512x512 for @2x); logos landscape
with the shortest side 256 (512 for @2x), the maximum the rules allow.

The artwork is plain geometry (an Erlenmeyer flask with MQTT-style signal arcs and
a "FluxiLab" wordmark in Pillow's bundled scalable font), drawn large and scaled
down, so every run gives the same bytes for a given Pillow:

    scripts/run python scripts/make_brand.py [OUT_DIR]
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
import math
from pathlib import Path
import sys

from PIL import Image, ImageChops, ImageDraw, ImageFont

BRAND_DIR = (
    Path(__file__).resolve().parent.parent / "custom_components" / "fluxilab" / "brand"
)

ICON_SIZE = 256
LOGO_HEIGHT = 256
# Drawing size of the artwork before it is scaled down (antialiasing).
MASTER = 2048
WORDMARK = ("Fluxi", "Lab")

type Point = tuple[float, float]
type RGBA = tuple[int, int, int, int]


@dataclass(frozen=True, slots=True)
class Palette:
    """Colours of one theme variant."""

    outline: RGBA
    glass: RGBA
    liquid: RGBA
    bubble: RGBA
    signal: RGBA
    word_first: RGBA
    word_second: RGBA


LIGHT = Palette(
    outline=(38, 50, 56, 255),
    glass=(230, 246, 245, 255),
    liquid=(0, 150, 136, 255),
    bubble=(178, 235, 229, 255),
    signal=(245, 124, 0, 255),
    word_first=(38, 50, 56, 255),
    word_second=(0, 137, 123, 255),
)
DARK = Palette(
    outline=(236, 239, 241, 255),
    glass=(38, 50, 56, 255),
    liquid=(38, 198, 185, 255),
    bubble=(178, 235, 229, 255),
    signal=(255, 167, 38, 255),
    word_first=(236, 239, 241, 255),
    word_second=(77, 208, 196, 255),
)


def _scale(points: list[Point], size: int) -> list[Point]:
    """Map unit-square points to pixels."""
    return [(x * size, y * size) for x, y in points]


def _offset_polygon(points: list[Point], distance: float) -> list[Point]:
    """Move every edge of a clockwise (in image coordinates) polygon inwards."""
    count = len(points)
    lines: list[tuple[Point, Point]] = []
    for index in range(count):
        (x1, y1), (x2, y2) = points[index], points[(index + 1) % count]
        length = math.hypot(x2 - x1, y2 - y1)
        # Inward normal of a clockwise polygon in y-down coordinates.
        nx, ny = -(y2 - y1) / length, (x2 - x1) / length
        lines.append(
            (
                (x1 + nx * distance, y1 + ny * distance),
                (x2 + nx * distance, y2 + ny * distance),
            )
        )
    result: list[Point] = []
    for index in range(count):
        (ax, ay), (bx, by) = lines[index - 1]
        (cx, cy), (dx, dy) = lines[index]
        denominator = (ax - bx) * (cy - dy) - (ay - by) * (cx - dx)
        cross_ab = ax * by - ay * bx
        cross_cd = cx * dy - cy * dx
        result.append(
            (
                (cross_ab * (cx - dx) - (ax - bx) * cross_cd) / denominator,
                (cross_ab * (cy - dy) - (ay - by) * cross_cd) / denominator,
            )
        )
    return result


def _round_corners(points: list[Point], radius: float, steps: int = 24) -> list[Point]:
    """Replace every corner of a polygon by a circular arc of the given radius."""
    count = len(points)
    result: list[Point] = []
    for index in range(count):
        px, py = points[index]
        ax, ay = points[index - 1]
        bx, by = points[(index + 1) % count]
        len_a = math.hypot(ax - px, ay - py)
        len_b = math.hypot(bx - px, by - py)
        ux, uy = (ax - px) / len_a, (ay - py) / len_a
        vx, vy = (bx - px) / len_b, (by - py) / len_b
        half = math.acos(max(-1.0, min(1.0, ux * vx + uy * vy))) / 2
        # Never cut more than half of either edge.
        corner = min(radius, math.tan(half) * min(len_a, len_b) / 2)
        along = corner / math.tan(half)
        bisector = math.hypot(ux + vx, uy + vy)
        centre = (
            px + (ux + vx) / bisector * corner / math.sin(half),
            py + (uy + vy) / bisector * corner / math.sin(half),
        )
        start = (px + ux * along, py + uy * along)
        end = (px + vx * along, py + vy * along)
        angle_start = math.atan2(start[1] - centre[1], start[0] - centre[0])
        angle_end = math.atan2(end[1] - centre[1], end[0] - centre[0])
        sweep = (angle_end - angle_start + math.pi) % (2 * math.pi) - math.pi
        result.extend(
            (
                centre[0] + corner * math.cos(angle_start + sweep * step / steps),
                centre[1] + corner * math.sin(angle_start + sweep * step / steps),
            )
            for step in range(steps + 1)
        )
    return result


def _mask(size: int, polygon: list[Point]) -> Image.Image:
    """A filled polygon as an 8-bit mask."""
    mask = Image.new("L", (size, size), 0)
    ImageDraw.Draw(mask).polygon(polygon, fill=255)
    return mask


def _layer(canvas: Image.Image, colour: RGBA, mask: Image.Image) -> None:
    """Paint a solid colour through a mask onto the canvas."""
    canvas.paste(Image.new("RGBA", canvas.size, colour), (0, 0), mask)


def _draw_mark(palette: Palette, size: int) -> Image.Image:
    """Draw the flask-and-signal mark on a transparent square canvas."""
    canvas = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    stroke = 0.055 * size

    # Erlenmeyer flask, clockwise in image coordinates: neck, shoulders, base.
    flask = _scale(
        [
            (0.30, 0.10),
            (0.50, 0.10),
            (0.50, 0.38),
            (0.78, 0.90),
            (0.02, 0.90),
            (0.30, 0.38),
        ],
        size,
    )
    outer = _round_corners(flask, 0.06 * size)
    inner = _round_corners(_offset_polygon(flask, stroke), 0.04 * size)
    _layer(canvas, palette.outline, _mask(size, outer))
    inner_mask = _mask(size, inner)
    _layer(canvas, palette.glass, inner_mask)

    # Liquid: the glass below the fill line, with a few bubbles.
    level = Image.new("L", (size, size), 0)
    ImageDraw.Draw(level).rectangle((0, 0.60 * size, size, size), fill=255)
    _layer(canvas, palette.liquid, ImageChops.multiply(inner_mask, level))
    draw = ImageDraw.Draw(canvas)
    for cx, cy, radius in (
        (0.30, 0.72, 0.035),
        (0.44, 0.80, 0.025),
        (0.22, 0.82, 0.02),
    ):
        draw.ellipse(
            (
                (cx - radius) * size,
                (cy - radius) * size,
                (cx + radius) * size,
                (cy + radius) * size,
            ),
            fill=palette.bubble,
        )

    # Lip of the flask: a rounded bar wider than the neck.
    draw.rounded_rectangle(
        (0.25 * size, 0.04 * size, 0.55 * size, 0.12 * size),
        radius=0.04 * size,
        fill=palette.outline,
    )

    # Signal: a dot and three quarter arcs towards the upper right, round caps.
    cx, cy = 0.64 * size, 0.36 * size
    dot = 0.05 * size
    draw.ellipse((cx - dot, cy - dot, cx + dot, cy + dot), fill=palette.signal)
    arc_width = 0.06 * size
    for radius in (0.15 * size, 0.25 * size, 0.35 * size):
        box = (cx - radius, cy - radius, cx + radius, cy + radius)
        draw.arc(box, start=-90, end=0, fill=palette.signal, width=round(arc_width))
        middle = radius - arc_width / 2
        cap = arc_width / 2
        for end_x, end_y in ((cx, cy - middle), (cx + middle, cy)):
            draw.ellipse(
                (end_x - cap, end_y - cap, end_x + cap, end_y + cap),
                fill=palette.signal,
            )
    return canvas


def _trim(image: Image.Image) -> Image.Image:
    """Crop to the non-transparent pixels."""
    bbox = image.getchannel("A").getbbox()
    if bbox is None:
        raise ValueError("empty image")
    return image.crop(bbox)


def _square(image: Image.Image) -> Image.Image:
    """Centre an image on the smallest transparent square that holds it."""
    side = max(image.size)
    square = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    square.paste(image, ((side - image.width) // 2, (side - image.height) // 2))
    return square


@cache
def _master_mark(palette: Palette) -> Image.Image:
    """The mark at drawing size, trimmed and centred on a square."""
    return _square(_trim(_draw_mark(palette, MASTER)))


def render_icon(palette: Palette, size: int) -> Image.Image:
    """The square icon, trimmed to the mark, at the given size."""
    mark = _master_mark(palette)
    return mark.resize((size, size), Image.Resampling.LANCZOS)


def render_logo(palette: Palette, height: int) -> Image.Image:
    """The landscape logo (mark and wordmark), trimmed, at the given height."""
    mark = _master_mark(palette)
    font = ImageFont.load_default(size=round(MASTER * 0.66))
    gap = round(MASTER * 0.12)
    first, second = WORDMARK
    first_width = round(font.getlength(first))
    text_width = first_width + round(font.getlength(second))
    canvas = Image.new("RGBA", (MASTER + gap + text_width, MASTER), (0, 0, 0, 0))
    canvas.paste(mark, (0, 0))
    draw = ImageDraw.Draw(canvas)
    # Centre the capitals (the height of "F") on the mark.
    _, cap_top, _, cap_bottom = font.getbbox("F", anchor="ls")
    baseline = round(MASTER / 2 - (cap_top + cap_bottom) / 2)
    stroke = round(MASTER * 0.012)
    for text, left, colour in (
        (first, MASTER + gap, palette.word_first),
        (second, MASTER + gap + first_width, palette.word_second),
    ):
        draw.text(
            (left, baseline),
            text,
            font=font,
            fill=colour,
            anchor="ls",
            stroke_width=stroke,
            stroke_fill=colour,
        )
    logo = _trim(canvas)
    width = round(logo.width * height / logo.height)
    return logo.resize((width, height), Image.Resampling.LANCZOS)


def brand_images() -> dict[str, Image.Image]:
    """All eight brand images by file name."""
    images: dict[str, Image.Image] = {}
    for prefix, palette in (("", LIGHT), ("dark_", DARK)):
        for suffix, factor in (("", 1), ("@2x", 2)):
            images[f"{prefix}icon{suffix}.png"] = render_icon(
                palette, ICON_SIZE * factor
            )
            images[f"{prefix}logo{suffix}.png"] = render_logo(
                palette, LOGO_HEIGHT * factor
            )
    return images


def write_brand(out_dir: Path) -> list[Path]:
    """Write the brand images to out_dir as optimized PNGs; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, image in sorted(brand_images().items()):
        path = out_dir / name
        image.save(path, format="PNG", optimize=True)
        written.append(path)
    return written


def main(argv: list[str]) -> int:
    """Write the brand images to BRAND_DIR or the directory given."""
    out_dir = Path(argv[1]) if len(argv) > 1 else BRAND_DIR
    for path in write_brand(out_dir):
        with Image.open(path) as image:
            print(f"{path}: {image.width}x{image.height} {path.stat().st_size} B")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
