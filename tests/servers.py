"""Real servers for tests and benchmarks: Dovecot (IMAP) and aiosmtpd (SMTP), on loopback only.

Dovecot runs in the foreground from a configuration generated in a temporary folder, on a
free port of 127.0.0.1. As root, Dovecot will not run its login process as root, so the
configuration names unprivileged users and the mail folder is given to them.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import email
import hashlib
import hmac
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import imapclient
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPProtocol
from aiosmtpd.smtp import AuthResult

LOOPBACK = "127.0.0.1"
_RUNNING: list[Any] = []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((LOOPBACK, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


class DovecotServer:
    """A throw-away Dovecot with one user and a Maildir."""

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
        self.ssl_port = free_port() if tls else None
        self.maildir = self.root / "mail" / user
        self.process: subprocess.Popen | None = None
        self._write_config()

    # -- lifecycle ----------------------------------------------------------------------

    def _ids(self) -> tuple[int, int, str, str]:
        if os.geteuid() == 0:
            entry = pwd.getpwnam("dovecot")
            return entry.pw_uid, entry.pw_gid, "dovecot", "dovecot"
        entry = pwd.getpwuid(os.geteuid())
        return entry.pw_uid, entry.pw_gid, entry.pw_name, entry.pw_name

    def _write_config(self) -> None:
        uid, gid, user, group = self._ids()
        os.chmod(self.root, 0o755)
        for sub in ("run", "state", "mail"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        (self.root / "users").write_text(f"{self.user}:{{PLAIN}}{self.password}::::::\n")
        ssl_config = "ssl = no\n"
        listeners = f"  inet_listener imap {{\n    address = {LOOPBACK}\n    port = {self.port}\n  }}\n"
        if self.tls:
            cert, key = self_signed_certificate(self.root)
            ssl_config = f"ssl = yes\nssl_cert = <{cert}\nssl_key = <{key}\n"
            listeners += (f"  inet_listener imaps {{\n    address = {LOOPBACK}\n    port = {self.ssl_port}\n"
                          f"    ssl = yes\n  }}\n")
        mechanisms, oauth_passdb = "plain login", ""
        if self.oauth is not None:
            # Dovecot checks the bearer token itself: a JWT signed with a key it reads from KEYDIR.
            mechanisms = "plain login xoauth2 oauthbearer"
            keydir = self.root / "keys"
            # dict-fs drops the "shared/" of the key it looks up: default/HS256/<kid> under KEYDIR.
            key_file = keydir / "default" / "HS256" / self.oauth.kid
            key_file.parent.mkdir(parents=True)
            key_file.write_text(base64.b64encode(self.oauth.key).decode())
            (self.root / "oauth2.conf.ext").write_text(
                f"introspection_mode = local\nlocal_validation_key_dict = fs:posix:prefix={keydir}/\n"
                f"username_attribute = sub\nissuers = {self.oauth.issuer}\n")
            oauth_passdb = (f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n"
                            f"  args = {self.root}/oauth2.conf.ext\n}}\n")
            for path in [keydir, *keydir.rglob("*")]:
                os.chmod(path, 0o755 if path.is_dir() else 0o644)
        login_user = "dovenull" if os.geteuid() == 0 else user
        internal = "dovecot" if os.geteuid() == 0 else user
        (self.root / "dovecot.conf").write_text(f"""
