"""`staff: true|false`: sent by agency staff"""

from __future__ import annotations

from typing import TYPE_CHECKING

from responders.conditions import Condition, register

if TYPE_CHECKING:
    from foundation.rules import Rules
    from responders.routing import Facts


@register
class Staff(Condition[bool]):
    name = "staff"
    description = "sent by agency staff"
    value = bool

    def holds(self, facts: Facts, wanted: bool, rules: Rules) -> bool:
        return facts.staff == wanted
