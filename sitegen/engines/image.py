"""Images in the text space: the vectors ``embed.image_encoder`` gives each item's image, 384-d like the text
embeddings and L2-normalised, so an image can be compared with queries, topics and other items.

- ``"none"`` (the default): no image vectors;
- ``"catalog"``: a small CNN trained from scratch on the catalog's own (image, text) pairs against the frozen
  text embeddings (``sitegen.learn.image_train``; ``sitegen train image``, or the build on first use); it is
  kept under the store's folder (``models/image/``: ``model.pt`` + ``config.json`` with its fingerprint);
- a path to a local CLIP-style folder (transformers ``CLIPModel``, or open_clip with ``open_clip_config.json``):
  its image space is mapped into the text space by a ridge head fitted on the catalog's own pairs. Loaded from
  disk only, never downloaded.

Vectors are cached in the store's embeddings table by image content hash (``Item.image_sha``) under the model's
id (``image:<kind>:<fingerprint>``), so an unchanged image is never encoded twice by the same model. torch (and
transformers / open_clip) are imported inside the functions that need them.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from sitegen.core.errors import ModelError
from sitegen.engines.fingerprint import folder_fingerprint

if TYPE_CHECKING:
    from sitegen.core.models import Item
    from sitegen.store.db import Store

NONE, CATALOG = "none", "catalog"
MODEL_FILE, CONFIG_FILE = "model.pt", "config.json"
_STORE_CHUNK = 20_000
_ENCODE_BATCH = 256


def encoder_problem(value: str, root: Path) -> str:
    """Why ``embed.image_encoder = value`` cannot be used ("" when it can): "none", "catalog" or a local
    CLIP-style folder."""
    if value in (NONE, CATALOG):
        return ""
    if not value:
        return "must be 'none', 'catalog' or a local CLIP-style model folder (got '')"
    path = Path(value).expanduser()
    path = path if path.is_absolute() else Path(root) / path
    if not path.is_dir():
        return (f"must be 'none', 'catalog' or a local CLIP-style model folder; {value!r} is not a folder "
                "(models are never downloaded)")
    if clip_kind(path) is None:
        return (f"{value!r} is not a CLIP-style model folder (need a transformers CLIPModel config.json, or "
                "open_clip_config.json)")
    return ""


def clip_kind(folder: Path) -> str | None:
    """``"transformers"`` / ``"open_clip"`` for a CLIP-style folder, None for anything else."""
    if (folder / "open_clip_config.json").is_file():
        return "open_clip"
    cfg = folder / "config.json"
    if cfg.is_file():
        try:
            data = json.loads(cfg.read_text(encoding="utf-8"))
        except ValueError:
            return None
        kind = str(data.get("model_type", ""))
        if "clip" in kind or "siglip" in kind or any("CLIP" in a for a in data.get("architectures", [])):
            return "transformers"
    return None


def catalog_model_dir(cfg) -> Path:
    """Where the catalog encoder of a site lives: beside the store."""
    return cfg.store_path.parent / "models" / "image"


@dataclass(frozen=True)
class EncoderSettings:
    """The catalog encoder's network and training settings (all of them are part of its fingerprint)."""

    width: int = 32  # channels of the first convolution (doubled at each of the three later stages)
    dim: int = 384  # output dimension: the text embedding's
    hist_bins: int = 4  # per RGB channel: a 4x4x4 colour histogram concatenated with the CNN features
    image_width: int = 48
    image_height: int = 64
    epochs: int = 30  # at most; early stopping on the held-out split usually ends sooner
    batch_size: int = 128
    lr: float = 3e-3
    weight_decay: float = 1e-4
    temperature: float = 0.05  # image-text softmax temperature (initial value when learnt)
    learn_temperature: bool = True
    item_weight: float = 0.5  # weight of the item-item loss (images of the same category / attributes)
    item_temperature: float = 0.1
    holdout: float = 0.1  # share of the pairs held out for early stopping
    patience: int = 3  # epochs without a better held-out loss before stopping
    augment: bool = True  # random flips, shifts and brightness during training
    seed: int = 0
    max_steps: int = 0  # stop after this many optimiser steps (0 = no cap)

    @classmethod
    def from_dict(cls, data: dict) -> "EncoderSettings":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


