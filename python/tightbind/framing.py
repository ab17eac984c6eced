"""Length-prefixed protobuf messages over byte streams.

A :class:`Processor` takes bytes as they arrive (``push``), finds every complete frame
with one call into the C scanner (``csrc/frame.c``) or its pure-Python twin, and
decodes the payloads with the message classes it was given.  Two wire formats
("codecs") are supported:

``"protobufp"``
    ``u32be L | u32be T | payload`` with ``L = 4 + len(payload)`` and ``T`` the index of
    the message type in the Processor's type list: byte-for-byte what the ``protobufp``
    package (0.2.x) writes.
``"varint"``
    ``varint len(payload) | payload``: the standard delimited format written by Java's
    ``writeDelimitedTo``, C++'s ``SerializeDelimitedToOstream``, Go's ``protodelim`` and
    Python protobuf's ``serialize_length_prefixed``; one message type per stream.
``"grpc"``
    ``u8 compressed-flag | u32be len(payload) | payload``: gRPC's message framing (the
    body of an HTTP/2 gRPC stream); one message type, uncompressed messages only.

Errors and the state they leave (all are :class:`tightbind.FramingError`)::

    UnknownMessageType   type id out of range     frame skipped, stream stays aligned
    PayloadDecodeError   payload does not parse   frame skipped, stream stays aligned
    FrameTooLarge        payload over the limit   stream poisoned until reset()
    CorruptLength        impossible length field  stream poisoned until reset()

Messages that precede an error in the stream are returned first; the error is raised by
the next read.  A poisoned Processor raises the same error from every ``push`` and read
until :meth:`Processor.reset`.  ``max_frame_size`` limits the payload (the serialized
message, header not counted) and is checked as soon as a frame's header arrives, before
any of its payload is buffered.
"""

from __future__ import annotations

import operator
import struct
import threading
from collections import deque
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from typing import Any, NamedTuple

from tightbind.errors import FramingError

__all__ = [
    "CorruptLength",
    "FrameTooLarge",
    "FramingError",
    "PayloadDecodeError",
    "Processor",
    "Serializer",
    "TruncatedStream",
    "UnknownMessageType",
    "UnregisteredType",
    "iter_messages",
    "read_messages",
    "send_message",
    "write_message",
]

DEFAULT_MAX_FRAME_SIZE = 4 * 1024 * 1024
CODECS = ("protobufp", "varint", "grpc")
BACKENDS = ("auto", "native", "pure")


class FrameTooLarge(FramingError, ValueError):
    """A frame announces (or a message would need) a payload over ``max_frame_size``."""


class CorruptLength(FramingError, ValueError):
    """A length field no valid frame can have: the stream is not in this format."""


class UnknownMessageType(FramingError, LookupError):
    """A frame's type id does not name one of the Processor's message types."""


class UnregisteredType(FramingError, TypeError):
    """``serialize`` was given a message whose type the Processor does not know."""


class PayloadDecodeError(FramingError, ValueError):
    """A frame's payload is not a valid message of its type."""


class TruncatedStream(FramingError, EOFError):
    """The connection closed in the middle of a frame."""


# Scanner status codes, the same numbers as csrc/frame.h (a test checks they agree).
NEED_MORE = 0
FULL = 1
E_LENGTH = -101
E_TOO_LARGE = -102
E_VARINT = -103
E_TYPE = -104

PREFIX_FIXED = 0
PREFIX_VARINT = 1

_SCAN_CAPACITY = 8192  # frames per scanner call
_VIEW_THRESHOLD = 2048  # average payload size above which payloads are parsed from views
# An incomplete frame at least this large is gathered as a list of chunks and its payload
# joined into one bytes object when complete: one copy, and upb parses that bytes
# without copying it again.
_ASSEMBLE_THRESHOLD = 256 * 1024

_call = getattr(operator, "call", lambda function, argument: function(argument))


