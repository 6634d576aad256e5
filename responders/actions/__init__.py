"""Routing actions: each one small module with a name, a description and `plan()`.

A module here that registers an Action is found when this package is imported (as Mailman finds
its handlers): rules.yaml may then name it under `then:`, and the rules schema checks its value.
What an action plans is carried out by respond.py (acknowledge, escalate) or recorded for the
mailbox (keyword, move); a planned verb respond.py has no special handling for is recorded as it is.
"""

from __future__ import annotations

import importlib
import pkgutil
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, TypeVar, cast

from foundation.rules import ACTIONS

if TYPE_CHECKING:
    from foundation.rules import Action as GivenAction

A = TypeVar("A", bound="type[Action]")


@dataclass(frozen=True)
class PlannedAction:
    verb: str  # acknowledge, escalate, keyword, move, review
    argument: str | list[str] | None  # escalate: recipients; keyword, move, review: its value
    rule: str
    template: str | None = None


class Action(ABC):
    """One thing rules.yaml can ask to be done (`escalate: account_manager`)."""

    name: ClassVar[str]
    description: ClassVar[str]
    value: ClassVar[object]  # the value's type, checked when rules.yaml is loaded
    stops: ClassVar[bool] = False  # no rule below is looked at once a rule with it matches

    @abstractmethod
    def plan(self, given: GivenAction, rule: str, planned: list[PlannedAction]) -> list[PlannedAction]:
        """The actions planned so far by the matching rules, with this one's effect."""


def register(cls: A) -> A:
    """Class decorator: make an action known to rules.yaml and to the router."""
    ACTIONS.register(cls())
    return cls


def action(name: str) -> Action:
    return cast(Action, ACTIONS[name])


# In the order an error message lists them; then any others.
_SHIPPED = ("acknowledge", "escalate", "keyword", "move", "review", "suppress", "stop")
for _name in [*_SHIPPED, *sorted({m.name for m in pkgutil.iter_modules(__path__)} - set(_SHIPPED))]:
    importlib.import_module(f"{__name__}.{_name}")
