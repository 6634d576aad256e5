"""Write the held-out split of the corpus as an eval folder (`liaison eval --held-out`).

The corpus labels categories only; to measure linking on the same messages, each one is
sent by a sender drawn (deterministically, by its id) from the linking situations a real
inbox has: contacts on foreign domains, domains, subdomains, overlapping domains,
subject codes from free-mail senders, thread replies, free-mail, lookalikes, strangers.
"""

from __future__ import annotations

import csv
import hashlib
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path

from classifiers.model import Example_, load_corpus, split

ACCOUNTS = [
    # account_id, name, code, domains, contacts, account_manager
    ("brewco", "BrewCo", "BREW", "brewco.com", "jo.freelance@gmail.com;ap@ledgerly-outsourcing.com",
     "anna.berg@agency.example"),
    ("northbank", "North Bank", "NBK", "northbank.co.uk", "", "omar.haddad@agency.example"),
    ("lumen-group", "Lumen Group", "LUMG", "group.lumen.com", "", "anna.berg@agency.example"),
    ("lumen", "Lumen Retail", "LUM", "lumen.com", "", "ines.duarte@agency.example"),
    ("verde", "Verde Cosmetics", "VRD", "verde-cosmetics.fr;verde.fr", "claire.m@orange.fr",
     "ines.duarte@agency.example"),
    ("stadtmuseum", "Stadtmuseum", "STM", "stadtmuseum.de", "", "omar.haddad@agency.example"),
]
#: (situation, sender address, subject prefix, expected account); "thread" replies to the previous message.
SITUATIONS = [
    ("domain", "m.jones@brewco.com", "", "brewco"),
    ("subdomain", "it.ops@mail.northbank.co.uk", "", "northbank"),
    ("contact", "jo.freelance@gmail.com", "", "brewco"),
    ("contact", "ap@ledgerly-outsourcing.com", "", "brewco"),
    ("code", "sam.writer@gmail.com", "[VRD-118] ", "verde"),
    ("overlap", "p.kline@group.lumen.com", "", "lumen-group"),
    ("overlap", "store.ops@lumen.com", "", "lumen"),
    ("domain", "k.wagner@stadtmuseum.de", "", "stadtmuseum"),
    ("thread", "colleague@outlook.com", "Re: ", None),
    ("free-mail", "randomperson77@gmail.com", "", None),
    ("lookalike", "accounts@brewco-invoices.net", "", None),
    ("lookalike", "finance@n0rthbank.co.uk", "", None),
    ("stranger", "hello@acme-widgets.io", "", None),
    ("domain", "claire.m@verde.fr", "", "verde"),
]


def write_eval_dir(out: Path, examples: list[Example_] | None = None) -> int:
    """Write mail/, labels.csv and accounts.csv for the held-out split; returns the count."""
    held = examples if examples is not None else split(load_corpus())[1]
    (out / "mail").mkdir(parents=True, exist_ok=True)
    with (out / "accounts.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["account_id", "name", "code", "domains", "contacts", "account_manager"])
        writer.writerows(ACCOUNTS)
    start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    previous: tuple[str, str | None] | None = None  # (message id, account) of the last message written
    rows = []
    for number, example in enumerate(held, 1):
        situation, sender, prefix, account = _situation(example.id)
        if situation == "thread" and previous is None:
            situation, sender, prefix, account = SITUATIONS[0]
        message_id = f"<heldout-{number:05d}@corpus.liaison.test>"
        mail = EmailMessage(policy=SMTP)
        mail["From"] = sender
        mail["To"] = "accounts@agency.example"
        mail["Subject"] = (prefix + example.subject) if prefix else example.subject
        mail["Date"] = format_datetime(start + timedelta(minutes=7 * number))
        mail["Message-ID"] = message_id
        if situation == "thread" and previous:
            mail["In-Reply-To"] = previous[0]
            mail["References"] = previous[0]
            account = previous[1]
        mail.set_content(example.body or " ", cte="8bit")
        name = f"h{number:05d}.eml"
        (out / "mail" / name).write_bytes(mail.as_bytes())
        rows.append((name, example.label, account or ""))
        # Replies follow a message a human wrote; automatic mail and chit-chat open no thread.
        previous = (message_id, account) if example.label != "other" else None
    with (out / "labels.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "category", "account_id"])
        writer.writerows(rows)
    return len(rows)


def _situation(example_id: str) -> tuple[str, str, str, str | None]:
    digest = hashlib.sha256(f"link:{example_id}".encode()).digest()
    return SITUATIONS[int.from_bytes(digest[:4], "big") % len(SITUATIONS)]
