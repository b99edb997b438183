"""The map's sub-commands of `convenor` (see docs/cli.md)."""

from __future__ import annotations

import argparse


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    groups: dict[str, argparse._SubParsersAction[argparse.ArgumentParser]],
) -> None:
    """Add this app's sub-commands. `groups` holds the shared groups (such as "import")."""
