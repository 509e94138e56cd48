"""``sitegen new DIR`` (attached to ``main`` by ``sitegen/cli/main.py``): a small working site to start from — a commented ``site.toml``, a two-row catalog with
its two images, a text page and a ``.gitignore`` — that ``sitegen build`` publishes at once with no audit
error. Writes only into a new or empty folder; anything else is refused with one line."""

from __future__ import annotations

import os
from pathlib import Path

import click

from sitegen.cli.main import main
from sitegen.core.errors import SitegenError

SITE_TOML = '''# {title}: a sitegen site. Build it with `sitegen build`, preview it with `sitegen serve --watch`
# (rebuilds and reloads the open pages when you edit anything below or under content/).
# Every option is documented in sitegen's README ("Configuration"); unknown keys are reported.

[site]
title = {title_toml}
base_url = "https://example.org/"  # where the site will be published: canonical URLs, sitemaps, robots.txt
description = "Images gathered into collections for what people search for."
language = "en"

[catalog]
path = "content/catalog.csv"  # one row per image: CSV, JSONL or Parquet
images_dir = "content"  # relative image paths in the catalog resolve against this folder
keywords_separator = ";"
# columns = {{ id = "sku", title = "name" }}  # map your own column names onto sitegen's fields

[build]
output = "build"  # what you publish; sitegen replaces it on every build
store = ".sitegen/site.duckdb"  # build state and caches (not published); the review report lives beside it
templates = "templates"  # a file here overrides the packaged template of the same name
pages = "content/pages"  # markdown pages, with +++ TOML front matter (title, description)

[serve]
host = "127.0.0.1"
port = 8000

[collect]
min_items = 2  # a collection page needs at least this many images; 6 (the default) suits a real catalog

[represent.use_cases]
# category or keyword -> what people search for when they need such an image
"Fruit" = ["healthy snack ideas", "fruit stand sign"]
'''

CATALOG = '''id,title,description,keywords,category,image,date
red-apple,Red apple,"A shiny red apple with a green leaf, drawn flat on a white background.",apple;fruit;red;snack,Fruit,images/red-apple.png,2024-01-15
green-pear,Green pear,"A ripe green pear with a brown stalk, drawn flat on a white background.",pear;fruit;green;snack,Fruit,images/green-pear.png,2024-02-20
'''

PAGE = '''+++
title = "About this site"
description = "What this site is, where its images come from and how its pages are made."
+++

## What this site is

Collections of images for what people search for, built by sitegen from the catalog in
`content/catalog.csv`. Add a row (and its image) there and build again: the item gets its own page and
joins the collections that fit it.

## Where the images come from

The two sample images were drawn by `sitegen new` and may be used freely. Replace them with your own.
'''

GITIGNORE = "/build/\n/.sitegen/\n"


def _draw(path: Path, fruit: str) -> None:
    """A simple flat drawing (640 x 640 PNG), so the sample site has real images without any download."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (640, 640), "white")
    d = ImageDraw.Draw(img)
    if fruit == "apple":
        d.ellipse((150, 190, 350, 520), fill=(200, 30, 40))
        d.ellipse((290, 190, 490, 520), fill=(200, 30, 40))
        d.ellipse((230, 230, 300, 330), fill=(235, 110, 110))
        d.rectangle((312, 120, 328, 215), fill=(110, 70, 30))
        d.ellipse((330, 110, 450, 170), fill=(60, 150, 50))
    else:
        d.ellipse((170, 280, 470, 560), fill=(140, 190, 60))
        d.ellipse((230, 150, 410, 380), fill=(140, 190, 60))
        d.ellipse((270, 320, 330, 420), fill=(190, 220, 120))
        d.rectangle((312, 90, 328, 165), fill=(110, 70, 30))
    img.save(path, format="PNG", optimize=True)


def scaffold(dest: Path, title: str) -> list[Path]:
    """Write the starter site into ``dest`` (created; it must not exist or be an empty folder). Returns the
    files written."""
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise SitegenError(f"{dest} is a file: sitegen new writes a site into a new or empty folder")
    if dest.is_dir() and any(os.scandir(dest)):
        raise SitegenError(f"{dest} is not empty: sitegen new writes a site only into a new or empty folder")
    import json

    files = {
        "site.toml": SITE_TOML.format(title=title, title_toml=json.dumps(title, ensure_ascii=False)),
        "content/catalog.csv": CATALOG,
        "content/pages/about.md": PAGE,
        ".gitignore": GITIGNORE,
    }
    written = []
    for rel, text in files.items():
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    (dest / "content" / "images").mkdir(parents=True, exist_ok=True)
    for name, fruit in (("red-apple.png", "apple"), ("green-pear.png", "pear")):
        _draw(dest / "content" / "images" / name, fruit)
        written.append(dest / "content" / "images" / name)
    return written


def title_from(folder: Path) -> str:
    name = Path(os.path.abspath(folder)).name.replace("-", " ").replace("_", " ").strip()
    return (name[:1].upper() + name[1:]) if name else "My site"


@main.command(name="new")
@click.argument("directory", type=click.Path(file_okay=True, dir_okay=True))
@click.option("--title", default=None, help="The site's title (default: from the folder's name).")
def new(directory, title) -> None:
    """Create a small working site in DIRECTORY (new or empty): a commented site.toml, a two-row catalog with
    its images and a page. `sitegen build` publishes it at once."""
    dest = Path(directory)
    written = scaffold(dest, title or title_from(dest))
    click.echo(f"created {dest}: {len(written)} files (site.toml, content/catalog.csv, 2 images, "
               "content/pages/about.md, .gitignore)")
    cfg_arg = "" if os.path.abspath(dest) == os.getcwd() else f" -c {dest / 'site.toml'}"
    click.echo(f"next: sitegen build{cfg_arg}   then: sitegen serve --watch{cfg_arg}")
