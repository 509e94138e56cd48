"""The represent stage: pick a generator, stream the items through it in batches, post-process each batch."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import TYPE_CHECKING

from sitegen.core.config import Config
from sitegen.core.errors import ConfigError
from sitegen.core.models import QUERY_CATEGORIES, DroppedQuery, Item, Query
from sitegen.represent.base import QueryGenerator
from sitegen.represent.postprocess import REASONS, PostProcessor
from sitegen.core.lexicon import site_lexicon
from sitegen.core.text import item_text as default_item_text
from sitegen.ingest.console import console_queries
from sitegen.represent.retrieval import RetrievalGenerator

if TYPE_CHECKING:
    from sitegen.engines.embed import Embedder
    from sitegen.store.db import Store


def make_generator(cfg: Config, embedder: Embedder, items: Sequence[Item], store: Store | None, *,
                   item_text: Callable[[Item], str] | None = None) -> QueryGenerator:
    """The query generator ``represent.generator`` names, from the registry (built-in or a plugin's). A
    generator factory is called as ``factory(cfg, embedder, items, store, item_text=...)``. ``item_text``: the
    text the build embeds items with (the retrieval generator scores candidates against it, so passing it
    saves one embedding per item)."""
    from sitegen.core import registry

    try:
        factory = registry.get("generator", cfg.represent.generator)
    except LookupError as exc:
        raise ConfigError([f"represent.generator: {exc}"]) from exc
    return factory(cfg, embedder, items, store, item_text=item_text)


def make_retrieval_generator(cfg: Config, embedder: Embedder, items: Sequence[Item], store: Store | None, *,
                             item_text: Callable[[Item], str] | None = None) -> QueryGenerator:
    """The ``retrieval`` generator: candidate queries from the catalog (and a Search Console export)."""
    console: list[str] = []
    if cfg.represent.console_export:
        path = cfg.path(cfg.represent.console_export)
        if not path.is_file():
            raise ConfigError([f"represent.console_export: file not found: {path}"])
        console = console_queries(path)
    return RetrievalGenerator(cfg.represent, embedder, corpus=items, console_queries=console, store=store,
                              item_text=item_text,
                              lexicon=site_lexicon(cfg, [default_item_text(i) for i in items]))


def make_vlm_generator(cfg: Config, embedder: Embedder, items: Sequence[Item], store: Store | None, *,
                       item_text: Callable[[Item], str] | None = None) -> QueryGenerator:
    """The ``vlm`` generator; the retrieval generator answers for the items the VLM cannot."""
    from sitegen.represent.vlm import make_vlm_generator as make

    fallback = make_retrieval_generator(cfg, embedder, items, store, item_text=item_text)
    return make(cfg, store=store, fallback=fallback)


def batches(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def represent(items: Iterable[Item], generator: QueryGenerator, post: PostProcessor, *, batch_size: int = 256,
              progress: Callable[[int, int], None] | None = None
              ) -> tuple[list[Query], list[DroppedQuery], dict[str, int]]:
    """Queries for every item, batch by batch (the generator sees one batch at a time). Stats: items,
    candidates, queries, queries per category (``description`` ...), dropped, dropped per reason
    (``dropped_blocklist`` ...), items with fewer than ``min_queries`` queries (``items_short``) and with none
    (``items_empty``)."""
    if batch_size <= 0:
        raise ValueError("batch_size must be > 0")
    total = len(items) if isinstance(items, Sequence) else 0
    queries: list[Query] = []
    dropped: list[DroppedQuery] = []
    stats: Counter[str] = Counter()
    done = 0
    for batch in batches(items, batch_size):
        candidates = generator.generate(batch)
        if len(candidates) != len(batch):
            raise RuntimeError(f"generator {generator.name!r} returned {len(candidates)} candidate lists "
                               f"for {len(batch)} items")
        q, d = post.process(batch, candidates)
        per_item = Counter(x.item_id for x in q)
        stats["candidates"] += sum(len(c) for c in candidates)
        stats["items_short"] += sum(1 for item in batch if per_item[item.id] < post.cfg.min_queries)
        stats["items_empty"] += sum(1 for item in batch if per_item[item.id] == 0)
        stats.update(x.category for x in q)
        stats.update(f"dropped_{x.reason}" for x in d)
        queries.extend(q)
        dropped.extend(d)
        done += len(batch)
        if progress is not None:
            progress(done, max(total, done))
    out = {"items": done, "candidates": stats["candidates"], "queries": len(queries), "dropped": len(dropped),
           "items_short": stats["items_short"], "items_empty": stats["items_empty"]}
    out.update({c: stats[c] for c in QUERY_CATEGORIES})
    out.update({f"dropped_{r}": stats[f"dropped_{r}"] for r in REASONS})
    return queries, dropped, out
