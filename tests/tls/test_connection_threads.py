"""TLSConnection shared by threads, as a full-duplex socket is: one thread writes while
another reads, and a third closes.  Every C call on the SSL object is serialised by the
connection's lock (cffi drops the GIL around each call, and free-threaded CPython has no
GIL at all), but never while a thread waits on the socket, so neither side stalls the
other."""

from __future__ import annotations

import socket
import threading

from helpers.pki import Pki, TlsServer

from tightbind import tls

PAYLOAD = bytes(range(251)) * 16_000          # 4 MB: far more than the socket buffers


def test_a_reader_and_a_writer_thread_share_one_connection(pki: Pki,
                                                            rsa_server: TlsServer) -> None:
    sock = socket.create_connection(("127.0.0.1", rsa_server.port), timeout=30)
    with tls.TLSConnection(sock, "localhost", cafile=pki.files["root.pem"]) as conn:
        received = bytearray()
        failures: list[BaseException] = []

        def read() -> None:
            try:
                while len(received) < len(PAYLOAD):
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    received.extend(chunk)
            except BaseException as exc:  # reported by the main thread
                failures.append(exc)

        # The echo server stops reading once its replies fill the socket, so a writer
        # holding the lock while it waits would never finish: the reader must run.
        reader = threading.Thread(target=read)
        reader.start()
        for start in range(0, len(PAYLOAD), 100_000):
            conn.sendall(PAYLOAD[start:start + 100_000])
        reader.join(60)
        assert not reader.is_alive(), f"read {len(received)} of {len(PAYLOAD)} bytes"
        assert not failures, failures
        assert bytes(received) == PAYLOAD


def test_close_from_another_thread_while_one_reads(pki: Pki, rsa_server: TlsServer) -> None:
    sock = socket.create_connection(("127.0.0.1", rsa_server.port), timeout=30)
    conn = tls.TLSConnection(sock, "localhost", cafile=pki.files["root.pem"])
    outcome: list[object] = []
    started = threading.Event()

    def read() -> None:
        started.set()
        try:
            outcome.append(conn.recv(100))        # the echo server sends nothing first
        except (ValueError, OSError, tls.TlsError) as exc:
            outcome.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    started.wait(10)
    conn.close()
    reader.join(30)
    assert not reader.is_alive()
    # The reader ends with "I/O on a closed TLSConnection" or the closed socket's
    # error, never a crash in freed TLS state.
    assert len(outcome) == 1 and not isinstance(outcome[0], bytes | bytearray), outcome
    conn.close()                                  # twice is fine
