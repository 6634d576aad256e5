"""`liaison doctor`: check every setting against the real servers before going live.

Each check is a line, ✓ or ✗, and every ✗ carries the fix. Checks that depend on a failed
one are not attempted (a login cannot be tried on a server that cannot be reached).
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import shutil
import smtplib
import socket
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from foundation.errors import ConfigError, LiaisonError, RulesError
from foundation.settings import (
    ServerSettings,
    Settings,
    config_search_order,
    find_config,
    how_to_fix,
    load_settings,
    tls_fix,
)

CAPABILITIES = ("IDLE", "UIDPLUS", "MOVE", "CONDSTORE")


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""
    fix: str = ""
    warning: bool = False  # passed, but worth a look (shown with "!")


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def warnings(self) -> int:
        return sum(c.warning for c in self.checks)

    def add(self, name: str, ok: bool, detail: str = "", fix: str = "", *, warning: bool = False) -> bool:
        self.checks.append(Check(name, ok, detail, "" if ok and not warning else fix, warning=ok and warning))
        return ok


def format_check(check: Check) -> str:
    mark = "✗" if not check.ok else "!" if check.warning else "✓"
    line = f"{mark} {check.name}" + (f": {check.detail}" if check.detail else "")
    return line + (f"\n    fix: {check.fix}" if check.fix else "")


def run_doctor(*, env: Mapping[str, str] | None = None, send_test: bool = False, timeout: float = 15.0,
               wait_seconds: float = 120.0, emit: Callable[[Check], None] = lambda _: None) -> Report:
    """Run every check, calling `emit` as each one finishes (a slow server shows where it hangs)."""
    report = Report()

    def add(name: str, ok: bool, detail: str = "", fix: str = "", *, warning: bool = False) -> bool:
        report.add(name, ok, detail, fix, warning=warning)
        emit(report.checks[-1])
        return ok

    env = os.environ if env is None else env
    found = find_config(env)
    looked = f"looked at {', '.join(config_search_order(env))}"
    add("config file", found is None or found.is_file(),
        f"{found} ({looked})" if found else f"none found, environment only ({looked})",
        "name an existing config file (--config, LIAISON_CONFIG), or `liaison init` to write one")
    try:
        settings = load_settings(env, need_imap=True, need_smtp=True)
    except ConfigError as exc:
        add("settings", False, str(exc), how_to_fix(exc, env))
        return report
    add("settings", True, "all valid")
    _check_rules(settings, add)
    _check_database(settings, add)
    imap_ok = _check_imap(settings, add, timeout=timeout)
    smtp_ok = _check_smtp(settings, add, timeout=timeout)
    _check_oauth(settings, add)
    if send_test:
        if imap_ok and smtp_ok:
            _send_test(settings, add, wait_seconds=wait_seconds)
        else:
            add("send test", False, "not attempted", "fix the IMAP and SMTP checks above first")
    return report


# -- files -------------------------------------------------------------------------------------


def _check_rules(settings: Settings, add: Callable[..., bool]) -> None:
    from inbox.daemon import load_checked_rules
    from responders.template_check import check_templates

    if settings.rules_shipped:
        add("rules", False, f"no rules file (the shipped one would stand in: {settings.rules_path})",
            "run `liaison init DIR` for a rules.yaml to edit, or set LIAISON_RULES")
        return
    try:
        rules = load_checked_rules(settings.rules_path, render_templates=False)
    except RulesError as exc:
        add("rules", False, "; ".join(exc.problems[:3]),
            f"edit {settings.rules_path}; check with `liaison rules check`")
        return
    add("rules", True, f"{settings.rules_path}: {len(rules.spec.rules)} rules, mode {rules.spec.mode}")
    _check_thresholds(settings, rules, add)
    logging.disable(logging.CRITICAL)  # the samples' own log lines are noise here; the check line says it all
    try:
        check_templates(rules)
        sent = _render_samples(settings, rules)
    except RulesError as exc:
        add("templates", False, "; ".join(exc.problems[:3]), "fix the template named; `liaison rules check` "
            "lists every problem")
        return
    except LiaisonError as exc:
        add("templates", False, str(exc), "fix the template named; `liaison rules test FILE.eml` shows the result")
        return
    finally:
        logging.disable(logging.NOTSET)
    add("templates", True, f"{sent} sample replies and the daily summary rendered")


def _check_thresholds(settings: Settings, rules: Any, add: Callable[..., bool]) -> None:
    """A warning (never a failure) when rules.yaml acknowledges below the running model's calibration."""
    from inbox.models import threshold_notes

    notes = threshold_notes(rules, settings.rules_path, settings.db_path)
    add("acknowledgement thresholds", True, "; ".join(n.text for n in notes) or "as the model is calibrated",
        "raise them in rules.yaml (classifier.acknowledge) to the calibrated values, unless acknowledging more "
        "often is meant", warning=any(n.lower for n in notes))


