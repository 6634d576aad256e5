"""record: every fact worked out about the message, stored on its row (what the summary, replay, the
daemon and `explain` read instead of working it out again); and the bookkeeping of raw and shunted mail."""

from __future__ import annotations

from datetime import UTC

from foundation.message import readable_headers
from foundation.store import Store, utcnow
from inbox.stages.context import MessageContext, Outcome, Services


def insert_raw(store: Store, message: MessageContext, status: str, message_id: str = "",
               error: str | None = None, *, raw: bool = True) -> int:
    """Store the message's row. With the raw bytes, unless `Record` writes them (raw=False): a row's raw
    bytes are written once, since SQLite rewrites a whole row, blob and all, to change any column of it
    (twice the message in SQLite's memory for the UPDATE of a 30 MB message's status)."""
    position = message.position
    arrived = position.arrived.astimezone(UTC).isoformat(timespec="microseconds") if position.arrived else None
    return store.insert("messages", {
        "folder": position.folder, "uidvalidity": position.uidvalidity, "uid": position.uid,
        "raw_sha256": message.digest, "message_id": message_id, "raw": message.raw if raw else b"",
        "size": len(message.raw),
        "received_at": utcnow(), "arrived_at": arrived or utcnow(), "status": status, "error": error})


def store_quarantined(store: Store, message: MessageContext, reason: str) -> Outcome:
    """Keep the message raw, aside, with the reason (in the caller's transaction)."""
    with store.transaction():
        known = store.one("SELECT id FROM messages WHERE raw_sha256 = ?", [message.digest])
        if known:
            store.update("messages", "id", known["id"], {"status": "quarantined", "error": reason})
            row = known["id"]
        else:
            row = insert_raw(store, message, "quarantined", error=reason)
        if shown := readable_headers(message.raw):
            store.update("messages", "id", row, shown)
    return Outcome(row, "", "quarantined", reason=reason)


class Record:
    name = "record"

    def __init__(self, services: Services) -> None:
        self.services = services

    def run(self, message: MessageContext) -> None:
        parsed, verdict, link = message.parsed, message.verdict, message.link
        c = verdict.classification
        self.services.store.update("messages", "id", message.row, {
            "status": "processed", "raw": message.raw, "from_addr": parsed.from_addr, "from_name": parsed.from_name,
            "to_addrs": parsed.to, "cc_addrs": parsed.cc, "subject": parsed.subject,
            "date": parsed.date.isoformat() if parsed.date else None, "in_reply_to": parsed.in_reply_to,
            "refs": parsed.references, "body_text": parsed.body_text[:65536], "newest_text": message.newest,
            "headers": parsed.headers, "attachments": [a.__dict__ for a in parsed.attachments],
            "automatic": message.automatic, "category": c.category, "needs_review": int(verdict.needs_review),
            "display_category": message.display_category,
            "confidence": c.confidence, "class_source": c.source, "class_reasons": list(c.reasons),
            "entities": message.entities, "urgency": len(message.entities.get("urgency", [])),
            "account_id": link.account_id, "link_reason": link.reason, "link_detail": link.detail,
            "suspicious": link.suspicious, "claimed_account": link.claimed_account, "thread_id": message.thread_id,
            "is_chaser": int(message.chaser),
            "chases": message.chased["display_category"] if message.chased else None,
            "staff": int(message.staff), "arrived_at": message.arrived.isoformat(timespec="microseconds"),
            "ack_tier": verdict.tier.name, "ack_tier_reason": verdict.tier.reason,
            "route": {**message.decision.as_dict(), "done": message.done}, "processed_at": utcnow()})
        message.finish(Outcome(message.row, parsed.message_id, "processed", parsed.from_addr, parsed.subject,
                               message.display_category, c.confidence, link.account_id, link.reason,
                               message.done))
