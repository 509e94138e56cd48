"""The review report: ``index.html`` (+ ``report.json``) for the people who approve a publish.

It describes the build itself (timings, rejected rows, what changed), so it is not part of the published site:
it is written beside the store (``.sitegen/report/``, see ``report_dir``), ``sitegen serve`` shows it at
``/_report/`` and ``sitegen report`` opens it. Links to the site's pages are root-relative (right when served);
opened from disk, the inline script points them at the built files instead.

One static page (Jinja2, autoescaped, inline CSS; readable without JavaScript; one tiny inline script filters
the sitemap table and, from disk, rewrites the site links): the verdict, overview counts and stage timings, what
changed since the previous build, the sitemaps (every file the index names, read back from the built
folder: a table per file, in ``sitemaps/<file>.html`` beside ``index.html``, and one listing of their URLs,
each sortable and filterable by type, lastmod and image count without XSLT), rejected items, dropped queries and topics, the
collection quality gates (aliases, re-filed collections), topics by query category, link equity (PageRank
histogram and the weakest pages as server-side SVG), the relevance judgments (grades per source and rater, the
raters' agreement as quadratic-weighted kappa), the demand loop (the reward table, what query rewards changed,
the pages created, refreshed and retired with their reasons and redirects) and the audit findings. ``noindex``.
Tables are capped (the sitemap listing at 5,000 rows) with a note, so a 50k-page site gives a page a browser opens.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter, defaultdict
from dataclasses import asdict
from pathlib import Path

from markupsafe import Markup, escape

from sitegen.core import urls
from sitegen.audit.check import SEVERITY_ORDER, Finding, counts
from sitegen.audit.sitemaps import SitemapFile, read_sitemaps
from sitegen.core.config import Config
from sitegen.publish.render import packaged_templates
from sitegen.store.db import Store

SITEMAP_ROWS = 5_000  # URLs in the report's own listing; each sitemap's page lists all of its own (≤ 50,000)
TABLE_ROWS = 500
CHANGE_ROWS = 200
EXAMPLES = 5
WEAKEST = 15
KIND_ORDER = ["home", "hub", "collection", "item", "page", "report"]
CHANGE_LABELS = {"added": "Pages added", "removed": "Pages removed", "retitled": "Pages retitled",
                 "modified": "Content changed (lastmod moved)"}


def report_dir(cfg: Config) -> Path:
    """Where the review report of ``cfg``'s site is written: beside the store, outside the published folder."""
    return cfg.store_path.parent / "report"


def _fmt_seconds(s: float) -> str:
    return f"{s * 1000:.0f} ms" if s < 1 else f"{s:.1f} s" if s < 120 else f"{s / 60:.1f} min"


