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
