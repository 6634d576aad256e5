"""The daily triage summary, built from a day of mail through the real pipeline."""

from __future__ import annotations

import email
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from email.policy import default
from pathlib import Path

import pytest

from foundation.accounts import import_accounts, read_accounts_csv
from foundation.settings import ServerSettings, Settings
from foundation.store import Store
from inbox.daemon import Daemon, load_checked_rules
from responders import summary
from responders.templates import TemplateLibrary
from tests.servers import quiet_rules

ROOT = Path(__file__).parent.parent
ACCOUNTS = """account_id,name,code,domains,contacts,account_manager,contracted_rounds
brewco,BrewCo,BREW,brewco.com,,anna@agency.example,2
northbank,North Bank,NBK,northbank.co.uk,,omar@agency.example,3
"""


def day_of_mail(make_message) -> list[bytes]:
    mail = []
    for n in range(3):  # three rounds on one job: over the two contracted
        mail.append(make_message(sender=f"Tom <tom{n}@brewco.com>", subject=f"[BREW-042] banner round {n + 1}",
                                 body="Please change the headline on the banner and swap the hero image."))
    for n in range(2):  # two rounds on another: within contract
        mail.append(make_message(sender=f"Amy <amy{n}@brewco.com>", subject=f"[BREW-050] poster round {n + 1}",
                                 body="Please change the colour of the logo on the poster."))
    mail.append(make_message(sender="Priya <priya@northbank.co.uk>", subject="Invoice INV-4471 is wrong",
                             body="Invoice INV-4471 charges €14,400.00 but the PO was for €12,000.00. "
                                  "Please send a corrected invoice by Friday."))
    # her mail client dropped the threading headers: a chaser in her thread all the same, not acknowledged again
    mail.append(make_message(sender="Priya <priya@northbank.co.uk>", subject="RE: Invoice INV-4471 is wrong",
                             body="Any news on the corrected invoice? Our accounts team is waiting for it."))
    mail.append(make_message(sender="Priya <priya@northbank.co.uk>", subject="Any news on the video?",
                             body="Any news on the explainer video? We need it urgently."))
    mail.append(make_message(sender="Tom <accounts@brewco-invoices.net>", subject="New bank details",
                             body="Please pay invoice INV-7731 to our new bank account."))
    mail.append(b"\x01\x02 not an email \xff")
    return mail


@pytest.fixture
def summary_run(tmp_path, dovecot, smtp_server, make_message):
    (tmp_path / "accounts.csv").write_text(ACCOUNTS)
    rules = quiet_rules(tmp_path, ROOT / "rules.yaml", **{
        "  enabled: false ": "  enabled: true ", 'time: "08:00"': 'time: "00:00"',
        "skip_days: [sat, sun]": "skip_days: []"})
    settings = Settings(
        address="accounts@agency.example", agency_domains=("agency.example",), db_path=tmp_path / "liaison.db",
        rules_path=rules,
        imap=ServerSettings(dovecot.host, dovecot.port, dovecot.user, dovecot.password, security="none"),
        smtp=ServerSettings(smtp_server.host, smtp_server.port, security="none"))
    store = Store(settings.db_path)
    import_accounts(store, read_accounts_csv(tmp_path / "accounts.csv"))
    store.close()
    # The day's mail arrives first; the summary is planned at the end of the same run.
    dovecot.append_many(day_of_mail(make_message))
    return settings


def run_once(settings: Settings) -> None:
    store = Store(settings.db_path)
    Daemon(settings, store).run_once()
    store.close()


def summaries(smtp_server) -> dict[str, email.message.EmailMessage]:
    found = {}
    for _, rcpts, raw in smtp_server.messages:
        message = email.message_from_bytes(raw, policy=default)
        if message["Subject"].startswith("Liaison triage"):
            assert rcpts[0] not in found, f"second summary for {rcpts[0]}"
            found[rcpts[0]] = message
    return found


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def test_summary_content_and_once_per_day_across_restart(summary_run, smtp_server):
    run_once(summary_run)  # the summary time (00:00) has passed: missed, so caught up now
    run_once(summary_run)  # a restart the same day sends nothing again
    sent = summaries(smtp_server)
    assert set(sent) == {"anna@agency.example", "omar@agency.example", "lead@agency.example"}

    anna = text_of(sent["anna@agency.example"])
    assert "5 client message(s)" in anna
    assert "BREW-042: 3 round(s) of 2 contracted  <-- OVER SCOPE" in anna
    assert "BREW-050: 2 round(s) of 2 contracted\n" in anna
    assert "North Bank" not in anna.split("REVIEW")[0], "an account manager sees only their accounts"
    # round 20: impostors' mail is not counted as the client's, and the header says so
    assert "(and 1 from suspicious senders, under Review)" in text_of(sent["lead@agency.example"])

    omar = text_of(sent["omar@agency.example"])
    assert "INV-4471" in omar.split("BILLING")[1].split("PROMISES")[0]
    assert "€14,400.00" in omar
    assert "Progress query | URGENT" in omar

    lead = text_of(sent["lead@agency.example"])
    review = lead.split("REVIEW")[1]
    assert "QUARANTINED" in review and "SUSPICIOUS" in review and "brewco-invoices.net" in review
    assert sent["lead@agency.example"].get_body(preferencelist=("html",)) is not None
    # Counts, not a bare share beside "N client message(s)": the chaser was read, not acknowledged again, and is no
    # request of its own (blind round 25: "11 of 32" with every thread answered). The impostor's mail is under
    # Review only: not a client message, nor a request of the client's.
    counts = re.search(r"Acknowledged automatically: (\d+) of (\d+) request\(s\)", lead)
    assert counts and (int(counts[1]), int(counts[2])) == (7, 7)
    assert "8 client message(s)" in lead


