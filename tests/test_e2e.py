"""End to end against a real Dovecot and a real SMTP server: the promises of issue 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from foundation.accounts import import_accounts, read_accounts_csv
from foundation.settings import ServerSettings, Settings
from foundation.store import Store
from inbox.daemon import Daemon
from tests.servers import quiet_rules

ACCOUNTS = """account_id,name,code,domains,contacts,account_manager
brewco,BrewCo,BREW,brewco.com,jo.freelance@gmail.com,anna.berg@agency.example
northbank,North Bank,NBK,northbank.co.uk,,omar.haddad@agency.example
"""


@pytest.fixture
def setup(tmp_path, dovecot, smtp_server):
    csv_path = tmp_path / "accounts.csv"
    csv_path.write_text(ACCOUNTS)
    settings = Settings(
        address="accounts@agency.example", agency_domains=("agency.example",), db_path=tmp_path / "liaison.db",
        rules_path=quiet_rules(tmp_path, Path(__file__).parent.parent / "rules.yaml"),
        imap=ServerSettings(dovecot.host, dovecot.port, dovecot.user, dovecot.password, security="none"),
        smtp=ServerSettings(smtp_server.host, smtp_server.port, security="none"),
    )
    store = Store(settings.db_path)
    import_accounts(store, read_accounts_csv(csv_path))
    store.close()
    return settings


def run_once(settings: Settings) -> None:
    store = Store(settings.db_path)
    Daemon(settings, store).run_once()
    store.close()


def sent_to(smtp_server, address: str) -> list:
    return [m for m in smtp_server.parsed() if address in m["To"]]


def test_acknowledges_and_escalates_exactly_once_and_leaves_mail_unread(setup, dovecot, smtp_server, make_message):
    uid = dovecot.append(make_message(sender="Tom Hill <tom@brewco.com>", subject="[BREW-042] banner copy",
                                      body="Hi, please change the headline on the banner to 'Fresh daily'.",
                                      message_id="<rev-1@brewco.com>"))
    dovecot.append(make_message(sender="Ap Clerk <ap@northbank.co.uk>", subject="Invoice 4471 amount wrong",
                                body="Invoice 4471 charges 12,000 EUR but the quote was 10,000 EUR. "
                                     "Please send a corrected invoice.", message_id="<bil-1@northbank.co.uk>"))
    run_once(setup)
    run_once(setup)

    acks = [m for m in smtp_server.parsed() if m["Auto-Submitted"] == "auto-replied"]
    assert sorted(m["To"] for m in acks) == ["ap@northbank.co.uk", "tom@brewco.com"]
    ack = next(m for m in acks if m["To"] == "tom@brewco.com")
    assert ack["In-Reply-To"] == "<rev-1@brewco.com>"
    assert ack["Subject"] == "Re: [BREW-042] banner copy"
    assert ack.get_content_type() == "multipart/alternative"
    escalations = [m for m in smtp_server.parsed() if m["Auto-Submitted"] == "auto-generated"]
    billing = [m for m in escalations if "Billing" in m["Subject"]]
    assert sorted(billing[0]["To"].split(", ")) == ["finance@agency.example", "omar.haddad@agency.example"]
    assert billing[0]["Reply-To"] == "ap@northbank.co.uk"
    attached = [p for p in billing[0].iter_attachments() if p.get_content_type() == "message/rfc822"]
    assert attached, "the original goes to staff as message/rfc822"
    assert len(smtp_server.messages) == 4  # two acknowledgements, two escalations; nothing twice
    assert b"\\Seen" not in dovecot.flags(uid)


def test_a_billing_acknowledgement_names_the_invoice_only_when_the_mail_names_one(setup, dovecot, smtp_server,
                                                                                   make_message):
    """Blind round 21: "Invoice INV-1001 is fine, but invoice INV-1002 charges us twice" was thanked "about invoice
    INV-1001, INV-1002"; the escalation still lists both for finance."""
    for n, body in enumerate(["Invoice INV-1001 is fine, but invoice INV-1002 charges us twice for the shoot. "
                              "Please send a corrected invoice.",
                              "Invoice INV-1003 charges 12,000 EUR but the quote was 10,000 EUR. Please correct it."]):
        dovecot.append(make_message(sender=f"Ap Clerk {n} <ap{n}@northbank.co.uk>", subject=f"Invoices {n}",
                                    body=body, message_id=f"<inv-{n}@northbank.co.uk>"))
    run_once(setup)
    acks = {m["To"]: m.get_body(("plain",)).get_content() for m in smtp_server.parsed()
            if m["Auto-Submitted"] == "auto-replied"}
    assert "INV-100" not in acks["ap0@northbank.co.uk"] and "letting us know." in acks["ap0@northbank.co.uk"]
    assert "about invoice INV-1003." in acks["ap1@northbank.co.uk"]
    escalation = next(m for m in smtp_server.parsed() if m["Auto-Submitted"] == "auto-generated"
                      and "Invoices 0" in m["Subject"])
    assert "INV-1001" in escalation.get_body(("plain",)).get_content()


