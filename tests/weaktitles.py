"""A catalog of another domain with weak, file-name titles, generated from the example site's public-domain
clipart (``content/images``), and a checker of the junk topics a build of it may publish.

Each item is one image with a title made the way a file name would give it: the uploader's handle and the
subject, hyphens turned into spaces ("architetto-fra-red-apple" -> "Architetto fra red apple"). Several
creators each draw across every category, a subject about three times (by different creators); a creator's
handle usually starts the title, sometimes ends it ("red apple by ganson"). There are no keywords, no description, and a category on only some items (or none).
The generator returns its ground truth (the creator names), so the checker does not learn anything from the
pipeline it checks.
"""

from __future__ import annotations

import csv
import random
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from .conftest import ROOT

CREATORS = ("architetto fra", "juliane krug", "gerald g", "ganson", "johnny automatic", "papapishu")
COLOURS = frozenset({"black", "white", "grey", "gray", "beige", "brown", "red", "maroon", "orange", "yellow",
                     "olive", "green", "teal", "blue", "navy", "purple", "pink", "gold", "silver"})
FILLER = frozenset({"a", "an", "and", "the", "of", "for", "with", "by", "in", "on", "to", "clipart", "clip", "art",
                    "image", "images", "picture", "pictures", "ideas", "idea", "inspiration", "free", "vector",
                    "illustration", "illustrations", "drawing", "drawings", "cartoon", "icon", "icons"})


@dataclass(frozen=True)
class WeakCatalog:
    root: Path  # the site folder (site.toml, catalog.csv, images/)
    creators: tuple[str, ...]  # ground truth: every creator name used in a title
    items: int
    rows: tuple[dict[str, str], ...] = ()

    def catalog_items(self) -> list:
        """The rows as ``Item``s (no image read): for the lexical stages alone."""
        from sitegen.core.models import Item

        return [Item(id=r["id"], title=r["title"], image=r["image"], image_sha=r["id"], width=64, height=64,
                     category=r.get("category", "")) for r in self.rows]


def make_weak_catalog(dest: Path, *, n_items: int = 300, seed: int = 0, category_share: float = 0.4,
                      suffix_share: float = 0.1, copy_images: bool = True) -> WeakCatalog:
    """Write a site with default settings (no lexicons chosen) over ``n_items`` example images (seeded);
    without ``copy_images`` only the rows are made."""
    rng = random.Random(seed)
    images = sorted((ROOT / "content" / "images").glob("*/*.png"))
    # a subject is drawn by several creators: about three items per image, as in a real upload library
    subjects = sorted(rng.sample(images, min(len(images), max(1, n_items // 3))))
    picked = sorted(subjects[n % len(subjects)] for n in range(n_items))
    (dest / "images").mkdir(parents=True, exist_ok=True)
    rows = []
    for n, path in enumerate(picked):
        category = path.parent.name
        subject = path.stem[len(category) + 1:] if path.stem.startswith(category + "-") else path.stem
        creator = CREATORS[n % len(CREATORS)] if rng.random() < 0.7 else rng.choice(CREATORS)
        handle = creator.replace(" ", "-")
        stem = f"{subject}-by-{handle}" if rng.random() < suffix_share else f"{handle}-{subject}"
        title = stem.replace("-", " ")
        title = title[:1].upper() + title[1:] if rng.random() < 0.5 else title
        image = f"images/{n:04d}-{stem}.png"
        if copy_images:
            shutil.copy(path, dest / image)
        rows.append({"id": f"img-{n:04d}", "title": title, "image": image,
                     "category": category.capitalize() if rng.random() < category_share else ""})
    columns = ["id", "title", "image", *(["category"] if category_share > 0 else [])]
    with open(dest / "catalog.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    (dest / "site.toml").write_text(
        '[site]\ntitle = "Weak titles"\nbase_url = "https://weak.example.org/"\n\n'
        '[catalog]\npath = "catalog.csv"\nimages_dir = "."\n\n'
        '[build]\noutput = "build"\nstore = ".sitegen/site.duckdb"\n', encoding="utf-8")
    return WeakCatalog(dest, CREATORS, len(rows), tuple(rows))


def foreign_phrases() -> list[str]:
    """The template and occasion phrases of the packaged domain lexicons that are not clipart's (placeholders
    removed): what a clipart catalog must never be given."""
    import tomllib

    from sitegen.core.lexicon import packaged_names

    phrases: list[str] = []
    for name in packaged_names():
        if name in ("en", "clipart"):
            continue
        data = tomllib.loads((ROOT / "sitegen" / "lexicons" / f"{name}.toml").read_text(encoding="utf-8"))
        for template in [*data.get("generic_intents", []), *data.get("kind_intents", [])]:
            phrases += [p.strip() for p in re.split(r"\{\w+\}", template) if p.strip()]
        phrases += [f"for {o}" for occ in data.get("occasions", {}).values() for o in occ]
    return sorted(set(phrases))


def junk(topic: str, creators: tuple[str, ...], phrases: list[str]) -> str | None:
    """Why a topic page is junk (a creator fragment, a foreign-domain template, a bare colour), or None."""
    text = " ".join(re.findall(r"[a-z0-9]+", topic.lower()))
    words = text.split()
    creator_words = {w for c in creators for w in c.split()}
    hit = next((w for w in words if w in creator_words), None)
    if hit:
        return f"creator:{hit}"
    padded = f" {text} "
    phrase = next((p for p in phrases if f" {p} " in padded), None)
    if phrase:
        return f"template:{phrase}"
    content = [w for w in words if w not in FILLER]
    if content and all(w in COLOURS for w in content):
        return "colour"
    return None
