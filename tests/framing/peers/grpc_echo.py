"""The gRPC side of tests/framing/test_interop.py, run in a child process so that grpcio's
threads never live in the test process (other tests there fail allocations on purpose).

    python grpc_echo.py BODIES OUT

BODIES is a pickled list of message bodies (bytes).  A grpcio server on 127.0.0.1 echoes
raw bodies (generic handlers, no codegen): ``Chat`` (streaming both ways) and ``Echo``
(unary).  A grpcio client sends every body on Chat, then ``one`` on Echo, then
``compressible`` on Echo with gzip, through a relay that records each HTTP/2 DATA frame's
payload by direction and stream.  OUT receives a pickled
dict: ``frames`` {(direction, stream id): [payloads]}, ``received`` (what the server's
handlers got, in order), ``replies``, ``unary_reply``, ``gzip_reply``.
"""

from __future__ import annotations

import collections
import pickle
import socket
import sys
import threading
from concurrent import futures
from pathlib import Path

import grpc

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, PADDED = 0x0, 0x8


class Http2Tap:
    """A relay on 127.0.0.1 in front of an HTTP/2 server that records the payload of
    every DATA frame as it passes, by direction ("request", "response") and stream id.
    Sockets time out after 60 s; the threads end when the connections close."""

    def __init__(self, upstream_port: int) -> None:
        self._upstream_port = upstream_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self.frames: dict[tuple[str, int], list[bytes]] = collections.defaultdict(list)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            server = socket.create_connection(("127.0.0.1", self._upstream_port), timeout=60)
            client.settimeout(60)
            for source, sink, direction in ((client, server, "request"),
                                            (server, client, "response")):
                thread = threading.Thread(target=self._pump, args=(source, sink, direction),
                                          daemon=True)
                thread.start()
                self._threads.append(thread)

    def _pump(self, source: socket.socket, sink: socket.socket, direction: str) -> None:
        pending = bytearray()
        skip = len(PREFACE) if direction == "request" else 0
        try:
            while chunk := source.recv(1 << 16):
                sink.sendall(chunk)
                pending += chunk
                if skip:  # the client's connection preface, not a frame
                    taken = min(skip, len(pending))
                    del pending[:taken]
                    skip -= taken
                while len(pending) >= 9:
                    length = int.from_bytes(pending[:3], "big")
                    if len(pending) < 9 + length:
                        break
                    kind, flags = pending[3], pending[4]
                    stream = int.from_bytes(pending[5:9], "big") & 0x7FFFFFFF
                    payload = bytes(pending[9:9 + length])
                    del pending[:9 + length]
                    if kind == DATA:
                        if flags & PADDED:
                            payload = payload[1:len(payload) - payload[0]]
                        with self._lock:
                            self.frames[(direction, stream)].append(payload)
        except OSError:
            pass
        finally:
            for end in (sink, source):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        self._listener.close()



def main() -> None:
    bodies, one, compressible = pickle.loads(Path(sys.argv[1]).read_bytes())
    received: list[bytes] = []

    def chat(requests, context):
        for body in requests:
            received.append(body)
            yield body

    def echo(body, context):
        received.append(body)
        return body

    handler = grpc.method_handlers_generic_handler("tightbind.interop.Echo", {
        "Chat": grpc.stream_stream_rpc_method_handler(chat),
        "Echo": grpc.unary_unary_rpc_method_handler(echo),
    })
    limits = [("grpc.max_receive_message_length", 8 << 20),
              ("grpc.max_send_message_length", 8 << 20)]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), options=limits)
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    tap = Http2Tap(port)
    try:
        options = [("grpc.enable_http_proxy", 0), *limits]
        with grpc.insecure_channel(f"127.0.0.1:{tap.port}", options=options) as channel:
            replies = list(channel.stream_stream("/tightbind.interop.Echo/Chat")(
                iter(bodies), timeout=120))
            call = channel.unary_unary("/tightbind.interop.Echo/Echo")
            unary_reply = call(one, timeout=30)
            # grpc-core sends a message uncompressed when gzip would not shrink it.
            gzip_reply = call(compressible, timeout=30, compression=grpc.Compression.Gzip)
    finally:
        tap.close()
        server.stop(grace=None).wait(30)
    Path(sys.argv[2]).write_bytes(pickle.dumps({
        "frames": dict(tap.frames), "received": received, "replies": replies,
        "unary_reply": unary_reply, "gzip_reply": gzip_reply}))


if __name__ == "__main__":
    main()
