"""tightbind.tls.revocation: OCSP responses and CRLs made by the openssl command
(``helpers.revocation``), read by one native call each; the request checked by
``openssl ocsp -reqin``; every truncation of a response or CRL is a DecodeError."""

from __future__ import annotations

import re
import subprocess

import pytest
from helpers.aia import AiaPki

from tightbind import tls


def cert(aia_pki: AiaPki, name: str) -> tls.Certificate:
    return tls.load_certificate(tls.FILETYPE_PEM, aia_pki.pki.files[name].read_bytes())


@pytest.fixture(scope="module")
def certs(aia_pki: AiaPki) -> dict[str, tls.Certificate]:
    names = ("rev_good_leaf.pem", "rev_revoked_leaf.pem", "rev_unknown_leaf.pem",
             "rev_must_staple_leaf.pem", "inter.pem", "root.pem", "other.pem")
    return {name.removesuffix(".pem").removesuffix("_leaf"): cert(aia_pki, name)
            for name in names}


def test_good_staple(aia_pki: AiaPki, certs: dict[str, tls.Certificate]) -> None:
    status = tls.check_ocsp_response(aia_pki.staples["good"].read_bytes(), certs["rev_good"],
                                     certs["inter"], cafile=aia_pki.pki.files["root.pem"])
    assert (status.kind, status.status, status.signature, status.response_status) == (
        "ocsp", "good", "ok", "successful")
    assert status.reason is None and status.revocation_time is None
    assert status.entries == 1 and not status.delegated
    assert status.to_dict()["status"] == "good"


def test_revoked_staple(aia_pki: AiaPki, certs: dict[str, tls.Certificate]) -> None:
    status = tls.check_ocsp_response(aia_pki.staples["revoked"].read_bytes(),
                                     certs["rev_revoked"], certs["inter"])
    assert status.status == "revoked" and status.reason == "keyCompromise"
    assert status.revocation_time is not None and status.revocation_time.tzinfo is not None


def test_wrong_issuer_is_no_answer(aia_pki: AiaPki, certs: dict[str, tls.Certificate]) -> None:
    status = tls.check_ocsp_response(aia_pki.staples["good"].read_bytes(), certs["rev_good"],
                                     certs["root"])
    assert status.status == "no-answer" and status.this_update is None


def test_delegated_responder_verified_against_the_store(
        aia_pki: AiaPki, certs: dict[str, tls.Certificate]) -> None:
    data = aia_pki.staples["delegated"].read_bytes()
    trusted = tls.check_ocsp_response(data, certs["rev_good"], certs["inter"],
                                      cafile=aia_pki.pki.files["root.pem"])
    assert trusted.signature == "ok" and trusted.delegated
    untrusted = tls.check_ocsp_response(data, certs["rev_good"], certs["inter"],
                                        cafile=aia_pki.pki.files["other.pem"])
    assert untrusted.signature == "untrusted" and untrusted.delegated
    assert untrusted.signature_error is not None and "issuer" in untrusted.signature_error


@pytest.mark.parametrize("url,crl_path,leaf,status,reason", [
    ("/crl/inter.crl", None, "rev_good", "good", None),
    ("/crl/inter.crl", None, "rev_revoked", "revoked", "keyCompromise"),
    ("/crl/inter.pem", None, "rev_revoked", "revoked", "keyCompromise"),
])
def test_crl(aia_pki: AiaPki, certs: dict[str, tls.Certificate], url: str,
             crl_path: str | None, leaf: str, status: str, reason: str | None) -> None:
    result = tls.check_crl(aia_pki.server.files[url], certs[leaf], certs["inter"])
    assert (result.kind, result.status, result.reason, result.signature) == (
        "crl", status, reason, "ok")
    assert result.entries == 1 and result.signer.endswith("CN=Doctor Intermediate CA")
    assert result.next_update is not None and result.this_update is not None


