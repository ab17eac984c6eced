"""Framed messages over sockets and asyncio streams, with a :class:`Processor`.

The helpers call only ``recv``/``sendall`` (or an asyncio StreamReader's ``read`` and a
StreamWriter's ``write``/``drain``), so a ``tightbind.tls.TLSConnection`` works as well
as a socket.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from tightbind.framing.errors import TruncatedStream

if TYPE_CHECKING:
    from tightbind.framing.processor import Processor

_CHUNK = 64 * 1024


def send_message(sock: Any, message: Any, processor: Processor) -> None:
    """Frame ``message`` with ``processor``'s codec and send it all (``sock.sendall``).

    Returns None.  Raises UnregisteredType or FrameTooLarge as ``Serializer.serialize``
    does, and whatever ``sendall`` raises (OSError for a socket).
    """
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
    """Frame ``message``, write it to an asyncio StreamWriter and wait for drain.

    Raises as :func:`send_message` does (``drain`` raises ConnectionError when the peer
    has gone).
    """
    writer.write(processor.serializer.serialize(message))
    await writer.drain()


async def read_messages(
    reader: Any, processor: Processor, *, chunk_size: int = _CHUNK
) -> AsyncIterator[Any]:
    """``async for message in read_messages(reader, processor)``: messages from an
    asyncio StreamReader until EOF.

    Raises TruncatedStream if the stream ends inside a frame, and the Processor's errors
    as they occur.
    """
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
