"""``sitegen eval``: measure collection quality on the fashion-44k catalog, whose attribute columns are ground
truth for whether an item satisfies a topic such as "black formal shoes for men".

The real stages run on a deterministic (seeded) subset: load -> embed -> represent -> index -> topics ->
collect -> annotate. Measured:

- collection precision: for each collection whose topic names catalog values - a colour (``base_colour``
  values such as "black", "navy blue"), an article type ("formal shoes", "tshirts"), a usage ("formal",
  "ethnic") or a gender ("men", "women", "boys", "girls", "unisex", as the titles carry it) - the share of its
  items whose catalog values match *all* the named values exactly (a "navy blue" item does not satisfy
  "blue"); the mean over those collections, and how many there were;
- occasion precision: for each collection whose topic names an occasion that implies a usage (the ``implies``
  table of the fashion lexicon: "weddings" -> ethnic, "office" -> formal, "date night" -> party ...), the share
  of its items whose ``usage`` column is an implied value (and that match every value the topic names); the
  mean over those collections (topics whose implied values no item of the subset has are left out);
- fragment heads: collections whose topic starts with a brand or model fragment - a word with a digit, or a
  word of the brand of more than half of its items. The brand is not a column: it is what the dataset writes
  before the gender word ("Jealous 21 Women Pink Top" -> jealous, 21), or, in a title without one, the longest
  title prefix (up to three words) that at least five titles of the dataset start with ("Lotus Herbals"),
  less the words after its first that titles starting with three or more different words use ("matte" of
  "Colorbar Velvet Matte" describes many brands' lipsticks); colour, article-type and usage words never count;
- bare colours: the share of collections whose topic names a colour and nothing else (no kind, usage or
  gender; at most a pattern word: "Black", "Check black");
- coverage: the share of the subset's items in at least one collection;
- ANN recall@10 of the configured index against exact search, for the topic vectors (collect's real
  queries; up to 1,000, seeded) and for item vectors;
- duplicate pairs: the share of collections in a pair whose published items overlap with Jaccard >=
  ``DUPLICATE_JACCARD`` (0.5: two pages sharing half their images), computed here from the built collections'
  ``item_ids`` alone, with the worst pairs;
- filing: the share of collections filed under the hub (``article_type``, from the catalog rows) that holds the
  most of their published items (a tie counts for every hub in it), with the misfiled ones;
- counts: items, queries and their mix, topics, collections, dropped topics by reason, annotation mix.

Hubs: ``category`` is mapped to ``article_type``. Its 141 values are the specific kinds people search for
("Tshirts", "Casual Shoes", "Watches", "Kurtas") and make hubs of useful size, while ``master_category`` (7
values) would make a handful of hubs of thousands of items each and ``sub_category`` mixes kinds ("Topwear" is
shirts, t-shirts, kurtas and tops). The other columns stay attributes, so they are both evidence for the
relevance scorer and the ground truth here.
"""

from __future__ import annotations

import csv
import re
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from sitegen.core.config import CatalogSection, Config
from sitegen.core.models import QUERY_CATEGORIES, Collection

ProgressFactory = Callable[[str], Callable[[int, int], None] | None]
COLUMNS = ("id", "title", "master_category", "sub_category", "article_type", "base_colour", "usage", "image")
GENDERS = {"men": "men", "man": "men", "mens": "men", "male": "men", "women": "women", "woman": "women",
           "womens": "women", "ladies": "women", "lady": "women", "female": "women", "boy": "boys", "boys": "boys",
           "girl": "girls", "girls": "girls", "unisex": "unisex"}
FIELDS = ("base_colour", "article_type", "usage", "gender")
TARGETS = {"precision": 0.90, "occasion_precision": 0.90, "coverage": 0.80, "recall_at_10": 0.95}
LIMITS = {"fragment_headed": 0, "bare_colour_share": 0.02}  # at most
_FACET_WORDS = frozenset({"and", "a", "in", "of", "the", "with", "for", "check", "checked", "checks", "striped",
                          "stripe", "solid", "printed", "print", "plain", "colour", "color", "shade", "dark",
                          "light"})
