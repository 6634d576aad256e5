"""`liaison train`: the corpus (augmented) into a model, and its calibration from held-out folds."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from spacy.language import Language

from classifiers import model
from classifiers.augment import variants
from classifiers.calibration import FILE, Calibration, fit
from classifiers.model import Example_, model_text
from classifiers.newest_text import newest_text

FOLDS = 4
AUGMENT_PER_ITEM = 1


def training_pairs(examples: list[Example_], *, seed: int = model.SEED,
                   augment: bool = True) -> list[tuple[str, str]]:
    """(model text, label) for each example and its augmented copies, as newest_text leaves them."""
    items = [(e.subject, e.body, e.label) for e in examples]
    if augment:
        items += variants(items, seed=seed, per_item=AUGMENT_PER_ITEM)
    return [(model_text(subject, newest_text(body)), label) for subject, body, label in items]


def fold_of(example_id: str, folds: int) -> int:
    """A stable fold by id, independent of the held-out split's hash."""
    return int.from_bytes(hashlib.sha256(f"fold:{example_id}".encode()).digest()[:4], "big") % folds


def fit_model(examples: list[Example_], *, seed: int = model.SEED, epochs: int = model.EPOCHS,
              augment: bool = True, progress: Callable[[int, int, float], None] | None = None) -> Language:
    return model.train(training_pairs(examples, seed=seed, augment=augment), epochs=epochs, seed=seed,
                       progress=progress)


def calibrate(examples: list[Example_], *, folds: int = FOLDS, seed: int = model.SEED,
              epochs: int = model.EPOCHS, augment: bool = True, by_writer: bool = True,
              progress: Callable[[], None] | None = None) -> Calibration:
    """Train on all folds but one, score the one left out, for each fold; fit on those scores.

    With `by_writer` the acknowledgement thresholds are fitted on leave-one-writer-out answers instead:
    random folds share every writer's habits between training and test, so a threshold fitted on them
    is over-confident on mail from anyone else (every client). The temperature stays fitted on the
    random folds (see calibration.fit)."""
    scores, truth = out_of_fold(examples, folds=folds, seed=seed, epochs=epochs, augment=augment,
                                progress=progress)
    if not by_writer:
        return fit(scores, truth)
    by = out_of_writer(examples, seed=seed, epochs=epochs, augment=augment, progress=progress)
    return fit(scores, truth, thresholds_on=by)


def out_of_writer(examples: list[Example_], *, seed: int = model.SEED, epochs: int = model.EPOCHS,
                  augment: bool = True,
                  progress: Callable[[], None] | None = None) -> tuple[list[dict[str, float]], list[str]]:
    """Each example's scores from the model trained on every other writer's examples (uncalibrated)."""
    scores: list[dict[str, float]] = []
    truth: list[str] = []
    for writer in writers(examples):
        train = [e for e in examples if e.writer != writer]
        test = [e for e in examples if e.writer == writer]
        nlp = fit_model(train, seed=seed, epochs=epochs, augment=augment)
        found = model.TextcatClassifier.from_nlp(nlp).classify_many([(e.subject, newest_text(e.body)) for e in test])
        scores += [f.scores for f in found]
        truth += [e.label for e in test]
        if progress:
            progress()
    return scores, truth


def writers(examples: list[Example_]) -> list[str]:
    return sorted({e.writer for e in examples})


def calibration_steps(examples: list[Example_], folds: int) -> int:
    """How many models calibration trains (one per random fold, one per writer): for progress bars."""
    return folds + len(writers(examples)) if folds else 0


def out_of_fold(examples: list[Example_], *, folds: int = FOLDS, seed: int = model.SEED,
                epochs: int = model.EPOCHS, augment: bool = True,
                progress: Callable[[], None] | None = None) -> tuple[list[dict[str, float]], list[str]]:
    """Each example's scores from the model trained on the folds it is not in (uncalibrated)."""
    scores: list[dict[str, float]] = []
    truth: list[str] = []
    for fold in range(folds):
        train = [e for e in examples if fold_of(e.id, folds) != fold]
        test = [e for e in examples if fold_of(e.id, folds) == fold]
        nlp = fit_model(train, seed=seed, epochs=epochs, augment=augment)
        found = model.TextcatClassifier.from_nlp(nlp).classify_many([(e.subject, newest_text(e.body)) for e in test])
        scores += [f.scores for f in found]
        truth += [e.label for e in test]
        if progress:
            progress()
    return scores, truth


def build(out: Path, *, examples: list[Example_] | None = None, seed: int = model.SEED,
          epochs: int = model.EPOCHS, folds: int = FOLDS,
          progress: Callable[[], None] | None = None) -> Calibration:
    """Train the model on the training split, calibrate it on folds of that split, save both.

    With `folds` 0 there is no calibration file: the model's own scores are its confidence.
    """
    train, _ = model.split(examples if examples is not None else model.load_corpus())
    calibration = calibrate(train, folds=folds, seed=seed, epochs=epochs, progress=progress) if folds else None
    nlp = fit_model(train, seed=seed, epochs=epochs, progress=(lambda *_: progress()) if progress else None)
    model.save(nlp, out)
    (out / FILE).unlink(missing_ok=True)
    if calibration:
        calibration.save(out)
    return calibration or Calibration()
