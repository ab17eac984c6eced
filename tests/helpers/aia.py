"""The chain doctor's test PKI: a root, an intermediate and leaves whose AIA caIssuers
URLs point at a loopback HTTP server (:class:`AiaServer`) that serves the intermediate
as DER and as PKCS#7 (made by ``openssl crl2pkcs7``), and misbehaves on purpose: stalls,
sends 50 MB, sends garbage.  Leaves for each validity finding too.  Everything listens
on 127.0.0.1; the ``aia_pki`` fixture (tests/conftest.py) makes it once per session.
"""

from __future__ import annotations

import datetime as dt
import http.server
import ipaddress
import os
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

from helpers.pki import NOW, Pki
from helpers.serving import serve_until

HUGE_BYTES = 50 * 1024 * 1024
STALL_SECONDS = 20


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Http

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, 65536))
        responder = self.server.responders.get(self.path)
        if responder is not None:
            self.server.requests.append(self.path)
            self._send(responder(body), "application/ocsp-response")
            return
        self.do_GET()

    def _send(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        path = self.path
        self.server.requests.append(path)
        if path == "/stall":
            self.server.stop.wait(STALL_SECONDS)
            return
        if path == "/huge":
            self.send_response(200)
            self.end_headers()
            chunk = b"\0" * 65536
            try:
                for _ in range(HUGE_BYTES // len(chunk)):
                    if self.server.stop.is_set():
                        break
                    self.wfile.write(chunk)
            except OSError:
                pass  # the client stopped reading: what it should do
            return
        if path == "/announced-huge":  # announces 50 MB, then says nothing
            self.send_response(200)
            self.send_header("Content-Length", str(HUGE_BYTES))
            self.end_headers()
            self.wfile.flush()
            self.server.stop.wait(STALL_SECONDS)
            return
        if path == "/headers":  # headers that never end
            self.wfile.write(b"HTTP/1.0 200 OK\r\nX-Pad: " + b"a" * 20000)
            return
        if path == "/keep-open":  # the whole body, then the connection stays open
            body = self.server.files["/inter.der"]
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            self.server.stop.wait(STALL_SECONDS)
            return
        body = self.server.files.get(path)
        if body is None:
            self.send_error(404)
            return
        self._send(body, "application/pkix-cert")

    def log_message(self, *args: object) -> None:
        pass


class _Http(http.server.ThreadingHTTPServer):
    daemon_threads = True
    files: dict[str, bytes]
    requests: list[str]
    stop: threading.Event
    responders: dict[str, Callable[[bytes], bytes]]


class AiaServer:
    """An HTTP server on 127.0.0.1 in a thread: ``files`` maps paths to bodies; /stall
    says nothing for STALL_SECONDS (or until closed), /huge streams 50 MB,
    /announced-huge announces 50 MB and stalls, /headers sends
    20 kB of unending headers, /keep-open the intermediate with its Content-Length and
    then keeps the connection open.  A POST to a path in ``responders`` hands the request
    body to its callable and sends what it returns; other POSTs answer as GETs.  With ``context`` (a
    server ``ssl.SSLContext``) it speaks HTTPS."""

    def __init__(self, context: ssl.SSLContext | None = None) -> None:
        self.httpd = _Http(("127.0.0.1", 0), _Handler)
        self.httpd.files = {}
        self.httpd.requests = []
        self.httpd.stop = threading.Event()
        self.httpd.responders = {}
        self.scheme = "http" if context is None else "https"
        if context is not None:
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        # One request at a time (each then handled in a thread of its own), or 0.1 s
        # without one; closing needs no handshake with the loop (serve_until).
        self.httpd.timeout = 0.1
        self._thread = threading.Thread(target=serve_until,
                                        args=(self.httpd.stop, self.httpd.handle_request),
                                        daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    @property
    def files(self) -> dict[str, bytes]:
        return self.httpd.files

    @property
    def requests(self) -> list[str]:
        return self.httpd.requests

    def close(self) -> None:
        self.httpd.stop.set()
        self._thread.join(5)
        self.httpd.server_close()


@dataclass
class AiaPki:
    pki: Pki
    server: AiaServer
    chains: dict[str, Path] = field(default_factory=dict)  # name -> PEM chain file
    keys: dict[str, Path] = field(default_factory=dict)    # name -> its leaf's key
    https: AiaServer | None = None  # the same files over HTTPS (the "clean" chain's cert)
    staples: dict[str, Path] = field(default_factory=dict)  # name -> DER OCSP response
    serials: dict[str, int] = field(default_factory=dict)   # name -> its leaf's serial
    extra: dict[str, Any] = field(default_factory=dict)

    def close(self) -> None:
        self.server.close()
        if self.https is not None:
            self.https.close()


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "tightbind doctor"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject: str, issuer: x509.Certificate | None, key, signing_key, *,  # type: ignore[no-untyped-def]
          ca: bool = False, aia: str | None = None, before: dt.timedelta = dt.timedelta(days=1),
          after: dt.timedelta = dt.timedelta(days=365), ocsp: str | None = None,
          crl: str | None = None, must_staple: bool = False,
          ocsp_signing: bool = False) -> x509.Certificate:
    builder = (x509.CertificateBuilder().subject_name(_name(subject))
               .issuer_name(issuer.subject if issuer else _name(subject))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(NOW - before).not_valid_after(NOW + after)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                              critical=False))
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()),
            critical=False)
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False)
    access = []
    if aia is not None:
        access.append(x509.AccessDescription(AuthorityInformationAccessOID.CA_ISSUERS,
                                             x509.UniformResourceIdentifier(aia)))
    if ocsp is not None:
        access.append(x509.AccessDescription(AuthorityInformationAccessOID.OCSP,
                                             x509.UniformResourceIdentifier(ocsp)))
    if access:
        builder = builder.add_extension(x509.AuthorityInformationAccess(access),
                                        critical=False)
    if crl is not None:
        builder = builder.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
            [x509.UniformResourceIdentifier(crl)], None, None, None)]), critical=False)
    if must_staple:
        builder = builder.add_extension(
            x509.TLSFeature([x509.TLSFeatureType.status_request]), critical=False)
    if ocsp_signing:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


