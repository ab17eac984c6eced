"""tightbind.tls CRLs: build_crl, load_crl, the decode against cryptography's and the
openssl command's reading of the same bytes, every reason, large serials, hostile
inputs."""

from __future__ import annotations

import datetime as dt
import subprocess

import pytest
from cryptography import x509 as cx509
from cryptography.hazmat.primitives.asymmetric import ed25519
from helpers.ca import Ca, make_ca

from tightbind.tls import (
    CRL,
    FILETYPE_ASN1,
    FILETYPE_PEM,
    REASONS,
    Certificate,
    DecodeError,
    PKey,
    RevokedCertificate,
    build_crl,
    crypto,
    load_crl,
)
from tightbind.tls.crl import reason_code

UTC = dt.timezone.utc
WHEN = dt.datetime(2024, 2, 29, 12, 30, 45, tzinfo=UTC)


@pytest.fixture(scope="module")
def ca() -> Ca:
    return make_ca()


def entries() -> list[RevokedCertificate]:
    serials = [1, 0x3AB, 2**159 + 12345, 2**1000 + 1]  # up to far past RFC 5280's 20 octets
    reasons = [None, *REASONS.values()]
    return [RevokedCertificate(serial, WHEN - dt.timedelta(days=i), reasons[i % len(reasons)])
            for i, serial in enumerate(serials + list(range(100, 112)))]


def test_build_and_decode_agree_with_cryptography(ca: Ca) -> None:
    made = entries()
    crl = build_crl(ca.root, ca.root_key, made, last_update=WHEN,
                    next_update=dt.timedelta(days=2), crl_number=2**70)
    assert crl.version == 2 and crl.crl_number == 2**70
    assert crl.last_update == WHEN and crl.next_update == WHEN + dt.timedelta(days=2)
    assert crl.issuer == "/CN=store test root/O=tightbind store tests"
    assert crl.signature_algorithm == "ecdsa-with-SHA256"
    assert sorted(crl.revoked, key=lambda e: e.serial_number) == sorted(
        made, key=lambda e: e.serial_number)
    theirs = cx509.load_der_x509_crl(crl.der)
    assert theirs.is_signature_valid(ca.root.get_pubkey().to_cryptography_key())
    assert theirs.last_update_utc == WHEN
    for entry in made:
        found = theirs.get_revoked_certificate_by_serial_number(entry.serial_number)
        assert found is not None and found.revocation_date_utc == entry.revocation_date
        reason = [ext.value.reason.value for ext in found.extensions
                  if isinstance(ext.value, cx509.CRLReason)]
        assert reason == ([] if entry.reason is None else [entry.reason])
        assert crl.find(entry.serial_number) == entry
    assert crl.find(999999) is None
    # cryptography's CRL back, and the openssl command on the PEM.
    assert CRL.from_cryptography(theirs).revoked == crl.revoked
    assert crl.to_cryptography() == theirs
    text = subprocess.run(["openssl", "crl", "-noout", "-text"], input=crl.pem.encode(),
                          capture_output=True, timeout=60, check=True).stdout.decode()
    assert "Certificate Revocation List" in text and "Key Compromise" in text
    assert crl.to_text().count("Serial Number:") == len(made)
    assert repr(crl) == f"<CRL issuer={crl.issuer!r} entries={len(made)}>"


