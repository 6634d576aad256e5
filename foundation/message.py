"""Parse: raw bytes -> ParsedMessage, with mail-parser.

Keeps the fields the later stages need and the headers that reveal automatic mail.
A message mail-parser cannot handle raises ParseError; the pipeline quarantines it.
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import errors
from email.header import decode_header, make_header
from email.policy import default as default_policy
from email.utils import getaddresses
from functools import cached_property
from typing import Any

import mailparser

from foundation.errors import ParseError
from foundation.html import html_to_text

# mail-parser logs every defect it meets at ERROR; those are facts about the mail, not our errors.
logging.getLogger("mailparser").setLevel(logging.CRITICAL)

#: Headers kept for recognising automatic mail and for threading replies.
KEPT_HEADERS = (
    "auto-submitted", "precedence", "list-id", "list-unsubscribe", "list-post", "return-path",
    "x-autoreply", "x-autorespond", "x-auto-response-suppress", "x-ms-exchange-inbox-rules-loop",
    "x-liaison-loop", "x-loop", "x-mailer", "sender", "content-type", "thread-index", "thread-topic",
    "feedback-id", "x-campaign", "x-mailgun-tag", "reply-to", "authentication-results",
)
MAX_TEXT = 512 * 1024  # bodies beyond this are cut: nobody writes a 512 KB request by hand
SLIM_ABOVE = 2 * 1024 * 1024  # larger messages lose their attachment payloads before mail-parser sees them
# Line starts only, possessive: linear even on hostile input. 800 lines: about 60 KB of payload.
_BASE64_RUN = re.compile(rb"^(?:[A-Za-z0-9+/=]{40,998}+\r?\n){800,}+", re.MULTILINE)
_FILENAME = re.compile(rb'(?:file)?name\*?=\s*"?([^";\r\n]+)', re.IGNORECASE)
_MSGID = re.compile(r"<[^<>\s]+>")
#: Headers holding addresses: kept as sent (unfolded), never decoded, so an encoded word cannot forge one.
ADDRESS_HEADERS = frozenset({"from", "to", "cc", "reply-to", "sender", "return-path"})
_FOLD = re.compile(r"\r?\n(?=[ \t])")
MAX_ADDRESS_HEADER = 64 * 1024  # 1,000 recipients fit; parsing stays well under a second on hostile input


#: The end of the Message-ID given to mail that came without one (a hash of its bytes): never threaded under.
SYNTHETIC_ID_SUFFIX = "@missing-id.liaison.invalid>"

@dataclass
class Attachment:
    name: str
    size: int
    content_type: str


@dataclass
class ParsedMessage:
    """What the rest of the pipeline knows about one message."""

    message_id: str
    from_addr: str
    from_name: str
    to: list[str]
    cc: list[str]
    subject: str
    date: datetime | None
    in_reply_to: str
    references: list[str]
    text: str  # the text/plain part only; empty for HTML-only mail (see body_text)
    html: str  # the raw HTML part, quotes and all: newest_text cuts its quote blocks before converting
    headers: dict[str, str]
    attachments: list[Attachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    sender_problems: list[str] = field(default_factory=list)  # a From header that names no one sender plainly

    @property
    def sender_domain(self) -> str:
        return self.from_addr.rsplit("@", 1)[-1] if "@" in self.from_addr else ""

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    @cached_property
    def body_text(self) -> str:
        """The whole body as plain text: the text part, else the HTML converted (history included)."""
        if self.text.strip() or not self.html:
            return self.text
        return html_to_text(self.html)[:MAX_TEXT]


def parse_message(raw: bytes) -> ParsedMessage:
    """Parse raw RFC 5322 bytes; raise ParseError with a reason when that is impossible."""
    if not raw or raw.isspace():  # not raw.strip(): that copies the whole message (30 MB for a video)
        raise ParseError("empty message")
    try:
        slim, sizes = _without_large_attachments(raw) if len(raw) > SLIM_ABOVE else (raw, {})
        mail = _MailParser.from_bytes(slim)
        parsed = _to_parsed(mail, raw)
        for attachment in parsed.attachments:
            attachment.size = sizes.get(attachment.name, attachment.size)
        return parsed
    except ParseError:
        raise
    except (RecursionError, MemoryError) as exc:
        raise ParseError(f"message too deeply nested or too large: {type(exc).__name__}") from None
    except Exception as exc:  # mail-parser raises many types; every one means "cannot parse this"
        raise ParseError(f"mail-parser failed: {type(exc).__name__}: {exc}"[:500]) from None


class _MailParser(mailparser.MailParser):
    """mail-parser without the two summaries (`mail`, `mail_partial`) it builds of every header and part at
    the end of each parse: nothing here reads them, and they were about a tenth of parsing."""

    def _make_mail(self, complete: bool = True) -> dict[str, Any]:
        return {}

    def _decode_body_payload(self, part: Any, charset: str, part_index: int) -> str:
        """A text part declared UTF-8 (or ASCII, or a charset nobody knows) whose bytes are not UTF-8 was
        written in Windows-1252 or Latin-1 nearly always: read as that, not as replacement characters."""
        if _claims_utf8(charset):
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                try:
                    payload.decode("utf-8")
                except UnicodeDecodeError:
                    self._defects_categories.add("CharsetDecodeDefect")
                    return payload.decode("cp1252", "replace")
        text: str = super()._decode_body_payload(part, charset, part_index)
        return text


def _claims_utf8(charset: str | None) -> bool:
    name = (charset or "utf-8").strip().lower()
    if name in ("utf-8", "utf8", "us-ascii", "ascii", "unknown-8bit", "x-unknown", "unknown"):
        return True
    try:
        codecs.lookup(name)
    except LookupError:
        return True
    return False


def _to_parsed(mail: Any, raw: bytes) -> ParsedMessage:
    message = mail.message
    if message is None or not message.keys():
        raise ParseError("no headers found: not an email message")
    from_name, from_addr = _sender(message)
    text = "\n".join(part for part in mail.text_plain if part)[:MAX_TEXT]
    html = "\n".join(part for part in mail.text_html if part)[:MAX_TEXT]
    return ParsedMessage(
        message_id=_message_id(message.get("message-id"), raw),
        from_addr=from_addr,
        from_name=from_name,
        to=_addresses(message, "to"),
        cc=_addresses(message, "cc"),
        subject=_clean(_header(message, "subject")),
        date=_date(mail),
        in_reply_to=_first_id(_header(message, "in-reply-to")),
        references=_MSGID.findall(_header(message, "references"))[-50:],
        text=text,
        html=html,
        headers={name: _raw_header(message, name) if name in ADDRESS_HEADERS else _header(message, name)
                 for name in KEPT_HEADERS if message.get(name) is not None},
        attachments=[_attachment(a) for a in mail.attachments],
        defects=sorted(mail.defects_categories),
        sender_problems=_sender_problems(message),
    )


def _without_large_attachments(raw: bytes) -> tuple[bytes, dict[str, int]]:
    """The message with long base64 payloads cut out, and their decoded sizes by file name.

    Only names and sizes of attachments matter downstream; handing mail-parser a 30 MB video
    costs several copies of it in memory for nothing. This works on the bytes (no parse, no
    line objects); the raw message is still stored whole.
    """
    sizes: dict[str, int] = {}

    def cut(match: re.Match[bytes]) -> bytes:
        names = _FILENAME.findall(raw, max(0, match.start() - 4096), match.start())
        name = _clean(names[-1].decode("utf-8", "replace")) if names else "unnamed"
        start, end = match.span()
        line_ends = raw.count(b"\n", start, end) + raw.count(b"\r", start, end)
        sizes[name] = (end - start - line_ends) * 3 // 4
        return b""

    return _BASE64_RUN.sub(cut, raw), sizes


def _header(message: Any, name: str) -> str:
    """A header as text, decoded, joined when repeated (never raises on odd encodings)."""
    return _clean(", ".join(_decoded(_FOLD.sub("", value)) for value in _values(message, name)))


def _decoded(value: str) -> str:
    """Encoded words decoded, the spaces between them and plain words kept (RFC 2047)."""
    try:
        return str(make_header(decode_header(value)))
    except Exception:  # an unknown charset, a broken encoded word, 8-bit text beside one
        pass
    try:
        return str(mailparser.utils.decode_header_part(value))  # decodes what it can, part by part
    except Exception:
        return value


#: Bidirectional overrides and isolates: invisible, they reorder what a reader sees ("gpj.exe" as "exe.jpg").
_BIDI_CONTROLS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"), " ")


def _clean(value: str, *, limit: int = 2000) -> str:
    """One line: CR, LF, NUL and direction overrides folded to spaces (so nothing can smuggle a header
    through us, nor make a subject or name read differently in the summary than it is)."""
    return " ".join(value.replace("\x00", " ").translate(_BIDI_CONTROLS).split())[:limit]


def _raw_header(message: Any, name: str, *, limit: int = 2000) -> str:
    """A header as sent, undecoded: unfolded, joined when repeated, on one line."""
    return _clean(", ".join(_FOLD.sub("", value) for value in _values(message, name)), limit=limit)


def _values(message: Any, name: str) -> list[str]:
    """Every occurrence of a header as sent, with 8-bit bytes read as UTF-8 (RFC 6532), else Windows-1252."""
    return [_eight_bit(value) for key, value in message.raw_items() if key.lower() == name]


def _eight_bit(value: Any) -> str:
    if not isinstance(value, str):
        return str(value)
    if value.isascii():
        return value
    raw = value.encode("utf-8", "surrogateescape")  # the parser kept undecodable bytes as surrogates
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", "replace")


def _mailboxes(message: Any, name: str) -> list[tuple[str, str]]:
    """(display name, address) pairs, parsed from the raw header before any decoding.

    Decoding first would let an encoded word carry a comma, an angle bracket, an "@" or a line
    break into the address grammar: "=?utf-8?q?tom=40brewco.com?= <x@evil.example>" would read
    as tom@brewco.com. Only the display name is decoded, after the address is known.
    """
    raw = _raw_header(message, name, limit=MAX_ADDRESS_HEADER + 1)
    if len(raw) > MAX_ADDRESS_HEADER:  # cut between addresses, never inside one (a name may hide the real address)
        raw = raw[: max(raw.rfind(",", 0, MAX_ADDRESS_HEADER), 0)]
    pairs = getaddresses([raw])
    return [(_decoded_name(display), normal_address(addr)) for display, addr in pairs if addr.strip()][:1000]


def ascii_domain(domain: str) -> str:
    """A domain in the one form accounts and senders are compared in: lower case, IDNA (punycode) when it
    has non-ASCII letters, so hans@müller.de is the xn--mller-kva.de an account lists, and the reverse."""
    domain = domain.strip().lower().rstrip(".")
    if domain.isascii():
        return domain
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:  # not a valid international name: kept as is, and it matches nothing
        return domain


def normal_address(address: str) -> str:
    local, at, domain = address.strip().rpartition("@")
    return f"{local.lower()}@{ascii_domain(domain)}" if at else address.strip().lower()


def _decoded_name(value: str) -> str:
    return _clean(_decoded(value)).strip("'\" ")


def _sender(message: Any) -> tuple[str, str]:
    found = _mailboxes(message, "from")
    return found[0] if found else ("", "")


_ATOM = r"[A-Za-z0-9!#$%&'*+/^_`{|}~-]+"  # RFC 5322 atext without "=" and "?" (no encoded words)
_DOT_ATOM = rf"{_ATOM}(?:\.{_ATOM})*"
_ADDR_SPEC = rf"{_DOT_ATOM}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
#: The From header of nearly all mail: one address, perhaps behind a display name of plain words or a plain
#: quoted string. Anything else (encoded words, comments, groups, 8-bit text) goes to the strict parser.
_PLAIN_FROM = re.compile(rf'(?:(?:{_ATOM}(?: {_ATOM})*|"[ !#-\[\]-~]*") ?<{_ADDR_SPEC}>|{_ADDR_SPEC})', re.ASCII)


def _sender_problems(message: Any) -> list[str]:
    """Why the From header does not name exactly one sender plainly, if it does not.

    Two From headers, a group, a second mailbox, an empty <> or a bare address before the real one in
    angle brackets: every mail client shows such a header differently, and mail providers check (SPF,
    DKIM, DMARC) an address other than the one we would take for the sender. Such mail is never answered
    or linked on trust."""
    values = _values(message, "from")
    if len(values) > 1:
        return [f"{len(values)} From headers"]
    raw = _raw_header(message, "from", limit=MAX_ADDRESS_HEADER)
    mailboxes = getaddresses([raw])
    if len(mailboxes) != 1:
        return [f"the From header names {len(mailboxes)} mailboxes"]
    if _PLAIN_FROM.fullmatch(raw):  # nothing for the strict parser to object to, and it costs a tenth of parsing
        return []
    try:
        strict = default_policy.header_factory("from", raw)
    except Exception:  # the strict parser refuses it outright (a CR or LF inside an encoded address part...)
        return ["malformed From header"]
    if any(isinstance(defect, errors.InvalidHeaderDefect) for defect in strict.defects):
        return ["malformed From header"]
    return []


def _addresses(message: Any, name: str) -> list[str]:
    return [addr for _, addr in _mailboxes(message, name) if "@" in addr]


def _message_id(value: Any, raw: bytes) -> str:
    found = _MSGID.search(str(value or ""))
    if found:
        return found.group(0)
    # No usable Message-ID: derive a stable one so dedupe and threading still work.
    return f"<{hashlib.sha256(raw).hexdigest()[:32]}{SYNTHETIC_ID_SUFFIX}"


def _first_id(value: str) -> str:
    found = _MSGID.search(value)
    return found.group(0) if found else ""


def _date(mail: Any) -> datetime | None:
    try:
        value = mail.date
    except Exception:
        return None
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _attachment(item: dict[str, Any]) -> Attachment:
    payload = item.get("payload") or ""
    size = len(payload) * 3 // 4 if item.get("binary") else len(payload.encode("utf-8", "replace"))
    return Attachment(
        name=_clean(str(item.get("filename") or "unnamed")),
        size=size,
        content_type=str(item.get("mail_content_type") or "application/octet-stream"),
    )
