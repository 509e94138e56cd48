"""The simulator's search engine: it reads only the built HTML (``build/``), as a crawler would, and ranks its
pages for a query.

Crawling (``read_site``): every ``*.html`` file under the output folder is a page at its URL path
(``topic/x/index.html`` -> ``/topic/x/``). A page is left out of the index, as a search engine leaves it out,
when it says ``noindex`` (``<meta name="robots">``), is a redirect stub (``<meta http-equiv="refresh">``), or
names another URL as its canonical. From each page the engine keeps what a search engine reads: the
``<title>``, the first ``<h1>``, the meta description, the visible text of ``<main>`` and the alt texts of its
images, and the page's listed items - the ``ItemList`` of its JSON-LD (collections, hubs, the home page), with
their names, or the page itself for an item page (``/item/...``). Scripts and styles are not text; the header
navigation and the footer, the same on every page, are not read; and text inside links (with the alt texts of
linked images) is left out, as the anchor text describes the page linked to, not this one (Brin and Page
1998) - so an item page's "more like this" grid and its collection chips do not make it match every
neighbour's words, while a collection's items count through its ItemList names. Parsed pages are cached by
the file's hash, so an unchanged page is not parsed again in the next round.

Ranking (``SearchEngine``), for each query, in two stages (retrieve, then rerank):

- **BM25** (``bm25s``, Lucene variant, k1 = 1.2, b = 0.75) over the title and h1 (each counted twice, a simple
  field boost), the description, the visible text, the alt texts and the listed items' names. Words are
  lowercased, accents dropped, English stop-words (bm25s's list) removed and plurals folded by the S-stemmer
  (Harman 1991: -ies -> -y, -es -> -e, -s -> '', except -us, -ss, -aes/-ees/-oes/-eies/-aies);
- **dense**: cosine similarity of all-MiniLM-L6-v2 embeddings (``sitegen.engines.embed.Embedder``, cached by
  text hash in a store, so an unchanged page is not embedded again) of the query and of the page's *dense
  text*: title, h1, description and the names of its first 24 items, cut to 700 characters (about 150
  word pieces, inside the model's 256);
- **fusion**: reciprocal-rank fusion (Cormack, Clarke and Buettcher, SIGIR 2009), score = sum over the two
  rankings of 1 / (60 + rank), each ranking cut at its best 100 pages. A page enters the BM25 ranking only when
  it holds a query word (score > 0) and the dense ranking only when its cosine is at least 0.5, so a query that
  matches nothing gets fewer than ten results (or none). Ties go to the shorter URL path, then alphabetical;
- **reranking**: the ten retrieved pages are ordered by the cosine of the query and the page's heading (its h1,
  else its title; MiniLM, cached the same way) - how well the page says it is about what was searched, the
  on-page signal search engines weigh most. That cosine is also the page's *quality* when its results are
  placed among other sites' (``clicks``: competitors).

``Hit.position`` is the page's place among the site's results (1-10); ``Hit.score`` the reranking cosine.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Callable, Protocol, Sequence
from urllib.parse import urlsplit

import numpy as np

RRF_K = 60
DEPTH = 100  # each ranking is cut here before fusion
MIN_COSINE = 0.5  # a page enters the dense ranking at this cosine or above
TOP = 10
K1, B = 1.2, 0.75
DENSE_ITEMS = 24
DENSE_CHARS = 700

Embed = Callable[[Sequence[str]], np.ndarray]


class Indexable(Protocol):
    """What ``SearchEngine`` ranks: a unique ``path`` (the id a ``Hit`` names), the text BM25 reads, the text
    the dense ranking embeds and the heading the reranking compares with the query. ``PageDoc`` is one; the
    passages of ``sitegen eval geo`` (``sitegen.learn.geo.passages.Passage``) are another."""

    @property
    def path(self) -> str: ...

    def bm25_text(self) -> str: ...

    def dense_text(self) -> str: ...

    def heading(self) -> str: ...


@dataclass(frozen=True)
class PageDoc:
    """One indexable page of the built site, as the engine read it."""

    path: str  # URL path, "/topic/black-formal-shoes/"
    kind: str  # home | hub | collection | item | page
    title: str
    h1: str
    description: str
    text: str  # visible text of <main>
    alts: tuple[str, ...]  # alt texts of the images in <main>
    items: tuple[str, ...]  # URL paths of the page's listed items (an item page: itself)
    item_names: tuple[str, ...]
    canonical: str  # absolute URL ("" when the page names none)

    def bm25_text(self) -> str:
        names = self.item_names if self.kind != "item" else ()
        return " ".join([self.title, self.title, self.h1, self.h1, self.description, self.text, *self.alts, *names])

    def heading(self) -> str:
        """What the page says it is about: its h1, else its title."""
        return self.h1 or self.title

    def dense_text(self) -> str:
        parts = [p for p in (self.title, self.h1, self.description) if p]
        names = ", ".join(self.item_names[:DENSE_ITEMS])
        return (". ".join(parts) + (". " + names if names else ""))[:DENSE_CHARS]


@dataclass(frozen=True, slots=True)
class Hit:
    path: str
    position: int  # 1-based, among the site's results
    score: float  # the reranking score: cosine of the query and the page's heading
    retrieval: float = 0.0  # the fused retrieval score (reciprocal rank)


def page_kind(path: str) -> str:
    if path == "/":
        return "home"
    for prefix, kind in (("/category/", "hub"), ("/topic/", "collection"), ("/item/", "item")):
        if path.startswith(prefix):
            return kind
    return "page"


def url_path(file: Path, root: Path) -> str:
    rel = file.relative_to(root).as_posix()
    if rel == "index.html":
        return "/"
    if rel.endswith("/index.html"):
        return "/" + rel[: -len("index.html")]
    return "/" + rel


class _PageParser(HTMLParser):
    _SKIP = {"script", "style", "template", "noscript"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.title: list[str] = []
        self.h1: list[str] = []
        self.meta: dict[str, str] = {}
        self.refresh = False
        self.canonical = ""
        self.jsonld: list[str] = []
        self.text: list[str] = []
        self.alts: list[str] = []
        self._main = 0
        self._skip = 0
        self._anchor = 0
        self._in: str | None = None
        self._buf: list[str] = []
        self._h1_done = False

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "meta":
            if a.get("http-equiv", "").lower() == "refresh":
                self.refresh = True
            name = (a.get("name") or a.get("property") or "").lower()
            if name:
                self.meta.setdefault(name, a.get("content", ""))
        elif tag == "link" and "canonical" in a.get("rel", "").lower().split():
            self.canonical = self.canonical or a.get("href", "")
        elif tag == "script" and a.get("type", "").lower() == "application/ld+json":
            self._in, self._buf = "jsonld", []
        elif tag == "title" and not self.title:
            self._in, self._buf = "title", []
        elif tag == "h1" and not self._h1_done:
            self._in, self._buf = "h1", []
        elif tag == "main":
            self._main += 1
        elif tag == "img" and self._main and not self._anchor and a.get("alt", "").strip():
            self.alts.append(a["alt"].strip())
        elif tag == "a":
            self._anchor += 1
        if tag in self._SKIP:
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in self._SKIP and self._skip:
            self._skip -= 1
        if self._in == "jsonld" and tag == "script":
            self.jsonld.append("".join(self._buf))
            self._in = None
        elif self._in == tag == "title":
            self.title.append(" ".join("".join(self._buf).split()))
            self._in = None
        elif self._in == tag == "h1":
            self.h1.append(" ".join("".join(self._buf).split()))
            self._in, self._h1_done = None, True
        elif tag == "main" and self._main:
            self._main -= 1
        elif tag == "a" and self._anchor:
            self._anchor -= 1

    def handle_data(self, data):
        if self._in:
            self._buf.append(data)
            if self._in == "jsonld":
                return
        if self._main and not self._skip and not self._anchor:
            self.text.append(data)


def _item_list(blobs: Sequence[str]) -> tuple[list[str], list[str]]:
    """URL paths and names of the ItemList elements in the page's JSON-LD."""
    paths, names = [], []

    def walk(node):
        if isinstance(node, dict):
            if node.get("@type") == "ItemList":
                for el in node.get("itemListElement") or []:
                    if isinstance(el, dict):
                        url = el.get("url") or (el.get("item") or {}).get("url", "")
                        if url:
                            paths.append(urlsplit(url).path or "/")
                            names.append(str(el.get("name") or ""))
                return
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    for blob in blobs:
        try:
            walk(json.loads(blob))
        except ValueError:
            continue
    return paths, names