class _Format(NamedTuple):
    """A frame layout, as tb_frame_format describes it."""

    prefix: int
    header_size: int = 0
    length_offset: int = 0
    length_bias: int = 0
    type_offset: int = -1
    type_width: int = 0
    max_types: int = 1  # how many types the format can address
    max_payload: int = (1 << 64) - 1  # largest payload the format can express


_FORMATS = {
    "protobufp": _Format(PREFIX_FIXED, header_size=8, length_offset=0, length_bias=4,
                         type_offset=4, type_width=4, max_types=1 << 32,
                         max_payload=0xFFFFFFFF - 4),
    "varint": _Format(PREFIX_VARINT),
    # The compressed flag sits where a type id would: 0 is the only "type" accepted.
    "grpc": _Format(PREFIX_FIXED, header_size=5, length_offset=1, length_bias=0,
                    type_offset=0, type_width=1, max_types=1, max_payload=0xFFFFFFFF),
}
_PROTOBUFP_HEADER = struct.Struct(">II")
_GRPC_HEADER = struct.Struct(">BI")


class _Scan(NamedTuple):
    """What one scanner call found (see tb_frame_scan_result).  The frames themselves
    stay in the scanner until asked for (``types``, ``bounds``, ``payloads``)."""

    status: int
    consumed: int
    frames: int
    error_offset: int = 0
    error_value: int = 0
    error_end: int = 0
    pending_size: int = 0  # an incomplete frame whose header is in: its total size,
    pending_header: int = 0  # header size
    pending_type: int = 0  # and type value


class _Scratch:
    """The arrays one native scan fills, shared by every Processor of a thread.

    A Processor uses them only inside one locked call, from scan to payloads, and never
    re-enters another Processor in between, so one set per thread is enough: a server
    with thousands of connections does not hold 160 KiB of arrays per connection.
    """

    def __init__(self, ffi: Any, format_bytes: int) -> None:
        self.types = ffi.new("uint32_t[]", _SCAN_CAPACITY)
        self.starts = ffi.new("size_t[]", _SCAN_CAPACITY)
        self.ends = ffi.new("size_t[]", _SCAN_CAPACITY)
        self.result = ffi.new("tb_frame_scan_result *")
        # The struct format buffer grows with the largest batch cut by payloads(); large
        # payloads never need it (they are parsed from views).
        self.layout_capacity = 0
        self.layout = ffi.NULL
        self.format_bytes = format_bytes


_scratch = threading.local()


class _NativeScanner:
    """Scans with tb_frame_scan: one C call per batch of up to _SCAN_CAPACITY frames.

    Payloads are cut out by one ``struct.unpack_from`` call per batch, with a format
    string the C side writes ("=8x15s8x15s..."), so no Python code runs per frame.
    """

    name = "native"

    def __init__(self, layout: _Format, type_count: int, max_payload: int) -> None:
        from tightbind._native import load

        module = load("frame")
        self._ffi = ffi = module.ffi
        self._lib = module.lib
        self._format = ffi.new("tb_frame_format *", {
            "prefix": layout.prefix,
            "header_size": layout.header_size,
            "length_offset": layout.length_offset,
            "length_bias": layout.length_bias,
            "type_offset": layout.type_offset,
            "type_width": layout.type_width,
            "type_count": type_count,
            "max_payload": max_payload,
        })
        self._last: _Scratch | None = None  # the arrays the latest scan filled

    def scan(self, buf: bytes | bytearray, start: int) -> _Scan:
        arrays = getattr(_scratch, "arrays", None)
        if arrays is None:
            arrays = _scratch.arrays = _Scratch(self._ffi, self._lib.TB_FRAME_FORMAT_BYTES)
        self._last = arrays
        with self._ffi.from_buffer("unsigned char[]", buf) as cbuf:
            status = self._lib.tb_frame_scan(
                self._format, cbuf, len(buf), start, arrays.types, arrays.starts,
                arrays.ends, _SCAN_CAPACITY, arrays.result,
            )
        result = arrays.result
        return _Scan(status, result.consumed, result.frames, result.error_offset,
                     result.error_value, result.error_end, result.pending_size,
                     result.pending_header, result.pending_type)

    def _arrays(self) -> _Scratch:
        assert self._last is not None, "scan() first"
        return self._last

    def types(self, scan: _Scan) -> list[int]:
        return self._ffi.unpack(self._arrays().types, scan.frames)

    def bounds(self, scan: _Scan) -> tuple[list[int], list[int]]:
        arrays = self._arrays()
        unpack = self._ffi.unpack
        return unpack(arrays.starts, scan.frames), unpack(arrays.ends, scan.frames)

    def payloads(self, buf: bytes | bytearray, start: int, scan: _Scan) -> Sequence[bytes]:
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


