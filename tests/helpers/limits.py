"""Run code in a child Python under hard limits, so a hang or a blow-up fails one test
instead of the whole run: wall-clock time (the child is killed), CPU time and memory
(RLIMIT_DATA, which counts the heap and private mappings that a decoder would grow).
The child's peak RSS is its own (VmHWM at exit), not the parent's it shared before exec.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import tempfile
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

    # The child's own high-water mark (VmHWM), written at exit: the rusage of a forked
    # child also counts the parent's pages it shared before exec (a pytest process of
    # 300 MiB makes every child "peak" at 300 MiB).
    descriptor, peak_path = tempfile.mkstemp(prefix="tightbind-peak-")
    os.close(descriptor)
    child_env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_THREAD_LIMIT": "1",
                 "PYTHONPATH": os.pathsep.join(filter(None, [TESTS,
                                                             os.environ.get("PYTHONPATH")])),
                 "TIGHTBIND_PEAK_FILE": peak_path, **(env or {})}
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-c", _PEAK_AT_EXIT + textwrap.dedent(code)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=child_env, preexec_fn=set_limits)
    killed = threading.Event()

    def kill() -> None:
        killed.set()
        process.send_signal(signal.SIGKILL)

    timer = threading.Timer(seconds, kill)
    output: dict[str, str] = {}

    def read(name: str, stream: IO[str]) -> None:
        output[name] = stream.read()

    readers = [threading.Thread(target=read, args=(name, stream)) for name, stream in
               (("stdout", process.stdout), ("stderr", process.stderr))]
    for reader in readers:
        reader.start()
    timer.start()
    try:
        # wait4 rather than wait: it also gives this child's own peak RSS.
        _pid, status, usage = os.wait4(process.pid, 0)
    finally:
        timer.cancel()
    process.returncode = os.waitstatus_to_exitcode(status)
    for reader in readers:
        reader.join()
    with open(peak_path) as fh:
        written = fh.read().strip()
    os.unlink(peak_path)
    peak_kib = int(written) if written.isdigit() else usage.ru_maxrss  # killed: no file
    return Limited(process.returncode, output["stdout"], output["stderr"],
                   time.monotonic() - started, peak_kib / 1024, killed.is_set())


_PEAK_AT_EXIT = """\
def _tightbind_peak():
    import os
    with open("/proc/self/status") as status:
        peak = [line.split()[1] for line in status if line.startswith("VmHWM:")]
    with open(os.environ["TIGHTBIND_PEAK_FILE"], "w") as out:
        out.write(peak[0] if peak else "")
__import__("atexit").register(_tightbind_peak)
"""