def _pem(*certs: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def make_aia_pki(directory: Path) -> AiaPki:
    server = AiaServer()
    pki = Pki(directory)
    out = AiaPki(pki, server)
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root = _cert("Doctor Root CA", None, root_key, root_key, ca=True,
                 before=dt.timedelta(days=1000), after=dt.timedelta(days=3650))
    inter_key = ec.generate_private_key(ec.SECP256R1())
    inter = _cert("Doctor Intermediate CA", root, inter_key, root_key, ca=True,
                  before=dt.timedelta(days=730), after=dt.timedelta(days=1825))
    other_key = ec.generate_private_key(ec.SECP256R1())
    other = _cert("Unrelated Root CA", None, other_key, other_key, ca=True)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    pki.write("root.pem", _pem(root))
    pki.write("inter.pem", _pem(inter))
    pki.write("other.pem", _pem(other))
    pki.write("leaf.key", leaf_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    server.files["/inter.der"] = inter.public_bytes(serialization.Encoding.DER)
    server.files["/inter.p7c"] = pki.openssl("crl2pkcs7", "-nocrl", "-certfile", "inter.pem",
                                             "-outform", "DER")
    server.files["/garbage"] = os.urandom(3000)
    server.files["/wrong.der"] = other.public_bytes(serialization.Encoding.DER)

    def leaf(name: str, aia: str | None = None, key=leaf_key, **kwargs) -> x509.Certificate:  # type: ignore[no-untyped-def]
        return _cert(f"{name}.doctor.test", inter, key, inter_key,
                     aia=server.url(aia) if aia else None, **kwargs)

    good = leaf("good", "/inter.der")
    chains: dict[str, tuple[x509.Certificate, ...]] = {
        "clean": (good, inter),
        "incomplete": (good,),
        "incomplete_p7c": (leaf("p7c", "/inter.p7c"),),
        "incomplete_stall": (leaf("stall", "/stall"),),
        "incomplete_huge": (leaf("huge", "/huge"),),
        "incomplete_garbage": (leaf("garbage", "/garbage"),),
        "incomplete_wrong": (leaf("wrong", "/wrong.der"),),
        "incomplete_no_aia": (leaf("noaia"),),
        "incomplete_keep_open": (leaf("keepopen", "/keep-open"),),
        "incomplete_404": (leaf("missing", "/missing.der"),),
        "reordered": (good, root, inter),
        "duplicated": (good, inter, inter),
        "root_included": (good, inter, root),
        "unused": (good, inter, other),
        "expired": (leaf("expired", before=dt.timedelta(days=400),
                         after=-dt.timedelta(days=2)), inter),
        "not_yet_valid": (leaf("future", before=-dt.timedelta(days=2)), inter),
        "expiring": (leaf("soon", after=dt.timedelta(days=10)), inter),
    }
    for name, certs in chains.items():
        out.chains[name] = pki.write(f"{name}_chain.pem", _pem(*certs))
        out.keys[name] = pki.files["leaf.key"]
    # cryptography refuses to sign with SHA-1; the openssl command still does.
    pki.write("inter.key", inter_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    pki.write("sha1.ext", b"subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    pki.openssl("req", "-new", "-key", "leaf.key", "-subj", "/O=tightbind doctor/CN=sha1",
                "-out", "sha1.csr")
    sha1 = pki.openssl("x509", "-req", "-in", "sha1.csr", "-CA", "inter.pem", "-CAkey",
                       "inter.key", "-CAcreateserial", "-sha1", "-days", "365", "-extfile",
                       "sha1.ext")
    out.chains["sha1"] = pki.write("sha1_chain.pem", sha1 + _pem(inter))
    out.keys["sha1"] = pki.files["leaf.key"]
    small_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pki.write("small.key", small_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    out.chains["rsa1024"] = pki.write("rsa1024_chain.pem",
                                      _pem(leaf("small", key=small_key), inter))
    out.keys["rsa1024"] = pki.files["small.key"]
    from helpers.revocation import add_revocation  # the OCSP and CRL part of this PKI

    add_revocation(out, leaf, _cert, _pem, inter=inter, inter_key=inter_key, other=other,
                   other_key=other_key, leaf_key=leaf_key, root=root, root_key=root_key)
    return out
