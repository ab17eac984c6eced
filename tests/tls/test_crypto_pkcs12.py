"""tightbind.tls.crypto.pkcs12: PKCS12 and load_pkcs12, with openssl pkcs12 as the oracle
for what export() writes (pyOpenSSL's own tests run in test_crypto_pyopenssl_suite.py)."""

from __future__ import annotations

import subprocess
import warnings

import pytest
from helpers.pki import PASSWORD, Pki

from tightbind import tls
from tightbind.tls import crypto
from tightbind.tls.crypto import errors

PEM = crypto.FILETYPE_PEM
SECRET = PASSWORD.encode()


def read(pki: Pki, name: str) -> bytes:
    return pki.files[name].read_bytes()


def openssl_info(p12: bytes, password: bytes, *extra: str) -> str:
    done = subprocess.run(["openssl", "pkcs12", "-info", "-nodes", "-passin",
                           f"pass:{password.decode()}", *extra], input=p12,
                          capture_output=True, check=True, timeout=60)
    return done.stdout.decode() + done.stderr.decode()


@pytest.mark.parametrize(("name", "password", "cas", "friendly"), [
    ("aes.p12", SECRET, 2, b"leaf friendly"), ("legacy.p12", SECRET, 2, b"legacy leaf"),
    ("empty.p12", None, 1, None), ("empty.p12", b"", 1, None),
    ("plain.p12", SECRET, None, None)])
def test_loads_what_openssl_wrote(pki: Pki, name: str, password: bytes | None, cas: int | None,
                                  friendly: bytes | None) -> None:
    p12 = crypto.load_pkcs12(read(pki, name), password)
    key, cert = p12.get_privatekey(), p12.get_certificate()
    assert isinstance(key, crypto.PKey) and isinstance(cert, crypto.X509)
    assert crypto.dump_publickey(crypto.FILETYPE_ASN1, cert.get_pubkey()) == \
        crypto.dump_publickey(crypto.FILETYPE_ASN1, key)
    found = p12.get_ca_certificates()
    assert (len(found) if found is not None else None) == cas
    assert p12.get_friendlyname() == friendly
    # The same answers as tightbind.tls.load_pkcs12 for the same file.
    plain = tls.load_pkcs12(read(pki, name), password)
    assert cert.der == plain.certificate.der  # type: ignore[union-attr]


def test_a_file_without_a_key_puts_every_certificate_in_the_cas(pki: Pki) -> None:
    p12 = crypto.load_pkcs12(read(pki, "nokey.p12"), SECRET)
    assert p12.get_privatekey() is None and p12.get_certificate() is None
    assert [c.get_subject().CN for c in p12.get_ca_certificates() or ()] == \
        ["localhost", "Test Intermediate CA", "Test Root CA"]


def test_missing_mac_is_refused_unless_allowed(pki: Pki) -> None:
    with pytest.raises(errors.MissingMac) as info:
        crypto.load_pkcs12(read(pki, "nomac.p12"), SECRET)
    assert isinstance(info.value, crypto.Error) and isinstance(info.value, tls.MissingMac)
    p12 = crypto.load_pkcs12(read(pki, "nomac.p12"), SECRET, allow_missing_mac=True)
    assert p12.get_privatekey() is not None


