"""The stage protocol: every stage's cache key is derived from its own declarations, so editing a stage's
source, a setting it reads or a data file it declares invalidates its cached result."""

from __future__ import annotations

import importlib
import sys
import time
from dataclasses import replace

import pytest

from sitegen.core.config import load_config
from sitegen.core.models import Hub, Item, Site
from sitegen.core.stage import Stage, StageContext, StageResults, module_closure
from sitegen.distribute.stage import LINK, Linked
from sitegen.pipeline.geo import GEO_STAGES, geo_key, run_geo
from sitegen.store.db import Store


def _cfg(tmp_path, **sections):
    lines = []
    for section, values in sections.items():
        lines.append(f"[{section}]")
        lines += [f"{k} = {v!r}" if not isinstance(v, str) else f'{k} = "{v}"' for k, v in values.items()]
    (tmp_path / "site.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_config(tmp_path / "site.toml")


def _site() -> Site:
    items = [Item(id=f"i{n}", title=f"Red Apple {n}", image="/x.png", image_sha="s", width=1, height=1,
                  category="Food", slug=f"red-apple-{n}") for n in range(3)]
    return Site(items=items, hubs=[Hub("food", "Food", tuple(i.id for i in items))], pages=[])


def _keys(cfg) -> dict[str, str]:
    return {s.name: s.key(cfg) for s in GEO_STAGES}


def test_a_setting_invalidates_exactly_the_stages_that_declare_it(tmp_path):
    base = _keys(_cfg(tmp_path))
    assert base == _keys(_cfg(tmp_path))  # deterministic
    changed = _keys(_cfg(tmp_path, collect={"threshold": 0.6}))
    assert {n for n in base if base[n] != changed[n]} == {"collect", "annotate"}
    changed = _keys(_cfg(tmp_path, build={"hub_page_size": 50}))
    assert {n for n in base if base[n] != changed[n]} == {"link"}
    changed = _keys(_cfg(tmp_path, index={"backend": "annoy"}))
    assert {n for n in base if base[n] != changed[n]} == {"index"}
    changed = _keys(_cfg(tmp_path, embed={"batch_size": 7}))
    assert {"embed", "represent", "collect"} <= {n for n in base if base[n] != changed[n]}


def test_a_declared_data_file_invalidates_the_stage(tmp_path):
    export = tmp_path / "Queries.csv"
    export.write_text("Top queries,Clicks,Impressions,CTR,Position\nred apple,3,10,30%,2.0\n", encoding="utf-8")
    cfg = _cfg(tmp_path, represent={"console_export": "Queries.csv"})
    before = _keys(cfg)
    export.write_text("Top queries,Clicks,Impressions,CTR,Position\ngreen apple,3,10,30%,2.0\n", encoding="utf-8")
    after = _keys(cfg)
    assert {n for n in before if before[n] != after[n]} == {"represent"}


def test_the_source_closure_follows_imports():
    from sitegen.aggregate.stage import COLLECT

    closure = module_closure([COLLECT.run.__module__])
    assert {"sitegen.aggregate.stage", "sitegen.aggregate.collect", "sitegen.aggregate.topics",
            "sitegen.core.models", "sitegen.engines.stage"} <= closure
    assert not any(m.startswith(("torch", "numpy")) for m in closure)


@pytest.fixture
def stage_package(tmp_path, monkeypatch):
    """A stage whose code lives in a package of its own (as a plugin's would): ``pkg.stage`` imports
    ``pkg.helper`` inside its run function."""
    root = tmp_path / "src"
    pkg = root / "stagepkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "helper.py").write_text("SUFFIX = ' (linked)'\n")
    (pkg / "stage.py").write_text(
        "from dataclasses import replace\n"
        "from sitegen.distribute.stage import Linked\n\n"
        "def link(ctx, site):\n"
        "    from stagepkg.helper import SUFFIX\n"
        "    ctx.counters['ran'] = 1\n"
        "    return Linked(replace(site, featured=('x' + SUFFIX,)), {'suffix': SUFFIX})\n")
    monkeypatch.syspath_prepend(str(root))
    yield pkg
    for name in [m for m in sys.modules if m.startswith("stagepkg")]:
        del sys.modules[name]


def _stage() -> Stage:
    module = importlib.import_module("stagepkg.stage")
    return replace(LINK, run=module.link, inputs=("site",), settings=("link",))


def test_editing_a_stage_source_invalidates_its_cached_result(tmp_path, stage_package):
    cfg = _cfg(tmp_path)
    site = _site()
    with Store(tmp_path / "site.duckdb") as store:
        first = run_geo(cfg, store, site, stages=(_stage(),))
        assert not first.reused and first.counters["ran"] == 1 and first.site.featured == ("x (linked)",)
        again = run_geo(cfg, store, site, stages=(_stage(),))
        assert again.reused and again.site.featured == ("x (linked)",)

        time.sleep(0.01)
        (stage_package / "helper.py").write_text("SUFFIX = ' (edited)'\n")  # a module the stage imports
        sys.modules.pop("stagepkg.helper", None)
        edited = run_geo(cfg, store, site, stages=(_stage(),))
        assert not edited.reused and edited.site.featured == ("x (edited)",)

        changed = replace(cfg, link=replace(cfg.link, related_max=9))
        assert not run_geo(changed, store, site, stages=(_stage(),)).reused  # a declared setting
        assert geo_key(cfg, site, (_stage(),)) != geo_key(changed, site, (_stage(),))


def test_stage_results_check_declared_inputs_and_outputs(tmp_path):
    cfg = _cfg(tmp_path)
    results = StageResults({"site": _site()})
    with pytest.raises(LookupError, match="needs collect, annotate"):
        results.inputs_for(LINK)
    bad = replace(LINK, run=lambda ctx, site: "not linked", inputs=("site",))
    with pytest.raises(TypeError, match="returned str, not the declared Linked"):
        results.put(bad, bad.run(StageContext(cfg, None), site=_site()))
    results.put(LINK, Linked(_site(), {}))
    assert isinstance(results.values["link"], Linked)


def test_the_closure_reads_imports_from_the_user_cache_and_sees_an_edit(tmp_path, stage_package, monkeypatch):
    from sitegen.core import stage as stage_mod

    monkeypatch.setenv("SITEGEN_CACHE", str(tmp_path / "cache"))
    (stage_package / "extra.py").write_text("X = 1\n")
    stage_mod._imports.cache_clear()
    stage_mod._module_file.cache_clear()  # an earlier test had another stagepkg
    first = module_closure(["stagepkg.stage"])
    assert {"stagepkg.stage", "stagepkg.helper"} <= first and "stagepkg.extra" not in first
    assert (tmp_path / "cache" / stage_mod._IMPORTS_CACHE).is_file()
    assert "stagepkg.stage" not in sys.modules  # found by reading the files, nothing imported
    parse = stage_mod._imports
    monkeypatch.setattr(stage_mod, "_imports", lambda *_: pytest.fail("parsed again"))
    assert module_closure(["stagepkg.stage"]) == first  # the import lists come from the cache
    monkeypatch.setattr(stage_mod, "_imports", parse)
    time.sleep(0.01)
    source = stage_package / "stage.py"
    source.write_text(source.read_text() + "\ndef more():\n    from stagepkg import extra\n    return extra.X\n")
    assert "stagepkg.extra" in module_closure(["stagepkg.stage"])  # another version of the file: parsed again
