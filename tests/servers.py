"""Real servers for tests and benchmarks: Dovecot (IMAP) and aiosmtpd (SMTP), on loopback only.

Plain classes, no pytest in here, so benchmark scripts use them as they are:

    with DovecotServer() as imap, SMTPServer() as smtp:
        uid = imap.append(make_message(subject="Hello"))
        ...

Dovecot runs in the foreground from a configuration generated in a temporary folder, on a
free port of 127.0.0.1. As root, Dovecot will not run its login process as root, so the
configuration names unprivileged users and the mail folder is given to them.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import datetime as dt
import email
import email.utils
import hashlib
import hmac
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import imapclient
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPProtocol
from aiosmtpd.smtp import AuthResult, LoginPassword

LOOPBACK = "127.0.0.1"
_RUNNING: list[Any] = []


def _register(server: Any) -> None:
    """Remember a server so that the atexit hook ends it even if a test forgot to."""
    if not any(server is known for known in _RUNNING):
        _RUNNING.append(server)


def free_port() -> int:
    """A port that was free a moment ago (Dovecot needs the number in its config, so port 0 won't do)."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 10.0, alive: Callable[[], bool] = lambda: True) -> bool:
    """True once something accepts on the port; False on timeout or as soon as `alive()` says the server died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive():
        try:
            with socket.create_connection((LOOPBACK, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.02)
    return False


# -- TLS ---------------------------------------------------------------------------------------


class TLSUnavailable(RuntimeError):
    """Neither the openssl command nor the cryptography package is here to make a certificate."""


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A throw-away certificate for localhost and 127.0.0.1: (cert.pem, key.pem) in `folder`.

    The names match the server, so a client that fails to verify it fails because nobody
    trusts the issuer, never because of a name mismatch; trusting cert.pem makes it pass.
    """
    cert, key = folder / "cert.pem", folder / "key.pem"
    if shutil.which("openssl"):
        _openssl_certificate(cert, key)
    else:
        _cryptography_certificate(cert, key)
    return cert, key


def _openssl_certificate(cert: Path, key: Path) -> None:
    # EC keys: generating RSA-2048 costs ~0.1 s per server, P-256 almost nothing.
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)


def _cryptography_certificate(cert: Path, key: Path) -> None:
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError as error:
        raise TLSUnavailable("a TLS test needs the `openssl` command or the `cryptography` package") from error
    import ipaddress

    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(LOOPBACK))]
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(private.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=2))
                   .add_extension(x509.SubjectAlternativeName(names), critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(private, hashes.SHA256()))
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    key.chmod(0o600)


def tls_client_context(verify: bool, cafile: Path | None = None) -> ssl.SSLContext:
    """The system's default client context, optionally trusting `cafile`, or one that checks nothing."""
    context = ssl.create_default_context(cafile=str(cafile) if cafile else None)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


# -- Dovecot -------------------------------------------------------------------------------------


def dovecot_binary() -> str | None:
    """Where dovecot is: on PATH, or in /usr/sbin, which a non-login shell's PATH may lack."""
    return shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/usr/local/sbin")


class DovecotStartError(RuntimeError):
    """Dovecot did not accept connections in time; the message carries the end of its log."""


