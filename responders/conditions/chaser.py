"""`chaser: true|false`: a client chasing an unanswered message"""

from __future__ import annotations

from typing import TYPE_CHECKING

from responders.conditions import Condition, register

if TYPE_CHECKING:
    from foundation.rules import Rules
    from responders.routing import Facts


@register
class Chaser(Condition[bool]):
    name = "chaser"
    description = "a client chasing an unanswered message"
    value = bool

    def holds(self, facts: Facts, wanted: bool, rules: Rules) -> bool:
        return facts.chaser == wanted
