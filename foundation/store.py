"""SQLite storage: every fact Liaison knows, and every side effect before and after it happens.

Writes go through `Store.transaction()` (BEGIN IMMEDIATE ... COMMIT) so that a crash at
any point leaves either all or none of a step. Schema changes are registered once in
MIGRATIONS and each is applied atomically together with its record.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from foundation.errors import DatabaseGone
from foundation.process import this_process
from foundation.secrets import scrubbed
from foundation.subjects import base_subject

MIGRATIONS: list[tuple[str, tuple[str, ...]]] = [
    (
        "0001_initial",
        (
            """CREATE TABLE mailbox_state (
                folder TEXT PRIMARY KEY, uidvalidity INTEGER, last_uid INTEGER NOT NULL DEFAULT 0,
                updated_at TEXT)""",
            """CREATE TABLE messages (
                id INTEGER PRIMARY KEY, folder TEXT, uidvalidity INTEGER, uid INTEGER,
                raw_sha256 TEXT NOT NULL UNIQUE, message_id TEXT, raw BLOB NOT NULL, size INTEGER,
                received_at TEXT NOT NULL, arrived_at TEXT, status TEXT NOT NULL, error TEXT,
                from_addr TEXT, from_name TEXT, to_addrs TEXT, cc_addrs TEXT, subject TEXT, date TEXT,
                in_reply_to TEXT, refs TEXT, body_text TEXT, newest_text TEXT, headers TEXT,
                attachments TEXT, automatic TEXT,
                category TEXT, needs_review INTEGER DEFAULT 0, confidence REAL, class_source TEXT, class_reasons TEXT,
                entities TEXT, urgency INTEGER DEFAULT 0,
                account_id TEXT, link_reason TEXT, link_detail TEXT, suspicious TEXT,
                thread_id INTEGER, is_chaser INTEGER DEFAULT 0, route TEXT, processed_at TEXT)""",
            "CREATE INDEX messages_message_id ON messages(message_id)",
            "CREATE INDEX messages_received ON messages(received_at)",
            "CREATE INDEX messages_thread ON messages(thread_id)",
            """CREATE TABLE accounts (
                account_id TEXT PRIMARY KEY, name TEXT NOT NULL, code TEXT, domains TEXT NOT NULL,
                contacts TEXT NOT NULL, account_manager TEXT, settings TEXT NOT NULL DEFAULT '{}',
                updated_at TEXT)""",
            """CREATE TABLE threads (
                id INTEGER PRIMARY KEY, account_id TEXT, subject TEXT, status TEXT NOT NULL,
                opened_at TEXT, updated_at TEXT, chasers INTEGER NOT NULL DEFAULT 0,
                acknowledged INTEGER NOT NULL DEFAULT 0, handled_at TEXT, handled_reason TEXT,
                job_ref TEXT, starter_addr TEXT)""",
            """CREATE TABLE thread_refs (
                message_id TEXT PRIMARY KEY, thread_id INTEGER NOT NULL)""",
            """CREATE TABLE outbox (
                id INTEGER PRIMARY KEY, dedupe_key TEXT NOT NULL UNIQUE, message_row INTEGER,
                kind TEXT NOT NULL, rule TEXT, mail_from TEXT NOT NULL, recipients TEXT NOT NULL,
                message_id TEXT NOT NULL UNIQUE, subject TEXT, raw BLOB NOT NULL, status TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at TEXT, last_error TEXT,
                created_at TEXT NOT NULL, sent_at TEXT, thread_id INTEGER)""",
            "CREATE INDEX outbox_status ON outbox(status, next_attempt_at)",
            """CREATE TABLE imap_actions (
                id INTEGER PRIMARY KEY, message_row INTEGER NOT NULL, folder TEXT, uidvalidity INTEGER,
                uid INTEGER, verb TEXT NOT NULL, argument TEXT NOT NULL, status TEXT NOT NULL,
                created_at TEXT NOT NULL, done_at TEXT, error TEXT)""",
            """CREATE TABLE events (
                id INTEGER PRIMARY KEY, at TEXT NOT NULL, kind TEXT NOT NULL, message_row INTEGER,
                detail TEXT)""",
            """CREATE TABLE runs (
                id INTEGER PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT, mode TEXT,
                processed INTEGER DEFAULT 0, quarantined INTEGER DEFAULT 0, sent INTEGER DEFAULT 0)""",
        ),
    ),
    (
        "0002_indexes_for_per_message_lookups",
        (
            # Every incoming message checks its sender's recent acknowledgements and bounces: without
            # these the checks scan whole tables, and a large backlog slows down quadratically.
            "CREATE INDEX outbox_kind_recipients ON outbox(kind, recipients)",
            "CREATE INDEX outbox_message_row ON outbox(message_row)",
            "CREATE INDEX outbox_thread_order ON outbox(thread_id, kind, id)",
            "CREATE INDEX events_kind_at ON events(kind, at)",
            "CREATE INDEX messages_from_addr ON messages(from_addr)",
        ),
    ),
    (
        "0003_oauth_tokens",
        (
            """CREATE TABLE oauth_tokens (
                mailbox TEXT PRIMARY KEY, provider TEXT NOT NULL, account TEXT, access_token TEXT,
                refresh_token TEXT, expires_at TEXT, refreshed_at TEXT, status TEXT NOT NULL, error TEXT)""",
        ),
    ),
    (
        "0004_acknowledgement_tier",
        (
            # What an acknowledgement of the message may say (specific, neutral, none) and why:
            # decided once when the message is classified, read by the summary, eval and `classify`.
            "ALTER TABLE messages ADD COLUMN ack_tier TEXT",
            "ALTER TABLE messages ADD COLUMN ack_tier_reason TEXT",
        ),
    ),
    (
        "0005_corrections",
        (
            # An account manager's word on a message's category; it beats the model for that message
            # and is training data for the next model.
            """CREATE TABLE corrections (
                id INTEGER PRIMARY KEY, message_row INTEGER NOT NULL, old_category TEXT, new_category TEXT NOT NULL,
                acknowledged_as TEXT, source TEXT NOT NULL, who TEXT, at TEXT NOT NULL)""",
            "CREATE INDEX corrections_message ON corrections(message_row)",
            "CREATE INDEX corrections_at ON corrections(at)",
            """CREATE TABLE models (
                version TEXT PRIMARY KEY, created_at TEXT NOT NULL, status TEXT NOT NULL, corrections INTEGER,
                scores TEXT, reason TEXT)""",
        ),
    ),
    (
        "0006_messages_staff",
        (
            # The pipeline's staff decision, kept: a staff reply inside a client thread is linked by
            # thread, so link_reason cannot tell it apart. Older rows keep what link_reason said.
            "ALTER TABLE messages ADD COLUMN staff INTEGER NOT NULL DEFAULT 0",
            "UPDATE messages SET staff = 1 WHERE link_reason = 'staff'",
        ),
    ),
    (
        "0007_periodic_tasks",
        (
            # One row per periodic task of the daemon (inbox/periodic.py): its health, for alerts and status.
            """CREATE TABLE periodic_tasks (
                name TEXT PRIMARY KEY, last_success_at TEXT, last_failure_at TEXT, last_error TEXT,
                failures INTEGER NOT NULL DEFAULT 0)""",
        ),
    ),
    (
        "0008_outbox_plan",
        (
            # The outbox records what to send (`plan`: headers, text and html, and the stored message an
            # escalation attaches) in the decision's transaction; the MIME is built when it is sent. `raw`
            # stays for mail planned already rendered, so it may now be empty: the table is rebuilt, as
            # SQLite cannot drop a NOT NULL.
            """CREATE TABLE outbox_0008 (
                id INTEGER PRIMARY KEY, dedupe_key TEXT NOT NULL UNIQUE, message_row INTEGER,
                kind TEXT NOT NULL, rule TEXT, mail_from TEXT NOT NULL, recipients TEXT NOT NULL,
                message_id TEXT NOT NULL UNIQUE, subject TEXT, raw BLOB, status TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at TEXT, last_error TEXT,
                created_at TEXT NOT NULL, sent_at TEXT, thread_id INTEGER, plan TEXT,
                CHECK (raw IS NOT NULL OR plan IS NOT NULL))""",
            """INSERT INTO outbox_0008 (id, dedupe_key, message_row, kind, rule, mail_from, recipients, message_id,
                subject, raw, status, attempts, next_attempt_at, last_error, created_at, sent_at, thread_id)
               SELECT id, dedupe_key, message_row, kind, rule, mail_from, recipients, message_id, subject, raw,
                status, attempts, next_attempt_at, last_error, created_at, sent_at, thread_id FROM outbox""",
            "DROP TABLE outbox",
            "ALTER TABLE outbox_0008 RENAME TO outbox",
            "CREATE INDEX outbox_status ON outbox(status, next_attempt_at)",
            "CREATE INDEX outbox_kind_recipients ON outbox(kind, recipients)",
            "CREATE INDEX outbox_message_row ON outbox(message_row)",
            "CREATE INDEX outbox_thread_order ON outbox(thread_id, kind, id)",
        ),
    ),
    (
        "0009_facts_stored",
        (
            # Facts the pipeline works out once and everything else reads (the summary, replay, the daemon):
            # the category a person sees (needs_review when too uncertain to act on), and when the message
            # reached the mailbox. Older rows get what they would have been given.
            "ALTER TABLE messages ADD COLUMN display_category TEXT",
            "UPDATE messages SET display_category = CASE WHEN needs_review = 1 THEN 'needs_review' "
            "ELSE category END WHERE category IS NOT NULL",
            "UPDATE messages SET arrived_at = received_at WHERE arrived_at IS NULL",
        ),
    ),
    (
        "0010_claimed_account_and_follow_ups",
        (
            # The client an impostor's mail imitates (a lookalike domain, a contact's name): never linked to it, but
            # shown to that client's account manager, not to every manager (blind round 22).
            "ALTER TABLE messages ADD COLUMN claimed_account TEXT",
            # A correction's follow-up: the escalations the corrected category's rules plan for people not yet
            # told (a message corrected to billing reaches finance). Those recorded before were never followed up.
            "ALTER TABLE corrections ADD COLUMN followed_up_at TEXT",
            "ALTER TABLE corrections ADD COLUMN follow_up TEXT",
            "UPDATE corrections SET followed_up_at = at, follow_up = 'recorded before follow-ups existed'",
        ),
    ),
    (
        "0011_removed_accounts",
        (
            # A client offboarded with `liaison accounts remove` (round 23: dropping its row from accounts.csv changed
            # nothing, and there was no other way). Out of `accounts`, so nothing links to it any more; kept here so
            # that its past mail is still shown under its name.
            """CREATE TABLE removed_accounts (
                account_id TEXT PRIMARY KEY, name TEXT NOT NULL, code TEXT, domains TEXT NOT NULL,
                contacts TEXT NOT NULL, account_manager TEXT, settings TEXT NOT NULL DEFAULT '{}',
                removed_at TEXT NOT NULL, closed_threads INTEGER NOT NULL DEFAULT 0)""",
        ),
    ),
    (
        "0012_messages_by_account",
        (
            # A reply's language, when its own words are too few, is the one its account's mail is in (blind round
            # 24b): looked up per acknowledgement, so by index.
            "CREATE INDEX messages_account ON messages(account_id, id)",
        ),
    ),
    (
        "0013_chases",
        (
            # A follow-up that only asks after its thread's request ("any news?", "did you get this?", an urgent
            # nudge) is about that request: the request's category, routed as it (blind round 24b: a chase of a
            # billing issue went out as a progress query, and finance was not told). Older rows: NULL.
            "ALTER TABLE messages ADD COLUMN chases TEXT",
        ),
    ),
    (
        "0014_outbox_claims",
        (
            # Which process is sending a row (foundation/process.py): a `summary --send` killed mid-send left its
            # row "sending" until the daemon's next start, and a start reset rows a live process was sending.
            "ALTER TABLE outbox ADD COLUMN claimed_by TEXT",
        ),
    ),
]


#: SQLite's words for a database the host cannot give us now (busy or locked by another process, a full disk, an I/O
#: error, read-only, gone), as against a bug in a statement: nothing a message did, so nothing to quarantine.
_HOST_PROBLEMS = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_FULL", "SQLITE_IOERR", "SQLITE_READONLY", "SQLITE_CANTOPEN")


def unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot be used now (it will be again), not that a statement is wrong."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    return isinstance(exc, sqlite3.OperationalError) and name.startswith(_HOST_PROBLEMS)


def utcnow() -> str:
    """The current time as an ISO 8601 UTC string (sortable, what every column stores)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


