"""ingest: the same raw bytes stored before are the same message, whatever the mailbox says."""

from __future__ import annotations

from inbox.stages.context import MessageContext, Outcome, Services


class Ingest:
    name = "ingest"

    def __init__(self, services: Services) -> None:
        self.services = services

    def run(self, message: MessageContext) -> None:
        known = self.services.store.one("SELECT id, message_id FROM messages WHERE raw_sha256 = ?", [message.digest])
        if known:
            message.finish(Outcome(known["id"], known["message_id"] or "", "duplicate"))
