"""The closed loop: build -> simulate a week -> import the export -> build again, ``rounds`` times.

Each arm (``feedback`` or ``no-feedback``) runs in its own folder under the work folder, from a fresh store:
``<work>/<arm>/build`` (the site), ``<arm>/store/site.duckdb`` (its state) and ``<arm>/exports/`` (the weekly
Search Console exports, ``gsc-<week>.csv``, and with ``ga4`` the GA4 ones). The simulated world lives in
``<work>/world/``: the embedding cache of the search engine and ``intents.csv``, the hidden demand written out
for inspection (nothing of the build reads it). The site sees only the exports: with feedback each week's
export is imported into its store (``sitegen.demand.signals.import_signals``; the round records the rows used
and rejected), the ``console`` topic source is added to ``collect.topic_sources`` (the queries searchers used
become candidate topics), and the build's reward, trend agent and lifecycle do the rest; the trend agent
(when ``trends`` or ``trends.source`` names a folder) plans for the simulated week (``trends.today`` = the
week's first day, ``trends.timespan`` up to the day before, proposals auto-approved). Without feedback nothing
is imported, trends are off (``trends.source = ""``), rewards do not steer (``reward.steer = false``) and
nothing is retired for its reward (``lifecycle.reward_floor = 0``): the site stays the catalog's.

Each arm's rounds are also recorded in the site's own store (``store.simulations``, the configuration's
``build.store``), where the site's build report finds them and draws the curve of both arms.

Week r starts ``start + 7 (r - 1)`` days. The hidden demand is drawn once, from the catalog's items as the
first build publishes them, so both arms with the same seed face the same searchers.
"""

from __future__ import annotations

import csv
import json
import shutil
import time
from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Callable, Literal

from sitegen.core import urls
from sitegen.core.config import Config
from sitegen.core.errors import SimulationError

ProgressFactory = Callable[[str], Callable[[int, int], None] | None]
Importer = Callable[..., object]
MARKER = ".sitegen-simulate"
STEPS = ("build", "crawl", "search", "week", "export", "import")


@dataclass(frozen=True)
class SimulationSettings:
    rounds: int = 8
    feedback: bool = True
    seed: int = 0
    start: str = "2018-06-04"  # the first simulated week's first day (ISO)
    searches: int = 100_000  # searches a week, all intents together (before seasonality)
    intents: int = 1000  # hidden intents drawn
    zipf: float = 1.0
    min_support: int = 2  # catalog items an intent needs to be a candidate
    seasons: str = ""  # a folder of Google Trends files for seasonality ("" = flat)
    season_threshold: float = 0.7
    trends: str = ""  # the feedback arm's trend source ("" = trends.source)
    competitors: int = 10  # other sites' results per query
    page_budget: int | None = None  # collect.max_collections
    export_rows: Literal["day", "week"] = "day"
    ga4: bool = False
    dataset: str = ""  # recorded only: what the site was made from
    items: int = 0

    @property
    def arm(self) -> str:
        return "feedback" if self.feedback else "no-feedback"


def _fresh(folder: Path) -> None:
    """Empty ``folder`` when the simulator made it; refuse a foreign non-empty folder."""
    if folder.exists():
        if not (folder / MARKER).is_file() and any(folder.iterdir()):
            raise SimulationError(f"{folder}: not empty and not made by sitegen simulate; choose another --work-dir")
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / MARKER).write_text("sitegen simulate\n", encoding="utf-8")


