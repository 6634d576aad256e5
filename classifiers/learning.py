"""Learning from corrections: retrain on the corpus plus the account managers' corrections, and
promote the candidate only if it is no worse than the running model.

Pure analysis: examples in, a trained model and a verdict out. Where models and corrections are
kept is the service's business (inbox/models.py, inbox/corrections.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from spacy.language import Language

from classifiers import CATEGORIES, Classifier
from classifiers import model as base_model
from classifiers.model import Example_
from classifiers.training import fit_ensemble

#: Share of the corrections kept back from training to judge the candidate on the agency's own mail.
CORRECTIONS_HELD_OUT = 0.3
#: How many times each correction counts in training against the corpus's thousands of examples.
CORRECTION_WEIGHT = 3
#: A category may lose this much F1 (noise on a few hundred messages); overall the candidate may lose nothing.
PER_CATEGORY_TOLERANCE = 0.01

Item = tuple[str, str, str]  # (subject, newest text, category)


@dataclass(frozen=True)
class Verdict:
    promote: bool
    reasons: list[str]
    running: dict[str, Any] = field(default_factory=dict)
    candidate: dict[str, Any] = field(default_factory=dict)


def is_held_out(example_id: str) -> bool:
    """A stable split of the corrections, the same on every run, as the corpus has."""
    return hashlib.sha256(("corrections:" + example_id).encode()).digest()[0] < 256 * CORRECTIONS_HELD_OUT


def split_corrections(corrections: Sequence[tuple[str, str, str, str]]) -> tuple[list[Item], list[Item]]:
    """(train, held out) from (id, subject, newest text, category) corrections."""
    train: list[Item] = []
    held: list[Item] = []
    for example_id, subject, text, category in corrections:
        (held if is_held_out(example_id) else train).append((subject, text, category))
    return train, held


def retrain(corpus: Sequence[Example_], corrections: Sequence[Item], *, seed: int = base_model.SEED,
            epochs: int = base_model.EPOCHS, weight: int = CORRECTION_WEIGHT) -> Language:
    """A new model by the shipped recipe (the ensemble on the augmented corpus, classifiers/training.py) plus the
    corrections, each counted `weight` times: a handful of the agency's own messages must be able to
    outweigh thousands written elsewhere."""
    extra = [(base_model.model_text(s, t), c) for s, t, c in corrections] * weight
    return fit_ensemble(list(corpus), seed=seed, epochs=epochs, extra=extra)


def f1_scores(classifier: Classifier, items: Sequence[Item]) -> dict[str, Any]:
    """Macro-F1 and per-category F1 of a classifier on labelled items."""
    found = classifier.classify_many([(s, t) for s, t, _ in items])
    truth = [c for _, _, c in items]
    predicted = [f.category for f in found]
    per: dict[str, float] = {}
    for category in CATEGORIES:
        tp = sum(p == t == category for p, t in zip(predicted, truth, strict=True))
        fp = sum(p == category != t for p, t in zip(predicted, truth, strict=True))
        fn = sum(t == category != p for p, t in zip(predicted, truth, strict=True))
        per[category] = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0
    return {"macro_f1": sum(per.values()) / len(per), "per_category": per, "messages": len(items)}


def judge(running: Classifier, candidate: Classifier, items: Sequence[Item]) -> Verdict:
    """Promote only if the candidate is at least as good overall and within tolerance per category."""
    if not items:
        return Verdict(False, ["nothing to judge the candidate on"])
    old, new = f1_scores(running, items), f1_scores(candidate, items)
    reasons = []
    if new["macro_f1"] < old["macro_f1"]:
        reasons.append(f"macro-F1 {new['macro_f1']:.3f} < running {old['macro_f1']:.3f}")
    for category in CATEGORIES:
        a, b = old["per_category"][category], new["per_category"][category]
        if b < a - PER_CATEGORY_TOLERANCE:
            reasons.append(f"{category} F1 {b:.3f} < running {a:.3f}")
    if not reasons:
        reasons.append(f"macro-F1 {new['macro_f1']:.3f} >= running {old['macro_f1']:.3f}, no category worse")
        return Verdict(True, reasons, old, new)
    return Verdict(False, reasons, old, new)
