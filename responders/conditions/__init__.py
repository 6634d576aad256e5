"""Routing conditions: each one small module with a name, a description and `holds()`.

A module here that registers a Condition is found when this package is imported (as Mailman finds
its rules): rules.yaml may then name it under `when:`, and the rules schema checks its value.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, cast

from foundation.rules import CONDITIONS

if TYPE_CHECKING:
    from foundation.rules import Rules
    from responders.routing import Facts

V = TypeVar("V")
C = TypeVar("C", bound="type[Condition[Any]]")


class Condition(ABC, Generic[V]):
    """One thing rules.yaml can ask about a message, given a value (`sender: brewco.com`)."""

    name: ClassVar[str]
    description: ClassVar[str]
    value: ClassVar[object]  # the value's type, checked when rules.yaml is loaded

    @abstractmethod
    def holds(self, facts: Facts, wanted: V, rules: Rules) -> bool:
        """Does the message have what the rule asks for?"""


def register(cls: C) -> C:
    """Class decorator: make a condition known to rules.yaml and to the router."""
    CONDITIONS.register(cls())
    return cls


def condition(name: str) -> Condition[Any]:
    return cast("Condition[Any]", CONDITIONS[name])


def many(value: str | list[str]) -> list[str]:
    """A one-or-many value as a list."""
    return [value] if isinstance(value, str) else list(value)


def contains_any(text: str, phrases: str | list[str]) -> bool:
    """Any of the phrases, as whole words, case-insensitively."""
    lowered = text.lower()
    return any(re.search(r"(?<!\w)" + re.escape(p.lower()) + r"(?!\w)", lowered) for p in many(phrases))


for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