def histogram_svg(values: list[float], *, bins: int = 24, width: int = 640, height: int = 180) -> Markup:
    """PageRank histogram on a log scale (scores span orders of magnitude), with the uniform 1/N marked."""
    vals = [v for v in values if v > 0]
    if not vals:
        return Markup("")
    logs = [math.log10(v) for v in vals]
    lo, hi = min(logs), max(logs)
    if hi - lo < 1e-9:
        hi = lo + 1.0
    step = (hi - lo) / bins
    counts_ = [0] * bins
    for x in logs:
        counts_[min(int((x - lo) / step), bins - 1)] += 1
    top = max(counts_)
    pad_l, pad_b, pad_t = 44, 34, 12
    plot_w, plot_h = width - pad_l - 10, height - pad_b - pad_t
    bw = plot_w / bins
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
             f'role="img" aria-labelledby="pr-hist-title" class="chart">',
             '<title id="pr-hist-title">Histogram of PageRank scores (log scale)</title>']
    for i, c in enumerate(counts_):
        if not c:
            continue
        h = max(1.0, plot_h * c / top)
        x = pad_l + i * bw
        lo_v, hi_v = 10 ** (lo + i * step), 10 ** (lo + (i + 1) * step)
        parts.append(f'<rect x="{x + 1:.1f}" y="{pad_t + plot_h - h:.1f}" width="{bw - 2:.1f}" height="{h:.1f}" '
                     f'class="bar"><title>{c} pages with PageRank {lo_v:.2e} – {hi_v:.2e}</title></rect>')
    uniform = math.log10(1 / len(values))
    if lo <= uniform <= hi:
        ux = pad_l + plot_w * (uniform - lo) / (hi - lo)
        parts.append(f'<line x1="{ux:.1f}" x2="{ux:.1f}" y1="{pad_t}" y2="{pad_t + plot_h}" class="marker"/>'
                     f'<text x="{ux + 4:.1f}" y="{pad_t + 10}" class="lbl">1/N (uniform)</text>')
    y0 = pad_t + plot_h
    parts.append(f'<line x1="{pad_l}" x2="{pad_l + plot_w}" y1="{y0}" y2="{y0}" class="axis"/>')
    parts.append(f'<text x="{pad_l}" y="{y0 + 16}" class="lbl">{10 ** lo:.1e}</text>')
    parts.append(f'<text x="{pad_l + plot_w}" y="{y0 + 16}" class="lbl" text-anchor="end">{10 ** hi:.1e}</text>')
    parts.append(f'<text x="{pad_l + plot_w / 2}" y="{y0 + 30}" class="lbl" text-anchor="middle">'
                 f'PageRank (log scale)</text>')
    parts.append(f'<text x="{pad_l - 6}" y="{pad_t + 8}" class="lbl" text-anchor="end">{top}</text>')
    parts.append(f'<text x="{pad_l - 6}" y="{y0}" class="lbl" text-anchor="end">0</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def weakest_svg(rows: list[tuple[str, float]], n_pages: int, *, width: int = 640) -> Markup:
    """Horizontal bars for the weakest pages, scaled to the uniform score 1/N (1.0x = an average page)."""
    if not rows:
        return Markup("")
    avg = 1 / max(n_pages, 1)
    ratios = [s / avg for _, s in rows]
    top = max(max(ratios), 1.0)
    row_h, label_w = 22, 300
    bar_w = width - label_w - 70
    height = row_h * len(rows) + 24
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-labelledby="weak-title" class="chart">',
             '<title id="weak-title">The pages with the least PageRank, relative to an average page</title>']
    for i, ((path, score), r) in enumerate(zip(rows, ratios)):
        y = 4 + i * row_h
        label = path if len(path) <= 44 else path[:41] + "..."
        w = max(1.0, bar_w * r / top)
        parts.append(f'<text x="{label_w - 8}" y="{y + 14}" class="lbl path" text-anchor="end">{escape(label)}</text>'
                     f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" class="bar weak">'
                     f'<title>{escape(path)}: PageRank {score:.3e}</title></rect>'
                     f'<text x="{label_w + w + 6:.1f}" y="{y + 14}" class="lbl">{r:.2f}×</text>')
    ax = label_w + bar_w * 1.0 / top
    parts.append(f'<line x1="{ax:.1f}" x2="{ax:.1f}" y1="0" y2="{height - 18}" class="marker"/>'
                 f'<text x="{ax:.1f}" y="{height - 4}" class="lbl" text-anchor="middle">average page</text></svg>')
    return Markup("".join(parts))


def _changes(store: Store, run_id: int, now_alias: dict[str, str]) -> list[dict]:
    """The change list by kind; a removed collection page whose topic is now an alias says where it is listed,
    a retired one where it redirects."""
    groups: dict[str, list] = defaultdict(list)
    retired = store.lifecycle.retired()
    for path, change, old, new in store.pages.changes(run_id):
        row = {"path": path, "old": old or "", "new": new or ""}
        if change == "removed" and path in now_alias:
            row["alias_on"] = now_alias[path]
        if change == "removed" and path in retired:
            r = retired[path]
            row["redirect"] = f"301 → {r.target}" if r.status == 301 else "410 gone"
        groups[change].append(row)
    order = list(CHANGE_LABELS) + sorted(set(groups) - set(CHANGE_LABELS))
    return [{"change": c, "label": CHANGE_LABELS.get(c, c.capitalize()), "count": len(groups[c]),
             "rows": groups[c]} for c in order if groups.get(c)]


