"""tightbind.tls.errors and the failure table in tightbind.tls._native: every status code
the TLS shim defines (csrc/tightbind.h, csrc/tls.h) reaches its exception from a real
input, through the public API.

One code cannot be reached from Python on a working machine, and is checked through the
table only (see test_out_of_memory_maps_to_a_memory_error): TB_E_NOMEM is returned only
when OpenSSL or the shim fails to allocate (a few hundred bytes per call), or for an
input longer than INT_MAX bytes (2 GiB, more than the machine running the tests can spare
beside the copy Python holds).  Failing allocations inside OpenSSL would take a malloc
interposer; limiting the address space makes Python itself fail first.
"""

from __future__ import annotations

import base64
import mmap
import os
import re
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from helpers.der import pkcs12_remac, set_mac_iterations
from helpers.pki import PASSWORD, Pki, TlsServer

import tightbind
from conftest import ROOT
from tightbind import tls
from tightbind.tls import crypto
from tightbind.tls._native import FAILURES, check, lib

UNREACHABLE = {"TB_E_NOMEM"}  # why: see the module docstring

AES_256_CBC_OID = bytes.fromhex("060960864801650304012a")  # 2.16.840.1.101.3.4.1.42
UNKNOWN_OID = bytes.fromhex("060960864801650304017f")  # an arc nothing implements


def header_codes() -> list[str]:
    """Every failure code csrc/tightbind.h and csrc/tls.h define."""
    text = (ROOT / "csrc" / "tightbind.h").read_text() + (ROOT / "csrc" / "tls.h").read_text()
    return re.findall(r"#define\s+(TB_(?:TLS_)?E_\w+)\s", text)


def read(pki: Pki, name: str) -> bytes:
    return pki.files[name].read_bytes()


def load(pki: Pki, name: str) -> tls.Certificate:
    return tls.load_certificate(tls.FILETYPE_PEM, read(pki, f"{name}.pem"))


@contextmanager
def resetting_server() -> Iterator[tuple[int, threading.Event]]:
    """A port on 127.0.0.1 whose server accepts one connection, reads the first bytes the
    client sends (so the connection is fully up) and resets it (RST); and an event set
    once it has."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)
    done = threading.Event()

    def reset() -> None:
        conn, _ = listener.accept()
        conn.settimeout(10)
        conn.recv(1)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()
        done.set()

    thread = threading.Thread(target=reset, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], done
    finally:
        thread.join(10)
        listener.close()


def handshake_after_reset(pki: Pki) -> None:
    with resetting_server() as (port, done), \
            socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        try:
            tls.TLSConnection(sock, "localhost", cafile=pki.files["root.pem"])
        finally:
            assert done.wait(10)


def handshake_with_plain_server(pki: Pki) -> None:
    with TlsServer(mode="plain") as server:
        tls.fetch_chain("127.0.0.1", server.port, timeout=5)


def mismatched_pkcs12(pki: Pki) -> None:
    aes = tls.load_pkcs12(read(pki, "aes.p12"), PASSWORD)
    empty = tls.load_pkcs12(read(pki, "empty.p12"))
    tls.create_pkcs12(empty.private_key, aes.certificate)


def ed25519_key() -> tls.PKey:
    """An Ed25519 key: it signs with no separate digest, so naming one makes OpenSSL
    refuse (TB_TLS_E_OPENSSL, no narrower code)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    return tls.load_privatekey(tls.FILETYPE_PEM, pem)


def encrypted_key_without_password(pki: Pki) -> None:
    key = tls.load_privatekey(tls.FILETYPE_PEM, read(pki, "ec.key"))
    encrypted = tls.dump_privatekey(tls.FILETYPE_PEM, key, "aes-128-cbc", "pw")
    tls.load_privatekey(tls.FILETYPE_PEM, encrypted)


def huge_sparse_certificate(pki: Pki) -> None:
    """A 'certificate' one byte over the limit: a sparse file mapped, so nothing is
    allocated (the size is checked before any copy)."""
    path = pki.dir / "huge.sparse"
    with open(path, "wb") as f:
        f.truncate(tls.MAX_INPUT + 1)
    try:
        with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ) as mapped, \
                memoryview(mapped) as view:
            tls.load_certificate(tls.FILETYPE_ASN1, view)
    finally:
        path.unlink()