_PREFIX_MIN = 5
_SHARED_BRANDS = 3
RECALL_QUERIES = 1000
DUPLICATE_JACCARD = 0.5
DUPLICATE_SHARE_MAX = 0.05  # at most this share of collections in such a pair


def _words(text: str) -> list[str]:
    """Lowercase words, "t-shirt" -> "tshirt", "men's" -> "mens", plurals to singular (the metric's own
    normalisation, independent of the pipeline's)."""
    text = re.sub(r"['\u2019]s\b", "s", text.lower())
    text = re.sub(r"\bt[\s-]*shirt", "tshirt", text)
    out = []
    for w in re.findall(r"[a-z0-9]+", text):
        if w in GENDERS:
            out.append(w)
        elif len(w) > 3 and w.endswith(("ches", "shes", "sses")):
            out.append(w[:-2])
        elif len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
            out.append(w[:-1])
        else:
            out.append(w)
    return out


class Truth:
    """The catalog's value vocabulary (from every row of the dataset) and each item's true values."""

    def __init__(self, rows: Sequence[dict[str, str]]):
        self.phrases: dict[tuple[str, ...], tuple[str, str]] = {}
        for field in ("base_colour", "article_type", "usage"):
            for value in sorted({r[field] for r in rows if r.get(field)}):
                key = tuple(_words(value))
                if key:
                    self.phrases.setdefault(key, (field, value))
        self.longest = max((len(k) for k in self.phrases), default=1)
        self.rows = {r["id"]: r for r in rows}
        self.value_words = {w for k in self.phrases for w in k}
        starts: Counter[tuple[str, ...]] = Counter()
        for r in rows:
            ws = _words(r["title"])
            if not any(w in GENDERS for w in ws):
                starts.update({tuple(ws[:k]) for k in (1, 2, 3) if len(ws) > k})
        self._prefixes = {p for p, c in starts.items() if c >= _PREFIX_MIN}
        firsts: dict[str, set[str]] = {}
        for r in rows:
            ws = _words(r["title"])
            for w in ws[1:]:
                firsts.setdefault(w, set()).add(ws[0])
        self._shared = {w for w, f in firsts.items() if len(f) >= _SHARED_BRANDS}  # words of many brands' titles
        self._brands: dict[str, frozenset[str]] = {}

    def brand(self, item_id: str) -> frozenset[str]:
        """The brand words of an item's title: the words before the gender word, else its longest title prefix
        shared by at least five titles; never a colour, article-type or usage word."""
        got = self._brands.get(item_id)
        if got is None:
            ws = _words(self.rows[item_id]["title"])
            cut = next((i for i, w in enumerate(ws) if w in GENDERS), None)
            prefix = cut is None
            if prefix:
                cut = max((k for k in (1, 2, 3) if tuple(ws[:k]) in self._prefixes), default=0)
            got = self._brands[item_id] = frozenset(w for i, w in enumerate(ws[:cut]) if w not in self.value_words
                                                    and not (prefix and i and w in self._shared))
        return got

    def named(self, topic: str) -> dict[str, set[str]]:
        """The catalog values a topic names, by field (longest phrase first: "formal shoes" is an article
        type, not the usage "formal" + "shoes")."""
        ws = _words(topic)
        out: dict[str, set[str]] = {}
        i = 0
        while i < len(ws):
            if ws[i] in GENDERS:
                out.setdefault("gender", set()).add(GENDERS[ws[i]])
                i += 1
                continue
            for size in range(min(self.longest, len(ws) - i), 0, -1):
                hit = self.phrases.get(tuple(ws[i:i + size]))
                if hit:
                    out.setdefault(hit[0], set()).add(hit[1])
                    i += size
                    break
            else:
                i += 1
        return out

    def values(self, item_id: str) -> dict[str, set[str]]:
        r = self.rows[item_id]
        genders = {GENDERS[w] for w in _words(r["title"]) if w in GENDERS}
        return {"base_colour": {r["base_colour"]}, "article_type": {r["article_type"]}, "usage": {r["usage"]},
                "gender": genders}

    def matches(self, item_id: str, named: dict[str, set[str]]) -> bool:
        have = self.values(item_id)
        return all(wanted <= have[field] for field, wanted in named.items())


