"""`liaison eval`: score classification and account linking on a labelled folder.

DIR/mail/*.eml are messages, DIR/labels.csv has `file,category,account_id`. Reading the labels and scoring
live here; running the messages through the real pipeline is inbox/evaluation.py's (the service layer).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from classifiers import CATEGORIES
from foundation.errors import LiaisonError

QUARANTINED = "quarantined"


@dataclass(frozen=True)
class Labelled:
    file: str
    category: str
    account_id: str | None


def read_labels(directory: Path) -> list[Labelled]:
    path = directory / "labels.csv"
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        raise LiaisonError(f"{path}: cannot read: {exc.strerror}") from None
    labelled = []
    for number, row in enumerate(rows, 2):
        category = (row.get("category") or "").strip()
        if category not in CATEGORIES:
            raise LiaisonError(f"{path}:{number}: unknown category {category!r}")
        if not (directory / "mail" / row["file"]).exists():
            raise LiaisonError(f"{path}:{number}: no file mail/{row['file']}")
        labelled.append(Labelled(row["file"], category, (row.get("account_id") or "").strip() or None))
    return sorted(labelled, key=lambda item: item.file)


def score(truth: list[str], predicted: list[str], true_accounts: list[str | None],
          found_accounts: list[str | None], *, files: list[str] | None = None) -> dict[str, Any]:
    labels = list(CATEGORIES)
    columns = labels + ([QUARANTINED] if QUARANTINED in predicted else [])
    confusion = {t: dict.fromkeys(columns, 0) for t in labels}
    for t, p in zip(truth, predicted, strict=True):
        confusion[t][p] += 1
    per_class = {}
    for label in labels:
        tp = confusion[label][label]
        fp = sum(confusion[t][label] for t in labels if t != label)
        fn = sum(confusion[label].values()) - tp
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
                            "support": tp + fn}
    present = [label for label in labels if per_class[label]["support"]]
    correct = sum(t == p for t, p in zip(truth, predicted, strict=True))
    link_right = sum(t == f for t, f in zip(true_accounts, found_accounts, strict=True))
    mistakes = [{"file": f, "truth": t, "predicted": p} for f, t, p in
                zip(files or [""] * len(truth), truth, predicted, strict=True) if t != p]
    link_mistakes = [{"file": f, "truth": t, "found": a} for f, t, a in
                     zip(files or [""] * len(truth), true_accounts, found_accounts, strict=True) if t != a]
    return {
        "count": len(truth),
        "macro_f1": round(sum(per_class[label]["f1"] for label in present) / max(len(present), 1), 4),
        "accuracy": round(correct / max(len(truth), 1), 4),
        "per_class": per_class,
        "confusion": confusion,
        "link_accuracy": round(link_right / max(len(truth), 1), 4),
        "mistakes": mistakes,
        "link_mistakes": link_mistakes,
    }


def format_report(result: dict[str, Any], *, baseline: dict[str, Any] | None = None) -> str:
    lines = [f"{'class':<18}{'precision':>10}{'recall':>9}{'f1':>8}{'support':>9}"]
    for label, s in result["per_class"].items():
        lines.append(f"{label:<18}{s['precision']:>10.3f}{s['recall']:>9.3f}{s['f1']:>8.3f}{s['support']:>9}")
    lines += ["", f"macro-F1      {result['macro_f1']:.4f}", f"accuracy      {result['accuracy']:.4f}",
              f"link accuracy {result['link_accuracy']:.4f}  ({result['count']} messages)"]
    if "tiers" in result:
        t = result["tiers"]
        lines.append(f"acknowledgements {t['acknowledged']}: right {t['ack_precision']:.4f}, "
                     f"coverage of client requests {t['coverage']:.4f}")
        for tier in ("specific", "neutral"):
            right = "" if t[tier]["precision"] is None else f", {t[tier]['right']} right ({t[tier]['precision']:.4f})"
            lines.append(f"  tier {tier:<9}{t[tier]['messages']:>5} messages{right}")
        lines.append(f"  tier none    {t['none']['messages']:>5} messages, {t.get('requests_not_acknowledged', 0)} of "
                     "them client requests left without an acknowledgement")
        if "senders_not_answered" in t:
            lines.append(f"  not counted: {t['senders_not_answered']} messages from staff, robots, suspicious or "
                         "unlinked senders, whom Liaison never acknowledges")
            lines.append("  each message judged as the first of its thread and under the rate limits (the daemon "
                         "sends one acknowledgement per thread, capped per sender and domain)")
        lines.append(f"  thresholds: specific >= {t['thresholds']['specific_at_least']}, neutral >= "
                     f"{t['thresholds']['neutral_at_least']} (rules.yaml classifier.acknowledge)")
    if baseline is not None:
        lines.append(f"phrase-rule baseline macro-F1 {baseline['macro_f1']:.4f} "
                     f"(model {'beats' if result['macro_f1'] > baseline['macro_f1'] else 'does NOT beat'} it)")
    columns = list(next(iter(result["confusion"].values())))
    lines += ["", "confusion (rows: truth, columns: predicted)",
              " " * 18 + "".join(f"{c[:12]:>13}" for c in columns)]
    for truth, row in result["confusion"].items():
        lines.append(f"{truth:<18}" + "".join(f"{row[c]:>13}" for c in columns))
    return "\n".join(lines)


def format_mistakes(mistakes: list[dict[str, Any]]) -> str:
    """Each mistake with what the model read and what decided it."""
    lines = []
    for m in mistakes:
        # The tier says what the mistake cost: a wrong specific or neutral acknowledgement reached the client.
        tier = f", {m['tier']} acknowledgement" if m.get("tier") not in (None, "none") else ""
        lines.append(f"{m['file']}: {m['truth']} -> {m['predicted']} ({m.get('confidence', 0):.2f}{tier})")
        text = " ".join((m.get("newest_text") or "").split())
        lines.append(f"  read:     {text[:300]}{'...' if len(text) > 300 else ''}")
        if m.get("deciding_sentence"):
            lines.append(f"  decided:  {m['deciding_sentence'][:200]}")
        if m.get("features"):
            lines.append("  features: " + ", ".join(f"{f['word']} {f['weight']:+.2f}" for f in m["features"]))
    return "\n".join(lines)
