"""Docs ship with the code: a setting or command missing from the docs fails the suite."""

from __future__ import annotations

import re
from pathlib import Path

from convenor import cli

ROOT = Path(__file__).resolve().parents[3]


def test_every_setting_read_from_the_environment_is_documented() -> None:
    source = (ROOT / "convenor" / "settings.py").read_text()
    names = set(re.findall(r'(?:os\.environ\.get|envbool|envint)\("([A-Z_]+)"', source))
    assert "DATABASE_URL" in names and len(names) > 5
    doc = (ROOT / "docs" / "settings.md").read_text()
    missing = sorted(n for n in names if f"`{n}`" not in doc)
    assert missing == [], f"document these in docs/settings.md: {missing}"


def _commands(parser: object, prefix: str = "convenor") -> list[str]:
    import argparse

    assert isinstance(parser, argparse.ArgumentParser)
    found: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                nested = _commands(sub, f"{prefix} {name}")
                found.extend(nested or [f"{prefix} {name}"])
    return found


def test_every_command_is_documented() -> None:
    commands = _commands(cli.build_parser())
    assert "convenor token create" in commands
    doc = (ROOT / "docs" / "cli.md").read_text()
    readme = (ROOT / "README.md").read_text()
    missing = [c for c in commands if f"`{c}" not in doc or f"`{c}" not in readme]
    assert missing == [], f"document these in docs/cli.md and README.md: {missing}"
