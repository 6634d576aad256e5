"""Summarise: the daily triage email, per account manager and agency-wide for the team lead.

Everything here is read from the database; sending goes through the outbox with the key
`summary:RECIPIENT:DAY`, so each recipient gets one summary a day, across restarts, and a
summary missed while the daemon was down is sent when it comes back the same day.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from email.message import Message
from typing import Any

from classifiers.automatic import BY_TEXT_ALONE
from classifiers.entities import pressing
from foundation.message import shown_address, shown_sender
from foundation.rules import WEEKDAYS, Rules
from foundation.secrets import scrubbed
from foundation.store import Store, loads
from responders import outbox
from responders.compose import build_notice, new_message_id
from responders.respond import CATEGORY_LABELS, entity_lines
from responders.routing import nothing_done_because
from responders.templates import TemplateLibrary

TEMPLATE = "summary"
CATEGORY_ORDER = ("revision_request", "billing_issue", "progress_query", "other", "needs_review")


@dataclass
class Summary:
    recipient: str
    day: date
    team: bool
    since: datetime
    counts: dict[str, int] = field(default_factory=dict)
    by_account: list[dict[str, Any]] = field(default_factory=list)
    needs_you: list[dict[str, Any]] = field(default_factory=list)
    scope: list[dict[str, Any]] = field(default_factory=list)
    billing: list[dict[str, Any]] = field(default_factory=list)
    promises: list[dict[str, Any]] = field(default_factory=list)
    review: list[dict[str, Any]] = field(default_factory=list)
    trend: list[dict[str, Any]] = field(default_factory=list)
    learning: list[dict[str, Any]] = field(default_factory=list)
    auto_handled: float = 0.0  # acknowledged / requests, kept for templates written before the counts
    requests: int = 0  # messages read as client requests in the period
    acknowledged: int = 0  # of those, how many got an automatic acknowledgement
    total: int = 0
    suspicious: int = 0  # mail in the period from impostors: not counted in `total`, listed under Review
    unanswered_before: int = 0  # client requests already in the mailbox at first start: recorded, not answered
    mailbox_unreadable: str = ""  # "since <when> UTC: <reason>" while the mailbox cannot be read at the end

    @property
    def review_count(self) -> int:
        """Messages and events to review: a line that stands for several ("and 31 more") counts as that many."""
        return sum(item.get("count", 1) for item in self.review)

    def context(self) -> dict[str, Any]:
        peak = max(self.counts.values(), default=0) or 1
        return {**_subjects_shortened(self.__dict__), "review_count": self.review_count, "labels": CATEGORY_LABELS,
                "peak": peak, "language": "en",
                "title": f"Triage summary {self.day.isoformat()}"}


SUBJECT_SHOWN = 120  # characters of a subject shown: a 3,000-character one filled the summary (blind round 21)


def _subjects_shortened(value: Any) -> Any:
    """Every "subject" in the summary's sections cut to SUBJECT_SHOWN characters, once, where they are shown."""
    if isinstance(value, dict):
        return {k: (_shortened(v) if k == "subject" and isinstance(v, str) else _subjects_shortened(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_subjects_shortened(v) for v in value]
    return value


def _shortened(subject: str) -> str:
    return subject if len(subject) <= SUBJECT_SHOWN else subject[: SUBJECT_SHOWN - 1].rstrip() + "…"


def recipients(store: Store, rules: Rules) -> list[tuple[str, bool]]:
    """(address, is the team lead) for everyone who gets a summary."""
    managers = [r["account_manager"] for r in store.all(
        "SELECT DISTINCT account_manager FROM accounts WHERE account_manager != '' ORDER BY account_manager")]
    found = [(m, False) for m in managers]
    lead = team_lead_address(rules)
    if lead:
        found = [(m, t) for m, t in found if m != lead] + [(lead, True)]
    return found


def team_lead_address(rules: Rules) -> str | None:
    name = rules.spec.summary.team_lead
    if not name:
        return None
    return rules.spec.addresses.get(name, name if "@" in name else None)


def build(store: Store, rules: Rules, recipient: str, day: date, *, team: bool,
          until: datetime | None = None) -> Summary:
    """Every section of one recipient's summary for `day`: up to `until` (default: that day's
    summary time, or now for today), since the previous summary sent to them."""
    zone = rules.zone()
    end = until or _default_end(rules, day)
    # With none sent before (a preview, a first day), since the previous summary's day would have been: a
    # Monday's covers the weekend that skip_days left out.
    since = _last_summary_time(store, recipient, end) or end - (day - previous_summary_day(rules, day))
    accounts = None if team else {r["account_id"] for r in store.all(
        "SELECT account_id FROM accounts WHERE account_manager = ?", [recipient])}
    summary = Summary(recipient, day, team, since)
    # An impostor's mail is listed under Review, never counted as the client's (nor as a request left unanswered)
    read = _messages(store, since, end, accounts)
    recent = [m for m in read if not m["suspicious"]]
    summary.total, summary.suspicious = len(recent), len(read) - len(recent)
    summary.counts = _counts(recent)
    summary.by_account = _by_account(store, recent)
    summary.needs_you = _needs_you(store, accounts, end, rules=rules)
    summary.billing = [t for t in summary.needs_you
                       if "billing_issue" in (t["category"], *(also["category"] for also in t["also"]))]
    summary.scope = _scope(store, accounts, end)
    summary.promises = _promises(store, accounts, day, zone, until=next_summary_day(rules, day))
    unanswered = _unanswered_backlog(store, since, end, accounts)
    summary.unanswered_before = len(unanswered)
    outage = _mailbox_outage(store, end)
    if outage:
        summary.mailbox_unreadable = f"since {outage['at'][:16].replace('T', ' ')} UTC: {outage['reason']}"
    summary.review = _review(store, since, end, accounts, unanswered=unanswered, outage=outage,
                             unclaimed=team_lead_address(rules) is None)
    summary.trend = _trend(store, recent, end, accounts)
    summary.learning = _learning(store, end, accounts)
    summary.acknowledged, summary.requests = _acknowledged_requests(store, recent)
    summary.auto_handled = summary.acknowledged / summary.requests if summary.requests else 0.0
    return summary


def _default_end(rules: Rules, day: date) -> datetime:
    scheduled = datetime.combine(day, rules.spec.summary.time, rules.zone())
    now = datetime.now(UTC)
    return now if scheduled.date() == now.astimezone(rules.zone()).date() and now > scheduled else scheduled


def _iso(moment: datetime) -> str:
    """The stored form of a moment (UTC ISO 8601), so that string comparison is time order."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _last_summary_time(store: Store, recipient: str, before: datetime) -> datetime | None:
    row = store.one("SELECT MAX(created_at) AS at FROM outbox WHERE kind = 'summary' AND recipients = ? "
                    "AND created_at < ? AND status IN ('sent', 'shadow')", [f'["{recipient}"]', _iso(before)])
    return datetime.fromisoformat(row["at"]) if row and row["at"] else None


def _in_accounts(accounts: set[str] | None, account_id: str | None) -> bool:
    return accounts is None or account_id in accounts


def _messages(store: Store, since: datetime, end: datetime, accounts: set[str] | None) -> list[dict[str, Any]]:
    rows = store.all("SELECT * FROM messages WHERE received_at >= ? AND received_at < ? AND status = 'processed' "
                     "AND automatic IS NULL ORDER BY received_at", [_iso(since), _iso(end)])
    return [r for r in rows if _in_accounts(accounts, r["account_id"]) and not r["staff"]]


def _category(row: dict[str, Any]) -> str:
    """The category the pipeline stored for people to see (needs_review when it was too unsure)."""
    return str(row["display_category"])


def _counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    counter = Counter(_category(r) for r in rows)
    return {c: counter.get(c, 0) for c in CATEGORY_ORDER}


def _account_names(store: Store) -> dict[str, str]:
    # a removed client's past mail keeps its name (`liaison accounts remove`)
    return {r["account_id"]: r["name"] for r in store.all(
        "SELECT account_id, name FROM removed_accounts UNION ALL SELECT account_id, name FROM accounts")}


def _by_account(store: Store, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    names = _account_names(store)
    grouped: dict[str, Counter[str]] = defaultdict(Counter)
    for r in rows:
        grouped[r["account_id"] or ""][_category(r)] += 1
    return sorted(({"account": names.get(a, "Unlinked") if a else "Unlinked", "counts": dict(c),
                    "total": sum(c.values())} for a, c in grouped.items()), key=lambda x: -x["total"])


def _needs_you(store: Store, accounts: set[str] | None, end: datetime, *, rules: Rules | None = None
               ) -> list[dict[str, Any]]:
    names = _account_names(store)
    items = []
    for t in store.all("SELECT * FROM threads WHERE status = 'open' ORDER BY id"):
        if not _in_accounts(accounts, t["account_id"]):
            continue
        # The client's latest message stands for the thread; an impostor's reply in it only when nothing else
        # does (it is listed under Review as suspicious either way).
        last = store.one("SELECT * FROM messages WHERE thread_id = ? AND automatic IS NULL AND staff = 0 "
                         "ORDER BY suspicious IS NOT NULL, id DESC LIMIT 1", [t["id"]])
        if last is None:
            continue
        entities = _thread_entities(store, t["id"])
        waiting = _waiting_since(store, t["id"])
        # the number shown is the message whose category is shown: a manager's "#45 other" by reply corrects what
        # they read (blind round 25: it named the client's latest "Thanks!", and the correction did nothing)
        shown = store.thread_request(t["id"]) or last
        # the thread's other requests since the agency last wrote (a billing question asked in a revision thread)
        requests = store.thread_requests_waiting(t["id"])
        also = [{"category": kind, "ref": f"#{row}"} for kind, row in requests.items() if kind != _category(shown)]
        items.append({
            "thread": t["id"], "ref": f"#{shown['id']}", "account": names.get(t["account_id"] or "", "Unlinked"),
            "ack": _acknowledgement(store, last, rules),
            "category": _category(shown), "also": also, "subject": t["subject"] or "(no subject)",
            "sender": _sender_of(last),
            "date": _arrived(last)[:16].replace("T", " "), "message_id": last["message_id"],
            # what the list is ordered by: shown beside the latest message's time (round 22: the times shown were
            # the latest messages', out of the order of waiting)
            "waiting_since": _iso(waiting)[:16].replace("T", " "),
            "age": _age(end - waiting), "age_hours": (end - waiting).total_seconds() / 3600,
            "chasers": t["chasers"], "urgent": _pressed(store, t["id"]) or t["chasers"] >= 2,
            "suspicious": bool(last["suspicious"]),
            "entities": entity_lines(entities), "job_ref": t["job_ref"] or "",
            "invoices": entities.get("invoice_number", []),
            "amounts": [a["text"] for a in entities.get("amount", [])],
        })
    return sorted(items, key=lambda item: (-item["age_hours"], item["thread"]))  # waiting longest first


def _arrived(row: dict[str, Any]) -> str:
    """When a message reached the mailbox (INTERNALDATE), not when Liaison read it: stored by the pipeline.
    Never its Date header, which the sender writes (years off, or in the future): every time the summary
    shows for a message is this one."""
    return str(row["arrived_at"] or row["received_at"])


def _waiting_since(store: Store, thread_id: int) -> datetime:
    """Arrival of the first client message the agency has not answered in the thread."""
    row = store.one(
        "SELECT MIN(arrived_at) AS at FROM messages WHERE thread_id = ? AND staff = 0 "
        "AND automatic IS NULL AND id > COALESCE((SELECT MAX(id) FROM messages WHERE thread_id = ? AND staff = 1), 0)",
        [thread_id, thread_id])
    return datetime.fromisoformat(row["at"]) if row and row["at"] else datetime.now(UTC)


def _thread_entities(store: Store, thread_id: int) -> dict[str, list[Any]]:
    merged: dict[str, list[Any]] = defaultdict(list)
    for row in store.all("SELECT entities FROM messages WHERE thread_id = ? AND staff = 0", [thread_id]):
        for label, values in loads(row["entities"], {}).items():
            merged[label] += [v for v in values if v not in merged[label]]
    return dict(merged)


def _pressed(store: Store, thread_id: int) -> bool:
    """A client message of the thread asks for haste, judged message by message: a "Thanks!!" does not make an
    earlier message's deadline urgent (blind round 26c: it marked a thread URGENT), nor does it alone."""
    return any(pressing(loads(row["entities"], {}))
               for row in store.all("SELECT entities FROM messages WHERE thread_id = ? AND staff = 0", [thread_id]))


def _sender_of(message: dict[str, Any]) -> str:
    """The sender's address as people are shown it; with no address, the name it gave, quoted beside "(no sender
    address)" (round 20: `"Tom Hill" <>` was listed as "(no sender address)" alone)."""
    if message.get("from_addr") or not message.get("from_name"):
        return shown_address(message.get("from_addr") or "")
    return shown_sender(message["from_name"], "")


def _age(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    return f"{hours // 24}d {hours % 24}h" if hours >= 24 else f"{hours}h"


def _scope(store: Store, accounts: set[str] | None, end: datetime) -> list[dict[str, Any]]:
    start = _iso(end - timedelta(days=30))
    rounds = {r["account_id"]: loads(r["settings"], {}).get("contracted_rounds", 2)
              for r in store.all("SELECT account_id, settings FROM accounts")}
    names = _account_names(store)
    rows = store.all(
        "SELECT m.account_id, COALESCE(t.job_ref, '') AS job, COUNT(*) AS n FROM messages m "
        "LEFT JOIN threads t ON t.id = m.thread_id WHERE m.display_category = 'revision_request' "
        "AND m.received_at >= ? AND m.received_at < ? AND m.account_id IS NOT NULL AND m.status = 'processed' "
        # a round is the client's asking: not a colleague's reply in the thread, not an impostor's
        "AND m.staff = 0 AND m.suspicious IS NULL "
        "GROUP BY m.account_id, job ORDER BY n DESC", [start, _iso(end)])
    items = []
    for r in rows:
        if not _in_accounts(accounts, r["account_id"]):
            continue
        limit = rounds.get(r["account_id"], 2)
        # Requests with no job reference are no rounds of one job: "9 rounds of 2" for nine unrelated asks misleads.
        items.append({"account": names.get(r["account_id"], r["account_id"]), "job": r["job"] or "(no job ref)",
                      "job_known": bool(r["job"]), "rounds": r["n"], "contracted": limit,
                      "over": bool(r["job"]) and r["n"] > limit})
    return items


def _promises(store: Store, accounts: set[str] | None, day: date, zone: Any, *, until: date | None = None
              ) -> list[dict[str, Any]]:
    """Dates the agency promised in its replies and deadlines clients named: overdue, due today, and due before
    the next summary (`until`, inclusive: Friday's lists the weekend's and Monday's). An impostor's "deadline"
    is not the client's: its mail is under Review."""
    start = (datetime.combine(day, time(0), zone) - timedelta(days=30)).isoformat()
    until = until or day
    items = []
    listed = set()  # a chaser repeats the deadline of the mail it chases: one line per thread, day and side
    for m in store.all("SELECT * FROM messages WHERE received_at >= ? AND status = 'processed' AND automatic IS NULL "
                       "AND thread_id IS NOT NULL AND suspicious IS NULL", [start]):
        thread = store.one("SELECT account_id, subject, status FROM threads WHERE id = ?", [m["thread_id"]])
        if thread is None or not _in_accounts(accounts, thread["account_id"]):
            continue
        staff = bool(m["staff"])
        deadlines = loads(m["entities"], {}).get("deadline", [])  # the pipeline's, dated where the agency is
        for d in deadlines:
            due = date.fromisoformat(d["date"])
            if due <= until and (staff or thread["status"] == "open") and (m["thread_id"], due, staff) not in listed:
                listed.add((m["thread_id"], due, staff))
                when = "OVERDUE" if due < day else "today" if due == day else f"due {due.strftime('%a')}"
                items.append({"who": "agency promised" if staff else "client deadline", "due": due.isoformat(),
                              "overdue": due < day, "when": when, "subject": thread["subject"],
                              "text": d["text"] + (f" (check: {d['check']})" if d.get("check") else ""),
                              "sender": _sender_of(m), "message_id": m["message_id"]})
    return sorted(items, key=lambda x: x["due"])


def previous_summary_day(rules: Rules, day: date) -> date:
    """The day of the summary before `day`'s: the last day before it not in `skip_days` (a week back at most)."""
    for back in range(1, 8):
        before = day - timedelta(days=back)
        if WEEKDAYS[before.weekday()] not in rules.spec.summary.skip_days:
            return before
    return day - timedelta(days=7)


def next_summary_day(rules: Rules, day: date) -> date:
    """The day of the summary after `day`'s: the next day not in `skip_days` (a week on at most)."""
    for ahead in range(1, 8):
        following = day + timedelta(days=ahead)
        if WEEKDAYS[following.weekday()] not in rules.spec.summary.skip_days:
            return following
    return day + timedelta(days=7)


BACKLOG_LISTED = 50  # unanswered requests from before the first start listed one by one in Review


def _unanswered_backlog(store: Store, since: datetime, end: datetime, accounts: set[str] | None
                        ) -> list[dict[str, Any]]:
    """Client requests in the mailbox before the first start, recorded in the period and not answered."""
    rows = store.all("SELECT id, subject, from_addr, category, account_id, arrived_at, received_at FROM messages "
                     "WHERE received_at >= ? AND received_at < ? AND staff = 0 AND automatic IS NULL "
                     "AND category IN ('revision_request', 'billing_issue', 'progress_query') "
                     "AND route LIKE '%not answered: already in%' ORDER BY arrived_at", [_iso(since), _iso(end)])
    return [m for m in rows if _in_accounts(accounts, m["account_id"])]


def _mailbox_outage(store: Store, end: datetime) -> dict[str, Any] | None:
    """The mailbox outage still going on at `end` (its first recorded failure and reason), if any: what
    arrived since is in none of the counts, so the summary must not say that nothing is waiting."""
    found = store.all("SELECT id, at, detail FROM events WHERE kind = 'imap_unreadable' AND at < ? AND id > "
                      "COALESCE((SELECT MAX(id) FROM events WHERE kind = 'imap_readable' AND at < ?), 0) "
                      "ORDER BY id", [_iso(end), _iso(end)])
    if not found:
        return None
    # dated from its first failure, with the latest cause (a dropped connection, then a refused login)
    return {"id": found[0]["id"], "at": found[0]["at"], "reason": loads(found[-1]["detail"], {}).get("reason", "")}


def _shown_to(accounts: set[str] | None, message: dict[str, Any], *, unclaimed: bool) -> bool:
    """Whether a message for review belongs in this summary: its account's, or for an impostor's the account it
    imitates; one that imitates no known client goes to the team lead, or to everyone when there is none."""
    account = message["account_id"] or (message.get("claimed_account") if message["suspicious"] else None)
    if message["suspicious"] and account is None:
        return unclaimed or accounts is None
    return _in_accounts(accounts, account)


#: Events about Liaison itself, not about any client's mail: the team lead's summary has them when there is a team
#: lead (`summary.team_lead`), else every summary does. Outages stay in every summary: they hold back its clients' mail.
FOR_WHOEVER_RUNS_IT = ("rules_refused", "task_failed")


def _review_reason(message: dict[str, Any]) -> str:
    """Why a message is listed for a person: too unsure, a rule's `review:` reason, or both."""
    unsure = (f"{CATEGORY_LABELS.get(message['category'], message['category'])}? only {message['confidence']:.0%} sure"
              if message["display_category"] == "needs_review" else "")
    asked = (f"{CATEGORY_LABELS.get(message['category'], message['category'])} "
             f"({message['confidence']:.0%}): {message['review_reason']}" if message["review_reason"] else "")
    return "; ".join(part for part in (unsure, asked) if part)


def _review(store: Store, since: datetime, end: datetime, accounts: set[str] | None, *,
            unanswered: list[dict[str, Any]], outage: dict[str, Any] | None = None,
            unclaimed: bool = True) -> list[dict[str, Any]]:
    items = []
    window = [_iso(since), _iso(end)]
    if outage:  # first: the counts of every other section stop where it began
        items.append({"kind": "imap unavailable", "reason": f"cannot read the mailbox since "
                      f"{outage['at'][:16].replace('T', ' ')} UTC, still at {_iso(end)[:16].replace('T', ' ')} UTC: "
                      f"{outage['reason']}; mail that arrived since is not counted here", "subject": "", "sender": "",
                      "date": outage["at"][:16].replace("T", " "), "ref": "", "message_id": ""})
    # A rule's `review:` action asks for a person too (blind round 24: "perhaps a request" reached no summary)
    for m in store.all("SELECT *, (SELECT json_extract(a.value, '$.argument') FROM json_each(messages.route, "
                       "'$.actions') a WHERE json_extract(a.value, '$.verb') = 'review' LIMIT 1) AS review_reason "
                       "FROM messages WHERE received_at >= ? AND received_at < ? AND "
                       "((display_category = 'needs_review' AND staff = 0) OR suspicious IS NOT NULL "
                       "OR status = 'quarantined' OR route LIKE '%\"review\"%') ORDER BY id", window):
        if m["status"] != "quarantined" and not m["review_reason"] and not (
                m["suspicious"] or (m["display_category"] == "needs_review" and not m["staff"])):
            continue  # "review" in the route's text, not a review action
        if m["status"] != "quarantined" and not _shown_to(accounts, m, unclaimed=unclaimed):
            continue
        kind = "quarantined" if m["status"] == "quarantined" else "suspicious" if m["suspicious"] else "needs review"
        reason = m["error"] if kind == "quarantined" else m["suspicious"] or _review_reason(m)
        items.append({"kind": kind, "reason": reason, "subject": m["subject"] or "",
                      "sender": _sender_of(m),
                      "date": _arrived(m)[:16].replace("T", " "), "ref": f"#{m['id']}",
                      "message_id": m["message_id"] or f"stored message #{m['id']}"})
    # Client requests already in the mailbox at first start were recorded, not answered (backfill): each is
    # listed, so that nobody's request disappears into "N messages recorded"; beyond BACKLOG_LISTED, counted.
    for m in unanswered[:BACKLOG_LISTED]:
        items.append({"kind": "not answered (there before Liaison)",
                      "reason": f"{CATEGORY_LABELS.get(m['category'], m['category'])}: answer it yourself if it "
                      "still needs an answer", "subject": m["subject"] or "",
                      "sender": shown_address(m["from_addr"] or ""),
                      "date": _arrived(m)[:16].replace("T", " "), "ref": f"#{m['id']}", "message_id": ""})
    if len(unanswered) > BACKLOG_LISTED:
        items.append({"kind": "not answered (there before Liaison)", "reason": f"and {len(unanswered) - BACKLOG_LISTED}"
                      " more client request(s) like these, not listed one by one", "subject": "", "sender": "",
                      "date": "", "ref": "", "message_id": "", "count": len(unanswered) - BACKLOG_LISTED})
    # Mail taken for automatic by its words alone (no header said so) is not answered: a person may have
    # written it, so it is listed rather than left out of every other section.
    for m in store.all("SELECT id, subject, from_addr, automatic, account_id, arrived_at, received_at FROM messages "
                       "WHERE received_at >= ? AND received_at < ? AND staff = 0 AND status = 'processed' "
                       f"AND automatic IN ({', '.join('?' for _ in BY_TEXT_ALONE)}) ORDER BY id",
                       window + list(BY_TEXT_ALONE)):
        if not _in_accounts(accounts, m["account_id"]):
            continue
        items.append({"kind": "automatic by its text", "reason": f"{m['automatic']}, no automatic header: not "
                      "answered; answer it yourself if a person wrote it", "subject": m["subject"] or "",
                      "sender": shown_address(m["from_addr"] or ""),
                      "date": _arrived(m)[:16].replace("T", " "), "ref": f"#{m['id']}",
                      "message_id": ""})
    # A correction that contradicts what the client was told: someone should write to them.
    for c in store.all("SELECT c.message_row, c.acknowledged_as, c.new_category, c.at, m.account_id, m.subject, "
                       "m.from_addr FROM corrections c JOIN messages m ON m.id = c.message_row "
                       "WHERE c.at >= ? AND c.at < ? AND c.acknowledged_as IS NOT NULL "
                       "AND c.acknowledged_as != c.new_category", window):
        if not _in_accounts(accounts, c["account_id"]) and c["new_category"] != "not_a_client":
            continue
        told = CATEGORY_LABELS.get(c["acknowledged_as"], c["acknowledged_as"])
        now = CATEGORY_LABELS.get(c["new_category"], c["new_category"].replace("_", " "))
        items.append({"kind": "acknowledged wrongly", "reason": f"the client was thanked for a {told.lower()}; "
                      f"corrected to {now.lower()}: write to them", "subject": c["subject"] or "",
                      "sender": shown_address(c["from_addr"] or ""), "date": c["at"][:16].replace("T", " "),
                      "ref": f"#{c['message_row']}", "message_id": ""})
    # Sending failures are listed by when they were given up (send_failed), which for a retried message
    # is days after it was planned.
    for e in store.all("SELECT * FROM events WHERE kind IN ('action_failed', 'rules_refused', 'auth_failed', "
                       "'send_failed', 'backlog_recorded', 'task_failed', 'smtp_unavailable', 'imap_unavailable') "
                       "AND at >= ? AND at < ?", window):
        if e["kind"] == "imap_unavailable" and outage and e["id"] > outage["id"]:
            continue  # the outage still going on, listed first with its start
        detail = loads(e["detail"], {})
        # a failure about one message names it, as every other item does (blind tester round 18)
        about = store.one("SELECT id, subject, from_addr, account_id FROM messages WHERE id = ?",
                          [e["message_row"]]) if e["message_row"] else None
        if about is not None and not _in_accounts(accounts, about["account_id"]):
            continue  # another manager's client: in that manager's summary and the agency-wide one
        if e["kind"] == "backlog_recorded" and accounts is not None:
            continue  # an agency-wide count: a manager's own requests from before are listed one by one above
        if e["kind"] in FOR_WHOEVER_RUNS_IT and accounts is not None and not unclaimed:
            continue  # the team lead's to mend; each manager's summary listed it too (noticed in round 22)
        reason = detail.get("reason") or "; ".join(detail.get("problems", [])) or str(detail)
        if e["kind"] in PUT_RIGHT_BY:
            ended, how = PUT_RIGHT_BY[e["kind"]]
            fixed = store.one("SELECT at FROM events WHERE kind = ? AND id > ? ORDER BY id LIMIT 1", [ended, e["id"]])
            if fixed:
                reason += f" (put right: {how} {fixed['at'][:16].replace('T', ' ')})"
        items.append({"kind": e["kind"].replace("_", " "), "reason": reason,
                      "subject": (about or {}).get("subject") or "",
                      "sender": shown_address(about["from_addr"] or "") if about else "",  # not every event is mail
                      "date": e["at"][:16].replace("T", " "), "ref": f"#{about['id']}" if about else "",
                      "message_id": ""})
    return items


# The event that ends a problem listed under Review, and how the list says so: a refused rules edit, a mailbox that
# could not be read (blind round 27: "cannot read the mailbox since 01:40" listed 35 minutes after it was read again)
PUT_RIGHT_BY = {"rules_refused": ("rules_fixed", "good rules loaded"),
                "imap_unavailable": ("imap_readable", "the mailbox read again")}


def _trend(store: Store, recent: list[dict[str, Any]], end: datetime, accounts: set[str] | None
           ) -> list[dict[str, Any]]:
    week = _messages(store, end - timedelta(days=8), end - timedelta(days=1), accounts)
    before = Counter(_category(r) for r in week)
    now = Counter(_category(r) for r in recent)
    return [{"category": c, "today": now.get(c, 0), "average": round(before.get(c, 0) / 7, 1)}
            for c in CATEGORY_ORDER]


def _acknowledgement(store: Store, message: dict[str, Any], rules: Rules | None) -> str:
    """What the client was told, in a few words: the acknowledgement's tier, or why there was none."""
    tier = message.get("ack_tier") or "none"
    if store.one(f"SELECT 1 FROM outbox WHERE message_row = ? AND kind = 'acknowledge' AND status != 'failed' AND "
                 f"{outbox.REAL}", [message["id"]]):
        return f"acknowledged ({tier}{': ' + message['ack_tier_reason'] if tier != 'specific' else ''})"
    if store.one("SELECT 1 FROM outbox WHERE message_row = ? AND kind = 'acknowledge' AND status = 'shadow'",
                 [message["id"]]):
        return "not acknowledged (decided in shadow mode: nothing was sent)"
    refused = store.one("SELECT last_error FROM outbox WHERE message_row = ? AND kind = 'acknowledge' AND "
                        "status = 'failed'", [message["id"]])
    if refused:
        return f"not acknowledged (the acknowledgement could not be delivered: {refused['last_error'] or 'given up'})"
    # The thread's first request was acknowledged: that is what the client was told (round 22: "not acknowledged
    # (no rule matched)" under a sign-off that followed an acknowledged revision request)
    earlier = store.one("SELECT m.id, m.ack_tier FROM outbox o JOIN messages m ON m.id = o.message_row WHERE "
                        f"o.thread_id = ? AND o.kind = 'acknowledge' AND {outbox.counted('o')} "
                        "AND m.id < ? "
                        "ORDER BY m.id DESC LIMIT 1", [message["thread_id"], message["id"]]) \
        if message.get("thread_id") else None
    if earlier:
        return f"acknowledged earlier (#{earlier['id']}, {earlier['ack_tier'] or 'specific'})"
    route = loads(message.get("route"), {})
    done = route.get("done", [])
    why = next((line.split(": ", 1)[-1] for line in done if line.startswith(("no acknowledgement",
                                                                               "acknowledgement failed"))), None)
    if why is None and message.get("suspicious"):
        why = f"suspicious sender: {message['suspicious']}"
    if why is None and not route.get("actions"):
        why = nothing_done_because(route, rules)
    return f"not acknowledged ({why or 'no rule acknowledges it'})"


def _learning(store: Store, end: datetime, accounts: set[str] | None) -> list[dict[str, Any]]:
    """Per category, this week and last: messages handled, how many were corrected, and the accuracy that
    implies (1 - corrected/handled): whether Liaison learns from the corrections."""
    weeks = []
    for start, stop in ((end - timedelta(days=7), end), (end - timedelta(days=14), end - timedelta(days=7))):
        rows = store.all(
            "SELECT m.account_id, COALESCE((SELECT c.old_category FROM corrections c WHERE c.message_row = m.id "
            "ORDER BY c.id LIMIT 1), m.category) AS judged, EXISTS (SELECT 1 FROM corrections c WHERE "
            "c.message_row = m.id AND c.old_category != c.new_category) AS corrected FROM messages m "
            "WHERE m.status = 'processed' AND m.automatic IS NULL AND m.staff = 0 "
            "AND m.arrived_at >= ? AND m.arrived_at < ?",
            [_iso(start), _iso(stop)])
        weeks.append([r for r in rows if _in_accounts(accounts, r["account_id"])])
    lines = []
    for category in CATEGORY_ORDER[:4]:
        this, last = ([r for r in week if r["judged"] == category] for week in weeks)
        corrected = sum(r["corrected"] for r in this)
        accuracy = 1 - corrected / len(this) if this else None
        before = 1 - sum(r["corrected"] for r in last) / len(last) if last else None
        lines.append({"category": category, "handled": len(this), "corrected": corrected, "accuracy": accuracy,
                      "last_week": before})
    return lines if any(line["corrected"] for line in lines) or store.one("SELECT 1 FROM corrections") else []


def _acknowledged_requests(store: Store, rows: list[dict[str, Any]]) -> tuple[int, int]:
    """(acknowledged, requests): of the messages read as client requests (follow-ups aside), how many got an
    acknowledgement.
    Shown as counts: a bare share beside the count of all client messages read as a share of those."""
    # a follow-up in a thread is no request of its own (blind rounds 25 and 25b: "11 of 32" with every thread
    # answered; "0 of 1" where the one was a client's thanks after the manager's reply)
    actionable = [r for r in rows if r["category"] in ("revision_request", "billing_issue", "progress_query")
                  and not _follow_up(store, r)]
    acked = sum(1 for r in actionable if store.one(
        f"SELECT 1 FROM outbox WHERE message_row = ? AND kind = 'acknowledge' AND {outbox.REAL}", [r["id"]]))
    return acked, len(actionable)


def _follow_up(store: Store, row: dict[str, Any]) -> bool:
    """A client's message in a thread that an earlier client message of theirs (or their colleague's) opened."""
    return bool(row["thread_id"]) and store.one(
        "SELECT 1 FROM messages WHERE thread_id = ? AND id < ? AND staff = 0 AND automatic IS NULL AND "
        "suspicious IS NULL LIMIT 1", [row["thread_id"], row["id"]]) is not None


def sample(day: date) -> Summary:
    """A summary with one item in every section, each with every field the builders above give:
    what `rules check` renders summary templates with, so a template that fails on real data
    fails the check first."""
    now = datetime.combine(day, time(8, 0), UTC)
    waiting = {"thread": 1, "account": "Sample Client", "category": "billing_issue",
               "subject": "Invoice INV-1 is wrong",
               "sender": "tom@brewco.example", "date": "2026-01-05 09:12", "message_id": "<sample@brewco.example>",
               "waiting_since": "2026-01-05 09:12", "age": "2d 3h", "age_hours": 51.0, "chasers": 1, "urgent": True,
               "suspicious": False,
               "entities": ["invoice INV-1", "amount €1,200.00"], "job_ref": "BREW-042", "invoices": ["INV-1"],
               "amounts": ["€1,200.00"], "ref": "#1", "ack": "acknowledged (specific)",
               "also": [{"category": "revision_request", "ref": "#2"}]}
    return Summary(
        "lead@agency.example", day, True, now - timedelta(days=1),
        counts={c: 1 for c in CATEGORY_ORDER},
        by_account=[{"account": "Sample Client", "counts": {"billing_issue": 1}, "total": 1}],
        needs_you=[waiting], billing=[waiting],
        scope=[{"account": "Sample Client", "job": "BREW-042", "job_known": True, "rounds": 3, "contracted": 2,
                "over": True}],
        promises=[{"who": "client deadline", "due": day.isoformat(), "overdue": False, "when": "today",
                   "text": "by Friday",
                   "subject": "Banner", "sender": "tom@brewco.example", "message_id": "<sample@brewco.example>"}],
        review=[{"kind": "needs review", "reason": "Billing issue? only 35% sure", "subject": "Question",
                 "sender": "tom@brewco.example", "date": "2026-01-05 09:12", "message_id": "<sample@brewco.example>",
                 "ref": "#2"}],
        trend=[{"category": c, "today": 1, "average": 0.5} for c in CATEGORY_ORDER],
        learning=[{"category": c, "handled": 10, "corrected": 1, "accuracy": 0.9, "last_week": 0.8}
                  for c in CATEGORY_ORDER[:4]],
        auto_handled=0.5, requests=2, acknowledged=1, total=len(CATEGORY_ORDER))


def render(summary: Summary, templates: TemplateLibrary) -> tuple[str, str]:
    return templates.render(TEMPLATE, "en", summary.context())


def build_message(summary: Summary, templates: TemplateLibrary, sender: str) -> Message:
    text, html = (scrubbed(part) for part in render(summary, templates))  # a server's error may echo a password
    scope = "agency-wide" if summary.team else "your accounts"
    before = f", {summary.unanswered_before} from before Liaison not answered" if summary.unanswered_before else ""
    before += ", MAILBOX CANNOT BE READ" if summary.mailbox_unreadable else ""
    subject = f"Liaison triage {summary.day.isoformat()}: {len(summary.needs_you)} waiting{before} ({scope})"
    return build_notice(sender=sender, to=[summary.recipient], subject=subject, message_id=new_message_id(sender),
                        text=text, html=html)


def due_day(rules: Rules, now: datetime) -> date | None:
    """Today's date in the rules' zone once the summary time has passed, unless today is skipped."""
    local = now.astimezone(rules.zone())
    if not rules.spec.summary.enabled or WEEKDAYS[local.weekday()] in rules.spec.summary.skip_days:
        return None
    return local.date() if local.time() >= rules.spec.summary.time else None


def plan_due(store: Store, rules: Rules, templates: TemplateLibrary, sender: str, now: datetime,
             *, force: bool = False) -> int:
    """Plan today's summary for every recipient who has not had it; returns how many were planned."""
    day = now.astimezone(rules.zone()).date() if force else due_day(rules, now)
    if day is None:
        return 0
    planned = 0
    for recipient, team in recipients(store, rules):
        daily = f"summary:{recipient}:{day.isoformat()}"
        key = daily + (f":{now.isoformat()}" if force else "")
        # `summary --send` (forced) always sends; the scheduled one is skipped when the recipient already had
        # that day's summary, scheduled or sent by hand: once per recipient per day, as the README promises.
        if store.one("SELECT 1 FROM outbox WHERE dedupe_key = ? OR (? AND dedupe_key LIKE ?)",
                     [key, not force, daily + ":%"]):
            continue
        message = build_message(build(store, rules, recipient, day, team=team, until=now), templates, sender)
        with store.transaction():
            if outbox.plan(store, dedupe_key=key, kind="summary", message=message, mail_from=sender,
                           recipients=[recipient]):
                planned += 1
    return planned
