"""The default query generator: no generative model, only the catalog, the pixels and a text-embedding model.

For each item it proposes candidates in the three categories of the mix:

- description: the title (without brand-like words), the subject noun phrase, keywords, category (unless it is
  a broad hub such as "apparel"), frequent catalog n-grams found in the item's text, each with the catalog's
  kind word when it has one ("apple clipart"; the kind word is detected from frequent keywords / titles);
- style / detail: colour names (catalog colour columns and title colour words first, pixels when the catalog
  is silent) with the subject, attribute columns and the audience ("black casual shoes for men"), looks the
  pixels support ("black and white", "colorful", "silhouette", "transparent background"), and colour + a
  keyword other items share ("brown dog clipart", so that style topics can gather a collection);
- use case: ``represent.use_cases`` intents matched against category / keywords / title / attributes (an intent
  may contain ``{subject}``), occasions from a usage column ("kurtas for festivals"), and Search Console queries
  that share most of their checkable words with the item (categorised by ``parse.classify_query``). Only an item with
  fewer than four of those gets templates: kind intents ("apple clipart for kids"), then generic ones
  ("how to style black kurtas").

Candidates are scored by the cosine between their embedding and the item's text (``item_text``), with one
``Embedder.encode`` call per batch; ``PostProcessor`` selects. Brand-like words are learnt from the catalog:
words that stand before an audience word ("<Brand> Men ...") and rarely elsewhere, plus ``represent.brands``,
plus the title fragments of ``fragments.learn_fragments`` (brand, creator and model-number words); an item's own
fragment span is left out of every candidate built from its title ("Jealous 21 Women Pink Top" -> "pink top").
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sitegen.ingest.colours import COLOUR_WORDS, ImageTraits, cached_traits
from sitegen.core.config import RepresentSection
from sitegen.core.lexicon import Lexicon, load_lexicon
from sitegen.core.models import Item, QueryCategory
from sitegen.core import text as core_text
from sitegen.represent.base import Candidate, QueryGenerator
from sitegen.represent.fragments import learn_fragments
from sitegen.represent.parse import classify_query
from sitegen.core.text import normalise
from sitegen.represent.postprocess import GENERIC_WORDS, STOPWORDS

if TYPE_CHECKING:
    from sitegen.engines.embed import Embedder
    from sitegen.store.db import Store

_MIN_INTENTS = 3  # below this many configured / console / occasion intents, templates are added
_ATTRIBUTE_HINTS = ("colo", "usage", "occasion", "material", "fabric", "pattern", "style", "fit", "season",
                    "finish", "texture", "gender")
_KIND_MIN_SHARE = 0.2  # a kind word names the catalog when this share of items carries it


@dataclass
class _Facts:
    subject: str
    clean_title: str
    colours: list[str]  # catalog colours first, then pixel colours
    looks: list[str]  # style words the pixels support: "black and white", "colorful", "silhouette", ...
    audience: str
    usage: str
    details: list[str]
    text_words: frozenset[str]


class RetrievalGenerator(QueryGenerator):
    name = "retrieval"

    def __init__(self, cfg: RepresentSection, embedder: Embedder, *, corpus: Sequence[Item],
                 console_queries: Sequence[str] = (), store: Store | None = None,
                 pixel_colours: bool = True, item_text: Callable[[Item], str] | None = None,
                 lexicon: Lexicon | None = None):
        """``item_text`` is the text candidates are compared with; pass the one the build embeds items with,
        so those vectors come from the embedder's cache. ``lexicon``: the site's word lists (audiences, kind
        words, occasions, templates; ``represent.lexicons``), all packaged ones when omitted."""
        self.cfg = cfg
        lex = lexicon or load_lexicon()
        self.lexicon = lex
        self.audience: dict[str, str] = lex.audiences
        self.kind_words: dict[str, str] = lex.kind_words
        self.kind_intents, self.generic_intents = lex.kind_intents, lex.generic_intents
        self.occasions: dict[str, tuple[str, ...]] = lex.occasions
        self.intent_markers = frozenset(lex.intent_markers)
        self.item_text = item_text or core_text.item_text
        self.embedder = embedder
        self.store = store
        self.pixel_colours = pixel_colours
        self.use_cases = {normalise(k): list(v) for k, v in sorted(cfg.use_cases.items()) if normalise(k)}
        self._analyse(corpus)
        self._console: list[tuple[str, frozenset[str]]] = []
        for q in dict.fromkeys(normalise(q) for q in console_queries):
            # Words an item can be checked against: not intent or audience words ("for kids", "ideas").
            toks = _content(w for w in q.split() if w not in self.intent_markers and w not in self.audience)
            if q and toks:
                self._console.append((q, toks))
        self._console_by_word: dict[str, list[int]] = {}
        for i, (_, toks) in enumerate(self._console):
            for t in sorted(toks):
                self._console_by_word.setdefault(t, []).append(i)

    # -- corpus statistics ---------------------------------------------------------------------------------
    def _analyse(self, corpus: Sequence[Item]) -> None:
        n = max(1, len(corpus))
        self.fragments = learn_fragments(corpus, self.lexicon)
        kind_df: Counter[str] = Counter()
        vocab: set[str] = set(COLOUR_WORDS) | set(self.audience) | set(STOPWORDS) | set(GENERIC_WORDS)
        any_df: Counter[str] = Counter()
        lead_df: Counter[str] = Counter()  # words before an audience word in the title
        first_df: Counter[str] = Counter()  # first words of the other titles
        with_audience = 0
        attr_values: dict[str, set[str]] = {}
        grams: Counter[str] = Counter()
        self.keyword_df: Counter[str] = Counter()
        categories: Counter[str] = Counter(normalise(item.category) for item in corpus)
        # A category holding a tenth of a sizeable catalog ("apparel") is a hub, not a query for one item.
        self.broad = frozenset(c for c, count in categories.items() if n >= 50 and count > 0.1 * n)
        for item in corpus:
            title = normalise(item.title).split()
            kw = [normalise(k) for k in item.keywords]
            self.keyword_df.update(set(kw))
            text = " ".join([" ".join(title), *kw, normalise(item.category)])
            kind_df.update({self.kind_words[k] for k in self.kind_words if f" {k} " in f" {text} "})
            vocab.update(w for k in kw for w in k.split())
            vocab.update(normalise(item.category).split())
            for name, value in item.attributes:
                attr_values.setdefault(name, set()).add(normalise(value))
            any_df.update(set(title))
            cut = next((i for i, w in enumerate(title[:5]) if w in self.audience), None)
            if cut:  # product titles: "<Brand> <Men|Women> ..."
                lead_df.update(set(title[:cut]))
                with_audience += 1
            else:
                first_df.update(title[:1])
            grams.update({g for size in (2, 3) for g in _ngrams(title, size)})
        kinds = sorted(kind_df.items(), key=lambda kv: (-kv[1], kv[0]))
        self.kind = kinds[0][0] if kinds and kinds[0][1] >= _KIND_MIN_SHARE * n else ""
        self.type_attr = _type_attribute(attr_values, n)
        for name, values in attr_values.items():
            if len(values) <= max(50, 0.2 * n):  # taxonomy / attribute vocabulary, not free text
                vocab.update(w for v in values for w in v.split())
        brands = {w for b in self.cfg.brands for w in normalise(b).split()} | set(self.fragments.tokens)
        min_lead = 2 if n < 1000 else 3
        if with_audience >= 0.3 * n:  # a product catalog: a title's first word is usually the brand too
            lead_df.update(first_df)
        self.brandish = frozenset(brands | {w for w, c in lead_df.items() if c >= min_lead
                                            and c >= 0.8 * any_df[w] and w not in vocab and not w.isdigit()})
        min_df = max(2, math.ceil(0.0005 * n))
        self.ngrams = frozenset(g for g, c in grams.items() if c >= min_df and not (set(g.split()) & self.brandish)
                                and not (set(g.split()) & set(self.audience)))
        # Detail words worth pairing with a subject ("printed kurta"): words of frequent n-grams that are
        # common in the catalog (not a model name), and not colours, audiences or stop-words.
        min_word_df = max(2, math.ceil(0.001 * n))
        # With enough items, a word seen in very few titles is a model or product-line name ("toe crusher").
        self.rare_df = math.ceil(0.0005 * n) + 1 if n >= 500 else 0
        self.word_df = any_df
        self.detail_words = frozenset(w for g in self.ngrams for w in g.split() if any_df[w] >= min_word_df
                                      and w not in COLOUR_WORDS and w not in STOPWORDS and w not in self.audience)

    # -- generation ----------------------------------------------------------------------------------------
    def generate(self, items: Sequence[Item]) -> list[list[Candidate]]:
        traits = self._pixel_traits(items)
        proposals = [self._propose(item, traits.get(item.id, ImageTraits())) for item in items]
        item_texts = [self.item_text(item) for item in items]
        texts = [c.text for props in proposals for c in props] + item_texts
        if not texts:
            return [[] for _ in items]
        unique = list(dict.fromkeys(texts))
        vectors = self.embedder.encode(unique)
        row = {t: i for i, t in enumerate(unique)}
        out: list[list[Candidate]] = []
        for item_txt, props in zip(item_texts, proposals):
            item_vec = vectors[row[item_txt]]
            scored = [Candidate(c.text, c.category, c.source, round(float(vectors[row[c.text]] @ item_vec), 6))
                      for c in props]
            scored.sort(key=lambda c: -c.score)  # stable: ties keep the proposal order
            out.append(scored)
        return out

    def propose(self, item: Item, traits: ImageTraits | None = None) -> list[Candidate]:
        """The item's candidates before scoring (score 0), in proposal order: what ``generate`` embeds and scores."""
        return self._propose(item, traits or ImageTraits())

    def _propose(self, item: Item, traits: ImageTraits) -> list[Candidate]:
        facts = self._facts(item, traits)
        s, k = facts.subject, self.kind
        props: dict[str, Candidate] = {}

        def add(text: str, category: QueryCategory, source: str) -> None:
            text = normalise(text)
            if text and text not in props:
                props[text] = Candidate(text, category, source)

        def kinded(text: str) -> str:
            return f"{text} {k}" if k and k not in text.split() else text

        # style / detail first: a colour + subject phrase is a style query even when it is also the title
        aud = f" for {facts.audience}" if facts.audience else ""
        # A subject few items share ("beagle") pairs with the main colour only; the other colours go to the
        # keywords other items share ("brown dog clipart"), which can gather a collection.
        rare = bool(s) and min(self.word_df[w] for w in s.split()) < 3 and bool(item.keywords)
        for i, colour in enumerate(facts.colours[:3]):
            if s and (i == 0 or not rare):
                add(kinded(f"{colour} {s}"), "style", "colour")
                if aud:
                    add(f"{colour} {s}{aud}", "style", "colour")
                if facts.usage and facts.usage not in s:
                    add(f"{colour} {facts.usage} {s}{aud}", "style", "attributes")
            if i == 0 and len(facts.colours) > 1 and s and not rare:
                add(kinded(f"{colour} and {facts.colours[1]} {s}"), "style", "colour")
        if s:
            if aud:
                add(f"{s}{aud}", "description", "attributes")  # what it is, and for whom
            if facts.usage and facts.usage not in s:
                add(f"{facts.usage} {s}{aud}", "style", "attributes")
            for detail in facts.details[:4]:
                add(kinded(f"{detail} {s}"), "style", "detail")
            for look in facts.looks:
                if look == "silhouette":
                    add(f"{s} silhouette", "style", "pixels")
                elif look == "transparent background":
                    add(f"{kinded(s)} transparent background", "style", "pixels")
                elif not rare:  # a rare subject's "black and white" goes to the shared keywords below
                    add(kinded(f"{look} {s}"), "style", "pixels")
        # Style phrases other items share (so they can become collections): a colour or look with a keyword
        # many items carry ("brown dog clipart", "black and white animal clipart").
        shades = [*facts.colours[:2], *(x for x in facts.looks if x in ("black and white", "colorful"))]
        shared = [kw for kw in dict.fromkeys(normalise(k) for k in item.keywords)
                  if self.keyword_df[kw] >= 3 and kw not in self.kind_words and kw not in COLOUR_WORDS
                  and kw not in s.split() and not set(kw.split()) & COLOUR_WORDS][:2]
        for shade in shades:
            for kw in shared:
                add(kinded(f"{shade} {kw}"), "style", "shared")
        # description
        title = normalise(item.title)
        if not set(title.split()) & self.brandish and item.id not in self.fragments.spans:
            add(title, "description", "title")
        title = " ".join(self.fragments.clean_title(item))
        add(facts.clean_title, "description", "title")
        if s:
            add(kinded(s), "description", "subject")
            add(s, "description", "subject")
        for kw in item.keywords:
            if normalise(kw) not in self.kind_words:
                add(kinded(kw), "description", "keywords")
        if item.category and (k or normalise(item.category) not in self.broad):
            add(kinded(item.category), "description", "category")
        for gram in self._item_ngrams(facts.text_words, title):
            add(kinded(gram), "style" if set(gram.split()) & COLOUR_WORDS else "description", "ngram")
        # use case
        anchor = self._anchor(item, s)
        for key, intent in self._matched_intents(item, facts):
            text = normalise(intent.replace("{subject}", s or normalise(item.category)))
            add(text, "use_case", "lexicon")
            # Grounded in what the item is ("cat clipart for pet adoption flyer"): a topic the catalog's own
            # words can check, shared by the items with that keyword. A category key grounds with the anchor.
            ground = anchor if key == normalise(item.category) else key
            if ground and not set(ground.split()) & set(text.split()) and not set(text.split()) & set(self.kind_words):
                add(f"{kinded(ground)} for {text}", "use_case", "lexicon")
        for query in self._console_matches(facts.text_words):
            add(query, classify_query(query), "console")
        if s:
            for occasion in self.occasions.get(facts.usage, ()):
                add(f"{s} for {occasion}", "use_case", "occasion")
            # Configured intents come first; templates only top up an item that has too few.
            if k and sum(1 for c in props.values() if c.category == "use_case") < _MIN_INTENTS:
                for template in self.kind_intents:
                    add(template.format(s=s, k=k), "use_case", "template")
            if sum(1 for c in props.values() if c.category == "use_case") < _MIN_INTENTS:
                cs = f"{facts.colours[0]} {s}" if facts.colours else s
                for template in self.generic_intents:
                    if not (k and "style" in template):
                        add(template.format(s=s, cs=cs), "use_case", "template")
        return list(props.values())

    def _facts(self, item: Item, traits: ImageTraits) -> _Facts:
        pixel = [name for name, share in traits.colours if share >= 0.2][:2]
        title = self.fragments.clean_title(item)
        words = [w for w in title if w not in self.brandish]
        audience = next((self.audience[w] for w in words if self.audience.get(w)), "")
        usage, catalog_colours, details = "", [], []
        for name, value in item.attributes:
            lname, v = name.lower(), normalise(value)
            if not v:
                continue
            if core_text.is_colour_key(name):
                catalog_colours.append(v)
            elif "usage" in lname or "occasion" in lname:
                usage = usage or v
            elif ("gender" in lname or "audience" in lname) and not audience:
                audience = self.audience.get(v, self.audience.get(v.split()[0], ""))
            elif any(h in lname for h in _ATTRIBUTE_HINTS) and len(v.split()) <= 2:
                details.append(v)
        title_colours = [w for w in words if w in COLOUR_WORDS]
        # The catalog's own colour words are ground truth; pixels speak when the catalog is silent, or add a
        # second colour when their main colour agrees with the catalog ("black and white cat drawing").
        known = list(dict.fromkeys([*catalog_colours, *title_colours]))
        if not known:
            colours = list(pixel)
        else:
            colours = known + ([c for c in pixel[1:] if c not in known] if pixel and pixel[0] in known else [])
        clean = [w for w in words if w not in STOPWORDS and w not in self.audience and w not in self.kind_words
                 and (not self.rare_df or self.word_df[w] >= self.rare_df)]
        subject = self._subject(item, clean)
        taken = set(subject.split()) | set(" ".join(colours).split())
        details += [w for w in clean if w not in taken and w in self.detail_words and not w.isdigit()]
        text = [*title, *normalise(" ".join(item.keywords)).split(), *normalise(item.category).split(),
                *(w for _, v in item.attributes for w in normalise(v).split())]
        return _Facts(subject=subject, clean_title=" ".join(clean), colours=colours, looks=_looks(traits),
                      audience=audience,
                      usage=usage, details=list(dict.fromkeys(details)), text_words=_content(text))

    def _subject(self, item: Item, clean: list[str]) -> str:
        """The noun phrase the item is about: the longest run of title words that are keywords or taxonomy
        values; else the type column; else the longest frequent n-gram ending the title; else its last words."""
        vocab = {w for kw in item.keywords for w in normalise(kw).split()}
        vocab |= set(normalise(item.category).split())
        vocab |= {w for name, v in item.attributes if not core_text.is_colour_key(name) for w in normalise(v).split()}
        vocab |= {w[:-1] for w in vocab if w.endswith("s")} | {w + "s" for w in vocab}
        vocab -= COLOUR_WORDS | set(self.audience) | set(GENERIC_WORDS)
        best: list[str] = []
        run: list[str] = []
        for w in [*clean, ""]:
            if w and w in vocab:
                run.append(w)
                continue
            if len(run) >= len(best) and run:
                best = run
            run = []
        if best:
            return " ".join(best[-3:])
        if self.type_attr:
            value = normalise(item.attr(self.type_attr))
            if value:
                return value
        content = [w for w in clean if w not in COLOUR_WORDS and not w.isdigit()]
        for size in (3, 2):
            tail = " ".join(content[-size:])
            if len(content) >= size and tail in self.ngrams:
                return tail
        return " ".join(content[-2:])

    def _item_ngrams(self, words: frozenset[str], title: str) -> list[str]:
        found = [g for size in (3, 2) for g in _ngrams(title.split(), size) if g in self.ngrams]
        return sorted(dict.fromkeys(found), key=lambda g: (-len(g.split()), found.index(g)))[:4]

    def _matched_intents(self, item: Item, facts: _Facts) -> list[tuple[str, str]]:
        """(key, intent) for every ``represent.use_cases`` key the item matches."""
        keys = {normalise(item.category), *(normalise(k) for k in item.keywords),
                *(normalise(v) for _, v in item.attributes)}
        title = f" {normalise(item.title)} "
        out: list[tuple[str, str]] = []
        for key, intents in self.use_cases.items():
            if key in keys or f" {key} " in title or (key in facts.subject.split() if facts.subject else False):
                out.extend((key, intent) for intent in intents)
        return out

    def _anchor(self, item: Item, subject: str) -> str:
        """The item's most shared plain keyword (one other items carry too), else its subject."""
        for kw in dict.fromkeys(normalise(k) for k in item.keywords):
            if (self.keyword_df[kw] >= 3 and kw not in self.kind_words and not set(kw.split()) & COLOUR_WORDS
                    and kw != normalise(item.category)):
                return kw
        return subject

    def _console_matches(self, words: frozenset[str]) -> list[str]:
        if not self._console:
            return []
        hits: Counter[int] = Counter()
        for w in sorted(words):
            for i in self._console_by_word.get(w, ()):
                hits[i] += 1
        matched = [i for i, c in hits.items() if c >= max(1, math.ceil(0.6 * len(self._console[i][1])))]
        return [self._console[i][0] for i in sorted(matched)][:10]

    def _pixel_traits(self, items: Sequence[Item]) -> dict[str, ImageTraits]:
        return cached_traits(items, self.store) if self.pixel_colours else {}


