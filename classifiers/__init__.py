"""Classify and link: what a message is about, and which client it belongs to."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from foundation.categories import CATEGORIES, NEEDS_REVIEW

__all__ = ["CATEGORIES", "NEEDS_REVIEW", "Classification", "Classifier"]



@dataclass(frozen=True)
class Classification:
    """The answer of every classifier: a category, how sure, and why."""

    category: str
    confidence: float
    reasons: tuple[str, ...] = ()
    source: str = "model"  # "model", "rule:<name>", "phrases", "automatic"
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def request_probability(self) -> float:
        """How likely the message is a client request of any kind (the three request classes summed): what a
        neutral acknowledgement can rest on when the category itself is unsure."""
        if not self.scores:
            return self.confidence if self.category != "other" else 1.0 - self.confidence
        return sum(value for label, value in self.scores.items() if label != "other")


class Classifier(Protocol):
    """Anything that turns (subject, newest text) into a Classification."""

    name: str

    def classify(self, subject: str, text: str) -> Classification: ...

    def classify_many(self, items: list[tuple[str, str]]) -> list[Classification]: ...
