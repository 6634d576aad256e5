"""`liaison init [DIR]`: a starting configuration a person edits, never written over.

Four files: liaison.toml (every setting with its default, commented), rules.yaml (the
shipped rules), accounts.csv (the header and one example row) and liaison.env (the
secrets, owner-only). A file that already exists is kept as it is.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from foundation.rules import default_rules_path

ACCOUNTS_CSV = """account_id,name,code,domains,contacts,account_manager,contracted_rounds
brewco,BrewCo Brewing,BREW,brewco.com;brewco.co.uk,tom.hill@brewco.com,anna.berg@agency.example,2
"""

ENV_FILE = """# Secrets for Liaison, and only secrets: they never go in liaison.toml.
# systemd reads this file (EnvironmentFile=); in a shell: set -a; . ./liaison.env; set +a
LIAISON_IMAP_PASSWORD=
LIAISON_SMTP_PASSWORD=
# With OAuth2 and a client secret (Microsoft 365 app-only, Google):
# LIAISON_OAUTH_CLIENT_SECRET=
"""


def config_text(db: str) -> str:
    return f"""# Liaison settings. Every LIAISON_* environment variable overrides the key of the same name
# here (LIAISON_IMAP_HOST -> imap_host). Passwords are refused in this file: put them in
# liaison.env. Relative paths (rules, db) are relative to this file's folder.
# Check everything with: liaison doctor

# The shared inbox: its address is the From of every reply.
address = "accounts@agency.example"
# Staff domains, never auto-answered (the address's own domain is always one).
agency_domains = ["agency.example"]

# IMAP: where client mail arrives.
imap_host = "imap.example.com"
imap_user = "accounts@agency.example"
# imap_port = 993                 # default: 993 for ssl, 143 for starttls and none
# imap_security = "ssl"           # ssl | starttls | none
# imap_tls_verify = true          # false only for a self-signed certificate you trust
# imap_folder = "INBOX"
# imap_done_folder = ""           # moving a message here marks its thread handled
# imap_sent_folder = ""           # where the provider keeps what it sends ("Sent Items", "[Gmail]/Sent Mail"):
#                                 # checked before resending after a crash, so nothing is sent twice
# imap_auth = "password"          # or "oauth2" (see oauth_* below)
# poll_interval = 60              # seconds between checks when the server has no IDLE (1 to 3600)

# SMTP: how replies leave.
smtp_host = "smtp.example.com"
smtp_user = "accounts@agency.example"   # a relay that takes mail without a login: comment this line out
# smtp_port = 465                 # default: 465 for ssl, 587 for starttls, 25 for none
# smtp_security = "ssl"           # ssl | starttls | none
# smtp_tls_verify = true
# smtp_auth = "password"          # or "oauth2"
# smtp_retry_seconds = 30         # first retry after a temporary failure, doubling (0.1 to 86400)

# Files.
rules = "rules.yaml"
db = "{db}"

# OAuth2 (Microsoft 365, Google Workspace): see the README, then `liaison auth login`.
# oauth_provider = "microsoft"    # microsoft | google | generic
# oauth_client_id = ""
# oauth_tenant = "common"
# oauth_flow = "delegated"        # delegated | app
# oauth_token_url = ""            # generic only
# oauth_authorize_url = ""        # generic only
# oauth_scopes = ""               # space-separated, to override the provider's
"""


@dataclass(frozen=True)
class Written:
    path: Path
    created: bool  # False: it existed and was kept as it was


def init_config(directory: Path, *, db: str = "liaison.db") -> list[Written]:
    """Write the starting files into `directory` (created if needed); never overwrite one."""
    directory.mkdir(parents=True, exist_ok=True)
    files = [
        ("liaison.toml", config_text(db), 0o644),
        ("rules.yaml", default_rules_path().read_text(encoding="utf-8"), 0o644),
        ("accounts.csv", ACCOUNTS_CSV, 0o644),
        ("liaison.env", ENV_FILE, 0o600),
    ]
    return [Written(directory / name, _create(directory / name, text, mode)) for name, text, mode in files]


def _create(path: Path, text: str, mode: int) -> bool:
    """Create with exactly `mode` (O_EXCL: never over an existing file, even one that appears meanwhile)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        os.fchmod(out.fileno(), mode)  # the umask must not widen or narrow it
        out.write(text)
    return True


def next_steps(directory: Path) -> list[str]:
    shown = directory if directory.is_absolute() else Path(".") / directory
    return [
        f"1. edit {shown / 'liaison.toml'}: address, agency_domains, imap_* and smtp_*",
        f"2. put the passwords in {shown / 'liaison.env'} (owner-only), then: "
        f"set -a; . {shown / 'liaison.env'}; set +a",
        f"3. list your clients in {shown / 'accounts.csv'}, then: liaison accounts import {shown / 'accounts.csv'}",
        "4. liaison doctor            (every check should be ✓; each ✗ says how to fix it)",
        "5. liaison run --dry-run --once, read ./liaison-shadow, then liaison run",
    ]
