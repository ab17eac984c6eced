"""tightbind.tls.request and tightbind.tls.signing: certificate requests, SPKI, PKCS#7
and raw signatures, against the openssl command and cryptography as oracles."""

from __future__ import annotations

import base64
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from helpers.pki import Pki

from tightbind import tls


def key(pki: Pki, name: str = "leaf.key") -> tls.PKey:
    return tls.load_privatekey(tls.FILETYPE_PEM, pki.files[name].read_bytes())


def build(pki: Pki) -> tls.CertificateRequest:
    request = tls.CertificateRequest()
    request.subject_set("CN", "example.org")
    request.subject_set("organizationName", "tightbind ✓")
    request.set_public_key(key(pki))
    request.add_extensions([("subjectAltName", False, "DNS:example.org,IP:127.0.0.1")])
    request.add_extensions([("basicConstraints", True, "CA:FALSE")])
    request.sign(key(pki), "sha256")
    return request


def test_built_request_is_what_openssl_reads(pki: Pki) -> None:
    request = build(pki)
    assert request.verify()
    done = subprocess.run(["openssl", "req", "-noout", "-verify", "-text"],
                          input=request.pem.encode(), capture_output=True, timeout=30,
                          check=True)
    text = done.stdout.decode() + done.stderr.decode()
    assert "verify OK" in text or "Certificate request self-signature verify OK" in text
    assert "DNS:example.org, IP Address:127.0.0.1" in text
    parsed = x509.load_der_x509_csr(request.der)
    assert parsed.is_signature_valid
    assert parsed.subject.rfc4514_string() == "O=tightbind ✓,CN=example.org"
    assert [(name, critical) for name, critical, _ in request.extensions] == [
        ("subjectAltName", False), ("basicConstraints", True)]
    assert request.subject_components == [(b"CN", b"example.org"),
                                          (b"O", "tightbind ✓".encode())]
    assert request.version == 0
    text_dump = tls.dump_certificate_request(tls.request.FILETYPE_TEXT, request)
    assert b"Certificate Request:" in text_dump


def test_round_trips_and_cryptography(pki: Pki) -> None:
    request = build(pki)
    for filetype in (tls.FILETYPE_PEM, tls.FILETYPE_ASN1):
        again = tls.load_certificate_request(filetype, request.dump(filetype))
        assert again.der == request.der and again.verify()
    assert tls.CertificateRequest.from_cryptography(request.to_cryptography()).der == request.der


def test_verify_with_another_key_and_tampering(pki: Pki) -> None:
    request = build(pki)
    with pytest.raises(tls.BadSignature, match="does not verify"):
        request.verify(key(pki, "ec.key"))
    der = bytearray(request.der)
    der[-5] ^= 0xFF  # inside the signature
    with pytest.raises(tls.BadSignature):
        tls.load_certificate_request(tls.FILETYPE_ASN1, bytes(der)).verify()


@pytest.mark.parametrize("data", [b"", b"junk", b"\x30\x00", b"-----BEGIN CERTIFICATE "
                                  b"REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"])
def test_load_refuses_what_is_not_a_request(data: bytes) -> None:
    for filetype in (tls.FILETYPE_PEM, tls.FILETYPE_ASN1):
        with pytest.raises(tls.DecodeError):
            tls.load_certificate_request(filetype, data)
    with pytest.raises(ValueError):
        tls.load_certificate_request(99, data)


def test_bad_arguments_leave_the_request_as_it_was(pki: Pki) -> None:
    request = build(pki)
    before = request.der
    with pytest.raises(tls.InvalidArgument):
        request.add_extensions([("basicConstraints", False, "CA:FALSE"),
                                ("thisIsMadeUp", False, "x")])
    with pytest.raises(tls.InvalidArgument):
        request.subject_set("noSuchAttribute", "x")
    with pytest.raises(tls.InvalidArgument):
        request.subject_set("C", "too long for a country")
    with pytest.raises(tls.InvalidArgument):
        request.sign(key(pki), "no-such-digest")
    with pytest.raises(ValueError, match="only 0"):
        request.set_version(2)
    with pytest.raises(TypeError):
        request.set_version("0")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        request.set_public_key("key")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="only has its public part"):
        request.sign(request.public_key())
    with pytest.raises(ValueError):
        request.dump(7)
    with pytest.raises(TypeError):
        tls.dump_certificate_request(tls.FILETYPE_PEM, object())  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        tls.CertificateRequest.from_cryptography(object())
    assert request.der == before
    with pytest.raises(tls.InvalidArgument):
        tls.CertificateRequest().public_key()


