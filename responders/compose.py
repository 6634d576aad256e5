"""Compose outgoing mail: threaded acknowledgements and escalations with the original attached.

Every message we build is marked as automatic (RFC 3834) and carries our loop header, so
that auto-responders leave it alone and we recognise it if it ever comes back. Built with
the compat32 MIME classes, which are several times faster than EmailMessage; every header
value therefore goes through `_one_line`, so nothing from incoming mail can add a header.
"""

from __future__ import annotations

import contextlib
import json
import re
import uuid
from dataclasses import asdict, dataclass
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
from typing import Literal

from classifiers.automatic import LOOP_HEADER, is_robot_address
from foundation.message import SYNTHETIC_ID_SUFFIX, ParsedMessage
from foundation.subjects import SUBJECT_PREFIX

MAX_REFERENCES = 20
MAX_ATTACHED_ORIGINAL = 10 * 1024 * 1024  # staff get the headers of anything larger
MAX_ORIGINAL_HEAD = 64 * 1024  # of those, at most this much of the header section
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
    if "=?" in address:  # an encoded word: mail clients decode it into another address
        raise ValueError(f"an encoded word inside an address: {address!r}")
    local, domain = address.split("@")
    if not local or not domain:  # `""@gmail.com`, what a header naming no one sender plainly once gave
        raise ValueError(f"not a single email address: {address!r}")
    if len(local) > 64 or len(address) > 254:  # RFC 5321 4.5.3.1: servers refuse longer ones
        raise ValueError(f"address longer than SMTP allows: {address[:80]!r}...")
    Address(username=local, domain=domain)  # raises on characters a header cannot carry
    return address


def reply_subject(subject: str) -> str:
    """'Re: ' once, whatever prefixes (Re:, AW:, Fwd:) the client's subject had."""
    stripped = SUBJECT_PREFIX.sub("", subject).strip()
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
    # Text that looks like an encoded word ("=?utf-8?q?...?=", from a client's subject or address) is encoded
    # too, so that a mail client shows it as it is instead of decoding it into something else.
    plain = value.isascii() and all(len(word) <= MAX_PLAIN_WORD for word in value.split()) and "=?" not in value
    message[name] = value if plain else Header(value, "utf-8", header_name=name)  # type: ignore[assignment]


def _threadable(message_id: str) -> bool:
    return bool(message_id) and len(message_id) <= MAX_THREAD_ID and not message_id.endswith(SYNTHETIC_ID_SUFFIX)


def _text_part(text: str, subtype: str) -> MIMEText:
    return MIMEText(text, subtype, "utf-8")


@dataclass(frozen=True)
class Draft:
    """What to send, fixed when the decision is made: every header value and both bodies, checked.

    The outbox stores a draft in the decision's transaction and builds the MIME only when it sends
    (`render`): the Message-ID and Date are fixed here, so a resend is the same message. An escalation
    names the stored message it attaches (`original_row`) instead of carrying a copy of it.
    """

    shape: Literal["reply", "notice", "escalation"]
    sender: str
    to: tuple[str, ...]
    subject: str
    message_id: str
    date: str
    text: str
    html: str
    auto_submitted: str
    #: Further headers in order (In-Reply-To, References, Thread-Topic, Reply-To...), already one line each.
    extra: tuple[tuple[str, str], ...] = ()
    original_row: int | None = None

    def as_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Draft:
        values = json.loads(text)
        values["to"] = tuple(values["to"])
        values["extra"] = tuple(tuple(pair) for pair in values["extra"])
        return cls(**values)


def _draft(*, shape: Literal["reply", "notice", "escalation"], sender: str, to: list[str], subject: str,
           message_id: str, text: str, html: str, auto_submitted: str,
           extra: list[tuple[str, str]] | None = None, original_row: int | None = None) -> Draft:
    """A draft whose addresses are checked now: a bad one is refused at decision time, not at send time."""
    return Draft(shape=shape, sender=valid_address(sender), to=tuple(valid_address(a) for a in to),
                 subject=_one_line(subject), message_id=_one_line(message_id),
                 date=format_datetime(datetime.now(UTC)), text=text, html=html, auto_submitted=auto_submitted,
                 extra=tuple(extra or ()), original_row=original_row)


