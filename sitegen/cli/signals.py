"""``sitegen signals``: Search Console / GA4 exports in the store: ``import`` (per file: kind, rows, used,
rejected by reason) and ``show`` (days, totals by source, top pages and queries, the reward table)."""

from __future__ import annotations

import json
from collections import Counter

import click

from sitegen.cli.main import CONFIG_OPTION, SET_OPTION, _load, main

TOP = 10


@main.group(name="signals")
def signals() -> None:
    """Search Console and GA4 exports (what searchers did with the pages): `import`, `show`."""


@signals.command(name="import")
@CONFIG_OPTION
@SET_OPTION
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--kind", type=click.Choice(["auto", "gsc", "gsc-api", "ga4"]), default="auto", show_default=True,
              help="The export's kind: auto (from its header), gsc (a Search Console UI export), gsc-api (query x "
                   "page rows: the API or the BigQuery bulk export), ga4 (GA4 landing pages).")
def import_(config_path, overrides, paths, kind) -> None:
    """Import export files or folders into the store; every row is used or rejected with its reason.
    Importing the same file again changes nothing."""
    from sitegen.demand.signals import import_signals
    from sitegen.store.db import Store

    cfg = _load(config_path, overrides)
    with Store(cfg.store_path) as store:
        report = import_signals(store, cfg, list(paths), kind=kind)
    for f in report.files:
        click.echo(format_file(f))


def format_file(f) -> str:
    if f.skipped:
        return f"{f.path}: skipped ({f.skipped})"
    rejected = f.rejected_total
    reasons = ", ".join(f"{reason} {n}" for reason, n in f.rejected.items())
    line = (f"{f.path}: {f.kind} ({f.dimension}), {f.rows} rows: {f.used} used, {rejected} rejected"
            + (f" ({reasons})" if reasons else ""))
    if f.period[0]:
        line += f"; days {f.period[0]}..{f.period[1]} ({f.dated_by})"
    lines = [line]
    for reason, shown in f.examples.items():
        lines.append(f"  {reason}: " + "; ".join(shown))
    if f.query_kept:
        lines.append(f"  {f.query_kept} unknown_page row(s) kept as query signals (their queries)")
    if f.already_imported:
        lines.append("  already imported: nothing changed")
    if f.overlaps:
        lines.append(f"  shares days with earlier imports of {f.kind} {f.dimension} rows (they add up): "
                     + ", ".join(f.overlaps))
    return "\n".join(lines)


@signals.command(name="show")
@CONFIG_OPTION
@SET_OPTION
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def show(config_path, overrides, fmt) -> None:
    """The days imported, totals by source, the top pages and queries, the reward table's average and its
    top and bottom pages, and the console topics the next build gets."""
    from sitegen.store.db import Store

    cfg = _load(config_path, overrides)
    if not cfg.store_path.is_file():
        raise click.ClickException(f"no store at {cfg.store_path} (a build or `sitegen signals import` creates it)")
    with Store(cfg.store_path, brief=True) as store:
        summary = signals_summary(store, cfg)
    if fmt == "json":
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False))
        return
    click.echo(format_summary(summary))


def _reward(r) -> dict:
    return {"key": r.key, "reward": round(r.reward, 6), "measure": r.measure, "impressions": round(r.impressions, 3),
            "clicks": round(r.clicks, 3), "sessions": round(r.sessions, 3), "engaged": round(r.engaged, 3)}