class _PureScanner:
    """The same scan as csrc/frame.c, in Python: the twin the native path is checked
    and benchmarked against."""

    name = "pure"

    def __init__(self, layout: _Format, type_count: int, max_payload: int) -> None:
        self._layout = layout
        self._type_count = type_count
        self._max_payload = max_payload
        self._typed = type_count > 1
        self._found: tuple[list[int], list[int], list[int]] = ([], [], [])
        if layout.prefix == PREFIX_FIXED:
            self._length = struct.Struct(f">{layout.length_offset}xI").unpack_from
            code = "B" if layout.type_width == 1 else "I"
            self._type = struct.Struct(f">{layout.type_offset}x{code}").unpack_from

    def types(self, scan: _Scan) -> list[int]:
        return self._found[0]

    def bounds(self, scan: _Scan) -> tuple[list[int], list[int]]:
        return self._found[1], self._found[2]

    def payloads(self, buf: bytes | bytearray, start: int, scan: _Scan) -> Iterable[bytes]:
        starts, ends = self.bounds(scan)
        cut: Any = buf.__getitem__
        return map(cut, map(slice, starts, ends))

    def scan(self, buf: bytes | bytearray, start: int) -> _Scan:
        types: list[int] = []
        starts: list[int] = []
        ends: list[int] = []
        self._found = (types, starts, ends)
        if self._layout.prefix == PREFIX_VARINT:
            status, *rest = self._scan_varint(buf, start, starts, ends)
        else:
            status, *rest = self._scan_fixed(buf, start, types, starts, ends)
        return _Scan(status, rest[0], len(starts), *rest[1:])

    def _scan_fixed(self, buf: bytes | bytearray, start: int, types: list[int],
                    starts: list[int], ends: list[int]) -> tuple[int, ...]:
        header_size = self._layout.header_size
        bias = self._layout.length_bias
        max_payload = self._max_payload
        type_count = self._type_count
        has_type = self._layout.type_offset >= 0
        read_length = self._length
        read_type = self._type
        size = len(buf)
        pos = start
        while pos < size:
            if len(starts) == _SCAN_CAPACITY:
                return (FULL, pos)
            if size - pos < header_size:
                break
            (length,) = read_length(buf, pos)
            if length < bias:
                return (E_LENGTH, pos, pos, length)
            payload_length = length - bias
            if payload_length > max_payload:
                return (E_TOO_LARGE, pos, pos, payload_length)
            end = pos + header_size + payload_length
            frame_type = read_type(buf, pos)[0] if has_type else 0
            if end > size:
                return (NEED_MORE, pos, 0, 0, 0, end - pos, header_size, frame_type)
            if frame_type >= type_count:
                return (E_TYPE, pos, pos, frame_type, end)
            if self._typed:
                types.append(frame_type)
            starts.append(pos + header_size)
            ends.append(end)
            pos = end
        return (NEED_MORE, pos)

    def _scan_varint(self, buf: bytes | bytearray, start: int, starts: list[int],
                     ends: list[int]) -> tuple[int, ...]:
        max_payload = self._max_payload
        size = len(buf)
        pos = start
        while pos < size:
            if len(starts) == _SCAN_CAPACITY:
                return (FULL, pos)
            value = 0
            index = 0
            complete = False
            while pos + index < size:
                byte = buf[pos + index]
                if index == 9 and byte > 1:
                    return (E_VARINT, pos, pos, byte)
                value |= (byte & 0x7F) << (7 * index)
                index += 1
                if byte < 0x80:
                    complete = True
                    break
            if not complete:
                break
            if value > max_payload:
                return (E_TOO_LARGE, pos, pos, value)
            end = pos + index + value
            if end > size:
                return (NEED_MORE, pos, 0, 0, 0, end - pos, index, 0)
            starts.append(pos + index)
            ends.append(end)
            pos = end
        return (NEED_MORE, pos)


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _full_name(message_type: Any) -> str:
    try:
        return str(message_type.DESCRIPTOR.full_name)
    except AttributeError:
        raise TypeError(f"{message_type!r} is not a protobuf message class") from None


