"""The exceptions of :mod:`tightbind.tls.crypto`, and the one ``check`` its modules call.

:class:`Error` is pyOpenSSL's ``OpenSSL.crypto.Error``: ``except crypto.Error`` code keeps
working, and ``args[0]`` is OpenSSL's error queue as a list of ``(lib, func, reason)``
tuples, as pyOpenSSL built it (``func`` is ``""``: OpenSSL 3 no longer names functions
there, and pyOpenSSL on OpenSSL 3 left it empty too).  ``str()`` of one is tightbind's
sentence followed by OpenSSL's reasons.

Each failure is also the :mod:`tightbind.tls` class for its case: a wrong passphrase
raises :class:`WrongPassword`, which is both a ``crypto.Error`` and a
:class:`tightbind.tls.WrongPassword` (so a ``ValueError`` and a
:class:`tightbind.TlsError` too).  The status-code table is the area's
(:data:`tightbind.tls._native.FAILURES`); only the classes are swapped for these.
"""

from __future__ import annotations

from typing import Any

from tightbind.tls import errors as tls_errors
from tightbind.tls._native import FAILURES, ffi, lib, take_buf

__all__ = [
    "DecodeError",
    "Error",
    "InvalidArgument",
    "LegacyProviderUnavailable",
    "MissingMac",
    "NotPkcs12",
    "NotProvided",
    "NotProvidedWarning",
    "OpenSSLFailure",
    "OutOfMemory",
    "PasswordRequired",
    "UnsupportedAlgorithm",
    "WrongPassword",
]


class Error(tls_errors.TlsError):
    """An OpenSSL failure in a :mod:`tightbind.tls.crypto` call (pyOpenSSL's
    ``OpenSSL.crypto.Error``).

    ``args[0]`` is ``[(lib, func, reason), ...]`` from OpenSSL's error queue, oldest first.
    """

    _text: str | None = None

    def __str__(self) -> str:
        return self._text if self._text is not None else super().__str__()


class OpenSSLFailure(Error, tls_errors._OpenSSLReasons):
    """An OpenSSL failure no narrower class describes."""


class OutOfMemory(Error, tls_errors.OutOfMemory):
    """OpenSSL or the shim could not allocate memory."""


class InvalidArgument(Error, tls_errors.InvalidArgument):
    """A value OpenSSL refused: an unknown digest or cipher, a time it cannot read, an
    extension it cannot make, a name value that does not fit, no key."""


class WrongPassword(Error, tls_errors.WrongPassword):
    """The passphrase does not open the key or the PKCS#12 file."""


class PasswordRequired(WrongPassword, tls_errors.PasswordRequired):
    """The key is encrypted and no passphrase (or callback) was given."""


class NotPkcs12(Error, tls_errors.NotPkcs12):
    """The data is not a DER PKCS#12 file, or it is truncated."""


class MissingMac(Error, tls_errors.MissingMac):
    """The PKCS#12 file has no integrity MAC (refused unless ``allow_missing_mac=True``)."""


class UnsupportedAlgorithm(Error, tls_errors.UnsupportedAlgorithm):
    """No loaded OpenSSL provider implements an algorithm the data uses."""


class LegacyProviderUnavailable(UnsupportedAlgorithm, tls_errors.LegacyProviderUnavailable):
    """The data or cipher needs OpenSSL's legacy provider and it is not installed."""


class DecodeError(Error, tls_errors.DecodeError):
    """The data is not a valid certificate or key, or the key is inconsistent."""


class NotProvided(tls_errors.TlsError, NotImplementedError):
    """A pyOpenSSL name :mod:`tightbind.tls.crypto` does not provide was used (CSRs, CRLs,
    PKCS#7, X509Store, NetscapeSPKI, raw sign/verify)."""


class NotProvidedWarning(DeprecationWarning):
    """Code imported a pyOpenSSL name :mod:`tightbind.tls.crypto` does not provide; the
    name imports (so that modules importing many names still load) and raises
    :class:`NotProvided` when used."""


_CRYPTO_CLASS: dict[type[BaseException], type[Error]] = {
    tls_errors.OutOfMemory: OutOfMemory,
    tls_errors.InvalidArgument: InvalidArgument,
    tls_errors.WrongPassword: WrongPassword,
    tls_errors.PasswordRequired: PasswordRequired,
    tls_errors.NotPkcs12: NotPkcs12,
    tls_errors.MissingMac: MissingMac,
    tls_errors.UnsupportedAlgorithm: UnsupportedAlgorithm,
    tls_errors.LegacyProviderUnavailable: LegacyProviderUnavailable,
    tls_errors.DecodeError: DecodeError,
}

# The area's table with these classes: one code, one sentence, wherever it is raised.
CRYPTO_FAILURES = {code: (_CRYPTO_CLASS.get(cls, OpenSSLFailure), sentence)
                   for code, (cls, sentence) in FAILURES.items()}

_DRAIN_CAPACITY = 8192


def drain_fields() -> list[tuple[str, str, str]]:
    """Take OpenSSL's queued errors off this thread's queue: ``(lib, reason, data)`` each,
    oldest first."""
    buf = ffi.new("char[]", _DRAIN_CAPACITY)
    if lib.tb_tls_drain_error_fields(buf, _DRAIN_CAPACITY) == 0:
        return []
    text = ffi.string(buf).decode("utf-8", "replace")
    fields = []
    for record in text.split("\x1e"):
        if record:
            library, reason, data = [*record.split("\x1f"), "", ""][:3]
            fields.append((library, reason, data))
    return fields


def from_queue(cls: type[Error], message: str) -> Error:
    """An exception of ``cls`` for ``message``, carrying what OpenSSL's error queue holds
    (which it empties): pyOpenSSL's tuples in ``args[0]``, the reasons also in
    ``openssl_errors`` and at the end of ``str()``."""
    fields = drain_fields()
    reasons = [f"{library}: {reason}" if library else reason for library, reason, _ in fields]
    reasons = [f"{text} ({data})" if data else text
               for text, (_, _, data) in zip(reasons, fields, strict=True)]
    exc = cls(message, reasons) if issubclass(cls, tls_errors._OpenSSLReasons) else cls(message)
    exc._text = str(exc)
    exc.args = ([(library, "", reason) for library, reason, _ in fields],)
    return exc


def check(rc: int, what: str, *, sentence: str | None = None) -> int:
    """Return ``rc`` when it is not negative; otherwise raise the :class:`Error` subclass
    the status code maps to, saying ``what`` failed and why (``sentence`` replaces the
    table's when the caller knows better)."""
    if rc >= 0:
        return rc
    cls, table_sentence = CRYPTO_FAILURES.get(rc, (OpenSSLFailure, ""))
    if sentence is None:
        sentence = table_sentence() if callable(table_sentence) else table_sentence
    if not sentence:
        sentence = (f"the native code returned status {rc}, which tightbind does not know "
                    "(please report this bug)")
    raise from_queue(cls, f"{what}: {sentence}")


def discard_queue() -> None:
    """Empty this thread's OpenSSL error queue (after a failure the caller handles)."""
    lib.ERR_clear_error()


def take_bytes(rc: int, out: Any, what: str) -> bytes:
    """The bytes of the ``tb_tls_buf`` a call stored in ``out[0]``, which is freed; raise
    through :func:`check` when ``rc`` is a failure."""
    return take_buf(check(rc, what), out, what)


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
