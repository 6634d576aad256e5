"""Subjects as conversations read them: the prefixes mail clients add on reply and forward."""

from __future__ import annotations

import re

#: "Re:", "AW:", "Fwd:", "SV: RE[2]:" ... as mail clients in the trained languages and their neighbours prefix them.
SUBJECT_PREFIX = re.compile(r"^\s*((re|aw|sv|vs|antw|rif|réf|ref|odp|ynt|fwd?|tr|wg|rv|enc)\s*(\[\d+\])?\s*:\s*)+",
                            re.IGNORECASE)
_REPLY_WORD = re.compile(r"^\s*(re|aw|sv|vs|antw|rif|réf|ref|odp|ynt)\s*(\[\d+\])?\s*:", re.IGNORECASE)


def base_subject(subject: str) -> str:
    """The subject without its reply and forward prefixes, spaces and case: what a conversation keeps."""
    return " ".join(SUBJECT_PREFIX.sub("", subject).split()).casefold()


def is_reply_subject(subject: str) -> bool:
    """The subject says the message replies to one ("Re:", "AW:", "SV:"...; not a forward)."""
    return bool(_REPLY_WORD.match(subject))
