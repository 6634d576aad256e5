"""`automatic: true|false`: sent by a machine (RFC 3834, bounces, lists)"""

from __future__ import annotations

from typing import TYPE_CHECKING

from responders.conditions import Condition, register

if TYPE_CHECKING:
    from foundation.rules import Rules
    from responders.routing import Facts


@register
class Automatic(Condition[bool]):
    name = "automatic"
    description = "sent by a machine (RFC 3834, bounces, lists)"
    value = bool

    def holds(self, facts: Facts, wanted: bool, rules: Rules) -> bool:
        return facts.automatic == wanted
