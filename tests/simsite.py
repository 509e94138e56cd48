"""A tiny fashion-like catalog (attribute columns as ground truth, gender in the titles) for the simulator's
tests: 5 kinds x 4 colours x 2 genders x 2 items, with images drawn by PIL."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

from PIL import Image

COLOURS = {"Black": (20, 20, 20), "White": (240, 240, 240), "Red": (200, 30, 30), "Blue": (30, 60, 200)}
KINDS = [("Formal Shoes", "Footwear", "Formal"), ("Casual Shoes", "Footwear", "Casual"),
         ("Tshirts", "Apparel", "Casual"), ("Shirts", "Apparel", "Formal"), ("Kurtas", "Apparel", "Ethnic")]
SITE_TOML = ('[site]\ntitle = "Tiny Fashion"\nbase_url = "https://shop.example/"\n'
             '[catalog]\npath = "catalog.csv"\nimages_dir = "."\ncolumns = {category = "article_type"}\n'
             '[represent]\nlexicons = ["en", "fashion"]\n[collect]\nmin_items = 3\n'
             '[build]\nthumbnail_widths = [40]\nprogress = false\n')


def rows() -> list[dict[str, str]]:
    out = []
    for n, ((kind, master, usage), colour, gender, k) in enumerate(
            itertools.product(KINDS, COLOURS, ("Men", "Women"), range(2)), 1):
        u = "Sports" if kind == "Tshirts" and k == 1 else usage
        out.append({"id": str(n), "title": f"Brand{n % 5} {gender} {colour} {kind}", "master_category": master,
                    "article_type": kind, "base_colour": colour, "usage": u, "image": f"img/{n}.png"})
    return out


def make_site(root: Path) -> Path:
    """Write the catalog, its images and site.toml into ``root``; returns ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "img").mkdir(exist_ok=True)
    data = rows()
    for r in data:
        rgb = COLOURS[r["base_colour"]]
        shade = int(r["id"]) % 7
        Image.new("RGB", (40, 50), tuple(min(255, c + 5 * shade) for c in rgb)).save(root / r["image"])
    with open(root / "catalog.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(data[0]))
        w.writeheader()
        w.writerows(data)
    (root / "site.toml").write_text(SITE_TOML, encoding="utf-8")
    return root
