"""Settings from environment variables, optionally over a TOML config file.

Environment variables win over the file. Secrets (passwords) are read from the
environment only, so they never sit in a file that gets copied around.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from inbox.errors import ConfigError
from inbox.oauth import OAuthSettings, oauth_settings

SECURITY_MODES = ("ssl", "starttls", "none")
DEFAULT_PORTS = {
    "imap": {"ssl": 993, "starttls": 143, "none": 143},
    "smtp": {"ssl": 465, "starttls": 587, "none": 25},
}
SECRET_KEYS = ("imap_password", "smtp_password", "oauth_client_secret")
# Every key a config file may hold (the LIAISON_* settings in lower case, without the prefix):
# anything else is a typo or a misplaced setting, refused rather than silently ignored.
FILE_KEYS = frozenset({
    "address", "agency_domains", "db", "rules", "imap_folder", "imap_done_folder", "poll_interval",
    "smtp_retry_seconds",
    *(f"{kind}_{key}" for kind in ("imap", "smtp")
      for key in ("host", "port", "user", "password", "security", "tls_verify", "auth")),
    "oauth_provider", "oauth_client_id", "oauth_client_secret", "oauth_tenant", "oauth_flow", "oauth_token_url",
    "oauth_authorize_url", "oauth_scopes",
})
_ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")


@dataclass(frozen=True)
class ServerSettings:
    """Where and how to reach one mail server."""

    host: str
    port: int
    user: str = ""
    password: str = field(default="", repr=False)
    security: str = "ssl"
    verify_tls: bool = True
    auth: str = "password"  # or "oauth2" (XOAUTH2 with a token from inbox.oauth)

    def describe(self) -> str:
        """Host, port and security, never the password."""
        return f"{self.user + '@' if self.user else ''}{self.host}:{self.port} ({self.security})"


@dataclass(frozen=True)
class Settings:
    """Everything Liaison needs to run, validated."""

    address: str
    agency_domains: tuple[str, ...]
    db_path: Path
    rules_path: Path
    imap: ServerSettings | None
    smtp: ServerSettings | None
    folder: str = "INBOX"
    done_folder: str = ""
    poll_interval: float = 60.0
    retry_after: float = 30.0  # first SMTP retry; doubles each time, capped at an hour
    oauth: OAuthSettings | None = None


def load_settings(
    env: Mapping[str, str] | None = None, *, need_imap: bool = False, need_smtp: bool = False
) -> Settings:
    """Read and validate settings; raise ConfigError naming the first bad one."""
    values = _merged(os.environ if env is None else env)
    address = values.get("address", "accounts@localhost.localdomain")
    _check_address("LIAISON_ADDRESS", address)
    domains = tuple(d.strip().lower() for d in values.get("agency_domains", "").split(",") if d.strip())
    own_domain = address.rsplit("@", 1)[1].lower()
    if own_domain not in domains:
        domains = (*domains, own_domain)
    return Settings(
        address=address,
        agency_domains=domains,
        db_path=Path(values.get("db", "liaison.db")),
        rules_path=Path(values.get("rules", "rules.yaml")),
        imap=_server(values, "imap") if need_imap else _optional_server(values, "imap"),
        smtp=_server(values, "smtp") if need_smtp else _optional_server(values, "smtp"),
        folder=values.get("imap_folder", "INBOX") or "INBOX",
        done_folder=values.get("imap_done_folder", ""),
        poll_interval=_number(values, "poll_interval", 60.0),
        retry_after=_number(values, "smtp_retry_seconds", 30.0),
        oauth=oauth_settings(values) if "oauth2" in (values.get("imap_auth"), values.get("smtp_auth")) else None,
    )


def _merged(env: Mapping[str, str]) -> dict[str, str]:
    """Config file values (lower-case keys) overridden by LIAISON_* variables."""
    values: dict[str, str] = {}
    path = env.get("LIAISON_CONFIG", "")
    if path:
        values.update(_read_config_file(Path(path)))
    for name, value in env.items():
        if name.startswith("LIAISON_") and name != "LIAISON_CONFIG":
            values[name[len("LIAISON_") :].lower()] = value
    return values


def _read_config_file(path: Path) -> dict[str, str]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError("LIAISON_CONFIG", f"cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("LIAISON_CONFIG", f"{path}: {exc}") from None
    for key in SECRET_KEYS:
        if key in data:
            raise ConfigError(f"LIAISON_{key.upper()}", "secrets belong in the environment, not in a file")
    for key in data:
        if str(key).lower() not in FILE_KEYS:
            close = difflib.get_close_matches(str(key).lower(), sorted(FILE_KEYS), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError("LIAISON_CONFIG", f"{path}: unknown key {key!r}{hint}")
    return {str(k).lower(): _as_text(v) for k, v in data.items()}


def _as_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def _optional_server(values: dict[str, str], kind: str) -> ServerSettings | None:
    return _server(values, kind) if values.get(f"{kind}_host") else None


def _server(values: dict[str, str], kind: str) -> ServerSettings:
    host = values.get(f"{kind}_host", "")
    if not host:
        raise ConfigError(f"LIAISON_{kind.upper()}_HOST", "is required")
    security = values.get(f"{kind}_security", "ssl").lower()
    if security not in SECURITY_MODES:
        raise ConfigError(f"LIAISON_{kind.upper()}_SECURITY", f"must be one of {', '.join(SECURITY_MODES)}")
    port = _port(values, kind, DEFAULT_PORTS[kind][security])
    user = values.get(f"{kind}_user", "")
    password = values.get(f"{kind}_password", "")
    auth = values.get(f"{kind}_auth", "password").lower()
    if auth not in ("password", "oauth2"):
        raise ConfigError(f"LIAISON_{kind.upper()}_AUTH", "must be password or oauth2")
    if kind == "imap" and not user:
        raise ConfigError("LIAISON_IMAP_USER", "is required")
    if kind == "imap" and auth == "password" and not password:
        raise ConfigError("LIAISON_IMAP_PASSWORD", "is required (or set LIAISON_IMAP_AUTH=oauth2)")
    if auth == "oauth2" and not user:
        raise ConfigError(f"LIAISON_{kind.upper()}_USER", "is required with oauth2")
    return ServerSettings(
        host=host,
        port=port,
        user=user,
        password=password,
        security=security,
        verify_tls=_flag(values, f"{kind}_tls_verify", True),
        auth=auth,
    )


def _port(values: dict[str, str], kind: str, default: int) -> int:
    raw = values.get(f"{kind}_port", "")
    if not raw:
        return default
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ConfigError(f"LIAISON_{kind.upper()}_PORT", f"must be a port number, not {raw!r}")
    return int(raw)


def _number(values: dict[str, str], key: str, default: float) -> float:
    raw = values.get(key, "")
    if not raw:
        return default
    try:
        number = float(raw)
    except ValueError:
        raise ConfigError(f"LIAISON_{key.upper()}", f"must be a number, not {raw!r}") from None
    if number <= 0:
        raise ConfigError(f"LIAISON_{key.upper()}", "must be positive")
    return number


def _flag(values: dict[str, str], key: str, default: bool) -> bool:
    raw = values.get(key, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"LIAISON_{key.upper()}", f"must be true or false, not {raw!r}")


def _check_address(setting: str, address: str) -> None:
    if not _ADDRESS.match(address):
        raise ConfigError(setting, f"is not an email address: {address!r}")
