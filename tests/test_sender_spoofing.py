"""Addresses come from the raw header: an encoded display name never becomes the sender (issue 12, item 6)."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta

import pytest

from classifiers.linking import Account, AccountIndex, link_message
from foundation.message import parse_message
from foundation.store import Store
from inbox.daemon import Daemon, load_checked_rules
from responders import summary
from responders.templates import TemplateLibrary
from tests.servers import liaison_settings

ACCOUNTS = ("account_id,name,code,domains,contacts,account_manager\n"
            "brewco,BrewCo,BREW,brewco.com,tom.hill@brewco.com,anna.berg@agency.example\n")
BODY = (b"Subject: Invoice 4471 amount wrong\r\nTo: accounts@agency.example\r\n"
        b"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\n"
        b"Invoice 4471 charges 12,000 EUR but the quote was 10,000 EUR. Please send a corrected invoice.\r\n")
SPOOFS = {
    "encoded address as the name": b"From: =?utf-8?q?tom.hill=40brewco.com?= <attacker@evil.example>\r\n",
    "encoded name and angle address": b"From: =?utf-8?q?Tom_Hill_=3Ctom.hill=40brewco.com=3E?= "
                                      b"<attacker@evil.example>\r\n",
    "encoded comma splits the list": b"From: =?utf-8?q?tom.hill=40brewco.com=2C?= <attacker@evil.example>\r\n",
    "CRLF inside an encoded name": b"From: =?utf-8?q?Tom_Hill=0D=0AFrom=3A_tom.hill=40brewco.com?= "
                                   b"<attacker@evil.example>\r\n",
    "folded, encoded, base64": b"From: =?utf-8?b?dG9tLmhpbGxAYnJld2NvLmNvbQ==?=\r\n <attacker@evil.example>\r\n",
}


@pytest.mark.parametrize("name", list(SPOOFS))
def test_the_sender_is_the_real_address_and_the_name_is_flagged(name):
    parsed = parse_message(SPOOFS[name] + b"Message-ID: <s@evil.example>\r\n" + BODY)
    assert parsed.from_addr == "attacker@evil.example"
    assert "\n" not in parsed.from_name and "\r" not in parsed.from_name
    index = AccountIndex.build([Account("brewco", "BrewCo", "BREW", ("brewco.com",), ("tom.hill@brewco.com",),
                                        "anna.berg@agency.example")])
    link = link_message(index, sender=parsed.from_addr, display_name=parsed.from_name, subject=parsed.subject,
                        thread_of=lambda: [], is_staff=False)
    assert link.account_id is None and link.suspicious and "tom.hill@brewco.com" in link.suspicious


def test_encoded_recipients_are_parsed_before_decoding():
    parsed = parse_message(b"From: Tom Hill <tom.hill@brewco.com>\r\n"
                           b"To: =?utf-8?q?boss=40agency.example=2C_x?= <accounts@agency.example>\r\n"
                           b"Cc: =?utf-8?q?a=40b.example?= <c@d.example>,\r\n e@f.example\r\n"
                           b"Message-ID: <r@brewco.com>\r\n" + BODY.split(b"\r\n", 2)[2])
    assert parsed.to == ["accounts@agency.example"]
    assert parsed.cc == ["c@d.example", "e@f.example"]


def test_an_encoded_display_name_is_still_decoded_for_people():
    parsed = parse_message(b"From: =?utf-8?b?SsO2cmc=?= Berg <Joerg@Brewco.com>\r\nMessage-ID: <n@brewco.com>\r\n"
                           + BODY)
    assert (parsed.from_name, parsed.from_addr) == ("Jörg Berg", "joerg@brewco.com")


def test_a_name_showing_the_senders_own_address_is_not_flagged():
    index = AccountIndex.build([Account("brewco", "BrewCo", "BREW", ("brewco.com",), (), "anna@agency.example")])
    link = link_message(index, sender="tom.hill@brewco.com", display_name="Tom.Hill@brewco.com",
                        subject="x", thread_of=lambda: [], is_staff=False)
    assert (link.account_id, link.suspicious) == ("brewco", None)


@pytest.mark.parametrize("name", ["encoded address as the name", "CRLF inside an encoded name"])
def test_a_spoofed_contact_is_not_linked_not_acknowledged_and_escalated_with_a_warning(
        tmp_path, dovecot, smtp_server, name):
    settings = liaison_settings(tmp_path, dovecot, smtp_server, ACCOUNTS)
    dovecot.append(SPOOFS[name] + b"Message-ID: <spoof@evil.example>\r\n" + BODY)
    store = Store(settings.db_path)
    Daemon(settings, store).run_once()
    row = store.one("SELECT from_addr, account_id, link_reason, suspicious FROM messages")
    store.close()
    assert row["from_addr"] == "attacker@evil.example"
    assert row["account_id"] is None and row["link_reason"] != "contact"
    assert row["suspicious"] and "tom.hill@brewco.com" in row["suspicious"]
    sent = smtp_server.parsed()
    assert not [m for m in sent if m["Auto-Submitted"] == "auto-replied"], "the impostor is never answered"
    assert not [m for m in sent if "tom.hill@brewco.com" in str(m["To"]) or "attacker" in str(m["To"])]
    escalations = [m for m in sent if m["Auto-Submitted"] == "auto-generated"]
    assert escalations, "a human is told"
    assert "finance@agency.example" not in " ".join(str(m["To"]) for m in escalations)
    warning = escalations[0].get_body(("plain",)).get_content()
    assert "attacker@evil.example" in warning and "tom.hill@brewco.com" in warning
    assert all(m["Reply-To"] is None for m in escalations), "Reply would answer the impostor"


def test_a_name_showing_any_other_address_is_flagged():
    index = AccountIndex.build([Account("brewco", "BrewCo", "BREW", ("brewco.com",), (), "anna@agency.example")])
    link = link_message(index, sender="billing@evil.example", display_name="accounts@brewco.com",
                        subject="x", thread_of=lambda: [], is_staff=False)
    assert link.account_id is None and "accounts@brewco.com" in (link.suspicious or "")


@pytest.mark.parametrize("header", [b'From: "tom.hill@brewco.com"@evil.example\r\n',
                                    b'From: Tom Hill <"tom.hill@brewco.com"@evil.example>\r\n',
                                    b'From: "tom.hill@brewco.com "@evil.example\r\n'])
def test_an_address_shown_in_a_quoted_local_part_is_flagged(header):
    """What a reader sees first is the client's address; the real domain follows the closing quote."""
    parsed = parse_message(header + b"Message-ID: <q@evil.example>\r\n" + BODY)
    index = AccountIndex.build([Account("brewco", "BrewCo", "BREW", ("brewco.com",), ("tom.hill@brewco.com",),
                                        "anna.berg@agency.example")])
    link = link_message(index, sender=parsed.from_addr, display_name=parsed.from_name, subject=parsed.subject,
                        thread_of=lambda: [], is_staff=False)
    assert link.account_id is None and "shows tom.hill@brewco.com" in (link.suspicious or "")


