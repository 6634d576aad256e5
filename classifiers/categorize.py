"""Classify: the model's answer, then the phrase rules of rules.yaml, then the review threshold; and the entities.

One spaCy Doc per message serves the model, the phrase rules and the entity matcher (`Categorizer.analyse`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Protocol, runtime_checkable

from spacy.language import Language
from spacy.tokens import Doc

from classifiers import Classification, Classifier
from classifiers.automatic import automatic_kind
from classifiers.courtesy import only_courtesy
from classifiers.entities import TEXT_LIMIT as ENTITY_TEXT_LIMIT
from classifiers.entities import entities_in, extract
from classifiers.model import TextcatClassifier, analysis_text
from classifiers.phrases import KeywordClassifier, PhraseHit, PhraseRules
from classifiers.tiers import REQUESTS, Tier, choose_tier
from classifiers.tokens import prefix_doc
from foundation.rules import Rules
from foundation.subjects import is_reply_subject

log = logging.getLogger("liaison.classify")
#: What a text of thanks, praise or approval alone is read as, before the model (classifiers/courtesy.py).
# How sure a reply's words alone must be of `other` to be read without the thread's subject, chosen on the held-out
# split with the shipped model: 0.7 turned 5 of its texts right and none wrong (0.8: 3 right; 0.6: 6 right and 2
# requests after praise wrong); of the eleven blind sets older than set M it changes one text, for the better
OTHER_ALONE_AT_LEAST = 0.7
COURTESY = Classification("other", 1.0, ("courtesy only: thanks, praise or approval, nothing asked",), "courtesy")
_shared_model: Classifier | None = None


def default_classifier() -> Classifier:
    """The shipped spaCy model (loaded once per process), or the phrase baseline without one."""
    global _shared_model
    if _shared_model is None:
        if TextcatClassifier.available():
            _shared_model = TextcatClassifier()
        else:
            log.warning("no trained model shipped (run `liaison train`); using the phrase-rule baseline")
            _shared_model = KeywordClassifier()
    return _shared_model


@dataclass(frozen=True)
class Verdict:
    classification: Classification
    needs_review: bool
    tier: Tier = Tier("none", "not judged")
    #: A program's notice (automatic: notice) is no client's request, whatever its words: `other`. What its words
    #: read as, when surely a request, is kept here for the rules ("invoice INV-88 REJECTED" is for finance).
    notice_about: str | None = None


@dataclass(frozen=True)
class Analysis:
    """Everything read from one message's words: the verdict, the entities, the phrase rules that matched."""

    verdict: Verdict
    entities: dict[str, list[Any]] = field(default_factory=dict)
    phrase_hits: tuple[PhraseHit, ...] = ()


def staff_verdict(verdict: Verdict) -> Verdict:
    """Our own colleagues' mail is no client request, whatever its words (a month-end invoice list, a client's
    dispute passed on to finance): `other`, never acknowledged, with what the words read as kept in the
    reasons. Only mail really from the agency is staff's (parse: an agency address, not forged)."""
    read = verdict.classification
    reason = f"staff mail: not a client request (its words read as {read.category} {read.confidence:.2f})"
    return Verdict(Classification("other", 1.0, (reason,), "staff"), False, Tier("none", "staff mail"))


@runtime_checkable
class DocClassifier(Classifier, Protocol):
    """A classifier that can read the message's one Doc (made by its own tokenizer) instead of its text."""

    @property
    def nlp(self) -> Language: ...

    def classify_doc(self, doc: Doc) -> Classification: ...

    def renew_if_worn(self) -> None: ...


