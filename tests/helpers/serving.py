"""The loop of every loopback server thread in tests/helpers.

tests/framing/test_processor.py makes Python's allocator fail for a moment, process-wide
(``_testcapi.set_nomemory``).  A session fixture's server polls all along, so it can meet
one of those failures; a MemoryError that ended its thread left its port listening with
nobody accepting, and every later test that connected to it timed out.  Here a step that
meets one is simply taken again (tests/tls/test_loopback_servers.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable


def serve_until(stop: threading.Event, step: Callable[[], None]) -> None:
    """Call ``step`` (accept or handle one connection, or time out) until ``stop`` is
    set, through MemoryErrors."""
    while True:
        try:
            if stop.is_set():
                return
            step()
        except MemoryError:
            pass
