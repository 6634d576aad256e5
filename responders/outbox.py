"""The durable outbox: planned in the same transaction as the decision, sent exactly once.

Each outgoing message is stored with its Message-ID before any SMTP traffic. A send is
recorded as `sending` before the SMTP transaction and `sent` after it; temporary failures
retry with exponential backoff, permanent ones are given up with the server's answer (an
ERROR line and a `send_failed` alert in the summary).
The one window no protocol can close (the server accepted, we crashed before recording
it) is closed where the provider keeps a copy of what it sends: before sending again a
message that was already attempted, we look for its Message-ID in the Sent folder
(LIAISON_IMAP_SENT_FOLDER). Elsewhere it is resent with the same Message-ID, so receivers
can recognise the duplicate.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from email.message import Message
from typing import Any

from inbox.errors import LiaisonError, PermanentSendError, TemporarySendError
from inbox.store import Store, utcnow
from responders.compose import as_bytes
from responders.smtp import Transport

log = logging.getLogger("liaison.outbox")

BACKOFF_CAP = timedelta(hours=1)
GIVE_UP_AFTER = timedelta(days=2)
DUE_STATES = ("pending", "retry")


@dataclass
class FlushResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0


def plan(
    store: Store,
    *,
    dedupe_key: str,
    kind: str,
    message: Message,
    mail_from: str,
    recipients: list[str],
    rule: str | None = None,
    message_row: int | None = None,
    thread_id: int | None = None,
    status: str = "pending",
) -> int | None:
    """Store an outgoing message (inside the caller's transaction); None when already planned."""
    if store.one("SELECT id FROM outbox WHERE dedupe_key = ?", [dedupe_key]):
        return None
    return store.insert("outbox", {
        "dedupe_key": dedupe_key, "message_row": message_row, "kind": kind, "rule": rule,
        "mail_from": mail_from, "recipients": recipients, "message_id": message["Message-ID"],
        "subject": str(make_header(decode_header(message["Subject"]))), "raw": as_bytes(message), "status": status,
        "created_at": utcnow(), "next_attempt_at": utcnow(), "thread_id": thread_id,
    })


def recover(store: Store) -> int:
    """After a crash: sends caught mid-transaction are due again (same Message-ID; flush looks in Sent first)."""
    with store.transaction():
        rows = store.all("SELECT id FROM outbox WHERE status = 'sending'")
        for row in rows:
            store.update("outbox", "id", row["id"], {"status": "retry", "next_attempt_at": utcnow(),
                                                     "last_error": "interrupted while sending"})
    return len(rows)


def due(store: Store, now: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
    # A message waits while an earlier one of the same kind in its thread is undelivered,
    # so a thread's mail arrives in order even across an outage.
    return store.all(
        "SELECT id, mail_from, recipients, raw, attempts, created_at, kind, message_id, message_row FROM outbox o "
        "WHERE status IN ('pending', 'retry') AND next_attempt_at <= ? AND NOT EXISTS ("
        " SELECT 1 FROM outbox e WHERE e.thread_id = o.thread_id AND e.kind = o.kind AND e.id < o.id"
        " AND e.status IN ('pending', 'retry', 'sending')) ORDER BY id LIMIT ?",
        [now or utcnow(), limit],
    )


def next_due_at(store: Store) -> datetime | None:
    row = store.one("SELECT MIN(next_attempt_at) AS at FROM outbox WHERE status IN ('pending', 'retry')")
    return datetime.fromisoformat(row["at"]) if row and row["at"] else None


def flush(store: Store, transport: Transport, *, stop: Any = None, retry_after: float = 30.0,
          already_sent: Callable[[str], bool] | None = None) -> FlushResult:
    """Send everything due, in order, until nothing is due; stop early when `stop()` is true.

    `already_sent(message_id)` looks for a copy of the message where the provider keeps what it
    sends (the Sent folder); it is asked before any message that may have reached the server already
    (an attempt was made, then interrupted or answered ambiguously) is sent again.

    The first temporary failure ends the flush: the server is most likely unwell, and
    hammering it with the rest of the queue would only reorder mail.
    """
    result = FlushResult()
    while not result.retried:
        rows = due(store)
        if not rows:
            break
        for row in rows:
            if stop is not None and stop():
                return result
            if not _send_one(store, transport, row, result, retry_after, already_sent):
                break
    return result


def _send_one(store: Store, transport: Transport, row: dict[str, Any], result: FlushResult,
              retry_after: float, already_sent: Callable[[str], bool] | None = None) -> bool:
    """Send one stored message, recording before and after; False after a temporary failure."""
    if row["attempts"] and already_sent is not None:
        try:
            found = already_sent(row["message_id"])
        except LiaisonError as exc:  # cannot look: wait rather than risk sending it twice
            _retry_or_give_up(store, row, f"cannot check the Sent folder: {exc}", result, retry_after)
            return False
        if found:
            _mark(store, row["id"], "sent", "found in the Sent folder after an interrupted attempt", sent=True)
            log.info("%s %s was delivered before an interruption (found in Sent); not sent again",
                     row["kind"], row["message_id"])
            result.sent += 1
            return True
    with store.transaction():
        store.update("outbox", "id", row["id"], {"status": "sending", "attempts": row["attempts"] + 1})
    try:
        answer = transport.send(row["mail_from"], json.loads(row["recipients"]), row["raw"])
    except TemporarySendError as exc:
        _retry_or_give_up(store, row, str(exc), result, retry_after)
        return False
    except PermanentSendError as exc:
        _give_up(store, row, str(exc), result)
        return True
    _mark(store, row["id"], "shadow" if transport.shadow else "sent", answer, sent=True)
    result.sent += 1
    return True


def _retry_or_give_up(store: Store, row: dict[str, Any], error: str, result: FlushResult,
                      retry_after: float) -> None:
    age = datetime.now(UTC) - datetime.fromisoformat(row["created_at"])
    if age > GIVE_UP_AFTER:
        _give_up(store, row, f"gave up after {row['attempts'] + 1} attempts: {error}", result)
        return
    delay = min(timedelta(seconds=retry_after) * (2 ** row["attempts"]), BACKOFF_CAP)
    with store.transaction():
        store.update("outbox", "id", row["id"], {
            "status": "retry", "last_error": error,
            "next_attempt_at": (datetime.now(UTC) + delay).isoformat(timespec="microseconds"),
        })
    log.info("will retry %s %s in %ss: %s", row["kind"], row["message_id"], int(delay.total_seconds()), error)
    result.retried += 1


def _give_up(store: Store, row: dict[str, Any], error: str, result: FlushResult) -> None:
    """Failed for good: recorded with an alert for the summary in one transaction, and logged as an ERROR,
    because staff or a client are waiting for mail that will never arrive."""
    recipients = ", ".join(json.loads(row["recipients"]))
    reason = f"{row['kind']} to {recipients} will not be delivered: {error}"
    with store.transaction():
        _mark(store, row["id"], "failed", error)
        store.insert("events", {"at": utcnow(), "kind": "send_failed", "message_row": row.get("message_row"),
                                "detail": {"reason": reason, "message_id": row["message_id"]}})
    log.error("gave up %s %s: %s", row["kind"], row["message_id"], reason)
    result.failed += 1


def _mark(store: Store, outbox_id: int, status: str, detail: str, *, sent: bool = False) -> None:
    values: dict[str, Any] = {"status": status, "last_error": None if sent else detail}
    if sent:
        values["sent_at"] = utcnow()
    with store.transaction():
        store.update("outbox", "id", outbox_id, values)
