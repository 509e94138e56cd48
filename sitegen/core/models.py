"""Typed data passed between pipeline stages. No I/O here: every stage reads and writes these."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

QueryCategory = Literal["description", "style", "use_case"]
QUERY_CATEGORIES: tuple[QueryCategory, ...] = ("description", "style", "use_case")
PageKind = Literal["home", "hub", "collection", "item", "page", "report"]


@dataclass(frozen=True, slots=True)
class Item:
    """One accepted catalog row. ``image`` is an absolute path to the image file (bytes from a Parquet
    column are materialised into the store's image cache by the loader)."""

    id: str
    title: str
    image: str
    image_sha: str
    width: int
    height: int
    description: str = ""
    category: str = ""
    keywords: tuple[str, ...] = ()
    date: str = ""  # ISO 8601 date, optional
    attributes: tuple[tuple[str, str], ...] = ()  # extra catalog columns, (name, value)
    source: str = ""  # "catalog.csv:12", for messages
    slug: str = ""  # assigned by the slug stage (pinned in the store once published)
    # the image's rights from the catalog (CatalogSection.RIGHTS); "" = the [site] default
    license: str = ""  # URL of the licence
    license_page: str = ""  # URL (or site path) of how to license / use the image
    credit: str = ""
    copyright: str = ""

    def attr(self, name: str, default: str = "") -> str:
        for key, value in self.attributes:
            if key == name:
                return value
        return default


@dataclass(frozen=True, slots=True)
class Rejection:
    """A catalog row (or part of one) that was not published, with the reason."""

    source: str  # "catalog.csv:12"
    item_id: str  # "" when the row had none
    reason: str  # short code, e.g. "missing_title", "corrupt_image"
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Query:
    """A predicted search query for one item."""

    item_id: str
    text: str
    category: QueryCategory
    source: str  # generator / candidate source: "title", "keywords", "colour", "lexicon", "console", "vlm" ...
    score: float = 0.0
    lang: str = "en"


@dataclass(frozen=True, slots=True)
class DroppedQuery:
    text: str
    reason: str  # "blocklist", "too_generic", "too_long", "stopwords", "brand", "duplicate", ...
    item_id: str = ""


@dataclass(frozen=True, slots=True)
class Topic:
    """A de-duplicated query that may become a collection page."""

    text: str
    category: QueryCategory
    hub: str  # category (hub) name the topic belongs to
    source_items: tuple[str, ...] = ()
    weight: float = 0.0  # how many items proposed it, or a reward


AliasReason = Literal["duplicate", "same_as_base"]


@dataclass(frozen=True, slots=True)
class Alias:
    """A topic that has no page of its own because its items are (mostly) those of a collection: it is a line
    on that collection's page, with an anchor. ``slug`` is the slug its page would have had, ``anchor`` the id of
    its line (the slug, unless the page uses that id already); ``reason`` is ``duplicate`` (its items overlap the collection's with Jaccard >=
    ``collect.duplicate_jaccard``) or ``same_as_base`` (a use-case or style topic whose items are those of its
    base topic, the topic without its purpose or style words); ``jaccard`` is that overlap."""

    topic: str
    slug: str
    anchor: str
    category: QueryCategory
    reason: AliasReason
    jaccard: float = 0.0
    item_ids: tuple[str, ...] = ()  # the page's items that are relevant to this topic, in page order
    scores: tuple[float, ...] = ()  # their relevance to this topic


@dataclass(frozen=True, slots=True)
class Collection:
    slug: str
    topic: str
    category: QueryCategory
    hub: str  # hub name: the hub holding most of its items
    item_ids: tuple[str, ...]
    scores: tuple[float, ...] = ()
    related: tuple[str, ...] = ()  # slugs of related collections
    summary: str = ""
    aliases: tuple[Alias, ...] = ()  # topics shown as lines on this page, in topic order
    filed_from: str = ""  # the hub its topic's source items suggested, when the majority of its items is elsewhere


@dataclass(frozen=True, slots=True)
class DroppedTopic:
    topic: str
    reason: str  # "thin", "too_few_candidates", "merged_into:<topic>", "max_collections", ...
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Judgment:
    """One relevance grade of an item for a topic (or query) on the 5-level guideline
    (``sitegen.learn.relevance.guideline``): 1 irrelevant ... 5 highly relevant. ``source`` names the judge
    (``human``, ``llm``, ``cross-encoder``, ``catalog``, or an imported file's label), ``rater`` who within it
    graded (a person's name, a model id), ``at`` when (ISO 8601, UTC)."""

    topic: str
    item_id: str
    grade: int
    source: str
    rater: str = ""
    at: str = ""


@dataclass(frozen=True, slots=True)
class Hub:
    """A category hub page."""

    slug: str
    name: str
    item_ids: tuple[str, ...]
    collection_slugs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TextPage:
    """A markdown page from content/pages."""

    slug: str
    title: str
    description: str
    html: str
    source: str


@dataclass
class Site:
    """Everything gathered before anything is written (Pelican's rule)."""

    items: list[Item]
    hubs: list[Hub]
    pages: list[TextPage]
    collections: list[Collection] = field(default_factory=list)
    annotations: dict[str, tuple[str, ...]] = field(default_factory=dict)  # item id -> collection slugs
    featured: tuple[str, ...] = ()  # collection slugs linked from the home page
    pagerank: dict[str, float] = field(default_factory=dict)  # url path -> score

    def item_by_id(self) -> dict[str, Item]:
        return {item.id: item for item in self.items}

    def collection_by_slug(self) -> dict[str, Collection]:
        return {c.slug: c for c in self.collections}


@dataclass(frozen=True, slots=True)
class ImageEntry:
    """An image as it appears in the image sitemap."""

    loc: str  # absolute URL
    title: str = ""
    caption: str = ""


@dataclass(frozen=True, slots=True)
class PageRecord:
    """A written page, as publish and the store see it."""

    path: str  # URL path, e.g. "/item/red-apple-12/"
    kind: PageKind
    title: str
    description: str
    content_hash: str
    images: tuple[ImageEntry, ...] = ()
    lastmod: str = ""  # ISO 8601, filled from the store
    in_sitemap: bool = True
    render_key: str = ""  # hash of the page's template inputs; equal key -> the previous file is reused


@dataclass
class StageTiming:
    name: str
    seconds: float
    detail: str = ""


@dataclass
class BuildSummary:
    items_read: int = 0
    items_accepted: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    pages_by_kind: dict[str, int] = field(default_factory=dict)
    pages_written: int = 0
    pages_unchanged: int = 0
    pages_removed: list[str] = field(default_factory=list)
    stages: list[StageTiming] = field(default_factory=list)
    counters: dict[str, int | float | str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


# -- demand: signals, rewards, trends (sitegen.demand) ---------------------------------------------------------

SignalSource = Literal["gsc", "gsc-api", "ga4"]


@dataclass(frozen=True, slots=True)
class SignalRow:
    """One stored search / analytics signal (``store.signals``): what an export row says about one day or one
    period (``start`` .. ``date``, inclusive ISO days; equal for a daily row) of the site, a page, a query or
    both. ``dimension`` is what the export broke its numbers down by: ``query``, ``page``, ``query_page``,
    ``date`` (site totals per day), ``country``, ``device`` or ``appearance``."""

    date: str  # ISO day (the period's last day)
    source: SignalSource
    dimension: str
    query: str = ""  # as searchers typed it; "" = no query
    page: str = ""  # the site's URL path ("/topic/red-dresses/"); "" = no page
    clicks: float = 0.0
    impressions: float = 0.0
    position: float = 0.0  # average position (1 = top); 0 = unknown
    sessions: float = 0.0  # GA4
    engaged: float = 0.0  # GA4 engaged sessions
    country: str = ""
    device: str = ""
    appearance: str = ""  # Search Console "Search appearance"
    start: str = ""  # the period's first day; "" = ``date``


@dataclass(frozen=True)
class FileReport:
    """What importing one export did (``sitegen.demand.signals.import_signals``): every data row is ``used`` or
    rejected with a reason (``rows == used + sum(rejected.values())``)."""

    path: str
    kind: str  # gsc | gsc-api | ga4
    dimension: str = ""
    rows: int = 0  # data rows in the file
    used: int = 0  # rows stored as signals
    rejected: dict[str, int] = field(default_factory=dict)  # reason -> rows
    examples: dict[str, tuple[str, ...]] = field(default_factory=dict)  # reason -> a few "line 12: detail"
    query_kept: int = 0  # rejected unknown_page rows whose query was kept as a query signal
    period: tuple[str, str] = ("", "")  # first and last day of the stored rows
    dated_by: str = ""  # "rows" (dates in the file), "Dates.csv", "file header" (GA4) or "import day"
    already_imported: bool = False  # the same bytes were imported before: nothing changed
    overlaps: tuple[str, ...] = ()  # earlier imports of the same source and dimension sharing days with this one
    digest: str = ""  # sha-256 of the file's bytes (the imports log key)
    skipped: str = ""  # a file of a folder that is not an export (of the kind asked for): why it was not read

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())


@dataclass(frozen=True)
class ImportReport:
    files: tuple[FileReport, ...] = ()

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)

    @property
    def used(self) -> int:
        return sum(f.used for f in self.files if not f.already_imported)


