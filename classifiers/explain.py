"""Why the model chose what it chose, for any model: leave a part out and see what its choice loses.

The sentence that decided is the one whose removal costs the chosen category most probability;
the strongest features are the words whose removal does the same. Costs one model call per
sentence and per distinct word, so it is for listing mistakes, not for every message.
"""

from __future__ import annotations

import re
from typing import Any

from classifiers import Classifier

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"\w[\w'’-]*", re.UNICODE)


def sentences(text: str) -> list[str]:
    return [part.strip() for part in _SENTENCE_END.split(text) if part and part.strip()]


def explain(classifier: Classifier, subject: str, text: str, *, features: int = 5) -> dict[str, Any]:
    """The deciding sentence and the strongest words for the category the classifier chose."""
    chosen = classifier.classify(subject, text)
    label = chosen.category
    base = chosen.scores.get(label, chosen.confidence)
    parts = sentences(text)
    deciding = parts[0] if parts else ""
    if len(parts) > 1:
        without = classifier.classify_many([(subject, " ".join(p for p in parts if p is not part))
                                            for part in parts])
        losses = [base - answer.scores.get(label, 0.0) for answer in without]
        deciding = parts[max(range(len(parts)), key=losses.__getitem__)]
    words = sorted({w for w in _WORD.findall(f"{subject}\n{text}".lower())})[:200]
    pattern = {w: re.compile(rf"(?<!\w){re.escape(w)}(?!\w)", re.IGNORECASE) for w in words}
    answers = classifier.classify_many([(pattern[w].sub(" ", subject), pattern[w].sub(" ", text)) for w in words])
    weights = sorted(((round(base - a.scores.get(label, 0.0), 3), w) for w, a in zip(words, answers, strict=True)),
                     reverse=True)
    return {"category": label, "confidence": round(chosen.confidence, 3), "deciding_sentence": deciding,
            "features": [{"word": w, "weight": weight} for weight, w in weights[:features] if weight > 0]}
