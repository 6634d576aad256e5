"""Scores of a classifier on labelled texts: F1 per class, acknowledgement precision and coverage,
and the cross-writer check (train on every writer but one, score on the one left out)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from classifiers import Classification, Classifier
from classifiers.calibration import REQUESTS
from classifiers.evalsets import LabelledText, corpus_texts
from classifiers.evaluate import score
from classifiers.model import Example_


def classify_texts(classifier: Classifier, texts: list[LabelledText], *,
                   rules: Any = None) -> list[Classification]:
    """The classifier's answers, with the phrase rules of rules.yaml on top when given."""
    found = classifier.classify_many([(t.subject, t.text) for t in texts])
    if rules is None:
        return found
    return [rules.apply(t.subject, t.text, c) for t, c in zip(texts, found, strict=True)]


def score_texts(classifier: Classifier, texts: list[LabelledText], *, rules: Any = None,
                review_below: float = 0.0) -> dict[str, Any]:
    """Scores, acknowledgements at `review_below`, and at the model's calibrated threshold when it has one."""
    found = classify_texts(classifier, texts, rules=rules)
    nobody: list[str | None] = [None] * len(texts)
    result = score([t.label for t in texts], [f.category for f in found], nobody, nobody,
                   files=[t.id for t in texts])
    truth = [t.label for t in texts]
    result.update(acknowledgements(truth, found, review_below=review_below))
    calibration = getattr(classifier, "calibration", None)
    if calibration is not None and calibration.fold_count:
        result["calibrated"] = acknowledgements(truth, found, review_below=calibration.ack_threshold)
    return result


def acknowledgements(truth: list[str], found: list[Classification], *, review_below: float) -> dict[str, Any]:
    """What the routing would acknowledge: a request category at or above the review threshold."""
    acked = [f.category in REQUESTS and f.confidence >= review_below for f in found]
    right = sum(a and f.category == t for a, f, t in zip(acked, found, truth, strict=True))
    requests = sum(t in REQUESTS for t in truth)
    covered = sum(a and t in REQUESTS for a, t in zip(acked, truth, strict=True))
    return {"ack_threshold": review_below, "acknowledged": sum(acked),
            "ack_precision": round(right / sum(acked), 4) if any(acked) else 1.0,
            "ack_coverage": round(covered / requests, 4) if requests else 0.0,
            "wrong_acknowledgements": sum(acked) - right}


def cross_writer(examples: list[Example_], train: Callable[[list[Example_]], Classifier], *,
                 rules: Any = None, progress: Callable[[], None] | None = None) -> dict[str, dict[str, Any]]:
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
