"""`business_hours: true|false`: it arrived within business hours (rules.yaml business_hours, local time)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from foundation.rules import WEEKDAYS
from responders.conditions import Condition, register

if TYPE_CHECKING:
    from foundation.rules import Rules
    from responders.routing import Facts


@register
class BusinessHours(Condition[bool]):
    name = "business_hours"
    description = "arrived within business hours"
    value = bool

    def holds(self, facts: Facts, wanted: bool, rules: Rules) -> bool:
        hours = rules.spec.business_hours
        local = facts.received_at.astimezone(rules.zone())
        inside = WEEKDAYS[local.weekday()] in hours.days and hours.start <= local.time() < hours.end
        return inside == wanted
