"""The frame scanners: the C one (``tb_frame_scan`` in ``csrc/frame.c``) and its twin.

Both take a :class:`~tightbind.framing.codecs.Codec`, the number of message types and
the payload limit, and offer the same four calls:

``scan(buf, start)``
    walk ``buf[start:]`` over up to ``BATCH`` complete frames and return a :class:`Scan`
    saying why it stopped (a :class:`Stop`) and where; the frames stay in the scanner;
``types(scan)``, ``bounds(scan)``
    the frames' type ids, and their payloads' start and end offsets in ``buf``;
``payloads(buf, start, scan)``
    the frames' payloads, cut out of ``buf``: always ``bytes`` from the native scanner
    (its ``bytes_payloads`` is true), slices of ``buf`` from the pure one, so bytearrays
    when ``buf`` is one.  The Processor parses from memoryviews of ``buf`` instead, cut
    at ``bounds``, where those bytearrays would reach a parser that refuses them (upb in
    protobuf 4.x), and for large payloads, to save a copy.

The native scanner is one C call per batch and cuts payloads with one
``struct.unpack_from`` per batch; the pure scanner is the same walk in Python, the twin
the native path is checked and benchmarked against.  They agree on every input
(``tests/framing/test_scanners.py``).
"""

from __future__ import annotations

import enum
import importlib
import struct
import threading
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from tightbind.framing.codecs import VARINT_MAX_BYTES, Codec

BATCH = 8192
"""Frames per scan call."""


class Stop(enum.Enum):
    """Why a scan stopped: the first two are normal stops, the rest stream errors."""

    NEED_MORE = "the next frame is not complete in the buffer"
    FULL = "BATCH frames were found: scan again"
    BAD_LENGTH = "a fixed header's length field is smaller than what it must count"
    TOO_LARGE = "a payload is larger than the limit"
    BAD_VARINT = "a length varint is longer than 10 bytes or exceeds 64 bits"
    BAD_TYPE = "a type field is not below the number of types"


STREAM_ERRORS = frozenset({Stop.BAD_LENGTH, Stop.TOO_LARGE, Stop.BAD_VARINT, Stop.BAD_TYPE})


class Scan(NamedTuple):
    """What one scan found.  The frames themselves stay in the scanner until asked for."""

    stop: Stop
    consumed: int  # offset past the last complete, valid frame (= error_offset on errors)
    frames: int  # complete frames found
    error_offset: int = 0  # on an error: the offending frame's header offset
    error_value: int = 0  # on an error: the length, or type, that was rejected
    error_end: int = 0  # on BAD_TYPE: offset just past the whole frame, to skip it
    # On NEED_MORE with the next frame's header in but not all its payload: its total
    # size, header size and type value; otherwise zeros.
    pending_size: int = 0
    pending_header: int = 0
    pending_type: int = 0


class _Scratch:
    """The arrays one native scan fills, shared by every native scanner of a thread.

    A Processor uses them only inside one locked call, from scan to payloads, and never
    re-enters another Processor in between, so one set per thread is enough: a server
    with thousands of connections does not hold 160 KiB of arrays per connection.
    """

    def __init__(self, ffi: Any, format_bytes: int) -> None:
        self.types = ffi.new("uint32_t[]", BATCH)
        self.starts = ffi.new("size_t[]", BATCH)
        self.ends = ffi.new("size_t[]", BATCH)
        self.result = ffi.new("tb_frame_scan_result *")
        # The struct format buffer grows with the largest batch cut by payloads(); large
        # payloads never need it (they are parsed from views).
        self.layout_capacity = 0
        self.layout = ffi.NULL
        self.format_bytes = format_bytes


_scratch = threading.local()


