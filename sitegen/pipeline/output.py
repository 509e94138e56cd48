"""The output folder: which folders sitegen may publish to, the marker that says a folder is sitegen's, and the
generation it holds.

sitegen deletes what is in its output folder on every build, so before any work it refuses an output that could
hold anything else: the sources (site root, content, templates, pages, catalog, images, store), the file-system
root, the home folder, an existing file, a mount point, or a non-empty folder without the marker. The marker,
``.sitegen-output`` at the top of the output, is part of the published site; its content is a function of the
site alone (the generation: a hash of every page record and feed), so the same input gives the same bytes.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
from pathlib import Path

from sitegen.core.config import Config
from sitegen.core.errors import OutputError

MARKER = ".sitegen-output"
_MARKER_HEAD = ("sitegen output folder: every build replaces its content. Do not keep other files here.\n"
                "generation ")

_REASONS = {errno.ENOSPC: "no space left on device", errno.EROFS: "read-only file system",
            errno.EACCES: "permission denied", errno.EPERM: "operation not permitted",
            errno.EBUSY: "device or resource busy (a mount point or a folder in use?)",
            errno.EDQUOT: "disk quota exceeded", errno.EXDEV: "it is on another device (a mount point?)"}
WRITE_ERRNOS = frozenset(_REASONS)


def shown(path: Path) -> str:
    """A path as the user would type it: relative to the current folder when inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve())) or "."
    except ValueError:
        return str(path)


def check_output(cfg: Config) -> None:
    """Refuse, with one line, an output folder that sitegen could not replace without deleting what it did not
    create. Runs before any work."""
    out = Path(os.path.realpath(cfg.output_dir))
    name = shown(cfg.output_dir)

    def refuse(why: str) -> None:
        raise OutputError(f"refusing to publish to {name}: {why}")

    if out == Path(out.anchor):
        refuse("it is the root of the file system")
    home = Path(os.path.realpath(Path.home()))
    if out == home or _inside(home, out):
        refuse(f"it {'is' if out == home else 'contains'} the home folder")
    root = Path(os.path.realpath(cfg.root))
    if out == root or _inside(root, out):
        refuse(f"it {'is' if out == root else 'contains'} the site root {shown(root)} (the folder of site.toml)")
    sources = [(label, Path(os.path.realpath(source))) for label, source in _sources(cfg)]
    sources = [(label, src) for label, src in sources if src != root and not _inside(root, src)]  # rule above
    for label, src in sources:
        if out == src:
            refuse(f"it is {label} {shown(src)}")
    for label, src in sources:
        if _inside(out, src):
            refuse(f"it lies inside {label} {shown(src)}")
    for label, src in sources:
        if _inside(src, out):
            refuse(f"it contains {label} {shown(src)}")
    if out.exists() and not out.is_dir():
        refuse("it is an existing file, not a folder")
    if out.is_dir():
        if _is_mount(out):
            refuse("it is a mount point, which cannot be replaced in one step; publish to a folder inside it "
                   f"(-o {name}/site) and serve that")
        if read_marker(out) is None and any(out.iterdir()):
            refuse(f"the folder is not empty and sitegen did not create it (it has no {MARKER} file); "
                   "choose a new or empty folder (or, if an older sitegen built it, create an empty "
                   f"{MARKER} file in it)")


def _sources(cfg: Config) -> list[tuple[str, Path]]:
    sources = [("the catalog", cfg.path(cfg.catalog.path)), ("the images folder", cfg.path(cfg.catalog.images_dir)),
               ("the templates folder", cfg.path(cfg.build.templates)),
               ("the pages folder", cfg.path(cfg.build.pages)), ("the store", cfg.store_path),
               ("the store folder", cfg.store_path.parent)]
    if (cfg.root / "content").is_dir():
        sources.append(("the content folder", cfg.root / "content"))
    return sources


def _inside(path: Path, folder: Path) -> bool:
    """``path`` lies strictly inside ``folder``."""
    return path != folder and folder in path.parents


