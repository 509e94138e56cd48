"""``sitegen eval geo``: how visible the site's pages are in a generative engine's answers, offline.

1. **Index.** The built site's indexable pages (``read_site``: noindex pages, redirect stubs and pages naming
   another canonical are left out, as a search engine leaves them) are cut into passages
   (``sitegen.learn.geo.passages``). Beside them, a **baseline** built from the same items: one plain
   category-listing page per catalog category (its name as the title and h1, its items' titles as a list,
   as text), cut the same way. Both go into one ``SearchEngine`` - the simulator's BM25 + dense retrieval,
   reciprocal-rank fusion and heading reranking - so they compete for the same answers.
2. **Held-out queries** come from the catalog's attribute combinations exactly as the simulator's hidden demand
   draws its intents (``sitegen.learn.simulate.demand.draw_population``, same seed, same intents), one query
   per intent (its first phrasing); never from the site's own topic texts. ``same_as_topic`` counts the queries
   that happen to equal a collection's heading.
3. **Answers.** For each query the engine's top ``TOP_PASSAGES`` passages make an extractive answer
   (``sitegen.learn.geo.answers``); each cited page's position-adjusted word count share (PAWC, Aggarwal et al.
   2024) and word count share are summed by the page's group - ``collection``, ``baseline``, ``item``, ``hub``
   and ``other`` (home and text pages) - and averaged over the answered queries (each answer shares 1).
   ``cited`` is the share of answers that quote the group at all.
"""

from __future__ import annotations

import html
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from sitegen.core.models import Item
from sitegen.learn.geo.answers import TOP_PASSAGES, Answer, extract_answer, pawc, word_share
from sitegen.learn.geo.passages import Passage, cut_passages

GROUPS = ("collection", "baseline", "item", "hub", "other")
BASELINE_PREFIX = "/_baseline/"  # never a published path: the crawler skips paths starting with "_"
BASELINE = "baseline"
EXAMPLES = 5

ProgressFactory = Callable[[str], Callable[[int, int], None] | None]
Embed = Callable[..., object]


@dataclass(frozen=True)
class HeldOutQuery:
    text: str
    category: str  # the catalog category of its intent
    facets: str  # the facets its intent combines, "category+audience+base_colour"
    key: str  # the intent's key


def group_of(kind: str) -> str:
    return kind if kind in ("collection", "item", "hub", BASELINE) else "other"


def baseline_pages(items: Sequence[Item]) -> list[tuple[str, str, str]]:
    """The plain category-listing baseline: (URL path, title, HTML) for each category, its items' titles
    listed in catalog order."""
    from sitegen.core.urls import slugify

    by_category: dict[str, list[str]] = {}
    for it in items:
        if it.category:
            by_category.setdefault(it.category, []).append(it.title)
    pages, used = [], Counter()
    for n, (category, titles) in enumerate(sorted(by_category.items()), 1):
        slug = slugify(category) or f"category-{n}"
        used[slug] += 1
        slug = slug if used[slug] == 1 else f"{slug}-{used[slug]}"
        name = html.escape(category)
        rows = "\n".join(f"<li>{html.escape(t)}</li>" for t in titles)
        page = (f"<!doctype html><html><head><title>{name}</title></head><body><main>"
                f"<h1>{name}</h1>\n<ul>\n{rows}\n</ul></main></body></html>")
        pages.append((f"{BASELINE_PREFIX}{slug}/", category, page))
    return pages


def site_passages(output_dir: Path, progress: Callable[[int, int], None] | None = None
                  ) -> tuple[list[Passage], Counter]:
    """The passages of every indexable page of the built site, and the pages by kind."""
    from sitegen.core.urls import output_file
    from sitegen.learn.simulate.engine import read_site

    docs = read_site(Path(output_dir))
    out: list[Passage] = []
    for n, doc in enumerate(docs, 1):
        text = (Path(output_dir) / output_file(doc.path)).read_text(encoding="utf-8", errors="replace")
        out += cut_passages(text, doc.path, doc.kind, title=doc.title, h1=doc.h1)
        if progress is not None and (n % 200 == 0 or n == len(docs)):
            progress(n, len(docs))
    return out, Counter(d.kind for d in docs)


def baseline_passages(items: Sequence[Item]) -> tuple[list[Passage], int]:
    pages = baseline_pages(items)
    out: list[Passage] = []
    for path, title, page in pages:
        out += cut_passages(page, path, BASELINE, title=title, h1=title)
    return out, len(pages)


def heldout_queries(items: Sequence[Item], *, n: int, seed: int, min_support: int = 2) -> list[HeldOutQuery]:
    """One query per intent of the simulator's hidden demand over ``items`` (``n`` intents, broadest first)."""
    from sitegen.learn.simulate.demand import draw_population

    population = draw_population(items, seed=seed, n_intents=n, searches=float(n), min_support=min_support)
    return [HeldOutQuery(text=i.text, category=i.values[0][1], facets="+".join(f for f, _ in i.values), key=i.key)
            for i in population.intents]