def test_a_quoted_local_part_of_the_senders_own_side_is_no_impostor():
    index = AccountIndex.build([Account("brewco", "BrewCo", "BREW", ("brewco.com",), (), "anna@agency.example")])
    link = link_message(index, sender='"tom hill"@brewco.com', display_name="", subject="x",
                        thread_of=lambda: [], is_staff=False)
    assert link.account_id == "brewco" and not link.suspicious


@pytest.mark.parametrize("padding", [3000, 70_000])
def test_a_long_display_name_never_hides_the_real_address(padding):
    raw = (b'From: "Tom Hill tom.hill@brewco.com ' + b"x" * padding + b'" <attacker@evil.example>\r\n'
           b"Message-ID: <long@evil.example>\r\n" + BODY)
    parsed = parse_message(raw)
    assert parsed.from_addr in ("attacker@evil.example", ""), parsed.from_addr[:80]
    if parsed.from_addr:
        assert "tom.hill@brewco.com" in parsed.from_name


AMBIGUOUS_FROM = {
    "a group": b"From: tom.hill@brewco.com: attacker@evil.example;\r\n",
    "a group of the client's own address": b"From: Tom: tom.hill@brewco.com;\r\n",  # blind round 20: answered
    "a bare address before the real one": b"From: tom.hill@brewco.com <attacker@evil.example>\r\n",
    "an empty address": b"From: tom.hill@brewco.com <>\r\n",
    "two mailboxes": b"From: tom.hill@brewco.com, attacker@evil.example\r\n",
    "two From headers": b"From: tom.hill@brewco.com\r\nFrom: attacker@evil.example\r\n",
    "a single-quoted address before the real one": b"From: 'tom.hill@brewco.com' <attacker@evil.example>\r\n",
}


@pytest.mark.parametrize("name", list(AMBIGUOUS_FROM))
def test_a_from_header_that_names_no_one_sender_plainly_is_never_answered(tmp_path, dovecot, smtp_server, name):
    settings = liaison_settings(tmp_path, dovecot, smtp_server, ACCOUNTS)
    dovecot.append(AMBIGUOUS_FROM[name] + b"Message-ID: <ambiguous@evil.example>\r\n" + BODY)
    store = Store(settings.db_path)
    Daemon(settings, store).run_once()
    row = store.one("SELECT suspicious, account_id, link_reason FROM messages")
    store.close()
    assert row["suspicious"], name
    # ...nor linked by an address it is not plainly from (tom.hill@brewco.com is a listed contact)
    assert row["account_id"] is None and row["link_reason"] == "unlinked", dict(row)
    sent = smtp_server.parsed()
    assert not [m for m in sent if m["Auto-Submitted"] == "auto-replied"]
    assert [m for m in sent if m["Auto-Submitted"] == "auto-generated"], "a human is told"


OWN_ADDRESS_AS_NAME = {
    "bare": b"From: tom.hill@brewco.com <tom.hill@brewco.com>\r\n",
    "in single quotes": b"From: 'tom.hill@brewco.com' <tom.hill@brewco.com>\r\n",
    "in another case": b"From: Tom.Hill@BrewCo.com <tom.hill@brewco.com>\r\n",
}


@pytest.mark.parametrize("name", list(OWN_ADDRESS_AS_NAME))
def test_a_display_name_that_is_the_senders_own_address_is_the_sender(tmp_path, dovecot, smtp_server, name):
    """What many mail programs write when they know no name: one sender, not two, and not an impostor."""
    settings = liaison_settings(tmp_path, dovecot, smtp_server, ACCOUNTS)
    dovecot.append(OWN_ADDRESS_AS_NAME[name] + b"Message-ID: <own@brewco.com>\r\n" + BODY)
    store = Store(settings.db_path)
    Daemon(settings, store).run_once()
    row = store.one("SELECT from_addr, account_id, link_reason, suspicious FROM messages")
    store.close()
    assert (row["from_addr"], row["account_id"], row["suspicious"]) == ("tom.hill@brewco.com", "brewco", None), row
    acks = [m for m in smtp_server.parsed() if m["Auto-Submitted"] == "auto-replied"]
    assert [str(m["To"]) for m in acks] == ["tom.hill@brewco.com"], "the client is answered, at their address"


@pytest.mark.parametrize(("header", "shown"), [
    (b"From: tom.hill@brewco.com\r\n", "from tom.hill@brewco.com"),
    (b"From: 'tom.hill@brewco.com' <tom.hill@brewco.com>\r\n", "from tom.hill@brewco.com"),
    (b"From: Tom Hill <tom.hill@brewco.com>\r\n", "from \"Tom Hill\" <tom.hill@brewco.com>"),
])
def test_the_escalation_names_a_sender_without_a_display_name_once(tmp_path, dovecot, smtp_server, header, shown):
    settings = liaison_settings(tmp_path, dovecot, smtp_server, ACCOUNTS)
    dovecot.append(header + b"Message-ID: <nameless@brewco.com>\r\n" + BODY)  # a billing issue: finance is told
    store = Store(settings.db_path)
    Daemon(settings, store).run_once()
    store.close()
    (escalation,) = [m for m in smtp_server.parsed() if m["Auto-Submitted"] == "auto-generated"]
    text = escalation.get_body(("plain",)).get_content()
    html = escalation.get_body(("html",)).get_content()
    assert shown in text, text
    assert "tom.hill@brewco.com <tom.hill@brewco.com>" not in text, text
    assert "tom.hill@brewco.com &lt;tom.hill@brewco.com&gt;" not in html, html


def test_a_second_message_under_a_used_message_id_is_kept_and_flagged_not_dropped(tmp_path, dovecot, smtp_server):
    settings = liaison_settings(tmp_path, dovecot, smtp_server, ACCOUNTS)
    first = (b"From: Tom Hill <tom.hill@brewco.com>\r\nTo: accounts@agency.example\r\nSubject: Logo\r\n"
             b"Message-ID: <reused@brewco.com>\r\nDate: Mon, 2 Mar 2026 10:00:00 +0000\r\n\r\n"
             b"Please make the logo bigger.\r\n")
    second = first.replace(b"Subject: Logo", b"Subject: INV-777 charged twice").replace(
        b"Please make the logo bigger.", b"INV-777 was charged twice: please send a credit note.")
    dovecot.append(first)
    dovecot.append(first.replace(b"Date: Mon", b"Received: by mx2\r\nDate: Mon"))  # a re-delivery: a duplicate
    dovecot.append(second)
    store = Store(settings.db_path)
    Daemon(settings, store).run_once()
    rows = store.all("SELECT subject, suspicious, status FROM messages ORDER BY id")
    store.close()
    assert [r["subject"] for r in rows] == ["Logo", "INV-777 charged twice"]
    assert rows[0]["suspicious"] is None
    assert "reuses the Message-ID of message #1" in rows[1]["suspicious"]