def arm_config(cfg: Config, settings: SimulationSettings, arm_dir: Path) -> Config:
    """The site's configuration for one arm: its own output and store, the page budget, feedback off or on."""
    cfg = replace(cfg, build=replace(cfg.build, output=str(arm_dir / "build"),
                                     store=str(arm_dir / "store" / "site.duckdb"), check=False))
    if settings.page_budget is not None:
        cfg = replace(cfg, collect=replace(cfg.collect, max_collections=settings.page_budget))
    if not settings.feedback:
        return replace(cfg, signals=replace(cfg.signals, paths=[]), trends=replace(cfg.trends, source=""),
                       reward=replace(cfg.reward, steer=False),
                       lifecycle=replace(cfg.lifecycle, reward_floor=0.0))
    sources = list(cfg.collect.topic_sources)
    if "console" not in sources:
        sources.append("console")  # the queries searchers used become candidate topics
    source = settings.trends or cfg.trends.source
    return replace(cfg, collect=replace(cfg.collect, topic_sources=sources),
                   trends=replace(cfg.trends, source=str(cfg.path(source)) if source else "", auto_approve=True))


def round_config(cfg: Config, week: date) -> Config:
    """The arm's configuration for the round of ``week``: the trend agent plans for that week."""
    if not cfg.trends.source:
        return cfg
    until = (week - timedelta(days=1)).isoformat()
    return replace(cfg, trends=replace(cfg.trends, today=week.isoformat(), timespan=f"2004-01-01 {until}"))


def run_simulation(cfg: Config, settings: SimulationSettings, work_dir: Path, *,
                   progress: ProgressFactory | None = None, importer: Importer | None = None) -> dict:
    """Run one arm for ``settings.rounds`` rounds (see the module docstring). Returns
    ``{"rounds": [{"round", "impressions", "clicks", "pages", ...}], "feedback": bool}`` and writes it, with the
    settings, to ``<work>/<arm>.json``."""
    from sitegen.engines.embed import Embedder
    from sitegen.learn.simulate.clicks import simulate_week
    from sitegen.learn.simulate.demand import draw_population
    from sitegen.learn.simulate.engine import SearchEngine, read_site
    from sitegen.learn.simulate.export import write_console_export, write_ga4_export
    from sitegen.learn.simulate.seasons import assign_seasons, read_series
    from sitegen.pipeline.build import build_site
    from sitegen.store.db import Store

    progress = progress or (lambda _name: None)
    try:
        start = date.fromisoformat(settings.start)
    except ValueError:
        raise SimulationError(f"--start: not an ISO date (got {settings.start!r})") from None
    if settings.feedback and importer is None:
        from sitegen.demand.signals import import_signals as importer
    work_dir = Path(work_dir).resolve()
    work_dir.mkdir(parents=True, exist_ok=True)
    arm_dir = work_dir / settings.arm
    _fresh(arm_dir)
    world = work_dir / "world"
    world.mkdir(exist_ok=True)
    acfg = arm_config(cfg, settings, arm_dir)
    series = read_series(Path(settings.seasons)) if settings.seasons else []
    rounds: list[dict] = []
    population = None
    parsed: dict = {}
    with Store(world / "embeddings.duckdb") as cache:
        embedder = Embedder.from_config(cfg.embed, store=cache)
        for r in range(1, settings.rounds + 1):
            week = start + timedelta(days=7 * (r - 1))
            bar = progress(f"round {r}/{settings.rounds}") or (lambda _d, _t: None)
            seconds: dict[str, float] = {}
            t = time.perf_counter()
            rcfg = round_config(acfg, week)
            result = build_site(rcfg, progress=progress, check=False)
            items = result.site.items if result.site is not None else []
            seconds["build"] = _lap(t)
            bar(1, len(STEPS))
            if population is None:
                population = draw_population(items, seed=settings.seed, n_intents=settings.intents,
                                             searches=settings.searches, zipf=settings.zipf,
                                             min_support=settings.min_support)
                population = assign_seasons(population, series, embedder.encode, settings.season_threshold)
                write_intents(population, world / "intents.csv")
            t = time.perf_counter()
            docs = read_site(acfg.output_dir, parsed)
            by_url = {urls.item_url(it.slug): it.id for it in items}
            page_items = {d.path: tuple(by_url[p] for p in d.items if p in by_url) for d in docs}
            seconds["crawl"] = _lap(t)
            bar(2, len(STEPS))
            t = time.perf_counter()
            engine = SearchEngine(docs, embedder.encode)
            queries = list(dict.fromkeys(q for i in population.intents for q in i.queries))
            rankings = dict(zip(queries, engine.search(queries)))
            seconds["search"] = _lap(t)
            bar(3, len(STEPS))
            t = time.perf_counter()
            week_data = simulate_week(population, rankings, page_items, week, seed=settings.seed, series=series,
                                      competitors=settings.competitors)
            seconds["week"] = _lap(t)
            bar(4, len(STEPS))
            t = time.perf_counter()
            exports = [write_console_export(week_data.rows, arm_dir / "exports" / f"gsc-{week.isoformat()}.csv",
                                            acfg.site.base_url, granularity=settings.export_rows,
                                            week_start=week.isoformat())]
            if settings.ga4:
                exports.append(write_ga4_export(week_data.rows, arm_dir / "exports" / f"ga4-{week.isoformat()}.csv",
                                                seed=settings.seed))
            seconds["export"] = _lap(t)
            bar(5, len(STEPS))
            t = time.perf_counter()
            imported: dict = {}
            if settings.feedback:
                with Store(acfg.store_path) as store:
                    imported = _report(importer(store, rcfg, [str(p) for p in exports], kind="auto"))
            seconds["import"] = _lap(t)
            bar(6, len(STEPS))
            kinds = result.summary.pages_by_kind
            rounds.append({"round": r, "impressions": week_data.impressions, "clicks": week_data.clicks,
                           "pages": sum(kinds.values()), **week_data.summary(),
                           "collections": kinds.get("collection", 0), "indexed": len(docs),
                           **({"imported": imported} if settings.feedback else {}), "seconds": seconds})
    out = {"rounds": rounds, "feedback": settings.feedback}
    (work_dir / f"{settings.arm}.json").write_text(json.dumps({**out, "settings": asdict(settings)}, indent=2),
                                                   encoding="utf-8")
    with Store(cfg.store_path) as store:  # the site's own store: its build report draws the curve
        store.simulations.record(settings.arm, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                 asdict(settings), [_curve_row(r) for r in rounds])
    return out


