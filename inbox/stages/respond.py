"""respond: plan what the route decided (acknowledgements, escalations, IMAP actions) in the outbox.

Backlog mail older than `backfill` is recorded like any other, but gets no mail and no IMAP action.
"""

from __future__ import annotations

from datetime import UTC, datetime

from foundation.rules import backfill_window
from foundation.store import utcnow
from inbox.stages.context import MessageContext, Services
from responders.respond import Incoming


class Respond:
    name = "respond"

    def __init__(self, services: Services) -> None:
        self.services = services

    def run(self, message: MessageContext) -> None:
        services = self.services
        if self._before_backfill(message):
            reason = (f"already in {message.position.folder} when Liaison first saw it "
                      f"(backfill: {services.rules.spec.backfill})")
            message.done = [f"not answered: {reason}"]
            if message.thread_id:  # people were answering it before Liaison came; a new client message reopens it
                services.store.update("threads", "id", message.thread_id,
                                      {"status": "handled", "handled_at": utcnow(), "handled_reason": reason})
            return
        message.done = services.responder.respond(
            Incoming(row=message.row, parsed=message.parsed, raw_size=len(message.raw), facts=message.facts,
                     link=message.link, thread_id=message.thread_id, classification=message.verdict.classification,
                     chased_row=message.chased["id"] if message.chased else None),
            decision=message.decision, index=services.index)

    def _before_backfill(self, message: MessageContext) -> bool:
        if not message.position.backlog:
            return False
        window = backfill_window(self.services.rules.spec.backfill)
        return window is not None and message.arrived < datetime.now(UTC) - window
