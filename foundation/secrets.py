"""Secrets out of everything people read: log lines, error messages, command output.

A secret is replaced by *** wherever it stands on its own, in every form a line can carry it: as typed, as a
Python repr writes it (quotes and backslashes escaped), inside a JSON string, URL-encoded, and as the base64 of
HTTP Basic authentication. Inside a longer word it is left: "Aanpassingen" is not the password "pass", and
"Aan***ingen" would tell every reader what the password is.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

#: Shorter values are not secrets worth the name, and would mask half of every line.
SHORTEST = 3
#: A key whose name says it holds one: its value is never quoted back (a password written into rules.yaml).
SECRET_WORDS = re.compile(r"(^|[_.-])(pass(word|wd|wort|phrase)?|pwd|pw|kennwort|mot[_-]?de[_-]?passe|contrase[ñn]a"
                          r"|wachtwoord|secret|token|api[_-]?key|credentials?)($|[_.-])", re.IGNORECASE)
_kept_out: list[str] = []


def keep_out(secrets: Iterable[str]) -> None:
    """Make these secrets known to what writes text people read besides the log (the store's events, which the
    daily summary and `status` show): set once per command, from the environment."""
    global _kept_out
    _kept_out = all_forms(secrets)


def scrubbed(text: str) -> str:
    """`text` with every secret `keep_out` was given replaced by ***."""
    return scrub(text, _kept_out) if _kept_out else text


def written_forms(secret: str) -> set[str]:
    """Every way a line can carry `secret`: as it is, inside a Python repr (single quotes with \\' escaped, or
    double quotes), each of those inside a JSON string (\\u escapes too), URL-encoded (also twice, also in lower
    case hex), and in base64."""
    single = repr(secret + "'\"")[1:-4]  # with both quotes in it, repr uses '...' and escapes '
    double = repr(secret + "'")[1:-2] if '"' not in secret else secret  # ' is never escaped in "..."
    python = {secret, single, double, repr(secret)[1:-1]}
    escaped = {json.dumps(form, ensure_ascii=ascii_only)[1:-1] for form in python for ascii_only in (False, True)}
    urls = {quote_plus(secret), quote(secret, safe="")}
    urls |= {quote(form, safe="") for form in urls}  # encoded twice
    urls |= {re.sub(r"%[0-9A-F]{2}", lambda hexa: hexa.group(0).lower(), form) for form in urls}  # lower-case hex
    return python | escaped | urls | encoded_forms(secret.encode())


def encoded_forms(raw: bytes) -> set[str]:
    """base64 and base64url of `raw`, with and without padding (an AUTH PLAIN blob, a token echoed encoded)."""
    forms = {base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()}
    return forms | {form.rstrip("=") for form in forms}


def basic_auth_forms(user: str, secret: str) -> set[str]:
    """The base64 an HTTP Basic header carries for user:secret (plain and form-encoded, as OAuth clients send)."""
    pairs = {f"{user}:{secret}", f"{quote_plus(user)}:{quote_plus(secret)}"}
    return {base64.b64encode(pair.encode(codec)).decode() for pair in pairs for codec in ("utf-8", "latin-1")
            if _encodes(pair, codec)}


def all_forms(secrets: Iterable[str]) -> list[str]:
    """Every written form of every secret long enough to be one, longest first (so none is half replaced)."""
    forms = {form for secret in secrets if secret and len(secret) >= SHORTEST for form in written_forms(secret)}
    return sorted((form for form in forms if len(form) >= SHORTEST), key=len, reverse=True)


def scrub(text: str, forms: Iterable[str]) -> str:
    """`text` with each of `forms` (from all_forms) replaced by *** wherever it stands on its own."""
    for form in forms:
        text = _scrubbed(text, form)
    return text


def _scrubbed(line: str, secret: str) -> str:
    """A letter just after a backslash ends an escape ("\\n"), not a word."""
    out, start = [], 0
    for found in re.finditer(re.escape(secret), line):
        begin, end = found.span()
        before = line[begin - 1] if begin else ""
        escaped = begin >= 2 and line[begin - 2] == "\\"
        inside = (before.isalnum() and not escaped) or line[end:end + 1].isalnum()
        if not inside:
            out += [line[start:begin], "***"]
            start = end
    return "".join([*out, line[start:]])


def _encodes(text: str, codec: str) -> bool:
    try:
        text.encode(codec)
    except UnicodeEncodeError:
        return False
    return True
