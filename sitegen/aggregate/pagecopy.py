"""A collection page's copy: what a reader (or an answer engine quoting the page) can take from it, built only
from catalog data. No I/O; render turns it into HTML.

- ``profile_catalog``: which of the catalog's columns the copy counts, and in which role: the category, colours
  (a colour column, or the dominant pixel colour the build adds, as item pages name them), an audience (a gender / audience column; or the
  audience words of the titles when most titles name one, as fashion titles do), a usage or occasion, sizes,
  seasons, a year, the item date, and any other short-valued column with few distinct values;
- ``collection_copy``: for one collection, an answer-first ``lead`` (how many images, of what, for whom), the
  ``facts`` (counts per value of each column the members carry, a range for dates and years), a ``guide`` for a
  use-case topic (the kinds and colours of the members that satisfy its purpose: a usage the purpose implies
  through the lexicon's ``implies`` table when the catalog has that column), question ``sections`` for the
  question-phrased topics the page answers (the topic itself and its aliases), and the sentences the meta
  description is composed from, most important first;
- ``related_reason``: one line saying what a related collection shares with this one.

Every number is a count over the members' catalog values; nothing is estimated or invented.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Literal, Mapping, Sequence

from sitegen.core.models import Collection, Item
from sitegen.core.text import colour_values, is_colour_key, normalise

Role = Literal["category", "colour", "audience", "usage", "size", "season", "year", "date", "other"]
ROLE_NAMES: dict[str, Role] = {  # normalised column name -> role (colour: any name with colour / color)
    "gender": "audience", "audience": "audience", "sex": "audience", "age_group": "audience",
    "agegroup": "audience", "department": "audience", "target_audience": "audience",
    "usage": "usage", "occasion": "usage", "use": "usage", "use_case": "usage", "purpose": "usage",
    "size": "size", "sizes": "size", "season": "season", "seasons": "season", "year": "year"}
LABELS: dict[Role, str] = {"category": "Category", "colour": "Colour", "audience": "Audience", "usage": "Usage",
                           "size": "Size", "season": "Season", "year": "Year", "date": "Date"}
ROLE_ORDER: tuple[Role, ...] = ("category", "colour", "audience", "usage", "size", "season", "other", "year", "date")
OTHER_MAX_VALUES = 40  # a column counted as "other" has at most this many distinct values in the catalog
OTHER_MAX_CHARS = 32  # ... of at most this many characters on average
TITLE_AUDIENCE_SHARE = 0.5  # titles name the audience when at least this share of them carries an audience word
TOP = 3  # values named in a sentence
FACT_VALUES = 6  # values listed in the facts block per column
GUIDE_KINDS = 3
_SEPARATORS = re.compile(r"\s*[,;|/]\s*")
_RANGES: tuple[Role, ...] = ("year", "date")
QUESTION_WORDS = {"how", "what", "which", "why", "where", "when", "who", "can", "is", "are", "do", "does"}


@dataclass(frozen=True, slots=True)
class Column:
    """A catalog column the copy counts: ``name`` is the attribute name ("category" and "date" for the fields)."""

    name: str
    role: Role
    label: str


@dataclass(frozen=True, slots=True)
class CatalogProfile:
    columns: tuple[Column, ...]
    title_audiences: tuple[tuple[str, str], ...] = ()  # title word -> audience, when the titles name the audience

    def column(self, role: Role) -> Column | None:
        return next((c for c in self.columns if c.role == role), None)


@dataclass(frozen=True, slots=True)
class Fact:
    """One column over a collection's members: ``counts`` (value, items), most common first, at most
    ``FACT_VALUES``; ``more`` further values not listed; ``items`` members carrying a value. A year or date
    column has ``low`` / ``high`` instead of counts."""

    role: Role
    label: str
    counts: tuple[tuple[str, int], ...] = ()
    more: int = 0
    items: int = 0
    low: str = ""
    high: str = ""


@dataclass(frozen=True, slots=True)
class GuidePart:
    kind: str  # a category value ("" when the members have none)
    count: int  # members of that kind that satisfy the purpose
    colours: tuple[str, ...] = ()  # their most common colours
    every: bool = False  # every one of them has one of ``colours``


@dataclass(frozen=True, slots=True)
class Guide:
    """"For office wear (usage Formal): Shirts in navy and white (6) and Formal Shoes in black (4)." (a kind
    whose named colours do not cover all of it: "Animals (6), most often brown and grey")."""

    purpose: str
    usage: tuple[str, ...]  # the usage values the purpose implies and the members carry (else empty)
    parts: tuple[GuidePart, ...]
    text: str


@dataclass(frozen=True, slots=True)
class Section:
    question: str
    answer: str
    anchor: str = ""  # an alias line's id, when the question is an alias


@dataclass(frozen=True, slots=True)
class CollectionCopy:
    lead: str
    facts: tuple[Fact, ...]
    guide: Guide | None
    sections: tuple[Section, ...]
    sentences: tuple[str, ...]  # for the meta description, most important first
    extras: tuple[str, ...]  # further grounded sentences, to tell apart two pages that would read the same
    summary: str = ""  # the collection's own summary, when a topic source or plugin wrote one


# -- words -----------------------------------------------------------------------------------------------
def plural(n: int, word: str, many: str = "") -> str:
    return f"{n:,} {word if n == 1 else many or word + 's'}"


def join_and(parts: Sequence[str]) -> str:
    parts = list(parts)
    if not parts:
        return ""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def is_question(text: str) -> bool:
    words = text.strip().split()
    return bool(words) and (text.rstrip().endswith("?") or words[0].lower() in QUESTION_WORDS)


def as_question(text: str) -> str:
    text = " ".join(text.split())
    text = text[:1].upper() + text[1:]
    return text if text.endswith("?") else text + "?"


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def _top(counter: Counter, n: int) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0].casefold()))[:n]


# -- the catalog's columns -------------------------------------------------------------------------------
def role_of(name: str) -> Role | None:
    if is_colour_key(name):
        return "colour"
    key = _key(name)
    if key in ROLE_NAMES:
        return ROLE_NAMES[key]
    if key.endswith("_size") or key.startswith("size_"):
        return "size"
    return None


def _label(name: str) -> str:
    words = _key(name).replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def profile_catalog(items: Iterable[Item], audiences: Mapping[str, str] | None = None) -> CatalogProfile:
    """The columns the catalog's items carry, each with its role (see the module doc). ``audiences``: the
    lexicon's audience words (word -> audience, "" for none), used on titles when no audience column exists."""
    items = list(items)
    values: dict[str, set[str]] = {}
    chars: dict[str, int] = {}
    carried: Counter = Counter()
    order: list[str] = []
    has_category = has_date = False
    for item in items:
        has_category |= bool(item.category)
        has_date |= bool(item.date)
        for name, value in item.attributes:
            if name not in values:
                values[name], chars[name] = set(), 0
                order.append(name)
            if value.strip():
                values[name].add(value.strip())
                chars[name] += len(value.strip())
                carried[name] += 1
    columns: list[Column] = []
    if has_category:
        columns.append(Column("category", "category", LABELS["category"]))
    colour_names = [n for n in order if role_of(n) == "colour"]
    if colour_names:  # every colour column reads as one (core.text.colour_values)
        columns.append(Column(colour_names[0], "colour", LABELS["colour"]))
    taken = {"colour"}
    for name in order:
        role = role_of(name)
        if role == "colour" or not carried[name]:
            continue
        if role is None:
            n_values = len(values[name])
            if n_values > OTHER_MAX_VALUES or chars[name] / carried[name] > OTHER_MAX_CHARS \
                    or n_values > max(1, carried[name] // 2):
                continue  # free text or an identifier, not a column worth counting
            role = "other"
        elif role in taken:
            continue  # one column per role (the first), any number of "other" ones
        else:
            taken.add(role)
        columns.append(Column(name, role, _label(name) if role == "other" else LABELS[role]))
    if has_date:
        columns.append(Column("date", "date", LABELS["date"]))
    title_audiences: tuple[tuple[str, str], ...] = ()
    if "audience" not in taken and audiences and items:
        words = {w: a for w, a in audiences.items() if a}
        naming = sum(1 for i in items if any(w in words for w in normalise(i.title).split()))
        if naming >= TITLE_AUDIENCE_SHARE * len(items):
            title_audiences = tuple(sorted(words.items()))
            columns.append(Column("title", "audience", LABELS["audience"]))
    columns.sort(key=lambda c: ROLE_ORDER.index(c.role))
    return CatalogProfile(tuple(columns), title_audiences)


def item_values(item: Item, column: Column, profile: CatalogProfile) -> list[str]:
    """The values ``item`` has in ``column``, de-duplicated, in catalog order."""
    if column.role == "category":
        out = [item.category] if item.category else []
    elif column.role == "colour":  # as the item page names them: the colour column, else the dominant pixel colour
        out = [v.lower() for v in colour_values(item, first_attribute=True)]
    elif column.role == "date":
        out = [item.date[:10]] if item.date else []
    elif column.role == "audience" and column.name == "title":
        words = dict(profile.title_audiences)
        out = [words[w] for w in normalise(item.title).split() if w in words]
    else:
        raw = item.attr(column.name).strip()
        out = [v for v in _SEPARATORS.split(raw) if v] if column.role in ("size", "season") else [raw] if raw else []
    return list(dict.fromkeys(" ".join(v.split()) for v in out))


# -- facts -----------------------------------------------------------------------------------------------
def facts(members: Sequence[Item], profile: CatalogProfile) -> tuple[Fact, ...]:
    out = []
    for column in profile.columns:
        counter: Counter = Counter()
        carrying = 0
        for item in members:
            vals = item_values(item, column, profile)
            carrying += bool(vals)
            counter.update(vals)
        if not counter:
            continue
        if column.role in _RANGES:
            out.append(Fact(column.role, column.label, items=carrying, low=min(counter), high=max(counter)))
            continue
        top = _top(counter, FACT_VALUES)
        out.append(Fact(column.role, column.label, tuple(top), len(counter) - len(top), carrying))
    return tuple(out)


def _fact(fs: Sequence[Fact], role: Role) -> Fact | None:
    return next((f for f in fs if f.role == role), None)


def _breakdown(f: Fact, n: int) -> str:
    """"9 Formal Shoes and 3 Casual Shoes", "4 Shirts, 2 Jeans and 3 in other categories"."""
    top = list(f.counts[:TOP])
    parts = [f"{c:,} {v}" for v, c in top]
    rest = n - sum(c for _, c in top)  # a member has at most one category
    if rest > 0:
        parts.append("1 in another category" if rest == 1 else f"{rest:,} in other categories")
    return join_and(parts)


def _counted(f: Fact) -> str:
    """"red (5), beige (1) and white (1)"."""
    return join_and([f"{v} ({c:,})" for v, c in f.counts[:TOP]])


def fact_sentence(f: Fact, n: int) -> str:
    """One sentence for a fact, for descriptions and answers."""
    if f.role in _RANGES:
        what = "Dated" if f.role == "date" else "From"
        span = f.low if f.low == f.high else f"{f.low} to {f.high}"
        return f"{what} {span}." if f.items == n else f"{f.items:,} of them dated {span}." if f.role == "date" \
            else f"{f.items:,} of them from {span}."
    if f.role == "colour":
        if f.counts[0][1] > 1 or len(f.counts) == 1:
            return f"Most common colour{'s' if len(f.counts) > 1 else ''}: {_counted(f)}."
        return f"In {plural(len(f.counts) + f.more, 'colour')}: {join_and([v for v, _ in f.counts[:TOP]])}" \
               f"{' and more' if len(f.counts) + f.more > TOP else ''}."
    return f"{f.label}: {_counted(f)}."


# -- the lead --------------------------------------------------------------------------------------------
def _whom(f: Fact | None, n: int) -> str:
    if f is None:
        return ""
    if len(f.counts) == 1 and f.counts[0][1] == n:
        return f", all for {f.counts[0][0]}"
    return ", for " + join_and([f"{v} ({c:,})" for v, c in f.counts[:TOP]])


def lead(topic: str, members: Sequence[Item], fs: Sequence[Fact]) -> str:
    """'12 images for “black formal shoes”: 9 Formal Shoes and 3 Casual Shoes, all for men.'"""
    n = len(members)
    topic = " ".join(str(topic).split())
    head = f"{plural(n, 'image')} for \u201c{topic}\u201d" if topic else plural(n, "image")
    cat = _fact(fs, "category")
    if cat and len(cat.counts) == 1 and cat.counts[0][1] == n:
        text = f"{head}, all in {cat.counts[0][0]}"
    elif cat:
        text = f"{head}: {_breakdown(cat, n)}"
    else:
        text = head
    return text + _whom(_fact(fs, "audience"), n) + "."


# -- the use-case guide ----------------------------------------------------------------------------------
def purpose_of(topic: str) -> str:
    """The purpose a use-case topic names: the words after its last "for" ("formal shirts for office wear" ->
    "office wear"), else the whole topic in quotes ("“how to style bags”")."""
    words = " ".join(topic.split())
    at = words.lower().rfind(" for ")
    return words[at + 5:] if at >= 0 and words[at + 5:].strip() else f"\u201c{words}\u201d"


def implied_usages(topic: str, implies: Mapping[str, Sequence[str]]) -> set[str]:
    """The usage values the occasions named in ``topic`` imply (lowercase): "shirts for the office" -> {formal}."""
    text = f" {normalise(topic)} "
    out: set[str] = set()
    for phrase, vals in implies.items():
        if f" {normalise(phrase)} " in text:
            out.update(v.lower() for v in vals)
    return out


def guide(topic: str, members: Sequence[Item], profile: CatalogProfile,
          implies: Mapping[str, Sequence[str]] | None = None) -> Guide | None:
    """The kinds and colours of the members that satisfy the topic's purpose (see the module doc)."""
    purpose = purpose_of(topic)
    usage_col = profile.column("usage")
    chosen = list(members)
    usage: tuple[str, ...] = ()
    wanted = implied_usages(topic, implies or {}) if usage_col else set()
    if wanted:
        fitting = [m for m in members if any(v.lower() in wanted for v in item_values(m, usage_col, profile))]
        if fitting:
            chosen = fitting
            usage = tuple(dict.fromkeys(v for m in fitting for v in item_values(m, usage_col, profile)
                                        if v.lower() in wanted))
    cat_col, colour_col = profile.column("category"), profile.column("colour")
    kinds: dict[str, list[Item]] = {}
    for m in chosen:
        kind = (item_values(m, cat_col, profile) or [""])[0] if cat_col else ""
        kinds.setdefault(kind, []).append(m)
    if not colour_col and len(kinds) < 2:
        return None  # nothing beyond the lead to say
    parts = []
    for kind, its in sorted(kinds.items(), key=lambda kv: (-len(kv[1]), kv[0].casefold()))[:GUIDE_KINDS]:
        colours: Counter = Counter()
        for m in its:
            colours.update(item_values(m, colour_col, profile) if colour_col else [])
        top = tuple(v for v, _ in _top(colours, 2))
        every = bool(top) and all(set(item_values(m, colour_col, profile)) & set(top) for m in its)
        parts.append(GuidePart(kind, len(its), top, every))
    phrases = []
    for p in parts:
        what = p.kind or "images"
        if p.colours and p.every:
            phrases.append(f"{what} in {join_and(p.colours)} ({p.count:,})")
        elif p.colours:
            phrases.append(f"{what} ({p.count:,}), most often {join_and(p.colours)}")
        else:
            phrases.append(f"{what} ({p.count:,})")
    where = f" ({usage_col.label.lower()} {join_and(usage)})" if usage else ""
    listed = join_and(phrases) if not any("," in x for x in phrases) else \
        "; ".join(phrases[:-1]) + "; and " + phrases[-1] if len(phrases) > 1 else phrases[0]
    text = f"For {purpose}{where}: {listed}."
    return Guide(purpose, usage, tuple(parts), text[:1].upper() + text[1:])


# -- sections --------------------------------------------------------------------------------------------
def _answer(members: Sequence[Item], fs: Sequence[Fact], n_page: int) -> str:
    """'4 of these 12 images: 3 Shirts and 1 Jeans. Most common colour: navy (3).'"""
    n = len(members)
    cat = _fact(fs, "category")
    head = f"{n:,} of these {n_page:,} images" if n < n_page else f"All {n:,} images"
    if cat and len(cat.counts) == 1 and cat.counts[0][1] == n:
        first = f"{head} answer it, all in {cat.counts[0][0]}."
    elif cat:
        first = f"{head} answer it: {_breakdown(cat, n)}."
    else:
        first = f"{head} answer it."
    colour = _fact(fs, "colour")
    return first + (" " + fact_sentence(colour, n) if colour else "")


def sections(coll: Collection, members: Sequence[Item], profile: CatalogProfile, lead_text: str,
             guide_: Guide | None) -> tuple[Section, ...]:
    """A section per question-phrased topic on the page: the topic (answered by the lead and the guide), then
    each question-phrased alias (answered by the counts over the members relevant to it)."""
    out = []
    if is_question(coll.topic):
        out.append(Section(as_question(coll.topic), lead_text + (" " + guide_.text if guide_ else "")))
    by_id = {m.id: m for m in members}
    for alias in coll.aliases:
        if not is_question(alias.topic):
            continue
        its = [by_id[i] for i in alias.item_ids if i in by_id] or list(members)
        out.append(Section(as_question(alias.topic), _answer(its, facts(its, profile), len(members)), alias.anchor))
    return tuple(out)


# -- the whole copy --------------------------------------------------------------------------------------
def collection_copy(coll: Collection, members: Sequence[Item], profile: CatalogProfile,
                    implies: Mapping[str, Sequence[str]] | None = None, *, summary: str = "") -> CollectionCopy:
    """The copy of ``coll``'s page over its ``members`` (the catalog items of ``coll.item_ids``). ``summary``:
    the collection's own text, kept as written (after the lead) when a topic source or plugin supplied one."""
    fs = facts(members, profile)
    n = len(members)
    lead_text = lead(coll.topic, members, fs) if n else ""
    g = guide(coll.topic, members, profile, implies) if n and coll.category == "use_case" else None
    secs = sections(coll, members, profile, lead_text, g) if n else ()
    rest = [fact_sentence(f, n) for f in fs if f.role not in ("category", "audience")]
    summary = " ".join(summary.split())
    sentences = tuple(s for s in [lead_text, summary, *rest[:1], *(x.text for x in [g] if x), *rest[1:]] if s)
    extras = tuple(s for s in rest if s not in sentences[:2]) + (
        (f"{plural(n, 'image')} in {coll.hub}.",) if coll.hub else ())
    return CollectionCopy(lead_text, fs, g, secs, sentences, extras, summary)


def related_reason(members: Sequence[Item], other: Sequence[Item], profile: CatalogProfile,
                   hub: str = "", other_hub: str = "") -> str:
    """One line on what ``other`` (a related collection's members) shares with ``members``: the images in
    common, then the main value of the category, colour, audience and usage columns when it is the same in both
    and holds at least half of each ("6 images in common; both in Animals and mostly brown")."""
    ids = {m.id for m in members}
    shared = sum(1 for m in other if m.id in ids)
    ours, theirs = facts(members, profile), facts(other, profile)
    both = []
    for role, form in (("category", "in {}"), ("colour", "mostly {}"), ("audience", "for {}"),
                       ("usage", "for {} use")):
        a, b = _fact(ours, role), _fact(theirs, role)
        if not (a and b and a.counts and b.counts and a.counts[0][0] == b.counts[0][0]):
            continue
        if 2 * a.counts[0][1] >= len(members) and 2 * b.counts[0][1] >= len(other):
            value = a.counts[0][0]
            both.append(form.format(value.lower() if role == "usage" else value))
    said = [plural(shared, "image") + " in common"] if shared else []
    if both:
        said.append(("both " if said else "Both ") + join_and(both))
    if not said:
        said.append(f"A collection in {other_hub}" if other_hub and other_hub != hub else
                    f"Another collection in {hub}" if hub else plural(len(other), "image"))
    return "; ".join(said)