def collection_precision(collections: Sequence[Collection], truth: Truth) -> dict:
    per = []
    by_field: dict[str, list[float]] = {f: [] for f in FIELDS}
    for c in collections:
        named = truth.named(c.topic)
        if not named or not c.item_ids:
            continue
        share = sum(truth.matches(i, named) for i in c.item_ids) / len(c.item_ids)
        per.append((share, c.topic, {k: sorted(v) for k, v in named.items()}, len(c.item_ids)))
        for field, wanted in named.items():
            by_field[field].append(sum(wanted <= truth.values(i)[field] for i in c.item_ids) / len(c.item_ids))
    per.sort(key=lambda p: (p[0], p[1]))
    return {"precision": round(float(np.mean([p[0] for p in per])), 4) if per else 0.0,
            "evaluable": len(per), "collections": len(collections),
            "precision_by_field": {f: round(float(np.mean(v)), 4) for f, v in by_field.items() if v},
            "evaluable_by_field": {f: len(v) for f, v in by_field.items()},
            "worst": [{"topic": t, "precision": round(s, 3), "named": n, "items": k} for s, t, n, k in per[:10]]}


def implied_usages(topic: str, implies: dict[str, Sequence[str]]) -> list[set[str]]:
    """The usage values each occasion of ``topic`` implies (one set per occasion named, lowercase)."""
    ws = _words(topic)
    keys = sorted(((tuple(_words(k)), {v.lower() for v in vs}) for k, vs in implies.items() if vs),
                  key=lambda kv: -len(kv[0]))
    out, i = [], 0
    while i < len(ws):
        for key, values in keys:
            if key and tuple(ws[i:i + len(key)]) == key:
                out.append(values)
                i += len(key)
                break
        else:
            i += 1
    return out


def occasion_precision(collections: Sequence[Collection], truth: Truth, implies: dict[str, Sequence[str]],
                       usages: set[str]) -> dict:
    """Precision of the collections whose topic names an occasion implying a usage the catalog has (``usages``,
    lowercase): an item counts when its usage is implied by every occasion and it matches the named values."""
    per = []
    for c in collections:
        wanted = [v & usages for v in implied_usages(c.topic, implies)]
        if not wanted or not all(wanted) or not c.item_ids:
            continue
        named = truth.named(c.topic)
        named.pop("usage", None)  # "party dresses": the occasion is the usage, checked as implied
        ok = sum(all(truth.rows[i]["usage"].lower() in w for w in wanted) and truth.matches(i, named)
                 for i in c.item_ids)
        per.append((ok / len(c.item_ids), c.topic, len(c.item_ids)))
    per.sort(key=lambda p: (p[0], p[1]))
    return {"occasion_precision": round(float(np.mean([p[0] for p in per])), 4) if per else 0.0,
            "occasion_collections": len(per),
            "worst_occasion": [{"topic": t, "precision": round(s, 3), "items": k} for s, t, k in per[:10]]}


def junk_topics(collections: Sequence[Collection], truth: Truth) -> dict:
    """Collections headed by a brand / model fragment, and bare-colour collections (see the module docstring)."""
    headed, colours = [], []
    for c in collections:
        ws = _words(c.topic)
        if not ws or not c.item_ids:
            continue
        head = ws[0]
        if any(ch.isdigit() for ch in head) or (
                head not in truth.value_words and head not in GENDERS
                and sum(head in truth.brand(i) for i in c.item_ids) * 2 > len(c.item_ids)):
            headed.append(c.topic)
        named = truth.named(c.topic)
        if set(named) == {"base_colour"}:
            colour_words = {w for v in named["base_colour"] for w in _words(v)}
            if all(w in colour_words or w in _FACET_WORDS for w in ws):
                colours.append(c.topic)
    n = len(collections)
    return {"fragment_headed": len(headed), "fragment_headed_topics": sorted(headed)[:20],
            "bare_colour": len(colours), "bare_colour_share": round(len(colours) / n, 4) if n else 0.0,
            "bare_colour_topics": sorted(colours)[:20]}


