"""`deadline_within_days`: a deadline mentioned falls within this many days of arrival (local time)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from responders.conditions import Condition, register

if TYPE_CHECKING:
    from foundation.rules import Rules
    from responders.routing import Facts


@register
class DeadlineWithinDays(Condition[int]):
    name = "deadline_within_days"
    description = "a deadline mentioned is within this many days"
    value = Annotated[int, Field(ge=0)]

    def holds(self, facts: Facts, wanted: int, rules: Rules) -> bool:
        today = facts.received_at.astimezone(rules.zone()).date()
        limit = today + timedelta(days=wanted)
        for item in facts.entities.get("deadline", []):
            due = item.get("date") if isinstance(item, dict) else None
            if due and date.fromisoformat(due) <= limit:
                return True
        return False