base_dir = {self.root}/run
state_dir = {self.root}/state
instance_name = liaison-test-{self.port}
log_path = {self.root}/dovecot.log
info_log_path = {self.root}/dovecot.log
protocols = imap
listen = {LOOPBACK}
{ssl_config}disable_plaintext_auth = no
auth_mechanisms = {mechanisms}
default_login_user = {login_user}
default_internal_user = {internal}
mail_location = maildir:{self.root}/mail/%u
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
{listeners}}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
{self.extra_config}
""")
        self.maildir.mkdir(parents=True, exist_ok=True)
        for path in (self.root / "mail", self.maildir):
            os.chown(path, uid, gid)

    def start(self) -> DovecotServer:
        if self.process and self.process.poll() is None:
            return self
        # Its own session, so that stop() can end the master and every child at once.
        self.process = subprocess.Popen(["dovecot", "-F", "-c", str(self.root / "dovecot.conf")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        _RUNNING.append(self)
        if not wait_for_port(self.port):
            log = self.log_tail()
            self.stop()
            raise RuntimeError(f"Dovecot did not start on port {self.port}:\n{log}")
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            # SIGKILL to the whole group: a clean SIGTERM shutdown takes Dovecot a second, and an
            # outage is exactly what the fault tests want to simulate anyway.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None
        # Wait until the port is really free, so start() on the same port works at once.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((LOOPBACK, self.port), timeout=0.2):
                    time.sleep(0.05)
            except OSError:
                break

    def restart(self) -> None:
        self.stop()
        self.start()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        path = self.root / "dovecot.log"
        if not path.exists():
            return "(no log)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def __enter__(self) -> DovecotServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.cleanup()

    # -- mailbox helpers ---------------------------------------------------------------------

    def client(self) -> imapclient.IMAPClient:
        client = imapclient.IMAPClient(self.host, port=self.port, ssl=False, timeout=30)
        client.login(self.user, self.password)
        return client

    def append(self, raw: bytes, folder: str = "INBOX", flags: tuple = (), msg_time: Any = None) -> int:
        with self.client() as client:
            response = client.append(folder, raw, flags=flags, msg_time=msg_time)
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

    def recreate_mailbox(self) -> None:
        """Same messages, new UIDVALIDITY, as after a server restore: Dovecot forgets its UID list.

        Dovecot takes UIDVALIDITY from the clock, so a second passes before it rebuilds.
        """
        self.stop()
        for path in self.maildir.glob("dovecot*"):
            path.unlink()
        time.sleep(1.1)
        self.start()


class RecordingHandler:
    """What arrives, and failures on demand (temporary and permanent kept apart)."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.arrived_at: list[float] = []  # perf_counter() when each message was accepted
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        self._failures: list[str] = []

    def fail_next(self, count: int, code: int = 451, text: str = "4.3.0 Try again later") -> None:
        with self.lock:
            self._failures += [f"{code} {text}"] * count

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self._failures:
                return self._failures.pop(0)
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content
                                                                                       or envelope.content)))
            self.arrived_at.append(time.perf_counter())
            self.arrived.notify_all()
        return "250 OK"


class CountingSMTP(SMTPProtocol):
    def connection_made(self, transport: Any) -> None:
        self.event_handler.connections += 1
        super().connection_made(transport)


class SMTPServer:
    """aiosmtpd on a free loopback port with a recording handler."""

    def __init__(self, *, port: int | None = None, handler: RecordingHandler | None = None,
                 **smtp_kwargs: Any) -> None:
        self.host = LOOPBACK
        self.handler = handler or RecordingHandler()
        self.handler.connections = 0  # type: ignore[attr-defined]
        self.port = port or free_port()
        self.smtp_kwargs = smtp_kwargs
        self.controller: Controller | None = None

    @property
    def messages(self) -> list[tuple[str, list[str], bytes]]:
        return self.handler.messages

    @property
    def connections(self) -> int:
        return self.handler.connections  # type: ignore[attr-defined]

    def parsed(self) -> list[EmailMessage]:
        with self.handler.lock:
            raws = [raw for _, _, raw in self.handler.messages]
        return [email.message_from_bytes(raw, policy=default) for raw in raws]  # type: ignore[misc]

    def fail_next(self, count: int, code: int = 451, text: str = "4.3.0 Try again later") -> None:
        self.handler.fail_next(count, code, text)

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        with self.handler.arrived:
            while len(self.handler.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.handler.arrived.wait(left)
        return True

    def start(self) -> SMTPServer:
        kwargs = {"auth_require_tls": False, **self.smtp_kwargs}
        controller = Controller(self.handler, hostname=self.host, port=self.port, **kwargs)
        controller.factory = lambda: CountingSMTP(self.handler, hostname="liaison-test", **kwargs)  # type: ignore
        controller.start()
        self.controller = controller
        _RUNNING.append(self)
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def cleanup(self) -> None:
        self.stop()

    def __enter__(self) -> SMTPServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def make_message(*, sender: str = "Tom Hill <tom@brewco.com>", to: str = "accounts@agency.example",
                 subject: str = "Hello", body: str = "Hello there.", message_id: str | None = None,
                 headers: dict[str, str] | None = None, in_reply_to: str | None = None,
                 html: str | None = None, attachments: list[tuple[str, bytes]] | None = None) -> bytes:
    """A realistic RFC 5322 message."""
    message = EmailMessage(policy=default)
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = email.utils.format_datetime(email.utils.localtime())
    message["Message-ID"] = message_id or email.utils.make_msgid(domain="client.test")
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


def tls_client_context(verify: bool) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


@atexit.register
def _stop_everything() -> None:
    for server in _RUNNING:
        with contextlib.suppress(Exception):
            server.cleanup()


def quiet_rules(folder: Path, source: Path, **replacements: str) -> Path:
    """A copy of a rules file with the daily summary off, so tests count only the mail they cause."""
    text = source.read_text().replace("  enabled: true ", "  enabled: false ")
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
    from inbox.accounts import import_accounts, read_accounts_csv
    from inbox.config import ServerSettings, Settings
    from inbox.store import Store

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
