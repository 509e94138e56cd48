"""The atomic swap: a build is written to a temporary folder beside the output and exchanged with it in one
step; replaced sites are deleted in the background; folders of killed builds are removed by the next build.

A temporary folder is ``.sitegen-build-<pid>-<ns>/`` beside the output. It holds a marker, ``.sitegen-tmp`` (the
builder's pid and start time), and the new site in ``site/``. Only a folder with that name AND that marker, whose
builder is no longer running, is ever removed as stale: a user's folder of a similar name is left alone.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import time
from pathlib import Path

from sitegen.core.errors import OutputError

TMP_PREFIX = ".sitegen-build-"
TMP_MARKER = ".sitegen-tmp"


def make_tmp(parent: Path) -> Path:
    """A new temporary build folder beside the output; returns the folder the site is written to."""
    parent.mkdir(parents=True, exist_ok=True)
    folder = parent / f"{TMP_PREFIX}{os.getpid()}-{time.time_ns()}"
    folder.mkdir()
    try:
        (folder / TMP_MARKER).write_text(json.dumps({"sitegen": "build", "pid": os.getpid(),
                                                     "started": time.time()}), encoding="utf-8")
        (folder / "site").mkdir()
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)  # made just now, by this process
        raise
    return folder / "site"


def remove_tmp(site_dir: Path) -> None:
    """Delete a temporary build folder (given its ``site/``) now."""
    folder = site_dir.parent
    if folder.name.startswith(TMP_PREFIX) and (folder / TMP_MARKER).is_file():
        shutil.rmtree(folder / "site", ignore_errors=True)
        shutil.rmtree(folder, ignore_errors=True)


def swap_in(new_dir: Path, out_dir: Path) -> None:
    """Make ``new_dir`` (a ``site/`` from :func:`make_tmp`) the published ``out_dir`` in one step. On Linux the
    two folders are exchanged with renameat2(RENAME_EXCHANGE), so ``out_dir`` always exists and is always a
    complete site. A folder that cannot be renamed (a mount point, another device) is a clear error."""
    try:
        if out_dir.is_dir() and not out_dir.is_symlink():
            failure = _exchange(new_dir, out_dir)
            if failure == 0:
                _discard(new_dir.parent)  # new_dir now holds the previous site
                return
            if failure in (errno.EBUSY, errno.EXDEV):
                raise OSError(failure, os.strerror(failure), str(out_dir))
            old = new_dir.parent / "old"
            os.rename(out_dir, old)
            try:
                os.rename(new_dir, out_dir)
            except OSError:
                os.rename(old, out_dir)  # put the previous site back
                raise
            _discard(new_dir.parent)
        else:
            if out_dir.is_symlink() or out_dir.exists():
                out_dir.unlink()
            os.rename(new_dir, out_dir)
            _discard(new_dir.parent)
    except OSError as exc:
        if exc.errno in (errno.EBUSY, errno.EXDEV):
            from sitegen.pipeline.output import shown

            why = "it is busy" if exc.errno == errno.EBUSY else "it is on another device"
            raise OutputError(f"cannot replace {shown(out_dir)}/: {why} (a mount point?); the previous site is "
                              f"left as it was; publish to a folder inside it (-o {shown(out_dir)}/site)") from exc
        raise


def _discard(folder: Path) -> None:
    """Remove a temporary build folder holding a replaced site. A big tree (100,000+ files) takes seconds to
    delete, so it is deleted by a detached ``rm``: the site first, the marker last, so that if the removal is
    interrupted the next build still recognises and removes what is left."""
    try:
        import subprocess

        subprocess.Popen(["sh", "-c", 'rm -rf -- "$1"/site "$1"/old && rm -rf -- "$1"', "sh", str(folder)],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    except OSError:  # no sh (Windows): delete here
        remove_tmp(folder / "site")


def _exchange(a: Path, b: Path) -> int:
    """Exchange two folders; 0 on success, else the errno (ENOSYS where renameat2 is missing)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return errno.ENOSYS
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(str(a)), at_fdcwd, os.fsencode(str(b)), rename_exchange) == 0:
        return 0
    return ctypes.get_errno() or errno.EINVAL


def remove_stale_tmp(parent: Path) -> list[Path]:
    """Temporary folders left by builds that were killed: named by sitegen, holding sitegen's marker, and
    whose builder is gone. An empty folder of that name (an interrupted removal) is removed too. Returns
    what was removed."""
    removed = []
    for path in sorted(parent.glob(TMP_PREFIX + "*")):
        if path.is_symlink() or not path.is_dir():
            continue
        marker = _read_tmp_marker(path)
        if marker is not None and not _alive(marker["pid"]):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
        elif marker is None and not any(path.iterdir()):
            path.rmdir()
            removed.append(path)
    return removed


def _read_tmp_marker(folder: Path) -> dict | None:
    try:
        data = json.loads((folder / TMP_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("sitegen") != "build" or not isinstance(data.get("pid"), int):
        return None
    pid = folder.name.removeprefix(TMP_PREFIX).split("-", 1)[0]
    return data if pid == str(data["pid"]) else None


def _alive(pid: int) -> bool:
    if pid == os.getpid():  # called before this process makes its own folder: the pid was reused
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
