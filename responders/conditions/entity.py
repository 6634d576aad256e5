"""`entity`: any of these entities was found (invoice_number, deadline...)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import AfterValidator

from foundation.rules import OneOrMany, known_entities
from responders.conditions import Condition, many, register

if TYPE_CHECKING:
    from foundation.rules import Rules
    from responders.routing import Facts


@register
class Entity(Condition[str | list[str]]):
    name = "entity"
    description = "any of these entities was found"
    value = Annotated[OneOrMany, AfterValidator(known_entities)]

    def holds(self, facts: Facts, wanted: str | list[str], rules: Rules) -> bool:
        return any(facts.entities.get(label) for label in many(wanted))