class DovecotServer:
    """A throw-away Dovecot with one user and a Maildir.

    `tls=True` adds a self-signed certificate: STARTTLS on `port` and implicit TLS on `ssl_port`.
    Without it the server has `ssl = no` and offers no STARTTLS at all.
    """

    def __init__(self, *, user: str = "liaison", password: str = "imap-test-pw", tls: bool = False,
                 extra_config: str = "", oauth: TokenEndpoint | None = None) -> None:
        self.host = LOOPBACK
        self.user = user
        self.password = password
        self.tls = tls
        self.extra_config = extra_config
        self.oauth = oauth
        self.root = Path(tempfile.mkdtemp(prefix="liaison-dovecot-"))
        self.port = free_port()
        self.ssl_port: int | None = free_port() if tls else None
        self.cert_path: Path | None = None
        self.maildir = self.root / "mail" / user
        self.process: subprocess.Popen | None = None
        self._write_config()

    # -- configuration ------------------------------------------------------------------------

    def _ids(self) -> tuple[int, int, str, str]:
        """Who owns the mail: the dovecot user as root, else whoever runs the tests."""
        if os.geteuid() == 0:
            entry = pwd.getpwnam("dovecot")
            return entry.pw_uid, entry.pw_gid, "dovecot", "dovecot"
        entry = pwd.getpwuid(os.geteuid())
        return entry.pw_uid, entry.pw_gid, entry.pw_name, entry.pw_name

    def _write_config(self) -> None:
        # mkdtemp makes the folder 0700; Dovecot's unprivileged processes must get through it.
        os.chmod(self.root, 0o755)
        for sub in ("run", "state", "mail"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        (self.root / "users").write_text(f"{self.user}:{{PLAIN}}{self.password}::::::\n", encoding="utf-8")
        (self.root / "dovecot.conf").write_text(self._config_text())
        uid, gid, _, _ = self._ids()
        self.maildir.mkdir(parents=True, exist_ok=True)
        for path in (self.root / "mail", self.maildir):
            os.chown(path, uid, gid)

    def _ssl_section(self) -> str:
        if not self.tls:
            return "ssl = no\n"
        self.cert_path, key = self_signed_certificate(self.root)
        return f"ssl = yes\nssl_cert = <{self.cert_path}\nssl_key = <{key}\n"

    def _listeners(self) -> str:
        text = f"  inet_listener imap {{\n    address = {LOOPBACK}\n    port = {self.port}\n  }}\n"
        if self.tls:
            text += (f"  inet_listener imaps {{\n    address = {LOOPBACK}\n    port = {self.ssl_port}\n"
                     f"    ssl = yes\n  }}\n")
        return text

    def _oauth_section(self) -> tuple[str, str]:
        """(auth mechanisms, extra passdb): Dovecot checks bearer tokens itself, JWTs signed with a key in KEYDIR."""
        if self.oauth is None:
            return "plain login", ""
        keydir = self.root / "keys"
        # dict-fs drops the "shared/" of the key it looks up: default/HS256/<kid> under KEYDIR.
        key_file = keydir / "default" / "HS256" / self.oauth.kid
        key_file.parent.mkdir(parents=True)
        key_file.write_text(base64.b64encode(self.oauth.key).decode())
        (self.root / "oauth2.conf.ext").write_text(
            f"introspection_mode = local\nlocal_validation_key_dict = fs:posix:prefix={keydir}/\n"
            f"username_attribute = sub\nissuers = {self.oauth.issuer}\n")
        for path in [keydir, *keydir.rglob("*")]:
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
        passdb = (f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n"
                  f"  args = {self.root}/oauth2.conf.ext\n}}\n")
        return "plain login xoauth2 oauthbearer", passdb

    def _config_text(self) -> str:
        _, _, user, group = self._ids()
        root_run = os.geteuid() == 0
        mechanisms, oauth_passdb = self._oauth_section()
        # mailbox_idle_check_interval: IDLE wakes through inotify (~0.2-0.5 s, Dovecot's own notify delay);
        # the 1 s poll only bounds the wait should inotify be unavailable (watch limit reached on a busy CI).
        return f"""
base_dir = {self.root}/run
state_dir = {self.root}/state
instance_name = liaison-test-{self.port}
log_path = {self.root}/dovecot.log
info_log_path = {self.root}/dovecot.log
protocols = imap
listen = {LOOPBACK}
{self._ssl_section()}disable_plaintext_auth = no
auth_mechanisms = {mechanisms}
default_login_user = {"dovenull" if root_run else user}
default_internal_user = {"dovecot" if root_run else user}
mail_location = maildir:{self.root}/mail/%u
mailbox_idle_check_interval = 1 secs
first_valid_uid = 0
{oauth_passdb}passdb {{
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u {self.root}/users
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={self.root}/mail/%u
}}
service imap-login {{
  chroot =
{self._listeners()}}}
service anvil {{
  chroot =
}}
{self.extra_config}
"""

    # -- lifecycle ----------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _command(self) -> list[str]:
        command = [dovecot_binary() or "dovecot", "-F", "-c", str(self.root / "dovecot.conf")]
        # If the test process is killed outright (no atexit), the kernel ends Dovecot too. The signal
        # follows the *thread* that started it, so only the main thread, which lives as long as the run.
        if shutil.which("setpriv") and threading.current_thread() is threading.main_thread():
            command = ["setpriv", "--pdeathsig", "KILL", *command]
        return command

    def start(self) -> DovecotServer:
        if self.running:
            return self
        # Its own session, so that stop() can end the master and every child at once. stderr goes to a
        # file because configuration errors are printed there, before the log file is opened.
        with open(self.root / "dovecot.stderr", "ab") as stderr:
            self.process = subprocess.Popen(self._command(), stdout=subprocess.DEVNULL, stderr=stderr,
                                            start_new_session=True)
        _register(self)
        if not wait_for_port(self.port, alive=lambda: self.running):
            log = self.log_tail()
            self.stop()
            raise DovecotStartError(f"Dovecot did not start on {LOOPBACK}:{self.port}:\n{log}")
        if self.ssl_port is not None and not wait_for_port(self.ssl_port, alive=lambda: self.running):
            log = self.log_tail()
            self.stop()
            raise DovecotStartError(f"Dovecot did not listen on {LOOPBACK}:{self.ssl_port} (imaps):\n{log}")
        return self

    def stop(self) -> None:
        if self.running:
            assert self.process is not None
            # SIGKILL to the whole group: a clean SIGTERM shutdown takes Dovecot a second, and an
            # outage is exactly what the fault tests want to simulate anyway.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
            # A killed imap process leaves its dotlocks (dovecot-uidlist.lock): the next server waits minutes for
            # them to go stale, and an APPEND right after a simulated outage timed out (CI, once in two runs).
            for lock in Path(self.root).rglob("dovecot*.lock"):
                lock.unlink(missing_ok=True)
        self.process = None
        self._wait_port_closed()

    def _wait_port_closed(self) -> None:
        """Until nothing answers on the port any more, so that start() on the same port works at once."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((LOOPBACK, self.port), timeout=0.2):
                    time.sleep(0.05)
            except OSError:
                return

    def restart(self) -> None:
        self.stop()
        self.start()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        """The end of Dovecot's log and of its stderr (where configuration errors go)."""
        parts = []
        for name in ("dovecot.log", "dovecot.stderr"):
            path = self.root / name
            if path.exists() and path.stat().st_size:
                parts.append(f"--- {name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:]))
        return "\n".join(parts) or "(no log)"

    def __enter__(self) -> DovecotServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.cleanup()

    # -- mailbox helpers ---------------------------------------------------------------------

    def client(self) -> imapclient.IMAPClient:
        """A logged-in client on the plain port (loopback, so clear text is fine)."""
        client = imapclient.IMAPClient(self.host, port=self.port, ssl=False, timeout=30)
        client.login(self.user, self.password)
        return client

    def append(self, raw: bytes, folder: str = "INBOX", flags: Iterable[str | bytes] = (),
               msg_time: dt.datetime | None = None) -> int:
        """Append one message and return its UID."""
        with self.client() as client:
            response = client.append(folder, raw, flags=tuple(flags), msg_time=msg_time)
        text = response.decode() if isinstance(response, bytes) else str(response)
        # [APPENDUID <uidvalidity> <uid>] Append completed.
        return int(text.split("APPENDUID", 1)[1].split()[1].rstrip("]"))

    def append_many(self, messages: list[bytes], folder: str = "INBOX") -> None:
        with self.client() as client:
            for raw in messages:
                client.append(folder, raw)

    def fill_maildir(self, messages: list[bytes]) -> None:
        """Drop messages straight into the Maildir (fast, for large benchmark folders); Dovecot
        indexes them on the next SELECT."""
        uid, gid, _, _ = self._ids()
        new = self.maildir / "new"
        for sub in ("new", "cur", "tmp"):
            (self.maildir / sub).mkdir(exist_ok=True)
            os.chown(self.maildir / sub, uid, gid)
        stamp = int(time.time())
        for number, raw in enumerate(messages):
            path = new / f"{stamp}.M{number}P{os.getpid()}.bench"
            path.write_bytes(raw)
            os.chown(path, uid, gid)

    def flags(self, uid: int, folder: str = "INBOX") -> tuple:
        with self.client() as client:
            client.select_folder(folder, readonly=True)
            return client.get_flags([uid]).get(uid, ())

    def set_flags(self, uid: int, flags: list, folder: str = "INBOX") -> None:
        with self.client() as client:
            client.select_folder(folder)
            client.add_flags([uid], flags)

    def uids(self, folder: str = "INBOX") -> list[int]:
        with self.client() as client:
            client.select_folder(folder, readonly=True)
            return client.search(["ALL"])

    def uidvalidity(self, folder: str = "INBOX") -> int:
        with self.client() as client:
            return int(client.folder_status(folder, ["UIDVALIDITY"])[b"UIDVALIDITY"])

    def create_folder(self, name: str) -> None:
        with self.client() as client:
            client.create_folder(name)

    def move(self, uid: int, folder: str, source: str = "INBOX") -> None:
        with self.client() as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            client.select_folder(source)
            client.move([uid], folder)

    def _folder_dir(self, folder: str) -> Path:
        # Maildir++: INBOX is the user's Maildir itself, any other folder a ".Name" directory in it.
        return self.maildir if folder.upper() == "INBOX" else self.maildir / f".{folder}"

    def recreate_mailbox(self, folder: str = "INBOX") -> None:
        """Same messages (and flags), new UIDVALIDITY, as after a server restore.

        IMAP cannot delete INBOX, so this is done on disk: with Dovecot stopped, its index and UID
        list go, the message files stay. Dovecot takes the new UIDVALIDITY from the clock, so this
        waits until the clock is past the old one. The server is left running if it was.
        """
        was_running = self.running
        old = self.uidvalidity(folder) if was_running else None
        self.stop()
        for path in self._folder_dir(folder).glob("dovecot*"):
            if path.is_file():
                path.unlink()
        # The mailbox list index caches every folder's UIDVALIDITY.
        for path in self.maildir.glob("dovecot.list.index*"):
            path.unlink(missing_ok=True)
        _sleep_past(old)
        if was_running:
            self.start()


def _sleep_past(epoch_seconds: int | None) -> None:
    """Until time() has passed a UIDVALIDITY taken from the clock (1.1 s when it is not known; 2 s at most)."""
    if epoch_seconds is None:
        time.sleep(1.1)
        return
    deadline = time.monotonic() + 2
    while time.time() < epoch_seconds + 1 and time.monotonic() < deadline:
        time.sleep(0.05)


# -- SMTP ---------------------------------------------------------------------------------------

TEMPORARY_TEXT = "4.3.0 Try again later"
PERMANENT_TEXT = "5.7.1 Rejected by the test server"


@dataclass(frozen=True)
class Refusal:
    """One command the server refused on purpose (see fail_next)."""

    stage: str  # "RCPT" or "DATA"
    code: int
    text: str

    @property
    def permanent(self) -> bool:
        return self.code >= 500


class RecordingHandler:
    """What arrives, and refusals on demand, temporary (4xx) and permanent (5xx) kept apart."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.arrived_at: list[float] = []  # perf_counter() when each message was accepted
        self.refusals: list[Refusal] = []
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        self._failures: dict[str, list[tuple[int, str]]] = {"RCPT": [], "DATA": []}

    def fail_next(self, count: int, code: int = 451, text: str | None = None, *, stage: str = "DATA") -> None:
        """Refuse the next `count` RCPT or DATA commands with `code`. The default text has the enhanced
        status code of the same class (4.x.x or 5.x.x), so a 550 never says "try again later"."""
        if not 400 <= code <= 599:
            raise ValueError(f"a refusal is a 4xx or 5xx reply, not {code}")
        if stage not in self._failures:
            raise ValueError(f"stage is RCPT or DATA, not {stage!r}")
        text = text or (TEMPORARY_TEXT if code < 500 else PERMANENT_TEXT)
        with self.lock:
            self._failures[stage] += [(code, text)] * count

    @property
    def temporary_refusals(self) -> list[Refusal]:
        return [refusal for refusal in self.refusals if not refusal.permanent]

    @property
    def permanent_refusals(self) -> list[Refusal]:
        return [refusal for refusal in self.refusals if refusal.permanent]

    def _take_failure(self, stage: str) -> str | None:
        with self.lock:
            if not self._failures[stage]:
                return None
            code, text = self._failures[stage].pop(0)
            self.refusals.append(Refusal(stage, code, text))
        return f"{code} {text}"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802 - aiosmtpd's naming
                          rcpt_options: list[str]) -> str:
        refusal = self._take_failure("RCPT")
        if refusal:
            return refusal
        # A handler that answers RCPT must record the recipient itself.
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's naming
        refusal = self._take_failure("DATA")
        if refusal:
            return refusal
        with self.lock:
            raw = bytes(envelope.original_content or envelope.content)
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), raw))
            self.arrived_at.append(time.perf_counter())
            self.arrived.notify_all()
        return "250 OK"


class CountingSMTP(SMTPProtocol):
    """aiosmtpd's SMTP that reports each new client connection (not the second connection_made of STARTTLS)."""

    def __init__(self, handler: Any, *, on_connect: Callable[[Any], None], **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._on_connect = on_connect

    def connection_made(self, transport: Any) -> None:
        if self._original_transport is None:
            self._on_connect(transport.get_extra_info("peername"))
        super().connection_made(transport)


class _Controller(Controller):
    """Controller on 127.0.0.1 that reads back the port it got for port 0 and whose readiness probe
    is not counted as a client connection."""

    def __init__(self, owner: SMTPServer, port: int) -> None:
        super().__init__(owner.handler, hostname=LOOPBACK, port=port)
        self.owner = owner

    def factory(self) -> CountingSMTP:
        return CountingSMTP(self.handler, on_connect=self.owner._connected, **self.owner.smtp_kwargs)

    def _trigger_server(self) -> None:
        # aiosmtpd connects once to make sure the protocol can be built. Bind the probe first, so its
        # port is known before the server sees it.
        self.port = self.server.sockets[0].getsockname()[1]
        with socket.socket() as probe:
            probe.settimeout(1.0)
            probe.bind((LOOPBACK, 0))
            self.owner._probe_ports.add(probe.getsockname()[1])
            probe.connect((LOOPBACK, self.port))
            probe.recv(1024)


def password_authenticator(user: str, password: str) -> Callable[..., AuthResult]:
    """An aiosmtpd authenticator for AUTH PLAIN and LOGIN with one user."""

    def check(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == user.encode()
              and auth_data.password == password.encode())
        return AuthResult(success=ok, handled=False, auth_data=user if ok else None)

    return check


class SMTPServer:
    """aiosmtpd on a loopback port with a recording handler.

    port=0 (the default) takes a free port on the first start; stop() and start() keep it, for outage
    tests. auth=(user, password) offers and requires AUTH PLAIN/LOGIN; `authenticator` plugs another
    check (aiosmtpd's signature). tls=True offers STARTTLS with a self-signed certificate. Any other
    keyword goes to aiosmtpd's SMTP (auth_required, require_starttls, data_size_limit, ...).
    """

    def __init__(self, *, port: int | None = 0, handler: RecordingHandler | None = None,
                 auth: tuple[str, str] | None = None, authenticator: Callable[..., AuthResult] | None = None,
                 tls: bool = False, **smtp_kwargs: Any) -> None:
        if auth and authenticator:
            raise ValueError("give auth=(user, password) or an authenticator, not both")
        self.host = LOOPBACK
        self.handler = handler or RecordingHandler()
        self.port = port or 0
        self.logins: list[tuple[str, str]] = []  # (mechanism, user) of each successful AUTH
        self.cert_path: Path | None = None
        self._tls_dir: Path | None = None
        self._lock = threading.Lock()
        self._connections = 0
        self._probe_ports: set[int] = set()
        self.smtp_kwargs: dict[str, Any] = {"hostname": "liaison-test", "auth_require_tls": False, **smtp_kwargs}
        if auth:
            authenticator = password_authenticator(*auth)
            self.smtp_kwargs.setdefault("auth_required", True)
        if authenticator:
            self.smtp_kwargs["authenticator"] = self._recording(authenticator)
        if tls:
            self.smtp_kwargs["tls_context"] = self._server_tls_context()
        self.controller: Controller | None = None

    def _server_tls_context(self) -> ssl.SSLContext:
        self._tls_dir = Path(tempfile.mkdtemp(prefix="liaison-smtp-tls-"))
        self.cert_path, key = self_signed_certificate(self._tls_dir)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_path, key)
        return context

    def _recording(self, check: Callable[..., AuthResult]) -> Callable[..., AuthResult]:
        def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
            result = check(server, session, envelope, mechanism, auth_data)
            if result.success:
                login = getattr(auth_data, "login", b"")
                with self._lock:
                    self.logins.append((mechanism, login.decode(errors="replace") if login else str(result.auth_data)))
            return result

        return authenticator

    def _connected(self, peer: Any) -> None:
        with self._lock:
            if peer and peer[1] in self._probe_ports:
                self._probe_ports.discard(peer[1])
                return
            self._connections += 1

    @property
    def connections(self) -> int:
        """Client connections accepted so far (across restarts), for checks of connection reuse."""
        with self._lock:
            return self._connections

    @property
    def messages(self) -> list[tuple[str, list[str], bytes]]:
        return self.handler.messages

    @property
    def refusals(self) -> list[Refusal]:
        return self.handler.refusals

    def parsed(self) -> list[EmailMessage]:
        with self.handler.lock:
            raws = [raw for _, _, raw in self.handler.messages]
        return [email.message_from_bytes(raw, policy=default) for raw in raws]  # type: ignore[misc]

    def parsed_message(self, index: int = -1) -> EmailMessage:
        """One received message, parsed (the last by default)."""
        with self.handler.lock:
            raw = self.handler.messages[index][2]
        return email.message_from_bytes(raw, policy=default)  # type: ignore[return-value]

    def fail_next(self, count: int, code: int = 451, text: str | None = None, *, stage: str = "DATA") -> None:
        self.handler.fail_next(count, code, text, stage=stage)

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        """True once `count` messages have arrived; False after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self.handler.arrived:
            while len(self.handler.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.handler.arrived.wait(left)
        return True

    @property
    def running(self) -> bool:
        return self.controller is not None

    def start(self) -> SMTPServer:
        if self.controller is not None:
            return self
        controller = _Controller(self, self.port)
        controller.start()
        self.port = controller.port  # the real one, when it was 0
        self.controller = controller
        _register(self)
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def cleanup(self) -> None:
        self.stop()
        if self._tls_dir is not None:
            shutil.rmtree(self._tls_dir, ignore_errors=True)

    def __enter__(self) -> SMTPServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


# -- messages -------------------------------------------------------------------------------------


def make_message(*, sender: str = "Tom Hill <tom@brewco.com>", to: str = "accounts@agency.example",
                 subject: str = "Hello", body: str = "Hello there.", message_id: str | None = None,
                 headers: dict[str, str] | None = None, in_reply_to: str | None = None,
                 html: str | None = None, attachments: list[tuple[str, bytes]] | None = None,
                 date: dt.datetime | None = None, cc: str | None = None) -> bytes:
    """A realistic RFC 5322 message: From, To, Subject, Date, Message-ID, a text body, and optionally
    an HTML alternative, attachments (name, bytes) and any extra headers."""
    message = EmailMessage(policy=default)
    message["From"] = sender
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = subject
    message["Date"] = email.utils.format_datetime(date or email.utils.localtime())
    message["Message-ID"] = message_id or f"<{uuid.uuid4().hex}@client.test>"  # make_msgid can repeat itself
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    if html:
        message.add_alternative(html, subtype="html")
    for name, data in attachments or []:
        message.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return message.as_bytes()


@atexit.register
def _stop_everything() -> None:
    for server in _RUNNING:
        with contextlib.suppress(Exception):
            server.cleanup()


# Tests stand for many clients of one domain (client1@brewco.com, client2@...) and expect each answered: the
# per-domain acknowledgement cap (tests/test_replies.py::test_per_domain_cap) is lifted in their rules.
UNCAPPED_DOMAINS = "\n  per_domain: []\n"


def quiet_rules(folder: Path, source: Path, **replacements: str) -> Path:
    """A copy of a rules file with the daily summary off, so tests count only the mail they cause,
    `backfill: all` (tests put mail in the mailbox before Liaison starts and expect it answered) and no
    per-domain cap."""
    text = source.read_text().replace("  enabled: true ", "  enabled: false ").replace("\nbackfill: none ",
                                                                                      "\nbackfill: all ")
    text = re.sub(r"\n  per_domain:[^\n]*\n(?:    - [^\n]*\n)*", UNCAPPED_DOMAINS, text)
    for old, new in replacements.items():
        text = text.replace(old, new)
    path = folder / "rules.yaml"
    path.write_text(text)
    return path


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenEndpoint:
    """A small OAuth2 token endpoint on loopback: issues HS256 JWTs that Dovecot validates itself,
    rotates the refresh token on every use, and can be told to revoke everything."""

    def __init__(self, *, user: str = "liaison", ttl: int = 3600, kid: str = "liaison-test") -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.user = user
        self.ttl = ttl
        self.kid = kid
        self.key = secrets.token_bytes(32)
        self.port = free_port()
        self.issuer = f"http://{LOOPBACK}:{self.port}"
        self.token_url = f"{self.issuer}/token"
        self.current_refresh = secrets.token_urlsafe(24)
        self.refreshes: list[str] = []
        self.revoked = False
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                from urllib.parse import parse_qs

                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                status, body = endpoint.answer(form)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((LOOPBACK, self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        _RUNNING.append(self)

    def jwt(self, ttl: int | None = None) -> str:
        header = {"alg": "HS256", "typ": "JWT", "kid": self.kid}
        now = int(time.time())
        claims = {"sub": self.user, "iss": self.issuer, "iat": now, "nbf": now - 5,
                  "exp": now + (self.ttl if ttl is None else ttl)}
        signing = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        signature = hmac.new(self.key, signing.encode(), hashlib.sha256).digest()
        return f"{signing}.{_b64url(signature)}"

    def initial(self) -> dict:
        """What a first sign-in returns."""
        return {"access_token": self.jwt(), "refresh_token": self.current_refresh, "expires_in": self.ttl,
                "token_type": "Bearer"}

    def answer(self, form: dict[str, str]) -> tuple[int, dict]:
        if form.get("grant_type") != "refresh_token":
            return 400, {"error": "unsupported_grant_type"}
        if self.revoked or form.get("refresh_token") != self.current_refresh:
            return 400, {"error": "invalid_grant", "error_description": "refresh token revoked or already used"}
        self.refreshes.append(form["refresh_token"])
        self.current_refresh = secrets.token_urlsafe(24)
        return 200, {"access_token": self.jwt(), "refresh_token": self.current_refresh, "expires_in": self.ttl,
                     "token_type": "Bearer"}

    def valid(self, token: str) -> bool:
        try:
            signing, _, signature = token.rpartition(".")
            expected = _b64url(hmac.new(self.key, signing.encode(), hashlib.sha256).digest())
            claims = json.loads(base64.urlsafe_b64decode(signing.split(".")[1] + "=="))
        except (ValueError, IndexError):
            return False
        return hmac.compare_digest(expected, signature) and claims["exp"] > time.time()

    def cleanup(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class XOAuth2Handler(RecordingHandler):
    """A recording SMTP handler that accepts AUTH XOAUTH2 with a token the endpoint signed."""

    def __init__(self, endpoint: TokenEndpoint) -> None:
        super().__init__()
        self.endpoint = endpoint

    async def auth_XOAUTH2(self, server: Any, args: list[str]) -> AuthResult:  # noqa: N802 - aiosmtpd's naming
        try:
            decoded = base64.b64decode(args[1]).decode() if len(args) > 1 else ""
        except ValueError:
            return AuthResult(success=False, handled=False)
        fields = dict(part.split("=", 1) for part in decoded.split("\x01") if "=" in part)
        token = fields.get("auth", "").removeprefix("Bearer ")
        ok = fields.get("user") == self.endpoint.user and self.endpoint.valid(token)
        return AuthResult(success=ok, handled=False, auth_data=fields.get("user"))


def liaison_settings(folder: Path, dovecot: DovecotServer, smtp: SMTPServer, accounts_csv: str, **overrides: Any):
    """Settings for a Liaison run against these servers, with these accounts imported."""
    from foundation.accounts import import_accounts, read_accounts_csv
    from foundation.settings import ServerSettings, Settings
    from foundation.store import Store

    (folder / "accounts.csv").write_text(accounts_csv)
    store = Store(folder / "liaison.db")
    import_accounts(store, read_accounts_csv(folder / "accounts.csv"))
    store.close()
    values = dict(address="accounts@agency.example", agency_domains=("agency.example",),
                  db_path=folder / "liaison.db",
                  rules_path=quiet_rules(folder, Path(__file__).parent.parent / "rules.yaml"),
                  imap=ServerSettings(dovecot.host, dovecot.port, dovecot.user, dovecot.password, security="none"),
                  smtp=ServerSettings(smtp.host, smtp.port, security="none"))
    return Settings(**{**values, **overrides})


def run_daemon_while(daemon: Any, watch: Callable[[], None]) -> None:
    """Run `daemon` in this (the main) thread, where its signal handlers can be set, while `watch` runs beside it and
    ends it (`daemon.stopping = True`); the test runner's own handlers are put back for the tests after this one."""
    import signal
    import threading

    watcher = threading.Thread(target=watch)
    handlers = {number: signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    watcher.start()
    try:
        daemon.run_forever()
    finally:
        watcher.join()
        for number, handler in handlers.items():
            signal.signal(number, handler)
