"""Compose outgoing mail: threaded acknowledgements and escalations with the original attached.

Every message we build is marked as automatic (RFC 3834) and carries our loop header, so
that auto-responders leave it alone and we recognise it if it ever comes back.
"""

from __future__ import annotations

import contextlib
import email
import re
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

from classifiers.automatic import LOOP_HEADER
from inbox.parse import ParsedMessage

_REPLY_PREFIX = re.compile(r"^\s*((re|aw|sv|vs|antw|rif|réf|ref|fwd?|tr|wg)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
MAX_REFERENCES = 20
MAX_ATTACHED_ORIGINAL = 10 * 1024 * 1024  # staff get the headers of anything larger


def new_message_id(address: str) -> str:
    """A fresh Message-ID on our own domain."""
    return make_msgid(idstring="liaison", domain=address.rsplit("@", 1)[1])


def valid_address(address: str) -> str:
    """The address, checked: raise ValueError for anything that is not one plain address."""
    if not address or any(c in address for c in "\r\n,;<>\"") or address.count("@") != 1:
        raise ValueError(f"not a single email address: {address!r}")
    local, domain = address.split("@")
    Address(username=local, domain=domain)  # raises on characters a header cannot carry
    return address


def reply_subject(subject: str) -> str:
    """'Re: ' once, whatever prefixes (Re:, AW:, Fwd:) the client's subject had."""
    stripped = _REPLY_PREFIX.sub("", subject).strip()
    return f"Re: {stripped}" if stripped else "Re: your message"


def _base(*, sender: str, to: list[str], subject: str, message_id: str, text: str, html: str,
          auto_submitted: str = "auto-replied") -> EmailMessage:
    message = EmailMessage(policy=SMTP)
    message["From"] = valid_address(sender)
    message["To"] = ", ".join(valid_address(a) for a in to)
    message["Subject"] = " ".join(subject.split())  # no CR/LF can survive into a header
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = auto_submitted
    message["X-Auto-Response-Suppress"] = "All"
    message[LOOP_HEADER] = sender
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def build_acknowledgement(
    original: ParsedMessage, *, sender: str, message_id: str, text: str, html: str
) -> EmailMessage:
    """A reply to the client, threaded under their message."""
    message = _base(sender=sender, to=[original.from_addr], subject=reply_subject(original.subject),
                    message_id=message_id, text=text, html=html)
    message["In-Reply-To"] = original.message_id
    references = [*original.references, original.message_id][-MAX_REFERENCES:]
    message["References"] = " ".join(dict.fromkeys(references))
    for name in ("thread-topic", "thread-index"):
        # Outlook threads by these; carry them over when the client sent them.
        if original.header(name):
            message[name.title()] = " ".join(original.header(name).split())[:500]
    return message


def build_escalation(
    original: ParsedMessage,
    raw: bytes,
    *,
    sender: str,
    to: list[str],
    subject: str,
    message_id: str,
    text: str,
    html: str,
) -> EmailMessage:
    """A note to staff, Reply-To the client, with the original attached as message/rfc822."""
    message = _base(sender=sender, to=to, subject=subject, message_id=message_id, text=text, html=html,
                    auto_submitted="auto-generated")
    if original.from_addr:
        with contextlib.suppress(ValueError):  # an unusable client address: staff reply by hand
            message["Reply-To"] = valid_address(original.from_addr)
    _attach_original(message, raw)
    return message


def _attach_original(message: EmailMessage, raw: bytes) -> None:
    """Attach the client's message as message/rfc822; headers only when it is huge or unparseable."""
    if len(raw) <= MAX_ATTACHED_ORIGINAL:
        try:
            inner = email.message_from_bytes(raw, policy=SMTP)
            inner.as_bytes()  # fails now, not halfway through the SMTP transaction
        except Exception:
            inner = None
        if inner is not None:
            message.add_attachment(inner, filename="original.eml")
            return
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0][:64 * 1024]
    message.add_attachment(head, maintype="text", subtype="rfc822-headers", filename="original-headers.txt")
