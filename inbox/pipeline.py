"""The pipeline: ingest -> parse -> classify -> link -> route -> respond, one message at a time.

Each message is handled in ONE transaction: the raw bytes, every decision, the planned
outgoing mail and the mailbox position commit together or not at all. A message that
breaks a stage is rolled back and shunted aside (quarantined with the reason), and the
pipeline goes on with the next one.
"""

from __future__ import annotations

import hashlib
import logging
import re
import sqlite3
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from classifiers import Classifier
from classifiers.automatic import automatic_reason
from classifiers.categorize import Categorizer
from classifiers.entities import extract
from classifiers.linking import Account, AccountIndex, Link, domain_of, link_message
from classifiers.newest_text import newest_text
from foundation.errors import ParseError
from foundation.message import SYNTHETIC_ID_SUFFIX, ParsedMessage, parse_message
from foundation.rules import Rules, backfill_window
from foundation.settings import Settings
from foundation.store import Store, loads, utcnow
from inbox import corrections
from inbox.models import load_active
from responders.respond import Incoming, Responder
from responders.routing import Facts, Route, route
from responders.templates import TemplateLibrary

log = logging.getLogger("liaison.pipeline")
ACTIONABLE = ("revision_request", "billing_issue", "progress_query")
_DELIVERY_STATUS = re.compile(rb"report-type\s*=\s*\"?delivery-status", re.IGNORECASE)
_FINAL_RECIPIENT = re.compile(rb"Final-Recipient:\s*rfc822;\s*<?([^\s<>]+@[^\s<>]+)>?", re.IGNORECASE)


@dataclass
class Outcome:
    """What happened to one message: what the log line and the demo table show."""

    row: int
    message_id: str
    status: str  # processed, quarantined, duplicate
    sender: str = ""
    subject: str = ""
    category: str = ""
    confidence: float = 0.0
    account_id: str | None = None
    link_reason: str = ""
    actions: list[str] = field(default_factory=list)
    reason: str = ""


@dataclass
class Position:
    """Where a message came from in the mailbox (None for files and the demo)."""

    folder: str = ""
    uidvalidity: int | None = None
    uid: int | None = None
    arrived: datetime | None = None  # the server's INTERNALDATE, when there is a server
    backlog: bool = False  # already in the folder when Liaison first saw it (see Pipeline.backlog_until)


def learned_names(conn: sqlite3.Connection) -> dict[str, str]:
    """Display names seen on mail linked by contact: what a message claiming one of them is checked against."""
    return {name.lower(): address for name, address in conn.execute(
        "SELECT from_name, from_addr FROM messages WHERE link_reason = 'contact' AND from_name != '' "
        "GROUP BY from_addr")}


def _same_message(stored: dict[str, Any], parsed: ParsedMessage) -> bool:
    """A Message-ID seen before names the same message only with the same sender, subject and text: anyone
    can reuse a Message-ID, and a second message under it must not disappear as a 'duplicate'."""
    return (stored["from_addr"] or "") == parsed.from_addr and (stored["subject"] or "") == parsed.subject \
        and (stored["body_text"] or "") == parsed.body_text[:65536]


_AUTH_FAILED = re.compile(r"\b(?:dmarc|spf)\s*=\s*(?:fail|softfail)\b", re.IGNORECASE)


def _forged(parsed: ParsedMessage) -> bool:
    """Mail our own server marked as failing SPF or DMARC: it claims a sender it was not sent by. Staff
    mail closes client threads and corrects categories, so a forged colleague must not count as one."""
    return bool(_AUTH_FAILED.search(parsed.header("authentication-results")))


def _sender_warning(parsed: ParsedMessage, twin: dict[str, Any] | None) -> str:
    """Why this message must not be answered or linked on trust, beyond what linking finds."""
    reasons = list(parsed.sender_problems)
    if _forged(parsed):
        reasons.append(f"our mail server found {parsed.from_addr} forged (Authentication-Results)")
    if twin:
        reasons.append(f"reuses the Message-ID of message #{twin['id']} from {twin['from_addr'] or 'nobody'}")
    return "; ".join(reasons)


def arrival_time(position: Position, parsed: ParsedMessage) -> datetime:
    """When the message arrived: the server's INTERNALDATE, else its Date header (never in the future)."""
    now = datetime.now(UTC)
    moment = position.arrived or parsed.date or now
    return min(moment.astimezone(UTC), now)


