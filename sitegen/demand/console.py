"""Console topics: the queries searchers used, as topics for the next build.

``console_topics(store, cfg)`` lists every query that brought impressions in the reward window
(``sitegen.demand.reward``: same window, same decay) with at least ``signals.topic_min_impressions`` decayed
impressions, heaviest first, as ``DemandTopic(text, "console", weight=decayed impressions)``. Each passes the
shared query post-processing first (``sitegen.represent.postprocess``: the safety blocklist, ``represent.max_words``
/ ``max_chars``, ``represent.brands``, stop-words only, generic words only), so no unsafe or over-long query
becomes a page. Its text is the spelling with the most impressions, normalised; its category is ``use_case`` when
it names a use case or an occasion of the lexicon (``use_case_words`` / ``use_case_phrases``, an ``occasions``
phrase, an ``implies`` key), else ``description``.

The registered topic source ``console`` turns ``request.demand.topics`` of source ``console`` into ``Topic``s:
its items are those whose text holds every content word of the query (stemmed as relevance matches words;
stop-words, generic and intent words left out; use-case and occasion words too, unless nothing else is left),
its hub the majority category of those items, its weight the number of those items (at most
``collect.candidates``), as a catalog topic's is the number of items proposing it: the demand itself steers
through the query's reward (``sitegen.demand.steer``), not twice through the weight too. A query that no item matches is
dropped with reason ``no_items`` (``no_content_words`` when it has no word to match: a navigational or
non-Latin query); the topic gate then applies as for every source.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Sequence

from sitegen.core.models import DemandTopic, DroppedQuery, DroppedTopic, QueryCategory, Topic

__all__ = ["console_topics", "console_topic_plan", "console_source", "query_category"]


def query_category(text: str, lexicon) -> QueryCategory:
    """``use_case`` when the (normalised) query names a use case or an occasion of ``lexicon``, else
    ``description``."""
    words = set(text.split())
    if words & set(lexicon.use_case_words):
        return "use_case"
    padded = f" {text} "
    phrases = [*lexicon.use_case_phrases, *(p for ps in lexicon.occasions.values() for p in ps), *lexicon.implies]
    if any(f" {p.lower()} " in padded for p in phrases):
        return "use_case"
    return "description"


def console_topic_plan(store, cfg, today: str | None = None) -> tuple[list[DemandTopic], list[DroppedQuery]]:
    """The console topics (see the module docstring) and the queries post-processing dropped, with reasons."""
    from sitegen.core.lexicon import load_lexicon
    from sitegen.core.text import normalise
    from sitegen.demand.reward import decayed_sums, reward_window
    from sitegen.represent.postprocess import PostProcessor

    window = reward_window(store, cfg, today)
    if window is None:
        return [], []
    sums = decayed_sums(store, cfg, "query", window)
    least = cfg.signals.topic_min_impressions
    post = PostProcessor(cfg.represent, None)
    lexicon = load_lexicon(cfg.represent.lexicons, cfg.root)
    topics: list[DemandTopic] = []
    dropped: list[DroppedQuery] = []
    seen: set[str] = set()
    for key, s in sorted(sums.items(), key=lambda kv: (-kv[1].impressions, kv[0])):
        if s.impressions <= 0 or s.impressions < least:
            continue
        spelling = min((s.spellings or {key: 0.0}).items(), key=lambda kv: (-kv[1], kv[0]))[0]
        text, reason = post.check(spelling)
        if reason is not None:
            dropped.append(DroppedQuery(text or normalise(spelling), reason))
            continue
        if text in seen:
            continue
        seen.add(text)
        topics.append(DemandTopic(text, "console", round(s.impressions, 6), "", query_category(text, lexicon)))
    return topics, dropped


def console_topics(store, cfg, today: str | None = None) -> list[DemandTopic]:
    """The queries searchers used that brought impressions in the window, as demanded topics (heaviest first)."""
    return console_topic_plan(store, cfg, today)[0]


# -- the topic source ------------------------------------------------------------------------------------

def _stems(words: Sequence[str]) -> set[str]:
    from sitegen.core.text import match_words

    return {w for word in words for w in match_words(word)}


def console_source(request) -> list[Topic]:
    """The ``console`` topic source (see the module docstring); drops go to ``request.dropped``."""
    from sitegen.core.lexicon import site_lexicon
    from sitegen.core.text import item_text, match_words

    demanded = [t for t in request.demand.topics if t.source == "console"]
    if not demanded or not request.items:
        return []
    items = list(request.items)
    texts = [item_text(i) for i in items]
    lexicon = site_lexicon(request.cfg, texts)
    skip = _stems([*lexicon.stopwords, *lexicon.relevance_stopwords, *lexicon.generic_words,
                   *lexicon.intent_markers])
    purpose = _stems([*lexicon.use_case_words, *lexicon.implies,
                      *(p for ps in lexicon.occasions.values() for p in ps)]) - skip
    index: dict[str, set[int]] = {}
    for n, text in enumerate(texts):
        for word in set(match_words(text)):
            index.setdefault(word, set()).add(n)
    cap = max(1, int(getattr(request.cfg.collect, "candidates", 200)))
    out: list[Topic] = []
    for t in demanded:
        words = list(dict.fromkeys(w for w in match_words(t.text) if w not in skip and re.search(r"[a-z]", w)))
        required = [w for w in words if w not in purpose] or words
        if not required:
            request.dropped.append(DroppedTopic(t.text, "no_content_words",
                                                "console: no word of the query can be matched to an item"))
            continue
        matched = set.intersection(*(index.get(w, set()) for w in required))
        if not matched:
            request.dropped.append(DroppedTopic(t.text, "no_items",
                                                f"console: no item has {' + '.join(required)}"))
            continue
        order = sorted(matched)
        hubs = Counter(request.hub_of(items[i]) for i in order)
        hub = min(hubs.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        out.append(Topic(text=t.text, category=t.category, hub=hub,
                         source_items=tuple(items[i].id for i in order[:cap]), weight=float(min(len(order), cap))))
    return out
