"""Extension points: a third-party package adds a topic source through the entry-point group
``sitegen.plugins``, without touching sitegen itself, and a site chooses it by name in site.toml."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from html import unescape
from pathlib import Path

import pytest

from sitegen.core import registry
from sitegen.core.errors import PluginError

from .conftest import EPOCH, ROOT

PLUGIN = ROOT / "tests" / "plugins" / "sitegen-seasonal"
TOPICS = """
[[topic]]
text = "birthday party clipart for an invitation"
hub = "Holidays"

[[topic]]
text = "a topic filed under no category"
hub = "Nowhere"
"""


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory) -> Path:
    """The plugin package, really installed (pip, no network) into a folder of its own."""
    target = tmp_path_factory.mktemp("plugin-site-packages")
    source = tmp_path_factory.mktemp("plugin-source") / PLUGIN.name  # building writes build/ beside the source
    shutil.copytree(PLUGIN, source)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(source)], check=True, capture_output=True, timeout=300)
    assert list(target.glob("sitegen_seasonal-*.dist-info/entry_points.txt"))
    return target


def _sitegen(site: Path, *args: str, plugin: Path | None) -> subprocess.CompletedProcess:
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH, "PYTHONPATH": os.pathsep.join(
        [str(p) for p in (plugin, ROOT) if p])}
    return subprocess.run([sys.executable, "-m", "sitegen", *args], cwd=site, env=env, capture_output=True,
                          text=True, timeout=600)


def test_a_plugin_package_adds_a_topic_source(plugin_path, example_site_copy):
    site = example_site_copy()
    (site / "seasonal-topics.toml").write_text(TOPICS, encoding="utf-8")
    choose = "--set", 'collect.topic_sources=["queries", "seasonal"]'

    refused = _sitegen(site, "build", "-q", *choose, plugin=None)
    assert refused.returncode == 1
    assert "collect.topic_sources: unknown topic source 'seasonal' (registered: queries, trends)" in refused.stderr
    assert "Traceback" not in refused.stderr

    done = _sitegen(site, "build", "-q", "--no-check", *choose, plugin=plugin_path)
    assert done.returncode == 0, done.stderr
    headings, lines = {}, set()
    for page in (site / "build" / "topic").glob("*/index.html"):
        html = page.read_text(encoding="utf-8")
        h1 = unescape(html.split("<h1", 1)[1].split(">", 1)[1].split("</h1>", 1)[0])
        headings[h1.strip().lower()] = page
        lines |= {unescape(t).strip().lower() for t in re.findall(r'<li id="[^"]+">([^<]*)</li>', html)}
    # the plugin's topic is published: as a page, or as an alias line on the page whose items it repeats
    assert "birthday party clipart for an invitation" in set(headings) | lines, sorted(headings)[:10]
    assert "a topic filed under no category" not in set(headings) | lines  # dropped: its hub does not exist


def test_registry_names_choices_and_refuses_clashes():
    assert "queries" in registry.names("topic_source")
    assert {"retrieval", "vlm"} <= set(registry.names("generator"))
    assert registry.names("runner") == ["local"] or "local" in registry.names("runner")
    with pytest.raises(PluginError, match="no scorer named 'nope'|unknown extension point"):
        registry.get("scorer", "nope")
    with pytest.raises(PluginError, match="unknown extension point 'widget'"):
        registry.register("widget", "x", object())
    with pytest.raises(PluginError, match="already registered"):
        registry.register("topic_source", "queries", lambda request: [])


def test_every_extension_point_is_documented():
    doc = (ROOT / "EXTENDING.md").read_text(encoding="utf-8")
    for kind in registry.KINDS:
        assert f"`{kind}`" in doc, kind
        for name in registry.names(kind):
            assert f"`{name}`" in doc, f"{kind} {name}"
    assert registry.ENTRY_POINT_GROUP in doc
