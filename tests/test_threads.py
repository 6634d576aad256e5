"""Threads: chasers, handled by an agency reply, \\Answered or the Done folder; outsiders kept out."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from foundation.settings import Settings
from foundation.store import Store
from inbox.daemon import Daemon
from tests.servers import liaison_settings

ROOT = Path(__file__).parent.parent
ACCOUNTS = ("account_id,name,code,domains,contacts,account_manager\n"
            "brewco,BrewCo,BREW,brewco.com,,anna@agency.example\n")


@pytest.fixture
def settings(tmp_path, dovecot, smtp_server):
    return liaison_settings(tmp_path, dovecot, smtp_server, ACCOUNTS, done_folder="Done")


def run_once(settings: Settings) -> Store:
    store = Store(settings.db_path)
    Daemon(settings, store).run_once()
    return store


def store_of(settings: Settings) -> Store:
    return Store(settings.db_path)


def thread_of(store: Store, message_id: str) -> dict:
    return store.one("SELECT t.* FROM threads t JOIN messages m ON m.thread_id = t.id WHERE m.message_id = ?",
                     [message_id])


def acks(smtp_server) -> list:
    return [m for m in smtp_server.parsed() if m["Auto-Submitted"] == "auto-replied"]


def test_chaser_is_counted_and_not_acknowledged_twice(settings, dovecot, smtp_server, make_message):
    dovecot.append(make_message(sender="tom@brewco.com", subject="Banner", message_id="<c1@brewco.com>",
                                body="Please change the banner headline."))
    run_once(settings)
    dovecot.append(make_message(sender="tom@brewco.com", subject="Re: Banner", in_reply_to="<c1@brewco.com>",
                                message_id="<c2@brewco.com>", body="Any update on this? Still waiting."))
    dovecot.append(make_message(sender="tom@brewco.com", subject="Re: Banner", in_reply_to="<c2@brewco.com>",
                                message_id="<c3@brewco.com>", body="Third time asking!!"))
    store = run_once(settings)
    thread = thread_of(store, "<c3@brewco.com>")
    assert thread["chasers"] == 2 and thread["status"] == "open"
    assert len(acks(smtp_server)) == 1
    assert store.one("SELECT is_chaser, link_reason FROM messages WHERE message_id = '<c3@brewco.com>'") == {
        "is_chaser": 1, "link_reason": "thread"}


def test_a_sign_off_in_an_acknowledged_thread_is_no_chaser_and_the_summary_says_it_was_acknowledged(
        settings, dovecot, smtp_server, make_message):
    """Blind round 22: "Looks good, go ahead with the final export." after an acknowledged revision request was
    listed as "Other | chased 1x ... not acknowledged (no rule matched)"."""
    from foundation.rules import load_rules
    from responders import summary

    dovecot.append(make_message(sender="tom@brewco.com", subject="Capsule art", message_id="<r1@brewco.com>",
                                body="Please change the headline on the capsule art to 'Brewed for May'."))
    run_once(settings)
    dovecot.append(make_message(sender="tom@brewco.com", subject="Re: Capsule art", in_reply_to="<r1@brewco.com>",
                                message_id="<r2@brewco.com>", body="Looks good, go ahead with the final export."))
    store = run_once(settings)
    assert len(acks(smtp_server)) == 1
    assert thread_of(store, "<r2@brewco.com>")["chasers"] == 0
    first = store.one("SELECT id FROM messages WHERE message_id = '<r1@brewco.com>'")["id"]
    built = summary.build(store, load_rules(settings.rules_path), "anna@agency.example", datetime.now(UTC).date(),
                          team=False, until=datetime.now(UTC) + timedelta(minutes=1))
    (line,) = [t for t in built.needs_you if t["subject"] == "Capsule art"]
    assert line["chasers"] == 0 and line["ack"] == f"acknowledged earlier (#{first}, specific)", line


def test_agency_reply_closes_and_automatic_mail_never_changes_a_thread(settings, dovecot, make_message):
    dovecot.append(make_message(sender="tom@brewco.com", subject="Invoice", message_id="<h1@brewco.com>",
                                body="The invoice INV-2231 has the wrong amount."))
    run_once(settings)
    dovecot.append(make_message(sender="tom@brewco.com", subject="Auto: Invoice", in_reply_to="<h1@brewco.com>",
                                headers={"Auto-Submitted": "auto-replied"}, body="I am out of the office."))
    store = run_once(settings)
    assert thread_of(store, "<h1@brewco.com>")["status"] == "open"
    dovecot.append(make_message(sender="Anna <anna@agency.example>", subject="Re: Invoice",
                                in_reply_to="<h1@brewco.com>", body="Corrected invoice attached."))
    store = run_once(settings)
    thread = thread_of(store, "<h1@brewco.com>")
    assert thread["status"] == "handled" and "anna@agency.example" in thread["handled_reason"]


def test_answered_flag_marks_handled(settings, dovecot, make_message):
    uid = dovecot.append(make_message(sender="tom@brewco.com", subject="Video", message_id="<a1@brewco.com>",
                                      body="Any news on the video?"))
    run_once(settings)
    dovecot.set_flags(uid, [b"\\Answered"])
    store = run_once(settings)
    assert "Answered" in thread_of(store, "<a1@brewco.com>")["handled_reason"]


def test_move_to_done_folder_marks_handled(settings, dovecot, make_message):
    uid = dovecot.append(make_message(sender="tom@brewco.com", subject="Logo", message_id="<d1@brewco.com>",
                                      body="Please make the logo bigger."))
    run_once(settings)
    dovecot.move(uid, "Done")
    store = run_once(settings)
    assert thread_of(store, "<d1@brewco.com>")["handled_reason"] == "moved to Done"


def test_subject_code_from_outsider_never_joins_an_existing_thread(settings, dovecot, smtp_server, make_message):
    dovecot.append(make_message(sender="tom@brewco.com", subject="[BREW-042] Banner", message_id="<o1@brewco.com>",
                                body="Please change the banner headline."))
    run_once(settings)
    dovecot.append(make_message(sender="stranger@gmail.com", subject="Re: [BREW-042] Banner",
                                message_id="<o2@gmail.com>", body="Please also change the price to £1."))
    store = run_once(settings)
    first, second = thread_of(store, "<o1@brewco.com>"), thread_of(store, "<o2@gmail.com>")
    assert first["id"] != second["id"]
    row = store.one("SELECT account_id, link_reason, link_detail FROM messages WHERE message_id = '<o2@gmail.com>'")
    assert row["account_id"] == "brewco" and row["link_reason"] == "code"
    assert "outside the account" in row["link_detail"]


def test_a_colleague_our_server_found_forged_neither_closes_a_thread_nor_counts_as_staff(settings, dovecot,
                                                                                        make_message):
    dovecot.append(make_message(sender="tom@brewco.com", subject="Invoice", message_id="<f1@brewco.com>",
                                body="Invoice 4471 charges too much."))
    run_once(settings)
    dovecot.append(make_message(
        sender="Anna <anna@agency.example>", subject="Re: Invoice", in_reply_to="<f1@brewco.com>",
        body="Sorted, ignore this.", headers={"Authentication-Results": "mx.agency.example; spf=fail "
                                             "smtp.mailfrom=agency.example; dmarc=fail header.from=agency.example"}))
    store = run_once(settings)
    assert thread_of(store, "<f1@brewco.com>")["status"] == "open"
    forged = store.one("SELECT staff, suspicious FROM messages WHERE subject = 'Re: Invoice'")
    assert forged["staff"] == 0 and "forged" in forged["suspicious"]


def test_a_contact_of_another_account_whose_references_name_a_thread_opens_its_own(tmp_path, dovecot, smtp_server,
                                                                                    make_message):
    """A stray Message-ID in References (copied, or carried by a mail client from another conversation) never
    moves a client's mail into another client's thread, nor makes it 'suspicious': it is linked to its own
    account, opens its own thread and is acknowledged like any request of that client."""
    accounts = ACCOUNTS + "seaco,SeaCo Ferries,SEA,seaco.example,,liam@agency.example\n"
    settings = liaison_settings(tmp_path, dovecot, smtp_server, accounts)
    dovecot.append(make_message(sender="tom@brewco.com", subject="Banner", message_id="<b1@brewco.com>",
                                body="Please change the banner headline to 'Fresh daily'."))
    run_once(settings)
    dovecot.append(make_message(sender="Claire <claire@seaco.example>", subject="RE: Roscoff posters",
                                message_id="<s1@seaco.example>", in_reply_to="<a1@agency.example>",
                                headers={"References": "<b1@brewco.com> <a1@agency.example>"},
                                body="Please make the ferry on the Roscoff poster bigger and the price smaller."))
    store = run_once(settings)
    row = store.one("SELECT account_id, link_reason, link_detail, suspicious FROM messages "
                    "WHERE message_id = '<s1@seaco.example>'")
    assert (row["account_id"], row["link_reason"], row["suspicious"]) == ("seaco", "domain", None)
    assert "a new thread" in row["link_detail"]
    assert thread_of(store, "<s1@seaco.example>")["id"] != thread_of(store, "<b1@brewco.com>")["id"]
    assert [m["To"] for m in acks(smtp_server)][-1] == "claire@seaco.example"


def test_a_reply_whose_references_hold_its_own_acknowledged_thread_gets_no_second_acknowledgement(
        tmp_path, dovecot, smtp_server, make_message):
    """Its In-Reply-To names another client's thread (a stray ID, nearest first), its References its own
    acknowledged one: it joins its own thread, so no second acknowledgement in that conversation."""
    accounts = ACCOUNTS + "seaco,SeaCo Ferries,SEA,seaco.example,,liam@agency.example\n"
    settings = liaison_settings(tmp_path, dovecot, smtp_server, accounts)
    dovecot.append(make_message(sender="tom@brewco.com", subject="Banner", message_id="<b1@brewco.com>",
                                body="Please change the banner headline to 'Fresh daily'."))
    dovecot.append(make_message(sender="claire@seaco.example", subject="Posters", message_id="<s1@seaco.example>",
                                body="Please make the ferry on the Roscoff poster bigger."))
    run_once(settings)
    assert len(acks(smtp_server)) == 2
    dovecot.append(make_message(sender="claire@seaco.example", subject="Re: Posters", message_id="<s2@seaco.example>",
                                in_reply_to="<b1@brewco.com>",
                                headers={"References": "<s1@seaco.example> <b1@brewco.com>"},
                                body="And the price smaller too, please."))
    store = run_once(settings)
    assert thread_of(store, "<s2@seaco.example>")["id"] == thread_of(store, "<s1@seaco.example>")["id"]
    assert len(acks(smtp_server)) == 2


def test_an_outsiders_reply_in_a_clients_thread_is_no_chaser(settings, dovecot, smtp_server, make_message):
    """It is kept in the thread for its account manager to judge, flagged, but the client did not chase, ask
    for another round, or reopen what a colleague had answered; nor is a colleague's reply a round."""
    from datetime import UTC, datetime, timedelta

    from responders import summary

    dovecot.append(make_message(sender="tom@brewco.com", subject="Banner", message_id="<c1@brewco.com>",
                                body="Please change the banner headline."))
    dovecot.append(make_message(sender="anna@agency.example", subject="Re: Banner", message_id="<c2@agency.example>",
                                in_reply_to="<c1@brewco.com>", body="Could you please change the copy as Tom asks?"))
    run_once(settings)
    assert thread_of(store_of(settings), "<c1@brewco.com>")["status"] == "handled"
    dovecot.append(make_message(sender="pat@random-studio.example", subject="Re: Banner",
                                message_id="<x1@random-studio.example>", in_reply_to="<c1@brewco.com>",
                                body="Any update on this? Please send the new bank details."))
    store = run_once(settings)
    row = store.one("SELECT suspicious, is_chaser FROM messages WHERE message_id = '<x1@random-studio.example>'")
    assert row["suspicious"] and not row["is_chaser"]
    thread = thread_of(store, "<c1@brewco.com>")
    assert thread["chasers"] == 0 and thread["status"] == "handled"
    rounds = summary._scope(store, None, datetime.now(UTC) + timedelta(minutes=1))  # noqa: SLF001 - the section
    assert [r["rounds"] for r in rounds] == [1], "Tom's request is the one round"
    # Tom chases in his own words: the thread waits on him, shown by his message, not the impostor's.
    dovecot.append(make_message(sender="tom@brewco.com", subject="Re: Banner", message_id="<c3@brewco.com>",
                                in_reply_to="<c2@agency.example>", body="Any news on the banner?"))
    store = run_once(settings)
    dovecot.append(make_message(sender="pat@random-studio.example", subject="Re: Banner",
                                message_id="<x2@random-studio.example>", in_reply_to="<c1@brewco.com>",
                                body="Please reply with the invoice."))
    store = run_once(settings)
    waiting = summary._needs_you(store, None, datetime.now(UTC) + timedelta(minutes=1))  # noqa: SLF001
    assert [w["sender"] for w in waiting] == ["tom@brewco.com"], waiting