ENCODED_IN_ADDRESS = {
    "bare address": b"From: =?utf-8?q?jane=2Edoe?=@acme-foods.com\r\n",
    "in angle brackets": b"From: Jane Doe <=?utf-8?q?jane=2Edoe?=@acme-foods.com>\r\n",
    "behind an encoded name": b"From: =?utf-8?q?jane=2Edoe?= <=?utf-8?q?jane=2Edoe?=@acme-foods.com>\r\n",
}


@pytest.mark.parametrize("name", list(ENCODED_IN_ADDRESS))
def test_an_encoded_word_inside_an_address_is_echoed_literally_never_decoded(tmp_path, dovecot, smtp_server, name):
    """The address is the one parsed from the raw header; a mail client must not decode the encoded word in it
    into another address (jane.doe@acme-foods.com) where we echo it: the escalation's subject, the summary."""
    settings = liaison_settings(tmp_path, dovecot, smtp_server, ACCOUNTS)  # acme-foods.com is no account's
    dovecot.append(ENCODED_IN_ADDRESS[name] + b"Message-ID: <encoded@acme-foods.com>\r\n" + BODY)
    store = Store(settings.db_path)
    Daemon(settings, store).run_once()
    shown = '"=?utf-8?q?jane=2edoe?="@acme-foods.com (malformed address)'
    sent = smtp_server.parsed()
    assert not [m for m in sent if m["Auto-Submitted"] == "auto-replied"]
    (escalation,) = [m for m in sent if m["Auto-Submitted"] == "auto-generated"]
    assert "jane.doe@" not in escalation["Subject"] and shown in escalation["Subject"], escalation["Subject"]
    assert escalation["Reply-To"] is None, "no Reply-To a mail client would read as jane.doe@: staff reply by hand"
    rules = load_checked_rules(settings.rules_path)
    built = summary.build(store, rules, "lead@agency.example", datetime.now(UTC).date(), team=True,
                          until=datetime.now(UTC) + timedelta(minutes=1))
    text, html = summary.render(built, TemplateLibrary(rules.template_dir))
    assert shown in text and html.count("=?utf-8?q?jane=2edoe?=") >= 1 and "jane.doe@" not in text + html


def test_direction_overrides_never_reach_what_people_read():
    raw = (b"From: =?utf-8?q?Tom_=E2=80=AEllih?= <tom.hill@brewco.com>\r\n"
           b"Subject: =?utf-8?q?invoice_=E2=80=AEfdp.exe?=\r\n\r\nSee attached.\r\n")
    parsed = parse_message(raw)
    assert "\u202e" not in parsed.from_name and "\u202e" not in parsed.subject
    assert parsed.subject == "invoice fdp.exe"


def test_classify_judges_an_impostor_as_the_daemon_does(tmp_path, dovecot, smtp_server):
    # The daemon has learned that "Tom Hill" writes from tom.hill@brewco.com; `liaison classify` on the same
    # database must flag a "Tom Hill" from elsewhere too, not call it merely unlinked.
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    settings = liaison_settings(tmp_path, dovecot, smtp_server, ACCOUNTS)
    dovecot.append(b"From: Tom Hill <tom.hill@brewco.com>\r\nMessage-ID: <real@brewco.com>\r\n" + BODY)
    store = Store(settings.db_path)
    Daemon(settings, store).run_once()
    store.close()
    impostor = tmp_path / "impostor.eml"
    impostor.write_bytes(b"From: Tom Hill <tom.hill@evil.example>\r\nMessage-ID: <fake@evil.example>\r\n" + BODY)
    result = subprocess.run([sys.executable, "-m", "inbox.cli", "classify", "--json", str(impostor)],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent),
                                 "LIAISON_DB": str(settings.db_path), "LIAISON_RULES": str(settings.rules_path)})
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["suspicious"] and "tom.hill@brewco.com" in report["suspicious"]


LOOKALIKES = {
    "punycode homoglyph": ("Tom Hill <tom.hill@xn--brewc-3ve.com>", "Invoice 4471 amount wrong"),
    "raw homoglyph": ("Tom Hill <tom.hill@brewc\u043e.com>", "Invoice 4471 amount wrong"),
    "client domain as leading labels": ("tom.hill@brewco.com.evil.example", "Invoice 4471 amount wrong"),
    "agency typo": ("Anna Berg <anna.berg@agencyy.example>", "Invoice 4471 amount wrong"),
    "agency domain as leading labels": ("anna.berg@agency.example.evil.com", "Invoice 4471 amount wrong"),
    "staff name from free mail": ("Anna Berg <anna.berg.x@gmail.com>", "Urgent: change of bank details"),
}


@pytest.mark.parametrize("case", list(LOOKALIKES))
def test_lookalike_domains_and_staff_impostors_are_escalated_with_a_warning_never_answered(
        tmp_path, dovecot, smtp_server, case):
    sender, subject = LOOKALIKES[case]
    settings = liaison_settings(tmp_path, dovecot, smtp_server, ACCOUNTS)
    dovecot.append(f"From: {sender}\r\nSubject: {subject}\r\nTo: accounts@agency.example\r\n"
                   "Message-ID: <lookalike@evil.example>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
                   "Content-Type: text/plain; charset=utf-8\r\n\r\n"
                   "Invoice 4471 charges 12,000 EUR but the quote was 10,000 EUR. Please send it to our new "
                   "bank account.\r\n".encode())
    store = Store(settings.db_path)
    Daemon(settings, store).run_once()
    row = store.one("SELECT account_id, link_reason, suspicious FROM messages")
    store.close()
    assert row["account_id"] is None and row["link_reason"] == "unlinked" and row["suspicious"]
    sent = smtp_server.parsed()
    assert not [m for m in sent if m["Auto-Submitted"] == "auto-replied"], "the impostor is never answered"
    escalations = [m for m in sent if m["Auto-Submitted"] == "auto-generated"]
    assert escalations, "a human is told"
    text = escalations[0].get_body(("plain",)).get_content()
    assert row["suspicious"] in text
    # blind round 22: it said "please answer the client yourself" and "Reply to this email to answer the client"
    assert "answer the client" not in text and "Do not answer the sender" in text
    assert "Do not answer the sender" in escalations[0].get_body(("html",)).get_content()