def _is_mount(path: Path) -> bool:
    """A mount point, a bind mount of a folder onto itself included (same device, so only the mount table
    tells)."""
    if os.path.ismount(path):
        return True
    try:
        if path.stat().st_dev != path.parent.stat().st_dev:
            return True
        with open("/proc/self/mountinfo", encoding="utf-8") as f:
            points = {line.split()[4].encode().decode("unicode_escape") for line in f if len(line.split()) > 4}
    except OSError:
        return False
    return str(path) in points


def generation(records, site_dir: Path, extra: str = "") -> str:
    """The identity of a written site: every page record (path, content, lastmod, sitemap flag), the feeds and
    the redirect files; ``extra`` names what else it holds (the retired pages' stubs: ``Decisions.key``)."""
    from sitegen.publish.redirects import FILES

    h = hashlib.sha256()
    for r in sorted(records, key=lambda r: r.path):
        h.update(f"{r.path}\0{r.content_hash}\0{r.lastmod}\0{r.in_sitemap}\n".encode())
    for name in ("robots.txt", "llms.txt", *FILES):
        if (site_dir / name).is_file():
            h.update(name.encode() + b"\0" + (site_dir / name).read_bytes())
    if extra:
        h.update(f"extra\0{extra}".encode())
    return h.hexdigest()[:32]


def write_marker(site_dir: Path, gen: str) -> None:
    (site_dir / MARKER).write_text(f"{_MARKER_HEAD}{gen}\n", encoding="utf-8")


def read_marker(folder: Path) -> str | None:
    """The generation a sitegen output folder holds; "" for a marker without one (``touch build/.sitegen-output``
    adopts the output of an older sitegen); None if the folder has no marker."""
    try:
        text = (folder / MARKER).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError):
        return "" if (folder / MARKER).is_file() else None
    found = re.search(r"^generation (\S+)$", text, re.MULTILINE)
    return found.group(1) if found else ""


def write_error(exc: OSError, out_dir: Path, store_dir: Path) -> OutputError:
    """One line for a write that the file system refused (disk full, read-only, busy mount)."""
    reason = _REASONS.get(exc.errno or 0, exc.strerror or str(exc))
    written = exc.filename2 or exc.filename  # a copy names its source first and its destination second
    target = Path(written) if written else None
    if target is not None and (target == store_dir or store_dir in target.parents):
        return OutputError(f"cannot write the store folder {shown(store_dir)}/: {reason}")
    return OutputError(f"cannot write the site to {shown(out_dir)}/: {reason}")


def reconcile(store, out_dir: Path) -> bool:
    """Settle what a killed build left, before this build reads the previous pages. A build commits its pages
    to the store as *pending* before it swaps the site in, and records them as live after. If the output holds
    the pending generation, the swap happened: it becomes live. Otherwise it never went live: the previous
    pages are put back. Returns whether the output holds the store's live pages (only then may files be reused
    from it)."""
    state = store.cache.get("output", ["generation", "pending"])
    live, pending = state.get("generation"), state.get("pending")
    have = read_marker(out_dir) if out_dir.is_dir() else None
    if pending:
        if have == pending["generation"]:
            store.cache.put("output", {"generation": pending["generation"], "last": pending["key"], "pending": None})
            return True
        store.pages.restore()
        store.lifecycle.restore()
        store.cache.put("output", {"pending": None})
    return bool(have) and have == live


def debug_pause(point: str) -> None:
    """``SITEGEN_DEBUG_PAUSE_AT=<point>`` (a stage name, ``swapped`` or ``recorded``): the build stops there,
    writes its pid to ``SITEGEN_DEBUG_PAUSE_FILE`` and waits while that file exists, so a test can kill it at
    exactly that point (or delete the file to let it go on)."""
    if os.environ.get("SITEGEN_DEBUG_PAUSE_AT") != point:
        return
    import time

    flag = Path(os.environ.get("SITEGEN_DEBUG_PAUSE_FILE") or f".sitegen-pause-{os.getpid()}")
    flag.write_text(str(os.getpid()), encoding="utf-8")
    while flag.exists():
        time.sleep(0.05)