@pytest.mark.parametrize("padding", [60, 500])
def test_a_long_references_header_still_finds_the_conversations_first_message(settings, dovecot, smtp_server,
                                                                              make_message, padding):
    """The References kept are bounded; the first (the conversation's root) is always among them."""
    dovecot.append(make_message(sender="tom@brewco.com", subject="Flyer", message_id="<r1@brewco.com>",
                                body="Please change the flyer colours to green."))
    run_once(settings)
    others = " ".join(f"<internal-{n}@brewco.com>" for n in range(padding))
    dovecot.append(make_message(sender="tom@brewco.com", subject="Re: Flyer", message_id="<r2@brewco.com>",
                                headers={"In-Reply-To": f"<internal-{padding - 1}@brewco.com>",
                                         "References": f"<r1@brewco.com> {others}"},
                                body="Where are we with the flyer?"))
    store = run_once(settings)
    assert thread_of(store, "<r2@brewco.com>")["id"] == thread_of(store, "<r1@brewco.com>")["id"]
    assert len(acks(smtp_server)) == 1


def test_a_message_that_arrives_after_its_reply_joins_the_replys_thread(settings, dovecot, smtp_server,
                                                                         make_message):
    """Mail is not always delivered in order: the reply (naming the original) came first and was acknowledged;
    the original then joins that conversation, no second acknowledgement."""
    dovecot.append(make_message(sender="bob@brewco.com", subject="Re: Banner resize", message_id="<y2@brewco.com>",
                                in_reply_to="<y1@brewco.com>", body="Also make it 300x250, please."))
    dovecot.append(make_message(sender="bob@brewco.com", subject="Banner resize", message_id="<y1@brewco.com>",
                                body="Please resize the banner to 728x90."))
    store = run_once(settings)
    assert thread_of(store, "<y1@brewco.com>")["id"] == thread_of(store, "<y2@brewco.com>")["id"]
    assert len(acks(smtp_server)) == 1


