"""Logging for a service: plain lines or JSON, and secrets scrubbed from every record."""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, TextIO

from foundation.secrets import all_forms, scrub


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
    message, its arguments, a decision's fields, a traceback, whatever carried it there (foundation/secrets)."""

    def __init__(self, inner: logging.Formatter, secrets: Iterable[str]) -> None:
        super().__init__()
        self.inner = inner
        self.secrets = all_forms(secrets)

    def format(self, record: logging.LogRecord) -> str:
        return scrub(self.inner.format(record), self.secrets)


class ScrubbingStream:
    """stdout or stderr with every secret scrubbed from what is written: an error from a server that echoes a
    password, doctor's lines, `auth status`, a summary preview; whatever a command prints, secrets stay out."""

    def __init__(self, inner: TextIO, forms: list[str]) -> None:
        self.inner = inner
        self.forms = forms

    def write(self, text: str) -> int:
        self.inner.write(scrub(text, self.forms))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@contextlib.contextmanager
def scrubbed_output(secrets: Iterable[str]) -> Iterator[None]:
    """sys.stdout and sys.stderr scrubbed while a command runs, restored after."""
    forms = all_forms(secrets)
    saved = sys.stdout, sys.stderr
    if forms:
        sys.stdout, sys.stderr = ScrubbingStream(sys.stdout, forms), ScrubbingStream(sys.stderr, forms)  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


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
