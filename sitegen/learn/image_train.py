"""``sitegen train image``: the catalog image encoder, a small CNN trained from scratch on the catalog's own
(image, text) pairs so that each image lands next to its item's text in the frozen text-embedding space
(all-MiniLM-L6-v2, 384-d; the text model is not trained).

Losses, per batch:

- image -> text softmax (InfoNCE, as in CLIP, one direction): each image against *every* distinct item text of the
  training split (identical texts are one column, so two items with the same text are not each other's
  negatives), with a learnt temperature (``EncoderSettings.learn_temperature``; its initial value
  ``temperature``);
- item -> item (supervised contrastive, weight ``item_weight``): images of items in the same *group* pull
  together. Before a build has made collections, the group is what the catalog says an item is: its category
  and its attribute values, lower-cased (for the fashion catalog: article type, master / sub category, colour,
  usage); items with a catalog category and no attributes group by category alone.

Only items with real text train it (``core.text.weak_text`` items - a file-name title and nothing else - have
no text to align with). A seeded ``holdout`` share of the pairs is kept out for early stopping: training stops
after ``patience`` epochs without a lower held-out image -> text loss, and the best epoch's weights are kept.
The folder gets ``model.pt`` (the state dict) and ``config.json`` (settings, fingerprint, losses); the
fingerprint hashes the training pairs (image content hashes and text hashes), the text model's id and the
settings, so ``sitegen train image`` knows when the saved encoder is current.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from sitegen.core.text import item_text, normalise, weak_text
from sitegen.engines.image import CONFIG_FILE, MODEL_FILE, EncoderSettings, build_network, colour_histograms, \
    load_pixels, set_threads, settings_json, to_tensor
from sitegen.store.db import text_hash

if TYPE_CHECKING:
    from sitegen.core.models import Item

Progress = Callable[[int, int], None]


@dataclass
class TrainResult:
    model_dir: Path
    fingerprint: str
    pairs: int  # items that trained it (train + held out)
    held_out: int
    epochs: int  # epochs run
    best_epoch: int
    steps: int
    stopped_early: bool
    initial_loss: float  # held-out image -> text loss before training
    best_loss: float  # ... at the best epoch
    train_losses: list[float] = field(default_factory=list)  # per epoch (total loss)
    held_out_losses: list[float] = field(default_factory=list)
    held_out_top1: float = 0.0  # share of held-out images whose own text is the nearest of all texts
    seconds: float = 0.0
    temperature: float = 0.0


def group_key(item: Item) -> str:
    """What the item-item loss groups by: the catalog's category and attribute values (not the title)."""
    values = [item.category] + [v for _, v in item.attributes]
    return " | ".join(normalise(v) for v in values if v.strip())


def training_items(items: Sequence[Item]) -> list[Item]:
    """The items with text to align with: not ``weak_text``, one per image (the first)."""
    seen: set[str] = set()
    out = []
    for it in items:
        key = it.image_sha or it.image
        if not weak_text(it) and key not in seen:
            seen.add(key)
            out.append(it)
    return out


def fingerprint(items: Sequence[Item], texts: Sequence[str], text_model_id: str, settings: EncoderSettings) -> str:
    """The hash of what an encoder is trained on: the pairs (image hash, text hash, group), the text model and
    the settings."""
    h = hashlib.sha256(f"text-model:{text_model_id}\n".encode())
    h.update(json.dumps(settings_json(settings), sort_keys=True).encode())
    for it, t in sorted(zip(items, texts), key=lambda p: (p[0].image_sha, p[0].id)):
        h.update(f"{it.image_sha}\0{text_hash(t)}\0{group_key(it)}\n".encode())
    return h.hexdigest()[:24]


def saved_fingerprint(model_dir: Path) -> str:
    try:
        return str(json.loads((Path(model_dir) / CONFIG_FILE).read_text(encoding="utf-8")).get("fingerprint", ""))
    except (OSError, ValueError):
        return ""


