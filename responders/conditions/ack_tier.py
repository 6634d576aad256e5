"""`ack_tier`: what an acknowledgement may say of it (specific, neutral, none; classifiers/tiers)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from responders.conditions import Condition, many, register

if TYPE_CHECKING:
    from foundation.rules import Rules
    from responders.routing import Facts


@register
class AckTier(Condition[str | list[str]]):
    name = "ack_tier"
    description = "what an acknowledgement may say: specific, neutral or none"
    value = Literal["specific", "neutral", "none"] | list[Literal["specific", "neutral", "none"]]

    def holds(self, facts: Facts, wanted: str | list[str], rules: Rules) -> bool:
        return facts.ack_tier in many(wanted)
