"""`sender`: from one of these addresses or domains (subdomains included)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from foundation.rules import OneOrMany
from responders.conditions import Condition, many, register

if TYPE_CHECKING:
    from foundation.rules import Rules
    from responders.routing import Facts


@register
class Sender(Condition[str | list[str]]):
    name = "sender"
    description = "from one of these addresses or domains"
    value = OneOrMany

    def holds(self, facts: Facts, wanted: str | list[str], rules: Rules) -> bool:
        for item in many(wanted):
            item = item.lower().lstrip("@")
            if facts.sender == item or facts.sender_domain == item or facts.sender_domain.endswith("." + item):
                return True
        return False