def test_any_known_id_in_a_long_references_header_finds_the_thread(settings, dovecot, smtp_server, make_message):
    dovecot.append(make_message(sender="tom@brewco.com", subject="Flyer", message_id="<k1@brewco.com>",
                                headers={"References": "<int0@brewco.com>"}, body="Please make the flyer green."))
    run_once(settings)
    middle = " ".join(f"<v{n}@mail.brewco.com>" for n in range(58))
    dovecot.append(make_message(sender="tom@brewco.com", subject="Re: Flyer", message_id="<k2@brewco.com>",
                                headers={"In-Reply-To": "<v57@mail.brewco.com>",
                                         "References": f"<int0@brewco.com> <k1@brewco.com> {middle}"},
                                body="Where are we with the flyer?"))
    store = run_once(settings)
    assert thread_of(store, "<k2@brewco.com>")["id"] == thread_of(store, "<k1@brewco.com>")["id"]
    assert len(acks(smtp_server)) == 1


def test_a_reply_without_threading_headers_joins_its_conversation_by_subject(settings, dovecot, smtp_server,
                                                                          make_message):
    """A webmail form or an old phone drops In-Reply-To and References: "Re:" (in any of the mail clients'
    languages, behind a gateway's [EXTERNAL] tag) and the subject of a conversation started by the sender or a
    colleague at the same domain, active in the last 30 days by arrival, is that conversation: one
    acknowledgement, chasers. A colleague's reply to it without headers closes it. A forward, someone at
    another domain, or a conversation older than that, is a new one."""
    old = datetime.now(UTC) - timedelta(days=40)
    dovecot.append(make_message(sender="tom@brewco.com", subject="Invoice", message_id="<o1@brewco.com>",
                                body="Invoice INV-0501 has the wrong amount.", date=old), msg_time=old)
    dovecot.append(make_message(sender="tom@brewco.com", subject="Spring banner", message_id="<s1@brewco.com>",
                                body="Please change the banner headline."))
    store = run_once(settings)
    mail = [("tom@brewco.com", "[EXTERNAL] RE:  spring BANNER", "s2", "Any update on the banner? Still waiting."),
            ("jo@brewco.com", "ΑΠ: Spring banner", "s3", "Could you also swap the hero image on the banner?"),
            ("tom@brewco.com", "Fwd: Spring banner", "s4", "Please see the invoice below, the amount is wrong."),
            ("tom.hill@gmail.com", "Re: Spring banner", "s5", "Could you make the logo bigger on the banner?"),
            ("tom@brewco.com", "Re: Invoice", "o2", "We were charged twice for INV-0777, please refund one.")]
    for sender, subject, mid, body in mail:
        dovecot.append(make_message(sender=sender, subject=subject, message_id=f"<{mid}@x>", body=body))
    store = run_once(settings)
    first = thread_of(store, "<s1@brewco.com>")
    assert thread_of(store, "<s2@x>")["id"] == thread_of(store, "<s3@x>")["id"] == first["id"]
    assert store.one("SELECT is_chaser, link_reason FROM messages WHERE message_id = '<s2@x>'") == {
        "is_chaser": 1, "link_reason": "thread"}
    for other in ("<s4@x>", "<s5@x>"):
        assert thread_of(store, other)["id"] != first["id"]
    assert thread_of(store, "<o2@x>")["id"] != thread_of(store, "<o1@brewco.com>")["id"]  # 40 days: a new request
    acknowledged = sorted(m["To"] for m in acks(smtp_server))
    assert acknowledged == ["tom@brewco.com"] * 4  # both firsts, the forward, the new invoice; gmail: unlinked

    dovecot.append(make_message(sender="Anna <anna@agency.example>", to="tom@brewco.com", subject="RE: Spring banner",
                                body="Here is the new banner with the headline changed."))
    store = run_once(settings)
    assert thread_of(store, "<s1@brewco.com>")["status"] == "handled"