def test_no_summary_before_its_time(tmp_path, summary_run, smtp_server):
    rules = Path(summary_run.rules_path)
    rules.write_text(rules.read_text().replace('time: "00:00"', 'time: "23:59"'))
    now = datetime.now(UTC).astimezone(load_checked_rules(rules).zone())
    if now.hour == 23 and now.minute == 59:
        pytest.skip("the one minute of the day when 23:59 has passed")
    run_once(summary_run)
    assert summaries(smtp_server) == {}


def test_skip_days_are_respected(summary_run):
    rules = load_checked_rules(Path(summary_run.rules_path))
    assert summary.due_day(rules, datetime(2026, 11, 23, 9, tzinfo=UTC)) is not None
    skipping = Path(summary_run.rules_path)
    skipping.write_text(skipping.read_text().replace("skip_days: []", "skip_days: [mon]"))
    assert summary.due_day(load_checked_rules(skipping), datetime(2026, 11, 23, 9, tzinfo=UTC)) is None


def test_html_preview_in_a_real_browser(summary_run, tmp_path):
    rules_file = Path(summary_run.rules_path)
    rules_file.write_text(rules_file.read_text().replace("  enabled: true ", "  enabled: false "))
    run_once(summary_run)  # the day's mail, no summary sent yet: the preview shows all of it
    store = Store(summary_run.db_path)
    rules = load_checked_rules(Path(summary_run.rules_path))
    day = datetime.now(UTC).astimezone(rules.zone()).date()
    _, html = summary.render(summary.build(store, rules, "lead@agency.example", day, team=True), TemplateLibrary())
    page = tmp_path / "summary.html"
    page.write_text(html)
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.fail("chromium is not installed: `bash .ci/run` installs it")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([browser, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True,
                         timeout=120).stdout
    for section in ("summary-title", "since-last", "needs-you", "scope-watch", "billing", "promises", "review",
                    "trend"):
        assert f'id="{section}"' in dom, section
    assert "over scope" in dom
    (ROOT / "build").mkdir(exist_ok=True)
    shot = ROOT / "build" / "summary-preview.png"  # for a human to look at (git ignores build/)
    subprocess.run([browser, *flags, "--window-size=900,1800", f"--screenshot={shot}", page.as_uri()],
                   capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 10_000


def test_a_summary_sent_by_hand_is_the_days_summary_the_schedule_does_not_send_another(summary_run):
    """Found by the ops tester: `liaison summary --send`, then the daemon passing summary.time the same day,
    gave each recipient two summaries. A forced send still always sends (it is asked for)."""
    rules = load_checked_rules(Path(summary_run.rules_path))
    store = Store(summary_run.db_path)
    templates = TemplateLibrary(rules.template_dir)
    now = datetime.now(UTC)
    by_hand = summary.plan_due(store, rules, templates, summary_run.address, now, force=True)
    assert by_hand >= 2  # the team lead and the account managers
    assert summary.plan_due(store, rules, templates, summary_run.address, now) == 0
    later = now + timedelta(seconds=1)
    assert summary.plan_due(store, rules, templates, summary_run.address, later, force=True) == by_hand
    store.close()


@pytest.mark.parametrize("date_header", ["Mon, 1 Jan 2001 09:00:00 +0000", "Sat, 1 Jan 2039 09:00:00 +0000"])
def test_the_review_section_shows_when_liaison_received_a_message_not_its_date_header(
        tmp_path, dovecot, smtp_server, date_header):
    """From the blind tester: the Review section showed the sender's Date header, which the sender writes
    (years off, or in the future). Every time the summary shows is when the message reached the mailbox."""
    from tests.servers import liaison_settings

    settings = liaison_settings(tmp_path, dovecot, smtp_server, ACCOUNTS)
    body = ("Subject: {subject}\r\nTo: accounts@agency.example\r\nDate: " + date_header + "\r\n"
            "Message-ID: <{n}@x.example>\r\n\r\n{text}\r\n")
    dovecot.append(("From: Tom <tom@brewco.com.evil.example>\r\n" + body.format(
        subject="Invoice 4471 amount wrong", n=1, text="Invoice 4471 is wrong, please correct it.")).encode())
    dovecot.append(("From: Tom <tom@brewco.com>\r\n" + body.format(
        subject="Out of office", n=2, text="I am out of the office until Monday.")).encode())
    store = Store(settings.db_path)
    Daemon(settings, store).run_once()
    rules = load_checked_rules(settings.rules_path)
    built = summary.build(store, rules, "lead@agency.example", datetime.now(UTC).date(), team=True,
                          until=datetime.now(UTC) + timedelta(minutes=1))
    arrived = {f"#{r['id']}": r["arrived_at"][:16].replace("T", " ")
               for r in store.all("SELECT id, arrived_at FROM messages")}
    store.close()
    review = [item for item in built.review if item["ref"] in ("#1", "#2")]
    assert {item["kind"] for item in review} == {"suspicious", "automatic by its text"}, built.review
    assert [item["date"] for item in review] == [arrived[item["ref"]] for item in review], review
    text, html = summary.render(built, TemplateLibrary(rules.template_dir))
    assert date_header[-19:-15] not in text + html, text


def test_requests_with_no_job_reference_are_not_counted_as_rounds(summary_run, dovecot, smtp_server, make_message):
    """Blind round 20: nine unrelated requests showed as "(no job ref): 9 round(s) of 2 contracted"."""
    dovecot.append_many([make_message(sender=f"Tom <tom{n}@brewco.com>", subject=subject,
                                      body=f"Please change the {thing}.")
                         for n, (subject, thing) in enumerate([("Flyer", "flyer's headline colour"),
                                                               ("Menu board", "menu board's font"),
                                                               ("Website", "hero image on the website")])])
    run_once(summary_run)
    anna = text_of(summaries(smtp_server)["anna@agency.example"])
    assert "(no job ref): 3 revision request(s) not counted as rounds" in anna, anna
    assert not re.search(r"no job ref\): \d+ round", anna)


def test_a_sender_without_an_address_is_listed_by_the_name_it_gave():
    """Blind round 20: `"Tom Hill" <>` was listed as "(no sender address)" alone."""
    from responders.summary import _sender_of

    assert _sender_of({"from_addr": "", "from_name": "Tom Hill"}) == '"Tom Hill" (no sender address)'
    assert _sender_of({"from_addr": "", "from_name": ""}) == "(no sender address)"
    assert _sender_of({"from_addr": "tom@brewco.com", "from_name": "Tom"}) == "tom@brewco.com"


@pytest.mark.parametrize("team_lead", [True, False])
def test_a_refused_rules_edit_is_the_team_leads_to_mend_or_everyones_without_one(tmp_path, team_lead):
    """A refused rules edit or a failing task is about Liaison, not a client: with a team lead it is in the agency-wide
    summary only (each manager's listed it too); without one, every summary has it, as nobody else would see it."""
    store = Store(tmp_path / "db")
    import_accounts(store, read_accounts_csv(_written(tmp_path / "accounts.csv", ACCOUNTS)))
    store.event("rules_refused", {"problems": ["rules.yaml:3:1: duplicate key 'mode'"]})
    store.event("task_failed", {"reason": "summaries failed: 'no_such_field' is undefined"})
    text = (ROOT / "rules.yaml").read_text()
    if not team_lead:
        text = re.sub(r"(?m)^  team_lead: .*\n", "", text)
    rules_path = tmp_path / "rules.yaml"
    rules_path.write_text(text)
    rules = load_checked_rules(rules_path)
    until = datetime.now(UTC) + timedelta(minutes=1)

    def kinds(recipient: str, *, team: bool) -> set[str]:
        built = summary.build(store, rules, recipient, until.date(), team=team, until=until)
        return {item["kind"] for item in built.review}

    assert kinds("lead@agency.example", team=True) == {"rules refused", "task failed"}
    assert kinds("anna@agency.example", team=False) == (set() if team_lead else {"rules refused", "task failed"})


def _written(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_a_rules_review_action_lists_the_message_in_its_managers_summary(tmp_path, dovecot, smtp_server,
                                                                            make_message):
    """Blind round 24: `review: REASON` (the shipped "perhaps a request" among them) was logged and reached no
    summary. The message is listed under Review, with the rule's reason, for its manager and the team lead."""
    rules = quiet_rules(tmp_path, ROOT / "rules.yaml", **{"\nrules:\n": "\nrules:\n  - name: mark\n    when: {sender: "
                                                          "mark@brewco.com}\n    then:\n      - review: Mark wrote\n"})
    settings, store = with_accounts(tmp_path, dovecot, smtp_server, rules)
    dovecot.append(make_message(sender="Mark <mark@brewco.com>", subject="Labels", message_id="<mark1@brewco.com>",
                                body="Please change the headline on the label to 'Brewed for May'."))
    run_once(settings)
    until = datetime.now(UTC) + timedelta(minutes=1)
    checked = load_checked_rules(rules)
    for recipient, team in (("anna@agency.example", False), ("lead@agency.example", True)):
        review = summary.build(store, checked, recipient, until.date(), team=team, until=until).review
        (item,) = [r for r in review if r["subject"] == "Labels"]
        assert item["kind"] == "needs review" and item["reason"].endswith(": Mark wrote"), item
    other = summary.build(store, checked, "omar@agency.example", until.date(), team=False, until=until).review
    assert not [r for r in other if r["subject"] == "Labels"]


def with_accounts(tmp_path, dovecot, smtp_server, rules: Path) -> tuple[Settings, Store]:
    (tmp_path / "accounts.csv").write_text(ACCOUNTS)
    settings = Settings(
        address="accounts@agency.example", agency_domains=("agency.example",), db_path=tmp_path / "liaison.db",
        rules_path=rules,
        imap=ServerSettings(dovecot.host, dovecot.port, dovecot.user, dovecot.password, security="none"),
        smtp=ServerSettings(smtp_server.host, smtp_server.port, security="none"))
    store = Store(settings.db_path)
    import_accounts(store, read_accounts_csv(tmp_path / "accounts.csv"))
    return settings, store


def test_a_chaser_leaves_its_thread_in_the_section_of_what_was_asked(tmp_path, dovecot, smtp_server, make_message):
    """Blind round 24: "just checking you got this?" under a billing issue showed the thread as a progress query,
    out of Billing. A chase is no new request: the thread stays what the client asked."""
    settings, store = with_accounts(tmp_path, dovecot, smtp_server, quiet_rules(tmp_path, ROOT / "rules.yaml"))
    dovecot.append(make_message(sender="Tom <tom@brewco.com>", subject="Invoice INV-2291",
                                message_id="<inv@brewco.com>",
                                body="Invoice INV-2291 charges us for five banners but we only ordered three. "
                                     "Please send a corrected invoice."))
    run_once(settings)
    dovecot.append(make_message(sender="Tom <tom@brewco.com>", subject="Re: Invoice INV-2291",
                                message_id="<chase@brewco.com>", in_reply_to="<inv@brewco.com>",
                                body="Hi, just checking you got this? Any update?"))
    run_once(settings)
    assert store.scalar("SELECT is_chaser FROM messages WHERE message_id = '<chase@brewco.com>'") == 1
    until = datetime.now(UTC) + timedelta(minutes=1)
    built = summary.build(store, load_checked_rules(settings.rules_path), "anna@agency.example", until.date(),
                          team=False, until=until)
    (thread,) = built.needs_you
    assert thread["category"] == "billing_issue" and thread["chasers"] == 1, thread
    assert [t["subject"] for t in built.billing] == ["Invoice INV-2291"]


def test_summary_send_counts_what_was_sent_of_its_own_summaries(summary_run, monkeypatch, capsys, smtp_server):
    """`liaison summary --send` says how many of the summaries it planned went out, whoever sent them (blind round
    24b: beside a running daemon it printed "4 planned, 1 sent", which read as three lost)."""
    from inbox.cli import main

    for name, value in {"LIAISON_CONFIG": "", "LIAISON_DB": str(summary_run.db_path),
                        "LIAISON_RULES": str(summary_run.rules_path), "LIAISON_ADDRESS": summary_run.address,
                        "LIAISON_SMTP_HOST": smtp_server.host, "LIAISON_SMTP_PORT": str(smtp_server.port),
                        "LIAISON_SMTP_SECURITY": "none", "LIAISON_IMAP_HOST": "127.0.0.1",
                        "LIAISON_IMAP_USER": "x"}.items():
        monkeypatch.setenv(name, value)
    assert main(["summary", "--send"]) == 0
    planned, sent = re.fullmatch(r"(\d+) summary\(ies\) planned, (\d+) sent, 0 to retry, 0 failed\n",
                                 capsys.readouterr().out).groups()
    assert int(planned) >= 2 and sent == planned
    assert len([m for m in smtp_server.parsed() if str(m["Subject"]).startswith("Liaison triage")]) == int(planned)
