"""Certificate revocation lists the way pyOpenSSL's ``OpenSSL.crypto`` built and read them:
:class:`CRL`, :class:`Revoked`, :func:`load_crl` and :func:`dump_crl` (C:
``csrc/tls_crl.c``).

A :class:`CRL` is also a :class:`tightbind.tls.CRL` (``.revoked``, ``.issuer``,
``.next_update``, ... and every tightbind call that takes one).  As in pyOpenSSL, entries
go in and come out by value: :meth:`CRL.add_revoked` copies the :class:`Revoked`, and
:meth:`CRL.get_revoked` returns copies.  pyOpenSSL removed these names in 24.3; this
module keeps 23.2's behaviour.
"""

from __future__ import annotations

import builtins
import time
from typing import Any, ClassVar

from tightbind.tls import crl as tls_crl
from tightbind.tls import x509 as tls_x509
from tightbind.tls._native import ffi, lib
from tightbind.tls.crypto.constants import FILETYPE_ASN1, FILETYPE_PEM, FILETYPE_TEXT
from tightbind.tls.crypto.errors import InvalidArgument, check, discard_queue, take_bytes, text_arg
from tightbind.tls.crypto.x509 import X509Name
from tightbind.tls.pkcs12 import PKey as TlsPKey

__all__ = ["CRL", "Revoked", "dump_crl", "load_crl"]

_LOAD_FORMATS = {FILETYPE_PEM: lib.TB_TLS_FORMAT_PEM, FILETYPE_ASN1: lib.TB_TLS_FORMAT_DER}
_DUMP_FORMATS = {**_LOAD_FORMATS, FILETYPE_TEXT: lib.TB_TLS_FORMAT_TEXT}
_UNSPECIFIED: Any = object()


def _when_arg(when: object) -> bytes:
    if not isinstance(when, bytes):
        raise TypeError("when must be a byte string")
    if b"\0" in when:
        raise ValueError("when must not contain NUL bytes")
    return when


def _invalid_time(rc: int, when: bytes) -> None:
    if rc == lib.TB_E_ARG:
        discard_queue()
        raise InvalidArgument(f"Invalid string {when!r}: use YYYYMMDDhhmmssZ")
    check(rc, "cannot set the time")


class Revoked:
    """One revocation (pyOpenSSL's ``Revoked``): a serial number as hex bytes, a date as
    ASN.1 time bytes and a reason from :meth:`all_reasons`."""

    __slots__ = ("_ptr",)

    # The reasons pyOpenSSL offered (RFC 5280 codes 0 to 6), as it spelled them.
    _crl_reasons: ClassVar[tuple[bytes, ...]] = (
        b"unspecified", b"keyCompromise", b"CACompromise", b"affiliationChanged", b"superseded",
        b"cessationOfOperation", b"certificateHold")

    def __init__(self) -> None:
        ptr = lib.X509_REVOKED_new()
        if ptr == ffi.NULL:
            raise MemoryError("X509_REVOKED_new failed")
        self._ptr = ffi.gc(ptr, lib.X509_REVOKED_free)

    @classmethod
    def _adopt(cls, ptr: Any) -> Revoked:
        revoked = cls.__new__(cls)
        revoked._ptr = ffi.gc(ptr, lib.X509_REVOKED_free)
        return revoked

    def set_serial(self, hex_str: bytes) -> None:
        """Set the serial number from hex digits (as pyOpenSSL, the leading hex digits of
        ``hex_str``: ``b"31ppp"`` is 0x31); ValueError when it starts with none."""
        if not isinstance(hex_str, bytes):
            raise TypeError("hex_str must be a byte string")
        rc = lib.tb_tls_revoked_set_serial(self._ptr, hex_str.split(b"\0", 1)[0], 0)
        if rc == lib.TB_E_ARG:
            discard_queue()
            raise ValueError("bad hex string")
        check(rc, "cannot set the serial number")

    def get_serial(self) -> bytes:
        """The serial number as upper-case hex bytes, an even number of digits."""
        out = ffi.new("tb_tls_buf **")
        return take_bytes(lib.tb_tls_revoked_serial(self._ptr, out), out,
                          "cannot read the serial number")

    def set_reason(self, reason: bytes | None) -> None:
        """Set the reason, one of :meth:`all_reasons` (any case, spaces ignored), or
        remove it (None); TypeError for other types, ValueError for other reasons."""
        if reason is None:
            code = -1
        elif not isinstance(reason, bytes):
            raise TypeError("reason must be None or a byte string")
        else:
            wanted = reason.lower().replace(b" ", b"")
            known = [name.lower() for name in self._crl_reasons]
            if wanted not in known:
                raise ValueError(f"unknown reason {reason!r}: one of {self._crl_reasons}")
            code = known.index(wanted)
        check(lib.tb_tls_revoked_set_reason(self._ptr, code), "cannot set the reason")

    def get_reason(self) -> bytes | None:
        """The reason as OpenSSL prints it (``b"Key Compromise"``), or None."""
        out = ffi.new("tb_tls_buf **")
        rc = lib.tb_tls_revoked_reason(self._ptr, out)
        if rc == lib.TB_TLS_ABSENT:
            return None
        return take_bytes(rc, out, "cannot read the reason")

    def all_reasons(self) -> list[bytes]:
        """The reasons :meth:`set_reason` takes (a copy)."""
        return list(self._crl_reasons)

    def set_rev_date(self, when: bytes) -> None:
        """Set the revocation date from ASN.1 time bytes (``b"YYYYMMDDhhmmssZ"``)."""
        _invalid_time(lib.tb_tls_revoked_set_date(self._ptr, _when_arg(when)), when)

    def get_rev_date(self) -> bytes | None:
        """The revocation date as GeneralizedTime bytes, or None when not set."""
        out = ffi.new("tb_tls_buf **")
        rc = lib.tb_tls_revoked_date(self._ptr, out)
        if rc == lib.TB_TLS_ABSENT:
            return None
        return take_bytes(rc, out, "cannot read the date")

    def __repr__(self) -> str:
        return f"<Revoked serial={self.get_serial().decode()}>"