def test_spki_against_openssl(pki: Pki) -> None:
    spki = tls.SignedPublicKey()
    spki.set_public_key(key(pki))
    spki.sign(key(pki), "sha256")
    text = spki.b64_encode()
    done = subprocess.run(["openssl", "spkac", "-verify", "-in", "/dev/stdin"],
                          input=b"SPKAC=" + text + b"\n", capture_output=True, timeout=30,
                          check=False)
    assert b"Signature OK" in done.stdout + done.stderr
    again = tls.SignedPublicKey(text)
    assert again.verify(key(pki)) and again.b64_encode() == text
    with pytest.raises(tls.BadSignature):
        again.verify(key(pki, "ec.key"))
    with pytest.raises(tls.DecodeError, match="SignedPublicKeyAndChallenge"):
        tls.SignedPublicKey(base64.b64encode(b"not one"))
    with pytest.raises(tls.InvalidArgument):
        tls.SignedPublicKey().public_key()


@pytest.mark.parametrize("digest", ["sha256", "sha384", "sha1"])
def test_sign_data_against_cryptography(pki: Pki, digest: str) -> None:
    from cryptography.hazmat.primitives import serialization

    data = b"payload \0 with a NUL"
    for name in ("leaf.key", "ec.key"):
        signature = tls.sign_data(key(pki, name), data, digest)
        tls.verify_signature(key(pki, name), signature, data, digest)
        peer = serialization.load_pem_private_key(pki.files[name].read_bytes(), None)
        algorithm = getattr(hashes, digest.upper())()
        if isinstance(peer, ec.EllipticCurvePrivateKey):
            peer.public_key().verify(signature, data, ec.ECDSA(algorithm))
        else:
            peer.public_key().verify(signature, data, padding.PKCS1v15(),  # type: ignore[union-attr, call-arg]
                                     algorithm)
        with pytest.raises(tls.BadSignature):
            tls.verify_signature(key(pki, name), signature, data + b"!", digest)
        with pytest.raises(tls.BadSignature):
            tls.verify_signature(key(pki, name), signature[:-1], data, digest)
    cert = tls.load_certificate(tls.FILETYPE_PEM, pki.files["leaf.pem"].read_bytes())
    tls.verify_signature(cert, tls.sign_data(key(pki), data, digest), data, digest)
    with pytest.raises(tls.InvalidArgument):
        tls.sign_data(key(pki), data, "no-such-digest")
    with pytest.raises(TypeError):
        tls.sign_data("key", data)  # type: ignore[arg-type]


def test_pkcs7_types(pki: Pki) -> None:
    der = pki.openssl("crl2pkcs7", "-nocrl", "-certfile", str(pki.files["leaf_chain.pem"]),
                      "-outform", "DER")
    pem = pki.openssl("crl2pkcs7", "-nocrl", "-certfile", str(pki.files["leaf_chain.pem"]))
    assert tls.load_pkcs7(tls.FILETYPE_ASN1, der).type_name == "pkcs7-signedData"
    assert tls.load_pkcs7(tls.FILETYPE_PEM, pem).type_name == "pkcs7-signedData"
    with pytest.raises(tls.DecodeError):
        tls.load_pkcs7(tls.FILETYPE_ASN1, der[:-10])
    with pytest.raises(ValueError):
        tls.load_pkcs7(3, der)


@pytest.mark.parametrize("b64", [b"", ""])
def test_empty_spki_is_a_decode_error(b64):
    """OpenSSL reads a zero length as "NUL-terminated" and calls strlen(): the shim refuses
    an empty input itself (the TLS fuzzer found the overread through the C entry point)."""
    with pytest.raises(tls.DecodeError):
        tls.SignedPublicKey(b64)
