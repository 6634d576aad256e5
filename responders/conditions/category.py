"""`category`: the message's category (or needs_review), one of those given."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import AfterValidator

from foundation.rules import OneOrMany, known_category
from responders.conditions import Condition, many, register

if TYPE_CHECKING:
    from foundation.rules import Rules
    from responders.routing import Facts


@register
class Category(Condition[str | list[str]]):
    name = "category"
    description = "the category, one of those given (needs_review: any message that needs review)"
    value = Annotated[OneOrMany, AfterValidator(known_category)]

    def holds(self, facts: Facts, wanted: str | list[str], rules: Rules) -> bool:
        values = many(wanted)
        return facts.category in values or ("needs_review" in values and facts.needs_review)
