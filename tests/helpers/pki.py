"""Test PKI for the TLS tests: a root, an intermediate and leaves (RSA and EC), made with
``cryptography``; .p12 files made with the ``openssl`` command; loopback TLS servers made
with Python's ``ssl``.  Everything listens on 127.0.0.1 only and every loop is bounded.
The ``pki`` and ``rsa_server`` fixtures (tests/conftest.py) make them once per session.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

from helpers.serving import serve_until

NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
PASSWORD = "s3cret pässword"


def _name(cn: str, org: str = "tightbind tests") -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "NZ"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
        x509.NameAttribute(NameOID.COMMON_NAME, cn),
    ])


def _pem_cert(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _pem_key(key) -> bytes:  # type: ignore[no-untyped-def]
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _build(subject: x509.Name, issuer: x509.Name, public_key, signing_key, *,  # type: ignore[no-untyped-def]
           ca: bool, not_before: dt.datetime, not_after: dt.datetime,
           extensions: list[x509.ExtensionType] = ()) -> x509.Certificate:
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
               .public_key(public_key).serial_number(x509.random_serial_number())
               .not_valid_before(not_before).not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
    for ext in extensions:
        builder = builder.add_extension(ext, critical=False)
    return builder.sign(signing_key, hashes.SHA256())


@dataclass
class Pki:
    dir: Path
    files: dict[str, Path] = field(default_factory=dict)
    certs: dict[str, x509.Certificate] = field(default_factory=dict)

    def write(self, name: str, data: bytes) -> Path:
        path = self.dir / name
        path.write_bytes(data)
        self.files[name] = path
        return path

    def openssl(self, *args: str, input: bytes | None = None) -> bytes:
        return subprocess.run(["openssl", *args], check=True, capture_output=True,
                              input=input, cwd=self.dir, timeout=60).stdout


def make_pki(directory: Path) -> Pki:
    pki = Pki(directory)
    year = dt.timedelta(days=365)
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root = _build(_name("Test Root CA"), _name("Test Root CA"), root_key.public_key(),
                  root_key, ca=True, not_before=NOW - year, not_after=NOW + 10 * year)
    other_key = ec.generate_private_key(ec.SECP256R1())
    other = _build(_name("Other Root CA"), _name("Other Root CA"), other_key.public_key(),
                   other_key, ca=True, not_before=NOW - year, not_after=NOW + 10 * year)
    inter_key = ec.generate_private_key(ec.SECP384R1())
    inter = _build(_name("Test Intermediate CA"), root.subject, inter_key.public_key(),
                   root_key, ca=True, not_before=NOW - year, not_after=NOW + 5 * year)

    rich_extensions: list[x509.ExtensionType] = [
        x509.SubjectAlternativeName([
            x509.DNSName("localhost"),
            x509.DNSName("leaf.test"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address("2001:db8::1")),
            x509.RFC822Name("ops@leaf.test"),
            x509.UniformResourceIdentifier("https://leaf.test/"),
            x509.RegisteredID(x509.ObjectIdentifier("1.2.3.4.5")),
            x509.DirectoryName(x509.Name([
                x509.RelativeDistinguishedName([
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Dir Org"),
                    x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Dir Unit"),
                ]),
                x509.RelativeDistinguishedName([
                    x509.NameAttribute(NameOID.COMMON_NAME, "dir name")]),
            ])),
            x509.OtherName(x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2.3"), b"\x0c\x03abc"),
        ]),
        x509.AuthorityInformationAccess([
            x509.AccessDescription(AuthorityInformationAccessOID.OCSP,
                                   x509.UniformResourceIdentifier("http://ocsp.test/")),
            x509.AccessDescription(AuthorityInformationAccessOID.CA_ISSUERS,
                                   x509.UniformResourceIdentifier("http://ca.test/i.der")),
            x509.AccessDescription(AuthorityInformationAccessOID.OCSP,
                                   x509.UniformResourceIdentifier("http://ocsp2.test/")),
        ]),
        x509.CRLDistributionPoints([
            x509.DistributionPoint([x509.UniformResourceIdentifier("http://crl.test/a.crl")],
                                   None, None, None),
            x509.DistributionPoint([x509.UniformResourceIdentifier("http://crl.test/b.crl"),
                                    x509.DNSName("not-a-uri.test")], None, None, None),
        ]),
    ]
    leaf_subject = x509.Name([
        x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COUNTRY_NAME, "NZ")]),
        x509.RelativeDistinguishedName([
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "tightbind tests"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Ünïcode unit",
                               _type=_ASN1Type.BMPString),
        ]),
        x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]),
        x509.RelativeDistinguishedName([
            x509.NameAttribute(x509.ObjectIdentifier("1.2.3.4.5.6.7"), "custom oid")]),
    ])
    leaf_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    leaf = _build(leaf_subject, inter.subject, leaf_key.public_key(), inter_key, ca=False,
                  not_before=NOW - dt.timedelta(days=1), not_after=NOW + year,
                  extensions=rich_extensions)
    simple_san = [x509.SubjectAlternativeName([
        x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])]
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_leaf = _build(_name("ec.localhost"), inter.subject, ec_key.public_key(), inter_key,
                     ca=False, not_before=NOW - dt.timedelta(days=1), not_after=NOW + year,
                     extensions=simple_san)
    expired = _build(_name("expired.localhost"), inter.subject, ec_key.public_key(),
                     inter_key, ca=False, not_before=NOW - 2 * year,
                     not_after=NOW - dt.timedelta(days=2), extensions=simple_san)

    for name, cert in (("root", root), ("other", other), ("inter", inter), ("leaf", leaf),
                       ("ec_leaf", ec_leaf), ("expired", expired)):
        pki.certs[name] = cert
        pki.write(f"{name}.pem", _pem_cert(cert))
    pki.write("leaf.key", _pem_key(leaf_key))
    pki.write("ec.key", _pem_key(ec_key))
    pki.write("inter.key", _pem_key(inter_key))
    pki.write("leaf_chain.pem", _pem_cert(leaf) + _pem_cert(inter))
    pki.write("ec_chain.pem", _pem_cert(ec_leaf) + _pem_cert(inter))
    pki.write("expired_chain.pem", _pem_cert(expired) + _pem_cert(inter))
    pki.write("cas.pem", _pem_cert(inter) + _pem_cert(root))

    pw = f"pass:{PASSWORD}"
    common = ["pkcs12", "-export", "-passout"]
    pki.openssl(*common, pw, "-in", "leaf.pem", "-inkey", "leaf.key", "-certfile", "cas.pem",
                "-name", "leaf friendly", "-caname", "inter friendly", "-caname",
                "root friendly", "-out", "aes.p12")
    pki.openssl(*common, pw, "-legacy", "-in", "leaf.pem", "-inkey", "leaf.key", "-certfile",
                "cas.pem", "-name", "legacy leaf", "-out", "legacy.p12")
    pki.openssl(*common, "pass:", "-in", "ec_leaf.pem", "-inkey", "ec.key", "-certfile",
                "inter.pem", "-out", "empty.p12")
    pki.openssl(*common, pw, "-nokeys", "-in", "leaf.pem", "-certfile", "cas.pem",
                "-out", "nokey.p12")
    pki.openssl(*common, pw, "-nomac", "-in", "ec_leaf.pem", "-inkey", "ec.key",
                "-out", "nomac.p12")
    pki.openssl(*common, pw, "-in", "ec_leaf.pem", "-inkey", "ec.key", "-keypbe", "NONE",
                "-certpbe", "NONE", "-out", "plain.p12")
    for name in ("aes", "legacy", "empty", "nokey", "nomac", "plain"):
        pki.files[f"{name}.p12"] = directory / f"{name}.p12"
    return pki


class TlsServer:
    """A loopback server on 127.0.0.1, run in a thread, one connection at a time.

    mode "echo": TLS, echoes what it reads until EOF; "greet": TLS, sends b"hello" and
    closes without close_notify; "silent": accepts TCP and says nothing; "plain": answers
    in clear text.  ``ciphers`` (OpenSSL's cipher string, e.g. "DEFAULT:@SECLEVEL=0") is
    set before the chain is loaded, so a weak certificate can be served.
    """

    def __init__(self, chain: Path | None = None, key: Path | None = None,
                 mode: str = "echo", ciphers: str | None = None) -> None:
        self.mode = mode
        self.server_names: list[str | None] = []
        self.context = None
        if mode in ("echo", "greet"):
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            if ciphers is not None:
                context.set_ciphers(ciphers)
            context.load_cert_chain(str(chain), str(key))
            context.sni_callback = self._sni
            self.context = context
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self._stop = threading.Event()
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _sni(self, sslobj, name, context):  # type: ignore[no-untyped-def]
        self.server_names.append(name)

    def _serve(self) -> None:
        serve_until(self._stop, self._serve_one)

    def _serve_one(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except (TimeoutError, OSError):
            return
        conn.settimeout(5)
        try:
            self._handle(conn)
        except (OSError, ssl.SSLError):
            conn.close()

    def _handle(self, conn: socket.socket) -> None:
        if self.mode == "silent":
            self._held.append(conn)
            return
        if self.mode == "plain":
            conn.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\nnot TLS\r\n")
            conn.close()
            return
        assert self.context is not None
        tls = self.context.wrap_socket(conn, server_side=True)
        if self.mode == "greet":
            tls.sendall(b"hello")
            tls.close()
            return
        for _ in range(10_000):
            data = tls.recv(65536)
            if not data:
                break
            tls.sendall(data)
        tls.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.listener.close()
        for conn in self._held:
            conn.close()

    def __enter__(self) -> TlsServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

