"""The agent's deterministic policies: what it does with a trend when no LLM is configured, and whenever the
LLM's answer is unclear (it is never guessed).

- **Lifecycle** (``lifecycle_action``): emerging -> propose; seasonal -> propose when its next peak is within
  ``trends.lead_days`` (the lead window: pages need time to be approved, built and indexed before searchers
  come), reject while the peak is further away (the reason says from which day it will be proposed); peaking ->
  refresh when the site has its pages, else reject (too late for a new page); declining -> expire its pages
  (left to the page lifecycle), else reject; evergreen and unknown -> reject. A trend that already has
  approved pages is refreshed, not proposed again; one a person rejected is not proposed again for the same
  peak.
- **Domain** (``domain_verdict``): news, sports, politics, people's names and events are rejected when the
  trend's embedding is closer to the prototype descriptions of that domain (``domains.toml``) than to the
  catalog, by a margin.
- **Expansion** (``template_expansions``): attribute templates over the catalog values of the items that
  matched the trend (``Taxonomy``): "<term> for <audience>", "<colour> <term>", "<colour> <term> for
  <audience>", "<term> <category>".
- **Priority** (``priority``): the order in which candidates are expanded and proposed within
  ``trends.max_proposals``: catalog fit, plus a bonus for the planned focus and for the reward earlier pages of
  the trend earned relative to the site's average.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from importlib import resources
from typing import Sequence

from sitegen.core.models import Item, TrendStage
from sitegen.core.text import colour_values, match_words, topic_key

AUDIENCES = ("women", "men", "girls", "boys", "kids", "unisex")
_QUESTIONS = frozenset({"how", "what", "why", "where", "when", "who", "which", "can", "is", "does"})
_STOP = frozenset({"a", "an", "the", "for", "and", "of", "in", "on", "with", "to"})
_AUDIENCE_STEMS = {"women": "women", "men": "men", "girls": "girls", "boys": "boys", "kids": "kids",
                   "unisex": "unisex", "children": "kids"}  # match_words forms (the lexicon's genders table)


@dataclass(frozen=True)
class Domains:
    prototypes: dict[str, tuple[str, ...]]
    floor: float
    margin: float
    exemplars: tuple[tuple[str, tuple[str, ...]], ...]  # packaged few-shot examples


@lru_cache(maxsize=1)
def domains() -> Domains:
    """The packaged ``domains.toml``."""
    raw = tomllib.loads(resources.files("sitegen.demand.trends").joinpath("domains.toml").read_text("utf-8"))
    return Domains({k: tuple(v) for k, v in raw["domains"].items()}, float(raw["floor"]), float(raw["margin"]),
                   tuple((e["trend"], tuple(e["expansions"])) for e in raw.get("exemplar", [])))


# -- lifecycle --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class History:
    """What the memory says about one trend before this run."""

    approved: bool = False  # it has approved (published) pages
    pending: str = ""  # the date a still pending proposal was made
    rejected: str = ""  # the date a person rejected it ...
    rejected_peak: str = ""  # ... and the peak that proposal was for


def lifecycle_action(stage: TrendStage, today: date, lead_days: int, history: History = History()
                     ) -> tuple[str, str]:
    """(action, reason): action is ``propose``, ``refresh``, ``expire`` or ``reject``."""
    name = stage.stage
    has_pages = history.approved
    if name == "declining":
        if has_pages or history.pending:
            return "expire", f"declining{_since(stage)}: its pages are left to expire"
        return "reject", f"declining{_since(stage)}: too late for a page"
    if name == "peaking":
        if has_pages:
            return "refresh", "peaking: the site has its pages; refreshed"
        return "reject", "peaking now: too late for a new page (pages are made before the peak)"
    if name == "emerging":
        if has_pages:
            return "refresh", "emerging: the site has its pages; refreshed"
        return _proposable("emerging: rising interest" + (f" ({stage.reason})" if stage.reason else ""),
                           history, "")
    if name == "seasonal":
        peak = _iso(stage.next_peak)
        if peak is None:
            return "reject", "seasonal, but no next peak is known"
        days = (peak - today).days
        if days < 0:
            return "reject", f"seasonal: its peak {peak.isoformat()} has passed"
        if days > lead_days:
            opens = peak - timedelta(days=lead_days)
            return "reject", (f"seasonal: next peak {peak.isoformat()} is {days} days away; proposed from "
                              f"{opens.isoformat()} (trends.lead_days = {lead_days})")
        if has_pages:
            return "refresh", f"seasonal: next peak {peak.isoformat()} in {days} days; the site has its pages"
        return _proposable(f"seasonal: next peak {peak.isoformat()} in {days} days (lead window {lead_days} days)",
                           history, peak.isoformat())
    if name == "evergreen":
        return "reject", "evergreen: steady interest, served by the catalog's own topics"
    return "reject", f"no lifecycle stage{': ' + stage.reason if stage.reason else ''}"


def _proposable(reason: str, history: History, peak: str) -> tuple[str, str]:
    if history.rejected and (not peak or history.rejected_peak == peak):
        return "reject", f"rejected in review on {history.rejected[:10]}" + (f" for the peak {peak}" if peak else "")
    return "propose", reason


def _since(stage: TrendStage) -> str:
    return f" since its peak {stage.peak}" if stage.peak else ""


def _iso(text: str) -> date | None:
    try:
        return date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def next_from_calendar(peak: str, today: date) -> date:
    """The next occurrence of a typical peak (``MM-DD``) on or after ``today``."""
    month, day = int(peak[:2]), int(peak[3:5])

    def on(year: int) -> date:
        try:
            return date(year, month, day)
        except ValueError:  # 29 February
            return date(year, month, 28)

    this = on(today.year)
    return this if this >= today else on(today.year + 1)


def remembered_stage(peak: str, today: date) -> TrendStage:
    """The stage a remembered typical peak (``MM-DD``) gives a trend whose own files give none."""
    nxt = next_from_calendar(peak, today)
    return TrendStage("seasonal", f"typical peak {peak} (remembered)", peak=f"{nxt.year}-{peak}",
                      next_peak=nxt.isoformat())


# -- domains ----------------------------------------------------------------------------------------------

def domain_verdict(fit: float, domain_sims: dict[str, float], d: Domains | None = None) -> tuple[str, str]:
    """(domain, reason) when the trend belongs to a rejected domain, else ("", "")."""
    d = d or domains()
    if not domain_sims:
        return "", ""
    name = max(sorted(domain_sims), key=lambda k: domain_sims[k])
    sim = domain_sims[name]
    if sim >= d.floor and sim >= fit + d.margin:
        return name, f"{name}: closer to {name} searches ({sim:.2f}) than to the catalog ({fit:.2f})"
    return "", ""


# -- taxonomy and templates --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Taxonomy:
    """The catalog values of the items that matched a trend, most frequent first."""

    categories: tuple[str, ...] = ()
    colours: tuple[str, ...] = ()
    audiences: tuple[str, ...] = ()
    extra: dict[str, tuple[str, ...]] = field(default_factory=dict)  # other attribute -> values
    named: bool = False  # the trend's words name the items (their titles or categories hold them all)

    def lines(self) -> list[str]:
        out = []
        for name, values in (("categories", self.categories), ("colours", self.colours),
                             ("audiences", self.audiences), *sorted(self.extra.items())):
            if values:
                out.append(f"{name}: {', '.join(values)}")
        return out


def taxonomy_of(items: Sequence[Item], *, top: int = 4, term: str = "") -> Taxonomy:
    """The categories, colours, audiences (gender words of the titles and attributes) and other attribute
    values of ``items``; ``named``: most of them hold every word of ``term`` in their title or category."""
    cats: Counter[str] = Counter()
    colours: Counter[str] = Counter()
    audiences: Counter[str] = Counter()
    extra: dict[str, Counter[str]] = {}
    for item in items:
        if item.category:
            cats[item.category] += 1
        for c in colour_values(item, first_attribute=True)[:1]:
            colours[c.lower()] += 1
        words = set(match_words(" ".join([item.title, *(v for _, v in item.attributes)])))
        for w in sorted(words):
            if w in _AUDIENCE_STEMS:
                audiences[_AUDIENCE_STEMS[w]] += 1
        for k, v in item.attributes:
            if not any(c in k.lower() for c in ("colour", "color")) and v and len(v) <= 40:
                extra.setdefault(k, Counter())[v] += 1

    def best(counter: Counter[str]) -> tuple[str, ...]:
        return tuple(v for v, _ in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:top])

    wanted = set(match_words(term)) - _STOP
    named = bool(wanted) and sum(wanted <= set(match_words(f"{i.title} {i.category}")) for i in items) * 2 > len(items)
    return Taxonomy(best(cats), best(colours), best(audiences),
                    {k: best(c) for k, c in sorted(extra.items()) if len(c) > 1 or len(items) < 3}, named)


def template_expansions(term: str, taxonomy: Taxonomy, limit: int = 12) -> list[str]:
    """Attribute-template expansions of ``term`` (the term itself first), de-duplicated by topic key."""
    term = " ".join(term.lower().split())
    if term.split()[0] in _QUESTIONS:  # "how to wear a saree": a question is its own page, not qualified
        return [term]
    words = set(match_words(term))
    # a term that names an audience or a colour already is not qualified by another one
    aud = [] if words & set(_AUDIENCE_STEMS) else [a for a in taxonomy.audiences if a != "unisex"][:2]
    col = [] if any(set(match_words(c)) <= words for c in taxonomy.colours) else list(taxonomy.colours[:2])
    cats = [c.lower() for c in taxonomy.categories if not set(match_words(c)) & words][:2]
    out = [term]
    out += [f"{term} for {a}" for a in aud]
    if col and aud:
        out.append(f"{col[0]} {term} for {aud[0]}")
    out += [f"{c} {term}" for c in col]
    if not taxonomy.named:  # a season, an occasion, a style: it qualifies the catalog's kinds of item
        out += [f"{term} {c}" for c in cats]
    if col and len(aud) > 1:
        out.append(f"{col[0]} {term} for {aud[1]}")
    seen: set[str] = set()
    unique = []
    for text in out:
        key = topic_key(text)
        if key and key not in seen:
            seen.add(key)
            unique.append(text)
    return unique[:limit]


# -- priority ---------------------------------------------------------------------------------------------

def priority(fit: float, focus: float = 0.0, reward_ratio: float | None = None) -> float:
    """Order of candidates: the catalog fit, + 0.1 x the similarity to the plan's focus, + 0.1 x (the reward
    the trend's earlier pages earned / the average reward - 1, within [-1, 1])."""
    bonus = 0.0 if reward_ratio is None else 0.1 * max(-1.0, min(1.0, reward_ratio - 1.0))
    return round(fit + 0.1 * focus + bonus, 6)
