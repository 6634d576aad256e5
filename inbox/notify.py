"""Talking to the service manager: systemd's notify protocol and the daemon's status file.

systemd's protocol is one datagram to the socket named by $NOTIFY_SOCKET ("READY=1",
"WATCHDOG=1", "STOPPING=1"); it needs no library. With `WatchdogSec=` systemd restarts the
service when the pings stop. The daemon pings only when its loop completes a turn with the
IMAP connection still up, so a connection that stalls (no error, no data) stops the pings.

The status file (next to the database) says what the running daemon last did, for
`liaison status`: written whole and renamed into place, so a reader never sees half of it.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from pathlib import Path
from typing import Any

from foundation.rules import Rules
from foundation.store import utcnow


class Notifier:
    """sd_notify without libsystemd. Does nothing when not started by systemd (no $NOTIFY_SOCKET)."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        env = dict(os.environ) if env is None else env
        address = env.get("NOTIFY_SOCKET", "")
        # A leading "@" names a Linux abstract socket, written with a NUL byte on the wire.
        self.address = "\0" + address[1:] if address.startswith("@") else address
        self.watchdog_seconds = _watchdog_seconds(env.get("WATCHDOG_USEC", ""), env.get("WATCHDOG_PID", ""))
        self._last_ping = 0.0

    @property
    def enabled(self) -> bool:
        return bool(self.address)

    def send(self, state: str) -> None:
        if not self.address:
            return
        # systemd gone or restarting: nothing to tell, nothing to fix.
        with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(self.address)
            sock.sendall(state.encode())

    def ready(self, status: str = "") -> None:
        self.send("READY=1" + (f"\nSTATUS={status}" if status else ""))

    def stopping(self) -> None:
        self.send("STOPPING=1")

    def ping(self) -> None:
        """WATCHDOG=1, at most every tenth of the watchdog interval (a ping per message would be noise)."""
        if self.watchdog_seconds is None:
            return
        now = time.monotonic()
        if now - self._last_ping >= self.watchdog_seconds / 10:
            self._last_ping = now
            self.send("WATCHDOG=1")

    def longest_wait(self, seconds: float) -> float:
        """Cap an idle wait so that the loop comes round (and proves the connection) well within the watchdog."""
        return seconds if self.watchdog_seconds is None else min(seconds, self.watchdog_seconds / 3)


def _watchdog_seconds(usec: str, pid: str) -> float | None:
    if pid and pid != str(os.getpid()):
        return None  # the watchdog is meant for another process (a parent wrapper)
    try:
        value = int(usec)
    except ValueError:
        return None
    return value / 1_000_000 if value > 0 else None


class StatusFile:
    """What the daemon last did, as JSON next to the database; updated in place, read by `liaison status`."""

    def __init__(self, db_path: Path) -> None:
        self.path = status_path(db_path)
        self.data: dict[str, Any] = {"pid": os.getpid(), "started_at": utcnow()}

    def record(self, **values: Any) -> None:
        self.data.update(values, updated_at=utcnow())
        if self.path.name.startswith(":memory:"):
            return  # a throw-away database has no daemon to report on
        temporary = self.path.with_name(self.path.name + ".tmp")
        try:
            temporary.write_text(json.dumps(self.data, ensure_ascii=False, default=str), encoding="utf-8")
            os.replace(temporary, self.path)
        except OSError:
            pass  # a status line is not worth stopping the daemon for; the database holds the truth


def status_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".status.json")


def read_status(db_path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(status_path(db_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def rules_version(rules: Rules) -> dict[str, Any]:
    """Which rules are in force: the file, a short hash of its text, and when it was loaded."""
    import hashlib

    try:
        digest = hashlib.sha256(Path(rules.path).read_bytes()).hexdigest()[:12]
    except OSError:
        digest = "?"
    return {"path": str(rules.path), "sha256": digest, "rules": len(rules.spec.rules), "mode": rules.spec.mode,
            "loaded_at": utcnow()}
