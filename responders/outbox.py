"""The durable outbox: planned in the same transaction as the decision, sent exactly once.

Each outgoing message is stored with its Message-ID before any SMTP traffic. A send is
recorded as `sending` before the SMTP transaction and `sent` after it; temporary failures
retry with exponential backoff, permanent ones are given up with the server's answer (an
ERROR line and a `send_failed` alert in the summary).
A server that cannot be reached (or refuses our login) is an outage, not a failure of any
one message: the whole outbox waits with one backoff, and the outage is logged once when
it starts, once when it ends, and raised to an ERROR and a summary alert if it lasts.
The one window no protocol can close (the server accepted, we crashed before recording
it) is closed where the provider keeps a copy of what it sends: before sending again a
message that was already attempted, we look for its Message-ID in the Sent folder
(LIAISON_IMAP_SENT_FOLDER). Elsewhere it is resent with the same Message-ID, so receivers
can recognise the duplicate.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from email.message import Message
from typing import Any, Literal, TypedDict

from foundation.errors import (
    LiaisonError,
    PermanentSendError,
    SendInterrupted,
    SMTPConnectError,
    TemporarySendError,
)
from foundation.process import process_gone, this_process
from foundation.store import Store, utcnow
from responders.compose import Draft, as_bytes, attachable, render
from responders.smtp import Envelope, Outcome, Sends, Transport

log = logging.getLogger("liaison.outbox")

BACKOFF_CAP = timedelta(hours=1)
GIVE_UP_AFTER = timedelta(days=2)
DUE_STATES = ("pending", "retry")
OUTAGE_RETRY_CAP = timedelta(minutes=5)  # how late at most we notice that the server is back
OUTAGE_ALERT_AFTER = timedelta(minutes=15)  # an outage this long is an ERROR and a summary alert
SMTP_HEALTH = "smtp server"  # its row in periodic_tasks, next to the daemon's tasks


@dataclass
class FlushResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    unavailable: str | None = None  # why the server could not be used, when it could not


@dataclass
class Outage:
    """The sending server as the outbox sees it, across flushes (the daemon keeps one)."""

    alert_after: timedelta = OUTAGE_ALERT_AFTER
    since: datetime | None = None
    failures: int = 0
    hold_until: datetime | None = None
    alerted: bool = False
    error: str = ""
    recorded_up: bool = False
    #: sends the server accepted whose record could not be written (a full disk): {outbox id: (status, the
    #: server's answer)}, recorded at the next flush, never sent again (blind round 27: a restart sent them twice)
    accepted: dict[int, tuple[str, str]] = field(default_factory=dict)

    def holding(self) -> bool:
        return self.hold_until is not None and datetime.now(UTC) < self.hold_until


def plan(
    store: Store,
    *,
    dedupe_key: str,
    kind: str,
    mail_from: str,
    recipients: list[str],
    draft: Draft | None = None,
    message: Message | None = None,
    rule: str | None = None,
    message_row: int | None = None,
    thread_id: int | None = None,
    status: str = "pending",
) -> int | None:
    """Store an outgoing message (inside the caller's transaction); None when already planned.

    A `draft` is stored as it is and built into MIME only when sent (the decision stays cheap, and an
    escalation refers to the stored original instead of copying it); a ready `message` is stored rendered.
    """
    if (draft is None) == (message is None):
        raise TypeError("plan() takes a draft or a message")
    if store.one("SELECT id FROM outbox WHERE dedupe_key = ?", [dedupe_key]):
        return None
    what: dict[str, object]
    if draft is not None:
        what = {"message_id": draft.message_id, "subject": draft.subject, "plan": draft.as_json(), "raw": None}
    else:
        assert message is not None
        what = {"message_id": message["Message-ID"], "subject": str(make_header(decode_header(message["Subject"]))),
                "raw": as_bytes(message)}
    return store.insert("outbox", {
        "dedupe_key": dedupe_key, "message_row": message_row, "kind": kind, "rule": rule,
        "mail_from": mail_from, "recipients": recipients, **what, "status": status,
        "created_at": utcnow(), "next_attempt_at": utcnow(), "thread_id": thread_id,
    })


def rendered(store: Store, *, raw: bytes | None, plan: str | None) -> bytes:
    """The bytes of a stored outgoing message (its row's `raw` and `plan`), built now if planned as a draft."""
    if raw is not None:
        return bytes(raw)
    if plan is None:
        raise PermanentSendError("an outbox row with neither raw bytes nor a plan")
    draft = Draft.from_json(plan)
    if draft.original_row is None:
        return as_bytes(render(draft))
    original, size = _original(store, draft.original_row)
    return as_bytes(render(draft, original, original_size=size))


def _original(store: Store, message_row: int) -> tuple[bytes, int]:
    """The stored client message an escalation attaches: only its head when only that is attached."""
    stored = store.one("SELECT size FROM messages WHERE id = ?", [message_row])
    if stored is None:
        raise PermanentSendError(f"the original message (row {message_row}) is no longer stored")
    size = int(stored["size"] or 0)
    head = attachable(size)
    if head is None:
        found = store.one("SELECT raw FROM messages WHERE id = ?", [message_row])
    else:  # substr on a BLOB reads only those bytes: a 30 MB original is not loaded for its headers
        found = store.one("SELECT substr(raw, 1, ?) AS raw FROM messages WHERE id = ?", [head, message_row])
    assert found is not None
    return bytes(found["raw"]), size


SHADOW_KEY = "shadow:"  # the dedupe key of mail a shadow period decided, released when Liaison went live
FAILED_KEY = "failed:"  # the dedupe key of an acknowledgement refused for good, released: it holds nothing back
#: Outbox rows that count as mail Liaison sent or will send (for "already acknowledged", rate limits, the summary):
#: not those a past shadow period only pretended to send. Rows of the shadow period still running count, so that
#: a shadow daemon decides as a live one would.
REAL = "dedupe_key NOT LIKE 'shadow:%'"


def real(alias: str) -> str:
    """REAL for an outbox table under an alias in a join ("o")."""
    return f"{alias}.{REAL}"


#: Of those, the ones a client was or will be sent: not given up as undeliverable (a 550). What rate limits count
#: and what makes a thread acknowledged (round 23: an acknowledgement refused with 550 used up the sender's limit).
COUNTED = f"status != 'failed' AND {REAL}"


def counted(alias: str) -> str:
    """COUNTED for an outbox table under an alias in a join ("o")."""
    return f"{alias}.status != 'failed' AND {real(alias)}"


def recount_thread(store: Store, thread_id: int) -> None:
    """A thread is acknowledged only while an acknowledgement in it counts (call inside a transaction)."""
    acknowledged = store.one(f"SELECT 1 FROM outbox WHERE thread_id = ? AND kind = 'acknowledge' AND {COUNTED}",
                             [thread_id])
    store.update("threads", "id", thread_id, {"acknowledged": int(bool(acknowledged))})


def release_shadow(store: Store) -> int:
    """Going live after a shadow period: what the shadow daemon "sent" went to a folder, never to anyone, so it must
    not hold back what the live daemon sends (round 22b: a client chasing after the switch was refused as "thread
    already acknowledged" and never heard anything; that day's summaries were never sent). Each such row keeps
    its record under a released key; threads count as acknowledged only by real mail. Returns how many."""
    with store.transaction():
        rows = store.all(f"SELECT id, dedupe_key, thread_id FROM outbox WHERE status = 'shadow' AND {REAL}")
        for row in rows:
            store.release_outbox_key(row["id"], SHADOW_KEY)
        for thread_id in {row["thread_id"] for row in rows if row["thread_id"]}:
            recount_thread(store, thread_id)
    if rows:
        log.info("live after a shadow period: %d mail(s) the shadow daemon decided were never sent; they hold "
                 "nothing back", len(rows))
    return len(rows)


def recover(store: Store, *, accepted: Collection[int] = ()) -> int:
    """Sends whose process died mid-transaction (a crash, a kill -9 of the daemon or of `summary --send`) are due
    again (same Message-ID; flush looks in Sent first). Run at every start and every flush, when this process has
    no send under way: a send another live process is making is left to it, and one of this process's own is an
    attempt whose end could not be recorded, due again unless the server accepted it (`accepted`)."""
    mine = this_process()
    with store.transaction():
        rows = [row for row in store.all("SELECT id, claimed_by FROM outbox WHERE status = 'sending'")
                if (process_gone(row["claimed_by"]) or row["claimed_by"] == mine) and row["id"] not in accepted]
        for row in rows:
            store.update("outbox", "id", row["id"], {"status": "retry", "next_attempt_at": utcnow(),
                                                     "last_error": "interrupted while sending"})
    if rows:  # the one window where a server may hold a copy we do not know about: say so
        log.warning("%d send(s) were interrupted by a stop or crash; they are due again with the same Message-ID"
                    " (checked in the Sent folder first when one is set)", len(rows))
    return len(rows)


class DueMail(TypedDict):
    """An outbox row due to be sent, as `due` returns it."""

    id: int
    mail_from: str
    recipients: str  # JSON list
    raw: bytes | None
    plan: str | None
    attempts: int
    created_at: str
    kind: str
    message_id: str
    message_row: int | None
    thread_id: int | None
    status: str


def due(store: Store, now: str | None = None, limit: int = 500) -> list[DueMail]:
    # A message waits while an earlier one of the same kind in its thread is undelivered,
    # so a thread's mail arrives in order even across an outage. Acknowledgements go first: with a slow
    # sending server a client's receipt does not wait behind the escalations of everyone before them.
    return store.all(  # type: ignore[return-value]  # the columns DueMail names
        "SELECT id, mail_from, recipients, raw, plan, attempts, created_at, kind, message_id, message_row, thread_id, "
        "status "
        "FROM outbox o "
        "WHERE status IN ('pending', 'retry') AND next_attempt_at <= ? AND NOT EXISTS ("
        " SELECT 1 FROM outbox e WHERE e.thread_id = o.thread_id AND e.kind = o.kind AND e.id < o.id"
        " AND e.status IN ('pending', 'retry', 'sending')) ORDER BY kind != 'acknowledge', id LIMIT ?",
        [now or utcnow(), limit],
    )


def next_due_at(store: Store) -> datetime | None:
    row = store.one("SELECT MIN(next_attempt_at) AS at FROM outbox WHERE status IN ('pending', 'retry')")
    return datetime.fromisoformat(row["at"]) if row and row["at"] else None


def flush(store: Store, transport: Transport, *, stop: Callable[[], bool] | None = None, retry_after: float = 30.0,
          already_sent: Callable[[str], bool] | None = None, outage: Outage | None = None) -> FlushResult:
    """Send everything due, in order, until nothing is due; stop early when `stop()` is true.

    `already_sent(message_id)` looks for a copy of the message where the provider keeps what it
    sends (the Sent folder); it is asked before any message that may have reached the server already
    (an attempt was made, then interrupted or answered ambiguously) is sent again.

    The first temporary failure ends the flush: the server is most likely unwell, and
    hammering it with the rest of the queue would only reorder mail.
    """
    outage = outage or Outage()
    result = FlushResult()
    record_accepted(store, outage)
    recover(store, accepted=outage.accepted)  # a `summary --send` killed beside us mid-send: due now, not at a start
    if (stop is not None and stop()) or not due(store, limit=1):
        return result
    if outage.holding():
        _hold(store, outage)  # mail planned during the outage waits with the rest
        result.unavailable = outage.error
        return result
    if not check_server(store, transport, outage=outage, retry_after=retry_after):
        result.unavailable = outage.error
        return result
    transport.send_each(_sends(store, transport, result, stop=stop, retry_after=retry_after, outage=outage,
                               already_sent=already_sent))
    return result


def _sends(store: Store, transport: Transport, result: FlushResult, *, stop: Callable[[], bool] | None,
           retry_after: float, outage: Outage, already_sent: Callable[[str], bool] | None) -> Sends:
    """Everything due, in order, as one batch for the transport; each send recorded before and after."""
    while not result.retried and result.unavailable is None:
        rows = due(store)
        if not rows:
            return
        for row in rows:
            if stop is not None and stop():
                return
            envelope = _before(store, row, result, retry_after, already_sent)
            if envelope == "end":
                break
            if envelope == "next":
                continue
            outcome = yield envelope
            if not _after(store, transport, row, outcome, result, retry_after, outage):
                break


def check_server(store: Store, transport: Transport, *, outage: Outage, retry_after: float = 30.0) -> bool:
    """Can mail leave now? Connects (and logs in) if needed; an outage starts or ends here."""
    try:
        transport.check()
    except SendInterrupted:
        return False  # a stop, not an outage: nothing to record
    except SMTPConnectError as exc:
        _server_down(store, outage, str(exc), retry_after)
        return False
    _server_up(store, outage)
    return True


def _server_down(store: Store, outage: Outage, error: str, retry_after: float) -> None:
    now = datetime.now(UTC)
    outage.error = error
    outage.failures += 1
    delay = min(timedelta(seconds=retry_after) * (2 ** min(outage.failures - 1, 30)), OUTAGE_RETRY_CAP)
    outage.hold_until = now + delay
    _hold(store, outage)
    store.record_health(SMTP_HEALTH, {"last_failure_at": utcnow(), "last_error": error, "failures": outage.failures})
    if outage.since is None:
        outage.since = now
        log.warning("cannot send: %s; the outbox waits (%d queued), next try in %ds", error, _queued(store),
                    max(1, int(delay.total_seconds())))
    elif not outage.alerted and now - outage.since >= outage.alert_after:
        outage.alerted = True
        log.error("cannot send for %s: %s; %d messages wait", duration(now - outage.since), error, _queued(store))
        store.event("smtp_unavailable", {"reason": f"cannot send since {outage.since:%Y-%m-%d %H:%M} UTC: {error}"})


def _server_up(store: Store, outage: Outage) -> None:
    if outage.since is not None:
        log.info("sending again after %s without the SMTP server; %d queued",
                 duration(datetime.now(UTC) - outage.since), _queued(store))
    if outage.since is not None or not outage.recorded_up:  # written on a change, not on every flush
        store.record_health(SMTP_HEALTH, {"last_success_at": utcnow(), "last_error": None, "failures": 0})
        outage.recorded_up = True
    outage.since, outage.failures, outage.hold_until, outage.alerted, outage.error = None, 0, None, False, ""


def _hold(store: Store, outage: Outage) -> None:
    """Every message due before the outage's next try waits until then; none is charged an attempt."""
    assert outage.hold_until is not None
    until = outage.hold_until.isoformat(timespec="microseconds")
    store.hold_outbox_until(until)


def _queued(store: Store) -> int:
    row = store.one("SELECT COUNT(*) AS n FROM outbox WHERE status IN ('pending', 'retry')")
    return int(row["n"]) if row else 0


def duration(delta: timedelta) -> str:
    """How long an outage lasted, as the log says it: "4m 10s", "2h 5m"."""
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60}h {minutes % 60}m" if minutes >= 60 else f"{minutes}m {int(delta.total_seconds()) % 60}s"


def _before(store: Store, row: DueMail, result: FlushResult, retry_after: float,
            already_sent: Callable[[str], bool] | None) -> Envelope | Literal["next", "end"]:
    """Record a send as under way and return what to send; else go on with the `next` message, or `end`
    this round as after a temporary failure."""
    if row["attempts"] and already_sent is not None:
        try:
            found = already_sent(row["message_id"])
        except LiaisonError as exc:  # cannot look: wait rather than risk sending it twice
            _retry_or_give_up(store, row, f"cannot check the Sent folder: {exc}", result, retry_after)
            return "end"
        if found:
            _mark(store, row["id"], "sent", "found in the Sent folder after an interrupted attempt", sent=True)
            log.info("%s %s was delivered before an interruption (found in Sent); not sent again",
                     row["kind"], row["message_id"])
            result.sent += 1
            return "next"
    try:
        raw = rendered(store, raw=row["raw"], plan=row["plan"])
    except PermanentSendError as exc:
        _give_up(store, row, str(exc), result)
        return "next"
    with store.transaction():
        claimed = store.claim_outbox(row["id"], status=row["status"], attempts=row["attempts"])
    if not claimed:  # blind round 25i: `summary --send` beside the daemon sent the same summary twice
        return "next"
    return Envelope(row["mail_from"], json.loads(row["recipients"]), raw)


def _after(store: Store, transport: Transport, row: DueMail, outcome: Outcome, result: FlushResult,
           retry_after: float, outage: Outage) -> bool:
    """Record what became of one send; False when the batch must end (a temporary failure)."""
    if isinstance(outcome, SendInterrupted | SMTPConnectError):
        # Nothing of the message left (a stop while connecting, or the connection went away between
        # messages): as it was before this attempt, not an attempt that might have reached the server.
        with store.transaction():
            store.update("outbox", "id", row["id"], {"status": row["status"], "attempts": row["attempts"]})
    if isinstance(outcome, SendInterrupted):
        result.unavailable = str(outcome)
        return False
    if isinstance(outcome, SMTPConnectError):
        _server_down(store, outage, str(outcome), retry_after)
        result.unavailable = str(outcome)
        return False
    if isinstance(outcome, TemporarySendError):
        _retry_or_give_up(store, row, str(outcome), result, retry_after)
        return False
    if isinstance(outcome, PermanentSendError):
        _give_up(store, row, str(outcome), result)
        return True
    if not isinstance(outcome, str):
        raise outcome
    status = "shadow" if transport.shadow else "sent"
    outage.accepted[row["id"]] = (status, outcome)  # until it is written: a full disk must not make it a send again
    _mark(store, row["id"], status, outcome, sent=True)
    del outage.accepted[row["id"]]
    result.sent += 1
    return True


def record_accepted(store: Store, outage: Outage) -> None:
    """Write down the sends the server accepted while the database could not be written (they stay `sending`,
    claimed by this process, until then); a stop before the disk has room leaves them to be sent again."""
    for outbox_id, (status, answer) in list(outage.accepted.items()):
        _mark(store, outbox_id, status, answer, sent=True)
        del outage.accepted[outbox_id]
        log.info("outbox %d: sent while the database could not be written; recorded now", outbox_id)


def _retry_or_give_up(store: Store, row: DueMail, error: str, result: FlushResult,
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


def _give_up(store: Store, row: DueMail, error: str, result: FlushResult) -> None:
    """Failed for good: recorded with an alert for the summary in one transaction, and logged as an ERROR,
    because staff or a client are waiting for mail that will never arrive."""
    recipients = ", ".join(json.loads(row["recipients"]))
    reason = f"{row['kind']} to {recipients} will not be delivered: {error}"
    with store.transaction():
        _mark(store, row["id"], "failed", error)
        store.insert("events", {"at": utcnow(), "kind": "send_failed", "message_row": row.get("message_row"),
                                "detail": {"reason": reason, "message_id": row["message_id"]}})
        if row["kind"] == "acknowledge":  # never delivered: the client's next mail in the thread may be answered
            store.release_outbox_key(row["id"], FAILED_KEY)
            if row["thread_id"]:
                recount_thread(store, row["thread_id"])
    log.error("gave up %s %s: %s", row["kind"], row["message_id"], reason)
    result.failed += 1


def _mark(store: Store, outbox_id: int, status: str, detail: str, *, sent: bool = False) -> None:
    values: dict[str, Any] = {"status": status, "last_error": None if sent else detail}
    if sent:
        values["sent_at"] = utcnow()
    with store.transaction():
        store.update("outbox", "id", outbox_id, values)
