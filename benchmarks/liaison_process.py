"""Run the real `liaison` CLI as a child process, as a user would, and measure it from outside.

Peak RSS is the kernel's own high-water mark for that one process (ru_maxrss from wait4); a thread
also samples VmRSS from /proc every `sample_every` seconds, so that a report can say *when* the peak
came (the sampler can miss a spike shorter than its period; ru_maxrss cannot).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Finished:
    returncode: int
    seconds: float
    peak_rss_mb: float  # ru_maxrss of the child
    samples: list[tuple[float, float]] = field(default_factory=list)  # (seconds since start, VmRSS MB)
    output: str = ""

    @property
    def sampled_peak_mb(self) -> float:
        return max((mb for _, mb in self.samples), default=0.0)


def liaison(args: list[str], *, env: dict[str, str], cwd: Path, profile: Path | None = None,
            sample_every: float = 0.05) -> Finished:
    """`python -m inbox.cli ARGS` (under cProfile into `profile` if given); waits for it to end."""
    prefix = [sys.executable, "-m", "cProfile", "-o", str(profile)] if profile else [sys.executable]
    log = cwd / "liaison-output.txt"
    with open(log, "w") as out:
        started = time.perf_counter()
        process = subprocess.Popen([*prefix, "-m", "inbox.cli", *args], env=env, cwd=cwd, stdout=out,
                                   stderr=subprocess.STDOUT)
        samples: list[tuple[float, float]] = []
        sampler = threading.Thread(target=_sample, args=(process.pid, started, sample_every, samples), daemon=True)
        sampler.start()
        # wait4 gives this one process's own peak; RUSAGE_CHILDREN would mix in every earlier child.
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        sampler.join()
    return Finished(process.returncode, seconds, usage.ru_maxrss / 1024, samples, log.read_text(errors="replace"))


def _sample(pid: int, started: float, every: float, into: list[tuple[float, float]]) -> None:
    status = Path(f"/proc/{pid}/status")
    while True:
        try:
            text = status.read_text()
        except (FileNotFoundError, ProcessLookupError):
            return
        for line in text.splitlines():
            if line.startswith("VmRSS:"):
                into.append((time.perf_counter() - started, int(line.split()[1]) / 1024))
                break
        else:  # a zombie has no VmRSS: the process has ended
            return
        time.sleep(every)


def print_profile(path: Path, *, lines: int = 25) -> str:
    """The profile's top `lines` by cumulative and by own time, as text."""
    import io
    import pstats

    out = io.StringIO()
    stats = pstats.Stats(str(path), stream=out)
    stats.strip_dirs()
    for order in ("cumulative", "tottime"):
        out.write(f"\n--- top {lines} by {order} ---\n")
        stats.sort_stats(order).print_stats(lines)
    return out.getvalue()
