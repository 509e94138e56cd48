"""``sitegen eval``: measure collection quality on the fashion-44k catalog, whose attribute columns are ground
truth for whether an item satisfies a topic such as "black formal shoes for men".

The real stages run on a deterministic (seeded) subset: load -> embed -> represent -> index -> topics ->
collect -> annotate. Measured:

- collection precision: for each collection whose topic names catalog values - a colour (``base_colour``
  values such as "black", "navy blue"), an article type ("formal shoes", "tshirts"), a usage ("formal",
  "ethnic") or a gender ("men", "women", "boys", "girls", "unisex", as the titles carry it) - the share of its
  items whose catalog values match *all* the named values exactly (a "navy blue" item does not satisfy
  "blue"); the mean over those collections, and how many there were;
- coverage: the share of the subset's items in at least one collection;
- ANN recall@10 of the configured index against exact search, for the topic vectors (collect's real
  queries; up to 1,000, seeded) and for item vectors;
- counts: items, queries and their mix, topics, collections, dropped topics by reason, annotation mix.

Hubs: ``category`` is mapped to ``article_type``. Its 141 values are the specific kinds people search for
("Tshirts", "Casual Shoes", "Watches", "Kurtas") and make hubs of useful size, while ``master_category`` (7
values) would make a handful of hubs of thousands of items each and ``sub_category`` mixes kinds ("Topwear" is
shirts, t-shirts, kurtas and tops). The other columns stay attributes, so they are both evidence for the
relevance scorer and the ground truth here.
"""

from __future__ import annotations

import csv
import hashlib
import re
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from sitegen.core.config import CatalogSection, Config
from sitegen.core.models import QUERY_CATEGORIES, Collection, Item

ProgressFactory = Callable[[str], Callable[[int, int], None] | None]
COLUMNS = ("id", "title", "master_category", "sub_category", "article_type", "base_colour", "usage", "image")
GENDERS = {"men": "men", "man": "men", "mens": "men", "male": "men", "women": "women", "woman": "women",
           "womens": "women", "ladies": "women", "lady": "women", "female": "women", "boy": "boys", "boys": "boys",
           "girl": "girls", "girls": "girls", "unisex": "unisex"}
