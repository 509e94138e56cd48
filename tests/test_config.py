import json
from pathlib import Path

import pytest

from sitegen.core.config import load_config, parse_override
from sitegen.core.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_when_sections_missing(tmp_path):
    cfg = load_config(write(tmp_path, '[site]\ntitle = "T"\nbase_url = "https://x.org"\n'))
    assert cfg.site.base_url == "https://x.org/"
    assert cfg.collect.min_items == 6
    assert cfg.root == tmp_path.resolve()
    assert cfg.output_dir == tmp_path.resolve() / "build"


def test_every_error_is_reported_with_its_key(tmp_path):
    path = write(tmp_path, """
[site]
base_url = "example.org"
[serve]
port = "eighty"
[index]
backend = "faiss"
[collect]
threshold = 1.5
min_items = 10
max_items = 5
[represent]
mix = { description = 0.5, style = 0.5, use_case = 0.5 }
""")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    errors = info.value.errors
    assert "site.base_url: must be an absolute http(s) URL (got 'example.org')" in errors
    assert any(e.startswith("serve.port: must be an integer") for e in errors)
    assert any(e.startswith("index.backend: must be one of 'annoy', 'hnsw', 'exact'") for e in errors)
    assert any(e.startswith("collect.threshold: must be between 0 and 1") for e in errors)
    assert any(e.startswith("collect.min_items: must be <= collect.max_items") for e in errors)
    assert any(e.startswith("represent.mix: shares must add up to 1") for e in errors)
    assert len(errors) == 6


def test_unknown_keys_warn_and_strict_fails(tmp_path):
    path = write(tmp_path, '[site]\ntitel = "typo"\n[sitee]\nx = 1\n')
    cfg = load_config(path)
    assert "site.titel: unknown key, ignored" in cfg.warnings
    assert "sitee: unknown section, ignored" in cfg.warnings
    with pytest.raises(ConfigError):
        load_config(path, strict=True)


def test_overrides_use_the_same_validation(tmp_path):
    path = write(tmp_path, "")
    cfg = load_config(path, dict([parse_override("index.backend=annoy"), parse_override("serve.port=9000")]))
    assert cfg.index.backend == "annoy" and cfg.serve.port == 9000
    with pytest.raises(ConfigError) as info:
        load_config(path, dict([parse_override("serve.port=99999")]))
    assert info.value.errors[0].startswith("serve.port: must be a port number")


def test_invalid_toml_names_the_file(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, "[site\n"))
    assert "not valid TOML" in info.value.errors[0]


def test_vlm_generator_requires_a_model(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, '[represent]\ngenerator = "vlm"\n'))
    assert "vlm.model: required when represent.generator = 'vlm'" in info.value.errors


def test_missing_explicit_config_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.toml")
    assert "file not found" in info.value.errors[0]


@pytest.mark.parametrize("value, problem", [
    ("https://x.org/\nDisallow: /", "contains whitespace (U+000A)"),
    ("https://x.org/ shop", "contains whitespace (U+0020)"),
    ("https://x.org/\x7f", "contains a control character (U+007F)"),
    ("https://x.org/?a=1", "contains '?' (U+003F)"),
    ("https://x.org/#top", "contains '#' (U+0023)"),
    ("https://x.org/<b>", "contains '<' (U+003C)"),
    ("https://x.org/a(b)", "contains '(' (U+0028)"),
    ("https://user:pw@x.org/", "no user name or password"),
    ("https://x.org:99999/", "the port is not a number"),
])
def test_base_url_must_be_a_plain_url(tmp_path, value, problem):
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, f"[site]\nbase_url = {json.dumps(value)}\n"))
    (error,) = info.value.errors
    assert error.startswith("site.base_url: must be a plain absolute http(s) URL: ") and problem in error
    assert "\n" not in error


def test_plain_base_urls_pass(tmp_path):
    for value in ("https://x.org", "http://127.0.0.1:8000/shop/", "https://x.org/a-b_c~d/%C3%A9/"):
        assert load_config(write(tmp_path, f'[site]\nbase_url = "{value}"\n')).site.base_url.startswith(value)


def test_every_negative_limit_is_rejected_by_key(tmp_path):
    path = write(tmp_path, """
[catalog]
limit = -5
max_image_pixels = 0
[index]
search_k = -1
exact_below = -1
[collect]
max_collections = -2
[link]
annotations_min = -1
annotations_max = 0
related_min = -1
related_max = 0
home_collections = -1
max_depth = 0
[vlm]
retries = -1
timeout = 0
top_k = 0
top_p = 0
temperature = -0.5
min_pixels = 0
max_pixels = -1
repetition_penalty = 0
""")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    keys = {e.split(":", 1)[0] for e in info.value.errors}
    assert keys >= {"catalog.limit", "catalog.max_image_pixels", "index.search_k", "index.exact_below",
                    "collect.max_collections", "link.annotations_min", "link.annotations_max", "link.related_min",
                    "link.related_max", "link.home_collections", "link.max_depth", "vlm.retries", "vlm.timeout",
                    "vlm.top_k", "vlm.top_p", "vlm.temperature", "vlm.min_pixels", "vlm.max_pixels",
                    "vlm.repetition_penalty"}
    assert "catalog.limit: must be >= 0 (got -5)" in info.value.errors
    assert load_config(write(tmp_path, "[catalog]\nlimit = 0\n")).catalog.limit == 0
