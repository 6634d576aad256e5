"""`liaison accounts import|list|show|export|remove`: client accounts."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from foundation.errors import LiaisonError
from inbox.commands import common


def register(commands: common.Subcommands) -> None:
    accounts = commands.add_parser("accounts", help="manage client accounts")
    sub = accounts.add_subparsers(title="accounts commands", metavar="ACTION")
    imp = common.command(sub, "import", "add or update accounts from a CSV file", cmd_accounts_import)
    imp.add_argument("file", type=Path, metavar="FILE.csv")
    imp.add_argument("--move", action="store_true",
                     help="let a row take a domain, contact or code that another account holds (it is moved)")
    lst = common.command(sub, "list", "list accounts", cmd_accounts_list)
    lst.add_argument("--json", action="store_true")
    show = common.command(sub, "show", "one account: contacts, open threads, counts", cmd_accounts_show)
    show.add_argument("account_id")
    show.add_argument("--json", action="store_true")
    common.command(sub, "export", "print all accounts as CSV", cmd_accounts_export)
    remove = common.command(sub, "remove", "offboard a client: its mail is linked to no one (so never acknowledged), "
                                           "its open threads are closed; importing it again brings it back",
                            cmd_accounts_remove)
    remove.add_argument("account_id")


def cmd_accounts_import(args: argparse.Namespace) -> int:
    from foundation.accounts import import_accounts, import_problems, read_accounts_csv
    from foundation.errors import AccountsImportError
    from foundation.settings import load_settings

    settings = load_settings()
    store = common.open_store(settings.db_path)
    try:
        rows = read_accounts_csv(args.file)
    except AccountsImportError as exc:  # the rows without errors are checked against the database too
        more = import_problems(store, exc.valid_rows, move=args.move, agency_domains=settings.agency_domains)
        raise AccountsImportError(sorted(exc.problems + more, key=_line_of)) from None
    result = import_accounts(store, rows, move=args.move, agency_domains=settings.agency_domains)
    for line in result.moved:
        print(line)
    # which database: run from a folder without the configuration, it is ./liaison.db (blind round 24b: "8 added"
    # to a new database beside the file, the live one untouched, and nothing said)
    print(f"{result.added} account(s) added, {result.updated} updated, {result.unchanged} unchanged "
          f"(database {settings.db_path.absolute()})")
    if result.restored:  # blind round 24: the routine re-import of the office sheet brought them back unsaid
        print(f"brought back {len(result.restored)} removed account(s): {', '.join(result.restored)} (their threads "
              "closed on removal stay closed; `liaison accounts remove ID` removes one again)")
    for handover in result.handovers:  # round 25: a manager's address changed by a typo, and nothing said what changed
        print(f"account manager changed: {handover}")
    for doubt in result.doubts:
        print(f"warning: {doubt}")
    if result.absent:  # round 23: a row dropped from the file was taken for a removal, silently kept
        print(f"kept {len(result.absent)} account(s) this file does not list: {', '.join(result.absent)} "
              f"(`liaison accounts remove ID` offboards one)")
    return 0


def _line_of(problem: str) -> int:
    """The line number of a "FILE:LINE: message" problem (0 for one about the whole file)."""
    parts = problem.split(": ", 1)[0].rsplit(":", 1)
    return int(parts[1]) if len(parts) == 2 and parts[1].isdigit() else 0


def cmd_accounts_remove(args: argparse.Namespace) -> int:
    from foundation.accounts import remove_account

    removed = remove_account(common.configured_store(), args.account_id)
    print(f"removed {removed.account_id} ({removed.name}): {removed.closed_threads} open thread(s) closed; its mail "
          f"is now linked to no account (`liaison accounts import` with its row brings it back)")
    return 0


def cmd_accounts_list(args: argparse.Namespace) -> int:
    from foundation.accounts import list_accounts

    accounts = list_accounts(common.configured_store())
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

    account = show_account(common.configured_store(), args.account_id)
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

    sys.stdout.write(export_accounts(common.configured_store()))
    return 0
