"""`suspicious: true|false`: the sender looks like someone else"""

from __future__ import annotations

from typing import TYPE_CHECKING

from responders.conditions import Condition, register

if TYPE_CHECKING:
    from foundation.rules import Rules
    from responders.routing import Facts


@register
class Suspicious(Condition[bool]):
    name = "suspicious"
    description = "the sender looks like someone else"
    value = bool

    def holds(self, facts: Facts, wanted: bool, rules: Rules) -> bool:
        return facts.suspicious == wanted