def test_a_name_staff_sent_under_is_claimed_by_no_one_else(tmp_path, dovecot, smtp_server):
    settings = liaison_settings(tmp_path, dovecot, smtp_server, ACCOUNTS)
    dovecot.append(b"From: Omar Said <omar@agency.example>\r\nSubject: Brief for BrewCo\r\n"
                   b"To: accounts@agency.example\r\nMessage-ID: <staff@agency.example>\r\n\r\nNotes.\r\n")
    store = Store(settings.db_path)
    Daemon(settings, store).run_once()
    dovecot.append(b"From: Omar Said <omar.said@gmail.com>\r\nSubject: Urgent: change of bank details\r\n"
                   b"To: accounts@agency.example\r\nMessage-ID: <omar@gmail.com>\r\n\r\n"
                   b"Please pay BrewCo's refund to our new account.\r\n")
    Daemon(settings, store).run_once()
    row = store.one("SELECT suspicious FROM messages WHERE from_addr = 'omar.said@gmail.com'")
    store.close()
    assert row["suspicious"] and "omar@agency.example" in row["suspicious"]


def test_a_contacts_address_as_the_display_name_is_only_a_quoted_name_beside_the_real_address(
        tmp_path, dovecot, smtp_server):
    """From the blind tester: `tom.hill@brewco.com <tom.hill@brewco.com.evil.example>` was stored, linked and
    shown as the contact named in front of the angle brackets. The sender is the address in angle brackets,
    as every mail client and SPF/DMARC read it; the text before it is a display name, shown only quoted."""
    settings = liaison_settings(tmp_path, dovecot, smtp_server, ACCOUNTS)
    dovecot.append(b"From: tom.hill@brewco.com <tom.hill@brewco.com.evil.example>\r\n"
                   b"Message-ID: <claimed@evil.example>\r\n" + BODY)
    store = Store(settings.db_path)
    Daemon(settings, store).run_once()
    row = store.one("SELECT from_addr, from_name, account_id, link_reason, suspicious FROM messages")
    assert (row["from_addr"], row["from_name"]) == ("tom.hill@brewco.com.evil.example", "tom.hill@brewco.com")
    assert row["account_id"] is None and row["link_reason"] == "unlinked" and row["suspicious"]
    sent = smtp_server.parsed()
    assert not [m for m in sent if m["Auto-Submitted"] == "auto-replied"]
    (escalation,) = [m for m in sent if m["Auto-Submitted"] == "auto-generated"]
    text = escalation.get_body(("plain",)).get_content()
    html = escalation.get_body(("html",)).get_content()
    assert '"tom.hill@brewco.com" <tom.hill@brewco.com.evil.example>' in text.splitlines()[0], text
    assert "from tom.hill@brewco.com " not in text and "from tom.hill@brewco.com\n" not in text, text
    assert "from tom.hill@brewco.com<" not in html.replace(" ", "").replace("&lt;", "<"), html
    assert "&#34;tom.hill@brewco.com&#34; &lt;tom.hill@brewco.com.evil.example&gt;" in html, html
    rules = load_checked_rules(settings.rules_path)
    built = summary.build(store, rules, "lead@agency.example", datetime.now(UTC).date(), team=True,
                          until=datetime.now(UTC) + timedelta(minutes=1))
    store.close()
    summary_text, _ = summary.render(built, TemplateLibrary(rules.template_dir))
    assert "tom.hill@brewco.com.evil.example" in summary_text, summary_text
    assert "from tom.hill@brewco.com.evil.example" in summary_text, summary_text
    assert not re.search(r"from tom\.hill@brewco\.com(?!\.evil)", summary_text), summary_text


@pytest.mark.parametrize("claimed", ["Hill, Tom", "HILL  Tom", "T\u043em Hill",
                                     "\uff34\uff4f\uff4d \uff28\uff49\uff4c\uff4c"])
def test_a_learned_contact_name_written_another_way_is_flagged_by_the_daemon(tmp_path, dovecot, smtp_server, claimed):
    settings = liaison_settings(tmp_path, dovecot, smtp_server, ACCOUNTS)
    dovecot.append(b"From: Tom Hill <tom.hill@brewco.com>\r\nMessage-ID: <real@brewco.com>\r\n" + BODY)
    dovecot.append(f"From: =?utf-8?b?{base64.b64encode(claimed.encode()).decode()}?= <tom@gmail.example>\r\n"
                   "Message-ID: <claimed@gmail.example>\r\n".encode() + BODY)
    store = Store(settings.db_path)
    Daemon(settings, store).run_once()
    row = store.one("SELECT account_id, suspicious FROM messages WHERE from_addr = 'tom@gmail.example'")
    store.close()
    assert row["account_id"] is None and row["suspicious"] and "tom.hill@brewco.com" in row["suspicious"], row
    sent = smtp_server.parsed()
    assert [str(m["To"]) for m in sent if m["Auto-Submitted"] == "auto-replied"] == ["tom.hill@brewco.com"]


#: From headers naming no one sender plainly, with text that looks like the contact's address before (or
#: beside) the real one: (header, the address really in angle brackets, or "" when there is none).
ADDRESS_BEFORE_THE_REAL_ONE = {
    "comment between": ("tom.hill@brewco.com (Tom Hill) <tom.hill@brewco.com.evil.example>",
                        "tom.hill@brewco.com.evil.example"),
    "comment first": ("(comment) tom.hill@brewco.com <x@evil.example>", "x@evil.example"),
    "spaced at sign": ("tom.hill @ brewco.com <attacker@gmail.com>", "attacker@gmail.com"),
    "two angle addresses": ("<tom.hill@brewco.com> <attacker@gmail.com>", "attacker@gmail.com"),
    "comments around": ("tom.hill@brewco.com (x) <attacker@gmail.com> (y)", "attacker@gmail.com"),
    "two bare addresses": ("tom.hill@brewco.com attacker@gmail.com", ""),
    "two bare addresses and a comment": ("tom.hill@brewco.com (Tom Hill) attacker@gmail.com", ""),
}


