"""Periodic tasks, each isolated from the others.

The daemon's turn is a list of tasks (ingest, IMAP actions, thread refresh, summaries, outbox
flush). A task that raises does not end the turn, nor the process: its failure is logged,
recorded in `periodic_tasks` and as a `task_failed` event (which the daily summary shows as an
alert), and the task is tried again later with a capped exponential backoff while the others
go on. Errors the caller handles itself (a lost IMAP connection) pass through untouched.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from foundation.errors import LiaisonError
from foundation.store import Store, unavailable, utcnow

log = logging.getLogger("liaison.tasks")
RETRY_FIRST = 30.0       # seconds before a failed task is tried again; doubles each time
RETRY_CAP = 15 * 60.0
SUCCESS_RECORD_EVERY = 60.0  # a healthy task refreshes its last_success_at at most this often


@dataclass
class PeriodicTask:
    name: str
    run: Callable[[], object]
    store: Store
    passthrough: tuple[type[BaseException], ...] = ()
    failures: int = 0
    last_error: str | None = None
    _next_try: float = 0.0
    _recorded: float = field(default=-SUCCESS_RECORD_EVERY)

    @property
    def due(self) -> bool:
        return time.monotonic() >= self._next_try

    def seconds_to_retry(self) -> float | None:
        """How long until a failing task is tried again; None while it is healthy."""
        return max(0.0, self._next_try - time.monotonic()) if self.failures else None

    def __call__(self) -> bool:
        """Run the task if it is due; True when it ran and succeeded."""
        if not self.due:
            return False
        try:
            self.run()
        except self.passthrough:
            raise
        except Exception as exc:  # isolation is the point: any failure of one task stays in it
            if unavailable(exc):  # not this task's: the database itself, which the daemon waits for as a whole
                raise
            self._failed(exc)
            return False
        self._succeeded()
        return True

    def _failed(self, exc: Exception) -> None:
        self.failures += 1
        self.last_error = f"{type(exc).__name__}: {exc}" if not isinstance(exc, LiaisonError) else str(exc)
        delay = min(RETRY_FIRST * 2 ** (self.failures - 1), RETRY_CAP)
        self._next_try = time.monotonic() + delay
        if self.failures == 1:
            # Our own errors say what is wrong in one line; anything else is a bug: keep its traceback.
            log.error("%s failed: %s; the other tasks go on, retrying in %ds", self.name, self.last_error,
                      delay, exc_info=not isinstance(exc, LiaisonError))
        else:
            log.warning("%s still failing (%d times): %s; retrying in %ds", self.name, self.failures,
                        self.last_error, delay)
        now = utcnow()
        with self.store.transaction():
            self.store.record_health(self.name, {"last_failure_at": now, "last_error": self.last_error,
                                                  "failures": self.failures})
            if self.failures == 1:  # one alert per streak, not one per retry
                detail = {"task": self.name, "reason": f"{self.name}: {self.last_error}"}
                self.store.insert("events", {"at": now, "kind": "task_failed", "detail": detail})

    def _succeeded(self) -> None:
        recovered = self.failures > 0
        if recovered:
            log.info("%s works again after %d failure(s)", self.name, self.failures)
        self.failures, self.last_error, self._next_try = 0, None, 0.0
        if recovered or time.monotonic() - self._recorded >= SUCCESS_RECORD_EVERY:
            self._recorded = time.monotonic()
            self.store.record_health(self.name, {"last_success_at": utcnow(), "failures": 0, "last_error": None})


def task_status(store: Store) -> list[dict[str, object]]:
    """Per task (and `smtp server`): last success, last failure, its error and how many failures in a row."""
    return store.all("SELECT name, last_success_at, last_failure_at, last_error, failures "
                     "FROM periodic_tasks ORDER BY name")
