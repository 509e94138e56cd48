"""Catalog readers: CSV (utf-8, optional BOM), JSONL and Parquet (streamed in record batches).

A reader yields ``(source, row, error)`` per data row: ``source`` names the file and line (or row number),
``row`` maps column names to raw values (None for an unreadable row) and ``error`` is the ``bad_row`` detail.
A catalog that cannot be read at all (missing file, unknown format, a mapped column absent, a column named
twice) raises ``CatalogError``.
"""

from __future__ import annotations

import csv
import glob
import json
from pathlib import Path
from typing import Any, Iterator

from sitegen.core.config import CatalogSection
from sitegen.core.errors import CatalogError
from sitegen.ingest.images import _show
from sitegen.ingest.policy import SURROGATE

__all__ = ["Row", "READERS", "EXTENSIONS", "CHUNK", "catalog_files", "catalog_format", "estimate_rows"]

EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
CHUNK = 1000  # rows per batch of image checks / progress report

Row = tuple[str, dict[str, Any] | None, str]


def catalog_files(cfg: CatalogSection, root: Path) -> list[Path]:
    raw = Path(cfg.path)
    path = raw if raw.is_absolute() else root / raw
    if any(ch in cfg.path for ch in "*?["):
        files = [Path(p) for p in sorted(glob.glob(str(path))) if Path(p).is_file()]
        if not files:
            raise CatalogError(f"catalog file not found: no file matches {path} (catalog.path = {cfg.path!r})")
        return files
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in EXTENSIONS)
        if not files:
            raise CatalogError(f"catalog folder {path} holds no .csv, .jsonl or .parquet file (catalog.path)")
        return files
    if not path.is_file():
        raise CatalogError(f"catalog file not found: {path} (catalog.path = {cfg.path!r})")
    return [path]


def catalog_format(path: Path, cfg: CatalogSection) -> str:
    if cfg.format != "auto":
        return cfg.format
    fmt = EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise CatalogError(f"{path}: cannot tell the catalog format from the extension {path.suffix!r}; "
                           "use .csv, .jsonl, .ndjson or .parquet, or set catalog.format to csv, jsonl or parquet")
    return fmt


def _check_columns(path: Path, header: list[str], cfg: CatalogSection) -> None:
    available = set(header)
    problems = []
    for name in CatalogSection.FIELDS:
        col = cfg.column(name)
        required = name in ("id", "title", "image")
        if col not in available and (required or name in cfg.columns):
            how = "" if name in cfg.columns else ", the default"
            problems.append(f"column {col!r} (catalog.columns.{name}{how}) not found")
    if problems:
        shown = ", ".join(repr(h) for h in header[:60]) + (", ..." if len(header) > 60 else "")
        raise CatalogError(f"{path}: missing column(s): {'; '.join(problems)}. Available columns: {shown or '(none)'}")


def _no_duplicates(path: Path, header: list[str]) -> None:
    """A column named twice would lose one of its values: refuse the file, naming the column(s)."""
    seen: set[str] = set()
    twice = list(dict.fromkeys(h for h in header if h and (h in seen or seen.add(h))))
    if twice:
        names = ", ".join(repr(_show(h, 60)) for h in twice)
        raise CatalogError(f"{path}: duplicate column(s) in the header: {names}; rename or remove the extra one(s)")


