"""The README documents every site.toml option and every command."""

import dataclasses
import re

from sitegen.cli.main import main
from sitegen.core.config import SECTIONS, Config

from .conftest import ROOT


def test_every_config_key_is_documented():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = []
    for name in SECTIONS:
        section = [f for f in dataclasses.fields(Config) if f.name == name][0].default_factory()
        body = readme.split(f"### `[{name}]`", 1)
        if len(body) != 2:
            missing.append(f"[{name}]")
            continue
        text = body[1].split("\n### ", 1)[0]
        for field in dataclasses.fields(section):
            if not re.search(rf"`{field.name}`", text):
                missing.append(f"{name}.{field.name}")
    assert missing == []


def test_every_command_is_documented():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name, command in main.commands.items():
        assert f"`sitegen {name}" in readme, name
        for sub in getattr(command, "commands", {}):
            assert f"`sitegen {name} {sub}" in readme, f"{name} {sub}"
