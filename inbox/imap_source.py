"""Ingest: read new mail from an IMAP folder by UID, without ever marking it read.

The position is (UIDVALIDITY, last UID) kept in SQLite. Messages are fetched with
BODY.PEEK[] in batches bounded by size, so one 30 MB message does not travel with 49
others. IDLE is used when the server offers it; otherwise the caller polls. Whether there is
new mail is always asked of the mailbox itself (NOOP, then a UID search above our
position), never inferred from EXISTS notices alone: one can be missed, and a NOOP then reports nothing new.
A notice sent with IDLE's "+ idling" sits in imaplib's read buffer, and is looked for there.
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import partial
from typing import TypeVar

import imapclient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError

from foundation.errors import MailboxCommandError, MailboxError, MailboxLoginRefused
from foundation.oauth import TokenManager
from foundation.settings import ServerSettings, tls_fix

log = logging.getLogger("liaison.imap")
BATCH_BYTES = 8 * 1024 * 1024
BATCH_COUNT = 100
IDLE_RENEW = 25 * 60  # RFC 2177: re-issue IDLE before the server's 30-minute timeout
# A notice the socket poll of idle_check() missed all the same: no IDLE lasts longer than this before the
# mailbox is asked again.
IDLE_RECHECK = 2 * 60
CONNECT_TIMEOUT = 10.0  # TCP connect, TLS on connect and the greeting; commands have their own read timeout
# Once a stop is asked for, a command still to be sent (IDLE's DONE, a LOGOUT) waits this long for the server, not
# the read timeout; a command already waiting is cut short at once (abort()): a hung server never holds up a stop.
STOP_GRACE = 2.0
_T = TypeVar("_T")

NETWORK_ERRORS = (IMAPClientAbortError, OSError, socket.timeout, ssl.SSLError, EOFError)


def tls_context(server: ServerSettings) -> ssl.SSLContext:
    """Certificates are verified unless the user opted out for this server."""
    context = ssl.create_default_context()
    if not server.verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def password_login(client: imapclient.IMAPClient, server: ServerSettings) -> None:
    """Log in with the user name and password: LOGIN, or AUTHENTICATE PLAIN when either holds characters beyond
    ASCII (LOGIN cannot carry them; PLAIN carries UTF-8, RFC 4616). The daemon and doctor both log in here."""
    if f"{server.user}{server.password}".isascii():
        client.login(server.user, server.password)
    elif client.has_capability("AUTH=PLAIN"):
        client.plain_login(server.user, server.password)
    else:
        raise MailboxError(f"IMAP {server.describe()}: the user name or password holds characters other than "
                           "ASCII, which IMAP LOGIN cannot send, and the server offers no AUTHENTICATE PLAIN; "
                           "use an ASCII password (or OAuth)")


class ImapSource:
    def __init__(self, server: ServerSettings, folder: str = "INBOX", *, timeout: float = 60.0,
                 tokens: TokenManager | None = None, stop: Callable[[], bool] | None = None) -> None:
        self.server = server
        self.stop = stop  # a stop was asked for: commands get STOP_GRACE seconds
        self.tokens = tokens
        self.folder = folder
        self.timeout = timeout
        self.client: imapclient.IMAPClient | None = None
        self.uidvalidity: int | None = None
        self.delimiter = "/"
        self._connecting = False
        self._waiting_on: imapclient.IMAPClient | None = None  # the connection a command is waiting on

    # -- connection ---------------------------------------------------------------------

    def connect(self) -> None:
        """Connect, secure, log in and select the folder (read-write, for keywords and moves)."""
        server = self.server
        timeout = imapclient.SocketTimeout(connect=min(CONNECT_TIMEOUT, self.timeout), read=self.timeout)
        self._connecting = True  # abort() may cut this short: nothing has happened yet that could be left half done
        try:
            client = imapclient.IMAPClient(server.host, port=server.port, ssl=server.security == "ssl",
                                           ssl_context=tls_context(server), timeout=timeout)
            self._connecting = False
            # imapclient sets imaplib's debug level to 5, which makes imaplib format a repr of every literal
            # it reads for a debug line nobody reads: 95 MB extra for a 41 MB message (BENCHMARKS.md, issue 14).
            client._imap.debug = 0
            if server.security == "starttls":
                # imapclient raises when STARTTLS is not offered: we never go on in clear text.
                client.starttls(tls_context(server))
            self._login(client)
            selected = client.select_folder(self.folder)
        except imapclient.exceptions.LoginError as exc:
            # blind round 26: the daemon's lines never named the setting to correct, as doctor's do
            raise MailboxLoginRefused(f"IMAP login refused for {server.describe()}: {_text(exc)}; check "
                                      "LIAISON_IMAP_USER and LIAISON_IMAP_PASSWORD (in the env file), or `liaison "
                                      "auth login`") from None
        except MailboxError:
            raise  # said plainly already (a password LOGIN cannot send), not a network failure
        except (*NETWORK_ERRORS, IMAPClientError) as exc:
            raise MailboxError(f"cannot reach IMAP {server.describe()}: {type(exc).__name__}: {_text(exc)}"
                               f"{_what_to_check(server, exc)}") from None
        finally:
            self._connecting = False
        self.client = client
        self.uidvalidity = int(selected[b"UIDVALIDITY"])
        self.delimiter = _delimiter(client)
        log.info("connected to %s, folder %s (UIDVALIDITY %s)", server.describe(), self.folder, self.uidvalidity)

    def _login(self, client: imapclient.IMAPClient) -> None:
        """Password, or XOAUTH2 with one refresh and one retry when the server rejects the token."""
        if self.server.auth != "oauth2":
            password_login(client, self.server)
            return
        if self.tokens is None:
            raise MailboxError("LIAISON_IMAP_AUTH=oauth2 needs OAuth settings (LIAISON_OAUTH_PROVIDER, ...)")
        try:
            client.oauth2_login(self.server.user, self.tokens.access_token())
        except imapclient.exceptions.LoginError:
            log.info("IMAP rejected the access token; refreshing it once")
            client.oauth2_login(self.server.user, self.tokens.access_token(force=True))

    @property
    def has_idle(self) -> bool:
        return bool(self.client and self.client.has_capability("IDLE"))

    def close(self) -> None:
        if self.client is None:
            return
        with contextlib.suppress(Exception):  # closing a dead connection: nothing useful to report
            self.client.socket().settimeout(min(STOP_GRACE, self.timeout))  # a LOGOUT nobody answers
            self.client.logout()
        self.client = None

    def abort(self) -> None:
        """Called from a signal handler when a stop is asked for: a command waiting on the server is cut short now
        (its connection shut, so the read fails at once, as when the server drops us), and a connection attempt is
        abandoned. Between commands nothing is done: what is under way finishes, and the next command is sent
        with STOP_GRACE seconds to answer. Nothing is lost: the position moves only once a message is recorded."""
        if self._connecting:
            self._connecting = False
            raise MailboxError(f"stopped while connecting to IMAP {self.server.describe()}")
        waiting = self._waiting_on
        if waiting is not None:
            with contextlib.suppress(OSError):
                waiting.socket().shutdown(socket.SHUT_RDWR)

    @contextlib.contextmanager
    def _exchange(self, client: imapclient.IMAPClient) -> Iterator[None]:
        """A command and its answer: abort() may cut it short; after a stop the server has STOP_GRACE seconds."""
        if self.stop is not None and self.stop():
            with contextlib.suppress(OSError):
                client.socket().settimeout(min(STOP_GRACE, self.timeout))
        self._waiting_on = client
        try:
            yield
        finally:
            self._waiting_on = None

    def _connected(self) -> imapclient.IMAPClient:
        if self.client is None:
            raise MailboxError("not connected")
        return self.client

    # -- reading ------------------------------------------------------------------------

    def new_uids(self, last_uid: int) -> list[int]:
        """UIDs above last_uid: two short round trips whatever the size of the folder.

        The NOOP makes the server bring its view of the folder up to date (Dovecot answers a
        command from the view as it was, and syncs after it: a SEARCH or a STATUS alone can miss
        a message delivered a moment ago). Its EXISTS replies are not trusted to say whether to
        search: they may already have been consumed, so the search is always made.
        """
        self._call(lambda c: c.noop())
        uids = self._call(lambda c: c.search(["UID", f"{last_uid + 1}:*"]))
        return sorted(uid for uid in uids if uid > last_uid)  # type: ignore[attr-defined]

    def has_news(self, last_uid: int) -> bool:
        """Is there mail above last_uid? Asked before idling, so that mail which arrived while we
        were busy (its EXISTS swallowed) never waits for the next message to be noticed."""
        return bool(self.new_uids(last_uid))

    def fetch(self, uids: list[int]) -> Iterator[tuple[int, bytes, datetime | None]]:
        """(uid, raw bytes, arrival time) in UID order, in batches bounded by count and size.

        BODY.PEEK[] leaves \\Seen alone; INTERNALDATE is when the server received the message,
        which, unlike the Date header, the sender cannot choose.
        """
        for batch in self._batches(uids):
            data = self._call(partial(imapclient.IMAPClient.fetch, messages=batch,
                                      data=["BODY.PEEK[]", "INTERNALDATE"]))
            for uid in batch:
                item = data.get(uid, {})
                raw = item.get(b"BODY[]")
                if raw is not None:
                    yield uid, bytes(raw), _aware(item.get(b"INTERNALDATE"))

    def _batches(self, uids: list[int]) -> Iterator[list[int]]:
        for start in range(0, len(uids), BATCH_COUNT):
            chunk = uids[start : start + BATCH_COUNT]
            sizes = self._call(partial(imapclient.IMAPClient.fetch, messages=chunk, data=["RFC822.SIZE"]))
            batch: list[int] = []
            total = 0
            for uid in chunk:
                size = int(sizes.get(uid, {}).get(b"RFC822.SIZE", 0))
                if batch and total + size > BATCH_BYTES:
                    yield batch
                    batch, total = [], 0
                batch.append(uid)
                total += size
            if batch:
                yield batch

    def wait(self, seconds: float, wake: Callable[[], bool]) -> bool:
        """Block until new mail (True), `wake()` turns true, or `seconds` pass (False)."""
        client = self._connected()
        if not self.has_idle:
            return _sleep(seconds, wake)
        deadline = time.monotonic() + min(seconds, IDLE_RENEW, IDLE_RECHECK)
        try:
            with self._exchange(client):
                client.idle()
            if _news_in_read_buffer(client):
                return True
            while time.monotonic() < deadline and not wake():
                slice_ = min(1.0, max(0.05, deadline - time.monotonic()))
                began = time.monotonic()
                responses = client.idle_check(timeout=slice_)
                if any(_is_news(r) for r in responses):
                    return True
                if any(_is_bye(r) for r in responses) or (not responses and time.monotonic() - began < slice_ / 2):
                    # imapclient swallows EOF inside idle_check and returns nothing at once: the only
                    # sign of a dropped connection is an empty answer long before the timeout.
                    raise MailboxError("connection closed by the server while idling")
            return False
        except NETWORK_ERRORS as exc:
            raise MailboxError(f"connection lost while idling: {type(exc).__name__}: {_text(exc)}") from None
        finally:
            if self.client is not None:
                try:
                    with self._exchange(client):
                        client.idle_done()
                except NETWORK_ERRORS as exc:  # a stalled server: said, not only seen as a reconnection
                    log.warning("IMAP server did not answer the end of IDLE (%s: %s); reconnecting",
                                type(exc).__name__, _text(exc))
                    self.client = None

    # -- acting on the original -----------------------------------------------------------

    def add_keyword(self, uid: int, keyword: str) -> None:
        self._call(lambda c: c.add_flags([uid], [keyword.encode()]))

    def move(self, uid: int, folder: str) -> None:
        """Move to a folder written with '/' between levels, whatever the server's separator is."""
        folder = folder.replace("/", self.delimiter)

        def do(c: imapclient.IMAPClient) -> None:
            if not c.folder_exists(folder):
                c.create_folder(folder)
            if c.has_capability("MOVE"):
                c.move([uid], folder)
            else:
                c.copy([uid], folder)
                c.delete_messages([uid])
        self._call(do)

    def answered_or_gone(self, uids: list[int]) -> tuple[set[int], set[int]]:
        """(UIDs flagged \\Answered by a person's mail client, UIDs no longer in the folder)."""
        if not uids:
            return set(), set()
        flags = self._call(lambda c: c.get_flags(uids))
        answered = {uid for uid, f in flags.items() if imapclient.ANSWERED in f}
        return answered, set(uids) - set(flags)

    def in_folder(self, folder: str, message_ids: list[str], *, must_exist: bool = False) -> set[str]:
        """Which Message-IDs are in another folder (the Done or Sent folder); reselects ours afterwards.

        `must_exist`: a missing folder is an error, not an empty answer: asked whether mail was already
        sent, "not found" in a folder that is not there would send it twice."""
        folder = folder.replace("/", self.delimiter)

        def look(c: imapclient.IMAPClient) -> set[str]:
            found: set[str] = set()
            if not c.folder_exists(folder):
                if must_exist:
                    raise MailboxCommandError(f"folder {folder!r} does not exist on the IMAP server")
                return found
            c.select_folder(folder, readonly=True)
            try:
                for message_id in message_ids:
                    if c.search(["HEADER", "Message-ID", message_id]):
                        found.add(message_id)
            finally:
                c.select_folder(self.folder)
            return found
        return self._call(look)  # type: ignore[return-value]

    def session(self, operation: Callable[[imapclient.IMAPClient], _T]) -> _T:
        """Run a multi-command operation on the connection (network trouble is a MailboxError, as for
        every other call), and select the watched folder again afterwards."""
        try:
            return self._call(operation)
        finally:
            if self.client is not None:
                self._call(lambda c: c.select_folder(self.folder))

    def _call(self, operation: Callable[[imapclient.IMAPClient], _T]) -> _T:
        client = self._connected()
        try:
            with self._exchange(client):
                return operation(client)
        except NETWORK_ERRORS as exc:
            self.client = None
            raise MailboxError(f"IMAP error: {type(exc).__name__}: {_text(exc)}") from None
        except IMAPClientError as exc:
            raise MailboxCommandError(_text(exc)) from None