def duplicate_pairs(collections: Sequence[Collection], threshold: float = DUPLICATE_JACCARD) -> dict:
    """The pairs of collections whose published item sets have Jaccard >= ``threshold``: the share of collections
    in at least one such pair, the number of pairs and the worst ones."""
    sets = [frozenset(c.item_ids) for c in collections]
    holders: dict[str, list[int]] = {}
    for n, s in enumerate(sets):
        for i in s:
            holders.setdefault(i, []).append(n)
    pairs = []
    for a, s in enumerate(sets):
        shared: Counter = Counter()
        for i in s:
            shared.update(b for b in holders[i] if b > a)
        for b, inter in shared.items():
            jac = inter / (len(s) + len(sets[b]) - inter)
            if jac >= threshold:
                pairs.append((jac, a, b))
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    in_pair = {n for _, a, b in pairs for n in (a, b)}
    return {"share": round(len(in_pair) / len(collections), 4) if collections else 0.0, "pairs": len(pairs),
            "collections_in_pairs": len(in_pair),
            "worst": [{"a": collections[a].topic, "b": collections[b].topic, "jaccard": round(j, 3)}
                      for j, a, b in pairs[:10]]}


def majority_filing(collections: Sequence[Collection], hub_of_item: Callable[[str], str]) -> dict:
    """Whether each collection's hub is the one holding the most of its published items (a tie counts for each
    hub in it): the share filed there, and the misfiled ones with their majority hub."""
    ok, misfiled = 0, []
    for c in collections:
        hubs = Counter(hub_of_item(i) for i in c.item_ids)
        if not hubs:
            continue
        top = max(hubs.values())
        best = sorted(h for h, n in hubs.items() if n == top)
        if c.hub in best:
            ok += 1
        else:
            misfiled.append({"topic": c.topic, "hub": c.hub, "majority": best[0],
                             "share": round(top / len(c.item_ids), 3)})
    n = ok + len(misfiled)
    return {"share": round(ok / n, 4) if n else 1.0, "misfiled": len(misfiled), "worst": misfiled[:10]}


