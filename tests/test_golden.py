"""Golden site (Pelican's style): the example site's output, byte for byte, against checked-in expectations.

``tests/golden/example.sha256`` holds the SHA-256 of every file the example build publishes, and
``tests/golden/pages/`` a few whole pages, so a difference shows as a readable diff. After an intended change
to the output, regenerate both and name the change in the commit:

    SITEGEN_REGEN_GOLDEN=1 .venv/bin/pytest tests/test_golden.py
"""

from __future__ import annotations

import difflib
import hashlib
import os
from pathlib import Path

import pytest

from .conftest import ROOT

GOLDEN = ROOT / "tests" / "golden"
MANIFEST = GOLDEN / "example.sha256"
WHOLE_PAGES = ("index.html", "robots.txt", "llms.txt", "sitemap.xml", "category/animals/index.html",
               "item/animals-sheep/index.html")


def _manifest(out: Path) -> dict[str, str]:
    return {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*")) if p.is_file()}


def _first_collection(out: Path) -> str:
    return sorted(p.relative_to(out).as_posix() for p in (out / "topic").glob("*/index.html"))[0]


def _whole_pages(out: Path) -> list[str]:
    return [*WHOLE_PAGES, _first_collection(out)]


def _golden_name(rel: str) -> str:
    return rel.replace("/", "__")


def test_example_site_matches_golden(example_build):
    site, _ = example_build
    out = site / "build"
    got = _manifest(out)
    if os.environ.get("SITEGEN_REGEN_GOLDEN"):
        MANIFEST.write_text("".join(f"{h}  {p}\n" for p, h in got.items()), encoding="utf-8")
        pages = GOLDEN / "pages"
        pages.mkdir(exist_ok=True)
        for old in pages.iterdir():
            old.unlink()
        for rel in _whole_pages(out):
            (pages / _golden_name(rel)).write_bytes((out / rel).read_bytes())
        pytest.skip("golden files regenerated")
    expected = dict(reversed(line.split("  ", 1)) for line in MANIFEST.read_text(encoding="utf-8").splitlines())
    expected = {p.strip(): h for p, h in expected.items()}
    for rel in _whole_pages(out):
        want = (GOLDEN / "pages" / _golden_name(rel)).read_text(encoding="utf-8").splitlines()
        have = (out / rel).read_text(encoding="utf-8").splitlines()
        diff = list(difflib.unified_diff(want, have, "golden/" + rel, "build/" + rel, lineterm="", n=1))
        assert not diff, "\n".join(diff[:60])
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    changed = sorted(p for p in set(expected) & set(got) if expected[p] != got[p])
    assert (missing, extra, changed[:20]) == ([], [], []), (
        f"{len(missing)} missing, {len(extra)} new, {len(changed)} changed files; regenerate with "
        "SITEGEN_REGEN_GOLDEN=1 after an intended change")


def test_two_independent_builds_are_identical_in_every_file(example_build, tmp_path):
    """build/ holds only what is deployed: a second build of the same input in a fresh folder (no store, same
    SOURCE_DATE_EPOCH) gives the same files, every byte of every one (the review report is kept elsewhere)."""
    from sitegen.core.config import load_config
    from sitegen.pipeline.build import build_site

    from .conftest import EPOCH, copy_example

    first, _ = example_build
    os.environ["SOURCE_DATE_EPOCH"] = EPOCH
    second = copy_example(tmp_path / "second")
    build_site(load_config(second / "site.toml"))

    def tree(out: Path) -> dict[str, bytes | None]:
        return {p.relative_to(out).as_posix(): (p.read_bytes() if p.is_file() else None) for p in out.rglob("*")}

    a, b = tree(first / "build"), tree(second / "build")
    assert sorted(a) == sorted(b)
    differ = sorted(p for p in a if a[p] != b[p])
    assert differ == [], f"{len(differ)} files differ between two builds, first: {differ[:10]}"
    assert not any(p.startswith("_report") for p in a)
    assert (second / ".sitegen" / "report" / "index.html").is_file()
