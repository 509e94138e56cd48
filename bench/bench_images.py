"""Peak memory of the image stages on large images: load (validation), colours and thumbnails.

Writes ``--count`` PNGs (or JPEGs) of about ``--pixels`` pixels each into ``--work`` with a catalog naming
them, then runs, in a fresh child process, the loader (``load_catalog``), the colour extraction
(``cached_traits``) and the thumbnails (``make_thumbnails``) on them, and prints the peak resident memory
(``ru_maxrss``) after each stage as JSON. Run it from the repository root:

    python bench/bench_images.py                      # four 40-MP PNGs
    python bench/bench_images.py --count 4 --format JPEG
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path


def make_images(work: Path, count: int, pixels: int, fmt: str) -> None:
    import numpy as np
    from PIL import Image

    w = int((pixels * 3 / 2) ** 0.5)
    h = pixels // w
    ext = "png" if fmt == "PNG" else "jpg"
    (work / "images").mkdir(parents=True, exist_ok=True)
    lines = ["id,title,category,image"]
    for n in range(count):
        path = work / "images" / f"big-{n}.{ext}"
        lines.append(f"big-{n},Large picture {n},Pictures,big-{n}.{ext}")
        if path.exists():
            continue
        x = np.linspace(0, 255, w, dtype=np.float32)[None, :]
        y = np.linspace(0, 255, h, dtype=np.float32)[:, None]
        rgb = np.empty((h, w, 3), dtype=np.uint8)
        rgb[..., 0] = (x + 0 * y).astype(np.uint8)
        rgb[..., 1] = (y + 0 * x).astype(np.uint8)
        rgb[..., 2] = ((x + y + 40 * n) / 2 % 256).astype(np.uint8)
        Image.fromarray(rgb).save(path, fmt, **({"compress_level": 1} if fmt == "PNG" else {"quality": 85}))
    (work / "catalog.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def measure(work: Path) -> dict:
    import resource

    from sitegen.core.config import CatalogSection
    from sitegen.ingest.colours import cached_traits
    from sitegen.ingest.load import load_catalog
    from sitegen.publish.media import make_thumbnails

    def peak_mb() -> float:
        return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)

    out = {"start_mb": peak_mb()}
    cfg = CatalogSection(path="catalog.csv", images_dir="images")
    loaded = load_catalog(cfg, work, image_cache_dir=work / ".cache" / "images")
    out["load_mb"] = peak_mb()
    out["accepted"] = len(loaded.items)
    out["rejected"] = [f"{r.reason}: {r.detail}" for r in loaded.rejections]
    traits = cached_traits(loaded.items)
    out["colours_mb"] = peak_mb()
    out["colours"] = {k: [c for c, _ in t.colours] for k, t in sorted(traits.items())}
    sets = make_thumbnails(loaded.items, [160, 320, 640], work / ".cache" / f"thumbs-{os.getpid()}")
    out["thumbnails_mb"] = peak_mb()
    out["thumbnails"] = sum(len(s.renditions) for s in sets.values())
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=4)
    ap.add_argument("--pixels", type=int, default=39_900_000)
    ap.add_argument("--format", choices=("PNG", "JPEG"), default="PNG")
    ap.add_argument("--work", default="")
    ap.add_argument("--measure", default="", help=argparse.SUPPRESS)  # the measuring child process
    ap.add_argument("--make", action="store_true", help=argparse.SUPPRESS)  # the child writing the images
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure(Path(args.measure))))
        return 0
    work = Path(args.work or tempfile.mkdtemp(prefix="sitegen-bench-images-"))
    if args.make:
        make_images(work, args.count, args.pixels, args.format)
        return 0
    # both steps in child processes: ru_maxrss survives fork + exec, so this process must stay small
    subprocess.run([sys.executable, __file__, "--make", "--work", str(work), "--count", str(args.count),
                    "--pixels", str(args.pixels), "--format", args.format], check=True)
    child = subprocess.run([sys.executable, __file__, "--measure", str(work)], capture_output=True, text=True)
    if child.returncode:
        sys.stderr.write(child.stderr)
        return 1
    result = json.loads(child.stdout.strip().splitlines()[-1])
    result.update(count=args.count, pixels=args.pixels, format=args.format, work=str(work))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
