"""tightbind.framing's socket helpers over a TLSConnection to a real TLS server."""

from __future__ import annotations

import socket

import pytest
from helpers.pki import TlsServer

from tightbind import framing, tls


@pytest.mark.parametrize("backend", ["native", "pure"])
def test_messages_round_trip_through_a_tls_echo_server(pki, protos, backend):
    label = protos.shapes.Label
    # Small frames, and one past the assembly threshold that arrives over many records.
    messages = [label(text=str(i), blob=bytes(i * 97)) for i in range(40)]
    messages.append(label(text="large", blob=bytes(range(256)) * 1200))
    with TlsServer(pki.files["leaf_chain.pem"], pki.files["leaf.key"]) as server:
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        with tls.TLSConnection(sock, "localhost", cafile=pki.files["root.pem"]) as conn:
            processor = framing.Processor([label], backend=backend)
            for message in messages:
                framing.send_message(conn, message, processor)
            got = []
            for message in framing.iter_messages(conn, processor):
                got.append(message)
                if len(got) == len(messages):
                    break
    assert got == messages
