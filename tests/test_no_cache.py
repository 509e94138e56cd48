"""``sitegen build --no-cache``: every stage computed again, reading no cached result, gives the same bytes as the
incremental build on the same store (pinned slugs and lastmod kept)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from click.testing import CliRunner

from sitegen.cli.main import main
from sitegen.core.config import load_config
from sitegen.pipeline.build import build_site
from sitegen.store.db import Store

from tests.conftest import EPOCH


def _tree(out: Path) -> dict[str, bytes]:
    """Every published file's bytes, but the build's own report (its timings differ from build to build)."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.relative_to(out).parts[0] != "_report"}


def test_no_cache_equals_the_incremental_build(example_build, example_site_copy, monkeypatch):
    site = example_site_copy()
    catalog = site / "content" / "catalog.csv"
    with open(catalog, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    rows[3]["title"] += " Drawing"
    with open(catalog, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(EPOCH) + 86400))
    cfg = load_config(site / "site.toml")
    incremental = build_site(cfg)
    assert incremental.summary.counters.get("texts_cached", 0) > 0  # it did reuse cached embeddings
    want = _tree(site / "build")

    monkeypatch.chdir(site)
    result = CliRunner().invoke(main, ["build", "--no-cache", "-q"])
    assert result.exit_code == 0, result.output
    got = _tree(site / "build")
    assert sorted(got) == sorted(want)
    assert [p for p in want if got[p] != want[p]] == []
    # every text went through the model again, as many as in the first build of the site (the cached count is
    # the process's own reuse, a text asked for by several stages)
    embedded = int(re.search(r"texts embedded (\d+)", result.output).group(1))
    assert embedded >= example_build[1].summary.counters["texts_embedded"] > 0


def test_a_fresh_store_reads_no_cached_result_but_keeps_state(tmp_path):
    with Store(tmp_path / "site.duckdb") as store:
        store.cache.put("colours:v2", {"a": {"colours": []}})
        store.cache.put("output", {"last": "key"})
        store.embeddings.put("m", {"h": b"\0" * 4})
        store.ignore_cached_results()
        assert store.cache.get("colours:v2", ["a"]) == {}
        assert store.embeddings.get(["h"], "m") == {}
        assert store.cache.get("output", ["last"]) == {"last": "key"}  # the published generation is state
        store.cache.put("colours:v2", {"b": {"colours": []}})  # results are still written
    with Store(tmp_path / "site.duckdb") as store:
        assert set(store.cache.get("colours:v2", ["a", "b"])) == {"a", "b"}
