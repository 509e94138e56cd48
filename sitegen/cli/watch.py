"""``sitegen serve --watch``: rebuild when a source changes, and tell the open pages (``cli/live.py``).

Watched: ``site.toml``, the catalog file, the images folder, ``content/``, the pages folder and the templates
folder (whichever exist). Polling (every ``POLL`` seconds; no extra dependency and it works on every file
system, network mounts included): a change is a file added, removed, or with another size or modification
time. Changes are debounced: the rebuild starts once the sources have been quiet for ``DEBOUNCE`` seconds, so
an editor's save (or a script rewriting many files) gives one rebuild. Ignored: the output folder, the store's
folder, sitegen's temporary folders, and editors' scratch files (names starting with ``.`` or ``#``, ending
with ``~``, ``.swp``, ``.swx``, ``.tmp``). A rebuild reads ``site.toml`` again; one that fails (bad config, a
catalog that cannot be read, any stage) leaves the last good ``build/`` being served, and its error is printed
and shown on the open pages.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

POLL = 0.5  # seconds between scans
DEBOUNCE = 0.4  # seconds the sources must stay unchanged before a rebuild starts
SCRATCH_SUFFIXES = ("~", ".swp", ".swx", ".tmp")

Snapshot = dict[str, tuple[int, int]]  # path -> (mtime_ns, size)


def watched_roots(cfg, config_file: Path) -> list[Path]:
    """The files and folders a rebuild depends on: site.toml, catalog, images, content/, pages, templates (a
    folder that does not exist yet too: it is watched from when it appears)."""
    candidates = [Path(config_file), cfg.path(cfg.catalog.path), cfg.path(cfg.catalog.images_dir),
                  cfg.root / "content", cfg.path(cfg.build.pages), cfg.path(cfg.build.templates)]
    paths = list(dict.fromkeys(Path(os.path.abspath(c)) for c in candidates))
    folders = [p for p in paths if p.is_dir()]
    # a missing folder is kept (templates/ created later is seen); one inside another watched folder is not
    return [p for p in paths if not any(f != p and f in p.parents for f in folders)]


def excluded_dirs(cfg) -> set[Path]:
    """Folders never watched even when a watched folder holds them: what the build itself writes."""
    return {Path(os.path.abspath(cfg.output_dir)), Path(os.path.abspath(cfg.store_path.parent))}


def _scratch(name: str) -> bool:
    return name.startswith((".", "#")) or name.endswith(SCRATCH_SUFFIXES)


def scan(roots: Iterable[Path], excluded: set[Path]) -> Snapshot:
    """Size and modification time of every file under ``roots`` (a root may be a file)."""
    out: Snapshot = {}
    stack: list[Path] = []
    for root in roots:
        try:
            st = os.stat(root)
        except OSError:
            continue
        if os.path.isdir(root):
            stack.append(root)
        else:
            out[str(root)] = (st.st_mtime_ns, st.st_size)  # named explicitly: watched even if hidden
    while stack:
        folder = stack.pop()
        if folder in excluded:
            continue
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for e in entries:
            if _scratch(e.name):
                continue
            try:
                if e.is_dir(follow_symlinks=False):
                    stack.append(Path(e.path))
                elif e.is_file():
                    st = e.stat()
                    out[e.path] = (st.st_mtime_ns, st.st_size)
            except OSError:  # removed while scanning: the next scan sees it gone
                continue
    return out


def changed(before: Snapshot, after: Snapshot) -> list[str]:
    """The paths added, removed or modified between two scans, sorted."""
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))


@dataclass
class Watcher:
    """Polls the sources; ``wait()`` returns once they changed and then stayed quiet for ``debounce`` s."""

    roots: list[Path]
    excluded: set[Path] = field(default_factory=set)
    poll: float = POLL
    debounce: float = DEBOUNCE
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self):
        self.snapshot = scan(self.roots, self.excluded)

    def wait(self, should_stop: Callable[[], bool] = lambda: False) -> list[str] | None:
        """The changed paths (debounced), or None when ``should_stop()`` became true."""
        while not should_stop():
            self.sleep(self.poll)
            now = scan(self.roots, self.excluded)
            if now == self.snapshot:
                continue
            paths = set(changed(self.snapshot, now))
            while True:  # settle: one rebuild for a burst of writes
                self.sleep(self.debounce)
                again = scan(self.roots, self.excluded)
                if again == now:
                    break
                paths.update(changed(now, again))
                now = again
            self.snapshot = now
            return sorted(paths)
        return None


def describe(paths: list[str], root: Path) -> str:
    """``content/catalog.csv changed`` / ``content/a.png and 3 more changed``, paths relative to the site."""
    def rel(p: str) -> str:
        try:
            return Path(p).relative_to(root).as_posix()
        except ValueError:
            return p

    if not paths:
        return "sources changed"
    more = f" and {len(paths) - 1} more" if len(paths) > 1 else ""
    return f"{rel(paths[0])}{more} changed"