def _read_csv(path: Path, cfg: CatalogSection) -> Iterator[Row]:
    name = path.name
    old_limit = csv.field_size_limit()
    csv.field_size_limit(2**31 - 1)  # huge fields become too_long rejections, not reader errors
    try:
        with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as fh:
            reader = csv.reader(fh)
            try:
                header = next(reader)
            except StopIteration:
                raise CatalogError(f"{path}: the CSV file is empty (no header row)") from None
            except csv.Error as exc:
                raise CatalogError(f"{path}: cannot read the CSV header: {exc}") from None
            header = [h.strip() for h in header]
            if SURROGATE.search("".join(header)):
                raise CatalogError(f"{path}: the header is not valid UTF-8")
            _check_columns(path, header, cfg)
            _no_duplicates(path, header)
            keep = [i for i, h in enumerate(header) if h]
            names = [header[i] for i in keep]
            width = len(header)
            id_index = header.index(cfg.column("id"))
            line = reader.line_num
            while True:
                start = line + 1
                try:
                    fields = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    line = reader.line_num
                    yield f"{name}:{start}", None, f"unreadable CSV row: {exc}"
                    continue
                line = reader.line_num
                if not fields:  # a blank line is not a row
                    continue
                if len(fields) != width:
                    span = f" (the row spans lines {start}-{line}: unbalanced quote?)" if line > start else ""
                    rid = fields[id_index].strip() if len(fields) > id_index else ""
                    yield (f"{name}:{start}", {"\0id": rid},
                           f"expected {width} fields, found {len(fields)}{span}")
                    continue
                yield f"{name}:{start}", {n: fields[i] for n, i in zip(names, keep)}, ""
    finally:
        csv.field_size_limit(old_limit)


def _read_jsonl(path: Path, cfg: CatalogSection) -> Iterator[Row]:
    name = path.name

    def parse(lineno: int, raw: bytes) -> Row | None:
        if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if not raw.strip():
            return None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return f"{name}:{lineno}", None, f"not valid UTF-8 (byte {exc.start})"
        try:
            obj = json.loads(text)
        except (ValueError, RecursionError) as exc:
            msg = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
            return f"{name}:{lineno}", None, f"invalid JSON: {_show(msg, 80)}"
        if not isinstance(obj, dict):
            return f"{name}:{lineno}", None, f"not a JSON object (got {type(obj).__name__})"
        return f"{name}:{lineno}", {str(k): v for k, v in obj.items()}, ""

    with open(path, "rb") as fh:
        buffered: list[Row] = []
        header: dict[str, None] = {}
        objects = 0
        lineno = 0
        for raw in fh:  # peek at the first objects to check the column mapping
            lineno += 1
            row = parse(lineno, raw)
            if row is None:
                continue
            buffered.append(row)
            if row[1] is not None:
                objects += 1
                header.update(dict.fromkeys(row[1]))
                if objects >= 1000:
                    break
        if objects:
            _check_columns(path, list(header), cfg)
        yield from buffered
        for raw in fh:
            lineno += 1
            row = parse(lineno, raw)
            if row is not None:
                yield row


def _read_parquet(path: Path, cfg: CatalogSection) -> Iterator[Row]:
    import pyarrow.parquet as pq

    name = path.name
    try:
        pf = pq.ParquetFile(path)
        header = list(pf.schema_arrow.names)
    except Exception as exc:
        raise CatalogError(f"{path}: cannot read the Parquet file: {_show(str(exc), 200)}") from None
    _check_columns(path, header, cfg)
    _no_duplicates(path, header)
    n = 0
    batches = pf.iter_batches(batch_size=CHUNK)
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except Exception as exc:
            raise CatalogError(f"{path}: cannot read the Parquet file after row {n}: {_show(str(exc), 200)}") from None
        names = batch.schema.names
        columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
        for values in zip(*columns):
            n += 1
            yield f"{name}:row {n}", dict(zip(names, values)), ""


READERS = {"csv": _read_csv, "jsonl": _read_jsonl, "parquet": _read_parquet}


def estimate_rows(files: list[Path], cfg: CatalogSection) -> int:
    total = 0
    for path in files:
        fmt = catalog_format(path, cfg)
        try:
            if fmt == "parquet":
                import pyarrow.parquet as pq

                total += pq.ParquetFile(path).metadata.num_rows
            elif path.stat().st_size < 256 * 2**20:
                data = path.read_bytes()
                total += data.count(b"\n") + (0 if data.endswith(b"\n") else 1) - (fmt == "csv")
            else:
                return 0  # unknown
        except Exception:
            return 0
    return min(total, cfg.limit) if cfg.limit > 0 else max(total, 0)
