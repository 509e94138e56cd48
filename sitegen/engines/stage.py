"""The embed and index stages: item texts (and images, ``embed.image_encoder``) -> vectors (the shared
text-embedding engine, ``engines.image`` / ``engines.fusion``) -> an ANN index."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sitegen.core.models import Item, Site
from sitegen.core.stage import Stage, StageContext
from sitegen.core.text import item_text


@dataclass(frozen=True)
class Embedded:
    item_vectors: np.ndarray  # row i: the vector that retrieves site.items[i] (text, fused with its image when an
    # image encoder is on), L2-normalised
    text_vectors: np.ndarray | None = None  # row i embeds item_text(site.items[i]) alone; None = item_vectors
    image_vectors: np.ndarray | None = None  # row i: the image of site.items[i] in the text space; None = no
    # image encoder (embed.image_encoder = "none")
    weak: np.ndarray | None = None  # bool per item: weak text (core.text.weak_text), placed by its image alone;
    # None = no image encoder
    evidence: dict[int, Item] | None = None  # position -> what relevance reads a weak-text item by: the catalog
    # fields its image neighbours agree on (engines.fusion.evidence_items); None = the items themselves
    neighbours: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # weak-text rows, their nearest items
    # with text by image (positions) and similarities (engines.fusion.image_neighbours); None = none

    @property
    def texts(self) -> np.ndarray:
        """The text-only vectors (``text_vectors``, else ``item_vectors``)."""
        return self.item_vectors if self.text_vectors is None else self.text_vectors

    def evidence_items(self, items: list[Item]) -> list[Item]:
        """The items as relevance reads them: ``items`` with each weak-text item replaced by its evidence."""
        if not self.evidence:
            return list(items)
        return [self.evidence.get(n, it) for n, it in enumerate(items)]


@dataclass(frozen=True)
class Indexed:
    index: Any  # an AnnIndex over Embedded.item_vectors (ids = positions)
    rebuilt: bool


def embed(ctx: StageContext, site: Site) -> Embedded:
    texts = [item_text(i) for i in site.items]
    vectors = ctx.embedder.encode(texts, progress=ctx.progress("embed"))
    e = ctx.cfg.embed
    if e.image_encoder == "none" or not site.items:
        return Embedded(vectors)
    from sitegen.core.text import weak_text
    from sitegen.engines import fusion

    weak = np.array([weak_text(i) for i in site.items], bool)
    images = fusion.image_vectors(ctx, site.items, vectors, weak)
    rows, nbrs, sims = fusion.image_neighbours(images, weak)
    ctx.counters["items_weak_text"] = int(weak.sum())
    evidence = {}
    if len(rows):
        thresholds = fusion.calibrate(site.items, images, weak)
        ctx.counters["image_borrow_fields"] = len(thresholds)
        evidence = fusion.evidence_items(site.items, rows, nbrs, sims, thresholds)
    return Embedded(fusion.fuse(vectors, images, weak, e.image_weight, (rows, nbrs, sims)), vectors, images, weak,
                    evidence, (rows, nbrs, sims))


def index(ctx: StageContext, embed: Embedded) -> Indexed:
    from sitegen.engines.index import load_or_build

    cfg = ctx.cfg
    vectors = embed.item_vectors
    fingerprint = hashlib.sha256(vectors.tobytes() + repr(asdict(cfg.index)).encode()).hexdigest()[:24]
    ann, rebuilt = load_or_build(vectors, cfg.index, cfg.store_path.parent / "index", fingerprint)
    ctx.counters["index_rebuilt"] = int(rebuilt)
    ctx.counters["index_backend"] = ann.backend
    return Indexed(ann, rebuilt)


def model_folders(cfg) -> list[Path]:
    """The embedding model's folder when ``embed.model`` names one (the packaged model is named by setting),
    and the image encoder's: the catalog encoder beside the store, or the CLIP-style folder."""
    path = cfg.path(cfg.embed.model)
    folders = [path] if path.exists() else []
    if cfg.embed.image_encoder == "catalog":
        from sitegen.engines.image import catalog_model_dir

        folders.append(catalog_model_dir(cfg))
    elif cfg.embed.image_encoder != "none":
        folders.append(cfg.path(cfg.embed.image_encoder))
    return folders


EMBED = Stage("embed", embed, inputs=("site",), output=Embedded, settings=("embed",), models=model_folders,
              doc="item texts and images -> vectors, cached in the store by content hash and model")
INDEX = Stage("index", index, inputs=("embed",), output=Indexed, settings=("index",),
              doc="item vectors -> an HNSW / Annoy / exact index saved beside the store")
