"""Progress for long batches: a bar on a terminal, a line every few seconds otherwise."""

from __future__ import annotations

import logging
import sys
import time

log = logging.getLogger("liaison.progress")


class Progress:
    def __init__(self, total: int, label: str, *, enabled: bool = True, every: float = 5.0) -> None:
        self.total = total
        self.label = label
        self.enabled = enabled and total > 1
        self.every = every
        self.done = 0
        self.started = time.monotonic()
        self._last = self.started
        self.tty = sys.stderr.isatty()

    def advance(self, count: int = 1) -> None:
        self.done += count
        if not self.enabled:
            return
        now = time.monotonic()
        if self.tty:
            if now - self._last >= 0.1 or self.done == self.total:
                self._bar()
                self._last = now
        elif now - self._last >= self.every:
            log.info("%d/%d %s (%.0f/s)", self.done, self.total, self.label, self.rate(now))
            self._last = now

    def finish(self) -> None:
        if not self.enabled:
            return
        if self.tty:
            self._bar()
            sys.stderr.write("\n")
        log.info("%d %s in %.1fs", self.done, self.label, time.monotonic() - self.started)

    def rate(self, now: float | None = None) -> float:
        elapsed = (now or time.monotonic()) - self.started
        return self.done / elapsed if elapsed > 0 else 0.0

    def _bar(self) -> None:
        width = 30
        filled = int(width * self.done / max(self.total, 1))
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} {self.label}"
                         f" {self.rate():.0f}/s")
        sys.stderr.flush()
