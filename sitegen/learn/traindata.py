"""Fine-tuning data for the VLM from search-console exports (the paper's recipe), and synthetic labels.

1. Read an export: a joined CSV with columns ``query,page,clicks,impressions,ctr,position`` (``page`` is a page
   URL such as ``https://site/item/<slug>/`` or an image id), or a Search Console ``Queries.csv`` / ``Pages.csv``
   (``Top queries,Clicks,Impressions,CTR,Position``; CTR like ``33.33%``), read by
   ``sitegen.ingest.console.read_console_export``.
2. Join each row to an item by id, URL path, or slug.
3. Keep a row when impressions > 1000, or impressions > 10 and CTR >= 0.8, or impressions > 10 and
   position <= 10 (the retain rule, exactly).
4. Keep the top ``top_n`` (30) queries per image by impressions (desc), then position (asc).
5. Classify each query (``classify_query``) and sample a target of ``sample_size`` queries stratified to the
   30 / 30 / 40 mix where the categories allow (short categories are filled from the others, best first).
6. Write chat-format JSONL records with a deterministic held-out split.

``synthesize_training_data`` labels items that have no search data with any :class:`VlmBackend` as an oracle.
"""

from __future__ import annotations

import json
import math
import random
import re
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from sitegen.core.models import QUERY_CATEGORIES, Item, QueryCategory
from sitegen.core.urls import item_url
from sitegen.engines.vlm import Progress, VlmBackend, VlmRequest
from sitegen.ingest.console import ConsoleRow, read_console_export
from sitegen.represent.parse import classify_query, parse_queries
from sitegen.represent.prompt import SYSTEM_PROMPT, build_prompt, chat_messages, format_target

Mix = tuple[float, float, float]  # description, style, use_case
DEFAULT_MIX: Mix = (0.3, 0.3, 0.4)


def retain(row: ConsoleRow) -> bool:
    """The paper's rule: impressions > 1000, or (impressions > 10 and CTR >= 0.8), or
    (impressions > 10 and position <= 10)."""
    return (row.impressions > 1000 or (row.impressions > 10 and row.ctr >= 0.8)
            or (row.impressions > 10 and row.position <= 10))


# -- joining ---------------------------------------------------------------------------------------------
def index_items(items: Iterable[Item]) -> dict[str, Item]:
    """Join keys for every item: its id, its slug, and its item page path ``/item/<slug>/``."""
    out: dict[str, Item] = {}
    for item in items:
        out[item.id] = item
        if item.slug:
            out.setdefault(item.slug, item)
            out.setdefault(item_url(item.slug), item)
    return out


def resolve_page(page: str, items_by_key: Mapping[str, Item]) -> Item | None:
    """The item a row's ``page`` names: the key itself, its URL path (with or without the trailing slash),
    or the last path segment (the slug or id)."""
    page = page.strip()
    if not page:
        return None
    if page in items_by_key:
        return items_by_key[page]
    path = urllib.parse.urlparse(page).path if "://" in page else page
    path = urllib.parse.unquote(path)
    candidates = [path, path.rstrip("/") + "/", path.rstrip("/")]
    segments = [s for s in path.split("/") if s]
    if segments:
        candidates.append(segments[-1])
        candidates.append(re.sub(r"\.[a-z0-9]{2,5}$", "", segments[-1], flags=re.IGNORECASE))  # img123.jpg -> img123
    for key in candidates:
        if key and key in items_by_key:
            return items_by_key[key]
    return None


# -- selection -------------------------------------------------------------------------------------------
def top_queries(rows: Sequence[ConsoleRow], top_n: int = 30) -> list[ConsoleRow]:
    """One row per distinct query (case-insensitive, the one with the most impressions), best ``top_n`` by
    impressions desc, then position asc, then query text."""
    best: dict[str, ConsoleRow] = {}
    for row in rows:
        key = " ".join(row.query.lower().split())
        if key and (key not in best or (row.impressions, -row.position) > (best[key].impressions,
                                                                            -best[key].position)):
            best[key] = row
    ranked = sorted(best.values(), key=lambda r: (-r.impressions, r.position, r.query.lower()))
    return ranked[:top_n]


def category_quota(n: int, mix: Mix = DEFAULT_MIX) -> dict[QueryCategory, int]:
    """Largest-remainder split of ``n`` by ``mix`` (ties go to the later category: use_case first)."""
    raw = [n * m / sum(mix) for m in mix]
    quota = [math.floor(x) for x in raw]
    order = sorted(range(3), key=lambda i: (-(raw[i] - quota[i]), -i))
    for i in order[: n - sum(quota)]:
        quota[i] += 1
    return dict(zip(QUERY_CATEGORIES, quota))