def render(draft: Draft, original: bytes | None = None, *, original_size: int | None = None) -> Message:
    """The MIME message of a draft. `original` is the raw message an escalation attaches, or only its first
    bytes (see `attachable`) when `original_size` says it is too large to attach whole."""
    alternative = MIMEMultipart("alternative")
    alternative.attach(_text_part(draft.text, "plain"))
    alternative.attach(_text_part(draft.html, "html"))
    message: Message = alternative
    if draft.shape == "escalation":
        message = MIMEMultipart("mixed")
        message.attach(alternative)
        original = original or b""
        message.attach(_original_part(original, len(original) if original_size is None else original_size))
    _set(message, "From", draft.sender)
    _set(message, "To", ", ".join(draft.to))
    _set(message, "Subject", draft.subject)
    message["Date"] = draft.date
    message["Message-ID"] = draft.message_id
    message["Auto-Submitted"] = draft.auto_submitted
    message["X-Auto-Response-Suppress"] = "All"
    message[LOOP_HEADER] = draft.sender
    for name, value in draft.extra:
        if name in ("Thread-Topic", "Thread-Index"):
            _set(message, name, value)
        else:
            message[name] = value
    return message


class _WireGenerator(BytesGenerator):
    """Writes an attached original (a str payload holding escaped bytes) back byte for byte."""

    # The generator's hooks are private and untyped in typeshed; this is the documented way to subclass it.
    def _handle_message(self, msg: Message) -> None:
        payload = msg._payload  # type: ignore[attr-defined]
        if isinstance(payload, str):
            self._fp.write(payload.encode("ascii", "surrogateescape"))  # type: ignore[attr-defined]
        else:
            super()._handle_message(msg)  # type: ignore[misc]


def as_bytes(message: Message) -> bytes:
    """The message as sent: CRLF line endings."""
    out = BytesIO()
    _WireGenerator(out, mangle_from_=False, policy=WIRE).flatten(message)
    flat = out.getvalue()
    verbatim = [part for part in message.walk() if isinstance(part, _VerbatimPart)]
    if not verbatim:
        return flat
    pieces = []
    for part in verbatim:
        before, flat = flat.split(part.marker, 1)
        pieces += [before, part.data]
    return b"".join([*pieces, flat])


def acknowledgement(original: ParsedMessage, *, sender: str, message_id: str, text: str, html: str) -> Draft:
    """A reply to the client, threaded under their message."""
    extra: list[tuple[str, str]] = []
    # Thread under the client's own Message-IDs only: not one Liaison made up for mail that had none, nor
    # one too long to fold into a legal line.
    own = [i for i in [*original.references, original.message_id] if _threadable(i)][-MAX_REFERENCES:]
    if _threadable(original.message_id):
        extra.append(("In-Reply-To", _one_line(original.message_id)))
    if own:
        extra.append(("References", _one_line(" ".join(dict.fromkeys(own)))))
    for name in ("Thread-Topic", "Thread-Index"):
        # Outlook threads by these; carry them over when the client sent them.
        if original.header(name.lower()):
            extra.append((name, _one_line(original.header(name.lower())[:500])))
    return _draft(shape="reply", sender=sender, to=[original.from_addr],
                  subject=reply_subject(original.subject_for_client),  # no character guessed from a charset
                  message_id=message_id, text=text, html=html, auto_submitted="auto-replied", extra=extra)


def notice(*, sender: str, to: list[str], subject: str, message_id: str, text: str, html: str) -> Draft:
    """A message of our own to staff (the daily summary): marked automatic, not a reply."""
    return _draft(shape="notice", sender=sender, to=to, subject=subject, message_id=message_id, text=text,
                  html=html, auto_submitted="auto-generated")


def escalation(original: ParsedMessage, *, original_row: int | None, sender: str, to: list[str], subject: str,
               message_id: str, text: str, html: str, suspicious: bool = False) -> Draft:
    """A note to staff, Reply-To the client, with the stored original (row `original_row`) attached at send time.
    A suspicious sender gets no Reply-To: a manager hitting Reply would answer the impostor."""
    extra = []
    with contextlib.suppress(ValueError):  # an unusable client address: staff reply by hand
        # nor to a robot's (a purchasing portal's noreply@): the answer would go nowhere
        if not suspicious and not is_robot_address(original.from_addr):
            extra.append(("Reply-To", valid_address(original.from_addr)))
    return _draft(shape="escalation", sender=sender, to=to, subject=subject, message_id=message_id, text=text,
                  html=html, auto_submitted="auto-generated", extra=extra, original_row=original_row)