def _render_samples(settings: Settings, rules: Any) -> int:
    """The bundled sample mailbox through a throw-away pipeline with these rules: every reply and the summary."""
    from foundation.accounts import read_accounts_csv
    from foundation.errors import TemplateError
    from foundation.store import loads
    from inbox.demo import DEMO_DIR, mailbox_files
    from inbox.scratch import scratch_pipeline
    from responders import summary
    from responders.templates import TemplateLibrary

    pipeline = scratch_pipeline(settings, rules, accounts=read_accounts_csv(DEMO_DIR / "accounts.csv"))
    for path in mailbox_files(DEMO_DIR / "mailbox"):
        outcome = pipeline.ingest(path.read_bytes())
        if outcome.status == "quarantined":  # every sample parses: only the rules or a template can fail it
            raise TemplateError(f"sample {path.name}: {outcome.reason}")
    failed = pipeline.store.one("SELECT detail FROM events WHERE kind = 'action_failed' LIMIT 1")
    if failed:
        detail = loads(failed["detail"], {})
        raise TemplateError(f"{detail.get('action', 'reply')} failed: {detail.get('reason', failed['detail'])}")
    templates = TemplateLibrary(rules.template_dir)
    lead = summary.team_lead_address(rules) or settings.address
    day = datetime.now(UTC).astimezone(rules.zone()).date()
    summary.render(summary.build(pipeline.store, rules, lead, day, team=True), templates)
    return int(pipeline.store.scalar("SELECT COUNT(*) FROM outbox"))


def _check_database(settings: Settings, add: Callable[..., bool]) -> None:
    import sqlite3

    from foundation.store import Store

    path = settings.db_path
    try:
        store = Store(path)
        try:
            store.check_writable()
        finally:
            store.close()
    except (OSError, sqlite3.Error) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        fix = (f"the file may not be written by anyone, root included: `lsattr {path}`, then `chattr -i`"
               if getattr(exc, "errno", None) == errno.EPERM else
               f"make {path.parent} writable by this user (or set LIAISON_DB / db in the config file)")
        add("database", False, f"{path}: {reason}", fix)
        return
    free = shutil.disk_usage(path.absolute().parent).free
    if free < DISK_FREE_AT_LEAST:  # round 23b: a full disk passed, the write lock taken needing no room
        add("database", False, f"{path.absolute()}: only {free // 2**20} MB free on its disk",
            f"free space there (Liaison keeps every message; at least {DISK_FREE_AT_LEAST // 2**20} MB)")
        return
    add("database", True, f"{path.absolute()} writable, {free // 2**20} MB free")
    _check_agency_domains(settings, add)
    _check_outbox(settings, add)


OUTBOX_LOOKBACK_DAYS = 7
DISK_FREE_AT_LEAST = 50 * 2**20  # a day of a busy inbox's mail, kept raw


