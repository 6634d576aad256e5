"""OAuth2 for IMAP and SMTP (XOAUTH2): providers, a durable token store, refresh before expiry.

Tokens live in the database. A refresh that returns a new (rotated) refresh token stores it
in the same transaction as the new access token, the moment it arrives: a crash can never
leave us holding only a refresh token the provider has already retired. A refresh the
provider refuses for good (revoked consent) raises AuthRevoked, which stops that mailbox with
one log line and an alert in the summary; anything else is temporary and retried.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlparse

from foundation.errors import AuthRevoked, AuthTemporary, ConfigError, LiaisonError
from foundation.secrets import all_forms, basic_auth_forms, scrub
from foundation.store import Store, utcnow

log = logging.getLogger("liaison.oauth")
REFRESH_MARGIN = timedelta(minutes=5)
PROVIDERS = ("microsoft", "google", "generic")
SCOPES = {
    "microsoft": ["https://outlook.office.com/IMAP.AccessAsUser.All", "https://outlook.office.com/SMTP.Send",
                  "offline_access"],
    "microsoft-app": ["https://outlook.office365.com/.default"],
    "google": ["https://mail.google.com/"],
}
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"


@dataclass(frozen=True)
class OAuthSettings:
    provider: str
    client_id: str
    client_secret: str = ""
    tenant: str = "common"
    token_url: str = ""
    scopes: tuple[str, ...] = ()
    flow: str = "delegated"  # or "app" (client credentials, Microsoft 365 service principals)


def oauth_settings(values: Mapping[str, str]) -> OAuthSettings:
    provider = values.get("oauth_provider", "").lower()
    if provider not in PROVIDERS:
        raise ConfigError("LIAISON_OAUTH_PROVIDER", f"must be one of {', '.join(PROVIDERS)}")
    client_id = values.get("oauth_client_id", "")
    if not client_id:
        raise ConfigError("LIAISON_OAUTH_CLIENT_ID", "is required with oauth2")
    flow = values.get("oauth_flow", "delegated").lower()
    if flow not in ("delegated", "app"):
        raise ConfigError("LIAISON_OAUTH_FLOW", "must be delegated or app")
    token_url = values.get("oauth_token_url", "")
    if provider == "generic" and not token_url:
        raise ConfigError("LIAISON_OAUTH_TOKEN_URL", "is required for the generic provider")
    scopes = tuple(values.get("oauth_scopes", "").split()) or tuple(
        SCOPES.get(f"{provider}-app" if flow == "app" else provider, ()))
    return OAuthSettings(provider, client_id, values.get("oauth_client_secret", ""),
                         values.get("oauth_tenant", "common"), token_url, scopes, flow)


class Provider(Protocol):
    def refresh(self, refresh_token: str | None) -> dict[str, Any]: ...


class GenericProvider:
    """Any OAuth2 token endpoint, through authlib."""

    def __init__(self, settings: OAuthSettings) -> None:
        self.settings = settings
        _allow_plain_http_on_loopback(settings.token_url)

    def refresh(self, refresh_token: str | None) -> dict[str, Any]:
        from authlib.integrations.base_client.errors import OAuthError
        from authlib.integrations.requests_client import OAuth2Session

        s = self.settings
        session = OAuth2Session(s.client_id, s.client_secret or None, scope=" ".join(s.scopes) or None)
        try:
            if refresh_token is None:
                return dict(session.fetch_token(s.token_url, grant_type="client_credentials"))
            return dict(session.refresh_token(s.token_url, refresh_token=refresh_token))
        except OAuthError as exc:
            raise _classified(exc.error, exc.description) from None
        except Exception as exc:  # network, TLS, a broken endpoint: all temporary
            raise AuthTemporary(f"token endpoint {s.token_url}: {type(exc).__name__}: {exc}") from None
        finally:
            session.close()


class GoogleProvider:
    """Google Workspace through google-auth."""

    def __init__(self, settings: OAuthSettings) -> None:
        self.settings = settings
        _allow_plain_http_on_loopback(settings.token_url)

    def refresh(self, refresh_token: str | None) -> dict[str, Any]:
        import google.auth.exceptions
        from google.auth.transport.requests import Request
        from google.oauth2.credentials import Credentials

        s = self.settings
        if refresh_token is None:
            raise AuthRevoked("Google needs a signed-in user: run `liaison auth login --provider google`")
        credentials = Credentials(None, refresh_token=refresh_token, token_uri=s.token_url or GOOGLE_TOKEN_URL,
                                  client_id=s.client_id, client_secret=s.client_secret, scopes=list(s.scopes))
        try:
            credentials.refresh(Request())
        except google.auth.exceptions.RefreshError as exc:
            if getattr(exc, "retryable", False):
                raise AuthTemporary(str(exc)) from None
            raise AuthRevoked(f"Google refused the refresh token: {exc}") from None
        except google.auth.exceptions.TransportError as exc:
            raise AuthTemporary(str(exc)) from None
        expires_in = (credentials.expiry.replace(tzinfo=UTC) - datetime.now(UTC)).total_seconds() \
            if credentials.expiry else 3600
        return {"access_token": credentials.token, "refresh_token": credentials.refresh_token,
                "expires_in": expires_in}


class MicrosoftProvider:
    """Microsoft 365 through msal: delegated (a user signed in once) or app-only (client credentials)."""

    def __init__(self, settings: OAuthSettings) -> None:
        self.settings = settings

    def _app(self) -> Any:
        import msal

        s = self.settings
        authority = f"https://login.microsoftonline.com/{s.tenant}"
        if s.client_secret:
            return msal.ConfidentialClientApplication(s.client_id, client_credential=s.client_secret,
                                                      authority=authority)
        return msal.PublicClientApplication(s.client_id, authority=authority)

    def refresh(self, refresh_token: str | None) -> dict[str, Any]:
        app = self._app()
        try:
            if refresh_token is None:
                result = app.acquire_token_for_client(scopes=list(self.settings.scopes))
            else:
                scopes = [s for s in self.settings.scopes if s not in ("offline_access", "openid", "profile")]
                result = app.acquire_token_by_refresh_token(refresh_token, scopes=scopes)
        except Exception as exc:
            raise AuthTemporary(f"Microsoft token endpoint: {type(exc).__name__}: {exc}") from None
        if "error" in result:
            raise _classified(result["error"], result.get("error_description", ""))
        return result


def provider_for(settings: OAuthSettings) -> Provider:
    providers: dict[str, Callable[[OAuthSettings], Provider]] = {
        "generic": GenericProvider, "google": GoogleProvider, "microsoft": MicrosoftProvider}
    return SecretFreeErrors(providers[settings.provider](settings), settings)


class SecretFreeErrors:
    """A provider whose errors never carry the client secret or the refresh token, in any form: a token endpoint
    may echo the request in its refusal, and the error reaches logs, `auth status`, the summary and the CLI."""

    def __init__(self, inner: Provider, settings: OAuthSettings) -> None:
        self.inner = inner
        self.settings = settings

    def refresh(self, refresh_token: str | None) -> dict[str, Any]:
        try:
            return self.inner.refresh(refresh_token)
        except (AuthRevoked, AuthTemporary) as exc:
            s = self.settings
            forms = all_forms([s.client_secret, refresh_token or ""])
            forms += sorted(basic_auth_forms(s.client_id, s.client_secret), key=len, reverse=True) \
                if s.client_secret else []
            raise type(exc)(scrub(str(exc), forms)) from None

    def __getattr__(self, name: str) -> Any:  # the Microsoft device-code sign-in reaches the msal app
        return getattr(self.inner, name)


def _classified(error: str | None, description: str | None) -> LiaisonError:
    text = f"{error}: {description or ''}".strip(": ")
    if error in ("invalid_grant", "unauthorized_client", "invalid_client", "access_denied", "interaction_required"):
        return AuthRevoked(f"the provider refused the refresh: {text}")
    return AuthTemporary(f"token refresh failed: {text}")


def _allow_plain_http_on_loopback(url: str) -> None:
    """authlib refuses http:// token endpoints; allow it only for a local test server."""
    if url.startswith("http://") and urlparse(url).hostname in ("127.0.0.1", "localhost", "::1"):
        os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"


