"""The summary's facts come from what happened, not from when Liaison happened to read it.

Issue 12: ages and "oldest first" follow arrival (INTERNALDATE), Message-IDs stay out of the text a
person reads, and a staff reply inside a client thread is never counted as client mail.
"""

from __future__ import annotations

import email
import re
from datetime import UTC, datetime, timedelta
from email.policy import default
from pathlib import Path

from foundation.store import Store
from inbox.daemon import Daemon, load_checked_rules
from responders import summary
from tests.servers import liaison_settings, quiet_rules

ROOT = Path(__file__).parent.parent
SUMMARY_ON = {"  enabled: false ": "  enabled: true ", 'time: "08:00"': 'time: "00:00"',
              "skip_days: [sat, sun]": "skip_days: []"}
ACCOUNTS = "account_id,name,code,domains,contacts,account_manager\nbrewco,BrewCo,BREW,brewco.com,,anna@agency.example\n"


def summaries(smtp_server) -> dict[str, email.message.EmailMessage]:
    found = {}
    for _, recipients, raw in smtp_server.messages:
        message = email.message_from_bytes(raw, policy=default)
        if message["Subject"].startswith("Liaison triage"):
            found[recipients[0]] = message
    return found


def test_summary_ages_staff_replies_and_message_ids(tmp_path, dovecot, smtp_server, make_message):
    settings = liaison_settings(tmp_path, dovecot, smtp_server, ACCOUNTS)
    quiet_rules(tmp_path, ROOT / "rules.yaml", **SUMMARY_ON)  # the daily summary on, due now
    now = datetime.now(UTC)

    def arrive(raw: bytes, days_ago: float) -> None:
        dovecot.append(raw, msg_time=now - timedelta(days=days_ago))

    def client(subject: str, days_ago: float, message_id: str, **kwargs) -> bytes:
        return make_message(sender="Tom Hill <tom@brewco.com>", subject=subject, message_id=message_id,
                            body="Please change the headline on the banner and swap the hero image.",
                            date=now - timedelta(days=days_ago), **kwargs)

    # Liaison reads them in this order (UID order); they arrived in a different one.
    arrive(client("Poster colours", 2, "<poster@brewco.com>"), 2)
    arrive(client("Banner headline", 14, "<banner@brewco.com>"), 14)
    arrive(client("Logo size", 3, "<logo@brewco.com>"), 3)
    # Anna answers the logo thread from her own mail client; Liaison sees her reply in the inbox (Cc).
    arrive(make_message(sender="Anna Berg <anna@agency.example>", subject="Re: Logo size",
                        in_reply_to="<logo@brewco.com>", message_id="<anna-reply@agency.example>",
                        body="Hi Tom, not sure yet, maybe. Let me check and come back to you.",
                        date=now - timedelta(days=1)), 1)
    arrive(b"\x01\x02 not an email \xff", 0)  # quarantined: listed for review
    Daemon(settings, Store(settings.db_path)).run_once()

    store = Store(settings.db_path)
    assert store.one("SELECT staff, link_reason FROM messages WHERE message_id = '<anna-reply@agency.example>'") \
        == {"staff": 1, "link_reason": "thread"}, "the pipeline's staff decision is stored"
    sent = summaries(smtp_server)
    text = sent["anna@agency.example"].get_body(preferencelist=("plain",)).get_content()
    html = sent["anna@agency.example"].get_body(preferencelist=("html",)).get_content()

    assert "3 client message(s)" in text, "Anna's own reply is not client mail"
    waiting = text.split("NEEDS YOU NOW")[1].split("SCOPE WATCH")[0]
    lines = [re.sub(r"^- #\d+ ", "- ", line.strip()) for line in waiting.splitlines()
             if re.match(r"- #\d+ \[", line.strip())]
    assert [line.split("] ")[0] for line in lines] == ["- [14d 0h", "- [2d 0h"], waiting  # by arrival, oldest first
    # round 22: each line showed its latest message's time, which did not follow the order; now the time waited
    shown = re.findall(r"waiting since (\d{4}-\d\d-\d\d \d\d:\d\d)", waiting)
    assert len(shown) == 2 and shown == sorted(shown), waiting
    assert "Logo size" not in waiting, "answered by staff"
    assert "NEEDS REVIEW" not in text.split("REVIEW")[-1].split("TREND")[0], "a staff reply is not for review"
    for message_id in ("poster@brewco.com", "banner@brewco.com", "logo@brewco.com", "anna-reply@agency.example"):
        assert message_id not in text and message_id not in html

    # `rules check` renders summary templates with summary.sample(): it must hold what real summaries hold.
    rules = load_checked_rules(settings.rules_path)
    real = summary.build(store, rules, "preview@agency.example", now.date(), team=True)
    sample = summary.sample(now.date())
    for section in ("needs_you", "scope", "by_account", "review", "trend"):
        assert getattr(real, section), section
        assert set(getattr(real, section)[0]) == set(getattr(sample, section)[0]), section


def test_a_client_writing_again_after_a_staff_reply_waits_from_then(tmp_path, dovecot, smtp_server, make_message):
    settings = liaison_settings(tmp_path, dovecot, smtp_server, ACCOUNTS)
    quiet_rules(tmp_path, ROOT / "rules.yaml", **SUMMARY_ON)
    now = datetime.now(UTC)
    dovecot.append(make_message(sender="Tom Hill <tom@brewco.com>", subject="Video edit", message_id="<v1@brewco.com>",
                                body="Please change the music in the video."), msg_time=now - timedelta(days=6))
    dovecot.append(make_message(sender="Anna Berg <anna@agency.example>", subject="Re: Video edit",
                                in_reply_to="<v1@brewco.com>", body="Done, see the new cut."),
                   msg_time=now - timedelta(days=5))
    dovecot.append(make_message(sender="Tom Hill <tom@brewco.com>", subject="Re: Video edit",
                                in_reply_to="<v1@brewco.com>", body="Please change the music again, louder."),
                   msg_time=now - timedelta(days=1))
    Daemon(settings, Store(settings.db_path)).run_once()
    text = summaries(smtp_server)["anna@agency.example"].get_body(preferencelist=("plain",)).get_content()
    waiting = text.split("NEEDS YOU NOW")[1].split("SCOPE WATCH")[0]
    assert re.search(r"- #\d+ \[1d 0h\] BrewCo", waiting), waiting
