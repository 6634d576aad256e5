"""Corrections: an account manager's word on what a message is, taken where they already work.

Three ways in, one record: moving or copying a message into a correction folder (`Liaison/Billing
issue`, ...), `liaison correct MESSAGE-ID CATEGORY`, or a reply to the daily summary with a code such
as `#12 billing`. A correction beats the model for that message at once (its category, the thread's
state, the summary's Review list when the acknowledgement named the wrong thing) and is training data
for the next model (`liaison train --with-corrections`), which is promoted only if it is no worse.
"""

from __future__ import annotations

import email
import logging
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from email.policy import default as default_policy
from typing import Any

import imapclient

from classifiers import CATEGORIES, Classification
from classifiers.linking import AccountIndex, Link
from foundation.errors import LiaisonError
from foundation.message import parse_message
from foundation.rules import Learning, Rules
from foundation.store import Store, loads, utcnow
from responders import outbox
from responders.respond import Incoming, Responder
from responders.routing import Facts, route

log = logging.getLogger("liaison.corrections")
NOT_A_CLIENT = "not_a_client"
TARGETS = (*CATEGORIES, NOT_A_CLIENT)
REQUESTS = ("revision_request", "billing_issue", "progress_query")
_WORDS = {
    "revision": "revision_request", "revision_request": "revision_request",
    "billing": "billing_issue", "billing_issue": "billing_issue",
    "progress": "progress_query", "progress_query": "progress_query",
    "other": "other", "not_a_client": NOT_A_CLIENT, "not-a-client": NOT_A_CLIENT, "notaclient": NOT_A_CLIENT,
}
# "#12 billing", "#12: not a client", "#12 = progress" in the body of a reply to the summary.
_CODE = re.compile(r"(?<![\w#])#(\d{1,9})\s*[:=\-]?\s*(not[ _-]?a[ _-]?client|[a-z_]+)", re.IGNORECASE)


@dataclass(frozen=True)
class Correction:
    row: int
    message_id: str
    old: str | None
    new: str
    acknowledged_as: str | None
    source: str


def category_from_word(word: str) -> str:
    """The category (or not_a_client) a person meant by a word; LiaisonError when it is none of them."""
    key = re.sub(r"[\s]+", "_", word.strip().lower())
    found = _WORDS.get(key) or _WORDS.get(key.replace("_", "-")) or _WORDS.get(key.replace("_", ""))
    if found is None:
        raise LiaisonError(f"unknown category {word!r}: use revision, billing, progress, other or 'not a client'")
    return found


def codes_in(text: str) -> list[tuple[int, str]]:
    """(message number, category) for each correction code in a reply to the summary."""
    found = []
    for number, word in _CODE.findall(text[:20_000]):
        try:
            found.append((int(number), category_from_word(word)))
        except LiaisonError:
            continue
    return found


def find_message(store: Store, reference: str) -> int:
    """The stored row for '#12', '12' or a Message-ID (with or without angle brackets)."""
    text = reference.strip()
    if re.fullmatch(r"#?\d{1,9}", text):
        row = store.one("SELECT id FROM messages WHERE id = ?", [int(text.lstrip("#"))])
    else:
        wanted = text if text.startswith("<") else f"<{text}>"
        rows = store.all("SELECT id FROM messages WHERE message_id = ? ORDER BY id", [wanted])
        if len(rows) > 1:  # blind round 26: an impostor reused a client's Message-ID, and the first was corrected
            numbers = ", ".join(f"#{r['id']}" for r in rows)
            raise LiaisonError(f"{len(rows)} messages carry the Message-ID {wanted} ({numbers}; a reuse the summary "
                               f"lists): name the one you mean by its number, e.g. `liaison correct #{rows[-1]['id']} "
                               "...`")
        row = rows[0] if rows else None
    if row is None:
        raise LiaisonError(f"no message {reference!r} in the database")
    return int(row["id"])