def _delimiter(client: imapclient.IMAPClient) -> str:
    try:
        personal = client.namespace().personal
        return (personal[0][1] or "/") if personal else "/"
    except IMAPClientError:
        return "/"


def _aware(moment: datetime | None) -> datetime | None:
    """imapclient gives INTERNALDATE as naive local time; make it an aware moment."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.astimezone()


def _is_bye(response: tuple) -> bool:
    return len(response) >= 1 and response[0] == b"BYE"


_NEWS_LINE = re.compile(rb"^\* \d+ (?:EXISTS|RECENT)\r?$", re.MULTILINE | re.IGNORECASE)


def _news_in_read_buffer(client: imapclient.IMAPClient) -> bool:
    """Mail that arrived between our last search and IDLE is announced with IDLE's "+ idling", usually in the
    same packet: imaplib reads that packet into its buffer to take the "+" line, and the socket poll of
    idle_check() never sees the EXISTS after it (the IDLE would sleep until IDLE_RECHECK). Looked at without
    consuming it: IDLE's DONE reads it in the ordinary way."""
    sock = client.socket()
    previous = sock.gettimeout()
    sock.setblocking(False)  # an empty buffer is then refilled only from what already sits on the socket
    try:
        pending = client._imap.file.peek(1)
    except (BlockingIOError, ssl.SSLWantReadError, AttributeError):
        return False
    finally:
        sock.settimeout(previous)
    return bool(_NEWS_LINE.search(pending))


