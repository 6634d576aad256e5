"""OAuth2 (XOAUTH2) with real servers: Dovecot validates the JWTs itself, aiosmtpd checks XOAUTH2,
and a loopback token endpoint rotates refresh tokens on every use and can revoke them."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from foundation.errors import AuthRevoked
from foundation.settings import load_settings
from foundation.store import Store
from inbox.cli import main
from inbox.daemon import Daemon, token_manager
from tests.servers import DovecotServer, SMTPServer, TokenEndpoint, XOAuth2Handler, quiet_rules
from tests.test_daemon import wait_for_log as wait_for

ROOT = Path(__file__).parent.parent


@pytest.fixture
def endpoint():
    server = TokenEndpoint(ttl=3600)
    yield server
    server.cleanup()


@pytest.fixture
def oauth_servers(endpoint):
    dovecot = DovecotServer(oauth=endpoint).start()
    smtp = SMTPServer(handler=XOAuth2Handler(endpoint), auth_required=True).start()
    yield dovecot, smtp
    dovecot.cleanup()
    smtp.cleanup()


@pytest.fixture
def env(tmp_path, endpoint, oauth_servers):
    dovecot, smtp = oauth_servers
    (tmp_path / "accounts.csv").write_text("account_id,name,code,domains,contacts,account_manager\n"
                                           "brewco,BrewCo,BREW,brewco.com,,anna@agency.example\n")
    values = {
        "PATH": os.environ["PATH"], "HOME": str(tmp_path), "PYTHONPATH": str(ROOT),
        "LIAISON_IMAP_HOST": dovecot.host, "LIAISON_IMAP_PORT": str(dovecot.port), "LIAISON_IMAP_USER": dovecot.user,
        "LIAISON_IMAP_SECURITY": "none", "LIAISON_IMAP_AUTH": "oauth2",
        "LIAISON_SMTP_HOST": smtp.host, "LIAISON_SMTP_PORT": str(smtp.port), "LIAISON_SMTP_SECURITY": "none",
        "LIAISON_SMTP_AUTH": "oauth2", "LIAISON_SMTP_USER": dovecot.user,
        "LIAISON_OAUTH_PROVIDER": "generic", "LIAISON_OAUTH_CLIENT_ID": "liaison-test",
        "LIAISON_OAUTH_CLIENT_SECRET": "client-secret-xyz", "LIAISON_OAUTH_TOKEN_URL": endpoint.token_url,
        "LIAISON_ADDRESS": "accounts@agency.example", "LIAISON_DB": str(tmp_path / "liaison.db"),
        "LIAISON_RULES": str(quiet_rules(tmp_path, ROOT / "rules.yaml")),
    }
    subprocess.run([sys.executable, "-m", "inbox.cli", "accounts", "import", str(tmp_path / "accounts.csv")],
                   env=values, check=True, capture_output=True, cwd=tmp_path)
    return values


def sign_in(env: dict, endpoint: TokenEndpoint, monkeypatch) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "stdin", io.StringIO(endpoint.current_refresh + "\n"))
    assert main(["auth", "login", "--refresh-token-stdin"]) == 0


def run_once(env: dict) -> None:
    settings = load_settings(env, need_imap=True, need_smtp=True)
    store = Store(settings.db_path)
    Daemon(settings, store).run_once()
    store.close()


def revision(make_message, n: int) -> bytes:
    return make_message(sender="Tom <tom@brewco.com>", subject=f"Banner {n}", body="Please change the banner.")


def test_reads_and_sends_with_oauth2(env, endpoint, oauth_servers, make_message, monkeypatch, capsys):
    dovecot, smtp = oauth_servers
    sign_in(env, endpoint, monkeypatch)
    dovecot.append(revision(make_message, 1))
    run_once(env)
    assert smtp.wait_for(2)
    assert main(["auth", "status"]) == 0
    status = capsys.readouterr().out
    assert "generic" in status and "ok" in status
    assert endpoint.current_refresh not in status and "client-secret-xyz" not in status


@pytest.mark.parametrize("provider", ["generic", "google"])
def test_rotated_refresh_token_is_kept_across_a_restart(env, endpoint, monkeypatch, provider):
    env["LIAISON_OAUTH_PROVIDER"] = provider  # google-auth, pointed at the loopback endpoint
    sign_in(env, endpoint, monkeypatch)  # first refresh: the token we pasted is now retired
    settings = load_settings(env, need_imap=True)
    first = token_manager(Store(settings.db_path), settings)
    first.access_token(force=True)  # second refresh, in "the first process"
    again = token_manager(Store(settings.db_path), settings)  # a restart: only the database carries over
    again.access_token(force=True)
    assert len(endpoint.refreshes) == 3 and len(set(endpoint.refreshes)) == 3  # each used once, never reused


def test_expiry_during_a_long_idle_refreshes_and_carries_on(env, endpoint, oauth_servers, make_message,
                                                            monkeypatch, tmp_path):
    dovecot, smtp = oauth_servers
    endpoint.ttl = 3  # tokens live three seconds: the one the daemon idles with expires under it
    sign_in(env, endpoint, monkeypatch)
    refreshes = len(endpoint.refreshes)
    log = open(tmp_path / "daemon.log", "w")  # noqa: SIM115
    process = subprocess.Popen([sys.executable, "-m", "inbox.cli", "run"], env=env, cwd=tmp_path, stdout=log,
                               stderr=subprocess.STDOUT)
    try:
        wait_for(tmp_path, "connected to", process)
        refreshes = len(endpoint.refreshes)
        time.sleep(3.5)  # the session's token has expired; Dovecot keeps the session, as servers do
        dovecot.restart()  # the server drops the idle connection: the daemon must sign in afresh
        wait_for(tmp_path, "reconnecting", process)
        dovecot.append(revision(make_message, 2))
        assert smtp.wait_for(2, timeout=30)
        assert len(endpoint.refreshes) > refreshes
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    text = (tmp_path / "daemon.log").read_text()
    assert endpoint.current_refresh not in text and "client-secret-xyz" not in text


def test_revoked_consent_stops_the_mailbox_and_the_process_stays_up(env, endpoint, oauth_servers, monkeypatch,
                                                                     tmp_path):
    dovecot, smtp = oauth_servers
    sign_in(env, endpoint, monkeypatch)
    settings = load_settings(env, need_imap=True)
    store = Store(settings.db_path)
    store.conn.execute("UPDATE oauth_tokens SET expires_at = '2000-01-01T00:00:00+00:00'")  # due for refresh
    endpoint.revoked = True
    log = open(tmp_path / "daemon.log", "w")  # noqa: SIM115
    process = subprocess.Popen([sys.executable, "-m", "inbox.cli", "run"], env=env, cwd=tmp_path, stdout=log,
                               stderr=subprocess.STDOUT)
    try:
        text = wait_for(tmp_path, "stopped:", process)
        time.sleep(2)
        assert process.poll() is None, "the process stays up"
        assert text.count("stopped:") == 1, "one clear line, not a loop"
        assert store.one("SELECT 1 FROM events WHERE kind = 'auth_failed'")
        with pytest.raises(AuthRevoked):
            token_manager(store, settings).access_token()
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0


def test_a_token_endpoint_echoing_the_request_never_puts_a_secret_in_an_error(monkeypatch):
    """A refusal that quotes the request (refresh token as sent, URL-encoded, in a repr) reaches logs, `auth
    status` and the summary: the error carries *** instead, in every form."""
    from urllib.parse import quote_plus

    from foundation.errors import AuthRevoked
    from foundation.oauth import OAuthSettings, provider_for

    token = "RT\"tok\\ én'x-123"

    class Echoing(TokenEndpoint):
        def answer(self, form: dict[str, str]) -> tuple[int, dict]:
            sent = form.get("refresh_token", "")
            return 400, {"error": "invalid_grant",
                         "error_description": f"raw={sent} enc={quote_plus(sent)} repr={sent!r}"}

    endpoint = Echoing()
    try:
        settings = OAuthSettings("generic", "liaison-test", "Oa\"9\\ séc'ret", "common", endpoint.token_url,
                                 ("imap",), "delegated")
        with pytest.raises(AuthRevoked) as refused:
            provider_for(settings).refresh(token)
    finally:
        endpoint.cleanup()
    text = str(refused.value)
    assert "raw=*** enc=*** repr='***'" in text, text
    assert "tok" not in text and "RT" not in text