def parse_page(html: str, path: str) -> PageDoc | None:
    """The page as the engine indexes it, or None when a search engine would leave it out (noindex, a redirect
    stub, a canonical naming another URL)."""
    p = _PageParser()
    p.feed(html)
    p.close()
    robots = p.meta.get("robots", "").lower()
    if "noindex" in robots or p.refresh:
        return None
    if p.canonical and urlsplit(p.canonical).path not in ("", path):
        return None
    kind = page_kind(path)
    items, names = _item_list(p.jsonld)
    h1 = p.h1[0] if p.h1 else ""
    if kind == "item":
        items, names = [path], [h1]
    text = " ".join(" ".join(p.text).split())
    return PageDoc(path=path, kind=kind, title=p.title[0] if p.title else "", h1=h1,
                   description=" ".join(p.meta.get("description", "").split()), text=text,
                   alts=tuple(p.alts), items=tuple(dict.fromkeys(items)), item_names=tuple(names),
                   canonical=p.canonical)


def read_site(output_dir: Path, cache: dict[str, PageDoc | None] | None = None) -> list[PageDoc]:
    """Every indexable page of a built site, sorted by path. ``cache`` (file hash + path -> parsed page) is
    read and filled, so unchanged files are not parsed again."""
    root = Path(output_dir)
    cache = {} if cache is None else cache
    docs: list[PageDoc] = []
    for file in sorted(root.rglob("*.html")):
        rel = file.relative_to(root).as_posix()
        if any(part.startswith((".", "_")) for part in rel.split("/")):
            continue  # not published pages (temporary folders, review assets)
        data = file.read_bytes()
        path = url_path(file, root)
        key = hashlib.sha1(data).hexdigest() + path
        if key not in cache:
            cache[key] = parse_page(data.decode("utf-8", "replace"), path)
        if cache[key] is not None:
            docs.append(cache[key])
    return docs