def stratified_sample(queries: Sequence[tuple[str, QueryCategory]], size: int,
                      mix: Mix = DEFAULT_MIX) -> list[tuple[str, QueryCategory]]:
    """Pick ``size`` of the (ranked) queries so the categories follow ``mix`` where possible: each category
    takes its best queries up to its quota, then the unused best queries fill what is left. The result is in
    category order (description, style, use_case), each by rank — the order the prompt asks for."""
    size = min(size, len(queries))
    quota = category_quota(size, mix)
    chosen: set[int] = set()
    for cat in QUERY_CATEGORIES:
        picked = [i for i, (_, c) in enumerate(queries) if c == cat][: quota[cat]]
        chosen.update(picked)
    for i in range(len(queries)):
        if len(chosen) >= size:
            break
        chosen.add(i)
    rank = {cat: n for n, cat in enumerate(QUERY_CATEGORIES)}
    return [queries[i] for i in sorted(chosen, key=lambda i: (rank[queries[i][1]], i))]


def make_record(item: Item, queries: Sequence[tuple[str, QueryCategory]], *, context: bool = True,
                source: str = "console") -> dict:
    """One chat-format training record: system, user (image + prompt), assistant (the JSON target)."""
    return {"image": item.image, "item_id": item.id, "source": source,
            "messages": chat_messages(build_prompt(item, context=context), system=SYSTEM_PROMPT,
                                      answer=format_target(queries))}


def split_holdout(records: list[dict], holdout: float, seed: int) -> tuple[list[dict], list[dict]]:
    """Deterministic split by item id: shuffle the sorted ids with ``seed``, hold out round(n * holdout)
    (at least one when holdout > 0 and there are two or more records)."""
    ids = sorted({r["item_id"] for r in records})
    random.Random(seed).shuffle(ids)
    n_hold = round(len(ids) * holdout)
    if holdout > 0 and n_hold == 0 and len(ids) >= 2:
        n_hold = 1
    n_hold = min(n_hold, max(0, len(ids) - 1))
    held = set(ids[:n_hold])
    return [r for r in records if r["item_id"] not in held], [r for r in records if r["item_id"] in held]


def build_training_data(export_rows: Iterable[ConsoleRow], items_by_key: Mapping[str, Item], *, top_n: int = 30,
                        mix: Mix = DEFAULT_MIX, holdout: float = 0.1, seed: int = 0, sample_size: int = 7,
                        min_queries: int = 3, context: bool = True) -> tuple[list[dict], list[dict], dict]:
    """(train records, held-out records, stats) from joined export rows. ``sample_size``: queries per target
    (the prompt asks for 5-7); images with fewer than ``min_queries`` retained queries are skipped."""
    rows = list(export_rows)
    stats: dict = {"rows": len(rows), "rows_unmatched": 0, "rows_dropped_by_rule": 0, "rows_retained": 0,
                   "images": 0, "images_too_few_queries": 0, "unmatched_examples": [],
                   "target_mix": {c: 0 for c in QUERY_CATEGORIES}, "pool_mix": {c: 0 for c in QUERY_CATEGORIES}}
    by_item: dict[str, list[ConsoleRow]] = {}
    items: dict[str, Item] = {}
    for row in rows:
        item = resolve_page(row.page, items_by_key)
        if item is None:
            stats["rows_unmatched"] += 1
            if len(stats["unmatched_examples"]) < 5 and row.page not in stats["unmatched_examples"]:
                stats["unmatched_examples"].append(row.page)
            continue
        if not retain(row):
            stats["rows_dropped_by_rule"] += 1
            continue
        stats["rows_retained"] += 1
        by_item.setdefault(item.id, []).append(row)
        items[item.id] = item
    records: list[dict] = []
    for item_id in sorted(by_item):
        pool = [(" ".join(r.query.split()), classify_query(r.query)) for r in top_queries(by_item[item_id], top_n)]
        if len(pool) < min_queries:
            stats["images_too_few_queries"] += 1
            continue
        for _, cat in pool:
            stats["pool_mix"][cat] += 1
        target = stratified_sample(pool, sample_size, mix)
        for _, cat in target:
            stats["target_mix"][cat] += 1
        records.append(make_record(items[item_id], target, context=context))
    stats["images"] = len(records)
    train, held = split_holdout(records, holdout, seed)
    stats["train"], stats["heldout"] = len(train), len(held)
    return train, held, stats


