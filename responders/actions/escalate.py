"""`escalate: RECIPIENTS` (with an optional `template`): tell staff, with the original attached."""

from __future__ import annotations

from typing import TYPE_CHECKING

from foundation.rules import OneOrMany
from responders.actions import Action, PlannedAction, register

if TYPE_CHECKING:
    from foundation.rules import Action as GivenAction


@register
class Escalate(Action):
    name = "escalate"
    description = "mail these people (account_manager, sender, a named address) with the original attached"
    value = OneOrMany

    def plan(self, given: GivenAction, rule: str, planned: list[PlannedAction]) -> list[PlannedAction]:
        return [*planned, PlannedAction(self.name, given.recipients(), rule, given.template or "escalate")]
