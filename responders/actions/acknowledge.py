"""`acknowledge: TEMPLATE`: reply to the client with this template (within the loop guards and tiers)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from responders.actions import Action, PlannedAction, register

if TYPE_CHECKING:
    from foundation.rules import Action as GivenAction


@register
class Acknowledge(Action):
    name = "acknowledge"
    description = "reply to the client with this template"
    value = str

    def plan(self, given: GivenAction, rule: str, planned: list[PlannedAction]) -> list[PlannedAction]:
        return [*planned, PlannedAction(self.name, None, rule, given.given())]
