"""Resident memory of this process, for the memory soak tests (one reading for all)."""

from __future__ import annotations

import resource


def current_kib() -> int:
    """Resident set size now, in KiB (VmRSS of /proc/self/status)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("/proc/self/status has no VmRSS line")


def peak_kib() -> int:
    """The largest resident set size this process has had, in KiB (ru_maxrss)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
