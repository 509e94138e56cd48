"""Robust parsing of what a VLM actually writes, and the query-category heuristic.

``parse_queries`` accepts, in order of preference:

- strict JSON: a list of ``{"query", "category"}`` objects (also ``text`` / ``q`` / ``type`` keys), a list of
  strings, an object with a ``"queries"`` list, or an object mapping category -> list of strings;
- the same inside a Markdown code fence, with trailing commas, with single quotes (Python literals);
- truncated JSON (the generation hit the token limit): every complete object is recovered;
- plain lists: numbered or bulleted lines (``1. red apple (description)``), lines tagged
  ``[style] sage green look`` / ``style: sage green look`` / ``... - use case``, and category headings
  (``Style queries:``) that apply to the lines below them.

Categories are normalised (``"use case"``, ``"use-case"``, ``"intent"`` -> ``use_case``; ``"detail"``,
``"attribute"`` -> ``style``); a missing or unknown category is inferred with :func:`classify_query`.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from typing import Any

from sitegen.core.lexicon import english
from sitegen.core.models import QueryCategory

MAX_QUERY_CHARS = 200

_CATEGORY_ALIASES: dict[str, QueryCategory] = {
    "description": "description", "descriptions": "description", "desc": "description", "descriptive": "description",
    "entity": "description", "object": "description", "subject": "description", "what": "description",
    "content": "description", "caption": "description",
    "style": "style", "styles": "style", "detail": "style", "details": "style", "attribute": "style",
    "attributes": "style", "aesthetic": "style", "visual": "style", "look": "style", "style detail": "style",
    "use case": "use_case", "use cases": "use_case", "usecase": "use_case", "usecases": "use_case",
    "use": "use_case", "intent": "use_case", "intents": "use_case", "purpose": "use_case",
    "occasion": "use_case", "application": "use_case", "use case intent": "use_case",
}

# words and phrases (matched on whole words) that make a query a use case / style query: sitegen/lexicons/en.toml
USE_CASE_WORDS = frozenset(english().use_case_words)
USE_CASE_PHRASES = english().use_case_phrases
STYLE_WORDS = frozenset(english().style_words)
STYLE_PHRASES = english().style_phrases

_WORD_RE = re.compile(r"[a-z0-9][a-z0-9'\-]*")


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    text: str
    category: QueryCategory
    inferred: bool = False  # category came from classify_query, not from the model


def classify_query(text: str) -> QueryCategory:
    """A simple, deterministic category heuristic: ``use_case`` when the query names an intent (ideas, for, gift,
    decor, outfits, party, wedding, office, kids, classroom, how to, diy, inspiration, wallpaper, poster,
    worksheet ...), else ``style`` when it names a colour, material, pattern or style (vintage, minimalist,
    cartoon, watercolor, outline, black and white, aesthetic, look, style ...), else ``description``."""
    low = " ".join(text.lower().split())
    words = set(_WORD_RE.findall(low))
    padded = f" {low} "
    if words & USE_CASE_WORDS or any(f" {p} " in padded for p in USE_CASE_PHRASES):
        return "use_case"
    if words & STYLE_WORDS or any(f" {p} " in padded for p in STYLE_PHRASES):
        return "style"
    return "description"


def normalize_category(name: Any) -> QueryCategory | None:
    """Map a model's category label to one of the three categories; None when it is not recognisable."""
    if not isinstance(name, str):
        return None
    key = re.sub(r"[\s_\-]+", " ", name.strip().lower().strip("*`'\"[]()#:")).strip()
    if not key:
        return None
    if key in _CATEGORY_ALIASES:
        return _CATEGORY_ALIASES[key]
    for part in re.split(r"\s*[/|,&]\s*|\s+and\s+|\s+or\s+", key):
        if part in _CATEGORY_ALIASES:
            return _CATEGORY_ALIASES[part]
    words = key.split()
    if "intent" in words or ("use" in words and ("case" in words or "cases" in words)) or key.startswith("usecase"):
        return "use_case"
    if any(w.startswith(("style", "detail", "attribute", "aesthetic")) for w in words):
        return "style"
    if any(w.startswith(("descri", "entity")) for w in words):
        return "description"
    return None


def parse_queries(raw: str) -> list[ParsedQuery]:
    """All queries found in ``raw``, de-duplicated (case-insensitive), in the model's order. [] when nothing
    usable is found."""
    if not raw or not raw.strip():
        return []
    text = _strip_fences(raw.strip())
    data = _load_json(text)
    pairs: list[tuple[str, Any]] = []
    if data is not None:
        pairs = _from_structure(data)
    if not pairs:
        pairs = _recover_truncated(text)
    if not pairs:
        pairs = _from_lines(text)
    return _finish(pairs)


