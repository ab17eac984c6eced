"""Progress of a batch: a tqdm bar on a terminal, plain periodic lines elsewhere.

tqdm is optional (``pip install tightbind[progress]``); without it a terminal gets the
same plain lines as a log file.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

__all__ = ["Progress"]


class Progress:
    """Counts pages done and failed and shows them on ``stream`` (default: stderr).

    On a terminal with tqdm installed: a bar with pages done, pages/s, ETA and failures.
    Otherwise one line per ``interval`` seconds at most, and a last one on ``close()``.
    ``enabled=False`` shows nothing.
    """

    def __init__(self, total: int | None, *, enabled: bool = True, stream: TextIO | None = None,
                 interval: float = 10.0, description: str = "OCR") -> None:
        self.total = total
        self.done = 0
        self.failed = 0
        self._stream = stream if stream is not None else sys.stderr
        self._enabled = enabled
        self._interval = interval
        self._description = description
        self._started = self._last = time.monotonic()
        self._bar: Any = None
        if enabled and _isatty(self._stream):
            try:
                from tqdm import tqdm
            except ImportError:
                pass
            else:
                self._bar = tqdm(total=total, file=self._stream, unit="page",
                                 desc=description, dynamic_ncols=True)

    def update(self, *, failed: bool = False) -> None:
        """Count one more page, failed or not."""
        self.done += 1
        self.failed += failed
        if not self._enabled:
            return
        if self._bar is not None:
            if failed:
                self._bar.set_postfix(failed=self.failed, refresh=False)
            self._bar.update(1)
            return
        now = time.monotonic()
        if now - self._last >= self._interval:
            self._last = now
            self._write_line(now)

    def grow(self, pages: int) -> None:
        """Change the expected total by ``pages`` (a batch learns its page counts as it
        opens documents)."""
        self.total = (self.total or 0) + pages
        if self._bar is not None:
            self._bar.total = self.total
            self._bar.refresh()

    def close(self) -> None:
        """Finish the bar, or write the last plain line."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self._enabled and self.done:
            self._write_line(time.monotonic())

    def _write_line(self, now: float) -> None:
        elapsed = max(now - self._started, 1e-9)
        rate = self.done / elapsed
        of_total = f"/{self.total}" if self.total else ""
        line = f"{self._description}: {self.done}{of_total} pages, {rate:.2f} pages/s"
        if self.total and rate > 0 and self.done < self.total:
            line += f", about {(self.total - self.done) / rate:.0f} s left"
        if self.failed:
            line += f", {self.failed} failed"
        self._stream.write(line + "\n")
        self._stream.flush()


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
