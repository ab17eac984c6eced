"""tightbind.tls.crypto.x509: X509, X509Name, X509Extension and X509Req, with the openssl
command and cryptography as oracles (pyOpenSSL's own tests run in
test_crypto_pyopenssl_suite.py)."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes
from helpers.pki import Pki

from tightbind import tls
from tightbind.tls import crypto
from tightbind.tls.crypto import errors

PEM, DER, TEXT = crypto.FILETYPE_PEM, crypto.FILETYPE_ASN1, crypto.FILETYPE_TEXT


def openssl(*args: str, input: bytes | None = None) -> bytes:
    return subprocess.run(["openssl", *args], input=input, capture_output=True, check=True,
                          timeout=60).stdout


def load(pki: Pki, name: str) -> crypto.X509:
    return crypto.load_certificate(PEM, pki.files[f"{name}.pem"].read_bytes())


@pytest.fixture(scope="module")
def ca_key(pki: Pki) -> crypto.PKey:
    return crypto.load_privatekey(PEM, pki.files["leaf.key"].read_bytes())


def build(key: crypto.PKey, *, serial: int = 2**70 + 5) -> crypto.X509:
    cert = crypto.X509()
    cert.set_version(2)
    cert.set_serial_number(serial)
    subject = cert.get_subject()
    subject.C = "NZ"
    subject.O = "tightbind ☃"
    subject.CN = "built.test"
    cert.set_issuer(subject)
    cert.gmtime_adj_notBefore(-60)
    cert.gmtime_adj_notAfter(86400)
    cert.set_pubkey(key)
    cert.add_extensions([
        crypto.X509Extension(b"basicConstraints", True, b"CA:TRUE"),
        crypto.X509Extension(b"subjectAltName", False, b"DNS:built.test,IP:10.0.0.1"),
        crypto.X509Extension(b"subjectKeyIdentifier", False, b"hash", subject=cert),
    ])
    cert.add_extensions([crypto.X509Extension(b"authorityKeyIdentifier", False,
                                              b"keyid:always", issuer=cert)])
    cert.sign(key, "sha256")
    return cert


def test_a_built_certificate_is_what_openssl_and_cryptography_read(
        ca_key: crypto.PKey, tmp_path: Path) -> None:
    cert = build(ca_key)
    pem = crypto.dump_certificate(PEM, cert)
    path = tmp_path / "built.pem"
    path.write_bytes(pem)
    assert openssl("verify", "-CAfile", str(path), str(path)).strip().endswith(b"OK")
    parsed = cx509.load_pem_x509_certificate(pem)
    assert parsed.serial_number == 2**70 + 5
    assert parsed.subject.rfc4514_string() == "CN=built.test,O=tightbind ☃,C=NZ"
    assert parsed.issuer == parsed.subject
    san = parsed.extensions.get_extension_for_class(cx509.SubjectAlternativeName).value
    assert san.get_values_for_type(cx509.DNSName) == ["built.test"]
    assert parsed.extensions.get_extension_for_class(cx509.BasicConstraints).critical
    ski = parsed.extensions.get_extension_for_class(cx509.SubjectKeyIdentifier).value
    aki = parsed.extensions.get_extension_for_class(cx509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    assert cert.digest("sha256") == parsed.fingerprint(hashes.SHA256()).hex(":").upper().encode()
    assert cert.get_signature_algorithm() == b"sha256WithRSAEncryption"
    # The tightbind Certificate view of the same object.
    assert cert.to_dict()["subjectAltName"] == (("DNS", "built.test"), ("IP Address", "10.0.0.1"))
    assert tls.load_certificate(tls.FILETYPE_PEM, pem).der == cert.der
    assert b"X509v3 Subject Key Identifier" in crypto.dump_certificate(TEXT, cert)


def test_fields_of_a_loaded_certificate_match_the_openssl_command(pki: Pki) -> None:
    cert = load(pki, "leaf")
    path = str(pki.files["leaf.pem"])
    assert f"{cert.subject_name_hash():08x}".encode() == \
        openssl("x509", "-noout", "-subject_hash", "-in", path).strip()
    assert cert.get_subject().hash() == cert.subject_name_hash()
    fingerprint = openssl("x509", "-noout", "-fingerprint", "-sha1", "-in", path)
    assert fingerprint.strip().split(b"=", 1)[1] == cert.digest("sha1")
    serial = openssl("x509", "-noout", "-serial", "-in", path).strip().split(b"=", 1)[1]
    assert cert.get_serial_number() == int(serial, 16)
    reference = pki.certs["leaf"]
    assert cert.get_notAfter() == reference.not_valid_after_utc.strftime("%Y%m%d%H%M%SZ").encode()
    assert cert.get_version() == 2 and not cert.has_expired()
    assert load(pki, "expired").has_expired()
    assert cert.get_issuer().CN == "Test Intermediate CA"
    assert cert.get_pubkey().bits() == 2048 and cert.get_pubkey()._only_public


def test_name_components_keep_multivalued_rdns_and_string_types(pki: Pki) -> None:
    leaf = load(pki, "leaf")
    subject = leaf.get_subject()
    components = subject.get_components()
    assert components[0] == (b"C", b"NZ")
    assert (b"OU", "Ünïcode unit".encode("utf-_16-be")) in components  # BMPString bytes
    assert subject.OU == "Ünïcode unit"
    assert subject.organizationalUnitName == subject.OU
    assert subject.emailAddress is None
    # set_subject copies entry by entry, multi-valued RDN included.
    cert = crypto.X509()
    cert.set_subject(subject)
    assert cert.get_subject().der() == subject.der() == pki.certs["leaf"].subject.public_bytes()
    assert cert.get_subject() == subject and not cert.get_subject() < subject


def test_views_stay_live_and_the_decode_follows(pki: Pki) -> None:
    cert = load(pki, "leaf")
    view = cert.get_subject()
    assert cert.subject.CN == "localhost"  # the tightbind decode, cached
    view.CN = "changed.test"
    assert cert.subject.CN == "changed.test" and cert.get_subject().CN == "changed.test"
    other = crypto.X509Name(view)
    other.CN = "copy.test"
    assert view.CN == "changed.test"
    cert.set_subject(other)
    assert view.CN == "copy.test"  # old views see the new subject (pyOpenSSL broke them)
    cert.set_subject(cert.get_subject())
    cert.set_issuer(cert.get_subject())
    assert cert.get_issuer() == cert.get_subject()
    assert repr(view) == repr(cert.get_subject())


def test_name_errors() -> None:
    name = crypto.X509().get_subject()
    with pytest.raises(AttributeError):
        name.noSuchAttribute = "x"
    with pytest.raises(AttributeError):
        name.Ünïcode = "x"
    with pytest.raises(AttributeError):
        name._private  # noqa: B018
    with pytest.raises(TypeError):
        name.CN = 42
    with pytest.raises(errors.InvalidArgument, match="does not fit") as info:
        name.C = "too long for a country"
    assert isinstance(info.value, crypto.Error) and info.value.args[0]
    assert name.get_components() == []  # a refused value leaves the name as it was
    with pytest.raises(TypeError):
        crypto.X509Name("CN=x")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        hash(name)
    assert name != "CN=x"
    name.CN = "x" * 64
    assert name.CN == "x" * 64


def test_times() -> None:
    cert = crypto.X509()
    assert cert.get_notBefore() is None and cert.get_notAfter() is None
    with pytest.raises(ValueError, match="notAfter"):
        cert.has_expired()
    cert.set_notBefore(b"20040203040506Z")
    cert.set_notAfter(b"20991231235959Z")
    assert (cert.get_notBefore(), cert.get_notAfter()) == (b"20040203040506Z", b"20991231235959Z")
    assert not cert.has_expired()
    with pytest.raises(ValueError, match="Invalid string"):
        cert.set_notAfter(b"tomorrow")
    with pytest.raises(TypeError):
        cert.set_notAfter("20991231235959Z")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        cert.set_notAfter(b"2099\x001231235959Z")
    with pytest.raises(TypeError):
        cert.gmtime_adj_notAfter(1.5)  # type: ignore[arg-type]
    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    cert.gmtime_adj_notAfter(3600)
    when = dt.datetime.strptime(cert.get_notAfter().decode(), "%Y%m%d%H%M%SZ")  # type: ignore[union-attr]
    assert 3590 <= (when.replace(tzinfo=dt.timezone.utc) - before).total_seconds() <= 3700


def test_serials_and_versions() -> None:
    cert = crypto.X509()
    assert cert.get_serial_number() == 0 and cert.get_version() == 0
    for serial in (1, 2**159, 2**600 + 1, -5):  # 2**600: longer than the first buffer
        cert.set_serial_number(serial)
        assert cert.get_serial_number() == serial
    with pytest.raises(TypeError):
        cert.set_serial_number("1")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        cert.set_version("2")  # type: ignore[arg-type]
    assert repr(cert) == "<X509 subject='' serial=-0x5>"


def test_extensions(pki: Pki) -> None:
    leaf = load(pki, "leaf")
    names = [leaf.get_extension(i).get_short_name() for i in range(leaf.get_extension_count())]
    assert names[0] == b"basicConstraints" and b"subjectAltName" in names
    san = leaf.get_extension(names.index(b"subjectAltName"))
    text = str(san)
    assert text.startswith("DNS:localhost, DNS:leaf.test, IP Address:127.0.0.1, ")
    assert "email:ops@leaf.test" in text and "DirName:" in text
    assert not san.get_critical() and san.get_data()[:1] == b"\x30"
    assert repr(san) == "<X509Extension subjectAltName>"
    with pytest.raises(IndexError):
        leaf.get_extension(len(names))
    with pytest.raises(IndexError):
        leaf.get_extension(2**40)
    with pytest.raises(TypeError):
        leaf.get_extension("0")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        crypto.X509().add_extensions(["basicConstraints"])  # type: ignore[list-item]
    crypto.X509().add_extensions([])
    unknown = crypto.X509Extension(b"1.2.3.4", False, b"DER:0500")
    assert unknown.get_short_name() == b"UNDEF" and "prim: NULL" in str(unknown)
    with pytest.raises(errors.InvalidArgument, match="cannot make the"):
        crypto.X509Extension("keyUsage", False, "noSuchUsage")
    with pytest.raises(ValueError):
        crypto.X509Extension(b"nsComment", False, b"nul\x00byte")
    with pytest.raises(TypeError):
        crypto.X509Extension(b"nsComment", False, 42)  # type: ignore[arg-type]
    # A tightbind Certificate is accepted where pyOpenSSL took an X509.
    ski = crypto.X509Extension(b"subjectKeyIdentifier", False, b"hash",
                               subject=tls.load_certificate(tls.FILETYPE_PEM,
                                                            pki.files["root.pem"].read_bytes()))
    assert len(ski.get_data()) == 22


def test_signing_errors(ca_key: crypto.PKey) -> None:
    cert = crypto.X509()
    with pytest.raises(crypto.Error):
        cert.get_pubkey()
    with pytest.raises(ValueError, match="uninitialized"):
        cert.sign(crypto.PKey(), "sha256")
    with pytest.raises(ValueError, match="public part"):
        cert.sign(crypto.load_publickey(DER, crypto.dump_publickey(DER, ca_key)), "sha256")
    with pytest.raises(ValueError, match="No such digest"):
        cert.sign(ca_key, "no-such-digest")
    with pytest.raises(ValueError, match="No such digest"):
        cert.digest("no-such-digest")
    with pytest.raises(TypeError):
        cert.set_pubkey("key")  # type: ignore[arg-type]
    with pytest.raises(crypto.Error):
        cert.set_pubkey(crypto.PKey())  # an empty key


def test_interoperates_with_tightbind_tls(pki: Pki) -> None:
    leaf, inter = load(pki, "leaf"), load(pki, "inter")
    chain = tls.verify_chain(leaf, [inter], cafile=pki.files["root.pem"], hostname="localhost")
    assert [c.subject.CN for c in chain] == ["localhost", "Test Intermediate CA", "Test Root CA"]
    assert tls.dump_certificate(tls.FILETYPE_ASN1, leaf) == crypto.dump_certificate(DER, leaf)
    plain = tls.load_certificate(tls.FILETYPE_PEM, pki.files["root.pem"].read_bytes())
    assert crypto.dump_certificate(PEM, plain) == pki.files["root.pem"].read_bytes()
    assert crypto.X509.from_der(leaf.der).get_subject() == leaf.get_subject()
    assert isinstance(crypto.X509.from_pem(pki.files["root.pem"].read_bytes()), crypto.X509)
    assert crypto.X509.from_cryptography(leaf.to_cryptography()).der == leaf.der
    with pytest.raises(TypeError):
        crypto.X509.from_cryptography(leaf)
    assert leaf == leaf and leaf != load(pki, "leaf")  # identity, as pyOpenSSL


def test_load_and_dump_errors(pki: Pki) -> None:
    with pytest.raises(errors.DecodeError) as info:
        crypto.load_certificate(DER, b"\x30\x03\x02\x01\x00")
    assert all(len(entry) == 3 and entry[1] == "" for entry in info.value.args[0])
    with pytest.raises(ValueError):
        crypto.load_certificate(TEXT, b"")
    with pytest.raises(TypeError):
        crypto.load_certificate(PEM, 42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        crypto.dump_certificate(PEM, object())  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        crypto.dump_certificate(99, load(pki, "root"))


def test_x509req_keeps_a_subject_and_a_key(ca_key: crypto.PKey) -> None:
    req = crypto.X509Req()
    req.get_subject().CN = "request"
    with pytest.raises(errors.InvalidArgument):
        req.get_pubkey()
    req.set_pubkey(ca_key)
    assert req.get_pubkey()._only_public
    assert crypto.dump_publickey(DER, req.get_pubkey()) == crypto.dump_publickey(DER, ca_key)
    req.set_version(0)
    assert req.get_version() == 0
    with pytest.raises(TypeError):
        req.set_pubkey(None)  # type: ignore[arg-type]
    req.sign(ca_key, "sha256")
    assert req.verify(ca_key) and req.get_extensions() == []
    with pytest.raises(TypeError):
        crypto.X509Req.from_cryptography(None)
    cert = crypto.X509()
    cert.set_subject(req.get_subject())
    assert cert.get_subject().CN == "request"


@pytest.mark.parametrize("value", ["\ud800", "ok\udfffok", "\udc80" * 3])
def test_surrogates_in_a_name_value_are_a_clear_error(value: str) -> None:
    name = crypto.X509().get_subject()
    name.CN = "before"
    with pytest.raises(crypto.Error, match="not valid Unicode") as info:
        name.CN = value
    assert isinstance(info.value, ValueError) and type(info.value) is tls.InvalidArgument
    assert name.CN == "before"  # left as it was
    request = tls.CertificateRequest()
    with pytest.raises(tls.InvalidArgument, match="not valid Unicode"):
        request.subject_set("CN", value)
    assert request.subject_components == []
