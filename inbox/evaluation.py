"""`liaison eval DIR`: run a labelled folder through the real pipeline on a scratch database and score it.

DIR/mail/*.eml are messages, DIR/labels.csv has `file,category,account_id`, and an optional DIR/accounts.csv
uses the import format. Messages go in file-name order so that thread replies follow their parents.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from classifiers import Classifier
from classifiers.evaluate import QUARANTINED, read_labels, score
from classifiers.explain import explain
from classifiers.tiers import tier_scores
from foundation.accounts import read_accounts_csv
from foundation.rules import Rules
from foundation.settings import Settings
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
                                 "ack_tier FROM messages WHERE id = ?", [outcome.row])
        processed = outcome.status == "processed" and row is not None
        predicted.append(row["category"] if processed and row else QUARANTINED)
        linked.append(row["account_id"] if processed and row else None)
        rows.append(dict(row) if processed and row else {})
        if progress:
            progress(number, len(labels))
    truth = [i.category for i in labels]
    result = score(truth, predicted, [i.account_id for i in labels], linked, files=[i.file for i in labels])
    # What acknowledgements claim, per tier, as the rules' thresholds decided it (classifiers/tiers): a specific
    # one is right when the category is, a neutral one when the message is a request at all.
    tiers = [r.get("ack_tier") or "none" for r in rows]
    result["tiers"] = {**tier_scores(zip(truth, predicted, tiers, strict=True)),
                       "thresholds": rules.spec.classifier.acknowledge.model_dump(exclude={"neutral_template"})}
    by_file = {i.file: r for i, r in zip(labels, rows, strict=True)}
    for mistake in result["mistakes"]:
        row = by_file[mistake["file"]]
        mistake["confidence"] = round(row.get("confidence") or 0.0, 3)
        mistake["newest_text"] = row.get("newest_text", "")
        if explain_mistakes and row:
            found = explain(pipeline.categorizer.base, row["subject"] or "", row["newest_text"] or "")
            mistake["deciding_sentence"] = found["deciding_sentence"]
            mistake["features"] = found["features"]
    return result
