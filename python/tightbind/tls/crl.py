"""Certificate revocation lists: :class:`CRL` read (PEM, DER) and written (PEM, DER,
OpenSSL's text), its entries decoded in one native call, and :func:`build_crl`, which
makes and signs one from a list of :class:`RevokedCertificate` in one call (C:
``csrc/tls_crl.c``).  A :class:`~tightbind.tls.TrustStore` checks certificates against
them.

Build a CRL revoking one certificate and check a chain against it::

    from tightbind.tls import RevokedCertificate, TrustStore, build_crl

    crl = build_crl(ca_cert, ca_key, [RevokedCertificate(leaf.serial_number, when,
                                                         "keyCompromise")])
    store = TrustStore([ca_cert], crls=[crl], check_crls="leaf")
    store.verify(leaf)   # CertificateVerifyError: certificate revoked
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tightbind.tls._native import as_bytes, check, ffi, lib, take_buf
from tightbind.tls.pkcs12 import PKey
from tightbind.tls.x509 import (
    FILETYPE_ASN1,
    FILETYPE_PEM,
    Certificate,
    check_filetype,
    require_cryptography,
)

__all__ = ["CRL", "REASONS", "RevokedCertificate", "build_crl", "load_crl"]

# The CRLReason names of RFC 5280 (section 5.3.1) by code; 7 is unused.  OpenSSL's own
# table (OCSP_crl_reason_str) spells 0 to 8 the same and lacks 9 and 10.
REASONS: dict[int, str] = {
    0: "unspecified", 1: "keyCompromise", 2: "cACompromise", 3: "affiliationChanged",
    4: "superseded", 5: "cessationOfOperation", 6: "certificateHold", 8: "removeFromCRL",
    9: "privilegeWithdrawn", 10: "aACompromise",
}
"""CRLReason code -> name (``"keyCompromise"``, ...), as :class:`RevocationStatus` and
:class:`RevokedCertificate` spell them."""
_REASON_CODES = {name.lower(): code for code, name in REASONS.items()}

_FORMATS = {FILETYPE_PEM: lib.TB_TLS_FORMAT_PEM, FILETYPE_ASN1: lib.TB_TLS_FORMAT_DER}


def _when(seconds: int) -> _dt.datetime | None:
    if seconds == lib.TB_TLS_NO_TIME:
        return None
    return _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc) + _dt.timedelta(seconds=seconds)


def _seconds(when: _dt.datetime, what: str) -> int:
    if not isinstance(when, _dt.datetime):
        raise TypeError(f"{what} must be a datetime, not {type(when).__name__}")
    if when.tzinfo is None:
        raise ValueError(f"{what} must be an aware datetime (tzinfo set)")
    delta = when - _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
    return delta.days * 86400 + delta.seconds


def reason_code(reason: str | None) -> int:
    """The CRLReason code of a name of :data:`REASONS` (any case; -1 for None);
    ValueError for another."""
    if reason is None:
        return -1
    if not isinstance(reason, str):
        raise TypeError(f"reason must be a str or None, not {type(reason).__name__}")
    try:
        return _REASON_CODES[reason.lower()]
    except KeyError:
        raise ValueError(f"unknown revocation reason {reason!r}: one of "
                         f"{', '.join(REASONS.values())}") from None


@dataclass(frozen=True)
class RevokedCertificate:
    """One entry of a CRL: the serial number revoked, when, and why (a name of
    :data:`REASONS`, or None when the entry gives none).  ``revocation_date`` is an
    aware datetime (None only in an entry built without one by the crypto face)."""

    serial_number: int
    revocation_date: _dt.datetime | None
    reason: str | None = None


class CRL:
    """A certificate revocation list.

    Made by :func:`load_crl`, :meth:`from_pem`, :meth:`from_der` or :func:`build_crl`.
    The fields come from one native call that decodes the whole list (on first use);
    ``issuer`` is the issuer's name on one line (``/C=US/O=.../CN=...``, as
    :class:`RevocationStatus` gives a CRL's signer).
    """

    __slots__ = ("_fields", "_ptr")

    def __init__(self, ptr: Any) -> None:
        self._ptr = ptr
        self._fields: dict[str, Any] | None = None

    @classmethod
    def _adopt(cls, ptr: Any) -> Any:
        crl = cls.__new__(cls)
        CRL.__init__(crl, ffi.gc(ptr, lib.X509_CRL_free))
        return crl

    def _changed(self) -> None:
        self._fields = None

    @classmethod
    def from_pem(cls, data: bytes | str) -> Any:
        """The first CRL of PEM text; raises :class:`DecodeError`."""
        return _load(cls, lib.TB_TLS_FORMAT_PEM, data)

    @classmethod
    def from_der(cls, data: bytes) -> Any:
        """A CRL from DER bytes (all of them); raises :class:`DecodeError`."""
        return _load(cls, lib.TB_TLS_FORMAT_DER, data)

    def _decoded(self) -> dict[str, Any]:
        if self._fields is None:
            self._fields = _decode(self._ptr)
        return self._fields

    @property
    def version(self) -> int:
        """1 or 2 (the version field plus one, as for certificates)."""
        return int(self._decoded()["version"])

    @property
    def issuer(self) -> str:
        """The issuer's name on one line, e.g. ``"/C=US/O=Example/CN=Example CA"``."""
        return str(self._decoded()["issuer"])

    @property
    def last_update(self) -> _dt.datetime | None:
        """thisUpdate (``lastUpdate`` in OpenSSL), an aware datetime."""
        return self._decoded()["last_update"]  # type: ignore[no-any-return]

    @property
    def next_update(self) -> _dt.datetime | None:
        """nextUpdate, or None when the CRL gives none."""
        return self._decoded()["next_update"]  # type: ignore[no-any-return]

    @property
    def crl_number(self) -> int | None:
        """The cRLNumber extension, or None."""
        return self._decoded()["crl_number"]  # type: ignore[no-any-return]

    @property
    def signature_algorithm(self) -> str:
        """OpenSSL's long name of the signature algorithm ("" for an unsigned CRL)."""
        return str(self._decoded()["signature_algorithm"])

    @property
    def revoked(self) -> tuple[RevokedCertificate, ...]:
        """Every entry, in the CRL's order."""
        return self._decoded()["revoked"]  # type: ignore[no-any-return]

    def find(self, serial_number: int) -> RevokedCertificate | None:
        """The entry for ``serial_number``, or None when it is not revoked here."""
        for entry in self.revoked:
            if entry.serial_number == serial_number:
                return entry
        return None

    def dump(self, filetype: int = FILETYPE_PEM) -> bytes:
        """The CRL as PEM or DER (:data:`FILETYPE_PEM`, :data:`FILETYPE_ASN1`)."""
        return _dump(self, _FORMATS[FILETYPE_PEM if check_filetype(filetype) else FILETYPE_ASN1])

    @property
    def der(self) -> bytes:
        """The DER encoding."""
        return _dump(self, lib.TB_TLS_FORMAT_DER)

    @property
    def pem(self) -> str:
        """The PEM text."""
        return _dump(self, lib.TB_TLS_FORMAT_PEM).decode("ascii")

    def to_text(self) -> str:
        """OpenSSL's print-out (``openssl crl -text``)."""
        return _dump(self, lib.TB_TLS_FORMAT_TEXT).decode("utf-8", "replace")

    def to_cryptography(self) -> Any:
        """This CRL as a ``cryptography.x509.CertificateRevocationList`` (moved as DER);
        :class:`ModuleNotFoundError` without cryptography."""
        x509 = require_cryptography("CRL.to_cryptography()").x509
        return x509.load_der_x509_crl(self.der)

    @classmethod
    def from_cryptography(cls, crypto_crl: Any) -> Any:
        """A CRL of this class from a ``cryptography.x509.CertificateRevocationList``;
        TypeError for other objects."""
        cryptography = require_cryptography("CRL.from_cryptography()")
        if not isinstance(crypto_crl, cryptography.x509.CertificateRevocationList):
            raise TypeError("Must be a certificate revocation list: a cryptography.x509."
                            f"CertificateRevocationList, not {type(crypto_crl).__name__}")
        der = crypto_crl.public_bytes(cryptography.Encoding.DER)
        return cls.from_der(der)

    def __repr__(self) -> str:
        return f"<CRL issuer={self.issuer!r} entries={len(self.revoked)}>"


