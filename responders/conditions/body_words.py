"""`body_words`: the newest text has one of these words or phrases."""

from __future__ import annotations

from typing import TYPE_CHECKING

from foundation.rules import OneOrMany
from responders.conditions import Condition, contains_any, register

if TYPE_CHECKING:
    from foundation.rules import Rules
    from responders.routing import Facts


@register
class BodyWords(Condition[str | list[str]]):
    name = "body_words"
    description = "the newest text has one of these phrases"
    value = OneOrMany

    def holds(self, facts: Facts, wanted: str | list[str], rules: Rules) -> bool:
        return contains_any(facts.body, wanted)
