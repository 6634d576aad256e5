"""`has_attachment: true|false`: the message has an attachment"""

from __future__ import annotations

from typing import TYPE_CHECKING

from responders.conditions import Condition, register

if TYPE_CHECKING:
    from foundation.rules import Rules
    from responders.routing import Facts


@register
class HasAttachment(Condition[bool]):
    name = "has_attachment"
    description = "the message has an attachment"
    value = bool

    def holds(self, facts: Facts, wanted: bool, rules: Rules) -> bool:
        return facts.has_attachment == wanted
