"""automatic: auto-replies, bounces, lists and robots (RFC 3834 and friends), which are never answered.

A bounce of our own mail also silences automatic mail to the bounced address for a while.
"""

from __future__ import annotations

import json
import re

from classifiers.automatic import automatic_reason
from foundation.store import utcnow
from inbox.stages.context import MessageContext, Services

_DELIVERY_STATUS = re.compile(rb"report-type\s*=\s*\"?delivery-status", re.IGNORECASE)
_FINAL_RECIPIENT = re.compile(rb"Final-Recipient:\s*rfc822;\s*<?([^\s<>]+@[^\s<>]+)>?", re.IGNORECASE)


class Automatic:
    name = "automatic"

    def __init__(self, services: Services) -> None:
        self.services = services

    def run(self, message: MessageContext) -> None:
        message.automatic = automatic_reason(message.parsed, newest=message.newest)
        if message.automatic:
            self._note_bounce(message.raw)

    def _note_bounce(self, raw: bytes) -> None:
        """Only a delivery-status report (not a read receipt, which also names a Final-Recipient) that quotes
        the Message-ID of mail we sent: anyone can forge a bounce naming a client, to silence them."""
        store = self.services.store
        head = raw[:256 * 1024]
        if not _DELIVERY_STATUS.search(head):
            return
        domain = re.escape(self.services.settings.address.rsplit("@", 1)[-1].encode())
        quoted = {m.decode("ascii", "replace") for m in re.findall(rb"<[^<>\s@]{1,200}@" + domain + rb">", head,
                                                                   flags=re.IGNORECASE)}
        if not quoted:
            return
        # only an address that mail it quotes went to (blind round 27: a forged report quoting Tom's receipt but
        # naming Sara silenced Sara's receipts for a week)
        sent_to = {address.lower() for row in store.all(
            f"SELECT recipients FROM outbox WHERE message_id IN ({', '.join('?' for _ in quoted)})", list(quoted))
            for address in json.loads(row["recipients"])}
        for match in _FINAL_RECIPIENT.finditer(head):
            address = match.group(1).decode("ascii", "replace").lower()
            if address in sent_to:
                store.insert("events", {"at": utcnow(), "kind": "bounce", "detail": {"address": address}})
