"""Phrase rules: spaCy PhraseMatcher over the newest text and subject.

Two uses, one mechanism: the phrase rules of rules.yaml force or boost a category on top
of the model, and a built-in lexicon of the same shape is the baseline classifier that
the model must beat (`liaison eval --baseline`, benchmarks/classifier.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from classifiers import CATEGORIES, Classification
from classifiers.tokens import blank_nlp

BASELINE_LEXICON: dict[str, tuple[str, ...]] = {
    "revision_request": (
        "change", "changes", "please change", "can you change", "swap", "replace", "update the copy", "amend",
        "tweak", "make the logo bigger", "bigger", "smaller", "font", "colour", "color", "headline", "typo",
        "wording", "revise", "revision", "edit", "move the", "remove the", "resize", "feedback", "correct the",
        "modifier", "changer", "remplacer", "ändern", "anpassen", "korrigieren", "austauschen", "cambiar",
        "modificar", "sustituir", "aanpassen", "wijzigen", "veranderen", "vervangen",
    ),
    "billing_issue": (
        "invoice", "invoices", "invoiced", "payment", "paid", "overdue", "po number", "purchase order", "vat",
        "credit note", "refund", "billing", "charged", "amount", "remittance", "bank details", "quote",
        "facture", "paiement", "avoir", "rechnung", "zahlung", "gutschrift", "factura", "pago", "abono",
        "factuur", "betaling", "creditnota",
    ),
    "progress_query": (
        "any news", "any update", "status", "eta", "when can we expect", "when will", "ready yet", "on track",
        "where are we", "progress", "following up", "chasing", "heard back", "still waiting", "timeline",
        "des nouvelles", "où en est", "quand", "stand", "wann", "neuigkeiten", "novedades", "cuándo",
        "cómo va", "nieuws", "wanneer", "hoe staat",
    ),
}


@dataclass(frozen=True)
class PhraseHit:
    rule: str
    category: str
    phrase: str
    effect: str
    weight: float


class PhraseSet:
    """Named phrase lists matched case-insensitively on spaCy tokens."""

    def __init__(self, entries: Iterable[tuple[str, str, Iterable[str], str, float]]) -> None:
        self.nlp = blank_nlp()  # the model's tokeniser: phrases may be in any language
        self.matcher = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self.meta: dict[str, tuple[str, str, float]] = {}
        for name, category, phrases, effect, weight in entries:
            self.meta[name] = (category, effect, weight)
            self.matcher.add(name, list(self.nlp.tokenizer.pipe(phrases)))  # type: ignore[union-attr]

    def hits(self, subject: str, text: str) -> list[PhraseHit]:
        with self.nlp.memory_zone():  # forget this message's strings afterwards (see model.py)
            return self.hits_in(self.nlp.make_doc(f"{subject}\n{text}"))

    def hits_in(self, doc: Doc, *, source: str | None = None) -> list[PhraseHit]:
        """The phrases found in `doc` (made by any blank-"xx" tokenizer); `source`, when `doc` is of its
        lower-cased copy (same length), gives each phrase as written."""
        found = []
        for match_id, start, end in self.matcher(doc):
            name = self.nlp.vocab.strings[match_id]
            category, effect, weight = self.meta[name]
            span = doc[start:end]
            phrase = span.text if source is None else source[span.start_char:span.end_char]
            found.append(PhraseHit(name, category, phrase, effect, weight))
        return found


class PhraseRules:
    """The `phrases:` of rules.yaml applied on top of a model's answer."""

    def __init__(self, phrases: Iterable[object]) -> None:
        self.phrases = PhraseSet((p.name, p.category, p.match, p.effect, p.weight) for p in phrases)  # type: ignore[attr-defined]

    def apply(self, subject: str, text: str, base: Classification) -> Classification:
        return self.combine(self.phrases.hits(subject, text), base)

    def combine(self, hits: list[PhraseHit], base: Classification) -> Classification:
        """The model's answer with these phrase hits forcing or boosting a category."""
        if not hits:
            return base
        forced = [h for h in hits if h.effect == "force"]
        if forced:
            hit = forced[0]
            return Classification(hit.category, 1.0, (f"phrase rule {hit.rule!r} forced on {hit.phrase!r}",),
                                  f"rule:{hit.rule}", base.scores)
        scores = dict(base.scores) or {base.category: base.confidence}
        reasons = list(base.reasons)
        for hit in {h.rule: h for h in hits}.values():
            scores[hit.category] = scores.get(hit.category, 0.0) + hit.weight
            reasons.append(f"phrase rule {hit.rule!r} boosted {hit.category} on {hit.phrase!r}")
        total = sum(scores.values()) or 1.0
        scores = {k: v / total for k, v in scores.items()}
        category = max(scores, key=scores.__getitem__)
        source = base.source if category == base.category else f"rule:{hits[0].rule}"
        return Classification(category, scores[category], tuple(reasons), source, scores)


class KeywordClassifier:
    """The phrase-rule baseline: count lexicon hits per category; none means `other`."""

    name = "phrase-baseline"

    def __init__(self) -> None:
        self.phrases = PhraseSet(
            (category, category, words, "boost", 1.0) for category, words in BASELINE_LEXICON.items()
        )

    @property
    def nlp(self) -> Language:
        return self.phrases.nlp

    def classify(self, subject: str, text: str) -> Classification:
        return self._count(self.phrases.hits(subject, text))

    def classify_doc(self, doc: Doc) -> Classification:
        """The answer for a Doc of `model.analysis_text` (classifiers/categorize.py)."""
        return self._count(self.phrases.hits_in(doc))

    def renew_if_worn(self) -> None:
        """Nothing to renew: the baseline's tables wear as the model's do (model.renew_if_worn), but it only
        stands in for a model on an installation without one."""

    @staticmethod
    def _count(hits: list[PhraseHit]) -> Classification:
        counts = dict.fromkeys(CATEGORIES, 0.0)
        for hit in hits:
            counts[hit.category] += 1
        best = max(counts, key=counts.__getitem__)
        if counts[best] == 0:
            return Classification("other", 0.5, ("no category phrase found",), "phrases", {"other": 0.5})
        total = sum(counts.values())
        return Classification(best, counts[best] / total, (f"{int(counts[best])} {best} phrases",), "phrases",
                              {k: v / total for k, v in counts.items()})

    def classify_many(self, items: list[tuple[str, str]]) -> list[Classification]:
        return [self.classify(subject, text) for subject, text in items]