def test_read_what_openssl_wrote(ca: Ca, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A CRL made by ``openssl ca -gencrl``, read in both formats."""
    (tmp_path / "root.pem").write_bytes(crypto.dump_certificate(FILETYPE_PEM, ca.root))
    (tmp_path / "root.key").write_bytes(crypto.dump_privatekey(FILETYPE_PEM, ca.root_key))
    (tmp_path / "index.txt").write_text(
        "R\t301231000000Z\t240101000000Z,superseded\t3003\tunknown\t/CN=x\n"
        "R\t301231000000Z\t240102000000Z\t3004\tunknown\t/CN=y\n")
    (tmp_path / "crlnumber").write_text("1000\n")
    (tmp_path / "ca.cnf").write_text("[ca]\ndefault_ca=c\n[c]\ndatabase=index.txt\n"
                                     "crlnumber=crlnumber\ndefault_md=sha256\n"
                                     "default_crl_days=7\n")
    subprocess.run(["openssl", "ca", "-config", "ca.cnf", "-gencrl", "-keyfile", "root.key",
                    "-cert", "root.pem", "-out", "crl.pem"], cwd=tmp_path, check=True,
                   capture_output=True, timeout=60)
    pem = (tmp_path / "crl.pem").read_bytes()
    der = subprocess.run(["openssl", "crl", "-outform", "DER"], input=pem, check=True,
                         capture_output=True, timeout=60).stdout
    for crl in (load_crl(FILETYPE_PEM, pem), load_crl(FILETYPE_ASN1, der), CRL.from_pem(pem),
                CRL.from_der(der)):
        assert crl.crl_number == 0x1000 and crl.der == der
        assert {(e.serial_number, e.reason) for e in crl.revoked} == {
            (0x3003, "superseded"), (0x3004, None)}
        assert crl.revoked[0].revocation_date.year == 2024
    assert load_crl(FILETYPE_PEM, pem).dump(FILETYPE_ASN1) == der
    assert load_crl(FILETYPE_ASN1, der).dump() == pem


def test_build_options(ca: Ca) -> None:
    crl = build_crl(ca.inter, ca.inter_key, [RevokedCertificate(5, None, "removeFromCRL")],
                    next_update=None)
    assert crl.next_update is None and crl.crl_number is None
    assert crl.revoked[0].revocation_date == crl.last_update
    assert crl.revoked[0].reason == "removeFromCRL"
    later = build_crl(ca.inter, ca.inter_key, next_update=WHEN, last_update=WHEN)
    assert later.next_update == WHEN and later.revoked == ()
    # Ed25519 signs without a separate digest.
    private = ed25519.Ed25519PrivateKey.generate()
    name = cx509.Name([cx509.NameAttribute(cx509.NameOID.COMMON_NAME, "ed root")])
    issuer = Certificate.from_cryptography(
        cx509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(private.public_key()).serial_number(9).not_valid_before(WHEN)
        .not_valid_after(WHEN + dt.timedelta(days=1)).sign(private, None))
    key = PKey.from_cryptography(private)
    signed = build_crl(issuer, key, [RevokedCertificate(1, WHEN)], digest=None)
    assert signed.signature_algorithm == "ED25519"
    assert cx509.load_der_x509_crl(signed.der).is_signature_valid(
        key.to_cryptography().public_key())


@pytest.mark.parametrize("kwargs, error", [
    ({"revoked": [(1, WHEN, None)]}, TypeError),
    ({"revoked": [RevokedCertificate("1", WHEN)]}, TypeError),  # type: ignore[arg-type]
    ({"revoked": [RevokedCertificate(1, dt.datetime(2020, 1, 1))]}, ValueError),
    ({"revoked": [RevokedCertificate(1, WHEN, "stolen")]}, ValueError),
    ({"revoked": [RevokedCertificate(1, WHEN, 3)]}, TypeError),  # type: ignore[arg-type]
    ({"last_update": "today"}, TypeError),
    ({"next_update": dt.datetime(2020, 1, 1)}, ValueError),
    ({"digest": "no-such-digest"}, ValueError),
    ({"digest": "sha\0256"}, ValueError),
    ({"digest": b"sha256"}, TypeError),
    ({"crl_number": -1}, ValueError),
])
def test_build_refuses(ca: Ca, kwargs: dict, error: type) -> None:
    with pytest.raises(error):
        build_crl(ca.root, ca.root_key, **kwargs)


def test_build_refuses_wrong_objects(ca: Ca) -> None:
    with pytest.raises(TypeError):
        build_crl(ca.root.der, ca.root_key)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        build_crl(ca.root, b"key")  # type: ignore[arg-type]
    with pytest.raises(Exception, match="cannot build the CRL"):
        build_crl(ca.root, crypto.PKey())  # an empty key signs nothing


def test_reason_names() -> None:
    assert REASONS[1] == "keyCompromise" and 7 not in REASONS and len(REASONS) == 10
    assert reason_code("KEYCOMPROMISE") == 1 and reason_code(None) == -1


def test_hostile_inputs(ca: Ca) -> None:
    der = build_crl(ca.root, ca.root_key, entries()).der
    for cut in range(len(der)):  # every truncation point
        with pytest.raises(DecodeError):
            CRL.from_der(der[:cut])
    with pytest.raises(DecodeError):
        CRL.from_der(der + b"\0")  # trailing bytes: not one CRL
    for junk in (b"", b"hello, world", b"-----BEGIN X509 CRL-----\n!!\n-----END X509 CRL-----\n",
                 ca.root.pem.encode()):
        with pytest.raises(DecodeError):
            CRL.from_pem(junk)
    with pytest.raises(ValueError):
        load_crl(3, der)
    with pytest.raises(TypeError):
        load_crl(FILETYPE_ASN1, 5)  # type: ignore[arg-type]
    flipped = bytearray(der)
    flipped[len(flipped) // 2] ^= 0xFF  # may still parse: then it decodes, never crashes
    try:
        assert isinstance(CRL.from_der(bytes(flipped)).revoked, tuple)
    except DecodeError:
        pass


def test_from_cryptography_refuses_other_objects() -> None:
    with pytest.raises(TypeError):
        CRL.from_cryptography(object())
