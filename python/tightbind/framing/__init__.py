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

# The constants are importable from here as before, outside __all__ ("X as X" re-exports).
from tightbind.framing.codecs import CODECS as CODECS
from tightbind.framing.codecs import Serializer
from tightbind.framing.errors import (
    CorruptLength,
    FrameTooLarge,
    FramingError,
    PayloadDecodeError,
    TruncatedStream,
    UnknownMessageType,
    UnregisteredType,
)
from tightbind.framing.io import iter_messages, read_messages, send_message, write_message
from tightbind.framing.processor import BACKENDS as BACKENDS
from tightbind.framing.processor import DEFAULT_MAX_FRAME_SIZE as DEFAULT_MAX_FRAME_SIZE
from tightbind.framing.processor import Processor

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