class CRL(tls_crl.CRL):
    """A certificate revocation list to build or read (pyOpenSSL's ``CRL``): ``CRL()`` is
    empty; add :class:`Revoked` entries, then :meth:`sign` or :meth:`export` it."""

    __slots__ = ()

    def __init__(self) -> None:
        ptr = lib.X509_CRL_new()
        if ptr == ffi.NULL:
            raise MemoryError("X509_CRL_new failed")
        super().__init__(ffi.gc(ptr, lib.X509_CRL_free))

    def get_revoked(self) -> tuple[Revoked, ...] | None:
        """Copies of the entries, or None when there are none."""
        entries = []
        for index in range(lib.tb_tls_crl_revoked_count(self._ptr)):
            out = ffi.new("X509_REVOKED **")
            check(lib.tb_tls_crl_revoked(self._ptr, index, out), "cannot read the entry")
            entries.append(Revoked._adopt(out[0]))
        return tuple(entries) or None

    def add_revoked(self, revoked: Revoked) -> None:
        """Add a copy of ``revoked``."""
        if not isinstance(revoked, Revoked):
            raise TypeError("revoked must be a Revoked instance")
        check(lib.tb_tls_crl_add_revoked(self._ptr, revoked._ptr), "cannot add the entry")
        self._changed()

    def get_issuer(self) -> X509Name:
        """A copy of the issuer's name."""
        ptr = lib.X509_NAME_dup(lib.X509_CRL_get_issuer(self._ptr))
        if ptr == ffi.NULL:
            raise MemoryError("X509_NAME_dup failed")
        return X509Name._view(ffi.gc(ptr, lib.X509_NAME_free), None)

    def set_version(self, version: int) -> None:
        """Set the version field (0-based: 1 is v2)."""
        if isinstance(version, bool) or not isinstance(version, int):
            raise TypeError("version must be an integer")
        if not 0 <= version <= 1 or lib.X509_CRL_set_version(self._ptr, version) != 1:
            discard_queue()
            raise InvalidArgument(f"cannot set version {version}: 0 (v1) or 1 (v2)")
        self._changed()

    def _set_time(self, which: int, when: bytes) -> None:
        _invalid_time(lib.tb_tls_crl_set_time(self._ptr, which, _when_arg(when)), when)
        self._changed()

    def set_lastUpdate(self, when: bytes) -> None:
        """Set thisUpdate from ASN.1 time bytes (``b"YYYYMMDDhhmmssZ"``)."""
        self._set_time(lib.TB_TLS_CRL_LAST_UPDATE, when)

    def set_nextUpdate(self, when: bytes) -> None:
        """Set nextUpdate from ASN.1 time bytes."""
        self._set_time(lib.TB_TLS_CRL_NEXT_UPDATE, when)

    def sign(self, issuer_cert: tls_x509.Certificate, issuer_key: TlsPKey,
             digest: bytes | str) -> None:
        """Sign with the issuer's key and a digest name, taking the issuer's subject as
        the CRL's issuer (entries are sorted by serial first)."""
        self._sign(issuer_cert, issuer_key, digest)

    def _sign(self, cert: Any, key: Any, digest: Any) -> None:
        if not isinstance(cert, tls_x509.Certificate):
            raise TypeError("cert must be an X509 instance")
        if not isinstance(key, TlsPKey):
            raise TypeError("key must be a PKey instance")
        rc = lib.tb_tls_crl_sign(self._ptr, cert._ptr, key._ptr, text_arg(digest, "digest"))
        self._changed()
        if rc == lib.TB_E_ARG:
            discard_queue()
            raise InvalidArgument(f"No such digest method: {digest!r}")
        check(rc, "cannot sign the CRL")

    def export(self, cert: tls_x509.Certificate, key: TlsPKey, type: int = FILETYPE_PEM,
               days: int = 100, digest: bytes | str = _UNSPECIFIED) -> bytes:
        """Set thisUpdate to now and nextUpdate ``days`` later, sign (as :meth:`sign`)
        and return the CRL as PEM, DER or text.  ``digest`` is required (TypeError
        without it)."""
        if not isinstance(cert, tls_x509.Certificate):
            raise TypeError("cert must be an X509 instance")
        if not isinstance(key, TlsPKey):
            raise TypeError("key must be a PKey instance")
        if isinstance(type, bool) or not isinstance(type, int):
            raise TypeError("type must be an integer")
        if isinstance(days, bool) or not isinstance(days, int):
            raise TypeError("days must be an integer")
        if digest is _UNSPECIFIED:
            raise TypeError("digest must be provided")
        if not -(2**40) < days < 2**40:
            raise ValueError("days is out of range")
        for which, seconds in ((lib.TB_TLS_CRL_LAST_UPDATE, 0),
                               (lib.TB_TLS_CRL_NEXT_UPDATE, days * 86400)):
            check(lib.tb_tls_crl_set_posix_time(self._ptr, which, _now() + seconds),
                  "cannot set the time")
        self._sign(cert, key, digest)
        return dump_crl(type, self)