def _is_news(response: tuple) -> bool:
    return len(response) >= 2 and response[1] in (b"EXISTS", b"RECENT")


def _sleep(seconds: float, wake: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not wake():
        time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
    return False


def _text(exc: BaseException) -> str:
    """The server's words: imapclient passes some on as bytes, some as the text of their repr ("b'[AUTH...]'")."""
    value = exc.args[0] if exc.args else exc
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(exc)
    quoted = _BYTES_REPR.match(text)
    return quoted.group(2) if quoted else text


_BYTES_REPR = re.compile(r"""^b(['"])(.*)\1$""", re.DOTALL)


def _what_to_check(server: ServerSettings, exc: BaseException) -> str:
    """The setting a connection failure most likely points at, as `liaison doctor` would name it."""
    if isinstance(exc, ssl.SSLError):
        return f"; {tls_fix('imap', server, exc)}"
    if isinstance(exc, ConnectionRefusedError):
        return f"; nothing listens on {server.host}:{server.port}: check LIAISON_IMAP_HOST and LIAISON_IMAP_PORT"
    if isinstance(exc, IMAPClientError) and "unexpected response" in str(exc):
        return (f"; port {server.port} answered, but not as an IMAP server: check LIAISON_IMAP_PORT (143 or 993) "
                "and LIAISON_IMAP_SECURITY")
    return ""