def _dropped(store: Store, run_id: int) -> list[dict]:
    rows = store.geo.dropped(run_id)
    groups: dict[tuple[str, str], list] = defaultdict(list)
    for kind, text, reason, detail, item_id in rows:
        key = (kind or "", (reason or "").split(":", 1)[0])
        groups[key].append({"text": text, "reason": reason, "detail": detail or "", "item_id": item_id or ""})
    out = [{"kind": k, "reason": r, "count": len(v), "examples": v[:EXAMPLES]} for (k, r), v in groups.items()]
    return sorted(out, key=lambda g: (g["kind"], -g["count"], g["reason"]))


def _topics(store: Store) -> list[dict]:
    by_cat: dict[str, list] = defaultdict(list)
    for c in store.geo.collections():
        by_cat[c.category or "?"].append({"slug": c.slug, "topic": c.topic, "hub": c.hub, "n_items": len(c.item_ids),
                                          "path": urls.collection_url(c.slug)})
    total = sum(len(v) for v in by_cat.values()) or 1
    return [{"category": c, "count": len(v), "share": len(v) / total,
             "examples": sorted(v, key=lambda t: (-t["n_items"], t["slug"]))[:8]} for c, v in sorted(by_cat.items())]


def _judgments(store: Store) -> dict:
    from sitegen.learn.relevance.agreement import judgment_summary

    return judgment_summary(store.judgments.all())


def _gates(store: Store) -> dict:
    """The collection quality gates of the last build: topics that are aliases (a line and an anchor on another
    collection's page: alias -> canonical, reason, Jaccard of their items) and collections filed under another
    hub than their topic's (the hub holding most of their items: from -> to)."""
    aliases, refiled = [], []
    for c in store.geo.collections():
        path = urls.collection_url(c.slug)
        for a in c.aliases:
            aliases.append({"topic": a["topic"], "slug": a["slug"], "canonical": c.topic, "path": path,
                            "href": f"{path}#{a['anchor']}", "reason": a["reason"],
                            "jaccard": float(a.get("jaccard", 0.0)), "was": urls.collection_url(a["slug"])})
        if c.filed_from and c.filed_from != c.hub:
            refiled.append({"topic": c.topic, "path": path, "from": c.filed_from, "to": c.hub})
    aliases.sort(key=lambda a: (a["reason"], -a["jaccard"], a["topic"]))
    refiled.sort(key=lambda r: (r["from"], r["to"], r["topic"]))
    reasons = Counter(a["reason"] for a in aliases)
    return {"aliases": aliases, "refiled": refiled, "alias_reasons": dict(sorted(reasons.items()))}


EVENT_LABELS = {"created": "Pages created", "refreshed": "Pages refreshed", "retired": "Pages retired",
                "reaimed": "Redirects re-aimed"}
REASON_LABELS = {"lost_support": "lost support", "merged": "merged", "budget": "page budget", "reward": "reward",
                 "trend": "trend expired"}


def _demand(store: Store, run_id: int, link_report: dict | None) -> dict:
    """The demand loop's part of the report: the reward table and what steering changed (from the link report,
    ``distribute.stage.link_site``), and the page lifecycle: this build's created, refreshed and retired pages
    with their reasons, and every retired URL with its redirect."""
    events: dict[str, list] = defaultdict(list)
    for e in store.lifecycle.events(run_id):
        events[e.event].append({"path": e.path, "topic": e.topic, "reason": e.reason, "detail": e.detail,
                                "status": e.status, "target": e.target,
                                "reason_label": REASON_LABELS.get(e.reason, e.reason)})
    retired = [{"path": r.path, "topic": r.topic, "status": r.status, "target": r.target, "reason": r.reason,
                "reason_label": REASON_LABELS.get(r.reason, r.reason), "detail": r.detail,
                "retired_at": r.retired_at} for r in store.lifecycle.retired().values()]
    reward = json.loads(json.dumps((link_report or {}).get("reward") or {}))
    gone = {r["path"]: r["topic"] for r in retired}
    known = gone | {p.path: p.topic for p in store.lifecycle.live().values()}
    for row in (reward.get("table") or {}).get("rows", ()):  # a page with data may be retired since
        row["topic"] = row["topic"] or known.get(row["page"], "")
        row["retired"] = row["page"] in gone
    return {"reward": reward, "simulation": _simulation(store),
            "lifecycle": {"groups": [{"event": k, "label": label, "count": len(events[k]), "rows": events[k]}
                                     for k, label in EVENT_LABELS.items() if events.get(k)],
                          "retired": retired, "retired_301": sum(1 for r in retired if r["status"] == 301),
                          "retired_410": sum(1 for r in retired if r["status"] == 410)}}


