"""The one model-folder fingerprint: content decides it, not where the folder lies."""

from __future__ import annotations

import shutil

from sitegen.engines.fingerprint import folder_fingerprint


def model(folder, weights=b"\0" * 3_000_000, config='{"hidden": 8}'):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(config)
    (folder / "model.safetensors").write_bytes(weights)
    (folder / ".cache").write_text("ignored")
    return folder


def test_a_copy_keeps_its_id_and_new_weights_or_configs_change_it(tmp_path):
    a = model(tmp_path / "a")
    fp = folder_fingerprint(a)
    assert len(fp) == 16 and fp == folder_fingerprint(str(a))
    b = tmp_path / "elsewhere" / "b"
    shutil.copytree(a, b)
    (b / ".cache").write_text("changed, but hidden")
    assert folder_fingerprint(b) == fp
    weights = bytearray(b"\0" * 3_000_000)
    weights[1_500_000] = 1  # the middle MiB is sampled
    assert folder_fingerprint(model(tmp_path / "c", weights=bytes(weights))) != fp
    assert folder_fingerprint(model(tmp_path / "d", config='{"hidden": 16}')) != fp


def test_a_model_name_hashes_its_text(tmp_path):
    assert folder_fingerprint("gpt-x") == folder_fingerprint("gpt-x") != folder_fingerprint("gpt-y")
    assert folder_fingerprint(tmp_path / "missing") != folder_fingerprint(model(tmp_path / "missing"))
