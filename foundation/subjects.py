"""Subjects as conversations read them: the prefixes mail clients add on reply and forward."""

from __future__ import annotations

import re
import unicodedata

# What mail clients put before a subject on reply, in the languages clients write in ("Re:", "AW:", "SV:",
# "Odp:", "ΑΠ:", "Отв:", "回复:", "답장:", "رد:"...), and on forward ("Fwd:", "WG:", "TR:", "RV:", "PD:"...).
_REPLY = (r"re|res|r|aw|sv|antw|rif|réf|ref|odp|ynt|odg|vá|ats|atb|απ|σχετ|отв|ответ|відп|відповідь|תגובה|رد"
          r"|답장|회신|回复|回覆|答复")
_FORWARD = r"fwd?|tr|wg|rv|enc|pd|vb|vl|doorst|i|πρθ|προωθ|пересл|переслать|转发|轉寄|전달|ilt|İlt|továbbítás"
# "VS:" is a reply in Finnish Outlook (vastaus) and a forward in Norwegian and Danish Outlook (videresend).
_EITHER = r"vs"
# A gateway's or a list's tag before or between them: "[EXTERNAL]", "[Ext]", "[SPAM?]" (a job code has digits).
_TAG = r"\[[^\]\d]{1,30}\]|\(ext(?:ernal)?\)"
_NUMBER = r"(?:\[\d+\]|\(\d+\))?"
SUBJECT_PREFIX = re.compile(
    rf"^\s*(?:(?:{_TAG})\s*|(?:{_REPLY}|{_FORWARD}|{_EITHER})\s*{_NUMBER}\s*[:：]\s*)+", re.IGNORECASE)
_FIRST_PREFIX = re.compile(
    rf"^\s*(?:(?:{_TAG})\s*)*(?:(?P<reply>{_REPLY})|(?P<forward>{_FORWARD})|(?P<either>{_EITHER}))\s*{_NUMBER}\s*[:：]",
    re.IGNORECASE)


def base_subject(subject: str) -> str:
    """The subject without its reply and forward prefixes and gateway tags, spaces, case and Unicode form
    (an "ü" written as "u" + a combining mark is the same): what a conversation keeps."""
    return " ".join(SUBJECT_PREFIX.sub("", unicodedata.normalize("NFC", subject)).split()).casefold()


def subject_kind(subject: str) -> str:
    """What the subject's first prefix says the message is: "reply" ("Re:", "AW:", "ΑΠ:", "[EXTERNAL] Re:"...),
    "forward" ("Fwd:", "WG:", "ENC:"...), "either" ("VS:", a reply in Finnish, a forward in Norwegian and
    Danish) or "" (no prefix)."""
    found = _FIRST_PREFIX.match(unicodedata.normalize("NFC", subject))
    return found.lastgroup or "" if found else ""


def is_reply_subject(subject: str) -> bool:
    """The subject says the message replies to one ("Re:", "AW:", "ΑΠ:", "[EXTERNAL] Re:"... or "VS:")."""
    return subject_kind(subject) in ("reply", "either")


def is_forward_subject(subject: str) -> bool:
    """The subject says the message forwards one ("Fwd:", "FW:", "WG:", "ENC:", "[EXTERNAL] TR:"...)."""
    return subject_kind(subject) == "forward"