# -- pixels ------------------------------------------------------------------------------------------------

def load_pixels(paths: Sequence[str], width: int, height: int,
                progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """uint8 array (n, height, width, 3): each image padded to the box's aspect ratio with white (product
    photos sit on white) and resized; an unreadable image is all white."""
    from PIL import Image, ImageOps

    out = np.full((len(paths), height, width, 3), 255, np.uint8)
    for n, path in enumerate(paths):
        try:
            with Image.open(path) as im:
                im.draft("RGB", (width * 2, height * 2))  # JPEG: decode at a reduced size when large
                rgb = _flatten(im)
                out[n] = np.asarray(ImageOps.pad(rgb, (width, height), method=Image.Resampling.BILINEAR,
                                                 color=(255, 255, 255)))
        except (OSError, ValueError):
            pass
        if progress is not None and (n % 500 == 499 or n == len(paths) - 1):
            progress(n + 1, len(paths))
    return out


def _flatten(im):
    """RGB, with transparency composited on white."""
    from PIL import Image

    if im.mode in ("RGBA", "LA", "P"):
        rgba = im.convert("RGBA")
        bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(bg, rgba).convert("RGB")
    return im.convert("RGB")


def colour_histograms(pixels: np.ndarray, bins: int) -> np.ndarray:
    """float32 (n, bins**3): the share of each image's non-white pixels in each RGB cell, square-rooted (the
    white background is left out; an image that is all white gets its whole mass in the white cell)."""
    n = len(pixels)
    q = (pixels.astype(np.int32) * bins) // 256
    cell = (q[..., 0] * bins + q[..., 1]) * bins + q[..., 2]
    flat = cell.reshape(n, -1)
    fg = (pixels.min(axis=-1) < 235).reshape(n, -1)
    out = np.zeros((n, bins ** 3), np.float32)
    for i in range(n):
        cells = flat[i][fg[i]] if fg[i].any() else flat[i]
        out[i] = np.bincount(cells, minlength=bins ** 3)[: bins ** 3]
    out /= np.maximum(out.sum(axis=1, keepdims=True), 1.0)
    return np.sqrt(out).astype(np.float32)


# -- the catalog network ---------------------------------------------------------------------------------------

def build_network(settings: EncoderSettings):
    """The catalog encoder: a stride-2 stem and four conv stages (BatchNorm, ReLU, max-pooling) to a global
    average (about 35 M multiply-adds per 48x64 image, so it trains on one CPU core), concatenated
    with the colour histogram, then a two-layer head to ``dim``; outputs are L2-normalised."""
    import torch
    from torch import nn

    w = settings.width

    def block(cin: int, cout: int, convs: int, stride: int = 1) -> list:
        layers: list = []
        for k in range(convs):
            layers += [nn.Conv2d(cin if k == 0 else cout, cout, 3, stride=stride if k == 0 else 1, padding=1,
                                 bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
        return layers

    class CatalogImageNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(*block(3, w, 2, stride=2), nn.MaxPool2d(2), *block(w, 2 * w, 2),
                                          nn.MaxPool2d(2), *block(2 * w, 4 * w, 2), nn.MaxPool2d(2),
                                          *block(4 * w, 8 * w, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten())
            hist = settings.hist_bins ** 3
            self.head = nn.Sequential(nn.Linear(8 * w + hist, 2 * settings.dim), nn.BatchNorm1d(2 * settings.dim),
                                      nn.ReLU(inplace=True), nn.Linear(2 * settings.dim, settings.dim))
            self.hist_scale = nn.Parameter(torch.tensor(4.0))
            self.logit_scale = nn.Parameter(torch.tensor(float(np.log(1.0 / settings.temperature))),
                                            requires_grad=settings.learn_temperature)

        def forward(self, images, hists):
            feats = torch.cat([self.features(images), self.hist_scale * hists], dim=1)
            return nn.functional.normalize(self.head(feats), dim=1)

    return CatalogImageNet()


_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
_STD = np.array([0.229, 0.224, 0.225], np.float32)


def to_tensor(pixels: np.ndarray):
    """uint8 (n, h, w, 3) -> normalised float tensor (n, 3, h, w)."""
    import torch

    x = torch.from_numpy(np.ascontiguousarray(pixels)).permute(0, 3, 1, 2).float().div_(255.0)
    return (x - torch.from_numpy(_MEAN).view(1, 3, 1, 1)) / torch.from_numpy(_STD).view(1, 3, 1, 1)


def set_threads() -> None:
    """torch's CPU threads: the cores this process may run on (``taskset`` is honoured)."""
    import torch

    try:
        wanted = max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        wanted = max(1, os.cpu_count() or 1)
    if torch.get_num_threads() != wanted:
        torch.set_num_threads(wanted)


class CatalogEncoder:
    """A trained catalog encoder loaded from its folder (``model.pt`` + ``config.json``)."""

    kind = CATALOG

    def __init__(self, folder: Path):
        import torch

        self.folder = Path(folder)
        cfg_path, model_path = self.folder / CONFIG_FILE, self.folder / MODEL_FILE
        if not cfg_path.is_file() or not model_path.is_file():
            raise ModelError(f"{self.folder}: no trained image encoder (run `sitegen train image`)")
        self.config = json.loads(cfg_path.read_text(encoding="utf-8"))
        self.settings = EncoderSettings.from_dict(self.config.get("settings", {}))
        self.fingerprint = str(self.config.get("fingerprint", ""))
        self.model_id = f"image:catalog:{folder_fingerprint(self.folder)}"
        set_threads()
        self.net = build_network(self.settings)
        try:
            state = torch.load(model_path, map_location="cpu", weights_only=True)
            self.net.load_state_dict(state)
        except Exception as exc:  # a truncated or foreign file
            raise ModelError(f"could not load the image encoder {model_path}: {exc}") from exc
        self.net.eval()

    def encode_pixels(self, pixels: np.ndarray) -> np.ndarray:
        import torch

        s = self.settings
        hists = colour_histograms(pixels, s.hist_bins)
        out = []
        with torch.inference_mode():
            for i in range(0, len(pixels), _ENCODE_BATCH):
                out.append(self.net(to_tensor(pixels[i:i + _ENCODE_BATCH]),
                                    torch.from_numpy(hists[i:i + _ENCODE_BATCH])).numpy())
        return np.concatenate(out).astype(np.float32) if out else np.zeros((0, s.dim), np.float32)

    def encode(self, paths: Sequence[str], progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        s = self.settings
        return self.encode_pixels(load_pixels(paths, s.image_width, s.image_height, progress))


class ClipEncoder:
    """A local CLIP-style model's image tower (transformers ``CLIPModel`` or open_clip), raw features; the ridge
    head (``fit_ridge``) maps them into the text space."""

    kind = "clip"

    def __init__(self, folder: Path, device: str = "cpu"):
        self.folder = Path(folder)
        self.backend = clip_kind(self.folder)
        if self.backend is None:
            raise ModelError(f"embed.image_encoder: {self.folder} is not a CLIP-style model folder")
        self.model_id = f"image:clip:{self.folder.name}:{folder_fingerprint(self.folder)}"
        self.device = device
        self._model: Any = None
        self._pre: Any = None

    def _load(self) -> None:
        if self._model is not None:
            return
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        set_threads()
        try:
            if self.backend == "open_clip":
                import open_clip

                model, _, pre = open_clip.create_model_and_transforms(f"local-dir:{self.folder}")
                self._model, self._pre = model.eval().to(self.device), pre
            else:
                from transformers import AutoModel, CLIPImageProcessor

                model = AutoModel.from_pretrained(str(self.folder), local_files_only=True)
                try:
                    pre = CLIPImageProcessor.from_pretrained(str(self.folder), local_files_only=True)
                except OSError:  # no preprocessor_config.json: CLIP's defaults at the model's resolution
                    size = int(model.config.vision_config.image_size)
                    pre = CLIPImageProcessor(size={"shortest_edge": size}, crop_size={"height": size, "width": size})
                self._model, self._pre = model.eval().to(self.device), pre
        except ImportError as exc:
            raise ModelError(f"embed.image_encoder: {self.folder} needs {exc.name} installed") from exc
        except Exception as exc:
            raise ModelError(f"could not load the CLIP-style model from {self.folder}: {exc}") from exc

    def encode(self, paths: Sequence[str], progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        import torch
        from PIL import Image

        self._load()
        out = []
        step = 32
        for i in range(0, len(paths), step):
            images = []
            for p in paths[i:i + step]:
                try:
                    with Image.open(p) as im:
                        images.append(_flatten(im))
                except (OSError, ValueError):
                    images.append(Image.new("RGB", (64, 64), (255, 255, 255)))
            with torch.inference_mode():
                if self.backend == "open_clip":
                    batch = torch.stack([self._pre(im) for im in images]).to(self.device)
                    feats = self._model.encode_image(batch)
                else:
                    batch = self._pre(images=images, return_tensors="pt")["pixel_values"].to(self.device)
                    feats = self._model.get_image_features(pixel_values=batch)
                    feats = getattr(feats, "pooler_output", feats)
            out.append(feats.float().cpu().numpy())
            if progress is not None:
                progress(min(i + step, len(paths)), len(paths))
        return np.concatenate(out).astype(np.float32) if out else np.zeros((0, 1), np.float32)


def fit_ridge(features: np.ndarray, targets: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """The ridge head ``W`` ((d + 1) x dim, the last row a bias) mapping L2-normalised ``features`` to
    ``targets``: (XᵀX + αI)⁻¹ XᵀT over the catalog's pairs (the bias is not penalised)."""
    x = _with_bias(_l2(features))
    reg = alpha * np.eye(x.shape[1], dtype=np.float64)
    reg[-1, -1] = 0.0
    w = np.linalg.solve(x.T.astype(np.float64) @ x + reg, x.T.astype(np.float64) @ targets)
    return w.astype(np.float32)


def apply_ridge(features: np.ndarray, w: np.ndarray) -> np.ndarray:
    return _l2(_with_bias(_l2(features)) @ w)


def _with_bias(x: np.ndarray) -> np.ndarray:
    return np.concatenate([x, np.ones((len(x), 1), x.dtype)], axis=1)


def _l2(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, np.float32)
    return (v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)).astype(np.float32)


# -- cached vectors ------------------------------------------------------------------------------------------

def cached_encode(encoder, items: Sequence[Item], store: Store | None,
                  progress: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, int]:
    """Each item's image through ``encoder`` (rows aligned with ``items``), from the store's cache by image hash
    when there; returns (vectors, images encoded now)."""
    shas = [it.image_sha or it.image for it in items]
    unique = dict(zip(shas, (it.image for it in items)))
    found: dict[str, np.ndarray] = {}
    if store is not None:
        wanted = list(unique)
        for i in range(0, len(wanted), _STORE_CHUNK):
            for h, blob in store.embeddings.get(wanted[i:i + _STORE_CHUNK], encoder.model_id).items():
                found[h] = np.frombuffer(blob, np.float32)
    missing = [h for h in unique if h not in found]
    if missing:
        vecs = encoder.encode([unique[h] for h in missing], progress=progress)
        found.update(zip(missing, vecs))
        if store is not None:
            for i in range(0, len(missing), _STORE_CHUNK):
                store.embeddings.put(encoder.model_id, {h: found[h].astype(np.float32).tobytes()
                                                        for h in missing[i:i + _STORE_CHUNK]})
    elif progress is not None:
        progress(len(unique), len(unique))
    if not items:
        return np.zeros((0, 1), np.float32), 0
    return np.stack([found[h] for h in shas]).astype(np.float32), len(missing)


def settings_json(settings: EncoderSettings) -> dict:
    return asdict(settings)
