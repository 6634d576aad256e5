"""route: the rules of rules.yaml over the facts worked out so far; every hit and miss recorded."""

from __future__ import annotations

from classifiers.automatic import automatic_kind
from classifiers.tiers import TIERS
from inbox.stages.context import MessageContext, Services
from responders.routing import Facts, route


class Route:
    name = "route"

    def __init__(self, services: Services) -> None:
        self.services = services

    def run(self, message: MessageContext) -> None:
        parsed, classification = message.parsed, message.verdict.classification
        category, tier, chases = classification.category, message.verdict.tier.name, None
        if message.chased:
            # an acknowledgement of a follow-up may claim no more than one of the request it asks after could
            chases = message.chased["display_category"]
            tier = max(tier, message.chased["ack_tier"] or "none", key=TIERS.index)
            if category == "other" and message.chaser:
                # it presses for the request ("printer needs them tomorrow, can you prioritise!!"), read as other:
                # routed as the request, or no one would hear of it before the next summary (round 24b)
                category = chases
        message.facts = Facts(
            category=category, confidence=classification.confidence,
            needs_review=message.verdict.needs_review, sender=parsed.from_addr, subject=parsed.subject,
            body=message.newest, received_at=message.arrived, account_id=message.link.account_id,
            suspicious=bool(message.link.suspicious), automatic=bool(message.automatic),
            automatic_kind=automatic_kind(message.automatic) if message.automatic else None,
            notice_about=message.verdict.notice_about, staff=message.staff,
            first_message=message.first_message, chaser=message.chaser, chases=chases, entities=message.entities,
            has_attachment=bool(parsed.attachments), ack_tier=tier)
        message.decision = route(message.facts, self.services.rules)