def build_acknowledgement(original: ParsedMessage, *, sender: str, message_id: str, text: str, html: str) -> Message:
    return render(acknowledgement(original, sender=sender, message_id=message_id, text=text, html=html))


def build_notice(*, sender: str, to: list[str], subject: str, message_id: str, text: str, html: str) -> Message:
    return render(notice(sender=sender, to=to, subject=subject, message_id=message_id, text=text, html=html))


def build_escalation(original: ParsedMessage, raw: bytes, *, sender: str, to: list[str], subject: str,
                     message_id: str, text: str, html: str) -> Message:
    return render(escalation(original, original_row=None, sender=sender, to=to, subject=subject,
                             message_id=message_id, text=text, html=html), raw)


def attachable(raw_size: int) -> int | None:
    """How many leading bytes of an original of this size an escalation attaches (None: all of it).

    Above MAX_ATTACHED_ORIGINAL only the header section is attached, cut at 64 KB: reading a little
    more than that is enough, so a 30 MB original is never loaded to escalate it."""
    return None if raw_size <= MAX_ATTACHED_ORIGINAL else MAX_ORIGINAL_HEAD + 4


def _original_part(raw: bytes, size: int) -> Message:
    """The client's message as message/rfc822, byte for byte; only its headers when it is huge.

    message/rfc822 may only be 7bit, 8bit or binary (RFC 2046 5.2.1), and 8bit allows no line over
    998 octets and no NUL (RFC 5322 2.1.1, RFC 2045 2.8). An original that breaks those (an unfolded
    500-address Cc, an HTML body on one line) is attached base64-encoded as application/octet-stream
    named original.eml: still byte for byte, every line legal, and mail clients open it by its name.
    Re-folding it instead would change the very evidence staff are sent to read, and cannot fold a
    line that has no space in it."""
    if size <= MAX_ATTACHED_ORIGINAL:
        content_type, filename, payload = "message/rfc822", "original.eml", raw
    else:
        content_type, filename, payload = "text/rfc822-headers", "original-headers.txt", _head(raw)
    if not _fits_8bit(payload):
        part: Message = MIMEApplication(payload, "octet-stream")  # base64: lines of 76 characters
        part["Content-Disposition"] = f'attachment; filename="{filename}"'
        return part
    part = _VerbatimPart(payload)
    part["Content-Type"] = content_type
    part["Content-Disposition"] = f'attachment; filename="{filename}"'
    part["Content-Transfer-Encoding"] = "8bit"
    return part


class _VerbatimPart(Message):
    """A part whose body is given bytes, written as they are by `as_bytes` (with CRLF line endings).

    The generator holds only a short marker in their place: passing a large original through it as
    text would copy it several times over (bytes, text, each nesting level's buffer)."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        if data.count(b"\n") != data.count(b"\r\n"):  # IMAP hands over CRLF already: then no copy is made
            data = re.sub(rb"\r?\n", b"\r\n", data)
        self.data = data
        self.marker = f"liaison-verbatim-{uuid.uuid4().hex}".encode()
        self.set_payload(self.marker.decode())


def _head(raw: bytes) -> bytes:
    """The header section, at most 64 KB, without copying the (possibly huge) body."""
    ends = [i for i in (raw.find(b"\r\n\r\n", 0, MAX_ORIGINAL_HEAD + 4), raw.find(b"\n\n", 0, MAX_ORIGINAL_HEAD + 2))
            if i >= 0]
    return raw[: min([*ends, MAX_ORIGINAL_HEAD])]


def _fits_8bit(raw: bytes) -> bool:
    """Every line at most 998 octets and no NUL: legal as an 8bit message/rfc822 part. (Only the rare long
    lines are looked at one by one: splitting a large original into lines would copy all of it.)"""
    return b"\0" not in raw and all(len(m.group().rstrip(b"\r")) <= MAX_LINE
                                     for m in re.finditer(rb"[^\n]{%d,}" % (MAX_LINE + 1), raw))