class Categorizer:
    """One classifier plus the user's phrase rules and confidence threshold."""

    def __init__(self, rules: Rules, base: Classifier | None = None) -> None:
        self.base = base or default_classifier()
        self.phrase_rules = PhraseRules(rules.spec.phrases)
        self.review_below = rules.spec.classifier.review_below
        self.tiers = rules.spec.classifier.acknowledge

    def analyse(self, subject: str, text: str, *, automatic: str | None = None,
                today: date | None = None) -> Analysis:
        """Classify (model, then phrase rules, then the review threshold) and find the entities, from one
        tokenisation of the message. Automatic mail is not read (`other`, no entities), but for a program's notice
        (a client's purchasing portal: "invoice INV-88 REJECTED"), which is read and never acknowledged."""
        if automatic and automatic_kind(automatic) != "notice":
            return Analysis(Verdict(Classification("other", 1.0, (f"automatic mail: {automatic}",), "automatic"),
                                    False, Tier("none", f"automatic mail: {automatic}")))
        analysis = self._read(subject, text, today=today)
        if automatic:  # a notice: `other` as all automatic mail, its words' reading kept for the rules
            read = analysis.verdict.classification
            about = read.category if read.category in REQUESTS and not analysis.verdict.needs_review else None
            reasons = (f"automatic mail: {automatic}", f"its words read as {read.category} {read.confidence:.2f}")
            return replace(analysis, verdict=Verdict(Classification("other", 1.0, reasons, "automatic"), False,
                                                     Tier("none", f"automatic mail: {automatic}"), about))
        return analysis

    def _read(self, subject: str, text: str, *, today: date | None) -> Analysis:
        if only_courtesy(text):
            # Nor is the subject read: it is the thread's ("Re: Any news on the video?" over "Brilliant, thanks"),
            # which the model and the phrase rules would otherwise answer
            # (its entities from its own words: an approval is what the sign-off rule tells the manager of)
            return self._analysis(COURTESY, self.phrase_rules.phrases.hits("", text), extract("", text, today=today),
                                  text)
        analysis = self._read_with_subject(subject, text, today=today)
        # only a reply read as a request is read again (a second model call for every reply halved the speed)
        if (analysis.verdict.classification.category in REQUESTS and is_reply_subject(subject)
                and (alone := self._other_alone(text)) is not None):
            return self._analysis(alone, self.phrase_rules.phrases.hits("", text), extract("", text, today=today),
                                  text)
        return analysis

    def _read_with_subject(self, subject: str, text: str, *, today: date | None) -> Analysis:
        source = f"{subject}\n{text}"
        lowered = analysis_text(subject, text)
        if not isinstance(self.base, DocClassifier) or len(lowered) != len(source):
            # Lower-casing changed the length (a dotted İ): offsets into the Doc would not fit the text as
            # written, so this message is read as before, one Doc per reader. So is any other classifier.
            hits = self.phrase_rules.phrases.hits(subject, text)
            return self._analysis(self.base.classify(subject, text), hits, extract(subject, text, today=today),
                                  text)
        nlp = self.base.nlp
        with nlp.memory_zone():  # this message's new words are forgotten afterwards (see model.keep_vocabulary)
            doc = nlp.make_doc(lowered)
            hits = self.phrase_rules.phrases.hits_in(doc, source=source)
            entity_doc = prefix_doc(doc, nlp.tokenizer, limit=len(subject) + 1 + ENTITY_TEXT_LIMIT)
            analysis = self._analysis(self.base.classify_doc(doc), hits,
                                      entities_in(entity_doc, source=source, today=today), text)
        self.base.renew_if_worn()
        return analysis

    def _other_alone(self, text: str) -> Classification | None:
        """A reply's own words, read without the thread's subject, when they are surely not a request.

        The model reads the subject with the text, and with a short reply the subject decides: "Re: Any news on
        the video?" over "Legend, thanks heaps! Going to watch it properly tonight" was a progress query 0.97, in
        words the courtesy lexicon cannot all know. Only a sure `other` is taken from the words alone: a reply
        that reads as a request alone is read with its subject as before, which names what it asks about."""
        if not text.strip():  # nothing of its own: the subject is all it says
            return None
        alone = self.base.classify("", text)
        if alone.category != "other" or alone.confidence < OTHER_ALONE_AT_LEAST:
            return None
        return replace(alone, reasons=(*alone.reasons, "a reply read without the thread's subject"))

    def judge(self, subject: str, text: str, *, automatic: str | None = None) -> Verdict:
        return self.analyse(subject, text, automatic=automatic).verdict

    def _analysis(self, base: Classification, hits: list[PhraseHit], entities: dict[str, list[Any]],
                  text: str) -> Analysis:
        result = self.phrase_rules.combine(hits, base)
        return Analysis(Verdict(result, result.confidence < self.review_below, self.tier_of(result, text=text)),
                        entities,
                        tuple(hits))

    def tier_of(self, classification: Classification, *, text: str = "") -> Tier:
        """How much an acknowledgement of this message (its newest ``text``) may say (classifiers/tiers.py)."""
        return choose_tier(classification, specific_at_least=self.tiers.specific_at_least,
                           neutral_at_least=self.tiers.neutral_at_least, text=text)