def _check_outbox(settings: Settings, add: Callable[..., bool]) -> None:
    """What the daemon could not send: a warning, since the settings may be right now (round 23: doctor said "all
    checks passed" while 12 acknowledgements had been refused for good with 550 and `status` showed them)."""
    from foundation.store import Store

    store = Store(settings.db_path)
    try:
        since = (datetime.now(UTC) - timedelta(days=OUTBOX_LOOKBACK_DAYS)).isoformat()
        failed = store.scalar("SELECT COUNT(*) FROM outbox WHERE status = 'failed' AND created_at >= ?", [since])
        last = store.one("SELECT kind, recipients, last_error FROM outbox WHERE status = 'failed' AND created_at >= ? "
                         "ORDER BY id DESC LIMIT 1", [since])
        waiting = store.scalar("SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'retry', 'sending')")
        oldest = store.scalar("SELECT MIN(created_at) FROM outbox WHERE status IN ('pending', 'retry', 'sending')")
        retried = store.scalar("SELECT last_error FROM outbox WHERE status = 'retry' ORDER BY id DESC LIMIT 1")
    finally:
        store.close()
    problems = []
    if last:
        problems.append(f"{failed} mail(s) refused for good in the last {OUTBOX_LOOKBACK_DAYS} days, never to be "
                        f"sent (last: {last['kind']} to {', '.join(json.loads(last['recipients']))}: "
                        f"{last['last_error']})")
    if waiting:
        problems.append(f"{waiting} waiting to be sent, the oldest since {str(oldest)[:16].replace('T', ' ')}"
                        + (f" (last error: {retried})" if retried else ""))
    add("outbox", True, "; ".join(problems) or "nothing refused or waiting",
        "the daily summary lists each refused mail under Review (answer those people yourself); `liaison status` "
        "shows the last",
        warning=bool(problems))


def _check_agency_domains(settings: Settings, add: Callable[..., bool]) -> None:
    from foundation.accounts import staff_clashes
    from foundation.store import Store

    store = Store(settings.db_path)
    try:
        clashes = staff_clashes(store, settings.agency_domains)
    finally:
        store.close()
    add("agency domains", not clashes, "; ".join(clashes) or ", ".join(settings.agency_domains),
        "remove the domain from agency_domains if it is the client's, or from the account in the accounts "
        "file (then import it again) if it is the agency's own")


# -- IMAP --------------------------------------------------------------------------------------


def _port_fix(kind: str, server: ServerSettings) -> str:
    usual = {"imap": "993 with ssl, 143 with starttls", "smtp": "465 with ssl, 587 with starttls"}[kind]
    return (f"check LIAISON_{kind.upper()}_HOST and LIAISON_{kind.upper()}_PORT (usual: {usual}) and that "
            f"this machine may connect to {server.host}:{server.port}")


def _reachable(kind: str, server: ServerSettings, add: Callable[..., bool], timeout: float) -> bool:
    try:
        with socket.create_connection((server.host, server.port), timeout=timeout):
            pass
    except OSError as exc:
        return add(f"{kind.upper()} reachable", False, f"{server.host}:{server.port}: {_reason(exc)}",
                   _port_fix(kind, server))
    return add(f"{kind.upper()} reachable", True, f"{server.host}:{server.port}")


def _folder_there(client: Any, folder: str) -> bool:
    from imapclient.exceptions import IMAPClientError

    try:
        return bool(client.folder_exists(folder))
    except (OSError, IMAPClientError):
        return False


def _check_imap(settings: Settings, add: Callable[..., bool], *, timeout: float) -> bool:
    import imapclient
    from imapclient.exceptions import IMAPClientError, LoginError

    from inbox.imap_source import tls_context

    server = settings.imap
    assert server is not None
    if not _reachable("imap", server, add, timeout):
        return False
    try:
        client = imapclient.IMAPClient(server.host, port=server.port, ssl=server.security == "ssl",
                                       ssl_context=tls_context(server), timeout=timeout)
        if server.security == "starttls":
            client.starttls(tls_context(server))
    except (OSError, IMAPClientError, ssl.SSLError) as exc:
        add("IMAP TLS", False, f"{server.describe()}: {_reason(exc)}", tls_fix("imap", server, exc))
        return False
    with contextlib.closing(_Closing(client.logout)):
        add("IMAP TLS", True, _tls_detail(server))
        try:
            _imap_login(client, settings)
        except (LoginError, LiaisonError) as exc:
            return add("IMAP login", False, f"{server.user}: {_reason(exc)}",
                       "check LIAISON_IMAP_USER and LIAISON_IMAP_PASSWORD (in the env file), or `liaison auth login`")
        except (OSError, IMAPClientError) as exc:
            return add("IMAP login", False, _reason(exc), "check LIAISON_IMAP_AUTH and what the server offers")
        add("IMAP login", True, server.user)
        try:
            exists = client.folder_exists(settings.folder)
        except (OSError, IMAPClientError) as exc:
            return add("IMAP folder", False, _reason(exc), "check LIAISON_IMAP_FOLDER")
        if not exists:
            folders = ", ".join(sorted(str(f[2]) for f in client.list_folders())[:10])
            return add("IMAP folder", False, f"{settings.folder!r} does not exist (there are: {folders})",
                       "set LIAISON_IMAP_FOLDER (imap_folder) to one of those, or create the folder")
        add("IMAP folder", True, settings.folder)
        if settings.sent_folder and not _folder_there(client, settings.sent_folder):
            folders = ", ".join(sorted(str(f[2]) for f in client.list_folders())[:10])
            add("IMAP Sent folder", False, f"{settings.sent_folder!r} does not exist (there are: {folders}); until "
                "it does, a send interrupted by a crash waits instead of being resent",
                "set LIAISON_IMAP_SENT_FOLDER (imap_sent_folder) to where your provider files sent mail")
        elif settings.sent_folder:
            add("IMAP Sent folder", True, f"{settings.sent_folder} (checked before resending after a crash)")
        offered = {c.decode(errors="replace").upper() for c in client.capabilities()}
        missing = [c for c in CAPABILITIES if c not in offered]
        add("IMAP capabilities", True, " ".join(c for c in CAPABILITIES if c in offered)
            + (f" (not offered: {' '.join(missing)}; " + ("polling instead of IDLE" if "IDLE" in missing else
                                                          "Liaison works without them") + ")" if missing else ""))
    return True


