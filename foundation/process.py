"""Which process holds something: a claim that says so, and whether that process is gone.

An outbox row being sent is claimed by the process sending it (the daemon, or `liaison summary --send` beside
it). A claim whose process died (kill -9) is due again; one whose process still runs is left to it, or the same
mail would go out twice.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path


def this_process() -> str:
    """This process as a claim: host, pid and start time (a pid is reused; with its start time it is not)."""
    return _claim(os.getpid())


def process_gone(claim: str | None) -> bool:
    """True when the process that made `claim` no longer runs. No claim (a row from before claims were kept) and
    one from another host count as gone: the database is a local SQLite file, so another host's claim is this
    machine's under an old name (a container made again)."""
    if not claim:
        return True
    host, _, rest = claim.partition(":")
    pid_text, _, started = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return True
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # another user's process runs under that pid: not ours, so ours is gone
        return True
    return bool(started) and _started(pid) != started


def _claim(pid: int) -> str:
    return f"{socket.gethostname()}:{pid}:{_started(pid)}"


def _started(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux); empty where /proc does not say."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    # the command name (field 2) is in parentheses and may hold spaces: count fields after its closing one
    return stat.rpartition(")")[2].split()[19]
