"""The command line: exit codes and exact messages."""

from __future__ import annotations

import csv

from click.testing import CliRunner
from PIL import Image

from sitegen.cli.main import main


def small_site(tmp_path, rows=None, extra=""):
    (tmp_path / "img").mkdir(exist_ok=True)
    Image.new("RGB", (30, 30), (10, 120, 40)).save(tmp_path / "img" / "g.png")
    rows = rows if rows is not None else [{"id": "1", "title": "Green Leaf", "category": "Plants", "image": "img/g.png"}]
    with open(tmp_path / "catalog.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=["id", "title", "category", "image"])
        w.writeheader()
        w.writerows(rows)
    (tmp_path / "site.toml").write_text('[site]\ntitle = "Small"\nbase_url = "https://s.example/"\n'
                                        '[catalog]\npath = "catalog.csv"\nimages_dir = "."\n' + extra)
    return tmp_path


def invoke(tmp_path, *args):
    import os

    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        return CliRunner().invoke(main, list(args), env={"SOURCE_DATE_EPOCH": "1767225600"})
    finally:
        os.chdir(cwd)


def test_help_lists_commands():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("build", "serve", "check"):
        assert command in result.output


def test_invalid_config_names_every_key(tmp_path):
    small_site(tmp_path, extra='[serve]\nport = -1\n')
    (tmp_path / "site.toml").write_text((tmp_path / "site.toml").read_text().replace("https://s.example/", "s.example"))
    result = invoke(tmp_path, "build")
    assert result.exit_code == 1
    assert "invalid configuration in site.toml (2 error(s)):" in result.output
    assert "  - site.base_url: must be an absolute http(s) URL (got 's.example')" in result.output
    assert "  - serve.port: must be a port number (0-65535) (got -1)" in result.output


def test_missing_catalog_is_a_clear_error(tmp_path):
    small_site(tmp_path)
    (tmp_path / "catalog.csv").unlink()
    result = invoke(tmp_path, "build", "-q")
    assert result.exit_code == 1
    assert "catalog.csv" in result.output and "Error:" in result.output


def test_strict_fails_on_a_rejected_row(tmp_path):
    small_site(tmp_path, rows=[{"id": "1", "title": "Green Leaf", "category": "Plants", "image": "img/g.png"},
                               {"id": "2", "title": "", "category": "Plants", "image": "img/g.png"}])
    result = invoke(tmp_path, "build", "-q", "--strict", "--no-check")
    assert result.exit_code == 2
    assert "1 catalog row(s) rejected (--strict); first: catalog.csv:3: missing_title" in result.output
    assert not (tmp_path / "build").exists()


def test_build_reports_rejections_and_succeeds(tmp_path):
    small_site(tmp_path, rows=[{"id": "1", "title": "Green Leaf", "category": "Plants", "image": "img/g.png"},
                               {"id": "2", "title": "Lost", "category": "Plants", "image": "img/missing.png"}])
    result = invoke(tmp_path, "build", "-q", "--no-check")
    assert result.exit_code == 0, result.output
    assert "items: 2 read, 1 published, 1 rejected (missing_image 1)" in result.output
    assert (tmp_path / "build" / "index.html").is_file()


def test_slug_collision_is_a_warning_naming_both_sources(tmp_path):
    rows = [{"id": "A 1", "title": "Leaf", "category": "Plants", "image": "img/g.png"},
            {"id": "a-1", "title": "Leaf", "category": "Plants", "image": "img/g.png"}]
    small_site(tmp_path, rows=rows)
    result = invoke(tmp_path, "build", "-q", "--no-check")
    assert result.exit_code == 0, result.output
    assert ("slug collision: /item/leaf-a-1/ is claimed by both item 'A 1' (catalog.csv:2) "
            "and item 'a-1' (catalog.csv:3)") in " ".join(result.output.split())
    assert (tmp_path / "build" / "item" / "leaf-a-1" / "index.html").is_file()
    moved = list((tmp_path / "build" / "item").glob("leaf-a-1-*"))
    assert len(moved) == 1 and (moved[0] / "index.html").is_file()
    (tmp_path / "strict").mkdir()  # a site never built: nothing pinned yet
    small_site(tmp_path / "strict", rows=rows)
    strict = invoke(tmp_path / "strict", "build", "-q", "--no-check", "--strict")
    assert strict.exit_code == 2
    assert "item 'A 1' (catalog.csv:2) and item 'a-1' (catalog.csv:3)" in " ".join(strict.output.split())


def test_check_without_a_build(tmp_path):
    small_site(tmp_path)
    result = invoke(tmp_path, "check")
    assert result.exit_code == 1
    assert "does not exist: run `sitegen build` first" in result.output


def test_serve_without_a_build(tmp_path):
    small_site(tmp_path)
    result = invoke(tmp_path, "serve", "--port", "0")
    assert result.exit_code == 1
    assert "has no index.html: run `sitegen build` first (or use --build)" in result.output


def test_build_summary_names_the_gates_and_where_a_removed_page_went(tmp_path, capsys):
    from sitegen.cli.main import _print_summary
    from sitegen.core.config import Config
    from sitegen.core.models import Alias, BuildSummary, Collection, RetiredPage, Site
    from sitegen.pipeline.build import BuildResult

    alias = Alias("kurti for diwali", "kurti-for-diwali", "kurti-for-diwali", "use_case", "same_as_base", 0.79)
    site = Site(items=[], hubs=[], pages=[], collections=[Collection("kurti", "kurti", "description", "Kurtis",
                                                                     ("1",), aliases=(alias,))])
    summary = BuildSummary(pages_removed=["/topic/kurti-for-diwali/", "/topic/gone/", "/topic/moved/"],
                           counters={"collect_aliases": 1, "collect_refiled": 2, "lifecycle_retired": 1,
                                     "lifecycle_retired_total": 1})
    moved = RetiredPage("/topic/moved/", "moved", 301, "/topic/kurti/", "lost_support")
    _print_summary(BuildResult(summary, tmp_path / "build", 2, site=site, retired=[moved]), Config(root=tmp_path))
    out = " ".join(capsys.readouterr().out.split())
    assert "quality gates: 1 topics are alias lines on another collection's page, 2 collections filed" in out
    assert "removed page: /topic/kurti-for-diwali/ (now a line on /topic/kurti/#kurti-for-diwali)" in out
    assert "removed page: /topic/gone/ " in out + " " and "/topic/gone/ (now" not in out
    assert "removed page: /topic/moved/ (retired, lost_support: 301 to /topic/kurti/)" in out
    assert "lifecycle: 0 pages created, 0 refreshed, 1 retired (1 retired URLs redirected or gone: netlify" in out
