"""``bash scripts/bench framing``: tightbind's framing tables (``tightbind.bench.framing``:
native, pure, parse-only, memmove) with protobufp 0.2.4's read path as a row of the
15-byte table, re-created in ``_protobufp024`` since the original does not run on
Python 3."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench import _protobufp024
from tightbind.bench import framing
from tightbind.bench._report import Table

versions = framing.versions


def _original(message_type: Any, chunks: list[bytes], count: int) -> Callable[[], None]:
    def read() -> None:
        processor = _protobufp024.Processor([message_type])
        got = 0
        for chunk in chunks:
            processor.push(chunk)
            while processor.read_message() is not None:
                got += 1
        assert got == count
    return read


def run(quick: bool = False) -> list[Table]:
    return framing.run(quick, peers={
        "protobufp 0.2.4 read path, 64 KiB chunks": ("protobufp 0.2.4", _original)})
