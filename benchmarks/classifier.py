"""Classifier benchmark (issue 3): baseline vs model on the held-out split, throughput, load time."""

from __future__ import annotations

import subprocess
import sys
import time
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT))

import responders  # noqa: E402, F401  (registers the routing conditions and actions rules.yaml names)
from classifiers.evaluate import score  # noqa: E402
from classifiers.model import MODEL_DIR, TextcatClassifier, load_corpus, split  # noqa: E402
from classifiers.newest_text import newest_text  # noqa: E402
from classifiers.phrases import KeywordClassifier, PhraseRules  # noqa: E402
from foundation.message import parse_message  # noqa: E402
from foundation.rules import default_rules_path, load_rules  # noqa: E402


def as_eml(subject: str, body: str, number: int) -> bytes:
    message = EmailMessage(policy=SMTP)
    message["From"] = f"Client {number} <client{number}@brewco.com>"
    message["To"] = "accounts@agency.example"
    message["Subject"] = subject
    message["Message-ID"] = f"<bench-{number}@brewco.com>"
    message["Date"] = "Mon, 23 Nov 2026 10:00:00 +0000"
    message.set_content(body or " ", cte="8bit")
    return message.as_bytes()


def run(batch: int) -> dict[str, Any]:
    examples = load_corpus()
    _, held = split(examples)
    rules = PhraseRules(load_rules(default_rules_path()).spec.phrases)
    model = TextcatClassifier()
    baseline = KeywordClassifier()
    items = [e.as_read() for e in held]
    truth = [e.label for e in held]
    nobody: list[str | None] = [None] * len(held)
    model_found = [rules.apply(s, t, c).category for (s, t), c in zip(items, model.classify_many(items), strict=True)]
    base_found = [rules.apply(s, t, c).category for (s, t), c in zip(items, baseline.classify_many(items),
                                                                      strict=True)]
    model_score = score(truth, model_found, nobody, nobody)
    base_score = score(truth, base_found, nobody, nobody)
    raws = [as_eml(e.subject, e.body, i) for i, e in enumerate((examples * (batch // len(examples) + 1))[:batch])]
    started = time.perf_counter()
    pairs = []
    for raw in raws:
        parsed = parse_message(raw)
        pairs.append((parsed.subject, newest_text(parsed.text, html=parsed.html or None, subject=parsed.subject)))
    results = model.classify_many(pairs)
    for (subject, text), result in zip(pairs, results, strict=True):
        rules.apply(subject, text, result)
    elapsed = time.perf_counter() - started
    started = time.perf_counter()
    model.classify_many(pairs)
    classify_only = time.perf_counter() - started
    return {
        "held_out": len(held), "baseline_macro_f1": base_score["macro_f1"], "model_macro_f1": model_score["macro_f1"],
        "model_accuracy": model_score["accuracy"], "batch": batch, "per_s": batch / elapsed,
        "classify_per_s": batch / classify_only, "load_s": load_time(),
    }




# -- issue 11: old model vs new, side by side ------------------------------------------------------------------


def side_by_side(old_dir: Path, *, with_cross_writer: bool, old_review_below: float = 0.4) -> dict[str, Any]:
    """Every figure for the old model (uncalibrated; it acknowledged every request category from its old review
    threshold, always naming the category: no neutral tier) and the shipped one under rules.yaml's tiers."""
    from classifiers.measure import cross_writer, score_texts
    from classifiers.report import labelled_sets
    from classifiers.training import fit_model

    rules_file = load_rules(default_rules_path())
    rules = PhraseRules(rules_file.spec.phrases)
    tiers = rules_file.spec.classifier.acknowledge
    models = {"old": (TextcatClassifier(old_dir, calibrated=False), (old_review_below, 2.0)),
              "new": (TextcatClassifier(), (tiers.specific_at_least, tiers.neutral_at_least))}
    sets = labelled_sets()
    result: dict[str, Any] = {"sets": {}, "load_s": load_time()}
    for set_name, texts in sets.items():
        result["sets"][set_name] = {name: score_texts(m, texts, rules=rules, specific_at_least=specific,
                                                      neutral_at_least=neutral)
                                    for name, (m, (specific, neutral)) in models.items()}
    if with_cross_writer:
        corpus = load_corpus()
        result["cross_writer"] = {
            recipe: cross_writer(corpus, lambda ex, a=augment: TextcatClassifier.from_nlp(fit_model(ex, augment=a)),
                                 rules=rules)
            for recipe, augment in (("old", False), ("new", True))}
    items = [(t.subject, t.text) for t in sets["held-out"]]
    items = (items * (5000 // len(items) + 1))[:5000]
    result["speed"] = {}
    for name, (m, _) in models.items():
        started = time.perf_counter()
        m.classify_many(items)
        result["speed"][name] = len(items) / (time.perf_counter() - started)
    return result


def markdown(r: dict[str, Any]) -> str:
    from classifiers import CATEGORIES

    lines = ["| set | model | n | macro-F1 | " + " | ".join(f"F1 {c}" for c in CATEGORIES)
             + " | progress recall | specific acks (right) | neutral acks (right) | acks right | coverage |",
             "|" + " --- |" * (9 + len(CATEGORIES))]
    for set_name, by_model in r["sets"].items():
        for name, s in by_model.items():
            lines.append(f"| {set_name} | {name} | {s['count']} | {s['macro_f1']:.4f} | "
                         + " | ".join(f"{s['per_class'][c]['f1']:.3f}" for c in CATEGORIES)
                         + f" | {s['per_class']['progress_query']['recall']:.3f} | " + _tiers(s["tiers"]) + " |")
    if "cross_writer" in r:
        lines += ["", "| left-out writer | recipe | n | macro-F1 | " + " | ".join(f"F1 {c}" for c in CATEGORIES) + " |",
                  "|" + " --- |" * (4 + len(CATEGORIES))]
        for recipe, writers in r["cross_writer"].items():
            for writer, s in writers.items():
                lines.append(f"| {writer} | {recipe} | {s['count']} | {s['macro_f1']:.4f} | "
                             + " | ".join(f"{s['per_class'][c]['f1']:.3f}" for c in CATEGORIES) + " |")
    lines += ["", "| measure | old | new |", "| --- | --- | --- |",
              f"| classify only (newest text given), one core, 5000 messages | {r['speed']['old']:.0f}/s | "
              f"{r['speed']['new']:.0f}/s |",
              f"| model load (spaCy + calibration) | | {r['load_s'] * 1000:.0f} ms |"]
    return "\n".join(lines)


def _tiers(t: dict[str, Any]) -> str:
    return (f"{t['specific']['messages']} ({t['specific']['right']}) | {t['neutral']['messages']} "
            f"({t['neutral']['right']}) | {t['ack_precision']:.4f} | {t['coverage']:.4f}")


def load_time() -> float:
    """The model with its calibration, as the daemon loads it, in a fresh process."""
    code = "import time; from pathlib import Path; from classifiers.model import TextcatClassifier; " \
        f"t = time.perf_counter(); TextcatClassifier(Path({str(MODEL_DIR)!r})); print(time.perf_counter() - t)"
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                cwd=ROOT).stdout)


if __name__ == "__main__":
    import argparse
    import json
    import os

    parser = argparse.ArgumentParser(description="issue 11: old vs new classifier, every figure from one run")
    parser.add_argument("--old", type=Path, required=True, help="the old model folder (e.g. from git archive)")
    parser.add_argument("--cross-writer", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    figures = side_by_side(args.old, with_cross_writer=args.cross_writer)
    if args.json:
        args.json.write_text(json.dumps(figures, default=str))
    print(markdown(figures))