def record(store: Store, *, row: int, category: str, source: str, who: str | None = None) -> Correction:
    """Record one correction and apply it to the message and its thread, in one transaction."""
    if category not in TARGETS:
        raise LiaisonError(f"unknown category {category!r}")
    with store.transaction():
        message = store.one("SELECT id, message_id, category, account_id, thread_id, status, ack_tier FROM messages "
                            "WHERE id = ?", [row])
        if message is None or message["status"] != "processed":
            raise LiaisonError(f"message #{row} was not processed (nothing to correct)")
        if message["category"] == ("other" if category == NOT_A_CLIENT else category) and (
                category != NOT_A_CLIENT or message["account_id"] is None):
            raise LiaisonError(f"message #{row} is already {category}: nothing to correct")
        acknowledged_as = _acknowledged_as(store, message)
        correction = Correction(row, message["message_id"] or "", message["category"], category, acknowledged_as,
                                source)
        store.insert("corrections", {
            "message_row": row, "old_category": message["category"], "new_category": category,
            "acknowledged_as": acknowledged_as, "source": source, "who": who, "at": utcnow()})
        _apply(store, message, category)
    log.info("correction: message #%s %s -> %s (%s)", row, message["category"], category, source)
    return correction


def _acknowledged_as(store: Store, message: dict[str, Any]) -> str | None:
    """The category the client was told we understood, if an acknowledgement was planned or sent: the
    classifier's own answer, kept by the first correction, since later ones see the corrected category."""
    ack = store.one("SELECT id FROM outbox WHERE kind = 'acknowledge' AND message_row = ? "
                    f"AND {outbox.COUNTED} LIMIT 1", [message["id"]])
    if not ack or message.get("ack_tier") == "neutral":  # a neutral receipt named no kind of request (22c)
        return None
    first = store.one("SELECT old_category FROM corrections WHERE message_row = ? ORDER BY id LIMIT 1",
                      [message["id"]])
    return first["old_category"] if first else message["category"]


def _apply(store: Store, message: dict[str, Any], category: str) -> None:
    corrected = "other" if category == NOT_A_CLIENT else category
    values: dict[str, Any] = {"needs_review": 0, "class_source": "correction", "confidence": 1.0,
                              "category": corrected, "display_category": corrected}
    if category == NOT_A_CLIENT:
        values.update(account_id=None, link_reason="corrected: not a client")
    store.update("messages", "id", message["id"], values)
    if not message["thread_id"]:
        return
    if values["category"] in REQUESTS:  # a request after all: someone must answer it
        store.reopen_unanswered_thread(message["thread_id"])
    elif category == NOT_A_CLIENT or not store.thread_waits(message["thread_id"]):
        # closed only when nothing else in it waits: a thanks corrected to other closed a thread whose billing
        # issue, chased and URGENT, then fell out of every summary (blind round 27)
        store.close_thread(message["thread_id"], f"corrected to {category}")
    if category == NOT_A_CLIENT:
        store.unlink_thread(message["thread_id"])


# -- a reply to the daily summary -------------------------------------------------------------------

def from_summary_reply(store: Store, *, sender: str, in_reply_to: str, references: list[str],
                       text: str) -> list[Correction]:
    """Corrections written by staff in a reply to a summary Liaison sent; nothing for any other mail."""
    ids = [i for i in [in_reply_to, *references] if i]
    if not ids or not store.one(
            f"SELECT 1 FROM outbox WHERE kind = 'summary' AND message_id IN ({', '.join('?' for _ in ids)})", ids):
        return []
    done = []
    for row, category in codes_in(text):
        try:
            done.append(record(store, row=row, category=category, source="summary reply", who=sender))
        except LiaisonError as exc:
            log.warning("summary reply from %s: #%s: %s", sender, row, exc)
    return done


# -- correction folders over IMAP ----------------------------------------------------------------