def _simulation(store: Store) -> dict:
    """The last ``sitegen simulate`` run of this site (``store.simulations``): its arms' clicks per round side by
    side, the last round's ratio and the curve (an SVG); empty when none was run."""
    from sitegen.learn.simulate.curve import comparable, curve_svg

    saved = store.simulations.arms()
    if not saved:
        return {}
    arm = max(saved, key=lambda a: (saved[a]["finished"], a))  # the newest run, with the arm it compares with
    arms = dict(sorted(comparable(saved, arm).items()))
    by_round: dict[int, dict] = defaultdict(dict)
    for name, data in arms.items():
        for r in data["rounds"]:
            by_round[int(r["round"])][name] = r
    rows = [{"round": n, "week": next(iter(v.values())).get("week", ""),
             **{name: v.get(name, {}).get("clicks") for name in arms}} for n, v in sorted(by_round.items())]
    last = rows[-1] if rows else {}
    fb, nf = last.get("feedback"), last.get("no-feedback")
    settings = arms[arm]["settings"]
    return {"arms": list(arms), "rows": rows, "ratio": round(fb / nf, 3) if fb and nf else None,
            "svg": curve_svg(arms), "finished": arms[arm]["finished"],
            "settings": {k: settings.get(k) for k in ("rounds", "seed", "searches", "intents", "page_budget",
                                                       "competitors", "dataset", "items") if settings.get(k)}}


def _findings(findings: list[Finding]) -> dict:
    by_code = Counter((f.severity, f.code) for f in findings)
    fixes = {f.code: f.fix for f in findings}
    codes = [{"severity": s, "code": c, "count": n, "fix": fixes[c]}
             for (s, c), n in sorted(by_code.items(), key=lambda kv: (SEVERITY_ORDER.get(kv[0][0], 9), -kv[1]))]
    return {"counts": counts(findings), "by_code": codes, "rows": findings, "total": len(findings)}


def sitemap_page_name(file_name: str) -> str:
    """Where the HTML view of a sitemap is written, relative to the report folder."""
    return f"sitemaps/{file_name.removesuffix('.xml')}.html"


def _sitemap_rows(files: list[SitemapFile], pages: list) -> list[dict]:
    known = {path: (kind, title) for path, kind, title, *_ in pages}
    rows = []
    for f in files:
        if f.kind != "urlset":
            continue
        for e in f.entries:
            kind, title = known.get(e.path, ("", ""))
            rows.append({"url": e.loc, "path": e.path, "kind": kind or "unknown", "lastmod": e.lastmod,
                         "images": e.images, "title": title, "sitemap": f.name})
    return rows


def _sitemap_files(files: list[SitemapFile]) -> list[dict]:
    out = []
    for f in files:
        first, last = f.lastmod_range()
        out.append({"name": f.name, "kind": f.kind, "error": f.error, "entries": len(f.entries),
                    "images": f.images, "lastmod_first": first, "lastmod_last": last,
                    "view": sitemap_page_name(f.name)})
    return out


