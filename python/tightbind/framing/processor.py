"""The Processor: push byte chunks, read decoded messages (see :mod:`tightbind.framing`).

Each read scans the buffered bytes with the Processor's scanner (``scanners.py``), hands
the payloads it cut to the message classes' ``FromString``, and turns the scanner's
stops into the framing errors, with the frame's offset in the stream.
"""

from __future__ import annotations

import operator
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from tightbind.framing.codecs import FORMATS, VARINT_MAX_BYTES, Codec, Serializer, full_name
from tightbind.framing.errors import (
    CorruptLength,
    FrameTooLarge,
    FramingError,
    PayloadDecodeError,
    UnknownMessageType,
)
from tightbind.framing.scanners import STREAM_ERRORS, NativeScanner, PureScanner, Scan, Stop

DEFAULT_MAX_FRAME_SIZE = 4 * 1024 * 1024
BACKENDS = ("auto", "native", "pure")

_VIEW_THRESHOLD = 2048  # average payload size above which payloads are parsed from views
# An incomplete frame at least this large is gathered as a list of chunks and its payload
# joined into one bytes object when complete: one copy, and upb parses that bytes
# without copying it again.
_ASSEMBLE_THRESHOLD = 256 * 1024

_call = getattr(operator, "call", lambda function, argument: function(argument))


def _chunk(data: Any) -> bytes | bytearray | memoryview:
    """What :meth:`Processor.push` stores or appends: ``bytes`` and ``bytearray`` as they
    are, a flat byte view of a C-contiguous buffer, or the row-major copy of any other
    (or of one whose item format ``memoryview.cast`` cannot read).  Touches no Processor
    state, so a failure here changes nothing."""
    if isinstance(data, (bytes, bytearray)):
        return data
    if isinstance(data, memoryview):
        view = data
    else:
        try:
            view = memoryview(data)
        except TypeError:
            hint = "; encode text first" if isinstance(data, str) else ""
            raise TypeError(f"push() takes bytes, bytearray, memoryview or another object "
                            f"with the buffer protocol, not {type(data).__name__}{hint}"
                            ) from None
    if view.c_contiguous:
        if view.format == "B" and view.ndim == 1:
            return view
        try:
            return view.cast("B")
        except (TypeError, ValueError):
            pass  # an explicit byte order or a struct format: copy below
    return view.tobytes()  # Fortran-order, strided: the items in row-major order


def _takes_bytearray(parser: Any) -> bool:
    """Return whether ``parser`` (a message class's ``FromString``) takes a bytearray;
    upb in protobuf 4.x raises TypeError "expected bytes, bytearray found"."""
    try:
        parser(bytearray())
    except TypeError:
        return False
    except MemoryError:
        raise
    except Exception:  # an empty payload may be invalid (proto2 required fields)
        pass
    return True


