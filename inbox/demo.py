"""`liaison demo`: the whole pipeline on a bundled sample mailbox, no servers needed.

Outgoing mail is written to a local Maildir; a triage table is printed at the end.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from foundation.accounts import import_accounts, read_accounts_csv
from foundation.rules import default_rules_path
from foundation.settings import Settings
from foundation.store import Store, loads
from inbox.daemon import load_checked_rules
from inbox.pipeline import Outcome, Pipeline
from responders import outbox, summary
from responders.routing import nothing_done_because
from responders.smtp import MaildirTransport
from responders.templates import TemplateLibrary

DEMO_DIR = Path(__file__).parent / "data" / "demo"


def demo_settings(out: Path) -> Settings:
    return Settings(address="accounts@agency.example", agency_domains=("agency.example",),
                    db_path=out / "liaison.db", rules_path=default_rules_path(), imap=None, smtp=None)


def run_demo(out: Path, stream: TextIO) -> list[Outcome]:
    """Process the sample mailbox into `out` (replaced each run) and print what happened."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    settings = demo_settings(out)
    store = Store(settings.db_path)
    import_accounts(store, read_accounts_csv(DEMO_DIR / "accounts.csv"))
    pipeline = Pipeline(store, settings, load_checked_rules(settings.rules_path))
    outcomes = [pipeline.ingest(path.read_bytes()) for path in mailbox_files(DEMO_DIR / "mailbox")]
    transport = MaildirTransport(out / "outbox")
    sent = outbox.flush(store, transport).sent
    transport.close()
    print_table(outcomes, stream, store)
    rules = pipeline.rules
    lead = summary.team_lead_address(rules) or settings.address
    day = datetime.now(UTC).astimezone(rules.zone()).date()
    text, html = summary.render(summary.build(store, rules, lead, day, team=True), TemplateLibrary())
    (out / "summary.html").write_text(html, encoding="utf-8")
    (out / "summary.txt").write_text(text, encoding="utf-8")
    stream.write(f"\n{len(outcomes)} messages, {sent} outgoing messages written to {out / 'outbox'}\n"
                 f"Triage summary for {lead}: {out / 'summary.html'}\nDatabase: {settings.db_path}\n")
    store.close()
    return outcomes


def mailbox_files(maildir: Path) -> list[Path]:
    """The messages of a Maildir in arrival order (file names start with the delivery time)."""
    files = [p for sub in ("cur", "new") for p in (maildir / sub).glob("*") if not p.name.startswith(".")]
    return sorted(files, key=lambda p: p.name)


def print_table(outcomes: list[Outcome], stream: TextIO, store: Store) -> None:
    header = f"{'#':>3}  {'from':<28} {'subject':<34} {'category':<17} {'conf':>4}  {'account':<10} action"
    stream.write(header + "\n" + "-" * len(header) + "\n")
    for number, o in enumerate(outcomes, 1):
        if o.status == "quarantined":
            stream.write(f"{number:>3}  {'(unparseable)':<28} {'':<34} {'quarantined':<17} {'':>4}  {'':<10} "
                         f"{o.reason[:60]}\n")
            continue
        action = _short_action(o.actions) or _why_nothing(store, o.row)
        stream.write(f"{number:>3}  {_cut(o.sender, 28):<28} {_cut(o.subject, 34):<34} {o.category:<17} "
                     f"{o.confidence:>4.2f}  {_cut(o.account_id or '-', 10):<10} {action}\n")


def _short_action(actions: list[str]) -> str:
    parts = []
    for action in actions:
        verb, _, rest = action.partition(": ")
        parts.append("acknowledged" if verb == "acknowledge" else
                     f"escalated to {rest.split(' (')[0]}" if verb == "escalate" else action)
    return "; ".join(parts)


def _why_nothing(store: Store, row: int) -> str:
    """'none: rule unlinked', 'none: no rule matched': the rule's description is in the summary."""
    stored = store.one("SELECT route FROM messages WHERE id = ?", [row])
    return f"none: {nothing_done_because(loads(stored['route'] if stored else None, {}))}"


def _cut(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