class _Closing:
    """Say goodbye to a server on the way out, whatever state the conversation is in."""

    def __init__(self, goodbye: Callable[[], object]) -> None:
        self.goodbye = goodbye

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.goodbye()


def _imap_login(client: Any, settings: Settings) -> None:
    from inbox.imap_source import password_login

    server = settings.imap
    assert server is not None
    if server.auth != "oauth2":
        password_login(client, server)
        return
    client.oauth2_login(server.user, _access_token(settings))


def _access_token(settings: Settings) -> str:
    from foundation.store import Store
    from inbox.daemon import token_manager

    manager = token_manager(Store(settings.db_path), settings)
    if manager is None:
        raise LiaisonError("oauth2 needs LIAISON_OAUTH_PROVIDER and LIAISON_OAUTH_CLIENT_ID")
    return manager.access_token()


# -- SMTP --------------------------------------------------------------------------------------


def _check_smtp(settings: Settings, add: Callable[..., bool], *, timeout: float) -> bool:
    from inbox.imap_source import tls_context

    server = settings.smtp
    assert server is not None
    if not _reachable("smtp", server, add, timeout):
        return False
    try:
        if server.security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(server.host, server.port, timeout=timeout,
                                                    context=tls_context(server))
        else:
            client = smtplib.SMTP(server.host, server.port, timeout=timeout)
        client.ehlo()
        if server.security == "starttls":
            if not client.has_extn("starttls"):
                client.close()
                return add("SMTP TLS", False, f"{server.describe()}: STARTTLS not offered",
                           "set LIAISON_SMTP_SECURITY=ssl with port 465, or ask for STARTTLS on this port")
            client.starttls(context=tls_context(server))
            client.ehlo()
    except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
        return add("SMTP TLS" if server.security != "none" else "SMTP greeting", False,
                   f"{server.describe()}: {_reason(exc)}", tls_fix("smtp", server, exc))
    with contextlib.closing(_Closing(client.quit)):
        if server.security != "none":
            add("SMTP TLS", True, _tls_detail(server))
        else:
            add("SMTP greeting", True, f"{server.describe()} (no TLS, as configured)")
        if not server.user:
            add("SMTP AUTH", True, "no login configured (LIAISON_SMTP_USER unset)")
            return True
        if not client.has_extn("auth"):
            return add("SMTP AUTH", False, "the server offers no AUTH on this connection",
                       "use the submission port with TLS (587 starttls or 465 ssl); for a relay that needs no login, "
                       "comment out smtp_user in the settings file (and unset LIAISON_SMTP_USER)")
        try:
            if server.auth == "oauth2":
                import base64

                token = _access_token(settings)
                blob = base64.b64encode(f"user={server.user}\1auth=Bearer {token}\1\1".encode()).decode()
                code, answer = client.docmd("AUTH", "XOAUTH2 " + blob)
                if code != 235:
                    raise smtplib.SMTPAuthenticationError(code, answer)
            elif f"{server.user}{server.password}".isascii():
                client.login(server.user, server.password)
            else:  # smtplib sends AUTH in ASCII only; PLAIN carries UTF-8 (RFC 4616), as the daemon's client does
                import base64

                blob = base64.b64encode(f"\0{server.user}\0{server.password}".encode()).decode()
                code, answer = client.docmd("AUTH", "PLAIN " + blob)
                if code != 235:
                    raise smtplib.SMTPAuthenticationError(code, answer)
        except (smtplib.SMTPException, LiaisonError) as exc:
            return add("SMTP AUTH", False, f"{server.user}: {_reason(exc)}",
                       "check LIAISON_SMTP_USER and LIAISON_SMTP_PASSWORD (in the env file)")
        add("SMTP AUTH", True, server.user)
    return True


