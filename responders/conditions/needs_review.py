"""`needs_review: true|false`: the message needs a person to read it"""

from __future__ import annotations

from typing import TYPE_CHECKING

from responders.conditions import Condition, register

if TYPE_CHECKING:
    from foundation.rules import Rules
    from responders.routing import Facts


@register
class NeedsReview(Condition[bool]):
    name = "needs_review"
    description = "the message needs a person to read it"
    value = bool

    def holds(self, facts: Facts, wanted: bool, rules: Rules) -> bool:
        return facts.needs_review == wanted
