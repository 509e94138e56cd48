"""Importing Search Console / GA4 exports into the store, their pages matched to the site's URLs.

``import_signals(store, cfg, paths)`` reads each file (``sitegen.ingest.signals``), matches its pages, and
stores the rows it can use with the file's imports-log entry (keyed by the sha-256 of its bytes: the same file
imported again changes nothing). Every data row is ``used`` or rejected with a reason (``FileReport``).

Page matching (``PageMatcher``): a page cell is an absolute URL or a URL path. An absolute URL must be on the
host of ``site.base_url`` or one of ``signals.hosts`` (http or https, with or without ``www.``; a GA4
``hostName`` column is checked the same way), else the row is rejected ``other_host`` (another site's data:
nothing of it is kept). The path (``site.base_url``'s own path, if it has one, taken off) is compared
percent-decoded and lowercased, with repeated slashes collapsed, ``index.html`` / ``index.htm`` dropped, with or
without its trailing slash, query string and fragment dropped; ``redirects`` (old path -> new path: the
``signals.redirects`` file, then the caller's, such as the lifecycle's retired pages; chains are followed, an
empty target means gone) lead to the page that replaced it. The site's pages are ``store.pages.published()``.
A page that is not one of them (after redirects) is rejected ``unknown_page``; **its query is kept**: a row with
a query is stored as a query signal without a page (``FileReport.query_kept``), because the search demand it
shows is real even when the page is not sitegen's or no longer exists. A file with page rows cannot be imported
before the site's first build (there are no pages to match yet: a one-line error says so).

Days: a row's own date when the file has dates (the API, the bulk export, ``Dates.csv``, GA4 with a ``date``
column). A UI export's other files hold totals over the export's period, and are stored as one period row each
(``start`` .. ``date``): the period stated in the file (GA4's ``# Start date`` / ``# End date`` lines), else the
first to the last day of the ``Dates.csv`` (or ``Chart.csv``) in the same folder, else the import day
(``FileReport.dated_by`` says which). The reward spreads a period row evenly over its days.

Rows of different files add up: import exports that do not overlap (each week's new days). An import that shares
days with an earlier import of the same kind and dimension lists it in ``FileReport.overlaps``.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import asdict, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Mapping, Sequence
from urllib.parse import unquote, urlsplit

from sitegen.core.errors import SignalsError
from sitegen.core.models import FileReport, ImportReport, SignalRow
from sitegen.ingest.signals import KINDS, SignalFile, export_files, folder_period, read_signals

EXAMPLES = 3  # examples kept per rejection reason
_MAX_HOPS = 20


def _bare_host(value: str) -> str:
    value = value.strip().lower()
    if "//" in value:
        value = urlsplit(value if "://" in value else "https:" + value).hostname or ""
    value = value.split("/", 1)[0].split(":", 1)[0].rstrip(".")
    return value[4:] if value.startswith("www.") else value


def url_key(path: str) -> str:
    """The form two URL paths are compared in: percent-decoded, lowercased, repeated slashes collapsed,
    ``index.html`` / ``index.htm`` dropped, no trailing slash (the home page is ``/``)."""
    path = unquote(path).strip().lower()
    path = re.sub(r"/{2,}", "/", "/" + path.lstrip("/"))
    path = re.sub(r"/index\.html?$", "/", path)
    return path.rstrip("/") or "/"


class PageMatcher:
    """Matches an export's page cells to the site's published URL paths (see the module docstring)."""

    def __init__(self, base_url: str, hosts: Iterable[str], pages: Iterable[str],
                 redirects: Mapping[str, str] | None = None):
        base = urlsplit(base_url)
        self.hosts = {_bare_host(base.hostname or "")} | {_bare_host(h) for h in hosts if h.strip()}
        self.prefix = url_key(base.path or "/")
        self.pages = {url_key(p): p for p in sorted(pages)}
        self.redirects = {url_key(self._path(old)): self._path(new) if new else "" for old, new in
                          (redirects or {}).items()}

    def _path(self, raw: str) -> str:
        raw = raw.strip()
        if raw.startswith("//"):
            raw = "https:" + raw
        parts = urlsplit(raw)
        path = parts.path if parts.scheme else raw.split("#", 1)[0].split("?", 1)[0]
        key = url_key(path)
        if self.prefix != "/" and (key == self.prefix or key.startswith(self.prefix + "/")):
            key = key[len(self.prefix):] or "/"
        return key

    def allowed_host(self, host: str) -> bool:
        return not host.strip() or _bare_host(host) in self.hosts

    def match(self, raw: str, host: str = "") -> tuple[str, str, str]:
        """(published path, "", "") for a page of the site, else ("", reason, detail) with reason
        ``other_host`` or ``unknown_page``."""
        raw = raw.strip()
        candidate = "https:" + raw if raw.startswith("//") else raw
        parts = urlsplit(candidate)
        if parts.scheme and parts.scheme.lower() not in ("http", "https"):
            return "", "other_host", raw
        if parts.scheme and not self.allowed_host(parts.hostname or ""):
            return "", "other_host", raw
        if not self.allowed_host(host):
            return "", "other_host", f"{host} {raw}"
        key = self._path(raw)
        seen = {key}
        while key in self.redirects:
            key = self.redirects[key]
            if not key:
                return "", "unknown_page", f"{raw} (gone)"
            if key in seen or len(seen) > _MAX_HOPS:
                return "", "unknown_page", f"{raw} (redirect loop)"
            seen.add(key)
        if key in self.pages:
            return self.pages[key], "", ""
        return "", "unknown_page", raw


def read_redirects(path: str | Path) -> dict[str, str]:
    """``old new`` lines (``#`` comments and blank lines skipped; a third field, a status code as in a Netlify
    ``_redirects`` file, may follow: ``410`` means gone). Raises ``SignalsError`` naming the file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeError) as exc:
        raise SignalsError(f"{path}: cannot read the redirects file: {exc}") from None
    out: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        if len(fields) not in (2, 3) or (len(fields) == 3 and not fields[2].rstrip("!").isdigit()):
            raise SignalsError(f"{path}:{n}: expected 'old-path new-path' (and an optional status code), got "
                               f"{line.strip()!r}")
        gone = len(fields) == 3 and fields[2].rstrip("!") == "410"
        out[fields[0]] = "" if gone else fields[1]
    return out