def report_context(cfg: Config, store: Store, run_id: int, findings: list[Finding], *, summary: dict,
                   link_report: dict | None, sitemap_files: list[SitemapFile] | None = None) -> dict:
    """Everything the template shows, as plain data (also written as report.json). ``sitemap_files``: the
    published sitemaps read back (``audit.sitemaps``); without them the listing comes from the store."""
    base = cfg.site.base_url
    pages = store.pages.listing()  # (path, kind, title, lastmod, images, in_sitemap)
    kinds = Counter(kind for _, kind, *_ in pages)
    by_kind = summary.get("pages_by_kind") or dict(kinds)
    by_kind = {k: by_kind[k] for k in sorted(by_kind, key=lambda k: (KIND_ORDER.index(k) if k in KIND_ORDER
                                                                      else 99, k))}
    listed = [row for row in pages if row[5]]
    if sitemap_files:
        all_rows = _sitemap_rows(sitemap_files, pages)
        total, sitemap = len(all_rows), all_rows[:SITEMAP_ROWS]
    else:
        total = len(listed)
        sitemap = [{"url": urls.absolute(base, path), "path": path, "kind": kind, "lastmod": lastmod,
                    "images": int(n_images), "title": title, "sitemap": ""}
                   for path, kind, title, lastmod, n_images, _ in listed[:SITEMAP_ROWS]]
    rejections = store.runs.rejections(run_id)
    rejected_by_reason = Counter(r.reason for r in rejections) or Counter(summary.get("rejected_by_reason") or {})
    stages = [{"name": s.get("name", "?"), "seconds": float(s.get("seconds", 0)), "detail": s.get("detail", ""),
               "human": _fmt_seconds(float(s.get("seconds", 0)))} for s in summary.get("stages") or []]
    total_s = sum(s["seconds"] for s in stages)
    for s in stages:
        s["share"] = s["seconds"] / total_s if total_s else 0
    pr = store.geo.pagerank("final")
    scored = [(p, float(s)) for p, s in pr if p != urls.home_url()]
    f = _findings(findings)
    dropped = _dropped(store, run_id)
    topics = _topics(store)
    gates = _gates(store)
    n_coll = sum(t["count"] for t in topics)
    dropped_topics = sum(g["count"] for g in dropped if g["kind"] == "topic")
    overview = {
        "pages": sum(by_kind.values()), "pages_by_kind": by_kind, "in_sitemap": len(listed),
        "items_read": summary.get("items_read", 0), "items_accepted": summary.get("items_accepted", 0),
        "items_rejected": sum(rejected_by_reason.values()), "collections": n_coll,
        "topics_considered": n_coll + len(gates["aliases"]) + dropped_topics, "topics_dropped": dropped_topics,
        "aliases": len(gates["aliases"]), "refiled": len(gates["refiled"]),
        "queries_dropped": sum(g["count"] for g in dropped if g["kind"] == "query"),
        "pages_written": summary.get("pages_written", 0), "pages_unchanged": summary.get("pages_unchanged", 0),
        "build_seconds": total_s, "build_human": _fmt_seconds(total_s),
    }
    return {
        "site": {"title": cfg.site.title, "base_url": base}, "run_id": run_id,
        "verdict": {"ok": f["counts"]["error"] == 0, "errors": f["counts"]["error"],
                    "warnings": f["counts"]["warning"], "info": f["counts"]["info"]},
        "overview": overview, "stages": stages, "counters": summary.get("counters") or {},
        "warnings": summary.get("warnings") or [],
        "sitemap": {"rows": sitemap, "total": total, "capped": total > SITEMAP_ROWS,
                    "index_url": urls.absolute(base, "/sitemap.xml"),
                    "kinds": sorted({r["kind"] for r in sitemap}, key=lambda k: (KIND_ORDER.index(k)
                                                                                 if k in KIND_ORDER else 99, k)),
                    "files": _sitemap_files(sitemap_files or [])},
        "changes": _changes(store, run_id, {a["was"]: a["href"] for a in gates["aliases"]}),
        "rejections": {"by_reason": rejected_by_reason.most_common(), "total": len(rejections),
                       "rows": [asdict(r) for r in rejections]},
        "dropped": dropped, "topics": topics, "gates": gates,
        "links": {"report": link_report or {}, "scored": len(pr),
                  "weakest": [{"path": p, "score": s, "ratio": s * len(pr)} for p, s in scored[:WEAKEST]]},
        "judgments": _judgments(store), "demand": _demand(store, run_id, link_report),
        "findings": f, "limits": {"rows": TABLE_ROWS, "changes": CHANGE_ROWS, "sitemap": SITEMAP_ROWS},
        "_pagerank": [float(s) for _, s in pr],
    }


