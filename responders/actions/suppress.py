"""`suppress`: no acknowledgement after all, whatever the rules above planned."""

from __future__ import annotations

from typing import TYPE_CHECKING

from responders.actions import Action, PlannedAction, register

if TYPE_CHECKING:
    from foundation.rules import Action as GivenAction


@register
class Suppress(Action):
    name = "suppress"
    description = "drop the acknowledgements planned so far"
    value = bool

    def plan(self, given: GivenAction, rule: str, planned: list[PlannedAction]) -> list[PlannedAction]:
        return [a for a in planned if a.verb != "acknowledge"]