def test_a_shadow_period_holds_nothing_back_once_live(tmp_path, dovecot, smtp_server, make_message, monkeypatch,
                                                      caplog):
    """Round 22b: a thread "acknowledged" in shadow mode (nothing sent) refused the client's chaser after the switch
    to live as "thread already acknowledged", and the summary said "acknowledged earlier". Round 22c: the shadow
    daemon's log lines read as a live one's."""
    from datetime import date

    from foundation.rules import load_rules
    from responders import summary

    monkeypatch.chdir(tmp_path)  # the shadow daemon's mail goes to ./liaison-shadow
    settings = liaison_settings(tmp_path, dovecot, smtp_server, ACCOUNTS)
    live = settings.rules_path.read_text()
    settings.rules_path.write_text(live.replace("mode: live", "mode: shadow"))
    dovecot.append(make_message(sender="tom@brewco.com", subject="Banner", message_id="<s1@brewco.com>",
                                body="Please change the banner headline."))
    with caplog.at_level(logging.INFO, logger="liaison"):
        store = run_once(settings)
    assert smtp_server.messages == [] and list((Path("liaison-shadow") / "new").iterdir())
    (decided,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("message <s1@")]
    assert decided.endswith("(shadow: nothing sent, mail written to liaison-shadow)"), "a shadow log says so"
    settings.rules_path.write_text(live)
    dovecot.append(make_message(sender="tom@brewco.com", subject="Re: Banner", in_reply_to="<s1@brewco.com>",
                                message_id="<s2@brewco.com>", body="Any update on the banner headline?"))
    store = run_once(settings)
    (ack,) = acks(smtp_server)
    assert ack["In-Reply-To"] == "<s2@brewco.com>", "the client's first real acknowledgement"
    first = store.one("SELECT id FROM messages WHERE message_id = '<s1@brewco.com>'")["id"]
    built = summary.build(store, load_rules(settings.rules_path), "anna@agency.example", date.today(), team=False,
                          until=datetime.now(UTC) + timedelta(minutes=1))
    (line,) = built.needs_you
    # the number is the request's (round 25: what a correction by reply names), the acknowledgement the thread's
    assert line["ref"] == f"#{first}" and line["ack"].startswith("acknowledged ("), line
    assert summary._acknowledgement(store, store.message(first), None) == \
        "not acknowledged (decided in shadow mode: nothing was sent)"