# -- synthetic labels ------------------------------------------------------------------------------------
def light_postprocess(queries: Iterable[tuple[str, QueryCategory]], *, max_words: int = 8,
                      max_chars: int = 80) -> list[tuple[str, QueryCategory]]:
    """Lowercase, collapse spaces, drop duplicates and queries that are too long or have no letters."""
    out: list[tuple[str, QueryCategory]] = []
    seen: set[str] = set()
    for text, cat in queries:
        text = " ".join(text.lower().split())
        if not text or text in seen or len(text) > max_chars or len(text.split()) > max_words:
            continue
        if not re.search(r"[^\W\d_]", text):
            continue
        seen.add(text)
        out.append((text, cat))
    return out


def synthesize_training_data(items: Sequence[Item], backend: VlmBackend, *, mix: Mix = DEFAULT_MIX,
                             sample_size: int = 7, min_queries: int = 3, context: bool = True,
                             batch_size: int = 32, progress: Progress | None = None,
                             postprocess: Callable[[list[tuple[str, QueryCategory]]],
                                                   list[tuple[str, QueryCategory]]] | None = None,
                             ) -> tuple[list[dict], dict]:
    """Label items without search data through ``backend`` used as an oracle (e.g. a large VLM behind an
    OpenAI-compatible server): prompt, parse, light post-processing, stratified sample. Returns (records,
    stats); records carry ``"source": "synthetic"``."""
    post = postprocess or light_postprocess
    stats = {"items": len(items), "labelled": 0, "failed": 0, "too_few_queries": 0, "errors": []}
    records: list[dict] = []
    for start in range(0, len(items), max(1, batch_size)):
        chunk = list(items[start: start + batch_size])
        requests = [VlmRequest(image=it.image, prompt=build_prompt(it, context=context), key=it.id) for it in chunk]
        for item, res in zip(chunk, backend.generate_detailed(requests)):
            if res.error:
                stats["failed"] += 1
                if len(stats["errors"]) < 10:
                    stats["errors"].append(f"{item.id}: {res.error}")
                continue
            queries = post([(q.text, q.category) for q in parse_queries(res.text)])
            if len(queries) < min_queries:
                stats["too_few_queries"] += 1
                continue
            records.append(make_record(item, stratified_sample(queries, sample_size, mix), context=context,
                                       source="synthetic"))
            stats["labelled"] += 1
        if progress:
            progress(min(start + len(chunk), len(items)), len(items))
    return records, stats


# -- files -----------------------------------------------------------------------------------------------
def write_jsonl(records: Iterable[dict], path: str | Path) -> int:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with open(path, "w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False, sort_keys=True) + "\n")
            n += 1
    return n


def write_training_files(exports: Sequence[str | Path], items: Sequence[Item], out_dir: str | Path, *,
                         top_n: int = 30, mix: Mix = DEFAULT_MIX, holdout: float = 0.1, seed: int = 0,
                         sample_size: int = 7, min_queries: int = 3, context: bool = True) -> dict:
    """Read the exports, build the data, write ``train.jsonl``, ``heldout.jsonl`` and ``stats.json`` in
    ``out_dir``; return the stats (with the written paths under ``"files"``). ``items`` should carry their
    slugs so that page URLs join."""
    rows: list[ConsoleRow] = []
    for path in exports:
        rows.extend(read_console_export(path))
    train, held, stats = build_training_data(rows, index_items(items), top_n=top_n, mix=mix, holdout=holdout,
                                             seed=seed, sample_size=sample_size, min_queries=min_queries,
                                             context=context)
    out = Path(out_dir)
    files = {"train": str(out / "train.jsonl"), "heldout": str(out / "heldout.jsonl"),
             "stats": str(out / "stats.json")}
    write_jsonl(train, files["train"])
    write_jsonl(held, files["heldout"])
    stats["files"] = files
    Path(files["stats"]).write_text(json.dumps(stats, indent=2, sort_keys=True), encoding="utf-8")
    return stats


def record_queries(record: dict) -> list[tuple[str, QueryCategory]]:
    """The (query, category) target of a training record (parsed from its assistant message)."""
    content = record["messages"][-1]["content"]
    return [(q.text, q.category) for q in parse_queries(content if isinstance(content, str) else json.dumps(content))]
