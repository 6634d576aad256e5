"""`liaison correct`, `liaison model`, `liaison train --with-corrections`, `liaison rules suggest`:
the commands for learning from the account managers' corrections."""

from __future__ import annotations

import argparse
import json
from typing import Any

from inbox.commands import common


def register(commands: common.Subcommands) -> None:
    correct = common.command(commands, "correct", "record what a message really is (it beats the model)", cmd_correct)
    correct.add_argument("message", metavar="MESSAGE-ID", help="a Message-ID, or #N as the summary shows it")
    correct.add_argument("category", metavar="CATEGORY",
                         help="revision, billing, progress, other or 'not a client'")
    model = commands.add_parser("model", help="the classifier versions: list them, roll back")
    msub = model.add_subparsers(title="model commands", metavar="ACTION")
    lst = common.command(msub, "list", "every version: active, retired, refused candidates and why", cmd_model_list)
    lst.add_argument("--json", action="store_true")
    use = common.command(msub, "use", "run VERSION from now on (or 'shipped')", cmd_model_use)
    use.add_argument("version", metavar="VERSION")


def register_rules(rules_commands: common.Subcommands) -> None:
    common.command(rules_commands, "suggest", "rules suggested by the corrections (never applied by themselves)",
            cmd_rules_suggest)


def _store() -> tuple[Any, Any]:
    from foundation.settings import load_settings
    from foundation.store import Store

    settings = load_settings()
    return settings, Store(settings.db_path)


def cmd_correct(args: argparse.Namespace) -> int:
    from inbox import corrections

    _, store = _store()
    row = corrections.find_message(store, args.message)
    done = corrections.record(store, row=row, category=corrections.category_from_word(args.category),
                              source="command line")
    note = ""
    if done.acknowledged_as and done.acknowledged_as != done.new:
        note = f"; the client was acknowledged as {done.acknowledged_as}: listed under Review in the summary"
    print(f"#{row} {done.message_id}: {done.old} -> {done.new}{note}")
    return 0


def cmd_rules_suggest(args: argparse.Namespace) -> int:
    from inbox import corrections

    _, store = _store()
    lines = corrections.suggestions(store)
    print("\n\n".join(lines) if lines else "No suggestions: no sender has been corrected twice to the same category.")
    return 0


def cmd_model_list(args: argparse.Namespace) -> int:
    from inbox import models

    _, store = _store()
    rows = models.versions(store)
    if args.json:
        print(json.dumps(rows))
        return 0
    active = any(r["status"] == "active" for r in rows)
    print(f"{'shipped':20} {'active' if not active else 'available':10} the model that came with Liaison")
    for r in rows:
        print(f"{r['version']:20} {r['status']:10} {r['corrections'] or 0} corrections; {r['reason'] or ''}")
    return 0


def cmd_model_use(args: argparse.Namespace) -> int:
    from inbox import models

    settings, store = _store()
    models.use(store, settings.db_path, args.version)
    print(f"model {args.version} is active; a running daemon picks it up on SIGHUP or its next reload")
    return 0


def train_with_corrections(args: argparse.Namespace) -> int:
    """Retrain on the corpus plus the corrections; promote only what the gate accepts."""
    from inbox import models

    settings, store = _store()
    version, verdict = models.retrain(store, settings.db_path, epochs=args.epochs, say=print)
    state = "promoted and active" if verdict.promote else "kept as a candidate, not used"
    print(f"model {version}: {state}: {'; '.join(verdict.reasons)}")
    return 0
