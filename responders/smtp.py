"""Transports: how a stored outgoing message leaves. SMTP for real, a Maildir for shadow mode.

SMTP keeps one connection open across a burst and maps every failure onto
TemporarySendError (4xx, lost connection: retry later) or PermanentSendError (5xx).
Failing to connect, secure the connection or log in is SMTPConnectError, a temporary
failure about the server rather than the message: the outbox waits as a whole.
STARTTLS is required when asked for: never fall back to clear text.
Connecting (TCP, TLS on connect, the server's greeting) has its own short timeout: a server that
accepts and never greets is down, and the daemon must not wait on it as long as on a slow DATA.
Given a `stop` callable, connecting is abandoned within a moment of it turning true
(SendInterrupted): a SIGTERM does not wait for a hung server's timeout. A transaction under way
is not: once the message is on the wire the server may accept it, and abandoning it then is the
one window where mail is sent twice; it is bounded by the transaction timeout instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import mailbox
import ssl
import time
from collections.abc import Callable, Coroutine, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import aiosmtplib

from foundation.errors import (
    AuthRevoked,
    LiaisonError,
    PermanentSendError,
    SendError,
    SendInterrupted,
    SMTPConnectError,
    TemporarySendError,
)
from foundation.oauth import TokenManager
from foundation.settings import ServerSettings

# A connection unused for this long may have been closed by the server (most close idle clients
# after a minute or a few); it is checked with a NOOP before use, and replaced if it is gone.
REUSE_CHECK_AFTER = 5.0
CONNECT_TIMEOUT = 10.0  # TCP connect, TLS on connect and the greeting; the data timeout is separate
# A message's transaction (MAIL, RCPT, DATA and the server's reply to the message). RFC 5321 gives the server 10
# minutes for that reply, and servers that scan content take longer than a command's 30 s: given up at 30 s, a
# message the server then accepted was sent again (blind round 21: every message of a 40 s server twice). Below
# the service's WatchdogSec (300 s), so that systemd does not restart a daemon that is only waiting.
TRANSACTION_TIMEOUT = 240.0
STOP_POLL = 0.2  # how often a stop is looked for while waiting on the server
T = TypeVar("T")


@dataclass(frozen=True)
class Envelope:
    """One message to send: who from, to whom, and its bytes on the wire."""

    mail_from: str
    recipients: list[str]
    raw: bytes


#: What became of one send: the server's answer, or why it failed (SMTPConnectError: the server, not the
#: message; TemporarySendError: try again later; PermanentSendError: never).
Outcome = str | SendError
#: A batch to send: yields each envelope once it is recorded as being sent, and is told its outcome.
Sends = Generator[Envelope, Outcome, None]


class Transport(Protocol):
    shadow: bool

    def check(self) -> None:
        """Make sure mail can leave now (connect and log in); SMTPConnectError says why not."""

    def send(self, mail_from: str, recipients: list[str], raw: bytes) -> str: ...

    def send_each(self, sends: Sends) -> None:
        """Send every envelope `sends` yields, telling it each outcome, until it is done."""

    def close(self) -> None: ...


def drive(sends: Sends, send: Callable[[Envelope], str]) -> None:
    """Run a batch through a synchronous `send`."""
    try:
        envelope = next(sends)
        while True:
            try:
                outcome: Outcome = send(envelope)
            except SendError as exc:
                outcome = exc
            envelope = sends.send(outcome)
    except StopIteration:
        return


class MaildirTransport:
    """Shadow mode and the demo: write what would be sent into a Maildir for review."""

    shadow = True

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.maildir = mailbox.Maildir(str(self.path), create=True)

    def check(self) -> None:
        pass

    def send(self, mail_from: str, recipients: list[str], raw: bytes) -> str:
        key = self.maildir.add(raw)
        return f"written to {self.path / 'new' / key}"

    def send_each(self, sends: Sends) -> None:
        drive(sends, lambda e: self.send(e.mail_from, e.recipients, e.raw))

    def close(self) -> None:
        self.maildir.close()


class SMTPTransport:
    """aiosmtplib with connection reuse, driven from synchronous code on a private loop."""

    shadow = False

    def __init__(self, server: ServerSettings, *, timeout: float = 30.0, tokens: TokenManager | None = None,
                 reuse_check_after: float = REUSE_CHECK_AFTER, connect_timeout: float = CONNECT_TIMEOUT,
                 transaction_timeout: float = TRANSACTION_TIMEOUT, stop: Callable[[], bool] | None = None) -> None:
        self.server = server
        self.transaction_timeout = transaction_timeout
        self.reuse_check_after = reuse_check_after
        self.tokens = tokens
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.stop = stop
        self._loop = asyncio.new_event_loop()
        self._client: aiosmtplib.SMTP | None = None
        self._used = 0.0

    def check(self) -> None:
        """Connect and log in now; the connection is kept for the sends that follow."""
        self._loop.run_until_complete(self._unless_stopped(self._ready()))

    def send(self, mail_from: str, recipients: list[str], raw: bytes) -> str:
        return self._loop.run_until_complete(self._send(mail_from, recipients, raw))

    def send_each(self, sends: Sends) -> None:
        """The whole batch in one run of the event loop, over the kept connection: the recording
        between sends (synchronous SQLite) runs inside it."""
        self._loop.run_until_complete(self._send_each(sends))

    def close(self) -> None:
        if self._client is not None:
            self._loop.run_until_complete(self._quit())
        self._loop.close()

    async def _ready(self) -> aiosmtplib.SMTP:
        try:
            return await self._connected()
        except (TimeoutError, aiosmtplib.SMTPException, OSError, LiaisonError) as exc:
            await self._drop()
            raise SMTPConnectError(f"cannot connect to SMTP {self.server.describe()}: {_reason(exc)}") from None

    async def _send(self, mail_from: str, recipients: list[str], raw: bytes) -> str:
        client = await self._unless_stopped(self._ready())  # nothing of the message has left yet
        try:
            errors, response = await client.sendmail(mail_from, recipients, raw, timeout=self.transaction_timeout)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise _classified(exc.recipients[0].code, str(exc.recipients[0])) from None
        except aiosmtplib.SMTPResponseException as exc:
            await self._drop()
            if exc.code == 530:  # "authentication required" or "STARTTLS first": our settings, not this message
                raise SMTPConnectError(f"SMTP {self.server.describe()} refused to relay: {exc.code} {exc.message}"
                                       " (check LIAISON_SMTP_USER and LIAISON_SMTP_SECURITY)") from None
            raise _classified(exc.code, exc.message) from None
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
            await self._drop()
            raise TemporarySendError(f"{type(exc).__name__}: {exc}") from None
        if errors:
            refused = "; ".join(f"{rcpt}: {resp.code} {resp.message}" for rcpt, resp in errors.items())
            raise PermanentSendError(f"some recipients refused: {refused}")
        return response

    async def _send_each(self, sends: Sends) -> None:
        try:
            envelope = next(sends)
            while True:
                try:
                    outcome: Outcome = await self._send(envelope.mail_from, envelope.recipients, envelope.raw)
                except SendError as exc:
                    outcome = exc
                envelope = sends.send(outcome)
        except StopIteration:
            return

    async def _unless_stopped(self, work: Coroutine[Any, Any, T]) -> T:
        """`work`, abandoned (SendInterrupted) within STOP_POLL seconds of `stop()` turning true."""
        if self.stop is None:
            return await work
        task = asyncio.ensure_future(work)
        while not task.done():
            await asyncio.wait({task}, timeout=STOP_POLL)
            if not task.done() and self.stop():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
                await self._drop()
                raise SendInterrupted(f"stopped while waiting on SMTP {self.server.describe()}")
        return task.result()

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._client is not None and self._client.is_connected and await self._still_there():
            self._used = time.monotonic()
            return self._client
        server = self.server
        context = ssl.create_default_context()
        if not server.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        client = aiosmtplib.SMTP(
            hostname=server.host,
            port=server.port,
            use_tls=server.security == "ssl",
            start_tls=server.security == "starttls",
            tls_context=context if server.security != "none" else None,
            timeout=self.timeout,
        )
        await client.connect(timeout=self.connect_timeout)
        if server.auth == "oauth2":
            await self._xoauth2(client)
        elif server.user:
            try:
                await client.login(server.user, server.password)
            except aiosmtplib.SMTPResponseException:
                raise
            except aiosmtplib.SMTPException as exc:  # no AUTH offered, or none we can use
                raise aiosmtplib.SMTPException(f"AUTH not possible: {exc}") from None
        self._client = client
        self._used = time.monotonic()
        return client

    async def _still_there(self) -> bool:
        """Is a kept connection still open? Our loop does not run between sends, so a close by the
        server goes unnoticed until the next command: a NOOP costs less than a failed message."""
        if time.monotonic() - self._used < self.reuse_check_after:
            return True
        try:
            await self._client.noop()  # type: ignore[union-attr]
        except (TimeoutError, aiosmtplib.SMTPException, OSError):
            await self._drop()
            return False
        return True

    async def _xoauth2(self, client: aiosmtplib.SMTP) -> None:
        """XOAUTH2 with one refresh and one retry when the server rejects the token."""
        if self.tokens is None:
            raise aiosmtplib.SMTPException("LIAISON_SMTP_AUTH=oauth2 needs OAuth settings")
        try:
            token = self.tokens.access_token()
        except AuthRevoked as exc:
            raise aiosmtplib.SMTPException(str(exc)) from None
        try:
            await client.auth_xoauth2(self.server.user, token)
        except aiosmtplib.SMTPAuthenticationError:
            await client.auth_xoauth2(self.server.user, self.tokens.access_token(force=True))

    async def _drop(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.close()
        self._client = None

    async def _quit(self) -> None:
        try:
            if self._client is not None and self._client.is_connected:
                await self._client.quit(timeout=self.connect_timeout)  # a polite goodbye, not worth a wait
        except (TimeoutError, aiosmtplib.SMTPException, OSError):
            pass
        await self._drop()


def _reason(exc: BaseException) -> str:
    """What went wrong, in words: some exceptions (a timeout) have no message of their own."""
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"{exc.code} {exc.message}"
    return str(exc) or type(exc).__name__


def _classified(code: int, message: str) -> TemporarySendError | PermanentSendError:
    text = f"{code} {message}".strip()
    if 400 <= code < 500:
        return TemporarySendError(text)
    return PermanentSendError(text)
