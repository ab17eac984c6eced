"""Exercise every tightbind.tls path once: run under valgrind by test_tls_native.py.

    python tls_workload.py PKI_DIR PASSWORD [ROUNDS]

PKI_DIR holds the files helpers.pki.make_pki() writes; the TLS server is Python's ssl.
"""

from __future__ import annotations

import socket
import ssl
import sys
import threading
from pathlib import Path

from tightbind import tls


def serve_once(listener: socket.socket, context: ssl.SSLContext) -> None:
    conn, _ = listener.accept()
    conn.settimeout(20)
    with context.wrap_socket(conn, server_side=True) as tls_conn:
        for _ in range(100):
            data = tls_conn.recv(65536)
            if not data:
                break
            tls_conn.sendall(data)


def main() -> None:
    pki, password = Path(sys.argv[1]), sys.argv[2]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    read = lambda name: (pki / name).read_bytes()
    for _ in range(rounds):
        for name in ("aes", "legacy", "empty", "nokey", "plain"):
            p12 = tls.load_pkcs12(read(f"{name}.p12"), None if name == "empty" else password)
            for cert in [c for c in [p12.certificate] if c] + list(p12.ca_certificates):
                cert.to_dict()
                assert cert.public_key_info["bits"] > 0
                cert.fingerprint()
            if p12.private_key is not None:
                text = tls.dump_privatekey(tls.FILETYPE_PEM, p12.private_key, "aes-128-cbc", "pw")
                tls.load_privatekey(tls.FILETYPE_PEM, text, "pw")
                tls.create_pkcs12(p12.private_key, p12.certificate, p12.ca_certificates,
                                  passphrase="x", legacy=name == "legacy")
        for bad, pw in ((b"", "x"), (b"\x30\x03\x02\x01", "x"), (read("aes.p12")[:300], "x"),
                        (read("aes.p12"), "wrong"), (read("nomac.p12"), password)):
            try:
                tls.load_pkcs12(bad, pw)
            except tls.TlsError:
                pass
        tls.load_pkcs12(read("nomac.p12"), password, allow_missing_mac=True)
        for data in (b"", b"junk", read("leaf.key")):
            try:
                tls.load_certificate(tls.FILETYPE_PEM, data)
            except tls.TlsError:
                pass
        try:
            tls.load_privatekey(tls.FILETYPE_PEM, tls.dump_privatekey(
                tls.FILETYPE_PEM, tls.load_privatekey(tls.FILETYPE_PEM, read("ec.key")),
                "aes-128-cbc", "pw"))
        except tls.PasswordRequired:
            pass
        certs = tls.load_certificates(read("leaf_chain.pem"))
        tls.verify_chain(certs[0], certs[1:], cafile=pki / "root.pem", hostname="localhost")
        for kwargs in ({"hostname": "wrong.example"}, {}):
            try:
                tls.verify_chain(certs[0], [] if not kwargs else certs[1:],
                                 cafile=pki / "root.pem", **kwargs)
            except tls.CertificateVerifyError:
                pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(pki / "leaf_chain.pem"), str(pki / "leaf.key"))
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(60)
    port = listener.getsockname()[1]
    for _ in range(2):
        server = threading.Thread(target=serve_once, args=(listener, context), daemon=True)
        server.start()
        with tls.TLSConnection(socket.create_connection(("127.0.0.1", port), timeout=60),
                               "localhost", cafile=pki / "root.pem") as conn:
            conn.sendall(b"x" * 50_000)
            received = 0
            while received < 50_000:
                received += len(conn.recv(65536))
            conn.getpeercertchain()
        server.join(60)
    listener.close()
    print("workload done")


if __name__ == "__main__":
    main()
