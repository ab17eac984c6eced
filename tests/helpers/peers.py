"""Hostile TLS peers on 127.0.0.1 for the deadline tests (tests/tls/test_hostile.py).

A :class:`HostilePeer` accepts connections in a thread and misbehaves in one way, either
in place of the server's first flight (``after_handshake=False``: the client is still
handshaking) or after completing a real TLS 1.3 handshake (``after_handshake=True``:
the client is reading or writing).  The handshake is Python's ``ssl`` on memory BIOs,
so the peer decides byte by byte what reaches the socket.

Behaviours before the handshake (:data:`BEFORE`):
    ``stall``           reads the ClientHello, then says nothing
    ``trickle``         the real server flight, one byte per second
    ``empty-records``   endless empty handshake records (``16 03 03 00 00``)
    ``hello-requests``  endless HelloRequest messages, which a handshaking client skips
    ``garbage``         endless random bytes
After the handshake (:data:`AFTER`):
    ``stall``           reads nothing and sends nothing (a writer's buffers fill up)
    ``trickle``         an application-data record, one byte per second; reads nothing
    ``tickets``         a flood of TLS 1.3 NewSessionTicket messages (valid records the
                        client reads and skips), made before :attr:`ready` is set
    ``data``            endless application data; reads nothing
    ``garbage``         endless random bytes

Every loop ends when the client goes away or :meth:`close` is called.
"""

from __future__ import annotations

import os
import socket
import ssl
import threading
import time
from pathlib import Path

from helpers.serving import serve_until

BEFORE = ("stall", "trickle", "empty-records", "hello-requests", "garbage")
AFTER = ("stall", "trickle", "tickets", "data", "garbage")

TRICKLE_INTERVAL = 1.0
_HELLO_REQUEST = bytes.fromhex("1603030004" "00000000")  # a record holding HelloRequest
_EMPTY_RECORD = bytes.fromhex("1603030000")


