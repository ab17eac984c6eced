"""tightbind.tls.x509: certificates against CPython's decoder and the openssl command.

Oracles: CPython's own certificate decoder (``ssl._ssl._test_decode_cert``) gives the dict
``getpeercert()`` returns; ``openssl x509`` prints fingerprints, DER and PEM.
"""

from __future__ import annotations

import ssl
import sys

import pytest
from helpers.pki import Pki

from tightbind import tls

CERT_NAMES = ["root", "other", "inter", "leaf", "ec_leaf", "expired"]


@pytest.mark.parametrize("name", CERT_NAMES)
def test_to_dict_equals_cpython_decoder(pki: Pki, name: str) -> None:
    path = pki.files[f"{name}.pem"]
    cert = tls.load_certificate(tls.FILETYPE_PEM, path.read_bytes())
    assert cert.to_dict() == ssl._ssl._test_decode_cert(str(path))  # type: ignore[attr-defined]


def test_to_dict_of_the_system_store_equals_cpython(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bundle = ssl.get_default_verify_paths().cafile
    if not bundle:
        pytest.skip("no system CA bundle")
    with open(bundle, "rb") as fh:
        certs = tls.load_certificates(fh.read())
    assert len(certs) > 50
    for index, cert in enumerate(certs):
        path = tmp_path / f"{index}.pem"
        path.write_text(cert.pem)
        expected = ssl._ssl._test_decode_cert(str(path))  # type: ignore[attr-defined]
        assert cert.to_dict() == expected, cert
        # The same through the reader parse (load_certificate), key fields included.
        read = tls.load_certificate(tls.FILETYPE_PEM, cert.pem)
        assert (read.to_dict(), read.public_key_info) == (expected, cert.public_key_info), cert


def test_certificate_fields(pki: Pki) -> None:
    leaf = tls.load_certificate(tls.FILETYPE_PEM, pki.files["leaf.pem"].read_bytes())
    ref = pki.certs["leaf"]
    assert leaf.serial_number == ref.serial_number
    assert leaf.version == 3 and leaf.get_version() == 2
    assert leaf.not_before == ref.not_valid_before_utc
    assert leaf.not_after == ref.not_valid_after_utc
    assert leaf.not_after.tzinfo is not None
    assert leaf.subject.CN == "localhost" and leaf.subject.commonName == "localhost"
    assert leaf.subject.OU == "Ünïcode unit"
    assert (b"OU", "Ünïcode unit".encode("utf-16-be")) in leaf.get_subject().get_components()
    assert leaf.issuer.CN == "Test Intermediate CA"
    assert ("DNS", "localhost") in leaf.subject_alt_names
    assert ("IP Address", "2001:DB8:0:0:0:0:0:1") in leaf.subject_alt_names
    assert leaf.ocsp_urls == ("http://ocsp.test/", "http://ocsp2.test/")
    assert leaf.ca_issuers_urls == ("http://ca.test/i.der",)
    assert leaf.crl_distribution_points == ("http://crl.test/a.crl", "http://crl.test/b.crl")
    assert leaf.public_key_info == {"algorithm": "RSA", "bits": 2048, "curve": None}
    assert leaf.signature_algorithm == "ecdsa-with-SHA256"
    inter = tls.load_certificate(tls.FILETYPE_PEM, pki.files["inter.pem"].read_bytes())
    assert inter.public_key_info == {"algorithm": "EC", "bits": 384, "curve": "secp384r1"}
    fingerprint = pki.openssl("x509", "-in", "leaf.pem", "-noout", "-fingerprint", "-sha256")
    assert fingerprint.decode().strip() == f"sha256 Fingerprint={leaf.fingerprint()}"
    sha1 = pki.openssl("x509", "-in", "leaf.pem", "-noout", "-fingerprint", "-sha1")
    assert sha1.decode().strip().endswith(leaf.digest("sha1").decode())
    assert leaf.der == pki.openssl("x509", "-in", "leaf.pem", "-outform", "DER")
    assert leaf.pem == pki.files["leaf.pem"].read_text()
    assert tls.load_certificate(tls.FILETYPE_ASN1, leaf.der) == leaf
    assert not leaf.has_expired()
    assert tls.Certificate.from_pem(pki.files["expired.pem"].read_bytes()).has_expired()
    assert leaf.get_notAfter() == ref.not_valid_after_utc.strftime("%Y%m%d%H%M%SZ").encode()


def test_load_certificates_bundle(pki: Pki) -> None:
    certs = tls.load_certificates(pki.files["leaf_chain.pem"].read_bytes() + b"\n" +
                                  pki.files["cas.pem"].read_bytes())
    assert [c.subject.CN for c in certs] == ["localhost", "Test Intermediate CA",
                                             "Test Intermediate CA", "Test Root CA"]


@pytest.mark.parametrize("data", [b"", b"hello", (b"-----BEGIN CERTIFICATE-----\nAAAA\n"
                                                  b"-----END CERTIFICATE-----\n")])
def test_certificate_decode_errors(data: bytes) -> None:
    with pytest.raises(tls.DecodeError):
        tls.load_certificate(tls.FILETYPE_PEM, data)
    with pytest.raises(tls.DecodeError):
        tls.load_certificate(tls.FILETYPE_ASN1, data)
    with pytest.raises(tls.DecodeError):
        tls.load_certificates(data)


def test_bundle_with_damaged_second_certificate(pki: Pki) -> None:
    good = pki.files["leaf.pem"].read_bytes()
    damaged = pki.files["inter.pem"].read_bytes().replace(b"M", b"!", 3)
    with pytest.raises(tls.DecodeError):
        tls.load_certificates(good + damaged)


# Every entry point that takes PEM as str, with non-ASCII text around, inside and instead
# of the PEM block: text outside a block is skipped (as openssl does), anything else is a
# DecodeError (a TlsError), never a UnicodeEncodeError.
STR_ENTRY_POINTS = {
    "load_certificate": lambda text: tls.load_certificate(tls.FILETYPE_PEM, text),
    "Certificate.from_pem": tls.Certificate.from_pem,
    "load_certificates": tls.load_certificates,
    "load_privatekey": lambda text: tls.load_privatekey(tls.FILETYPE_PEM, text),
}
SCRIPTS = ["Ünïcode", "сертификат", "証明書", "شهادة", "🔐"]


def pem_text(pki: Pki, entry: str) -> str:
    return pki.files["ec.key" if entry == "load_privatekey" else "ec_leaf.pem"].read_text()


@pytest.mark.parametrize("script", SCRIPTS)
@pytest.mark.parametrize("entry", STR_ENTRY_POINTS)
def test_str_pem_with_non_ascii_text_around_it(pki: Pki, entry: str, script: str) -> None:
    text = pem_text(pki, entry)
    expected = STR_ENTRY_POINTS[entry](text)
    assert STR_ENTRY_POINTS[entry](f"subject={script}\n{text}{script}\n") == expected


@pytest.mark.parametrize("script", SCRIPTS)
@pytest.mark.parametrize("entry", STR_ENTRY_POINTS)
def test_str_pem_with_non_ascii_inside_is_a_decode_error(pki: Pki, entry: str,
                                                         script: str) -> None:
    text = pem_text(pki, entry)
    lines = text.splitlines(keepends=True)
    inside = "".join(lines[:2]) + script + "".join(lines[2:])
    header = text.replace("-----BEGIN ", f"-----BEGIN {script}", 1)
    for damaged in (inside, header, script, text + "\udc80", "\udc80" + text):
        with pytest.raises(tls.DecodeError):
            STR_ENTRY_POINTS[entry](damaged)


# ------------------------------------------------------------------ cryptography interop


@pytest.mark.parametrize("name", CERT_NAMES)
def test_to_and_from_cryptography(pki: Pki, name: str) -> None:
    from cryptography import x509 as cx509
    from cryptography.hazmat.primitives.serialization import Encoding

    pem = pki.files[f"{name}.pem"].read_bytes()
    cert = tls.load_certificate(tls.FILETYPE_PEM, pem)
    theirs = cert.to_cryptography()
    assert isinstance(theirs, cx509.Certificate)
    assert theirs == cx509.load_pem_x509_certificate(pem)
    assert theirs.serial_number == cert.serial_number
    assert theirs.not_valid_after_utc == cert.not_after
    back = tls.Certificate.from_cryptography(theirs)
    assert type(back) is tls.Certificate
    assert back.der == theirs.public_bytes(Encoding.DER) == cert.der
    assert back.to_dict() == cert.to_dict()


def test_from_cryptography_refuses_other_objects(pki: Pki) -> None:
    leaf = tls.load_certificate(tls.FILETYPE_PEM, pki.files["leaf.pem"].read_bytes())
    for value in (leaf, leaf.der, leaf.pem, None):
        with pytest.raises(TypeError, match=r"cryptography\.x509\.Certificate"):
            tls.Certificate.from_cryptography(value)


def test_interop_without_cryptography_names_the_package(pki: Pki,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    leaf = tls.load_certificate(tls.FILETYPE_PEM, pki.files["leaf.pem"].read_bytes())
    key = tls.load_privatekey(tls.FILETYPE_PEM, pki.files["leaf.key"].read_bytes())
    monkeypatch.setitem(sys.modules, "cryptography", None)
    for call in (leaf.to_cryptography, lambda: tls.Certificate.from_cryptography(object()),
                 key.to_cryptography, lambda: tls.PKey.from_cryptography(object())):
        with pytest.raises(ModuleNotFoundError, match="needs the cryptography package") as info:
            call()
        assert info.value.name == "cryptography"


# ------------------------------------------------------------------ reader certificates
# load_certificate parses for reading (tb_tls_cert_read: the key left undecoded, several
# times faster on OpenSSL 3.0) and makes the full X509 on first use.


def _self_signed(kind: str) -> bytes:
    import datetime

    from cryptography import x509 as cx509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
    from cryptography.hazmat.primitives.serialization import Encoding

    key = {"rsa": lambda: rsa.generate_private_key(65537, 1024),
           "ec": lambda: ec.generate_private_key(ec.SECP384R1()),
           "dsa": lambda: dsa.generate_private_key(1024),
           "ed25519": ed25519.Ed25519PrivateKey.generate,
           "ed448": ed448.Ed448PrivateKey.generate}[kind]()
    name = cx509.Name([cx509.NameAttribute(cx509.NameOID.COMMON_NAME, f"{kind}.test")])
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    cert = (cx509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(7).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(cx509.SubjectAlternativeName([cx509.DNSName(f"{kind}.test")]),
                           critical=False)
            .sign(key, None if kind.startswith("ed") else hashes.SHA256()))
    return cert.public_bytes(Encoding.PEM)


@pytest.mark.parametrize("kind", ["rsa", "ec", "dsa", "ed25519", "ed448"])
def test_reader_certificate_equals_the_full_one(kind: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    pem = _self_signed(kind)
    path = tmp_path / "cert.pem"
    path.write_bytes(pem)
    read = tls.load_certificate(tls.FILETYPE_PEM, pem)
    assert read._full is None  # the fields and the bytes need no full parse
    fields = (read.to_dict(), read.public_key_info, read.signature_algorithm, read.der,
              read.pem, read.fingerprint())
    assert read._full is None
    assert fields[0] == ssl._ssl._test_decode_cert(str(path))  # type: ignore[attr-defined]
    full = tls.Certificate._adopt(read._ptr, up_ref=True)  # made now, from the same DER
    assert read._full is not None
    assert (full.to_dict(), full.public_key_info, full.signature_algorithm, full.der,
            full.pem, full.fingerprint()) == fields
    assert fields[1]["algorithm"] == {"rsa": "RSA", "ec": "EC", "dsa": "DSA",
                                      "ed25519": "ED25519", "ed448": "ED448"}[kind]
    assert fields[1]["bits"] == {"rsa": 1024, "ec": 384, "dsa": 1024, "ed25519": 256,
                                 "ed448": 456}[kind]
    assert fields[1]["curve"] == ("secp384r1" if kind == "ec" else None)


def test_reader_certificate_serves_every_other_call(pki: Pki) -> None:
    # Verification, PKCS#12 (the key checked against the certificate) and the
    # pyOpenSSL-style calls take the full X509, made on their first use.
    leaf, inter = (tls.load_certificate(tls.FILETYPE_PEM, pki.files[f"{n}.pem"].read_bytes())
                   for n in ("leaf", "inter"))
    key = tls.load_privatekey(tls.FILETYPE_PEM, pki.files["leaf.key"].read_bytes())
    chain = tls.verify_chain(leaf, [inter], cafile=str(pki.files["root.pem"]),
                             hostname="localhost")
    assert chain[0] == leaf
    again = tls.load_pkcs12(tls.create_pkcs12(key, leaf, [inter], "pw"), "pw")
    assert again.certificate == leaf and again.ca_certificates == (inter,)


def test_reader_refuses_what_the_full_parse_refuses(pki: Pki) -> None:
    pem = pki.files["leaf.pem"].read_bytes()
    der = tls.load_certificate(tls.FILETYPE_PEM, pem).der
    for data, filetype in [(pem[:len(pem) // 2], tls.FILETYPE_PEM),
                           (der[:-1], tls.FILETYPE_ASN1), (b"", tls.FILETYPE_ASN1),
                           (pki.files["leaf.key"].read_bytes(), tls.FILETYPE_PEM),
                           (der + b"\0", tls.FILETYPE_PEM)]:
        with pytest.raises(tls.DecodeError):
            tls.load_certificate(filetype, data)


def _signed_with_serial(pki: Pki, serial: int) -> bytes:
    from tightbind.tls import crypto

    key = crypto.load_privatekey(crypto.FILETYPE_PEM, pki.files["leaf.key"].read_bytes())
    cert = crypto.X509()
    cert.set_version(2)
    cert.set_serial_number(serial)
    cert.get_subject().CN = "serial"
    cert.set_issuer(cert.get_subject())
    cert.gmtime_adj_notBefore(0)
    cert.gmtime_adj_notAfter(3600)
    cert.set_pubkey(key)
    cert.sign(key, "sha256")
    return crypto.dump_certificate(crypto.FILETYPE_PEM, cert)


# RFC 5280's 20 octets and far beyond (OpenSSL wraps its hex every 35 octets), the
# smallest, and negative serials (which RFC 5280 forbids and OpenSSL parses).
@pytest.mark.parametrize("serial", [0, 1, 2**159 - 1, 2**160, 2**279, 2**280, 2**1000 + 12345,
                                    2**8000 - 1, -1, -(2**600)])
def test_serials_of_any_size_decode(pki: Pki, serial: int) -> None:
    pem = _signed_with_serial(pki, serial)
    cert = tls.load_certificate(tls.FILETYPE_PEM, pem)
    assert cert.serial_number == serial
    assert repr(cert).endswith(f"serial={serial:#x}>")
    text = pki.openssl("x509", "-noout", "-serial", input=pem).decode()
    assert cert.to_dict()["serialNumber"] == text.strip().removeprefix("serial=").replace(
        "\\\n", "")
