"""The ``ray`` runner (``runner.kind = "ray"``): the GEO stages run in order in this process, as with ``local``,
and their model work runs on a Ray cluster as Ray Data ``map_batches`` over Parquet files, with callable classes
(an actor pool; each actor loads the model once). Text embedding is that work today: every text the embed and
represent stages send to the model (items, candidate queries, topics).

The cluster is ``runner.address`` (else ``$RAY_ADDRESS``), else a local one started for the build with
``runner.cpus`` CPUs and stopped after it. Texts go out as Arrow blocks of ``runner.rows_per_batch`` rows
through the object store; vectors come back as Parquet files written in ``runner.scratch`` (default: a folder
beside the store; on a cluster, storage every node writes and this machine reads: a shared folder or an
``s3://`` / ``gs://`` URI). The guard decides the precision here, once; the actors run the model as
decided, with ``runner.threads`` threads each (GPU actors, one GPU each, when the embedder runs on CUDA).
Graph-path vectors do not depend on their batch, so the output equals the local runner's byte for byte.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from sitegen.core.stage import Stage, StageContext, StageResults
from sitegen.pipeline.runner import LocalRunner, Timer


class _EmbedBatches:
    """A Ray Data callable class: one per actor, its model loaded once."""

    def __init__(self, spec: dict[str, Any], threads: int):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sitegen.engines.embed import Embedder

        self.embedder = Embedder.from_spec(spec, threads=threads)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = self.embedder.raw_vectors([str(t) for t in batch["text"]])
        return {"row": batch["row"], "vector": np.asarray(vectors, np.float32)}


class RayEncoder:
    """``Embedder.remote`` on a Ray cluster: texts -> raw vectors, in order."""

    def __init__(self, spec: dict[str, Any], settings: Any, scratch: str, gpu: bool):
        self.spec, self.settings, self.scratch, self.gpu = spec, settings, scratch, gpu

    def __call__(self, texts: list[str]) -> np.ndarray:
        import pyarrow as pa
        import pyarrow.parquet as pq
        import ray

        s = self.settings
        folder = f"{self.scratch.rstrip('/')}/embed-{uuid.uuid4().hex[:12]}"
        local = "://" not in folder
        if local:
            Path(folder).mkdir(parents=True, exist_ok=True)
        try:
            actors = s.actors or max(1, int(ray.cluster_resources().get("GPU" if self.gpu else "CPU", 1))
                                     // (1 if self.gpu else s.threads))
            # the texts go through the object store in Arrow blocks (a file read would need a listing task, with
            # a CPU of its own, while the actors hold them all); writing takes no CPU from the actors either
            io = {"num_cpus": 0}
            texts_table = pa.table({"row": np.arange(len(texts), dtype=np.int64), "text": texts})
            blocks = [texts_table.slice(i, s.rows_per_batch) for i in range(0, len(texts), s.rows_per_batch)]
            ds = ray.data.from_arrow(blocks).map_batches(
                _EmbedBatches, fn_constructor_kwargs={"spec": self.spec, "threads": s.threads},
                batch_size=s.rows_per_batch, batch_format="numpy",
                compute=ray.data.ActorPoolStrategy(size=min(actors, max(1, len(texts) // s.rows_per_batch + 1))),
                num_cpus=0 if self.gpu else s.threads, num_gpus=1 if self.gpu else 0)
            ds.write_parquet(f"{folder}/vectors", ray_remote_args=io)
            table = pq.read_table(f"{folder}/vectors")
        finally:
            if local:
                shutil.rmtree(folder, ignore_errors=True)
        rows = table.column("row").to_numpy()
        vectors = np.stack(table.column("vector").to_numpy(zero_copy_only=False)).astype(np.float32)
        out = np.empty((len(texts), vectors.shape[1]), np.float32)
        out[rows] = vectors
        return out


class RayRunner(LocalRunner):
    """The GEO stages in this process, their model work on Ray (see the module's text)."""

    name = "ray"

    def run(self, stages: Sequence[Stage], ctx: StageContext, results: StageResults,
            timer: Timer | None = None) -> StageResults:
        try:
            import ray
        except ImportError:
            from sitegen.core.errors import ConfigError

            raise ConfigError("runner.kind: ray needs Ray Data: pip install 'ray[data]'") from None
        s = ctx.cfg.runner
        started = not ray.is_initialized()
        if started:
            address = s.address or os.environ.get("RAY_ADDRESS") or None
            local = {} if address else {"num_cpus": s.cpus or None, "_node_ip_address": "127.0.0.1"}
            ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False, **local)
            ray.data.DataContext.get_current().enable_progress_bars = False
        embedder = ctx.embedder
        scratch = s.scratch or str(Path(ctx.cfg.store_path).parent / "ray")
        embedder.remote = RayEncoder(embedder.spec(), s, scratch, gpu=embedder.uses_gpu)
        try:
            return super().run(stages, ctx, results, timer)
        finally:
            embedder.remote = None
            if started:
                ray.shutdown()