# -- words -----------------------------------------------------------------------------------------------------

def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def s_stem(word: str) -> str:
    """Harman's S-stemmer: the plural endings only."""
    if len(word) > 3 and word.endswith("ies") and not word.endswith(("eies", "aies")):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("es") and not word.endswith(("aes", "ees", "oes")):
        return word[:-1]
    if len(word) > 2 and word.endswith("s") and not word.endswith(("us", "ss")):
        return word[:-1]
    return word


def terms(text: str, stop: frozenset[str]) -> list[str]:
    """Lowercase ASCII words, stop-words dropped, plurals folded ("Men's Shoes" -> ["men", "shoe"])."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    text = re.sub(r"['\u2019]s\b", "", text)
    return [s_stem(w) for w in re.findall(r"[a-z0-9]+", text) if w not in stop]


# -- ranking ---------------------------------------------------------------------------------------------------

class SearchEngine:
    """BM25 + dense retrieval over ``docs`` (pages, or anything ``Indexable``), fused by reciprocal rank (see
    the module docstring)."""

    def __init__(self, docs: Sequence[Indexable], embed: Embed):
        import bm25s

        self.docs = list(docs)
        self.paths = [d.path for d in self.docs]
        self._embed = embed
        self._stop = _stopwords()
        corpus = [terms(d.bm25_text(), self._stop) for d in self.docs]
        self._bm25 = None
        if any(corpus):
            self._bm25 = bm25s.BM25(k1=K1, b=B, method="lucene")
            self._bm25.index(corpus, show_progress=False)
            self._vocab = set(self._bm25.vocab_dict)
        self._vectors = embed([d.dense_text() for d in self.docs]) if self.docs else np.zeros((0, 1), np.float32)
        self._heads = embed([d.heading() for d in self.docs]) if self.docs else np.zeros((0, 1), np.float32)
        # ties: the shorter path first, then alphabetical
        order = sorted(range(len(self.paths)), key=lambda i: (len(self.paths[i]), self.paths[i]))
        self._tiebreak = np.empty(len(self.paths), np.int64)
        self._tiebreak[order] = np.arange(len(order))

    def search(self, queries: Sequence[str], k: int = TOP,
               progress: Callable[[int, int], None] | None = None) -> list[list[Hit]]:
        """The site's top ``k`` pages for each query: retrieved by fusion, reranked by heading similarity."""
        if not self.docs:
            return [[] for _ in queries]
        qv = self._embed(list(queries)) if queries else np.zeros((0, self._vectors.shape[1]), np.float32)
        out = []
        for n, (query, vec) in enumerate(zip(queries, qv), 1):
            out.append(self._one(query, vec, k))
            if progress is not None and (n % 200 == 0 or n == len(queries)):
                progress(n, len(queries))
        return out

    def _one(self, query: str, vec: np.ndarray, k: int) -> list[Hit]:
        n = len(self.docs)
        fused = np.zeros(n, np.float64)
        words = [w for w in dict.fromkeys(terms(query, self._stop)) if self._bm25 is not None and w in self._vocab]
        if words:
            bm = np.asarray(self._bm25.get_scores(words), np.float64)
            fused += _rrf(bm, bm > 0)
        cos = self._vectors @ vec
        fused += _rrf(cos.astype(np.float64), cos >= MIN_COSINE)
        hits = np.flatnonzero(fused > 0)
        if not len(hits):
            return []
        retrieved = sorted(hits.tolist(), key=lambda i: (-fused[i], self._tiebreak[i]))[:k]
        head = {i: round(float(self._heads[i] @ vec), 6) for i in retrieved}
        ranked = sorted(retrieved, key=lambda i: -head[i])  # stable: equal headings keep the retrieval order
        return [Hit(self.paths[i], pos, head[i], round(float(fused[i]), 6)) for pos, i in enumerate(ranked, 1)]


def _rrf(scores: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """1 / (RRF_K + rank) for the best ``DEPTH`` eligible entries (rank 1 = highest score; ties by index)."""
    out = np.zeros(len(scores), np.float64)
    idx = np.flatnonzero(eligible)
    if not len(idx):
        return out
    best = idx[np.lexsort((idx, -scores[idx]))][:DEPTH]
    out[best] = 1.0 / (RRF_K + np.arange(1, len(best) + 1))
    return out