def test_a_removed_account_is_linked_to_no_one_its_threads_closed_and_it_comes_back_on_import(
        settings, dovecot, smtp_server, make_message):
    """Round 23: a client dropped from accounts.csv and imported again stayed, silently, with its 375 open threads,
    its mail acknowledged and escalated to its old manager; there was no way to offboard it."""
    import subprocess
    import sys

    from responders import summary

    dovecot.append(make_message(sender="tom@brewco.com", subject="Banner", message_id="<r1@brewco.com>",
                                body="Please change the banner headline."))
    store = run_once(settings)
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).parent.parent),
           "LIAISON_DB": str(settings.db_path)}

    def liaison(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "inbox.cli", *args], capture_output=True, text=True,
                              env=env, cwd=settings.db_path.parent, timeout=60)

    (settings.db_path.parent / "none.csv").write_text("account_id,name,code,domains,contacts,account_manager\n"
                                                      "acme,Acme,ACM,acme.com,,ben@agency.example\n")
    imported = liaison("accounts", "import", "none.csv")
    assert "kept 1 account(s) this file does not list: brewco (`liaison accounts remove ID`" in imported.stdout
    removed = liaison("accounts", "remove", "brewco")
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout.startswith("removed brewco (BrewCo): 1 open thread(s) closed")
    assert liaison("accounts", "remove", "brewco").stderr.strip() == \
        "liaison: no account 'brewco' (accounts: acme)"
    assert thread_of(store, "<r1@brewco.com>")["handled_reason"] == "account removed"

    dovecot.append(make_message(sender="tom@brewco.com", subject="Flyer", message_id="<r2@brewco.com>",
                                body="Please swap the photo on the flyer."))
    # round 23b: a reply in an old thread was linked to the removed account, and escalated as a suspicious stranger
    dovecot.append(make_message(sender="tom@brewco.com", subject="Re: Banner", message_id="<r3@brewco.com>",
                                in_reply_to="<r1@brewco.com>", body="Any news on the banner headline?"))
    store = run_once(settings)
    for later in store.all("SELECT account_id, suspicious FROM messages WHERE message_id IN "
                           "('<r2@brewco.com>', '<r3@brewco.com>')"):
        assert later["account_id"] is None and later["suspicious"] is None, later
    assert not [m for m in smtp_server.parsed() if "SUSPICIOUS" in (m["Subject"] or "")]
    assert [m["In-Reply-To"] for m in acks(smtp_server)] == ["<r1@brewco.com>"], "no acknowledgement once removed"
    names = summary._account_names(store)
    assert names["brewco"] == "BrewCo", "its past mail keeps its name"

    again = liaison("accounts", "import", str(settings.db_path.parent / "accounts.csv"))
    assert "brought back 1 removed account(s): brewco (their threads closed on removal stay closed" in again.stdout
    assert store.one("SELECT 1 FROM accounts WHERE account_id = 'brewco'")
    assert not store.one("SELECT 1 FROM removed_accounts WHERE account_id = 'brewco'")


def escalations(smtp_server) -> list:
    return [m for m in smtp_server.parsed() if str(m["Subject"]).startswith("[Liaison]")]


def test_a_follow_up_in_a_billing_thread_reaches_finance_too(settings, dovecot, smtp_server, make_message):
    """Blind round 24b: "just checking you got this?" under an overdue-invoice thread went to the account manager
    alone; finance, who had the invoice, never heard of the chase. Round 25: rerouting it as a billing issue sent a new
    progress question to finance as a chased invoice. It is what it was read as; those told of the request hear too."""
    dovecot.append(make_message(sender="tom@brewco.com", subject="Invoice INV-2291", message_id="<b1@brewco.com>",
                                body="Invoice INV-2291 charges us for five banners but we only ordered three. "
                                     "Please send a corrected invoice."))
    run_once(settings)
    first = len(smtp_server.parsed())
    dovecot.append(make_message(sender="tom@brewco.com", subject="Re: Invoice INV-2291", in_reply_to="<b1@brewco.com>",
                                message_id="<b2@brewco.com>", body="Hi, just checking you got this? Any update?"))
    store = run_once(settings)
    assert store.one("SELECT is_chaser, category, chases FROM messages WHERE message_id = '<b2@brewco.com>'") == {
        "is_chaser": 1, "category": "progress_query", "chases": "billing_issue"}
    new = smtp_server.parsed()[first:]
    assert not [m for m in new if m["Auto-Submitted"] == "auto-replied"]  # the thread was acknowledged already
    told = {str(m["To"]): m for m in new if str(m["Subject"]).startswith("[Liaison]")}
    assert set(told) == {"anna@agency.example", "finance@agency.example"}
    for escalation in told.values():
        assert str(escalation["Subject"]).startswith("[Liaison] Progress query (after a billing issue): BrewCo")
        assert "a follow-up in a thread about a billing issue" in escalation.get_body(("plain",)).get_content()
    # the summary keeps the thread where the client's request is
    assert store.thread_request(thread_of(store, "<b2@brewco.com>")["id"])["message_id"] == "<b1@brewco.com>"