def _json_default(o):
    return asdict(o) if isinstance(o, Finding) else str(o)


def write_report(folder: Path, cfg: Config, store: Store, run_id: int, findings: list[Finding], *,
                 summary: dict, link_report: dict | None, site_dir: Path | None = None) -> Path:
    """Write ``folder/index.html``, ``folder/report.json`` and an HTML view of each sitemap of the built site
    in ``site_dir`` (default ``build.output``) under ``folder/sitemaps/`` (each file replaced in one step);
    returns the HTML file. ``folder`` is normally ``report_dir(cfg)``."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    files = read_sitemaps(Path(site_dir) if site_dir is not None else Path(cfg.output_dir), cfg.site.base_url)
    ctx = report_context(cfg, store, run_id, findings, summary=summary, link_report=link_report,
                         sitemap_files=files)
    scores = ctx.pop("_pagerank")
    weakest = ctx["links"]["weakest"]
    env = Environment(loader=FileSystemLoader(str(packaged_templates())), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["thousands"] = lambda n: f"{n:,}" if isinstance(n, (int, float)) else n
    env.filters["pct"] = lambda x: f"{x * 100:.0f}%"
    site_href = Path(os.path.relpath(Path(cfg.output_dir).resolve(), Path(folder).resolve())).as_posix() + "/"
    html = env.get_template("report.html").render(
        r=ctx, site_href=site_href, histogram=histogram_svg(scores),
        weakest_chart=weakest_svg([(w["path"], w["score"]) for w in weakest], len(scores)))
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    data = json.dumps(ctx, sort_keys=True, default=_json_default, ensure_ascii=False, separators=(",", ":")) + "\n"
    _replace(folder / "report.json", data)
    target = folder / "index.html"
    _replace(target, html)
    if files:
        _write_sitemap_pages(env, folder, cfg, ctx, files, store.pages.listing())
    return target


def _write_sitemap_pages(env, folder: Path, cfg: Config, ctx: dict, files: list[SitemapFile], pages: list) -> None:
    """One page per sitemap file; pages of sitemaps this build no longer has are removed."""
    pages_dir = folder / "sitemaps"
    pages_dir.mkdir(parents=True, exist_ok=True)
    site_href = Path(os.path.relpath(Path(cfg.output_dir).resolve(), pages_dir.resolve())).as_posix() + "/"
    by_name = {f.name: f for f in files}
    template = env.get_template("report_sitemap.html")
    written = set()
    for f in files:
        children = []
        if f.kind == "index":
            for e in f.entries:
                child = by_name.get(e.path.lstrip("/"))
                children.append({"loc": e.loc, "lastmod": e.lastmod,
                                 "urls": len(child.entries) if child else None,
                                 "images": child.images if child else None,
                                 "view": f"../{sitemap_page_name(child.name)}" if child else ""})
        rows = _sitemap_rows([f], pages)
        kinds = sorted({r["kind"] for r in rows}, key=lambda k: (KIND_ORDER.index(k) if k in KIND_ORDER else 99, k))
        html = template.render(f=f, rows=rows, kinds=kinds, children=children, lastmod=f.lastmod_range(),
                               site=ctx["site"], run_id=ctx["run_id"], site_href=site_href)
        name = sitemap_page_name(f.name)
        _replace(folder / name, html)
        written.add(Path(name).name)
    for old in pages_dir.glob("*.html"):
        if old.name not in written:
            old.unlink()


def _replace(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
