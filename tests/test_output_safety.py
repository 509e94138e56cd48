"""sitegen never deletes what it did not create: outputs that hold sources or foreign files are refused before any
work, only sitegen's own temporary folders are cleaned up, and file-system failures are one clear line."""

from __future__ import annotations

import csv
import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from sitegen.cli.main import main
from sitegen.core.config import load_config
from sitegen.core.errors import OutputError
from sitegen.pipeline import swap
from sitegen.pipeline.output import MARKER, check_output, read_marker, write_marker


def small_site(root: Path, n: int = 8, extra: str = "") -> Path:
    """A tiny catalog of generated images, laid out like the example (content/, templates/, .sitegen/)."""
    from PIL import Image

    images = root / "content" / "images"
    images.mkdir(parents=True)
    (root / "templates").mkdir()
    rows = []
    for i in range(n):
        Image.new("RGB", (48, 48), (200, 25 * i, 40)).save(images / f"{i}.png")
        rows.append({"id": f"apple-{i}", "title": f"Red Apple {i}", "category": "Food", "keywords": "apple;fruit",
                     "image": f"images/{i}.png", "description": f"A red apple, number {i}."})
    with open(root / "content" / "catalog.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    (root / "site.toml").write_text('[site]\ntitle = "Apples"\nbase_url = "https://a.example/"\n' + extra)
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def run_build(site: Path, *args: str):
    old = os.getcwd()
    os.chdir(site)
    try:
        return CliRunner().invoke(main, ["build", "-q", "--no-check", *args], catch_exceptions=False)
    finally:
        os.chdir(old)


@pytest.mark.parametrize("output, why", [
    ("content", "it is the images folder content"),
    (".", "it is the site root . (the folder of site.toml)"),
    ("..", "it contains the site root"),
    ("content/catalog.csv", "it is the catalog content/catalog.csv"),
    ("content/images", "it lies inside the images folder content"),
    ("templates", "it is the templates folder templates"),
    ("content/pages", "it is the pages folder content/pages"),
    (".sitegen", "it is the store folder .sitegen"),
    (".sitegen/out", "it lies inside the store folder .sitegen"),
    ("/", "it is the root of the file system"),
    ("~", "it is the home folder"),
])
def test_an_output_holding_the_sources_is_refused_before_any_work(tmp_path, output, why):
    site = small_site(tmp_path / "site")
    (site / ".sitegen").mkdir()
    (site / ".sitegen" / "site.duckdb").write_bytes(b"pins")
    before = snapshot(tmp_path)
    result = run_build(site, "-o", os.path.expanduser(output))
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: refusing to publish to ") and why in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1
    assert snapshot(tmp_path) == before, "nothing may be written or deleted"
    assert not list(site.glob(".sitegen-build-*"))


def test_a_store_configured_inside_the_output_is_refused(tmp_path):
    site = small_site(tmp_path / "site")
    result = run_build(site, "--set", "build.store=build/state/site.duckdb")
    assert result.exit_code == 1
    assert "refusing to publish to build: it contains the store build/state/site.duckdb" in result.output


def test_a_foreign_folder_or_a_file_is_refused(tmp_path):
    site = small_site(tmp_path / "site")
    docs = tmp_path / "Documents"
    docs.mkdir()
    (docs / "thesis.txt").write_text("years of work")
    result = run_build(site, "-o", str(docs))
    assert result.exit_code == 1
    assert (f"refusing to publish to {docs}: the folder is not empty and sitegen did not create it "
            f"(it has no {MARKER} file); choose a new or empty folder (or, if an older sitegen built it, create an "
            f"empty {MARKER} file in it)") in result.output
    assert (docs / "thesis.txt").read_text() == "years of work"
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    result = run_build(site, "-o", str(a_file))
    assert result.exit_code == 1 and "it is an existing file, not a folder" in result.output
    assert a_file.read_text() == "x"


def test_allowed_outputs(tmp_path):
    site = small_site(tmp_path / "site")
    check_output(load_config(site / "site.toml"))  # build/ inside the site root, not existing yet
    empty = tmp_path / "empty"
    empty.mkdir()
    check_output(load_config(site / "site.toml", {"build.output": str(empty)}))
    marked = tmp_path / "marked"
    marked.mkdir()
    write_marker(marked, "abc")
    (marked / "index.html").write_text("old site")
    assert read_marker(marked) == "abc"
    check_output(load_config(site / "site.toml", {"build.output": str(marked)}))
    legacy = tmp_path / "legacy"  # an older sitegen's output, adopted with an empty marker
    legacy.mkdir()
    (legacy / "index.html").write_text("old site")
    with pytest.raises(OutputError, match="sitegen did not create it"):
        check_output(load_config(site / "site.toml", {"build.output": str(legacy)}))
    (legacy / MARKER).touch()
    assert read_marker(legacy) == ""
    check_output(load_config(site / "site.toml", {"build.output": str(legacy)}))
    # sources at the site root itself (catalog and images beside site.toml): build/ inside it is still fine
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "catalog.csv").write_text("id,title\n")
    (flat / "site.toml").write_text('[catalog]\npath = "catalog.csv"\nimages_dir = "."\n')
    check_output(load_config(flat / "site.toml"))
    with pytest.raises(OutputError, match="it is the site root"):
        check_output(load_config(flat / "site.toml", {"build.output": "."}))


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _tmp_folder(parent: Path, pid: int, n: int) -> Path:
    folder = parent / f"{swap.TMP_PREFIX}{pid}-{n}"
    (folder / "site").mkdir(parents=True)
    (folder / swap.TMP_MARKER).write_text(json.dumps({"sitegen": "build", "pid": pid, "started": 1.0}))
    (folder / "site" / "index.html").write_text("half a site")
    return folder


