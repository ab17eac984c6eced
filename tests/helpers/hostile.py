"""Families of hostile inputs made from valid ones, and a runner that sorts what an entry
point does with each (the standing hostile-input suites, tests/*/test_hostile.py, run it
in a child under ``helpers.limits.run_limited``).

Every family is deterministic (seeded), so a failure names a case that can be replayed.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable, Iterator
from typing import Any


def truncations(data: bytes, every_up_to: int = 512, samples: int = 160) -> Iterator[bytes]:
    """``data`` cut short: at every point when it is at most ``every_up_to`` bytes long,
    else at ``samples`` points spread over it plus the first and last 32."""
    size = len(data)
    if size <= every_up_to:
        points: Iterable[int] = range(size)
    else:
        step = max(1, size // samples)
        points = sorted({*range(0, min(32, size)), *range(max(0, size - 32), size),
                         *range(0, size, step)})
    for point in points:
        yield data[:point]


def mutations(data: bytes, count: int = 150, seed: int = 8) -> Iterator[bytes]:
    """``count`` random edits of ``data``: flipped bits, bytes set to 0x00/0xFF/0x80/0x7F
    (length and tag bytes turned into extremes), deletions, insertions, duplicated and
    swapped runs."""
    rng = random.Random(seed)
    for _ in range(count):
        out = bytearray(data)
        for _ in range(rng.choice((1, 1, 2, 4))):
            if not out:
                out += bytes([rng.randrange(256)])
                continue
            at = rng.randrange(len(out))
            kind = rng.randrange(6)
            if kind == 0:
                out[at] ^= 1 << rng.randrange(8)
            elif kind == 1:
                out[at] = rng.choice((0x00, 0xFF, 0x80, 0x7F, 0x81, 0x84))
            elif kind == 2:
                del out[at:at + rng.randrange(1, 9)]
            elif kind == 3:
                out[at:at] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 9)))
            elif kind == 4:
                run = out[at:at + rng.randrange(1, 65)]
                out[at:at] = run * rng.randrange(1, 4)
            else:
                other = rng.randrange(len(out))
                out[at], out[other] = out[other], out[at]
        yield bytes(out)


def outcome(call: Callable[[], Any], allowed: tuple[type[BaseException], ...]) -> str:
    """``"ok"``, the name of an allowed exception class, or ``"UNEXPECTED <class>:
    <message>"`` for anything else (a bug the suite reports)."""
    try:
        call()
    except allowed as exc:
        return type(exc).__name__
    except Exception as exc:  # what the suite exists to find
        return f"UNEXPECTED {type(exc).__module__}.{type(exc).__qualname__}: {exc}"[:300]
    return "ok"


class Tally:
    """Counts outcomes per entry point and keeps the first unexpected ones (with the
    input that caused them, hex) for the report."""

    def __init__(self) -> None:
        self.counts: dict[str, dict[str, int]] = {}
        self.unexpected: list[dict[str, str]] = []
        self.cases = 0

    def run(self, entry: str, data: bytes, call: Callable[[], Any],
            allowed: tuple[type[BaseException], ...]) -> str:
        result = outcome(call, allowed)
        self.cases += 1
        per_entry = self.counts.setdefault(entry, {})
        key = "UNEXPECTED" if result.startswith("UNEXPECTED") else result
        per_entry[key] = per_entry.get(key, 0) + 1
        if key == "UNEXPECTED" and len(self.unexpected) < 20:
            self.unexpected.append({"entry": entry, "outcome": result,
                                    "input": data[:512].hex()})
        return result

    def report(self) -> str:
        return json.dumps({"cases": self.cases, "counts": self.counts,
                           "unexpected": self.unexpected})