FIELDS = ("base_colour", "article_type", "usage", "gender")
TARGETS = {"precision": 0.90, "coverage": 0.80, "recall_at_10": 0.95}
RECALL_QUERIES = 1000


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
    """Run the pipeline on a seeded subset of ``dataset_dir/catalog.csv`` and measure it (see the module
    docstring). ``work_dir`` keeps the subset, the image cache, the index and a store whose embedding cache
    makes a second run fast. ``progress(stage)`` returns a ``(done, total)`` callback or None."""
    from sitegen.distribute.annotate import annotate, annotation_mix
    from sitegen.core.text import item_text
    from sitegen.aggregate.collect import collect, make_topics
    from sitegen.engines.embed import Embedder
    from sitegen.engines.index import build_index, load_or_build, recall_at_k
    from sitegen.ingest.load import load_catalog
    from sitegen.represent.postprocess import PostProcessor
    from sitegen.represent.run import make_generator, represent
    from sitegen.store.db import Store

    progress = progress or (lambda _name: None)
    cfg = cfg or Config()
    dataset_dir, work_dir = Path(dataset_dir), Path(work_dir)
    seconds: dict[str, float] = {}
    clock = [time.perf_counter()]

    def lap(name: str) -> None:
        now = time.perf_counter()
        seconds[name] = round(now - clock[0], 2)
        clock[0] = now

    rows = read_rows(dataset_dir)
    truth = Truth(rows)
    chosen = subset(rows, n_items, seed)
    csv_path = write_subset(chosen, work_dir / f"catalog-{len(chosen)}-seed{seed}.csv")
    cfg = replace(cfg, catalog=fashion_catalog_section(csv_path, dataset_dir), root=work_dir)
    store = Store(work_dir / "eval.duckdb")
    try:
        loaded = load_catalog(cfg.catalog, work_dir, image_cache_dir=work_dir / "images",
                              image_meta=store.image_meta(), progress=progress("load"))
        store.put_image_meta(loaded.image_meta)
        items: list[Item] = loaded.items
        lap("load")

        embedder = Embedder(cfg.embed.model, batch_size=cfg.embed.batch_size, device=cfg.embed.device, store=store)
        item_vectors = embedder.encode([item_text(i) for i in items], progress=progress("embed"))
        lap("embed")

        generator = make_generator(cfg, embedder, items, store)
        try:
            queries, _dropped_q, qstats = represent(items, generator, PostProcessor(cfg.represent, embedder),
                                                    progress=progress("represent"))
        finally:
            generator.close()
        lap("represent")

        fingerprint = hashlib.sha256(item_vectors.tobytes() + repr(cfg.index).encode()).hexdigest()[:24]
        index, _ = load_or_build(item_vectors, cfg.index, work_dir / f"index-{len(items)}-{seed}", fingerprint)
        lap("index")

        hub_names = {i.id: i.category or "Other" for i in items}
        topics = make_topics(items, queries, lambda it: hub_names[it.id])
        topic_vectors = embedder.encode([t.text for t in topics], progress=progress("topics"))
        lap("topics")
        collections, dropped, cstats = collect(topics, topic_vectors, items, item_vectors, index, cfg.collect,
                                               hub_of=lambda it: hub_names[it.id], item_text=item_text,
                                               progress=progress("collect"))
        lap("collect")

        by_text = {t.text: v for t, v in zip(topics, topic_vectors)}
        annotations = annotate(items, collections, item_vectors, {c.slug: by_text[c.topic] for c in collections},
                               cfg.link, cfg.represent.mix, cfg.collect)
        lap("annotate")

        exact = build_index(item_vectors, replace(cfg.index, backend="exact"))
        rng = np.random.default_rng(seed)
        tq = topic_vectors[np.sort(rng.choice(len(topics), min(RECALL_QUERIES, len(topics)), replace=False))]
        iq = item_vectors[np.sort(rng.choice(len(items), min(RECALL_QUERIES, len(items)), replace=False))]
        recall_topics = recall_at_k(index, exact, tq, 10) if len(tq) else 1.0
        recall_items = recall_at_k(index, exact, iq, 10) if len(iq) else 1.0
        lap("recall")
    finally:
        store.close()

    prec = collection_precision(collections, truth)
    covered = {i for c in collections for i in c.item_ids}
    counts = Counter(len(v) for v in annotations.values())
    report = {
        "dataset": str(dataset_dir), "seed": seed, "items": len(items), "rows": loaded.rows_read,
        "rejected": len(loaded.rejections), "hub_column": "article_type",
        "hubs": len(set(hub_names.values())), "index_backend": index.backend,
        "queries": len(queries), "query_mix": {c: round(qstats.get(c, 0) / max(len(queries), 1), 4)
                                               for c in QUERY_CATEGORIES},
        "topics": len(topics), "collections": len(collections),
        "collections_by_category": {c: sum(1 for x in collections if x.category == c) for c in QUERY_CATEGORIES},
        "dropped_topics": dict(sorted(Counter(d.reason.split(":", 1)[0] for d in dropped).items())),
        "mean_collection_size": cstats.get("mean_items", 0.0),
        "precision": prec["precision"], "evaluable_collections": prec["evaluable"],
        "precision_by_field": prec["precision_by_field"], "evaluable_by_field": prec["evaluable_by_field"],
        "worst_collections": prec["worst"],
        "coverage": round(len(covered) / len(items), 4) if items else 0.0,
        "recall_at_10": round(recall_topics, 4), "recall_at_10_items": round(recall_items, 4),
        "annotation_mix": {k: round(v, 4) for k, v in annotation_mix(annotations, collections).items()},
        "annotations_per_item": dict(sorted(counts.items())),
        "seconds": seconds,
    }
    report["passed"] = {k: report[k] >= v for k, v in TARGETS.items()}
    return report


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
            ("coverage", f"{report['coverage']:.3f}", f">= {TARGETS['coverage']:.2f} " + _ok(report, "coverage")),
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
    if report.get("worst_collections"):
        lines.append("")
        lines.append("least precise evaluable collections:")
        for w in report["worst_collections"][:5]:
            lines.append(f"  {w['precision']:.2f}  {w['topic']}  ({w['items']} items; named {w['named']})")
    return "\n".join(lines)


def _ok(report: dict, key: str) -> str:
    return "ok" if report.get("passed", {}).get(key) else "FAIL"
