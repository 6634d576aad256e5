"""Replies that never embarrass the agency: loops, caps, bounces, languages, template failures, actions."""

from __future__ import annotations

import email
import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email.policy import default
from pathlib import Path

import pytest

from foundation.rules import Limits, Window, load_rules
from foundation.settings import Settings
from foundation.store import Store
from inbox.cli import main
from inbox.daemon import Daemon, load_checked_rules
from responders import summary
from responders.templates import TemplateLibrary
from tests.servers import UNCAPPED_DOMAINS, liaison_settings

ROOT = Path(__file__).parent.parent
ACCOUNTS = ("account_id,name,code,domains,contacts,account_manager\n"
            "brewco,BrewCo,BREW,brewco.com,,anna@agency.example\n"
            "verde,Verde,VRD,verde.fr,,ines@agency.example\n")


@pytest.fixture
def settings(tmp_path, dovecot, smtp_server):
    return liaison_settings(tmp_path, dovecot, smtp_server, ACCOUNTS)


def run_once(settings: Settings) -> Store:
    store = Store(settings.db_path)
    Daemon(settings, store).run_once()
    return store


def acks(smtp_server) -> list:
    return [m for m in smtp_server.parsed() if m["Auto-Submitted"] == "auto-replied"]


def edit_rules(settings: Settings, old: str, new: str) -> None:
    path = Path(settings.rules_path)
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


@pytest.mark.parametrize("style", ["polite", "naive"])
def test_an_auto_responder_answering_our_acknowledgement_starts_no_loop(settings, dovecot, smtp_server,
                                                                         make_message, style):
    dovecot.append(make_message(sender="Tom <tom@brewco.com>", subject="Banner", body="Please change the banner."))
    for _ in range(4):
        run_once(settings)
        for reply in acks(smtp_server):
            # Tom's mail client answers everything it receives, the way real auto-responders do:
            # a polite one says so in its headers, a naive one only in its text.
            headers = {"Auto-Submitted": "auto-replied"} if style == "polite" else {}
            dovecot.append(make_message(
                sender="Tom <tom@brewco.com>", subject=f"Automatic reply: {reply['Subject']}",
                in_reply_to=reply["Message-ID"], headers=headers,
                body="Thank you for your email. I am out of the office until Monday and will reply on my return."))
    assert len(acks(smtp_server)) == 1


def test_per_sender_cap(settings, dovecot, smtp_server, make_message):
    edit_rules(settings, "    - {count: 3, minutes: 10}", "    - {count: 2, minutes: 10}")
    for n in range(4):
        dovecot.append(make_message(sender="Tom <tom@brewco.com>", subject=f"Banner {n}",
                                    body="Please change the banner headline."))
    store = run_once(settings)
    assert len(acks(smtp_server)) == 2
    refused = store.all("SELECT route FROM messages WHERE route LIKE '%rate limit%'")
    assert len(refused) == 2


def test_per_domain_cap(settings, dovecot, smtp_server, make_message):
    """Forged addresses in one client's domain get a few receipts, not one each; every message is still
    recorded, routed and escalated, and the withheld receipt's reason is in the route and the summary."""
    edit_rules(settings, UNCAPPED_DOMAINS, "\n")  # the default cap, which the shipped rules.yaml spells out
    assert load_rules(ROOT / "rules.yaml").spec.limits.per_domain == Limits().per_domain == [Window(count=5,
                                                                                                 minutes=60)]
    dovecot.append_many([make_message(sender=f"Client {n} <client{n}@brewco.com>", subject=f"Banner {n}",
                                      body="Please change the headline on the banner to 'Fresh daily'.")
                         for n in range(8)])
    dovecot.append(make_message(sender="Ines <ines@verde.fr>", subject="Banner",
                                body="Please change the headline on the banner to 'Fresh daily'."))
    store = run_once(settings)
    assert sorted(m["To"] for m in acks(smtp_server)) == [f"client{n}@brewco.com" for n in range(5)] + [
        "ines@verde.fr"], "five to brewco.com, and another domain is not held back by it"
    reason = "domain rate limit: 5 acknowledgements to BrewCo (brewco.com) in 60 minutes"
    messages = store.all("SELECT id, status, route FROM messages ORDER BY id")
    assert [m["status"] for m in messages] == ["processed"] * 9
    withheld = [m["id"] for m in messages if f"no acknowledgement: {reason}" in m["route"]]
    assert len(withheld) == 3
    escalated = [m for m in smtp_server.parsed() if m["Auto-Submitted"] != "auto-replied"]
    assert len(escalated) == len([m for m in messages if "escalate: " in m["route"]]) == 9
    rules = load_checked_rules(settings.rules_path)
    built = summary.build(store, rules, "lead@agency.example", datetime.now(UTC).date(), team=True,
                          until=datetime.now(UTC) + timedelta(minutes=1))
    text, _ = summary.render(built, TemplateLibrary(rules.template_dir))
    assert text.count(f"not acknowledged ({reason})") == 3, text