class Serializer:
    """Frames messages for a :class:`Processor`'s codec and type list."""

    def __init__(self, processor: Processor) -> None:
        self._processor = processor
        self._type_ids = {_full_name(t): index for index, t in enumerate(processor.msg_types)}
        self._codec = processor.codec
        self._max_payload = processor.max_frame_size

    def type_id(self, message: Any) -> int:
        """The type id ``message`` is framed with; raise UnregisteredType if unknown."""
        try:
            name = message.DESCRIPTOR.full_name
        except AttributeError:
            raise UnregisteredType(
                f"{type(message).__name__} is not a protobuf message"
            ) from None
        type_id = self._type_ids.get(name)
        if type_id is None:
            known = ", ".join(self._type_ids)
            raise UnregisteredType(
                f"message type {name!r} is not registered with this Processor (known: {known})"
            )
        return type_id

    def serialize(self, message: Any) -> bytes:
        """Return ``message`` as one frame: header and payload.

        Raises UnregisteredType for a type the Processor does not know and FrameTooLarge
        when the payload exceeds ``max_frame_size`` (the receiving side would refuse it).
        """
        type_id = self.type_id(message)
        payload = message.SerializeToString()
        if len(payload) > self._max_payload:
            raise FrameTooLarge(
                f"{message.DESCRIPTOR.full_name} serializes to {len(payload)} bytes, over "
                f"max_frame_size={self._max_payload}"
            )
        if self._codec == "varint":
            return _encode_varint(len(payload)) + payload
        if self._codec == "grpc":
            return _GRPC_HEADER.pack(0, len(payload)) + payload
        return _PROTOBUFP_HEADER.pack(len(payload) + 4, type_id) + payload

    def serialize_many(self, messages: Iterable[Any]) -> bytes:
        """Return the frames of all ``messages``, concatenated."""
        return b"".join(map(self.serialize, messages))