def test_an_urgent_nudge_read_as_other_is_a_chase_the_manager_hears_of_now(
        settings, dovecot, smtp_server, make_message):
    """Blind round 24b: "Printer needs them tomorrow now, can you prioritise please!!" in an open progress thread was
    read as other: no one was told, and the thread was not marked chased until the next summary."""
    dovecot.append(make_message(sender="tom@brewco.com", subject="Labels", message_id="<p1@brewco.com>",
                                body="When will the final label artwork be ready? We need to book the printer."))
    run_once(settings)
    first = len(smtp_server.parsed())
    dovecot.append(make_message(sender="tom@brewco.com", subject="Re: Labels", in_reply_to="<p1@brewco.com>",
                                message_id="<p2@brewco.com>",
                                body="Printer needs them tomorrow now, can you prioritise please!!"))
    store = run_once(settings)
    message = store.one("SELECT is_chaser, chases FROM messages WHERE message_id = '<p2@brewco.com>'")
    assert message == {"is_chaser": 1, "chases": "progress_query"}
    assert thread_of(store, "<p2@brewco.com>")["chasers"] == 1
    (escalation,) = [m for m in smtp_server.parsed()[first:] if str(m["Subject"]).startswith("[Liaison]")]
    assert str(escalation["Subject"]).startswith("[Liaison] URGENT Progress query (chased): BrewCo")
    assert str(escalation["To"]) == "anna@agency.example"



def test_asking_after_a_billing_issue_again_after_the_managers_reply_reaches_finance_too(
        settings, dovecot, smtp_server, make_message):
    """Blind round 25: after the manager's reply closed a billing thread, "I still haven't received the credit note
    for INV-7781" (read as a progress query) went to the manager alone."""
    dovecot.append(make_message(sender="tom@brewco.com", subject="Invoice INV-7781", message_id="<d1@brewco.com>",
                                body="We were charged twice for INV-7781. Please send us a credit note."))
    run_once(settings)
    dovecot.append(make_message(sender="anna@agency.example", subject="Re: Invoice INV-7781",
                                in_reply_to="<d1@brewco.com>", message_id="<d2@agency.example>",
                                body="Sorry about that Tom, finance will send the credit note this week."))
    run_once(settings)
    first = len(smtp_server.parsed())
    dovecot.append(make_message(sender="tom@brewco.com", subject="Re: Invoice INV-7781",
                                in_reply_to="<d2@agency.example>", message_id="<d3@brewco.com>",
                                body="Any news on this? Still waiting for it."))
    store = run_once(settings)
    assert store.one("SELECT chases FROM messages WHERE message_id = '<d3@brewco.com>'")["chases"] == "billing_issue"
    escalations = [m for m in smtp_server.parsed()[first:] if str(m["Subject"]).startswith("[Liaison]")]
    told = {str(m["To"]) for m in escalations}
    assert "finance@agency.example" in told and "anna@agency.example" in told
    # round 25b: no mark said it was asked again after the manager's reply
    assert all(" (after a billing issue): " in str(m["Subject"]) or " (asked again): " in str(m["Subject"])
               for m in escalations), [str(m["Subject"]) for m in escalations]
    assert thread_of(store, "<d3@brewco.com>")["status"] == "open"


def test_a_new_request_of_another_kind_in_a_thread_is_no_chase(settings, dovecot, smtp_server, make_message):
    """Blind round 25: a revision request in a progress thread chased once counted as a second chase: "chased 2x |
    URGENT" for a client who had chased once. The summary's acknowledged count leaves follow-ups out too."""
    from foundation.rules import load_rules
    from responders import summary

    dovecot.append(make_message(sender="tom@brewco.com", subject="Poster", message_id="<n1@brewco.com>",
                                body="When will the poster proofs be ready? We need them for the launch."))
    run_once(settings)
    dovecot.append(make_message(sender="tom@brewco.com", subject="Re: Poster", in_reply_to="<n1@brewco.com>",
                                message_id="<n2@brewco.com>", body="Any news on the proofs?"))
    dovecot.append(make_message(sender="tom@brewco.com", subject="Re: Poster", in_reply_to="<n2@brewco.com>",
                                message_id="<n3@brewco.com>",
                                body="Also, please change the poster headline to 'Brewed for May' and make the logo "
                                     "bigger."))
    store = run_once(settings)
    chasers = {r["message_id"]: r["is_chaser"] for r in store.all(
        "SELECT message_id, is_chaser FROM messages WHERE message_id IN ('<n2@brewco.com>', '<n3@brewco.com>')")}
    assert chasers == {"<n2@brewco.com>": 1, "<n3@brewco.com>": 0}
    assert thread_of(store, "<n3@brewco.com>")["chasers"] == 1
    built = summary.build(store, load_rules(settings.rules_path), "anna@agency.example", datetime.now(UTC).date(),
                          team=False, until=datetime.now(UTC) + timedelta(minutes=1))
    (line,) = [t for t in built.needs_you if t["subject"] == "Poster"]
    request = store.one("SELECT id FROM messages WHERE message_id = '<n3@brewco.com>'")["id"]
    assert line["category"] == "revision_request" and line["ref"] == f"#{request}" and not line["urgent"], line
    assert (built.acknowledged, built.requests) == (1, 1)  # follow-ups in the thread are no requests of their own


