"""``sitegen new DIR``: a starter site that builds at once with no audit error; a non-empty folder is refused
with one line."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from sitegen.cli.main import main
from sitegen.core.config import load_config
from sitegen.ingest.load import load_catalog

from .conftest import EPOCH


def test_new_writes_a_site_whose_config_and_catalog_load_cleanly(tmp_path):
    dest = tmp_path / "my-shop"
    result = CliRunner().invoke(main, ["new", str(dest)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"created {dest}: 6 files")
    for rel in ("site.toml", "content/catalog.csv", "content/pages/about.md", ".gitignore",
                "content/images/red-apple.png", "content/images/green-pear.png"):
        assert (dest / rel).is_file(), rel
    toml = (dest / "site.toml").read_text()
    assert toml.count("\n#") >= 3 and 'title = "My shop"' in toml  # commented, titled from the folder
    cfg = load_config(dest / "site.toml")
    assert cfg.warnings == []
    loaded = load_catalog(cfg.catalog, cfg.root, image_cache_dir=tmp_path / "cache")
    assert [i.title for i in loaded.items] == ["Red apple", "Green pear"] and loaded.rejections == []


def test_new_takes_a_title_and_an_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(main, ["new", str(tmp_path / "empty"), "--title", 'Fruit "Finder"'])
    assert result.exit_code == 0, result.output
    assert load_config(tmp_path / "empty" / "site.toml").site.title == 'Fruit "Finder"'


@pytest.mark.parametrize("kind", ["folder", "file", "hidden"])
def test_new_refuses_a_non_empty_folder_or_a_file(tmp_path, kind):
    dest = tmp_path / "site"
    if kind == "file":
        dest.write_text("x")
    else:
        dest.mkdir()
        (dest / (".git" if kind == "hidden" else "notes.txt")).write_text("x")
    before = sorted(os.listdir(tmp_path))
    result = CliRunner().invoke(main, ["new", str(dest)])
    assert result.exit_code == 1
    what = "is a file" if kind == "file" else "is not empty"
    assert result.output == f"Error: {dest} {what}: sitegen new writes a site " + \
        ("into a new or empty folder\n" if kind == "file" else "only into a new or empty folder\n")
    assert sorted(os.listdir(tmp_path)) == before
    if kind != "file":
        assert len(os.listdir(dest)) == 1  # nothing written


@pytest.mark.slow
def test_the_new_site_builds_with_no_audit_error(tmp_path, monkeypatch):
    """The whole build, audit on, --strict (any rejected row, config warning or audit error fails it)."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    dest = tmp_path / "starter"
    assert CliRunner().invoke(main, ["new", str(dest)]).exit_code == 0
    monkeypatch.chdir(dest)
    result = CliRunner().invoke(main, ["build", "--strict", "-q"])
    assert result.exit_code == 0, result.output
    assert "audit: 0 error(s), 0 warning(s)" in result.output
    assert "items: 2 read, 2 published, 0 rejected" in result.output
    for page in ("index.html", "item/red-apple/index.html", "item/green-pear/index.html", "about/index.html",
                 "sitemap.xml", "robots.txt"):
        assert (dest / "build" / page).is_file(), page
