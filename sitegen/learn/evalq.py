"""Evaluate generated queries against reference queries (held-out search data) with ROUGE-1 F1, per category.

Definition (``evaluate_queries``): for every image and every reference query ``r`` of category ``c``, the score
is the best ROUGE-1 F1 between ``r`` and any *generated* query of the same image and the same category ``c``
(0 when the image has no generated query of that category, or no generated queries at all). A category's score
is the mean over all its reference queries (all images pooled); ``overall`` is the mean of the category scores
(macro average, as the paper's table, whose overall 0.46 is the mean of 0.63 / 0.40 / 0.34);
``overall_micro`` is the mean over all reference queries. ROUGE-1 F1 (:func:`rouge1_f1`) is the clipped
unigram overlap of lowercased word tokens: P = overlap / |pred|, R = overlap / |ref|, F1 = 2PR / (P + R).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sitegen.core.models import QUERY_CATEGORIES, QueryCategory
from sitegen.engines.vlm import Progress, VlmBackend, VlmRequest
from sitegen.represent.parse import parse_queries

if TYPE_CHECKING:  # pragma: no cover
    from sitegen.store.db import Store

PAPER_ROUGE1: dict[str, float] = {"description": 0.63, "style": 0.40, "use_case": 0.34, "overall": 0.46}

_TOKEN_RE = re.compile(r"[^\W_]+", re.UNICODE)


def tokens(text: str) -> list[str]:
    return _TOKEN_RE.findall(text.lower())


def rouge1_f1(pred: str, ref: str) -> float:
    """Unigram-overlap F1 of lowercased word tokens (counts clipped); 0.0 when either side has no tokens."""
    p, r = Counter(tokens(pred)), Counter(tokens(ref))
    overlap = sum((p & r).values())
    if not overlap:
        return 0.0
    precision = overlap / sum(p.values())
    recall = overlap / sum(r.values())
    return 2 * precision * recall / (precision + recall)


def _pairs(queries: Iterable[Any]) -> list[tuple[str, QueryCategory]]:
    out = []
    for q in queries:
        if hasattr(q, "text") and hasattr(q, "category"):
            out.append((str(q.text), q.category))
        elif isinstance(q, Mapping):
            out.append((str(q.get("text", q.get("query", ""))), q.get("category", "description")))
        else:
            text, cat = q[0], q[1]
            out.append((str(text), cat))
    return out


@dataclass
class QueryEvalReport:
    per_category: dict[str, float]  # mean best-match ROUGE-1 F1 of the references of each category
    references: dict[str, int]  # reference queries per category
    overall: float  # macro mean of the categories that have references
    overall_micro: float  # mean over all reference queries
    generated_mix: dict[str, float]  # share of each category among generated queries
    generated_count: int
    images: int  # images with references
    missing: list[str] = field(default_factory=list)  # images with references but no generated queries
    side_by_side: list[dict] = field(default_factory=list)  # per image, for human review

    def to_dict(self) -> dict:
        data = asdict(self)
        data["paper"] = dict(PAPER_ROUGE1)
        return data


def evaluate_queries(generated: Mapping[str, Sequence[Any]],
                     references: Mapping[str, Sequence[Any]]) -> QueryEvalReport:
    """Score ``generated`` (image key -> Query-like objects, dicts or (text, category) pairs) against
    ``references`` (same shape) as described in the module docstring."""
    scores: dict[str, list[float]] = {c: [] for c in QUERY_CATEGORIES}
    side: list[dict] = []
    missing: list[str] = []
    gen_mix: Counter = Counter()
    gen_total = 0
    for key, gen_list in generated.items():
        for _, cat in _pairs(gen_list):
            gen_mix[cat] += 1
            gen_total += 1
    for key in sorted(references):
        refs = _pairs(references[key])
        gens = _pairs(generated.get(key, []))
        if not gens:
            missing.append(key)
        rows = []
        for ref_text, ref_cat in refs:
            best_text, best = "", 0.0
            for gen_text, gen_cat in gens:
                if gen_cat != ref_cat:
                    continue
                f1 = rouge1_f1(gen_text, ref_text)
                if f1 > best or not best_text:
                    best_text, best = gen_text, f1
            scores.setdefault(ref_cat, []).append(best)
            rows.append({"reference": ref_text, "category": ref_cat, "best_match": best_text,
                         "rouge1_f1": round(best, 4)})
        side.append({"key": key, "references": rows,
                     "generated": [{"query": t, "category": c} for t, c in gens]})
    per_category = {c: (sum(v) / len(v) if v else 0.0) for c, v in scores.items()}
    counts = {c: len(v) for c, v in scores.items()}
    with_refs = [per_category[c] for c in scores if counts[c]]
    all_scores = [s for v in scores.values() for s in v]
    return QueryEvalReport(
        per_category=per_category, references=counts,
        overall=sum(with_refs) / len(with_refs) if with_refs else 0.0,
        overall_micro=sum(all_scores) / len(all_scores) if all_scores else 0.0,
        generated_mix={c: (gen_mix[c] / gen_total if gen_total else 0.0) for c in QUERY_CATEGORIES},
        generated_count=gen_total, images=len(references), missing=missing, side_by_side=side)


def format_table(report: QueryEvalReport) -> str:
    """A plain-text table: category, reference count, ROUGE-1 F1, the paper's value, generated mix."""
    lines = [f"{'category':<12} {'refs':>6} {'ROUGE-1 F1':>10} {'paper':>6} {'gen mix':>8}",
             "-" * 46]
    for c in QUERY_CATEGORIES:
        lines.append(f"{c:<12} {report.references.get(c, 0):>6} {report.per_category.get(c, 0.0):>10.3f} "
                     f"{PAPER_ROUGE1[c]:>6.2f} {report.generated_mix.get(c, 0.0):>7.0%}")
    lines.append("-" * 46)
    total = sum(report.references.values())
    lines.append(f"{'overall':<12} {total:>6} {report.overall:>10.3f} {PAPER_ROUGE1['overall']:>6.2f} "
                 f"{report.generated_count:>8}")
    lines.append(f"micro average {report.overall_micro:.3f}; {report.images} images, "
                 f"{len(report.missing)} without generated queries")
    return "\n".join(lines)