def train_catalog_encoder(items: Sequence[Item], embed_texts: Callable[[Sequence[str]], np.ndarray],
                          model_dir: Path, *, text_model_id: str, settings: EncoderSettings | None = None,
                          progress: Callable[[str], Progress | None] | None = None) -> TrainResult:
    """Train the catalog encoder on ``items``' (image, ``item_text``) pairs and save it to ``model_dir``.
    ``embed_texts``: the site's text embedder (``Embedder.encode``), whose vectors are the frozen targets.
    ``progress(name)`` returns a ``(done, total)`` callback for "images" (loading) and "train" (steps)."""
    settings = settings or EncoderSettings()
    progress = progress or (lambda _name: None)
    chosen = training_items(items)
    if len(chosen) < 4:
        raise ValueError(f"the image encoder needs at least 4 items with text and an image (found {len(chosen)})")
    texts = [item_text(it) for it in chosen]
    fp = fingerprint(chosen, texts, text_model_id, settings)
    text_vectors = np.asarray(embed_texts(texts), np.float32)
    pixels = load_pixels([it.image for it in chosen], settings.image_width, settings.image_height,
                         progress("images"))
    groups = [group_key(it) for it in chosen]
    return train_encoder(pixels, texts, text_vectors, groups, Path(model_dir), settings, fp,
                         progress=progress("train"))


def train_encoder(pixels: np.ndarray, texts: Sequence[str], text_vectors: np.ndarray, groups: Sequence[str],
                  model_dir: Path, settings: EncoderSettings, fp: str, *,
                  progress: Progress | None = None) -> TrainResult:
    """The training loop on arrays (uint8 pixels (n, h, w, 3), one text and group per image, the texts' unit
    vectors); saves the best epoch's weights to ``model_dir`` and returns what happened."""
    import torch
    from torch.nn import functional as F

    t0 = time.perf_counter()
    set_threads()
    s = settings
    torch.manual_seed(s.seed)
    rng = np.random.default_rng(s.seed)
    n = len(pixels)
    # distinct texts: one column each in the image -> text softmax
    column: dict[str, int] = {}
    for t in texts:
        column.setdefault(t, len(column))
    target = np.array([column[t] for t in texts], np.int64)
    bank = np.zeros((len(column), text_vectors.shape[1]), np.float32)
    for t, v in zip(texts, text_vectors):
        bank[column[t]] = v
    group_ids = {g: i for i, g in enumerate(dict.fromkeys(groups))}
    group = np.array([group_ids[g] for g in groups], np.int64)

    order = rng.permutation(n)
    n_val = int(round(n * s.holdout)) if n >= 20 else 0
    val, train = np.sort(order[:n_val]), order[n_val:]
    train_cols = np.unique(target[train])  # the training softmax sees only the training split's texts
    col_pos = np.full(len(column), -1, np.int64)
    col_pos[train_cols] = np.arange(len(train_cols))

    images_t = to_tensor(pixels)
    hists_t = torch.from_numpy(colour_histograms(pixels, s.hist_bins))
    bank_t = torch.from_numpy(bank)
    train_bank = bank_t[torch.from_numpy(train_cols)]
    target_t, group_t = torch.from_numpy(target), torch.from_numpy(group)

    net = build_network(s)
    decay = [p for name, p in net.named_parameters() if p.ndim > 1]
    rest = [p for name, p in net.named_parameters() if p.ndim <= 1 and name != "logit_scale"]
    params = [{"params": decay, "weight_decay": s.weight_decay}, {"params": rest, "weight_decay": 0.0}]
    if s.learn_temperature:
        params.append({"params": [net.logit_scale], "weight_decay": 0.0})
    opt = torch.optim.AdamW(params, lr=s.lr)
    batch = max(2, min(s.batch_size, len(train)))
    per_epoch = max(1, len(train) // batch)
    total = per_epoch * s.epochs if not s.max_steps else min(per_epoch * s.epochs, s.max_steps)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=s.lr, total_steps=max(total, 1), pct_start=0.1)

    def held_out() -> tuple[float, float]:
        """Image -> text loss of the held-out images over every distinct text, and their top-1 rate."""
        idx = val if len(val) else train[: min(len(train), 512)]
        net.eval()
        with torch.inference_mode():
            out = torch.cat([net(images_t[idx[i:i + 256]], hists_t[idx[i:i + 256]])
                             for i in range(0, len(idx), 256)])
            logits = out @ bank_t.T * net.logit_scale.exp().clamp(max=100.0)
            y = target_t[idx]
            loss = float(F.cross_entropy(logits, y))
            top1 = float((logits.argmax(dim=1) == y).float().mean())
        net.train()
        return loss, top1

    initial, _ = held_out()
    result = TrainResult(model_dir, fp, n, len(val), 0, 0, 0, False, round(initial, 4), round(initial, 4))
    best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
    best, since, steps = initial, 0, 0
    net.train()
    for epoch in range(s.epochs):
        perm = train[rng.permutation(len(train))]
        losses = []
        for b in range(per_epoch):
            if s.max_steps and steps >= s.max_steps:
                break
            idx = torch.from_numpy(perm[b * batch:(b + 1) * batch])
            x = images_t[idx]
            if s.augment:
                x = _augment(x, rng)
            out = net(x, hists_t[idx])
            scale = net.logit_scale.exp().clamp(max=100.0)
            y = torch.from_numpy(col_pos[target[idx.numpy()]])
            loss = F.cross_entropy(out @ train_bank.T * scale, y)
            if s.item_weight > 0:
                loss = loss + s.item_weight * _item_item_loss(out, group_t[idx], s.item_temperature)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            steps += 1
            losses.append(float(loss.detach()))
            if progress is not None:
                progress(steps, total)
        if not losses:
            break
        result.train_losses.append(round(float(np.mean(losses)), 4))
        loss_val, top1 = held_out()
        result.held_out_losses.append(round(loss_val, 4))
        result.epochs = epoch + 1
        if loss_val < best - 1e-4:
            best, since = loss_val, 0
            result.best_epoch, result.held_out_top1 = epoch + 1, round(top1, 4)
            best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        else:
            since += 1
            if since >= s.patience:
                result.stopped_early = True
                break
    net.load_state_dict(best_state)
    result.steps, result.best_loss = steps, round(best, 4)
    result.temperature = round(float(1.0 / net.logit_scale.detach().exp().clamp(max=100.0)), 5)
    result.seconds = round(time.perf_counter() - t0, 1)
    save(net, model_dir, s, result)
    return result


