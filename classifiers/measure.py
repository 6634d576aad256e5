"""Scores of a classifier on labelled texts: F1 per class, acknowledgement precision and coverage,
and the cross-writer check (train on every writer but one, score on the one left out)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from classifiers import Classification, Classifier
from classifiers.evalsets import LabelledText, corpus_texts
from classifiers.evaluate import score
from classifiers.model import Example_
from classifiers.phrases import PhraseRules
from classifiers.tiers import Scored, tier_report


def classify_texts(classifier: Classifier, texts: list[LabelledText], *,
                   rules: PhraseRules | None = None) -> list[Classification]:
    """The classifier's answers, with the phrase rules of rules.yaml on top when given."""
    found = classifier.classify_many([(t.subject, t.text) for t in texts])
    if rules is None:
        return found
    return [rules.apply(t.subject, t.text, c) for t, c in zip(texts, found, strict=True)]


def score_texts(classifier: Classifier, texts: list[LabelledText], *, rules: PhraseRules | None = None,
                specific_at_least: float = 0.0, neutral_at_least: float = 1.0) -> dict[str, Any]:
    """Scores, and the acknowledgements the tiers of rules.yaml would send (classifiers/tiers)."""
    found = classify_texts(classifier, texts, rules=rules)
    nobody: list[str | None] = [None] * len(texts)
    result = score([t.label for t in texts], [f.category for f in found], nobody, nobody,
                   files=[t.id for t in texts])
    result["tiers"] = tier_report([Scored(t.label, f, t.text) for t, f in zip(texts, found, strict=True)],
                                  specific_at_least=specific_at_least, neutral_at_least=neutral_at_least)
    return result


def cross_writer(examples: list[Example_], train: Callable[[list[Example_]], Classifier], *,
                 rules: PhraseRules | None = None,
                 progress: Callable[[], None] | None = None) -> dict[str, dict[str, Any]]:
    """Per writer: a model trained on every other writer, scored on this writer's examples."""
    writers = sorted({e.writer for e in examples})
    result = {}
    for writer in writers:
        classifier = train([e for e in examples if e.writer != writer])
        result[writer] = score_texts(classifier, corpus_texts([e for e in examples if e.writer == writer]),
                                     rules=rules)
        if progress:
            progress()
    return result
