"""`confidence_at_least`: the classifier is at least this sure."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from responders.conditions import Condition, register

if TYPE_CHECKING:
    from foundation.rules import Rules
    from responders.routing import Facts


@register
class ConfidenceAtLeast(Condition[float]):
    name = "confidence_at_least"
    description = "the classifier's confidence is at least this"
    value = Annotated[float, Field(ge=0, le=1)]

    def holds(self, facts: Facts, wanted: float, rules: Rules) -> bool:
        return facts.confidence >= wanted
