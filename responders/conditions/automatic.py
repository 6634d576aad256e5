"""`automatic: true|false|KIND`: sent by a machine (RFC 3834, bounces, lists), or by one kind of machine"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from responders.conditions import Condition, register

if TYPE_CHECKING:
    from foundation.rules import Rules
    from responders.routing import Facts

#: classifiers.automatic.KINDS, spelt out for the rules schema (tests/test_rules_file.py keeps the two equal)
Kind = Literal["notice", "reply", "bounce", "list", "loop", "calendar"]


@register
class Automatic(Condition[bool | str]):
    name = "automatic"
    description = ("sent by a machine (RFC 3834, bounces, lists); or by one kind: notice (a program writing on its "
                   "own, as a purchasing portal), reply, bounce, list, loop, calendar")
    value = bool | Kind

    def holds(self, facts: Facts, wanted: bool | str, rules: Rules) -> bool:
        if isinstance(wanted, bool):
            return facts.automatic == wanted
        return facts.automatic_kind == wanted
