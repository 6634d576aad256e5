"""`liaison eval` with no folder: the side-by-side table, and the cross-writer check of the training recipe.

The sets themselves are scored through the pipeline (inbox/evaluation.py), as `liaison eval DIR` scores one, so that
the two never disagree; `labelled_sets` is the quick classifier-only reading that benchmarks compare models on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from classifiers import CATEGORIES
from classifiers.calibration import Calibration
from classifiers.evalsets import EVAL_SETS, LabelledText, eval_dir_texts, held_out_texts
from classifiers.measure import cross_writer
from classifiers.model import TextcatClassifier, load_corpus
from classifiers.phrases import PhraseRules
from classifiers.training import fit_ensemble


def labelled_sets() -> dict[str, list[LabelledText]]:
    sets = {"held-out": held_out_texts()}
    for name, directory in EVAL_SETS.items():
        if (directory / "labels.csv").exists():
            sets[name] = eval_dir_texts(directory)
    return sets


def cross_writer_scores(rules: PhraseRules | None, *, progress: Callable[[], None] | None = None
                        ) -> dict[str, dict[str, Any]]:
    """The training recipe's cross-writer check: trained on every other writer's file, scored on this writer's."""
    temperature = Calibration(temperature=TextcatClassifier().calibration.temperature)
    return cross_writer(load_corpus(), lambda examples: TextcatClassifier.from_nlp(fit_ensemble(examples), temperature),
                        rules=rules, progress=progress)


def format_side_by_side(result: dict[str, Any]) -> str:
    head = f"{'model':<10}{'set':<18}{'n':>6}{'macro-F1':>10}" + "".join(f"{c[:8]:>10}" for c in CATEGORIES)
    tiers = f"{'specific':>10}{'neutral':>10}{'ack right':>10}{'coverage':>10}"
    lines = ["F1 per class; acknowledgements by the tiers of rules.yaml (classifier.acknowledge): how many were",
             "specific and neutral, the share right (specific: the category; neutral: a request at all), and the",
             "share of client requests acknowledged", head + tiers]
    for model_name, sets in result.items():
        if model_name == "cross-writer":
            continue
        for set_name, s in sets.items():
            t = s["tiers"]
            lines.append(_row(model_name, set_name, s) + f"{t['specific']['messages']:>10}"
                         f"{t['neutral']['messages']:>10}{t['ack_precision']:>10.4f}{t['coverage']:>10.4f}")
    if "cross-writer" in result:
        lines += ["", "cross-writer: trained on every other writer's file, scored on this writer's", head]
        for writer, s in result["cross-writer"].items():
            lines.append(_row("", writer, s))
    return "\n".join(lines)


def _row(model_name: str, set_name: str, s: dict[str, Any]) -> str:
    return (f"{model_name:<10}{set_name:<18}{s['count']:>6}{s['macro_f1']:>10.4f}"
            + "".join(f"{s['per_class'][c]['f1']:>10.3f}" for c in CATEGORIES))
