"""One GEO pipeline: what ``sitegen eval`` measures is what ``sitegen build`` publishes."""

from __future__ import annotations

import shutil

from sitegen.core.config import load_config
from sitegen.learn.evaluate import run_site


def test_eval_runs_the_build_pipeline_and_gets_the_same_collections(example_build, tmp_path):
    site, result = example_build
    built = result.site
    assert built is not None and built.collections
    # a separate store: eval computes everything again (only the embedding cache is shared, which is exact)
    store = tmp_path / "eval" / "site.duckdb"
    store.parent.mkdir()
    shutil.copy(site / ".sitegen" / "site.duckdb", store)
    cfg = load_config(site / "site.toml", {"build.store": str(store)})
    gathered, geo, seconds = run_site(cfg)
    assert not geo.reused and {"load", "colours", "embed", "represent", "collect", "link"} <= set(seconds)
    assert [i.slug for i in gathered.site.items] == [i.slug for i in built.items]
    assert [(c.slug, c.topic, c.item_ids, c.related) for c in geo.site.collections] == \
        [(c.slug, c.topic, c.item_ids, c.related) for c in built.collections]
    assert geo.site.annotations == built.annotations
    assert geo.site.pagerank == built.pagerank
