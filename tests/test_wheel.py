"""A real wheel: the default theme (templates, assets, report.html) ships inside the package, so a normal
(non-editable) install renders sites. The wheel is built from a copy of the sources in a temporary folder
(an in-tree build would write setuptools' own build/ folder into the repository, where the site is built)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from .conftest import EPOCH, ROOT, copy_example

THEME = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "sitegen" / "theme").rglob("*") if p.is_file())


def _build_wheel(dest: Path) -> Path:
    src = dest / "src"
    src.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "sitegen", src / "sitegen", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = dest / "dist"
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation",
                           "--no-index", "-q", "-w", str(out)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    wheels = list(out.glob("sitegen-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return _build_wheel(tmp_path_factory.mktemp("wheel"))


def test_wheel_carries_the_theme(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"sitegen/theme/base.html", "sitegen/theme/report.html", "sitegen/theme/assets/site.css"} <= names
    missing = [p for p in THEME if p not in names]
    assert missing == [], f"theme files missing from {wheel.name}: {missing}"
    assert "sitegen/represent/blocklist.txt" in names
    assert not [n for n in names if n.startswith(("templates/", "tests/", "content/"))]


def test_theme_is_found_inside_the_package():
    from sitegen.audit import report
    from sitegen.publish.render import packaged_templates

    theme = packaged_templates()
    assert theme == Path(report.__file__).resolve().parents[1] / "theme"
    assert (theme / "base.html").is_file() and (theme / "report.html").is_file()
    assert not (ROOT / "templates").exists()  # nothing of the theme is left outside the package


@pytest.mark.slow
def test_installed_wheel_builds_the_example_site_outside_the_repo(wheel, tmp_path):
    """Install the wheel (not editable) into a fresh venv that borrows the shared venv's dependencies through
    a path entry, then build a copy of the example site in a folder outside the repository."""
    import hashlib
    import sysconfig

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300)
    py = venv / "bin" / "python"
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    deps = sysconfig.get_paths()["purelib"]  # the dependencies (torch, transformers, ...) of this interpreter
    # a plain path line: the shared folder's own .pth files (an editable sitegen among them) are not run
    Path(purelib, "shared-deps.pth").write_text(deps + "\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index", "-q",
                    str(wheel)], check=True, timeout=600)
    site = copy_example(tmp_path / "example")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(SOURCE_DATE_EPOCH=EPOCH, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    where = subprocess.run([str(py), "-c", "import sitegen.publish.render as r; print(r.__file__); "
                            "print(r.packaged_templates())"], cwd=site, env=env, capture_output=True, text=True,
                           check=True).stdout.split()
    assert all(w.startswith(str(venv)) for w in where), where  # the installed copy, not the repository
    t0 = time.perf_counter()
    proc = subprocess.run([str(venv / "bin" / "sitegen"), "build", "-q"], cwd=site, env=env, capture_output=True,
                          text=True, timeout=1800)
    seconds = time.perf_counter() - t0
    assert proc.returncode == 0, (proc.stdout[-2000:], proc.stderr[-2000:])
    out = site / "build"
    assert (out / "index.html").is_file() and (out / "assets" / "site.css").is_file()
    assert (out / "assets" / "site.css").read_bytes() == (ROOT / "sitegen" / "theme" / "assets" / "site.css").read_bytes()
    # the same site as the repository's own code builds: every file matches the golden manifest
    golden = dict(reversed(line.split("  ", 1)) for line in
                  (ROOT / "tests" / "golden" / "example.sha256").read_text(encoding="utf-8").splitlines())
    got = {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
           for p in out.rglob("*") if p.is_file()}
    assert got == golden
    assert (site / ".sitegen" / "report" / "index.html").is_file() and not (out / "_report").exists()
    print(f"installed wheel: sitegen build of the example site took {seconds:.1f} s")