ACME = ("account_id,name,code,domains,contacts,account_manager\n"
        "acme,Acme Foods,ACME,acme-foods.com;acme.co.uk,jane.doe@acme-foods.com,anna@agency.example\n")
REQUEST = "Please change the headline on the banner to 'Fresh daily'."


def test_a_forged_flood_does_not_take_a_listed_contacts_receipt(tmp_path, dovecot, smtp_server, make_message):
    """The domain cap is against forged senders: the account's listed contact still gets a receipt after it."""
    settings = liaison_settings(tmp_path, dovecot, smtp_server, ACME)
    edit_rules(settings, UNCAPPED_DOMAINS, "\n")
    dovecot.append_many([make_message(sender=f"x{n}@acme-foods.com", subject=f"Banner {n}", body=REQUEST)
                         for n in range(8)])
    dovecot.append(make_message(sender="Jane Doe <jane.doe@acme-foods.com>", subject="Banner", body=REQUEST))
    store = run_once(settings)
    assert sorted(m["To"] for m in acks(smtp_server)) == sorted(
        [f"x{n}@acme-foods.com" for n in range(5)] + ["jane.doe@acme-foods.com"])
    jane = store.one("SELECT route FROM messages WHERE from_addr = 'jane.doe@acme-foods.com'")
    assert jane and "rate limit" not in jane["route"]


def test_the_domain_cap_counts_an_account_and_a_registrable_domain_whole(tmp_path, dovecot, smtp_server,
                                                                        make_message):
    """Subdomains and an account's second domain share the account's cap; an unlinked sender's subdomains
    share its registrable domain's (the last two labels, three under co.uk and the like)."""
    settings = liaison_settings(tmp_path, dovecot, smtp_server, ACME)
    edit_rules(settings, UNCAPPED_DOMAINS, "\n")
    edit_rules(settings, "    when: {linked: false}\n    then:\n      - review: unknown sender\n      - stop",
               "    when: {linked: false}\n    then: [{acknowledge: ack_revision_request}, stop]")
    senders = ([f"x{n}@acme-foods.com" for n in range(3)] + [f"x{n}@s{n}.acme-foods.com" for n in range(3)]
               + [f"y{n}@acme.co.uk" for n in range(2)]
               + [f"z{n}@Z{n}.Other-Corp.co.uk" for n in range(7)] + ["w@third.co.uk"])
    dovecot.append_many([make_message(sender=sender, subject=f"Banner {n}", body=REQUEST)
                         for n, sender in enumerate(senders)])
    store = run_once(settings)
    sent = [m["To"].lower() for m in acks(smtp_server)]
    assert len([a for a in sent if "acme" in a]) == 5, sent
    assert len([a for a in sent if "other-corp.co.uk" in a]) == 5, sent
    assert "w@third.co.uk" in sent, "another domain under co.uk is not held back by it"
    reasons = [r["route"] for r in store.all("SELECT route FROM messages WHERE route LIKE '%domain rate limit%'")]
    assert sum("to Acme Foods (acme-foods.com, acme.co.uk)" in r for r in reasons) == 3
    assert sum("to other-corp.co.uk in 60 minutes" in r for r in reasons) == 2


