"""tightbind.tls.connection: fetch_chain and TLSConnection against real TLS servers on
127.0.0.1 (Python's ssl) and ``openssl s_client``."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.pki import Pki, TlsServer

from tightbind import tls


def subjects(chain: tuple[tls.Certificate, ...]) -> list[str | None]:
    return [cert.subject.CN for cert in chain]


def test_trusted_chain(pki: Pki, rsa_server: TlsServer) -> None:
    chain = tls.fetch_chain("127.0.0.1", rsa_server.port, server_hostname="localhost",
                            cafile=pki.files["root.pem"], timeout=5)
    assert chain.verify_error is None and chain.trusted and chain.verify_code == 0
    assert subjects(chain.unverified) == ["localhost", "Test Intermediate CA"]
    assert subjects(chain.verified) == ["localhost", "Test Intermediate CA", "Test Root CA"]
    assert chain.verified[2].pem == pki.files["root.pem"].read_text()
    assert chain.protocol == "TLSv1.3"
    assert chain.cipher.startswith("TLS_")
    assert rsa_server.server_names[-1] == "localhost"  # SNI was sent


def test_chain_equals_openssl_s_client_showcerts(pki: Pki, rsa_server: TlsServer) -> None:
    shown = subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{rsa_server.port}", "-servername",
         "localhost", "-showcerts", "-CAfile", str(pki.files["root.pem"])],
        input=b"", capture_output=True, timeout=30, check=False).stdout
    expected = tls.load_certificates(shown)
    chain = tls.fetch_chain("127.0.0.1", rsa_server.port, server_hostname="localhost",
                            cafile=pki.files["root.pem"], timeout=5)
    assert list(chain.unverified) == expected


def test_ip_address_host_checks_ip_san(pki: Pki, rsa_server: TlsServer) -> None:
    chain = tls.fetch_chain("127.0.0.1", rsa_server.port, cafile=pki.files["root.pem"],
                            timeout=5)
    assert chain.verify_error is None
    assert rsa_server.server_names[-1] is None  # no SNI for an IP literal


def test_untrusted_root(pki: Pki, rsa_server: TlsServer) -> None:
    chain = tls.fetch_chain("127.0.0.1", rsa_server.port, server_hostname="localhost",
                            cafile=pki.files["other.pem"], timeout=5)
    assert chain.verify_error == "unable to get local issuer certificate"
    assert chain.verified == ()
    assert subjects(chain.unverified) == ["localhost", "Test Intermediate CA"]


def test_system_store_does_not_trust_test_root(rsa_server: TlsServer) -> None:
    chain = tls.fetch_chain("127.0.0.1", rsa_server.port, server_hostname="localhost",
                            timeout=5)
    assert chain.verify_error == "unable to get local issuer certificate"
    assert len(chain.unverified) == 2


def test_hostname_mismatch(pki: Pki, rsa_server: TlsServer) -> None:
    chain = tls.fetch_chain("127.0.0.1", rsa_server.port, server_hostname="wrong.example",
                            cafile=pki.files["root.pem"], timeout=5)
    assert chain.verify_error == "hostname mismatch"
    assert chain.verified == ()
    assert len(chain.unverified) == 2


def test_expired_leaf(pki: Pki) -> None:
    with TlsServer(pki.files["expired_chain.pem"], pki.files["ec.key"]) as server:
        chain = tls.fetch_chain("127.0.0.1", server.port, server_hostname="localhost",
                                cafile=pki.files["root.pem"], timeout=5)
    assert chain.verify_error == "certificate has expired"
    assert subjects(chain.unverified) == ["expired.localhost", "Test Intermediate CA"]
    assert chain.unverified[0].has_expired()


def test_missing_intermediate(pki: Pki) -> None:
    with TlsServer(pki.files["ec_leaf.pem"], pki.files["ec.key"]) as server:
        chain = tls.fetch_chain("127.0.0.1", server.port, server_hostname="localhost",
                                cafile=pki.files["root.pem"], timeout=5)
    assert chain.verify_error == "unable to get local issuer certificate"
    assert subjects(chain.unverified) == ["ec.localhost"]
    assert chain.unverified[0].public_key_info["curve"] == "prime256v1"


def test_connection_refused() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    with pytest.raises(tls.TlsConnectError, match="refused") as info:
        tls.fetch_chain("127.0.0.1", port, timeout=5)
    assert isinstance(info.value, ConnectionError)


def test_handshake_timeout() -> None:
    with TlsServer(mode="silent") as server, \
            pytest.raises(tls.TlsTimeout, match="timed out") as info:
        tls.fetch_chain("127.0.0.1", server.port, timeout=0.3)
    assert isinstance(info.value, TimeoutError)


def test_not_a_tls_server() -> None:
    with TlsServer(mode="plain") as server, \
            pytest.raises(tls.HandshakeError, match="wrong version number"):
        tls.fetch_chain("127.0.0.1", server.port, timeout=5)


@pytest.mark.parametrize("bits, refused", [(2048, False), (4096, False), (4160, True),
                                           (10000, True)])
def test_dhe_groups_past_4096_bits_are_refused(pki: Pki, tmp_path, bits: int,  # type: ignore[no-untyped-def]
                                               refused: bool) -> None:
    # A TLS 1.2 server picks the DHE group; a 10000-bit one costs the client half a second
    # of CPU inside one step, past a deadline's slack.  The group need not be prime for
    # the check (it comes before any arithmetic), so a random odd number stands in.
    import base64
    import random
    import ssl
    import threading

    from helpers.der import encode, integer

    p = random.Random(bits).getrandbits(bits) | (1 << (bits - 1)) | 1
    params = tmp_path / "dh.pem"
    params.write_bytes(b"-----BEGIN DH PARAMETERS-----\n" + base64.encodebytes(
        encode([[0x30, [[0x02, integer(p)], [0x02, integer(2)]]]])) +
        b"-----END DH PARAMETERS-----\n")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki.files["leaf_chain.pem"], pki.files["leaf.key"])
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers("DHE-RSA-AES128-GCM-SHA256")
    context.load_dh_params(str(params))
    with socket.create_server(("127.0.0.1", 0)) as listener:
        def serve() -> None:
            conn, _ = listener.accept()
            conn.settimeout(10)
            try:
                context.wrap_socket(conn, server_side=True).close()
            except (OSError, ssl.SSLError):
                conn.close()

        thread = threading.Thread(target=serve)
        thread.start()
        try:
            if refused:
                with pytest.raises(tls.HandshakeError, match="dh key too small"):
                    tls.fetch_chain("127.0.0.1", listener.getsockname()[1], timeout=10,
                                    server_hostname="localhost", cafile=pki.files["root.pem"])
            else:
                chain = tls.fetch_chain("127.0.0.1", listener.getsockname()[1], timeout=10,
                                        server_hostname="localhost",
                                        cafile=pki.files["root.pem"])
                assert chain.cipher == "DHE-RSA-AES128-GCM-SHA256" and chain.trusted
        finally:
            thread.join(10)


def test_argument_errors(pki: Pki) -> None:
    with pytest.raises(ValueError):
        tls.fetch_chain("127.0.0.1", 0)
    with pytest.raises(ValueError, match="NUL"):
        tls.fetch_chain("127.0.0.1", 1, server_hostname="a\0b")
    with pytest.raises(tls.TlsConnectError):
        tls.fetch_chain("no-such-host.invalid", 443, timeout=2)


def test_bad_cafile(pki: Pki, rsa_server: TlsServer, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(tls.CaLocationError):
        tls.fetch_chain("127.0.0.1", rsa_server.port, cafile=tmp_path / "nope.pem", timeout=5)


# ------------------------------------------------------------------ TLSConnection


def connect(server: TlsServer, timeout: float = 5) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=timeout)


def test_connection_echo_and_peer_chain(pki: Pki, rsa_server: TlsServer) -> None:
    payload = bytes(range(256)) * 1000
    with tls.TLSConnection(connect(rsa_server), "localhost",
                           cafile=pki.files["root.pem"]) as conn:
        conn.sendall(payload)
        received = bytearray()
        for _ in range(1000):
            if len(received) >= len(payload):
                break
            received += conn.recv(65536)
        assert bytes(received) == payload
        assert conn.getpeercert()["subject"][2] == (("commonName", "localhost"),)
        assert conn.getpeercert(binary_form=True) == \
            pki.openssl("x509", "-in", "leaf.pem", "-outform", "DER")
        assert len(conn.getpeercertchain()) == 3
        assert len(conn.getpeercertchain(validate=False)) == 2
        assert conn.getpeercertchain(binary_form=True)[1] == \
            tls.load_certificate(tls.FILETYPE_PEM, pki.files["inter.pem"].read_bytes()).der
        assert conn.version() == "TLSv1.3"
        assert conn.cipher()[1] == "TLSv1.3"
        assert conn.verify_error is None
        buffer = bytearray(10)
        conn.sendall(b"0123456789")
        assert conn.recv_into(buffer) > 0


def test_connection_reads_like_a_socket_for_framing(pki: Pki) -> None:
    # framing's helpers call only recv(n) and sendall(data): b"" means end of stream.
    with TlsServer(pki.files["leaf_chain.pem"], pki.files["leaf.key"], mode="greet") as server, \
            tls.TLSConnection(connect(server), "localhost", cafile=pki.files["root.pem"]) as conn:
        chunks = [conn.recv(2), conn.recv(100), conn.recv(100), conn.recv(100)]
    assert b"".join(chunks) == b"hello"
    assert chunks[-1] == b""


def test_ragged_eof_can_be_an_error(pki: Pki) -> None:
    with TlsServer(pki.files["leaf_chain.pem"], pki.files["leaf.key"], mode="greet") as server, \
            tls.TLSConnection(connect(server), "localhost", cafile=pki.files["root.pem"],
                              suppress_ragged_eofs=False) as conn:
        assert conn.recv(5) == b"hello"
        with pytest.raises(tls.TlsConnectError, match="close_notify"):
            conn.recv(5)


def test_connection_verify_failure_raises_with_chain(pki: Pki, rsa_server: TlsServer) -> None:
    with pytest.raises(tls.HostnameMismatch) as info:
        tls.TLSConnection(connect(rsa_server), "wrong.example", cafile=pki.files["root.pem"])
    assert info.value.reason == "hostname mismatch"
    assert subjects(info.value.chain) == ["localhost", "Test Intermediate CA"]
    with pytest.raises(tls.CertificateVerifyError, match="unable to get local issuer"):
        tls.TLSConnection(connect(rsa_server), "localhost", cafile=pki.files["other.pem"])


def test_connection_recv_timeout(pki: Pki, rsa_server: TlsServer) -> None:
    with tls.TLSConnection(connect(rsa_server, timeout=0.2), "localhost",
                           cafile=pki.files["root.pem"]) as conn:
        with pytest.raises(tls.TlsTimeout):
            conn.recv(10)  # the echo server has nothing to say
        conn.settimeout(5)
        assert conn.gettimeout() == 5
        conn.sendall(b"ping")
        assert conn.recv(10) == b"ping"


def test_connection_after_close(pki: Pki, rsa_server: TlsServer) -> None:
    conn = tls.TLSConnection(connect(rsa_server), "localhost", cafile=pki.files["root.pem"])
    conn.close()
    conn.close()
    with pytest.raises(ValueError, match="closed"):
        conn.recv(1)
    with pytest.raises(ValueError, match="closed"):
        conn.sendall(b"x")


def test_capath_trust(pki: Pki, rsa_server: TlsServer, tmp_path) -> None:  # type: ignore[no-untyped-def]
    capath = tmp_path / "certs"
    capath.mkdir()
    (capath / "root.pem").write_bytes(pki.files["root.pem"].read_bytes())
    subprocess.run(["openssl", "rehash", str(capath)], check=True, capture_output=True)
    chain = tls.fetch_chain("127.0.0.1", rsa_server.port, server_hostname="localhost",
                            capath=capath, timeout=5)
    assert chain.verify_error is None and len(chain.verified) == 3


def test_trust_follows_a_changed_cafile(pki: Pki, rsa_server: TlsServer, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Contexts are shared between calls; a rewritten cafile must not keep the old trust.
    cafile = tmp_path / "trust.pem"
    cafile.write_bytes(pki.files["root.pem"].read_bytes())
    fetch = lambda: tls.fetch_chain("127.0.0.1", rsa_server.port,
                                    server_hostname="localhost", cafile=cafile, timeout=5)
    assert fetch().trusted and fetch().trusted
    cafile.write_bytes(pki.files["other.pem"].read_bytes() + b"\n")
    assert fetch().verify_error == "unable to get local issuer certificate"


def test_failed_handshake_closes_the_socket(pki: Pki, rsa_server: TlsServer) -> None:
    sock = connect(rsa_server)
    with pytest.raises(tls.CertificateVerifyError):
        tls.TLSConnection(sock, "localhost", cafile=pki.files["other.pem"])
    assert sock.fileno() == -1
    with TlsServer(mode="silent") as server:
        sock = connect(server, timeout=0.2)
        with pytest.raises(tls.TlsTimeout):
            tls.TLSConnection(sock, "localhost")
        assert sock.fileno() == -1


# Every kind of nonsense timeout, refused with a sentence by every call that takes one.
NONSENSE_TIMEOUTS = [(-1, ValueError), (-0.001, ValueError), (float("nan"), ValueError),
                     (0, ValueError), (0.0, ValueError), (float("inf"), ValueError),
                     (-float("inf"), ValueError), (1e300, ValueError), (10**400, ValueError),
                     (366 * 24 * 3600 + 1, ValueError), ("5", TypeError), (True, TypeError),
                     (object(), TypeError)]


@pytest.mark.parametrize("timeout, error", NONSENSE_TIMEOUTS)
def test_timeouts_are_checked(rsa_server: TlsServer, timeout: object,
                              error: type[Exception]) -> None:
    with pytest.raises(error, match="timeout"):
        tls.fetch_chain("127.0.0.1", rsa_server.port, timeout=timeout)  # type: ignore[arg-type]
    with pytest.raises(error, match="timeout"):
        tls.diagnose("127.0.0.1", rsa_server.port, timeout=timeout)  # type: ignore[arg-type]
    with connect(rsa_server) as sock, pytest.raises(error, match="timeout"):
        tls.TLSConnection(sock, "localhost", timeout=timeout)
    with connect(rsa_server) as sock:
        conn = tls.TLSConnection(sock, "localhost", verify=False, timeout=5)
        with conn, pytest.raises(error, match="timeout"):
            conn.settimeout(timeout)  # type: ignore[arg-type]
        assert conn.gettimeout() is None or conn.gettimeout() == 5


def test_a_non_blocking_socket_is_refused(rsa_server: TlsServer) -> None:
    with connect(rsa_server) as sock:
        sock.setblocking(False)
        with pytest.raises(ValueError, match="non-blocking"):
            tls.TLSConnection(sock, "localhost")


def test_none_waits_without_a_limit(pki: Pki, rsa_server: TlsServer) -> None:
    with tls.TLSConnection(connect(rsa_server), "localhost", cafile=pki.files["root.pem"],
                           timeout=None) as conn:
        assert conn.gettimeout() is None
        conn.sendall(b"ping")
        assert conn.recv(4) == b"ping"


def test_stapled_ocsp_response(aia_pki) -> None:  # type: ignore[no-untyped-def]
    from helpers.revocation import StapleServer

    staple = aia_pki.staples["good"]
    root = aia_pki.pki.files["root.pem"]
    with StapleServer(aia_pki.pki, "rev_good", staple) as server:
        asked = tls.fetch_chain("127.0.0.1", server.port, server_hostname="localhost",
                                cafile=root, request_ocsp=True)
        not_asked = tls.fetch_chain("127.0.0.1", server.port, server_hostname="localhost",
                                    cafile=root)
    assert asked.stapled_ocsp == staple.read_bytes()
    assert not_asked.stapled_ocsp is None


@pytest.fixture(scope="module")
def other_host_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    """``openssl s_server`` on 127.0.0.1 whose self-signed certificate names only
    other.example; yields its port and the certificate (to trust)."""
    folder = tmp_path_factory.mktemp("other-host")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", "key.pem", "-out",
                    "cert.pem", "-days", "2", "-subj", "/CN=other.example", "-addext",
                    "subjectAltName=DNS:other.example"], cwd=folder, check=True,
                   capture_output=True, timeout=60)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert",
                               "cert.pem", "-key", "key.pem", "-quiet"], cwd=folder,
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, \
                    "openssl s_server did not start"
                time.sleep(0.05)
        yield port, folder / "cert.pem"
    finally:
        server.kill()
        server.wait(10)


def test_verifying_without_a_name_is_refused(other_host_server: tuple[int, Path]) -> None:
    port, cert = other_host_server
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    with sock, pytest.raises(ValueError, match="check_hostname requires server_hostname"):
        tls.TLSConnection(sock, cafile=cert)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock, \
            pytest.raises(ValueError, match="check_hostname requires server_hostname"):
        tls.TLSConnection(sock, "", cafile=cert)
    # The name the caller expects is checked: the certificate names another host.
    with pytest.raises(tls.HostnameMismatch):
        tls.TLSConnection(socket.create_connection(("127.0.0.1", port), timeout=5),
                          "localhost", cafile=cert)
    # Said explicitly, the chain alone is verified; and the name it does carry passes.
    for name, check in ((None, False), ("other.example", True)):
        with tls.TLSConnection(socket.create_connection(("127.0.0.1", port), timeout=5),
                               name, cafile=cert, check_hostname=check) as conn:
            assert conn.verify_error is None
            assert conn.getpeercertchain()[0].subject_alt_names == (("DNS", "other.example"),)
    # Without verification no name is needed (nothing is checked; verify_error says so).
    with tls.TLSConnection(socket.create_connection(("127.0.0.1", port), timeout=5),
                           verify=False) as conn:
        assert conn.verify_error is not None  # the system store does not trust it
