"""`linked: true|false`: linked to a client account"""

from __future__ import annotations

from typing import TYPE_CHECKING

from responders.conditions import Condition, register

if TYPE_CHECKING:
    from foundation.rules import Rules
    from responders.routing import Facts


@register
class Linked(Condition[bool]):
    name = "linked"
    description = "linked to a client account"
    value = bool

    def holds(self, facts: Facts, wanted: bool, rules: Rules) -> bool:
        return facts.linked == wanted