@dataclass(frozen=True, slots=True)
class Reward:
    """The engagement-rate reward of one page (its URL path) or one query (normalised text), over the reward
    window with decay (``sitegen.demand.reward``)."""

    key: str  # a page path ("/c/black-formal-shoes/") or a normalised query
    reward: float  # smoothed towards the average by ``reward.prior``; 0..1
    impressions: float = 0.0  # decayed sums over the window
    clicks: float = 0.0
    sessions: float = 0.0
    engaged: float = 0.0  # engaged sessions (GA4)
    measure: Literal["ctr", "engagement"] = "ctr"
    searches: float = 0.0  # a query's: the searches that showed the site (its most-shown page's impressions)

    @property
    def value(self) -> float:
        """Expected clicks (or engaged sessions) over the window: exposure (impressions, else sessions) x reward."""
        return (self.impressions if self.impressions > 0 else self.sessions) * self.reward


@dataclass(frozen=True)
class RewardTable:
    """Rewards of the pages and queries that have data; everything else gets ``average`` (Query Reward: a topic
    with no data still gets exposure). ``unseen``: live pages that had the chance to earn impressions (created
    before the newest day imported) and earned none in the window: zero demand, not missing data. ``value``:
    the expected clicks (exposure x reward, ``Reward.value``) of the average page with data. ``top``: the pooled
    rate at which a query's best-placed page turned its impressions into clicks - what a page made for a query
    can expect from the query's searches."""

    pages: dict[str, Reward] = field(default_factory=dict)
    queries: dict[str, Reward] = field(default_factory=dict)
    average: float = 0.0
    unseen: frozenset[str] = frozenset()
    value: float = 0.0  # 0 = the mean over ``pages`` (over ``queries`` when no page has data)
    top: float = 0.0  # the reward of a query's best-placed page (pooled; 0 = unknown)

    def __post_init__(self) -> None:
        if self.value <= 0:
            rewards = list((self.pages or self.queries).values())
            object.__setattr__(self, "value", sum(r.value for r in rewards) / len(rewards) if rewards else 0.0)

    def page(self, path: str) -> float:
        r = self.pages.get(path)
        return r.reward if r is not None else self.average

    def topic(self, text: str, path: str = "") -> float:
        """A topic's reward: its page's when the page has data, else its query's (``text`` is looked up in the
        form the queries are keyed by, ``sitegen.core.text.query_key``), else the average."""
        if path and path in self.pages:
            return self.pages[path].reward
        from sitegen.core.text import query_key

        r = self.queries.get(text) or self.queries.get(query_key(text))
        return r.reward if r is not None else self.average

    @property
    def empty(self) -> bool:
        return not self.pages and not self.queries


