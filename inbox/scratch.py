"""A throw-away pipeline on an in-memory database: for classify, eval, rules test and replay.

It never touches the user's database beyond reading it (accounts, learned names, and for `classify` and
`rules test` the acknowledgements and bounces the rate limits count).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from foundation.accounts import accounts_in, import_accounts
from foundation.rules import Rules
from foundation.settings import Settings
from foundation.store import Store
from inbox.pipeline import Pipeline, learned_names
from inbox.stages.context import Outcome, Position


def scratch_pipeline(settings: Settings, rules: Rules, *, accounts: list[dict[str, Any]] | None = None,
                     accounts_db: Path | None = None, as_now: bool = False) -> Pipeline:
    """`as_now`: judge as the daemon would now, from what `accounts_db` holds: the caps (limits in rules.yaml)
    count the acknowledgements recorded there, and its threads are copied, so that a reply joins its thread
    and one in a thread already acknowledged is shown withheld, as the daemon would withhold it."""
    store = Store(":memory:")
    rows = list(accounts or [])
    names: dict[str, str] = {}
    model = None
    sent = None
    if accounts_db is not None and accounts_db.exists():
        rows += accounts_in(accounts_db)
        names, model = _learned_from(accounts_db)
        if as_now:
            sent = sqlite3.connect(f"file:{accounts_db}?mode=ro", uri=True, check_same_thread=False)
    if rows:
        import_accounts(store, rows)
    if as_now and accounts_db is not None and accounts_db.exists():
        _copy_threads(accounts_db, store)
    # Judged as the daemon would: with the display names it has learned and the model version it runs.
    return Pipeline(store, settings, rules, model=model, known_names=names, sent_elsewhere=sent)


def ingest_now(pipeline: Pipeline, raw: bytes) -> Outcome:
    """Judge a message file as if it reached the mailbox now, as the daemon would judge it arriving now: the rate
    limits' windows and the deadlines' "today" from now, not from the Date header its sender wrote (a file saved
    an hour ago would else slip under caps that the service's sends of the last hour fill)."""
    return pipeline.ingest(raw, Position(arrived=datetime.now(UTC)))


def seen_by_service(path: Path | None, raw: bytes) -> str:
    """What the service's database already holds of this message, in a sentence ('' for nothing): classify and
    rules test judge every message as new, where the daemon would skip a copy it has processed (the same bytes,
    or the same message under its Message-ID, inbox/stages) or doubt a second message under a used one."""
    import hashlib

    from foundation.errors import ParseError
    from foundation.message import SYNTHETIC_ID_SUFFIX, parse_message
    from inbox.stages.parse import same_message

    if path is None or not path.exists():
        return ""
    raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")  # as the IMAP server stores a file's LF lines
    try:
        parsed = parse_message(raw)
    except ParseError:
        return ""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        digest = hashlib.sha256(raw).hexdigest()
        same = conn.execute("SELECT id FROM messages WHERE raw_sha256 = ?", [digest]).fetchone()
        twin = conn.execute("SELECT id, from_addr, subject, body_text FROM messages WHERE message_id = ? AND "
                            "message_id NOT LIKE ? ORDER BY id LIMIT 1",
                            [parsed.message_id, f"%{SYNTHETIC_ID_SUFFIX}"]).fetchone()
    except sqlite3.DatabaseError:
        return ""
    finally:
        conn.close()
    if same or (twin and same_message(dict(twin), parsed)):
        return (f"the service already processed this message as message #{(same or twin)['id']}: the daemon does "
                "nothing with it again (below: how it would judge it as new mail arriving now, in a thread that "
                "holds it already: counted as a chaser of itself; `liaison classify --alone` judges it on its own)")
    if twin:
        return (f"message #{twin['id']} from {twin['from_addr'] or 'nobody'} already used the Message-ID "
                f"{parsed.message_id}: the daemon keeps this one but never answers it on trust (suspicious)")
    return ""


def _copy_threads(path: Path, store: Store) -> None:
    """The service's threads and the Message-IDs that lead to them (unreadable or older than threads: judged
    without them, as before)."""
    store.copy_tables_from(path, ("threads", "thread_refs"))


def _learned_from(path: Path) -> tuple[dict[str, str], Any]:
    """Learned display names and the active model version of the user's database (read-only)."""
    from classifiers.model import TextcatClassifier
    from inbox.models import models_dir

    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = learned_names(conn)
        active = conn.execute("SELECT version FROM models WHERE status = 'active'").fetchone()
    except sqlite3.DatabaseError:
        return {}, None
    finally:
        conn.close()
    folder = models_dir(path) / active[0] if active else None
    return names, TextcatClassifier(folder) if folder and TextcatClassifier.available(folder) else None
