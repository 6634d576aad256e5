"""`liaison eval DIR`: run a labelled folder through the real pipeline on a scratch database and score it.

DIR/mail/*.eml are messages, DIR/labels.csv has `file,category,account_id`, and an optional DIR/accounts.csv
uses the import format. Messages go in file-name order so that thread replies follow their parents.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from classifiers import Classifier
from classifiers.evalsets import EVAL_SETS
from classifiers.evaluate import QUARANTINED, read_labels, score
from classifiers.explain import explain
from classifiers.heldout import write_eval_dir
from classifiers.model import TextcatClassifier
from classifiers.phrases import PhraseRules
from classifiers.report import cross_writer_scores, format_side_by_side
from classifiers.tiers import tier_scores
from foundation.accounts import read_accounts_csv
from foundation.errors import LiaisonError
from foundation.rules import Rules
from foundation.settings import Settings
from foundation.store import loads
from inbox.scratch import scratch_pipeline


def evaluate(directory: Path, settings: Settings, rules: Rules, *, classifier: Classifier | None = None,
             progress: Callable[[int, int], None] | None = None, explain_mistakes: bool = False) -> dict[str, Any]:
    """Run every labelled message through a scratch pipeline and score it.

    Also reports acknowledgement precision and coverage (a request category not marked for review is
    acknowledged) and, with `explain_mistakes`, each mistake's newest text, deciding sentence and
    strongest features.
    """
    labels = read_labels(directory)
    accounts_csv = directory / "accounts.csv"
    accounts = read_accounts_csv(accounts_csv) if accounts_csv.exists() else []
    pipeline = scratch_pipeline(settings, rules, accounts=accounts)
    if classifier is not None:
        pipeline.categorizer.base = classifier
    predicted, linked, rows = [], [], []
    for number, item in enumerate(labels, 1):
        outcome = pipeline.ingest((directory / "mail" / item.file).read_bytes())
        row = pipeline.store.one("SELECT category, account_id, confidence, needs_review, subject, newest_text, "
                                 "ack_tier, route, staff, automatic, suspicious FROM messages WHERE id = ?",
                                 [outcome.row])
        processed = outcome.status == "processed" and row is not None
        predicted.append(row["category"] if processed and row else QUARANTINED)
        linked.append(row["account_id"] if processed and row else None)
        rows.append(dict(row) if processed and row else {})
        if progress:
            progress(number, len(labels))
    truth = [i.category for i in labels]
    result = score(truth, predicted, [i.account_id for i in labels], linked, files=[i.file for i in labels])
    # What acknowledgements claim, per tier, as the rules' thresholds decided it (classifiers/tiers): a specific
    # one is right when the category is, a neutral one when the message is a request at all. Counted as the
    # pipeline sends them: mail from staff, robots, suspicious or unknown senders is never acknowledged,
    # whatever its words, so it is neither a wrong acknowledgement nor a request left uncovered (linking has
    # its own score above).
    answered = [answers_sender(r) for r in rows]
    tiers = [acknowledgement_tier(r) for r in rows]
    judged = [(t, p, tier) for t, p, tier, a in zip(truth, predicted, tiers, answered, strict=True) if a]
    result["tiers"] = {**tier_scores(judged),
                       "senders_not_answered": answered.count(False),
                       "thresholds": rules.spec.classifier.acknowledge.model_dump(exclude={"neutral_template"})}
    by_file = {i.file: r for i, r in zip(labels, rows, strict=True)}
    for mistake in result["mistakes"]:
        row = by_file[mistake["file"]]
        mistake["confidence"] = round(row.get("confidence") or 0.0, 3)
        mistake["newest_text"] = row.get("newest_text", "")
        mistake["tier"] = acknowledgement_tier(row)
        if explain_mistakes and row:
            found = explain(pipeline.categorizer.base, row["subject"] or "", row["newest_text"] or "")
            mistake["deciding_sentence"] = found["deciding_sentence"]
            mistake["features"] = found["features"]
    return result


def every_set(settings: Settings, rules: Rules, models: dict[str, Classifier], *, explain_mistakes: bool = False,
              progress: Callable[[int, int], None] | None = None,
              only: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """{model name: {set name: scores}} for the corpus's held-out split (written as mail, as `--held-out` does) and
    every eval folder of the project (or `only` those named): each through the pipeline, exactly as `liaison eval
    DIR` scores it."""
    known = ["held-out", *EVAL_SETS]
    if unknown := [name for name in only or [] if name not in known]:
        raise LiaisonError(f"no set {', '.join(unknown)}: the sets are {', '.join(known)}")
    wanted = set(only or known)
    with tempfile.TemporaryDirectory(prefix="liaison-eval-") as scratch:
        if "held-out" in wanted:
            write_eval_dir(Path(scratch))
        sets = {name: directory for name, directory in [("held-out", Path(scratch)), *EVAL_SETS.items()]
                if name in wanted and (directory / "labels.csv").exists()}
        if missing := [name for name in only or [] if name not in sets]:  # round 22c: an empty table, exit 0
            raise LiaisonError(f"set {', '.join(missing)} is not here: the eval sets come with a checkout of "
                               "Liaison (tests/data), not with an installed package")
        total = len(models) * sum(len(read_labels(d)) for d in sets.values())
        before = 0  # messages scored in the folders before this one: one progress line for them all

        def one_set(directory: Path, classifier: Classifier) -> dict[str, Any]:
            nonlocal before
            count = len(read_labels(directory))
            def overall(done: int, _: int) -> None:
                if progress is not None:
                    progress(before + done, total)

            scores = evaluate(directory, settings, rules, classifier=classifier, explain_mistakes=explain_mistakes,
                              progress=overall)
            before += count
            return scores

        return {name: {set_name: one_set(directory, classifier) for set_name, directory in sets.items()}
                for name, classifier in models.items()}


def report(settings: Settings, rules: Rules, *, as_json: bool = False, cross_writer: bool = False,
           compare: Path | None = None, show_mistakes: bool = False,
           progress: Callable[[int, int], None] | None = None, only: list[str] | None = None) -> str:
    """The whole `liaison eval` report without a folder, as text or JSON, for the shipped model (and `compare`)."""
    from classifiers.evaluate import format_mistakes

    models: dict[str, Classifier] = {"shipped": TextcatClassifier()}
    if compare is not None:
        models["compared"] = TextcatClassifier(compare)
    result: dict[str, Any] = every_set(settings, rules, models, explain_mistakes=show_mistakes, progress=progress,
                                       only=only)
    if cross_writer:
        result["cross-writer"] = cross_writer_scores(PhraseRules(rules.spec.phrases))
    if as_json:
        return json.dumps(result, ensure_ascii=False)
    text = format_side_by_side(result)
    if show_mistakes:
        for model_name, sets in result.items():
            if model_name != "cross-writer":
                for set_name, scores in sets.items():
                    text += f"\n\nmistakes of {model_name} on {set_name}\n" + format_mistakes(scores["mistakes"])
    return text


def answers_sender(row: dict[str, Any]) -> bool:
    """Whether Liaison would acknowledge this sender at all: a linked client, not staff, not automatic mail,
    not suspicious (responders/respond.py refuses the rest whatever the rules say)."""
    return bool(row) and bool(row.get("account_id")) and not (row.get("staff") or row.get("automatic")
                                                              or row.get("suspicious"))


def acknowledgement_tier(row: dict[str, Any]) -> str:
    """The tier of the acknowledgement the rules planned for this stored message, or "none" when they planned
    none. The outbox's caps (one per thread, per sender per hour) are left out: they decide how many a sender
    gets, not whether this message deserved one, and a labelled set is full of threads and repeat senders."""
    actions = loads(row.get("route") or "{}", {}).get("actions", [])
    planned = answers_sender(row) and any(action["verb"] == "acknowledge" for action in actions)
    return (row.get("ack_tier") or "none") if planned else "none"