# -- OAuth, the full loop ----------------------------------------------------------------------


def _check_oauth(settings: Settings, add: Callable[..., bool]) -> None:
    if settings.oauth is None:
        return
    from foundation.oauth import token_status
    from foundation.store import Store

    rows = token_status(Store(settings.db_path))
    if not rows:
        add("OAuth token", False, "no sign-in stored", "run `liaison auth login`")
        return
    for row in rows:
        ok = row["status"] == "ok"
        add("OAuth token", ok, f"{row['mailbox']} ({row['provider']}): {row['status']}, expires "
            f"{row['expires_at'] or '-'}" + (f" ({row['error']})" if row["error"] else ""),
            "run `liaison auth login` again")


def _send_test(settings: Settings, add: Callable[..., bool], *, wait_seconds: float) -> None:
    """One message to the shared inbox by the sending path, then watch for it over IMAP."""
    from foundation.store import Store
    from inbox.daemon import token_manager
    from inbox.imap_source import ImapSource
    from responders.compose import as_bytes, build_notice, new_message_id
    from responders.smtp import SMTPTransport

    message_id = new_message_id(settings.address)
    message = build_notice(sender=settings.address, to=[settings.address],
                           subject="Liaison doctor: test message (safe to delete)", message_id=message_id,
                           text="Sent by `liaison doctor --send-test` to check the whole loop.\n",
                           html="<p>Sent by <code>liaison doctor --send-test</code> to check the whole loop.</p>")
    tokens = token_manager(Store(settings.db_path), settings)
    began = time.monotonic()
    transport = SMTPTransport(settings.smtp, tokens=tokens)  # type: ignore[arg-type]
    try:
        transport.send(settings.address, [settings.address], as_bytes(message))
    except LiaisonError as exc:
        add("send test", False, f"sending failed: {exc}", "see the SMTP checks above")
        return
    finally:
        transport.close()
    source = ImapSource(settings.imap, settings.folder, tokens=tokens)  # type: ignore[arg-type]
    try:
        source.connect()
        for _ in _until(began + wait_seconds):
            found = source._call(lambda c: c.search(["HEADER", "Message-ID", message_id]))
            if found:
                add("send test", True, f"sent and seen in {settings.folder} after "
                    f"{time.monotonic() - began:.1f} s")
                return
            source._call(lambda c: c.noop())
    except LiaisonError as exc:
        add("send test", False, f"sent, then IMAP failed: {exc}", "see the IMAP checks above")
        return
    finally:
        source.close()
    add("send test", False, f"sent, but not in {settings.folder} after {wait_seconds:.0f} s",
        f"check that mail to {settings.address} is delivered to the folder LIAISON_IMAP_FOLDER names")


def _until(deadline: float) -> Iterator[None]:
    while time.monotonic() < deadline:
        yield
        time.sleep(0.5)


# -- wording -----------------------------------------------------------------------------------


def _tls_detail(server: ServerSettings) -> str:
    verified = "certificate verified" if server.verify_tls else "certificate NOT verified (LIAISON_*_TLS_VERIFY=false)"
    return f"{server.security}, {verified}" if server.security != "none" else "none (clear text, as configured)"



def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"{exc.smtp_code} {text}"
    value = exc.args[0] if exc.args else exc
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    if text[:2] in ("b'", 'b"') and text[-1:] == text[1]:
        text = text[2:-1]  # imapclient words some errors as the repr of the server's bytes
    return text or type(exc).__name__