# -- JSON ------------------------------------------------------------------------------------------------
_FENCE_RE = re.compile(r"```[a-zA-Z0-9_-]*[ \t]*\n?(.*?)(?:```|$)", re.DOTALL)


def _strip_fences(text: str) -> str:
    match = _FENCE_RE.search(text)
    if match and match.group(1).strip():
        return match.group(1).strip()
    return text


_TRAILING_COMMA_RE = re.compile(r",\s*([\]}])")


def _load_json(text: str) -> Any:
    candidates = [text]
    start = _first_bracket(text)
    if start > 0:
        candidates.append(text[start:])
    for cand in candidates:
        end = max(cand.rfind("]"), cand.rfind("}"))
        variants = [cand] if end < 0 else [cand, cand[: end + 1]]
        for v in variants:
            for attempt in (v, _TRAILING_COMMA_RE.sub(r"\1", v)):
                try:
                    return json.loads(attempt)
                except ValueError:
                    pass
                try:  # single quotes / Python literals
                    value = ast.literal_eval(attempt)
                    if isinstance(value, (list, dict, tuple)):
                        return value
                except (ValueError, SyntaxError, MemoryError, RecursionError):
                    pass
    return None


def _first_bracket(text: str) -> int:
    positions = [p for p in (text.find("["), text.find("{")) if p >= 0]
    return min(positions) if positions else -1


_TEXT_KEYS = ("query", "text", "q", "search_query", "search", "keyword", "term")
_CAT_KEYS = ("category", "type", "cat", "kind", "label")


def _from_structure(data: Any) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    if isinstance(data, dict):
        for key in ("queries", "search_queries", "results", "items", "data"):
            if isinstance(data.get(key), (list, dict)):
                return _from_structure(data[key])
        text = _text_of(data)
        if text:
            return [(text, _cat_of(data))]
        for key, value in data.items():  # {"description": [...], "style": [...]}
            cat = normalize_category(key)
            if cat is None:
                continue
            values = value if isinstance(value, (list, tuple)) else [value]
            for v in values:
                if isinstance(v, str):
                    out.append((v, cat))
                elif isinstance(v, dict) and _text_of(v):
                    out.append((_text_of(v), _cat_of(v) or cat))
        return out
    if isinstance(data, (list, tuple)):
        for entry in data:
            if isinstance(entry, str):
                out.append(_split_tag(entry))
            elif isinstance(entry, dict):
                text = _text_of(entry)
                if text:
                    out.append((text, _cat_of(entry)))
                else:
                    out.extend(_from_structure(entry))
            elif isinstance(entry, (list, tuple)) and entry and isinstance(entry[0], str):
                out.append((entry[0], entry[1] if len(entry) > 1 else None))
    return out


def _text_of(obj: dict) -> str:
    for key in _TEXT_KEYS:
        value = obj.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return ""


def _cat_of(obj: dict) -> Any:
    for key in _CAT_KEYS:
        if key in obj:
            return obj[key]
    return None


def _recover_truncated(text: str) -> list[tuple[str, Any]]:
    """Complete innermost ``{...}`` objects, or complete strings of an unterminated ``[...`` list."""
    start = _first_bracket(text)
    if start < 0:
        return []
    body = text[start:]
    objects = _leaf_objects(body)
    out: list[tuple[str, Any]] = []
    for obj_text in objects:
        value = _load_json(obj_text)
        if isinstance(value, dict) and _text_of(value):
            out.append((_text_of(value), _cat_of(value)))
    if out or not body.startswith("["):
        return out
    for match in re.finditer(r"\"((?:[^\"\\]|\\.)*)\"\s*(?=[,\]])|'((?:[^'\\]|\\.)*)'\s*(?=[,\]])", body):
        value = match.group(1) if match.group(1) is not None else match.group(2)
        try:
            value = json.loads(f'"{value}"') if match.group(1) is not None else value
        except ValueError:
            pass
        out.append(_split_tag(value))
    return out


def _leaf_objects(text: str) -> list[str]:
    """Substrings ``{...}`` that close and contain no nested object, honouring quoted strings."""
    found: list[str] = []
    stack: list[int] = []
    has_child: list[bool] = []
    quote = ""
    escape = False
    for i, ch in enumerate(text):
        if quote:
            if escape:
                escape = False
            elif ch == "\\":
                escape = True
            elif ch == quote:
                quote = ""
            continue
        if ch in "\"'":
            # an apostrophe inside a word (women's) is not a quote
            if ch == "'" and i > 0 and text[i - 1].isalnum() and i + 1 < len(text) and text[i + 1].isalnum():
                continue
            quote = ch
        elif ch == "{":
            if has_child:
                has_child[-1] = True
            stack.append(i)
            has_child.append(False)
        elif ch == "}" and stack:
            begin = stack.pop()
            child = has_child.pop()
            if not child:
                found.append(text[begin: i + 1])
    return found


