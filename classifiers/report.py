"""`liaison eval` with no folder: every measurement side by side, for the shipped model (and another).

The sets: the corpus's held-out split, tests/data/eval, tests/data/eval-independent and -2 to -6 when present
(written by someone who never saw the corpus; never tuned on), and with `cross_writer` the
cross-writer check (retrains once per writer). Each row gives macro-F1, per-class F1 and the
acknowledgement precision and coverage at the review threshold of rules.yaml.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from classifiers import CATEGORIES, Classifier
from classifiers.calibration import Calibration
from classifiers.evalsets import EVAL_SETS, LabelledText, eval_dir_texts, held_out_texts
from classifiers.explain import explain
from classifiers.measure import classify_texts, cross_writer, score_texts
from classifiers.model import TextcatClassifier, load_corpus
from classifiers.phrases import PhraseRules
from classifiers.training import fit_ensemble
from foundation.rules import Rules


def labelled_sets() -> dict[str, list[LabelledText]]:
    sets = {"held-out": held_out_texts()}
    for name, directory in EVAL_SETS.items():
        if (directory / "labels.csv").exists():
            sets[name] = eval_dir_texts(directory)
    return sets


def side_by_side(models: dict[str, Classifier], *, rules: PhraseRules | None, tiers: tuple[float, float],
                 with_cross_writer: bool = False, show_mistakes: bool = False,
                 progress: Callable[[], None] | None = None) -> dict[str, Any]:
    """{model name: {set name: scores}}; the cross-writer check is of the training recipe, not a model."""
    sets = labelled_sets()
    result: dict[str, Any] = {}
    for name, classifier in models.items():
        result[name] = {}
        for set_name, texts in sets.items():
            scores = score_texts(classifier, texts, rules=rules, specific_at_least=tiers[0],
                                 neutral_at_least=tiers[1])
            if show_mistakes:
                _explain_mistakes(classifier, texts, scores, rules=rules)
            result[name][set_name] = scores
    if with_cross_writer:
        temperature = Calibration(temperature=TextcatClassifier().calibration.temperature)
        result["cross-writer"] = cross_writer(
            load_corpus(), lambda examples: TextcatClassifier.from_nlp(fit_ensemble(examples), temperature),
            rules=rules, progress=progress)
    return result


def _explain_mistakes(classifier: Classifier, texts: list[LabelledText], scores: dict[str, Any], *,
                      rules: Any) -> None:
    by_id = {t.id: t for t in texts}
    found = {t.id: c for t, c in zip(texts, classify_texts(classifier, texts, rules=rules), strict=True)}
    for mistake in scores["mistakes"]:
        text = by_id[mistake["file"]]
        mistake["confidence"] = round(found[text.id].confidence, 3)
        mistake["newest_text"] = text.text
        mistake.update({k: v for k, v in explain(classifier, text.subject, text.text).items()
                        if k in ("deciding_sentence", "features")})


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


def run_report(rules: Rules, *, as_json: bool = False, cross_writer: bool = False, compare: Path | None = None,
               show_mistakes: bool = False) -> str:
    """The whole `liaison eval` report as text or JSON, for the shipped model (and `compare`)."""
    import json

    from classifiers.phrases import PhraseRules
    models: dict[str, Classifier] = {"shipped": TextcatClassifier()}
    if compare is not None:
        models["compared"] = TextcatClassifier(compare)
    result = side_by_side(models, rules=PhraseRules(rules.spec.phrases),
                          tiers=(rules.spec.classifier.acknowledge.specific_at_least,
                                 rules.spec.classifier.acknowledge.neutral_at_least),
                          with_cross_writer=cross_writer, show_mistakes=show_mistakes)
    if as_json:
        return json.dumps(result, ensure_ascii=False)
    text = format_side_by_side(result)
    if show_mistakes:
        from classifiers.evaluate import format_mistakes

        for model_name, sets in result.items():
            if model_name != "cross-writer":
                for set_name, s in sets.items():
                    text += f"\n\nmistakes of {model_name} on {set_name}\n" + format_mistakes(s["mistakes"])
    return text
