"""Compose outgoing mail: threaded acknowledgements and escalations with the original attached.

Every message we build is marked as automatic (RFC 3834) and carries our loop header, so
that auto-responders leave it alone and we recognise it if it ever comes back. Built with
the compat32 MIME classes, which are several times faster than EmailMessage; every header
value therefore goes through `_one_line`, so nothing from incoming mail can add a header.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from datetime import UTC, datetime
from email.generator import BytesGenerator
from email.header import Header
from email.headerregistry import Address
from email.message import Message
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime
from io import BytesIO

from classifiers.automatic import LOOP_HEADER
from foundation.message import SYNTHETIC_ID_SUFFIX, ParsedMessage

_REPLY_PREFIX = re.compile(r"^\s*((re|aw|sv|vs|antw|rif|réf|ref|fwd?|tr|wg)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
MAX_REFERENCES = 20
MAX_ATTACHED_ORIGINAL = 10 * 1024 * 1024  # staff get the headers of anything larger
MAX_LINE = 998  # octets per line, without CRLF (RFC 5322 2.1.1); SMTP servers refuse longer ones
WIRE = compat32.clone(linesep="\r\n")


def new_message_id(address: str) -> str:
    """A fresh Message-ID on our own domain: 122 random bits, since the outbox requires it unique
    (email.utils.make_msgid draws only 1 in 100,000 per hundredth of a second and process)."""
    return f"<{uuid.uuid4().hex}.liaison@{address.rsplit('@', 1)[1]}>"


#: Longer unbroken words in a header are encoded (see _set); 75 leaves room for the field name on a 78-octet line.
MAX_PLAIN_WORD = 75
#: A Message-ID this long is not a real mail client's, and would not fold into a legal line.
MAX_THREAD_ID = 250


def valid_address(address: str) -> str:
    """The address, checked: raise ValueError for anything that is not one plain address."""
    if not address or any(c in address for c in "\r\n,;<>\" \t") or address.count("@") != 1:
        raise ValueError(f"not a single email address: {address!r}")
    local, domain = address.split("@")
    if len(local) > 64 or len(address) > 254:  # RFC 5321 4.5.3.1: servers refuse longer ones
        raise ValueError(f"address longer than SMTP allows: {address[:80]!r}...")
    Address(username=local, domain=domain)  # raises on characters a header cannot carry
    return address


def reply_subject(subject: str) -> str:
    """'Re: ' once, whatever prefixes (Re:, AW:, Fwd:) the client's subject had."""
    stripped = _REPLY_PREFIX.sub("", subject).strip()
    return f"Re: {stripped}" if stripped else "Re: your message"


def _one_line(value: str) -> str:
    """CR, LF and other controls folded to spaces: a value can never start a new header."""
    return " ".join("".join(c if c.isprintable() else " " for c in value).split())


def _set(message: Message, name: str, value: str) -> None:
    value = _one_line(value)
    # A Header that knows its field name is folded by the generator after "Name: " at the wire's line
    # length; a pre-encoded string would start with a fold ("Subject: \r\n =?utf-8?...") and read back
    # with a leading space. Plain ASCII folds only at spaces: a word too long for a line (a pasted URL)
    # is encoded too, since encoded words may be split anywhere and SMTP refuses lines over 998 octets.
    plain = value.isascii() and all(len(word) <= MAX_PLAIN_WORD for word in value.split())
    message[name] = value if plain else Header(value, "utf-8", header_name=name)


def _threadable(message_id: str) -> bool:
    return bool(message_id) and len(message_id) <= MAX_THREAD_ID and not message_id.endswith(SYNTHETIC_ID_SUFFIX)


def _text_part(text: str, subtype: str) -> MIMEText:
    return MIMEText(text, subtype, "utf-8")


def _base(*, sender: str, to: list[str], subject: str, message_id: str, text: str, html: str,
          auto_submitted: str) -> Message:
    alternative = MIMEMultipart("alternative")
    alternative.attach(_text_part(text, "plain"))
    alternative.attach(_text_part(html, "html"))
    return _headers(alternative, sender=sender, to=to, subject=subject, message_id=message_id,
                    auto_submitted=auto_submitted)


def _headers(message: Message, *, sender: str, to: list[str], subject: str, message_id: str,
             auto_submitted: str) -> Message:
    _set(message, "From", valid_address(sender))
    _set(message, "To", ", ".join(valid_address(a) for a in to))
    _set(message, "Subject", subject)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = _one_line(message_id)
    message["Auto-Submitted"] = auto_submitted
    message["X-Auto-Response-Suppress"] = "All"
    message[LOOP_HEADER] = valid_address(sender)
    return message


