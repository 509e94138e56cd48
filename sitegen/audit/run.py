"""The audit of a written site and the review report, as a build runs them: the findings are reused from the
store when the output is the same as last time (the audit reads only the output, so the same pages,
sitemaps, robots.txt and llms.txt give the same findings); --strict turns audit errors into a failure."""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from pathlib import Path
from typing import Callable

from sitegen.core.errors import StrictError
from sitegen.core.models import PageRecord


def audit_and_report(cfg, store, run_id: int, site_dir: Path, records: list[PageRecord], now: str, *,
                     summary: Callable[[], dict], counters: dict, link_report: dict, strict: bool,
                     progress: Callable[[int, int], None] | None = None) -> list:
    """Audit ``site_dir`` and write the review report beside the store (never into the published site).
    ``summary()`` gives the build summary as it stands once the audit's counters are in ``counters``."""
    from sitegen.audit.report import report_dir, write_report

    findings = cached_audit(cfg, store, site_dir, records, now, progress)
    errors = [f for f in findings if f.severity == "error"]
    counters["audit_errors"] = len(errors)
    counters["audit_warnings"] = sum(1 for f in findings if f.severity == "warning")
    write_report(report_dir(cfg), cfg, store, run_id, findings, summary=summary(), link_report=link_report,
                 site_dir=site_dir)
    if strict and errors:
        raise StrictError(f"the audit found {len(errors)} error(s) (--strict); first: "
                          f"{errors[0].page}: {errors[0].message}")
    return findings


def cached_audit(cfg, store, site_dir: Path, records: list[PageRecord], now: str, progress=None) -> list:
    from sitegen.audit.check import Finding, audit
    from sitegen.core.config import config_hash

    h = hashlib.sha256(config_hash(cfg).encode())
    for r in sorted(records, key=lambda r: r.path):
        h.update(f"{r.path}\0{r.content_hash}\0{r.lastmod}\0{r.in_sitemap}\n".encode())
    for name in ("robots.txt", "llms.txt", ".sitegen-output"):  # the marker: the generation, redirects included
        if (site_dir / name).is_file():
            h.update((site_dir / name).read_bytes())
    key = h.hexdigest()[:32]
    cached = store.cache.get("audit", [key]).get(key)
    if cached is not None:
        return [Finding(**f) for f in cached]
    findings = audit(site_dir, cfg, min_items=cfg.collect.min_items, now=now, progress=progress)
    store.cache.replace("audit", {key: [asdict(f) for f in findings]})
    return findings
