"""Client accounts: import from CSV (idempotent, all or nothing), list, show, export."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from inbox.errors import AccountsImportError
from inbox.store import Store, loads, utcnow

COLUMNS = ("account_id", "name", "code", "domains", "contacts", "account_manager")
OPTIONAL = ("contracted_rounds",)
_EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
_DOMAIN = re.compile(r"^(?=.{3,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_CODE = re.compile(r"^[A-Z][A-Z0-9]{1,11}$")


def read_accounts_csv(path: Path) -> list[dict[str, Any]]:
    """Rows of an accounts CSV, validated; AccountsImportError lists every bad row by line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise AccountsImportError([f"{path}: cannot read: {exc.strerror}"]) from None
    except UnicodeDecodeError:
        raise AccountsImportError([f"{path}: not UTF-8 text"]) from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise AccountsImportError([f"{path}:1: missing column(s): {', '.join(missing)}"])
    rows, problems, seen = [], [], {}
    for record in reader:
        line = reader.line_num
        row, errors = _validate(record)
        if row and row["account_id"] in seen:
            errors.append(f"duplicate account_id {row['account_id']!r} (first on line {seen[row['account_id']]})")
        problems += [f"{path}:{line}: {e}" for e in errors]
        if row and not errors:
            seen[row["account_id"]] = line
            rows.append(row)
    if problems:
        raise AccountsImportError(problems)
    return rows


def _validate(record: dict[str, Any]) -> tuple[dict[str, Any] | None, list[str]]:
    get = {k: (record.get(k) or "").strip() for k in (*COLUMNS, *OPTIONAL)}
    errors = []
    if not _ID.match(get["account_id"]):
        errors.append(f"account_id must be letters, digits, '_', '.' or '-', not {get['account_id']!r}")
    if not get["name"]:
        errors.append("name is empty")
    code = get["code"].upper()
    if code and not _CODE.match(code):
        errors.append(f"code must be 2-12 capital letters or digits starting with a letter, not {get['code']!r}")
    domains = _split(get["domains"].lower())
    errors += [f"invalid domain {d!r}" for d in domains if not _DOMAIN.match(d)]
    contacts = _split(get["contacts"].lower())
    errors += [f"invalid contact address {c!r}" for c in contacts if not _EMAIL.match(c)]
    manager = get["account_manager"].lower()
    if manager and not _EMAIL.match(manager):
        errors.append(f"invalid account_manager address {manager!r}")
    rounds = get["contracted_rounds"]
    if rounds and not rounds.isdigit():
        errors.append(f"contracted_rounds must be a whole number, not {rounds!r}")
    settings = {"contracted_rounds": int(rounds) if rounds.isdigit() else 2}
    row = {"account_id": get["account_id"], "name": get["name"], "code": code, "domains": domains,
           "contacts": contacts, "account_manager": manager, "settings": settings}
    return row, errors


def _split(value: str) -> list[str]:
    return list(dict.fromkeys(part.strip() for part in value.split(";") if part.strip()))


def import_accounts(store: Store, rows: Iterable[dict[str, Any]]) -> tuple[int, int]:
    """Insert or update every row in one transaction; returns (added, updated)."""
    added = updated = 0
    with store.transaction():
        for row in rows:
            exists = store.one("SELECT 1 FROM accounts WHERE account_id = ?", [row["account_id"]])
            values = {**row, "updated_at": utcnow()}
            if exists:
                store.update("accounts", "account_id", row["account_id"], values)
                updated += 1
            else:
                store.insert("accounts", values)
                added += 1
    return added, updated


def list_accounts(store: Store) -> list[dict[str, Any]]:
    return [_decoded(r) for r in store.all("SELECT * FROM accounts ORDER BY account_id")]


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "domains": loads(row["domains"], []), "contacts": loads(row["contacts"], []),
            "settings": loads(row["settings"], {})}


def show_account(store: Store, account_id: str) -> dict[str, Any] | None:
    row = store.one("SELECT * FROM accounts WHERE account_id = ?", [account_id])
    if row is None:
        return None
    account = _decoded(row)
    account["open_threads"] = store.all(
        "SELECT id, subject, opened_at, updated_at, chasers, job_ref FROM threads "
        "WHERE account_id = ? AND status = 'open' ORDER BY opened_at", [account_id])
    account["counts"] = {r["category"]: r["n"] for r in store.all(
        "SELECT category, COUNT(*) AS n FROM messages WHERE account_id = ? AND status = 'processed' "
        "GROUP BY category ORDER BY category", [account_id])}
    return account


def export_accounts(store: Store) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*COLUMNS, *OPTIONAL])
    for a in list_accounts(store):
        writer.writerow([a["account_id"], a["name"], a["code"] or "", ";".join(a["domains"]),
                         ";".join(a["contacts"]), a["account_manager"] or "",
                         a["settings"].get("contracted_rounds", 2)])
    return out.getvalue()