class _WireGenerator(BytesGenerator):
    """Writes an attached original (a str payload holding escaped bytes) back byte for byte."""

    def _handle_message(self, msg: Message) -> None:
        if isinstance(msg._payload, str):
            self._fp.write(msg._payload.encode("ascii", "surrogateescape"))
        else:
            super()._handle_message(msg)


def as_bytes(message: Message) -> bytes:
    """The message as sent: CRLF line endings."""
    out = BytesIO()
    _WireGenerator(out, mangle_from_=False, policy=WIRE).flatten(message)
    return out.getvalue()


def build_acknowledgement(original: ParsedMessage, *, sender: str, message_id: str, text: str, html: str) -> Message:
    """A reply to the client, threaded under their message."""
    message = _base(sender=sender, to=[original.from_addr], subject=reply_subject(original.subject),
                    message_id=message_id, text=text, html=html, auto_submitted="auto-replied")
    # Thread under the client's own Message-IDs only: not one Liaison made up for mail that had none, nor
    # one too long to fold into a legal line.
    own = [i for i in [*original.references, original.message_id] if _threadable(i)][-MAX_REFERENCES:]
    if _threadable(original.message_id):
        message["In-Reply-To"] = _one_line(original.message_id)
    if own:
        message["References"] = _one_line(" ".join(dict.fromkeys(own)))
    for name in ("Thread-Topic", "Thread-Index"):
        # Outlook threads by these; carry them over when the client sent them.
        if original.header(name.lower()):
            _set(message, name, original.header(name.lower())[:500])
    return message


def build_notice(*, sender: str, to: list[str], subject: str, message_id: str, text: str, html: str) -> Message:
    """A message of our own to staff (the daily summary): marked automatic, not a reply."""
    return _base(sender=sender, to=to, subject=subject, message_id=message_id, text=text, html=html,
                 auto_submitted="auto-generated")


def build_escalation(original: ParsedMessage, raw: bytes, *, sender: str, to: list[str], subject: str,
                     message_id: str, text: str, html: str) -> Message:
    """A note to staff, Reply-To the client, with the original attached as message/rfc822."""
    mixed = MIMEMultipart("mixed")
    alternative = MIMEMultipart("alternative")
    alternative.attach(_text_part(text, "plain"))
    alternative.attach(_text_part(html, "html"))
    mixed.attach(alternative)
    mixed.attach(_original_part(raw))
    _headers(mixed, sender=sender, to=to, subject=subject, message_id=message_id, auto_submitted="auto-generated")
    with contextlib.suppress(ValueError):  # an unusable client address: staff reply by hand
        mixed["Reply-To"] = valid_address(original.from_addr)
    return mixed


def _original_part(raw: bytes) -> Message:
    """The client's message as message/rfc822, byte for byte; only its headers when it is huge.

    message/rfc822 may only be 7bit, 8bit or binary (RFC 2046 5.2.1), and 8bit allows no line over
    998 octets and no NUL (RFC 5322 2.1.1, RFC 2045 2.8). An original that breaks those (an unfolded
    500-address Cc, an HTML body on one line) is attached base64-encoded as application/octet-stream
    named original.eml: still byte for byte, every line legal, and mail clients open it by its name.
    Re-folding it instead would change the very evidence staff are sent to read, and cannot fold a
    line that has no space in it."""
    if len(raw) <= MAX_ATTACHED_ORIGINAL:
        content_type, filename, payload = "message/rfc822", "original.eml", raw
    else:
        content_type, filename = "text/rfc822-headers", "original-headers.txt"
        payload = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0][: 64 * 1024]
    if not _fits_8bit(payload):
        part: Message = MIMEApplication(payload, "octet-stream")  # base64: lines of 76 characters
        part["Content-Disposition"] = f'attachment; filename="{filename}"'
        return part
    part = Message()
    part["Content-Type"] = content_type
    part["Content-Disposition"] = f'attachment; filename="{filename}"'
    part["Content-Transfer-Encoding"] = "8bit"
    # A string payload is written as it is; surrogateescape gives back the exact original bytes.
    part.set_payload(payload.replace(b"\r\n", b"\n").decode("ascii", "surrogateescape").replace("\n", "\r\n"))
    return part


def _fits_8bit(raw: bytes) -> bool:
    """Every line at most 998 octets and no NUL: legal as an 8bit message/rfc822 part."""
    return b"\0" not in raw and all(len(line.rstrip(b"\r")) <= MAX_LINE for line in raw.split(b"\n"))

