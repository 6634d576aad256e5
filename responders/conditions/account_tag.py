"""`account_tag`: the linked account carries one of these tags (rules.yaml accounts:)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from foundation.rules import OneOrMany
from responders.conditions import Condition, many, register

if TYPE_CHECKING:
    from foundation.rules import Rules
    from responders.routing import Facts


@register
class AccountTag(Condition[str | list[str]]):
    name = "account_tag"
    description = "the linked account has one of these tags"
    value = OneOrMany

    def holds(self, facts: Facts, wanted: str | list[str], rules: Rules) -> bool:
        return bool(set(rules.override(facts.account_id).tags) & set(many(wanted)))