def test_crl_from_another_issuer_and_bad_signature(
        aia_pki: AiaPki, certs: dict[str, tls.Certificate]) -> None:
    crl = aia_pki.server.files["/crl/inter.crl"]
    assert tls.check_crl(crl, certs["rev_good"], certs["other"]).signature == "unauthorised"
    bad = aia_pki.server.files["/crl/badsig.crl"]
    assert tls.check_crl(bad, certs["rev_good"], certs["inter"]).signature == "bad"


def test_ocsp_request_read_by_openssl(aia_pki: AiaPki,
                                      certs: dict[str, tls.Certificate]) -> None:
    request = tls.ocsp_request(certs["rev_good"], certs["inter"])
    text = subprocess.run(["openssl", "ocsp", "-reqin", "/dev/stdin", "-req_text"],
                          input=request, capture_output=True, check=True, timeout=60).stdout
    serials = re.findall(rb"Serial Number: ([0-9A-F]+)", text)
    assert [int(serial, 16) for serial in serials] == [certs["rev_good"].serial_number]
    assert b"Hash Algorithm: sha1" in text and b"Nonce" not in text


def test_must_staple(certs: dict[str, tls.Certificate]) -> None:
    assert tls.must_staple(certs["rev_must_staple"])
    assert not tls.must_staple(certs["rev_good"]) and not tls.must_staple(certs["inter"])


@pytest.mark.parametrize("what", ["ocsp", "crl"])
def test_every_truncation_is_a_decode_error(aia_pki: AiaPki,
                                            certs: dict[str, tls.Certificate],
                                            what: str) -> None:
    if what == "ocsp":
        data = aia_pki.staples["revoked"].read_bytes()
        check = lambda d: tls.check_ocsp_response(d, certs["rev_revoked"], certs["inter"])
    else:
        data = aia_pki.server.files["/crl/inter.crl"]
        check = lambda d: tls.check_crl(d, certs["rev_revoked"], certs["inter"])
    for end in range(len(data)):
        with pytest.raises(tls.DecodeError):
            check(data[:end])
    assert check(data).status == "revoked"
    with pytest.raises(tls.DecodeError):
        check(data + b"\0")  # trailing bytes after a DER CRL or response


@pytest.mark.parametrize("what", ["ocsp", "crl"])
def test_every_byte_flip_is_handled(aia_pki: AiaPki, certs: dict[str, tls.Certificate],
                                    what: str) -> None:
    """Each byte flipped in turn: a DecodeError, or an answer whose signature fails
    (or, for bytes outside the signed part, the same answer)."""
    data = (aia_pki.staples["revoked"].read_bytes() if what == "ocsp"
            else aia_pki.server.files["/crl/inter.crl"])
    for i in range(len(data)):
        damaged = data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1:]
        try:
            if what == "ocsp":
                result = tls.check_ocsp_response(damaged, certs["rev_revoked"],
                                                 certs["inter"])
            else:
                result = tls.check_crl(damaged, certs["rev_revoked"], certs["inter"])
        except tls.DecodeError:
            continue
        assert result.status in ("good", "revoked", "unknown", "no-answer", "refused")
        assert result.signature in ("ok", "bad", "no-signer", "unauthorised", "untrusted")


def test_arguments(certs: dict[str, tls.Certificate]) -> None:
    with pytest.raises(TypeError):
        tls.check_crl(42, certs["rev_good"], certs["inter"])  # type: ignore[arg-type]
    for call in (lambda: tls.check_crl(b"", certs["rev_good"], None),
                 lambda: tls.check_ocsp_response(b"", certs["rev_good"], certs["inter"],
                                                 untrusted=[b"pem"]),
                 lambda: tls.ocsp_request("leaf", certs["inter"]),
                 lambda: tls.must_staple(None)):
        with pytest.raises(TypeError):
            call()  # type: ignore[no-untyped-call]
    with pytest.raises(ValueError):
        import datetime as dt
        tls.check_ocsp_response(b"0", certs["rev_good"], certs["inter"],
                                at_time=dt.datetime(2030, 1, 1))
