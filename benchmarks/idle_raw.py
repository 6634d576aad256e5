"""The server's own IDLE latency: from an APPEND on one connection to the EXISTS that another connection, in IDLE,
is told of. Plain imapclient against the Dovecot the tests and benchmarks use: the floor under issue 14's target
(APPEND to acknowledgement at the SMTP server), measured the same way (from just before the APPEND).

    python3 benchmarks/idle_raw.py [--count 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import imapclient

sys.path.insert(0, str(Path(__file__).parent.parent))
from tests.servers import DovecotServer  # noqa: E402


def _told_of_new_mail(responses: list[tuple[object, ...]]) -> bool:
    return any(len(r) > 1 and r[1] == b"EXISTS" for r in responses)


def measure(count: int) -> dict[str, float]:
    with DovecotServer() as dovecot:
        watcher = imapclient.IMAPClient(dovecot.host, port=dovecot.port, ssl=False)
        watcher.login(dovecot.user, dovecot.password)
        watcher.select_folder("INBOX")
        writer = imapclient.IMAPClient(dovecot.host, port=dovecot.port, ssl=False)
        writer.login(dovecot.user, dovecot.password)
        delays = []
        for number in range(count):
            watcher.idle()
            appended = time.perf_counter()
            raw = f"From: c@client.example\r\nSubject: {number}\r\nMessage-ID: <{number}@c.example>\r\n\r\nnews?\r\n"
            writer.append("INBOX", raw.encode())
            while not _told_of_new_mail(watcher.idle_check(timeout=2)):
                pass
            delays.append(time.perf_counter() - appended)
            watcher.idle_done()
    delays.sort()
    return {"count": count, "p50_s": statistics.median(delays), "p95_s": delays[int(0.95 * count) - 1],
            "max_s": delays[-1]}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=30)
    print(measure(parser.parse_args().count))
