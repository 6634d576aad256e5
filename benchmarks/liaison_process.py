"""Run the real `liaison` CLI as a child process, as a user would, and measure it from outside.

Peak RSS is the child's own high-water mark, VmHWM from /proc, read every `sample_every` seconds (it only
grows, so spikes between readings are counted; only the last moment before exit can escape it). Not
ru_maxrss: a child started by fork or vfork then exec inherits its parent's high-water mark in ru_maxrss,
and a benchmark that built 10,000 messages and a 30 MB one in memory reported that (issue 14: the 602 MB).
Each sample also has VmRSS, so a report can say when the peak came and what the steady level was.
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
    peak_rss_mb: float  # the child's own peak RSS (its last VmHWM)
    parent_tainted_maxrss_mb: float  # ru_maxrss from wait4: includes this parent's own peak, see above
    samples: list[tuple[float, float, float]] = field(default_factory=list)  # (seconds since start, VmRSS, VmHWM)
    output: str = ""
    started_at: float = 0.0  # time.time() at the start, to match samples with the child's log

    @property
    def sampled_peak_mb(self) -> float:
        return max((rss for _, rss, _ in self.samples), default=0.0)

    @property
    def peak_at_s(self) -> float:
        """When the high-water mark reached its final value (within one sampling period)."""
        return next((t for t, _, hwm in self.samples if hwm >= self.peak_rss_mb), 0.0)


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
    peak = max((hwm for _, _, hwm in samples), default=0.0)
    return Finished(process.returncode, seconds, peak, usage.ru_maxrss / 1024, samples, log.read_text(errors="replace"),
                    started_at)


def _sample(pid: int, started: float, every: float, into: list[tuple[float, float, float]]) -> None:
    status = Path(f"/proc/{pid}/status")
    while True:
        try:
            text = status.read_text()
        except OSError:  # reaped
            return
        fields = dict(line.split(":", 1) for line in text.splitlines() if line.startswith(("VmRSS", "VmHWM")))
        if len(fields) < 2:  # a zombie has neither: the process has ended
            return
        into.append((time.perf_counter() - started, int(fields["VmRSS"].split()[0]) / 1024,
                     int(fields["VmHWM"].split()[0]) / 1024))
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
