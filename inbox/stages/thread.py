"""thread: attach the message to its conversation; open, reopen or (for a colleague's reply) close it."""

from __future__ import annotations

from typing import Any

from classifiers.entities import pressing
from foundation.categories import NEEDS_REVIEW
from foundation.store import utcnow
from inbox.stages.context import MessageContext, Services

ACTIONABLE = ("revision_request", "billing_issue", "progress_query")
#: What a follow-up is read as when it may ask after its thread's request ("any news?", "did you get this?", "can you
#: prioritise please!!"): it is routed as what it is, and those told of the request hear of it too. A follow-up of
#: another request kind (a billing question in a revision thread) is a request of its own.
CHASING = ("progress_query", "other")


def wants_answer(display_category: str) -> bool:
    """A client request, or a message too unsure to say it is not one."""
    return display_category in ACTIONABLE or display_category == NEEDS_REVIEW


class Thread:
    name = "thread"

    def __init__(self, services: Services) -> None:
        self.services = services

    def run(self, message: MessageContext) -> None:
        store = self.services.store
        parsed, link = message.parsed, message.link
        now = utcnow()
        thread = store.one("SELECT * FROM threads WHERE id = ?", [link.thread_id]) if link.thread_id else None
        if message.automatic:
            # Out-of-office replies and bounces never open, reopen or close a thread.
            message.thread_id = thread["id"] if thread else None
            return
        if thread is None:
            message.first_message = True
            if message.staff:
                return
            wanted = wants_answer(message.display_category)
            message.thread_id = store.insert("threads", {
                "account_id": link.account_id, "subject": parsed.subject, "opened_at": now, "updated_at": now,
                "status": "open" if wanted else "handled", "job_ref": link.job_ref,
                "handled_reason": None if wanted else "nothing to answer", "starter_addr": parsed.from_addr})
            store.remember_thread_ref(parsed.message_id, message.thread_id)
            self._remember_what_it_answers(message)
            return
        message.thread_id = thread["id"]
        store.remember_thread_ref(parsed.message_id, thread["id"])
        self._remember_what_it_answers(message)
        if message.staff:
            store.update("threads", "id", thread["id"], {
                "status": "handled", "handled_at": now, "handled_reason": f"answered by {parsed.from_addr}",
                "updated_at": now})
            return
        # Only the client chases, by asking again or pressing: a suspicious sender's reply (shown for review) never
        # makes a thread "chased", nor do thanks or a sign-off (round 22: "Looks good, go ahead" was a chaser).
        # Pressing counts though read as other (round 24b: "Printer needs them tomorrow now, can you prioritise
        # please!!" reached no one until the next morning's summary).
        request = store.thread_request(thread["id"])
        asks = wants_answer(message.display_category) or pressing(message.entities)
        # a request of another kind is a new request, not a chase (round 25: a revision request in a thread chased
        # once made it "chased 2x | URGENT")
        another = message.display_category in ACTIONABLE and message.display_category not in CHASING and (
            request is not None and request["display_category"] != message.display_category)
        message.chaser = thread["status"] == "open" and not link.suspicious and asks and not another
        reopens = thread["status"] != "open" and not link.suspicious and wants_answer(message.display_category)
        same = request is not None and request["display_category"] == message.display_category
        if (message.chaser or reopens) and (message.display_category in CHASING or same):
            # what it asks after: those told of that request hear of this too (round 25: a credit note chased after
            # the manager's reply reached the manager alone, finance never)
            message.chased = request
        values: dict[str, Any] = {"updated_at": now, "chasers": thread["chasers"] + int(message.chaser)}
        if reopens:
            # the client asks again; an impostor's reply is escalated for review, it reopens nothing
            values.update(status="open", handled_at=None, handled_reason=None)
        store.update("threads", "id", thread["id"], values)

    def _remember_what_it_answers(self, message: MessageContext) -> None:
        """The messages a client's mail replies to lead to its thread too: when one of them arrives after the
        reply (mail is not always delivered in order), it joins this conversation instead of opening a second,
        acknowledged one. A suspicious sender's References claim nothing."""
        if message.link.suspicious or message.thread_id is None:
            return
        parsed = message.parsed
        for message_id in dict.fromkeys(i for i in [parsed.in_reply_to, *parsed.references] if i):
            self.services.store.remember_thread_ref(message_id, message.thread_id)
