"""`stop`: the rules below this one are not looked at."""

from __future__ import annotations

from typing import TYPE_CHECKING

from responders.actions import Action, PlannedAction, register

if TYPE_CHECKING:
    from foundation.rules import Action as GivenAction


@register
class Stop(Action):
    name = "stop"
    description = "look at no rule below this one"
    value = bool
    stops = True

    def plan(self, given: GivenAction, rule: str, planned: list[PlannedAction]) -> list[PlannedAction]:
        return planned
