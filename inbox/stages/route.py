"""route: the rules of rules.yaml over the facts worked out so far; every hit and miss recorded."""

from __future__ import annotations

from inbox.stages.context import MessageContext, Services
from responders.routing import Facts, route


class Route:
    name = "route"

    def __init__(self, services: Services) -> None:
        self.services = services

    def run(self, message: MessageContext) -> None:
        parsed, classification = message.parsed, message.verdict.classification
        message.facts = Facts(
            category=classification.category, confidence=classification.confidence,
            needs_review=message.verdict.needs_review, sender=parsed.from_addr, subject=parsed.subject,
            body=message.newest, received_at=message.arrived, account_id=message.link.account_id,
            suspicious=bool(message.link.suspicious), automatic=bool(message.automatic), staff=message.staff,
            first_message=message.first_message, chaser=message.chaser, entities=message.entities,
            has_attachment=bool(parsed.attachments), ack_tier=message.verdict.tier.name)
        message.decision = route(message.facts, self.services.rules)