@pytest.mark.parametrize("case", list(ADDRESS_BEFORE_THE_REAL_ONE))
def test_an_address_written_before_the_real_one_is_never_shown_or_replied_to_as_the_sender(
        tmp_path, dovecot, smtp_server, case):
    """From the blind tester: such headers were not answered, but the log, the escalation (subject, body,
    Reply-To) and the summary named tom.hill@brewco.com, and two bare addresses gave `""@gmail.com` and a
    `Reply-To: <>`. Only an address really in angle brackets is the sender, or none at all."""
    header, real = ADDRESS_BEFORE_THE_REAL_ONE[case]
    settings = liaison_settings(tmp_path, dovecot, smtp_server, ACCOUNTS)
    dovecot.append(f"From: {header}\r\nMessage-ID: <before@evil.example>\r\n".encode() + BODY)
    store = Store(settings.db_path)
    Daemon(settings, store).run_once()
    row = store.one("SELECT from_addr, account_id, suspicious FROM messages")
    assert row["from_addr"] == real and row["account_id"] is None and row["suspicious"], dict(row)
    sent = smtp_server.parsed()
    assert not [m for m in sent if m["Auto-Submitted"] == "auto-replied"]
    (escalation,) = [m for m in sent if m["Auto-Submitted"] == "auto-generated"]
    # suspicious: no Reply-To at all, so that a manager hitting Reply never answers the sender by mistake
    assert escalation["Reply-To"] is None, escalation["Reply-To"]
    text = escalation.get_body(("plain",)).get_content()
    for shown in (str(escalation["Subject"]), text):
        assert not re.search(r"(from |(?<![\"'])<)tom\.hill@brewco\.com(?![.\w])", shown) and "<>" not in shown, shown
        assert real in shown, shown
    rules = load_checked_rules(settings.rules_path)
    built = summary.build(store, rules, "lead@agency.example", datetime.now(UTC).date(), team=True,
                          until=datetime.now(UTC) + timedelta(minutes=1))
    store.close()
    summary_text, _ = summary.render(built, TemplateLibrary(rules.template_dir))
    assert not re.search(r"from tom\.hill@brewco\.com(?![.\w])", summary_text), summary_text
    if real:
        assert real in summary_text, summary_text


NAMED_ACCOUNTS = ACCOUNTS + ("zeta,Zeta Oy,ZETA,zeta.fi,olli.virtanen@zeta.fi,anna.berg@agency.example\n"
                             "nova,Nova,NOVA,nova.io,kim@nova.io,anna.berg@agency.example\n")


def test_every_name_a_contact_wrote_under_is_protected_not_only_the_first(tmp_path, dovecot, smtp_server):
    """From the blind tester: a forged `Zed Zed <olli.virtanen@zeta.fi>` first, then the real "Olli Virtanen"
    mails: after a restart only "Zed Zed" was protected, and "Olli Virtanen <zz@gmail.com>" went unflagged."""
    settings = liaison_settings(tmp_path, dovecot, smtp_server, NAMED_ACCOUNTS)
    dovecot.append(b"From: Zed Zed <olli.virtanen@zeta.fi>\r\nMessage-ID: <first@zeta.fi>\r\n" + BODY)
    store = Store(settings.db_path)
    Daemon(settings, store).run_once()
    dovecot.append(b"From: Olli Virtanen <olli.virtanen@zeta.fi>\r\nMessage-ID: <second@zeta.fi>\r\n" + BODY)
    Daemon(settings, store).run_once()
    dovecot.append(b"From: Olli Virtanen <zz@gmail.com>\r\nMessage-ID: <claimed@gmail.com>\r\n" + BODY)
    Daemon(settings, store).run_once()  # a restart between: the names come from the database
    row = store.one("SELECT suspicious FROM messages WHERE from_addr = 'zz@gmail.com'")
    store.close()
    assert row["suspicious"] and "olli.virtanen@zeta.fi" in row["suspicious"], dict(row)


@pytest.mark.parametrize("role", ["Accounts Payable", "Finance Team", "Info", "Billing"])
def test_a_role_name_a_contact_wrote_under_is_nobody_elses_to_claim(tmp_path, dovecot, smtp_server, role):
    """From the blind tester: kim@nova.io writing as "Accounts Payable" made every other "Accounts Payable"
    (othercorp.com's own) an impostor of kim@nova.io. A role is many senders' name: it is not learned."""
    settings = liaison_settings(tmp_path, dovecot, smtp_server, NAMED_ACCOUNTS)
    dovecot.append(f"From: {role} <kim@nova.io>\r\nMessage-ID: <role@nova.io>\r\n".encode() + BODY)
    dovecot.append(f"From: {role} <ap@othercorp.example>\r\nMessage-ID: <ap@othercorp.example>\r\n".encode() + BODY)
    store = Store(settings.db_path)
    Daemon(settings, store).run_once()  # in one run: the name would be learned in memory
    dovecot.append(f"From: {role} <ap2@othercorp.example>\r\nMessage-ID: <ap2@othercorp.example>\r\n".encode()
                   + BODY)
    Daemon(settings, store).run_once()  # after a restart: from the database
    rows = store.all("SELECT suspicious FROM messages WHERE from_addr LIKE 'ap%@othercorp.example'")
    store.close()
    assert [r["suspicious"] for r in rows] == [None, None], [dict(r) for r in rows]


IDN_ACCOUNTS = ACCOUNTS + "mueller,Müller Bau,MUEL,müller-bau.de,hans@müller-bau.de,anna.berg@agency.example\n"
ADDRESS_WRITTEN_ANOTHER_WAY = {  # (display name, the real address, what it imitates)
    "contact address in Unicode": ("hans@müller-bau.de", "i1@gmail.example", "hans@müller-bau.de"),
    "full-width at sign": ("tom.hill\uff20brewco.com", "a17@gmail.example", "tom.hill@brewco.com"),
    "Cyrillic e in the domain": ("tom.hill@br\u0435wco.com", "m3@gmail.example", "tom.hill@br\u0435wco.com"),
    "zero-width space in the domain": ("tom.hill@brewco\u200b.com", "m5@gmail.example", "tom.hill@brewco.com"),
    "ideographic full stop": ("tom.hill@brewco\u3002com", "m8@gmail.example", "tom.hill@brewco.com"),
    "IDN domain as leading labels": ("Hans", "hans@xn--mller-bau-q9a.de.evil.example", "xn--mller-bau-q9a.de"),
}


@pytest.mark.parametrize("case", list(ADDRESS_WRITTEN_ANOTHER_WAY))
def test_an_address_written_in_unicode_or_lookalikes_is_flagged_as_its_ascii_form_is(
        tmp_path, dovecot, smtp_server, case):
    """From the blind tester: each was neither flagged nor escalated as an impostor, while the plain ASCII
    form was. A name is read as it shows (NFKC, invisible characters dropped, IDNA) before comparing."""
    name, sender, imitated = ADDRESS_WRITTEN_ANOTHER_WAY[case]
    settings = liaison_settings(tmp_path, dovecot, smtp_server, IDN_ACCOUNTS)
    dovecot.append(f"From: =?utf-8?b?{base64.b64encode(name.encode()).decode()}?= <{sender}>\r\n"
                   "Message-ID: <written@gmail.example>\r\n".encode() + BODY)
    store = Store(settings.db_path)
    Daemon(settings, store).run_once()
    row = store.one("SELECT account_id, suspicious FROM messages")
    store.close()
    assert row["account_id"] is None and row["suspicious"] and imitated in row["suspicious"], dict(row)
    sent = smtp_server.parsed()
    assert not [m for m in sent if m["Auto-Submitted"] == "auto-replied"]


