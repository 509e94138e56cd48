"""Shared fixtures. The example site is built once per test session (it loads the embedding model) and
copied by the tests that change it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
EPOCH = "1767225600"  # 2026-01-01T00:00:00Z


def copy_example(dest: Path) -> Path:
    """A private copy of the example site (content + site.toml), without build output or store."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(ROOT / "content", dest / "content")
    shutil.copy(ROOT / "site.toml", dest / "site.toml")
    return dest


@pytest.fixture(scope="session")
def example_build(tmp_path_factory):
    """The example site, built once: (site folder, BuildResult)."""
    from sitegen.pipeline.build import build_site
    from sitegen.core.config import load_config

    os.environ["SOURCE_DATE_EPOCH"] = EPOCH
    site = copy_example(tmp_path_factory.mktemp("example"))
    result = build_site(load_config(site / "site.toml"))
    return site, result


@pytest.fixture(scope="session")
def example_site_copy(example_build, tmp_path_factory):
    """A factory: a fresh copy of the built example site (content, store and build/) to change freely."""
    src, _ = example_build

    def make() -> Path:
        dest = tmp_path_factory.mktemp("example-copy")
        shutil.copytree(src, dest, dirs_exist_ok=True, symlinks=True)
        return dest

    return make