def evaluate_geo(output_dir: Path, items: Sequence[Item], embed: Embed, *, queries: int = 1000, seed: int = 0,
                 min_support: int = 2, progress: ProgressFactory | None = None) -> dict:
    """The GEO visibility report of the built site in ``output_dir`` against the baseline of ``items`` (see the
    module docstring). ``embed(texts, progress=...)`` returns unit vectors (``Embedder.encode``)."""
    from sitegen.learn.simulate.engine import SearchEngine, _stopwords

    progress = progress or (lambda _name: None)
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    site, kinds = site_passages(output_dir, progress("passages"))
    base, n_base = baseline_passages(items)
    seconds["passages"] = _lap(t)
    t = time.perf_counter()
    asked = heldout_queries(items, n=queries, seed=seed, min_support=min_support)
    seconds["queries"] = _lap(t)
    t = time.perf_counter()
    bar = progress("embed")

    def encode(texts):
        return embed(texts, progress=bar)

    passages = site + base
    engine = SearchEngine(passages, encode)
    seconds["index"] = _lap(t)
    t = time.perf_counter()
    by_id = {p.path: p for p in passages}
    rankings = engine.search([q.text for q in asked], progress=progress("search"))
    stop = _stopwords()
    answers = [extract_answer(q.text, [by_id[h.path] for h in hits[:TOP_PASSAGES]], stop)
               for q, hits in zip(asked, rankings)]
    seconds["answer"] = _lap(t)
    headings = {" ".join(p.h1.lower().split()) for p in site if p.kind == "collection"}
    report = {"queries": len(asked), **_aggregate(answers),
              "by_facets": _breakdown(asked, answers, lambda q: q.facets),
              "by_category": _breakdown(asked, answers, lambda q: q.category),
              "same_as_topic": sum(1 for q in asked if " ".join(q.text.lower().split()) in headings),
              "index": {"pages": {**dict(sorted(kinds.items())), BASELINE: n_base},
                        "passages": dict(sorted(Counter(group_of(p.kind) for p in passages).items()))},
              "examples": [_example(a) for a in answers if a.quotes][:EXAMPLES],
              "seconds": seconds}
    return report


def _aggregate(answers: Sequence[Answer]) -> dict:
    """Mean PAWC and word count share per group over the answered queries, and the share citing each group."""
    answered = [a for a in answers if a.quotes]
    sums = {m: dict.fromkeys(GROUPS, 0.0) for m in ("pawc", "word_count", "cited")}
    for a in answered:
        kind = {q.page: group_of(q.kind) for q in a.quotes}
        for metric, shares in (("pawc", pawc(a)), ("word_count", word_share(a))):
            for page, share in shares.items():
                sums[metric][kind[page]] += share
        for g in set(kind.values()):
            sums["cited"][g] += 1
    n = len(answered)
    return {"answered": n, **{m: {g: round(v / n, 4) if n else 0.0 for g, v in s.items()} for m, s in sums.items()}}


def _breakdown(asked: Sequence[HeldOutQuery], answers: Sequence[Answer], key: Callable[[HeldOutQuery], str]
               ) -> dict[str, dict]:
    groups: dict[str, list[Answer]] = {}
    for q, a in zip(asked, answers):
        groups.setdefault(key(q), []).append(a)
    out = {}
    for name, group in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        agg = _aggregate(group)
        out[name] = {"queries": len(group), "answered": agg["answered"], "pawc": agg["pawc"]}
    return out


def _example(answer: Answer) -> dict:
    return {"query": answer.query,
            "answer": [{"sentence": q.text, "page": q.page, "group": group_of(q.kind)} for q in answer.quotes],
            "pawc": {p: round(v, 4) for p, v in pawc(answer).items()}}


def _lap(t0: float) -> float:
    return round(time.perf_counter() - t0, 2)


def format_geo(report: dict, top_categories: int = 15) -> str:
    """The report as text: the shares per group, then by facets and by category."""
    idx = report["index"]
    site_pages = sum(v for k, v in idx["pages"].items() if k != BASELINE)
    site_passages_n = sum(v for k, v in idx["passages"].items() if k != BASELINE)
    lines = [f"GEO visibility: {report['queries']:,} held-out queries, {report['answered']:,} answered "
             f"(top {TOP_PASSAGES} passages, extractive answers)",
             f"index: {site_pages:,} site pages ({site_passages_n:,} passages) + {idx['pages'].get(BASELINE, 0):,} "
             f"baseline category listings ({idx['passages'].get(BASELINE, 0):,} passages)",
             f"queries equal to a collection heading: {report['same_as_topic']:,}", ""]
    rows = [("group", "PAWC", "word count", "cited in")]
    for g in GROUPS:
        rows.append((g, f"{report['pawc'][g]:.3f}", f"{report['word_count'][g]:.3f}", f"{report['cited'][g]:.1%}"))
    lines += _table(rows)
    c, b = report["pawc"]["collection"], report["pawc"]["baseline"]
    ratio = f" ({c / b:.2f}x)" if b else ""
    lines += ["", f"PAWC share: collection pages {c:.3f} vs category-listing baseline {b:.3f}{ratio}", ""]
    for title, part, limit in (("by query facets", "by_facets", None), ("by category", "by_category", top_categories)):
        entries = list(report[part].items())
        shown = entries[:limit] if limit else entries
        head = f"{title} (PAWC share)" + (f", the {len(shown)} with most queries of {len(entries)}"
                                          if limit and len(entries) > limit else "")
        rows = [(title.split()[-1], "queries", *GROUPS)]
        for name, v in shown:
            rows.append((name, str(v["queries"]), *(f"{v['pawc'][g]:.3f}" for g in GROUPS)))
        lines += [head, *_table(rows), ""]
    return "\n".join(lines).rstrip()


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in rows]
