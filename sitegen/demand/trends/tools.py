"""The agent's tools (the seed's ``fetch_trends``, ``semantic_filter``, ``content_lookup``, ``expand_query``, and
the validation of expansions): plain methods of a :class:`Toolbox` the graph's nodes call, also offered as
LangGraph / LangChain tools (``langgraph_tools``) for a tool-calling agent.

- ``fetch_trends(region, timespan)``: the trends of ``trends.source`` (every file the trend reader reads), those
  of ``region`` (its sub-regions included; a worldwide trend is kept for every region), series clipped to
  ``timespan`` (``trends.timespan``) and to the day the agent plans for (``trends.today``: what is dated after
  it is not known yet), dated entries outside them left out.
- ``semantic_filter(trend, threshold)``: the trend's fit to this catalog: the larger of the mean cosine of its
  ``collect.min_items`` (tau) nearest items (ANN over the item vectors) and its cosine to the nearest catalog
  topic (a category, a published collection), with the packaged MiniLM (vectors cached in the store); then the
  domain check (``policy.domain_verdict``: news, sports, politics, people, places, events), the grounding (most
  of the term's words must be words the catalog uses) and, with an LLM, its verdict
  (``llm.TrendLlm.judge``; an unclear answer leaves the deterministic one).
- ``content_lookup(query)``: what collect would find for the query: the ``collect.candidates`` nearest items,
  scored by the site's relevance scorer (``collect.scorer``, as collect builds it), how many score at least
  ``collect.threshold`` and their mean relevance, against ``collect.min_items`` (tau).
- ``expand_query(trend, taxonomy)``: category-conditioned expansions: with an LLM few-shot from the memory's
  exemplars, without one (or when its answer is unclear) the attribute templates of ``policy``.
- ``validate(texts)``: the shared query post-processing (``represent.postprocess``: safety list, brands,
  length, generic words), the topic gate (brand / creator fragments, bare colours) and ``content_lookup`` for
  each expansion.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from sitegen.core.models import Item, Trend
from sitegen.core.text import item_text, topic_key
from sitegen.demand.trends import policy
from sitegen.demand.trends.settings import timespan_range

Fetch = Callable[[Path], Sequence[Trend]]  # trends folder -> its trends
OTHER_HUB = "Other"


def read_folder(path: Path) -> list[Trend]:
    """The trends of every file in a folder (``sitegen.ingest.trends.read_trends``)."""
    from sitegen.ingest.trends import read_trends

    return list(read_trends(path).trends)


@dataclass
class Catalog:
    """The catalog as the agent sees it: its items, their vectors (``item_text``, L2-normalised) and ANN index,
    and its topics (category names and the published collections' topics)."""

    items: list[Item]
    vectors: np.ndarray
    index: Any
    topics: tuple[str, ...] = ()


def load_catalog(cfg, store, progress=None) -> Catalog:
    """The site's catalog gathered and embedded as ``sitegen build`` does (the embed and index stages; their
    results are cached in the store)."""
    from sitegen.pipeline.gather import gather_site

    return catalog_from_site(cfg, store, gather_site(cfg, store, progress=progress).site, progress)


def catalog_from_site(cfg, store, site, progress=None) -> Catalog:
    """The catalog of a site the caller has gathered already (``sitegen build``): its embed and index stages."""
    from sitegen.engines.stage import EMBED, INDEX
    from sitegen.pipeline.geo import run_stages

    _ctx, results = run_stages(cfg, store, site, (EMBED, INDEX), progress=progress)
    return catalog_of(site.items, results.values["embed"].item_vectors, results.values["index"].index, store)


def catalog_of(items: Sequence[Item], vectors: np.ndarray, index: Any, store=None) -> Catalog:
    topics = sorted({i.category for i in items if i.category})
    if store is not None:
        topics += [c.topic for c in store.geo.collections()]
    return Catalog(list(items), np.asarray(vectors, np.float32), index, tuple(dict.fromkeys(topics)))


@dataclass(frozen=True)
class Fit:
    """``semantic_filter``'s answer for one trend."""

    term: str
    fit: float  # max(item_fit, topic_fit)
    item_fit: float  # mean cosine of the tau nearest items
    topic_fit: float  # cosine of the nearest catalog topic
    nearest: str  # that topic, or the nearest item's title
    verdict: str  # "fit", "off_catalog", or a rejected domain: "news", "sports", "politics", "person", "event",
    # "unsafe" (safety list), "brand", "llm" (the LLM said it does not fit)
    reason: str
    llm: str = ""  # the LLM's answer: "fit", a domain, "no", "unclear" or "" (none asked)

    @property
    def passed(self) -> bool:
        return self.verdict == "fit"


@dataclass(frozen=True)
class Content:
    """``content_lookup``'s answer for one query."""

    query: str
    items: int  # retrieved items the relevance scorer grades >= collect.threshold
    mean: float  # their mean relevance (0 when none)
    needed: int  # collect.min_items (tau)
    item_ids: tuple[str, ...] = ()  # those items, best first
    near: tuple[int, ...] = ()  # positions (in Catalog.items) of the best candidates, passing or not
    hub: str = ""  # the category most of those items are in

    @property
    def enough(self) -> bool:
        return self.items >= self.needed

    def as_dict(self) -> dict:
        return {"query": self.query, "items": self.items, "mean": round(self.mean, 4), "needed": self.needed,
                "enough": self.enough, "hub": self.hub}


@dataclass
class Toolbox:
    """The tools over one site: its settings, store, catalog and text embedder; ``fetch`` reads a trends folder
    (default: the trend reader), ``llm`` is the agent's LLM (``llm.TrendLlm``) or None."""

    cfg: Any
    store: Any
    catalog: Catalog
    embedder: Any = None
    fetch: Fetch | None = None  # None: read_folder
    llm: Any = None
    source: str = ""  # the trends folder (default: trends.source)
    _lazy: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.embedder is None:
            from sitegen.engines.embed import Embedder

            e = self.cfg.embed
            self.embedder = Embedder.from_config(e, store=self.store)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self.embedder.encode(list(texts))

    # -- fetch_trends ------------------------------------------------------------------------------------
    def fetch_trends(self, region: str = "", timespan: str = "", today: date | None = None) -> list[Trend]:
        """The trends of the source folder, of ``region`` and within ``timespan`` (see the module docstring)."""
        from sitegen.demand.trends.settings import today_of

        folder = self.cfg.path(self.source or self.cfg.trends.source)
        if not folder.exists():
            from sitegen.core.errors import BuildError

            raise BuildError(f"trends.source: no such folder: {folder}")
        today = today or today_of(self.cfg)
        first, last = timespan_range(timespan, today)
        last = today if last is None or last > today else last  # nothing after the day the agent plans for
        out = []
        for t in (self.fetch or read_folder)(folder):
            if region and t.region and not (t.region == region or t.region.startswith(region + "-")):
                continue
            if t.points:
                points = tuple(p for p in t.points if _within(p[0], first, last))
                if not points:
                    continue
                t = replace(t, points=points)
            elif not t.points and not _within(getattr(t, "dated", "") or t.started, first, last):
                continue
            out.append(t)
        return out

    # -- semantic_filter ---------------------------------------------------------------------------------
    def semantic_filter(self, trend: str | Trend, threshold: float | None = None) -> Fit:
        return self.semantic_filter_many([trend], threshold)[0]

    def semantic_filter_many(self, trends: Sequence[str | Trend], threshold: float | None = None,
                             ask_llm: Sequence[bool] | None = None) -> list[Fit]:
        """``semantic_filter`` for many trends at once (one embedding batch, one ANN batch, one LLM batch);
        ``ask_llm`` says which of them the LLM sees (default: all but the unsafe ones)."""
        threshold = self.cfg.trends.threshold if threshold is None else threshold
        terms = [t.term if isinstance(t, Trend) else str(t) for t in trends]
        if not terms:
            return []
        vecs = self.encode(terms)
        item_fit, nearest_item = self._item_fit(vecs)
        topic_sims = vecs @ self._topic_vectors().T if len(self.catalog.topics) else np.zeros((len(terms), 0))
        domain_names, domain_vecs = self._domain_vectors()
        dsims = vecs @ domain_vecs.T
        post = self._post()
        out = []
        for n, term in enumerate(terms):
            tf = float(topic_sims[n].max()) if topic_sims.shape[1] else 0.0
            nearest = (self.catalog.topics[int(topic_sims[n].argmax())] if topic_sims.shape[1] and tf >= item_fit[n]
                       else nearest_item[n])
            fit = max(float(item_fit[n]), tf)
            per_domain: dict[str, float] = {}
            for name, sim in zip(domain_names, dsims[n].tolist()):
                per_domain[name] = max(per_domain.get(name, -1.0), sim)
            _norm, why = post.check(term)
            if why in ("blocklist", "brand"):
                verdict = "unsafe" if why == "blocklist" else "brand"
                reason = ("unsafe: contains a term of the safety list" if why == "blocklist"
                          else "names a brand of represent.brands")
            else:
                domain, reason = policy.domain_verdict(fit, per_domain)
                verdict = domain or "fit"
                words, known = self._grounding(term)
                if not domain and words and known * 2 <= words:
                    verdict, reason = "off_catalog", (
                        f"off-catalog: the catalog uses {'none of its words' if not known else f'only {known} of its {words} words'} "
                        f"(embedding fit {fit:.2f}, nearest: {nearest!r})")
                elif not domain and fit < threshold:
                    verdict, reason = "off_catalog", (f"off-catalog: fit {fit:.2f} < trends.threshold {threshold:.2f} "
                                                      f"(nearest: {nearest!r})")
                elif not domain:
                    reason = f"fits the catalog: {fit:.2f} (nearest: {nearest!r})"
            out.append(Fit(term, round(fit, 4), round(float(item_fit[n]), 4), round(tf, 4), nearest, verdict,
                           reason))
        if self.llm is not None:
            asked = [n for n, f in enumerate(out) if f.verdict not in ("unsafe", "brand")
                     and (ask_llm is None or ask_llm[n])]
            answers = self.llm.judge_many([out[n].term for n in asked], self.catalog_lines()) if asked else []
            for n, answer in zip(asked, answers):
                out[n] = _with_llm(out[n], answer)
        return out

    def _grounding(self, term: str) -> tuple[int, int]:
        """(content words of the term, those the catalog uses): a word of an item's title, category or
        attributes, or of the collect lexicon (so "Hattem", a town, is not grounded by the "Hat" category)."""
        from sitegen.aggregate.collect import STOPWORDS
        from sitegen.core.text import match_words

        if "vocabulary" not in self._lazy:
            lex, _scorer = self._scoring()
            vocab = set(lex.checkable)
            for i in self.catalog.items:
                vocab.update(match_words(" ".join([i.title, i.category, *(v for _, v in i.attributes)])))
            self._lazy["vocabulary"] = vocab
        words = [w for w in dict.fromkeys(match_words(term)) if w not in STOPWORDS]
        return len(words), sum(w in self._lazy["vocabulary"] for w in words)

    def catalog_lines(self) -> list[str]:
        """The catalog's taxonomy, for prompts."""
        if "catalog_lines" not in self._lazy:
            tax = policy.taxonomy_of(self.catalog.items, top=12)
            self._lazy["catalog_lines"] = [f"{len(self.catalog.items)} items", *tax.lines()]
        return self._lazy["catalog_lines"]

    def _item_fit(self, vecs: np.ndarray) -> tuple[np.ndarray, list[str]]:
        items = self.catalog.items
        k = max(1, min(self.cfg.collect.min_items, len(items)))
        if not items:
            return np.zeros(len(vecs), np.float32), [""] * len(vecs)
        ids, sims = self.catalog.index.query(vecs, k)
        fits, nearest = [], []
        for row_ids, row_sims in zip(ids, sims):
            valid = row_ids >= 0
            fits.append(float(np.mean(row_sims[valid])) if valid.any() else 0.0)
            nearest.append(items[int(row_ids[valid][0])].title if valid.any() else "")
        return np.asarray(fits, np.float32), nearest

    def _topic_vectors(self) -> np.ndarray:
        if "topics" not in self._lazy:
            self._lazy["topics"] = self.encode(self.catalog.topics)
        return self._lazy["topics"]

    def _domain_vectors(self) -> tuple[list[str], np.ndarray]:
        if "domains" not in self._lazy:
            d = policy.domains()
            names = [name for name, texts in d.prototypes.items() for _ in texts]
            texts = [t for texts in d.prototypes.values() for t in texts]
            self._lazy["domains"] = (names, self.encode(texts))
        return self._lazy["domains"]

    def _post(self):
        if "post" not in self._lazy:
            from sitegen.represent.postprocess import PostProcessor

            self._lazy["post"] = PostProcessor(self.cfg.represent, self.embedder)
        return self._lazy["post"]

    # -- content_lookup ----------------------------------------------------------------------------------
    def content_lookup(self, query: str) -> Content:
        return self.content_lookup_many([query])[0]

    def content_lookup_many(self, queries: Sequence[str]) -> list[Content]:
        """``content_lookup`` for many queries (one embedding batch, one ANN batch)."""
        from sitegen.aggregate.relevance import TopicEvidence
        from sitegen.distribute.plan import OTHER

        queries = list(queries)
        items = self.catalog.items
        c = self.cfg.collect
        if not queries:
            return []
        if not items:
            return [Content(q, 0, 0.0, c.min_items) for q in queries]
        lex, scorer = self._scoring()
        vecs = self.encode(queries)
        k = min(c.candidates, len(items))
        ids, sims = self.catalog.index.query(vecs, k)
        out = []
        for n, q in enumerate(queries):
            valid = ids[n] >= 0
            cand = ids[n][valid].astype(np.int64)
            csims = sims[n][valid].astype(np.float32)
            checked, free = lex.analyse(q, "description")
            evidence = TopicEvidence(csims, lex.evidence(checked, cand), np.zeros(len(cand), bool), len(checked),
                                     len(free), q, "description", cand, checked, free, vecs[n])
            scores = np.asarray(scorer.score(evidence), np.float32)
            order = np.lexsort((cand, -scores))
            cand, scores = cand[order], scores[order]
            keep = scores >= c.threshold
            passing = cand[keep]
            hubs = Counter((items[int(i)].category or OTHER) for i in passing.tolist())
            hub = min(hubs.items(), key=lambda kv: (-kv[1], kv[0]))[0] if hubs else ""
            out.append(Content(q, int(keep.sum()), float(scores[keep].mean()) if keep.any() else 0.0, c.min_items,
                               tuple(items[int(i)].id for i in passing.tolist()),
                               tuple(int(i) for i in cand[: max(2 * c.min_items, 12)].tolist()), hub))
        return out

    def _scoring(self):
        if "scoring" not in self._lazy:
            from sitegen.aggregate.collect import Lexicon
            from sitegen.aggregate.relevance import CatalogView, make_scorer
            from sitegen.aggregate.stage import relevance_model
            from sitegen.core.lexicon import site_lexicon
            from sitegen.represent.fragments import learn_fragments

            items = self.catalog.items
            texts = [item_text(i) for i in items]
            words = site_lexicon(self.cfg, texts)
            fragments = learn_fragments(items, words)
            lex = Lexicon(items, item_text, words.implies, fragments)
            scorer = make_scorer(self.cfg.collect, relevance_model(self.cfg))
            scorer.prepare(CatalogView(items, texts, self.catalog.vectors, lex, self.encode))
            from sitegen.aggregate.topics import topic_gate

            self._lazy["scoring"] = (lex, scorer)
            self._lazy["gate"] = topic_gate(fragments, words)
        return self._lazy["scoring"]

    # -- expand_query ------------------------------------------------------------------------------------
    def taxonomy(self, content: Content) -> policy.Taxonomy:
        """The catalog values of the items that matched a query (its passing items, else its best candidates)."""
        by_id = {i.id: i for i in self.catalog.items} if content.item_ids else {}
        items = ([by_id[i] for i in content.item_ids[:50]] if content.item_ids
                 else [self.catalog.items[i] for i in content.near])
        return policy.taxonomy_of(items, term=content.query)

    def expand_query(self, trend: str, taxonomy: policy.Taxonomy,
                     exemplars: Sequence[tuple[str, Sequence[str]]] = ()) -> tuple[list[str], str]:
        """(expansions, how): ``how`` is ``llm`` when the LLM's answer was used, else ``templates``."""
        if self.llm is not None:
            got = self.llm.expand(trend, taxonomy.lines(), exemplars)
            if got:
                first = [trend] if topic_key(trend) not in {topic_key(g) for g in got} else []
                return first + list(got), "llm"
        return policy.template_expansions(trend, taxonomy), "templates"

    # -- validation --------------------------------------------------------------------------------------
    def validate(self, texts: Sequence[str]) -> list[tuple[str, str, Content | None]]:
        """(normalised text, drop reason or "", content) for each expansion, in order; duplicates (by topic
        key) are dropped."""
        post = self._post()
        self._scoring()
        gate = self._lazy["gate"]
        checked: list[tuple[str, str]] = []
        seen: set[str] = set()
        for text in texts:
            norm, why = post.check(text)
            key = topic_key(norm)
            if why is None and key in seen:
                why = "duplicate"
            if why is None:
                gated = gate(norm)
                if gated is not None:
                    why = gated[0]
            if key:
                seen.add(key)
            checked.append((norm or text, why or ""))
        lookups = iter(self.content_lookup_many([t for t, why in checked if not why]))
        out = []
        for text, why in checked:
            if why:
                out.append((text, why, None))
                continue
            content = next(lookups)
            out.append((text, "" if content.enough else
                        f"too_little_content: {content.items} item(s) >= {self.cfg.collect.threshold} "
                        f"(need {content.needed})", content))
        return out


def _with_llm(fit: Fit, answer: tuple[str, bool, str] | None) -> Fit:
    """The deterministic verdict combined with the LLM's: an unclear answer leaves it; a rejected domain or a
    "does not fit" rejects; a "fits" keeps a fit, overrules a domain the prototypes suggested, and leaves an
    off-catalog verdict (the embedding must still find the catalog close enough)."""
    if answer is None:
        return replace(fit, llm="unclear")
    domain, fits, why = answer
    if domain:
        return replace(fit, verdict=domain, reason=f"{domain} (LLM): {why}" if why else f"{domain} (LLM)", llm=domain)
    if not fits:
        return replace(fit, verdict="llm", reason=f"off-catalog (LLM): {why}" if why else "off-catalog (LLM)",
                       llm="no")
    if fit.verdict in policy.domains().prototypes:
        return replace(fit, verdict="fit", reason=f"fits the catalog (LLM; the prototypes said {fit.reason})",
                       llm="fit")
    return replace(fit, llm="fit")


def _within(iso: str, first: date | None, last: date | None) -> bool:
    if not iso or (first is None and last is None):
        return True
    try:
        day = date.fromisoformat(iso[:10])
    except ValueError:
        return True
    return (first is None or day >= first) and (last is None or day <= last)


def langgraph_tools(box: Toolbox) -> list:
    """The four tools as LangChain ``StructuredTool``s (for a LangGraph tool-calling agent): JSON in, JSON out."""
    from langchain_core.tools import StructuredTool

    def fetch_trends(region: str = "", timespan: str = "") -> list[dict]:
        """Google Trends terms of the site's trends folder, of a region and time span."""
        return [{"term": t.term, "source": t.source, "kind": t.kind, "region": t.region, "score": t.score,
                 "points": len(t.points)} for t in box.fetch_trends(region, timespan)]

    def semantic_filter(trend: str, threshold: float = box.cfg.trends.threshold) -> dict:
        """How well a trend fits this catalog, and whether it is news, sports, politics, a person or an event."""
        f = box.semantic_filter(trend, threshold)
        return {"trend": f.term, "fit": f.fit, "verdict": f.verdict, "passed": f.passed, "reason": f.reason}

    def content_lookup(query: str) -> dict:
        """How many catalog items are relevant to a query (>= collect.threshold) and their mean relevance."""
        return box.content_lookup(query).as_dict()

    def expand_query(trend: str, taxonomy: dict[str, list[str]] | None = None) -> list[str]:
        """Category-conditioned search queries for a trend. ``taxonomy`` (``categories``, ``colours``,
        ``audiences``: lists of catalog values) defaults to the catalog values of the trend's matching items."""
        if taxonomy:
            tax = policy.Taxonomy(*(tuple(taxonomy.get(k, ())) for k in ("categories", "colours", "audiences")))
        else:
            tax = box.taxonomy(box.content_lookup(trend))
        return box.expand_query(trend, tax)[0]

    return [StructuredTool.from_function(f) for f in (fetch_trends, semantic_filter, content_lookup, expand_query)]
