"""Training the two-tower model (torch, imported only here): margin ranking on cosine scores.

Each step takes a batch of training positives (item, query) and one negative query per item (hard with
probability ``two_tower.hard_negatives``, else random; drawn again every epoch, seeded), and minimises
``max(0, margin - cos(item, positive) + cos(item, negative))`` (``two_tower.margin``, 0.95 as in VASE) with Adam
(``two_tower.lr``). Training runs a fixed ``two_tower.epochs`` (the held-out items are only measured, never used
to choose weights). The decision threshold saved with the model is the cosine that best separates the training
positives from their negatives (balanced accuracy). Seeded and deterministic on the CPU.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from sitegen.learn.twotower.model import HIDDEN, ITEM_DIM, OUT, QUERY_DIM, TwoTowerModel, tower_names
from sitegen.learn.twotower.pairs import TrainingPairs

Progress = Callable[[int, int, float], None] | None
MINED = 10  # hard negatives mined per item from the model's own ranking, each epoch after the first
_MINE_BLOCK = 2048


@dataclass
class TrainResult:
    model: TwoTowerModel
    losses: list[float]  # mean training loss per epoch
    first_loss: float  # mean loss of the first logged steps (before most learning)
    steps: int
    seconds: float
    device: str
    threads: int
    examples: int
    stats: dict = field(default_factory=dict)


def _net(dropout: float):
    import torch
    from torch import nn

    class Tower(nn.Module):
        def __init__(self, dim: int):
            super().__init__()
            layers: list[nn.Module] = []
            prev = dim
            for h in HIDDEN:
                layers += [nn.Linear(prev, h), nn.LayerNorm(h), nn.ReLU(), nn.Dropout(dropout)]
                prev = h
            layers.append(nn.Linear(prev, OUT))
            self.layers = nn.Sequential(*layers)

        def forward(self, x):
            return nn.functional.normalize(self.layers(x), dim=-1)

    class TwoTowerNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.item = Tower(ITEM_DIM)
            self.query = Tower(QUERY_DIM)

    del torch
    return TwoTowerNet()


def resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def best_threshold(pos: np.ndarray, neg: np.ndarray) -> float:
    """The cosine that best separates ``pos`` from ``neg`` scores (balanced accuracy; the middle of ties)."""
    if not len(pos) or not len(neg):
        return 0.0
    grid = np.linspace(-1.0, 1.0, 401)
    acc = ((pos[None, :] >= grid[:, None]).mean(axis=1) + (neg[None, :] < grid[:, None]).mean(axis=1)) / 2
    best = np.flatnonzero(acc >= acc.max() - 1e-12)
    return float(grid[best].mean())


def mine(net, items_t, queries_t, pairs: TrainingPairs, items: np.ndarray, device: str,
         k: int = MINED) -> np.ndarray:
    """(len(items), k) int64: each item's ``k`` best-scored queries under the current towers that it is not
    known relevant to (-1 pads), for the items given (repeats share one search)."""
    import torch

    unique, back = np.unique(items, return_inverse=True)
    with torch.no_grad():
        v = net.query(queries_t)
        out = np.full((len(unique), k), -1, np.int64)
        wide = min(k * 4, v.shape[0])
        for start in range(0, len(unique), _MINE_BLOCK):
            rows = unique[start:start + _MINE_BLOCK]
            sims = net.item(items_t[torch.from_numpy(rows).to(device)]) @ v.T
            top = torch.topk(sims, wide, dim=1).indices.cpu().numpy()
            ok = ~pairs.is_known(np.repeat(rows, wide), top.ravel()).reshape(top.shape)
            for r in range(len(rows)):
                got = top[r][ok[r]][:k]
                out[start + r, :len(got)] = got
    return out[back]


def data_hash(pairs: TrainingPairs) -> str:
    h = hashlib.sha256()
    h.update("\n".join(pairs.corpus.texts).encode())
    h.update(pairs.positives.tobytes())
    h.update(pairs.heldout_items.tobytes())
    return h.hexdigest()[:16]


def fit(pairs: TrainingPairs, item_x: np.ndarray, query_x: np.ndarray, settings, *,
        max_steps: int | None = None, progress: Progress = None, in_batch: bool = True,
        mined_share: float = 0.5) -> TrainResult:
    """Train on ``pairs.train`` with ``settings`` (a ``TwoTowerSection``); ``item_x`` / ``query_x``: the towers'
    inputs (``model.item_inputs`` / ``query_inputs``) of every item and of every corpus query."""
    import torch

    started = time.perf_counter()
    device = resolve_device(settings.device)
    torch.manual_seed(settings.seed)
    if device == "cpu":
        torch.use_deterministic_algorithms(True)
    net = _net(settings.dropout).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=settings.lr)
    items_t = torch.from_numpy(np.ascontiguousarray(item_x, np.float32)).to(device)
    queries_t = torch.from_numpy(np.ascontiguousarray(query_x, np.float32)).to(device)
    train = pairs.train
    rng = np.random.default_rng(settings.seed)
    bs = settings.batch_size
    per_epoch = max(1, -(-len(train) // bs)) if len(train) else 0
    total = per_epoch * settings.epochs if max_steps is None else min(max_steps, per_epoch * settings.epochs)
    losses: list[float] = []
    first: list[float] = []
    step = 0
    net.train()
    for _epoch in range(settings.epochs):
        if step >= total:
            break
        order = rng.permutation(len(train))
        negs = pairs.negatives(train[order, 0], rng)
        if _epoch and mined_share > 0:  # half the hard draws from what the model now ranks too high
            net.eval()
            mined = mine(net, items_t, queries_t, pairs, train[order, 0], device)
            net.train()
            swap = (rng.random(len(order)) < settings.hard_negatives * mined_share) & (mined[:, 0] >= 0)
            pick = rng.integers(0, mined.shape[1], int(swap.sum()))
            got = mined[np.flatnonzero(swap), pick]
            negs[np.flatnonzero(swap)[got >= 0]] = got[got >= 0]
        epoch_losses = []
        for start in range(0, len(order), bs):
            if step >= total:
                break
            rows = order[start:start + bs]
            i = torch.from_numpy(train[rows, 0]).to(device)
            p = torch.from_numpy(train[rows, 1]).to(device)
            n = torch.from_numpy(negs[start:start + bs]).to(device)
            u = net.item(items_t[i])
            vp = net.query(queries_t[p])
            s_pos = (u * vp).sum(-1)
            s_neg = (u * net.query(queries_t[n])).sum(-1)
            loss = torch.clamp(settings.margin - s_pos + s_neg, min=0.0).mean()
            if in_batch:  # every other positive query of the batch is a negative too, unless known relevant
                ok = ~pairs.is_known(np.repeat(train[rows, 0], len(rows)), np.tile(train[rows, 1], len(rows)))
                mask = torch.from_numpy(ok.reshape(len(rows), len(rows))).to(device)
                hinge = torch.clamp(settings.margin - s_pos[:, None] + u @ vp.T, min=0.0)
                loss = loss + (hinge * mask).sum() / mask.sum().clamp(min=1)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            value = float(loss.detach())
            epoch_losses.append(value)
            if len(first) < 5:
                first.append(value)
            if progress is not None:
                progress(step, total, value)
        if epoch_losses:
            losses.append(float(np.mean(epoch_losses)))
    net.eval()
    state = {k: v.detach().cpu().numpy().astype(np.float32) for k, v in net.state_dict().items()}
    weights = {k: state[k] for p in ("item", "query") for k in tower_names(p)}
    model = TwoTowerModel(weights, {})
    threshold = 0.0
    if len(train):
        sample = train[rng.permutation(len(train))[:20000]]
        neg = pairs.negatives(sample[:, 0], rng)
        u = model.encode_items(item_x[sample[:, 0]])
        qv = model.encode_queries(query_x)
        threshold = best_threshold((u * qv[sample[:, 1]]).sum(1), (u * qv[neg]).sum(1))
    seconds = time.perf_counter() - started
    threads = torch.get_num_threads()
    model.spec = {
        "threshold": round(threshold, 4),
        "settings": {"epochs": settings.epochs, "lr": settings.lr, "batch_size": bs, "dropout": settings.dropout,
                     "margin": settings.margin, "hard_negatives": settings.hard_negatives,
                     "holdout": settings.holdout, "seed": settings.seed, "device": device},
        "architecture": {"item_dim": ITEM_DIM, "query_dim": QUERY_DIM, "hidden": list(HIDDEN), "out": OUT},
        "training": {"pairs": int(len(train)), "steps": step, "seconds": round(seconds, 2), "threads": threads,
                     "losses": [round(x, 5) for x in losses], "sources": pairs.sources,
                     "queries": len(pairs.corpus.texts), "targets": pairs.corpus.targets,
                     "heldout_items": int(pairs.heldout_items.sum()), "heldout_pairs": int(len(pairs.heldout))},
        "data": data_hash(pairs),
    }
    return TrainResult(model, losses, float(np.mean(first)) if first else 0.0, step, seconds, device, threads,
                       int(len(train)))