class NativeScanner:
    """Scans with ``tb_frame_scan``: one C call per batch of up to BATCH frames.

    Payloads are cut out by one ``struct.unpack_from`` call per batch, with a format
    string the C side writes (``tb_frame_struct_format``: "=8x15s8x15s..."), so no Python
    code runs per frame.  Making one raises ImportError when ``tightbind._frame`` was not
    compiled (its ``_native`` module is imported here, on first use).
    """

    name = "native"
    bytes_payloads = True  # payloads() gives bytes from bytes and bytearray buffers

    def __init__(self, codec: Codec, type_count: int, max_payload: int) -> None:
        native = importlib.import_module("tightbind.framing._native")
        self._ffi = ffi = native.ffi
        self._lib = lib = native.lib
        self._check = native.check
        self._what = f"scanning a {codec.name} stream"
        self.format = ffi.new("tb_frame_format *", {
            "prefix": lib.TB_FRAME_PREFIX_VARINT if codec.varint_length
            else lib.TB_FRAME_PREFIX_FIXED,
            "header_size": codec.header_size,
            "length_offset": codec.length_offset,
            "length_bias": codec.length_bias,
            "type_offset": -1 if codec.type_offset is None else codec.type_offset,
            "type_width": codec.type_width,
            "type_count": type_count,
            "max_payload": max_payload,
        })
        self._stops = {
            lib.TB_FRAME_NEED_MORE: Stop.NEED_MORE,
            lib.TB_FRAME_FULL: Stop.FULL,
            lib.TB_FRAME_E_LENGTH: Stop.BAD_LENGTH,
            lib.TB_FRAME_E_TOO_LARGE: Stop.TOO_LARGE,
            lib.TB_FRAME_E_VARINT: Stop.BAD_VARINT,
            lib.TB_FRAME_E_TYPE: Stop.BAD_TYPE,
        }
        self._last: _Scratch | None = None  # the arrays the latest scan filled

    def scan(self, buf: bytes | bytearray, start: int) -> Scan:
        """Scan ``buf[start:]``; return what was found.

        Raises FramingError (from ``_native.FAILURES``) when the C scanner refuses the
        call itself, which only a tightbind bug can cause.
        """
        arrays = getattr(_scratch, "arrays", None)
        if arrays is None:
            arrays = _scratch.arrays = _Scratch(self._ffi, self._lib.TB_FRAME_FORMAT_BYTES)
        self._last = arrays
        with self._ffi.from_buffer("unsigned char[]", buf) as cbuf:
            status = self._lib.tb_frame_scan(
                self.format, cbuf, len(buf), start, arrays.types, arrays.starts,
                arrays.ends, BATCH, arrays.result,
            )
        stop = self._stops.get(status)
        if stop is None:
            self._check(status, self._what)
            raise AssertionError(f"tb_frame_scan returned unknown status {status}")
        result = arrays.result
        return Scan(stop, result.consumed, result.frames, result.error_offset,
                    result.error_value, result.error_end, result.pending_size,
                    result.pending_header, result.pending_type)

    def _arrays(self) -> _Scratch:
        assert self._last is not None, "scan() first"
        return self._last

    def types(self, scan: Scan) -> list[int]:
        """Return the type id of each frame ``scan`` found (all 0 with one type)."""
        return self._ffi.unpack(self._arrays().types, scan.frames)

    def bounds(self, scan: Scan) -> tuple[list[int], list[int]]:
        """Return the payloads' start offsets and end offsets in the scanned buffer."""
        arrays = self._arrays()
        unpack = self._ffi.unpack
        return unpack(arrays.starts, scan.frames), unpack(arrays.ends, scan.frames)

    def payloads(self, buf: bytes | bytearray, start: int, scan: Scan) -> Sequence[bytes]:
        """Return the payloads of the frames ``scan`` found in ``buf``, as bytes."""
        arrays = self._arrays()
        needed = scan.frames * arrays.format_bytes + 2
        if needed > arrays.layout_capacity:
            arrays.layout_capacity = max(needed, 2 * arrays.layout_capacity)
            arrays.layout = self._ffi.new("char[]", arrays.layout_capacity)
        length = self._lib.tb_frame_struct_format(
            start, arrays.starts, arrays.ends, scan.frames, arrays.layout,
            arrays.layout_capacity)
        if not length:
            raise AssertionError("tb_frame_struct_format rejected a scan's own frames")
        return struct.unpack_from(self._ffi.unpack(arrays.layout, length), buf, start)