def test_failures_are_crypto_errors_with_pyopenssl_args(pki: Pki) -> None:
    with pytest.raises(errors.WrongPassword) as info:
        crypto.load_pkcs12(read(pki, "aes.p12"), b"not it")
    assert info.value.args[0] and all(isinstance(entry, tuple) and len(entry) == 3
                                      for entry in info.value.args[0])
    assert "wrong password" in str(info.value)
    with pytest.raises(errors.NotPkcs12):
        crypto.load_pkcs12(b"fruit loops", b"x")
    with pytest.raises(TypeError):
        crypto.load_pkcs12(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        crypto.load_pkcs12(read(pki, "aes.p12"), 42)  # type: ignore[arg-type]


def test_str_passphrases_warn_as_pyopenssl_did(pki: Pki) -> None:
    with pytest.warns(DeprecationWarning, match="str for passphrase is no longer accepted"):
        p12 = crypto.load_pkcs12(read(pki, "aes.p12"), PASSWORD)  # type: ignore[arg-type]
    with pytest.warns(DeprecationWarning, match="use bytes"):
        data = p12.export("text")  # type: ignore[arg-type]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert crypto.load_pkcs12(data, b"text").get_certificate() is not None


def test_export_is_what_pyopenssl_wrote(pki: Pki) -> None:
    loaded = crypto.load_pkcs12(read(pki, "aes.p12"), SECRET)
    loaded.set_friendlyname(b"exported")
    data = loaded.export(b"pw", iter=1000, maciter=3)
    info = openssl_info(data, b"pw", "-legacy")
    assert "MAC: sha256, Iteration 3" in info  # OpenSSL 3's default, as pyOpenSSL on it
    assert info.count("pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 1000") == 2
    assert info.count("friendlyName: exported") == 2
    again = crypto.load_pkcs12(data, b"pw")
    assert again.get_friendlyname() == b"exported"
    assert [c.der for c in again.get_ca_certificates() or ()] == \
        [c.der for c in loaded.get_ca_certificates() or ()]
    no_mac = loaded.export(b"pw", maciter=-1)
    with pytest.raises(errors.MissingMac):
        crypto.load_pkcs12(no_mac, b"pw")
    assert "MAC:" not in openssl_info(no_mac, b"pw", "-legacy", "-nomacver")


def test_export_options_beyond_pyopenssl(pki: Pki) -> None:
    from cryptography.hazmat.primitives.serialization import pkcs12 as cpkcs12

    loaded = crypto.load_pkcs12(read(pki, "aes.p12"), SECRET)
    data = loaded.export(b"pw", iter=4000, maciter=9, encryption="aes-256-cbc",
                         mac_hash="sha512", ca_friendly_names=[b"inter", "root"])
    info = openssl_info(data, b"pw")
    assert "MAC: sha512, Iteration 9" in info
    assert info.count("PBES2, PBKDF2, AES-256-CBC, Iteration 4000, PRF hmacWithSHA256") == 2
    again = crypto.load_pkcs12(data, b"pw")
    assert [ca.friendly_name for ca in again.get_ca_certificates() or ()] == ["inter", "root"]
    theirs = cpkcs12.load_pkcs12(data, b"pw")
    assert [c.friendly_name for c in theirs.additional_certs] == [b"inter", b"root"]
    # pyOpenSSL's out-of-range rounds: iter 0 is OpenSSL's default, maciter 0 one round.
    info = openssl_info(loaded.export(b"pw", iter=0, maciter=0), b"pw", "-legacy")
    assert "MAC: sha256, Iteration 1" in info
    assert info.count("pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048") == 2
    for options, error in [({"encryption": "des"}, errors.InvalidArgument),
                           ({"mac_hash": "md5"}, errors.InvalidArgument),
                           ({"ca_friendly_names": [b"one"]}, errors.InvalidArgument),
                           ({"iter": 5_000_000}, errors.InvalidArgument),
                           ({"encryption": None}, TypeError)]:
        with pytest.raises(error):
            loaded.export(b"pw", **options)  # type: ignore[arg-type]
    with pytest.raises(crypto.Error):
        loaded.export(b"pw", mac_hash="whirlpool")


def test_built_from_nothing(pki: Pki) -> None:
    p12 = crypto.PKCS12()
    assert repr(p12) == "<PKCS12 empty>"
    with pytest.raises(crypto.Error):
        p12.export()
    key = crypto.load_privatekey(PEM, read(pki, "ec.key"))
    cert = crypto.load_certificate(PEM, read(pki, "ec_leaf.pem"))
    p12.set_privatekey(key)
    p12.set_certificate(cert)
    p12.set_ca_certificates([tls.load_certificate(tls.FILETYPE_PEM, read(pki, "inter.pem"))])
    assert repr(p12) == "<PKCS12 key, certificate, 1 CA certificates>"
    again = crypto.load_pkcs12(p12.export())
    assert again.get_certificate().der == cert.der  # type: ignore[union-attr]
    p12.set_certificate(None)
    p12.set_privatekey(None)
    assert p12.get_certificate() is None and p12.get_privatekey() is None


def test_argument_errors(pki: Pki) -> None:
    p12 = crypto.PKCS12()
    p12.set_certificate(crypto.load_certificate(PEM, read(pki, "root.pem")))
    with pytest.raises(ValueError, match="NUL"):
        p12.export(b"pass\x00word")
    p12.set_friendlyname(b"nul\x00name")
    with pytest.raises(ValueError, match="NUL"):
        p12.export(b"pw")
    p12.set_friendlyname(None)
    with pytest.raises(TypeError):
        p12.export(b"pw", iter="many")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        p12.set_friendlyname("str")  # type: ignore[arg-type]


def test_a_key_that_does_not_match_is_refused(pki: Pki) -> None:
    p12 = crypto.PKCS12()
    p12.set_privatekey(crypto.load_privatekey(PEM, read(pki, "ec.key")))
    p12.set_certificate(crypto.load_certificate(PEM, read(pki, "leaf.pem")))
    with pytest.raises(crypto.Error) as info:
        p12.export(b"pw")
    assert any("mismatch" in reason for _, _, reason in info.value.args[0])