class TokenManager:
    """Access tokens for one mailbox, refreshed before they expire, stored durably."""

    def __init__(self, store: Store, mailbox: str, provider: Provider, settings: OAuthSettings) -> None:
        self.store = store
        self.mailbox = mailbox
        self.provider = provider
        self.settings = settings
        self._lock = threading.Lock()

    def access_token(self, *, force: bool = False) -> str:
        """A valid access token; `force` after the server rejected the current one (once, never a loop)."""
        with self._lock:
            row = self.store.one("SELECT * FROM oauth_tokens WHERE mailbox = ?", [self.mailbox])
            if row and row["status"] == "revoked":
                raise AuthRevoked(f"{self.mailbox}: sign-in revoked ({row['error']}); run `liaison auth login`")
            if row and not force and row["access_token"] and \
                    datetime.fromisoformat(row["expires_at"]) - datetime.now(UTC) > REFRESH_MARGIN:
                return row["access_token"]
            if row is None and self.settings.flow != "app":
                raise AuthRevoked(f"{self.mailbox}: no tokens stored; run `liaison auth login`")
            return self._refresh(row)

    def _refresh(self, row: dict[str, Any] | None) -> str:
        refresh_token = None if self.settings.flow == "app" else row["refresh_token"]  # type: ignore[index]
        try:
            answer = self.provider.refresh(refresh_token)
        except AuthRevoked as exc:
            self._record_revoked(str(exc))
            raise
        self.save(answer, fallback_refresh=refresh_token)
        log.info("refreshed the access token for %s", self.mailbox)
        return answer["access_token"]

    def save(self, answer: dict[str, Any], *, fallback_refresh: str | None = None, account: str = "") -> None:
        """Store a token answer; a rotated refresh token replaces the old one in the same transaction."""
        now = datetime.now(UTC)
        expires = now + timedelta(seconds=float(answer.get("expires_in") or 3600))
        values = {"provider": self.settings.provider, "access_token": answer["access_token"],
                  "refresh_token": answer.get("refresh_token") or fallback_refresh,
                  "expires_at": expires.isoformat(), "refreshed_at": now.isoformat(), "status": "ok", "error": None}
        with self.store.transaction():
            if self.store.one("SELECT 1 FROM oauth_tokens WHERE mailbox = ?", [self.mailbox]):
                self.store.update("oauth_tokens", "mailbox", self.mailbox, values)
            else:
                self.store.insert("oauth_tokens", {"mailbox": self.mailbox, "account": account or self.mailbox,
                                                   **values})

    def _record_revoked(self, reason: str) -> None:
        with self.store.transaction():
            self.store.update("oauth_tokens", "mailbox", self.mailbox, {"status": "revoked", "error": reason})
            self.store.insert("events", {"at": utcnow(), "kind": "auth_failed",
                                         "detail": {"mailbox": self.mailbox, "reason": reason}})


