"""Where the memory goes while `liaison run --once` handles a 30 MB message (issue 14).

    python3 benchmarks/memory_probe.py [--small 20] [--threshold 8]

Runs the real CLI entry point in this process (LIAISON_ variables, live against aiosmtpd) over a few
realistic messages and the 30 MB one, with tracemalloc on and a profile hook that samples, at every
call and return of a Liaison function (and every C call made from one, such as sqlite3's execute):
Python-traced memory (tracemalloc: current and the peak since the previous sample) and the process's
RSS and its peak since the previous sample (VmHWM, reset after each reading; it also sees SQLite's own
allocations, which tracemalloc does not). The report lists every
step that raised either by more than `--threshold` MB, with the call stack inside Liaison, and the
largest live allocations at the traced peak. Slow (every call is sampled); for diagnosis only.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, SimpleNamespace
from typing import Any

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.backlog import accounts, replicate  # noqa: E402
from benchmarks.pipeline import daemon_env  # noqa: E402
from tests.servers import LOOPBACK, DovecotServer, free_port, wait_for_port  # noqa: E402

OURS = tuple(str(ROOT / package) for package in ("inbox", "classifiers", "responders"))
MB = 2**20


def rss() -> tuple[int, int]:
    """(resident now, highest resident since the previous call): the kernel's high-water mark is reset
    after each reading (clear_refs 5), so a spike inside one C call (SQLite, the socket) is seen too."""
    with open("/proc/self/status") as status:
        fields = dict(line.split(":", 1) for line in status if line.startswith(("VmRSS", "VmHWM")))
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")
    return int(fields["VmRSS"].split()[0]) * 1024, int(fields["VmHWM"].split()[0]) * 1024


@dataclass
class Step:
    where: str  # the Liaison call stack, outermost first
    event: str
    traced: int
    traced_peak: int  # highest traced memory since the previous sample
    rss: int
    rss_peak: int  # highest RSS since the previous sample


class Probe:
    def __init__(self, threshold: int, *, ours: tuple[str, ...] = OURS) -> None:
        self.threshold = threshold
        self.ours = ours
        self.steps: list[Step] = []
        self.last = (0, 0)
        self.top_traced = 0
        self.top_rss = 0
        self.snapshot: tracemalloc.Snapshot | None = None
        self.snapshot_where = ""

    def hook(self, frame: FrameType, event: str, arg: Any) -> None:
        if not frame.f_code.co_filename.startswith(self.ours):
            return
        name = getattr(arg, "__qualname__", getattr(arg, "__name__", "?")) if event.startswith("c_") else ""
        traced, peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        now, high = rss()
        grew = max(peak - self.last[0], high - self.last[1])
        if grew > self.threshold or peak > self.top_traced + self.threshold or high > self.top_rss + self.threshold:
            where = _stack(frame, self.ours) + (f" -> {name}" if name else "")
            self.steps.append(Step(where, event, traced, peak, now, high))
            if peak > self.top_traced + self.threshold and traced > self.top_traced:
                self.snapshot, self.snapshot_where = tracemalloc.take_snapshot(), where
        self.top_traced = max(self.top_traced, peak)
        self.top_rss = max(self.top_rss, high)
        self.last = (traced, now)


def _stack(frame: FrameType | None, ours: tuple[str, ...]) -> str:
    names = []
    while frame is not None:
        if frame.f_code.co_filename.startswith(ours):
            module = Path(frame.f_code.co_filename).stem
            names.append(f"{module}.{frame.f_code.co_qualname}:{frame.f_lineno}")
        frame = frame.f_back
    return " > ".join(reversed(names[:8]))


def probe(small: int, threshold_mb: float) -> Probe:
    from inbox.cli import main as liaison_main

    with tempfile.TemporaryDirectory() as tmp, DovecotServer() as dovecot, _sink() as smtp:
        dovecot.append_many(replicate(small))  # not kept: this process's memory is what is measured
        env = daemon_env(Path(tmp), dovecot, smtp, accounts=accounts())
        os.environ.update(env)
        os.chdir(tmp)
        result = Probe(int(threshold_mb * MB))
        tracemalloc.start(25)
        result.last = (tracemalloc.get_traced_memory()[0], rss()[0])
        sys.setprofile(result.hook)
        try:
            with contextlib.redirect_stdout(sys.stderr):
                code = liaison_main(["--log-level", "WARNING", "run", "--once"])
        finally:
            sys.setprofile(None)
        print(f"liaison exit {code}")
    return result


@contextlib.contextmanager
def _sink() -> Any:
    """A real aiosmtpd that drops what it receives, in its own process: in this one, the messages it
    keeps would be counted as Liaison's memory."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink",
                               "-l", f"{LOOPBACK}:{port}"])
    try:
        if not wait_for_port(port, alive=lambda: server.poll() is None):
            raise RuntimeError("aiosmtpd did not start")
        yield SimpleNamespace(host=LOOPBACK, port=port)
    finally:
        server.terminate()
        server.wait(timeout=10)


def fetch_probe(threshold_mb: float) -> Probe:
    """The same samples inside imapclient and imaplib, for a plain fetch of the 30 MB message."""
    import imaplib

    import imapclient

    libraries = (str(Path(imapclient.__file__).parent), imaplib.__file__, socket_module_file())
    with DovecotServer() as dovecot:
        dovecot.append_many(replicate(0))
        client = dovecot.client()
        client.select_folder("INBOX", readonly=True)
        uids = client.search(["ALL"])
        result = Probe(int(threshold_mb * MB), ours=libraries)
        tracemalloc.start(25)
        result.last = (tracemalloc.get_traced_memory()[0], rss()[0])
        sys.setprofile(result.hook)
        try:
            data = client.fetch(uids, ["BODY.PEEK[]", "INTERNALDATE"])
        finally:
            sys.setprofile(None)
        print(f"fetched {sum(len(item[b'BODY[]']) for item in data.values()) / MB:.1f} MB")
        client.logout()
    return result


def socket_module_file() -> str:
    import socket

    return socket.__file__


def report(result: Probe) -> str:
    lines = [f"peak traced {result.top_traced / MB:.0f} MB, peak RSS {result.top_rss / MB:.0f} MB "
             "(this process: the probe's own overhead included)", "", "steps that raised traced memory or RSS:"]
    for step in result.steps:
        lines.append(f"  traced {step.traced / MB:6.1f} (peak {step.traced_peak / MB:6.1f}) rss {step.rss / MB:6.1f} "
                     f"(peak {step.rss_peak / MB:6.1f}) MB  {step.event:9} {step.where}")
    if result.snapshot:
        lines += ["", f"largest live allocations at the traced peak ({result.snapshot_where}):"]
        for stat in result.snapshot.statistics("traceback")[:8]:
            ours = [f for f in stat.traceback if f.filename.startswith(result.ours)] or list(stat.traceback)[-1:]
            lines.append(f"  {stat.size / MB:6.1f} MB in {stat.count} blocks, from "
                         + " > ".join(f"{Path(f.filename).stem}:{f.lineno}" for f in ours[-4:])
                         + f"  (allocated at {Path(stat.traceback[-1].filename).name}:{stat.traceback[-1].lineno})")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=20, help="realistic messages around the 30 MB one")
    parser.add_argument("--threshold", type=float, default=8, help="report steps that add more MB than this")
    parser.add_argument("--fetch", action="store_true", help="probe only a plain imapclient fetch of the 30 MB one")
    args = parser.parse_args()
    print(report(fetch_probe(args.threshold) if args.fetch else probe(args.small, args.threshold)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