def _now() -> int:
    return int(time.time())


def dump_crl(type: int, crl: tls_crl.CRL) -> bytes:
    """``crl`` as PEM, DER or OpenSSL's text print-out (``FILETYPE_TEXT``)."""
    if not isinstance(crl, tls_crl.CRL):
        raise TypeError("crl must be a CRL")
    try:
        fmt = _DUMP_FORMATS[type]
    except (KeyError, TypeError):
        raise ValueError("type argument must be FILETYPE_PEM, FILETYPE_ASN1, or "
                         "FILETYPE_TEXT") from None
    out = ffi.new("tb_tls_buf **")
    return take_bytes(lib.tb_tls_crl_dump(crl._ptr, fmt, out), out, "cannot encode the CRL")


def load_crl(type: int, buffer: bytes | str) -> CRL:
    """Read one CRL, PEM or DER; ValueError for another file type, a ``crypto.Error``
    when the data holds no valid CRL."""
    if isinstance(buffer, str):
        buffer = buffer.encode("ascii")
    if not isinstance(buffer, (bytes, bytearray, memoryview)):
        raise TypeError(f"buffer must be bytes or str, not {builtins.type(buffer).__name__}")
    try:
        fmt = _LOAD_FORMATS[type]
    except (KeyError, TypeError):
        raise ValueError("type argument must be FILETYPE_PEM or FILETYPE_ASN1") from None
    data = bytes(buffer)
    out = ffi.new("X509_CRL **")
    check(lib.tb_tls_crl_load(data, len(data), fmt, out), "cannot read the CRL")
    crl: CRL = CRL._adopt(out[0])
    return crl
