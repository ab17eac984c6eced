"""The read path of protobufp 0.2.4, rewritten for Python 3 as a benchmark baseline.

protobufp 0.2.4 is Python 2 code (cStringIO, str buffers) and does not import on
Python 3, so the benchmark measures this model of it instead: the same data structure
and the same per-message work, written here.  It keeps pushed chunks in a list of
extents; each read first peeks 4 length bytes, then the frame, splitting the extent
where a read ends (which copies the rest of that extent: quadratic on one large push),
joins the pieces into a new string, and takes a lock shared by every instance.  A frame
body is then sliced again into type and payload and parsed with ``ParseFromString``.

One defect is mended so that chunked input can be measured at all: 0.2.4 checks the
body's size against every buffered byte, the 4 length bytes included, so a push that ends
1 to 4 bytes short of a frame's end walks off its extent list (IndexError).  Here the
second peek counts only the bytes after the length field.
"""

from __future__ import annotations

import struct
import threading
from typing import Any

_U32 = struct.Struct(">I")


class ReadBuffer:
    _lock = threading.RLock()  # one lock for every instance, as in 0.2.4
    _cleanup_interval = 100

    def __init__(self) -> None:
        self._extents: list[bytes] = []
        self._length = 0
        self._index = 0
        self._hits = 0

    def push(self, data: bytes) -> None:
        with self._lock:
            self._extents.append(data)
            self._length += len(data)

    def read_frame(self) -> bytes | None:
        with self._lock:
            peeked = self._peek(4, self._index, self._length)
            if peeked is None:
                return None
            head, index, head_updates = peeked
            peeked = self._peek(_U32.unpack(head)[0], index, self._length - 4)
            if peeked is None:
                return None
            body, index, body_updates = peeked
            for position, consumed in head_updates + body_updates:
                self._extents[position] = b""
                self._length -= consumed
            self._index = index
            self._hits += 1
            if self._hits >= self._cleanup_interval:
                del self._extents[: self._index]
                self._index = 0
                self._hits = 0
            return body

    def _peek(
        self, size: int, index: int, available: int
    ) -> tuple[bytes, int, list[tuple[int, int]]] | None:
        if size > available:
            return None
        with self._lock:
            pieces: list[bytes] = []
            updates: list[tuple[int, int]] = []
            while size > 0:
                extent = self._extents[index]
                if size >= len(extent):
                    pieces.append(extent[:])
                    updates.append((index, len(extent)))
                    size -= len(extent)
                else:
                    head, rest = extent[:size], extent[size:]
                    self._extents[index] = head
                    self._extents.insert(index + 1, rest)
                    pieces.append(head)
                    updates.append((index, size))
                    size = 0
                index += 1
        return b"".join(pieces), index, updates


class Processor:
    def __init__(self, msg_types: list[type]) -> None:
        self._msg_types = msg_types
        self._buffer = ReadBuffer()

    def push(self, data: bytes) -> None:
        self._buffer.push(data)

    def read_message(self) -> Any | None:
        body = self._buffer.read_frame()
        if body is None:
            return None
        (type_id,) = _U32.unpack(body[:4])
        message = self._msg_types[type_id]()
        message.ParseFromString(body[4:])
        return message
