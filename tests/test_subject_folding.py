"""Non-ASCII subjects we send fold after the field name and read back exactly (issue 12)."""

from __future__ import annotations

import email
import re
from email.policy import default

import pytest

from foundation.message import parse_message
from foundation.store import Store
from inbox.daemon import Daemon
from responders.compose import as_bytes, build_acknowledgement, build_notice
from tests.servers import liaison_settings

SUBJECTS = [
    "Änderung der Kampagne für den Frühjahrsverkauf – bitte die Überschrift auf dem großen Banner ändern",
    "Révision de l'affiche « Été 2027 » : merci de changer le visuel principal et la typographie du titre",
    "バナーの見出しを変更してください。金曜日までに新しいバージョンが必要です。よろしくお願いします。" * 2,
    "Launch 🚀 banner: swap the photo 📸 for the one with the red van, and make the logo bigger 🙏",
    "Ça va",
]


def head(raw: bytes) -> str:
    return raw[: raw.index(b"\r\n\r\n")].decode("ascii")


def subject_lines(raw: bytes) -> list[str]:
    return re.search(r"^Subject:.*?(?=\r\n\S)", head(raw), re.MULTILINE | re.DOTALL).group(0).split("\r\n")


@pytest.mark.parametrize("subject", SUBJECTS)
def test_a_notice_subject_folds_after_the_name_and_round_trips(subject):
    raw = as_bytes(build_notice(sender="accounts@agency.example", to=["anna@agency.example"], subject=subject,
                                message_id="<n@agency.example>", text="t", html="<p>t</p>"))
    lines = subject_lines(raw)
    assert lines[0].startswith("Subject: =?utf-8?"), lines[0]
    assert all(len(line) <= 78 for line in lines)
    assert parse_message(raw).subject == subject
    assert email.message_from_bytes(raw, policy=default)["Subject"] == subject


@pytest.mark.parametrize("subject", SUBJECTS)
def test_an_acknowledgement_subject_round_trips(subject):
    original = email.message.EmailMessage(policy=default)
    original["From"], original["Subject"], original["Message-ID"] = "Tom <tom@brewco.com>", subject, "<m@brewco.com>"
    original.set_content("Please change it.")
    parsed = parse_message(original.as_bytes())
    assert parsed.subject == subject
    raw = as_bytes(build_acknowledgement(parsed, sender="accounts@agency.example", message_id="<o@agency.example>",
                                         text="t", html="<p>t</p>"))
    assert subject_lines(raw)[0].startswith("Subject: =?utf-8?")
    assert parse_message(raw).subject == f"Re: {subject}"


def test_eight_bit_headers_are_read_as_utf8_else_windows_1252():
    parsed = parse_message("From: Jörg Müller <j@brewco.com>\r\nSubject: Änderung – groß\r\n"
                           "Message-ID: <u@brewco.com>\r\n\r\nbody\r\n".encode())
    assert (parsed.from_name, parsed.subject) == ("Jörg Müller", "Änderung – groß")
    parsed = parse_message(b"From: J\xf6rg <j@brewco.com>\r\nSubject: caf\xe9\r\nMessage-ID: <l@brewco.com>\r\n\r\nb")
    assert (parsed.from_name, parsed.subject) == ("Jörg", "café")


def test_the_acknowledgement_on_the_wire_keeps_the_clients_subject(tmp_path, dovecot, smtp_server, make_message):
    settings = liaison_settings(tmp_path, dovecot, smtp_server,
                                "account_id,name,code,domains,contacts,account_manager\n"
                                "brewco,BrewCo,BREW,brewco.com,,anna@agency.example\n")
    subject = SUBJECTS[0]
    dovecot.append(make_message(sender="Tom Hill <tom@brewco.com>", subject=subject,
                                body="Hi, please change the headline on the banner to 'Fresh daily'."))
    store = Store(settings.db_path)
    Daemon(settings, store).run_once()
    store.close()
    (ack,) = [raw for _, _, raw in smtp_server.messages if b"Auto-Submitted: auto-replied" in raw]
    assert subject_lines(ack)[0].startswith("Subject: =?utf-8?")
    assert parse_message(ack).subject == f"Re: {subject}"


def test_a_subject_with_a_word_too_long_for_a_line_reaches_the_server_and_reads_back(tmp_path, dovecot,
                                                                                    smtp_server, make_message):
    # A pasted 1,000-character URL: plain ASCII folds only at spaces, and SMTP refuses lines over 998 octets.
    subject = "Please swap the link in the banner to https://brewco.example/spring?" + "x" * 1000
    settings = liaison_settings(tmp_path, dovecot, smtp_server,
                                "account_id,name,code,domains,contacts,account_manager\n"
                                "brewco,BrewCo,BREW,brewco.com,,anna@agency.example\n")
    dovecot.append(make_message(sender="Tom <tom@brewco.com>", subject=subject,
                                body="Please change the headline on the banner to 'Fresh daily'."))
    store = Store(settings.db_path)
    Daemon(settings, store).run_once()
    assert store.one("SELECT COUNT(*) AS n FROM outbox WHERE status = 'failed'")["n"] == 0
    sent = smtp_server.parsed()
    assert sent and all(str(m["Subject"]).endswith("x" * 1000) for m in sent)
    for _, _, raw in smtp_server.messages:
        assert max(len(line) for line in raw.split(b"\r\n")) <= 998


def test_an_acknowledgement_never_threads_under_a_message_id_the_client_did_not_send():
    original = parse_message(b"From: Tom <tom@brewco.com>\r\nTo: accounts@agency.example\r\nSubject: Logo\r\n\r\n"
                             b"Please make the logo bigger.\r\n")
    assert original.message_id.endswith("@missing-id.liaison.invalid>")
    raw = as_bytes(build_acknowledgement(original, sender="accounts@agency.example", message_id="<a@agency.example>",
                                         text="t", html="<p>t</p>"))
    assert b"In-Reply-To" not in raw and b"missing-id" not in raw