def references_from_records(records: Iterable[dict]) -> dict[str, list[tuple[str, QueryCategory]]]:
    """Reference queries from training-format records (e.g. ``heldout.jsonl``), keyed by ``item_id`` (or image)."""
    out: dict[str, list[tuple[str, QueryCategory]]] = {}
    for rec in records:
        content = rec["messages"][-1]["content"]
        key = str(rec.get("item_id") or rec["image"])
        out.setdefault(key, []).extend((q.text, q.category) for q in parse_queries(str(content)))
    return out


def generate_for_records(records: Sequence[dict], backend: VlmBackend, *, batch_size: int = 32,
                         progress: Progress | None = None) -> dict[str, list[tuple[str, QueryCategory]]]:
    """Run ``backend`` on the image and user prompt of each record (same prompt as in training) and parse."""
    out: dict[str, list[tuple[str, QueryCategory]]] = {}
    for start in range(0, len(records), max(1, batch_size)):
        chunk = records[start: start + batch_size]
        requests = []
        for rec in chunk:
            system = next((m["content"] for m in rec["messages"] if m["role"] == "system"), None)
            user = next(m["content"] for m in rec["messages"] if m["role"] == "user")
            text = user if isinstance(user, str) else "".join(p.get("text", "") for p in user if p.get("type") == "text")
            kwargs = {"system": system} if isinstance(system, str) else {}
            requests.append(VlmRequest(image=rec["image"], prompt=text, key=str(rec.get("item_id", "")), **kwargs))
        for rec, res in zip(chunk, backend.generate_detailed(requests)):
            key = str(rec.get("item_id") or rec["image"])
            out[key] = [(q.text, q.category) for q in parse_queries(res.text)] if not res.error else []
        if progress:
            progress(min(start + len(chunk), len(records)), len(records))
    return out


def load_query_file(path: str | Path) -> dict[str, list[tuple[str, QueryCategory]]]:
    """Queries per image from a JSONL file in any of three shapes: training records (``messages``; the
    assistant target), ``{"item_id", "queries": [{"query"|"text", "category"}]}``, or one query per line
    ``{"item_id", "text", "category"}`` (a dump of the store's queries table)."""
    out: dict[str, list[tuple[str, QueryCategory]]] = {}
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except ValueError as exc:
                raise ValueError(f"{path}:{n}: not valid JSON: {exc}") from exc
            if "messages" in rec:
                for key, pairs in references_from_records([rec]).items():
                    out.setdefault(key, []).extend(pairs)
                continue
            key = str(rec.get("item_id") or rec.get("key") or rec.get("image") or "")
            if not key:
                raise ValueError(f"{path}:{n}: no item_id")
            if isinstance(rec.get("queries"), list):
                out.setdefault(key, []).extend(_pairs(rec["queries"]))
            elif "text" in rec or "query" in rec:
                out.setdefault(key, []).extend(_pairs([rec]))
    return out


def generated_from_store(store: Store, item_ids: Iterable[str] | None = None
                         ) -> dict[str, list[tuple[str, QueryCategory]]]:
    """The queries of the last build (the store's ``queries`` table), per item id."""
    rows = store.geo.queries()
    wanted = set(item_ids) if item_ids is not None else None
    out: dict[str, list[tuple[str, QueryCategory]]] = {}
    for item_id, text, category in rows:
        if wanted is None or item_id in wanted:
            out.setdefault(item_id, []).append((text, category))
    return out


def write_report(report: QueryEvalReport, path: str | Path) -> None:
    """The report as JSON (scores, mix, the paper's values, and the side-by-side list for review)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8")