def test_a_client_writing_to_their_manager_with_the_inbox_copied_gets_no_receipt(
        settings, dovecot, smtp_server, make_message):
    """Blind round 25: a client who wrote to their manager, the shared inbox in Cc, was thanked by a robot, and the
    manager got the mail a second time as an escalation. Finance, whom the client did not write to, still hears."""
    raw = make_message(sender="tom@brewco.com", subject="Invoice INV-88", message_id="<w1@brewco.com>",
                       body="Anna, invoice INV-88 charges us twice for the banners. Please send a corrected one.")
    raw = raw.replace(b"To: accounts@agency.example", b"To: anna@agency.example\r\nCc: accounts@agency.example", 1)
    assert b"Cc: accounts@agency.example" in raw
    dovecot.append(raw)
    store = run_once(settings)
    assert not acks(smtp_server)
    told = [str(m["To"]) for m in smtp_server.parsed() if str(m["Subject"]).startswith("[Liaison]")]
    assert told == ["finance@agency.example"], told
    route = store.one("SELECT route FROM messages WHERE message_id = '<w1@brewco.com>'")["route"]
    assert "written to anna@agency.example, the shared inbox only copied" in route


def test_a_second_request_of_another_kind_is_shown_beside_the_first_and_in_the_billing_list(
        settings, dovecot, smtp_server, make_message):
    """Round 25 leftover: the summary showed each thread under its latest request, so a billing question asked in a
    revision thread hid the revision (and a revision asked after a billing question was missing from billing)."""
    from foundation.rules import load_rules
    from responders import summary
    from responders.templates import TemplateLibrary

    dovecot.append(make_message(sender="tom@brewco.com", subject="Poster", message_id="<k1@brewco.com>",
                                body="Please change the poster headline to 'Brewed for May' and make the logo bigger."))
    run_once(settings)
    dovecot.append(make_message(sender="tom@brewco.com", subject="Re: Poster", in_reply_to="<k1@brewco.com>",
                                message_id="<k2@brewco.com>",
                                body="Also, invoice INV-5512 for the poster charged us twice. Please send a credit "
                                     "note for the duplicate."))
    store = run_once(settings)
    rules = load_rules(settings.rules_path)

    def build():
        return summary.build(store, rules, "anna@agency.example", datetime.now(UTC).date(), team=False,
                             until=datetime.now(UTC) + timedelta(minutes=1))

    ids = {r["message_id"]: r["id"] for r in store.all("SELECT id, message_id FROM messages")}
    built = build()
    (line,) = [t for t in built.needs_you if t["subject"] == "Poster"]
    assert line["category"] == "billing_issue" and line["ref"] == f"#{ids['<k2@brewco.com>']}", line
    assert line["also"] == [{"category": "revision_request", "ref": f"#{ids['<k1@brewco.com>']}"}]
    assert [b["subject"] for b in built.billing] == ["Poster"]
    text, _ = summary.render(built, TemplateLibrary(rules.template_dir))
    assert f"Billing issue + Revision request (#{ids['<k1@brewco.com>']})" in text, text
    # the agency answers both; a new request after that is waiting alone
    dovecot.append(make_message(sender="anna@agency.example", subject="Re: Poster", in_reply_to="<k2@brewco.com>",
                                message_id="<k3@agency.example>", body="Done, and the credit note is on its way."))
    dovecot.append(make_message(sender="tom@brewco.com", subject="Re: Poster", in_reply_to="<k3@agency.example>",
                                message_id="<k4@brewco.com>",
                                body="Thanks. One more change please: make the headline red instead of black."))
    store = run_once(settings)
    (line,) = [t for t in build().needs_you if t["subject"] == "Poster"]
    assert (line["category"], line["also"]) == ("revision_request", []), line


PORTAL_NOTICE = ("Invoice INV-5531 from your agency was REJECTED by BrewCo Accounts Payable.\n\nReason: the PO number "
                 "is missing. Please resubmit the invoice with a valid purchase order number.\n\nThis is an automated "
                 "message from the BrewCo supplier portal.")