class PureScanner:
    """The native scanner's walk, in Python (the same interface and results)."""

    name = "pure"
    bytes_payloads = False  # payloads() gives bytearrays from a bytearray buffer

    def __init__(self, codec: Codec, type_count: int, max_payload: int) -> None:
        self._codec = codec
        self._type_count = type_count
        self._max_payload = max_payload
        self._typed = type_count > 1
        self._found: tuple[list[int], list[int], list[int]] = ([], [], [])
        if not codec.varint_length:
            self._length = struct.Struct(f">{codec.length_offset}xI").unpack_from
            if codec.type_offset is not None:
                code = "B" if codec.type_width == 1 else "I"
                self._type = struct.Struct(f">{codec.type_offset}x{code}").unpack_from

    def types(self, scan: Scan) -> list[int]:
        """Return the type id of each frame ``scan`` found; with one type (every id 0)
        the list stays empty, as the Processor never asks for it then."""
        return self._found[0]

    def bounds(self, scan: Scan) -> tuple[list[int], list[int]]:
        """Return the payloads' start offsets and end offsets in the scanned buffer."""
        return self._found[1], self._found[2]

    def payloads(self, buf: bytes | bytearray, start: int, scan: Scan) -> Iterable[bytes]:
        """Return the payloads of the frames ``scan`` found: slices of ``buf``, so
        bytearrays when ``buf`` is one."""
        starts, ends = self.bounds(scan)
        cut: Any = buf.__getitem__
        return map(cut, map(slice, starts, ends))

    def scan(self, buf: bytes | bytearray, start: int) -> Scan:
        """Scan ``buf[start:]``; return what was found."""
        types: list[int] = []
        starts: list[int] = []
        ends: list[int] = []
        self._found = (types, starts, ends)
        if self._codec.varint_length:
            stop, *rest = self._scan_varint(buf, start, starts, ends)
        else:
            stop, *rest = self._scan_fixed(buf, start, types, starts, ends)
        return Scan(stop, rest[0], len(starts), *rest[1:])

    def _scan_fixed(self, buf: bytes | bytearray, start: int, types: list[int],
                    starts: list[int], ends: list[int]) -> tuple[Any, ...]:
        header_size = self._codec.header_size
        bias = self._codec.length_bias
        max_payload = self._max_payload
        type_count = self._type_count
        has_type = self._codec.type_offset is not None
        read_length = self._length
        read_type = self._type if has_type else None
        size = len(buf)
        pos = start
        while pos < size:
            if len(starts) == BATCH:
                return (Stop.FULL, pos)
            if size - pos < header_size:
                break
            (length,) = read_length(buf, pos)
            if length < bias:
                return (Stop.BAD_LENGTH, pos, pos, length)
            payload_length = length - bias
            if payload_length > max_payload:
                return (Stop.TOO_LARGE, pos, pos, payload_length)
            end = pos + header_size + payload_length
            frame_type = read_type(buf, pos)[0] if read_type else 0
            if end > size:
                return (Stop.NEED_MORE, pos, 0, 0, 0, end - pos, header_size, frame_type)
            if frame_type >= type_count:
                return (Stop.BAD_TYPE, pos, pos, frame_type, end)
            if self._typed:
                types.append(frame_type)
            starts.append(pos + header_size)
            ends.append(end)
            pos = end
        return (Stop.NEED_MORE, pos)

    def _scan_varint(self, buf: bytes | bytearray, start: int, starts: list[int],
                     ends: list[int]) -> tuple[Any, ...]:
        max_payload = self._max_payload
        last = VARINT_MAX_BYTES - 1
        size = len(buf)
        pos = start
        while pos < size:
            if len(starts) == BATCH:
                return (Stop.FULL, pos)
            value = 0
            index = 0
            complete = False
            while pos + index < size:
                byte = buf[pos + index]
                if index == last and byte > 1:
                    return (Stop.BAD_VARINT, pos, pos, byte)
                value |= (byte & 0x7F) << (7 * index)
                index += 1
                if byte < 0x80:
                    complete = True
                    break
            if not complete:
                break
            if value > max_payload:
                return (Stop.TOO_LARGE, pos, pos, value)
            end = pos + index + value
            if end > size:
                return (Stop.NEED_MORE, pos, 0, 0, 0, end - pos, index, 0)
            starts.append(pos + index)
            ends.append(end)
            pos = end
        return (Stop.NEED_MORE, pos)