@pytest.mark.parametrize("headers,sender", [
    ({"Auto-Submitted": "auto-replied"}, "Tom Hill <tom@brewco.com>"),
    ({"Precedence": "bulk"}, "Tom Hill <tom@brewco.com>"),
    ({"Precedence": "list"}, "Tom Hill <tom@brewco.com>"),
    ({"List-Id": "<news.brewco.com>"}, "Tom Hill <tom@brewco.com>"),
    ({"Return-Path": "<>"}, "Tom Hill <tom@brewco.com>"),
    ({}, "MAILER-DAEMON@brewco.com"),
    ({}, "noreply@brewco.com"),
    ({}, "Anna Berg <anna.berg@agency.example>"),
    ({"X-Liaison-Loop": "accounts@agency.example"}, "Tom Hill <tom@brewco.com>"),
])
def test_automatic_mail_gets_nothing(setup, dovecot, smtp_server, make_message, headers, sender):
    dovecot.append(make_message(sender=sender, subject="Please change the banner",
                                body="Please change the headline on the banner.", headers=headers))
    run_once(setup)
    assert not [m for m in smtp_server.parsed() if m["Auto-Submitted"] == "auto-replied"]


def test_unparseable_message_is_quarantined_and_the_run_goes_on(setup, dovecot, smtp_server, make_message):
    dovecot.append(b"\x00\x01\x02 this is not an email at all \xff\xfe")
    dovecot.append(make_message(sender="Tom Hill <tom@brewco.com>", subject="Any news on the video?",
                                body="Hi, any news on the video? We need it for Friday."))
    run_once(setup)
    store = Store(setup.db_path)
    statuses = [r["status"] for r in store.all("SELECT status FROM messages ORDER BY id")]
    quarantined = store.one("SELECT error, raw FROM messages WHERE status = 'quarantined'")
    assert statuses == ["quarantined", "processed"]
    assert quarantined["error"] and b"this is not an email" in quarantined["raw"]
    assert sent_to(smtp_server, "tom@brewco.com")


def test_invalid_setting_fails_fast_with_its_name(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "LIAISON_IMAP_HOST": "127.0.0.1", "LIAISON_IMAP_USER": "u",
           "LIAISON_IMAP_PASSWORD": "hunter2-secret", "LIAISON_IMAP_PORT": "not-a-port",
           "LIAISON_SMTP_HOST": "127.0.0.1", "LIAISON_DB": str(tmp_path / "x.db")}
    result = subprocess.run([sys.executable, "-m", "inbox.cli", "run", "--once"], env=env, capture_output=True,
                            text=True, timeout=60, cwd=Path(__file__).parent.parent)
    assert result.returncode == 2
    assert "LIAISON_IMAP_PORT" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "hunter2-secret" not in result.stderr + result.stdout