class Processor:
    """Reassembles and decodes framed messages from pushed byte chunks.

    ``msg_types`` is the list of message classes (or one class); a frame's type id is the
    index into it, and types are matched by protobuf full name.  ``codec`` is
    ``"protobufp"``, ``"varint"`` or ``"grpc"`` (these two take exactly one type).
    ``backend`` is ``"native"`` (the C scanner), ``"pure"`` (the Python twin) or
    ``"auto"`` (native when it was built).  Both backends return the same messages and
    raise the same errors at the same offsets for every input.

    A Processor may be shared between threads: each call holds the instance's own lock.
    """

    serializer_class = Serializer

    def __init__(
        self,
        msg_types: Sequence[type] | type,
        *,
        codec: str = "protobufp",
        max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
        backend: str = "auto",
    ) -> None:
        types: tuple[Any, ...] = (
            (msg_types,) if isinstance(msg_types, type) else tuple(msg_types))
        if not types:
            raise ValueError("msg_types is empty: give at least one message class")
        names = [_full_name(t) for t in types]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"msg_types lists {', '.join(duplicates)} more than once")
        if codec not in _FORMATS:
            raise ValueError(f"unknown codec {codec!r}; choose from {', '.join(CODECS)}")
        layout = _FORMATS[codec]
        if len(types) > layout.max_types:
            raise ValueError(
                f"the {codec} codec carries no type id: give exactly one message class, "
                f"not {len(types)}"
            )
        if (
            not isinstance(max_frame_size, int)
            or isinstance(max_frame_size, bool)
            or not 0 <= max_frame_size <= layout.max_payload
        ):
            raise ValueError(
                f"max_frame_size must be an int from 0 to {layout.max_payload} for the "
                f"{codec} codec, not {max_frame_size!r}"
            )
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
        if backend == "auto":
            from tightbind._native import available

            backend = "native" if available("frame") else "pure"
        scanner_class = _NativeScanner if backend == "native" else _PureScanner
        self._scanner: _NativeScanner | _PureScanner = scanner_class(
            layout, len(types), max_frame_size)
        self._types = types
        self._parsers = [t.FromString for t in types]
        self._codec = codec
        self._layout = layout
        self._max_frame_size = max_frame_size
        self._lock = threading.RLock()
        self.reset()
        self.serializer = self.serializer_class(self)

    @property
    def msg_types(self) -> tuple[type, ...]:
        """The message classes, in type-id order."""
        return self._types

    @property
    def codec(self) -> str:
        return self._codec

    @property
    def backend(self) -> str:
        """``"native"`` or ``"pure"``: the scanner this Processor uses."""
        return self._scanner.name

    @property
    def max_frame_size(self) -> int:
        return self._max_frame_size

    @property
    def buffered(self) -> int:
        """Bytes pushed but not yet consumed as frames."""
        with self._lock:
            return len(self._buf) - self._pos + self._parts_size

    def reset(self) -> None:
        """Drop buffered bytes, decoded-but-unread messages and any error; start a new
        stream (offsets count from 0 again)."""
        with self._lock:
            self._buf: bytes | bytearray = b""
            self._pos = 0  # first unconsumed byte of _buf
            self._base = 0  # stream offset of _buf[0]
            self._ready: deque[Any] = deque()
            self._error: FramingError | None = None
            self._poisoned = False
            # Assembly of one large incomplete frame: the scan that found it and the
            # chunks received since its first byte (the header is in the first one).
            self._pending: _Scan | None = None
            self._parts: list[bytes] = []
            self._parts_size = 0

    def push(self, data: bytes | bytearray | memoryview) -> None:
        """Append a chunk of the stream.  Chunks may split frames anywhere.

        Raises the stream's error if the Processor is poisoned (see the module doc).
        """
        if isinstance(data, memoryview):
            data = data.cast("B") if data.format != "B" or data.ndim != 1 else data
        elif not isinstance(data, (bytes, bytearray)):
            raise TypeError(f"push() takes bytes, bytearray or memoryview, not "
                            f"{type(data).__name__}")
        with self._lock:
            if self._poisoned:
                self._raise_pending()
            if not len(data):
                return
            if self._pending is not None:
                self._parts.append(data if type(data) is bytes else bytes(data))
                self._parts_size += len(data)
                return
            if self._pos == len(self._buf):
                # Nothing pending: adopt immutable bytes as they are (no copy).
                self._base += len(self._buf)
                self._buf = data if type(data) is bytes else bytearray(data)
                self._pos = 0
                return
            buf = self._buf
            if isinstance(buf, bytes):
                buf = bytearray(memoryview(buf)[self._pos:])
            elif self._pos:
                del buf[: self._pos]
            buf += data
            self._buf = buf
            self._base += self._pos
            self._pos = 0

    def read_message(self) -> Any | None:
        """Return the next complete message, or None when none is buffered."""
        with self._lock:
            if not self._ready:
                if self._error is None:
                    self._ready.extend(self._decode(max_batches=1))
                if not self._ready:
                    if self._error is not None:
                        self._raise_pending()
                    return None
            return self._ready.popleft()

    def read_messages(self) -> list[Any]:
        """Return every complete message now buffered (an empty list when none is).

        Messages before an error come back first; the call after raises it.
        """
        with self._lock:
            messages = list(self._ready)
            self._ready.clear()
            if self._error is None:
                messages.extend(self._decode())
            if not messages and self._error is not None:
                self._raise_pending()
            return messages

    def __iter__(self) -> Iterator[Any]:
        """Yield buffered messages lazily until none is complete."""
        while True:
            message = self.read_message()
            if message is None:
                return
            yield message

    # -- internals ------------------------------------------------------------------

    def _raise_pending(self) -> None:
        error = self._error
        assert error is not None
        if not self._poisoned:
            self._error = None
        raise error.with_traceback(None)

    def _decode(self, max_batches: int | None = None) -> list[Any]:
        messages: list[Any] = []
        if self._pending is not None:
            if self._parts_size < self._pending.pending_size:
                return messages
            self._finish_assembly(messages)
        batches = 0
        while self._error is None:
            scan_start = self._pos
            scan = self._scanner.scan(self._buf, scan_start)
            # On an error, consumed is the offending frame's offset (tb_frame_scan).
            self._pos = scan.consumed
            if scan.frames:
                self._decode_frames(scan, scan_start, messages)
                if self._error is not None:
                    break
            if scan.status < 0:
                self._set_scan_error(scan)
                break
            if scan.pending_size >= _ASSEMBLE_THRESHOLD:
                self._start_assembly(scan)
                break
            batches += 1
            if scan.status != FULL or batches == max_batches:
                break
        if self._pos == len(self._buf):
            self._base += self._pos
            self._buf = b""
            self._pos = 0
        return messages

    def _decode_frames(self, scan: _Scan, scan_start: int, messages: list[Any]) -> None:
        scanner = self._scanner
        buf = self._buf
        end = scan.error_offset if scan.status < 0 else scan.consumed
        view = None
        if end - scan_start > _VIEW_THRESHOLD * scan.frames:
            # Large payloads are parsed from views of the buffer: no copy before parsing.
            view = memoryview(buf)
            starts, ends = scanner.bounds(scan)
            payloads: Iterable[Any] = map(view.__getitem__, map(slice, starts, ends))
        else:
            payloads = scanner.payloads(buf, scan_start, scan)
        parsers = self._parsers
        if len(parsers) == 1:
            decoded = map(parsers[0], payloads)
        else:
            decoded = map(_call, map(parsers.__getitem__, scanner.types(scan)), payloads)
        before = len(messages)
        try:
            messages.extend(decoded)
        except Exception as exc:  # the parser's own error type varies by protobuf backend
            index = len(messages) - before
            starts, ends = scanner.bounds(scan)
            header = ends[index - 1] if index else scan_start  # frames are contiguous
            type_id = scanner.types(scan)[index] if len(parsers) > 1 else 0
            self._payload_error(self._base + header, type_id, ends[index] - starts[index], exc)
            self._pos = ends[index]
        finally:
            if view is not None:
                del payloads, decoded
                view.release()

    def _start_assembly(self, scan: _Scan) -> None:
        tail = self._buf[self._pos:]
        self._parts = [tail if type(tail) is bytes else bytes(tail)]
        self._parts_size = len(tail)
        self._pending = scan
        self._base += self._pos
        self._buf = b""
        self._pos = 0

    def _finish_assembly(self, messages: list[Any]) -> None:
        pending = self._pending
        assert pending is not None
        size = pending.pending_size
        pieces: list[Any] = []
        taken = 0
        leftover: list[Any] = []
        for index, part in enumerate(self._parts):
            if taken + len(part) >= size:
                cut = size - taken
                pieces.append(memoryview(part)[:cut])
                leftover = [memoryview(part)[cut:], *self._parts[index + 1:]]
                break
            pieces.append(part)
            taken += len(part)
        pieces[0] = memoryview(pieces[0])[pending.pending_header:]
        payload = b"".join(pieces)
        offset = self._base
        self._buf = b"".join(leftover)
        self._base += size
        self._pos = 0
        self._pending = None
        self._parts = []
        self._parts_size = 0
        type_id = pending.pending_type
        if type_id >= len(self._types):
            self._error = self._unknown_type(offset, type_id)
            return
        try:
            messages.append(self._parsers[type_id](payload))
        except Exception as exc:
            self._payload_error(offset, type_id, len(payload), exc)

    def _payload_error(self, offset: int, type_id: int, length: int, exc: Exception) -> None:
        error = PayloadDecodeError(
            f"frame at stream offset {offset}: {length}-byte payload is not a valid "
            f"{_full_name(self._types[type_id])}: {exc}",
            offset=offset,
        )
        error.__cause__ = exc
        self._error = error

    def _unknown_type(self, offset: int, value: int) -> UnknownMessageType:
        if self._codec == "grpc":
            return UnknownMessageType(
                f"frame at stream offset {offset} has compressed-flag {value}: compressed "
                "gRPC messages are not supported; the frame was skipped",
                offset=offset,
            )
        count = len(self._types)
        return UnknownMessageType(
            f"frame at stream offset {offset} has type id {value}, but this Processor "
            f"has {count} message type{'s' if count > 1 else ''} (ids 0..{count - 1}); "
            "the frame was skipped",
            offset=offset,
        )

    def _set_scan_error(self, scan: _Scan) -> None:
        offset = self._base + scan.error_offset
        value = scan.error_value
        if scan.status == E_TYPE:
            self._error = self._unknown_type(offset, value)
            self._pos = scan.error_end
            return
        if scan.status == E_TOO_LARGE:
            error: FramingError = FrameTooLarge(
                f"frame at stream offset {offset} announces a {value}-byte payload, over "
                f"max_frame_size={self._max_frame_size}; the stream is unusable until reset()",
                offset=offset,
            )
        elif scan.status == E_LENGTH:
            error = CorruptLength(
                f"frame at stream offset {offset} has length field {value}, less than the "
                f"{self._layout.length_bias} bytes it must count; the stream is corrupt "
                "(reset() to start over)",
                offset=offset,
            )
        elif scan.status == E_VARINT:
            error = CorruptLength(
                f"frame at stream offset {offset} starts with a varint longer than 10 bytes "
                "or over 64 bits; the stream is corrupt (reset() to start over)",
                offset=offset,
            )
        else:
            raise AssertionError(f"frame scanner returned unknown status {scan.status}")
        self._error = error
        self._poisoned = True


