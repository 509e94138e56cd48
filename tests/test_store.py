"""The store (sitegen.store): per-owner repositories and migrations, the backup and restore, and one clear line
for a corrupt or locked store."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from sitegen.cli.main import main
from sitegen.core.errors import StoreError, StoreLockedError
from sitegen.core.models import Alias, Collection, ImageEntry, Item, PageRecord, Query, Rejection
from sitegen.store.db import Store
from sitegen.store.repository import Repository
from sitegen.store.trends import TrendMemory

from .conftest import ROOT, copy_example

OWNERS = {"cache", "embeddings", "geo", "items", "judgments", "lifecycle", "media", "pages", "runs", "signals",
          "simulations", "slugs", "trends"}

# The schema of stores written before each owner had its own version: one list, one "schema_version" in meta.
LEGACY_SCHEMA = [
    "CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    "CREATE TABLE builds (id INTEGER PRIMARY KEY, started VARCHAR, finished VARCHAR, status VARCHAR, "
    "config_hash VARCHAR, summary JSON)",
    "CREATE TABLE items (id VARCHAR PRIMARY KEY, slug VARCHAR, title VARCHAR, category VARCHAR, image_sha VARCHAR, "
    "data JSON)",
    "CREATE TABLE rejections (build_id INTEGER, source VARCHAR, item_id VARCHAR, reason VARCHAR, detail VARCHAR)",
    "CREATE TABLE slugs (kind VARCHAR, key VARCHAR, slug VARCHAR, PRIMARY KEY (kind, key))",
    "CREATE TABLE pages (path VARCHAR PRIMARY KEY, kind VARCHAR, title VARCHAR, description VARCHAR, "
    "content_hash VARCHAR, lastmod VARCHAR, images JSON, in_sitemap BOOLEAN, render_key VARCHAR)",
    "CREATE TABLE changes (build_id INTEGER, path VARCHAR, change VARCHAR, old_title VARCHAR, new_title VARCHAR)",
    "CREATE TABLE image_meta (path VARCHAR PRIMARY KEY, size BIGINT, mtime_ns BIGINT, sha VARCHAR, width INTEGER, "
    "height INTEGER, error VARCHAR)",
    "CREATE TABLE embeddings (text_hash VARCHAR, model_id VARCHAR, vector BLOB, PRIMARY KEY (text_hash, model_id))",
    "CREATE TABLE cache (namespace VARCHAR, key VARCHAR, value JSON, PRIMARY KEY (namespace, key))",
    "CREATE TABLE queries (item_id VARCHAR, text VARCHAR, category VARCHAR, source VARCHAR, score DOUBLE, "
    "lang VARCHAR)",
    "CREATE TABLE dropped (build_id INTEGER, kind VARCHAR, text VARCHAR, reason VARCHAR, detail VARCHAR, "
    "item_id VARCHAR)",
    "CREATE TABLE collections (slug VARCHAR PRIMARY KEY, topic VARCHAR, category VARCHAR, hub VARCHAR, "
    "item_ids JSON, scores JSON, related JSON, summary VARCHAR)",
    "CREATE TABLE links (src VARCHAR, dst VARCHAR, kind VARCHAR)",
    "CREATE TABLE pagerank (path VARCHAR, phase VARCHAR, score DOUBLE)",
    "INSERT INTO meta VALUES ('schema_version', '1')",
]


def page(path: str, lastmod: str = "2026-01-01T00:00:00Z") -> PageRecord:
    return PageRecord(path, "item", path.strip("/").title(), "desc", "h-" + path,
                      (ImageEntry("https://x/m.webp", "A", "c"),), lastmod, True, "k")


# -- repositories and migrations ---------------------------------------------------------------------------

CURRENT = {**{owner: 1 for owner in OWNERS}, "pages": 2, "geo": 2, "lifecycle": 2}  # pages 1 -> 2: the stash of
# a build not yet live; geo 1 -> 2: the aliases and the filing of collections; lifecycle 1 -> 2: the newest signal
# day when a live page was created


def test_every_owner_has_its_version_and_reopens(tmp_path):
    path = tmp_path / "s" / "site.duckdb"
    with Store(path) as store:
        assert store.schema_versions() == CURRENT
        store.slugs.pin("item", {"a": "apple-a"})
    with Store(path) as store:
        assert store.slugs.pinned("item") == {"a": "apple-a"}
        assert store.slugs.pinned("hub") == {}


def test_store_from_the_single_version_schema_keeps_its_data(tmp_path):
    import duckdb

    path = tmp_path / "site.duckdb"
    con = duckdb.connect(str(path))
    for sql in LEGACY_SCHEMA:
        con.execute(sql)
    con.execute("INSERT INTO slugs VALUES ('item', 'x1', 'red-dress-x1')")
    con.execute("INSERT INTO builds VALUES (1, 's', 'f', 'ok', 'h', '{}')")
    con.execute("INSERT INTO pages VALUES ('/item/red-dress-x1/', 'item', 'Red dress', 'd', 'c1', "
                "'2025-05-01T00:00:00Z', '[]', true, 'rk')")
    con.execute("INSERT INTO changes VALUES (1, '/item/gone/', 'removed', 'Gone', '')")
    con.execute("INSERT INTO cache VALUES ('vlm', 'k', '[1, 2]')")
    con.close()
    with Store(path) as store:
        assert store.schema_versions() == CURRENT
        assert store.slugs.pinned("item") == {"x1": "red-dress-x1"}
        assert store.pages.published()["/item/red-dress-x1/"].lastmod == "2025-05-01T00:00:00Z"
        assert store.pages.changes(1) == [("/item/gone/", "removed", "Gone", "")]
        assert store.runs.last("ok").id == 1
        assert store.cache.get("vlm", ["k"]) == {"k": [1, 2]}
        assert store.runs.begin("t", "h") == 2
    con = duckdb.connect(str(path))
    assert con.execute("SELECT count(*) FROM meta WHERE key = 'schema_version'").fetchone() == (0,)
    con.close()


def test_newer_single_version_store_is_refused(tmp_path):
    import duckdb

    path = tmp_path / "site.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.execute("INSERT INTO meta VALUES ('schema_version', '7')")
    con.close()
    with pytest.raises(StoreError, match="newer than this sitegen"):
        Store(path)


class Notes(Repository):
    """A later owner, as a new module would declare it."""

    OWNER = "notes"
    MIGRATIONS = [["CREATE TABLE IF NOT EXISTS notes (key VARCHAR PRIMARY KEY, body VARCHAR)"]]

    def put(self, key: str, body: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO notes VALUES (?, ?)", [key, body])

    def all(self) -> list[tuple]:
        return self.db.rows("SELECT * FROM notes ORDER BY key")


class NotesV2(Notes):
    MIGRATIONS = [*Notes.MIGRATIONS, ["ALTER TABLE notes ADD COLUMN author VARCHAR DEFAULT 'anon'"]]


def test_a_later_owner_migrates_on_its_own(tmp_path):
    path = tmp_path / "site.duckdb"
    with Store(path) as store:
        store.repo(Notes).put("a", "first")
        assert store.schema_versions()["notes"] == 1
        assert store.schema_versions()["pages"] == CURRENT["pages"]
    with Store(path) as store:
        notes = store.repo(NotesV2)  # version 1 -> 2 only for this owner; its rows are kept
        assert notes.all() == [("a", "first", "anon")]
        assert store.schema_versions() == {**CURRENT, "notes": 2}
    with Store(path) as store:
        with pytest.raises(StoreError, match="'notes' tables are at version 2, newer than this sitegen"):
            store.repo(Notes)


def test_pages_round_trip_and_changes(tmp_path):
    with Store(tmp_path / "site.duckdb") as store:
        run = store.runs.begin("2026-01-01T00:00:00Z", "cfg")
        rec = page("/item/a/")
        store.pages.replace(run, [rec], [("/item/a/", "added", "", "A")])
        assert store.pages.published() == {"/item/a/": rec}
        assert store.pages.changes(run) == [("/item/a/", "added", "", "A")]
        assert store.pages.listing() == [("/item/a/", "item", "Item/A", "2026-01-01T00:00:00Z", 1, True)]


def test_transaction_rolls_back_everything(tmp_path):
    with Store(tmp_path / "site.duckdb") as store:
        with pytest.raises(RuntimeError):
            with store.transaction():
                store.slugs.pin("item", {"a": "x"})
                store.pages.replace(1, [page("/item/x/")], [])
                raise RuntimeError("boom")
        assert store.slugs.pinned("item") == {}
        assert store.pages.published() == {}


def test_embeddings_and_cache(tmp_path):
    with Store(tmp_path / "site.duckdb") as store:
        store.embeddings.put("m", {"h1": b"\x00\x01", "h2": b"\x02"})
        assert store.embeddings.get(["h1", "h3"], "m") == {"h1": b"\x00\x01"}
        assert store.embeddings.get(["h1"], "other") == {}
        store.cache.put("vlm", {"k": {"q": [1, 2]}, "j": 1})
        assert store.cache.get("vlm", ["k", "z"]) == {"k": {"q": [1, 2]}}
        store.cache.replace("vlm", {"n": 2})
        assert store.cache.get("vlm", ["k", "j", "n"]) == {"n": 2}


def test_runs_and_rejections(tmp_path):
    with Store(tmp_path / "site.duckdb") as store:
        run = store.runs.begin("t", "c")
        assert store.runs.last("ok") is None and store.runs.last().status == "running"
        store.runs.record_rejections(run, [Rejection("c.csv:3", "x", "missing_title", "empty title")])
        store.runs.finish(run, "ok", "t2", {"pages": 3})
        assert store.runs.rejections(run) == [Rejection("c.csv:3", "x", "missing_title", "empty title")]
        last = store.runs.last("ok")
        assert (last.id, last.finished, last.summary) == (run, "t2", {"pages": 3})


def test_items_are_replaced_with_the_builds_items(tmp_path):
    a = Item("a", "Red dress", "/img/a.jpg", "sha-a", 10, 20, category="Dresses", slug="red-dress-a")
    b = Item("b", "Blue coat", "/img/b.jpg", "sha-b", 10, 20, keywords=("wool",), slug="blue-coat-b")
    with Store(tmp_path / "site.duckdb") as store:
        store.items.replace([a, b])
        store.items.replace([b])
        rows = store.items.all()
    assert [(r.id, r.slug, r.title, r.category, r.image_sha) for r in rows] == [
        ("b", "blue-coat-b", "Blue coat", "", "sha-b")]
    assert rows[0].data["keywords"] == ["wool"] and rows[0].data["width"] == 10


def test_geo_results(tmp_path):
    alias = Alias("red dresses for parties", "red-dresses-for-parties", "red-dresses-for-parties", "use_case",
                  "same_as_base", 0.75)
    collections = [Collection("red-dresses", "red dresses", "description", "Dresses", ("a", "b"), (0.9, 0.81234),
                              aliases=(alias,), filed_from="Frocks")]
    queries = [Query("a", "red dress", "description", "template", 1.0)]
    with Store(tmp_path / "site.duckdb") as store:
        store.geo.replace_collections(collections, queries)
        store.geo.replace_links([("/item/a/", "/topic/red-dresses/", "collection"), ("/", "/item/a/", "nav")],
                                {"/": 0.6, "/item/a/": 0.4})
        store.geo.record_dropped(3, "topic", [("thin topic", "thin", "2 items", "")])
        assert [(c.slug, c.category, c.item_ids) for c in store.geo.collections()] == [
            ("red-dresses", "description", ("a", "b"))]
        (row,) = store.geo.collections()
        assert row.aliases == ({"topic": "red dresses for parties", "slug": "red-dresses-for-parties",
                                "anchor": "red-dresses-for-parties", "category": "use_case",
                                "reason": "same_as_base", "jaccard": 0.75, "item_ids": [], "scores": []},)
        assert row.filed_from == "Frocks"
        assert store.geo.queries() == [("a", "red dress", "description")]
        assert store.geo.links("collection") == [("/item/a/", "/topic/red-dresses/", "collection")]
        assert store.geo.pagerank() == [("/item/a/", 0.4), ("/", 0.6)]
        assert store.geo.dropped(3) == [("topic", "thin topic", "thin", "2 items", "")]
        store.geo.replace_collections([], [])
        assert store.geo.collections() == [] and store.geo.queries() == []


def test_no_module_outside_the_store_runs_sql():
    """All SQL lives in sitegen/store/: no other module touches the connection, a private store helper,
    DuckDB itself, or a SQL statement."""
    patterns = [r"\.con\b", r"\bstore\._\w+", r"^\s*(import duckdb|from duckdb)",
                r"""["'][^"'\n]*\b(SELECT|INSERT INTO|INSERT OR|DELETE FROM|UPDATE \w+ SET|CREATE TABLE|DROP TABLE|"""
                r"""ALTER TABLE|BEGIN TRANSACTION)\b"""]
    offenders = []
    for f in sorted((ROOT / "sitegen").rglob("*.py")):
        if "store" in f.relative_to(ROOT / "sitegen").parts[:1]:
            continue
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            if any(re.search(p, line, re.MULTILINE) for p in patterns):
                offenders.append(f"{f.relative_to(ROOT)}:{n}: {line.strip()}")
    assert offenders == []