def test_classify_and_rules_test_show_the_caps_the_daemon_applies(settings, dovecot, smtp_server, make_message,
                                                                    monkeypatch, capsys):
    """Run beside the service's database, `classify` and `rules test` count what it already sent, and withhold
    the receipt the daemon would; without a database they say that rate limits were not checked."""
    edit_rules(settings, UNCAPPED_DOMAINS, "\n")
    dovecot.append_many([make_message(sender=f"Client {n} <client{n}@brewco.com>", subject=f"Banner {n}",
                                      body=REQUEST) for n in range(5)])
    run_once(settings).close()
    assert len(acks(smtp_server)) == 5
    mail = settings.db_path.parent / "next.eml"
    # saved an hour before the daemon's sends (blind round 20: judged by its Date header, it slipped under the
    # caps); the daemon would judge it arriving now
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    mail.write_bytes(make_message(sender="Client 9 <client9@brewco.com>", subject="Banner 9", body=REQUEST,
                                  date=an_hour_ago))
    monkeypatch.setenv("LIAISON_RULES", str(settings.rules_path))
    monkeypatch.setenv("LIAISON_ADDRESS", settings.address)
    reason = "no acknowledgement: domain rate limit: 5 acknowledgements to BrewCo (brewco.com) in 60 minutes"
    monkeypatch.setenv("LIAISON_DB", str(settings.db_path))
    assert main(["classify", "--json", str(mail)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert reason in report["actions"] and report["rate_limits"] == "checked against the service's database"
    assert main(["rules", "test", str(mail)]) == 0
    shown = capsys.readouterr().out
    assert reason in shown and "would send (acknowledge)" not in shown, shown
    assert "would send (escalate)" in shown, "the message is still escalated"
    monkeypatch.setenv("LIAISON_DB", str(settings.db_path.parent / "none.db"))
    for command in (["classify", str(mail)], ["rules", "test", str(mail)]):
        assert main(command) == 0
        out, err = capsys.readouterr()
        assert "rate limits NOT checked (no database" in out and "rate limit:" not in out, out
    assert len(acks(smtp_server)) == 5, "nothing sent by either"


def test_classify_and_rules_test_withhold_a_reply_in_a_thread_already_acknowledged(settings, dovecot, smtp_server,
                                                                                    make_message, monkeypatch, capsys):
    """Beside the service's database they know its threads: a client's reply in a thread the daemon already
    acknowledged joins that thread and gets no second acknowledgement, as the daemon would do."""
    dovecot.append(make_message(sender="Tom <tom@brewco.com>", subject="Banner", message_id="<t1@brewco.com>",
                                body=REQUEST))
    run_once(settings).close()
    assert len(acks(smtp_server)) == 1
    mail = settings.db_path.parent / "reply.eml"
    mail.write_bytes(make_message(sender="Tom <tom@brewco.com>", subject="Re: Banner", message_id="<t2@brewco.com>",
                                  in_reply_to="<t1@brewco.com>", body="Also make the logo bigger, please."))
    for name, value in (("LIAISON_RULES", str(settings.rules_path)), ("LIAISON_ADDRESS", settings.address),
                        ("LIAISON_DB", str(settings.db_path))):
        monkeypatch.setenv(name, value)
    assert main(["classify", "--json", str(mail)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert "no acknowledgement: thread already acknowledged" in report["actions"], report["actions"]
    assert main(["rules", "test", str(mail)]) == 0
    shown = capsys.readouterr().out
    assert "thread already acknowledged" in shown and "would send (acknowledge)" not in shown, shown
    dovecot.append(mail.read_bytes())
    run_once(settings).close()
    assert len(acks(smtp_server)) == 1, "the daemon withholds it too"


def test_classify_of_several_files_says_when_earlier_ones_count_and_alone_judges_each_on_its_own(
        settings, dovecot, smtp_server, make_message, monkeypatch, capsys):
    """Blind round 19: classify of a folder of files withheld later receipts for the earlier files' sake, and
    said nothing of it. It still judges them as arrivals one after another (a reply joins its thread), says so
    where it matters, and `--alone` judges each file as if it were the only one."""
    first = settings.db_path.parent / "1.eml"
    first.write_bytes(make_message(sender="Tom <tom@brewco.com>", subject="Banner", message_id="<c1@brewco.com>",
                                   body=REQUEST))
    reply = settings.db_path.parent / "2.eml"
    reply.write_bytes(make_message(sender="Tom <tom@brewco.com>", subject="Re: Banner",
                                   message_id="<c2@brewco.com>", in_reply_to="<c1@brewco.com>", body=REQUEST))
    for name, value in (("LIAISON_RULES", str(settings.rules_path)), ("LIAISON_ADDRESS", settings.address),
                        ("LIAISON_DB", str(settings.db_path))):
        monkeypatch.setenv(name, value)
    assert main(["classify", str(first), str(reply)]) == 0
    shown = capsys.readouterr().out.split(str(reply))[1]
    assert "thread already acknowledged" in shown
    assert "earlier messages of this run count against the limits and threads as if their acknowledgements (1 in " \
           "all) had been sent" in shown, shown
    assert main(["classify", "--json", "--alone", str(first), str(reply)]) == 0
    reports = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["acknowledged"] for r in reports] == [True, True], [r["actions"] for r in reports]
    assert reports[1]["earlier_acknowledgements_counted"] == 0
    assert acks(smtp_server) == [], "nothing sent"


@pytest.mark.parametrize("signed, shown", [("Ines de la Cruz", "Ines de la Cruz"),
                                           ("Ines -- call me on 555 0100", "Ines Delacruz"),
                                           ("ines de la cruz", "Ines Delacruz"),
                                           ("Ines de la Cruz|Ines -- call me on 555 0100", "Ines de la Cruz"),
                                           ("Ines de la Cruz|Ine Sdelacruz", "Ines de la Cruz")])
def test_acknowledgements_name_the_account_manager_as_they_sign_their_own_mail(tmp_path, dovecot, smtp_server,
                                                                                make_message, signed, shown):
    """'Ines de la Cruz', not 'Ines Delacruz' read from ines.delacruz@: the display name of their own mail to
    the inbox, when it is their address's name written as a person writes it; nothing else they typed."""
    accounts = ACCOUNTS.replace("ines@agency.example", "ines.delacruz@agency.example")
    settings = liaison_settings(tmp_path, dovecot, smtp_server, accounts)
    for n, name in enumerate(signed.split("|")):  # a later signature not of that shape keeps the one before
        dovecot.append(make_message(sender=f"{name} <ines.delacruz@agency.example>", subject=f"Re: Verde {n}",
                                    body="I'll call them tomorrow."))
    run_once(settings).close()
    request = make_message(sender="Marie <marie@verde.fr>", subject="Where are we?",
                           body="Any news on the brochure? When will we see the next draft?")
    (tmp_path / "request.eml").write_bytes(request)
    previewed = subprocess.run([sys.executable, "-m", "inbox.cli", "rules", "test", str(tmp_path / "request.eml")],
                               capture_output=True, text=True, timeout=120, cwd=tmp_path,
                               env={**os.environ, "PYTHONPATH": str(ROOT), "LIAISON_DB": str(settings.db_path),
                                    "LIAISON_RULES": str(settings.rules_path), "LIAISON_ADDRESS": settings.address})
    dovecot.append(request)
    run_once(settings).close()
    text = acks(smtp_server)[-1].get_body(preferencelist=("plain",)).get_content()
    assert shown in text and "555" not in text, text
    assert shown in previewed.stdout, "rules test shows the name the daemon sends"


def test_classify_and_rules_test_say_when_the_service_has_the_message_already(settings, dovecot, smtp_server,
                                                                               make_message, monkeypatch, capsys):
    """They judge every message as new; the daemon skips bytes it processed and doubts a reused Message-ID."""
    first = make_message(sender="Tom <tom@brewco.com>", subject="Banner", message_id="<k1@brewco.com>", body=REQUEST)
    dovecot.append(first)
    run_once(settings).close()
    folder = settings.db_path.parent
    (folder / "same.eml").write_bytes(first)
    (folder / "reused.eml").write_bytes(make_message(sender="Tom <tom@brewco.com>", subject="Banner",
                                                     message_id="<k1@brewco.com>", body="Pay to the new account."))
    for name, value in (("LIAISON_RULES", str(settings.rules_path)), ("LIAISON_ADDRESS", settings.address),
                        ("LIAISON_DB", str(settings.db_path))):
        monkeypatch.setenv(name, value)
    for command in ("classify", "rules test"):
        assert main([*command.split(), str(folder / "same.eml")]) == 0
        out = capsys.readouterr().out
        assert "already processed this message as message #1" in out and "counted as a chaser of itself" in out
        assert main([*command.split(), str(folder / "reused.eml")]) == 0
        assert "message #1 from tom@brewco.com already used the Message-ID" in capsys.readouterr().out
    assert main(["classify", "--json", str(folder / "same.eml")]) == 0
    assert "already processed" in json.loads(capsys.readouterr().out)["seen_by_service"]


def test_bytes_in_no_charset_are_never_guessed_for_the_client_but_recovered_for_staff(settings, dovecot, smtp_server):
    """8-bit header bytes that are not UTF-8, and a body with no charset label, in Windows-1252: 0x80 is "€" there
    and a control character in Latin-1. The client is never sent a guessed character; staff read the guess."""
    dovecot.append(b"From: J\xf6rg Hill <joerg.hill@brewco.com>\r\nTo: accounts@agency.example\r\n"
                   b"Subject: Invoice 4471 \x80 wrong\r\nMessage-ID: <charset@brewco.com>\r\n"
                   b"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n"
                   b"Content-Transfer-Encoding: 8bit\r\n\r\nInvoice 4471 charges 12,000 EUR but the quote was "
                   b"10,000 EUR. Please send a corrected invoice for the Caf\xe9 M\xfcller banner.\r\n")
    run_once(settings)
    (ack,) = acks(smtp_server)
    assert ack["Subject"] == "Re: Invoice 4471 \ufffd wrong"
    ack_text = ack.get_body(("plain",)).get_content() + ack.get_body(("html",)).get_content()
    assert "€" not in ack_text and "J\ufffdrg" not in ack_text and "Jörg" not in ack_text
    assert ack_text.startswith("Hi Joerg,"), "greeted by the address, not by a name we could not read"
    (escalation,) = [m for m in smtp_server.parsed() if m["Auto-Submitted"] == "auto-generated"]
    assert "Invoice 4471 € wrong" in escalation["Subject"]
    staff_text = escalation.get_body(("plain",)).get_content()
    assert "Jörg Hill" in staff_text and "Café Müller banner" in staff_text and "\ufffd" not in staff_text


def report(kind: str, recipient: str, quoting: str) -> bytes:
    """A multipart/report naming a Final-Recipient and quoting a Message-ID, as MTAs and mail clients write them."""
    return (f"From: MAILER-DAEMON@mx.brewco.com\r\nTo: accounts@agency.example\r\nSubject: Report\r\n"
            f"Message-ID: <r-{abs(hash((kind, quoting)))}@mx.brewco.com>\r\nContent-Type: multipart/report; "
            f"report-type={kind}; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nreport\r\n--B\r\n"
            f"Content-Type: message/{kind}\r\n\r\nFinal-Recipient: rfc822; {recipient}\r\nAction: failed\r\n"
            f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {quoting}\r\n--B--\r\n").encode()


def tom_writes(dovecot, make_message, subject: str) -> None:
    dovecot.append(make_message(sender="Tom <tom@brewco.com>", subject=subject, body="Please change the banner."))


def test_an_address_that_bounced_our_mail_gets_no_automatic_mail(settings, dovecot, smtp_server, make_message):
    tom_writes(dovecot, make_message, "Banner")
    run_once(settings)
    (ack,) = acks(smtp_server)
    dovecot.append(report("delivery-status", "tom@brewco.com", ack["Message-ID"]))
    run_once(settings)
    tom_writes(dovecot, make_message, "Poster")
    store = run_once(settings)
    assert len(acks(smtp_server)) == 1
    assert store.one("SELECT 1 FROM messages WHERE route LIKE '%bounced our mail%'")


@pytest.mark.parametrize("kind, quoting, recipient", [
    ("disposition-notification", "ours", "tom@brewco.com"),  # a read receipt of our acknowledgement is not a bounce
    ("delivery-status", "<x@elsewhere.example>", "tom@brewco.com"),  # a forged bounce of mail we never sent
    # blind round 27: our receipt to Tom quoted, another contact named: it silenced her for a week
    ("delivery-status", "ours", "sara@brewco.com"),
])
def test_read_receipts_and_forged_bounces_silence_nobody(settings, dovecot, smtp_server, make_message, kind,
                                                        quoting, recipient):
    tom_writes(dovecot, make_message, "Banner")
    run_once(settings)
    (ack,) = acks(smtp_server)
    dovecot.append(report(kind, recipient, ack["Message-ID"] if quoting == "ours" else quoting))
    run_once(settings)
    tom_writes(dovecot, make_message, "Poster")
    store = run_once(settings)
    assert len(acks(smtp_server)) == 2
    assert store.one("SELECT COUNT(*) AS n FROM events WHERE kind = 'bounce'")["n"] == 0


def test_account_language_and_formal_tone(settings, dovecot, smtp_server, make_message):
    edit_rules(settings, "accounts: {}", "accounts:\n  verde:\n    language: fr\n    tone: formal")
    dovecot.append(make_message(sender="Claire Martin <claire@verde.fr>", subject="Brochure",
                                body="Pourriez-vous changer la couleur du titre ?"))
    run_once(settings)
    (ack,) = acks(smtp_server)
    text = ack.get_body(preferencelist=("plain",)).get_content()
    assert text.startswith("Bonjour Claire Martin,")  # formal, by name (blind round 24)
    assert "sous un jour ouvré" in text
    html = ack.get_body(preferencelist=("html",)).get_content()
    assert 'lang="fr"' in html


def test_template_error_sends_nothing_and_is_recorded(settings, dovecot, smtp_server, make_message, tmp_path):
    templates = tmp_path / "my-templates" / "en"
    templates.mkdir(parents=True)
    # passes the check, which renders a sample message; fails on this one (a template edited on disk after the
    # rules were loaded is not read at send time: see test_bad_rules_and_templates)
    (templates / "ack_revision_request.txt").write_text(
        'Hi {{ client_first_name }}{% if subject == "Banner" %}, {{ no_such_thing.attr }}{% endif %}')
    (templates / "ack_revision_request.html").write_text("<p>Hi</p>")
    edit_rules(settings, "# templates: my-templates", "templates: my-templates")
    rules = Path(settings.rules_path)  # the category's own template, whatever the shipped threshold
    rules.write_text(re.sub(r"(\n    specific_at_least: )[0-9.]+", r"\g<1>0.4", rules.read_text(), count=1))
    store = Store(settings.db_path)
    daemon = Daemon(settings, store)
    dovecot.append(make_message(sender="Tom <tom@brewco.com>", subject="Banner", body="Please change the banner."))
    daemon.run_once()
    assert acks(smtp_server) == []
    event = store.one("SELECT detail FROM events WHERE kind = 'action_failed'")
    assert "ack_revision_request" in event["detail"]
    assert len(smtp_server.messages) == 1  # the escalation still goes to the account manager


def test_keyword_and_move_actions_on_the_original(settings, dovecot, smtp_server, make_message):
    edit_rules(settings, "  - name: billing\n    when: {category: billing_issue}\n    then:\n",
               "  - name: billing\n    when: {category: billing_issue}\n    then:\n      - keyword: Billing\n"
               "      - move: Clients/Billing\n")
    dovecot.append(make_message(sender="Tom <tom@brewco.com>", subject="Invoice INV-4471",
                                body="We were invoiced twice for INV-4471."))
    run_once(settings)
    with dovecot.client() as client:
        client.select_folder("Clients.Billing", readonly=True)  # Dovecot separates levels with "."
        (uid,) = client.search(["ALL"])
        assert b"Billing" in client.get_flags([uid])[uid]
        assert b"\\Seen" not in client.get_flags([uid])[uid]
    assert dovecot.uids() == []


def test_acknowledgement_keeps_outlook_threading(settings, dovecot, smtp_server, make_message):
    dovecot.append(make_message(sender="Tom <tom@brewco.com>", subject="Banner", body="Please change the banner.",
                                headers={"Thread-Topic": "Banner", "Thread-Index": "AQHZ1234567890=="}))
    run_once(settings)
    (ack,) = acks(smtp_server)
    assert ack["Thread-Topic"] == "Banner" and ack["Thread-Index"] == "AQHZ1234567890=="
    assert ack["X-Auto-Response-Suppress"] == "All"
    raw = smtp_server.messages[0][2]
    assert email.message_from_bytes(raw, policy=default)["X-Liaison-Loop"] == "accounts@agency.example"
