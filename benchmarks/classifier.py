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

from classifiers.evaluate import score  # noqa: E402
from classifiers.model import MODEL_DIR, TextcatClassifier, load_corpus, split  # noqa: E402
from classifiers.newest_text import newest_text  # noqa: E402
from classifiers.phrases import KeywordClassifier, PhraseRules  # noqa: E402
from inbox.parse import parse_message  # noqa: E402
from inbox.rules import default_rules_path, load_rules  # noqa: E402


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
    items = [(e.subject, newest_text(e.body)) for e in held]
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
        pairs.append((parsed.subject, newest_text(parsed.text, html=parsed.html or None)))
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


def load_time() -> float:
    code = f"import time, spacy; t = time.perf_counter(); spacy.load({str(MODEL_DIR)!r}); " \
        "print(time.perf_counter() - t)"
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
