"""Latency loops (one asker, or several at once), load averages and CPU use."""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.bench.models import Latency, Load


def load_now() -> float:
    """The 1-minute load average (what else the shared machine is doing)."""
    return round(os.getloadavg()[0], 2)


@dataclass
class Window:
    """Wall time, CPU time and load around a block (filled in when it ends)."""

    load_before: float
    wall_s: float = 0.0
    cpu_s: float = 0.0
    load_after: float = 0.0

    @property
    def load(self) -> Load:
        return Load(before=self.load_before, after=self.load_after)

    @property
    def cores_used(self) -> float:
        return round(self.cpu_s / self.wall_s, 2) if self.wall_s else 0.0


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def window() -> Iterator[Window]:
    """Measure a block; CPU time counts every thread of this process (so 2.0 = both cores busy)."""
    win = Window(load_before=load_now())
    cpu0, t0 = _cpu_seconds(), time.perf_counter()
    try:
        yield win
    finally:
        win.wall_s = time.perf_counter() - t0
        win.cpu_s = _cpu_seconds() - cpu0
        win.load_after = load_now()


def percentile(values: Sequence[float], q: float) -> float:
    return round(float(np.percentile(np.asarray(values, dtype=float), q)), 2)


def _latency(times_ms: list[float], *, wall_s: float, workers: int, load: Load) -> Latency:
    return Latency(n=len(times_ms), p50_ms=percentile(times_ms, 50), p95_ms=percentile(times_ms, 95),
                   mean_ms=round(float(np.mean(times_ms)), 2), workers=workers,
                   per_second=round(len(times_ms) / wall_s, 2) if wall_s else 0.0, load=load)


def _timed(fn: Callable[[str], object], item: str) -> float:
    t0 = time.perf_counter()
    fn(item)
    return (time.perf_counter() - t0) * 1000


def measure(fn: Callable[[str], object], items: Sequence[str], *, workers: int = 1) -> Latency:
    """Call ``fn`` once per item; with ``workers`` > 1 that many askers run at once.

    Each asker waits for its answer before sending its next question, so the
    latency of a request is its own service time including contention.
    """
    if not items:
        raise ValueError("no questions to time")
    with window() as win:
        if workers == 1:
            times = [_timed(fn, item) for item in items]
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                times = list(pool.map(lambda item: _timed(fn, item), items))
    return _latency(times, wall_s=win.wall_s, workers=workers, load=win.load)


def peak_rss_mb() -> float:
    """Peak resident set of this process so far.

    ``VmHWM`` of this process where /proc has it: ``getrusage``'s ``ru_maxrss``
    survives ``exec``, so in a worker started by a big parent it would report
    the parent's size.  Elsewhere ``ru_maxrss`` (KiB on Linux).
    """
    own = process_peak_rss_mb(os.getpid())
    return own if own is not None else round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def process_peak_rss_mb(pid: int) -> float | None:
    """Peak resident set of another process (``VmHWM`` from /proc; None where unavailable)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None
