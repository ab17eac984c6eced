"""tightbind.tls.crypto.keys: PKey and the key load/dump functions, against the openssl
command and cryptography as oracles (pyOpenSSL's own tests run in
test_crypto_pyopenssl_suite.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, x25519
from helpers.pki import Pki
from hypothesis import given, settings
from hypothesis import strategies as st

from tightbind import tls
from tightbind.tls import crypto
from tightbind.tls.crypto import errors

PEM, DER, TEXT = crypto.FILETYPE_PEM, crypto.FILETYPE_ASN1, crypto.FILETYPE_TEXT


def spki(key: crypto.PKey) -> bytes:
    return crypto.dump_publickey(DER, key)


def openssl(*args: str, input: bytes | None = None) -> bytes:
    return subprocess.run(["openssl", *args], input=input, capture_output=True, check=True,
                          timeout=60).stdout


@pytest.fixture(scope="module")
def rsa_pem(pki: Pki) -> bytes:
    return pki.files["leaf.key"].read_bytes()


@pytest.fixture(scope="module")
def rsa_key(rsa_pem: bytes) -> crypto.PKey:
    return crypto.load_privatekey(PEM, rsa_pem)


# ------------------------------------------------------------------ loading and types


@pytest.mark.parametrize(("name", "key_type", "bits"), [
    ("leaf.key", crypto.TYPE_RSA, 2048), ("ec.key", crypto.TYPE_EC, 256),
    ("inter.key", crypto.TYPE_EC, 384)])
def test_loads_the_pki_keys(pki: Pki, name: str, key_type: int, bits: int) -> None:
    pem = pki.files[name].read_bytes()
    key = crypto.load_privatekey(PEM, pem)
    assert isinstance(key, crypto.PKey) and isinstance(key, tls.PKey)
    assert (key.type(), key.bits()) == (key_type, bits)
    assert key.check() if key_type == crypto.TYPE_RSA else True
    # DER (traditional) and PEM (PKCS#8) agree with cryptography's reading.
    reference = serialization.load_pem_private_key(pem, None)
    assert spki(key) == reference.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert crypto.dump_privatekey(PEM, key) == pem
    again = crypto.load_privatekey(DER, crypto.dump_privatekey(DER, key))
    assert spki(again) == spki(key)


@pytest.mark.parametrize(("make", "key_type"), [
    (lambda: ed25519.Ed25519PrivateKey.generate(), 1087),
    (lambda: ed448.Ed448PrivateKey.generate(), 1088),
    (lambda: ec.generate_private_key(ec.SECP521R1()), crypto.TYPE_EC)])
def test_other_key_types_round_trip_through_cryptography(make, key_type: int) -> None:  # type: ignore[no-untyped-def]
    original = make()
    key = crypto.PKey.from_cryptography_key(original)
    assert key.type() == key_type
    back = key.to_cryptography_key()
    assert type(back) is type(original)
    public = crypto.PKey.from_cryptography_key(original.public_key())  # beyond pyOpenSSL
    assert public._only_public and spki(public) == spki(key)
    assert type(public.to_cryptography_key()) is type(original.public_key())


def test_unsupported_cryptography_keys_are_type_errors() -> None:
    for value in (x25519.X25519PrivateKey.generate(), object(), b"key"):
        with pytest.raises(TypeError, match="Unsupported key type"):
            crypto.PKey.from_cryptography_key(value)


def test_traditional_encrypted_pem_uses_the_callback_once(tmp_path: Path) -> None:
    # openssl's traditional "Proc-Type: 4,ENCRYPTED" RSA PEM, not PKCS#8.
    path = tmp_path / "trad.pem"
    openssl("genrsa", "-aes128", "-traditional", "-passout", "pass:pw", "-out", str(path),
            "1024")
    pem = path.read_bytes()
    assert b"Proc-Type: 4,ENCRYPTED" in pem
    calls: list[bool] = []
    key = crypto.load_privatekey(PEM, pem, lambda writing: calls.append(writing) or b"pw")
    assert calls == [False] and key.bits() == 1024
    with pytest.raises(errors.PasswordRequired) as info:
        crypto.load_privatekey(PEM, pem)
    assert isinstance(info.value, crypto.Error) and isinstance(info.value, tls.WrongPassword)
    with pytest.raises(errors.WrongPassword):
        crypto.load_privatekey(PEM, pem, b"not it")


def test_unencrypted_keys_never_call_the_callback(rsa_pem: bytes) -> None:
    calls: list[bool] = []
    crypto.load_privatekey(PEM, rsa_pem, lambda writing: calls.append(writing) or b"x")
    crypto.load_privatekey(PEM, rsa_pem, b"ignored, as pyOpenSSL ignored it")
    assert calls == []


def test_a_passphrase_with_der_is_refused_both_ways(rsa_key: crypto.PKey) -> None:
    der = crypto.dump_privatekey(DER, rsa_key)
    with pytest.raises(ValueError, match="only FILETYPE_PEM"):
        crypto.load_privatekey(DER, der, b"secret")
    with pytest.raises(ValueError, match="only FILETYPE_PEM"):
        crypto.dump_privatekey(DER, rsa_key, "aes-256-cbc", b"secret")


# ------------------------------------------------------------------ encryption


@pytest.mark.parametrize("cipher", ["aes-256-cbc", "AES-128-CBC", "des3", "blowfish", "cast5-cbc"])
def test_encrypted_pem_opens_with_the_openssl_command(rsa_key: crypto.PKey, cipher: str) -> None:
    pem = crypto.dump_privatekey(PEM, rsa_key, cipher, b"pass phrase")
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    legacy = ["-provider", "legacy", "-provider", "default"] \
        if cipher in ("blowfish", "cast5-cbc") else []
    clear = openssl("pkey", *legacy, "-passin", "pass:pass phrase", input=pem)
    assert clear == crypto.dump_privatekey(PEM, rsa_key)
    assert spki(crypto.load_privatekey(PEM, pem, b"pass phrase")) == spki(rsa_key)


def test_a_callback_gives_the_writing_passphrase(rsa_key: crypto.PKey) -> None:
    calls: list[bool] = []
    pem = crypto.dump_privatekey(PEM, rsa_key, "aes-128-cbc",
                                 lambda writing: calls.append(writing) or b"cb")
    assert calls == [True]
    assert spki(crypto.load_privatekey(PEM, pem, b"cb")) == spki(rsa_key)
    # Without a cipher nothing is encrypted and the callback is not asked.
    assert crypto.dump_privatekey(PEM, rsa_key, None, lambda writing: calls.append(writing)) \
        == crypto.dump_privatekey(PEM, rsa_key)
    assert calls == [True]


@settings(max_examples=15, deadline=None)
@given(passphrase=st.binary(max_size=64))
def test_every_passphrase_byte_counts(pki: Pki, passphrase: bytes) -> None:
    key = crypto.load_privatekey(PEM, pki.files["ec.key"].read_bytes())
    pem = crypto.dump_privatekey(PEM, key, "aes-128-cbc", passphrase)
    assert spki(crypto.load_privatekey(PEM, pem, passphrase)) == spki(key)
    if passphrase:
        with pytest.raises(errors.WrongPassword):
            crypto.load_privatekey(PEM, pem, passphrase[:-1])


def test_passphrase_limits_and_types(rsa_key: crypto.PKey) -> None:
    pem = crypto.dump_privatekey(PEM, rsa_key, "aes-128-cbc", b"x")
    with pytest.raises(ValueError, match="too long"):
        crypto.load_privatekey(PEM, pem, b"x" * 1025)
    with pytest.raises(ValueError, match="Bytes expected"):
        crypto.load_privatekey(PEM, pem, lambda writing: "x")
    with pytest.raises(TypeError):
        crypto.load_privatekey(PEM, pem, "str passphrases were never accepted here")
    with pytest.raises(ValueError, match="Invalid cipher name"):
        crypto.dump_privatekey(PEM, rsa_key, "no-such-cipher", b"x")
    with pytest.raises(TypeError):
        crypto.dump_privatekey(PEM, rsa_key, 42, b"x")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        crypto.dump_privatekey(PEM, "not a key", None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        crypto.load_privatekey(PEM, 42)  # type: ignore[arg-type]
    for filetype in (TEXT, 99, None):
        with pytest.raises(ValueError):
            crypto.load_privatekey(filetype, pem)  # type: ignore[arg-type]


def test_legacy_ciphers_load_the_provider_in_a_fresh_process(tmp_path: Path) -> None:
    # DES-CBC (PKCS#8 v2) needs OpenSSL's legacy provider, which a new process has not
    # loaded: reading it loads the provider and retries.
    key_path = tmp_path / "des.pem"
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-out", str(tmp_path / "ec.pem"))
    openssl("pkcs8", "-topk8", "-v2", "des-cbc", "-provider", "legacy", "-provider",
            "default", "-in", str(tmp_path / "ec.pem"), "-passout", "pass:pw",
            "-out", str(key_path))
    code = ("from tightbind.tls import crypto\n"
            f"key = crypto.load_privatekey(crypto.FILETYPE_PEM, open({str(key_path)!r}, "
            "'rb').read(), b'pw')\nprint(key.type(), key.bits())\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(crypto.TYPE_EC), "256"]


def test_missing_legacy_provider_for_a_cipher(tmp_path: Path, pki: Pki) -> None:
    code = ("from tightbind.tls import crypto\n"
            f"key = crypto.load_privatekey(crypto.FILETYPE_PEM, open({str(pki.files['ec.key'])!r},"
            " 'rb').read())\ntry:\n    crypto.dump_privatekey(crypto.FILETYPE_PEM, key, "
            "'blowfish', b'x')\nexcept crypto.Error as exc:\n    print(type(exc).__name__)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False,
                          env={**os.environ, "OPENSSL_MODULES": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "LegacyProviderUnavailable"


# ------------------------------------------------------------------ text, public keys


def test_text_is_rsa_only(rsa_key: crypto.PKey, pki: Pki) -> None:
    text = crypto.dump_privatekey(TEXT, rsa_key)
    assert text.startswith(b"Private-Key: (2048 bit, 2 primes)")
    with pytest.raises(TypeError, match="Only RSA"):
        crypto.dump_privatekey(TEXT, crypto.load_privatekey(PEM, pki.files["ec.key"].read_bytes()))


def test_public_keys_match_cryptography(pki: Pki, rsa_key: crypto.PKey) -> None:
    pem = crypto.dump_publickey(PEM, rsa_key)
    reference = serialization.load_pem_private_key(pki.files["leaf.key"].read_bytes(), None)
    assert pem == reference.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    public = crypto.load_publickey(PEM, pem.decode())
    assert public._only_public and public.bits() == 2048 and public.type() == crypto.TYPE_RSA
    assert crypto.dump_publickey(DER, crypto.load_publickey(DER, spki(public))) == spki(rsa_key)
    with pytest.raises(TypeError, match="public key only"):
        public.check()
    with pytest.raises(crypto.Error):
        crypto.dump_privatekey(PEM, public)
    with pytest.raises(errors.DecodeError):
        crypto.load_publickey(PEM, b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    with pytest.raises(ValueError):
        crypto.dump_publickey(TEXT, public)
    with pytest.raises(TypeError):
        crypto.dump_publickey(PEM, object())  # type: ignore[arg-type]


# ------------------------------------------------------------------ generation, identity


@pytest.mark.parametrize(("key_type", "bits"), [(crypto.TYPE_RSA, 1024), (crypto.TYPE_DSA, 1024),
                                                (crypto.TYPE_DSA, 2048)])
def test_generated_keys_are_what_openssl_reads(key_type: int, bits: int) -> None:
    key = crypto.PKey()
    assert (key.type(), key.bits(), key._initialized) == (0, 0, False)
    key.generate_key(key_type, bits)
    assert (key.type(), key.bits(), key._initialized) == (key_type, bits, True)
    text = openssl("pkey", "-noout", "-text", input=crypto.dump_privatekey(PEM, key))
    assert f"({bits} bit".encode() in text


def test_generation_errors() -> None:
    key = crypto.PKey()
    with pytest.raises(errors.InvalidArgument, match="no such key type"):
        key.generate_key(crypto.TYPE_EC, 256)
    with pytest.raises(crypto.Error):
        key.generate_key(crypto.TYPE_RSA, 128)  # below OpenSSL's minimum
    assert key.type() == 0 and not key._initialized


def test_keys_compare_by_identity_and_have_a_repr(rsa_pem: bytes) -> None:
    a, b = crypto.load_privatekey(PEM, rsa_pem), crypto.load_privatekey(PEM, rsa_pem)
    assert a == a and a != b and len({a, b}) == 2
    assert repr(a) == "<PKey key type=6 bits=2048>"
    assert repr(crypto.load_publickey(DER, spki(a))).startswith("<PKey public key")


def test_cached_decoders_serve_threads(pki: Pki) -> None:
    # One decoder context per key type is shared by all threads (under its own lock).
    pems = [pki.files[name].read_bytes() for name in ("leaf.key", "ec.key", "inter.key")]
    expected = [spki(crypto.load_privatekey(PEM, pem)) for pem in pems]
    failures: list[str] = []

    def work() -> None:
        for _ in range(40):
            for pem, want in zip(pems, expected, strict=True):
                if spki(crypto.load_privatekey(PEM, pem)) != want:
                    failures.append("mismatch")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not failures and not any(thread.is_alive() for thread in threads)


def test_curves() -> None:
    curves = crypto.get_elliptic_curves()
    names = {curve.name for curve in curves}
    assert {"prime256v1", "secp384r1"} <= names
    curve = crypto.get_elliptic_curve("secp384r1")
    assert curve in curves and repr(curve) == "<Curve 'secp384r1'>"
    with pytest.raises(ValueError):
        crypto.get_elliptic_curve("no such curve")
