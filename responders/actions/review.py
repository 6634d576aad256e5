"""`review` (or `review: REASON`): a person should read the message; shown in the summary."""

from __future__ import annotations

from typing import TYPE_CHECKING

from responders.actions import Action, PlannedAction, register

if TYPE_CHECKING:
    from foundation.rules import Action as GivenAction


@register
class Review(Action):
    name = "review"
    description = "a person should read it (with a reason, or the rule's name)"
    value = str | bool

    def plan(self, given: GivenAction, rule: str, planned: list[PlannedAction]) -> list[PlannedAction]:
        reason = given.given()
        return [*planned, PlannedAction(self.name, reason if isinstance(reason, str) else f"rule {rule}", rule)]
