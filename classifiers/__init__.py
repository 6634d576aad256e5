"""Classify and link: what a message is about, and which client it belongs to."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from foundation.categories import CATEGORIES, NEEDS_REVIEW

__all__ = ["CATEGORIES", "MODEL_DIR", "NEEDS_REVIEW", "Classification", "Classifier", "model_available"]

#: The shipped model. Here, not in classifiers.model, so that what only asks where a model is (the CLI's checks,
#: `rules check`) need not import spaCy: a second a command.
MODEL_DIR = Path(__file__).parent / "model"


def model_available(path: Path = MODEL_DIR) -> bool:
    """Whether `path` holds a saved model (spaCy's meta.json, which every saved pipeline has)."""
    return (path / "meta.json").exists()



@dataclass(frozen=True)
class Classification:
    """The answer of every classifier: a category, how sure, and why."""

    category: str
    confidence: float
    reasons: tuple[str, ...] = ()
    source: str = "model"  # "model", "rule:<name>", "phrases", "automatic", "courtesy", "staff"
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