class Pipeline:
    def __init__(self, store: Store, settings: Settings, rules: Rules, *, model: Classifier | None = None,
                 known_names: dict[str, str] | None = None) -> None:
        """`model` and `known_names` (display name -> contact address, learned from earlier mail) let a
        scratch pipeline judge as the daemon would, from what the user's database holds."""
        self.store = store
        self.settings = settings
        self.model = model or load_active(store, settings.db_path)  # None: the shipped model
        self.known_names = known_names or {}
        self.set_rules(rules)
        self.refresh_accounts()
        self.backlog_recorded = 0  # messages recorded without answering under `backfill`, for the run's log line

    def set_rules(self, rules: Rules) -> None:
        """Swap in new rules (already validated); the next message uses them."""
        self.rules = rules
        self.categorizer = Categorizer(rules, base=self.model)
        self.responder = Responder(self.store, self.settings, rules, TemplateLibrary(rules.template_dir))

    def use_model(self) -> None:
        """Load the active model version again (after `liaison model use` or a promoted retrain)."""
        self.model = load_active(self.store, self.settings.db_path)
        self.set_rules(self.rules)

    def refresh_accounts(self) -> None:
        rows = self.store.all("SELECT * FROM accounts")
        accounts = [Account(r["account_id"], r["name"], r["code"] or "", tuple(loads(r["domains"], [])),
                            tuple(loads(r["contacts"], [])), r["account_manager"] or "") for r in rows]
        names = {**self.known_names, **learned_names(self.store.conn)}
        self.index = AccountIndex.build(accounts, names)

    def backlog_until(self, folder: str, uidvalidity: int | None, uids: list[int], *, first_sight: bool) -> int:
        """The highest UID that was already in the folder when Liaison first saw it (0: none).

        Stored once, at first sight (an empty folder too, so that what arrives next is never taken
        for backlog), before any of that mail is processed, so that a restart in the middle of the
        backlog still knows where it ended."""
        found = self.store.one(
            "SELECT json_extract(detail, '$.until_uid') AS uid FROM events WHERE kind = 'first_sight' "
            "AND json_extract(detail, '$.folder') = ? AND json_extract(detail, '$.uidvalidity') = ?",
            [folder, uidvalidity])
        if found:
            return int(found["uid"])
        if not first_sight:
            return 0
        until = max(uids, default=0)
        self.store.event("first_sight", {"folder": folder, "uidvalidity": uidvalidity, "until_uid": until,
                                         "messages": len(uids), "backfill": self.rules.spec.backfill})
        return until

    # -- the one entry point ------------------------------------------------------------

    def ingest(self, raw: bytes, position: Position | None = None) -> Outcome:
        """Store and process one raw message exactly once; never raises for bad mail."""
        position = position or Position()
        digest = hashlib.sha256(raw).hexdigest()
        try:
            with self.store.transaction():
                known = self.store.one("SELECT id, message_id FROM messages WHERE raw_sha256 = ?", [digest])
                if known:
                    self._advance(position)
                    return Outcome(known["id"], known["message_id"] or "", "duplicate")
                return self._process(raw, digest, position)
        except Exception as exc:  # a bug or a hostile message: shunt it aside and go on
            log.exception("message quarantined after an internal error")
            return self._quarantine(raw, digest, position, f"internal error: {type(exc).__name__}: {exc}")

    # -- stages ---------------------------------------------------------------------------

    def _process(self, raw: bytes, digest: str, position: Position) -> Outcome:
        try:
            parsed = parse_message(raw)
        except ParseError as exc:
            return self._quarantine(raw, digest, position, str(exc))
        twin = self.store.one(
            "SELECT id, from_addr, subject, body_text FROM messages WHERE message_id = ? "
            "AND message_id NOT LIKE ? ORDER BY id LIMIT 1", [parsed.message_id, f"%{SYNTHETIC_ID_SUFFIX}"])
        if twin and _same_message(twin, parsed):  # again (a resync, a re-delivery with new Received headers)
            self._advance(position)
            return Outcome(twin["id"], parsed.message_id, "duplicate")
        row = self._insert_raw(raw, digest, position, "received", parsed.message_id)
        newest = newest_text(parsed.text, html=parsed.html or None)
        automatic = automatic_reason(parsed)
        staff = self._is_staff(parsed.from_addr) and not _forged(parsed)
        if staff and not automatic:  # an account manager answering the summary with correction codes
            corrections.from_summary_reply(self.store, sender=parsed.from_addr, in_reply_to=parsed.in_reply_to,
                                           references=parsed.references, text=newest)
        verdict = self.categorizer.judge(parsed.subject, newest, automatic=automatic)
        received = arrival_time(position, parsed)
        entities = {} if automatic else extract(parsed.subject, newest, today=received.date())
        link = self._link(parsed, staff)
        warning = _sender_warning(parsed, twin)
        if warning and not staff and not automatic:
            link = replace(link, suspicious="; ".join(filter(None, [link.suspicious, warning])))
        thread_id, chaser, first = self._thread(row, parsed, link, verdict.classification.category,
                                                automatic, staff, verdict.needs_review)
        self._note_bounce(raw, automatic)
        facts = Facts(
            category=verdict.classification.category, confidence=verdict.classification.confidence,
            needs_review=verdict.needs_review, sender=parsed.from_addr, subject=parsed.subject, body=newest,
            received_at=received, account_id=link.account_id, suspicious=bool(link.suspicious),
            automatic=bool(automatic), staff=staff, first_message=first, chaser=chaser, entities=entities,
            has_attachment=bool(parsed.attachments), ack_tier=verdict.tier.name)
        decision = route(facts, self.rules)
        if self._before_backfill(position, received):
            reason = f"already in {position.folder} when Liaison first saw it (backfill: {self.rules.spec.backfill})"
            done = [f"not answered: {reason}"]
            self.backlog_recorded += 1
            if thread_id:  # people were answering it before Liaison came; a new client message reopens it
                self.store.update("threads", "id", thread_id, {"status": "handled", "handled_at": utcnow(),
                                                               "handled_reason": reason})
        else:
            done = self.responder.respond(
                Incoming(row=row, parsed=parsed, raw_size=len(raw), facts=facts, link=link, thread_id=thread_id,
                         classification=verdict.classification), decision=decision, index=self.index)
        self._record(row, parsed, newest, automatic, verdict, entities, link, thread_id, chaser, decision, done,
                     facts)
        self._advance(position)
        c = verdict.classification
        return Outcome(row, parsed.message_id, "processed", parsed.from_addr, parsed.subject,
                       "needs_review" if verdict.needs_review else c.category, c.confidence, link.account_id,
                       link.reason, done)

    def _before_backfill(self, position: Position, received: datetime) -> bool:
        """Backlog mail older than `backfill` is recorded like any other, but gets no mail and no IMAP action."""
        if not position.backlog:
            return False
        window = backfill_window(self.rules.spec.backfill)
        return window is not None and received < datetime.now(UTC) - window

    def _link(self, parsed: ParsedMessage, staff: bool) -> Link:
        def thread_of() -> tuple[int, str | None] | None:
            ids = [i for i in [parsed.in_reply_to, *reversed(parsed.references)] if i]
            for message_id in dict.fromkeys(ids):
                found = self.store.one(
                    "SELECT t.id, t.account_id FROM thread_refs r JOIN threads t ON t.id = r.thread_id "
                    "WHERE r.message_id = ?", [message_id])
                if found:
                    return found["id"], found["account_id"]
            return None

        return link_message(self.index, sender=parsed.from_addr, display_name=parsed.from_name,
                            subject=parsed.subject, thread_of=thread_of, is_staff=staff)

    def _thread(self, row: int, parsed: ParsedMessage, link: Link, category: str, automatic: str | None,
                staff: bool, needs_review: bool) -> tuple[int | None, bool, bool]:
        """Attach the message to its thread; returns (thread id, is a chaser, is the first message)."""
        now = utcnow()
        thread = self.store.one("SELECT * FROM threads WHERE id = ?", [link.thread_id]) if link.thread_id else None
        if automatic:
            # Out-of-office replies and bounces never open, reopen or close a thread.
            return (thread["id"] if thread else None), False, False
        if thread is None:
            if staff:
                return None, False, True
            wanted = category in ACTIONABLE or needs_review
            thread_id = self.store.insert("threads", {
                "account_id": link.account_id, "subject": parsed.subject, "opened_at": now, "updated_at": now,
                "status": "open" if wanted else "handled", "job_ref": link.job_ref,
                "handled_reason": None if wanted else "nothing to answer", "starter_addr": parsed.from_addr})
            self._remember(parsed.message_id, thread_id)
            return thread_id, False, True
        self._remember(parsed.message_id, thread["id"])
        if staff:
            self.store.update("threads", "id", thread["id"], {
                "status": "handled", "handled_at": now, "handled_reason": f"answered by {parsed.from_addr}",
                "updated_at": now})
            return thread["id"], False, False
        chaser = thread["status"] == "open"
        values: dict[str, Any] = {"updated_at": now, "chasers": thread["chasers"] + int(chaser)}
        if not chaser and (category in ACTIONABLE or needs_review):
            values.update(status="open", handled_at=None, handled_reason=None)
        self.store.update("threads", "id", thread["id"], values)
        return thread["id"], chaser, False

    def _remember(self, message_id: str, thread_id: int) -> None:
        self.store.conn.execute("INSERT OR IGNORE INTO thread_refs (message_id, thread_id) VALUES (?, ?)",
                                [message_id, thread_id])

    def _note_bounce(self, raw: bytes, automatic: str | None) -> None:
        """A bounce of our own mail silences automatic mail to that address for a while.

        Only a delivery-status report (not a read receipt, which also names a Final-Recipient) that quotes
        the Message-ID of mail we sent: anyone can forge a bounce naming a client, to silence them."""
        head = raw[:256 * 1024]
        if not automatic or not _DELIVERY_STATUS.search(head):
            return
        domain = re.escape(self.settings.address.rsplit("@", 1)[-1].encode())
        quoted = {m.decode("ascii", "replace") for m in re.findall(rb"<[^<>\s@]{1,200}@" + domain + rb">", head,
                                                                   flags=re.IGNORECASE)}
        if not quoted or not self.store.one(
                f"SELECT 1 FROM outbox WHERE message_id IN ({', '.join('?' for _ in quoted)}) LIMIT 1", list(quoted)):
            return
        for match in _FINAL_RECIPIENT.finditer(head):
            address = match.group(1).decode("ascii", "replace").lower()
            self.store.insert("events", {"at": utcnow(), "kind": "bounce", "detail": {"address": address}})

    def _is_staff(self, address: str) -> bool:
        own = self.settings.address.lower()
        domain = domain_of(address)
        return address == own or any(domain == d or domain.endswith("." + d) for d in self.settings.agency_domains)

    # -- bookkeeping ------------------------------------------------------------------------

    def _insert_raw(self, raw: bytes, digest: str, position: Position, status: str, message_id: str = "",
                    error: str | None = None) -> int:
        arrived = position.arrived.astimezone(UTC).isoformat(timespec="microseconds") if position.arrived else None
        return self.store.insert("messages", {
            "folder": position.folder, "uidvalidity": position.uidvalidity, "uid": position.uid,
            "raw_sha256": digest, "message_id": message_id, "raw": raw, "size": len(raw),
            "received_at": utcnow(), "arrived_at": arrived or utcnow(), "status": status, "error": error})

    def _record(self, row: int, parsed: ParsedMessage, newest: str, automatic: str | None, verdict: Any,
                entities: dict[str, Any], link: Link, thread_id: int | None, chaser: bool, decision: Route,
                done: list[str], facts: Facts) -> None:
        c = verdict.classification
        self.store.update("messages", "id", row, {
            "status": "processed", "from_addr": parsed.from_addr, "from_name": parsed.from_name,
            "to_addrs": parsed.to, "cc_addrs": parsed.cc, "subject": parsed.subject,
            "date": parsed.date.isoformat() if parsed.date else None, "in_reply_to": parsed.in_reply_to,
            "refs": parsed.references, "body_text": parsed.body_text[:65536], "newest_text": newest,
            "headers": parsed.headers, "attachments": [a.__dict__ for a in parsed.attachments],
            "automatic": automatic, "category": c.category, "needs_review": int(verdict.needs_review),
            "confidence": c.confidence, "class_source": c.source, "class_reasons": list(c.reasons),
            "entities": entities, "urgency": len(entities.get("urgency", [])), "account_id": link.account_id,
            "link_reason": link.reason, "link_detail": link.detail, "suspicious": link.suspicious,
            "thread_id": thread_id, "is_chaser": int(chaser), "staff": int(facts.staff),
            "arrived_at": facts.received_at.isoformat(timespec="microseconds"),
            "ack_tier": verdict.tier.name, "ack_tier_reason": verdict.tier.reason,
            "route": {**decision.as_dict(), "done": done}, "processed_at": utcnow()})

    def _quarantine(self, raw: bytes, digest: str, position: Position, reason: str) -> Outcome:
        log.warning("quarantined message (%d bytes): %s", len(raw), reason)
        with self.store.transaction():
            known = self.store.one("SELECT id FROM messages WHERE raw_sha256 = ?", [digest])
            if known:
                self.store.update("messages", "id", known["id"], {"status": "quarantined", "error": reason})
                row = known["id"]
            else:
                row = self._insert_raw(raw, digest, position, "quarantined", error=reason)
            self._advance(position)
        return Outcome(row, "", "quarantined", reason=reason)

    def _advance(self, position: Position) -> None:
        """Move the mailbox position past this message, in the same transaction as its facts."""
        if position.uid is None:
            return
        self.store.advance_position(position.folder, position.uidvalidity, position.uid)
