"""What every command shares: registering a subcommand, bounded numbers, the rules and database as commands
open them (turning a library failure into a one-line message is inbox/cli.py's)."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

from foundation.errors import LiaisonError
from foundation.rules import Rules
from foundation.settings import Settings
from foundation.store import Store

Command = Callable[[argparse.Namespace], int]
#: What `add_subparsers()` returns: where a command group adds its commands.
Subcommands = argparse._SubParsersAction


def command(commands: Subcommands, name: str, help_text: str, handler: Command) -> argparse.ArgumentParser:
    parser = commands.add_parser(name, help=help_text, description=help_text)
    parser.set_defaults(handler=handler)
    return parser


def bounded(kind: type[int] | type[float], low: float, high: float, what: str) -> Callable[[str], float]:
    def parse(value: str) -> float:
        try:
            number = kind(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
        if not low <= number <= high:  # also refuses nan
            raise argparse.ArgumentTypeError(f"{what} must be between {low:g} and {high:g}, not {value!r}")
        return number

    return parse


def checked_rules(settings: Settings, path: Path | None = None) -> Rules:
    """The rules a command runs with: `path`, else the configured file, else (saying so) the shipped rules."""
    from inbox.daemon import load_checked_rules

    if path is None and settings.rules_shipped:
        print(f"liaison: no rules.yaml here or next to a config file: using the shipped rules "
              f"({settings.rules_path}); `liaison init` writes one to edit", file=sys.stderr)
    return load_checked_rules(path or settings.rules_path)


def open_store(path: Path) -> Store:
    from foundation.store import unavailable

    try:
        return Store(path)
    except sqlite3.Error as exc:
        # round 23b: a full disk was put down to the settings; a file that cannot be opened at all still is theirs
        if unavailable(exc) and not getattr(exc, "sqlite_errorname", "").startswith("SQLITE_CANTOPEN"):
            raise LiaisonError(f"cannot use the database {path} now: {exc} (a full disk, or another process holding "
                               "it); nothing is lost: unread mail stays in the mailbox") from None
        raise LiaisonError(f"cannot open the database {path}: {exc} (LIAISON_DB, or db in the config file)") from None


DAYS = bounded(int, 1, 36500, "days")
POSITIVE = bounded(int, 1, 10000, "the number")
SECONDS = bounded(float, 1, 3600, "seconds")


def configured_store() -> Store:
    """The database the configuration names, opened as every command opens it."""
    from foundation.settings import load_settings

    return open_store(load_settings().db_path)
