"""Page titles and meta descriptions as text: cleaning, clipping at a word, cutting at the strongest boundary,
composing descriptions of whole sentences within 155 characters, and making them unique across a site. Pure
string functions (and the page-plan labels that tell two same-titled pages apart, the OpenGraph locale, a file
size for people); the render stage (``render.py``) chooses what each page says."""

from __future__ import annotations

import re

TITLE_MAX = 60
DESCRIPTION_MIN, DESCRIPTION_MAX = 70, 155


def clean(text: str) -> str:
    return " ".join(str(text).split())


def clip(text: str, limit: int) -> str:
    """Cut ``text`` to at most ``limit`` characters at a word boundary, adding an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.-–|") + "…"


def sentence(text: str) -> str:
    text = clean(text)
    return text if not text or text[-1] in ".!?…" else text + "."


def capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def join_words(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")
_SENTENCES = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\u201c\"(])")
_STRONG_BREAKS = ("; ", ": ", " \u2013 ", " \u2014 ", " - ")
_WEAK_BREAKS = (", ", " (")


def fit(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at the strongest boundary that keeps at least half of it:
    the end of a sentence, else a clause (``;``, ``:``, a dash), else a phrase (a comma, a parenthesis), closed
    with a full stop; then the end of a shorter sentence; only a text with none of these is cut at a word, with
    an ellipsis."""
    text = clean(text)
    if len(text) <= limit:
        return text
    ends = [m.end() for m in _SENTENCE_END.finditer(text) if m.end() <= limit]
    if ends and ends[-1] >= limit // 2:
        return text[: ends[-1]]
    head = text[: limit - 1]  # room for the full stop
    for breaks in (_STRONG_BREAKS, _WEAK_BREAKS):
        at = max(head.rfind(b) for b in breaks)
        if at >= limit // 2:
            return head[:at].rstrip(" ,;:.-\u2013\u2014(") + "."
    if ends:  # a short whole sentence still beats a cut one
        return text[: ends[-1]]
    return clip(text, limit)


def sentences_of(text: str) -> list[str]:
    """``text`` split into its sentences (a full stop, question or exclamation mark before a capital or digit)."""
    text = clean(text)
    return [s for s in _SENTENCES.split(text) if s] if text else []


def compose(parts: list[str], pad: list[str] = (), limit: int = DESCRIPTION_MAX, tail: list[str] = ()) -> str:
    """A description of whole sentences: each part's sentences in order while they fit in ``limit`` (a part
    stops at its first sentence that does not fit; the first sentence alone, when too long, is cut by ``fit``),
    then ``pad`` sentences while the text is shorter than the minimum; ``tail`` sentences always close it (the
    facts that tell two pages apart)."""
    tail_text = " ".join(clean(t) for t in tail if clean(t))
    room = limit - (len(tail_text) + 1 if tail_text else 0)
    out = ""
    for part in parts:
        for sent in sentences_of(part):
            candidate = f"{out} {sent}".strip()
            if len(candidate) <= room:
                out = candidate
            elif not out:
                out = fit(sent, room)
            else:
                break
    for part in pad:
        if len(out) + len(tail_text) >= DESCRIPTION_MIN:
            break
        candidate = f"{out} {clean(part)}".strip()
        if len(candidate) <= room:
            out = candidate
    return f"{out} {tail_text}".strip()


def title_tag(name: str, site_title: str, suffix: str = "") -> str:
    """``name + suffix + " | " + site title``, the name clipped at a word so the whole stays ≲ 60 chars."""
    tail = f" | {site_title}" if site_title and name != site_title else ""
    if TITLE_MAX - len(tail) - len(suffix) < 25:  # a long site name: the page's own words matter more
        tail = ""
    return clip(name, max(TITLE_MAX - len(tail) - len(suffix), 20)) + suffix + tail


def unique_descriptions(descs: dict[str, str], sources: dict[str, tuple[list[str], list[str], list[str]]]) -> None:
    """Make ``descs`` (path -> description) unique, compared case-insensitively as search engines do: every page
    of a group that reads the same gets the first of its grounded extras (``sources``: path -> (sentences, pad,
    extras)) that makes it unique, then its extras together, and last its own path; the description is composed
    again around that tail, so it stays whole sentences within the limit."""
    counts: dict[str, int] = {}
    for d in descs.values():
        counts[d.casefold()] = counts.get(d.casefold(), 0) + 1
    used = set(counts)
    for path in sorted(p for p, d in descs.items() if counts[d.casefold()] > 1):
        parts, pad, extras = sources[path]
        tails = [[e] for e in extras] + [extras[:k] for k in range(2, len(extras) + 1)] + [[f"Page {path}."]]
        for tail in tails:
            candidate = compose(parts, pad, tail=tail)
            if candidate.casefold() not in used:
                break
        used.add(candidate.casefold())
        descs[path] = candidate


def og_locale(locale: str, language: str) -> str:
    """``site.locale``, else the language tag written the OpenGraph way ("en-GB" -> "en_GB")."""
    if locale:
        return locale
    parts = language.replace("_", "-").split("-")
    return parts[0].lower() + (f"_{parts[-1].upper()}" if len(parts) > 1 and len(parts[-1]) == 2 else "")


def file_size(n: int) -> str:
    """A file size for people: "850 bytes", "12 KB", "3.4 MB" (1 KB = 1,000 bytes)."""
    if n < 1000:
        return f"{n:,} bytes"
    if n < 1_000_000:
        return f"{round(n / 1000):,} KB"
    return f"{n / 1_000_000:.1f} MB"


def duplicates(values: dict[str, str], raw: dict[str, tuple]) -> dict[str, tuple[bool, str]]:
    """For every value shared by several pages (compared case-insensitively, as search engines do): path ->
    (is an item id, label) that tells them apart: the item id when it is short, the image count for a
    collection, else a running number in path order."""
    groups: dict[str, list[str]] = {}
    for path, value in values.items():
        groups.setdefault(value.casefold(), []).append(path)
    out: dict[str, tuple[bool, str]] = {}
    for paths in groups.values():
        if len(paths) < 2:
            continue
        collections = sum(1 for p in paths if raw[p][0].kind == "collection")
        for n, path in enumerate(sorted(paths), start=1):
            page = raw[path][0]
            key = clean(page.key)
            if page.kind == "item" and 0 < len(key) <= 16:
                out[path] = (True, key)
            elif page.kind == "collection" and collections == 1:
                out[path] = (True, f"{len(page.items)} images")
            else:
                out[path] = (False, str(n))
    return out