TrendKind = Literal["series", "ranking", "related", "trending_now", "geo"]
TrendStageName = Literal["emerging", "peaking", "declining", "seasonal", "evergreen", "unknown"]


@dataclass(frozen=True)
class Trend:
    """One term read from a Google Trends file (``sitegen.ingest.trends``)."""

    term: str
    source: str  # the file it came from, relative to the trends folder
    kind: TrendKind
    region: str = ""  # "US", "US-CA", "" = worldwide or not stated
    points: tuple[tuple[str, float], ...] = ()  # (ISO date, interest 0-100), oldest first (kind "series")
    score: float = 0.0  # ranking score, rising %, search volume or geo interest, by kind
    rank: int = 0  # position in a ranking or related-queries block, 1 = first; 0 = none
    rising: bool = False  # a RISING block, "Breakout", or a trending-now entry
    category: str = ""  # the file's own grouping (a ranking's list, a Black Friday category ...)
    started: str = ""  # trending now: when it started (ISO)
    ended: str = ""  # trending now: when it ended (ISO); "" = still trending when the file was written
    dated: str = ""  # the file's date (ISO): from its name, else the end of the period it states
    related: tuple[str, ...] = ()  # trending now: the trend breakdown (queries searched with it)


@dataclass(frozen=True, slots=True)
class TrendFile:
    """How one file (a sheet of a workbook, a member of a zip) was read (``sitegen.ingest.trends``): its layout,
    its non-empty rows, the rows that gave trends and the others counted by reason; ``error`` says why a file
    gave no trend at all. ``used + sum(rejected.values()) == rows``."""

    path: str  # relative to the folder read; "book.xlsx#Sheet", "archive.zip/inner/file.csv"
    layout: str  # "explore-series", "trending-now", "ranking", "series", "geo", "related", "text", ...
    rows: int = 0
    used: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    error: str = ""


