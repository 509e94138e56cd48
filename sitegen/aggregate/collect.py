"""collect: topics -> collection pages.

A topic (a de-duplicated predicted query) becomes a collection when enough catalog items satisfy it:

1. topics whose catalog words no ``min_items`` items share are dropped at once ("thin"), without a search;
2. the others retrieve ``candidates`` neighbours from the item index (batched), plus their own source items;
3. the relevance scorer (``collect.scorer``, see ``relevance.py``; the built-in ``heuristic`` is the design's
   "student" with the weights ``[collect.weights]``) scores each candidate from the embedding similarity and
   the *lexical evidence*: the share of the topic's catalog words (colour, article
   type, usage, gender ...) found in the item's text. Missing one of them costs more than any similarity can
   repay, so "black formal shoes for men" needs black + formal + shoes + men evidence ("men" never matches
   "women"; "blue" never matches "navy blue"). Words the catalog never uses ("office", "capsule") are checked
   by the embedding alone, and the fewer of a topic's words the catalog can check, the higher the similarity
   it asks for. An occasion that implies a catalog value (the lexicon's ``implies`` table: "weddings" ->
   ethnic, "office" -> formal) asks for that value when some column of the catalog has it ("bags for weddings"
   needs an ethnic bag), and is left to the embedding when none has;
4. candidates scoring >= ``threshold`` pass; fewer than ``min_items`` -> "thin";
5. topics are taken strongest first (the heavier, then the one with more relevant items; with query rewards,
   ``demand.steer``, the weight times the reward ratio, so a topic earning less than average yields its slot
   within ``max_collections`` to one with no data); near-duplicate topics (topic cosine >= 0.9 and
   compatible catalog words) merge into the stronger one;
6. the quality gates (``gates.py``): a topic whose items mostly repeat a stronger page's (Jaccard >=
   ``duplicate_jaccard`` on the relevant or on the shown items, whatever the query category: two pages showing
   the same images are duplicate content to a search engine), or a use-case / style topic whose items are its
   base topic's, becomes an *alias*: a line with an anchor on that page (``Collection.aliases``), no page of its
   own. The rest keep their best ``max_items`` items (half by score, the rest preferring items no stronger
   collection shows yet, so similar pages do not all show the same items) and are filed under the hub holding
   most of them. In a use-case topic the purpose ("... for school projects") is left to the embedding, except
   a gender.

Slugs come from the topic (``gates.SlugBook``): a slug published before, live or retired, stays its topic's.
Every dropped topic is returned with its reason. Deterministic: same inputs, same output.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np

from sitegen.core import urls
from sitegen.core.config import CollectSection
from sitegen.core.models import QUERY_CATEGORIES, Collection, DroppedTopic, Item, Query, RewardTable, Topic
from sitegen.aggregate.gates import Candidate, SlugBook, alias_records, apply_gates
from sitegen.demand import steer
from sitegen.aggregate.relevance import CatalogView, TopicEvidence, make_scorer
from sitegen.aggregate.summary import summarise
from sitegen.core import text as core_text
from sitegen.core.lexicon import english
from sitegen.core.text import match_words, topic_key

MERGE_COSINE = 0.9
_BATCH = 512

STOPWORDS = frozenset(english().relevance_stopwords)  # sitegen/lexicons/en.toml
_AUDIENCE = frozenset({"men", "women", "boys", "girls", "unisex"})  # stay catalog words in a purpose clause
_MAX_PHRASE = 5


class Lexicon:
    """What the catalog says about each item, as token sets, and which words it can check at all.

    Multi-word attribute values become phrase tokens ("casual shoes" -> ``casual_shoe``); an item also gets the
    words of a phrase ("casual", "shoe") except for colour values, which stay atomic so that "blue" does not
    match "navy blue". The catalog's columns outrank its free text: a word of the title or description that is a
    whole value of a column the item has (its category or an attribute) counts only when it is the item's own
    value ("Red Tape" shoes whose colour is brown are not red; a "Sandals" title in the Flats category is a
    flat). A topic word is a *catalog word* (it must be evidenced) when the catalog uses it for some item;
    a word it never uses ("office", "capsule") is left to the embedding.

    ``implies`` (the lexicon table of that name) maps occasion words and phrases to the column values they imply:
    an occasion whose implied values some column of the catalog holds becomes the token of those values
    ("weddings" -> ``ethnic``; several values join with ``|``, any one being evidence). With ``fragments``
    (``represent.fragments.learn_fragments``) an item's title is read without its brand / creator span, so
    "U.S. Polo Assn." is no evidence of "polo"."""

    def __init__(self, items: Sequence[Item], item_text: Callable[[Item], str] | None = None,
                 implies: Mapping[str, Sequence[str]] | None = None, fragments=None):
        item_text = item_text or core_text.item_text
        spans = fragments.spans if fragments is not None else {}
        self.n = len(items)
        fields: list[list[tuple[str, tuple[str, ...], bool]]] = []  # per item: (field, value words, atomic)
        value_words: dict[str, tuple[str, ...]] = {}
        colourish: dict[str, bool] = {}

        def vw(value: str) -> tuple[str, ...]:
            got = value_words.get(value)
            if got is None:
                got = value_words[value] = tuple(match_words(value))
            return got

        for item in items:
            fv = [("\0category", vw(item.category), False)] if item.category else []
            fv += [("\0keywords", vw(k), False) for k in item.keywords]
            for k, v in item.attributes:
                if k not in colourish:
                    colourish[k] = core_text.is_colour_key(k)
                fv.append((k, vw(v), colourish[k]))
            fields.append([f for f in fv if f[1]])
        self.phrases: dict[tuple[str, ...], bool] = {}  # words -> atomic (a colour value)
        for ws, atomic in sorted({(ws, atomic) for fv in fields for _, ws, atomic in fv}):
            if 1 < len(ws) <= _MAX_PHRASE:
                self.phrases[ws] = self.phrases.get(ws, False) or atomic
        self._max_phrase = max((len(p) for p in self.phrases), default=1)
        self._starts = {p[0] for p in self.phrases}
        joined: dict[tuple[str, ...], list[str]] = {}
        field_values: dict[str, set[str]] = {}  # field -> whole-value tokens
        for fv in fields:
            for name, ws, _ in fv:
                if ws not in joined:
                    joined[ws] = self._join(list(ws), item_side=True)
                if name != "\0keywords" and len(ws) <= _MAX_PHRASE:
                    field_values.setdefault(name, set()).add("_".join(ws))
        excluded: dict[tuple[str, ...], set[str]] = {}
        self.vocab: dict[str, int] = {}
        rows, cols = [], []
        for idx, (item, fv) in enumerate(zip(items, fields)):
            own = {t for _, ws, _ in fv for t in joined[ws]}
            names = tuple(sorted({name for name, _, _ in fv if name in field_values}))
            if names not in excluded:
                excluded[names] = set().union(*(field_values[n] for n in names))
            if item.id in spans:
                item = replace(item, title=" ".join(fragments.clean_title(item)))
            free = set(self._join(match_words(item_text(item)), item_side=True))
            toks = {self.vocab.setdefault(t, len(self.vocab)) for t in own | (free - excluded[names])}
            rows.extend([idx] * len(toks))
            cols.extend(toks)
        rows_a, cols_a = np.asarray(rows, np.int64), np.asarray(cols, np.int64)
        order = np.lexsort((rows_a, cols_a))
        rows_a, cols_a = rows_a[order], cols_a[order]
        bounds = np.searchsorted(cols_a, np.arange(len(self.vocab) + 1))
        self._postings = [rows_a[bounds[i]:bounds[i + 1]] for i in range(len(self.vocab))]
        self.checkable = set(self.vocab) - STOPWORDS
        self._bits: dict[str, np.ndarray] = {}
        self._nbytes = (self.n + 7) // 8
        column_values = set().union(*(v for name, v in field_values.items() if name != "\0keywords"))
        self.field_values = field_values  # field ("\0category" or an attribute name) -> its whole-value tokens
        self.implied: dict[tuple[str, ...], str] = {}  # occasion words -> the token of the values it implies
        for key, values in sorted((implies or {}).items()):
            words = tuple(match_words(key))
            have = sorted({t for t in ("_".join(match_words(v)) for v in values) if t in column_values})
            if words and have:
                self.implied[words] = "|".join(have)
        self._implied_longest = max((len(k) for k in self.implied), default=0)

    def _join(self, ws: list[str], *, item_side: bool) -> list[str]:
        """Greedy longest-match phrase joining; on the item side non-atomic phrases keep their words too."""
        out, i = [], 0
        while i < len(ws):
            if ws[i] not in self._starts:
                out.append(ws[i])
                i += 1
                continue
            for size in range(min(self._max_phrase, len(ws) - i), 1, -1):
                key = tuple(ws[i:i + size])
                atomic = self.phrases.get(key)
                if atomic is not None:
                    out.append("_".join(key))
                    if item_side and not atomic:
                        out.extend(w for w in key if w not in STOPWORDS)
                    i += size
                    break
            else:
                out.append(ws[i])
                i += 1
        return out

    def analyse(self, text: str, category: str = "") -> tuple[tuple[str, ...], tuple[str, ...]]:
        """A topic's (catalog words, other content words), each de-duplicated in order. In a use-case topic the
        purpose after the last "for" ("... for school projects", "... for kids") says what the item is used
        for, not what it is: those words are left to the embedding, except a gender ("... for women"). An
        occasion the catalog can check through ``implies`` ("for weddings") adds the token of its implied values
        to the catalog words, in place of the occasion's own word; the occasion stays a free word."""
        raw = match_words(text)
        implied, occasion_words = self.implied_tokens(raw)
        toks = self._join(raw, item_side=False)
        purpose = len(toks)
        if category == "use_case" and "for" in toks:
            purpose = len(toks) - toks[::-1].index("for")
        checked, free = [], []
        for n, tok in enumerate(toks):
            if tok in STOPWORDS:
                continue
            is_catalog = tok in self.checkable and (n < purpose or tok in _AUDIENCE) and tok not in occasion_words
            target = checked if is_catalog else free
            if tok not in target:
                target.append(tok)
        checked += [t for t in implied if t not in checked]
        return tuple(checked), tuple(t for t in free if t not in checked)

    def phrase_tokens(self, text: str, *, parts: bool = False) -> list[str]:
        """The tokens of ``text`` as this catalog joins them ("casual shoes" -> ``casual_shoe``); with ``parts``
        a joined name keeps its words too, as an item's text does."""
        return self._join(match_words(text), item_side=parts)

    def implied_tokens(self, words: Sequence[str]) -> tuple[list[str], set[str]]:
        """(tokens of the values the occasions in ``words`` imply, the occasions' own words); longest first."""
        if not self.implied:
            return [], set()
        out: list[str] = []
        covered: set[str] = set()
        i = 0
        while i < len(words):
            for size in range(min(self._implied_longest, len(words) - i), 0, -1):
                key = tuple(words[i:i + size])
                token = self.implied.get(key)
                if token is not None:
                    if token not in out:
                        out.append(token)
                    covered.update(key)
                    i += size
                    break
            else:
                i += 1
        return out, covered - set(out)

    def bits(self, token: str) -> np.ndarray:
        """Packed bitset of the items whose text has ``token`` (any of its parts for an implied ``a|b``)."""
        got = self._bits.get(token)
        if got is None:
            mask = np.zeros(self.n, bool)
            for part in (token.split("|") if "|" in token else (token,)):
                idx = self.vocab.get(part)
                if idx is not None:
                    mask[self._postings[idx]] = True
            got = self._bits[token] = np.packbits(mask)
        return got

    def all_of(self, tokens: Sequence[str]) -> np.ndarray:
        """Packed bitset of the items having every token (all items when there are none)."""
        out = np.full(self._nbytes, 255, np.uint8)
        for t in tokens:
            out &= self.bits(t)
        return out

    def count(self, bitset: np.ndarray) -> int:
        return int(np.unpackbits(bitset, count=self.n).sum())

    def members(self, bitset: np.ndarray) -> np.ndarray:
        return np.flatnonzero(np.unpackbits(bitset, count=self.n))

    def evidence(self, tokens: Sequence[str], idx: np.ndarray) -> np.ndarray:
        """Share of ``tokens`` found in the text of each item ``idx`` (1.0 when there are no tokens)."""
        if not tokens:
            return np.ones(len(idx), np.float32)
        found = np.zeros(len(idx), np.float32)
        for t in tokens:
            found += _bit(self.bits(t), idx)
        return found / len(tokens)


