"""Learning from corrections: accuracy before and after, on mail written apart from the corpus the model saw.

    python3 benchmarks/learning.py [--writer w3] [--out FILE.md]

One writer's file is left out of the corpus entirely (by default w3: small businesses writing from their
phones, lowercase, emoji, voice-dictation slips), and a model is trained on the rest: that writer's mail is
then mail written apart from everything the model saw, as a new agency's clients are. The writer's messages
are split in two by a stable hash: the first half plays the agency's inbox over a few weeks, in which an
account manager corrects every message the model got wrong (exactly what the correction folders and
`liaison correct` record); the second half is new mail from the same clients, never corrected. The candidate
is trained as `liaison train --with-corrections` trains it (classifiers/learning.py) and judged by the same
gate. Reported: macro-F1 and accuracy on the second half before and after, and on the corpus's held-out
split (what must not get worse).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT))

from classifiers import learning  # noqa: E402
from classifiers.evaluate import score  # noqa: E402
from classifiers.model import TextcatClassifier, load_corpus, split  # noqa: E402
from classifiers.training import fit_ensemble  # noqa: E402


def half(example_id: str) -> int:
    return hashlib.sha256(f"learning-benchmark:{example_id}".encode()).digest()[0] % 2


def f1(classifier: Any, items: list[tuple[str, str, str]]) -> dict[str, float]:
    found = classifier.classify_many([(s, t) for s, t, _ in items])
    truth = [c for _, _, c in items]
    nobody: list[str | None] = [None] * len(items)
    result = score(truth, [f.category for f in found], nobody, nobody)
    return {"macro_f1": result["macro_f1"], "accuracy": result["accuracy"], "messages": len(items)}


def run(writer: str, weight: int = learning.CORRECTION_WEIGHT) -> dict[str, Any]:
    started = time.time()
    corpus = load_corpus()
    others = [e for e in corpus if e.writer != writer]
    apart = [e for e in corpus if e.writer == writer]
    if not apart:
        raise SystemExit(f"no writer {writer!r} in the corpus")
    train, held = split(others)
    held_items = [(*e.as_read(), e.label) for e in held]
    inbox = [(*e.as_read(), e.label) for e in apart if half(e.id) == 0]
    later = [(*e.as_read(), e.label) for e in apart if half(e.id) == 1]

    base = TextcatClassifier.from_nlp(fit_ensemble(train))
    answers = base.classify_many([(s, t) for s, t, _ in inbox])
    corrections = [(f"c{n}", s, t, c) for n, ((s, t, c), a) in enumerate(zip(inbox, answers, strict=True))
                   if a.category != c]
    train_corrections, held_corrections = learning.split_corrections(corrections)
    candidate = TextcatClassifier.from_nlp(learning.retrain(train, train_corrections, weight=weight))
    verdict = learning.judge(base, candidate, held_items + held_corrections)
    return {
        "writer": writer, "inbox": len(inbox), "corrections": len(corrections), "later": len(later),
        "before": {"later": f1(base, later), "held_out": f1(base, held_items)},
        "after": {"later": f1(candidate, later), "held_out": f1(candidate, held_items)},
        "promoted": verdict.promote, "reasons": verdict.reasons, "seconds": time.time() - started,
    }


def markdown(r: dict[str, Any], command: str) -> str:
    b, a = r["before"], r["after"]
    return "\n".join([
        f"Produced by `{command}` ({r['seconds'] / 60:.1f} minutes). Writer `{r['writer']}` left out of training; "
        f"{r['inbox']} of its messages played the inbox, where an account manager corrected the "
        f"{r['corrections']} the model got wrong; {r['later']} more of its messages came later, never corrected.",
        "",
        "| measured on | before (macro-F1 / accuracy) | after learning (macro-F1 / accuracy) |",
        "| --- | --- | --- |",
        f"| later mail from the same writer ({r['later']}) | {b['later']['macro_f1']:.4f} / "
        f"{b['later']['accuracy']:.4f} | {a['later']['macro_f1']:.4f} / {a['later']['accuracy']:.4f} |",
        f"| corpus held-out split ({b['held_out']['messages']}) | {b['held_out']['macro_f1']:.4f} / "
        f"{b['held_out']['accuracy']:.4f} | {a['held_out']['macro_f1']:.4f} / {a['held_out']['accuracy']:.4f} |",
        "",
        f"The gate {'promoted' if r['promoted'] else 'refused'} the candidate: {'; '.join(r['reasons'])}.",
    ])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--writer", default="w3")
    parser.add_argument("--weight", type=int, default=learning.CORRECTION_WEIGHT)
    args = parser.parse_args()
    result = run(args.writer, args.weight)
    print(markdown(result, f"python3 benchmarks/learning.py --writer {args.writer} --weight {args.weight}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
