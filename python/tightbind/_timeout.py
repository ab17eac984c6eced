"""The one check of a timeout argument, for every call and command that takes one (pure
Python, so that argument parsing needs no native module)."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["MAX_TIMEOUT", "check_timeout"]

MAX_TIMEOUT = 366 * 24 * 3600.0
"""The longest timeout taken, in seconds (a year): a longer one is a mistake (1e300 does
not fit the system's clocks); None waits forever."""


def check_timeout(timeout: Any, *, zero: bool = False) -> float | None:
    """Return ``timeout`` as float seconds (None: wait forever).

    Refused with a sentence: TypeError for anything but a number or None; ValueError for
    a negative timeout, NaN, infinity (None says "forever"), more than
    :data:`MAX_TIMEOUT`, and 0 unless ``zero`` (a blocking call cannot finish in no
    time; the sockets' meaning of 0, non-blocking, is not one tightbind's calls have).
    """
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be a number of seconds or None, not "
                        f"{type(timeout).__name__}")
    try:
        value = float(timeout)
    except OverflowError:
        value = math.inf
    if math.isnan(value) or value < 0:
        raise ValueError(f"timeout must be a number of seconds above 0, not {timeout!r}")
    if math.isinf(value) or value > MAX_TIMEOUT:
        raise ValueError(f"timeout {timeout!r} is too long: at most {MAX_TIMEOUT:.0f} "
                         "seconds (a year); pass None to wait without a limit")
    if value == 0 and not zero:
        raise ValueError("timeout 0 cannot be met: the call blocks until it is done "
                         "or timed out, so give a number of seconds above 0 (or None to "
                         "wait without a limit)")
    return value
