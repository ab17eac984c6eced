"""The loopback servers of tests/helpers outlive a moment when every allocation fails.

tests/framing/test_processor.py makes Python's allocator fail process-wide
(``_testcapi.set_nomemory``).  A session fixture's server (``aia_pki``'s caIssuers servers,
``rsa_server``) polls in a thread all along; one that met a MemoryError there used to
die, leaving its port listening with nobody accepting, so every later test fetching
from it timed out (the chain doctor's https tests, in a CI run).  Each server here is
made to meet such failures for a moment, then must still answer.
"""

from __future__ import annotations

import socket
import ssl
import time

import pytest
from helpers.aia import AiaServer
from helpers.peers import HostilePeer
from helpers.pki import TlsServer


def starve(seconds: float) -> None:
    """For ``seconds``, over and over: make the next few allocations of the whole process
    fail, and sleep a little while the server threads take them (as test_processor.py's
    loops do, with this thread waiting instead of allocating)."""
    testcapi = pytest.importorskip("_testcapi")
    fail, restore, nap = testcapi.set_nomemory, testcapi.remove_mem_hooks, time.sleep
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            fail(0, 4)
            nap(0.02)
        finally:
            restore()


def http_get(port: int, path: str, context: ssl.SSLContext | None = None) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        conn = raw if context is None else context.wrap_socket(raw)
        conn.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
        reply = b""
        while chunk := conn.recv(65536):
            reply += chunk
        return reply


def client_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_the_caissuers_server_survives(scheme, pki) -> None:  # type: ignore[no-untyped-def]
    context = None
    if scheme == "https":
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(pki.files["leaf_chain.pem"]), str(pki.files["leaf.key"]))
    server = AiaServer(context)
    try:
        server.files["/x"] = b"still here"
        starve(0.5)
        reply = http_get(server.port, "/x", client_context() if context else None)
        assert reply.startswith(b"HTTP/1.0 200") and reply.endswith(b"still here")
    finally:
        server.close()


def test_the_tls_echo_server_survives(pki) -> None:  # type: ignore[no-untyped-def]
    with TlsServer(pki.files["leaf_chain.pem"], pki.files["leaf.key"]) as server:
        starve(0.5)
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw, \
                client_context().wrap_socket(raw) as conn:
            conn.sendall(b"ping")
            assert conn.recv(16) == b"ping"


def test_the_hostile_peer_survives() -> None:
    with HostilePeer("garbage") as peer:
        starve(0.5)
        with socket.create_connection(("127.0.0.1", peer.port), timeout=5) as conn:
            conn.sendall(b"\x16\x03\x01\x00\x01\x01")  # any first flight will do
            assert conn.recv(16)
