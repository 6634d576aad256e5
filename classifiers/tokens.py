"""The one tokeniser every reader of a message shares, and one tokenisation read several ways: the Doc of a
text's first characters, taken from the Doc of all of it."""

from __future__ import annotations

from collections.abc import Callable

import spacy
from spacy.language import Language
from spacy.tokens import Doc


def blank_nlp() -> Language:
    """spaCy's blank multi-language pipeline (nothing downloaded): the one tokeniser of the model, the phrase rules
    and the entity matcher, so a phrase or an entity is found in the Doc the model read.

    Scripts written without spaces (Chinese, Japanese, Thai) come out as one token per clause, so the model reads
    little of them. One token per character was tried with a full retraining (eleventh session): no better on the
    blind set written in those scripts, with too few training examples in them (BENCHMARKS.md); it may pay once
    the corpus holds more."""
    return spacy.blank("xx")


def prefix_doc(doc: Doc, tokenizer: Callable[[str], Doc], *, limit: int) -> Doc:
    """The Doc `tokenizer(doc.text[:limit])` would give, its tokens mostly taken from `doc`.

    spaCy tokenises each whitespace-separated chunk on its own, so every token before the last chunk the
    limit leaves is as in `doc`; only that chunk (a word, perhaps cut, and what follows it) is tokenised
    again. The model reads 4,000 characters, the entity matcher 20,000, the phrase rules all."""
    if text_length(doc) <= limit:
        return doc
    prefix = doc.text[:limit]
    start = len(prefix.rstrip())
    while start and not prefix[start - 1].isspace():  # back to the start of the last word
        start -= 1
    kept = [t for t in doc if t.idx < start]
    tokens = kept + list(tokenizer(prefix[start:]))
    return Doc(doc.vocab, words=[t.text for t in tokens], spaces=[bool(t.whitespace_) for t in tokens])


def text_length(doc: Doc) -> int:
    """len(doc.text), without building the text (Doc.text makes a Token object for every token)."""
    return doc[-1].idx + len(doc[-1].text_with_ws) if len(doc) else 0