def read_rows(dataset_dir: Path) -> list[dict[str, str]]:
    with open(Path(dataset_dir) / "catalog.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def subset(rows: Sequence[dict[str, str]], n_items: int, seed: int) -> list[dict[str, str]]:
    """``n_items`` rows drawn without replacement with a seeded generator, in catalog order."""
    n = min(n_items, len(rows))
    pick = np.sort(np.random.default_rng(seed).choice(len(rows), n, replace=False))
    return [rows[i] for i in pick.tolist()]


def fashion_catalog_section(csv_path: Path, dataset_dir: Path) -> CatalogSection:
    return CatalogSection(path=str(csv_path), format="csv", images_dir=str(Path(dataset_dir).resolve()),
                          columns={"category": "article_type"})


def write_subset(rows: Sequence[dict[str, str]], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(COLUMNS), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def evaluate_fashion(dataset_dir: Path, *, n_items: int = 10_000, seed: int = 0, cfg: Config | None = None,
                     work_dir: Path, progress: ProgressFactory | None = None) -> dict:
    """Run the build's own pipeline (``gather_site`` + ``run_geo``) on a seeded subset of
    ``dataset_dir/catalog.csv`` and measure it (see the module docstring). ``work_dir`` keeps the subset and a
    site store (image cache, index, embeddings) that makes a second run fast. ``progress(stage)`` returns a
    ``(done, total)`` callback or None."""
    cfg, truth, usages = fashion_config(dataset_dir, n_items=n_items, seed=seed, cfg=cfg, work_dir=work_dir)
    return evaluate_site(cfg, truth, seed=seed, progress=progress, dataset=str(dataset_dir), usages=usages)


def fashion_config(dataset_dir: Path, *, n_items: int, seed: int, cfg: Config | None,
                   work_dir: Path) -> tuple[Config, "Truth", set[str]]:
    """The site of a seeded ``n_items`` subset of the fashion catalog (written to ``work_dir`` with its own
    store there), built with ``cfg``'s settings and the fashion word lists; the catalog's ground truth; the
    subset's usage values (lowercase)."""
    rows = read_rows(dataset_dir)
    truth = Truth(rows)
    chosen = subset(rows, n_items, seed)
    dataset_dir, work_dir = Path(dataset_dir), Path(work_dir)
    csv_path = write_subset(chosen, work_dir / f"catalog-{len(chosen)}-seed{seed}.csv")
    cfg = cfg or Config()
    # the catalog is fashion: its word lists, plus any lexicon file of the site's own
    own = [str(cfg.path(e)) for e in cfg.represent.lexicons if e.endswith(".toml")]
    cfg = replace(cfg, represent=replace(cfg.represent, lexicons=["en", "fashion", *own]))
    cfg = replace(cfg, catalog=fashion_catalog_section(csv_path, dataset_dir), root=work_dir,
                  build=replace(cfg.build, store=str(work_dir / f"store-{len(chosen)}-seed{seed}" / "site.duckdb")))
    return cfg, truth, {r["usage"].lower() for r in chosen if r.get("usage")}


def run_site(cfg: Config, *, progress: ProgressFactory | None = None, with_exact: bool = True):
    """What an evaluation measures: the site of ``cfg`` gathered and run through the GEO pipeline exactly as
    ``sitegen build`` does (no cached GEO result). Returns (gathered, geo result, seconds per step)."""
    from sitegen.pipeline.gather import gather_site
    from sitegen.pipeline.geo import run_geo
    from sitegen.store.db import Store

    seconds: dict[str, float] = {}

    def laps(name: str) -> _Lap:
        return _Lap(seconds, name)

    with Store(cfg.store_path) as store:
        gathered = gather_site(cfg, store, progress=progress, timer=laps)
        geo = run_geo(cfg, store, gathered.site, progress=progress, timer=laps, reuse=False)
    return gathered, geo, seconds


def evaluate_site(cfg: Config, truth: Truth, *, seed: int = 0, progress: ProgressFactory | None = None,
                  dataset: str = "", usages: set[str] | None = None) -> dict:
    """Run the site of ``cfg`` as a build does (``run_site``) and measure its collections against ``truth``;
    ``usages``: the usage values the catalog has (lowercase; default: those of every row of ``truth``)."""
    from sitegen.core.lexicon import load_lexicon
    from sitegen.distribute.annotate import annotation_mix
    from sitegen.engines.index import build_index, recall_at_k

    gathered, geo, seconds = run_site(cfg, progress=progress)
    t0 = time.perf_counter()
    out = geo.outputs.values
    items = geo.site.items
    item_vectors, topic_vectors = out["embed"].item_vectors, out["collect"].topic_vectors
    index = out["index"].index
    exact = build_index(item_vectors, replace(cfg.index, backend="exact"))
    rng = np.random.default_rng(seed)
    pages = [v for k, v in topic_vectors.items() if "#" not in k]  # the collections' topics (not their aliases')
    tv = np.stack(pages) if pages else np.zeros((0, item_vectors.shape[1]))
    tq = tv[np.sort(rng.choice(len(tv), min(RECALL_QUERIES, len(tv)), replace=False))] if len(tv) else tv
    iq = item_vectors[np.sort(rng.choice(len(items), min(RECALL_QUERIES, len(items)), replace=False))]
    recall_topics = recall_at_k(index, exact, tq, 10) if len(tq) else 1.0
    recall_items = recall_at_k(index, exact, iq, 10) if len(iq) else 1.0
    seconds["recall"] = round(time.perf_counter() - t0, 2)

    collections, annotations, queries = geo.site.collections, geo.site.annotations, geo.queries or []
    counters = geo.counters
    prec = collection_precision(collections, truth)
    if usages is None:
        usages = {r["usage"].lower() for r in truth.rows.values() if r.get("usage")}
    occasion = occasion_precision(collections, truth, load_lexicon(["en", "fashion"]).implies, usages)
    junk = junk_topics(collections, truth)
    dups = duplicate_pairs(collections)
    filing = majority_filing(collections, lambda i: truth.rows[i]["article_type"])
    covered = {i for c in collections for i in c.item_ids}
    counts = Counter(len(v) for v in annotations.values())
    report = {
        "dataset": dataset, "seed": seed, "items": len(items), "rows": gathered.rows_read,
        "rejected": len(gathered.rejections), "hub_column": "article_type",
        "hubs": len(gathered.site.hubs), "index_backend": index.backend,
        "queries": len(queries), "query_mix": {c: round(counters.get(f"queries_{c}", 0) / max(len(queries), 1), 4)
                                               for c in QUERY_CATEGORIES},
        "topics": counters.get("collect_topics", 0), "collections": len(collections),
        "collections_by_category": {c: sum(1 for x in collections if x.category == c) for c in QUERY_CATEGORIES},
        "dropped_topics": dict(sorted(geo.dropped.get("topic", {}).items())),
        "mean_collection_size": counters.get("collect_mean_items", 0.0),
        "precision": prec["precision"], "evaluable_collections": prec["evaluable"],
        "precision_by_field": prec["precision_by_field"], "evaluable_by_field": prec["evaluable_by_field"],
        "worst_collections": prec["worst"],
        **occasion, **junk,
        "coverage": round(len(covered) / len(items), 4) if items else 0.0,
        "duplicate_pair_share": dups["share"], "duplicate_pairs": dups["pairs"], "worst_pairs": dups["worst"],
        "aliases": sum(len(c.aliases) for c in collections),
        "majority_filed_share": filing["share"], "misfiled": filing["worst"],
        "recall_at_10": round(recall_topics, 4), "recall_at_10_items": round(recall_items, 4),
        "annotation_mix": {k: round(v, 4) for k, v in annotation_mix(annotations, collections).items()},
        "annotations_per_item": dict(sorted(counts.items())),
        "seconds": seconds,
    }
    report["passed"] = {**{k: report[k] >= v for k, v in TARGETS.items()},
                        **{k: report[k] <= v for k, v in LIMITS.items()}}
    report["passed"]["duplicate_pair_share"] = report["duplicate_pair_share"] <= DUPLICATE_SHARE_MAX
    return report


class _Lap:
    """Times one named step into ``seconds`` (the stage timer of an evaluation)."""

    def __init__(self, seconds: dict[str, float], name: str):
        self.seconds, self.name = seconds, name

    def __enter__(self):
        self.t0 = time.perf_counter()

    def __exit__(self, *exc):
        self.seconds[self.name] = round(time.perf_counter() - self.t0, 2)


def format_eval(report: dict) -> str:
    """A plain-text table of the report."""
    rows = [(f"items (subset of {report.get('rows', '?')} rows, seed {report.get('seed', '?')})", report["items"], ""),
            ("hubs (article_type)", report.get("hubs", ""), ""),
            ("queries", report["queries"], "mix " + " / ".join(f"{v:.0%}" for v in report["query_mix"].values())),
            ("topics", report["topics"], ""),
            ("collections", report["collections"], f"mean {report['mean_collection_size']} items; "
             + " / ".join(str(v) for v in report.get("collections_by_category", {}).values())),
            ("dropped topics", sum(report["dropped_topics"].values()),
             ", ".join(f"{k} {v}" for k, v in report["dropped_topics"].items())),
            ("evaluable collections", report["evaluable_collections"],
             ", ".join(f"{k} {v}" for k, v in report["evaluable_by_field"].items())),
            ("collection precision", f"{report['precision']:.3f}",
             f">= {TARGETS['precision']:.2f} " + _ok(report, "precision")),
            ("  by field", "", ", ".join(f"{k} {v:.3f}" for k, v in report["precision_by_field"].items())),
            (f"occasion precision ({report.get('occasion_collections', 0)} collections)",
             f"{report.get('occasion_precision', 0.0):.3f}",
             f">= {TARGETS['occasion_precision']:.2f} " + _ok(report, "occasion_precision")),
            ("topics headed by a brand / model fragment", report.get("fragment_headed", 0),
             f"<= {LIMITS['fragment_headed']} " + _ok(report, "fragment_headed")),
            ("bare-colour topics (share)", f"{report.get('bare_colour_share', 0.0):.3f}",
             f"<= {LIMITS['bare_colour_share']:.2f} " + _ok(report, "bare_colour_share")),
            ("coverage", f"{report['coverage']:.3f}", f">= {TARGETS['coverage']:.2f} " + _ok(report, "coverage")),
            (f"collections in a pair with item Jaccard >= {DUPLICATE_JACCARD}",
             f"{report.get('duplicate_pair_share', 0.0):.3f}",
             f"<= {DUPLICATE_SHARE_MAX:.2f} " + _ok(report, "duplicate_pair_share")
             + f"; {report.get('duplicate_pairs', 0)} pairs, {report.get('aliases', 0)} aliases"),
            ("collections filed under their items' majority hub", f"{report.get('majority_filed_share', 1.0):.3f}",
             ""),
            (f"ANN recall@10 ({report['index_backend']}, topic queries)", f"{report['recall_at_10']:.3f}",
             f">= {TARGETS['recall_at_10']:.2f} " + _ok(report, "recall_at_10")),
            ("ANN recall@10 (item queries)", f"{report['recall_at_10_items']:.3f}", ""),
            ("annotation mix", " / ".join(f"{v:.0%}" for v in report["annotation_mix"].values()),
             "target 30 / 30 / 40 +-5"),
            ("seconds", round(sum(report["seconds"].values()), 1),
             ", ".join(f"{k} {v}" for k, v in report["seconds"].items()))]
    width = max(len(r[0]) for r in rows)
    vwidth = max(len(str(r[1])) for r in rows)
    lines = [f"{'metric'.ljust(width)}  {'value'.rjust(vwidth)}  notes", "-" * (width + vwidth + 40)]
    lines += [f"{name.ljust(width)}  {str(value).rjust(vwidth)}  {note}".rstrip() for name, value, note in rows]
    if report.get("worst_pairs") or report.get("misfiled"):
        lines.append("")
        lines.append("most overlapping pairs and misfiled collections:")
    for w in report.get("worst_pairs", [])[:5]:
        lines.append(f"  pair {w['jaccard']:.2f}  {w['a']!r} / {w['b']!r}")
    for w in report.get("misfiled", [])[:5]:
        lines.append(f"  filed under {w['hub']!r}, most items in {w['majority']!r} ({w['share']:.0%}): {w['topic']}")
    if report.get("worst_collections"):
        lines.append("")
        lines.append("least precise evaluable collections:")
        for w in report["worst_collections"][:5]:
            lines.append(f"  {w['precision']:.2f}  {w['topic']}  ({w['items']} items; named {w['named']})")
    if report.get("worst_occasion"):
        lines.append("")
        lines.append("least precise occasion collections:")
        for w in report["worst_occasion"][:5]:
            lines.append(f"  {w['precision']:.2f}  {w['topic']}  ({w['items']} items)")
    for key, title in (("fragment_headed_topics", "fragment-headed topics"), ("bare_colour_topics", "bare colours")):
        if report.get(key):
            lines.append("")
            lines.append(f"{title}: " + "; ".join(report[key][:10]))
    return "\n".join(lines)


def _ok(report: dict, key: str) -> str:
    return "ok" if report.get("passed", {}).get(key) else "FAIL"
