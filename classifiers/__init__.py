"""Classify and link: what a message is about, and which client it belongs to."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

CATEGORIES = ("revision_request", "billing_issue", "progress_query", "other")
#: Not a category of its own: a message whose category is too uncertain to act on.
NEEDS_REVIEW = "needs_review"


@dataclass(frozen=True)
class Classification:
    """The answer of every classifier: a category, how sure, and why."""

    category: str
    confidence: float
    reasons: tuple[str, ...] = ()
    source: str = "model"  # "model", "rule:<name>", "phrases", "automatic"
    scores: dict[str, float] = field(default_factory=dict)


class Classifier(Protocol):
    """Anything that turns (subject, newest text) into a Classification."""

    name: str

    def classify(self, subject: str, text: str) -> Classification: ...

    def classify_many(self, items: list[tuple[str, str]]) -> list[Classification]: ...
