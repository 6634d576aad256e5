"""route: the rules of rules.yaml over the facts worked out so far; every hit and miss recorded."""

from __future__ import annotations

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
            # a follow-up that only asks after the thread's request is routed as that request (finance hears of a
            # chased invoice), and may claim no more than the request could: the lower of the two tiers
            category = chases = message.chased["display_category"]
            tier = max(tier, message.chased["ack_tier"] or "none", key=TIERS.index)
        message.facts = Facts(
            category=category, confidence=classification.confidence,
            needs_review=message.verdict.needs_review, sender=parsed.from_addr, subject=parsed.subject,
            body=message.newest, received_at=message.arrived, account_id=message.link.account_id,
            suspicious=bool(message.link.suspicious), automatic=bool(message.automatic), staff=message.staff,
            first_message=message.first_message, chaser=message.chaser, chases=chases, entities=message.entities,
            has_attachment=bool(parsed.attachments), ack_tier=tier)
        message.decision = route(message.facts, self.services.rules)
