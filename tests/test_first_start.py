"""First start: mail already in the folder is recorded, not answered, unless `backfill` says otherwise."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest

from foundation.rules import load_rules, parse_rules
from foundation.store import Store
from inbox.daemon import Daemon
from responders import summary
from responders.templates import TemplateLibrary
from tests.servers import liaison_settings

ROOT = Path(__file__).parent.parent
ACCOUNTS = "account_id,name,code,domains,contacts,account_manager\nbrewco,BrewCo,BREW,brewco.com,,anna@agency.example\n"


def settings_with_backfill(tmp_path, dovecot, smtp_server, backfill: str):
    settings = liaison_settings(tmp_path, dovecot, smtp_server, ACCOUNTS)
    text = settings.rules_path.read_text()
    assert "\nbackfill: all " in text
    settings.rules_path.write_text(text.replace("\nbackfill: all ", f"\nbackfill: {backfill} "))
    return settings


def run_once(settings) -> Daemon:
    store = Store(settings.db_path)
    daemon = Daemon(settings, store)
    daemon.run_once()
    store.close()
    return daemon


def revision(make_message, n: int, **kwargs) -> bytes:
    return make_message(sender=f"Client {n} <client{n}@brewco.com>", subject=f"Banner {n}",
                        body="Please change the headline on the banner to 'Fresh daily'.",
                        message_id=f"<first-{n}@brewco.com>", **kwargs)


def acks(smtp_server) -> list[str]:
    return sorted(m["In-Reply-To"] for m in smtp_server.parsed() if m["Auto-Submitted"] == "auto-replied")


def test_shipped_default_is_none():
    rules = parse_rules((ROOT / "rules.yaml").read_text(), Path("rules.yaml"))
    assert rules.spec.backfill == "none"


def test_backfill_must_be_none_all_or_a_duration():
    text = (ROOT / "rules.yaml").read_text().replace("\nbackfill: none ", "\nbackfill: yesterday ")
    with pytest.raises(Exception) as info:
        parse_rules(text, Path("rules.yaml"))
    assert any(p.startswith("rules.yaml:") and "backfill" in p for p in info.value.problems)


def test_mail_found_at_first_start_is_recorded_not_answered(tmp_path, dovecot, smtp_server, make_message,
                                                            caplog):
    settings = settings_with_backfill(tmp_path, dovecot, smtp_server, "none")
    dovecot.append_many([revision(make_message, n) for n in range(100)])
    with caplog.at_level(logging.INFO, logger="liaison"):
        run_once(settings)
    assert smtp_server.messages == [], "two years of old mail must not be acknowledged or escalated"
    store = Store(settings.db_path)
    assert store.one("SELECT COUNT(*) AS n FROM messages WHERE status = 'processed' "
                     "AND account_id = 'brewco' AND category IS NOT NULL")["n"] == 100
    assert store.one("SELECT COUNT(*) AS n FROM threads WHERE status = 'handled'")["n"] == 100, \
        "not waiting in everyone's summary as if Liaison had just received them"
    assert store.one("SELECT COUNT(*) AS n FROM outbox")["n"] == 0
    assert "100 message(s) already in INBOX when Liaison first saw it were recorded without answering" in caplog.text
    rules = load_rules(settings.rules_path)
    built = summary.build(store, rules, "lead@agency.example", dt.date.today(), team=True,
                          until=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1))
    review = built.review
    assert [r["reason"] for r in review if r["kind"] == "backlog recorded"] == [
        "100 message(s) already in INBOX when Liaison first saw it were recorded without answering (backfill: none)"]
    waiting = [r for r in review if r["kind"] == "not answered (there before Liaison)"]
    assert len(waiting) == 51 and all(r["ref"].startswith("#") for r in waiting[:50]), \
        "each old request is listed (up to 50), so none disappears into a count"
    assert waiting[-1]["reason"].startswith("and 50 more client request(s)") and not waiting[-1]["sender"]
    # blind round 21: the first summary said "0 waiting... Nothing is waiting. Well done." over 200 unanswered
    text, _ = summary.render(built, TemplateLibrary(rules.template_dir))
    assert "Nothing is waiting" not in text and "100 client request(s) already in the mailbox" in text
    manager = summary.build(store, rules, "anna@agency.example", dt.date.today(), team=False,
                            until=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1))
    assert not [r for r in manager.review if r["kind"] == "backlog recorded"], "agency-wide: the lead's (round 22b)"
    # re-test of round 21: the header said "52 to review" (lines); 50 listed, "and 50 more", the backlog line
    assert built.review_count == 101 and "101 to review" in text
    assert "100 from before Liaison not answered" in summary.build_message(built, TemplateLibrary(
        rules.template_dir), "accounts@agency.example")["Subject"]
    store.close()

    dovecot.append(revision(make_message, 100))
    dovecot.append(make_message(sender="Client 7 <client7@brewco.com>", subject="Re: Banner 7",
                                in_reply_to="<first-7@brewco.com>", message_id="<first-7b@brewco.com>",
                                body="Please also change the colour of the banner to green."))
    run_once(settings)
    assert acks(smtp_server) == ["<first-100@brewco.com>", "<first-7b@brewco.com>"], \
        "new mail after the first start is answered, in an old thread too"
    assert len(smtp_server.messages) == 4  # their acknowledgements and escalations
    store = Store(settings.db_path)
    reopened = store.one("SELECT t.status FROM threads t JOIN messages m ON m.thread_id = t.id "
                         "WHERE m.message_id = '<first-7b@brewco.com>'")
    assert reopened["status"] == "open"


def test_mail_arriving_after_the_first_start_on_an_empty_folder_is_answered(tmp_path, dovecot, smtp_server,
                                                                             make_message):
    settings = settings_with_backfill(tmp_path, dovecot, smtp_server, "none")
    run_once(settings)  # Liaison first sees the folder empty
    dovecot.append(revision(make_message, 1))
    run_once(settings)
    assert acks(smtp_server) == ["<first-1@brewco.com>"]


def test_a_restart_in_the_middle_of_the_backlog_still_answers_none_of_it(tmp_path, dovecot, smtp_server,
                                                                         make_message, caplog):
    settings = settings_with_backfill(tmp_path, dovecot, smtp_server, "none")
    dovecot.append_many([revision(make_message, n) for n in range(10)])
    # The first start is interrupted after five messages: the position is stored, five remain.
    store = Store(settings.db_path)
    daemon = Daemon(settings, store)
    daemon.source.connect()
    uids = daemon.source.new_uids(0)
    until = daemon.pipeline.backlog_until(settings.folder, daemon.source.uidvalidity, uids, first_sight=True)
    from inbox.pipeline import Position

    for uid, raw, arrived in daemon.source.fetch(uids[:5]):
        daemon.pipeline.ingest(raw, Position(settings.folder, daemon.source.uidvalidity, uid, arrived,
                                             backlog=uid <= until))
    daemon.close()  # as a kill -9 leaves it: nothing said yet about the backlog
    store.close()
    with caplog.at_level(logging.INFO, logger="liaison"):
        run_once(settings)
    assert smtp_server.messages == []
    store = Store(settings.db_path)
    assert store.one("SELECT COUNT(*) AS n FROM messages")["n"] == 10
    # The figure is the whole backlog the first start recorded, not the restart's share of it (found by the ops
    # tester: "447 recorded" of 1,180 after a kill -9), said once.
    whole = "10 message(s) already in INBOX when Liaison first saw it were recorded without answering"
    assert whole in caplog.text and "5 message(s) already" not in caplog.text, caplog.text
    dovecot.append(revision(make_message, 10))
    run_once(settings)
    rules = load_rules(settings.rules_path)
    review = summary.build(store, rules, "lead@agency.example", dt.date.today(), team=True,
                           until=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)).review
    assert [r["reason"] for r in review if r["kind"] == "backlog recorded"] == [f"{whole} (backfill: none)"]
    assert acks(smtp_server) == ["<first-10@brewco.com>"]
    store.close()


def test_backfill_duration_answers_only_recent_mail(tmp_path, dovecot, smtp_server, make_message):
    settings = settings_with_backfill(tmp_path, dovecot, smtp_server, "24h")
    now = dt.datetime.now(dt.UTC)
    for n in range(6):
        arrived = now - dt.timedelta(days=3 + n) if n % 2 else now - dt.timedelta(hours=2 + n)
        dovecot.append(revision(make_message, n, date=arrived), msg_time=arrived)
    run_once(settings)
    assert acks(smtp_server) == ["<first-0@brewco.com>", "<first-2@brewco.com>", "<first-4@brewco.com>"]
    store = Store(settings.db_path)
    assert store.one("SELECT COUNT(*) AS n FROM messages WHERE status = 'processed'")["n"] == 6


def test_backfill_all_answers_everything(tmp_path, dovecot, smtp_server, make_message):
    settings = settings_with_backfill(tmp_path, dovecot, smtp_server, "all")
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)
    dovecot.append(revision(make_message, 1, date=old), msg_time=old)
    run_once(settings)
    assert acks(smtp_server) == ["<first-1@brewco.com>"]
