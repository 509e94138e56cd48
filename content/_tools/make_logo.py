"""Draw content/logo.png: the site's mark (the four tiles of sitegen's favicon.svg) at 512 x 512 px, for the
JSON-LD Organization logo (search engines want a raster logo of at least 112 x 112 px).

    python content/_tools/make_logo.py

Standard library and Pillow only; deterministic (no metadata in the PNG).
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

SIZE = 512
SCALE = SIZE / 64  # favicon.svg's viewBox is 64 x 64
# (x, y, width, height, radius, colour) in viewBox units, as in sitegen/theme/assets/favicon.svg
BACKGROUND = (0, 0, 64, 64, 14, "#1f4d46")
TILES = [(12, 12, 18, 18, 4, "#f4efe6"), (34, 12, 18, 26, 4, "#e0a458"),
         (12, 34, 18, 18, 4, "#e0a458"), (34, 42, 18, 10, 4, "#f4efe6")]


def draw(out: Path) -> None:
    img = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    pen = ImageDraw.Draw(img)
    for x, y, w, h, r, colour in [BACKGROUND, *TILES]:
        box = (round(x * SCALE), round(y * SCALE), round((x + w) * SCALE) - 1, round((y + h) * SCALE) - 1)
        pen.rounded_rectangle(box, radius=round(r * SCALE), fill=colour)
    img.save(out, "PNG", optimize=True)


if __name__ == "__main__":
    draw(Path(__file__).resolve().parents[1] / "logo.png")
