"""The pipeline as declared stages, and the facts it works out once and stores for everyone else (issue 14).

No servers: the pipeline plans its mail in the outbox and the tests read the database, as `classify`
and `rules replay` do.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from foundation.accounts import import_accounts
from foundation.settings import Settings
from foundation.store import MIGRATIONS, Store, loads
from inbox import corrections
from inbox.daemon import load_checked_rules
from inbox.pipeline import STAGES, Pipeline, Position
from inbox.stages import MessageContext, Services
from responders import summary
from tests.servers import quiet_rules

ROOT = Path(__file__).parent.parent
NAMES = ["ingest", "parse", "newest text", "automatic", "classify", "link", "thread", "route", "respond", "record"]
BREWCO = {"account_id": "brewco", "name": "BrewCo", "code": "BREW", "domains": ["brewco.com"], "contacts": [],
          "account_manager": "anna@agency.example", "settings": {}}
AUCKLAND = "Pacific/Auckland"  # 13 hours ahead of UTC in December: 20:00 UTC there is already tomorrow


def make_pipeline(tmp_path: Path, *, stages=STAGES, **replacements: str) -> Pipeline:
    settings = Settings(address="accounts@agency.example", agency_domains=("agency.example",),
                        db_path=Path(":memory:"), rules_path=ROOT / "rules.yaml", imap=None, smtp=None)
    rules = load_checked_rules(quiet_rules(tmp_path, ROOT / "rules.yaml", **replacements))
    store = Store(":memory:")
    import_accounts(store, [BREWCO])
    return Pipeline(store, settings, rules, stages=stages)


def row_of(pipeline: Pipeline, row: int) -> dict:
    found = pipeline.store.one("SELECT * FROM messages WHERE id = ?", [row])
    assert found is not None
    return found


def test_the_declared_stages_are_what_runs(tmp_path, make_message):
    pipeline = make_pipeline(tmp_path)
    assert [stage.name for stage in pipeline.stages] == NAMES
    raw = make_message(subject="Banner", body="Please change the headline on the banner.")

    processed = pipeline.ingest(raw)
    assert processed.status == "processed" and processed.stages == NAMES
    duplicate = pipeline.ingest(raw)  # the same bytes again: the first stage knows them
    assert duplicate.status == "duplicate" and duplicate.stages == ["ingest"]
    broken = pipeline.ingest(b"\x01\x02 not an email \xff")
    assert broken.status == "quarantined" and broken.stages == ["ingest", "parse"], broken


class Explode:
    """A stage with a bug that only some mail triggers."""

    name = "explode"

    def __init__(self, services: Services) -> None:
        self.services = services

    def run(self, message: MessageContext) -> None:
        if "poison" in message.parsed.subject:
            raise ValueError("boom")


def test_a_failing_stage_shunts_only_its_message(tmp_path, make_message):
    at = NAMES.index("route")  # after `thread`: the poisoned message's thread exists until the rollback
    pipeline = make_pipeline(tmp_path, stages=[*STAGES[:at], Explode, *STAGES[at:]])
    body = "Please change the headline on the banner and swap the hero image."
    first = pipeline.ingest(make_message(subject="Banner", body=body, message_id="<one@brewco.com>"))
    poisoned = pipeline.ingest(make_message(subject="poison pill", body=body, message_id="<two@brewco.com>"))
    last = pipeline.ingest(make_message(subject="Logo", body=body, message_id="<three@brewco.com>"))

    assert [first.status, poisoned.status, last.status] == ["processed", "quarantined", "processed"]
    assert poisoned.reason == "internal error in explode: ValueError: boom"
    assert poisoned.stages == NAMES[:at] + ["explode"]
    assert first.stages == last.stages == NAMES[:at] + ["explode"] + NAMES[at:]
    kept = row_of(pipeline, poisoned.row)
    assert kept["status"] == "quarantined" and kept["raw"] and kept["thread_id"] is None
    # Nothing the poisoned message's stages did survives: no thread, no thread reference, no planned mail.
    store = pipeline.store
    assert [t["subject"] for t in store.all("SELECT subject FROM threads ORDER BY id")] == ["Banner", "Logo"]
    assert store.one("SELECT 1 FROM thread_refs WHERE message_id = '<two@brewco.com>'") is None
    assert store.one("SELECT 1 FROM outbox WHERE message_row = ?", [poisoned.row]) is None
    for outcome in (first, last):
        assert row_of(pipeline, outcome.row)["thread_id"] is not None


def test_display_category_is_stored_once_and_the_summary_reads_it(tmp_path, make_message):
    # Every judgement uncertain: each message is shown as needs review, whatever its category.
    pipeline = make_pipeline(tmp_path, **{"review_below: 0.4 ": "review_below: 1.0 "})
    outcome = pipeline.ingest(make_message(subject="Banner", body="Please change the headline on the banner."))
    stored = row_of(pipeline, outcome.row)
    assert stored["needs_review"] == 1 and stored["display_category"] == "needs_review" == outcome.category

    def shown() -> tuple[dict, list]:
        built = summary.build(pipeline.store, pipeline.rules, "anna@agency.example",
                              datetime.now(UTC).date(), team=True, until=datetime.now(UTC) + timedelta(minutes=1))
        return built.counts, [item["category"] for item in built.needs_you]

    counts, open_threads = shown()
    assert counts["needs_review"] == 1 and open_threads == ["needs_review"]
    corrections.record(pipeline.store, row=outcome.row, category="billing_issue", source="test")
    assert row_of(pipeline, outcome.row)["display_category"] == "billing_issue"
    counts, open_threads = shown()
    assert counts["needs_review"] == 0 and counts["billing_issue"] == 1 and open_threads == ["billing_issue"]


def test_entities_are_dated_where_the_agency_is_and_the_summary_shows_the_stored_ones(tmp_path, make_message):
    pipeline = make_pipeline(tmp_path, **{"timezone: Europe/London": f"timezone: {AUCKLAND}"})
    zone = ZoneInfo(AUCKLAND)
    arrived = datetime.combine(datetime.now(UTC).date() - timedelta(days=3), time(20, 0), UTC)
    local_day = arrived.astimezone(zone).date()
    assert local_day != arrived.date()  # the case that matters: a different day in UTC and at the agency

    client = pipeline.ingest(make_message(subject="Banner", body="Please send the new banner by tomorrow.",
                                          message_id="<banner@brewco.com>", date=arrived),
                             Position(arrived=arrived))
    stored = loads(row_of(pipeline, client.row)["entities"], {})
    assert [d["date"] for d in stored["deadline"]] == [(local_day + timedelta(days=1)).isoformat()]

    # A colleague's reply: the subject quotes the client's deadline, the text is the agency's promise.
    staff = pipeline.ingest(make_message(sender="Anna Berg <anna@agency.example>", subject="Re: Banner by Friday",
                                         body="We will have it ready tomorrow.", date=arrived + timedelta(hours=1),
                                         in_reply_to="<banner@brewco.com>"),
                            Position(arrived=arrived + timedelta(hours=1)))
    staff_row = row_of(pipeline, staff.row)
    assert staff_row["staff"] == 1
    promised = [(d["date"], d["text"]) for d in loads(staff_row["entities"], {})["deadline"]]
    assert promised == [((local_day + timedelta(days=1)).isoformat(), "tomorrow")]  # not the subject's Friday

    built = summary.build(pipeline.store, pipeline.rules, "anna@agency.example", datetime.now(zone).date(),
                          team=True)
    assert [(p["due"], p["text"]) for p in built.promises if p["who"] == "agency promised"] == promised


def test_old_rows_get_their_stored_facts_when_the_database_is_upgraded(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)  # a database as the release before facts were stored
    conn.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
    for name, statements in MIGRATIONS:
        if name >= "0009":
            break
        for statement in statements:
            conn.execute(statement)
        conn.execute("INSERT INTO _migrations VALUES (?, '2026-01-01')", [name])
    old = "INSERT INTO messages (raw_sha256, raw, received_at, arrived_at, status, category, needs_review) " \
          "VALUES (?, x'00', '2026-11-30T09:00:00+00:00', ?, ?, ?, ?)"
    conn.execute(old, ["a", None, "processed", "billing_issue", 1])
    conn.execute(old, ["b", "2026-11-29T08:00:00+00:00", "processed", "other", 0])
    conn.execute(old, ["c", None, "quarantined", None, 0])
    conn.close()

    store = Store(path)
    rows = store.all("SELECT raw_sha256, display_category, arrived_at FROM messages ORDER BY raw_sha256")
    assert [(r["display_category"], r["arrived_at"]) for r in rows] == [
        ("needs_review", "2026-11-30T09:00:00+00:00"),  # read before INTERNALDATE was kept: when Liaison read it
        ("other", "2026-11-29T08:00:00+00:00"),
        (None, "2026-11-30T09:00:00+00:00")]


def test_a_colleagues_mail_is_no_client_request_whatever_its_words(tmp_path, make_message):
    """Internal mail full of invoice words (a month-end list, a dispute passed on to finance) was read as a
    billing issue: staff mail is `other` (what the words read as is kept in the reasons), its dates are still
    the agency's promises, and a forged colleague is read as anyone else."""
    pipeline = make_pipeline(tmp_path)
    body = ("Hi all, month end is Friday: please reissue invoice INV-20417 with the PO and credit the £350 "
            "overcharge. We will send it by tomorrow.")
    staff = row_of(pipeline, pipeline.ingest(make_message(sender="Ruth <ruth@agency.example>",
                                                          subject="Month-end invoices", body=body)).row)
    assert (staff["staff"], staff["category"], staff["display_category"]) == (1, "other", "other")
    assert loads(staff["class_reasons"], [])[0].startswith("staff mail: not a client request (its words read as")
    assert "deadline" in loads(staff["entities"], {}) and "invoice_number" in loads(staff["entities"], {})
    forged = make_message(sender="Ruth <ruth@agency.example>", subject="Month-end invoices", body=body,
                          message_id="<forged@agency.example>")
    forged = forged.replace(b"Subject:", b"Authentication-Results: mx.agency.example; dmarc=fail\r\nSubject:", 1)
    row = row_of(pipeline, pipeline.ingest(forged).row)
    assert row["staff"] == 0 and row["category"] == "billing_issue"