def _curve_row(r: dict) -> dict:
    """What the report keeps of a round."""
    return {k: r[k] for k in ("round", "week", "searches", "impressions", "clicks", "ctr", "pages", "collections")
            if k in r}


def _report(report) -> dict:
    """What an import did: data rows, rows used, rows rejected by reason (an ``ImportReport``)."""
    rejected: dict[str, int] = {}
    for f in getattr(report, "files", ()):
        for reason, n in f.rejected.items():
            rejected[reason] = rejected.get(reason, 0) + n
    return {"rows": getattr(report, "rows", 0), "used": getattr(report, "used", 0), "rejected": rejected}


def _lap(t0: float) -> float:
    return round(time.perf_counter() - t0, 2)


def write_intents(population, path: Path) -> Path:
    """The hidden demand as CSV (for inspection only): key, support, weekly volume, season, phrasings."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["rank", "intent", "support", "volume", "season", "season_cosine", "queries", "shares"])
        for n, i in enumerate(population.intents, 1):
            w.writerow([n, i.key, i.support, round(i.volume, 3), i.season, i.season_cosine, " | ".join(i.queries),
                        " | ".join(f"{s:.2f}" for s in i.shares)])
    tmp.replace(path)
    return path


def load_arms(work_dir: Path) -> dict[str, dict]:
    """The arms' saved results in ``work_dir`` (``feedback.json``, ``no-feedback.json``) that exist."""
    out = {}
    for arm in ("feedback", "no-feedback"):
        path = Path(work_dir) / f"{arm}.json"
        if path.is_file():
            try:
                out[arm] = json.loads(path.read_text(encoding="utf-8"))
            except ValueError:
                continue
    return out
