"""Settings from environment variables, optionally over a TOML config file.

Environment variables win over the file. Secrets (passwords) are read from the
environment only, so they never sit in a file that gets copied around.

The config file is found in one way, first match wins: `--config` (which the CLI puts in
LIAISON_CONFIG), LIAISON_CONFIG, ./liaison.toml, $XDG_CONFIG_HOME/liaison/liaison.toml,
/etc/liaison/liaison.toml. `rules` and `db` in the file, and their defaults, are relative
to the file's folder, so the daemon finds them whatever its working directory.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import ssl
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from foundation.errors import ConfigError
from foundation.freemail import FREE_MAIL
from foundation.oauth import OAuthSettings, oauth_settings

SECURITY_MODES = ("ssl", "starttls", "none")
DEFAULT_PORTS = {
    "imap": {"ssl": 993, "starttls": 143, "none": 143},
    "smtp": {"ssl": 465, "starttls": 587, "none": 25},
}
SECRET_KEYS = ("imap_password", "smtp_password", "oauth_client_secret")
SYSTEM_CONFIG = Path("/etc/liaison/liaison.toml")
MAX_CONFIG_BYTES = 1_000_000
# (lowest, highest) accepted for each number; beyond them a value is a typo or an attack, not a wish.
POLL_INTERVAL_RANGE = (1.0, 3600.0)
RETRY_SECONDS_RANGE = (0.1, 86400.0)
# Every key a config file may hold (the LIAISON_* settings in lower case, without the prefix):
# anything else is a typo or a misplaced setting, refused rather than silently ignored.
FILE_KEYS = frozenset({
    "address", "agency_domains", "db", "rules", "imap_folder", "imap_done_folder", "imap_sent_folder",
    "poll_interval",
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
    auth: str = "password"  # or "oauth2" (XOAUTH2 with a token from foundation.oauth)

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
    sent_folder: str = ""  # where the provider keeps a copy of what it sends (checked before a resend)
    poll_interval: float = 60.0
    retry_after: float = 30.0  # first SMTP retry; doubles each time, capped at an hour
    oauth: OAuthSettings | None = None
    config_path: Path | None = None  # the config file found, if any
    rules_shipped: bool = False  # no rules file where one was looked for: the packaged rules stand in

    def owns(self, address: str) -> bool:
        """``address`` is the agency's: our own address or at an agency domain (or a subdomain of one)."""
        address = address.strip().lower()
        domain = address.rpartition("@")[2] if "@" in address else ""
        return address == self.address.lower() or any(
            domain == d or domain.endswith("." + d) for d in self.agency_domains)


def load_settings(
    env: Mapping[str, str] | None = None, *, need_imap: bool = False, need_smtp: bool = False
) -> Settings:
    """Read and validate settings; raise ConfigError naming the first bad one, and where it was written."""
    values, origins = _merged(os.environ if env is None else env)
    try:
        return _settings(values, need_imap=need_imap, need_smtp=need_smtp)
    except ConfigError as exc:
        where = origins.get(exc.setting.removeprefix("LIAISON_").lower())
        if where and not exc.where:  # the value came from the config file: name the file and its key
            raise ConfigError(exc.setting, exc.problem, where=where) from None
        raise


def _settings(values: dict[str, str], *, need_imap: bool, need_smtp: bool) -> Settings:
    address = values.get("address", "accounts@localhost.localdomain")
    _check_address("LIAISON_ADDRESS", address)
    domains = _agency_domains(values.get("agency_domains", ""))
    own_domain = address.rsplit("@", 1)[1].lower()
    if own_domain not in domains:
        domains = (*domains, own_domain)
    rules_path, rules_shipped = _rules_path(values)
    return Settings(
        address=address,
        agency_domains=domains,
        db_path=_db_path(values),
        rules_path=rules_path,
        imap=_server(values, "imap") if need_imap else _optional_server(values, "imap"),
        smtp=_server(values, "smtp") if need_smtp else _optional_server(values, "smtp"),
        folder=values.get("imap_folder", "INBOX") or "INBOX",
        done_folder=values.get("imap_done_folder", ""),
        sent_folder=values.get("imap_sent_folder", ""),
        poll_interval=_number(values, "poll_interval", 60.0, POLL_INTERVAL_RANGE),
        retry_after=_number(values, "smtp_retry_seconds", 30.0, RETRY_SECONDS_RANGE),
        oauth=oauth_settings(values) if "oauth2" in (values.get("imap_auth"), values.get("smtp_auth")) else None,
        config_path=Path(values["config"]) if values.get("config") else None,
        rules_shipped=rules_shipped,
    )