def _bit(bitset: np.ndarray, idx: np.ndarray) -> np.ndarray:
    return (bitset[idx >> 3] >> (7 - (idx & 7)).astype(np.uint8)) & 1


def make_topics(items: Sequence[Item], queries: Sequence[Query], hub_of: Callable[[Item], str]) -> list[Topic]:
    """De-duplicate query texts (exactly, after normalisation) into topics, heaviest first. A topic's text is
    its most frequent spelling, its category the most frequent category, its hub the majority hub (category)
    of its source items, its weight the number of source items."""
    by_id = {item.id: item for item in items}
    order = {item.id: n for n, item in enumerate(items)}
    groups: dict[str, dict] = {}
    for q in queries:
        if q.item_id not in by_id:
            continue
        key = topic_key(q.text)
        if not key:
            continue
        g = groups.setdefault(key, {"texts": Counter(), "cats": Counter(), "items": set(), "first": len(groups)})
        g["texts"][q.text.strip()] += 1
        g["cats"][q.category] += 1
        g["items"].add(q.item_id)
    topics = []
    for key, g in groups.items():
        text = min(g["texts"].items(), key=lambda kv: (-kv[1], kv[0]))[0]
        category = min(g["cats"].items(), key=lambda kv: (-kv[1], QUERY_CATEGORIES.index(kv[0])))[0]
        source = tuple(sorted(g["items"], key=order.__getitem__))
        hubs = Counter(hub_of(by_id[i]) for i in source)
        hub = min(hubs.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        topics.append(Topic(text=text, category=category, hub=hub, source_items=source, weight=float(len(source))))
    topics.sort(key=lambda t: (-t.weight, topic_key(t.text)))
    return topics


def collect(topics: Sequence[Topic], topic_vectors: np.ndarray, items: Sequence[Item], item_vectors: np.ndarray,
            index, cfg: CollectSection, *, hub_of: Callable[[Item], str],
            item_text: Callable[[Item], str] | None = None,
            progress: Callable[[int, int], None] | None = None,
            implies: Mapping[str, Sequence[str]] | None = None, fragments=None,
            model_dir: str | Path | None = None, embed: Callable[[Sequence[str]], np.ndarray] | None = None,
            observe: Callable[[Topic, TopicEvidence, np.ndarray], None] | None = None,
            rewards: RewardTable | None = None, owned: Mapping[str, str] | None = None,
            evidence_items: Sequence[Item] | None = None,
            ) -> tuple[list[Collection], list[DroppedTopic], dict]:
    """Turn topics into collections. ``topic_vectors[i]`` embeds ``topics[i].text``; ``index`` searches
    ``item_vectors`` (ids = positions in ``items``); ``implies`` and ``fragments``: the lexicon's occasion table
    and the catalog's title fragments (``Lexicon``); ``model_dir`` is the trained student's folder
    (``relevance.model``) for the ``student`` / ``auto`` scorer, ``embed`` the site's text embedder for a scorer
    that needs more vectors (``CatalogView.embed``). Returns (collections in topic order, dropped topics, stats).
    ``observe(topic, evidence, scores)``, when given, sees every scored topic's candidates (the relevance loop
    samples its pairs there). ``rewards`` (``demand.steer.steering``; None = off) steers which topics get pages
    (``demand.steer``; ``stats["steering"]`` says what it changed); ``owned`` (slug -> topic key) are the
    slugs published before, live or retired, which stay their topics'. ``evidence_items`` (aligned with ``items``)
    are the items as relevance reads them, when that differs (a weak-text item placed by its image reads as the
    catalog fields its image neighbours agree on, ``engines.fusion``); default ``items``."""
    t0 = time.perf_counter()
    topic_vectors = np.asarray(topic_vectors, np.float32)
    item_vectors = np.asarray(item_vectors, np.float32)
    if len(topic_vectors) != len(topics):
        raise ValueError(f"{len(topics)} topics but {len(topic_vectors)} topic vectors")
    read = list(evidence_items) if evidence_items is not None else items
    if len(read) != len(items):
        raise ValueError(f"{len(items)} items but {len(read)} evidence items")
    lex = Lexicon(read, item_text, implies, fragments)
    scorer = make_scorer(cfg, model_dir)
    scorer.prepare(CatalogView(read, [(item_text or core_text.item_text)(i) for i in read], item_vectors, lex,
                               embed))
    pos_of = {item.id: n for n, item in enumerate(items)}
    dropped: list[DroppedTopic] = []
    analysed = [lex.analyse(t.text, t.category) for t in topics]

    # 1. cheap lexical sufficiency check: no search for a topic that cannot reach min_items
    searched: list[int] = []
    for pos, (topic, (checked, _free)) in enumerate(zip(topics, analysed)):
        if len(items) < cfg.min_items:
            dropped.append(DroppedTopic(topic.text, "too_few_candidates", f"the catalog has {len(items)} items"))
            continue
        if scorer.needs_every_word(len(checked), cfg.threshold):
            have = lex.count(lex.all_of(checked))
            if have < cfg.min_items:
                dropped.append(DroppedTopic(topic.text, "thin", f"{have} item(s) have all of: {', '.join(checked)} "
                                            f"(need {cfg.min_items})"))
                continue
        searched.append(pos)

    # 2-4. retrieve, score, threshold
    k = min(cfg.candidates, len(items))
    viable: list[Candidate] = []
    for start in range(0, len(searched), _BATCH):
        batch = searched[start:start + _BATCH]
        ids, sims = index.query(topic_vectors[batch], k) if k > 0 else (np.zeros((len(batch), 0), np.int64), None)
        for row, pos in enumerate(batch):
            topic = topics[pos]
            checked, free = analysed[pos]
            valid = ids[row] >= 0
            cand = ids[row][valid]
            cand_sims = sims[row][valid].astype(np.float32)
            src = np.array(sorted({pos_of[i] for i in topic.source_items if i in pos_of}), np.int64)
            extra = np.setdiff1d(src, cand, assume_unique=True)
            if len(extra):
                cand = np.concatenate([cand, extra])
                cand_sims = np.concatenate([cand_sims, item_vectors[extra] @ topic_vectors[pos]])
            if len(cand) < cfg.min_items:
                dropped.append(DroppedTopic(topic.text, "too_few_candidates",
                                            f"{len(cand)} candidate(s) retrieved (need {cfg.min_items})"))
                continue
            evidence = TopicEvidence(cand_sims, lex.evidence(checked, cand), np.isin(cand, src), len(checked),
                                     len(free), topic.text, topic.category, cand, checked, free, topic_vectors[pos])
            scores = scorer.score(evidence)
            if observe is not None:
                observe(topic, evidence, scores)
            keep = scores >= cfg.threshold
            if int(keep.sum()) < cfg.min_items:
                dropped.append(DroppedTopic(topic.text, "thin", f"{int(keep.sum())} item(s) score >= "
                                            f"{cfg.threshold} (need {cfg.min_items})"))
                continue
            cand, scores = cand[keep], scores[keep]
            order = np.lexsort((cand, -scores))
            viable.append(Candidate(pos, checked, cand[order], scores[order]))
        if progress is not None:
            progress(min(start + _BATCH, len(searched)), len(searched))

    # 5. strongest first: heavier topics, then more relevant items; steered by rewards, weight x reward ratio
    item_hubs = [hub_of(it) for it in items]

    def gate(weight: Callable[[Candidate], float], typed: frozenset[int] = frozenset()):
        ordered = sorted(viable, key=lambda c: (-weight(c), -len(c.passing), c.pos))
        kept_viable, merged = _merge(ordered, topics, topic_vectors)
        kept, gated = apply_gates(kept_viable, topics, analysed, item_hubs, threshold=cfg.duplicate_jaccard,
                                  max_items=cfg.max_items, max_collections=cfg.max_collections,
                                  searched=frozenset(n for n, c in enumerate(kept_viable) if c.pos in typed))
        return kept, merged + gated

    steering: dict = {}
    if rewards is None:
        kept, gated = gate(lambda c: topics[c.pos].weight)
    else:
        book = SlugBook(owned)
        ratios = {c.pos: steer.ratio(rewards, topics[c.pos].text, _owned_path(book, topics[c.pos].text))
                  for c in viable}
        plain, _ = gate(lambda c: topics[c.pos].weight)
        typed = frozenset(c.pos for c in viable if steer.searched(rewards, topics[c.pos].text))
        kept, gated = gate(lambda c: steer.steered(topics[c.pos].weight, ratios[c.pos]), typed)
        steering = _steering_report(plain, kept, gated, topics, ratios)
    dropped.extend(gated)

    # slugs in topic order (the pages first: an alias never moves a page's slug), then the aliases'; a slug
    # published before stays its topic's (``owned``)
    kept.sort(key=lambda k: k.cand.pos)
    book = SlugBook(owned)
    slugs = book.take([topics[page.cand.pos].text for page in kept])
    collections: list[Collection] = []
    for page, slug, aliases in zip(kept, slugs, alias_records(kept, topics, book, [it.id for it in items])):
        topic = topics[page.cand.pos]
        member_items = [items[i] for i in page.members.tolist()]
        collections.append(Collection(slug=slug, topic=topic.text, category=topic.category, hub=page.hub,
                                      item_ids=tuple(it.id for it in member_items),
                                      scores=tuple(round(float(s), 4) for s in page.scores),
                                      summary=summarise(topic.text, member_items, colours=None),
                                      aliases=aliases, filed_from=topic.hub if page.hub != topic.hub else ""))
    order = {t.text: n for n, t in enumerate(topics)}
    dropped.sort(key=lambda d: order.get(d.topic, len(order)))

    covered = len({i for c in collections for i in c.item_ids})
    aliases = [a for c in collections for a in c.aliases]
    reasons = Counter(d.reason.split(":", 1)[0] for d in dropped)
    stats = {"topics": len(topics), "searched": len(searched), "collections": len(collections),
             **{f"collections_{q}": sum(1 for c in collections if c.category == q) for q in QUERY_CATEGORIES},
             "dropped": len(dropped), **{f"dropped_{r}": n for r, n in sorted(reasons.items())},
             "aliases": len(aliases), **{f"aliases_{r}": n for r, n in sorted(Counter(a.reason for a in aliases).items())},
             "refiled": sum(1 for c in collections if c.filed_from),
             "items_covered": covered, "coverage": round(covered / len(items), 4) if items else 0.0,
             "mean_items": round(sum(len(c.item_ids) for c in collections) / len(collections), 2) if collections else 0.0,
             "seconds": round(time.perf_counter() - t0, 3)}
    if steering:
        stats["steering"] = steering
    return collections, dropped, stats


def _owned_path(book: SlugBook, text: str) -> str:
    """The page a topic has had (``/topic/<its slug>/``), or "" when it never had one."""
    slug = book.of_key.get(topic_key(text))
    return urls.collection_url(slug) if slug else ""


def _steering_report(plain, kept, dropped: Sequence[DroppedTopic], topics: Sequence[Topic],
                     ratios: dict[int, float]) -> dict:
    """What the rewards changed in collect: the topics with a page only because of their reward (``gained``)
    and those without one only because of it (``lost``, with the reason they lost it), each with its reward
    ratio; ``plain`` and ``kept`` are the unsteered and the steered pages."""
    before = [k.cand.pos for k in sorted(plain, key=lambda k: k.cand.pos)]
    after = [k.cand.pos for k in sorted(kept, key=lambda k: k.cand.pos)]
    gained, lost = steer.gained_lost(before, after)
    alias_of = {pos: topics[k.cand.pos].text for k in kept for pos, _r, _j in k.aliases}
    why = {d.topic: d.reason for d in dropped}

    def row(pos: int, lost_to: str = "") -> dict:
        out = {"topic": topics[pos].text, "ratio": round(ratios.get(pos, 1.0), 3), "weight": topics[pos].weight}
        if lost_to:
            out["now"] = lost_to
        return out

    def now(pos: int) -> str:
        if pos in alias_of:
            return f"a line on the page of {alias_of[pos]!r}"
        reason = why.get(topics[pos].text, "")
        if reason.startswith("merged_into:"):
            return f"merged into {reason.split(':', 1)[1]!r}"
        return "no slot within collect.max_collections" if reason == "max_collections" else reason or "no page"

    return {"gained": [row(p) for p in gained], "lost": [row(p, now(p)) for p in lost],
            "topics_with_data": sum(1 for r in ratios.values() if r != 1.0), "viable": len(ratios)}


def _merge(viable: list[Candidate], topics: Sequence[Topic], vectors: np.ndarray
           ) -> tuple[list[Candidate], list[DroppedTopic]]:
    """Drop a topic whose vector is >= MERGE_COSINE to a stronger kept one, when the catalog words of one are
    a subset of the other's ("black shirts for men" and "men's black shirts", not "... for women")."""
    if not viable:
        return viable, []
    mat = vectors[[c.pos for c in viable]]
    mat = mat / np.maximum(np.linalg.norm(mat, axis=1, keepdims=True), 1e-12)
    alive = np.ones(len(viable), bool)
    dropped: list[DroppedTopic] = []
    block = 2048
    for start in range(0, len(viable), block):
        sims = mat[start:start + block] @ mat.T
        for r in range(sims.shape[0]):
            j = start + r
            if not alive[j]:
                continue
            for i in np.flatnonzero(sims[r, :j] >= MERGE_COSINE).tolist():
                if not alive[i]:
                    continue
                a, b = set(viable[i].checked), set(viable[j].checked)
                if a <= b or b <= a:
                    alive[j] = False
                    dropped.append(DroppedTopic(topics[viable[j].pos].text,
                                                f"merged_into:{topics[viable[i].pos].text}",
                                                f"topic cosine {float(sims[r, i]):.3f}"))
                    break
    return [c for c, a in zip(viable, alive) if a], dropped
