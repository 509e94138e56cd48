"""Responsive thumbnails: WebP renditions of every item image, cached by (image sha, width), and the
original files, published as they are under ``/media/original/`` for the item pages' view and download links.

A rendition is encoded once and kept in ``cache_dir`` under ``<sha[:2]>/<sha>-<width>.webp``; a rebuild with
unchanged images only checks that the files exist (no image is opened). Rendition sizes are computed from the
item's recorded size (``Item.width`` / ``Item.height``, the size after EXIF orientation), so the page can be
rendered without touching the image. Encoding is deterministic: same source pixels + same libwebp, same bytes.
"""

from __future__ import annotations

import os
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from sitegen.core.models import Item
from sitegen.core.urls import slugify

WEBP_QUALITY = 80
WEBP_METHOD = 2  # libwebp effort 0-6: 2 encodes twice as fast as the default 4 for files about 3% larger

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Rendition:
    url: str  # "/media/<item-slug>-320.webp"
    width: int
    height: int
    file: str = ""  # path of the cached file, relative to the cache folder


@dataclass(frozen=True, slots=True)
class Original:
    """An item's source file, published byte for byte (its metadata included)."""

    url: str  # "/media/original/<item-slug>.png"
    width: int  # as displayed (after EXIF orientation), like Item.width
    height: int
    mime: str  # "image/png"
    bytes: int
    file: str = ""  # the source path

    @property
    def name(self) -> str:
        return self.url.rsplit("/", 1)[1]

    @property
    def format(self) -> str:
        return MIME_NAMES.get(self.mime, self.mime)


@dataclass(frozen=True, slots=True)
class ImageSet:
    item_id: str
    renditions: tuple[Rendition, ...]  # ascending width
    original: Original | None = None

    @property
    def largest(self) -> Rendition | None:
        return self.renditions[-1] if self.renditions else None

    @property
    def smallest(self) -> Rendition | None:
        return self.renditions[0] if self.renditions else None

    def srcset(self) -> str:
        return ", ".join(f"{r.url} {r.width}w" for r in self.renditions)


MIME_NAMES = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WebP"}
_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}


def rendition_widths(thumbnail_widths: Sequence[int], large_width: int) -> list[int]:
    """The widths to encode: ``build.thumbnail_widths`` and ``build.large_width`` (item pages, og:image)."""
    return sorted({*thumbnail_widths, *([large_width] if large_width > 0 else [])})


def sniff_mime(head: bytes) -> str:
    """The MIME type of the image formats the loader accepts (PNG, JPEG, GIF, WebP), from the first bytes."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return ""


def original_for(item: Item) -> Original | None:
    """The published original of ``item`` (reads the file's size and first bytes), or None when it cannot
    be read or is in no format a browser shows."""
    try:
        with open(item.image, "rb") as fh:
            mime = sniff_mime(fh.read(16))
            size = os.fstat(fh.fileno()).st_size
    except OSError:
        return None
    if not mime:
        return None
    return Original(f"/media/original/{_media_slug(item)}.{_EXTENSIONS[mime]}", item.width, item.height, mime, size,
                    item.image)


def with_originals(items: Sequence[Item], sets: dict[str, ImageSet]) -> dict[str, ImageSet]:
    """``sets`` with each item's original attached (items without a published image get none)."""
    out = dict(sets)
    for item in items:
        image_set = sets.get(item.id)
        if image_set is not None and image_set.renditions:
            original = original_for(item)
            if original is not None:
                out[item.id] = ImageSet(image_set.item_id, image_set.renditions, original)
    return out


def rendition_sizes(width: int, height: int, widths: Sequence[int]) -> list[tuple[int, int]]:
    """Target (width, height) pairs: every configured width not larger than the original, plus the original
    width when it is smaller than the largest configured width. Never upscales."""
    if width <= 0 or height <= 0:
        return []
    wanted = sorted({w for w in widths if 0 < w <= width})
    if widths and width < max(widths) and width not in wanted:
        wanted.append(width)
    if not wanted:  # no widths configured: publish the original size
        wanted = [width]
    return [(w, max(1, round(height * w / width))) for w in sorted(wanted)]


def _media_slug(item: Item) -> str:
    return item.slug or slugify(item.id) or item.image_sha[:16]


def cache_file(image_sha: str, width: int) -> str:
    return f"{image_sha[:2]}/{image_sha}-{width}.webp"


def image_set_for(item: Item, widths: Sequence[int]) -> ImageSet:
    """The renditions an item will have (no I/O)."""
    slug = _media_slug(item)
    return ImageSet(item.id, tuple(
        Rendition(f"/media/{slug}-{w}.webp", w, h, cache_file(item.image_sha, w))
        for w, h in rendition_sizes(item.width, item.height, widths)))


def _prepare(img):
    """Orient, convert to sRGB-ish RGB / RGBA (alpha kept), drop metadata."""
    from PIL import ImageOps

    img = ImageOps.exif_transpose(img)
    icc = img.info.get("icc_profile")
    has_alpha = img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)
    if icc and img.mode in ("RGB", "RGBA", "CMYK"):
        try:
            import io

            from PIL import ImageCms

            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            dst = ImageCms.createProfile("sRGB")
            out_mode = "RGBA" if img.mode == "RGBA" else "RGB"
            img = ImageCms.profileToProfile(img, src, dst, outputMode=out_mode)
        except Exception:  # a broken profile: keep the pixels as they are
            pass
    target = "RGBA" if has_alpha else "RGB"
    if img.mode != target:
        img = img.convert(target)
    img.info.pop("icc_profile", None)
    img.info.pop("exif", None)
    return img


