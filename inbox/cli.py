"""The `liaison` command: a thin layer that turns library errors into clean messages.

Exit codes: 0 success, 1 a problem with input (rules, accounts, files) or a failed check,
2 a missing or invalid setting, 130 interrupted. Every error is one line (or one line per
problem, with its position); `describe_error` is the one place that words them.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sqlite3
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from foundation.errors import AccountsImportError, ConfigError, LiaisonError, RulesError
from inbox import __version__, cli_learning

log = logging.getLogger("liaison")
Command = Callable[[argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 1
    from inbox.logs import setup_logging

    setup_logging(level=args.log_level, fmt=args.log_format, secrets=environment_secrets())
    if args.config is not None:
        os.environ["LIAISON_CONFIG"] = str(args.config)  # first in the search order; subprocesses see it too
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        return 130
    except (LiaisonError, OSError, sqlite3.Error) as exc:
        message, code = describe_error(exc)
        print(message, file=sys.stderr)
        return code


def describe_error(exc: BaseException) -> tuple[str, int]:
    """(what to print, exit code) for an error a user can cause: a setting, a file, a folder, a permission."""
    if isinstance(exc, ConfigError):
        return f"liaison: configuration error: {exc}", 2
    if isinstance(exc, RulesError | AccountsImportError):
        return "\n".join(exc.problems), 1
    if isinstance(exc, LiaisonError):
        return f"liaison: {exc}", 1
    if isinstance(exc, OSError) and exc.filename is not None:
        target = f"{exc.filename} -> {exc.filename2}" if exc.filename2 else str(exc.filename)
        return f"liaison: {target}: {exc.strerror or exc}", 1
    if isinstance(exc, OSError):
        return f"liaison: {exc.strerror or exc}", 1
    return f"liaison: database error: {exc}", 1


def environment_secrets() -> list[str]:
    """Values that must never reach a log line: passwords and client secrets from the environment."""
    return [value for name, value in os.environ.items()
            if name.startswith("LIAISON_") and (name.endswith("_PASSWORD") or "SECRET" in name or "TOKEN" in name)]


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

    init = _command(commands, "init", "write a starting liaison.toml, rules.yaml, accounts.csv and liaison.env",
                    cmd_init)
    init.add_argument("directory", type=Path, nargs="?", default=Path("."), metavar="DIR",
                      help="where to write them (default: here); existing files are kept")
    init.add_argument("--db", default="liaison.db", metavar="PATH",
                      help="the database path to write in liaison.toml (relative to DIR)")

    doctor = _command(commands, "doctor", "check settings, rules, database, IMAP and SMTP: ✓ or ✗ with the fix",
                      cmd_doctor)
    doctor.add_argument("--send-test", action="store_true",
                        help="also send one message to the shared inbox and wait to see it arrive over IMAP")
    doctor.add_argument("--wait", type=_seconds, default=120.0, metavar="SECONDS",
                        help="how long --send-test waits for the message (default 120)")

    _command(commands, "status", "what the running daemon last did: fetch, send, queue, failures, rules", cmd_status)

    run = _command(commands, "run", "watch the inbox and handle mail (foreground daemon)", cmd_run)
    run.add_argument("--once", action="store_true", help="process everything new, send what is due, exit")
    run.add_argument("--dry-run", action="store_true", help="everything but sending; mail goes to a Maildir")
    run.add_argument("--shadow-dir", type=Path, default=Path("liaison-shadow"),
                     help="Maildir for --dry-run and shadow mode (default ./liaison-shadow)")

    classify = _command(commands, "classify", "show how messages would be handled", cmd_classify)
    classify.add_argument("files", nargs="+", type=Path, metavar="FILE.eml")
    classify.add_argument("--json", action="store_true", help="one JSON object per message")

    demo = _command(commands, "demo", "run the pipeline on the bundled sample mailbox", cmd_demo)
    demo.add_argument("--out", type=Path, default=Path("liaison-demo"), help="output folder (./liaison-demo)")

    train = _command(commands, "train", "rebuild the shipped classifier from the labelled corpus", cmd_train)
    train.add_argument("--out", type=Path, default=None, help="model folder (default: the shipped one)")
    train.add_argument("--epochs", type=_positive, default=None)
    train.add_argument("--folds", type=int, default=None,
                       help="calibration folds (default 4; 0: no calibration, e.g. to check reproducibility)")
    train.add_argument("--with-corrections", action="store_true",
                       help="retrain on the corpus plus the recorded corrections; promoted only if no worse")

    evaluate = _command(commands, "eval", "score classification and linking on a labelled folder", cmd_eval)
    evaluate.add_argument("directory", type=Path, nargs="?", metavar="DIR",
                          help="DIR/mail/*.eml, DIR/labels.csv, optional DIR/accounts.csv")
    evaluate.add_argument("--held-out", action="store_true", help="score the corpus split training never sees")
    evaluate.add_argument("--json", action="store_true", help="one JSON object")
    evaluate.add_argument("--show-mistakes", action="store_true",
                          help="each mistake with its newest text, deciding sentence and strongest words")
    evaluate.add_argument("--cross-writer", action="store_true",
                          help="without DIR: also train without each writer and score on that writer")
    evaluate.add_argument("--compare", type=Path, metavar="MODEL", help="without DIR: another model, side by side")

    rules = commands.add_parser("rules", help="check, test and replay rules.yaml")
    rsub = rules.add_subparsers(title="rules commands", metavar="ACTION")
    check = _command(rsub, "check", "validate a rules file (FILE:LINE:COLUMN: message)", cmd_rules_check)
    check.add_argument("file", type=Path, nargs="?", metavar="FILE")
    test = _command(rsub, "test", "show which rules match a message and what would be sent", cmd_rules_test)
    test.add_argument("message", type=Path, metavar="FILE.eml")
    test.add_argument("--rules", type=Path, default=None, metavar="FILE")
    replay = _command(rsub, "replay", "run new rules over stored mail and show what would change", cmd_rules_replay)
    replay.add_argument("file", type=Path, metavar="NEW_RULES.yaml")
    replay.add_argument("--days", type=_days, default=7)
    cli_learning.register_rules(rsub, _command)

    summary = _command(commands, "summary", "preview or send the daily triage summary", cmd_summary)
    action = summary.add_mutually_exclusive_group(required=True)
    action.add_argument("--preview", type=Path, metavar="FILE.html", help="write the HTML, send nothing")
    action.add_argument("--send", action="store_true", help="send today's summaries now")
    summary.add_argument("--for", dest="recipient", metavar="ADDRESS", help="one recipient (default: the team lead)")
    summary.add_argument("--date", type=_date, default=None, metavar="YYYY-MM-DD")

    auth = commands.add_parser("auth", help="OAuth2 sign-in for Microsoft 365, Google Workspace or any provider")
    asub = auth.add_subparsers(title="auth commands", metavar="ACTION")
    login = _command(asub, "login", "sign in once and store the tokens (device code, browser, or app-only)",
                     cmd_auth_login)
    login.add_argument("--provider", choices=["microsoft", "google", "generic"])
    login.add_argument("--refresh-token-stdin", action="store_true",
                       help="read a refresh token obtained elsewhere from standard input instead of signing in")
    _command(asub, "status", "per mailbox: provider, account, token expiry, last refresh (no secrets)",
             cmd_auth_status)

    accounts = commands.add_parser("accounts", help="manage client accounts")
    sub = accounts.add_subparsers(title="accounts commands", metavar="ACTION")
    imp = _command(sub, "import", "add or update accounts from a CSV file", cmd_accounts_import)
    imp.add_argument("file", type=Path, metavar="FILE.csv")
    imp.add_argument("--move", action="store_true",
                     help="let a row take a domain, contact or code that another account holds (it is moved)")
    lst = _command(sub, "list", "list accounts", cmd_accounts_list)
    lst.add_argument("--json", action="store_true")
    show = _command(sub, "show", "one account: contacts, open threads, counts", cmd_accounts_show)
    show.add_argument("account_id")
    show.add_argument("--json", action="store_true")
    _command(sub, "export", "print all accounts as CSV", cmd_accounts_export)
    cli_learning.register(commands, _command)
    return parser


def _command(commands: Any, name: str, help_text: str, handler: Command) -> argparse.ArgumentParser:
    parser = commands.add_parser(name, help=help_text, description=help_text)
    parser.set_defaults(handler=handler)
    return parser


def _bounded(kind: type, low: float, high: float, what: str) -> Callable[[str], Any]:
    def parse(value: str) -> Any:
        try:
            number = kind(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
        if not low <= number <= high:  # also refuses nan
            raise argparse.ArgumentTypeError(f"{what} must be between {low:g} and {high:g}, not {value!r}")
        return number

    return parse


_days = _bounded(int, 1, 36500, "days")
_positive = _bounded(int, 1, 10000, "the number")
_seconds = _bounded(float, 1, 3600, "seconds")


# -- settings, rules and the database, as every command opens them ----------------------------


def _checked_rules(settings: Any, path: Path | None = None) -> Any:
    """The rules a command runs with: `path`, else the configured file, else (saying so) the shipped rules."""
    from inbox.daemon import load_checked_rules

    if path is None and settings.rules_shipped:
        print(f"liaison: no rules.yaml here or next to a config file: using the shipped rules "
              f"({settings.rules_path}); `liaison init` writes one to edit", file=sys.stderr)
    return load_checked_rules(path or settings.rules_path)


def _open_store(path: Path) -> Any:
    from foundation.store import Store

    try:
        return Store(path)
    except sqlite3.Error as exc:
        raise LiaisonError(f"cannot open the database {path}: {exc} (LIAISON_DB, or db in the config file)") from None


# -- commands ------------------------------------------------------------------------------


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
    print("all checks passed" if report.ok else f"{failed} check(s) failed")
    return 0 if report.ok else 1


def cmd_status(args: argparse.Namespace) -> int:
    from foundation.settings import load_settings
    from foundation.store import Store
    from inbox.notify import read_status
    from inbox.status import daemon_status

    settings = load_settings()
    if settings.db_path.exists():
        store = _open_store(settings.db_path)
    elif read_status(settings.db_path):  # only dry runs so far: they decide on a copy and keep nothing
        store = Store(":memory:")
    else:
        raise LiaisonError(f"no database at {settings.db_path}: the daemon has not run with this configuration")
    print(daemon_status(settings, store))
    return 0



def cmd_run(args: argparse.Namespace) -> int:
    from foundation.settings import load_settings
    from inbox.daemon import Daemon

    settings = load_settings(need_imap=True, need_smtp=not args.dry_run)
    if settings.rules_shipped:
        raise ConfigError("LIAISON_RULES", "no rules.yaml here or next to a config file: run `liaison init` "
                          "to write one (and a liaison.toml), or name one with LIAISON_RULES")
    if not Path(settings.rules_path).is_file():  # exit 2, which the service does not restart in a loop
        raise ConfigError("LIAISON_RULES", f"{settings.rules_path}: no such file: run `liaison init` to write "
                          "one, or point LIAISON_RULES (rules in liaison.toml) at yours")
    if args.dry_run:
        return _dry_run(args, settings)
    daemon = Daemon(settings, _open_store(settings.db_path), dry_run=args.dry_run, shadow_dir=args.shadow_dir)
    return _run(daemon, once=args.once)


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
    from inbox.daemon import Daemon, token_manager
    from inbox.imap_source import ImapSource

    with tempfile.TemporaryDirectory(prefix="liaison-dry-run-") as scratch:
        copy = Store(_copy_database(settings.db_path, Path(scratch) / "liaison.db"))
        live = Store(settings.db_path) if settings.db_path.exists() else copy
        source = ImapSource(settings.imap, settings.folder, tokens=token_manager(live, settings))
        daemon = Daemon(settings, copy, dry_run=True, shadow_dir=args.shadow_dir, source=source)
        try:
            return _run(daemon, once=args.once)
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


def cmd_classify(args: argparse.Namespace) -> int:
    from foundation.settings import load_settings
    from inbox.scratch import scratch_pipeline

    settings = load_settings()
    pipeline = scratch_pipeline(settings, _checked_rules(settings), accounts_db=settings.db_path)
    if not settings.db_path.exists():
        print(f"liaison: no database at {settings.db_path}: no accounts are known here, so every sender is "
              "unlinked; run from the configured folder or give --config", file=sys.stderr)
    status = 0
    for path in args.files:
        try:
            messages = list(_messages_in(path))
        except OSError as exc:
            print(f"{path}: cannot read: {exc.strerror}", file=sys.stderr)
            status = 1
            continue
        for name, raw in messages:
            report = explain(pipeline, pipeline.ingest(raw).row)
            report["file"] = name
            if args.json:
                print(json.dumps(report, ensure_ascii=False, default=str))
            else:
                print(_explain_text(report))
    return status


def _messages_in(path: Path) -> Any:
    """(name, raw bytes) for a message file, or for each message of an mbox file."""
    raw = path.read_bytes()
    if not raw.startswith(b"From "):
        yield str(path), raw
        return
    import mailbox

    box = mailbox.mbox(str(path), create=False)
    try:
        for number, key in enumerate(box.keys(), 1):
            yield f"{path}#{number}", box.get_bytes(key)
    finally:
        box.close()


def explain(pipeline: Any, row: int) -> dict[str, Any]:
    """Everything decided about one stored message, as plain data."""
    from foundation.store import loads

    m = pipeline.store.one("SELECT * FROM messages WHERE id = ?", [row])
    if m["status"] == "quarantined":
        return {"status": "quarantined", "reason": m["error"]}
    route = loads(m["route"], {})
    fired = [t["rule"] for t in route.get("trace", []) if t["hit"]]
    return {
        "status": m["status"], "message_id": m["message_id"], "from": m["from_addr"], "subject": m["subject"],
        "category": m["category"], "needs_review": bool(m["needs_review"]),
        "confidence": round(m["confidence"] or 0, 3), "decided_by": m["class_source"],
        "reasons": loads(m["class_reasons"], []), "automatic": m["automatic"], "account": m["account_id"],
        "link": m["link_reason"], "link_detail": m["link_detail"], "suspicious": m["suspicious"],
        "entities": loads(m["entities"], {}), "rules_fired": fired, "actions": route.get("done", []),
        "newest_text": m["newest_text"], "ack_tier": m["ack_tier"], "ack_tier_reason": m["ack_tier_reason"],
    }


def _explain_text(r: dict[str, Any]) -> str:
    if r["status"] == "quarantined":
        return f"{r['file']}: QUARANTINED: {r['reason']}"
    lines = [
        f"{r['file']}: {r['category']} ({r['confidence']:.2f}, decided by {r['decided_by']})"
        + (" - NEEDS REVIEW" if r["needs_review"] else ""),
        f"  from:     {r['from']}   subject: {r['subject']}",
        f"  account:  {r['account'] or 'unlinked'} (by {r['link']}: {r['link_detail']})",
        f"  why:      {'; '.join(r['reasons'])}",
        f"  ack tier: {r['ack_tier']} ({r['ack_tier_reason']})",
        f"  rules:    {', '.join(r['rules_fired']) or 'none'}",
        f"  actions:  {'; '.join(r['actions']) or 'none'}",
    ]
    if r["automatic"]:
        lines.insert(2, f"  automatic: {r['automatic']}")
    if r["suspicious"]:
        lines.insert(2, f"  SUSPICIOUS: {r['suspicious']}")
    if r["entities"]:
        lines.append(f"  entities: {json.dumps(r['entities'], ensure_ascii=False)}")
    return "\n".join(lines)


def cmd_demo(args: argparse.Namespace) -> int:
    from foundation.rules import default_rules_path
    from inbox.demo import run_demo

    logging.getLogger().setLevel(logging.WARNING)  # the table is the output; decisions are in it
    run_demo(args.out, sys.stdout)
    print(f"Rules: the shipped rules ({default_rules_path()}); `liaison init` writes a copy to edit")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from classifiers import model, training
    from classifiers.newest_text import newest_text
    from inbox.progress import Progress

    logging.getLogger("spacy").setLevel(logging.WARNING)  # its per-step INFO lines drown the progress bar
    if args.with_corrections:
        return cli_learning.train_with_corrections(args)
    examples = model.load_corpus()
    train, held = model.split(examples)
    print(f"corpus: {len(examples)} examples, training on {len(train)}, holding out {len(held)}")
    epochs = args.epochs or model.EPOCHS
    folds = training.FOLDS if args.folds is None else args.folds
    progress = Progress(epochs + folds, "steps")
    out = args.out or model.MODEL_DIR
    calibration = training.build(out, examples=examples, epochs=epochs, folds=folds, progress=progress.advance)
    progress.finish()
    if calibration.fold_count:
        print(f"calibrated on {calibration.fold_count} out-of-fold answers: temperature {calibration.temperature}, "
              f"acknowledge at confidence >= {calibration.ack_threshold} ({calibration.fold_precision:.4f} right, "
              f"{calibration.fold_coverage:.4f} of requests), in {out}/calibration.json")
    trained = model.TextcatClassifier(out)
    found = trained.classify_many([(e.subject, newest_text(e.body)) for e in held])
    correct = sum(f.category == e.label for f, e in zip(found, held, strict=True))
    print(f"saved to {out}; held-out accuracy {correct / max(len(held), 1):.4f} "
          f"(full scores: liaison eval --held-out)")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    import tempfile

    from classifiers.evaluate import format_mistakes, format_report
    from classifiers.heldout import write_eval_dir
    from classifiers.phrases import KeywordClassifier
    from foundation.rules import default_rules_path
    from foundation.settings import load_settings
    from inbox.daemon import load_checked_rules
    from inbox.evaluation import evaluate
    from inbox.progress import Progress

    if args.directory and args.held_out:
        raise LiaisonError("give either DIR or --held-out")
    if not (args.directory or args.held_out):
        from classifiers.report import run_report

        print(run_report(load_checked_rules(default_rules_path()), as_json=args.json,
                         cross_writer=args.cross_writer, compare=args.compare, show_mistakes=args.show_mistakes))
        return 0
    settings = load_settings({"LIAISON_ADDRESS": "accounts@agency.example",
                              "LIAISON_AGENCY_DOMAINS": "agency.example"})
    print(f"liaison eval: scoring with the shipped rules ({default_rules_path()})", file=sys.stderr)
    rules = load_checked_rules(default_rules_path())
    with tempfile.TemporaryDirectory(prefix="liaison-eval-") as scratch:
        directory = args.directory
        if args.held_out:
            directory = Path(scratch)
            write_eval_dir(directory)
        progress = Progress(0, "messages")

        def tick(done: int, total: int) -> None:
            progress.total, progress.enabled = total, total > 1
            progress.advance()

        result = evaluate(directory, settings, rules, progress=tick, explain_mistakes=args.show_mistakes)
        progress.finish()
        baseline = evaluate(directory, settings, rules, classifier=KeywordClassifier())
    result["baseline_macro_f1"] = baseline["macro_f1"]
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(format_report(result, baseline=baseline))
        if args.show_mistakes:
            print(format_mistakes(result["mistakes"]))
            for m in result["link_mistakes"]:
                print(f"  {m['file']}: account {m['truth']} -> {m['found']}")
    return 0


def _account_ids(settings: Any) -> set[str] | None:
    from inbox.scratch import _accounts_from

    if not settings.db_path.exists():
        return None
    return {a["account_id"] for a in _accounts_from(settings.db_path)}


def cmd_rules_check(args: argparse.Namespace) -> int:
    from foundation.rules import load_rules
    from foundation.settings import load_settings
    from responders.template_check import check_templates
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
    return 0


def cmd_rules_test(args: argparse.Namespace) -> int:
    from foundation.settings import load_settings
    from inbox.scratch import scratch_pipeline

    settings = load_settings()
    rules = _checked_rules(settings, args.rules)
    pipeline = scratch_pipeline(settings, rules, accounts_db=settings.db_path)
    try:
        raw = args.message.read_bytes()
    except OSError as exc:
        raise LiaisonError(f"{args.message}: cannot read: {exc.strerror}") from None
    outcome = pipeline.ingest(raw)
    report = explain(pipeline, outcome.row)
    report["file"] = str(args.message)
    print(_explain_text(report))
    if report["status"] != "processed":
        return 1
    from foundation.store import loads
    from responders import outbox

    route = loads(pipeline.store.one("SELECT route FROM messages WHERE id = ?", [outcome.row])["route"])
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
    current = _checked_rules(settings)
    new = load_checked_rules(args.file)
    changes, total = replay(settings, current, new, days=args.days)
    for change in changes:
        print(f"{change['date']}  {change['from']}  {change['subject']}")
        for field, (before, after) in change["diff"].items():
            print(f"    {field}: {before}  ->  {after}")
    print(f"{len(changes)} of {total} message(s) from the last {args.days} day(s) would be handled differently")
    return 0


def _date(value: str) -> Any:
    from datetime import date

    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def cmd_summary(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from foundation.settings import load_settings
    from responders import summary
    from responders.templates import TemplateLibrary

    settings = load_settings(need_smtp=args.send)
    rules = _checked_rules(settings)
    store = _open_store(settings.db_path)
    templates = TemplateLibrary(rules.template_dir)
    if args.preview:
        recipient = args.recipient or summary.team_lead_address(rules) or settings.address
        team = args.recipient is None or recipient == summary.team_lead_address(rules)
        day = args.date or datetime.now(UTC).astimezone(rules.zone()).date()
        # A preview of today's summary is as of now (ages, counts), not of the time it is due.
        until = datetime.now(UTC) if args.date is None else None
        text, html = summary.render(summary.build(store, rules, recipient, day, team=team, until=until), templates)
        args.preview.write_text(html, encoding="utf-8")
        args.preview.with_suffix(".txt").write_text(text, encoding="utf-8")
        print(f"wrote {args.preview} and {args.preview.with_suffix('.txt')} for {recipient} on {day}")
        return 0
    from inbox.daemon import token_manager
    from responders import outbox
    from responders.smtp import SMTPTransport

    planned = summary.plan_due(store, rules, templates, settings.address, datetime.now(UTC), force=True)
    transport = SMTPTransport(settings.smtp, tokens=token_manager(store, settings))  # type: ignore[arg-type]
    result = outbox.flush(store, transport)
    transport.close()
    print(f"{planned} summary(ies) planned, {result.sent} sent, {result.retried} to retry, {result.failed} failed")
    return 0


def cmd_auth_login(args: argparse.Namespace) -> int:
    from foundation.oauth import interactive_login
    from foundation.settings import load_settings
    from inbox.daemon import token_manager

    env = dict(os.environ)
    if args.provider:
        env["LIAISON_OAUTH_PROVIDER"] = args.provider
    env.setdefault("LIAISON_IMAP_AUTH", "oauth2")
    settings = load_settings(env)
    manager = token_manager(_open_store(settings.db_path), settings)
    if manager is None:
        raise LiaisonError("set LIAISON_IMAP_AUTH or LIAISON_SMTP_AUTH to oauth2")
    if args.refresh_token_stdin:
        manager.save({"access_token": "", "refresh_token": sys.stdin.readline().strip(), "expires_in": 0})
        manager.access_token(force=True)  # exchange it now: a bad token fails here, not at 3 a.m.
    else:
        interactive_login(manager, print)
    print(f"signed in: tokens for {manager.mailbox} stored in {settings.db_path}")
    return 0


def cmd_auth_status(args: argparse.Namespace) -> int:
    from foundation.oauth import token_status

    rows = token_status(_store())
    for r in rows:
        print(f"{r['mailbox']:<32} {r['provider']:<10} {r['status']:<8} expires {r['expires_at'] or '-'}  "
              f"refreshed {r['refreshed_at'] or '-'}" + (f"  ({r['error']})" if r["error"] else ""))
    if not rows:
        print("no OAuth2 sign-ins yet: liaison auth login --provider microsoft|google|generic")
    return 0


def _store() -> Any:
    from foundation.settings import load_settings

    return _open_store(load_settings().db_path)


def cmd_accounts_import(args: argparse.Namespace) -> int:
    from foundation.accounts import import_accounts, read_accounts_csv

    rows = read_accounts_csv(args.file)
    result = import_accounts(_store(), rows, move=args.move)
    for line in result.moved:
        print(line)
    print(f"{result.added} account(s) added, {result.updated} updated")
    return 0


def cmd_accounts_list(args: argparse.Namespace) -> int:
    from foundation.accounts import list_accounts

    accounts = list_accounts(_store())
    if args.json:
        print(json.dumps(accounts, ensure_ascii=False, default=str))
        return 0
    for a in accounts:
        print(f"{a['account_id']:<12} {a['name']:<28} {a['code'] or '-':<8} {a['account_manager'] or '-':<30} "
              f"{', '.join(a['domains'])}")
    if not accounts:
        print("no accounts yet: liaison accounts import FILE.csv")
    return 0


def cmd_accounts_show(args: argparse.Namespace) -> int:
    from foundation.accounts import show_account

    account = show_account(_store(), args.account_id)
    if account is None:
        raise LiaisonError(f"no account {args.account_id!r}")
    if args.json:
        print(json.dumps(account, ensure_ascii=False, default=str))
        return 0
    print(f"{account['account_id']}: {account['name']} (code {account['code'] or '-'})")
    print(f"  manager:  {account['account_manager'] or '-'}")
    print(f"  domains:  {', '.join(account['domains']) or '-'}")
    print(f"  contacts: {', '.join(account['contacts']) or '-'}")
    print("  messages: " + (", ".join(f"{k} {v}" for k, v in account["counts"].items()) or "none"))
    print(f"  open threads: {len(account['open_threads'])}")
    for t in account["open_threads"]:
        print(f"    thread {t['id']}: {t['subject']} (since {t['opened_at'][:16]}, {t['chasers']} chaser(s))")
    return 0


def cmd_accounts_export(args: argparse.Namespace) -> int:
    from foundation.accounts import export_accounts

    sys.stdout.write(export_accounts(_store()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