def find_config(env: Mapping[str, str]) -> Path | None:
    """The config file to read: LIAISON_CONFIG (must exist), else the first of the usual places that exists."""
    named = env.get("LIAISON_CONFIG", "")
    if named:
        return Path(named).absolute()
    xdg = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME") or Path.home()) / ".config")
    for candidate in (Path("liaison.toml"), Path(xdg) / "liaison" / "liaison.toml", SYSTEM_CONFIG):
        if candidate.exists():  # a folder of that name is a mistake to report, not a file to pass over
            return candidate.absolute()
    return None


def how_to_fix(exc: ConfigError, env: Mapping[str, str] | None = None) -> str:
    """One line on what to do about a configuration error, naming the file it came from or the files looked at
    (`doctor`, and every command that stops on one)."""
    env = os.environ if env is None else env
    if exc.setting.lower().removeprefix("liaison_") in SECRET_KEYS:
        return f"put {exc.setting}=... in the env file (secrets only come from the environment)"
    if exc.setting == "LIAISON_CONFIG":
        return f"correct the config file ({exc.where or 'LIAISON_CONFIG'}); `liaison init` writes a commented one"
    if exc.where:
        return f"correct it in the config file ({exc.where}); {exc.setting} in the environment would override it"
    found = find_config(env)
    looked = ", ".join(config_search_order(env))
    where = f"the config file {found}" if found else f"a config file (none found at {looked})"
    return (f"set {exc.setting} in the environment, or in {where} without the LIAISON_ prefix, in lower case; "
            "`liaison init` writes a commented liaison.toml")


def config_search_order(env: Mapping[str, str] | None = None) -> list[str]:
    """The places looked at, in order, for people (doctor, init's advice)."""
    env = os.environ if env is None else env
    xdg = env.get("XDG_CONFIG_HOME") or "~/.config"
    return ["--config", "LIAISON_CONFIG", "./liaison.toml", f"{xdg}/liaison/liaison.toml", str(SYSTEM_CONFIG)]


