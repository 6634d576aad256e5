"""`entity_matches`: for each label, a found entity matches the regular expression."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated

from pydantic import AfterValidator

from foundation.rules import valid_patterns
from responders.conditions import Condition, register

if TYPE_CHECKING:
    from foundation.rules import Rules
    from responders.routing import Facts


@register
class EntityMatches(Condition[dict[str, str]]):
    name = "entity_matches"
    description = "an entity of each label matches its regular expression"
    value = Annotated[dict[str, str], AfterValidator(valid_patterns)]

    def holds(self, facts: Facts, wanted: dict[str, str], rules: Rules) -> bool:
        return all(any(re.search(p, str(v)) for v in facts.entities.get(label, [])) for label, p in wanted.items())