@dataclass(frozen=True)
class TrendRead:
    """Every trend read from a folder (or a file) of Google Trends files, and how each file was read."""

    trends: list[Trend] = field(default_factory=list)
    files: list[TrendFile] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TrendStage:
    """Where a trend is in its lifecycle (``sitegen.demand.trends.series``)."""

    stage: TrendStageName
    reason: str = ""
    peak: str = ""  # ISO date of the last (or, seasonal, the typical) peak
    next_peak: str = ""  # seasonal: the next expected peak after today
    seasons: int = 0  # seasonal: the years in which the peak was seen (1 = a single past season, projected)


@dataclass(frozen=True)
class TrendDecision:
    """The agent's outcome for one trend; ``sitegen trends run --format json`` prints these."""

    trend: str
    source: str
    stage: str
    decision: Literal["propose", "refresh", "expire", "reject"]
    reason: str
    topics: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DemandTopic:
    """A topic people search for, proposed by the demand loop: a Search Console query or an approved trend."""

    text: str
    source: Literal["console", "trend"]
    weight: float = 0.0  # decayed impressions (console) or the trend's score
    hub: str = ""  # the category it was proposed for; "" = its items decide
    category: QueryCategory = "description"


@dataclass(frozen=True)
class Demand:
    """What the demand loop feeds the GEO stages (``StageContext.demand``, ``TopicRequest.demand``): the rewards
    and the topics searchers and trends ask for. Part of the GEO cache key (``key``)."""

    rewards: RewardTable = field(default_factory=RewardTable)
    topics: tuple[DemandTopic, ...] = ()

    def key(self) -> str:
        import hashlib
        import json

        if self.rewards.empty and not self.topics:
            return ""
        data = {"average": round(self.rewards.average, 6),
                "pages": sorted((k, round(r.reward, 6)) for k, r in self.rewards.pages.items()),
                "queries": sorted((k, round(r.reward, 6)) for k, r in self.rewards.queries.items()),
                "topics": [(t.text, t.source, round(t.weight, 6), t.hub, t.category) for t in self.topics]}
        return hashlib.sha256(json.dumps(data).encode()).hexdigest()[:16]


# -- the page lifecycle (sitegen.demand.lifecycle) -------------------------------------------------------------

RetireReason = Literal["lost_support", "merged", "budget", "reward", "trend"]
PageEventKind = Literal["created", "refreshed", "retired", "reaimed"]


@dataclass(frozen=True, slots=True)
class LivePage:
    """A published collection page as the lifecycle remembers it: its topic, the items it showed and how many
    builds in a row its reward has been below ``lifecycle.reward_floor``."""

    path: str  # "/topic/black-formal-shoes/"
    topic: str
    item_ids: tuple[str, ...] = ()
    below: int = 0  # builds in a row below the reward floor
    first_run: int = 0  # the build that created it
    through: str = ""  # the newest signal day imported when it was created ("" = none yet)


@dataclass(frozen=True, slots=True)
class RetiredPage:
    """A collection URL that no longer has a page: 301 to ``target`` (the closest live collection, by topic
    embedding) or 410 when none is close enough. Its slug stays its topic's: no other topic ever gets it."""

    path: str
    topic: str
    status: Literal[301, 410]
    target: str = ""  # 301: the live page it redirects to (a path, maybe with an #anchor); 410: ""
    reason: RetireReason = "lost_support"
    detail: str = ""
    retired_at: str = ""  # ISO 8601, the build's time
    run_id: int = 0


@dataclass(frozen=True, slots=True)
class PageEvent:
    """What one build did to one collection URL, with the reason (the review report lists these)."""

    path: str
    event: PageEventKind
    topic: str
    reason: str = ""
    detail: str = ""
    status: int = 0  # retired / reaimed: 301 or 410
    target: str = ""


TrendProposalStatus = Literal["pending", "approved", "rejected", "expired"]


@dataclass(frozen=True)
class TrendProposal:
    """Pages the trend agent proposes for one trend (``sitegen.demand.trends``), kept in ``store.trends``: pending
    until a person approves or rejects them in the review app (or ``trends.auto_approve``); approved ones are
    published by the next build (``DemandTopic``s of source ``trend``); expired when the trend declines."""

    id: str
    trend: str
    key: str  # the trend's normalised term (``core.text.topic_key``)
    source: str
    stage: str
    reason: str
    topics: tuple[DemandTopic, ...]
    status: TrendProposalStatus = "pending"
    thread_id: str = ""  # the agent run (LangGraph thread) that proposed it
    interrupt_id: str = ""  # its approval interrupt in that thread, while pending
    next_peak: str = ""  # seasonal: the peak the pages are made for (ISO)
    weight: float = 0.0  # the trend's priority when proposed
    proposed_at: str = ""
    decided_at: str = ""
    decided_by: str = ""  # who approved or rejected it ("auto" for trends.auto_approve, "agent" for an expiry)
    note: str = ""
    refreshed_at: str = ""  # the last run that found it peaking
