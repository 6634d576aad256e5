"""Escalations reach staff whatever the original looks like, and one that cannot is never lost quietly."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from foundation.rules import load_rules
from foundation.store import Store
from inbox.daemon import Daemon
from responders import summary
from tests.servers import liaison_settings

ACCOUNTS = "account_id,name,code,domains,contacts,account_manager\nbrewco,BrewCo,BREW,brewco.com,,anna@agency.example\n"


def run_once(settings) -> None:
    store = Store(settings.db_path)
    Daemon(settings, store).run_once()
    store.close()


def with_unfolded_cc(addresses: int) -> bytes:
    """A real client message whose Cc is one unfolded line of `addresses` addresses (some mailers do this)."""
    cc = ", ".join(f"Colleague Number {i} <colleague.{i}@brewco.com>" for i in range(addresses))
    return (b"From: Tom Hill <tom@brewco.com>\r\nTo: accounts@agency.example\r\n"
            b"Cc: " + cc.encode() + b"\r\nSubject: Banner headline\r\nDate: Mon, 30 Nov 2026 10:00:00 +0000\r\n"
            b"Message-ID: <long-cc@brewco.com>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
            b"\r\nPlease change the headline on the banner to 'Fresh daily'.\r\n")


def test_original_with_a_20kb_line_is_attached_so_the_server_accepts_it(tmp_path, dovecot, smtp_server):
    raw = with_unfolded_cc(500)
    assert max(len(line) for line in raw.split(b"\r\n")) > 20_000
    dovecot.append(raw)
    run_once(liaison_settings(tmp_path, dovecot, smtp_server, ACCOUNTS))
    escalations = [m for m in smtp_server.parsed() if m["Auto-Submitted"] == "auto-generated"]
    assert len(escalations) == 1, "aiosmtpd refuses lines over 998 octets: the escalation must still arrive"
    (original,) = list(escalations[0].iter_attachments())
    assert original.get_filename() == "original.eml"
    assert original.get_content() == raw, "staff get the client's message byte for byte"
    for _, _, sent in smtp_server.messages:
        assert max(len(line) for line in sent.split(b"\r\n")) <= 998
    assert smtp_server.refusals == []


def test_an_ordinary_original_is_still_attached_as_message_rfc822(tmp_path, dovecot, smtp_server):
    dovecot.append(with_unfolded_cc(3))
    run_once(liaison_settings(tmp_path, dovecot, smtp_server, ACCOUNTS))
    escalation = next(m for m in smtp_server.parsed() if m["Auto-Submitted"] == "auto-generated")
    assert [p.get_content_type() for p in escalation.iter_attachments()] == ["message/rfc822"]


def test_an_escalation_given_up_is_an_error_and_an_alert_for_the_team_lead(tmp_path, dovecot, smtp_server,
                                                                           make_message, caplog):
    settings = liaison_settings(tmp_path, dovecot, smtp_server, ACCOUNTS)
    dovecot.append(make_message(sender="Tom Hill <tom@brewco.com>", subject="Banner headline",
                                body="Please change the headline on the banner to 'Fresh daily'."))
    smtp_server.fail_next(2, 554, "5.6.0 Message refused", stage="RCPT")  # the acknowledgement, the escalation
    with caplog.at_level(logging.INFO, logger="liaison"):
        run_once(settings)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR and "gave up" in r.getMessage()]
    assert len(errors) == 2 and all("5.6.0 Message refused" in e for e in errors)
    assert any(e.startswith("gave up escalate") and "anna@agency.example" in e for e in errors)
    store = Store(settings.db_path)
    assert {r["kind"] for r in store.all("SELECT kind FROM outbox WHERE status = 'failed'")} == {
        "acknowledge", "escalate"}
    rules = load_rules(settings.rules_path)
    review = summary.build(store, rules, "lead@agency.example", dt.date.today(), team=True,
                           until=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)).review
    alerts = [r["reason"] for r in review if r["kind"] == "send failed"]
    assert any(a.startswith("escalate to anna@agency.example will not be delivered: 554") for a in alerts), alerts
    # each names the message it was about, and the thread says the acknowledgement was refused (round 18)
    failed = [r for r in review if r["kind"] == "send failed"]
    assert all(r["subject"] == "Banner headline" and r["ref"].startswith("#") and r["sender"] for r in failed)
    waiting = summary.build(store, rules, "lead@agency.example", dt.date.today(), team=True,
                            until=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)).needs_you
    (thread,) = [t for t in waiting if t["subject"] == "Banner headline"]
    assert thread["ack"].startswith("not acknowledged (the acknowledgement could not be delivered: 554")


def test_an_escalation_of_an_original_too_large_to_attach_says_so(tmp_path, dovecot, smtp_server, make_message):
    settings = liaison_settings(tmp_path, dovecot, smtp_server, ACCOUNTS)
    dovecot.append(make_message(sender="Tom Hill <tom.hill@brewco.com>", subject="Artwork files",
                                body="Please change the headline on the attached artwork to 'Fresh daily'.",
                                attachments=[("artwork.psd", b"\x00" * 11_000_000)]))
    Daemon(settings, Store(settings.db_path)).run_once()
    (escalation,) = [m for m in smtp_server.parsed() if m["Auto-Submitted"] == "auto-generated"]
    text = escalation.get_body(("plain",)).get_content()
    assert "is too large to mail on: only its headers are attached" in text
    assert "the original is attached" not in text
    assert [p.get_filename() for p in escalation.iter_attachments()] == ["original-headers.txt"]


def test_two_rules_escalating_to_one_person_send_one_mail(tmp_path, dovecot, smtp_server):
    """Blind round 22: a catch-all rule escalating to the account manager above the shipped rules sent the manager
    the same escalation twice (and the suspicious one twice to the lead)."""
    from tests.servers import quiet_rules

    everything = ("rules:\n  - name: everything\n    description: Tell the manager of all mail.\n"
                  "    then:\n      - escalate: account_manager\n\n")
    (tmp_path / "edited").mkdir()  # liaison_settings writes its own rules.yaml in tmp_path
    rules_path = quiet_rules(tmp_path / "edited", Path(__file__).parent.parent / "rules.yaml",
                             **{"rules:\n": everything})
    settings = liaison_settings(tmp_path, dovecot, smtp_server, ACCOUNTS, rules_path=rules_path)
    dovecot.append(b"From: Tom Hill <tom@brewco.com>\r\nTo: accounts@agency.example\r\nSubject: Invoice 4471\r\n"
                   b"Date: Mon, 30 Nov 2026 10:00:00 +0000\r\nMessage-ID: <twice@brewco.com>\r\n\r\n"
                   b"Invoice 4471 charges 12,000 EUR but the quote was 10,000 EUR. Please send a corrected one.\r\n")
    run_once(settings)
    escalations = [m for m in smtp_server.parsed() if m["Auto-Submitted"] == "auto-generated"]
    to_anna = [m for m in escalations if "anna@agency.example" in str(m["To"])]
    assert len(to_anna) == 1, [str(m["To"]) for m in escalations]
    store = Store(settings.db_path)
    route = store.one("SELECT route FROM messages")["route"]
    store.close()
    assert "already told by an earlier rule" in route


def test_every_sentence_of_an_escalation_starts_with_a_capital():
    """Blind round 25i: a suspicious sender's escalation, which leaves out "Reply to this email to answer the
    client;", ended on a sentence in lower case: "the original is attached."."""
    from responders.template_check import message_contexts
    from responders.templates import TemplateLibrary

    for context in message_contexts():
        text, html = TemplateLibrary().render("escalate", "en", context)
        last = [line for line in text.splitlines() if "original" in line and "attached" in line][-1]
        assert last[0].isupper(), last
        assert "<p style=\"color:#666;font-size:12px;\">the" not in html
