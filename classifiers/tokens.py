"""The one tokeniser every reader of a message shares, and one tokenisation read several ways: the Doc of a
text's first characters, taken from the Doc of all of it."""

from __future__ import annotations

from collections.abc import Callable

import spacy
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import compile_infix_regex

# Scripts written without spaces between words: Thai, Japanese kana, CJK ideographs, Hangul syllables. spaCy's
# multi-language tokeniser splits on spaces and punctuation, so "你好，上个月的发票金额不对" was two tokens and
# the model read nothing of it; one token per character gives it characters and (as bigrams) pairs of them.
UNSPACED_SCRIPTS = "\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"


def blank_nlp() -> Language:
    """spaCy's blank multi-language pipeline (nothing downloaded), each character of an unspaced script a token.

    The model, the phrase rules and the entity matcher all tokenise with it, so a phrase matches the Doc the
    model read; the model saves its tokeniser, so a model trained before this rule keeps its own."""
    nlp = spacy.blank("xx")
    infixes = [*nlp.Defaults.infixes, f"[{UNSPACED_SCRIPTS}]"]  # type: ignore[misc]
    nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer  # type: ignore[union-attr]
    return nlp


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
