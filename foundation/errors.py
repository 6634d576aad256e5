"""One root exception; each subclass also inherits the built-in it resembles."""

from __future__ import annotations

import sqlite3
from typing import Any


class LiaisonError(Exception):
    """Root of every error Liaison raises on purpose."""


class ConfigError(LiaisonError, ValueError):
    """A setting is missing or invalid; `setting` names it (LIAISON_IMAP_PORT), `where` the config file's line
    of it when the value came from there ("/etc/liaison/liaison.toml: imap_port")."""

    def __init__(self, setting: str, problem: str, *, where: str = "") -> None:
        super().__init__(f"{where or setting}: {problem}")
        self.setting = setting
        self.problem = problem
        self.where = where

    @property
    def missing(self) -> bool:
        """The setting is not given at all: where to give it is the whole answer."""
        return self.problem.startswith("is required")


class RulesError(LiaisonError, ValueError):
    """rules.yaml is invalid; `problems` holds one `FILE:LINE:COLUMN: message` per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class ParseError(LiaisonError, ValueError):
    """A message could not be parsed; it is quarantined with this reason."""


class AccountsImportError(LiaisonError, ValueError):
    """An accounts CSV has errors; `problems` holds one `FILE:LINE: message` per row, `valid_rows` the rows that had
    none (for the checks that need a database to be run on them too, so that one run lists every problem)."""

    def __init__(self, problems: list[str], *, valid_rows: list[dict[str, Any]] | None = None) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems
        self.valid_rows = valid_rows or []


class TemplateError(LiaisonError, ValueError):
    """A reply template failed to render; nothing is sent."""


class SendError(LiaisonError):
    """Sending failed. Subclasses say whether a retry may help."""


class TemporarySendError(SendError, ConnectionError):
    """A 4xx reply or a lost connection: retry later."""


class PermanentSendError(SendError):
    """A 5xx reply: retrying will not help."""


class MailboxError(LiaisonError, ConnectionError):
    """The IMAP server could not be reached, dropped us or refused our login: reconnect later."""


class MailboxLoginRefused(MailboxError):
    """The IMAP server refused our login: a setting to correct, said at once (it is retried all the same, in case
    the password is corrected on the server's side)."""


class MailboxCommandError(LiaisonError):
    """The IMAP server refused one command (a bad folder name, say); the connection is fine."""


class SMTPConnectError(TemporarySendError):
    """Cannot connect, TLS refused, AUTH not offered or login refused: a server or configuration
    problem, never a reason to give up on a message."""


class SendInterrupted(SendError):
    """A stop was asked for while talking to the SMTP server: the message stays in the outbox as it
    was (a send under way is left `sending`, as after a crash), to be sent by the next start.
    Deliberately not an InterruptedError: that is an OSError, which the SMTP code takes for a network failure."""


class AuthRevoked(LiaisonError):
    """The provider refused the refresh token for good: a person must sign in again. Deliberately not a
    PermissionError: that is an OSError, which the IMAP and SMTP code retry as a network failure."""


class AuthTemporary(LiaisonError, ConnectionError):
    """The token endpoint could not be reached or failed; try again later."""


class PeriodicTaskError(LiaisonError, RuntimeError):
    """One or more tasks failed in a single run (`run --once`); the others ran."""


class StageOrderError(LiaisonError, RuntimeError):
    """A stage asked for a fact that the stage which sets it has not set (the declared order is wrong)."""

    def __init__(self, fact: str, stage: str) -> None:
        super().__init__(f"{fact} is set by the {stage} stage, which has not run for this message")


class InstanceRunning(LiaisonError, RuntimeError):
    """Another live Liaison holds this database: a second one would send queued mail again."""


class DatabaseGone(LiaisonError, sqlite3.OperationalError):
    """The database file was deleted or replaced while in use: what would be recorded now goes into a file no one
    will open again (lost at the next start, and mail answered twice), so nothing is done until it is back. An
    OperationalError that says the database cannot be used now, as a full disk does (foundation.store.unavailable)."""

    sqlite_errorname = "SQLITE_CANTOPEN"