def test_only_sitegens_own_stale_temporary_folders_are_removed(tmp_path):
    dead_pid = _dead_pid()
    users = [tmp_path / ".build-tmp-foo-123", tmp_path / ".build-x-99999999", tmp_path / ".build-old-1",
             tmp_path / f"{swap.TMP_PREFIX}{dead_pid}-5"]  # sitegen's prefix, but no marker: not sitegen's
    for folder in users:
        folder.mkdir()
        (folder / "keep.txt").write_text("mine")
    dead = _tmp_folder(tmp_path, dead_pid, 1)  # a killed build
    running = _tmp_folder(tmp_path, os.getppid(), 2)  # a build still running
    mismatch = _tmp_folder(tmp_path, os.getppid(), 3)
    (mismatch / swap.TMP_MARKER).write_text(json.dumps({"sitegen": "build", "pid": dead_pid}))  # name says other
    empty = tmp_path / f"{swap.TMP_PREFIX}{dead_pid}-4"  # an interrupted removal
    empty.mkdir()
    assert swap.remove_stale_tmp(tmp_path) == [dead, empty]
    assert all((f / "keep.txt").read_text() == "mine" for f in users)
    assert running.is_dir() and mismatch.is_dir()
    # a real temporary folder of this process is recognised as sitegen's
    site_dir = swap.make_tmp(tmp_path)
    assert json.loads((site_dir.parent / swap.TMP_MARKER).read_text())["pid"] == os.getpid()
    swap.remove_tmp(site_dir)
    assert not site_dir.parent.exists()


def test_swap_of_a_busy_or_foreign_device_output_is_one_clear_line(tmp_path, monkeypatch):
    out = tmp_path / "build"
    out.mkdir()
    write_marker(out, "old")
    (out / "index.html").write_text("previous site")
    for code, words in ((errno.EBUSY, "it is busy"), (errno.EXDEV, "it is on another device")):
        new = swap.make_tmp(tmp_path)
        (new / "index.html").write_text("new site")
        monkeypatch.setattr(swap, "_exchange", lambda a, b, code=code: code)
        with pytest.raises(OutputError, match=f"cannot replace .*build/: {words} \\(a mount point\\?\\)"):
            swap.swap_in(new, out)
        assert (out / "index.html").read_text() == "previous site"
        swap.remove_tmp(new)


def test_swap_falls_back_to_two_renames_and_keeps_the_site_on_failure(tmp_path, monkeypatch):
    out = tmp_path / "build"
    out.mkdir()
    (out / "index.html").write_text("previous site")
    new = swap.make_tmp(tmp_path)
    (new / "index.html").write_text("new site")
    monkeypatch.setattr(swap, "_exchange", lambda a, b: errno.ENOSYS)
    real_rename = os.rename

    def failing_rename(src, dst):
        if Path(src) == new:
            raise OSError(errno.ENOSPC, "No space left on device", str(dst))
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", failing_rename)
    with pytest.raises(OSError):
        swap.swap_in(new, out)
    assert (out / "index.html").read_text() == "previous site"
    monkeypatch.setattr(os, "rename", real_rename)
    swap.swap_in(new, out)
    assert (out / "index.html").read_text() == "new site"


def _mount(*args: str) -> None:
    try:
        subprocess.run(["mount", *args], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"cannot mount here (needs root and mount permission): {exc}")


