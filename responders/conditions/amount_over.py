"""`amount_over`: an amount mentioned is over this."""

from __future__ import annotations

from typing import TYPE_CHECKING

from responders.conditions import Condition, register

if TYPE_CHECKING:
    from foundation.rules import Rules
    from responders.routing import Facts


@register
class AmountOver(Condition[float]):
    name = "amount_over"
    description = "an amount mentioned is over this"
    value = float

    def holds(self, facts: Facts, wanted: float, rules: Rules) -> bool:
        return any(float(a.get("value", 0)) > wanted for a in facts.entities.get("amount", []))
