"""A realistic backlog against a real Dovecot and aiosmtpd (issue 14), measured in one run.

    python3 benchmarks/backlog.py                     # 10,000 messages + one of 30 MB
    python3 benchmarks/backlog.py --count 2000        # for iteration
    python3 benchmarks/backlog.py --count 2000 --profile /tmp/run-once.prof

The demo mailbox (inbox/data/demo) and tests/data/eval are replicated to `--count` messages: each copy
gets fresh Message-IDs (In-Reply-To and References follow them, so threads stay threads within a copy)
and a Date spread over the last four weeks in office hours; one client message with a 30 MB attachment
sits in the middle. Everything is APPENDed to Dovecot. Then, side by side:

- raw imapclient fetch of the same messages (`BODY.PEEK[]`, batches of 100), messages/s;
- `liaison run --once`, the real CLI in a child process configured by LIAISON_ variables, live against
  aiosmtpd (`backfill: all`, so every message is answered as new mail would be), messages/s over its
  whole wall time (start-up and model load included, as a user waits for them), and the ratio;
- the child's own peak RSS (VmHWM from /proc, sampled every 50 ms; see liaison_process) and when it came.

With `--profile FILE`, a second `run --once` under cProfile (fresh database, same mailbox) writes FILE
and the top 25 lines by cumulative and own time are printed; the figures above stay unprofiled.
"""

from __future__ import annotations

import argparse
import random
import re
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.liaison_process import Finished, liaison, print_profile  # noqa: E402
from benchmarks.mailgen import big_message  # noqa: E402
from benchmarks.pipeline import daemon_env, raw_fetch_rate  # noqa: E402
from foundation.accounts import read_accounts_csv  # noqa: E402
from tests.servers import DovecotServer, SMTPServer  # noqa: E402

SOURCES = (ROOT / "inbox" / "data" / "demo", ROOT / "tests" / "data" / "eval")
_ID = re.compile(rb"<([^<>@\s]+)@([^<>\s]+)>")
_ID_HEADERS = re.compile(rb"^(Message-ID|In-Reply-To|References):(.*(?:\r?\n[ \t].*)*)", re.M | re.I)
_DATE = re.compile(rb"^Date:.*(?:\r?\n[ \t].*)*", re.M | re.I)


def originals() -> list[bytes]:
    """The demo mailbox (in arrival order) and the evaluation mail, as they are on disk."""
    demo = SOURCES[0] / "mailbox"
    files = sorted((p for sub in ("cur", "new") for p in (demo / sub).glob("*") if not p.name.startswith(".")),
                   key=lambda p: p.name)
    files += sorted((SOURCES[1] / "mail").glob("*.eml"))
    return [path.read_bytes() for path in files]


def accounts() -> list[dict[str, Any]]:
    return [row for folder in SOURCES for row in read_accounts_csv(folder / "accounts.csv")]


def replicate(count: int, *, seed: int = 14, now: datetime | None = None) -> list[bytes]:
    """`count` messages copied from `originals()`, each copy with its own Message-IDs and a new Date,
    plus the 30 MB one in the middle (so `count + 1` in all)."""
    rng = random.Random(seed)
    base = originals()
    end = (now or datetime.now(UTC)).replace(microsecond=0)
    start = end - timedelta(days=28)
    out = []
    for i in range(count):
        copy, raw = divmod(i, len(base))
        when = start + timedelta(seconds=(end - start).total_seconds() * i / max(count, 1))
        when = when.replace(hour=rng.choice((8, 9, 9, 10, 11, 11, 12, 14, 15, 15, 16, 17, 19)),
                            minute=rng.randrange(60), second=rng.randrange(60))
        out.append(_fresh(base[raw], copy=copy, when=min(when, end)))
    out.insert(len(out) // 2, big_message(0))
    return out


def _fresh(raw: bytes, *, copy: int, when: datetime) -> bytes:
    ends = [(at, sep) for sep in (b"\r\n\r\n", b"\n\n") if (at := raw.find(sep)) >= 0]
    at, sep = min(ends) if ends else (len(raw), b"")
    head, body = raw[:at], raw[at + len(sep):]
    tag = f"c{copy}.".encode()
    head = _ID_HEADERS.sub(lambda m: m.group(1) + b":" + _ID.sub(lambda i: b"<" + tag + i.group(1) + b"@" +
                                                                  i.group(2) + b">", m.group(2)), head)
    head = _DATE.sub(b"Date: " + format_datetime(when).encode(), head)
    return head + sep + body


def run(count: int, *, profile: Path | None = None) -> dict[str, Any]:
    mail = replicate(count)
    with tempfile.TemporaryDirectory() as tmp, DovecotServer() as dovecot, SMTPServer() as smtp:
        started = time.perf_counter()
        dovecot.append_many(mail)
        append_s = time.perf_counter() - started
        raw_fetch_rate(dovecot)  # the first fetch warms Dovecot's index and cache; not part of either figure
        raw_rate, fetched = raw_fetch_rate(dovecot)
        measured = _run_once(Path(tmp) / "measured", dovecot, smtp, profile=None)
        result = {"messages": fetched, "megabytes": sum(map(len, mail)) / 2**20, "append_s": append_s,
                  "raw_fetch_per_s": raw_rate, **measured, "ratio": measured["liaison_per_s"] / raw_rate}
        if profile:
            profiled = _run_once(Path(tmp) / "profiled", dovecot, smtp, profile=profile)
            result["profiled_s"] = profiled["liaison_s"]
    return result


def _run_once(folder: Path, dovecot: DovecotServer, smtp: SMTPServer, *, profile: Path | None) -> dict[str, Any]:
    folder.mkdir()
    env = daemon_env(folder, dovecot, smtp, accounts=accounts())
    sent_before = len(smtp.messages)
    finished = liaison(["--log-level", "WARNING", "run", "--once"], env=env, cwd=folder, profile=profile)
    if finished.returncode != 0:
        raise RuntimeError(f"liaison exited with {finished.returncode}:\n{finished.output[-3000:]}")
    with sqlite3.connect(folder / "liaison.db") as db:
        processed = db.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
    return {"processed": processed, "sent": len(smtp.messages) - sent_before, "liaison_s": finished.seconds,
            "liaison_per_s": processed / finished.seconds, "peak_rss_mb": finished.peak_rss_mb,
            **_when_peaked(finished), "summary": finished.output.strip().splitlines()[-1:]}


def _when_peaked(finished: Finished) -> dict[str, Any]:
    """When the peak came, the highest VmRSS sampled, and the steady level (the median sample)."""
    levels = sorted(rss for _, rss, _ in finished.samples) or [0.0]
    return {"peak_at_s": finished.peak_at_s, "sampled_rss_max_mb": levels[-1],
            "steady_rss_mb": levels[len(levels) // 2], "parent_tainted_maxrss_mb": finished.parent_tainted_maxrss_mb}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10000, help="messages besides the 30 MB one (default 10000)")
    parser.add_argument("--profile", type=Path, help="also profile a second run --once into this file")
    args = parser.parse_args()
    result = run(args.count, profile=args.profile)
    for key, value in result.items():
        print(f"{key:>20}: {value:.3f}" if isinstance(value, float) else f"{key:>20}: {value}")
    if args.profile:
        print(print_profile(args.profile))
    return 0


if __name__ == "__main__":
    sys.exit(main())