# Code -> a call with a real input that makes the C return it.
CASES: dict[str, Callable[[Pki], object]] = {
    "TB_E_ARG": lambda pki: tls.dump_privatekey(
        tls.FILETYPE_PEM, tls.load_privatekey(tls.FILETYPE_PEM, read(pki, "ec.key")),
        "no-such-cipher", "pw"),
    "TB_TLS_E_OPENSSL": lambda pki: tls.sign_data(ed25519_key(), b"data", "sha256"),
    "TB_TLS_E_KEY_MISMATCH": mismatched_pkcs12,
    "TB_TLS_E_NOT_PKCS12": lambda pki: tls.load_pkcs12(b"not a PKCS#12 file", PASSWORD),
    "TB_TLS_E_PASSWORD": lambda pki: tls.load_pkcs12(read(pki, "aes.p12"), "not it"),
    "TB_TLS_E_NO_MAC": lambda pki: tls.load_pkcs12(read(pki, "nomac.p12"), PASSWORD),
    "TB_TLS_E_UNSUPPORTED": lambda pki: tls.load_pkcs12(
        read(pki, "nomac.p12").replace(AES_256_CBC_OID, UNKNOWN_OID), PASSWORD,
        allow_missing_mac=True),
    "TB_TLS_E_DECODE": lambda pki: tls.load_certificate(tls.FILETYPE_ASN1, b"\x30\x00"),
    "TB_TLS_E_NEED_PASSWORD": encrypted_key_without_password,
    "TB_TLS_E_VERIFY": lambda pki: tls.verify_chain(load(pki, "leaf"), [load(pki, "inter")],
                                                    cafile=pki.files["other.pem"]),
    "TB_TLS_E_CA_LOCATIONS": lambda pki: tls.verify_chain(
        load(pki, "leaf"), cafile=pki.dir / "no-such-file.pem"),
    "TB_TLS_E_SYSCALL": handshake_after_reset,
    "TB_TLS_E_PROTOCOL": handshake_with_plain_server,
    "TB_TLS_E_TOO_LARGE": huge_sparse_certificate,
    # The MAC made again for another password: it verifies, the contents do not decrypt.
    "TB_TLS_E_DECRYPT": lambda pki: tls.load_pkcs12(pkcs12_remac(read(pki, "aes.p12"), "mac"),
                                                    "mac"),
    "TB_TLS_E_TOO_COSTLY": lambda pki: tls.load_pkcs12(
        set_mac_iterations(read(pki, "aes.p12"), tls.MAX_ITERATIONS + 1), PASSWORD),
    "TB_TLS_E_SIGNATURE": lambda pki: tls.verify_signature(
        load(pki, "leaf"), tls.sign_data(tls.load_privatekey(
            tls.FILETYPE_PEM, read(pki, "leaf.key")), b"data"), b"other data"),
}


def _der_length(length: int) -> bytes:
    if length < 128:
        return bytes([length])
    raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def inconsistent_rsa_key() -> bytes:
    """A PKCS#1 RSA key (PEM) that decodes but whose CRT coefficient is wrong."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    numbers = rsa.generate_private_key(public_exponent=65537, key_size=1024).private_numbers()
    values = [0, numbers.public_numbers.n, numbers.public_numbers.e, numbers.d, numbers.p,
              numbers.q, numbers.dmp1, numbers.dmq1, numbers.iqmp + 1]
    body = b"".join(b"\x02" + _der_length(len(raw)) + raw for raw in
                    (value.to_bytes(value.bit_length() // 8 + 1, "big") for value in values))
    der = b"\x30" + _der_length(len(body)) + body
    text = base64.encodebytes(der).decode().replace("\n", "")
    lines = [text[i:i + 64] for i in range(0, len(text), 64)]
    return ("-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(lines) +
            "\n-----END RSA PRIVATE KEY-----\n").encode()


def set_overlong_organization(pki: Pki) -> None:
    crypto.X509().get_subject().O = "x" * 512


# Codes only tightbind.tls.crypto's calls return: they raise the table's class, which is a
# crypto.Error as every class of the table is.
CRYPTO_CASES: dict[str, Callable[[Pki], object]] = {
    "TB_TLS_E_NO_KEY": lambda pki: crypto.X509().get_pubkey(),
    "TB_TLS_E_EXTENSION": lambda pki: crypto.X509Extension(b"thisIsMadeUp", False, b"hi"),
    "TB_TLS_E_NAME": set_overlong_organization,
    "TB_TLS_E_KEY_CHECK": lambda pki: crypto.load_privatekey(
        crypto.FILETYPE_PEM, inconsistent_rsa_key()).check(),
}


def test_every_code_has_an_entry_and_a_case() -> None:
    codes = header_codes()
    assert "TB_E_NOMEM" in codes and "TB_TLS_E_PROTOCOL" in codes
    assert {getattr(lib, name) for name in codes} == set(FAILURES)
    for name in codes:
        cls, sentence = FAILURES[getattr(lib, name)]
        assert issubclass(cls, tightbind.TlsError), name
        assert sentence, name
    # Each code is reached below, by a case or by its own test, or said to be unreachable.
    assert set(CASES) | set(CRYPTO_CASES) | {"TB_TLS_E_NO_LEGACY"} | UNREACHABLE == set(codes)


@pytest.mark.parametrize("code", sorted(CASES))
def test_code_reaches_its_exception(pki: Pki, code: str) -> None:
    cls, sentence = FAILURES[getattr(lib, code)]
    with pytest.raises(cls) as info:
        CASES[code](pki)
    assert type(info.value) is cls
    message = str(info.value)
    if code == "TB_TLS_E_SYSCALL":
        # connection.py raises it itself, naming the errno the socket call failed with.
        assert re.search(r"\((errno (104|32))\)", message), message
    else:
        assert isinstance(sentence, str) and sentence in message


@pytest.mark.parametrize("code", sorted(CRYPTO_CASES))
def test_crypto_code_reaches_its_exception(pki: Pki, code: str) -> None:
    cls, sentence = FAILURES[getattr(lib, code)]
    with pytest.raises(crypto.Error) as info:
        CRYPTO_CASES[code](pki)
    assert type(info.value) is cls
    assert isinstance(sentence, str) and sentence in str(info.value)
    assert isinstance(info.value.args[0], list)


def test_overlong_server_name_is_an_invalid_argument(pki: Pki, rsa_server: TlsServer) -> None:
    with socket.create_connection(("127.0.0.1", rsa_server.port), timeout=5) as sock, \
            pytest.raises(tls.InvalidArgument, match="cannot set up TLS: invalid argument"):
        tls.TLSConnection(sock, "a" * 300, cafile=pki.files["root.pem"])


def test_missing_legacy_provider(pki: Pki, tmp_path: Path) -> None:
    # A fresh interpreter, so that no provider is loaded yet, with an empty module folder.
    empty = tmp_path / "no-modules"
    empty.mkdir()
    code = f"""