# -- backup and restore ------------------------------------------------------------------------------------

def filled(path: Path) -> dict:
    with Store(path) as store:
        run = store.runs.begin("2026-01-01T00:00:00Z", "h")
        store.pages.replace(run, [page("/item/a/", "2025-03-01T00:00:00Z")], [("/item/old/", "removed", "Old", "")])
        store.slugs.pin("item", {"a": "apple-a"})
        store.items.replace([Item("a", "Apple", "/a.jpg", "sha", 1, 1, slug="apple-a")])
        store.embeddings.put("m", {"h": b"\x01"})
        store.runs.finish(run, "ok", "2026-01-01T00:01:00Z", {})
        return store.backup()


def test_backup_holds_the_durable_tables_only(tmp_path):
    path = tmp_path / ".sitegen" / "site.duckdb"
    trends = {t: 0 for t in TrendMemory.DURABLE}
    assert filled(path)["tables"] == {"builds": 1, "items": 1, "slugs": 1, "pages": 1, "changes": 1, "judgments": 0,
                                      "signal_imports": 0, "signals": 0,
                                      "lifecycle_live": 0, "lifecycle_retired": 0, "lifecycle_events": 0,
                                      "simulation_arms": 0, **trends}
    folder = tmp_path / ".sitegen" / "backup"
    assert sorted(f.name for f in folder.iterdir()) == sorted([
        "builds.parquet", "changes.parquet", "items.parquet", "judgments.parquet", "lifecycle_events.parquet",
        "lifecycle_live.parquet", "lifecycle_retired.parquet", "manifest.json", "pages.parquet",
        "signal_imports.parquet", "signals.parquet", "simulation_arms.parquet",
        "slugs.parquet", *(f"{t}.parquet" for t in trends)])
    assert filled(path)["tables"]["builds"] == 2  # a second backup replaces the first; nothing is left beside it
    assert sorted(f.name for f in folder.parent.iterdir()) == ["backup", "site.duckdb", "site.duckdb.lock"]


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_corrupt_store_is_one_line_and_restores(tmp_path, damage):
    path = tmp_path / ".sitegen" / "site.duckdb"
    filled(path)
    size = path.stat().st_size
    if damage == "truncate":
        os.truncate(path, size // 3)
    elif damage == "garbage":
        path.write_bytes(b"not a database\n" * 1000)
    else:
        path.write_bytes(b"")
    with pytest.raises(StoreError) as err:
        Store(path)
    message = err.value.format_message()
    assert "\n" not in message and str(path) in message and 'run "sitegen store restore"' in message

    from sitegen.store.backup import restore

    done = restore(path)
    assert done.moved_to.name.startswith("site.duckdb.corrupt-") and done.moved_to.is_file()
    with Store(path) as store:
        assert store.slugs.pinned("item") == {"a": "apple-a"}
        assert store.pages.published()["/item/a/"].lastmod == "2025-03-01T00:00:00Z"
        assert store.pages.changes(1) == [("/item/old/", "removed", "Old", "")]
        assert [r.slug for r in store.items.all()] == ["apple-a"]
        assert store.embeddings.get(["h"], "m") == {}  # recomputed by the next build, not backed up
        assert store.runs.begin("t", "h") == 2


def test_corrupt_store_without_a_backup_says_so(tmp_path):
    path = tmp_path / "site.duckdb"
    path.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(StoreError, match=r"no backup in .*: delete .*site.duckdb to start afresh"):
        Store(path)
    result = CliRunner().invoke(main, ["store", "restore", "-c", str(write_config(tmp_path, path))])
    assert result.exit_code == 1 and "no backup to restore" in result.output


def write_config(folder: Path, store: Path) -> Path:
    cfg = folder / "site.toml"
    cfg.write_text(f'[site]\nbase_url = "https://example.org/"\n\n[build]\nstore = "{store}"\n', encoding="utf-8")
    return cfg


def test_store_info(tmp_path):
    path = tmp_path / ".sitegen" / "site.duckdb"
    filled(path)
    result = CliRunner().invoke(main, ["store", "info", "-c", str(write_config(tmp_path, path))])
    assert result.exit_code == 0, result.output
    assert f"store: {path}" in result.output
    assert "pages 1" in result.output and "#1 ok" in result.output and "slugs 1" in result.output


# -- locks ---------------------------------------------------------------------------------------------------

HOLDER = textwrap.dedent("""
    import sys, select
    {opener}
    print("ready", flush=True)
    select.select([sys.stdin], [], [], 60)  # until the test closes stdin, at most a minute
""")


def hold(path: Path, opener: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER.format(opener=opener)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stdout.readline().strip() == "ready"
    return proc


def release(proc: subprocess.Popen) -> None:
    proc.stdin.close()
    proc.wait(timeout=30)


def test_second_build_fails_at_once_naming_the_holder(tmp_path):
    site = copy_example(tmp_path / "site")
    path = site / ".sitegen" / "site.duckdb"
    proc = hold(path, f"from sitegen.store.db import Store; s = Store({str(path)!r})")
    try:
        result = CliRunner().invoke(main, ["build", "-q", "-c", str(site / "site.toml")])
        with pytest.raises(StoreLockedError, match=rf"another build holds .*site.duckdb \(pid {proc.pid}\)"):
            Store(path)
    finally:
        release(proc)
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: another build holds {path} (pid {proc.pid})"
    assert result.exc_info[0] is SystemExit  # reported by click, no traceback
    with Store(path) as store:  # released with the holder
        assert store.runs.last() is None


def test_duckdb_lock_is_translated(tmp_path):
    path = tmp_path / "site.duckdb"
    Store(path).close()
    proc = hold(path, f"import duckdb; con = duckdb.connect({str(path)!r})")  # no lock file: DuckDB's own lock
    try:
        with pytest.raises(StoreLockedError) as err:
            Store(path)
    finally:
        release(proc)
    assert err.value.format_message() == f"another build holds {path} (pid {proc.pid})"


# -- the whole loop on the example site ------------------------------------------------------------------------

def test_build_corrupt_restore_build_keeps_urls_and_lastmod(example_site_copy):
    site = example_site_copy()
    cfg = str(site / "site.toml")
    path = site / ".sitegen" / "site.duckdb"
    sitemaps = {f.name: f.read_bytes() for f in (site / "build").glob("sitemap*.xml")}
    with Store(path) as store:
        before = {p: r.lastmod for p, r in store.pages.published().items()}
        pins = store.slugs.pinned("item")
    assert (site / ".sitegen" / "backup" / "manifest.json").is_file()  # written by the example build

    os.truncate(path, path.stat().st_size // 2)
    runner = CliRunner()
    failed = runner.invoke(main, ["build", "-q", "-c", cfg])
    assert failed.exit_code == 1
    lines = failed.output.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and 'run "sitegen store restore"' in lines[0]

    restored = runner.invoke(main, ["store", "restore", "-c", cfg])
    assert restored.exit_code == 0, restored.output
    assert "corrupt-" in restored.output

    rebuilt = runner.invoke(main, ["build", "-q", "-c", cfg])
    assert rebuilt.exit_code == 0, rebuilt.output
    with Store(path) as store:
        assert {p: r.lastmod for p, r in store.pages.published().items()} == before
        assert store.slugs.pinned("item") == pins
        assert store.items.count() == len(pins)
    assert {f.name: f.read_bytes() for f in (site / "build").glob("sitemap*.xml")} == sitemaps