def first_flight(context: ssl.SSLContext, hello: bytes) -> bytes:
    """What a server made with ``context`` answers to the ClientHello ``hello``."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_side=True)
    incoming.write(hello)
    try:
        tls.do_handshake()
    except ssl.SSLError:
        pass  # WantRead after the flight, or a ClientHello it refused
    return outgoing.read()


class _LoopbackServer:
    """Accepts connections on 127.0.0.1 in a thread and hands each to ``_handle`` with
    its number; ``close`` (or leaving ``with``) stops it and closes every connection."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._conns: list[socket.socket] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        serve_until(self._stop, self._serve_one)

    def _serve_one(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        self._conns.append(conn)
        conn.settimeout(0.2)
        try:
            self._handle(conn, len(self._conns) - 1)
        except OSError:
            pass

    def _handle(self, conn: socket.socket, index: int) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self._stop.set()
        self.listener.close()
        for conn in self._conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()
        self._thread.join(5)

    def __enter__(self):  # type: ignore[no-untyped-def]
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class HostilePeer(_LoopbackServer):
    """A loopback server that misbehaves (see the module doc); ``port`` to connect to,
    ``ready`` set once it is about to misbehave (for ``tickets``: once the flood is made).
    """

    def __init__(self, behaviour: str, *, after_handshake: bool = False,
                 chain: Path | None = None, key: Path | None = None,
                 tickets: int = 150_000) -> None:
        allowed = AFTER if after_handshake else BEFORE
        if behaviour not in allowed:
            raise ValueError(f"unknown behaviour {behaviour!r}; choose from {allowed}")
        self.behaviour = behaviour
        self.after_handshake = after_handshake
        self.ready = threading.Event()
        self._context = None
        if chain is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(chain), str(key))
            context.num_tickets = tickets if behaviour == "tickets" else 0
            self._context = context
        if (after_handshake or behaviour == "trickle") and self._context is None:
            raise ValueError("this behaviour needs the server's chain and key")
        super().__init__()

    def _send_until_stopped(self, conn: socket.socket, data: bytes) -> None:
        conn.settimeout(None)
        while not self._stop.is_set():
            conn.sendall(data)

    def _trickle(self, conn: socket.socket, data: bytes) -> None:
        for byte in data:
            if self._stop.wait(TRICKLE_INTERVAL):
                return
            conn.sendall(bytes([byte]))

    def _recv(self, conn: socket.socket) -> bytes:
        while not self._stop.is_set():
            try:
                data = conn.recv(65536)
            except TimeoutError:
                continue
            if not data:
                raise ConnectionResetError("the client closed")
            return data
        raise ConnectionAbortedError("stopped")

    def _handshake(self, conn: socket.socket) -> tuple[ssl.SSLObject, ssl.MemoryBIO, bytes]:
        """Complete a server handshake on memory BIOs; return the SSLObject, its
        outgoing BIO and what it wrote after the handshake (tickets), still unsent."""
        assert self._context is not None
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = self._context.wrap_bio(incoming, outgoing, server_side=True)
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                conn.sendall(outgoing.read())
                incoming.write(self._recv(conn))
        return tls, outgoing, outgoing.read()

    def _handle(self, conn: socket.socket, index: int) -> None:
        if not self.after_handshake:
            hello = self._recv(conn)
            self.ready.set()
            if self.behaviour == "stall":
                self._stop.wait()
            elif self.behaviour == "trickle":
                assert self._context is not None
                self._trickle(conn, first_flight(self._context, hello))
            elif self.behaviour == "empty-records":
                self._send_until_stopped(conn, _EMPTY_RECORD * 4096)
            elif self.behaviour == "hello-requests":
                self._send_until_stopped(conn, _HELLO_REQUEST * 4096)
            else:
                self._send_until_stopped(conn, os.urandom(1 << 16))
            return
        tls, outgoing, tail = self._handshake(conn)
        if self.behaviour == "tickets":
            # The tickets first (the client must read them before any data), then a
            # record of data the client would return once it got through them.
            tls.write(b"after the tickets")
            flood = tail + outgoing.read()
            self.ready.set()
            conn.settimeout(None)
            conn.sendall(flood)
            self._stop.wait()
            return
        conn.sendall(tail)
        self.ready.set()
        if self.behaviour == "stall":
            self._stop.wait()
        elif self.behaviour == "trickle":
            tls.write(b"x" * 1000)
            self._trickle(conn, outgoing.read())
        elif self.behaviour == "data":
            conn.settimeout(None)
            while not self._stop.is_set():
                tls.write(b"d" * 16384)  # fresh records: each has its own sequence number
                conn.sendall(outgoing.read())
        else:
            self._send_until_stopped(conn, os.urandom(1 << 16))


class FlightPeer(_LoopbackServer):
    """A loopback server that answers each ClientHello with the real server flight,
    edited by ``transform(flight, index)`` (index counts connections from 0), then
    closes: the hostile-input suite's way to feed damaged handshakes to the client.
    ``max_version`` limits the protocol (TLS 1.2 sends the certificates in clear)."""

    def __init__(self, chain: Path, key: Path, transform, *,  # type: ignore[no-untyped-def]
                 max_version: ssl.TLSVersion = ssl.TLSVersion.TLSv1_3) -> None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(chain), str(key))
        context.maximum_version = max_version
        self._context = context
        self._transform = transform
        super().__init__()

    def _handle(self, conn: socket.socket, index: int) -> None:
        with conn:
            conn.settimeout(5)
            conn.sendall(self._transform(first_flight(self._context, conn.recv(65536)), index))
            conn.shutdown(socket.SHUT_WR)
            conn.recv(65536)  # until the client gives up


def wait_ready(peer: HostilePeer, seconds: float = 60.0) -> None:
    """Wait until ``peer`` is about to misbehave (it made its flood, say)."""
    deadline = time.monotonic() + seconds
    while not peer.ready.wait(0.05):
        if time.monotonic() > deadline:
            raise TimeoutError("the hostile peer never got ready")
