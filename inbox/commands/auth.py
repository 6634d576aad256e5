"""`liaison auth login|status`: OAuth2 sign-in per mailbox."""

from __future__ import annotations

import argparse
import os
import sys

from foundation.errors import LiaisonError
from inbox.commands import common


def register(commands: common.Subcommands) -> None:
    auth = commands.add_parser("auth", help="OAuth2 sign-in for Microsoft 365, Google Workspace or any provider")
    asub = auth.add_subparsers(title="auth commands", metavar="ACTION")
    login = common.command(asub, "login", "sign in once and store the tokens (device code, browser, or app-only)",
                     cmd_auth_login)
    login.add_argument("--provider", choices=["microsoft", "google", "generic"])
    login.add_argument("--refresh-token-stdin", action="store_true",
                       help="read a refresh token obtained elsewhere from standard input instead of signing in")
    common.command(asub, "status", "per mailbox: provider, account, token expiry, last refresh (no secrets)",
             cmd_auth_status)


def cmd_auth_login(args: argparse.Namespace) -> int:
    from foundation.oauth import interactive_login
    from foundation.settings import load_settings
    from inbox.daemon import token_manager

    env = dict(os.environ)
    if args.provider:
        env["LIAISON_OAUTH_PROVIDER"] = args.provider
    env.setdefault("LIAISON_IMAP_AUTH", "oauth2")
    settings = load_settings(env)
    manager = token_manager(common.open_store(settings.db_path), settings)
    if manager is None:
        raise LiaisonError("set LIAISON_IMAP_AUTH or LIAISON_SMTP_AUTH to oauth2")
    if args.refresh_token_stdin:
        manager.save({"access_token": "", "refresh_token": sys.stdin.readline().strip(), "expires_in": 0})
        manager.access_token(force=True)  # exchange it now: a bad token fails here, not at 3 a.m.
    else:
        interactive_login(manager, print)
    print(f"signed in: tokens for {manager.mailbox} stored in {settings.db_path}")
    return 0


def cmd_auth_status(args: argparse.Namespace) -> int:
    from foundation.oauth import token_status

    rows = token_status(common.configured_store())
    for r in rows:
        print(f"{r['mailbox']:<32} {r['provider']:<10} {r['status']:<8} expires {r['expires_at'] or '-'}  "
              f"refreshed {r['refreshed_at'] or '-'}" + (f"  ({r['error']})" if r["error"] else ""))
    if not rows:
        print("no OAuth2 sign-ins yet: liaison auth login --provider microsoft|google|generic")
    return 0
