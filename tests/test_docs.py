"""The README documents every command, option and config key the code has."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from pydantic import BaseModel

from digest import config as config_module
from digest.cli import main

README = (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")


def config_keys(model: type[BaseModel]) -> set[str]:
    keys: set[str] = set()
    for name, field in model.model_fields.items():
        if name in {"name", "path"}:  # filled in by the loader, not written by users
            continue
        keys.add(field.alias or name)
        annotation = field.annotation
        for candidate in getattr(annotation, "__args__", (annotation,)):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                keys |= config_keys(candidate)
            for inner in getattr(candidate, "__args__", ()):
                if isinstance(inner, type) and issubclass(inner, BaseModel):
                    keys |= config_keys(inner)
    return keys


@pytest.mark.parametrize("key", sorted(config_keys(config_module.Config)))
def test_config_key_is_documented(key: str) -> None:
    assert re.search(rf"\b{re.escape(key)}:", README), f"config key {key!r} is not in the README"


@pytest.mark.parametrize("command", sorted(main.commands))  # type: ignore[attr-defined]
def test_command_is_documented(command: str) -> None:
    assert f"digest {command}" in README


def all_options() -> set[str]:
    options: set[str] = set()
    for command in main.commands.values():  # type: ignore[attr-defined]
        for param in command.params:
            if isinstance(param, click.Option):
                options |= {o for o in param.opts if o.startswith("--") and o != "--help"}
    return options


@pytest.mark.parametrize("option", sorted(all_options()))
def test_option_is_documented(option: str) -> None:
    assert f"`{option}" in README, f"{option} is not in the README"