def test_a_clients_purchasing_portal_rejecting_an_invoice_reaches_finance_and_the_manager_and_is_never_answered(
        settings, dovecot, smtp_server, make_message):
    """Round 25 leftover: automatic mail from a client's purchasing portal ("invoice REJECTED") reached no one: the
    automatic-mail rule stopped it. RFC 3834 forbids an answer, not telling the people it concerns."""
    from foundation.rules import load_rules
    from responders import summary

    dovecot.append(make_message(sender="BrewCo Supplier Portal <noreply@brewco.com>",
                                subject="Invoice INV-5531 rejected", message_id="<p1@brewco.com>",
                                headers={"Auto-Submitted": "auto-generated"}, body=PORTAL_NOTICE))
    store = run_once(settings)
    sent = smtp_server.parsed()
    assert not acks(smtp_server)
    assert {str(m["To"]) for m in sent} == {"finance@agency.example", "anna@agency.example"}, [
        (str(m["To"]), str(m["Subject"])) for m in sent]
    row = store.one("SELECT category, automatic, class_reasons FROM messages WHERE message_id = '<p1@brewco.com>'")
    # no client's request (the eval sets' writers label such notices other), its words read for the rules
    assert row["category"] == "other" and row["automatic"] == "Auto-Submitted: auto-generated"
    assert "its words read as billing_issue" in row["class_reasons"]
    (escalation, *_) = sent
    text = escalation.get_body(("plain",)).get_content()
    assert str(escalation["Subject"]).startswith("[Liaison] Billing issue notice: BrewCo - "), escalation["Subject"]
    assert "A program of the client's wrote this on its own" in text and "Reply to this email" not in text
    assert escalation["Reply-To"] is None  # a manager's answer to noreply@ would go nowhere
    built = summary.build(store, load_rules(settings.rules_path), "anna@agency.example", datetime.now(UTC).date(),
                          team=False, until=datetime.now(UTC) + timedelta(minutes=1))
    assert [r["subject"] for r in built.review] == ["Invoice INV-5531 rejected"], built.review


@pytest.mark.parametrize(("sender", "subject", "headers"), [
    # an out-of-office of the client's accounts payable, answering our receipt about an invoice
    ("Ruth <ruth@brewco.com>", "Automatic reply: Invoice INV-5531 rejected", {"Auto-Submitted": "auto-replied"}),
    # a bounce, whatever else it says of itself
    ("MAILER-DAEMON@brewco.com", "Undeliverable: Invoice INV-5531 rejected", {"Auto-Submitted": "auto-generated"}),
    ("Portal <noreply@brewco.com>", "Invoice INV-5531 rejected", {"Auto-Submitted": "auto-generated",
                                                                  "Return-Path": "<>"}),
    # a newsletter of the client's, whatever Auto-Submitted it also carries (blind round 26b)
    ("BrewCo News <news@brewco.com>", "Invoice INV-5531 rejected", {"List-Unsubscribe": "<mailto:u@brewco.com>"}),
    ("BrewCo News <news@brewco.com>", "Invoice INV-5531 rejected", {"List-Id": "<news.brewco.com>",
                                                                    "Auto-Submitted": "auto-generated"}),
    ("BrewCo News <news@brewco.com>", "Invoice INV-5531 rejected", {"Precedence": "bulk",
                                                                    "Auto-Submitted": "auto-generated"}),
])
def test_other_automatic_mail_about_an_invoice_still_reaches_no_one(settings, dovecot, smtp_server, make_message,
                                                                    sender, subject, headers):
    dovecot.append(make_message(sender=sender, subject=subject, headers=headers, body=PORTAL_NOTICE))
    run_once(settings)
    assert smtp_server.parsed() == []


def test_an_escalation_of_a_mail_with_no_text_says_where_its_words_are(settings, dovecot, smtp_server, make_message):
    """Blind round 26: a TNEF-only mail (winmail.dat) was escalated with an empty "What they wrote:"."""
    dovecot.append(make_message(sender="tom@brewco.com", subject="Changes to the brochure", body="",
                                attachments=[("winmail.dat", b"\x78\x9f\x3e\x22" + bytes(200))]))
    run_once(settings)
    (escalation,) = [m for m in smtp_server.parsed() if str(m["Subject"]).startswith("[Liaison]")]
    text = escalation.get_body(("plain",)).get_content()
    assert "What they wrote:\n(no text: the message is in winmail.dat, Outlook's own format" in text, text


def test_exclamation_marks_in_a_thanks_make_no_thread_urgent(settings, dovecot, smtp_server, make_message):
    """Blind round 26c: "Thanks!!" in a thread asking for proofs by Friday marked it URGENT in the summary: the
    marks of one message and the deadline of another were read together. Haste is judged message by message."""
    from foundation.rules import load_rules
    from responders import summary

    dovecot.append(make_message(sender="tom@brewco.com", subject="Poster", message_id="<u1@brewco.com>",
                                body="When will the poster proofs be ready? We need them by Friday."))
    run_once(settings)
    dovecot.append(make_message(sender="tom@brewco.com", subject="Re: Poster", in_reply_to="<u1@brewco.com>",
                                message_id="<u2@brewco.com>", body="Great, thanks!!"))
    store = run_once(settings)
    built = summary.build(store, load_rules(settings.rules_path), "anna@agency.example", datetime.now(UTC).date(),
                          team=False, until=datetime.now(UTC) + timedelta(minutes=1))
    (line,) = [t for t in built.needs_you if t["subject"] == "Poster"]
    assert not line["urgent"], line
    dovecot.append(make_message(sender="tom@brewco.com", subject="Re: Poster", in_reply_to="<u2@brewco.com>",
                                message_id="<u3@brewco.com>", body="We need the proofs urgently, please."))
    store = run_once(settings)
    built = summary.build(store, load_rules(settings.rules_path), "anna@agency.example", datetime.now(UTC).date(),
                          team=False, until=datetime.now(UTC) + timedelta(minutes=1))
    (line,) = [t for t in built.needs_you if t["subject"] == "Poster"]
    assert line["urgent"], line
