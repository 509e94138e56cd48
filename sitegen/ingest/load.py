"""The load stage: catalog file(s) + images -> accepted ``Item``s and ``Rejection``s.

The readers (``readers.py``) turn CSV, JSONL and Parquet into rows; this module turns each row into an
``Item`` or exactly one rejection with a reason code (the first problem found, in the order ``bad_row``,
``missing_id``, id checks, ``duplicate_id``, ``missing_title``, text checks (``policy.py``: ``bad_type``,
``too_long``, ``control_chars``, ``markup``), ``bad_date``, image checks). Images are paths (relative to
``catalog.images_dir`` or absolute) or raw bytes (Parquet binary column, JSONL ``{"bytes": base64}`` or
``data:image/...;base64,`` URL); bytes are written once to ``image_cache_dir/<sha256>.<ext>``. Image checks
are cached in ``image_meta`` (path -> size, mtime_ns, sha, width, height, error), so a rebuild only stats
unchanged files.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import stat
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable

from PIL import Image

from sitegen.core.config import CatalogSection
from sitegen.core.errors import CatalogError
from sitegen.core.models import Item, Rejection
from sitegen.ingest.images import DEFERRED, IMAGE_FORMATS, UNVERIFIED, _one_line, _show, inspect_image, pixels_detail
from sitegen.ingest.policy import DIRTY, SURROGATE, Reject as _Reject, cell_text, check_text, keyword_list, nfc
from sitegen.ingest.policy import category_key, trim, visible
from sitegen.ingest.readers import CHUNK, READERS, catalog_files, catalog_format, estimate_rows

ImageMeta = tuple[int, int, str, int, int, str]  # size, mtime_ns, sha256, width, height, error ("" = ok)

__all__ = ["LoadResult", "load_catalog", "REASONS", "ImageMeta"]

REASONS = ("bad_row", "missing_id", "duplicate_id", "missing_title", "bad_type", "markup", "control_chars",
           "too_long", "bad_date", "missing_image", "remote_image", "corrupt_image", "oversized_image",
           "unsupported_image", "bad_url")
MAX_ID_CHARS = 200

_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")
_DATA_URL = re.compile(r"^data:([^;,]*)((?:;[^;,]*)*),", re.DOTALL)
_RIGHTS_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]+)?(?:/[A-Za-z0-9._~:/@!$&*+,;=%?#-]*)?")
_SITE_PATH = re.compile(r"/(?!/)[A-Za-z0-9._~:/@!$&*+,;=%?#-]*")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ].+)?", re.DOTALL)


@dataclass
class LoadResult:
    items: list[Item]  # accepted, in catalog order
    rejections: list[Rejection]  # every rejected row, with reason code and detail
    rows_read: int
    image_meta: dict[str, ImageMeta] = field(default_factory=dict)  # updated cache: images seen this run


# -- small helpers -----------------------------------------------------------------------------------------------
def _one_spelling(items: list[Item]) -> list[Item]:
    """Categories that differ only in case, width or invisible characters ("Animals", "animals") are one
    category, spelled as most of its rows spell it (on a tie, the spelling that sorts first)."""
    spellings: dict[str, Counter[str]] = {}
    for item in items:
        if item.category:
            spellings.setdefault(category_key(item.category), Counter())[item.category] += 1
    chosen = {}
    for counts in spellings.values():
        if len(counts) > 1:
            best = min(counts, key=lambda name: (-counts[name], name))
            chosen.update((name, best) for name in counts)
    if not chosen:
        return items
    return [replace(i, category=chosen[i.category]) if i.category in chosen else i for i in items]


def _strings(row: dict[str, Any]) -> list[str]:
    """Every column name and every text value of a row, nested ones included (for the one-pass scan)."""
    out: list[str] = []
    for key, value in row.items():
        out.append(key)
        stack = [value]
        while stack:
            v = stack.pop()
            if isinstance(v, str):
                out.append(v)
            elif isinstance(v, (list, tuple)):
                stack.extend(v)
            elif isinstance(v, dict):
                stack.extend(v.values())
                out.extend(k for k in v if isinstance(k, str))
    return out


def _iso_date(value: str) -> str | None:
    m = _DATE.fullmatch(value)
    if not m:
        return None
    try:
        date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if len(value) == 10:
            return value
        return datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value).isoformat()
    except ValueError:
        return None


def _decode_data_url(value: str) -> bytes:
    m = _DATA_URL.match(value)
    if not m:
        raise _Reject("corrupt_image", "malformed data: URL")
    mime = m.group(1).strip().lower()
    if mime and not mime.startswith("image/"):
        raise _Reject("unsupported_image", f"data: URL of type {_show(mime, 40)} is not an image")
    if ";base64" not in m.group(2).lower():
        raise _Reject("unsupported_image", "data: URL is not base64-encoded")
    return _b64(value[m.end():])


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _Reject("corrupt_image", f"image bytes are not valid base64 ({_one_line(exc)})") from None


# -- the loader -----------------------------------------------------------------------------------------------------
@dataclass
class _Pending:
    source: str
    fields: dict[str, Any]  # id, title, description, category, keywords, date, attributes
    image: tuple  # ("path", abspath, shown) | ("bytes", data, sha) | ("reject", reason, detail)
    result: Any = None  # ImageMeta-like outcome filled by the image check


class _Loader:
    def __init__(self, cfg: CatalogSection, root: Path, image_cache_dir: Path,
                 image_meta: dict[str, ImageMeta] | None, progress: Callable[[int, int], None] | None):
        self.cfg = cfg
        self.root = Path(os.path.abspath(root))
        images_dir = Path(cfg.images_dir)
        self.images_root = str(images_dir if images_dir.is_absolute() else self.root / images_dir)
        self.cache_dir = Path(os.path.abspath(image_cache_dir))
        self.old_meta = image_meta or {}
        self.meta: dict[str, ImageMeta] = {}
        self.progress = progress
        self.items: list[Item] = []
        self.rejections: list[Rejection] = []
        self.rows_read = 0
        self.seen: dict[str, str] = {}  # id -> source of its first row
        self.pending: list[_Pending | Rejection] = []
        self.pool: ThreadPoolExecutor | None = None
        self.clean = False  # the current row has no control character, "<" or surrogate anywhere
        self.cols = {name: cfg.column(name) for name in CatalogSection.FIELDS}
        self.mapped = set(self.cols.values())

    # rows -------------------------------------------------------------------------------------------------------
    def run(self) -> LoadResult:
        files = catalog_files(self.cfg, self.root)
        formats = [catalog_format(p, self.cfg) for p in files]
        total = estimate_rows(files, self.cfg) if self.progress else 0
        limit = self.cfg.limit if self.cfg.limit > 0 else None
        try:
            for path, fmt in zip(files, formats):
                for source, row, error in READERS[fmt](path, self.cfg):
                    if limit is not None and self.rows_read >= limit:
                        break
                    self.rows_read += 1
                    self.pending.append(self._row(source, row, error))
                    if len(self.pending) >= CHUNK:
                        self._flush()
                        if self.progress:
                            self.progress(self.rows_read, total)
                if limit is not None and self.rows_read >= limit:
                    break
            self._flush()
        finally:
            if self.pool is not None:
                self.pool.shutdown(wait=True)
        self.items = _one_spelling(self.items)
        if self.rows_read == 0:
            raise CatalogError(f"{', '.join(str(p) for p in files)}: the catalog has no rows")
        if self.progress:
            self.progress(self.rows_read, self.rows_read)
        return LoadResult(self.items, self.rejections, self.rows_read, self.meta)

    def _row(self, source: str, row: dict[str, Any] | None, error: str) -> _Pending | Rejection:
        item_id = ""
        try:
            if error:
                raw = (row or {}).get("\0id")
                item_id = raw if isinstance(raw, str) else ""
                raise _Reject("bad_row", error)
            assert row is not None
            texts = _strings(row)
            self.clean = not DIRTY.search("\n".join(texts))
            if not self.clean and any(SURROGATE.search(t) for t in texts):
                raise _Reject("bad_row", "not valid UTF-8 (or holds a lone surrogate)")
            cols = self.cols
            raw_id = nfc((cell_text(row.get(cols["id"]), "id") or "").strip())
            if not visible(raw_id):
                raise _Reject("missing_id", "id is empty")
            check_text("id", raw_id, MAX_ID_CHARS, strict=True, clean=self.clean)
            item_id = trim(raw_id)
            first = self.seen.get(item_id)
            if first is not None:
                raise _Reject("duplicate_id", f"duplicate id {_show(item_id, 60)!r} (first seen at {first})")
            self.seen[item_id] = source
            title = nfc((cell_text(row.get(cols["title"]), "title") or "").strip())
            if not visible(title):
                raise _Reject("missing_title", "title is empty" if not title else
                              "title shows nothing (only invisible characters)")
            fields = self._fields(row, title)
            fields["id"] = item_id
            image = self._image_spec(row.get(cols["image"]))
            return _Pending(source, fields, image)
        except _Reject as rej:
            return Rejection(source, item_id, rej.reason, rej.detail)

    def _fields(self, row: dict[str, Any], title: str) -> dict[str, Any]:
        """The text fields of a row, every value through the same policy (``policy.check_text``)."""
        cfg, cols, max_chars, clean = self.cfg, self.cols, self.cfg.max_field_chars, self.clean
        markup = cfg.markup == "reject"
        check_text("title", title, max_chars, strict=True, markup=markup, clean=clean)
        out: dict[str, Any] = {"title": " ".join(trim(title).split())}
        for name in ("description", "category"):
            value = nfc((cell_text(row.get(cols[name]), name) or "").strip())
            if "\r" in value:
                value = value.replace("\r\n", "\n").replace("\r", "\n")
            check_text(name, value, max_chars, markup=markup, clean=clean)
            value = trim(value) if visible(value) else ""
            out[name] = value if name == "description" else " ".join(value.split())
        keywords, raw = keyword_list(row.get(cols["keywords"]), cfg.keywords_separator)
        check_text("keywords", raw.strip(), max_chars, markup=markup, clean=clean)
        out["keywords"] = tuple(keywords)
        attributes = []
        for key, value in row.items():
            if key in self.mapped or not key or key == "\0id":
                continue
            values = value if isinstance(value, (list, tuple)) else (value,)  # a list: one attribute per value
            for v in values:
                text = cell_text(v, key)
                if not text:  # empty, or bytes (not text)
                    continue
                text = nfc(text.strip())
                if not visible(text):
                    continue
                check_text(f"column name {_show(key, 40)!r}", key, max_chars, strict=True, markup=markup,
                           clean=clean)
                check_text(key, text, max_chars, markup=markup, clean=clean)
                attributes.append((key, trim(text)))
        out["attributes"] = tuple(attributes)
        for name in CatalogSection.RIGHTS:  # the image's rights: one line of text each
            value = nfc((cell_text(row.get(cols[name]), name) or "").strip())
            check_text(name, value, max_chars, markup=markup, clean=clean)
            value = " ".join(trim(value).split()) if visible(value) else ""
            if value and name in ("license", "license_page") and not (
                    _RIGHTS_URL.fullmatch(value) or (name == "license_page" and _SITE_PATH.fullmatch(value))):
                raise _Reject("bad_url", f"{name} {_show(value, 60)!r} is not an absolute http(s) URL"
                              + (" or a site path starting with /" if name == "license_page" else ""))
            out[name] = value
        raw_date = (cell_text(row.get(cols["date"]), "date") or "").strip()
        if raw_date:
            iso = _iso_date(raw_date)
            if iso is None:
                raise _Reject("bad_date", f"date {_show(raw_date, 40)!r} is not an ISO date (YYYY-MM-DD[THH:MM:SS])")
            out["date"] = iso
        else:
            out["date"] = ""
        return out

    def _image_spec(self, value: Any) -> tuple:
        """Classify the image cell; cheap checks happen here, file / pixel checks in _flush."""
        try:
            if isinstance(value, dict):  # {"bytes": ..., "path": ...} (JSONL object, Parquet struct)
                data = value.get("bytes")
                if data is None or (isinstance(data, (str, bytes)) and not data):
                    value = value.get("path")
                elif isinstance(data, str):
                    value = data.strip() if data.strip().startswith("data:") else _b64(data)
                else:
                    value = data
            if isinstance(value, (bytes, bytearray, memoryview)):
                return self._bytes_spec(bytes(value))
            text = (cell_text(value, "image") or "").strip()
            if not text:
                raise _Reject("missing_image", "image column is empty")
            if text.startswith("data:"):
                if len(text) * 3 // 4 > self.cfg.max_image_bytes + 3:
                    raise _Reject("oversized_image", f"embedded image is about {len(text) * 3 // 4} bytes, "
                                  f"more than catalog.max_image_bytes ({self.cfg.max_image_bytes})")
                return self._bytes_spec(_decode_data_url(text))
            m = _SCHEME.match(text)
            if m:
                raise _Reject("remote_image", f"remote images are not fetched: {_show(text)}")
            path = os.path.abspath(os.path.join(self.images_root, text))
            return ("path", path, text)
        except _Reject as rej:
            return ("reject", rej.reason, rej.detail)

    def _bytes_spec(self, data: bytes) -> tuple:
        if not data:
            raise _Reject("missing_image", "image bytes are empty")
        if len(data) > self.cfg.max_image_bytes:
            raise _Reject("oversized_image", f"image is {len(data)} bytes, more than catalog.max_image_bytes "
                          f"({self.cfg.max_image_bytes})")
        return ("bytes", data, hashlib.sha256(data).hexdigest())

    # images -----------------------------------------------------------------------------------------------------
    def _cached(self, path: str, size: int, mtime_ns: int) -> ImageMeta | None:
        entry = self.meta.get(path) or self.old_meta.get(path)
        if entry and entry[0] == size and entry[1] == mtime_ns and entry[2]:
            entry = (int(size), int(mtime_ns), str(entry[2]), int(entry[3] or 0), int(entry[4] or 0),
                     str(entry[5] or ""))
            if entry[5] != UNVERIFIED or entry[3] * entry[4] > self.cfg.max_image_pixels:
                return entry
        return None

    def _flush(self) -> None:
        jobs: dict[str, list[_Pending]] = {}  # key -> rows waiting for it
        work: dict[str, tuple] = {}
        for p in self.pending:
            if not isinstance(p, _Pending) or p.image[0] == "reject":
                continue
            kind, payload, extra = p.image
            if kind == "path":
                try:
                    st = os.stat(payload)
                except (OSError, ValueError):
                    p.image = ("reject", "missing_image", f"image not found: {_show(extra)}")
                    continue
                if not stat.S_ISREG(st.st_mode):
                    p.image = ("reject", "missing_image", f"image is not a file: {_show(extra)}")
                    continue
                if st.st_size > self.cfg.max_image_bytes:
                    p.image = ("reject", "oversized_image", f"image is {st.st_size} bytes, more than "
                               f"catalog.max_image_bytes ({self.cfg.max_image_bytes})")
                    continue
                entry = self._cached(payload, st.st_size, st.st_mtime_ns)
                if entry is not None:
                    self.meta[payload] = entry
                    p.result = (payload, entry)
                    continue
                key = payload
            else:  # bytes: reuse a file already materialised under its sha
                found = None
                for ext in dict.fromkeys(IMAGE_FORMATS.values()):
                    target = str(self.cache_dir / f"{extra}.{ext}")
                    entry = self.meta.get(target) or self.old_meta.get(target)
                    if entry and entry[2] == extra and entry[0] == len(payload):
                        try:
                            st = os.stat(target)
                        except OSError:
                            continue
                        entry = self._cached(target, st.st_size, st.st_mtime_ns)
                        if entry is not None:
                            found = (target, entry)
                            break
                if found:
                    self.meta[found[0]] = found[1]
                    p.result = found
                    continue
                key = "sha:" + extra
            jobs.setdefault(key, []).append(p)
            work[key] = p.image
        if work:
            results = self._run_jobs(work)
            for key, waiting in jobs.items():
                for p in waiting:
                    p.result = results[key]
        for p in self.pending:
            if isinstance(p, Rejection):
                self.rejections.append(p)
                continue
            outcome = self._judge(p)
            if isinstance(outcome, Rejection):
                self.rejections.append(outcome)
            else:
                self.items.append(outcome)
        self.pending = []

    def _run_jobs(self, work: dict[str, tuple]) -> dict[str, tuple]:
        keys = list(work)
        if len(keys) < 8:
            return {k: self._job(work[k]) for k in keys}
        if self.pool is None:
            self.pool = ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1), thread_name_prefix="sitegen-load")
        step = max(16, len(keys) // (4 * self.pool._max_workers) + 1)  # few, larger tasks: less locking
        parts = [keys[i:i + step] for i in range(0, len(keys), step)]
        out: dict[str, tuple] = {}
        for part, results in zip(parts, self.pool.map(lambda ks: [self._job(work[k], False) for k in ks], parts)):
            out.update(zip(part, results))
        for key in keys:  # large images, one at a time in this thread (their memory is reused, not multiplied)
            if out[key][0] == DEFERRED:
                out[key] = self._job(work[key])
        return out

    def _job(self, spec: tuple, large: bool = True) -> tuple:
        """Read / inspect one image; returns (path, ImageMeta), ("reject", reason, detail) or, for a large
        image when ``large`` is False (a pool thread), (DEFERRED,)."""
        kind, payload, extra = spec
        max_pixels = self.cfg.max_image_pixels
        try:
            if kind == "path":
                try:
                    with open(payload, "rb") as fh:
                        st = os.fstat(fh.fileno())
                        data = fh.read()
                except OSError as exc:
                    return ("reject", "missing_image", f"image cannot be read: {_show(extra)} ({_one_line(exc)})")
                fmt, w, h, error = inspect_image(data, max_pixels, extra, large=large)
                if error == DEFERRED:
                    return (DEFERRED,)
                entry = (st.st_size, st.st_mtime_ns, hashlib.sha256(data).hexdigest(), w, h, error)
                return (payload, entry)
            fmt, w, h, error = inspect_image(payload, max_pixels, "(embedded bytes)", large=large)
            if error == DEFERRED:
                return (DEFERRED,)
            if error == UNVERIFIED:
                return ("reject", "oversized_image", self._pixels_detail(w, h))
            if error:
                reason, _, detail = error.partition(": ")
                return ("reject", reason, detail)
            target = self.cache_dir / f"{extra}.{IMAGE_FORMATS[fmt]}"
            try:
                st = target.stat()
                if st.st_size != len(payload):
                    raise FileNotFoundError(target)
            except OSError:
                try:
                    self.cache_dir.mkdir(parents=True, exist_ok=True)
                    tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
                    tmp.write_bytes(payload)
                    os.replace(tmp, target)
                    st = target.stat()
                except OSError as exc:  # the cache folder, not the image, is the problem: stop the load
                    return ("fatal", f"cannot write to the image cache {self.cache_dir}: {_one_line(exc)}")
            return (str(target), (st.st_size, st.st_mtime_ns, extra, w, h, ""))
        except Exception as exc:  # never crash the build on one image
            return ("reject", "corrupt_image", f"image could not be checked ({_one_line(exc)})")

    def _pixels_detail(self, w: int, h: int) -> str:
        return pixels_detail(w, h, self.cfg.max_image_pixels)

    def _judge(self, p: _Pending) -> Item | Rejection:
        fields = p.fields
        if p.image[0] == "reject":
            return Rejection(p.source, fields["id"], p.image[1], p.image[2])
        result = p.result
        if result[0] == "fatal":
            raise CatalogError(result[1])
        if result[0] == "reject":
            return Rejection(p.source, fields["id"], result[1], result[2])
        path, entry = result
        size, mtime_ns, sha, w, h, error = entry
        cacheable = not error.startswith("oversized_image")  # Pillow's bomb guard depends on a global limit
        if cacheable:
            self.meta[path] = entry
        if error == UNVERIFIED or (not error and w * h > self.cfg.max_image_pixels):
            return Rejection(p.source, fields["id"], "oversized_image", self._pixels_detail(w, h))
        if error:
            reason, _, detail = error.partition(": ")
            if reason not in REASONS:
                reason, detail = "corrupt_image", error
            return Rejection(p.source, fields["id"], reason, detail)
        return Item(id=fields["id"], title=fields["title"], image=path, image_sha=sha, width=w, height=h,
                    description=fields["description"], category=fields["category"], keywords=fields["keywords"],
                    date=fields["date"], attributes=fields["attributes"], source=p.source,
                    **{name: fields[name] for name in CatalogSection.RIGHTS})


def load_catalog(cfg: CatalogSection, root: Path, *, image_cache_dir: Path,
                 image_meta: dict[str, ImageMeta] | None = None,
                 progress: Callable[[int, int], None] | None = None) -> LoadResult:
    """Read the catalog named by ``cfg`` (relative paths resolve against ``root``) and check every row.

    Raises ``CatalogError`` when the catalog cannot be read at all (missing file, unknown format, a mapped
    column absent). Row-level problems become ``Rejection``s; ``rows_read == len(items) + len(rejections)``.
    ``image_meta`` is the cache from the previous run; the returned one holds the images seen in this run.
    ``progress(done, total)`` is called about every 1,000 rows (``total`` is an estimate, 0 when unknown).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        warnings.filterwarnings("ignore", module=r"PIL(\..*)?$")  # EXIF and similar chatter from Pillow
        return _Loader(cfg, Path(root), Path(image_cache_dir), image_meta, progress).run()
