"""Timing and table helpers shared by the area benchmarks.

Ratios are only meaningful within one run on a shared, noisy machine, so contenders are
measured interleaved (one call of each per round, rounds repeated) and each is reported
as the median of its rounds.
"""

from __future__ import annotations

import gc
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Rows for the closing summary: [measure, tightbind figure, compared with, ratio].
    headlines: list[list[Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "columns": self.columns, "rows": self.rows,
                "notes": self.notes, "headlines": self.headlines}

    def render(self) -> str:
        cells = [self.columns] + [[_fmt(value) for value in row] for row in self.rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self.columns))]
        numeric = [bool(self.rows) and all(
            isinstance(row[i], (int, float)) or str(row[i])[:1].isdigit() or row[i] == ""
            for row in self.rows) for i in range(len(self.columns))]
        lines = [self.title, ""]
        for n, row in enumerate(cells):
            lines.append("  ".join(
                cell.rjust(width) if numeric[i] else cell.ljust(width)
                for i, (cell, width) in enumerate(zip(row, widths, strict=True))
            ).rstrip())
            if n == 0:
                lines.append("  ".join("-" * width for width in widths))
        lines.extend(f"  {note}" for note in self.notes)
        return "\n".join(lines)


SUMMARY_COLUMNS = ["area", "measure", "tightbind", "compared with", "ratio"]


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if value >= 1000:
            return f"{value:,.0f}"
        if value >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}"
    return str(value)


def interleaved(
    contenders: dict[str, Callable[[], Any]],
    *,
    rounds: int = 7,
    min_time: float = 0.05,
) -> dict[str, float]:
    """Median seconds per call of each contender, measured in interleaved rounds.

    Each contender is first called once (warm-up) and calibrated to a repeat count whose
    run takes at least ``min_time``; then every round times each contender once.
    """
    repeats: dict[str, int] = {}
    for name, fn in contenders.items():
        fn()
        n = 1
        while True:
            start = time.perf_counter()
            for _ in range(n):
                fn()
            if time.perf_counter() - start >= min_time or n >= 1 << 20:
                break
            n *= 2
        repeats[name] = n
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            n = repeats[name]
            gc.collect()
            start = time.perf_counter()
            for _ in range(n):
                fn()
            samples[name].append((time.perf_counter() - start) / n)
    return {name: statistics.median(values) for name, values in samples.items()}


def steady_malloc() -> str | None:
    """Pin glibc's mmap and trim thresholds; return a note saying so (None if not glibc).

    glibc adapts its mmap threshold to the sizes a process frees, so whether a 1 MiB
    buffer costs fresh zeroed pages or comes from the heap depends on what ran just
    before it; in a benchmark that switches between contenders, that history decides
    the figures.  Pinned thresholds give every contender the allocator a long-running
    process settles into.
    """
    import ctypes
    import ctypes.util

    if platform.libc_ver()[0] != "glibc":
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    m_trim_threshold, m_mmap_threshold = -1, -3
    if libc.mallopt(m_mmap_threshold, 256 << 20) != 1:
        return None
    libc.mallopt(m_trim_threshold, 512 << 20)
    return ("glibc malloc pinned for steady-state figures: M_MMAP_THRESHOLD=256 MiB, "
            "M_TRIM_THRESHOLD=512 MiB")


def machine(command: str) -> dict[str, Any]:
    """What the figures were measured on, and ``command``, the command line that ran."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        # Other jobs on a shared machine move absolute figures: say how busy it was.
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "cpu": cpu,
        "cores": os.cpu_count(),
        "system": f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "command": command,
    }