def _load(cls: type, fmt: int, data: bytes | str) -> Any:
    raw = as_bytes(data, "CRL")
    out = ffi.new("X509_CRL **")
    check(lib.tb_tls_crl_load(raw, len(raw), fmt, out), "cannot read the CRL")
    return cls._adopt(out[0])  # type: ignore[attr-defined]


def _dump(crl: CRL, fmt: int) -> bytes:
    out = ffi.new("tb_tls_buf **")
    return take_buf(lib.tb_tls_crl_dump(crl._ptr, fmt, out), out, "cannot encode the CRL")


def _reason_name(code: int) -> str | None:
    if code == -1:
        return None
    return REASONS.get(code, f"unknown reason {code}" if code >= 0 else "undecodable reason")


def _decode(ptr: Any) -> dict[str, Any]:
    out = ffi.new("tb_tls_crl_info **")
    check(lib.tb_tls_crl_decode(ptr, out), "cannot decode the CRL")
    info = out[0]
    try:
        count = info.count
        serials, times, reasons = [], [], []
        if count:
            serials = ffi.unpack(info.serials, info.serials_len).split(b"\0")[:count]
            times = ffi.unpack(info.revocation_times, count)
            reasons = ffi.unpack(info.reasons, count)
        number = ffi.string(info.crl_number) if info.crl_number != ffi.NULL else None
        return {
            "version": info.version,
            "issuer": ffi.string(info.issuer).decode("utf-8", "replace"),
            "last_update": _when(info.last_update),
            "next_update": _when(info.next_update),
            "crl_number": int(number, 16) if number is not None else None,
            "signature_algorithm": ffi.string(info.signature_algorithm).decode("ascii",
                                                                              "replace"),
            "revoked": tuple(RevokedCertificate(int(serial, 16), _when(seconds),
                                                _reason_name(code))
                             for serial, seconds, code in zip(serials, times, reasons,
                                                              strict=True)),
        }
    finally:
        lib.tb_tls_crl_info_free(info)


