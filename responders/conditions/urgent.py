"""`urgent: true|false`: the message says it is urgent."""

from __future__ import annotations

from typing import TYPE_CHECKING

from responders.conditions import Condition, register

if TYPE_CHECKING:
    from foundation.rules import Rules
    from responders.routing import Facts


@register
class Urgent(Condition[bool]):
    name = "urgent"
    description = "the message says it is urgent"
    value = bool

    def holds(self, facts: Facts, wanted: bool, rules: Rules) -> bool:
        return bool(facts.entities.get("urgency")) == wanted
