"""Benchmark ``sitegen build`` on the fashion-44k catalog at several sizes.

For each size a child process writes a site (``site.toml`` + a seeded subset of the catalog; images are read
from the dataset folder), runs the real orchestrator ``sitegen.pipeline.build.build_site`` on a fresh store, then runs it
again with nothing changed. Each size runs in its own process so its peak memory (``ru_maxrss``) is its own.

    python bench/bench_build.py                      # 2000, 10000 and all 44,072 items
    python bench/bench_build.py --sizes 2000,10000   # some sizes
    python bench/bench_build.py --sizes 500 --work /tmp/bench --json results.json

See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATASET = ROOT.parent / "shared" / "datasets" / "fashion-44k"


def _write_site(site: Path, dataset: Path, size: int, seed: int) -> Path:
    from sitegen.learn.evaluate import read_rows, subset, write_subset

    rows = read_rows(dataset)
    chosen = subset(rows, size, seed) if size < len(rows) else rows
    write_subset(chosen, site / "content" / "catalog.csv")
    (site / "content" / "pages").mkdir(parents=True, exist_ok=True)
    toml = f"""[site]
title = "Fashion finder (benchmark, {len(chosen)} items)"
base_url = "https://fashion.example.org/"
description = "Fashion products gathered into collections for what people search for."

[catalog]
path = "content/catalog.csv"
images_dir = {json.dumps(str(dataset.resolve()))}
columns = {{ category = "article_type" }}

[build]
output = "build"
store = ".sitegen/site.duckdb"
progress = false
"""
    (site / "site.toml").write_text(toml, encoding="utf-8")
    return site / "site.toml"


def _one(size: int, work: Path, dataset: Path, seed: int) -> dict:
    """Child process: build a site of ``size`` items twice and report the timings and peak memory."""
    sys.path.insert(0, str(ROOT))
    from sitegen.pipeline.build import build_site
    from sitegen.core.config import load_config

    site = work / f"fashion-{size}"
    if site.exists():
        import shutil

        shutil.rmtree(site)
    cfg = load_config(_write_site(site, dataset, size, seed))
    out: dict = {"size": size, "site": str(site)}
    for run in ("cold", "rebuild"):
        t0 = time.perf_counter()
        result = build_site(cfg)
        total = time.perf_counter() - t0
        s = result.summary
        stages = {st.name: round(st.seconds, 2) for st in s.stages}
        pages = sum(s.pages_by_kind.values())
        render = stages.get("render", 0.0)
        out[run] = {"seconds": round(total, 2), "stages": stages, "items": s.items_accepted, "pages": pages,
                    "pages_by_kind": s.pages_by_kind, "pages_written": s.pages_written,
                    "pages_unchanged": s.pages_unchanged,
                    "render_pages_per_s": round(pages / render, 1) if render else None,
                    "texts_embedded": s.counters.get("texts_embedded"), "collections": s.counters.get("collections"),
                    "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    return out


def _table(results: list[dict]) -> str:
    stage_names: list[str] = []
    for r in results:
        for run in ("cold", "rebuild"):
            for name in r.get(run, {}).get("stages", {}):
                if name not in stage_names:
                    stage_names.append(name)
    head = ["items", "run", "total s", *stage_names, "pages", "pages/s (render)", "peak MiB"]
    lines = [head]
    for r in results:
        if "error" in r:
            lines.append([str(r["size"]), "error", r["error"][-60:]] + [""] * (len(head) - 3))
            continue
        for run in ("cold", "rebuild"):
            d = r[run]
            lines.append([str(d["items"]), run, f"{d['seconds']:.1f}",
                          *(f"{d['stages'].get(n, 0):.1f}" for n in stage_names), str(d["pages"]),
                          str(d["render_pages_per_s"]), f"{d['peak_rss_mib']:.0f}"])
    widths = [max(len(row[i]) for row in lines) for i in range(len(head))]
    return "\n".join("  ".join(cell.rjust(w) for cell, w in zip(row, widths)) for row in lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="2000,10000,all", help="comma-separated item counts; 'all' = whole catalog")
    ap.add_argument("--dataset", type=Path, default=DATASET, help="fashion-44k folder (catalog.csv + images/)")
    ap.add_argument("--work", type=Path, default=None, help="folder for the benchmark sites (default: a temp dir)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the subset draw")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    ap.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)  # child mode
    args = ap.parse_args(argv)
    if not (args.dataset / "catalog.csv").is_file():
        print(f"fashion-44k not found at {args.dataset} (expected ../shared beside the checkout)", file=sys.stderr)
        return 2
    work = args.work or Path(tempfile.mkdtemp(prefix="sitegen-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    if args.one is not None:
        print("RESULT " + json.dumps(_one(args.one, work, args.dataset, args.seed)), flush=True)
        return 0
    with open(args.dataset / "catalog.csv", encoding="utf-8") as f:
        total_rows = sum(1 for _ in f) - 1
    sizes = [total_rows if s.strip() == "all" else min(int(s), total_rows) for s in args.sizes.split(",") if s.strip()]
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    env.setdefault("SOURCE_DATE_EPOCH", "1767225600")
    results = []
    for size in sizes:
        print(f"building {size} items in {work} ...", file=sys.stderr, flush=True)
        proc = subprocess.run([sys.executable, __file__, "--one", str(size), "--work", str(work),
                               "--dataset", str(args.dataset), "--seed", str(args.seed)],
                              capture_output=True, text=True, env=env, check=False)
        line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
        if proc.returncode or line is None:
            results.append({"size": size, "error": (proc.stderr or proc.stdout).strip()[-2000:]})
            print(results[-1]["error"], file=sys.stderr)
        else:
            results.append(json.loads(line[len("RESULT "):]))
    print(_table(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
