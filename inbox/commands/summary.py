"""`liaison summary --preview|--send`: the daily triage summary."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from inbox.commands import common


def register(commands: common.Subcommands) -> None:
    summary = common.command(commands, "summary", "preview or send the daily triage summary", cmd_summary)
    action = summary.add_mutually_exclusive_group(required=True)
    action.add_argument("--preview", type=Path, metavar="FILE.html",
                        help="write the HTML (and FILE.txt beside it), send nothing")
    action.add_argument("--send", action="store_true", help="send today's summaries now")
    summary.add_argument("--for", dest="recipient", metavar="ADDRESS", help="one recipient (default: the team lead)")
    summary.add_argument("--date", type=_date, default=None, metavar="YYYY-MM-DD")


def _date(value: str) -> Any:
    from datetime import date

    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


#: How long `summary --send` waits for summaries a running daemon is sending, to report them as sent or failed.
IN_FLIGHT_WAIT = 60.0


def cmd_summary(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from foundation.settings import load_settings
    from foundation.store import utcnow
    from responders import summary
    from responders.templates import TemplateLibrary

    settings = load_settings(need_smtp=args.send)
    rules = common.checked_rules(settings)
    store = common.open_store(settings.db_path)
    templates = TemplateLibrary(rules.template_dir)
    if args.preview:
        recipient = args.recipient or summary.team_lead_address(rules) or settings.address
        team = args.recipient is None or recipient == summary.team_lead_address(rules)
        known = [address for address, _ in summary.recipients(store, rules)]
        if args.recipient and recipient.lower() not in {k.lower() for k in known}:
            # blind round 25i: a typo gave an empty summary, which reads as "nothing to do"
            print(f"note: {recipient} gets no summary (not an account manager of any account, nor the team lead): "
                  f"this preview lists nothing of theirs; those who do: {', '.join(known) or 'nobody yet'}",
                  file=sys.stderr)
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

    started = utcnow()
    planned = summary.plan_due(store, rules, templates, settings.address, datetime.now(UTC), force=True)
    transport = SMTPTransport(settings.smtp, tokens=token_manager(store, settings))  # type: ignore[arg-type]
    result = outbox.flush(store, transport)
    transport.close()
    # A running daemon flushes the same outbox: what it sent of ours counts as sent (blind round 24b read "4 planned,
    # 1 sent" as three lost, when the daemon had sent them in the same second), and what it is sending is waited for
    # a while (round 25b: reported "to retry", then delivered)
    waited = time.monotonic() + IN_FLIGHT_WAIT
    while True:
        states = {row["status"]: row["n"] for row in store.all(
            "SELECT status, COUNT(*) AS n FROM outbox WHERE kind = 'summary' AND created_at >= ? GROUP BY status",
            [started])}
        if not states.get("sending") or time.monotonic() > waited:
            break
        time.sleep(0.5)
    sent = states.get("sent", 0)
    by_daemon = f" ({sent - result.sent} of them by the running daemon)" if sent > result.sent else ""
    waiting = states.get("retry", 0) + states.get("pending", 0) + states.get("sending", 0)
    print(f"{planned} summary(ies) planned, {sent} sent{by_daemon}, {waiting} to retry, "
          f"{states.get('failed', 0)} failed")
    return 0
