"""Recognise automatic mail (RFC 3834 and its many informal cousins) before classification.

Automatic mail is never acknowledged: answering it is how mail loops start.
"""

from __future__ import annotations

import re

from foundation.message import ParsedMessage

LOOP_HEADER = "X-Liaison-Loop"
_BULK_PRECEDENCE = {"bulk", "list", "junk"}
_LIST_HEADERS = ("list-id", "list-unsubscribe", "list-post", "feedback-id", "x-campaign", "x-mailgun-tag")
_ROBOT_LOCALPART = re.compile(
    r"^(mailer-daemon|postmaster|no[-_.]?reply|do[-_.]?not[-_.]?reply|donotreply|bounces?|notifications?"
    r"|noreply-[\w.-]+|[\w.-]*-noreply|auto[-_.]?reply|autoresponder)(\+[^@]*)?$",
    re.IGNORECASE,
)
_OOO_SUBJECT = re.compile(
    r"^\s*(automatic reply|auto[- ]?reply|autoreply|auto:|out of (the )?office|ooo\b|abwesend|"
    r"abwesenheitsnotiz|automatische antwort|r[ée]ponse automatique|absence|respuesta autom[áa]tica|"
    r"fuera de la oficina|automatisch antwoord|afwezig)",
    re.IGNORECASE,
)
_OOO_TEXT = re.compile(
    r"\b(i am|i'm|i will be|i'll be)\s+(currently\s+)?(out of (the )?office|away from (the |my )?office|"
    r"on (annual |parental |maternity |sick )?leave|on holiday|on vacation|travell?ing with limited)"
    r"|\bthis is an automatic(ally generated)? (reply|response|message)"
    r"|\bje suis (actuellement )?absente?\b|\bich bin (derzeit |zurzeit |bis )?.{0,30}(nicht im b[üu]ro|abwesend)"
    r"|\bestoy (fuera de la oficina|de vacaciones)|\bik ben (momenteel )?(afwezig|niet op kantoor)",
    re.IGNORECASE,
)
_DSN_SUBJECT = re.compile(
    r"^\s*(undeliverable|undelivered mail|delivery status notification|mail delivery (failed|failure|system)"
    r"|returned mail|failure notice|delivery (failure|has failed)|non[- ]?remis|unzustellbar"
    r"|no se puede entregar|onbestelbaar)",
    re.IGNORECASE,
)
# An out-of-office text also says when the person is back or who to contact instead; a client who
# merely mentions a holiday in a real request does not read like that.
_OOO_RETURN = re.compile(
    r"\b(until|return(ing)?|back (on|in|at)|limited access|in my absence|urgent|contact|r[ée]ponse|retour"
    r"|zur[üu]ck|dringend|vuelta|regreso|urgente|terug|dringende)\b",
    re.IGNORECASE,
)
_CALENDAR = re.compile(r"text/calendar|application/ics", re.IGNORECASE)


def automatic_reason(message: ParsedMessage) -> str | None:
    """Why this message is automatic, or None when a person wrote it."""
    return _by_headers(message) or _by_sender(message) or _by_content(message)


def _by_headers(message: ParsedMessage) -> str | None:
    if message.header(LOOP_HEADER.lower()):
        return f"carries our own loop header {LOOP_HEADER}"
    auto = message.header("auto-submitted").strip().lower()
    if auto and not auto.startswith("no"):
        return f"Auto-Submitted: {auto}"
    precedence = message.header("precedence").strip().lower()
    if precedence in _BULK_PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in _LIST_HEADERS:
        if message.header(name):
            return f"mailing-list or bulk header {name}"
    for name in ("x-autoreply", "x-autorespond", "x-ms-exchange-inbox-rules-loop"):
        if message.header(name):
            return f"auto-responder header {name}"
    if "return-path" in message.headers and message.header("return-path").strip() in ("<>", ""):
        return "empty Return-Path (a bounce)"
    content_type = message.header("content-type").lower().replace(" ", "")
    if content_type.startswith("multipart/report"):
        # Delivery status (bounces), feedback (abuse reports) and disposition (read receipts).
        kind = content_type.split("report-type=", 1)[-1].split(";")[0].strip('"') or "report"
        return f"multipart/report ({kind})"
    return None


def _by_sender(message: ParsedMessage) -> str | None:
    local = message.from_addr.split("@", 1)[0]
    if local and _ROBOT_LOCALPART.match(local):
        return f"robot sender {message.from_addr}"
    return None


def _by_content(message: ParsedMessage) -> str | None:
    if _DSN_SUBJECT.match(message.subject):
        return "delivery failure subject"
    if _OOO_SUBJECT.match(message.subject):
        return "out-of-office subject"
    head = message.body_text[:600]
    if len(message.body_text) < 2000 and _OOO_TEXT.search(head) and _OOO_RETURN.search(head):
        return "out-of-office text"
    if any(_CALENDAR.search(a.content_type) for a in message.attachments) or _CALENDAR.search(
        message.header("content-type")
    ):
        return "calendar invitation"
    return None