def scan_folders(client: imapclient.IMAPClient, store: Store, learning: Learning, *, watched: str,
                 delimiter: str = "/") -> list[Correction]:
    """Record every message moved or copied into a correction folder since the last look.

    Leaves another folder selected: run it through ImapSource.session, which selects the watched one again.
    Folders are created when missing. A corrected message is moved back to the watched folder when
    `move_back` is set and it is no longer there (a copy leaves the original where it was).
    """
    done: list[Correction] = []
    for category, name in learning.folders.items():
        folder = name.replace("/", delimiter)
        if not client.folder_exists(folder):
            client.create_folder(folder)
            continue
        done += _scan_one(client, store, learning, folder, category, watched)
    return done


def _scan_one(client: imapclient.IMAPClient, store: Store, learning: Learning, folder: str, category: str,
              watched: str) -> list[Correction]:
    info = client.select_folder(folder)
    validity = int(info.get(b"UIDVALIDITY", 0))
    state = store.one("SELECT uidvalidity, last_uid FROM mailbox_state WHERE folder = ?", [folder])
    last = state["last_uid"] if state and state["uidvalidity"] == validity else 0
    uids = sorted(u for u in client.search(["UID", f"{last + 1}:*"]) if u > last)
    if not uids:
        return []
    headers = client.fetch(uids, ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
    done = []
    for uid in uids:
        raw = headers.get(uid, {}).get(b"BODY[HEADER.FIELDS (MESSAGE-ID)]", b"")
        message_id = str(email.message_from_bytes(bytes(raw), policy=default_policy).get("Message-ID", "")).strip()
        row = store.one("SELECT id FROM messages WHERE message_id = ? ORDER BY id LIMIT 1", [message_id]) \
            if message_id else None
        if row is None:
            log.warning("%s: UID %s (%s) is not a message Liaison has seen; left alone", folder, uid,
                        message_id or "no Message-ID")
        else:
            try:
                done.append(record(store, row=row["id"], category=category, source=f"folder {folder}"))
            except LiaisonError as exc:
                log.warning("%s: %s", folder, exc)
            if learning.move_back and not _still_in(client, watched, message_id, folder):
                client.move([uid], watched) if client.has_capability("MOVE") else _copy_delete(client, uid, watched)
        _advance(store, folder, validity, uid)
    return done


def _still_in(client: imapclient.IMAPClient, watched: str, message_id: str, current: str) -> bool:
    client.select_folder(watched, readonly=True)
    try:
        return bool(client.search(["HEADER", "Message-ID", message_id]))
    finally:
        client.select_folder(current)


def _copy_delete(client: imapclient.IMAPClient, uid: int, folder: str) -> None:
    client.copy([uid], folder)
    client.delete_messages([uid])
    client.expunge()


def _advance(store: Store, folder: str, validity: int, uid: int) -> None:
    with store.transaction():
        store.advance_position(folder, validity, uid)


# -- what corrections teach ----------------------------------------------------------------------

def suggestions(store: Store, *, at_least: int = 2) -> list[str]:
    """Sender patterns that account managers keep correcting, as rules.yaml snippets to consider.

    Never applied by Liaison itself: a person reads them and decides.
    """
    rows = store.all("SELECT m.from_addr, c.new_category FROM corrections c JOIN messages m ON m.id = c.message_row")
    counts = Counter((r["from_addr"] or "", r["new_category"]) for r in rows if r["from_addr"])
    lines = []
    for (sender, category), count in counts.most_common():
        if count < at_least:
            break
        name = re.sub(r"[^a-z0-9]+", "-", sender.lower()).strip("-")
        if category in (NOT_A_CLIENT, "other"):
            then = "[stop]"
            why = f"corrected to {category} {count} times: answer nothing"
        else:
            then = f"[{{escalate: account_manager}}, {{review: 'usually {category}'}}]"
            why = f"corrected to {category} {count} times"
        lines.append(f"# {sender}: {why}\n- name: {name}-{category.replace('_', '-')}\n"
                     f"  when: {{sender: {sender}}}\n  then: {then}")
    return lines


def training_examples(store: Store) -> list[tuple[str, str, str, str]]:
    """(id, subject, newest text, category) for the latest correction of each message."""
    rows = store.all(
        "SELECT c.message_row, c.new_category, m.subject, m.newest_text FROM corrections c "
        "JOIN messages m ON m.id = c.message_row WHERE c.id IN (SELECT MAX(id) FROM corrections GROUP BY message_row) "
        "ORDER BY c.id")
    return [(f"correction-{r['message_row']}", r["subject"] or "", r["newest_text"] or "",
             "other" if r["new_category"] == NOT_A_CLIENT else r["new_category"]) for r in rows]


# -- following a correction up ------------------------------------------------------------------------

def follow_up(store: Store, responder: Responder, rules: Rules, index: AccountIndex) -> int:
    """Each correction not yet followed up: a message corrected to a request gets the escalations that category's
    rules plan, for the people not yet told (blind round 22: corrected to billing, finance never heard of it).
    Never an acknowledgement, and nothing for mail from staff, robots or impostors. Returns how many were sent
    on."""
    escalated = 0
    for correction in store.all("SELECT id, message_row, new_category FROM corrections WHERE followed_up_at IS NULL "
                                "ORDER BY id"):
        try:
            with store.transaction():  # the escalations planned and the follow-up marked done, or neither
                done = _follow_up_one(store, responder, rules, index, correction)
                store.update("corrections", "id", correction["id"], {"followed_up_at": utcnow(), "follow_up": done})
        except Exception as exc:  # one message that cannot be followed up never holds back the others
            log.warning("correction #%s could not be followed up: %s", correction["id"], exc)
            done = [f"follow-up failed: {exc}"]
            store.update("corrections", "id", correction["id"], {"followed_up_at": utcnow(), "follow_up": done})
        else:
            log.info("correction #%s followed up: %s", correction["id"], "; ".join(done) or "no escalation planned")
        escalated += any(line.startswith("escalate: ") and "already told" not in line for line in done)
    return escalated


def _follow_up_one(store: Store, responder: Responder, rules: Rules, index: AccountIndex,
                   correction: dict[str, Any]) -> list[str]:
    message = store.message(correction["message_row"])
    if correction["new_category"] not in REQUESTS or message["staff"] or message["automatic"] or message["suspicious"]:
        return ["nothing: not a client request"]
    return _escalate_corrected(store, responder, rules, index, message, correction)


def _escalate_corrected(store: Store, responder: Responder, rules: Rules, index: AccountIndex,
                        message: dict[str, Any], correction: dict[str, Any]) -> list[str]:
    parsed = parse_message(message["raw"])
    category = message["category"]  # the corrected one (`_apply`)
    facts = Facts(category=category, confidence=1.0, needs_review=False, sender=parsed.from_addr,
                  subject=parsed.subject, body=message["newest_text"] or "",
                  received_at=datetime.fromisoformat(message["arrived_at"] or message["received_at"]),
                  account_id=message["account_id"], chaser=bool(message["is_chaser"]),
                  first_message=not message["is_chaser"], entities=loads(message["entities"], {}),
                  has_attachment=bool(parsed.attachments), ack_tier=message["ack_tier"] or "none")
    link = Link(message["account_id"], message["link_reason"] or "unlinked", message["link_detail"] or "",
                thread_id=message["thread_id"], job_ref=None)
    incoming = Incoming(row=message["id"], parsed=parsed, raw_size=len(message["raw"] or b""), facts=facts,
                        link=link, thread_id=message["thread_id"],
                        classification=Classification(category, 1.0, ("corrected by a person",), "correction"))
    told = {r.lower() for row in store.all("SELECT recipients FROM outbox WHERE message_row = ? AND kind = 'escalate'",
                                           [message["id"]]) for r in loads(row["recipients"], [])}
    return responder.escalate_corrected(incoming, decision=route(facts, rules), index=index, told=told,
                                        key=f"correction-{correction['id']}",
                                        acknowledged_as=_acknowledged_as(store, message))
