"""`liaison init`, `liaison doctor`, `liaison status`: set up, check, and see what the daemon did."""

from __future__ import annotations

import argparse
from pathlib import Path

from foundation.errors import LiaisonError
from inbox.commands import common


def register(commands: common.Subcommands) -> None:
    init = common.command(commands, "init", "write a starting liaison.toml, rules.yaml, accounts.csv and liaison.env",
                    cmd_init)
    init.add_argument("directory", type=Path, nargs="?", default=Path("."), metavar="DIR",
                      help="where to write them (default: here); existing files are kept")
    init.add_argument("--db", default="liaison.db", metavar="PATH",
                      help="the database path to write in liaison.toml (relative to DIR)")

    doctor = common.command(commands, "doctor", "check settings, rules, database, IMAP and SMTP: ✓ or ✗ with the fix",
                      cmd_doctor)
    doctor.add_argument("--send-test", action="store_true",
                        help="also send one message to the shared inbox and wait to see it arrive over IMAP")
    doctor.add_argument("--wait", type=common.SECONDS, default=120.0, metavar="SECONDS",
                        help="how long --send-test waits for the message (default 120)")

    common.command(commands, "status", "what the running daemon last did: fetch, send, queue, failures, rules",
                   cmd_status)


def cmd_init(args: argparse.Namespace) -> int:
    from foundation.settings import SYSTEM_CONFIG
    from inbox.init import init_config, next_steps

    for written in init_config(args.directory, db=args.db):
        print(f"{'wrote' if written.created else 'kept (already there)'} {written.path}")
    print("next:")
    for step in next_steps(args.directory):
        print(f"  {step}")
    toml = (args.directory / "liaison.toml").resolve()
    if toml.parent != Path.cwd().resolve() and toml != SYSTEM_CONFIG:
        print(f"  Liaison finds this config when run from {args.directory}, or anywhere with "
              f"LIAISON_CONFIG={toml} (or --config)")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from inbox.doctor import format_check, run_doctor

    report = run_doctor(send_test=args.send_test, wait_seconds=args.wait,
                        emit=lambda check: print(format_check(check), flush=True))
    failed = sum(not c.ok for c in report.checks)
    warned = f", {report.warnings} warning(s) marked !" if report.warnings else ""
    print(f"all checks passed{warned}" if report.ok else f"{failed} check(s) failed{warned}")
    return 0 if report.ok else 1


def cmd_status(args: argparse.Namespace) -> int:
    from foundation.settings import load_settings
    from foundation.store import Store
    from inbox.notify import read_status
    from inbox.status import daemon_status

    settings = load_settings()
    if settings.db_path.exists():
        store = common.open_store(settings.db_path)
    elif read_status(settings.db_path):  # only dry runs so far: they decide on a copy and keep nothing
        store = Store(":memory:")
    else:
        raise LiaisonError(f"no database at {settings.db_path}: the daemon has not run with this configuration")
    print(daemon_status(settings, store))
    return 0
