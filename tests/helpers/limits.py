"""Run code in a child Python under hard limits, so a hang or a blow-up fails one test
instead of the whole run: wall-clock time (the child is killed), CPU time and memory
(RLIMIT_DATA, which counts the heap and private mappings that a decoder would grow).

The child's peak memory is its own high-water mark (VmHWM, which starts afresh at
exec), not ``ru_maxrss``: Linux carries the forking parent's size into that.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import dataclass
from typing import IO

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass
class Limited:
    """What a limited child did: exit status (negative: killed by that signal), output,
    wall seconds, peak RSS in MiB, and whether the wall-clock limit killed it."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_mib: float
    timed_out: bool


def run_limited(code: str, *, seconds: float = 30.0, memory_mib: int = 1024,
                env: dict[str, str] | None = None) -> Limited:
    """Run ``code`` (dedented) in a fresh interpreter limited to ``seconds`` of wall time
    (SIGKILL after that), as much CPU time, and ``memory_mib`` of data segment."""
    limit = memory_mib * 1024 * 1024
    cpu = max(1, int(seconds) + 1)

    def set_limits() -> None:
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    child_env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_THREAD_LIMIT": "1",
                 "PYTHONPATH": os.pathsep.join(filter(None, [TESTS,
                                                             os.environ.get("PYTHONPATH")])),
                 **(env or {})}
    started = time.monotonic()
    read_fd, write_fd = os.pipe()
    wrapped = _REPORT_PEAK.format(fd=write_fd) + textwrap.dedent(code)
    process = subprocess.Popen([sys.executable, "-c", wrapped], pass_fds=(write_fd,),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=child_env, preexec_fn=set_limits)
    killed = threading.Event()

    def kill() -> None:
        killed.set()
        process.send_signal(signal.SIGKILL)

    os.close(write_fd)
    timer = threading.Timer(seconds, kill)
    output: dict[str, str] = {}
    peaks = [0]

    def sample() -> None:  # the peak so far, for a child that never reaches its exit hook
        while process.returncode is None:
            peaks.append(_high_water_kib(process.pid))
            time.sleep(0.01)

    def read(name: str, stream: IO[str]) -> None:
        output[name] = stream.read()

    readers = [threading.Thread(target=read, args=(name, stream)) for name, stream in
               (("stdout", process.stdout), ("stderr", process.stderr))]
    readers.append(threading.Thread(target=sample))
    for reader in readers:
        reader.start()
    timer.start()
    try:
        process.wait()
    finally:
        timer.cancel()
    for reader in readers:
        reader.join()
    with os.fdopen(read_fd, "rb") as report:
        reported = report.read().decode() or "0"
    peak = max(max(peaks), int(reported))
    return Limited(process.returncode, output["stdout"], output["stderr"],
                   time.monotonic() - started, peak / 1024, killed.is_set())


# Prepended to the child's code: at exit, write VmHWM (KiB) to the inherited pipe.
_REPORT_PEAK = (
    "import atexit as _a, os as _o\n"
    "def _peak(fd={fd}):\n"
    "    for line in open('/proc/self/status'):\n"
    "        if line.startswith('VmHWM:'):\n"
    "            _o.write(fd, line.split()[1].encode())\n"
    "_a.register(_peak)\n"
    "del _a, _peak\n"
)


def _high_water_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0