def signals_summary(store, cfg) -> dict:
    from sitegen.demand.console import console_topic_plan
    from sitegen.demand.reward import reward_table, reward_window

    span = store.signals.date_range()
    sources = [{"source": s, "dimension": d, "rows": n, "clicks": c, "impressions": i, "sessions": se, "engaged": e,
                "first": f, "last": la} for s, d, n, c, i, se, e, f, la in store.signals.totals()]
    tops = {by: [{by: k, "clicks": c, "impressions": i, "sessions": se, "engaged": e}
                 for k, c, i, se, e in store.signals.top(by, TOP)] for by in ("page", "query")}
    window = reward_window(store, cfg)
    table = reward_table(store, cfg)
    ranked = sorted(table.pages.values(), key=lambda r: (-r.reward, r.key))
    split = min(TOP, (len(ranked) + 1) // 2)  # the best pages, then the worst of the rest (worst first)
    topics, dropped = console_topic_plan(store, cfg)
    return {
        "range": {"first": span[0], "last": span[1]} if span else None,
        "imports": len(store.signals.imports()),
        "rows": store.signals.count(),
        "sources": sources,
        "top_pages": tops["page"],
        "top_queries": tops["query"],
        "reward": {"measure": cfg.reward.measure, "window": {"first": window[0], "last": window[1]} if window else None,
                   "half_life_days": cfg.reward.half_life_days, "prior": cfg.reward.prior,
                   "average": round(table.average, 6), "pages": len(table.pages), "queries": len(table.queries),
                   "top": [_reward(r) for r in ranked[:split]],
                   "bottom": [_reward(r) for r in ranked[split:][-TOP:][::-1]]},
        "console_topics": {"count": len(topics),
                           "top": [{"text": t.text, "weight": t.weight, "category": t.category} for t in topics[:TOP]],
                           "dropped": dict(sorted(Counter(d.reason for d in dropped).items()))},
    }


def _n(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"


def format_summary(s: dict) -> str:
    if not s["rows"]:
        return "no signals imported yet: `sitegen signals import PATH...` (Search Console or GA4 exports)"
    lines = [f"signals: {s['range']['first']} .. {s['range']['last']}, {s['rows']} rows from {s['imports']} "
             "import(s)"]
    head = ("source", "dimension", "rows", "clicks", "impressions", "sessions", "engaged", "days")
    rows = [head] + [(r["source"], r["dimension"], str(r["rows"]), _n(r["clicks"]), _n(r["impressions"]),
                      _n(r["sessions"]), _n(r["engaged"]), f"{r['first']}..{r['last']}") for r in s["sources"]]
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    for r in rows:
        lines.append("  " + "  ".join(c.ljust(w) if i in (0, 1, 7) else c.rjust(w)
                                      for i, (c, w) in enumerate(zip(r, widths))))
    for title, key, by in (("top pages", "top_pages", "page"), ("top queries", "top_queries", "query")):
        if s[key]:
            lines.append(f"{title} (all days):")
            lines.extend(f"  {r[by]}  {_n(r['impressions'])} impressions, {_n(r['clicks'])} clicks"
                         + (f", {_n(r['sessions'])} sessions" if r["sessions"] else "") for r in s[key])
    rw = s["reward"]
    if rw["window"]:
        lines.append(f"reward ({rw['measure']}; {rw['window']['first']} .. {rw['window']['last']}, half-life "
                     f"{rw['half_life_days']:g} days, prior {rw['prior']:g}): average {rw['average']:.4f}; "
                     f"{rw['pages']} page(s), {rw['queries']} query(ies) with data")
        for title in ("top", "bottom"):
            if rw[title]:
                lines.append(f"  {title} pages:")
                lines.extend(f"    {r['key']}  {r['reward']:.4f} ({r['measure']}; {_n(r['impressions'])} impressions, "
                             f"{_n(r['clicks'])} clicks" + (f", {_n(r['sessions'])} sessions" if r["sessions"] else "")
                             + ")" for r in rw[title])
    ct = s["console_topics"]
    dropped = ", ".join(f"{k} {v}" for k, v in ct["dropped"].items())
    lines.append(f"console topics: {ct['count']}" + (f" (dropped by post-processing: {dropped})" if dropped else ""))
    lines.extend(f"  {t['text']}  {t['weight']:.1f} ({t['category']})" for t in ct["top"])
    return "\n".join(lines)
