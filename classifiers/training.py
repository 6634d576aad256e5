"""`liaison train`: the corpus (augmented) into a model, and its calibration from held-out folds.

The shipped model is an ensemble (classifiers/model.py): one textcat trained on every writer, and
ENSEMBLE_GROUPS members each trained without one group of writers. Measured by leave-one-writer-out
with thresholds fitted on the other writers (BENCHMARKS.md): the average of the four was as often right
as one model, and sure enough to be specific about twice as often, at specific precision 0.995 vs 0.992.
Models are trained in parallel processes (one per core): each is seeded, so the result is the same.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from spacy.language import Language

from classifiers import model
from classifiers.augment import variants
from classifiers.calibration import FILE, Calibration, fit, fit_temperature
from classifiers.model import Example_, model_text
from classifiers.newest_text import newest_text

FOLDS = 4
AUGMENT_PER_ITEM = 1
ENSEMBLE_GROUPS = 3  # members trained without one group of writers each, besides the one trained on all
Pairs = Sequence[tuple[str, str]]  # (model text, label) trained on as they are


def training_pairs(examples: list[Example_], *, seed: int = model.SEED,
                   augment: bool = True) -> list[tuple[str, str]]:
    """(model text, label) for each example and its augmented copies, as newest_text leaves them."""
    items = [(e.subject, e.body, e.label) for e in examples]
    if augment:
        items += variants(items, seed=seed, per_item=AUGMENT_PER_ITEM)
    return [(model_text(subject, newest_text(body, subject=subject)), label) for subject, body, label in items]


def fold_of(example_id: str, folds: int) -> int:
    """A stable fold by id, independent of the held-out split's hash."""
    return int.from_bytes(hashlib.sha256(f"fold:{example_id}".encode()).digest()[:4], "big") % folds


def fit_model(examples: list[Example_], *, seed: int = model.SEED, epochs: int = model.EPOCHS,
              augment: bool = True, extra: Pairs = (),
              progress: Callable[[int, int, float], None] | None = None) -> Language:
    """One textcat on these examples and `extra` (model text, label) pairs (the recipe's unit; the shipped
    model is an ensemble of them)."""
    return model.train(training_pairs(examples, seed=seed, augment=augment) + list(extra), epochs=epochs,
                       seed=seed, progress=progress)


def writer_groups(examples: list[Example_], groups: int = ENSEMBLE_GROUPS) -> list[list[str]]:
    """The writers each member is trained without: every `groups`-th writer in name order. None with
    too few writers for a member to miss some and still see most."""
    names = writers(examples)
    return [names[start::groups] for start in range(groups)] if len(names) > groups else []


def ensemble_jobs(examples: list[Example_], groups: int = ENSEMBLE_GROUPS) -> list[list[Example_]]:
    """The training examples of each member: all of them first, then each without one group of writers."""
    return [examples] + [[e for e in examples if e.writer not in set(group)]
                         for group in writer_groups(examples, groups)]


def fit_ensemble(examples: list[Example_], *, seed: int = model.SEED, epochs: int = model.EPOCHS,
                 augment: bool = True, groups: int = ENSEMBLE_GROUPS, extra: Pairs = (),
                 progress: Callable[[], None] | None = None) -> Language:
    """The shipped recipe: every member of `ensemble_jobs` (each also on `extra`), trained in parallel, in
    one pipeline."""
    return model.combine(fit_models(ensemble_jobs(examples, groups), seed=seed, epochs=epochs, augment=augment,
                                    extra=extra, progress=progress))


def fit_models(jobs: list[list[Example_]], *, seed: int = model.SEED, epochs: int = model.EPOCHS,
               augment: bool = True, extra: Pairs = (),
               progress: Callable[[], None] | None = None) -> list[Language]:
    """fit_model for each job, in worker processes (one per core); the models come back in job order."""
    workers = min(len(jobs), os.cpu_count() or 1)
    if workers <= 1:
        return [_fitted(job, seed, epochs, augment, extra, progress) for job in jobs]
    # spawn, not fork: a daemon or test process has threads, and a forked child inherits their locks held
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(_fit_bytes, job, seed, epochs, augment, extra) for job in jobs]
        models = []
        for future in futures:
            nlp = model.build_nlp()
            models.append(nlp.from_bytes(future.result()))
            if progress:
                progress()
        return models


def _fitted(job: list[Example_], seed: int, epochs: int, augment: bool, extra: Pairs,
            progress: Callable[[], None] | None) -> Language:
    nlp = fit_model(job, seed=seed, epochs=epochs, augment=augment, extra=extra)
    if progress:
        progress()
    return nlp


def _fit_bytes(job: list[Example_], seed: int, epochs: int, augment: bool, extra: Pairs) -> bytes:
    return bytes(fit_model(job, seed=seed, epochs=epochs, augment=augment, extra=extra).to_bytes())


