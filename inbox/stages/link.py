"""link: which client account the message belongs to (thread, contact, domain, subject code), and
whether its sender must not be trusted."""

from __future__ import annotations

from dataclasses import replace

from classifiers.linking import link_message
from inbox.stages.context import MessageContext, Services
from inbox.stages.parse import forged


class Link:
    name = "link"

    def __init__(self, services: Services) -> None:
        self.services = services

    def run(self, message: MessageContext) -> None:
        parsed = message.parsed
        link = link_message(self.services.index, sender=parsed.from_addr, display_name=parsed.from_name,
                            subject=parsed.subject, thread_of=lambda: self._thread_of(message),
                            is_staff=message.staff)
        warning = self._sender_warning(message)
        if warning and not message.staff and not message.automatic:
            link = replace(link, suspicious="; ".join(filter(None, [link.suspicious, warning])))
        message.link = link

    def _thread_of(self, message: MessageContext) -> tuple[int, str | None] | None:
        parsed = message.parsed
        ids = [i for i in [parsed.in_reply_to, *reversed(parsed.references)] if i]
        for message_id in dict.fromkeys(ids):
            found = self.services.store.one(
                "SELECT t.id, t.account_id FROM thread_refs r JOIN threads t ON t.id = r.thread_id "
                "WHERE r.message_id = ?", [message_id])
            if found:
                return found["id"], found["account_id"]
        return None

    @staticmethod
    def _sender_warning(message: MessageContext) -> str:
        """Why this message must not be answered or linked on trust, beyond what linking finds."""
        parsed = message.parsed
        reasons = list(parsed.sender_problems)
        if forged(parsed):
            reasons.append(f"our mail server found {parsed.from_addr} forged (Authentication-Results)")
        if message.twin:
            reasons.append(f"reuses the Message-ID of message #{message.twin.id} from "
                           f"{message.twin.from_addr or 'nobody'}")
        return "; ".join(reasons)
