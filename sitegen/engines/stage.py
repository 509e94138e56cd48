"""The embed and index stages: item texts -> vectors (the shared text-embedding engine) -> an ANN index."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sitegen.core.models import Site
from sitegen.core.stage import Stage, StageContext
from sitegen.core.text import item_text


@dataclass(frozen=True)
class Embedded:
    item_vectors: np.ndarray  # row i: the vector that retrieves site.items[i] (text, fused with its image when an
    # image encoder is on), L2-normalised
    text_vectors: np.ndarray | None = None  # row i embeds item_text(site.items[i]) alone; None = item_vectors
    image_vectors: np.ndarray | None = None  # row i: the image of site.items[i] in the text space; None = no
    # image encoder (embed.image_encoder = "none")

    @property
    def texts(self) -> np.ndarray:
        """The text-only vectors (``text_vectors``, else ``item_vectors``)."""
        return self.item_vectors if self.text_vectors is None else self.text_vectors


@dataclass(frozen=True)
class Indexed:
    index: Any  # an AnnIndex over Embedded.item_vectors (ids = positions)
    rebuilt: bool


def embed(ctx: StageContext, site: Site) -> Embedded:
    vectors = ctx.embedder.encode([item_text(i) for i in site.items], progress=ctx.progress("embed"))
    return Embedded(vectors)


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
    """The embedding model's folder when ``embed.model`` names one (the packaged model is named by setting)."""
    path = cfg.path(cfg.embed.model)
    return [path] if path.exists() else []


EMBED = Stage("embed", embed, inputs=("site",), output=Embedded, settings=("embed",), models=model_folders,
              doc="item texts -> vectors, cached in the store by text hash and model")
INDEX = Stage("index", index, inputs=("embed",), output=Indexed, settings=("index",),
              doc="item vectors -> an HNSW / Annoy / exact index saved beside the store")
