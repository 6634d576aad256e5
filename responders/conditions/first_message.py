"""`first_message: true|false`: the first message of its thread"""

from __future__ import annotations

from typing import TYPE_CHECKING

from responders.conditions import Condition, register

if TYPE_CHECKING:
    from foundation.rules import Rules
    from responders.routing import Facts


@register
class FirstMessage(Condition[bool]):
    name = "first_message"
    description = "the first message of its thread"
    value = bool

    def holds(self, facts: Facts, wanted: bool, rules: Rules) -> bool:
        return facts.first_message == wanted
