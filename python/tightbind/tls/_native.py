"""Load ``tightbind._tls``, set OpenSSL up once, and turn its status codes into exceptions.

The C is in ``csrc/tls*.c``, declared for cffi in ``csrc/tls.h`` (the shim) and
``bindings/tls.h`` (OpenSSL itself).  Every failure leaves OpenSSL's reasons on the
thread's error queue; :func:`check` drains them into the exception it raises, so the next
call starts with an empty queue.  Also here: the small conversions every feature module
makes at the C boundary (bytes in, ``char *`` passwords and names, owned buffers out).
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from tightbind._native import Failures, checker, load
from tightbind.tls.errors import (
    BadSignature,
    CaLocationError,
    CertificateVerifyError,
    DecodeError,
    ErrorQueue,
    HandshakeError,
    InputTooLarge,
    InvalidArgument,
    KeyMismatch,
    LegacyProviderUnavailable,
    MissingMac,
    NotPkcs12,
    OpenSSLError,
    OutOfMemory,
    PasswordRequired,
    TlsConnectError,
    UnsupportedAlgorithm,
    WrongPassword,
)

_module = load("tls")
ffi = _module.ffi
lib = _module.lib

Passphrase = str | bytes | None

_DRAIN_CAPACITY = 8192  # whole records only: a queue longer than this loses its newest


def drain() -> ErrorQueue:
    """Take OpenSSL's queued errors off this thread's queue and return them, oldest
    first, as ``(library, reason, data)`` each: the one drain every exception of
    :mod:`tightbind.tls` and :mod:`tightbind.tls.crypto` is built from."""
    buf = ffi.new("char[]", _DRAIN_CAPACITY)
    if lib.tb_tls_drain_errors(buf, _DRAIN_CAPACITY) == 0:
        return ErrorQueue()
    records = ffi.string(buf).decode("utf-8", "replace").split("\x1e")
    return ErrorQueue(tuple([*record.split("\x1f"), "", ""][:3])  # type: ignore[misc]
                      for record in records if record)


def modules_dir() -> str:
    """The folder OpenSSL loads providers from: ``OPENSSL_MODULES``, else its built-in."""
    env = os.environ.get("OPENSSL_MODULES")
    if env:
        return env
    text = ffi.string(lib.OpenSSL_version(lib.OPENSSL_MODULES_DIR)).decode()
    return text.split(":", 1)[-1].strip().strip('"')


def _legacy_hint() -> str:
    return ("it needs OpenSSL's legacy provider (RC2-40/3DES/RC4 files from older Windows "
            f"and macOS), which is not installed here: OpenSSL looked in {modules_dir()}. "
            "On Debian it ships in libssl3; set OPENSSL_MODULES to the folder holding "
            "legacy.so if it lives elsewhere")


# What each status code of csrc/tightbind.h and csrc/tls.h raises, and the sentence
# after "<what>: ".  verify.py and connection.py raise richer exceptions themselves for
# TB_TLS_E_VERIFY (with OpenSSL's verify code) and TB_TLS_E_SYSCALL (with errno).
FAILURES: Failures = {
    lib.TB_E_NOMEM: (OutOfMemory, "out of memory"),
    lib.TB_E_ARG: (InvalidArgument, "invalid argument"),
    lib.TB_TLS_E_OPENSSL: (OpenSSLError, "OpenSSL failed"),
    lib.TB_TLS_E_NOT_PKCS12: (NotPkcs12, "the data is not a PKCS#12 (.p12/.pfx) file, or "
                              "it is truncated"),
    lib.TB_TLS_E_PASSWORD: (WrongPassword, "wrong password or corrupted file"),
    lib.TB_TLS_E_NO_MAC: (MissingMac, "the file has no integrity MAC, so neither the "
                          "password nor the contents can be checked; pass "
                          "allow_missing_mac=True to load it anyway"),
    lib.TB_TLS_E_UNSUPPORTED: (UnsupportedAlgorithm, "it uses an algorithm that no loaded "
                               "OpenSSL provider implements"),
    lib.TB_TLS_E_NO_LEGACY: (LegacyProviderUnavailable, _legacy_hint),
    lib.TB_TLS_E_DECODE: (DecodeError, "the data is not valid"),
    lib.TB_TLS_E_NEED_PASSWORD: (PasswordRequired, "the key is encrypted and no password "
                                 "was given"),
    lib.TB_TLS_E_VERIFY: (CertificateVerifyError, "certificate verify failed"),
    lib.TB_TLS_E_CA_LOCATIONS: (CaLocationError, "cannot load trusted certificates"),
    lib.TB_TLS_E_SYSCALL: (TlsConnectError, "a socket call failed"),
    lib.TB_TLS_E_PROTOCOL: (HandshakeError, "the TLS protocol failed (an alert from the peer, "
                            "a version or cipher mismatch, or data that is not TLS)"),
    # Codes of tightbind.tls.crypto (csrc/tls_crypto_*.c).
    lib.TB_TLS_E_NO_KEY: (InvalidArgument, "there is no key: the certificate has none, or the "
                          "PKey was never generated or loaded"),
    lib.TB_TLS_E_EXTENSION: (InvalidArgument, "OpenSSL cannot make this extension (an unknown "
                             "name, a value it cannot parse, or a subject or issuer "
                             "certificate the value needs was not given)"),
    lib.TB_TLS_E_NAME: (InvalidArgument, "the value does not fit this name attribute (too long, "
                        "or characters its string type does not allow)"),
    lib.TB_TLS_E_KEY_CHECK: (DecodeError, "the private key is inconsistent: its parts do not "
                             "belong together"),
    # Codes of the size and cost limits (hostile input).
    lib.TB_TLS_E_TOO_LARGE: (InputTooLarge, f"it is longer than the {lib.TB_TLS_MAX_INPUT} "
                             "bytes (2 GiB - 1) OpenSSL can take"),
    lib.TB_TLS_E_DECRYPT: (WrongPassword, "the password verifies the file's MAC but does not "
                           "decrypt its contents (a file made with a second password for "
                           "the contents)"),
    lib.TB_TLS_E_TOO_COSTLY: (InputTooLarge, "it asks for more password key derivation "
                              f"than tightbind does for one file ({lib.TB_TLS_MAX_ITERATIONS} "
                              "iterations in all; files in the wild ask for 2048 to 600000 "
                              "each), so it was refused before any of it was done"),
    # Codes of requests, SPKI and signatures (csrc/tls_req.c).
    lib.TB_TLS_E_SIGNATURE: (BadSignature, "the signature does not verify with this key (another "
                             "key made it, or the data changed since)"),
    lib.TB_TLS_E_KEY_MISMATCH: (KeyMismatch, "the private key does not match the "
                                "certificate (it is not the key the certificate was "
                                "issued for)"),
}
check = checker(FAILURES, unexpected=OpenSSLError, details=lambda: (drain(),))
"""``check(rc, what, sentence=None)``: return ``rc`` when it is not negative, else raise
its exception with ``what``, the table's sentence (or ``sentence``, when the caller knows
better) and OpenSSL's drained reasons: the one check of :mod:`tightbind.tls` and its
pyOpenSSL face."""

check(lib.tb_tls_init(), "initialising OpenSSL")


def openssl_version() -> str:
    """Return the version text of the OpenSSL library tightbind runs on."""
    return ffi.string(lib.OpenSSL_version(lib.OPENSSL_VERSION)).decode()


MAX_ITERATIONS: int = lib.TB_TLS_MAX_ITERATIONS
"""The password key derivation one PKCS#12 file or encrypted key may ask for, in
PBKDF2/PKCS#12-KDF iterations summed over its MAC and encrypted parts (scrypt counts
N * r * p).  More raises :class:`InputTooLarge` before any of it is done."""

MAX_INPUT: int = lib.TB_TLS_MAX_INPUT
"""The longest input (certificate, key, bundle, PKCS#12 file, password) OpenSSL takes:
2 GiB - 1 byte.  Longer ones raise :class:`InputTooLarge` before any copy is made."""


def check_size(size: int, what: str) -> None:
    """Raise :class:`InputTooLarge` (``TB_TLS_E_TOO_LARGE``) when ``size`` bytes is more
    than :data:`MAX_INPUT`."""
    if size > MAX_INPUT:
        check(lib.TB_TLS_E_TOO_LARGE, f"{what} ({size} bytes)")


def as_bytes(data: bytes | bytearray | memoryview | str, what: str) -> bytes:
    """Return ``data`` as bytes to hand to OpenSSL.

    Takes bytes and any other object with the buffer protocol (bytearray, memoryview,
    mmap, ...), and str as PEM text: UTF-8, so that text around the PEM blocks may be
    any language (inside a block, only base64 is valid).  The size is checked before
    anything is copied (:class:`InputTooLarge`); TypeError for other types,
    :class:`DecodeError` for a str that is not valid Unicode (lone surrogates).
    """
    if isinstance(data, str):
        check_size(len(data), what)  # a lower bound of the UTF-8 size: cheap, and enough
        try:
            raw = data.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise DecodeError(f"{what}: the text is not valid Unicode ({exc.reason} at "
                              f"index {exc.start})") from None
        check_size(len(raw), what)
        return raw
    if isinstance(data, bytes):
        check_size(len(data), what)
        return data
    try:
        view = memoryview(data)
    except TypeError:
        raise TypeError(f"{what} must be bytes, not {type(data).__name__}") from None
    with view:
        check_size(view.nbytes, what)
        return view.tobytes()


def c_password(passphrase: Passphrase, what: str = "passphrase") -> Any:
    """Return a ``char *`` holding a password (str as UTF-8), ffi.NULL for None.

    Raises TypeError for other types, ValueError for NUL bytes,
    :class:`InvalidArgument` for a str that is not valid Unicode and
    :class:`InputTooLarge` past :data:`MAX_INPUT` bytes.
    """
    if passphrase is None:
        return ffi.NULL
    if isinstance(passphrase, str):
        try:
            passphrase = passphrase.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InvalidArgument(f"{what} is not valid Unicode ({exc.reason} at index "
                                  f"{exc.start})") from None
    if not isinstance(passphrase, (bytes, bytearray)):
        raise TypeError(f"{what} must be str, bytes or None, not {type(passphrase).__name__}")
    check_size(len(passphrase), what)
    if b"\0" in passphrase:
        raise ValueError(f"{what} must not contain NUL bytes")
    return ffi.new("char[]", bytes(passphrase))


def password_forms(passphrase: Passphrase) -> tuple[list[Passphrase], list[Passphrase]]:
    """The byte forms of a password to try: those of its text (the one given first), and
    the form OpenSSL before 1.1.0 wrote, when it differs (a list of 0 or 1).

    A password is text.  PKCS#12 MACs (and PKCS#12's own encryption) read it as text
    (BMPString); PBES2 encryption (AES, what OpenSSL 3 writes) takes its bytes, which
    tools write as UTF-8, or Latin-1 in a Latin-1 locale.  So a non-ASCII password's
    text is tried in UTF-8 and in Latin-1; OpenSSL before 1.1.0 took each UTF-8 byte as
    a character instead.  Bytes that are not UTF-8 are read as Latin-1 text, as
    OpenSSL's MAC check reads them.  ASCII (and None) has one form.
    """
    if passphrase is None:
        return [None], []
    if isinstance(passphrase, str):
        try:
            given = passphrase.encode("utf-8")
        except UnicodeEncodeError:
            return [passphrase], []  # c_password raises on it, with the same message
        text = passphrase
    elif isinstance(passphrase, (bytes, bytearray)):
        given = bytes(passphrase)
        try:
            text = given.decode("utf-8")
        except UnicodeDecodeError:
            text = given.decode("latin-1")
    else:
        return [passphrase], []  # c_password raises TypeError
    if given.isascii():
        return [given], []
    forms = [given, text.encode("utf-8")]
    with contextlib.suppress(UnicodeEncodeError):
        forms.append(text.encode("latin-1"))
    same_text: list[Passphrase] = list(dict.fromkeys(forms))
    legacy = text.encode("utf-8").decode("latin-1").encode("utf-8")
    return same_text, [] if legacy in same_text else [legacy]


def c_text(value: str | os.PathLike[str] | None, what: str) -> Any:
    """Return a ``char *`` holding a name or path (file system encoding), ffi.NULL for
    None; ValueError for NUL bytes."""
    if value is None:
        return ffi.NULL
    raw = os.fsencode(value)
    if b"\0" in raw:
        raise ValueError(f"{what} must not contain NUL bytes")
    return ffi.new("char[]", raw)


def take_buf(rc: int, out: Any, what: str) -> bytes:
    """Return the bytes of the ``tb_tls_buf`` a call stored in ``out[0]`` and free it;
    raise from :data:`FAILURES` when ``rc`` is a failure."""
    check(rc, what)
    buf = out[0]
    try:
        return bytes(ffi.buffer(buf.data, buf.len))
    finally:
        lib.tb_tls_buf_free(buf)
