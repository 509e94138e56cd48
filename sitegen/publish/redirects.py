"""Redirects for retired collection pages, in the formats hosts read (``lifecycle.redirects``):

- ``netlify``: ``_redirects`` in Netlify's syntax. A stub page stays at each old path (below), and Netlify
  serves an existing file instead of a rule unless the rule is forced, so every rule ends in ``!``:
  ``/topic/old/ /topic/new/ 301!``; a 410 serves the old path's "gone" page with status 410
  (``/topic/old/ /topic/old/index.html 410!``). Both the path with and without its trailing slash are listed.
- ``cloudflare``: ``_redirects`` in Cloudflare Pages' syntax (the same file name, so one or the other):
  Cloudflare always applies a redirect, even where a file exists, but accepts only 301, 302, 303, 307, 308
  and 200 and rejects ``!``: the 301s are written plainly, each 410 only as a comment (Pages has no rule for
  it: the "gone" page is served with status 200 and ``noindex``, which search engines treat like a 404).
- ``nginx``: ``nginx-redirects.map``, the entries of an nginx ``map`` from the request path to the target
  (``"410"`` for a gone page); the README shows the ``map`` and ``if`` lines that include it.
- ``html``: a small page at each old path (``topic/<slug>/index.html``) for plain static hosts: a 301 page
  has ``<meta http-equiv="refresh">`` and a canonical link to the target, a 410 page says the page is gone and
  links home; both are ``noindex`` and carry ``<meta name="sitegen:status">`` (301 / 410), which the audit
  reads: they are not pages of the site (no sitemap entry, no link to them).
  With ``netlify`` the 410 pages are written even without ``html``: they are the body Netlify serves.

Every file is a function of the retired URLs alone (same input, same bytes); nothing is written when no URL is
retired.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

from sitegen.core import urls
from sitegen.core.models import RetiredPage

NETLIFY = "_redirects"
NGINX = "nginx-redirects.map"
FILES = (NETLIFY, NGINX)


def _sources(path: str) -> list[str]:
    return [path, path.rstrip("/")] if path != "/" and path.endswith("/") else [path]


def netlify(retired: Sequence[RetiredPage]) -> str:
    lines = ["# sitegen: retired collection pages (Netlify). A stub page stays at each old path, so every",
             "# rule is forced (!); a 410 serves the old path's 'gone' page with status 410."]
    for r in retired:
        for src in _sources(r.path):
            if r.status == 301:
                lines.append(f"{src} {r.target} 301!")
            else:
                lines.append(f"{src} /{urls.output_file(r.path)} 410!")
    return "\n".join(lines) + "\n"


def cloudflare(retired: Sequence[RetiredPage]) -> str:
    lines = ["# sitegen: retired collection pages (Cloudflare Pages). Cloudflare applies a redirect even where",
             "# a file exists; it has no 410 rule: a gone page is served as is (status 200, noindex)."]
    for r in retired:
        for src in _sources(r.path):
            lines.append(f"{src} {r.target} 301" if r.status == 301 else f"# 410 {src}")
    return "\n".join(lines) + "\n"


def nginx(retired: Sequence[RetiredPage]) -> str:
    lines = ["# sitegen: retired collection pages, the entries of an nginx map (README, \"Page lifecycle\"):",
             "#   http { map $uri $sitegen_redirect { include /path/to/site/nginx-redirects.map; } }",
             "#   server { if ($sitegen_redirect = 410) { return 410; }",
             "#            if ($sitegen_redirect) { return 301 $sitegen_redirect; } }"]
    for r in retired:
        value = r.target if r.status == 301 else "410"
        for src in _sources(r.path):
            lines.append(f"{_quoted(src)} {_quoted(value)};")
    return "\n".join(lines) + "\n"


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_redirects(retired: Sequence[RetiredPage], cfg, out: Path, topics: Mapping[str, str]) -> list[str]:
    """Write the configured formats for ``retired`` into the site folder ``out``; ``topics`` maps a live
    collection path to its topic (the stubs name their target). Returns the files written, relative to
    ``out``."""
    if not retired:
        return []
    retired = sorted(retired, key=lambda r: r.path)
    formats = set(cfg.lifecycle.redirects)
    written: list[str] = []
    if "netlify" in formats:
        (out / NETLIFY).write_text(netlify(retired), encoding="utf-8")
        written.append(NETLIFY)
    elif "cloudflare" in formats:
        (out / NETLIFY).write_text(cloudflare(retired), encoding="utf-8")
        written.append(NETLIFY)
    if "nginx" in formats:
        (out / NGINX).write_text(nginx(retired), encoding="utf-8")
        written.append(NGINX)
    stubs = [r for r in retired if "html" in formats or (r.status == 410 and "netlify" in formats)]
    if stubs:
        written += _write_stubs(stubs, cfg, out, topics)
    return written


def _write_stubs(retired: Sequence[RetiredPage], cfg, out: Path, topics: Mapping[str, str]) -> list[str]:
    from sitegen.publish.render import make_environment, template_dirs

    template = make_environment(template_dirs(cfg)).get_template("retired.html")
    g = {"title": cfg.site.title, "language": cfg.site.language, "base_url": cfg.site.base_url}
    written = []
    for r in retired:
        target = urls.page_path(r.target)
        ctx = {"status": r.status, "topic": r.topic, "path": r.path, "target": r.target,
               "target_url": urls.absolute(cfg.site.base_url, target) if r.target else "",
               "target_topic": topics.get(target, target)}
        rel = urls.output_file(r.path)
        dest = out / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(template.render(g=g, r=ctx), encoding="utf-8")
        written.append(rel)
    return written
