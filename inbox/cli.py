"""The `liaison` command: a thin layer that turns library errors into clean messages.

Exit codes: 0 success, 1 a problem with input (rules, accounts, files) or a failed check,
2 a missing or invalid setting, or rules or templates `run` cannot start with, 130 interrupted.
Every error is one line (or one line per problem, with its position); `describe_error` is the one place that words them.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import sqlite3
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from foundation.errors import AccountsImportError, ConfigError, LiaisonError, RulesError
from foundation.secrets import keep_out
from inbox import __version__
from inbox.commands import GROUPS

log = logging.getLogger("liaison")
Command = Callable[[argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 1
    from inbox.logs import scrubbed_output, setup_logging

    setup_logging(level=args.log_level, fmt=args.log_format, secrets=environment_secrets())
    keep_out(environment_secrets())  # out of stored events too: the summary mails them (blind round 26)
    if args.config is not None:
        os.environ["LIAISON_CONFIG"] = str(args.config)  # first in the search order; subprocesses see it too
    with scrubbed_output(environment_secrets()):
        try:
            return int(args.handler(args) or 0)
        except KeyboardInterrupt:
            return 130
        except BrokenPipeError:  # `liaison classify f.eml | head -1`: the reader had enough, nothing went wrong
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error flushing at exit
            return 141  # as a shell reports a command ended by SIGPIPE
        except (LiaisonError, OSError, sqlite3.Error) as exc:
            message, code = describe_error(exc)
            print(message, file=sys.stderr)
            return code


def describe_error(exc: BaseException) -> tuple[str, int]:
    """(what to print, exit code) for an error a user can cause: a setting, a file, a folder, a permission."""
    if isinstance(exc, ConfigError):  # blind round 25i: `run` said what was missing, not where to put it
        from foundation.settings import how_to_fix

        fix = f"\n  fix: {how_to_fix(exc)}" if exc.missing else ""
        return f"liaison: configuration error: {exc}{fix}", 2
    if isinstance(exc, RulesError | AccountsImportError):
        return "\n".join(exc.problems), 1
    if isinstance(exc, LiaisonError):
        return f"liaison: {exc}", 1
    if isinstance(exc, OSError) and exc.filename is not None:
        target = f"{exc.filename} -> {exc.filename2}" if exc.filename2 else str(exc.filename)
        return f"liaison: {target}: {exc.strerror or exc}{_permission_hint(exc)}", 1
    if isinstance(exc, OSError):
        return f"liaison: {exc.strerror or exc}", 1
    return f"liaison: database error: {exc}", 1


def _permission_hint(exc: OSError) -> str:
    """What to look at when even root may not write a file (EPERM, not EACCES): blind round 26's `chattr +i`."""
    if exc.errno != errno.EPERM:
        return ""
    return (f"\n  fix: the file may not be written by anyone, root included: an immutable or append-only attribute "
            f"(`lsattr {exc.filename}`, then `chattr -i` or `chattr -a`), or a mount that forbids it")


def environment_secrets() -> list[str]:
    """Values that must never reach a log line: passwords and client secrets from the environment, and each
    server's user and password as AUTH PLAIN joins them (whose base64 a server may echo in a refusal)."""
    found = [value for name, value in os.environ.items()
             if name.startswith("LIAISON_") and (name.endswith("_PASSWORD") or "SECRET" in name or "TOKEN" in name)]
    for kind in ("IMAP", "SMTP"):
        user, password = os.environ.get(f"LIAISON_{kind}_USER", ""), os.environ.get(f"LIAISON_{kind}_PASSWORD", "")
        if password:
            found.append(f"\0{user}\0{password}")
    return found


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="liaison", description="Inbox automation for agency account managers.")
    parser.add_argument("--version", action="version", version=f"liaison {__version__}")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    parser.add_argument("--log-format", default="text", choices=["text", "json"],
                        help="json: one JSON object per line, for log shippers")
    parser.add_argument("--config", type=Path, default=None, metavar="FILE",
                        help="the config file (else LIAISON_CONFIG, ./liaison.toml, "
                             "$XDG_CONFIG_HOME/liaison/liaison.toml, /etc/liaison/liaison.toml)")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for group in GROUPS:
        group.register(commands)
    return parser


if __name__ == "__main__":
    sys.exit(main())