def encode_renditions(path: str, targets: list[tuple[int, int, Path]]) -> None:
    """Open ``path`` once and write each (width, height, file) target as WebP (atomically)."""
    from PIL import Image

    from sitegen.ingest.images import large_decode, reduced

    with Image.open(path) as src, large_decode(src.width * src.height):  # large images: one at a time
        biggest = max(w for w, _, _ in targets)
        if src.format == "JPEG":  # decode at a reduced scale when that is still large enough
            src.draft("RGB", (biggest * 2, biggest * 2))
        side = max(max(w, h) for w, h, _ in targets)
        img = _prepare(reduced(src, side, side))  # other large formats: shrunk by a whole factor first
        img.load()
        for w, h, dest in sorted(targets, key=lambda t: -t[0]):
            out = img if (w, h) == img.size else img.resize((w, h), Image.Resampling.LANCZOS, reducing_gap=3.0)
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(f".{dest.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            out.save(tmp, "WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD)
            os.replace(tmp, dest)


_Job = tuple[str, dict[str, tuple[int, int, Path]], list[str]]  # image path, file -> (w, h, target), item ids


def _plan(items: Sequence[Item], widths: Sequence[int], cache_dir: Path, fresh: bool
          ) -> tuple[dict[str, ImageSet], dict[str, _Job]]:
    """Every item's ImageSet, and one job per source image (several items may share the same image bytes) for
    the renditions not in the cache yet (``fresh``: all of them), by image hash."""
    sets: dict[str, ImageSet] = {}
    jobs: dict[str, _Job] = {}
    for item in items:
        image_set = image_set_for(item, widths)
        sets[item.id] = image_set
        for r in image_set.renditions:
            target = cache_dir / r.file
            job = jobs.get(item.image_sha)
            if job is not None and r.file in job[1]:
                continue
            if fresh or not os.path.exists(target):
                job = jobs.setdefault(item.image_sha, (item.image, {}, []))
                job[1][r.file] = (r.width, r.height, target)
        if item.image_sha in jobs:
            jobs[item.image_sha][2].append(item.id)
    return sets, jobs


def _encode_job(job: _Job) -> list[str]:
    """Encode one source image's renditions; the ids of its items when the image cannot be read."""
    path, targets, item_ids = job
    try:
        encode_renditions(path, list(targets.values()))
        return []
    except Exception:  # unreadable / vanished image
        return item_ids