def test_promises_list_what_falls_due_before_the_next_summary(tmp_path, make_message):
    """Blind tester round 15: Thursday's summary did not list Friday's deadline, and with the weekend skipped
    a Saturday deadline appeared first as OVERDUE on Monday. Listed now: what falls due up to the next
    summary's day, saying when; an impostor's "deadline" never (blind tester round 15, the demo's fraud mail)."""
    pipeline = make_pipeline(tmp_path)
    zone = pipeline.rules.zone()
    friday = date(2026, 12, 4)
    arrived = datetime.combine(friday, time(9, 0), zone)
    for n, (sender, body) in enumerate([("tom@brewco.com", "Please send the new banner by Monday."),
                                        ("tom@brewco.com", "Please fix the poster by Saturday."),
                                        ("ap@brewco-invoices.net", "Please refund invoice INV-4471 by Saturday.")]):
        pipeline.ingest(make_message(sender=sender, subject=f"Request {n}", body=body, date=arrived,
                                     message_id=f"<p{n}@x.example>"), Position(arrived=arrived))
    assert summary.next_summary_day(pipeline.rules, friday) == date(2026, 12, 7)  # the shipped rules skip weekends
    due = summary._promises(pipeline.store, None, friday, zone,  # noqa: SLF001 - the section
                            until=summary.next_summary_day(pipeline.rules, friday))
    assert [(p["due"], p["when"], p["text"]) for p in due] == [("2026-12-05", "due Sat", "by Saturday"),
                                                               ("2026-12-07", "due Mon", "by Monday")]
    assert summary._promises(pipeline.store, None, friday, zone) == []  # noqa: SLF001 - today's only: none
    pipeline.ingest(make_message(sender="tom@brewco.com", subject="Re: Request 1", in_reply_to="<p1@x.example>",
                                 body="Chasing: any news? We need the poster by Saturday.", date=arrived,
                                 message_id="<p1-chase@x.example>"), Position(arrived=arrived))
    again = summary._promises(pipeline.store, None, friday, zone,  # noqa: SLF001 - the section
                              until=summary.next_summary_day(pipeline.rules, friday))
    assert [p["due"] for p in again] == ["2026-12-05", "2026-12-07"], "a chaser's repeat is one line (round 21)"
    monday = datetime.combine(date(2026, 12, 7), time(8, 0), zone)
    built = summary.build(pipeline.store, pipeline.rules, "anna@agency.example", monday.date(), team=True,
                          until=monday)
    assert built.since == monday - timedelta(days=3), "with none sent before, Monday's covers the weekend"
