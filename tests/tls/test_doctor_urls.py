"""Every URL a certificate may carry (caIssuers, OCSP, CRL distribution points), of any
length or syntax, becomes a finding when it cannot be used: never an exception out of
``diagnose()``.  The certificates are built with cryptography and served by a loopback
TLS server; no URL in them is reachable."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID
from helpers.aia import AiaPki
from helpers.pki import TlsServer

from tightbind import tls
from tightbind.tls import doctor
from tightbind.tls._http import FetchError, http_fetch

# The kinds of URL that broke the doctor or could: host labels over 63 characters, an
# unclosed IPv6 bracket, names IDNA refuses, ports out of range, control characters,
# spaces, percent signs, huge URLs, other schemes, and no host at all.
HOSTILE_URLS = [
    "http://" + "a" * 64 + ".example/x.der",
    "http://" + "a" * 300 + "/x.der",
    "http://" + ".".join(["abcdefgh"] * 40) + "/x.der",
    "http://[::1/x.der",
    "http://[/x.der",
    "http://]/x.der",
    "http://host..example/x.der",
    "http://.example/x.der",
    "http://xn--/x.der",
    "http://127.0.0.1:99999/x.der",
    "http://127.0.0.1:-1/x.der",
    "http://127.0.0.1:port/x.der",
    "http://exa mple/x.der",
    "http://example/x y.der",
    "http://example/\x01.der",
    "http://example/%zz.der",
    "http://" + "a" * 63 + "/" + "p" * 100_000,
    "ldap://ldap.example/cn=ca?cACertificate",
    "http://",
    "http:",
    "//example/x.der",
    "",
]


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_http_fetch_refuses_with_a_fetch_error(url: str) -> None:
    with pytest.raises(FetchError) as info:
        http_fetch(url, time.monotonic() + 3, doctor.MAX_AIA_BYTES)
    assert len(str(info.value)) < 600  # a huge URL is quoted cut to length


def _leaf(aia_pki: AiaPki, url: str) -> tuple[bytes, bytes]:
    """A leaf issued by the doctor PKI's intermediate whose caIssuers, OCSP and CRL DP
    URLs are all ``url``, as (chain PEM without the intermediate, key PEM)."""
    files = aia_pki.pki.files
    inter = x509.load_pem_x509_certificate(files["inter.pem"].read_bytes())
    inter_key = serialization.load_pem_private_key(files["inter.key"].read_bytes(), None)
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    uri = x509.UniformResourceIdentifier(url)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(inter.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), False)
            .add_extension(x509.AuthorityInformationAccess([
                x509.AccessDescription(AuthorityInformationAccessOID.CA_ISSUERS, uri),
                x509.AccessDescription(AuthorityInformationAccessOID.OCSP, uri)]), False)
            .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
                [uri], None, None, None)]), False)
            .sign(inter_key, hashes.SHA256()))  # type: ignore[arg-type]
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


@pytest.mark.parametrize("url", [u for u in HOSTILE_URLS if u.isascii() and len(u) < 5000
                                 and u.isprintable()][:12])
def test_diagnose_turns_unusable_urls_into_findings(aia_pki: AiaPki, tmp_path, url: str) -> None:  # type: ignore[no-untyped-def]
    chain, key = _leaf(aia_pki, url)
    (tmp_path / "chain.pem").write_bytes(chain)  # the intermediate is not sent
    (tmp_path / "key.pem").write_bytes(key)
    with TlsServer(tmp_path / "chain.pem", tmp_path / "key.pem") as server:
        report = tls.diagnose("127.0.0.1", server.port, servername="localhost",
                              cafile=aia_pki.pki.files["root.pem"], timeout=10, ocsp=True,
                              crl=True)
    codes = [f.code for f in report.findings]
    assert codes[:2] == ["incomplete-chain", "aia-fetch-failed"], codes
    assert report.findings[1].severity == "error"