def test_a_contacts_own_unicode_address_as_the_name_is_the_contact(tmp_path, dovecot, smtp_server):
    settings = liaison_settings(tmp_path, dovecot, smtp_server, IDN_ACCOUNTS)
    name = base64.b64encode("hans@müller-bau.de".encode()).decode()
    dovecot.append(f"From: =?utf-8?b?{name}?= <hans@xn--mller-bau-q9a.de>\r\nMessage-ID: <own@müller.example>\r\n"
                   .encode() + BODY)
    store = Store(settings.db_path)
    Daemon(settings, store).run_once()
    row = store.one("SELECT account_id, suspicious FROM messages")
    store.close()
    assert (row["account_id"], row["suspicious"]) == ("mueller", None), dict(row)


@pytest.mark.parametrize(("claimed", "flagged"), [
    ("TO\u039c HILL", True), ("Tom \u0397ill", True), ("Tom Hi\u04c0\u04c0", True), ("Tom Hi\u0406\u0406", True),
    ("T\u034fom Hill", True), ("To\u115fm Hill", True), ("Tom Hi\u3164ll", True), ("Mr Tom Hill", True),
    ("Tom J. Hill", True), ("Tom Hill - BrewCo", True), ("Tom Hill (Agency)", True),
    ("Tom Hilton", False), ("Tomas Hill", False), ("Tom Hillier", False),
])
def test_a_known_name_in_lookalike_letters_or_among_other_words_is_claimed(
        tmp_path, dovecot, smtp_server, claimed, flagged):
    """From the blind tester: Greek capitals (Μ, Η), Cyrillic Ӏ and І for l, invisible U+034F and Hangul
    fillers, and a known name with extras ("Mr Tom Hill", "Tom J. Hill") were not flagged. A different name
    (Tom Hilton, Tomas Hill) still is no claim."""
    settings = liaison_settings(tmp_path, dovecot, smtp_server, ACCOUNTS)
    dovecot.append(b"From: Tom Hill <tom.hill@brewco.com>\r\nMessage-ID: <real@brewco.com>\r\n" + BODY)
    dovecot.append(f"From: =?utf-8?b?{base64.b64encode(claimed.encode()).decode()}?= <tom@gmail.example>\r\n"
                   "Message-ID: <claimed@gmail.example>\r\n".encode() + BODY)
    store = Store(settings.db_path)
    Daemon(settings, store).run_once()
    row = store.one("SELECT suspicious FROM messages WHERE from_addr = 'tom@gmail.example'")
    store.close()
    assert bool(row["suspicious"] and "tom.hill@brewco.com" in row["suspicious"]) is flagged, dict(row)


SAME_PARTY_ACCOUNTS = ACCOUNTS + (
    "khantex,Khantex,KTX,khantex.com,ali.khan@khantex.com;ap@ledgerly.example,anna.berg@agency.example\n"
    "hart,Hart Studio,HART,hartstudio.co.uk,neil.hart@hartstudio.co.uk,anna.berg@agency.example\n"
    "mueller,Müller Bau,MUEL,müller-bau.de;mueller-bau.de,hans@müller-bau.de,anna.berg@agency.example\n")
OWN_SIDE_ADDRESS_IN_NAME = {  # (display name, the real address, its account)
    "colleague in brackets": ("Ali Khan (sales@khantex.com)", "ali.khan@khantex.com", "khantex"),
    "on behalf of": ("sales@khantex.com on behalf of Ali Khan", "ali.khan@khantex.com", "khantex"),
    "shared mailbox after a bar": ("Neil Hart | hello@hartstudio.co.uk", "neil.hart@hartstudio.co.uk", "hart"),
    "the account's other domain": ("hans@mueller-bau.de", "hans@xn--mller-bau-q9a.de", "mueller"),
    "another listed contact": ("Ali Khan (ap@ledgerly.example)", "ali.khan@khantex.com", "khantex"),
}


@pytest.mark.parametrize("case", list(OWN_SIDE_ADDRESS_IN_NAME))
def test_an_address_of_the_senders_own_account_in_the_name_is_no_impostor(tmp_path, dovecot, smtp_server, case):
    """From the blind tester: a listed contact showing a colleague's or the company's other address in the
    display name was flagged, unlinked and never acknowledged. Only an address of another party claims
    someone else."""
    name, sender, account = OWN_SIDE_ADDRESS_IN_NAME[case]
    settings = liaison_settings(tmp_path, dovecot, smtp_server, SAME_PARTY_ACCOUNTS)
    dovecot.append(f"From: =?utf-8?b?{base64.b64encode(name.encode()).decode()}?= <{sender}>\r\n"
                   "Message-ID: <own-side@client.example>\r\n".encode() + BODY)
    store = Store(settings.db_path)
    Daemon(settings, store).run_once()
    row = store.one("SELECT account_id, suspicious FROM messages")
    store.close()
    assert (row["account_id"], row["suspicious"]) == (account, None), dict(row)
    sent = smtp_server.parsed()
    assert [str(m["To"]) for m in sent if m["Auto-Submitted"] == "auto-replied"] == [sender]


@pytest.mark.parametrize("name", ["Ali Khan (tom.hill@brewco.com)", "Ali Khan (ali.khan@gmail.example)"])
def test_an_address_of_another_party_in_a_contacts_name_is_still_flagged(tmp_path, dovecot, smtp_server, name):
    settings = liaison_settings(tmp_path, dovecot, smtp_server, SAME_PARTY_ACCOUNTS)
    dovecot.append(f"From: {name} <ali.khan@khantex.com>\r\nMessage-ID: <other-side@client.example>\r\n"
                   .encode() + BODY)
    store = Store(settings.db_path)
    Daemon(settings, store).run_once()
    row = store.one("SELECT account_id, suspicious FROM messages")
    store.close()
    assert row["account_id"] is None and row["suspicious"], dict(row)


