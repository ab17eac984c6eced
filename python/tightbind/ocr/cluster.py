"""Batch pages on a Dask cluster, with deadlines that hold whatever the scheduler does.

``distributed.Client(address, timeout=...)`` can wait far past its timeout on a port that
accepts and never answers; :func:`connect` first asks the peer who it is under a deadline
that cancels the attempt, then makes the client in a thread that it gives up on at the
deadline.  :class:`DaskRunner` notices a scheduler lost mid-run (the client no longer
running for longer than the connect timeout, or pages cancelled under it) and raises
:class:`SchedulerLost`: the pages already finished are kept in the output folder and the
next run resumes from them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Iterable
from typing import Any, NoReturn

from tightbind.ocr.errors import OcrError
from tightbind.ocr.workers import PageTask, dask_page

__all__ = ["DaskRunner", "SchedulerLost", "SchedulerUnreachable", "connect"]

#: Seconds given past the connect timeout for the client's own clean-up of a failure.
_SLACK = 2.0


class SchedulerUnreachable(OcrError):
    """No Dask scheduler answered at the address within the connect timeout."""


class SchedulerLost(OcrError):
    """The Dask scheduler went away while pages were running on it."""


def connect(address: str, timeout: float) -> Any:
    """A ``distributed.Client`` for the scheduler at ``address``, or SchedulerUnreachable
    within ``timeout`` seconds (plus 2 s): a client that is still trying is left in a
    background thread.  ImportError without Dask distributed."""
    import distributed

    started = time.monotonic()
    try:
        asyncio.run(asyncio.wait_for(_identity(address, timeout), timeout))
    except (asyncio.TimeoutError, TimeoutError):
        raise SchedulerUnreachable(f"no Dask scheduler answered at {address} within "
                                   f"{timeout:g} s (--connect-timeout)") from None
    except Exception as exc:  # refused, garbage, not a scheduler
        raise SchedulerUnreachable(f"cannot reach the Dask scheduler at {address}: "
                                   f"{exc or type(exc).__name__}") from None
    timeout = max(1.0, timeout - (time.monotonic() - started))
    made: dict[str, Any] = {}

    def make() -> None:
        try:
            made["client"] = distributed.Client(address, timeout=timeout)
        except BaseException as exc:  # reported by the caller's thread
            made["error"] = exc

    thread = threading.Thread(target=make, name="tightbind-dask-connect", daemon=True)
    thread.start()
    thread.join(timeout + _SLACK)
    if "client" in made:
        return made["client"]
    if thread.is_alive():
        raise SchedulerUnreachable(f"no Dask scheduler answered at {address} within "
                                   f"{timeout:g} s (--connect-timeout)")
    raise SchedulerUnreachable(f"cannot reach the Dask scheduler at {address}: "
                               f"{made['error']}") from None


async def _identity(address: str, timeout: float) -> None:
    """Ask the peer at ``address`` who it is, through Dask's own protocol (a probe that
    the caller's deadline can cancel, unlike a Client being made)."""
    from distributed.comm import connect as open_comm

    comm = await open_comm(address, timeout=timeout)
    try:
        await comm.write({"op": "identity"})
        reply = await comm.read()
    finally:
        comm.abort()
    if not (isinstance(reply, dict) and reply.get("type") == "Scheduler"):
        raise OcrError(f"the peer is not a Dask scheduler (it answered {str(reply)[:80]!r})")


class DaskRunner:
    """Pages as tasks on a Dask cluster; each worker thread keeps its own engine (and
    each worker process its own PDF renderer).  ``lost_after``: seconds the client may
    be disconnected before the scheduler counts as lost."""

    def __init__(self, client: Any, lost_after: float = 30.0) -> None:
        import distributed

        self._client = client
        self._distributed = distributed
        self._lost_after = lost_after
        self._address = getattr(client.scheduler, "address", "the scheduler")
        self.capacity = 2 * max(1, sum(client.nthreads().values()))

    def submit(self, task: PageTask, name: str) -> Any:
        if self._client.status != "running":
            self._lost()
        return self._client.submit(dask_page, task, key=name, pure=False)

    def _lost(self) -> NoReturn:
        raise SchedulerLost(f"lost the Dask scheduler at {self._address} mid-run; the "
                            "pages finished are kept: run the same command again to resume")

    def result(self, future: Any) -> Any:
        """A finished task's value.  A page's own failure is a value (a failed
        PageOutcome), and a page that kept killing its workers raises KilledWorker; but
        a task cancelled under us, or a result that cannot be fetched because the
        connection went (CommClosedError, an OSError), is the cluster failing, not the
        page: SchedulerLost, so the page is not recorded and the next run does it."""
        try:
            return future.result()
        except (OSError, asyncio.CancelledError, concurrent.futures.CancelledError):
            self._lost()

    def wait(self, futures: Iterable[Any]) -> set[Any]:
        pending = list(futures)
        away_since: float | None = None
        while True:
            try:
                done: set[Any] = self._distributed.wait(
                    pending, timeout=0.5, return_when="FIRST_COMPLETED").done
            except self._distributed.TimeoutError:
                done = set()
            except Exception:  # the connection went under the wait
                self._lost()
            running = self._client.status == "running"
            if not running and any(future.status == "cancelled" for future in done):
                self._lost()
            if done:
                return done
            if running:
                away_since = None
            elif away_since is None:
                away_since = time.monotonic()
            elif time.monotonic() - away_since > self._lost_after:
                self._lost()

    def close(self) -> None:
        pass