def calibrate(examples: list[Example_], *, folds: int = FOLDS, seed: int = model.SEED,
              epochs: int = model.EPOCHS, augment: bool = True, by_writer: bool = True,
              groups: int = ENSEMBLE_GROUPS, answers: Path | None = None,
              progress: Callable[[], None] | None = None) -> Calibration:
    """The temperature from random folds of one model; the thresholds from the ensemble's answers on
    each writer left out (with `by_writer`; else on the folds' answers).

    Random folds share every writer's habits between training and test, so a threshold fitted on them
    is over-confident on mail from anyone else (every client). The temperature stays fitted on the
    random folds (see calibration.fit), and is applied to each member before averaging, as in use."""
    scores, truth = out_of_fold(examples, folds=folds, seed=seed, epochs=epochs, augment=augment,
                                progress=progress)
    if not by_writer:
        return fit(scores, truth)
    temperature = fit_temperature(scores, truth)
    by = out_of_writer(examples, seed=seed, epochs=epochs, augment=augment, groups=groups,
                       calibration=Calibration(temperature=temperature), answers=answers, progress=progress)
    return fit(scores, truth, thresholds_on=by, calibrated=True)


def out_of_writer(examples: list[Example_], *, seed: int = model.SEED, epochs: int = model.EPOCHS,
                  augment: bool = True, groups: int = ENSEMBLE_GROUPS, calibration: Calibration | None = None,
                  answers: Path | None = None,
                  progress: Callable[[], None] | None = None) -> tuple[list[dict[str, float]], list[str]]:
    """Each example's answer from the ensemble trained on every other writer's examples, under
    `calibration` (none: raw scores of one model, groups 0).

    With `answers`, each member's raw scores on the writer left out are also written there, one
    WRITER.json each (benchmarks/ensemble.py reads them: the same models, not trained twice)."""
    names = writers(examples)
    jobs: list[list[Example_]] = []
    for writer in names:
        jobs += ensemble_jobs([e for e in examples if e.writer != writer], groups)
    fitted = iter(fit_models(jobs, seed=seed, epochs=epochs, augment=augment, progress=progress))
    scores: list[dict[str, float]] = []
    truth: list[str] = []
    for writer in names:
        others = [e for e in examples if e.writer != writer]
        members = [next(fitted) for _ in ensemble_jobs(others, groups)]
        test = [e for e in examples if e.writer == writer]
        if answers is not None:
            save_member_answers(answers / f"{writer}.json", members, test)
        classifier = model.TextcatClassifier.from_nlp(model.combine(members), calibration)
        scores += [f.scores for f in classifier.classify_many([e.as_read() for e in test])]
        truth += [e.label for e in test]
    return scores, truth


def save_member_answers(path: Path, members: list[Language], test: list[Example_]) -> None:
    """{"truth": [...], "members": [[raw scores per example] per member]} (before `model.combine` joins them)."""
    items = [e.as_read() for e in test]
    raw = [[f.scores for f in model.TextcatClassifier.from_nlp(m).classify_many(items)] for m in members]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"truth": [e.label for e in test], "members": raw}), encoding="utf-8")


def writers(examples: list[Example_]) -> list[str]:
    return sorted({e.writer for e in examples})


def ensemble_size(examples: list[Example_], groups: int = ENSEMBLE_GROUPS) -> int:
    return len(ensemble_jobs(examples, groups))


def calibration_steps(examples: list[Example_], folds: int, groups: int = ENSEMBLE_GROUPS) -> int:
    """How many models calibration trains (one per random fold, an ensemble per writer): for progress bars."""
    if not folds:
        return 0
    return folds + sum(ensemble_size([e for e in examples if e.writer != w], groups) for w in writers(examples))


def out_of_fold(examples: list[Example_], *, folds: int = FOLDS, seed: int = model.SEED,
                epochs: int = model.EPOCHS, augment: bool = True,
                progress: Callable[[], None] | None = None) -> tuple[list[dict[str, float]], list[str]]:
    """Each example's scores from the model trained on the folds it is not in (one model, uncalibrated)."""
    jobs = [[e for e in examples if fold_of(e.id, folds) != fold] for fold in range(folds)]
    fitted = fit_models(jobs, seed=seed, epochs=epochs, augment=augment, progress=progress)
    scores: list[dict[str, float]] = []
    truth: list[str] = []
    for fold, nlp in enumerate(fitted):
        test = [e for e in examples if fold_of(e.id, folds) == fold]
        found = model.TextcatClassifier.from_nlp(nlp).classify_many([e.as_read() for e in test])
        scores += [f.scores for f in found]
        truth += [e.label for e in test]
    return scores, truth


def build(out: Path, *, examples: list[Example_] | None = None, seed: int = model.SEED,
          epochs: int = model.EPOCHS, folds: int = FOLDS, groups: int = ENSEMBLE_GROUPS,
          answers: Path | None = None, progress: Callable[[], None] | None = None) -> Calibration:
    """Train the ensemble on the training split, calibrate it on folds and writers of that split, save both.

    With `folds` 0 there is no calibration file: the models' own scores, averaged, are the confidence.
    """
    train, _ = model.split(examples if examples is not None else model.load_corpus())
    calibration = calibrate(train, folds=folds, seed=seed, epochs=epochs, groups=groups, answers=answers,
                            progress=progress) if folds else None
    nlp = fit_ensemble(train, seed=seed, epochs=epochs, groups=groups, progress=progress)
    model.save(nlp, out)
    (out / FILE).unlink(missing_ok=True)
    if calibration:
        calibration.save(out)
    return calibration or Calibration()
