"""Client accounts: import from CSV (idempotent, all or nothing), list, show, export.

A domain, a contact address or a code belongs to one account: whoever owns it gets that client's
mail. An import never hands one over silently: a row claiming what another account owns is refused,
naming the line and the owner, unless the import says to move it (`move=True`, the CLI's --move), or
the same file gives that other account its new list.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import sqlite3
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

from foundation.errors import AccountsImportError, LiaisonError
from foundation.freemail import FREE_MAIL
from foundation.message import ascii_domain, normal_address
from foundation.store import Store, loads, utcnow

COLUMNS = ("account_id", "name", "code", "domains", "contacts", "account_manager")
OPTIONAL = ("contracted_rounds",)
_EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
_DOMAIN = re.compile(r"^(?=.{3,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_CODE = re.compile(r"^[A-Z][A-Z0-9]{1,11}$")
#: What an account owns, by kind: (name in messages, row key).
CLAIMS = (("domain", "domains"), ("contact", "contacts"), ("code", "code"))


class ImportResult(NamedTuple):
    added: int
    updated: int
    moved: tuple[str, ...] = ()  # one "domain 'x' moved from A to B" per claim taken from another account
    absent: tuple[str, ...] = ()  # accounts in the database the rows do not name: kept (`remove_account` removes)
    unchanged: int = 0  # rows the database already held as they are: not rewritten, not counted as updated
    restored: tuple[str, ...] = ()  # accounts removed (`remove_account`) that this import brought back
    doubts: tuple[str, ...] = ()  # account managers' addresses that look mistyped or outside the agency
    handovers: tuple[str, ...] = ()  # "ACCOUNT: OLD -> NEW" for each account whose manager this import changed


class Removed(NamedTuple):
    account_id: str
    name: str
    closed_threads: int


REMOVED_REASON = "account removed"


def read_accounts_csv(path: Path) -> list[dict[str, Any]]:
    """Rows of an accounts CSV, validated; AccountsImportError lists every bad row by line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise AccountsImportError([f"{path}: cannot read: {exc.strerror}"]) from None
    except UnicodeDecodeError:
        raise AccountsImportError([f"{path}: not UTF-8 text"]) from None
    reader = csv.DictReader(io.StringIO(text), delimiter=_delimiter(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise AccountsImportError([f"{path}:1: missing column(s): {', '.join(missing)}"])
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    claimed: dict[tuple[str, str], tuple[int, str]] = {}  # (kind, value) -> (line, account_id)
    for record in reader:
        line = reader.line_num
        row, errors = _validate(record)
        if row and row["account_id"] in seen:
            errors.append(f"duplicate account_id {row['account_id']!r} (first on line {seen[row['account_id']]})")
        account_id = row["account_id"] if row else ""
        for kind, value in _claims(row) if row else []:
            first = claimed.setdefault((kind, value), (line, account_id))
            if first[1] != account_id:
                errors.append(f"{kind} {value!r} is already given to account {first[1]!r} on line {first[0]}")
        problems += [f"{path}:{line}: {e}" for e in errors]
        if row and not errors:
            seen[row["account_id"]] = line
            rows.append({**row, "source": f"{path}:{line}"})
    if problems:
        raise AccountsImportError(problems, valid_rows=rows)
    return rows


def _delimiter(text: str) -> str:
    """"," as written by most, ";" as a spreadsheet saves CSV where the decimal mark is a comma (blind round 24: the
    whole header was read as one column, "missing column(s): account_id, name...")."""
    header = text.split("\n", 1)[0]
    return ";" if "," not in header and header.count(";") >= len(COLUMNS) - 1 else ","


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
    domains = [ascii_domain(d) for d in _split(get["domains"].lower())]
    errors += [f"invalid domain {d!r}" for d in domains if not _DOMAIN.match(d)]
    # blind round 24: gmail.com was taken silently, and links nobody (a free-mail domain is never linked by domain)
    errors += [f"domain {d!r} is a free-mail provider's, whose every user would be this client: list the client's "
               "addresses there under contacts" for d in domains if d in FREE_MAIL]
    contacts = [normal_address(c) for c in _split(get["contacts"].lower())]
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


def _claims(row: dict[str, Any]) -> list[tuple[str, str]]:
    """(kind, value) for every domain, contact and code the row gives its account."""
    return [(kind, value) for kind, key in CLAIMS
            for value in (row.get(key) or [] if key != "code" else [row.get("code") or ""]) if value]


def _holds(stored: dict[str, Any], values: dict[str, Any]) -> bool:
    """Whether a stored account row already has these values (lists and mappings are stored as JSON)."""
    def as_read(key: str, value: Any) -> Any:
        return loads(stored[key]) if isinstance(value, list | dict) and stored.get(key) else stored.get(key)
    return all(as_read(key, value) == value for key, value in values.items())


def import_accounts(store: Store, rows: Iterable[dict[str, Any]], *, move: bool = False,
                    agency_domains: Iterable[str] = ()) -> ImportResult:
    """Insert or update every row in one transaction, all or nothing.

    A row claiming a domain, contact or code of an account not in `rows` raises AccountsImportError
    (one problem per claim, with the row's source line and the owner), unless `move` is set: then the
    claim is taken from its owner, and ImportResult.moved says so. So does a row on one of the
    `agency_domains` (or below one): its mail would count as staff, never answered or escalated.
    """
    rows = list(rows)
    problems = import_problems(store, rows, move=move, agency_domains=agency_domains)
    if problems:
        raise AccountsImportError(problems)
    added = updated = unchanged = 0
    restored: list[str] = []
    handovers: dict[str, str] = {}  # account -> its manager before this import
    with store.transaction():
        moved = _take_over(store, rows, move=move)
        for row in rows:
            exists = store.one("SELECT * FROM accounts WHERE account_id = ?", [row["account_id"]])
            values = {key: row[key] for key in (*COLUMNS, "settings") if key in row}
            if exists and _holds(exists, values):
                unchanged += 1  # round 23b: importing the same file again said "2 updated"
            elif exists:
                store.update("accounts", "account_id", row["account_id"], values | {"updated_at": utcnow()})
                updated += 1
                if (exists["account_manager"] or "") != (row["account_manager"] or ""):
                    handovers[row["account_id"]] = exists["account_manager"] or ""
            else:
                store.insert("accounts", values | {"updated_at": utcnow()})
                if store.forget_removed_account(row["account_id"]):
                    restored.append(row["account_id"])
                added += 1
        named = {row["account_id"] for row in rows}
        absent = tuple(r["account_id"] for r in store.all("SELECT account_id FROM accounts ORDER BY account_id")
                       if r["account_id"] not in named)
        doubts = _manager_doubts(store, rows, agency_domains, handovers)
    managers = {row["account_id"]: row["account_manager"] or "(none)" for row in rows}
    return ImportResult(added, updated, tuple(moved), absent, unchanged, tuple(restored), tuple(doubts),
                        tuple(f"{a}: {old or '(none)'} -> {managers[a]}" for a, old in sorted(handovers.items())))


def _manager_doubts(store: Store, rows: list[dict[str, Any]], agency_domains: Iterable[str],
                    handovers: dict[str, str]) -> list[str]:
    """Managers' addresses that are likely mistakes: one letter from another manager's, or outside the agency's
    domains (blind round 24b: "priya.ramen@" for "priya.raman@" was taken, and her escalations and summary bounced
    or went nowhere). Said, not refused: a new colleague's address may be near an old one's."""
    domains = tuple(d.lower() for d in agency_domains)
    managers = [r["account_manager"] for r in store.all("SELECT account_manager FROM accounts")
                if r["account_manager"]]
    counts = Counter(managers)
    staff = {r["from_addr"] for r in store.all("SELECT DISTINCT from_addr FROM messages WHERE staff = 1")}
    doubts = [f"account {r['account_id']} has no account manager: its escalations and summary go to the team lead"
              for r in rows if not r["account_manager"]]  # blind round 25b: taken silently
    for manager in dict.fromkeys(r["account_manager"] for r in rows if r["account_manager"]):
        domain = manager.rsplit("@", 1)[-1]
        if domains and not any(domain == d or domain.endswith(f".{d}") for d in domains):
            doubts.append(f"account manager {manager} is not at an agency domain ({', '.join(domains)}): their "
                          "escalations and summaries leave the agency")
            continue
        if manager in staff:
            continue
        # the address it replaces, or one more accounts use (blind round 25: jonas.berg@ -> jonas.brg@ on one of his
        # two accounts was taken unsaid, and that day's summary went to no one)
        before = {handovers[r["account_id"]] for r in rows if r["account_manager"] == manager and r["account_id"]
                  in handovers} - {""}
        near = [m for m in [*sorted(before), *counts] if m != manager and (m in before or counts[m] > counts[manager])
                and difflib.SequenceMatcher(None, m, manager).ratio() >= 0.9]
        if near:
            doubts.append(f"account manager {manager} is one slip from {near[0]}: did you mean it?")
    return doubts


def remove_account(store: Store, account_id: str) -> Removed:
    """Offboard a client: out of the accounts, so that its mail is linked to no one (unlinked mail is never
    acknowledged), its open threads closed as "account removed"; its past mail keeps its name. Importing a row
    with the same account_id brings it back."""
    with store.transaction():
        row = store.one("SELECT * FROM accounts WHERE account_id = ?", [account_id])
        if row is None:
            known = ", ".join(r["account_id"] for r in store.all("SELECT account_id FROM accounts ORDER BY 1"))
            raise LiaisonError(f"no account {account_id!r} (accounts: {known or 'none'})")
        threads = [r["id"] for r in store.all("SELECT id FROM threads WHERE account_id = ? AND status = 'open'",
                                              [account_id])]
        for thread_id in threads:
            store.close_thread(thread_id, REMOVED_REASON)
        for thread in store.all("SELECT id FROM threads WHERE account_id = ?", [account_id]):
            store.unlink_thread(thread["id"])  # a reply in one links no one (its messages keep the account)
        store.retire_account(account_id, closed_threads=len(threads))
        store.event("account_removed", {"account_id": account_id, "closed_threads": len(threads)})
    return Removed(account_id, row["name"], len(threads))


def import_problems(store: Store, rows: list[dict[str, Any]], *, move: bool = False,
                    agency_domains: Iterable[str] = ()) -> list[str]:
    """What `import_accounts` refuses in `rows`, nothing written: each domain at an agency domain, and (without
    `move`) each domain, contact or code another account holds. Run on the valid rows of a file with other errors
    too, so that one run lists every problem (blind round 25i: three runs for three bad rows)."""
    problems = [f"{row.get('source') or row['account_id']}: {clash}; remove it from the accounts file if it is the "
                "agency's own, or from agency_domains if it is the client's"
                for row, clash in _agency_clashes(rows, agency_domains)]
    if not move:
        others, taken = _claims_of_others(store, rows)
        problems += [f"{row.get('source') or row['account_id']}: {kind} {value!r} belongs to account {owner!r} "
                     f"({others[owner]['name']}); to give it to {row['account_id']!r}, import with --move or list "
                     "that account without it in the same file" for row, kind, value, owner in taken]
    return problems


def _claims_of_others(store: Store, rows: list[dict[str, Any]],
                      ) -> tuple[dict[str, dict[str, Any]], list[tuple[dict[str, Any], str, str, str]]]:
    """The existing accounts `rows` do not list, and each claim of `rows` one of them holds: (row, kind, value,
    owner)."""
    incoming = {row["account_id"] for row in rows}
    others = {a["account_id"]: a for a in list_accounts(store) if a["account_id"] not in incoming}
    owners = {claim: a["account_id"] for a in others.values() for claim in _claims(a)}
    return others, [(row, kind, value, owners[(kind, value)]) for row in rows for kind, value in _claims(row)
                    if (kind, value) in owners]


def _take_over(store: Store, rows: list[dict[str, Any]], *, move: bool) -> list[str]:
    """Claims of `rows` that other, existing accounts hold, taken from them (`import_problems` refused them
    already without `move`)."""
    others, taken = _claims_of_others(store, rows)
    moved, losers = [], set()
    for row, kind, value, owner in taken if move else []:
        account = others[owner]
        key = dict(CLAIMS)[kind]
        account[key] = "" if kind == "code" else [v for v in account[key] if v != value]
        moved.append(f"{kind} {value!r} moved from {owner!r} to {row['account_id']!r}")
        losers.add(owner)
    for owner in sorted(losers):
        account = others[owner]
        store.update("accounts", "account_id", owner, {
            "domains": account["domains"], "contacts": account["contacts"], "code": account["code"],
            "updated_at": utcnow()})
    return moved


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


def staff_clashes(store: Store, agency_domains: Iterable[str]) -> list[str]:
    """Each client account whose domain (or a contact's) is an agency domain, below one or above one.

    Mail from an agency domain counts as staff: it is never answered, escalated or summarised as a client's.
    A client domain in agency_domains (a slip when setting up) silently swallows that client's mail."""
    return [clash for _, clash in _agency_clashes(list_accounts(store), agency_domains)]


def _agency_clashes(accounts: Iterable[dict[str, Any]], agency_domains: Iterable[str],
                    ) -> list[tuple[dict[str, Any], str]]:
    """(account, what clashes) for each domain of an account, or of a contact, at or below an agency domain."""
    ours = [ascii_domain(d) for d in agency_domains if d]
    found = []
    for account in accounts:
        claimed = [*account["domains"], *(c.rpartition("@")[2] for c in account["contacts"])]
        for domain in dict.fromkeys(ascii_domain(d) for d in claimed if d):
            agency = next((d for d in ours if domain == d or domain.endswith("." + d)), None)
            if agency:
                found.append((account, f"account {account['account_id']}'s domain {domain} is agency domain "
                              f"{agency} (agency_domains): its mail counts as staff, never answered or escalated"))
            for below in (d for d in ours if d.endswith("." + domain)):
                # mail.client.com as an agency domain: the client's mail from there would count as staff
                found.append((account, f"agency domain {below} (agency_domains) is below account "
                              f"{account['account_id']}'s domain {domain}: its mail there counts as staff, never "
                              "answered or escalated"))
    return found


def accounts_in(path: Path) -> list[dict[str, Any]]:
    """The accounts of the database at `path`, read without writing to it (a read-only URI): a scratch run
    and `rules check` look at the service's accounts and must never change its database."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        rows = conn.execute("SELECT * FROM accounts").fetchall()
    except sqlite3.DatabaseError:
        return []
    finally:
        conn.close()
    return [{"account_id": r["account_id"], "name": r["name"], "code": r["code"],
             "domains": loads(r["domains"], []), "contacts": loads(r["contacts"], []),
             "account_manager": r["account_manager"], "settings": loads(r["settings"], {})} for r in rows]
