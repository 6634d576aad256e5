"""`liaison train` and `liaison eval`: rebuild the shipped classifier, score it."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from foundation.errors import LiaisonError
from inbox.commands import common, learning


def register(commands: common.Subcommands) -> None:
    train = common.command(commands, "train", "rebuild the shipped classifier from the labelled corpus", cmd_train)
    train.add_argument("--out", type=Path, default=None, help="model folder (default: the shipped one)")
    train.add_argument("--epochs", type=common.POSITIVE, default=None)
    train.add_argument("--folds", type=int, default=None,
                       help="calibration folds (default 4; 0: no calibration, e.g. to check reproducibility)")
    train.add_argument("--answers", type=Path, default=None, metavar="DIR",
                       help="also keep each ensemble member's answers on each writer left out, for "
                            "benchmarks/ensemble.py --scores DIR")
    train.add_argument("--with-corrections", action="store_true",
                       help="retrain on the corpus plus the recorded corrections; promoted only if no worse")

    evaluate = common.command(commands, "eval", "score classification and linking on a labelled folder", cmd_eval)
    evaluate.add_argument("directory", type=Path, nargs="?", metavar="DIR",
                          help="DIR/mail/*.eml, DIR/labels.csv, optional DIR/accounts.csv")
    evaluate.add_argument("--held-out", action="store_true", help="score the corpus split training never sees")
    evaluate.add_argument("--json", action="store_true", help="one JSON object")
    evaluate.add_argument("--show-mistakes", action="store_true",
                          help="each mistake with its newest text, deciding sentence and strongest words")
    evaluate.add_argument("--cross-writer", action="store_true",
                          help="without DIR: also train without each writer and score on that writer")
    evaluate.add_argument("--compare", type=Path, metavar="MODEL", help="without DIR: another model, side by side")
    evaluate.add_argument("--sets", metavar="NAME,...", type=_names,
                          help="without DIR: only these sets (held-out, eval, eval-independent, eval-independent-2...)")


def cmd_train(args: argparse.Namespace) -> int:
    from classifiers import model, training
    from inbox.progress import Progress

    logging.getLogger("spacy").setLevel(logging.WARNING)  # its per-step INFO lines drown the progress bar
    if args.with_corrections:
        return learning.train_with_corrections(args)
    examples = model.load_corpus()
    train, held = model.split(examples)
    print(f"corpus: {len(examples)} examples, training on {len(train)}, holding out {len(held)}")
    epochs = args.epochs or model.EPOCHS
    folds = training.FOLDS if args.folds is None else args.folds
    # one step per model trained: the ensemble's members, and the calibration's folds and writers
    progress = Progress(training.ensemble_size(train) + training.calibration_steps(train, folds), "models")
    out = args.out or model.MODEL_DIR
    calibration = training.build(out, examples=examples, epochs=epochs, folds=folds, answers=args.answers,
                                 progress=progress.advance)
    progress.finish()
    if calibration.fold_count:
        print(f"calibrated on {calibration.fold_count} out-of-{calibration.thresholds_from} answers: temperature "
              f"{calibration.temperature}, acknowledge at confidence >= {calibration.ack_threshold} "
              f"({calibration.fold_precision:.4f} right, {calibration.fold_coverage:.4f} of requests), neutral at "
              f"request probability >= {calibration.neutral_threshold}, in {out}/calibration.json")
    trained = model.TextcatClassifier(out)
    found = trained.classify_many([e.as_read() for e in held])
    correct = sum(f.category == e.label for f, e in zip(found, held, strict=True))
    print(f"saved to {out}; held-out accuracy {correct / max(len(held), 1):.4f} "
          f"(full scores: liaison eval --held-out)")
    return 0


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _ticker(progress: Any) -> Callable[[int, int], None]:
    """A `progress(done, total)` callback for the Progress line of one folder after another."""
    def tick(done: int, total: int) -> None:
        progress.total, progress.enabled = total, total > 1
        progress.advance()
    return tick


def cmd_eval(args: argparse.Namespace) -> int:
    import tempfile

    from classifiers.evaluate import format_mistakes, format_report
    from classifiers.heldout import write_eval_dir
    from classifiers.phrases import KeywordClassifier
    from foundation.rules import default_rules_path
    from foundation.settings import load_settings
    from inbox.daemon import load_checked_rules
    from inbox.evaluation import evaluate, report
    from inbox.progress import Progress

    if args.directory and args.held_out:
        raise LiaisonError("give either DIR or --held-out")
    settings = load_settings({"LIAISON_ADDRESS": "accounts@agency.example",
                              "LIAISON_AGENCY_DOMAINS": "agency.example"})
    print(f"liaison eval: scoring with the shipped rules ({default_rules_path()})", file=sys.stderr)
    rules = load_checked_rules(default_rules_path())
    if not (args.directory or args.held_out):  # every set side by side, each scored as `liaison eval DIR` does
        progress = Progress(0, "messages")
        text = report(settings, rules, as_json=args.json, cross_writer=args.cross_writer, compare=args.compare,
                      show_mistakes=args.show_mistakes, progress=_ticker(progress), only=args.sets)
        progress.finish()
        print(text)
        return 0
    with tempfile.TemporaryDirectory(prefix="liaison-eval-") as scratch:
        directory = args.directory
        if args.held_out:
            directory = Path(scratch)
            write_eval_dir(directory)
        progress = Progress(0, "messages")
        result = evaluate(directory, settings, rules, progress=_ticker(progress), explain_mistakes=args.show_mistakes)
        progress.finish()
        baseline = evaluate(directory, settings, rules, classifier=KeywordClassifier())
    result["baseline_macro_f1"] = baseline["macro_f1"]
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(format_report(result, baseline=baseline))
        if args.show_mistakes:
            print(format_mistakes(result["mistakes"]))
            for m in result["link_mistakes"]:
                print(f"  {m['file']}: account {m['truth']} -> {m['found']}")
    return 0
