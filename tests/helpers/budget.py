"""How much work a randomised test does: all of it in the full run, a sample in the
edit-and-test loop (``bash scripts/test --fast`` sets TIGHTBIND_TESTS=fast)."""

from __future__ import annotations

import os

FAST = os.environ.get("TIGHTBIND_TESTS") == "fast"


def examples(full: int) -> int:
    """Hypothesis examples for a test that runs ``full`` of them in the full run."""
    return max(full // 8, 25) if FAST else full