# -- plain text lists ------------------------------------------------------------------------------------
_BULLET_RE = re.compile(r"^\s*(?:[-*•·+]|\d{1,2}\s*[.)\]:-]|\(\d{1,2}\)|[a-z]\))\s+", re.IGNORECASE)
_LEAD_TAG_RE = re.compile(r"^[\[(]\s*([A-Za-z][A-Za-z _/\-]{1,30}?)\s*[\])]\s*[:\-–—]?\s*(.+)$")
_TRAIL_TAG_RE = re.compile(r"^(.+?)\s*[\[(]\s*([A-Za-z][A-Za-z _/\-]{1,30}?)\s*[\])]\s*[.,;]?$")
_LABEL_RE = re.compile(r"^([A-Za-z][A-Za-z _/\-]{1,30}?)\s*:\s*(.+)$")
_DASH_TAG_RE = re.compile(r"^(.+?)\s+(?:[-–—|]|::)\s+([A-Za-z][A-Za-z _/\-]{1,30})$")


def _split_tag(line: str) -> tuple[str, Any]:
    """('[style] sage green look') -> ('sage green look', 'style'); untagged text is returned as is."""
    line = line.strip().replace("**", "").replace("__", "").strip()
    for regex, text_group, tag_group in ((_LEAD_TAG_RE, 2, 1), (_TRAIL_TAG_RE, 1, 2), (_LABEL_RE, 2, 1),
                                         (_DASH_TAG_RE, 1, 2)):
        match = regex.match(line)
        if match and normalize_category(match.group(tag_group)):
            return match.group(text_group), normalize_category(match.group(tag_group))
    return line, None


def _from_lines(text: str) -> list[tuple[str, Any]]:
    marked: list[tuple[str, Any]] = []
    unmarked: list[tuple[str, Any]] = []
    current: QueryCategory | None = None
    for raw_line in text.splitlines():
        line = raw_line.strip().strip("`")
        if not line:
            continue
        bare = _BULLET_RE.sub("", line).replace("**", "").replace("__", "").strip().lstrip("#").strip()
        if bare.endswith(":") and len(bare.split()) <= 6:  # a heading: "Style queries:"
            heading = re.sub(r"\b(queries|query|searches|search|terms|keywords)\b", " ", bare[:-1], flags=re.IGNORECASE)
            current = normalize_category(heading) or current
            continue
        if bare.startswith("#"):
            continue
        has_bullet = bool(_BULLET_RE.match(line))
        query, tag = _split_tag(bare)
        if tag is None and current is not None:
            tag = current
        if has_bullet or tag is not None:
            marked.append((query, tag))
        elif len(query.split()) <= 10 and not query.endswith((".", ":")) and _looks_like_query(query):
            unmarked.append((query, tag))
    # bare lines with no list marker or tag count only as a list (two or more query-like lines)
    return marked or (unmarked if len(unmarked) >= 2 else [])


# -- clean up --------------------------------------------------------------------------------------------
def _looks_like_query(text: str) -> bool:
    """Mostly letters, digits and spaces; no control or replacement characters (model garbage)."""
    if any((ord(ch) < 32 and ch not in "\t") or ch == "\ufffd" for ch in text):
        return False
    good = sum(1 for ch in text if ch.isalnum() or ch in " '&-")
    return good >= 0.8 * len(text) and re.search(r"[^\W\d_]{2,}", text) is not None


def _clean_text(text: Any) -> str:
    if not isinstance(text, str):
        return ""
    text = " ".join(text.replace("\\n", " ").split())
    text = text.strip().strip("\"'`“”‘’").strip()
    text = re.sub(r"^[#*\-•\s]+", "", text)
    text = text.rstrip(".,;:!").strip()
    return text


def _finish(pairs: list[tuple[str, Any]]) -> list[ParsedQuery]:
    seen: set[str] = set()
    out: list[ParsedQuery] = []
    for raw_text, raw_cat in pairs:
        text = _clean_text(raw_text)
        if not text or len(text) > MAX_QUERY_CHARS or not _looks_like_query(text):
            continue
        if isinstance(raw_cat, str) and raw_cat in ("description", "style", "use_case"):
            cat: QueryCategory | None = raw_cat  # type: ignore[assignment]
        else:
            cat = normalize_category(raw_cat)
        inferred = cat is None
        key = text.lower()
        if key in seen:
            continue
        seen.add(key)
        out.append(ParsedQuery(text, cat if cat is not None else classify_query(text), inferred))
    return out