def _merged(env: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Config file values (lower-case keys) overridden by LIAISON_* variables, and for each value the file
    gave, where: "FILE: key"."""
    values: dict[str, str] = {}
    origins: dict[str, str] = {}
    path = find_config(env)
    if path is not None:
        values.update(_read_config_file(path))
        origins = {key: f"{path}: {key}" for key in values}
        # Relative to the file, not to wherever the command happens to run.
        if "rules" in values:
            values["rules"] = str(path.parent / values["rules"])
        values["_rules_default"] = str(path.parent / "rules.yaml")
        values["db"] = str(path.parent / values.get("db", "liaison.db"))
        values["config"] = str(path)
    for name, value in env.items():
        if name.startswith("LIAISON_") and name != "LIAISON_CONFIG":
            key = name[len("LIAISON_") :].lower()
            if key not in FILE_KEYS:  # a typo (LIAISON_IMAP_SENT_FOLDR) would silently drop a protection
                raise ConfigError(name, f"unknown setting{_did_you_mean(key, prefix='LIAISON_')}")
            values[key] = value
            origins.pop(key, None)
    return values, origins


#: Names people write for a setting that has another name here.
ALIASES = {"server": "host", "hostname": "host", "username": "user", "login": "user", "ssl": "security",
           "tls": "security", "verify": "tls_verify", "mailbox": "folder"}


def _did_you_mean(key: str, *, prefix: str = "") -> str:
    from foundation.rules import RulesFile

    key = key.replace(".", "_").replace("-", "_")  # "imap.host", "imap-host"
    top = key.split("_")[0]
    if top in RulesFile.model_fields and top not in FILE_KEYS:  # "timezone", "summary_time"; not "rules_file"
        return f" ({top} is a rules.yaml setting, not a liaison.toml one)"
    if key in ("password", "imap_pass", "smtp_pass", "pass"):
        return " (passwords belong in the environment: LIAISON_IMAP_PASSWORD, LIAISON_SMTP_PASSWORD)"
    if key in ("imap", "smtp"):
        return f" (write {key}_host = \"...\" and the other {key}_ keys, not an [{key}] table)"
    kind, _, rest = key.partition("_")
    if kind in ("imap", "smtp") and rest in ALIASES and f"{kind}_{ALIASES[rest]}" in FILE_KEYS:
        close = [f"{kind}_{ALIASES[rest]}"]
    else:
        close = difflib.get_close_matches(key, sorted(FILE_KEYS - set(SECRET_KEYS)), n=1)
    if not close:
        return ""
    return f" (did you mean {prefix}{close[0].upper()}?)" if prefix else f" (did you mean {close[0]!r}?)"


def _rules_path(values: dict[str, str]) -> tuple[Path, bool]:
    """(rules file, True when the shipped rules stand in because none exists where one was expected)."""
    if values.get("rules"):
        return Path(values["rules"]), False
    default = Path(values.get("_rules_default") or "rules.yaml")
    if default.exists():
        return default, False
    from foundation.rules import default_rules_path

    return default_rules_path(), True


def _db_path(values: dict[str, str]) -> Path:
    path = Path(values.get("db") or "liaison.db")
    if path.is_dir():
        raise ConfigError("LIAISON_DB", f"{path} is a folder; name the database file, e.g. {path / 'liaison.db'}")
    if path.parent.exists() and not path.parent.is_dir():
        raise ConfigError("LIAISON_DB", f"{path.parent} is not a folder; correct the path")
    if not path.parent.is_dir():
        # a typo in the folder must not start an empty database beside the real one (round 20): its history, the
        # outbox and what was already answered would be somewhere else
        raise ConfigError("LIAISON_DB", f"the folder {path.parent} does not exist; create it "
                                        f"(mkdir -p {path.parent}) or correct the path")
    return path


def _read_config_file(path: Path) -> dict[str, str]:
    if not path.is_file():  # a folder, a pipe, /dev/zero: never read (a device would be read for ever)
        raise ConfigError("LIAISON_CONFIG", "not a file" if path.exists() else "no such file", where=str(path))
    if path.stat().st_size > MAX_CONFIG_BYTES:
        raise ConfigError("LIAISON_CONFIG", f"larger than {MAX_CONFIG_BYTES // 1000} kB: not a config file",
                          where=str(path))
    try:
        text = path.read_text(encoding="utf-8-sig")  # a byte-order mark some editors write: fine
        data = tomllib.loads(text)
    except OSError as exc:
        raise ConfigError("LIAISON_CONFIG", f"cannot read it: {exc.strerror}", where=str(path)) from None
    except UnicodeDecodeError as exc:
        raise ConfigError("LIAISON_CONFIG", f"not UTF-8 text (byte {exc.start})", where=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(path, text, exc) from None
    except RecursionError:  # "x = [[[[..." thousands deep: tomllib recurses once per level
        raise ConfigError("LIAISON_CONFIG", "values nested too deeply: not a config file", where=str(path)) from None
    for written in data:
        key = str(written).lower()  # keys are read case-blind below, so a secret is refused in any case too
        if key in SECRET_KEYS:
            raise ConfigError(f"LIAISON_{key.upper()}", f"secrets belong in the environment (LIAISON_{key.upper()} "
                              "in the env file), not in a file", where=f"{path}: {written}")
    for key, value in data.items():
        if str(key).lower() not in FILE_KEYS:
            raise ConfigError("LIAISON_CONFIG", f"unknown key {key!r}{_did_you_mean(str(key).lower())}",
                              where=str(path))
        problem = _shape_problem(value, shape=_shape_of(str(key).lower()))
        if isinstance(value, str) and not value.strip():  # an empty value in a file is a slip, never a wish
            problem = problem or "a value: leave the key out for its default, not an empty text"
        if problem:
            raise ConfigError(f"LIAISON_{str(key).upper()}", f"must be {problem}", where=f"{path}: {key}")
    return {str(k).lower(): _as_text(v) for k, v in data.items()}


_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_TOML_SCALAR = re.compile(r"^[+-]?[\d_]+(?:\.[\d_]+)?(?:[eE][+-]?\d+)?$|^\d{4}-\d\d-\d\d")
_BARE_VALUE = re.compile(r"^\s*([A-Za-z0-9_.-]+)\s*=\s*([^\s\"'\[{#][^#]*?)\s*(?:#.*)?$")


def _syntax_error(path: Path, text: str, exc: tomllib.TOMLDecodeError) -> ConfigError:
    """tomllib's message as FILE:LINE:COL, with the key of that line and, for a text written without quotes
    (`imap_host = imap.example.com`), the line as it should be."""
    message = str(exc)
    position = _TOML_POSITION.search(message)
    if position is None:
        return ConfigError("LIAISON_CONFIG", message, where=str(path))
    line_number, column = int(position.group(1)), int(position.group(2))
    lines = text.splitlines()
    line = lines[line_number - 1] if 0 < line_number <= len(lines) else ""
    problem = message[: position.start()]
    problem = problem[:1].lower() + problem[1:]
    key = line.split("=", 1)[0].strip() if "=" in line else ""
    bare = _BARE_VALUE.match(line)
    if bare and key.lower() in TEXT_KEYS and not _a_toml_scalar(bare.group(2)):
        problem += f'; a text needs quotes: {bare.group(1)} = "{bare.group(2)}"'
    elif "illegal character '\\n'" in problem:
        problem += "; is a quote left open?"
    return ConfigError(f"LIAISON_{key.upper()}" if key else "LIAISON_CONFIG",
                       f"{key}: {problem}" if key else problem, where=f"{path}:{line_number}:{column}")


def _a_toml_scalar(value: str) -> bool:
    """A number, a date or true/false, which TOML takes without quotes."""
    return value in ("true", "false") or bool(_TOML_SCALAR.match(value))


#: Keys a config file may give as a TOML list (the environment gives them comma-separated).
LIST_KEYS = frozenset({"agency_domains"})


#: Keys whose value is a name, an address or a path: a number or true/false there is a slip, not a host "true".
TEXT_KEYS = frozenset({"address", "db", "rules", "imap_folder", "imap_done_folder", "imap_sent_folder",
                       *(f"{kind}_{key}" for kind in ("imap", "smtp") for key in ("host", "user", "security", "auth")),
                       "oauth_provider", "oauth_client_id", "oauth_tenant", "oauth_flow", "oauth_token_url",
                       "oauth_authorize_url", "oauth_scopes"})


#: Keys whose value is a number or true/false: TOML says which it is, so "993" in quotes is a slip (a text where
#: the file's reader, and the next admin, expect a number), refused like a number where text belongs.
NUMBER_KEYS = frozenset({"imap_port", "smtp_port", "poll_interval", "smtp_retry_seconds"})
FLAG_KEYS = frozenset({"imap_tls_verify", "smtp_tls_verify"})


def _shape_of(key: str) -> str:
    for shape, keys in (("list", LIST_KEYS), ("text", TEXT_KEYS), ("number", NUMBER_KEYS), ("flag", FLAG_KEYS)):
        if key in keys:
            return shape
    return "one"


def _shape_problem(value: object, *, shape: str) -> str:
    """What is wrong with the shape of a config file's value ("" if nothing): a list setting takes text or a
    list of text (a number or true/false there is a domain written without quotes), a name or path text, a
    number a number and a flag true or false, each without quotes."""
    if shape == "text" and not isinstance(value, str):
        return f'text in quotes ("..."), not {_kind(value)}'
    if shape == "number" and (isinstance(value, bool) or not isinstance(value, int | float)):
        return f"a number without quotes, not {_kind(value)}"
    if shape == "flag" and not isinstance(value, bool):
        return f"true or false without quotes, not {_kind(value)}"
    if shape == "list":
        bad = [item for item in (value if isinstance(value, list) else [value]) if not isinstance(item, str)]
        if bad:
            held = f"a list holding {_kind(bad[0])}" if isinstance(value, list) else _kind(value)
            return f'text or a list of text in quotes (["agency.example"]), not {held}'
        if isinstance(value, list) and any(not item.strip() for item in value):
            return 'a list of domains (["agency.example"]), not one holding an empty text ("")'
        return ""
    if isinstance(value, str | int | float | bool):
        return ""
    return f"text, a number or true/false, not {_kind(value)}"


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return f"true/false ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, str):
        return f"text in quotes ({value!r})"
    return type(value).__name__


def _as_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def _optional_server(values: dict[str, str], kind: str) -> ServerSettings | None:
    # A command that does not talk to the server runs before the password is in place (right after `init`).
    return _server(values, kind, need_password=False) if values.get(f"{kind}_host") else None


def _server(values: dict[str, str], kind: str, *, need_password: bool = True) -> ServerSettings:
    host = _host(values, kind)
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
    if kind == "imap" and auth == "password" and not password and need_password:
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


def _host(values: dict[str, str], kind: str) -> str:
    """The server's host name or address alone: a scheme, a port or a space in it would only fail later, as
    "cannot reach imap.example.com:993:993"."""
    setting, host = f"LIAISON_{kind.upper()}_HOST", values.get(f"{kind}_host", "")
    if not host:
        raise ConfigError(setting, "is required")
    if "://" in host or "/" in host:
        raise ConfigError(setting, f"must be a host name without a scheme or path (imap.example.com), not {host!r}")
    if host != host.strip() or any(c.isspace() for c in host):
        raise ConfigError(setting, f"must be a host name without spaces, not {host!r}")
    name, colon, port = host.rpartition(":")
    if colon and port.isdigit() and ":" not in name:  # "imap.example.com:993" (an IPv6 address has several)
        raise ConfigError(setting, f"must be a host name without a port, not {host!r}: put {port} in "
                          f"LIAISON_{kind.upper()}_PORT")
    return host


def _port(values: dict[str, str], kind: str, default: int) -> int:
    raw = values.get(f"{kind}_port", "")
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) < 65536:
        raise ConfigError(f"LIAISON_{kind.upper()}_PORT", f"must be a port number, not {raw!r}")
    return int(raw)


def _number(values: dict[str, str], key: str, default: float, limits: tuple[float, float]) -> float:
    raw = values.get(key, "")
    if not raw:
        return default
    low, high = limits
    try:
        number = float(raw)
    except ValueError:
        raise ConfigError(f"LIAISON_{key.upper()}", f"must be a number, not {raw!r}") from None
    if not math.isfinite(number) or not low <= number <= high:
        raise ConfigError(f"LIAISON_{key.upper()}", f"must be between {low:g} and {high:g} seconds, not {raw!r}")
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


#: A domain name: labels of letters (any script), digits and inner hyphens, at least two of them.
_DOMAIN = re.compile(r"(?!-)[^\W_]+(?:-+[^\W_]+)*(?:\.(?!-)[^\W_]+(?:-+[^\W_]+)*)+")
#: Second-level labels under a country code that people register below (brewco.co.uk), as linking's
#: registrable_domain approximates the public-suffix list (nothing is downloaded).
_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "ac", "gov"})


def _agency_domains(value: str) -> tuple[str, ...]:
    """The agency's domains, each checked: all mail from one (or a subdomain) counts as staff and is never
    answered, so a typo ("@agency.example", "*.agency.example") or a public suffix ("com", "co.uk") would
    silently turn every client into staff, and so would a free-mail provider ("gmail.com")."""
    if not value.strip():
        return ()
    domains = tuple(d.strip().lower().rstrip(".") for d in value.split(","))
    for domain in domains:
        labels = domain.split(".")
        if len(labels) == 1 and _DOMAIN.fullmatch(f"x.{domain}"):
            labels = ["", domain]  # a top-level domain ("com"): a public suffix
        elif not _DOMAIN.fullmatch(domain):
            raise ConfigError("LIAISON_AGENCY_DOMAINS", f"{domain!r} is not a domain name (write agency.example, "
                              "without @, * or spaces; a subdomain is covered by its domain)")
        if not labels[0] or (len(labels) == 2 and labels[0] in _SECOND_LEVEL and len(labels[1]) == 2):
            raise ConfigError("LIAISON_AGENCY_DOMAINS", f"{domain!r} is a public suffix, shared by many owners: "
                              "name the agency's own domain (agency.example)")
        if any(".".join(labels[start:]) in FREE_MAIL for start in range(len(labels) - 1)):
            raise ConfigError("LIAISON_AGENCY_DOMAINS", f"{domain!r} is a free-mail provider: every sender there "
                              "would count as staff; name the agency's own domain (agency.example)")
    return domains


def _check_address(setting: str, address: str) -> None:
    if not _ADDRESS.match(address):
        raise ConfigError(setting, f"is not an email address: {address!r}")


def tls_fix(kind: str, server: ServerSettings, exc: BaseException) -> str:
    """What to correct when TLS with a server failed (doctor and the daemon say the same)."""
    name = kind.upper()
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (f"the certificate of {server.host} is not trusted: fix the server's certificate, or set "
                f"LIAISON_{name}_TLS_VERIFY=false only for a self-signed one you trust")
    if server.security == "ssl":
        return (f"the server did not speak TLS on port {server.port}: set LIAISON_{name}_SECURITY=starttls "
                f"(or the port of implicit TLS)")
    return f"check LIAISON_{name}_SECURITY ({server.security}) against what the server offers on port {server.port}"