def make_thumbnails(items: Sequence[Item], widths: Sequence[int], cache_dir: Path, *,
                    progress: Progress | None = None, workers: int = 0, fresh: bool = False) -> dict[str, ImageSet]:
    """Encode (or find in the cache; ``fresh``: encode again) every rendition of every item. Returns item id ->
    ImageSet.

    Items whose image cannot be read are left out of the result (their pages show no image); the loader
    normally rejects such rows before this stage."""
    from sitegen.ingest.images import LARGE_PIXELS

    cache_dir = Path(cache_dir)
    sets, jobs = _plan(items, widths, cache_dir, fresh)
    todo = [jobs[sha] for sha in sorted(jobs)]
    total = len(items)
    done = total - sum(len(job[2]) for job in todo)
    if progress:
        progress(done, total)
    if not todo:
        return sets

    # large images are decoded one at a time in this thread (after the pool), so one thread's memory serves
    # them all: freed in a pool thread, a decoded image's memory would stay with that thread
    large = {item.image_sha for item in items if item.width * item.height > LARGE_PIXELS}
    small = [job for sha, job in zip(sorted(jobs), todo) if sha not in large]
    big = [job for sha, job in zip(sorted(jobs), todo) if sha in large]
    workers = workers or min(8, os.cpu_count() or 1)
    failed: list[str] = []
    n = 0

    def finished(job, result) -> None:
        nonlocal done, n
        n += 1
        failed.extend(result)
        done += len(job[2])
        if progress and (n % 200 == 0 or n == len(todo)):
            progress(done, total)

    if small:
        with ThreadPoolExecutor(max(1, min(workers, len(small)))) as pool:  # Pillow releases the GIL meanwhile
            for job, result in zip(small, pool.map(_encode_job, small)):
                finished(job, result)
    for job in big:
        finished(job, _encode_job(job))
    for item_id in failed:
        sets.pop(item_id, None)
    return sets


class ThumbnailWarmer:
    """Encodes missing renditions into the cache in one background thread while the build does other work
    (much of it in one Python thread, leaving a core idle); ``stop`` ends it between two images, and
    ``make_thumbnails`` then does what is left, in parallel. It skips large images (``make_thumbnails`` decodes
    those one at a time in the calling thread) and never decides anything: an image it could not read is
    tried again, and reported, by ``make_thumbnails``."""

    def __init__(self, items: Sequence[Item], widths: Sequence[int], cache_dir: Path):
        from sitegen.ingest.images import LARGE_PIXELS

        small = [item for item in items if item.width * item.height <= LARGE_PIXELS]
        _, jobs = _plan(small, widths, Path(cache_dir), fresh=False)
        self._jobs = [jobs[sha] for sha in sorted(jobs)]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sitegen-thumbnails", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:  # Linux: this thread only yields to the build's own threads (its nice value is per thread)
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 15)
        except (AttributeError, OSError):
            pass
        for job in self._jobs:
            if self._stop.is_set():
                return
            _encode_job(job)

    def stop(self) -> None:
        """End after the image being encoded."""
        self._stop.set()
        self._thread.join()

    def wait(self) -> None:
        """Let it finish every image."""
        self._thread.join()

    def __enter__(self) -> ThumbnailWarmer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _place(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except FileExistsError:
        dst.unlink()
        os.link(src, dst)
    except OSError:  # another file system, or links not supported
        shutil.copyfile(src, dst)


def publish_media(sets: dict[str, ImageSet], cache_dir: Path, out_dir: Path) -> int:
    """Hard-link (or copy) every cached rendition, and every original, to ``out_dir/media/...``. Returns the
    number of files placed."""
    cache_dir, out_dir = Path(cache_dir), Path(out_dir)
    made: set[Path] = set()
    placed = 0
    for key in sorted(sets):
        for r in sets[key].renditions:
            dst = out_dir / r.url.lstrip("/")
            if dst.parent not in made:
                dst.parent.mkdir(parents=True, exist_ok=True)
                made.add(dst.parent)
            src = cache_dir / r.file
            if not src.exists():
                continue
            _place(src, dst)
            placed += 1
        original = sets[key].original
        if original is not None and os.path.exists(original.file):
            dst = out_dir / original.url.lstrip("/")
            if dst.parent not in made:
                dst.parent.mkdir(parents=True, exist_ok=True)
                made.add(dst.parent)
            _place(Path(original.file), dst)
            placed += 1
    return placed
