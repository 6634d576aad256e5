"""classify: the category (model, phrase rules, review threshold), the entities, and the category shown.

A colleague's reply to the daily summary carrying correction codes corrects earlier messages first.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from classifiers.categorize import Categorizer, Verdict, staff_verdict
from classifiers.entities import extract
from classifiers.tiers import Tier
from foundation.categories import display_category
from foundation.message import BINARY_TEXT
from inbox import corrections
from inbox.stages.context import Entities, MessageContext, Services


def analyse(categorizer: Categorizer, subject: str, text: str, *, automatic: str | None, today: date,
            subject_entities: bool) -> tuple[Verdict, Entities]:
    """The classification and the entities of one message, from one tokenisation (automatic mail has no
    entities). A colleague's entities come from the text alone: read again, which staff mail is rare enough
    to afford."""
    analysis = categorizer.analyse(subject, text, automatic=automatic, today=today)
    if automatic or subject_entities:
        return analysis.verdict, analysis.entities
    return analysis.verdict, extract("", text, today=today)


class Classify:
    name = "classify"

    def __init__(self, services: Services) -> None:
        self.services = services

    def run(self, message: MessageContext) -> None:
        parsed = message.parsed
        if message.staff and not message.automatic:  # an account manager answering the summary with codes
            corrections.from_summary_reply(self.services.store, sender=parsed.from_addr,
                                           in_reply_to=parsed.in_reply_to, references=parsed.references,
                                           text=message.newest)
        # Dates ("by Friday") count from the day it arrived where the agency is, as routing and the summary
        # read them. A colleague's subject repeats the client's words, not a promise of ours: text only.
        today = message.arrived.astimezone(self.services.rules.zone()).date()
        message.verdict, message.entities = analyse(self.services.categorizer, parsed.subject, message.newest,
                                                    automatic=message.automatic, today=today,
                                                    subject_entities=not message.staff)
        if message.staff and not message.automatic:
            message.verdict = staff_verdict(message.verdict)
        elif BINARY_TEXT in parsed.defects and not message.automatic and not message.newest.strip():
            # words only in the subject over a file sent as the body: what they asked is unread (blind round 27b:
            # "Please change the logo colour" over a scan was thanked for its changes); a person reads it
            message.verdict = replace(message.verdict, needs_review=True,
                                      tier=Tier("none", "its text part is binary data, not words: read it yourself"))
        message.display_category = display_category(message.verdict.classification.category,
                                                     needs_review=message.verdict.needs_review)