def _augment(x, rng: np.random.Generator):
    """Random horizontal flips, shifts of up to 1/8 of the size (edges replicated) and brightness / contrast."""
    import torch

    n, _, h, w = x.shape
    flip = torch.from_numpy(rng.random(n) < 0.5)
    x = torch.where(flip.view(n, 1, 1, 1), x.flip(3), x)
    dy, dx = int(rng.integers(-(h // 8), h // 8 + 1)), int(rng.integers(-(w // 8), w // 8 + 1))
    if dy or dx:
        pad = torch.nn.functional.pad(x, (w // 8, w // 8, h // 8, h // 8), mode="replicate")
        x = pad[:, :, h // 8 + dy:h // 8 + dy + h, w // 8 + dx:w // 8 + dx + w]
    gain = torch.from_numpy(rng.uniform(0.85, 1.15, (n, 1, 1, 1)).astype(np.float32))
    shift = torch.from_numpy(rng.uniform(-0.15, 0.15, (n, 1, 1, 1)).astype(np.float32))
    return x * gain + shift


def _item_item_loss(out, group, temperature: float):
    """Supervised contrastive loss over the batch: each image's positives are the other images of its group;
    images alone in their group in this batch do not count."""
    import torch

    sims = out @ out.T / temperature
    n = len(out)
    eye = torch.eye(n, dtype=torch.bool)
    sims = sims.masked_fill(eye, float("-inf"))
    pos = (group.view(-1, 1) == group.view(1, -1)) & ~eye
    has = pos.any(dim=1)
    if not bool(has.any()):
        return out.sum() * 0.0
    log_prob = sims - torch.logsumexp(sims, dim=1, keepdim=True)
    log_prob = log_prob.masked_fill(~pos, 0.0)
    per = log_prob.sum(dim=1)[has] / pos.sum(dim=1)[has]
    return -per.mean()


def save(net, model_dir: Path, settings: EncoderSettings, result: TrainResult) -> None:
    """``model.pt`` and ``config.json``, written to a temporary name and renamed, so a killed run never leaves
    half a model."""
    import torch

    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    tmp_model = model_dir / f".{MODEL_FILE}.{os.getpid()}"
    torch.save(net.state_dict(), tmp_model)
    config = {"kind": "sitegen-catalog-image-encoder", "version": 1, "fingerprint": result.fingerprint,
              "settings": settings_json(settings), "dim": settings.dim,
              "training": {k: v for k, v in result.__dict__.items() if k not in ("model_dir",)}}
    tmp_cfg = model_dir / f".{CONFIG_FILE}.{os.getpid()}"
    tmp_cfg.write_text(json.dumps(config, indent=2, default=str), encoding="utf-8")
    os.replace(tmp_model, model_dir / MODEL_FILE)
    os.replace(tmp_cfg, model_dir / CONFIG_FILE)

