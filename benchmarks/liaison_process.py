"""Run the real `liaison` CLI as a child process, as a user would, and measure it from outside.

Peak RSS is the kernel's own high-water mark for that one process (VmHWM, and ru_maxrss from wait4). A
thread reads the child's VmHWM from /proc every `sample_every` seconds and resets it (clear_refs 5), so each
sample is the highest RSS of its own window, short spikes included: a report can say *when* the peak came.
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
    peak_rss_mb: float  # the child's own peak RSS, from the kernel's high-water marks
    samples: list[tuple[float, float]] = field(default_factory=list)  # (seconds since start, peak MB of the window)
    output: str = ""
    started_at: float = 0.0  # time.time() at the start, to match samples with the child's log

    @property
    def sampled_peak_mb(self) -> float:
        return max((mb for _, mb in self.samples), default=0.0)


def liaison(args: list[str], *, env: dict[str, str], cwd: Path, profile: Path | None = None,
            sample_every: float = 0.05) -> Finished:
    """`python -m inbox.cli ARGS` (under cProfile into `profile` if given); waits for it to end."""
    prefix = [sys.executable, "-m", "cProfile", "-o", str(profile)] if profile else [sys.executable]
    log = cwd / "liaison-output.txt"
    with open(log, "w") as out:
        started, started_at = time.perf_counter(), time.time()
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
    # Resetting the high-water mark also resets what ru_maxrss reports at exit: the true peak is the
    # highest of the windows' peaks and of the last window's (ru_maxrss).
    peak = max([usage.ru_maxrss / 1024, *(mb for _, mb in samples)])
    return Finished(process.returncode, seconds, peak, samples, log.read_text(errors="replace"),
                    started_at)


def _sample(pid: int, started: float, every: float, into: list[tuple[float, float]]) -> None:
    status, clear = Path(f"/proc/{pid}/status"), Path(f"/proc/{pid}/clear_refs")
    while True:
        try:
            text = status.read_text()
            clear.write_text("5")  # restart the high-water mark: the next reading covers the next window only
        except OSError:  # gone, or not ours to reset
            return
        for line in text.splitlines():
            if line.startswith("VmHWM:"):
                into.append((time.perf_counter() - started, int(line.split()[1]) / 1024))
                break
        else:  # a zombie has no VmHWM: the process has ended
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
