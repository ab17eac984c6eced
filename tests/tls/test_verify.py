"""tightbind.tls.verify: offline chain verification against ``openssl verify``."""

from __future__ import annotations

import datetime as dt
import re
import subprocess

import pytest
from helpers.pki import Pki

from tightbind import tls


def load(pki: Pki, name: str) -> tls.Certificate:
    return tls.load_certificate(tls.FILETYPE_PEM, pki.files[f"{name}.pem"].read_bytes())


def openssl_verify_reason(pki: Pki, leaf: str, untrusted: str | None, cafile: str) -> str:
    args = ["openssl", "verify", "-CAfile", str(pki.files[cafile])]
    if untrusted:
        args += ["-untrusted", str(pki.files[untrusted])]
    out = subprocess.run([*args, str(pki.files[leaf])], capture_output=True, text=True,
                         check=False)
    match = re.search(r"error \d+ at \d+ depth lookup: (.*)", out.stdout + out.stderr)
    return match.group(1) if match else "OK"


def test_verify_chain_trusted(pki: Pki) -> None:
    chain = tls.verify_chain(load(pki, "leaf"), [load(pki, "inter")],
                             cafile=pki.files["root.pem"], hostname="localhost")
    assert [c.subject.CN for c in chain] == ["localhost", "Test Intermediate CA",
                                             "Test Root CA"]
    assert openssl_verify_reason(pki, "leaf.pem", "inter.pem", "root.pem") == "OK"
    assert tls.verify_chain(load(pki, "leaf"), [load(pki, "inter")],
                            cafile=pki.files["root.pem"], hostname="127.0.0.1")


@pytest.mark.parametrize("leaf,untrusted,cafile,code", [
    ("leaf", None, "root", 20),          # missing intermediate
    ("leaf", "inter", "other", 20),      # untrusted root
    ("expired", "inter", "root", 10),    # expired leaf
])
def test_verify_chain_failures_match_openssl_verify(pki: Pki, leaf: str, untrusted: str | None,
                                                    cafile: str, code: int) -> None:
    with pytest.raises(tls.CertificateVerifyError) as info:
        tls.verify_chain(load(pki, leaf), [load(pki, untrusted)] if untrusted else [],
                         cafile=pki.files[f"{cafile}.pem"])
    assert info.value.verify_code == code
    assert info.value.reason == openssl_verify_reason(
        pki, f"{leaf}.pem", f"{untrusted}.pem" if untrusted else None, f"{cafile}.pem")
    assert info.value.chain[0] == load(pki, leaf)


def test_verify_chain_self_signed_in_chain(pki: Pki) -> None:
    with pytest.raises(tls.CertificateVerifyError, match="self-signed") as info:
        tls.verify_chain(load(pki, "leaf"), [load(pki, "inter"), load(pki, "root")],
                         cafile=pki.files["other.pem"])
    assert info.value.verify_code == 19


def test_verify_chain_hostname_mismatch(pki: Pki) -> None:
    with pytest.raises(tls.HostnameMismatch, match="hostname mismatch") as info:
        tls.verify_chain(load(pki, "leaf"), [load(pki, "inter")],
                         cafile=pki.files["root.pem"], hostname="wrong.example")
    assert isinstance(info.value, tls.CertificateVerifyError)
    with pytest.raises(tls.HostnameMismatch):
        tls.verify_chain(load(pki, "leaf"), [load(pki, "inter")],
                         cafile=pki.files["root.pem"], hostname="10.9.8.7")


def test_verify_chain_at_time(pki: Pki) -> None:
    expired = load(pki, "expired")
    when = expired.not_after - dt.timedelta(days=1)
    chain = tls.verify_chain(expired, [load(pki, "inter")], cafile=pki.files["root.pem"],
                             at_time=when)
    assert len(chain) == 3
    with pytest.raises(tls.CertificateVerifyError, match="not yet valid"):
        tls.verify_chain(expired, [load(pki, "inter")], cafile=pki.files["root.pem"],
                         at_time=expired.not_before.timestamp() - 3600)
    with pytest.raises(ValueError, match="aware"):
        tls.verify_chain(expired, at_time=dt.datetime(2020, 1, 1))


def test_verify_chain_system_store_does_not_trust_test_root(pki: Pki) -> None:
    with pytest.raises(tls.CertificateVerifyError):
        tls.verify_chain(load(pki, "leaf"), [load(pki, "inter")])


def test_verify_chain_bad_cafile(pki: Pki, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(tls.CaLocationError):
        tls.verify_chain(load(pki, "leaf"), cafile=tmp_path / "missing.pem")
    empty = tmp_path / "empty.pem"
    empty.write_text("nothing here\n")
    with pytest.raises(tls.CaLocationError):
        tls.verify_chain(load(pki, "leaf"), cafile=empty)


def test_verify_chain_with_capath(pki: Pki, tmp_path) -> None:  # type: ignore[no-untyped-def]
    capath = tmp_path / "certs"
    capath.mkdir()
    (capath / "root.pem").write_bytes(pki.files["root.pem"].read_bytes())
    subprocess.run(["openssl", "rehash", str(capath)], check=True, capture_output=True)
    chain = tls.verify_chain(load(pki, "leaf"), [load(pki, "inter")], capath=capath)
    assert chain[-1] == load(pki, "root")


def test_certificate_whose_key_does_not_decode_fails_verification(pki: Pki) -> None:
    # OpenSSL's X509_verify_cert gives up (-1) on such a certificate: still a verify
    # failure with its code, and OpenSSL's reasons, not a bare "OpenSSL failed".
    from cryptography.hazmat.primitives import serialization

    der = pki.certs["leaf"].public_bytes(serialization.Encoding.DER)
    spki = pki.certs["leaf"].public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    inner = spki.index(b"\x30\x82", 4)  # the RSAPublicKey SEQUENCE inside the BIT STRING
    broken_spki = spki[:inner] + b"\x31" + spki[inner + 1:]
    assert der.count(spki) == 1
    broken = tls.load_certificate(tls.FILETYPE_ASN1, der.replace(spki, broken_spki))
    assert broken.public_key_info["algorithm"] == ""
    with pytest.raises(tls.CertificateVerifyError) as info:
        tls.verify_chain(broken, [load(pki, "inter")], cafile=pki.files["root.pem"])
    assert info.value.verify_code > 0 and info.value.reason
    assert any("public key" in reason for reason in info.value.openssl_errors), info.value