from tightbind import tls
from tightbind.tls._native import FAILURES, lib
cls = FAILURES[lib.TB_TLS_E_NO_LEGACY][0]
aes = tls.load_pkcs12(open({str(pki.files['aes.p12'])!r}, 'rb').read(), {PASSWORD!r})
calls = [lambda: tls.load_pkcs12(open({str(pki.files['legacy.p12'])!r}, 'rb').read(),
                                 {PASSWORD!r}),
         lambda: tls.create_pkcs12(aes.private_key, aes.certificate, legacy=True)]
for call in calls:
    try:
        call()
    except Exception as exc:
        print(type(exc) is cls, exc)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, env={**os.environ, "OPENSSL_MODULES": str(empty)},
                            check=False)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2, result.stdout
    assert lines[0].startswith("True cannot open the PKCS#12 file: it needs OpenSSL's legacy")
    assert lines[1].startswith("True cannot create the PKCS#12 file: it needs OpenSSL's legacy")
    assert all(str(empty) in line for line in lines)


def test_out_of_memory_maps_to_a_memory_error() -> None:
    # TB_E_NOMEM cannot be provoked from Python (module docstring); its entry still must
    # give users a MemoryError that is also a TlsError, with a sentence.
    with pytest.raises(tls.OutOfMemory, match="decoding: out of memory") as info:
        check(lib.TB_E_NOMEM, "decoding")
    assert isinstance(info.value, MemoryError)
    assert isinstance(info.value, tightbind.TlsError)


def test_verify_entry_builds_through_check() -> None:
    # verify.py raises CertificateVerifyError itself with OpenSSL's verify code; the table
    # entry must still build one when the code comes through check().
    with pytest.raises(tls.CertificateVerifyError, match="certificate verify failed") as info:
        check(lib.TB_TLS_E_VERIFY, "verifying")
    assert info.value.verify_code == -1 and info.value.depth == -1


def test_error_queue_is_cleared_between_calls(pki: Pki) -> None:
    with pytest.raises(tls.NotPkcs12) as first:
        tls.load_pkcs12(b"\x30\x03\x02\x01", PASSWORD)
    assert first.value.openssl_errors
    # The next failure carries only its own reasons, not the previous call's.
    with pytest.raises(tls.DecodeError) as second:
        tls.load_certificate(tls.FILETYPE_ASN1, b"\x00")
    assert not any("PKCS12" in e for e in second.value.openssl_errors)
    assert tls.load_pkcs12(read(pki, "aes.p12"), PASSWORD).certificate is not None
