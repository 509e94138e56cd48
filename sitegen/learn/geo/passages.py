"""Passages: the pieces of a built page an answer engine retrieves and quotes from.

A page's ``<main>`` is read as the simulator's search engine reads it (``sitegen.learn.simulate.engine``):
scripts, styles, templates and ``noscript`` are not text, and text inside links is left out (anchor text
describes the page linked to, not this one), so a collection's item grid and related-collection chips quote
nothing, where its own copy does. What is left is cut into **blocks** at block elements (``p``, ``li``,
``dd``, table rows, ``div``, ...); a definition list's term and value are one block ("Colour: red"; a term whose
value is only a link is dropped); each block is split into **sentences** (after ``.``, ``!`` or ``?`` before
a capital, a digit or a quote). Headings (``h1``-``h6``) open a **section**, and are its first sentence (an
item page's h1 is the product's name, a listing's h1 its category); a section with no text but its heading is
dropped. A section's sentences are packed, in page order, into passages of at most ``MAX_WORDS`` words (a
longer sentence is a passage of its own). Every
passage carries its page's URL path and kind, the page title and h1, and its section heading.

As the engine ranks it (``Indexable``): BM25 reads the page title, the section heading and the passage text; the
dense ranking embeds "title. heading. text" cut to the engine's 700 characters; the reranking compares the
query with the passage's heading, "h1: section" (the page's h1 alone for the text under it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

MAX_WORDS = 100
MIN_WORDS = 2  # a passage with fewer words (a lone label) is not worth quoting
_BLOCKS = frozenset({"p", "li", "dt", "dd", "div", "section", "article", "header", "footer", "aside", "ul", "ol",
                     "dl", "table", "tr", "caption", "figure", "figcaption", "blockquote", "pre", "br", "hr",
                     "form", "details", "summary", "nav", "address", "main", "fieldset", "legend"})
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_SKIP = frozenset({"script", "style", "template", "noscript"})
_CELLS = frozenset({"td", "th"})
_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"'\u201d\u2019)]))\s+(?=[A-Z0-9\"'\u201c\u2018(])")


@dataclass(frozen=True)
class Passage:
    """One quotable piece of a page."""

    path: str  # unique id: the page's URL path and the passage's number, "/topic/x/#p2"
    page: str  # the page's URL path, "/topic/x/"
    kind: str  # the page's kind: home | hub | collection | item | page (the site's) or baseline
    title: str  # the page's <title>
    h1: str  # the page's h1
    section: str  # the heading of the section the passage is in ("" for the text under the h1)
    sentences: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.sentences)

    def heading(self) -> str:
        head = self.h1 or self.title
        return f"{head}: {self.section}" if self.section and self.section != head else head

    def bm25_text(self) -> str:
        return " ".join(p for p in (self.title, self.section, self.text) if p)

    def dense_text(self) -> str:
        from sitegen.learn.simulate.engine import DENSE_CHARS

        return ". ".join(p for p in (self.title, self.section, self.text) if p)[:DENSE_CHARS]


def word_count(text: str) -> int:
    """Words as the answer metrics count them: whitespace-separated tokens holding a letter or a digit."""
    return sum(1 for w in text.split() if any(c.isalnum() for c in w))


def split_sentences(text: str) -> list[str]:
    """A block's sentences ("Red shoes. 12 items." -> ["Red shoes.", "12 items."])."""
    text = " ".join(text.split())
    return [s for s in _SENTENCE_END.split(text) if s] if text else []


class _MainParser(HTMLParser):
    """The sections of ``<main>``: (heading, blocks), in page order."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.sections: list[tuple[str, list[str]]] = [("", [])]
        self._main = 0
        self._skip = 0
        self._anchor = 0
        self._heading: list[str] | None = None
        self._buf: list[str] = []
        self._term = ""  # a <dt>'s text, waiting for its <dd>
        self._in_dt = False

    def _flush(self) -> None:
        text = " ".join("".join(self._buf).split())
        self._buf = []
        if self._in_dt:
            self._term, self._in_dt = text.rstrip(":"), False
            return
        if not text:
            return
        if self._term:
            text, self._term = f"{self._term}: {text}", ""
        self.sections[-1][1].append(text)

    def handle_starttag(self, tag, attrs):
        if tag == "main":
            self._main += 1
        if not self._main:
            return
        if tag in _SKIP:
            self._skip += 1
        elif tag == "a":
            self._anchor += 1
        elif tag in _HEADINGS:
            self._flush()
            self._heading = []
        elif tag in _CELLS:
            self._buf.append(" ")
        elif tag in _BLOCKS and self._heading is None:
            self._flush()
            if tag == "dt":
                self._term, self._in_dt = "", True

    def handle_endtag(self, tag):
        if not self._main:
            return
        if tag in _SKIP and self._skip:
            self._skip -= 1
        elif tag == "a" and self._anchor:
            self._anchor -= 1
        elif tag in _HEADINGS and self._heading is not None:
            self.sections.append((" ".join("".join(self._heading).split()), []))
            self._heading = None
        elif tag in _BLOCKS and self._heading is None:
            if tag == "dd":
                self._flush()
                self._term = ""  # a term's value ends with its <dd>
            else:
                self._flush()
        if tag == "main":
            self._flush()
            self._main -= 1

    def handle_data(self, data):
        if not self._main or self._skip:
            return
        if self._heading is not None:
            self._heading.append(data)  # a heading's words are its own, linked or not
        elif not self._anchor:
            self._buf.append(data)


def cut_passages(html: str, page: str, kind: str, *, title: str = "", h1: str = "",
                 max_words: int = MAX_WORDS) -> list[Passage]:
    """The passages of a page's ``<main>`` (see the module docstring); ``page`` is its URL path."""
    parser = _MainParser()
    parser.feed(html)
    parser.close()
    out: list[Passage] = []
    for heading, blocks in parser.sections:
        if not blocks:
            continue  # a heading over links only (related collections) or over nothing
        chunk: list[str] = [heading] if heading else []  # a section's heading is its first sentence
        words = word_count(heading)
        if h1 and heading == h1:
            heading = ""  # the text under the h1 is the page's own
        for block in blocks:
            for sentence in split_sentences(block):
                n = word_count(sentence)
                if chunk and words + n > max_words:
                    out.append(_passage(out, page, kind, title, h1, heading, chunk))
                    chunk, words = [], 0
                chunk.append(sentence)
                words += n
        if chunk:
            out.append(_passage(out, page, kind, title, h1, heading, chunk))
    return [p for p in out if word_count(p.text) >= MIN_WORDS]


def _passage(out: list[Passage], page: str, kind: str, title: str, h1: str, section: str,
             sentences: list[str]) -> Passage:
    return Passage(path=f"{page}#p{len(out) + 1}", page=page, kind=kind, title=title, h1=h1, section=section,
                   sentences=tuple(sentences))
