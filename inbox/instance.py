"""One live Liaison per database: a second `liaison run` (a manual start beside the service, `run --once` while
the daemon runs) would flush the same outbox and send every queued message again, Sent folder or not."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from foundation.errors import InstanceRunning


def lock_path(db_path: Path) -> Path:
    """Beside the real database file: a symlink to it (or a path through one) must find the same lock."""
    real = Path(db_path).resolve()
    return real.with_name(real.name + ".lock")


class InstanceLock:
    """The two locks a live instance holds until it ends: the lock file (which names its pid) and the
    database file itself, which a hard link or any other path to the same file shares."""

    def __init__(self, lock_file: IO[str], database: IO[bytes]) -> None:
        self.lock_file, self.database = lock_file, database

    def close(self) -> None:
        self.database.close()
        self.lock_file.close()


def hold_instance_lock(db_path: Path) -> InstanceLock:
    """Take the database's instance lock for as long as the returned lock stays open (the kernel releases it
    when the process ends, however it ends); raise InstanceRunning, naming the holder, when another has it."""
    handle = open(lock_path(db_path), "a+", encoding="utf-8")  # noqa: SIM115 - held open for the process's life
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "?"
        handle.close()
        raise InstanceRunning(f"another Liaison (pid {holder}) is already running on {db_path}: one process "
                              "per database, or queued mail would be sent twice; stop it first") from None
    # flock, not SQLite's fcntl locks: the two never meet on a local file system. Held until exit: closing
    # another descriptor of the file would drop this process's SQLite locks on it.
    database = open(Path(db_path).resolve(), "ab")  # noqa: SIM115 - held open for the process's life
    try:
        fcntl.flock(database, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        database.close()
        handle.close()
        raise InstanceRunning(f"another Liaison is already running on {db_path} through another path to the same "
                              "file (a hard link?): one process per database; stop it first") from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return InstanceLock(handle, database)


def holds_instance_lock(pid: int, db_path: Path) -> bool | None:
    """Does process `pid` hold the database's instance lock? None when the system cannot say (no
    /proc/locks). What tells a live daemon from another process that was given its pid after a crash."""
    try:
        inode = os.stat(lock_path(db_path)).st_ino
        table = Path("/proc/locks").read_text(encoding="ascii")
    except FileNotFoundError:
        return None if not Path("/proc/locks").exists() else False  # no lock file: nobody holds it
    except OSError:
        return None
    for line in table.splitlines():
        fields = line.split()
        # "1: FLOCK  ADVISORY  WRITE 2917 fd:01:1183470 0 EOF"; blocked waiters ("1: -> FLOCK ...") hold nothing
        if len(fields) >= 6 and fields[1] == "FLOCK" and fields[4] == str(pid) \
                and fields[5].rsplit(":", 1)[-1] == str(inode):
            return True
    return False
