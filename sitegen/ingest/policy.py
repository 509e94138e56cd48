"""The input policy for catalog text: one set of checks for every value that can reach a page.

Every text value of a row (id, title, description, keywords, category, every attribute column and its name)
goes through ``check_text``: length, control characters (C0 but tab and newline, DEL, C1), bidirectional
controls (embeddings, overrides and isolates: U+202A-U+202E, U+2066-U+2069, which reorder what a reader
sees), and markup. ``cell_text`` turns a cell into text and refuses values of the wrong type (a list or a
struct where text is expected) with ``bad_type`` instead of stringifying them. ``visible`` tells text that
shows something from text made only of whitespace and invisible characters (zero-width spaces, joiners,
soft hyphens, fillers), so an invisible-only title is a ``missing_title``.
"""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import date, datetime
from typing import Any

from sitegen.ingest.images import _show

__all__ = ["Reject", "cell_text", "check_text", "visible", "trim", "nfc", "keyword_list", "category_key",
           "DIRTY", "SURROGATE"]

_MARKUP = re.compile(r"<\s*/?\s*[a-zA-Z!?][^>]*>")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0 (but tab, newline), DEL, C1
_CONTROL_STRICT = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # id and title: no tab or newline either
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")  # embeddings, overrides, isolates
SURROGATE = re.compile(r"[\ud800-\udfff]")
# one pass over a row: anything to look at? (controls, "<", surrogates, bidi controls)
DIRTY = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f<\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
# characters that show nothing on their own besides whitespace and format (Cf) characters
_BLANK = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u180e\u2800\u3164\uffa0")


class Reject(Exception):
    """A row is rejected: ``reason`` is one of the documented codes, ``detail`` one line for people."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a struct"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"a {type(value).__name__}"


def cell_text(value: Any, name: str) -> str | None:
    """A scalar catalog cell as a string ("" for null / NaN); None for bytes (an image column's business).
    A list or struct raises ``Reject("bad_type")``: such values are never stringified into a page."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return None
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, tuple, dict)):
        shown = _show(json.dumps(value, ensure_ascii=False, default=str), 40)
        raise Reject("bad_type", f"{name} is {_kind(value)} ({shown}), expected text")
    return str(value)


def nfc(s: str) -> str:
    return s if s.isascii() else unicodedata.normalize("NFC", s)


def _invisible(c: str) -> bool:
    return c.isspace() or c in _BLANK or unicodedata.category(c) == "Cf"


def visible(s: str) -> bool:
    """True when ``s`` shows at least one character (not only whitespace, format or filler characters)."""
    if s.isascii():
        return bool(s.strip())
    return any(not _invisible(c) for c in s)


def trim(s: str) -> str:
    """``s`` without leading / trailing whitespace and invisible characters."""
    s = s.strip()
    if s.isascii():
        return s
    start, end = 0, len(s)
    while start < end and _invisible(s[start]):
        start += 1
    while end > start and _invisible(s[end - 1]):
        end -= 1
    return s[start:end]


def check_text(name: str, value: str, max_chars: int, *, strict: bool = False, markup: bool = True,
               clean: bool = False) -> None:
    """too_long, control_chars (controls and bidi controls), markup. ``clean`` says the row holds none of
    the characters these checks look for (``DIRTY`` found nothing), so only the length is checked."""
    if len(value) > max_chars:
        key = "" if name == "id" else " (catalog.max_field_chars)"
        raise Reject("too_long", f"{name} is {len(value)} characters, more than {max_chars}{key}")
    if clean and not (strict and ("\t" in value or "\n" in value)):
        return
    m = (_CONTROL_STRICT if strict else _CONTROL).search(value)
    if m:
        raise Reject("control_chars", f"{name} contains control character U+{ord(m.group()):04X}")
    m = _BIDI.search(value)
    if m:
        raise Reject("control_chars", f"{name} contains bidirectional control U+{ord(m.group()):04X}")
    if markup and "<" in value:
        m = _MARKUP.search(value)
        if m:
            raise Reject("markup", f"{name} contains markup: {_show(m.group(), 40)}")


def keyword_list(value: Any, sep: str) -> tuple[list[str], str]:
    """(cleaned keywords, raw text for the checks). A list of scalars is accepted; a nested value is not."""
    if isinstance(value, (list, tuple)):
        parts = [t for t in (cell_text(v, "keywords") for v in value) if t]
        raw = sep.join(parts)
    else:
        raw = cell_text(value, "keywords") or ""
        parts = raw.split(sep) if sep else [raw]
    out: list[str] = []
    seen: set[str] = set()
    for p in parts:
        k = " ".join(trim(nfc(p)).lower().split())
        if k and visible(k) and k not in seen:
            seen.add(k)
            out.append(k)
    return out, raw


def category_key(name: str) -> str:
    """What makes two category names the same category: compatibility-normalised, case-folded, without
    format characters, whitespace collapsed ("Animals", "animals" and "ANIMALS\u200b" are one)."""
    s = unicodedata.normalize("NFKC", name).casefold()
    s = "".join(c for c in s if not (c in _BLANK or unicodedata.category(c) == "Cf"))
    return " ".join(s.split())
