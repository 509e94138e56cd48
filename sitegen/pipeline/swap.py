"""The atomic swap: a build is written to a temporary folder beside the output and exchanged with it in one
step; replaced sites are deleted in the background; folders of killed builds are removed by the next build."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path


def swap_in(new_dir: Path, out_dir: Path) -> None:
    """Make ``new_dir`` the published ``out_dir`` in one step. On Linux the two folders are exchanged with
    renameat2(RENAME_EXCHANGE), so ``out_dir`` always exists and is always a complete site."""
    if out_dir.is_dir() and not out_dir.is_symlink():
        if _exchange(new_dir, out_dir):
            _discard(new_dir)  # now holds the previous site
            return
        old = out_dir.parent / f".build-old-{os.getpid()}"
        os.rename(out_dir, old)
        os.rename(new_dir, out_dir)
        shutil.rmtree(old, ignore_errors=True)
    else:
        if out_dir.is_symlink() or out_dir.exists():
            out_dir.unlink()
        os.rename(new_dir, out_dir)


def _discard(folder: Path) -> None:
    """Remove a replaced site. A big tree (100,000+ files) takes seconds to delete, so it is renamed and
    deleted by a detached ``rm``; if that is interrupted, the next build removes what is left."""
    trash = folder.parent / f".build-trash{time.time_ns()}-{os.getpid()}"  # the pid last: remove_stale_tmp
    try:
        os.rename(folder, trash)
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)
        return
    try:
        import subprocess

        subprocess.Popen(["rm", "-rf", "--", str(trash)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    except OSError:  # no rm (Windows): delete here
        shutil.rmtree(trash, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(str(a)), at_fdcwd, os.fsencode(str(b)), rename_exchange) == 0


def remove_stale_tmp(parent: Path) -> None:
    """Temporary folders left by builds that were killed (their process is gone)."""
    for path in parent.glob(".build-*"):
        pid = path.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
