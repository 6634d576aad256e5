"""`liaison run` (live, --once, --dry-run on a copy of the database) and `liaison demo`."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from foundation.errors import ConfigError, RulesError
from inbox.commands import common
from inbox.instance import hold_instance_lock


def register(commands: common.Subcommands) -> None:
    run = common.command(commands, "run", "watch the inbox and handle mail (foreground daemon)", cmd_run)
    run.add_argument("--once", action="store_true", help="process everything new, send what is due, exit")
    run.add_argument("--dry-run", action="store_true", help="everything but sending; mail goes to a Maildir")
    run.add_argument("--shadow-dir", type=Path, default=Path("liaison-shadow"),
                     help="Maildir for --dry-run and shadow mode (default ./liaison-shadow)")

    demo = common.command(commands, "demo", "run the pipeline on the bundled sample mailbox", cmd_demo)
    demo.add_argument("--out", type=Path, default=Path("liaison-demo"), help="output folder (./liaison-demo)")


def cmd_run(args: argparse.Namespace) -> int:
    from foundation.settings import load_settings

    settings = load_settings(need_imap=True, need_smtp=not args.dry_run)
    if settings.rules_shipped:
        raise ConfigError("LIAISON_RULES", "no rules.yaml here or next to a config file: run `liaison init` "
                          "to write one (and a liaison.toml), or name one with LIAISON_RULES")
    if not Path(settings.rules_path).is_file():  # exit 2, which the service does not restart in a loop
        raise ConfigError("LIAISON_RULES", f"{settings.rules_path}: no such file: run `liaison init` to write "
                          "one, or point LIAISON_RULES (rules in liaison.toml) at yours")
    if args.dry_run:
        return _dry_run(args, settings)
    store = common.open_store(settings.db_path)
    lock = hold_instance_lock(settings.db_path)
    try:
        daemon = _daemon(settings, store, dry_run=args.dry_run, shadow_dir=args.shadow_dir)
        return _run(daemon, once=args.once) if daemon is not None else 2
    finally:
        lock.close()


def _daemon(settings: Any, store: Any, **options: Any) -> Any:
    """The daemon, or None once the problems are printed when its rules or templates are broken: the caller
    exits 2, which the service unit does not restart in a loop, for a restart cannot mend a broken file (a
    running daemon keeps its last good rules; one starting has none). Live or dry run alike."""
    from inbox.daemon import Daemon

    try:
        return Daemon(settings, store, **options)
    except RulesError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        print("liaison: not starting with broken rules or templates: fix them (`liaison rules check`)",
              file=sys.stderr)
        return None


def _run(daemon: Any, *, once: bool) -> int:
    if once:
        stats = daemon.run_once(show_progress=True)
        delivered = f"written to {daemon.shadow_dir} {stats.sent}" if daemon.dry_run else f"sent {stats.sent}"
        waiting = daemon.store.one("SELECT COUNT(*) AS n, MIN(next_attempt_at) AS at FROM outbox "
                                   "WHERE status IN ('pending', 'retry')")
        later = f", waiting {waiting['n']} (next attempt {waiting['at'][:19].replace('T', ' ')} UTC)" \
            if waiting and waiting["n"] else ""
        print(f"processed {stats.processed}, quarantined {stats.quarantined}, duplicates {stats.duplicates}, "
              f"{delivered}, failed {stats.failed}{later}")
        return 0
    daemon.run_forever()
    return 0


def _dry_run(args: argparse.Namespace, settings: Any) -> int:
    """A dry run decides on a throwaway copy of the database, so that it never changes what a live run
    will do: the mailbox position, threads acknowledged, the outbox all stay as they were. The one
    thing it writes to the real database is OAuth tokens, because the provider may rotate the refresh
    token when it is used and the old one then no longer works."""
    import tempfile

    from foundation.store import Store
    from inbox.daemon import token_manager
    from inbox.imap_source import ImapSource

    with tempfile.TemporaryDirectory(prefix="liaison-dry-run-") as scratch:
        copy = Store(_copy_database(settings.db_path, Path(scratch) / "liaison.db"))
        live = Store(settings.db_path) if settings.db_path.exists() else copy
        source = ImapSource(settings.imap, settings.folder, tokens=token_manager(live, settings))
        try:
            daemon = _daemon(settings, copy, dry_run=True, shadow_dir=args.shadow_dir, source=source)
            return _run(daemon, once=args.once) if daemon is not None else 2
        finally:
            copy.close()
            if live is not copy:
                live.close()


def _copy_database(source: Path, target: Path) -> Path:
    """A consistent copy of the database (SQLite's online backup, safe while a daemon writes to it)."""
    import sqlite3

    if source.exists():
        original, copy = sqlite3.connect(source), sqlite3.connect(target)
        try:
            original.backup(copy)
        finally:
            original.close()
            copy.close()
    return target


def cmd_demo(args: argparse.Namespace) -> int:
    from foundation.rules import default_rules_path
    from inbox.demo import run_demo

    logging.getLogger().setLevel(logging.WARNING)  # the table is the output; decisions are in it
    run_demo(args.out, sys.stdout)
    print(f"Rules: the shipped rules ({default_rules_path()}); `liaison init` writes a copy to edit")
    return 0