# -- sockets and asyncio -----------------------------------------------------------------

_CHUNK = 64 * 1024


def send_message(sock: Any, message: Any, processor: Processor) -> None:
    """Frame ``message`` with ``processor``'s codec and send it all (``sock.sendall``)."""
    sock.sendall(processor.serializer.serialize(message))


def iter_messages(sock: Any, processor: Processor, *, chunk_size: int = _CHUNK) -> Iterator[Any]:
    """Yield messages read from a blocking socket (anything with ``recv``) until EOF.

    Raises TruncatedStream if the peer closes in the middle of a frame, and the
    Processor's errors as they occur.
    """
    while True:
        data = sock.recv(chunk_size)
        if not data:
            _check_clean_eof(processor)
            return
        processor.push(data)
        while messages := processor.read_messages():
            yield from messages


async def write_message(writer: Any, message: Any, processor: Processor) -> None:
    """Frame ``message``, write it to an asyncio StreamWriter and wait for drain."""
    writer.write(processor.serializer.serialize(message))
    await writer.drain()


async def read_messages(
    reader: Any, processor: Processor, *, chunk_size: int = _CHUNK
) -> AsyncIterator[Any]:
    """``async for message in read_messages(reader, processor)``: messages from an
    asyncio StreamReader until EOF (TruncatedStream if it ends inside a frame)."""
    while True:
        data = await reader.read(chunk_size)
        if not data:
            _check_clean_eof(processor)
            return
        processor.push(data)
        while messages := processor.read_messages():
            for message in messages:
                yield message


def _check_clean_eof(processor: Processor) -> None:
    pending = processor.buffered
    if pending:
        raise TruncatedStream(
            f"the stream ended inside a frame: {pending} bytes of an incomplete frame were "
            "buffered"
        )