@pytest.mark.parametrize(("claimed", "flagged"), [
    ("Nell Hart", False), ("Neli Hart", False), ("NeiI Hart", True), ("NEIL HART", True), ("neil hart", True),
    ("Nei1 Hart", True), ("Nei| Hart", True),
])
def test_a_lowercase_i_and_l_are_different_letters_in_names(tmp_path, dovecot, smtp_server, claimed, flagged):
    """From the blind tester: i, l, I and 1 were one letter, so "Nell Hart" from gmail was escalated as claiming
    Neil Hart. Only what looks alike is folded: a capital I, 1 or | where an l would be."""
    accounts = ACCOUNTS + ("hart,Hart Studio,HART,hartstudio.co.uk,"
                           "neil.hart@hartstudio.co.uk,anna.berg@agency.example\n")
    settings = liaison_settings(tmp_path, dovecot, smtp_server, accounts)
    dovecot.append(b"From: Neil Hart <neil.hart@hartstudio.co.uk>\r\nMessage-ID: <real@hart.example>\r\n" + BODY)
    dovecot.append(f"From: {claimed} <someone@gmail.example>\r\nMessage-ID: <other@gmail.example>\r\n"
                   .encode() + BODY)
    store = Store(settings.db_path)
    Daemon(settings, store).run_once()
    row = store.one("SELECT suspicious FROM messages WHERE from_addr = 'someone@gmail.example'")
    store.close()
    assert bool(row["suspicious"] and "neil.hart@hartstudio.co.uk" in row["suspicious"]) is flagged, dict(row)


@pytest.mark.parametrize("name", ["two mailboxes", "an empty address"])
def test_a_message_without_a_sender_address_says_so_where_people_read_it(
        tmp_path, dovecot, smtp_server, caplog, name):
    """From the blind tester: with no one sender address, the warning and the summary said "but the mail is
    from ;" and the log "from :"."""
    settings = liaison_settings(tmp_path, dovecot, smtp_server, ACCOUNTS)
    dovecot.append(AMBIGUOUS_FROM[name] + b"Message-ID: <nobody@evil.example>\r\n" + BODY)
    store = Store(settings.db_path)
    with caplog.at_level("INFO", logger="liaison"):
        Daemon(settings, store).run_once()
    assert store.one("SELECT from_addr FROM messages")["from_addr"] in ("", None), "no one sender address"
    (escalation,) = [m for m in smtp_server.parsed() if m["Auto-Submitted"] == "auto-generated"]
    warning = escalation.get_body(("plain",)).get_content()
    rules = load_checked_rules(settings.rules_path)
    built = summary.build(store, rules, "lead@agency.example", datetime.now(UTC).date(), team=True,
                          until=datetime.now(UTC) + timedelta(minutes=1))
    text, _ = summary.render(built, TemplateLibrary(rules.template_dir))
    store.close()
    logged = "\n".join(r.getMessage() for r in caplog.records if "nobody@evil.example" in r.getMessage())
    for shown in (warning, text, logged):
        assert "(no sender address)" in shown and not re.search(r"from [;:]|from \s*$", shown, re.M), shown


@pytest.mark.parametrize("header, name", [
    (b"undisclosed-recipients:;", "undisclosed-recipients"),
    (b'"Undisclosed recipients" <>', "Undisclosed recipients"),
    (b'"Tom" <not an address>', "Tom"),
    (b"=?utf-8?q?J=C3=BCrgen?= <>", "J\u00fcrgen"),
    # round 20: a group holding a client's address is no sender (it was linked and answered); a name alone
    # is no address ("From: Tom Hill" was the address "tom")
    (b"Tom: tom.hill@brewco.com;", "Tom"),
    (b"BrewCo:;", "BrewCo"),
    (b"Tom Hill", "Tom Hill"),
])
def test_a_sender_without_an_address_is_named_by_its_display_name_alone(header, name):
    """Blind tester round 18: an "Undisclosed recipients" sender was listed with an empty name (the group) or as
    'Undisclosed recipients" <>'. Still no address, so never answered or linked."""
    from foundation.message import parse_message

    parsed = parse_message(b"From: " + header + b"\r\nSubject: Hi\r\nMessage-ID: <n@x.example>\r\n\r\nHello\r\n")
    assert (parsed.from_name, parsed.from_addr) == (name, "")
    assert parsed.sender_problems, "never answered or linked on trust"


def test_an_impostors_mail_is_in_the_summary_of_the_imitated_clients_manager_only(tmp_path, dovecot, smtp_server):
    """Blind round 22: a lookalike of Anna's client and a stranger using a job code of Anna's other client were
    listed in Ben's summary too (every suspicious message went to every manager)."""
    accounts = ACCOUNTS + ("zeta,Zeta Oy,ZETA,zeta.fi,olli@zeta.fi,anna.berg@agency.example\n"
                           "maresol,Maresol,MARE,maresol.es,ana@maresol.es,ben.ortiz@agency.example\n")
    settings = liaison_settings(tmp_path, dovecot, smtp_server, accounts)
    for sender, subject, mid in (("Tom Hill <tom.hill@brewc0.com>", "New bank details", "a"),
                                 ("Mira <mira.art@gmail.com>", "[ZETA-012] assets delivered?", "b"),
                                 ("PayPal <service@paypa1-billing.example>", "Your account", "c")):
        dovecot.append(f"From: {sender}\r\nSubject: {subject}\r\nTo: accounts@agency.example\r\n"
                       f"Message-ID: <{mid}@evil.example>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\n"
                       "Please pay the open invoice to our new bank account this week.\r\n".encode())
    store = Store(settings.db_path)
    Daemon(settings, store).run_once()
    claimed = {r["message_id"]: r["claimed_account"] for r in store.all("SELECT message_id, claimed_account "
                                                                          "FROM messages")}
    assert claimed == {"<a@evil.example>": "brewco", "<b@evil.example>": "zeta", "<c@evil.example>": None}
    rules = load_checked_rules(settings.rules_path)

    def reviewed(recipient: str, team: bool) -> list[str]:
        built = summary.build(store, rules, recipient, datetime.now(UTC).date(), team=team,
                              until=datetime.now(UTC) + timedelta(minutes=1))
        return sorted(r["subject"] for r in built.review if r["kind"] == "suspicious")

    lead = summary.team_lead_address(rules)
    assert reviewed("anna.berg@agency.example", False) == ["New bank details", "[ZETA-012] assets delivered?"] + (
        [] if lead else ["Your account"])
    assert reviewed("ben.ortiz@agency.example", False) == ([] if lead else ["Your account"])
    assert reviewed("lead@agency.example", True) == ["New bank details", "Your account",
                                                     "[ZETA-012] assets delivered?"]
    # round 22b: the escalations went to the team lead only; the imitated client's manager is the one who can tell
    warned = {str(m["Subject"]).split(" - ")[-1]: str(m["To"]) for m in smtp_server.parsed()
              if m["Auto-Submitted"] == "auto-generated"}
    assert warned["New bank details"] == "anna.berg@agency.example"
    # round 22c: a lookalike of Anna's client using Ben's client's job code went to Ben only
    dovecot.append(b"From: Tom Hill <tom.hill@brewc0.com>\r\nSubject: Bank change [MARE-014]\r\n"
                   b"To: accounts@agency.example\r\nMessage-ID: <d@evil.example>\r\n"
                   b"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nPlease use our new IBAN from now on.\r\n")
    Daemon(settings, store).run_once()
    (escalation,) = [m for m in smtp_server.parsed() if "Bank change" in str(m["Subject"])]
    assert {a.strip() for a in str(escalation["To"]).split(",")} == {"ben.ortiz@agency.example",
                                                                      "anna.berg@agency.example"}
    assert warned["Your account"] == (lead or "anna.berg@agency.example")


