"""The exceptions of :mod:`tightbind.tls.crypto`: those of :mod:`tightbind.tls` itself.

:class:`Error` is pyOpenSSL's ``OpenSSL.crypto.Error`` and is
:class:`tightbind.tls.OpenSSLError`, the base of every failure :mod:`tightbind.tls`
raises from OpenSSL: ``except crypto.Error`` code keeps working, ``args[0]`` is OpenSSL's
error queue as pyOpenSSL's list of ``(lib, func, reason)`` tuples (``func`` is ``""``:
OpenSSL 3 no longer names functions there, and pyOpenSSL on OpenSSL 3 left it empty too),
and ``str()`` is tightbind's sentence followed by OpenSSL's reasons.  A wrong passphrase
raises :class:`tightbind.tls.WrongPassword`, which is a ``crypto.Error``, a
``ValueError`` and a :class:`tightbind.TlsError`.  There is one status-code table
(:data:`tightbind.tls._native.FAILURES`), one ``check`` and one error-queue drain
(``tightbind.tls._native``); the helpers below are the face's few conveniences over them.
"""

from __future__ import annotations

from typing import Any

from tightbind.tls._native import check, lib, take_buf
from tightbind.tls.errors import (
    BadSignature,
    CertificateVerifyError,
    DecodeError,
    InvalidArgument,
    LegacyProviderUnavailable,
    MissingMac,
    NotPkcs12,
    OutOfMemory,
    PasswordRequired,
    TlsError,
    UnsupportedAlgorithm,
    WrongPassword,
)
from tightbind.tls.errors import OpenSSLError as Error

__all__ = [
    "BadSignature",
    "CertificateVerifyError",
    "DecodeError",
    "Error",
    "InvalidArgument",
    "LegacyProviderUnavailable",
    "MissingMac",
    "NotPkcs12",
    "NotProvided",
    "NotProvidedWarning",
    "OutOfMemory",
    "PasswordRequired",
    "UnsupportedAlgorithm",
    "WrongPassword",
    "check",
]


class NotProvided(TlsError, NotImplementedError):
    """A pyOpenSSL name :mod:`tightbind.tls.crypto` does not provide was used."""


class NotProvidedWarning(DeprecationWarning):
    """Code imported a pyOpenSSL name :mod:`tightbind.tls.crypto` does not provide; the
    name imports (so that modules importing many names still load) and raises
    :class:`NotProvided` when used."""


def discard_queue() -> None:
    """Empty this thread's OpenSSL error queue (after a failure the caller handles)."""
    lib.ERR_clear_error()


def take_bytes(rc: int, out: Any, what: str) -> bytes:
    """The bytes of the ``tb_tls_buf`` a call stored in ``out[0]``, which is freed; raise
    through :func:`check` when ``rc`` is a failure."""
    return take_buf(rc, out, what)


def text_arg(value: str | bytes, what: str) -> bytes:
    """``value`` as bytes for a ``char *`` (str as UTF-8); TypeError for other types,
    ValueError for NUL bytes."""
    if isinstance(value, str):
        value = value.encode("utf-8")
    if not isinstance(value, (bytes, bytearray)):
        raise TypeError(f"{what} must be bytes or str, not {type(value).__name__}")
    if b"\0" in value:
        raise ValueError(f"{what} must not contain NUL bytes")
    return bytes(value)
