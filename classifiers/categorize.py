"""Classify: the model's answer, then the phrase rules of rules.yaml, then the review threshold."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from classifiers import Classification, Classifier
from classifiers.model import TextcatClassifier
from classifiers.phrases import KeywordClassifier, PhraseRules
from classifiers.tiers import Tier, choose_tier
from foundation.rules import Rules

log = logging.getLogger("liaison.classify")
_shared_model: Classifier | None = None


def default_classifier() -> Classifier:
    """The shipped spaCy model (loaded once per process), or the phrase baseline without one."""
    global _shared_model
    if _shared_model is None:
        if TextcatClassifier.available():
            _shared_model = TextcatClassifier()
        else:
            log.warning("no trained model shipped (run `liaison train`); using the phrase-rule baseline")
            _shared_model = KeywordClassifier()
    return _shared_model


@dataclass(frozen=True)
class Verdict:
    classification: Classification
    needs_review: bool
    tier: Tier = Tier("none", "not judged")


class Categorizer:
    """One classifier plus the user's phrase rules and confidence threshold."""

    def __init__(self, rules: Rules, base: Classifier | None = None) -> None:
        self.base = base or default_classifier()
        self.phrase_rules = PhraseRules(rules.spec.phrases)
        self.review_below = rules.spec.classifier.review_below
        self.tiers = rules.spec.classifier.acknowledge

    def judge(self, subject: str, text: str, *, automatic: str | None = None) -> Verdict:
        if automatic:
            return Verdict(Classification("other", 1.0, (f"automatic mail: {automatic}",), "automatic"), False,
                           Tier("none", f"automatic mail: {automatic}"))
        result = self.phrase_rules.apply(subject, text, self.base.classify(subject, text))
        return Verdict(result, result.confidence < self.review_below, self.tier_of(result))

    def tier_of(self, classification: Classification) -> Tier:
        """How much an acknowledgement of this message may say (classifiers/tiers.py)."""
        return choose_tier(classification, specific_at_least=self.tiers.specific_at_least,
                           neutral_at_least=self.tiers.neutral_at_least)
