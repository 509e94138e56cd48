"""The audit: read a built site folder and report what a search engine or a reviewer would object to.

It reads only the files (a stdlib ``re`` tokenizer and ``xml.etree``), never the pipeline's data, so it works on any
built folder. One pass parses each HTML file (in worker processes on big sites); the cross-page checks (links,
orphans, depth, duplicates, sitemaps, robots.txt, llms.txt) then run over the compact per-page records.

Redirect pages (a ``<meta http-equiv="refresh">``) and the stubs sitegen leaves at retired URLs
(``<meta name="sitegen:status">``) are not pages of the site: their target must exist, and no page may link
to them.

Every finding carries a one-line fix. Severities: ``error`` blocks publishing (broken links, missing titles,
invalid JSON-LD ...), ``warning`` hurts ranking or citation (thin or near-duplicate collections, deep pages ...),
``info`` is advice (short descriptions ...).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict
from pathlib import Path
from typing import Callable, Iterable
from xml.etree import ElementTree as ET

from sitegen.audit.checkpage import (HREFLANG, IMAGE_NS, MD_LINK, SEVERITY_ORDER, SITEMAP_MAX_BYTES, SITEMAP_MAX_URLS,
                        SITEMAP_NS, W3C_DATETIME, Finding, PageData, _f, internal_path, page_kind, parse_page, resolve)
from sitegen.core.config import Config

__all__ = ["Finding", "audit", "format_table", "to_json", "counts", "sort_findings", "parse_robots", "robots_allows",
           "parse_page", "internal_path", "resolve", "page_kind"]

# -- the site ---------------------------------------------------------------------------------------------
_JOB: tuple = ()


def _work(rel: str) -> PageData:
    return parse_page(*_JOB[:1], rel, *_JOB[1:])


def _scan(out_dir: Path) -> tuple[set[str], list[str]]:
    files: set[str] = set()
    pages: list[str] = []
    root = str(out_dir)
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
        prefix = "" if rel_dir == "." else rel_dir + "/"
        dirnames.sort()
        for name in filenames:
            rel = prefix + name
            if rel == ".sitegen-output":  # the output folder's marker, not part of the site
                continue
            files.add(rel)
            if name.endswith((".html", ".htm")):
                pages.append(rel)
    pages.sort()
    return files, pages


def _parse_all(out_dir: Path, pages: list[str], base_url: str, locales: tuple[str, ...], progress) -> list[PageData]:
    global _JOB
    _JOB = (str(out_dir), base_url, locales)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    workers = min(cpus, 8)
    results: list[PageData] = []
    total = len(pages)
    import multiprocessing as mp

    try:  # fork: the workers inherit _JOB and need no import of the caller's __main__
        ctx = mp.get_context("fork")
    except ValueError:  # no fork on this platform: parse in this process
        ctx = None
    if total < 400 or workers < 2 or ctx is None:
        for n, rel in enumerate(pages, 1):
            results.append(_work(rel))
            if progress and (n % 1000 == 0 or n == total):
                progress(n, total)
        return results
    with ctx.Pool(workers) as pool:
        for n, page in enumerate(pool.imap(_work, pages, chunksize=64), 1):
            results.append(page)
            if progress and (n % 1000 == 0 or n == total):
                progress(n, total)
    return results


def _others(paths: list[str], me: str, limit: int = 5) -> str:
    rest = [x for x in paths[:limit + 1] if x != me][:limit]
    more = len(paths) - 1 - len(rest)
    return ", ".join(rest) + (f" and {more} more" if more > 0 else "")


def _duplicates(pages: list[PageData], attr, code: str, what: str) -> list[Finding]:
    groups: dict[str, list[str]] = {}
    for p in pages:
        value = attr(p)
        if value:
            groups.setdefault(value.casefold(), []).append(p.path)
    out = []
    for value, paths in groups.items():
        if len(paths) > 1:
            for path in paths:
                out.append(_f("error", code, path, f"{len(paths)} pages share this {what}; also {_others(paths, path)}"))
    return out


def _parse_dt(value: str):
    from datetime import datetime, timezone

    v = value.strip().replace("Z", "+00:00")
    if len(v) == 4:
        v += "-01-01"
    elif len(v) == 7:
        v += "-01"
    dt = datetime.fromisoformat(v)
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _now(now: str | None):
    from datetime import datetime, timezone

    if now:
        return _parse_dt(now)
    if os.environ.get("SOURCE_DATE_EPOCH", "").strip().isdigit():
        return datetime.fromtimestamp(int(os.environ["SOURCE_DATE_EPOCH"]), timezone.utc)
    return datetime.now(timezone.utc)



# -- sitemaps, robots.txt, llms.txt ------------------------------------------------------------------------
def _sitemap_file(loc: str, base_url: str) -> str | None:
    path = internal_path(loc, "/", base_url)
    return path.lstrip("/") if path is not None else None


def _read_sitemaps(out_dir: Path, files: set[str], base_url: str, now, extra: list[str],
                   out: list[Finding]) -> dict[str, tuple[str, str]]:
    """Every URL listed in the sitemaps: path -> (loc, sitemap file). Checks the protocol on the way."""
    from datetime import timedelta

    listed: dict[str, tuple[str, str]] = {}
    limit = now + timedelta(days=1)  # lastmod may be a date in a time zone ahead of UTC
    queue, seen = ["sitemap.xml"] + [e for e in extra if e != "sitemap.xml"], set()
    if "sitemap.xml" not in files:
        out.append(_f("error", "sitemap_missing", "sitemap.xml", "no sitemap.xml at the site root"))
        queue = [e for e in extra if e in files]
    while queue:
        rel = queue.pop(0)
        if rel in seen:
            continue
        seen.add(rel)
        full = out_dir / rel
        size = full.stat().st_size
        if size > SITEMAP_MAX_BYTES:
            out.append(_f("error", "sitemap_too_large", rel, f"{size:,} bytes (limit {SITEMAP_MAX_BYTES:,})"))
        with open(full, "rb") as fh:
            head = fh.read(2048).decode("utf-8", "replace")
        xsl = re.search(r"<\?xml-stylesheet[^>]*href=[\"']([^\"']+)[\"']", head)
        if not xsl:
            out.append(_f("info", "sitemap_stylesheet", rel, "no xml-stylesheet: a browser shows raw XML"))
        else:
            target = internal_path(xsl.group(1), "/" + rel, base_url)
            if target is not None and resolve(target, files) is None:
                out.append(_f("warning", "sitemap_stylesheet", rel, f"stylesheet {xsl.group(1)} does not exist"))
        root = None
        kind = ""
        count = 0
        try:
            for event, elem in ET.iterparse(str(full), events=("start", "end")):
                if root is None:
                    root = elem
                    kind = {f"{{{SITEMAP_NS}}}urlset": "urlset", f"{{{SITEMAP_NS}}}sitemapindex": "index"}.get(
                        elem.tag, "")
                    if not kind:
                        out.append(_f("error", "sitemap_invalid", rel,
                                      f"root element is {elem.tag}, expected urlset or sitemapindex in {SITEMAP_NS}"))
                        break
                    if kind == "index" and rel != "sitemap.xml" and rel not in extra:
                        out.append(_f("error", "sitemap_invalid", rel, "a sitemap index may not be nested"))
                        break
                    continue
                if event != "end" or elem.tag not in (f"{{{SITEMAP_NS}}}url", f"{{{SITEMAP_NS}}}sitemap"):
                    continue
                count += 1
                loc = (elem.findtext(f"{{{SITEMAP_NS}}}loc") or "").strip()
                lastmod = (elem.findtext(f"{{{SITEMAP_NS}}}lastmod") or "").strip()
                images = [(i.text or "").strip() for i in elem.iter(f"{{{IMAGE_NS}}}loc")]
                root.clear()
                if elem.tag.endswith("}sitemap") != (kind == "index"):
                    out.append(_f("error", "sitemap_invalid", rel, f"<{elem.tag.split('}')[1]}> inside <{root.tag.split('}')[1]}>"))
                    continue
                path = internal_path(loc, "/", base_url) if loc.startswith(("http://", "https://")) else None
                if path is None or not loc.startswith(base_url):
                    out.append(_f("error", "sitemap_loc_invalid", rel, f"<loc> {loc or '(empty)'} is not an absolute URL under {base_url}"))
                    continue
                if lastmod:
                    if not W3C_DATETIME.match(lastmod):
                        out.append(_f("error", "sitemap_lastmod_invalid", path, f"lastmod {lastmod!r} in {rel} is not a W3C datetime"))
                    else:
                        try:
                            if _parse_dt(lastmod) > limit:
                                out.append(_f("warning", "sitemap_lastmod_future", path,
                                              f"lastmod {lastmod} in {rel} is after {now.isoformat(timespec='seconds')}"))
                        except ValueError:
                            out.append(_f("error", "sitemap_lastmod_invalid", path, f"lastmod {lastmod!r} in {rel} is not a valid date"))
                if kind == "index":
                    child = _sitemap_file(loc, base_url)
                    if child is None or child not in files:
                        out.append(_f("error", "sitemap_child_missing", rel, f"child sitemap {loc} does not exist"))
                    else:
                        queue.append(child)
                    continue
                if path in listed:
                    out.append(_f("warning", "sitemap_duplicate_url", path, f"listed in {listed[path][1]} and {rel}"))
                listed[path] = (loc, rel)
                if len(images) > 1000:
                    out.append(_f("warning", "sitemap_image_too_many", path, f"{len(images)} images in {rel}"))
                for img in images:
                    ipath = internal_path(img, path, base_url)
                    if ipath is not None and resolve(ipath, files) is None:
                        out.append(_f("error", "sitemap_image_missing", path, f"image {img} in {rel} does not exist"))
        except ET.ParseError as exc:
            out.append(_f("error", "sitemap_invalid", rel, f"not well-formed XML: {exc}"))
        if count > SITEMAP_MAX_URLS:
            out.append(_f("error", "sitemap_too_large", rel, f"{count:,} entries (limit {SITEMAP_MAX_URLS:,})"))
    return listed


def parse_robots(text: str) -> tuple[list[tuple[bool, str]], list[str]]:
    """The Allow/Disallow rules of the group(s) for ``User-agent: *`` and every Sitemap URL."""
    rules: list[tuple[bool, str]] = []
    sitemaps: list[str] = []
    agents: list[str] = []
    in_rules = False
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if ":" not in line:
            continue
        key, value = (s.strip() for s in line.split(":", 1))
        key = key.lower()
        if key == "sitemap":
            sitemaps.append(value)
        elif key == "user-agent":
            if in_rules:
                agents, in_rules = [], False
            agents.append(value.lower())
        elif key in ("allow", "disallow"):
            in_rules = True
            if "*" in agents and value:
                rules.append((key == "allow", value))
    return rules, sitemaps


_ROBOTS_RX: dict[str, re.Pattern] = {}


def robots_allows(rules: list[tuple[bool, str]], path: str) -> bool:
    """Longest match wins; on a tie Allow wins (RFC 9309). ``*`` matches anything, ``$`` anchors the end."""
    best: tuple[int, bool] | None = None
    for allow, pattern in rules:
        rx = _ROBOTS_RX.get(pattern)
        if rx is None:
            body = re.escape(pattern.rstrip("$")).replace(r"\*", ".*")
            rx = _ROBOTS_RX[pattern] = re.compile(body + ("$" if pattern.endswith("$") else ""))
        if rx.match(path):
            key = (len(pattern), allow)
            if best is None or key > best:
                best = key
    return best is None or best[1]


def _check_robots(out_dir: Path, files: set[str], base_url: str, out: list[Finding]):
    if "robots.txt" not in files:
        out.append(_f("error", "robots_missing", "robots.txt", "no robots.txt at the site root"))
        return [], []
    rules, sitemaps = parse_robots((out_dir / "robots.txt").read_text(encoding="utf-8", errors="replace"))
    extra = []
    if not sitemaps:
        out.append(_f("warning", "robots_no_sitemap", "robots.txt", "robots.txt names no sitemap"))
    for loc in sitemaps:
        rel = _sitemap_file(loc, base_url)
        if rel is None or rel not in files:
            out.append(_f("error", "robots_sitemap_missing", "robots.txt", f"Sitemap {loc} does not exist on this site"))
        else:
            extra.append(rel)
    return rules, extra


def _check_llms(out_dir: Path, files: set[str], base_url: str, out: list[Finding]) -> None:
    if "llms.txt" not in files:
        out.append(_f("warning", "llms_missing", "llms.txt", "no llms.txt at the site root"))
        return
    text = (out_dir / "llms.txt").read_text(encoding="utf-8", errors="replace")
    first = next((line for line in text.splitlines() if line.strip()), "")
    if not first.startswith("# "):
        out.append(_f("info", "llms_format", "llms.txt", "llms.txt does not start with a '# ' title"))
    relative = []
    for _text, url in MD_LINK.findall(text):
        if not url.startswith(("http://", "https://")):
            if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", url):
                continue
            relative.append(url)
        path = internal_path(url, "/", base_url)
        if path is not None and resolve(path, files) is None:
            out.append(_f("error", "llms_broken_link", path, f"llms.txt lists {url}, which does not exist"))
    if relative:
        out.append(_f("warning", "llms_relative_link", "llms.txt",
                      f"{len(relative)} relative links (first: {relative[0]})"))


# -- cross-page checks -------------------------------------------------------------------------------------
_IMAGE_EXT = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif", ".svg", ".ico")


def _near_duplicates(cols: list[PageData], threshold: float, out: list[Finding]) -> None:
    sets = {p.path: frozenset(p.members) for p in cols if p.members}
    index: dict[str, list[str]] = {}
    for path, members in sets.items():
        for m in members:
            index.setdefault(m, []).append(path)
    shared: dict[tuple[str, str], int] = {}
    for owners in index.values():
        if len(owners) > 200:  # an item in hundreds of topics: skip the quadratic blow-up, others will catch it
            continue
        for i, a in enumerate(owners):
            for b in owners[i + 1:]:
                key = (a, b) if a < b else (b, a)
                shared[key] = shared.get(key, 0) + 1
    for (a, b), inter in sorted(shared.items()):
        jac = inter / (len(sets[a]) + len(sets[b]) - inter)
        if jac >= threshold:
            out.append(_f("warning", "duplicate_collection", b,
                          f"{jac:.0%} of its items are shared with {a} (Jaccard >= {threshold:g})"))
    by_h1: dict[str, list[str]] = {}
    for p in cols:
        if p.h1s:
            by_h1.setdefault(p.h1s[0].casefold(), []).append(p.path)
    for paths in by_h1.values():
        for path in paths[1:]:
            out.append(_f("warning", "duplicate_collection", path, f"same H1 as {paths[0]}"))


def audit(out_dir: Path, cfg: Config, *, min_items: int | None = None, now: str | None = None,
          progress: Callable[[int, int], None] | None = None) -> list[Finding]:
    """Audit a built site folder. Returns findings sorted by (severity, code, page).

    ``min_items`` is the thin-collection threshold (default ``collect.min_items``); ``now`` (ISO 8601) is the
    reference for future lastmod (default SOURCE_DATE_EPOCH, else the clock); ``progress(done, total)`` is
    called while pages are parsed."""
    out_dir = Path(out_dir)
    base = cfg.site.base_url if cfg.site.base_url.endswith("/") else cfg.site.base_url + "/"
    tau = cfg.collect.min_items if min_items is None else min_items
    locales = tuple(cfg.site.locales)
    max_depth = cfg.link.max_depth
    out: list[Finding] = []
    files, html = _scan(out_dir)
    pages = _parse_all(out_dir, html, base, locales, progress)
    by_file = {p.file: p for p in pages}
    for p in pages:
        out.extend(p.findings)
        p.findings = []

    # redirect pages (a meta refresh) and the stubs of retired pages are not pages of the site: their links
    # count for nothing, a link to one is a finding, their redirect must land on a page
    stubs = {p.file: p for p in pages if p.refresh is not None or p.retired}
    memo: dict[str, str | None] = {}
    for p in stubs.values():
        if p.refresh:
            t = internal_path(p.refresh, p.path, base)
            rel = None if t is None else (memo[t] if t in memo else memo.setdefault(t, resolve(t, files)))
            if t is not None and rel is None:
                out.append(_f("error", "redirect_broken", p.path, f"redirects to {p.refresh}, which does not exist"))
            elif rel in stubs and rel != p.file:
                out.append(_f("warning", "redirect_chain", p.path, f"redirects to {t}, itself a redirect"))

    # links, resources, inbound counts
    inbound: dict[str, int] = {}
    adjacency: dict[str, list[str]] = {}
    for p in pages:
        outs = []
        for t in p.links:
            rel = memo[t] if t in memo else memo.setdefault(t, resolve(t, files))
            if rel is None:
                out.append(_f("error", "broken_image" if t.lower().endswith(_IMAGE_EXT) else "broken_link",
                              p.path, f"links to {t}, which does not exist"))
            elif p.file in stubs:
                continue
            elif rel in stubs:
                q = stubs[rel]
                what = f"redirects to {q.refresh}" if q.refresh else f"answers {q.retired or 'as a retired page'}"
                out.append(_f("warning", "link_to_retired", p.path, f"links to {t}, a retired page ({what})"))
            elif rel in by_file and rel != p.file:
                outs.append(rel)
                inbound[rel] = inbound.get(rel, 0) + 1
        adjacency[p.file] = outs
        for t in p.resources:
            if (memo[t] if t in memo else memo.setdefault(t, resolve(t, files))) is None:
                code = "broken_image" if t.lower().endswith(_IMAGE_EXT) or "/img" in t else "broken_link"
                out.append(_f("error", code, p.path, f"references {t}, which does not exist"))
    indexable = [p for p in pages if not p.noindex]

    # sitemaps and robots
    rules, extra = _check_robots(out_dir, files, base, out)
    listed = _read_sitemaps(out_dir, files, base, _now(now), extra, out)
    in_sitemap: set[str] = set()
    for path, (loc, rel_map) in listed.items():
        rel = resolve(path, files)
        if rel is None:
            out.append(_f("error", "sitemap_missing_page", path, f"listed in {rel_map} but no file serves it"))
            continue
        in_sitemap.add(rel)
        p = by_file.get(rel)
        if p is not None:
            if p.noindex:
                out.append(_f("error", "sitemap_noindex", path, f"listed in {rel_map} but marked noindex"))
            elif len(set(p.canonicals)) == 1 and p.canonicals[0] != loc:
                out.append(_f("warning", "sitemap_non_canonical", path,
                              f"{rel_map} lists {loc} but the page's canonical is {p.canonicals[0]}"))
        if rules and not robots_allows(rules, path):
            out.append(_f("error", "robots_blocks_sitemap_url", path, f"listed in {rel_map} but disallowed by robots.txt"))
    _check_llms(out_dir, files, base, out)

    # orphans, missing from sitemaps, depth
    candidates = [by_file[r] for r in sorted(in_sitemap) if r in by_file] if listed else indexable
    orphans = set()
    for p in candidates:
        if not inbound.get(p.file) and page_kind(p.path, locales) != "home" and p.path != "/":
            orphans.add(p.file)
            out.append(_f("error", "orphan_page", p.path, "no other page links to it"))
    if listed:
        for p in indexable:
            if p.file not in in_sitemap and inbound.get(p.file):
                out.append(_f("warning", "not_in_sitemap", p.path, "linked from the site but in no sitemap"))
    if "index.html" in by_file:
        depth = {"index.html": 0}
        frontier = ["index.html"]
        while frontier:
            nxt = []
            for rel in frontier:
                d = depth[rel] + 1
                for t in adjacency.get(rel, ()):
                    if t not in depth:
                        depth[t] = d
                        nxt.append(t)
            frontier = nxt
        for p in indexable:
            d = depth.get(p.file)
            if d is None:
                if p.file not in orphans:
                    out.append(_f("warning", "unreachable_page", p.path, "cannot be reached by following links from home"))
            elif d > max_depth:
                out.append(_f("warning", "deep_page", p.path, f"{d} clicks from home (limit {max_depth})",
                              depth=max_depth))

    # duplicates
    out.extend(_duplicates(indexable, lambda p: p.title, "title_duplicate", "title"))
    out.extend(_duplicates(indexable, lambda p: p.descs[0].strip() if p.descs else "", "description_duplicate",
                           "meta description"))

    # canonical targets, hreflang
    for p in pages:
        if len(set(p.canonicals)) != 1 or not p.canonicals[0].startswith(("http://", "https://")):
            continue
        can = p.canonicals[0]
        cpath = internal_path(can, p.path, base)
        if cpath is None:
            out.append(_f("warning", "canonical_other", p.path, f"canonical points to another site: {can}"))
            continue
        rel = resolve(cpath, files)
        if rel is None:
            out.append(_f("error", "canonical_broken", p.path, f"canonical {can} does not exist"))
        elif rel != p.file and p.file not in stubs:
            out.append(_f("warning", "canonical_other", p.path, f"canonical points to another page: {cpath}"))
    if locales:
        for p in pages:
            if not p.alternates:
                continue
            targets = set()
            for code, href in p.alternates:
                if not HREFLANG.match(code.strip()):
                    out.append(_f("error", "hreflang_invalid", p.path, f"invalid hreflang code {code!r}"))
                hpath = internal_path(href, p.path, base)
                if hpath is None:
                    continue
                rel = resolve(hpath, files)
                if rel is None:
                    out.append(_f("error", "hreflang_broken", p.path, f"hreflang {code} points to missing {hpath}"))
                    continue
                targets.add(rel)
                q = by_file.get(rel)
                if q is not None and q is not p:
                    back = {resolve(x, files) for x in
                            (internal_path(h, q.path, base) for _, h in q.alternates) if x is not None}
                    if p.file not in back:
                        out.append(_f("error", "hreflang_no_return", p.path, f"{q.path} has no hreflang link back"))
            if p.file not in targets:
                out.append(_f("warning", "hreflang_no_self", p.path, "no hreflang alternate points at the page itself"))

    # collections: thin and near-duplicate
    cols = [p for p in indexable if page_kind(p.path, locales) == "collection"]
    for p in cols:
        if p.itemlists and p.itemlists[0] < tau:
            out.append(_f("warning", "thin_collection", p.path, f"{p.itemlists[0]} items (minimum {tau})", tau=tau))
    _near_duplicates(cols, cfg.collect.duplicate_jaccard, out)
    return sort_findings(out)


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (SEVERITY_ORDER.get(f.severity, 9), f.code, f.page, f.message))


def counts(findings: Iterable[Finding]) -> dict[str, int]:
    c = {"error": 0, "warning": 0, "info": 0}
    for f in findings:
        c[f.severity] = c.get(f.severity, 0) + 1
    return c


def format_table(findings: list[Finding], *, limit: int | None = None) -> str:
    """A plain-text table for the terminal, one finding per line plus its fix, then a summary line."""
    c = counts(findings)
    shown = findings if limit is None else findings[:limit]
    lines = []
    if shown:
        wc = max(len(f.code) for f in shown)
        wp = min(max(len(f.page) for f in shown), 48)
        lines.append(f"{'SEVERITY':<8}  {'CODE':<{wc}}  {'PAGE':<{wp}}  MESSAGE")
        for f in shown:
            lines.append(f"{f.severity:<8}  {f.code:<{wc}}  {f.page:<{wp}}  {f.message}")
            lines.append(f"{'':<8}  {'':<{wc}}  {'':<{wp}}  fix: {f.fix}")
    if limit is not None and len(findings) > limit:
        lines.append(f"... {len(findings) - limit} more findings not shown")
    lines.append(f"{c['error']} error(s), {c['warning']} warning(s), {c['info']} info")
    return "\n".join(lines)


def to_json(findings: list[Finding]) -> str:
    return json.dumps({"counts": counts(findings), "findings": [asdict(f) for f in findings]},
                      indent=2, ensure_ascii=False)
