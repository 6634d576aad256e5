"""`account`: linked to one of these client accounts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from foundation.rules import OneOrMany
from responders.conditions import Condition, many, register

if TYPE_CHECKING:
    from foundation.rules import Rules
    from responders.routing import Facts


@register
class Account(Condition[str | list[str]]):
    name = "account"
    description = "linked to one of these accounts"
    value = OneOrMany

    def holds(self, facts: Facts, wanted: str | list[str], rules: Rules) -> bool:
        return facts.account_id in many(wanted)
