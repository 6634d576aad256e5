"""`keyword: KEYWORD`: set this IMAP keyword on the message (done by the daemon)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from responders.actions import Action, PlannedAction, register

if TYPE_CHECKING:
    from foundation.rules import Action as GivenAction


@register
class Keyword(Action):
    name = "keyword"
    description = "set this IMAP keyword on the message"
    value = str

    def plan(self, given: GivenAction, rule: str, planned: list[PlannedAction]) -> list[PlannedAction]:
        return [*planned, PlannedAction(self.name, given.given(), rule)]