def test_a_real_mount_point_is_refused_and_a_real_busy_swap_is_clear(tmp_path):
    site = small_site(tmp_path / "site")
    out = site / "build"
    out.mkdir()
    _mount("--bind", str(out), str(out))
    try:
        result = run_build(site)
        assert result.exit_code == 1
        assert ("refusing to publish to build: it is a mount point, which cannot be replaced in one step; "
                "publish to a folder inside it (-o build/site) and serve that") in result.output
        assert not (site / ".sitegen").exists(), "refused before any work"
        new = swap.make_tmp(site)
        (new / "index.html").write_text("new")
        with pytest.raises(OutputError, match="cannot replace .*build/: it is busy"):
            swap.swap_in(new, out)
        assert list(out.iterdir()) == []
        swap.remove_tmp(new)
    finally:
        subprocess.run(["umount", str(out)], check=False)


def test_a_read_only_output_is_one_clear_line_before_any_work(tmp_path):
    site = small_site(tmp_path / "site")
    pub = tmp_path / "pub"
    pub.mkdir()
    _mount("--bind", str(pub), str(pub))
    try:
        _mount("-o", "remount,ro,bind", str(pub))
        result = run_build(site, "-o", str(pub / "www"))
        assert result.exit_code == 1
        assert result.output == f"Error: cannot write the site to {pub / 'www'}/: read-only file system\n"
        assert not (site / ".sitegen").exists()
    finally:
        subprocess.run(["umount", str(pub)], check=False)


def test_a_read_only_or_denied_output_without_mounts(tmp_path, monkeypatch):
    site = small_site(tmp_path / "site")
    for code, words in ((errno.EROFS, "read-only file system"), (errno.EACCES, "permission denied")):
        def refuse(parent, code=code):
            raise OSError(code, os.strerror(code), str(parent / ".sitegen-build-1-1"))

        monkeypatch.setattr("sitegen.pipeline.session.make_tmp", refuse)
        result = run_build(site)
        assert result.exit_code == 1
        assert result.output == f"Error: cannot write the site to build/: {words}\n"


def test_disk_full_mid_build_is_one_clear_line_and_keeps_the_previous_site(tmp_path):
    """A real full disk: the output lives on a 1 MiB tmpfs that the pages overflow."""
    site = small_site(tmp_path / "site", n=8)
    pub = tmp_path / "pub"
    pub.mkdir()
    _mount("-t", "tmpfs", "-o", "size=1m", "tmpfs", str(pub))
    try:
        (pub / "filler").write_bytes(b"\0" * (1024 * 1024 - 16 * 1024))  # leave 16 KiB: too little for the site
        result = run_build(site, "-o", str(pub / "www"))
        assert result.exit_code == 1, result.output
        assert result.output == f"Error: cannot write the site to {pub / 'www'}/: no space left on device\n"
        assert sorted(p.name for p in pub.iterdir()) == ["filler"], "the temporary folder is removed"
    finally:
        subprocess.run(["umount", str(pub)], check=False)


def _pages(*paths: str):
    from sitegen.core.models import PageRecord

    return [PageRecord(p, "item", p.strip("/").title(), "", f"hash-{p}", (), "2026-01-01T00:00:00Z", True, "k")
            for p in paths]


@pytest.mark.parametrize("live_marker, trusted, kept", [
    ("gen-old", True, ["/a/", "/b/"]),  # killed before the swap: the pending pages never went live
    ("gen-new", True, ["/a/", "/c/"]),  # killed after the swap: the pending pages are live
    (None, False, ["/a/", "/b/"]),  # build/ deleted meanwhile: nothing in it may be reused
])
def test_reconcile_settles_a_build_killed_between_commit_and_swap(tmp_path, live_marker, trusted, kept):
    from sitegen.pipeline.output import reconcile
    from sitegen.store.db import Store

    out = tmp_path / "build"
    out.mkdir()
    store = Store(tmp_path / "store.duckdb")
    try:
        store.pages.replace(1, _pages("/a/", "/b/"), [])
        store.cache.put("output", {"generation": "gen-old", "last": "key-old"})
        assert reconcile(store, out) is False, "an output without the marker is not trusted"
        write_marker(out, "gen-old")
        assert reconcile(store, out) is True
        with store.transaction():  # what a build commits before its swap
            store.pages.stash()
            store.pages.replace(2, _pages("/a/", "/c/"), [])
            store.cache.put("output", {"pending": {"generation": "gen-new", "key": "key-new"}})
        if live_marker is None:
            (out / MARKER).unlink()
        else:
            write_marker(out, live_marker)
        assert reconcile(store, out) is trusted
        assert sorted(store.pages.published()) == kept
        state = store.cache.get("output", ["generation", "last", "pending"])
        assert state["pending"] is None
        assert state["generation"] == ("gen-new" if live_marker == "gen-new" else "gen-old")
        assert state["last"] == ("key-new" if live_marker == "gen-new" else "key-old")
        assert reconcile(store, out) is trusted, "settling twice changes nothing"
    finally:
        store.close()