def _looks(traits: ImageTraits) -> list[str]:
    """Style words the pixels support."""
    names = [(n, sh) for n, sh in traits.colours if sh >= 0.05]
    out = []
    if names and {n for n, _ in names} <= {"black", "white", "grey"} and len(names) > 1:
        out.append("black and white")
    if sum(1 for n, sh in names if sh >= 0.1 and n not in ("black", "white", "grey")) >= 3:
        out.append("colorful")
    if names and names[0][0] == "black" and names[0][1] >= 0.85 and traits.transparent:
        out.append("silhouette")
    if traits.transparent:
        out.append("transparent background")
    return out


def _ngrams(words: list[str], size: int) -> Iterable[str]:
    for i in range(len(words) - size + 1):
        gram = words[i:i + size]
        if gram[0] in STOPWORDS or gram[-1] in STOPWORDS or any(w.isdigit() for w in gram):
            continue
        yield " ".join(gram)


def _content(words: Iterable[str]) -> frozenset[str]:
    """Content words, stemmed (``core.text.stem``) so "shoe" matches "shoes"."""
    return frozenset(core_text.stem(w) for w in words if w not in STOPWORDS and w not in GENERIC_WORDS)


def _type_attribute(values: dict[str, set[str]], n: int) -> str:
    """The most specific taxonomy column (most distinct short values, fewer than a fifth of the items)."""
    best, best_count = "", 0
    for name in sorted(values):
        lname = name.lower()
        if any(h in lname for h in _ATTRIBUTE_HINTS):
            continue
        vals = values[name]
        if 1 < len(vals) <= max(2, 0.2 * n) and all(len(v.split()) <= 4 for v in vals) and len(vals) > best_count:
            best, best_count = name, len(vals)
    return best
