"""parse: the message's headers and text, who sent it (staff or not) and when it arrived; its row stored.

A message that cannot be parsed is kept raw and quarantined with the reason. A Message-ID seen
before is the same message again (a resync, a re-delivery) only with the same sender, subject
and text: anyone can reuse a Message-ID, and a second message under it must not disappear.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from foundation.errors import ParseError
from foundation.message import SYNTHETIC_ID_SUFFIX, ParsedMessage, parse_message
from foundation.settings import Settings
from inbox.stages.context import MessageContext, Outcome, Position, Services, Twin
from inbox.stages.record import insert_raw, store_quarantined

_AUTH_FAILED = re.compile(r"\b(?:dmarc|spf)\s*=\s*(?:fail|softfail)\b", re.IGNORECASE)


def forged(parsed: ParsedMessage) -> bool:
    """Mail our own server marked as failing SPF or DMARC: it claims a sender it was not sent by. Staff
    mail closes client threads and corrects categories, so a forged colleague must not count as one."""
    return bool(_AUTH_FAILED.search(parsed.header("authentication-results")))


def is_staff(settings: Settings, parsed: ParsedMessage) -> bool:
    """Sent by the agency: our own address or an agency domain (or a subdomain), not forged, and plainly that one
    sender (round 22b: a second From header beside a manager's made a stranger's summary reply staff's, and its
    corrections closed a client's thread)."""
    return settings.owns(parsed.from_addr) and not forged(parsed) and not parsed.sender_problems


def arrival_time(position: Position, parsed: ParsedMessage) -> datetime:
    """When the message arrived: the server's INTERNALDATE, else its Date header (never in the future)."""
    now = datetime.now(UTC)
    moment = position.arrived or parsed.date or now
    return min(moment.astimezone(UTC), now)


def same_message(stored: dict[str, Any], parsed: ParsedMessage) -> bool:
    return (stored["from_addr"] or "") == parsed.from_addr and (stored["subject"] or "") == parsed.subject \
        and (stored["body_text"] or "") == parsed.body_text[:65536]


class Parse:
    name = "parse"

    def __init__(self, services: Services) -> None:
        self.services = services

    def run(self, message: MessageContext) -> None:
        store = self.services.store
        try:
            parsed = parse_message(message.raw)
        except ParseError as exc:
            message.finish(store_quarantined(store, message, str(exc)))
            return
        twin = store.one(
            "SELECT id, from_addr, subject, body_text FROM messages WHERE message_id = ? "
            "AND message_id NOT LIKE ? ORDER BY id LIMIT 1", [parsed.message_id, f"%{SYNTHETIC_ID_SUFFIX}"])
        if twin and same_message(twin, parsed):
            message.finish(Outcome(twin["id"], parsed.message_id, "duplicate"))
            return
        message.parsed = parsed
        message.twin = Twin(twin["id"], twin["from_addr"] or "") if twin else None
        # Its raw bytes are written with its facts (Record), in this same transaction: a failure in any
        # stage rolls back the row, and the message is then kept raw, quarantined.
        message.row = insert_raw(store, message, "received", parsed.message_id, raw=False)
        message.staff = is_staff(self.services.settings, parsed)
        message.arrived = arrival_time(message.position, parsed)
