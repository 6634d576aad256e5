"""`liaison rules check|test|replay|suggest`: validate, try and replay rules.yaml."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from foundation.errors import LiaisonError
from inbox.commands import common, learning
from inbox.commands.classify import explain, explain_text


def register(commands: common.Subcommands) -> None:
    rules = commands.add_parser("rules", help="check, test and replay rules.yaml")
    rsub = rules.add_subparsers(title="rules commands", metavar="ACTION")
    check = common.command(rsub, "check", "validate a rules file (FILE:LINE:COLUMN: message)", cmd_rules_check)
    check.add_argument("file", type=Path, nargs="?", metavar="FILE")
    test = common.command(rsub, "test", "show which rules match a message and what would be sent", cmd_rules_test)
    test.add_argument("message", type=Path, metavar="FILE.eml")
    test.add_argument("--rules", type=Path, default=None, metavar="FILE")
    replay = common.command(rsub, "replay", "run new rules over stored mail and show what would change",
                            cmd_rules_replay)
    replay.add_argument("file", type=Path, metavar="NEW_RULES.yaml")
    replay.add_argument("--days", type=common.DAYS, default=7,
                        help="replay the mail that arrived in the last N days (default: 7)")
    learning.register_rules(rsub)


def _account_ids(settings: Any) -> set[str] | None:
    from foundation.accounts import accounts_in

    if not settings.db_path.exists():
        return None
    return {a["account_id"] for a in accounts_in(settings.db_path)}


def cmd_rules_check(args: argparse.Namespace) -> int:
    from foundation.rules import load_rules
    from foundation.settings import load_settings
    from responders.template_check import check_templates, template_cautions
    from responders.templates import TemplateLibrary

    settings = load_settings()
    if args.file is None and settings.rules_shipped:
        print("liaison: no rules.yaml here or next to a config file: checking the shipped rules; "
              "`liaison init` writes one to edit", file=sys.stderr)
    path = args.file or settings.rules_path
    first = load_rules(path)
    rules = load_rules(path, template_names=TemplateLibrary(first.template_dir).names(),
                       account_ids=_account_ids(settings))
    check_templates(rules)
    print(f"{path}: OK ({len(rules.spec.rules)} rules, mode {rules.spec.mode})")
    for caution in [*rules.cautions, *template_cautions(rules)]:
        print(f"liaison: warning: {caution}", file=sys.stderr)
    from inbox.models import threshold_notes

    for note in threshold_notes(rules, path, settings.db_path):
        print(f"liaison: {'warning' if note.lower else 'note'}: {note.text}", file=sys.stderr)
    return 0


def cmd_rules_test(args: argparse.Namespace) -> int:
    from foundation.settings import load_settings
    from inbox.scratch import ingest_now, scratch_pipeline, seen_by_service

    settings = load_settings()
    rules = common.checked_rules(settings, args.rules)
    pipeline = scratch_pipeline(settings, rules, accounts_db=settings.db_path, as_now=True)
    try:
        raw = args.message.read_bytes()
    except OSError as exc:
        raise LiaisonError(f"{args.message}: cannot read: {exc.strerror}") from None
    seen = seen_by_service(settings.db_path, raw)
    if seen:
        print(f"note: {seen}")
    outcome = ingest_now(pipeline, raw)
    report = explain(pipeline, outcome.row)
    report["file"] = str(args.message)
    print(explain_text(report))
    if report["status"] != "processed":
        return 1
    from foundation.store import loads
    from responders import outbox

    route = loads(pipeline.store.scalar("SELECT route FROM messages WHERE id = ?", [outcome.row]))
    print("\nrules, top to bottom:")
    for step in route["trace"]:
        why = "matched" if step["hit"] else "missed on " + ", ".join(step["failed"])
        print(f"  {'HIT ' if step['hit'] else 'miss'} {step['rule']}: {why}")
    for mail in pipeline.store.all("SELECT kind, raw, plan FROM outbox WHERE message_row = ? ORDER BY id",
                                   [outcome.row]):
        print(f"\n===== would send ({mail['kind']}) =====")
        print(_readable(outbox.rendered(pipeline.store, raw=mail["raw"], plan=mail["plan"])))
    return 0


def _readable(raw: bytes) -> str:
    """Headers and the plain-text part of an outgoing message."""
    import email
    from email.policy import default

    message = email.message_from_bytes(raw, policy=default)
    head = "\n".join(f"{k}: {v}" for k, v in message.items())
    body = message.get_body(preferencelist=("plain",))
    return head + "\n\n" + (body.get_content() if body else "")


def cmd_rules_replay(args: argparse.Namespace) -> int:
    from foundation.settings import load_settings
    from inbox.daemon import load_checked_rules
    from inbox.replay import replay

    settings = load_settings()
    if not settings.db_path.exists():
        raise LiaisonError(f"no database at {settings.db_path}: nothing stored to replay")
    current = common.checked_rules(settings)
    new = load_checked_rules(args.file)
    changes, total = replay(settings, current, new, days=args.days)
    for change in changes:
        print(f"{change['date']} UTC (arrived)  {change['from']}  {change['subject']}")
        for field, (before, after) in change["diff"].items():
            print(f"    {field}: {before}  ->  {after}")
    print(f"{len(changes)} of {total} message(s) from the last {args.days} day(s) would be handled differently")
    return 0
