"""The ``catalog`` judge: silver grades from attribute agreement, the offline default teacher.

A topic's constraints are its *catalog words* (``aggregate.collect.Lexicon.analyse``: the words some item of
this catalog carries - a colour, a category, a keyword, an attribute value, a title word - plus the values an
occasion implies through the lexicon's ``implies`` table, "weddings" -> ethnic). A word no item carries cannot be
checked: it is left out, and the judge says less (no 5 without an embedding to vouch for it). Each constraint
has a type, from the catalog column it comes from (first that applies):

- ``colour``: a value of a colour column, or a palette colour word;
- ``audience``: a gender / audience word ("men", "women", "kids", "unisex");
- ``occasion``: a value of a usage / occasion column, or the values an occasion implies;
- ``kind``: a value of the category, a keyword or another attribute column (article type, material ...);
- ``other``: any other word the catalog uses (title words such as "printed").

The *head* is the topic's kind constraints; a topic without one has its last ``other`` word as head ("red
apple" in a catalog without categories -> apple). An item satisfies a constraint when its text has the word
(``Lexicon.evidence``; brand and creator spans of titles do not count): a kind word as a whole value or word,
or as the last word of a longer name ("duffel bag" is a bag; an "apple tree" is not an apple) - a *qualified*
name when its other words are values of other columns ("casual shoes" are shoes as surely as "shoes"); a "men" /
"women" audience also holds for a unisex item. Grades, first rule that applies:

=====  ========================================================================================================
grade  rule
=====  ========================================================================================================
(none) the topic has no constraint the catalog can check: no grade (the judge leaves the pair out)
1      the head fails and the item has none of the topic's words
2      the head fails (another kind of thing), or holds only through a longer name while the embedding
       similarity (when known) is below ``WEAK``
3      the head holds but a colour, audience, occasion or other constraint fails
5      every constraint holds and the item is a strong example: similarity >= ``STRONG`` when known; without
       one, when the topic has no uncheckable word and the item's own title names the head (as a word or a
       qualified name, not only through a longer name: a "Hot Dog" may not be a dog)
4      every constraint holds (otherwise)
=====  ========================================================================================================

``prepare(items, item_vectors, encode)`` gives the judge the whole catalog (which words it can check at all)
and, optionally, the item embeddings and a text encoder for the similarity; without it the judge reads the
catalog from the items of the pairs it grades.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable, Sequence

import numpy as np

from sitegen.core import text as core_text
from sitegen.core.models import Item, Judgment
from sitegen.core.text import match_words
from sitegen.learn.relevance.judge import Judge, Pair

STRONG = 0.6  # similarity of a strong example (grade 5)
WEAK = 0.3  # below this, a kind held only through a longer name is another kind of thing (grade 2)
RULES_VERSION = "catalog-rules-1"
AUDIENCE = frozenset({"men", "women", "boys", "girls", "kids", "unisex", "baby", "babies"})
_OCCASION_KEYS = ("usage", "occasion")
_AUDIENCE_KEYS = ("gender", "audience")


class CatalogJudge(Judge):
    """Grades pairs by the rules of the module docstring."""

    name = "catalog"

    def __init__(self, cfg=None):
        super().__init__(cfg)
        self._ctx: _Catalog | None = None

    @property
    def rater(self) -> str:
        return RULES_VERSION

    def prepare(self, items: Sequence[Item], item_vectors: np.ndarray | None = None,
                encode: Callable[[list[str]], np.ndarray] | None = None) -> None:
        """The catalog the pairs come from, and optionally its item embeddings (aligned with ``items``) and the
        encoder of topic texts (the same model), for the similarity rules."""
        self._ctx = _Catalog(items, self.cfg, item_vectors, encode)

    def grade(self, pairs: Sequence[Pair], progress: Callable[[int, int], None] | None = None) -> list[Judgment]:
        ctx = self._ctx
        if ctx is None or any(p.item.id not in ctx.pos for p in pairs):
            known = list(ctx.items) if ctx is not None else []
            seen = {i.id for i in known}
            extra = [p.item for p in pairs if p.item.id not in seen and not seen.add(p.item.id)]
            ctx = _Catalog([*known, *extra], self.cfg)
            if self._ctx is None:
                self._ctx = ctx
        out: list[Judgment] = []
        for n, pair in enumerate(pairs):
            grade, _ = ctx.rule(pair)
            if grade is not None:
                out.append(self.judgment(pair, grade))
            if progress is not None and (n + 1) % 1000 == 0:
                progress(n + 1, len(pairs))
        if progress is not None:
            progress(len(pairs), len(pairs))
        return out

    def explain(self, pair: Pair) -> tuple[int | None, str]:
        """(grade or None, the rule that decided it) for one pair."""
        if self._ctx is None or pair.item.id not in self._ctx.pos:
            self.grade([pair])
        ctx = self._ctx if self._ctx is not None and pair.item.id in self._ctx.pos else _Catalog([pair.item], self.cfg)
        return ctx.rule(pair)


class _Catalog:
    """One catalog, read for judging: the collect Lexicon, each token's constraint type, whole-word tokens."""

    def __init__(self, items: Sequence[Item], cfg=None, item_vectors: np.ndarray | None = None,
                 encode: Callable[[list[str]], np.ndarray] | None = None):
        from sitegen.aggregate.collect import Lexicon
        from sitegen.core.lexicon import load_lexicon, site_lexicon
        from sitegen.ingest.colours import COLOUR_WORDS
        from sitegen.represent.fragments import learn_fragments

        self.items = list(items)
        self.pos = {item.id: n for n, item in enumerate(self.items)}
        texts = [core_text.item_text(i) for i in self.items]
        words = site_lexicon(cfg, texts) if hasattr(cfg, "represent") else load_lexicon(texts=texts)
        self.fragments = learn_fragments(self.items, words)
        self.lex = Lexicon(self.items, implies=words.implies, fragments=self.fragments)
        self.vectors = None if item_vectors is None else np.asarray(item_vectors, np.float32)
        self.encode = encode
        self._topic_vecs: dict[str, np.ndarray] = {}
        self._whole: dict[int, set[str]] = {}
        kinds: set[str] = set()
        types: dict[str, str] = {}
        for name, values in self.lex.field_values.items():
            low = name.lower()
            if core_text.is_colour_key(name):
                kind = "colour"
            elif any(k in low for k in _AUDIENCE_KEYS):
                kind = "audience"
            elif any(k in low for k in _OCCASION_KEYS):
                kind = "occasion"
            else:
                kinds |= values
                continue
            for v in values:
                types.setdefault(v, kind)
        kinds |= {"_".join(match_words(k)) for item in self.items for k in item.keywords}
        self.values = {w for name, vs in self.lex.field_values.items() if name != "\0category" for v in vs
                       for w in v.split("_")}
        self.colour_words = set(COLOUR_WORDS) | {t for t, k in types.items() if k == "colour"}
        self.types = types
        self.kinds = kinds - self.colour_words

    def kind_of(self, token: str) -> str:
        if token in self.colour_words:
            return "colour"
        if token in AUDIENCE:
            return "audience"
        if "|" in token or token in self.lex.implied.values() or self.types.get(token) == "occasion":
            return "occasion"
        if self.types.get(token) == "audience":
            return "audience"
        return "kind" if token in self.kinds else "other"

    def whole(self, idx: int) -> set[str]:
        """The item's tokens as whole words or whole values, without the words of longer names."""
        got = self._whole.get(idx)
        if got is None:
            item = self.items[idx]
            if item.id in self.fragments.spans:
                item = replace(item, title=" ".join(self.fragments.clean_title(item)))
            got = set(self.lex.phrase_tokens(core_text.item_text(item)))
            got |= {"_".join(match_words(v)) for v in (item.category, *item.keywords, *(v for _, v in item.attributes))
                    if v}
            got |= {p.rsplit("_", 1)[1] for p in got if "_" in p and self._modifier(p.rsplit("_", 1)[0])}
            self._whole[idx] = got
        return got

    def _modifier(self, words: str) -> bool:
        """True when the first words of a longer name are values of other columns ("casual" of "casual shoes"):
        the name is then the last word, qualified ("casual shoes" are shoes; "hot" is no column's value)."""
        return all(w in self.values for w in words.split("_"))

    def similarity(self, topic: str, idx: int) -> float | None:
        if self.vectors is None or self.encode is None:
            return None
        vec = self._topic_vecs.get(topic)
        if vec is None:
            vec = self._topic_vecs[topic] = np.asarray(self.encode([topic])[0], np.float32)
        return float(self.vectors[idx] @ vec)

    def has(self, token: str, idx: int) -> bool:
        return bool(self.lex.evidence([token], np.array([idx], np.int64))[0] > 0)

    def rule(self, pair: Pair) -> tuple[int | None, str]:
        checked, free = self.lex.analyse(pair.topic, pair.category)
        covered = self.lex.implied_tokens(match_words(pair.topic))[1]  # occasions checked through their values
        free = tuple(f for f in free if f not in covered)
        if not checked:
            return None, "nothing the catalog can check"
        idx = self.pos[pair.item.id]
        typed = [(t, self.kind_of(t)) for t in checked]
        head = [t for t, k in typed if k == "kind"] or [t for t, k in typed if k == "other"][-1:]
        whole = self.whole(idx)
        sim = self.similarity(pair.topic, idx)

        def holds(token: str, kind: str) -> bool:
            if self.has(token, idx):
                return True
            return kind == "audience" and token in ("men", "women") and "unisex" in whole

        head_fail, compound = [], False
        for t in head:
            if not holds(t, "kind"):
                head_fail.append(t)
            elif t not in whole:
                if any(p.endswith("_" + t) for p in whole):
                    compound = True
                else:
                    head_fail.append(t)  # "apple" only in "apple tree": another kind of thing
        if head_fail:
            anything = any(self.has(t, idx) for t in (*checked, *free) if t in self.lex.vocab)
            return (2, f"head fails: {', '.join(head_fail)}") if anything else (1, "nothing in common")
        if compound and sim is not None and sim < WEAK:
            return 2, f"head only through a longer name, similarity {sim:.2f}"
        failed = [f"{k} {t}" for t, k in typed if t not in head and not holds(t, k)]
        if failed:
            return 3, "fails: " + ", ".join(failed)
        if sim is not None:
            return (5, f"all hold, similarity {sim:.2f}") if sim >= STRONG else (4, "all hold")
        title = set(self.lex.phrase_tokens(" ".join(self.fragments.clean_title(pair.item))))
        title |= {p.rsplit("_", 1)[1] for p in title if "_" in p and self._modifier(p.rsplit("_", 1)[0])}
        if not free and not compound and all(t in title for t in head):
            return 5, "all hold, the title names it"
        return 4, "all hold" + (f"; not checked: {', '.join(free)}" if free else "")