def token_status(store: Store) -> list[dict[str, Any]]:
    """Per mailbox: provider, account, expiry, last refresh, state. Never a token."""
    return store.all("SELECT mailbox, provider, account, expires_at, refreshed_at, status, error "
                     "FROM oauth_tokens ORDER BY mailbox")


def interactive_login(manager: TokenManager, say: Callable[[str], object]) -> None:
    """The one-time sign-in: app-only, device code (Microsoft) or browser with a loopback redirect."""
    s = manager.settings
    if s.flow == "app":
        manager.save(manager.provider.refresh(None))
        return
    if s.provider == "microsoft":
        app = manager.provider._app()  # type: ignore[attr-defined]
        scopes = [x for x in s.scopes if x not in ("offline_access", "openid", "profile")]
        flow = app.initiate_device_flow(scopes=scopes)
        if "user_code" not in flow:
            raise AuthTemporary(f"device code flow failed: {flow.get('error_description', flow)}")
        say(flow["message"])
        result = app.acquire_token_by_device_flow(flow)
        if "error" in result:
            raise _classified(result["error"], result.get("error_description"))
        manager.save(result)
        return
    manager.save(_browser_code_flow(s, say))


def _browser_code_flow(s: OAuthSettings, say: Any) -> dict[str, Any]:
    """Authorization code with PKCE and a redirect to a one-shot server on 127.0.0.1."""
    from http.server import BaseHTTPRequestHandler, HTTPServer
    from urllib.parse import parse_qs

    from authlib.common.security import generate_token
    from authlib.integrations.requests_client import OAuth2Session

    authorize = os.environ.get("LIAISON_OAUTH_AUTHORIZE_URL") or (
        "https://accounts.google.com/o/oauth2/v2/auth" if s.provider == "google" else "")
    if not authorize:
        raise ConfigError("LIAISON_OAUTH_AUTHORIZE_URL", "is required to sign in with the generic provider")
    received: dict[str, str] = {}

    class Catch(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            received.update({k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()})
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"Liaison is signed in. You can close this window.")

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Catch)
    redirect = f"http://127.0.0.1:{server.server_port}/"
    verifier = generate_token(48)
    session = OAuth2Session(s.client_id, s.client_secret or None, scope=" ".join(s.scopes), redirect_uri=redirect,
                            code_challenge_method="S256")
    url, state = session.create_authorization_url(authorize, code_verifier=verifier, access_type="offline",
                                                  prompt="consent")
    say(f"Open this address in a browser and sign in as the shared mailbox:\n{url}")
    server.timeout = 300
    server.handle_request()
    server.server_close()
    if received.get("state") != state or "code" not in received:
        raise AuthRevoked(f"sign-in did not complete: {received.get('error', 'no code received')}")
    token_url = s.token_url or GOOGLE_TOKEN_URL
    _allow_plain_http_on_loopback(token_url)
    return dict(session.fetch_token(token_url, code=received["code"], code_verifier=verifier))
