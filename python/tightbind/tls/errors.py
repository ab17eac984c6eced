"""The exceptions of :mod:`tightbind.tls`; every one is a :class:`tightbind.TlsError`.

Each carries OpenSSL's own reasons, drained from the thread's error queue when it was
raised, in ``openssl_errors`` (oldest first) and at the end of its message.  Which C
status code raises which class is the table in :mod:`tightbind.tls._native`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tightbind.errors import TlsError

if TYPE_CHECKING:
    from tightbind.tls.x509 import Certificate

__all__ = [
    "BadSignature",
    "CaLocationError",
    "CertificateVerifyError",
    "DecodeError",
    "ErrorQueue",
    "HandshakeError",
    "HostnameMismatch",
    "InputTooLarge",
    "InvalidArgument",
    "KeyMismatch",
    "LegacyProviderUnavailable",
    "MissingMac",
    "NotPkcs12",
    "OpenSSLError",
    "OutOfMemory",
    "PasswordRequired",
    "TlsConnectError",
    "TlsError",
    "TlsTimeout",
    "UnsupportedAlgorithm",
    "WrongPassword",
]


class ErrorQueue(tuple[tuple[str, str, str], ...]):
    """OpenSSL's error queue as drained when an exception was raised: ``(library,
    reason, data)`` per error, oldest first (``tightbind.tls._native.drain``)."""

    __slots__ = ()


class OpenSSLError(TlsError):
    """A failure OpenSSL reported, and the base of every class below; raised itself
    when no narrower class describes it.  It is also pyOpenSSL's ``OpenSSL.crypto.Error``
    (:class:`tightbind.tls.crypto.Error` is this class), so ``except crypto.Error`` code
    catches every failure of :mod:`tightbind.tls` and its pyOpenSSL face.

    ``openssl_errors`` holds OpenSSL's reasons (``"lib: reason (data)"``), drained from
    the thread's error queue when it was raised, oldest first; they also end the
    message.  When tightbind raised it, ``args[0]`` is pyOpenSSL's shape of that queue,
    ``[(lib, func, reason), ...]`` (``func`` is ``""``: OpenSSL 3 names no functions),
    and ``str()`` the message; built by user code, it behaves as any exception.
    """

    _message: str | None = None

    def __init__(self, message: str, openssl_errors: Sequence[str] | ErrorQueue = ()) -> None:
        if isinstance(openssl_errors, ErrorQueue):
            self.openssl_errors = [_reason(*entry) for entry in openssl_errors]
        else:
            self.openssl_errors = list(openssl_errors)
        if self.openssl_errors:
            message = f"{message} (OpenSSL: {'; '.join(self.openssl_errors)})"
        super().__init__(message)
        if isinstance(openssl_errors, ErrorQueue):
            self._message = message
            self.args = ([(library, "", reason) for library, reason, _ in openssl_errors],)

    def __str__(self) -> str:
        return self._message if self._message is not None else super().__str__()


def _reason(library: str, reason: str, data: str) -> str:
    text = f"{library}: {reason}" if library else reason
    return f"{text} ({data})" if data else text


class OutOfMemory(OpenSSLError, MemoryError):
    """OpenSSL or the shim could not allocate memory."""


class InvalidArgument(OpenSSLError, ValueError):
    """An argument OpenSSL refused (unknown cipher name, bad host name, ...)."""


class InputTooLarge(OpenSSLError, ValueError):
    """A certificate, key, bundle, PKCS#12 file or password longer than OpenSSL can take
    (2 GiB - 1 byte, ``tightbind.tls.MAX_INPUT``), or a PKCS#12 file or encrypted key
    asking for more password key derivation than ``tightbind.tls.MAX_ITERATIONS``."""


class WrongPassword(OpenSSLError, ValueError):
    """The password does not open the file or key (or the file is corrupted)."""


class PasswordRequired(WrongPassword):
    """The private key is encrypted and no password was given."""


class NotPkcs12(OpenSSLError, ValueError):
    """The data is not a DER PKCS#12 file, or it is truncated."""


class MissingMac(OpenSSLError, ValueError):
    """The PKCS#12 file has no integrity MAC (refused unless ``allow_missing_mac=True``)."""


class UnsupportedAlgorithm(OpenSSLError):
    """No loaded OpenSSL provider implements an algorithm the data uses."""


class LegacyProviderUnavailable(UnsupportedAlgorithm):
    """The data needs OpenSSL's legacy provider (RC2, DES, ...) and it is not installed."""


class DecodeError(OpenSSLError, ValueError):
    """The data is not a valid certificate or private key in the format given."""


class BadSignature(OpenSSLError, ValueError):
    """A signature (over data, a certificate request, an SPKI) does not verify with the
    key given: another key signed it, or the data changed since."""


class KeyMismatch(OpenSSLError, ValueError):
    """The private key is not the one the certificate was issued for."""


class CaLocationError(OpenSSLError, OSError):
    """The cafile/capath could not be read as trusted certificates."""


class HandshakeError(OpenSSLError):
    """The TLS handshake or a later record failed (alert, protocol mismatch, ...)."""


class TlsConnectError(OpenSSLError, ConnectionError):
    """The TCP connection could not be made, or the socket failed under TLS."""


class TlsTimeout(OpenSSLError, TimeoutError):
    """Connecting, the handshake, or a read or write took longer than the timeout."""


class CertificateVerifyError(OpenSSLError):
    """A chain did not verify.

    ``verify_code`` is OpenSSL's X509_V_ERR_* number (-1 when unknown), ``reason`` its
    text (``"certificate has expired"``, ``"self-signed certificate in certificate
    chain"``, ``"unable to get local issuer certificate"``, ``"hostname mismatch"``;
    empty when unknown), ``depth`` the position in the chain of the certificate at fault
    (-1 when unknown), ``chain`` the certificates that were presented, leaf first, and
    ``certificate`` the certificate at fault when OpenSSL names it (from a
    :class:`~tightbind.tls.TrustStore`; else None).
    """

    def __init__(self, message: str, openssl_errors: Sequence[str] | ErrorQueue = (), *,
                 verify_code: int = -1, reason: str = "", depth: int = -1,
                 chain: Sequence[Certificate] = (),
                 certificate: Certificate | None = None) -> None:
        super().__init__(message, openssl_errors)
        self.verify_code = verify_code
        self.reason = reason
        self.depth = depth
        self.chain = tuple(chain)
        self.certificate = certificate


class HostnameMismatch(CertificateVerifyError):
    """The chain is trusted but the leaf is not valid for the expected host name."""
