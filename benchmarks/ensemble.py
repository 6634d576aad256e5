"""One model or an ensemble, measured on writers left out (issues 11 and 16).

    python3 benchmarks/ensemble.py [--scores DIR] [--temperature T]

For each writer of the corpus's training split, trains the ensemble's members on the other writers
(`classifiers.training.ensemble_jobs`: one on all of them, three each without a group of them) and keeps
each member's raw answers on the writer left out (cached in DIR, default /tmp/liaison-ensemble-scores, so a
second run only re-reads them; about 40 minutes on two cores the first time). `liaison train --answers DIR`
writes the same files from the models it trains for its calibration: then nothing is trained here but the
four random folds of the temperature. Then, under the temperature
of random folds, compares one model (the first member) with the ensemble's average, and the neutral
target's margin: thresholds fitted on every writer but one and applied to that one ("nested"), summed
over the writers, the honest figure for a writer nobody fitted on.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT))

from classifiers import CATEGORIES, model, training  # noqa: E402
from classifiers.calibration import (  # noqa: E402
    REQUESTS,
    Calibration,
    fit_temperature,
    neutral_threshold_for,
    threshold_for,
)

Answers = list[dict[str, float]]


def member_scores(scores_dir: Path) -> dict[str, dict[str, Any]]:
    """{writer: {"truth": [...], "members": [[raw scores per example] per member]}}, trained once and cached."""
    train, _ = model.split(model.load_corpus())
    names = training.writers(train)
    missing = [w for w in names if not (scores_dir / f"{w}.json").exists()]
    if missing:
        jobs = [job for w in missing for job in training.ensemble_jobs([e for e in train if e.writer != w])]
        fitted = iter(training.fit_models(jobs))
        for writer in missing:
            test = [e for e in train if e.writer == writer]
            items = [e.as_read() for e in test]
            members = [next(fitted) for _ in training.ensemble_jobs([e for e in train if e.writer != writer])]
            raw = [[f.scores for f in model.TextcatClassifier.from_nlp(m).classify_many(items)] for m in members]
            (scores_dir / f"{writer}.json").write_text(json.dumps({"truth": [e.label for e in test], "members": raw}))
    return {w: json.loads((scores_dir / f"{w}.json").read_text()) for w in names}


def temperature() -> float:
    train, _ = model.split(model.load_corpus())
    return fit_temperature(*training.out_of_fold(train))


def averaged(data: dict[str, Any], calibration: Calibration, members: int | None) -> Answers:
    chosen = data["members"][:members]
    return [{c: sum(calibration.apply(m[i])[c] for m in chosen) / len(chosen) for c in CATEGORIES}
            for i in range(len(data["truth"]))]


def nested(answers: dict[str, Answers], truth: dict[str, list[str]], *, neutral_target: float) -> dict[str, float]:
    """Tier figures on each writer under thresholds fitted on all the others, summed."""
    counts = dict.fromkeys(("specific", "specific_right", "neutral", "neutral_right", "requests", "covered"), 0)
    for writer in answers:
        fit_on = [a for w in answers if w != writer for a in answers[w]]
        fit_truth = [t for w in answers if w != writer for t in truth[w]]
        specific = threshold_for(fit_on, fit_truth, target=0.995)[0]
        neutral = neutral_threshold_for(fit_on, fit_truth, specific_at_least=specific, target=neutral_target)
        for scores, label in zip(answers[writer], truth[writer], strict=True):
            best = max(CATEGORIES, key=scores.__getitem__)
            request = sum(scores[c] for c in REQUESTS)
            tier = ("specific" if best in REQUESTS and scores[best] >= specific
                    else "neutral" if request >= neutral and request > 0.5 else "none")
            counts["requests"] += label in REQUESTS
            if tier != "none":
                counts[tier] += 1
                counts[f"{tier}_right"] += (best == label) if tier == "specific" else (label in REQUESTS)
                counts["covered"] += label in REQUESTS
    acks = counts["specific"] + counts["neutral"]
    right = counts["specific_right"] + counts["neutral_right"]
    return {"specific": counts["specific"], "specific_right": counts["specific_right"] / max(counts["specific"], 1),
            "neutral": counts["neutral"], "neutral_right": counts["neutral_right"] / max(counts["neutral"], 1),
            "acks_right": right / max(acks, 1), "coverage": counts["covered"] / max(counts["requests"], 1)}


def per_class_f1(answers: Answers, truth: list[str]) -> dict[str, float]:
    predicted = [max(CATEGORIES, key=a.__getitem__) for a in answers]
    scores = {}
    for c in CATEGORIES:
        tp = sum(p == t == c for p, t in zip(predicted, truth, strict=True))
        wrong = sum((p == c) != (t == c) for p, t in zip(predicted, truth, strict=True))
        scores[c] = 2 * tp / (2 * tp + wrong) if tp + wrong else 1.0
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scores", type=Path, default=Path("/tmp/liaison-ensemble-scores"))
    parser.add_argument("--temperature", type=float, help="the temperature of the calibration.json `liaison train` "
                        "wrote beside these answers (the same corpus): the four random folds are not trained again")
    args = parser.parse_args()
    args.scores.mkdir(parents=True, exist_ok=True)
    data = member_scores(args.scores)
    calibration = Calibration(temperature=args.temperature or temperature())
    truth = {w: d["truth"] for w, d in data.items()}
    print(f"{len(data)} writers, {sum(map(len, truth.values()))} answers, temperature {calibration.temperature}")
    print("| model | accuracy | specific (right) | neutral (right) | acks right | coverage |")
    print("| --- | --- | --- | --- | --- | --- |")
    answers = {}
    for name, members in (("one model", 1), ("ensemble", None)):
        answers[name] = {w: averaged(d, calibration, members) for w, d in data.items()}
        right = sum(max(CATEGORIES, key=a.__getitem__) == t
                    for w in data for a, t in zip(answers[name][w], truth[w], strict=True))
        n = nested(answers[name], truth, neutral_target=0.99)
        print(f"| {name} | {right / sum(map(len, truth.values())):.4f} | {n['specific']} ({n['specific_right']:.4f})"
              f" | {n['neutral']} ({n['neutral_right']:.4f}) | {n['acks_right']:.4f} | {n['coverage']:.4f} |")
    print("\nneutral target (every acknowledgement together), ensemble, nested:")
    for target in (0.99, 0.991, 0.992, 0.993, 0.994, 0.995):
        n = nested(answers["ensemble"], truth, neutral_target=target)
        print(f"  {target}: neutral {n['neutral']} ({n['neutral_right']:.4f}), acks right {n['acks_right']:.4f},"
              f" coverage {n['coverage']:.4f}")
    print("\ncross-writer per-class F1 (ensemble; one model's lowest class):")
    for writer in data:
        f1 = per_class_f1(answers["ensemble"][writer], truth[writer])
        alone = per_class_f1(answers["one model"][writer], truth[writer])
        low = min(alone, key=alone.__getitem__)
        shown = " / ".join(f"{f1[c]:.3f}" for c in CATEGORIES)
        print(f"  {writer}: {shown}  (one model: {low} {alone[low]:.3f})")


if __name__ == "__main__":
    main()