BEC = (b"From: Tom Hill <tom.hill@brewco.com>\r\nReply-To: tom.hill@brewc0.com\r\nMessage-ID: <bec@brewco.com>\r\n"
       b"Subject: New bank details\r\nTo: accounts@agency.example\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\n"
       b"Our bank has changed. Please pay invoice INV-8080 (EUR 24,000) to our new account IBAN DE89 3704 0044 0532 "
       b"0130 00 from now on.\r\n")


def test_a_clients_from_with_a_reply_to_at_a_lookalike_domain_is_an_impostor_and_never_answered(
        tmp_path, dovecot, smtp_server):
    """Blind round 26: the client's own From with Reply-To at a lookalike domain (business email compromise) was
    acknowledged and escalated to finance as a routine billing issue, the lookalike never mentioned."""
    settings = liaison_settings(tmp_path, dovecot, smtp_server, ACCOUNTS)
    dovecot.append(BEC)
    store = Store(settings.db_path)
    Daemon(settings, store).run_once()
    row = store.one("SELECT account_id, suspicious FROM messages")
    store.close()
    assert row["suspicious"] == "Reply-To tom.hill@brewc0.com: domain brewc0.com imitates brewco.com", row
    assert row["account_id"] is None
    sent = smtp_server.parsed()
    assert not [m for m in sent if m["Auto-Submitted"] == "auto-replied"]
    (escalation,) = [m for m in sent if m["Auto-Submitted"] == "auto-generated"]
    assert "anna.berg@agency.example" in str(escalation["To"]) and escalation["Reply-To"] is None
    assert "brewc0.com" in escalation.get_body(("plain",)).get_content()


@pytest.mark.parametrize("reply_to", ["tom.hill@brewco.com", "tickets+881@brewco.zendesk.com", "tom@gmail.com",
                                      "assistant@otherfirm.example"])
def test_a_reply_to_elsewhere_that_imitates_no_one_is_no_warning(reply_to):
    index = AccountIndex.build([Account("brewco", "BrewCo", "BREW", ("brewco.com",), ("tom.hill@brewco.com",),
                                        "anna.berg@agency.example")])
    link = link_message(index, sender="tom.hill@brewco.com", display_name="Tom Hill", subject="x",
                        thread_of=lambda: [], is_staff=False, reply_to=[("Tom Hill", reply_to)])
    assert link.account_id == "brewco" and not link.suspicious


@pytest.mark.parametrize(("name", "address"), [("tom.hill@brewco.com", "tom.brewco@gmail.com"),
                                               ("Tom Hill (tom.hill@brewco.com)", "accounts@payments-desk.example"),
                                               ("accounts@agency.example", "ap@otherfirm.example")])
def test_a_reply_to_named_as_a_client_or_us_over_another_address_is_an_impostor(name, address):
    """Blind round 26b: Reply-To "tom.hill@brewco.com" <tom.brewco@gmail.com> showed the client's address to whoever
    answered, and replies went to the free-mail account: not flagged, as the domain imitated no one."""
    index = AccountIndex.build([Account("brewco", "BrewCo", "BREW", ("brewco.com",), ("tom.hill@brewco.com",),
                                        "anna.berg@agency.example")], agency_domains=("agency.example",))
    link = link_message(index, sender="tom.hill@brewco.com", display_name="Tom Hill", subject="x",
                        thread_of=lambda: [], is_staff=False, reply_to=[(name, address)])
    assert link.suspicious == f"Reply-To {address} is named {name.split('(')[-1].rstrip(')')}", link


@pytest.mark.parametrize(("name", "address"), [("tom.hill@brewco.com", "tom.hill@brewco.com"),
                                               ("Tom's assistant (pa@otherfirm.example)", "pa@otherfirm.example"),
                                               ("BrewCo Support", "tickets+881@brewco.zendesk.com")])
def test_a_reply_to_named_as_itself_or_someone_unknown_is_no_warning(name, address):
    index = AccountIndex.build([Account("brewco", "BrewCo", "BREW", ("brewco.com",), ("tom.hill@brewco.com",),
                                        "anna.berg@agency.example")], agency_domains=("agency.example",))
    link = link_message(index, sender="tom.hill@brewco.com", display_name="Tom Hill", subject="x",
                        thread_of=lambda: [], is_staff=False, reply_to=[(name, address)])
    assert not link.suspicious, link


@pytest.mark.parametrize("name", ['"Tom\u202e lliH"'.encode(), b"=?utf-8?q?Tom=E2=80=AE_lliH?="])
def test_a_display_name_reordered_by_direction_controls_is_no_plain_sender(name):
    """Blind round 26: "Tom\\u202e lliH" shows as "Tom Hill" in many mail clients, and was only an unknown sender."""
    parsed = parse_message(b"From: " + name + b" <x@evil.example>\r\nMessage-ID: <b@evil.example>\r\n" + BODY)
    assert parsed.sender_problems and "direction controls" in parsed.sender_problems[0]
    assert parsed.from_addr == "x@evil.example"


def test_a_flood_of_an_impostors_mail_is_escalated_three_times_and_listed_whole(tmp_path, dovecot, smtp_server):
    """Blind round 26: 40 forged mails sent 40 escalations to one manager within a minute (an amplifier)."""
    settings = liaison_settings(tmp_path, dovecot, smtp_server, ACCOUNTS)
    for n in range(6):
        dovecot.append(SPOOFS["encoded address as the name"] + b"Message-ID: <flood%d@evil.example>\r\n" % n + BODY)
    store = Store(settings.db_path)
    Daemon(settings, store).run_once()
    escalations = [m for m in smtp_server.parsed() if m["Auto-Submitted"] == "auto-generated"]
    assert len(escalations) == 3
    held = store.all("SELECT route FROM messages WHERE route LIKE '%escalate: held (3 suspicious mails%'")
    assert len(held) == 3
    review = summary.build(store, load_checked_rules(settings.rules_path), "anna.berg@agency.example",
                           datetime.now(UTC).date(), team=True, until=datetime.now(UTC) + timedelta(minutes=1)).review
    assert len([r for r in review if r["kind"] == "suspicious"]) == 6
    store.close()
