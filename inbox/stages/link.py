"""link: which client account the message belongs to (thread, contact, domain, subject code), and
whether its sender must not be trusted."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, timedelta

from classifiers.linking import link_message
from foundation.freemail import FREE_MAIL
from foundation.subjects import is_reply_subject
from inbox.stages.context import MessageContext, Services
from inbox.stages.parse import forged

#: How long after its last message a conversation still takes a reply that names it only by its subject.
SUBJECT_THREAD_WINDOW = timedelta(days=30)


class Link:
    name = "link"

    def __init__(self, services: Services) -> None:
        self.services = services

    def run(self, message: MessageContext) -> None:
        parsed = message.parsed
        judged = not message.staff and not message.automatic
        link = link_message(self.services.index, sender=parsed.from_addr, display_name=parsed.from_name,
                            subject=parsed.subject, thread_of=lambda: self._thread_of(message),
                            is_staff=message.staff, distrust=self._sender_doubt(message) if judged else "",
                            reply_to=parsed.reply_to)
        twin = self._twin_warning(message)
        if twin and judged:
            link = replace(link, suspicious="; ".join(filter(None, [link.suspicious, twin])))
        message.link = link

    def _thread_of(self, message: MessageContext) -> list[tuple[int, str | None]]:
        """The threads its In-Reply-To and References lead to, nearest first, each once; last, the thread of a
        reply that arrived before it and named it (its own Message-ID, remembered with that reply)."""
        parsed = message.parsed
        ids = list(dict.fromkeys(i for i in [parsed.in_reply_to, *reversed(parsed.references), parsed.message_id]
                                 if i))
        found = self.services.store.threads_of(ids)
        ordered: dict[int, str | None] = {}
        for message_id in ids:
            if message_id in found:
                ordered.setdefault(*found[message_id])
        if not ordered and is_reply_subject(parsed.subject) and not message.automatic:
            by_subject = self._thread_by_subject(message)
            if by_subject:
                ordered.setdefault(*by_subject)
        return list(ordered.items())

    def _thread_by_subject(self, message: MessageContext) -> tuple[int, str | None] | None:
        """Some mail clients (webmail forms, old phones) send a reply with neither In-Reply-To nor References:
        "Re:" and the subject of a conversation lately active is that conversation, not a new request. A
        client's reply joins one started by the sender or a colleague at the same (not free-mail) domain; a
        colleague's reply, one started by whom it answers."""
        parsed = message.parsed
        since = (message.arrived - SUBJECT_THREAD_WINDOW).astimezone(UTC).isoformat(timespec="microseconds")
        if message.staff:
            return self.services.store.thread_by_subject(parsed.subject, starters=[*parsed.to, *parsed.cc],
                                                         since=since)
        domain = parsed.sender_domain.lower()
        return self.services.store.thread_by_subject(parsed.subject, starters=[parsed.from_addr], since=since,
                                                     domain="" if domain in FREE_MAIL else domain)

    @staticmethod
    def _sender_doubt(message: MessageContext) -> str:
        """Why the sender's address must not be trusted, beyond what linking finds: it is not plainly the
        one sender (a group, two mailboxes...), or our own server found it forged. Nothing links by it."""
        parsed = message.parsed
        reasons = list(parsed.sender_problems)
        if forged(parsed):
            reasons.append(f"our mail server found {parsed.from_addr} forged (Authentication-Results)")
        return "; ".join(reasons)

    @staticmethod
    def _twin_warning(message: MessageContext) -> str:
        """A Message-ID used before: not answered on trust, though its sender may be who they say."""
        twin = message.twin
        return f"reuses the Message-ID of message #{twin.id} from {twin.from_addr or 'nobody'}" if twin else ""
