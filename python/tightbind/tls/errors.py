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
    "CaLocationError",
    "CertificateVerifyError",
    "DecodeError",
    "HandshakeError",
    "HostnameMismatch",
    "InputTooLarge",
    "InvalidArgument",
    "LegacyProviderUnavailable",
    "MissingMac",
    "NotPkcs12",
    "OutOfMemory",
    "PasswordRequired",
    "TlsConnectError",
    "TlsError",
    "TlsTimeout",
    "UnsupportedAlgorithm",
    "WrongPassword",
]


class _OpenSSLReasons(TlsError):
    """Base of the classes below: keeps the drained OpenSSL error queue on the exception.

    Raised itself for an OpenSSL failure no narrower class describes.
    """

    def __init__(self, message: str, openssl_errors: Sequence[str] = ()) -> None:
        self.openssl_errors = list(openssl_errors)
        if self.openssl_errors:
            message = f"{message} (OpenSSL: {'; '.join(self.openssl_errors)})"
        super().__init__(message)


class OutOfMemory(_OpenSSLReasons, MemoryError):
    """OpenSSL or the shim could not allocate memory."""


class InvalidArgument(_OpenSSLReasons, ValueError):
    """An argument OpenSSL refused (unknown cipher name, bad host name, ...)."""


class InputTooLarge(_OpenSSLReasons, ValueError):
    """A certificate, key, bundle, PKCS#12 file or password longer than OpenSSL can take
    (2 GiB - 1 byte, ``tightbind.tls.MAX_INPUT``), or a PKCS#12 file or encrypted key
    asking for more password key derivation than ``tightbind.tls.MAX_ITERATIONS``."""


class WrongPassword(_OpenSSLReasons, ValueError):
    """The password does not open the file or key (or the file is corrupted)."""


class PasswordRequired(WrongPassword):
    """The private key is encrypted and no password was given."""


class NotPkcs12(_OpenSSLReasons, ValueError):
    """The data is not a DER PKCS#12 file, or it is truncated."""


class MissingMac(_OpenSSLReasons, ValueError):
    """The PKCS#12 file has no integrity MAC (refused unless ``allow_missing_mac=True``)."""


class UnsupportedAlgorithm(_OpenSSLReasons):
    """No loaded OpenSSL provider implements an algorithm the data uses."""


class LegacyProviderUnavailable(UnsupportedAlgorithm):
    """The data needs OpenSSL's legacy provider (RC2, DES, ...) and it is not installed."""


class DecodeError(_OpenSSLReasons, ValueError):
    """The data is not a valid certificate or private key in the format given."""


class CaLocationError(_OpenSSLReasons, OSError):
    """The cafile/capath could not be read as trusted certificates."""


class HandshakeError(_OpenSSLReasons):
    """The TLS handshake or a later record failed (alert, protocol mismatch, ...)."""


class TlsConnectError(_OpenSSLReasons, ConnectionError):
    """The TCP connection could not be made, or the socket failed under TLS."""


class TlsTimeout(_OpenSSLReasons, TimeoutError):
    """Connecting, the handshake, or a read or write took longer than the timeout."""


class CertificateVerifyError(_OpenSSLReasons):
    """A chain did not verify.

    ``verify_code`` is OpenSSL's X509_V_ERR_* number (-1 when unknown), ``reason`` its
    text (``"certificate has expired"``, ``"self-signed certificate in certificate
    chain"``, ``"unable to get local issuer certificate"``, ``"hostname mismatch"``;
    empty when unknown), ``depth`` the position in the chain of the certificate at fault
    (-1 when unknown), ``chain`` the certificates that were presented, leaf first, and
    ``certificate`` the certificate at fault when OpenSSL names it (from a
    :class:`~tightbind.tls.TrustStore`; else None).
    """

    def __init__(self, message: str, openssl_errors: Sequence[str] = (), *,
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
