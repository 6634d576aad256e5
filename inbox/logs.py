"""Logging for a service: plain lines or JSON, and secrets scrubbed from every record."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        decision = getattr(record, "decision", None)
        if decision:
            entry["decision"] = decision
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class SecretScrubber(logging.Formatter):
    """Formats with `inner`, then replaces every known secret with *** in the finished line: the
    message, its arguments, a decision's fields, a traceback, whatever carried it there."""

    def __init__(self, inner: logging.Formatter, secrets: Iterable[str]) -> None:
        super().__init__()
        self.inner = inner
        values = [s for s in secrets if s and len(s) >= 3]
        forms = {form for s in values for form in written_forms(s)}
        self.secrets = sorted(forms, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        line = self.inner.format(record)
        for secret in self.secrets:
            line = _scrubbed(line, secret)
        return line


def written_forms(secret: str) -> set[str]:
    """Every way a log line can carry `secret`: as it is, inside a Python repr (a subject logged with %r, in
    single quotes with \\' escaped, or in double quotes), and each of those inside a JSON string."""
    single = repr(secret + "'\"")[1:-4]  # with both quotes in it, repr uses '...' and escapes '
    double = repr(secret + "'")[1:-2] if '"' not in secret else secret  # '...' never escaped in "..."
    python = {secret, single, double, repr(secret)[1:-1]}
    return python | {json.dumps(form, ensure_ascii=False)[1:-1] for form in python}


def _scrubbed(line: str, secret: str) -> str:
    """`line` with `secret` replaced by *** wherever it stands on its own. Inside a longer word it is left:
    "Aanpassingen" is not the password "pass", and "Aan***ingen" would tell every reader of the log what the
    password is. A letter just after a backslash ends a JSON escape ("\\n"), not a word."""
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


class _CurrentStderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is now (a test runner may swap it), not what it was at start."""

    @property  # type: ignore[override]
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def setup_logging(*, level: str = "INFO", fmt: str = "text", secrets: Iterable[str] = ()) -> None:
    handler = _CurrentStderr()
    inner = JsonFormatter() if fmt == "json" else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handler.setFormatter(SecretScrubber(inner, secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
