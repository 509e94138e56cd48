"""Text-embedding backends side by side on the same texts: sentence-transformers (torch) vs ONNX Runtime
float32 and int8 vs OpenVINO float32 and bfloat16 (where the CPU has it), with their quality against the torch
vectors.

    .venv/bin/python bench/bench_embed.py [--texts N] [--repeat 3] [--batch-size 128] [--json FILE]

The texts are the item texts (``sitegen.core.text.item_text``) of the fashion-44k catalog's first rows
(``../shared/datasets/fashion-44k``), unique; without that dataset, the example site's catalog. Each backend
embeds all of them ``--repeat`` times in this one process (the model loaded and warmed first, not timed); the
table gives the median texts/s and, against the torch vectors, the mean cosine and the mean top-10 neighbour
overlap (the precision guard's measure, ``sitegen.engines.embed.neighbour_overlap``). Threads: every CPU this
process may use.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

from sitegen.core.text import item_text
from sitegen.engines.embed import Embedder, cpu_has_bf16, neighbour_overlap

ROOT = Path(__file__).resolve().parents[1]
DATASET = ROOT.parent / "shared" / "datasets" / "fashion-44k"


def catalog_texts(limit: int) -> tuple[str, list[str]]:
    """The unique item texts of the first ``limit`` catalog rows (fashion-44k, else the example site)."""
    import csv
    import tempfile

    from sitegen.core.config import load_config
    from sitegen.ingest.load import load_catalog

    work = Path(tempfile.mkdtemp(prefix="sitegen-bench-embed-"))
    if (DATASET / "catalog.csv").is_file():
        with open(DATASET / "catalog.csv", newline="", encoding="utf-8") as src, \
                open(work / "catalog.csv", "w", newline="", encoding="utf-8") as dst:
            reader = csv.reader(src)
            writer = csv.writer(dst)
            for n, row in enumerate(reader):
                if n > limit:
                    break
                writer.writerow(row)
        (work / "site.toml").write_text(
            '[site]\ntitle = "bench"\nbase_url = "https://example.org/"\n[catalog]\n'
            f'path = "catalog.csv"\nimages_dir = "{DATASET}"\n[catalog.columns]\ncategory = "article_type"\n',
            encoding="utf-8")
        cfg, name = load_config(work / "site.toml"), "fashion-44k"
    else:
        cfg, name = load_config(ROOT / "site.toml"), "the example site"
    items = load_catalog(cfg.catalog, cfg.root, image_cache_dir=work / "images").items
    return name, list(dict.fromkeys(item_text(i) for i in items))[:limit]


def run(texts: list[str], backend: str, precision: str, batch_size: int, repeat: int) -> tuple[float, np.ndarray]:
    e = Embedder(device="cpu", backend=backend, precision=precision, batch_size=batch_size)
    e._decided, e.guard = True, None  # measure the precision itself, whatever the guard would say
    e.encode(texts[:batch_size])  # load and warm
    rates, vectors = [], None
    for _ in range(repeat):
        e.clear_memory()
        t = time.perf_counter()
        vectors = e.encode(texts)
        rates.append(len(texts) / (time.perf_counter() - t))
    return statistics.median(rates), vectors


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--texts", type=int, default=8000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    name, texts = catalog_texts(a.texts)
    print(f"{len(texts):,} unique item texts of {name}; batch {a.batch_size}; median of {a.repeat}")
    rows, ref = [], None
    variants = [("torch", "fp32"), ("onnx", "fp32"), ("onnx", "int8"), ("openvino", "fp32")]
    if cpu_has_bf16():
        variants.append(("openvino", "bf16"))
    else:
        print("  (openvino bf16 skipped: this CPU has no native bfloat16)")
    for backend, precision in variants:
        rate, vectors = run(texts, backend, precision, a.batch_size, a.repeat)
        if ref is None:
            ref = vectors
        rows.append({"backend": backend, "precision": precision, "texts_per_s": round(rate, 1),
                     "mean_cosine": round(float(np.mean(np.sum(vectors * ref, axis=1))), 6),
                     "top10_overlap": round(neighbour_overlap(ref, vectors, 10), 4)})
        r = rows[-1]
        print(f"  {backend:8s} {precision:4s} {r['texts_per_s']:8.1f} texts/s  ×{rate / rows[0]['texts_per_s']:.2f}"
              f"  cosine {r['mean_cosine']:.6f}  top-10 overlap {r['top10_overlap']:.4f}", flush=True)
    if a.json:
        a.json.write_text(json.dumps({"texts": len(texts), "source": name, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
