from sitegen.core.models import ImageEntry, PageRecord, Rejection
from sitegen.store.db import SCHEMA_VERSION, Store


def test_schema_is_versioned_and_reopens(tmp_path):
    path = tmp_path / "s" / "site.duckdb"
    with Store(path) as store:
        assert store.schema_version() == SCHEMA_VERSION
        store.pin_slugs("item", {"a": "apple-a"})
    with Store(path) as store:
        assert store.pinned_slugs("item") == {"a": "apple-a"}


def test_newer_schema_is_refused(tmp_path):
    import pytest

    from sitegen.core.errors import SitegenError

    path = tmp_path / "site.duckdb"
    with Store(path) as store:
        store.con.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    with pytest.raises(SitegenError, match="newer than this sitegen"):
        Store(path)


def test_pages_round_trip_and_changes(tmp_path):
    with Store(tmp_path / "site.duckdb") as store:
        run = store.begin_run("2026-01-01T00:00:00Z", "cfg")
        rec = PageRecord("/item/a/", "item", "A", "desc", "h1", (ImageEntry("https://x/m.webp", "A", "c"),),
                         "2026-01-01T00:00:00Z", True, "k1")
        store.replace_pages(run, [rec], [("/item/a/", "added", "", "A")])
        assert store.published_pages() == {"/item/a/": rec}
        assert store.changes(run) == [("/item/a/", "added", "", "A")]


def test_transaction_rolls_back_everything(tmp_path):
    import pytest

    with Store(tmp_path / "site.duckdb") as store:
        with pytest.raises(RuntimeError):
            with store.transaction():
                store.pin_slugs("item", {"a": "x"})
                raise RuntimeError("boom")
        assert store.pinned_slugs("item") == {}


def test_embeddings_and_cache(tmp_path):
    with Store(tmp_path / "site.duckdb") as store:
        store.put_embeddings("m", {"h1": b"\x00\x01", "h2": b"\x02"})
        assert store.get_embeddings(["h1", "h3"], "m") == {"h1": b"\x00\x01"}
        assert store.get_embeddings(["h1"], "other") == {}
        store.cache_put("vlm", {"k": {"q": [1, 2]}})
        assert store.cache_get("vlm", ["k", "z"]) == {"k": {"q": [1, 2]}}


def test_rejections_recorded(tmp_path):
    with Store(tmp_path / "site.duckdb") as store:
        run = store.begin_run("t", "c")
        store.record_rejections(run, [Rejection("c.csv:3", "x", "missing_title", "empty title")])
        assert store.rejections(run) == [Rejection("c.csv:3", "x", "missing_title", "empty title")]