def load_crl(filetype: int, data: bytes | str) -> CRL:
    """Read one CRL, PEM (:data:`FILETYPE_PEM`) or DER (:data:`FILETYPE_ASN1`).

    Raises ValueError for another file type, :class:`DecodeError` when the data holds no
    valid CRL and :class:`InputTooLarge` past 2 GiB.
    """
    fmt = _FORMATS[FILETYPE_PEM if check_filetype(filetype) else FILETYPE_ASN1]
    return _load(CRL, fmt, data)  # type: ignore[no-any-return]


def build_crl(issuer: Certificate, key: PKey, revoked: Iterable[RevokedCertificate] = (), *,
              last_update: _dt.datetime | None = None,
              next_update: _dt.datetime | _dt.timedelta | None = _dt.timedelta(days=7),
              digest: str | None = "sha256", crl_number: int | None = None) -> CRL:
    """Make a v2 CRL issued by ``issuer`` and signed with its private ``key``.

    ``revoked`` lists the entries (an entry's ``revocation_date`` None means
    ``last_update``); ``last_update`` defaults to now, ``next_update`` is a datetime or
    a time after ``last_update`` (None: the CRL gives none); ``digest`` is the signature
    digest (None for Ed25519/Ed448 keys); ``crl_number`` adds the cRLNumber extension.
    The entries are built, sorted and signed in one native call.  Raises TypeError and
    ValueError for bad arguments (an unknown reason or digest, a naive datetime) and
    :class:`TlsError` when OpenSSL cannot sign with the key.
    """
    if not isinstance(issuer, Certificate):
        raise TypeError("issuer must be a Certificate")
    if not isinstance(key, PKey):
        raise TypeError("key must be a PKey")
    now = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0)
    last = _seconds(last_update if last_update is not None else now, "last_update")
    if isinstance(next_update, _dt.timedelta):
        next_seconds = last + int(next_update.total_seconds())
    elif next_update is None:
        next_seconds = lib.TB_TLS_NO_TIME
    else:
        next_seconds = _seconds(next_update, "next_update")
    entries = list(revoked)
    keep = []  # the char[] serials, alive until the call returns
    array = ffi.new("tb_tls_crl_entry[]", max(len(entries), 1))
    for slot, entry in zip(array, entries, strict=False):
        if not isinstance(entry, RevokedCertificate):
            raise TypeError("revoked must hold RevokedCertificate entries")
        if not isinstance(entry.serial_number, int):
            raise TypeError("serial_number must be an int")
        keep.append(ffi.new("char[]", f"{entry.serial_number:x}".encode()))
        slot.serial = keep[-1]
        slot.revocation_time = (last if entry.revocation_date is None
                                else _seconds(entry.revocation_date, "revocation_date"))
        slot.reason = reason_code(entry.reason)
    if crl_number is not None and (not isinstance(crl_number, int) or crl_number < 0):
        raise ValueError("crl_number must be a non-negative int")
    digest_arg = ffi.NULL if digest is None else _text(digest, "digest")
    number_arg = ffi.NULL if crl_number is None else f"{crl_number:x}".encode()
    out = ffi.new("X509_CRL **")
    check(lib.tb_tls_crl_build(issuer._ptr, key._ptr, digest_arg, array, len(entries), last,
                               next_seconds, number_arg, out),
          "cannot build the CRL")
    return CRL._adopt(out[0])  # type: ignore[no-any-return]


def _text(value: str, what: str) -> bytes:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    raw = value.encode("utf-8")
    if b"\0" in raw:
        raise ValueError(f"{what} must not contain NUL bytes")
    return raw
