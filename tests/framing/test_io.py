"""tightbind.framing.io: the socket and asyncio helpers over loopback, tiny writes, EOF."""

from __future__ import annotations

import asyncio
import itertools
import threading

import pytest

from tightbind import framing
from tightbind.framing import Processor, TruncatedStream
from tightbind.framing.codecs import CODECS


def tiny_pieces(data: bytes):
    """``data`` in pieces of 1 to 8 bytes, so frames and headers arrive split."""
    sizes = itertools.cycle([1, 2, 3, 5, 1, 8])
    pos = 0
    while pos < len(data):
        size = next(sizes)
        yield data[pos:pos + size]
        pos += size


@pytest.mark.parametrize("codec", CODECS)
def test_socket_helpers_with_tiny_writes(types, backend, codec, loopback_pair):
    label = types[2]
    messages = [label(text=f"message {i}", blob=bytes(i)) for i in range(60)]
    client, server = loopback_pair
    sender = Processor([label], codec=codec)

    def send():
        with client:
            for message in messages[:30]:
                framing.send_message(client, message, sender)
            for piece in tiny_pieces(sender.serializer.serialize_many(messages[30:])):
                client.sendall(piece)

    thread = threading.Thread(target=send)
    thread.start()
    got = list(framing.iter_messages(server, Processor([label], codec=codec, backend=backend)))
    thread.join()
    assert got == messages


def test_socket_eof_inside_frame(types, backend, loopback_pair):
    point = types[1]
    client, server = loopback_pair
    frame = Processor([point]).serializer.serialize(point(x=1))
    with client:
        client.sendall(frame + frame[:5])
    got = []
    with pytest.raises(TruncatedStream, match="5 bytes"):
        for message in framing.iter_messages(server, Processor([point], backend=backend)):
            got.append(message)
    assert got == [point(x=1)]


def test_send_message_refuses_an_unregistered_type_before_sending(types, loopback_pair):
    client, server = loopback_pair
    with pytest.raises(framing.UnregisteredType):
        framing.send_message(client, types[2](text="x"), Processor([types[1]]))
    client.close()
    assert server.recv(10) == b""  # nothing went out


def test_asyncio_helpers_with_tiny_writes(types, backend):
    label = types[2]
    messages = [label(text="a" * i) for i in range(50)]

    async def main():
        received = []
        done = asyncio.Event()

        async def handle(reader, writer):
            processor = Processor([label], backend=backend)
            async for message in framing.read_messages(reader, processor):
                received.append(message)
            writer.close()
            done.set()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        sender = Processor([label])
        for message in messages[:25]:
            await framing.write_message(writer, message, sender)
        for piece in tiny_pieces(sender.serializer.serialize_many(messages[25:])):
            writer.write(piece)
            await writer.drain()
        writer.close()
        await writer.wait_closed()
        await asyncio.wait_for(done.wait(), 10)
        server.close()
        await server.wait_closed()
        return received

    assert asyncio.run(main()) == messages


def test_asyncio_eof_inside_frame(types, backend):
    point = types[1]

    async def main():
        reader = asyncio.StreamReader()
        reader.feed_data(Processor([point]).serializer.serialize(point(x=1))[:-1])
        reader.feed_eof()
        return [m async for m in framing.read_messages(reader, Processor([point],
                                                                         backend=backend))]

    with pytest.raises(TruncatedStream, match="the stream ended inside a frame"):
        asyncio.run(main())