def site_redirects(cfg, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The ``signals.redirects`` file's redirects (when set), then ``extra`` (the caller's win)."""
    out: dict[str, str] = {}
    if cfg.signals.redirects:
        path = cfg.path(cfg.signals.redirects)
        if not path.is_file():
            raise SignalsError(f"signals.redirects: file not found: {path}")
        out.update(read_redirects(path))
    out.update(extra or {})
    return out


def _today() -> str:
    return datetime.now(timezone.utc).date().isoformat()


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class _Plan:
    """One file read and matched, waiting to be written."""

    def __init__(self, report: FileReport, rows: list[SignalRow]):
        self.report, self.rows = report, rows


def _convert(read: SignalFile, matcher: PageMatcher | None, today: str, digest: str) -> _Plan:
    """The stored rows and the report of one read file."""
    rejected: Counter[str] = Counter()
    examples: dict[str, list[str]] = {}

    def reject(line: int, reason: str, detail: str) -> None:
        rejected[reason] += 1
        shown = examples.setdefault(reason, [])
        if len(shown) < EXAMPLES:
            shown.append(f"{read.unit} {line}: {detail}" if detail else f"{read.unit} {line}")

    for line, reason, detail in read.rejected:
        reject(line, reason, detail)
    if read.dated:
        period, dated_by = ("", ""), "rows"
    elif read.period is not None:
        period, dated_by = read.period, "file header"
    else:
        found = folder_period(read.path.parent)
        period, dated_by = (found, "Dates.csv") if found else ((today, today), "import day")
    rows: list[SignalRow] = []
    kept = 0
    for s in read.signals:
        page, query = "", s.query
        if s.page or read.kind == "ga4":
            assert matcher is not None
            page, reason, detail = matcher.match(s.page, s.host)
            if reason:
                reject(s.line, reason, detail)
                if reason != "unknown_page" or not query:
                    continue
                kept += 1
        rows.append(SignalRow(date=s.date or period[1], start=s.date or period[0], source=read.kind,  # type: ignore[arg-type]
                              dimension=read.dimension, query=query, page=page, clicks=s.clicks,
                              impressions=s.impressions, position=s.position, sessions=s.sessions,
                              engaged=s.engaged, country=s.country, device=s.device, appearance=s.appearance))
    days = [r.start for r in rows] + [r.date for r in rows]
    report = FileReport(path=str(read.path), kind=read.kind, dimension=read.dimension, rows=read.rows,
                        used=len(rows) - kept, rejected=dict(sorted(rejected.items())),
                        examples={k: tuple(v) for k, v in sorted(examples.items())}, query_kept=kept,
                        period=(min(days), max(days)) if days else ("", ""), dated_by=dated_by, digest=digest)
    return _Plan(report, rows)


def _logged(entry: dict, path: Path) -> FileReport:
    data = dict(entry["report"])
    data.update(path=str(path), already_imported=True, overlaps=(), digest=entry["digest"])
    data["period"] = tuple(data.get("period", ("", "")))
    data["examples"] = {k: tuple(v) for k, v in data.get("examples", {}).items()}
    data["overlaps"] = ()
    known = set(FileReport.__dataclass_fields__)
    return FileReport(**{k: v for k, v in data.items() if k in known})


def import_signals(store, cfg, paths: Sequence[str | Path], kind: str = "auto",
                   redirects: Mapping[str, str] | None = None, *, today: str | None = None) -> ImportReport:
    """Import export files or folders (see the module docstring) into ``store.signals``; the report of each
    file. ``kind``: ``auto`` or one of gsc, gsc-api, ga4 (checked against each named file's header; a folder's
    files of another kind are skipped). ``redirects`` (old path -> new path) are followed after the
    ``signals.redirects`` file's. ``today``: the import day (ISO), for UI exports without a period. Every file
    is read and matched before anything is written, then all are written in one transaction; a file that
    cannot be read raises ``SignalsError`` and nothing is imported."""
    if kind != "auto" and kind not in KINDS:
        raise SignalsError(f"unknown signals kind {kind!r} (use auto, {', '.join(KINDS)})")
    today = today or _today()
    listed: list[tuple[Path, bool]] = []
    for p in paths:
        explicit = not Path(p).is_dir()
        listed.extend((f, explicit) for f in export_files(p))
    matcher: PageMatcher | None = None
    published: list[str] | None = None
    plans: list[_Plan] = []
    reports: list[FileReport] = []
    batch: set[str] = set()
    for path, explicit in listed:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SignalsError(f"{path}: cannot read: {exc.strerror or exc}") from None
        digest = hashlib.sha256(data).hexdigest()
        entry = store.signals.imported(digest)
        if entry is not None or digest in batch:
            reports.append(_logged(entry, path) if entry is not None else
                           replace(next(p.report for p in plans if p.report.digest == digest), path=str(path),
                                   already_imported=True, overlaps=()))
            continue
        try:
            read = read_signals(path, kind)
        except SignalsError as exc:
            if explicit:
                raise
            reports.append(FileReport(path=str(path), kind="", skipped=str(exc).split(": ", 1)[-1]))
            continue
        if any(s.page for s in read.signals) or (read.kind == "ga4" and read.signals):
            if published is None:
                published = sorted(store.pages.published())
                if published:
                    matcher = PageMatcher(cfg.site.base_url, cfg.signals.hosts, published,
                                          site_redirects(cfg, redirects))
            if not published:
                raise SignalsError(f"{path}: its rows name pages, but the store has no published pages yet: build "
                                   "the site first (pages are matched to the site's URLs)")
        plan = _convert(read, matcher, today, digest)
        first, last = plan.report.period
        if first:
            overlaps = tuple(store.signals.overlapping(read.kind, read.dimension, first, last))
            plan.report = replace(plan.report, overlaps=overlaps)
        plans.append(plan)
        reports.append(plan.report)
        batch.add(digest)
    at = _now()
    with store.transaction():
        for plan in plans:
            r = plan.report
            log = {k: v for k, v in asdict(r).items() if k not in ("path", "already_imported", "overlaps",
                                                                    "digest", "skipped")}
            store.signals.add(r.digest, r.path, r.kind, r.dimension, at, log, plan.rows)
    return ImportReport(tuple(reports))


def import_configured(store, cfg, redirects: Mapping[str, str] | None = None, *,
                      today: str | None = None) -> ImportReport:
    """Import ``signals.paths`` (relative to site.toml): what a build does before it computes rewards. Files
    imported before are recognised by their bytes and change nothing."""
    paths = []
    for i, value in enumerate(cfg.signals.paths):
        path = cfg.path(value)
        if not path.exists():
            raise SignalsError(f"signals.paths[{i}]: no such file or folder: {path}")
        paths.append(path)
    return import_signals(store, cfg, paths, redirects=redirects, today=today) if paths else ImportReport()