class Processor:
    """Reassembles and decodes framed messages from pushed byte chunks.

    ``msg_types`` is the list of message classes (or one class); a frame's type id is the
    index into it, and types are matched by protobuf full name.  ``codec`` is
    ``"protobufp"``, ``"varint"`` or ``"grpc"`` (these two take exactly one type).
    ``backend`` is ``"native"`` (the C scanner), ``"pure"`` (the Python twin) or
    ``"auto"`` (native when it was built).  Both backends return the same messages and
    raise the same errors at the same offsets for every input.

    A Processor may be shared between threads: each call holds the instance's own lock.

    Raises ValueError for an empty or duplicated type list, an unknown codec or backend,
    more than one type for ``varint``/``grpc`` or a ``max_frame_size`` the codec cannot
    express; TypeError for a class that is not a protobuf message; ImportError for
    ``backend="native"`` when ``tightbind._frame`` was not compiled.
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
        names = [full_name(t) for t in types]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"msg_types lists {', '.join(duplicates)} more than once")
        if codec not in FORMATS:
            raise ValueError(f"unknown codec {codec!r}; choose from {', '.join(FORMATS)}")
        wire_format = FORMATS[codec]
        if len(types) > wire_format.max_types:
            raise ValueError(
                f"the {codec} codec carries no type id: give exactly one message class, "
                f"not {len(types)}"
            )
        if (
            not isinstance(max_frame_size, int)
            or isinstance(max_frame_size, bool)
            or not 0 <= max_frame_size <= wire_format.max_payload
        ):
            raise ValueError(
                f"max_frame_size must be an int from 0 to {wire_format.max_payload} for the "
                f"{codec} codec, not {max_frame_size!r}"
            )
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
        if backend == "auto":
            from tightbind._native import available

            backend = "native" if available("frame") else "pure"
        scanner_class = NativeScanner if backend == "native" else PureScanner
        self._scanner: NativeScanner | PureScanner = scanner_class(
            wire_format, len(types), max_frame_size)
        self._types = types
        self._parsers = [t.FromString for t in types]
        # The pure scanner cuts bytearrays from a bytearray buffer (after a push that
        # joined a partial frame, or a bytearray or memoryview push).  upb in protobuf
        # 4.x refuses them, so such parsers get views instead (memoryviews, which every
        # protobuf takes); the others keep the slices, which parse faster than views.
        self._bytearray_views = not self._scanner.bytes_payloads and not all(
            map(_takes_bytearray, self._parsers))
        self._codec = codec
        self._format: Codec = wire_format
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
        """The codec's name: ``"protobufp"``, ``"varint"`` or ``"grpc"``."""
        return self._codec

    @property
    def backend(self) -> str:
        """``"native"`` or ``"pure"``: the scanner this Processor uses."""
        return self._scanner.name

    @property
    def max_frame_size(self) -> int:
        """The largest payload accepted, in bytes (the header is not counted)."""
        return self._max_frame_size

    @property
    def buffered(self) -> int:
        """Bytes pushed but not yet consumed as frames."""
        with self._lock:
            return len(self._buf) - self._pos + self._parts_size

    def reset(self) -> None:
        """Drop buffered bytes, decoded-but-unread messages and any error; start a new
        stream (offsets count from 0 again)."""
        ready: deque[Any] = deque()
        parts: list[bytes] = []
        with self._lock:
            self._buf: bytes | bytearray = b""
            self._pos = 0  # first unconsumed byte of _buf
            self._base = 0  # stream offset of _buf[0]
            self._ready = ready
            self._error: FramingError | None = None
            self._poisoned = False
            # Assembly of one large incomplete frame: the scan that found it and the
            # chunks received since its first byte (the header is in the first one).
            self._pending: Scan | None = None
            self._parts = parts
            self._parts_size = 0

    def push(self, data: bytes | bytearray | memoryview) -> None:
        """Append a chunk of the stream.  Chunks may split frames anywhere.

        Accepts ``bytes``, ``bytearray``, ``memoryview`` and any other object with the
        buffer protocol (``array.array``, ``mmap``, numpy arrays).  ``bytes`` are kept
        without a copy while nothing else is buffered; everything else is copied before
        ``push`` returns, so the caller may reuse its buffer at once.  A view of any
        shape, item format or memory order (2-D, strided, Fortran-order) is taken as
        the bytes ``bytes(view)`` gives: its items in row-major order.

        Either succeeds or changes nothing: a chunk that cannot be read (a released
        view raises ValueError) or copied (MemoryError) leaves the Processor exactly as
        it was.  Raises TypeError for ``str`` and other non-buffers, and the stream's
        error if the Processor is poisoned (see the module doc).
        """
        chunk = _chunk(data)
        with self._lock:
            if self._poisoned:
                self._raise_pending()
            if not len(chunk):
                return
            # Each branch computes everything it stores (new ints included) before its
            # first change, so a MemoryError on the way leaves every field as it was.
            if self._pending is not None:
                part = chunk if type(chunk) is bytes else bytes(chunk)
                parts_size = self._parts_size + len(part)
                self._parts.append(part)  # grows the list, or raises with it unchanged
                self._parts_size = parts_size
                return
            buf = self._buf
            if self._pos == len(buf):
                # Nothing pending: adopt immutable bytes as they are (no copy).
                adopted = chunk if type(chunk) is bytes else bytearray(chunk)
                base = self._base + len(buf)
            elif isinstance(buf, bytearray) and not self._pos:
                buf += chunk  # grows in place, or raises with buf unchanged
                return
            else:
                adopted = bytearray(memoryview(buf)[self._pos:])
                adopted += chunk
                base = self._base + self._pos
            self._buf, self._base, self._pos = adopted, base, 0

    def read_message(self) -> Any | None:
        """Return the next complete message, or None when none is buffered.

        Either succeeds (or raises the stream's error, see the module doc) or changes
        nothing: a MemoryError while scanning or parsing leaves every byte buffered (see
        the comment above :meth:`_raise_pending`).
        """
        with self._lock:
            if not self._ready:
                if self._error is None:
                    saved = (self._buf, self._pos, self._base, self._ready, self._error,
                             self._poisoned, self._pending, self._parts, self._parts_size)
                    try:
                        self._ready = deque(self._decode(max_batches=1))
                    except BaseException:
                        (self._buf, self._pos, self._base, self._ready, self._error,
                         self._poisoned, self._pending, self._parts, self._parts_size) = saved
                        raise
                if not self._ready:
                    if self._error is not None:
                        self._raise_pending()
                    return None
            return self._ready.popleft()

    def read_messages(self) -> list[Any]:
        """Return every complete message now buffered (an empty list when none is).

        Messages before an error come back first; the call after raises it.  Either
        succeeds or changes nothing, as :meth:`read_message`.
        """
        with self._lock:
            saved = (self._buf, self._pos, self._base, self._ready, self._error,
                     self._poisoned, self._pending, self._parts, self._parts_size)
            try:
                messages = list(self._ready)
                self._ready = deque()
                if self._error is None:
                    messages.extend(self._decode())
            except BaseException:
                (self._buf, self._pos, self._base, self._ready, self._error,
                 self._poisoned, self._pending, self._parts, self._parts_size) = saved
                raise
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

    # Reads either succeed or change nothing: they only reassign fields (never change a
    # buffer, list or deque in place), so keeping the references is keeping the state,
    # and a failure puts them all back.  Saved and restored inline, by tuple assignment,
    # which cannot itself fail (a helper call could raise MemoryError after the work).

    def _raise_pending(self) -> None:
        error = self._error
        assert error is not None
        error = error.with_traceback(None)
        if not self._poisoned:
            self._error = None  # delivered: a skipped frame's error is raised once
        raise error

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
            if scan.stop in STREAM_ERRORS:
                self._set_stream_error(scan)
                break
            if scan.pending_size >= _ASSEMBLE_THRESHOLD:
                self._start_assembly(scan)
                break
            batches += 1
            if scan.stop is not Stop.FULL or batches == max_batches:
                break
        if self._pos == len(self._buf):
            self._base += self._pos
            self._buf = b""
            self._pos = 0
        return messages

    def _decode_frames(self, scan: Scan, scan_start: int, messages: list[Any]) -> None:
        scanner = self._scanner
        buf = self._buf
        end = scan.consumed  # on a stream error, the offending frame's offset
        view = None
        if end - scan_start > _VIEW_THRESHOLD * scan.frames or (
                self._bytearray_views and type(buf) is not bytes):
            # Large payloads are parsed from views of the buffer: no copy before parsing.
            # So are the pure scanner's from a bytearray buffer when a parser refuses
            # bytearrays (upb in protobuf 4.x), its slices of that buffer.
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
        except MemoryError:
            raise  # not the payload's fault: the read is undone (see "Reads either" above)
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

    def _start_assembly(self, scan: Scan) -> None:
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
        except MemoryError:
            raise
        except Exception as exc:
            self._payload_error(offset, type_id, len(payload), exc)

    def _payload_error(self, offset: int, type_id: int, length: int, exc: Exception) -> None:
        error = PayloadDecodeError(
            f"frame at stream offset {offset}: {length}-byte payload is not a valid "
            f"{full_name(self._types[type_id])}: {exc}",
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

    def _set_stream_error(self, scan: Scan) -> None:
        """Record the stream error ``scan`` stopped at (a Stop in STREAM_ERRORS), to be
        raised by the next read.  The classes are those ``_native.FAILURES`` gives the
        matching C codes (tests/framing/test_errors.py checks that they agree)."""
        offset = self._base + scan.error_offset
        value = scan.error_value
        if scan.stop is Stop.BAD_TYPE:
            self._error = self._unknown_type(offset, value)
            self._pos = scan.error_end
            return
        if scan.stop is Stop.TOO_LARGE:
            error: FramingError = FrameTooLarge(
                f"frame at stream offset {offset} announces a {value}-byte payload, over "
                f"max_frame_size={self._max_frame_size}; the stream is unusable until reset()",
                offset=offset,
            )
        elif scan.stop is Stop.BAD_LENGTH:
            error = CorruptLength(
                f"frame at stream offset {offset} has length field {value}, less than the "
                f"{self._format.length_bias} bytes it must count; the stream is corrupt "
                "(reset() to start over)",
                offset=offset,
            )
        else:  # Stop.BAD_VARINT
            error = CorruptLength(
                f"frame at stream offset {offset} starts with a varint longer than "
                f"{VARINT_MAX_BYTES} bytes "
                "or over 64 bits; the stream is corrupt (reset() to start over)",
                offset=offset,
            )
        self._error = error
        self._poisoned = True

