"""Learning from the account managers' corrections: folders, the command line, replies to the summary,
and a retrain that is promoted only when it is no worse (real Dovecot and aiosmtpd throughout)."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from classifiers import learning
from classifiers.model import TextcatClassifier, load_corpus, model_text, split
from classifiers.newest_text import newest_text
from classifiers.training import fit_model
from foundation.errors import LiaisonError
from foundation.store import Store
from inbox import corrections, models
from inbox.cli import main
from inbox.daemon import Daemon, load_checked_rules
from responders import summary
from tests.servers import liaison_settings, run_daemon_while

ACCOUNTS = ("account_id,name,code,domains,contacts,account_manager\n"
            "brewco,BrewCo,BREW,brewco.com,,anna@agency.example\n")


@pytest.fixture
def settings(tmp_path, dovecot, smtp_server):
    return liaison_settings(tmp_path, dovecot, smtp_server, ACCOUNTS)


def run_once(settings) -> Store:
    store = Store(settings.db_path)
    Daemon(settings, store).run_once()
    return store


def folder_named(dovecot, ending: str) -> str:
    with dovecot.client() as client:
        names = [name for _, _, name in client.list_folders()]
    (found,) = [n for n in names if n.endswith(ending)]
    return found


def thanks(make_message) -> bytes:
    # Good news with no request: the model calls it other, and nothing is acknowledged.
    return make_message(sender="Tom Hill <tom@brewco.com>", subject="Launch",
                        body="The campaign went live this morning and the first numbers look great. Thank you all!")


def test_a_move_into_a_correction_folder_is_recorded_within_one_cycle_and_moved_back(settings, dovecot,
                                                                                    make_message):
    uid = dovecot.append(thanks(make_message))
    store = run_once(settings)
    assert store.one("SELECT category FROM messages")["category"] == "other"
    billing = folder_named(dovecot, "Billing issue")  # created by Liaison on its first cycle
    dovecot.move(uid, billing)
    store = run_once(settings)
    row = store.one("SELECT category, class_source, thread_id FROM messages")
    assert (row["category"], row["class_source"]) == ("billing_issue", "correction")
    (correction,) = store.all("SELECT * FROM corrections")
    assert (correction["old_category"], correction["new_category"]) == ("other", "billing_issue")
    assert store.one("SELECT status FROM threads WHERE id = ?", [row["thread_id"]])["status"] == "open"
    assert dovecot.uids(billing) == [] and len(dovecot.uids("INBOX")) == 1  # back where it was
    run_once(settings)  # the message moved back is recognised, not processed or corrected again
    assert store.one("SELECT COUNT(*) AS n FROM corrections")["n"] == 1
    assert store.one("SELECT COUNT(*) AS n FROM messages WHERE status = 'processed'")["n"] == 1


def test_a_copy_is_recorded_and_the_original_is_left_alone(settings, dovecot, make_message):
    uid = dovecot.append(thanks(make_message))
    run_once(settings)
    progress = folder_named(dovecot, "Progress query")
    with dovecot.client() as client:
        client.select_folder("INBOX")
        client.copy([uid], progress)
    store = run_once(settings)
    assert store.one("SELECT category FROM messages")["category"] == "progress_query"
    assert len(dovecot.uids(progress)) == 1 and dovecot.uids("INBOX") == [uid]


def test_not_a_client_unlinks_the_message(settings, dovecot, make_message):
    uid = dovecot.append(make_message(sender="tom@brewco.com", subject="Banner", body="Please change the banner."))
    run_once(settings)
    dovecot.move(uid, folder_named(dovecot, "Not a client"))
    store = run_once(settings)
    row = store.one("SELECT category, account_id, link_reason FROM messages")
    assert (row["category"], row["account_id"], row["link_reason"]) == ("other", None, "corrected: not a client")


def test_the_command_line_correction_and_a_wrong_acknowledgement_listed_for_review(settings, dovecot, make_message,
                                                                                  monkeypatch, capsys):
    dovecot.append(make_message(sender="Tom <tom@brewco.com>", subject="Banner", message_id="<b1@brewco.com>",
                                body="Please change the headline on the banner to 'Brewed for May'."))
    run_once(settings)
    monkeypatch.setenv("LIAISON_DB", str(settings.db_path))
    assert main(["correct", "b1@brewco.com", "billing"]) == 0
    assert "acknowledged as revision_request" in capsys.readouterr().out
    store = Store(settings.db_path)
    rules = load_checked_rules(settings.rules_path)
    review = summary.build(store, rules, "lead@agency.example", datetime.now(UTC).date(), team=True,
                           until=datetime.now(UTC) + timedelta(minutes=1)).review
    (wrong,) = [r for r in review if r["kind"] == "acknowledged wrongly"]
    assert "thanked for a revision request; corrected to billing issue" in wrong["reason"]
    assert wrong["ref"] == f"#{store.one('SELECT id FROM messages')['id']}"
    assert main(["correct", "b1@brewco.com", "billing"]) == 1  # already billing: not counted twice
    assert "already billing_issue" in capsys.readouterr().err
    assert main(["correct", "b1@brewco.com", "progress"]) == 0  # the client was still told "revision"
    assert "acknowledged as revision_request" in capsys.readouterr().out
    assert main(["correct", "<nope@x>", "billing"]) == 1
    assert main(["correct", "b1@brewco.com", "banana"]) == 1
    assert "unknown category 'banana'" in capsys.readouterr().err


def test_a_reply_to_the_summary_with_a_code_is_recorded_and_other_staff_mail_is_not(tmp_path, dovecot, smtp_server,
                                                                                  make_message):
    settings = liaison_settings(tmp_path, dovecot, smtp_server, ACCOUNTS)
    rules = Path(settings.rules_path)
    rules.write_text(rules.read_text().replace("  enabled: false ", "  enabled: true ")
                     .replace('time: "08:00"', 'time: "00:00"').replace("skip_days: [sat, sun]", "skip_days: []"))
    dovecot.append(thanks(make_message))
    store = run_once(settings)
    row = store.one("SELECT id FROM messages")["id"]
    (summary,) = [m for m in smtp_server.parsed() if m["To"] == "anna@agency.example"
                  and "triage" in str(m["Subject"])]
    # An unrelated staff message with a code is not a correction: only replies to our summaries are.
    dovecot.append(make_message(sender="Anna <anna@agency.example>", subject="Lunch",
                                body=f"#{row} billing was a joke"))
    dovecot.append(make_message(sender="Anna <anna@agency.example>", subject=f"Re: {summary['Subject']}",
                                in_reply_to=summary["Message-ID"],
                                body=f"#{row} progress\n\nOn Mon, 2 Mar 2026 at 08:00, Liaison wrote:\n> #{row} other"))
    # Round 22b: a stranger's reply with a second From header naming a manager was taken for the manager's.
    forged = (f"From: Anna <anna@agency.example>\r\nFrom: mallory@evil.example\r\nTo: accounts@agency.example\r\n"
              f"Subject: Re: {summary['Subject']}\r\nMessage-ID: <forged@evil.example>\r\n"
              f"In-Reply-To: {summary['Message-ID']}\r\nReferences: {summary['Message-ID']}\r\n"
              f"Date: Mon, 07 Dec 2026 12:08:50 +0000\r\n\r\n#{row} not a client\r\n").encode()
    dovecot.append(forged)
    store = run_once(settings)
    (correction,) = store.all("SELECT * FROM corrections")
    assert (correction["new_category"], correction["source"], correction["who"]) == (
        "progress_query", "summary reply", "anna@agency.example")
    assert store.one("SELECT staff, suspicious FROM messages WHERE message_id = '<forged@evil.example>'") == {
        "staff": 0, "suspicious": "2 From headers (anna@agency.example, mallory@evil.example)"}


def test_codes_in_a_reply():
    assert corrections.codes_in("#12 billing\n#13: not a client\n#x other\n##14 other\n#15 = Progress") == [
        (12, "billing_issue"), (13, "not_a_client"), (15, "progress_query")]
    with pytest.raises(LiaisonError):
        corrections.category_from_word("banana")


def test_suggestions_from_repeated_corrections(settings, dovecot, make_message):
    for n in range(3):
        dovecot.append(make_message(sender="ap@brewco.com", subject=f"Party {n}",
                                    body=f"Lovely to see you all at party number {n}, thanks again!"))
    store = run_once(settings)
    for r in store.all("SELECT id FROM messages"):
        corrections.record(store, row=r["id"], category="billing_issue", source="test")
    (suggestion,) = corrections.suggestions(store)
    assert "when: {sender: ap@brewco.com}" in suggestion and "billing_issue 3 times" in suggestion


# -- retraining ------------------------------------------------------------------------------------

# Billing issues written as terse remittance notes: a style no writer of the corpus used, which the shipped
# model reads as something else (mostly revision requests: "delta", "pls", figures).
def remittance(rng: random.Random, n: int) -> tuple[str, str]:
    paid = rng.randint(1000, 9999)
    stated = paid + rng.randint(10, 900)
    # A phrasing no corpus writer used (the first one, "remit X vs stmt Y ... delta pls", came close enough to
    # writer w4's remittance mail for the eight-writer model to read it right)
    return f"stmt {n}", f"stmt AGY-{n:04d} shows {stated}.00, we show {paid}.00. diff {stated - paid}.00 - pls update"


def retrain_nightly_while_mail_arrives(settings, daemon: Daemon, dovecot, smtp_server, make_message) -> bool:
    """Run the daemon until its nightly retrain has ended; a client mail is sent while it runs. Whether that mail
    was answered while the retrain was still running."""
    import time

    seen: dict[str, bool] = {}

    def send_mail_while_retraining() -> None:
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline and daemon._retraining is None:
            time.sleep(0.2)
        retraining = daemon._retraining
        dovecot.append(make_message(sender="Tom Hill <tom@brewco.com>", subject="Banner", message_id="<n1@brewco.com>",
                                    body="Please change the headline on the banner to 'Brewed for May'."))
        while time.monotonic() < deadline and not any(m["In-Reply-To"] == "<n1@brewco.com>"
                                                      for m in smtp_server.parsed()):
            time.sleep(0.2)
        seen["answered"] = retraining is not None and retraining.is_alive()
        if retraining is not None:  # its end, not the loop's next turn to notice it (up to an IDLE later)
            retraining.join(max(0.0, deadline - time.monotonic()))
        daemon.stopping = True
        daemon.source.abort()

    run_daemon_while(daemon, send_mail_while_retraining)
    return seen.get("answered", False)


@pytest.mark.slow
def test_retraining_on_corrections_learns_a_new_phrasing_and_a_worse_candidate_is_refused(tmp_path, dovecot,
                                                                                            smtp_server, make_message):
    """The nightly retrain learns what 60 corrections teach, and runs beside the loop: it ran inside it, so for
    the length of a training (1-2 hours) no mail was handled and a service's watchdog killed it every night.
    Then a candidate poisoned by wrong corrections is refused by the same gate."""
    from tests.servers import quiet_rules

    (tmp_path / "edited").mkdir()
    rules_path = quiet_rules(tmp_path / "edited", Path(__file__).parent.parent / "rules.yaml",
                             **{"\nrules:\n": "\nlearning:\n  nightly_retrain: true\n  retrain_after: 1\n"
                                               "  retrain_time: \"00:00\"\n\nrules:\n"})
    settings = liaison_settings(tmp_path, dovecot, smtp_server, ACCOUNTS, rules_path=rules_path)
    store = Store(settings.db_path)
    rng = random.Random(7)
    notes = [remittance(rng, n) for n in range(120)]
    learn, check = notes[:60], notes[60:]
    shipped = TextcatClassifier()
    before = sum(c.category == "billing_issue" for c in shipped.classify_many(check))
    assert before < len(check) / 2, "the phrasing must be one the shipped model gets wrong"

    for n, (subject, body) in enumerate(learn):
        row = store.insert("messages", {"raw_sha256": f"t{n}", "raw": b"", "received_at": "2026-12-01T00:00:00+00:00",
                                        "status": "processed", "category": "other", "subject": subject,
                                        "newest_text": body, "message_id": f"<t{n}@x>"})
        corrections.record(store, row=row, category="billing_issue", source="test")
    # stored without their mail: what a follow-up would escalate is not what this test is about
    store.conn.execute("UPDATE corrections SET followed_up_at = at, follow_up = 'not followed up (test)'")
    daemon = Daemon(settings, store)
    # 2 epochs, not the recipe's 12: the same mechanism and gate in a sixth of the time (the 60 corrections are
    # learned at 2 as at 3; the suite must stay within CI's 15 minutes)
    daemon.retrain_epochs = 2
    assert retrain_nightly_while_mail_arrives(settings, daemon, dovecot, smtp_server, make_message), \
        "mail is answered while the retrain runs"
    (model,) = store.all("SELECT version, status, reason, scores FROM models")
    assert model["status"] == "active", model["reason"]
    version, scores = model["version"], json.loads(model["scores"])
    learned = models.load_active(store, tmp_path / "liaison.db")
    after = sum(c.category == "billing_issue" for c in learned.classify_many(check))
    assert after >= 0.8 * len(check), f"{before} -> {after} of {len(check)}"
    assert scores["candidate"]["macro_f1"] >= scores["running"]["macro_f1"] - 0.01

    # Poison: an account manager who files progress queries as other, 3,000 times. (400 corrections rotated across
    # the four categories stopped hurting once the corpus had thirty writers: 0.8822 against 0.8816. This one
    # measured 0.783 against 0.828, progress F1 0.59 against 0.72, with the shipped model running.)
    train, _ = split(load_corpus())
    progress = [e for e in train if e.label == "progress_query"][:3000]
    for n, e in enumerate(progress):
        row = store.insert("messages", {"raw_sha256": f"p{n}", "raw": b"", "received_at": "2026-12-01T00:00:00+00:00",
                                        "status": "processed", "category": e.label, "subject": e.subject,
                                        "newest_text": newest_text(e.body), "message_id": f"<p{n}@x>"})
        corrections.record(store, row=row, category="other", source="test")
    # A quicker candidate than the recipe's (one member, 1 epoch, on the corpus and the poisoned corrections,
    # as `retrain` weighs them): what matters is that it learned them, is worse, and the gate refuses it, with
    # the poisoned held-out corrections counted in its favour.
    train_poison, held_poison = learning.split_corrections(corrections.training_examples(store))
    extra = [(model_text(s, t), c) for s, t, c in train_poison] * learning.CORRECTION_WEIGHT
    # on half the corpus's training split: quicker, and no better for it (CI's 15 minutes)
    worse = models.save_candidate(store, tmp_path / "liaison.db",
                                  fit_model(train[: len(train) // 2], epochs=1, extra=extra),
                                  corrections=len(train_poison) + len(held_poison))
    judged_on = [(e.subject, newest_text(e.body), e.label) for e in split(load_corpus())[1]] + held_poison
    refused = models.judge_candidate(store, tmp_path / "liaison.db", worse, judged_on)
    assert not refused.promote and refused.reasons
    assert store.one("SELECT status FROM models WHERE version = ?", [worse])["status"] == "candidate"
    assert store.one("SELECT version FROM models WHERE status = 'active'")["version"] == version

    models.use(store, tmp_path / "liaison.db", "shipped")  # rollback to what came with Liaison
    assert models.load_active(store, tmp_path / "liaison.db") is None
    models.use(store, tmp_path / "liaison.db", version)
    assert models.active_path(store, tmp_path / "liaison.db").name == version
    with pytest.raises(LiaisonError):
        models.use(store, tmp_path / "liaison.db", "v-nope")


def test_the_gate_refuses_a_candidate_worse_in_one_category():
    class Fixed:
        name = "fixed"

        def __init__(self, answers):
            self.answers = answers

        def classify_many(self, items):
            from classifiers import Classification
            return [Classification(a, 1.0) for a in self.answers]

    items = [("s", "t", c) for c in ["revision_request", "billing_issue", "progress_query", "other"] * 5]
    truth = [c for _, _, c in items]
    worse = list(truth)
    worse[1] = "other"  # one billing message lost
    assert learning.judge(Fixed(truth), Fixed(truth), items).promote
    verdict = learning.judge(Fixed(truth), Fixed(worse), items)
    assert not verdict.promote and any("billing_issue" in r for r in verdict.reasons)


def test_the_summary_gives_each_message_its_code_the_acknowledgement_and_the_weeks_learning(settings, dovecot,
                                                                                           make_message):
    from responders.templates import TemplateLibrary

    dovecot.append(make_message(sender="Tom <tom@brewco.com>", subject="Banner",
                                body="Please change the headline on the banner to 'Brewed for May'."))
    dovecot.append(thanks(make_message))
    store = run_once(settings)
    banner, launch = (r["id"] for r in store.all("SELECT id FROM messages ORDER BY id"))
    corrections.record(store, row=launch, category="progress_query", source="test")
    rules = load_checked_rules(settings.rules_path)
    built = summary.build(store, rules, "lead@agency.example", datetime.now(UTC).date(), team=True,
                          until=datetime.now(UTC) + timedelta(minutes=1))
    text, html = summary.render(built, TemplateLibrary(rules.template_dir))
    # Specific or neutral is the model's confidence on this wording (issue 16's thresholds); either is acknowledged.
    assert f"- #{banner} [" in text and ("acknowledged (specific" in text or "acknowledged (neutral" in text)
    assert f"- #{launch} [" in text and "not acknowledged (" in text  # reopened by the correction, unanswered
    learning = text.split("LEARNING FROM CORRECTIONS")[1]
    assert "Other" in learning and "1 of   1 corrected, 0% right" in learning
    assert "#12 billing" in text and "#12 billing" in html


def test_a_message_corrected_to_billing_reaches_finance_once_and_the_client_gets_nothing(settings, dovecot,
                                                                                         smtp_server, make_message):
    """Blind round 22: a message corrected to billing by a summary reply was listed as billing but finance never
    heard of it. A correction by any route gets the escalations its new category's rules plan, for those not yet
    told, once; never an acknowledgement."""
    dovecot.append(thanks(make_message))
    store = run_once(settings)
    before = len(smtp_server.messages)
    row = store.one("SELECT id FROM messages")["id"]
    corrections.record(store, row=row, category="billing_issue", source="cli")
    run_once(settings)
    run_once(settings)  # followed up once
    new = smtp_server.parsed()[before:]
    assert [m["Auto-Submitted"] for m in new] == ["auto-generated"], [str(m["To"]) for m in new]
    assert {str(m["To"]) for m in new} == {"finance@agency.example, anna@agency.example"}
    (followed,) = store.all("SELECT follow_up FROM corrections")
    assert "escalate: finance@agency.example, anna@agency.example" in followed["follow_up"]

    corrections.record(store, row=row, category="progress_query", source="cli")  # anna already told: nothing new
    run_once(settings)
    assert len(smtp_server.messages) == before + 1
    assert "already told" in store.all("SELECT follow_up FROM corrections ORDER BY id")[-1]["follow_up"]


def test_a_copy_into_a_correction_folder_is_noticed_while_the_mailbox_is_quiet(settings, dovecot, make_message,
                                                                             monkeypatch):
    """Blind round 22: a copy wakes no IDLE on the watched folder, so it waited for the next mail or the end of a
    25-minute IDLE. The daemon looks at the correction folders once a minute (here once a second)."""
    import time

    from inbox import daemon as daemon_module

    monkeypatch.setattr(daemon_module, "CORRECTIONS_LOOK", 1.0)
    uid = dovecot.append(thanks(make_message))
    run_once(settings)  # the folders exist now
    progress = folder_named(dovecot, "Progress query")
    store = Store(settings.db_path)
    daemon = Daemon(settings, store)

    def copy_then_watch() -> None:
        time.sleep(2)  # the daemon is idling on INBOX
        with dovecot.client() as client:
            client.select_folder("INBOX")
            client.copy([uid], progress)
        watcher = Store(settings.db_path)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not watcher.one("SELECT 1 FROM corrections"):
            time.sleep(0.2)
        watcher.close()
        daemon.stopping = True
        daemon.source.abort()

    started = time.monotonic()
    run_daemon_while(daemon, copy_then_watch)
    assert store.one("SELECT new_category FROM corrections")["new_category"] == "progress_query"
    assert time.monotonic() - started < 25


def test_a_correction_that_cannot_be_followed_up_is_said_and_the_others_are(settings, dovecot, smtp_server,
                                                                           make_message):
    dovecot.append(thanks(make_message))
    store = run_once(settings)
    good = store.one("SELECT id FROM messages")["id"]
    broken = store.insert("messages", {"raw_sha256": "x", "raw": b"\x00", "received_at": "2026-12-01T00:00:00+00:00",
                                       "status": "processed", "category": "other", "subject": "s",
                                       "newest_text": "t", "message_id": "<x@x>"})
    corrections.record(store, row=broken, category="billing_issue", source="test")
    corrections.record(store, row=good, category="billing_issue", source="test")
    run_once(settings)
    done = [r["follow_up"] for r in store.all("SELECT follow_up FROM corrections ORDER BY id")]
    assert "follow-up failed" in done[0] and "escalate: finance@agency.example" in done[1], done


def test_the_follow_up_of_a_correction_says_the_client_was_thanked_for_another_kind(settings, dovecot, smtp_server,
                                                                                    make_message):
    """Round 22b: finance's follow-up said "the client has been sent an automatic acknowledgement", not that it
    thanked them for a revision request."""
    dovecot.append(make_message(sender="Tom Hill <tom@brewco.com>", subject="Banner",
                                body="Please change the headline on the banner to 'Brewed for May'."))
    store = run_once(settings)
    before = len(smtp_server.messages)
    corrections.record(store, row=store.one("SELECT id FROM messages")["id"], category="billing_issue", source="cli")
    run_once(settings)
    (to_finance,) = [m for m in smtp_server.parsed()[before:] if "finance@agency.example" in str(m["To"])]
    assert "acknowledgement as a revision request, before a\nperson corrected" in \
        to_finance.get_body(("plain",)).get_content()


def test_a_message_id_two_messages_share_is_refused_with_their_numbers(tmp_path):
    """Blind round 26: after an impostor reused a client's Message-ID, `liaison correct <id> other` corrected the
    first of the two and said nothing of the second."""
    store = Store(tmp_path / "liaison.db")
    with store.transaction():
        for n in range(2):
            store.insert("messages", {"message_id": "<twin@brewco.com>", "status": "processed", "raw": b"x",
                                      "raw_sha256": f"{n}", "received_at": "2026-12-07T10:00:00+00:00"})
    with pytest.raises(LiaisonError, match=r"2 messages carry the Message-ID <twin@brewco.com> \(#1, #2;"):
        corrections.find_message(store, "twin@brewco.com")
    assert corrections.find_message(store, "#2") == 2


def test_correcting_one_request_to_other_leaves_the_others_of_its_thread_waiting(settings, dovecot, make_message,
                                                                                 monkeypatch):
    """Blind round 27: `liaison correct '#3' other` on an approval read as a request closed its thread, and the
    unanswered billing issue and revision request before it vanished from "Needs you now" and "Billing"."""
    thread = [("<c1@brewco.com>", None, "Please change the headline on the winter banners and make the logo bigger."),
              ("<c2@brewco.com>", "<c1@brewco.com>", "One more thing: invoice INV-2026-0042 charges GBP 4,800 but "
                                                     "the quote was GBP 3,800. Please send a corrected invoice."),
              ("<c3@brewco.com>", "<c2@brewco.com>", "The new banners look great, thank you.")]
    for message_id, parent, body in thread:
        dovecot.append(make_message(sender="Tom <tom@brewco.com>", subject="Re: Winter banners" if parent else
                                    "Winter banners", message_id=message_id, in_reply_to=parent, body=body))
    run_once(settings)
    monkeypatch.setenv("LIAISON_DB", str(settings.db_path))
    assert main(["correct", "c1@brewco.com", "other"]) == 0
    store = Store(settings.db_path)
    built = summary.build(store, load_checked_rules(settings.rules_path), "anna@agency.example",
                          datetime.now(UTC).date(), team=False, until=datetime.now(UTC) + timedelta(minutes=1))
    (line,) = [t for t in built.needs_you if "Winter banners" in t["subject"]]
    assert line["category"] == "billing_issue" and not line["also"], line
    assert store.one("SELECT status FROM threads")["status"] == "open"
    assert main(["correct", "c2@brewco.com", "other"]) == 0  # nothing left to answer: closed
    assert store.one("SELECT status FROM threads")["status"] != "open"


def test_a_follow_up_keeps_its_thread_open_and_a_correction_undone_opens_it_again(settings, dovecot, make_message,
                                                                                 monkeypatch):
    """Blind round 27b: correcting the first request to other closed the thread though a later "Any update?" waited;
    and billing -> other -> billing never opened it again: the billing issue stayed out of every summary."""
    dovecot.append(make_message(sender="Tom <tom@brewco.com>", subject="Poster", message_id="<f1@brewco.com>",
                                body="Please change the poster headline to 'Brewed for May'."))
    dovecot.append(make_message(sender="Tom <tom@brewco.com>", subject="Re: Poster", message_id="<f2@brewco.com>",
                                in_reply_to="<f1@brewco.com>", body="Any update on this? We need it by Thursday."))
    dovecot.append(make_message(sender="Ann <ann@brewco.com>", subject="Invoice 88", message_id="<g1@brewco.com>",
                                body="Invoice 88 charges us twice for the shoot. Please send a corrected invoice."))
    run_once(settings)
    monkeypatch.setenv("LIAISON_DB", str(settings.db_path))
    assert main(["correct", "f1@brewco.com", "other"]) == 0
    store = Store(settings.db_path)
    status = {r["subject"]: r["status"] for r in store.all("SELECT subject, status FROM threads")}
    assert status["Poster"] == "open"
    assert main(["correct", "g1@brewco.com", "other"]) == 0
    assert store.one("SELECT status FROM threads WHERE subject = 'Invoice 88'")["status"] != "open"
    assert main(["correct", "g1@brewco.com", "billing"]) == 0
    assert store.one("SELECT status FROM threads WHERE subject = 'Invoice 88'")["status"] == "open"