#: A client's own request in a thread (``thread_id = ?``): not automatic, staff's or an impostor's, and not a
#: follow-up that only chases an earlier request.
_REQUESTS_IN_THREAD = (
    "thread_id = ? AND automatic IS NULL AND staff = 0 AND suspicious IS NULL "
    "AND display_category IN ('revision_request', 'billing_issue', 'progress_query') AND chases IS NULL "
    # rows from before migration 0013 knew no `chases`: a progress query chasing was a chase then too
    "AND NOT (is_chaser = 1 AND display_category = 'progress_query')")


class Store:
    """A connection to the Liaison database."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        _create_private(self.path)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so nothing commits behind our back.
        conn = sqlite3.connect(str(self.path), timeout=30, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("PRAGMA foreign_keys = ON")
        self.db = sqlite_utils.Database(conn)
        if str(self.path) != ":memory:":
            self.db.enable_wal()
        conn.execute("PRAGMA synchronous = NORMAL")
        self.conn = conn
        self._identity = self._file_identity()
        self._depth = 0
        self._lock = threading.RLock()
        migrate(self)

    def close(self) -> None:
        self.conn.close()

    def _file_identity(self) -> tuple[int, int] | None:
        if str(self.path) == ":memory:":
            return None
        found = os.stat(self.path)
        return found.st_dev, found.st_ino

    def ensure_present(self) -> None:
        """Raise DatabaseGone when the file this connection writes is no longer at its path (blind round 26: the
        database's folder deleted under a running daemon, and nothing was said)."""
        if self._identity is None:
            return
        try:
            now = self._file_identity()
        except FileNotFoundError:
            raise DatabaseGone(f"{self.path} was deleted while Liaison used it; restore it, or restart Liaison to "
                               "begin a new one") from None
        if now != self._identity:
            raise DatabaseGone(f"{self.path} was replaced by another file while Liaison used it; restart Liaison to "
                               "use the new one")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE ... COMMIT; nested calls join the outer transaction."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self.conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            else:
                self.conn.execute("COMMIT")
            finally:
                self._depth = 0

    def copy_tables_from(self, path: Path, tables: Sequence[str]) -> None:
        """These tables' rows from another Liaison database, opened read-only, in the columns both have (an
        older database gives what it holds); nothing when it cannot be read."""
        other = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            for table in tables:
                theirs = {row[1] for row in other.execute(f"PRAGMA table_info({table})")}
                columns = [row[1] for row in self.conn.execute(f"PRAGMA table_info({table})") if row[1] in theirs]
                rows = other.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall()
                self.conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) "
                                      f"VALUES ({', '.join('?' * len(columns))})", rows)
        except sqlite3.DatabaseError:
            return
        finally:
            other.close()

    def insert(self, table: str, row: dict[str, Any]) -> int:
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        cursor = self.conn.execute(
            f"INSERT INTO {table} ({columns}) VALUES ({marks})", [_cell(v) for v in row.values()]
        )
        return int(cursor.lastrowid or 0)

    def update(self, table: str, key: str, key_value: Any, values: dict[str, Any]) -> None:
        sets = ", ".join(f"{name} = ?" for name in values)
        self.conn.execute(
            f"UPDATE {table} SET {sets} WHERE {key} = ?", [*(_cell(v) for v in values.values()), key_value]
        )

    def advance_position(self, folder: str, uidvalidity: int | None, uid: int) -> None:
        """Move our position in a folder past `uid`. Under the same UIDVALIDITY it only ever grows; under a
        new one (a restored or rebuilt mailbox numbers its messages afresh) it starts again from this UID,
        or mail numbered below the old mailbox's highest UID would never be read."""
        self.conn.execute(
            "INSERT INTO mailbox_state (folder, uidvalidity, last_uid, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(folder) DO UPDATE SET last_uid = CASE WHEN mailbox_state.uidvalidity IS excluded.uidvalidity "
            "THEN MAX(mailbox_state.last_uid, excluded.last_uid) ELSE excluded.last_uid END, "
            "uidvalidity = excluded.uidvalidity, updated_at = excluded.updated_at",
            [folder, uidvalidity, uid, utcnow()])

    # -- named writes and reads: what the rest of Liaison asks of the database, without SQL of its own --

    def threads_of(self, message_ids: Sequence[str]) -> dict[str, tuple[int, str | None]]:
        """{Message-ID: (thread id, its account)} for those of `message_ids` that lead to a thread."""
        found: dict[str, tuple[int, str | None]] = {}
        for start in range(0, len(message_ids), 500):  # SQLite's bound on parameters, with room to spare
            chunk = list(message_ids[start:start + 500])
            for row in self.conn.execute(
                    "SELECT r.message_id, t.id, t.account_id FROM thread_refs r JOIN threads t ON t.id = r.thread_id "
                    f"WHERE r.message_id IN ({', '.join('?' * len(chunk))})", chunk):
                found[row[0]] = (int(row[1]), row[2])
        return found

    def thread_by_subject(self, subject: str, *, starters: Sequence[str], domain: str = "",
                          since: str) -> tuple[int, str | None] | None:
        """(thread id, its account) of the latest conversation under this subject (prefixes, tags, spaces and
        case aside) started by one of `starters` or at `domain`, with a message that arrived since `since`:
        where a reply whose mail client dropped In-Reply-To and References belongs."""
        wanted = base_subject(subject)
        if not wanted or not (starters or domain):
            return None
        marks = ", ".join("?" * len(starters)) or "NULL"
        rows = self.conn.execute(
            "SELECT t.id, t.account_id, t.subject, "
            # a scratch copy (`classify`, `rules test`) has the threads without their messages
            "COALESCE((SELECT MAX(m.arrived_at) FROM messages m WHERE m.thread_id = t.id), t.updated_at) AS last "
            f"FROM threads t WHERE t.starter_addr IN ({marks}) OR (? != '' AND t.starter_addr LIKE ?) "
            "ORDER BY last DESC LIMIT 200", [*starters, domain, f"%@{domain}"])
        for thread_id, account_id, thread_subject, last in rows:
            if last and last >= since and base_subject(thread_subject or "") == wanted:
                return int(thread_id), account_id
        return None

    def remember_thread_ref(self, message_id: str, thread_id: int) -> None:
        """A Message-ID belongs to a thread (the first thread to claim it keeps it)."""
        self.conn.execute("INSERT OR IGNORE INTO thread_refs (message_id, thread_id) VALUES (?, ?)",
                          [message_id, thread_id])

    def thread_request(self, thread_id: int) -> dict[str, Any] | None:
        """The client's latest request in a thread, the follow-ups that only chase it aside: what the thread is
        about. A follow-up of another kind (a billing question in a revision thread) is a request of its own."""
        return self.one(f"SELECT * FROM messages WHERE {_REQUESTS_IN_THREAD} ORDER BY id DESC LIMIT 1", [thread_id])

    def thread_requests_waiting(self, thread_id: int) -> dict[str, int]:
        """Each kind of request the client made in a thread since the agency last wrote in it, with its latest
        message's row, latest first: a billing question asked in a revision thread is waiting too."""
        rows = self.all(f"SELECT id, display_category FROM messages WHERE {_REQUESTS_IN_THREAD} AND id > COALESCE(("
                        "SELECT MAX(id) FROM messages WHERE thread_id = ? AND staff = 1), 0) ORDER BY id DESC",
                        [thread_id, thread_id])
        waiting: dict[str, int] = {}
        for row in rows:
            waiting.setdefault(row["display_category"], row["id"])
        return waiting

    def claim_outbox(self, outbox_id: int, *, status: str, attempts: int) -> bool:
        """Mark an outbox row as being sent, if it is still as it was read (`status`, `attempts`): False when another
        process sending from this database (the daemon beside `liaison summary --send`) took it first."""
        cursor = self.conn.execute("UPDATE outbox SET status = 'sending', attempts = attempts + 1, claimed_by = ? "
                                   "WHERE id = ? AND status = ? AND attempts = ?",
                                   [this_process(), outbox_id, status, attempts])
        return cursor.rowcount == 1

    def hold_outbox_until(self, until: str) -> None:
        """Every message due before `until` waits until then (an SMTP outage); none is charged an attempt."""
        with self.transaction():
            self.conn.execute("UPDATE outbox SET next_attempt_at = ? WHERE status IN ('pending', 'retry') "
                              "AND next_attempt_at < ?", [until, until])

    def close_thread(self, thread_id: int, reason: str) -> None:
        """Mark an open thread handled, saying why (an already handled one keeps its first reason)."""
        now = utcnow()
        self.conn.execute("UPDATE threads SET status = 'handled', handled_at = ?, handled_reason = ?, updated_at = ? "
                          "WHERE id = ? AND status = 'open'", [now, reason, now, thread_id])

    def reopen_unanswered_thread(self, thread_id: int) -> None:
        """Open again a thread closed only because nothing in it asked for an answer, or by a correction now undone
        (blind round 27b: billing -> other -> billing left the billing issue out of every summary)."""
        self.conn.execute("UPDATE threads SET status = 'open', handled_at = NULL, handled_reason = NULL, "
                          "updated_at = ? WHERE id = ? AND (handled_reason = 'nothing to answer' OR handled_reason "
                          "LIKE 'corrected to %')", [utcnow(), thread_id])

    def thread_waits(self, thread_id: int) -> bool:
        """A client's request in the thread, a follow-up included, is unanswered: nobody at the agency wrote after."""
        return self.one("SELECT 1 FROM messages WHERE thread_id = ? AND staff = 0 AND automatic IS NULL AND "
                        "suspicious IS NULL AND display_category IN ('revision_request', 'billing_issue', "
                        "'progress_query') AND id > COALESCE((SELECT MAX(id) FROM messages WHERE thread_id = ? AND "
                        "staff = 1), 0) LIMIT 1", [thread_id, thread_id]) is not None

    def retire_account(self, account_id: str, *, closed_threads: int) -> None:
        """Move an account to removed_accounts (`liaison accounts remove`): nothing links to it, its name stays."""
        self.conn.execute("DELETE FROM removed_accounts WHERE account_id = ?", [account_id])
        self.conn.execute("INSERT INTO removed_accounts (account_id, name, code, domains, contacts, account_manager, "
                          "settings, removed_at, closed_threads) SELECT account_id, name, code, domains, contacts, "
                          "account_manager, settings, ?, ? FROM accounts WHERE account_id = ?",
                          [utcnow(), closed_threads, account_id])
        self.conn.execute("DELETE FROM accounts WHERE account_id = ?", [account_id])

    def forget_removed_account(self, account_id: str) -> bool:
        """An account imported again is no longer a removed one: True when it was one."""
        return self.conn.execute("DELETE FROM removed_accounts WHERE account_id = ?", [account_id]).rowcount > 0

    def release_outbox_key(self, outbox_id: int, prefix: str) -> None:
        """Free an outbox row's dedupe key (keeping it, behind `prefix`, in the row's record): what it stood for was
        never sent (a shadow period's mail, an acknowledgement refused for good), so it holds nothing back."""
        self.conn.execute("UPDATE outbox SET dedupe_key = ? || id || ':' || dedupe_key WHERE id = ?",
                          [prefix, outbox_id])

    def unlink_thread(self, thread_id: int) -> None:
        self.conn.execute("UPDATE threads SET account_id = NULL WHERE id = ?", [thread_id])

    def data_version(self) -> int:
        """A number that changes whenever ANOTHER connection commits to the database (SQLite's
        `PRAGMA data_version`): a cheap way to notice an `accounts import` made while the daemon runs."""
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    def learned_names(self) -> dict[str, str]:
        """Display names seen on mail linked by contact or sent by staff (see `learned_names`)."""
        return learned_names(self.conn)

    def retire_active_model(self) -> None:
        self.conn.execute("UPDATE models SET status = 'retired' WHERE status = 'active'")

    def activate_model(self, version: str) -> None:
        """Make VERSION the active model, retiring the one that was."""
        self.retire_active_model()
        self.conn.execute("UPDATE models SET status = 'active' WHERE version = ?", [version])

    def check_writable(self) -> None:
        """Take the write lock and let it go: raises sqlite3.Error when this user may not write, or OSError when the
        file itself may not be written (an immutable file, `chattr +i`: even root's SQLite opens it read-only, and
        the lock is granted; blind round 26: doctor said writable, `run` failed)."""
        if str(self.path) != ":memory:":
            os.close(os.open(self.path, os.O_RDWR))
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute("ROLLBACK")

    def record_health(self, name: str, values: dict[str, object]) -> None:
        """Update one row of `periodic_tasks` (a periodic task, or the SMTP server as the outbox sees it)."""
        with self.transaction():
            if self.one("SELECT 1 FROM periodic_tasks WHERE name = ?", [name]):
                self.update("periodic_tasks", "name", name, values)
            else:
                self.insert("periodic_tasks", {"name": name, **values})

    def one(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        rows = list(self.db.query(sql, params))
        return rows[0] if rows else None

    def message(self, row: int) -> dict[str, Any]:
        """A stored message's row: every ingested message has one (processed, quarantined or a duplicate)."""
        found = self.one("SELECT * FROM messages WHERE id = ?", [row])
        if found is None:
            raise LookupError(f"no stored message {row}")
        return found

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first column of the first row (an aggregate: COUNT, MIN...), or None when there is no row."""
        row = self.db.execute(sql, params).fetchone()
        return row[0] if row else None

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        return list(self.db.query(sql, params))

    def event(self, kind: str, detail: dict[str, Any] | str, message_row: int | None = None) -> None:
        """Record a fact worth showing later (a reload refused, a send given up, ...)."""
        # what a person reads later (the summary is mailed) holds no secret: a refused rules.yaml quoted the password
        # written into it (blind round 26)
        detail = scrubbed(detail) if isinstance(detail, str) else json.loads(scrubbed(json.dumps(detail, default=str)))
        with self.transaction():
            self.insert("events", {"at": utcnow(), "kind": kind, "message_row": message_row, "detail": detail})


def learned_names(conn: sqlite3.Connection) -> dict[str, str]:
    """Display names seen on mail linked by contact or sent by staff: what a message claiming one of them is
    checked against.
    Takes a connection so that a read-only one on the user's database can ask it too (inbox/scratch.py)."""
    # Every name an address has written under, not only its first: a forged first mail from a contact's own
    # address ("Zed Zed") must not leave the contact's real name unprotected. A name first seen on an address
    # stays that address's, as AccountIndex.learn_name keeps it.
    found: dict[str, str] = {}
    for name, address in conn.execute(
            "SELECT from_name, from_addr FROM messages WHERE link_reason IN ('contact', 'staff') AND from_name != '' "
            "GROUP BY from_name, from_addr ORDER BY MIN(id)"):
        found.setdefault(name, address)  # as written: name_key folds it (capitals first)
    return found


def _cell(value: Any) -> Any:
    """JSON-encode containers so every column holds a plain SQLite value."""
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value


def loads(value: str | None, default: Any = None) -> Any:
    """Decode a JSON column written by `_cell`."""
    if value in (None, ""):
        return default
    return json.loads(value)


def migrate(store: Store) -> list[str]:
    """Apply every registered migration not yet applied, each atomically with its record."""
    store.conn.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
    applied = {row["name"] for row in store.db.query("SELECT name FROM _migrations")}
    done = []
    for name, statements in MIGRATIONS:
        if name in applied:
            continue
        with store.transaction():
            # Re-check inside the write lock: another process may have just migrated.
            if store.one("SELECT name FROM _migrations WHERE name = ?", [name]):
                continue
            for statement in statements:
                store.conn.execute(statement)
            store.insert("_migrations", {"name": name, "applied_at": utcnow()})
        done.append(name)
    return done


def _create_private(path: Path) -> None:
    """Create the database file owner-only before SQLite does (its WAL files copy this mode)."""
    if str(path) == ":memory:" or path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)
