"""Chain verification the way pyOpenSSL's ``OpenSSL.crypto`` did it: :class:`X509Store`,
:class:`X509StoreFlags`, :class:`X509StoreContext` and :class:`X509StoreContextError`,
over :class:`tightbind.tls.TrustStore` (C: ``csrc/tls_store.c``).

As in pyOpenSSL, a context verifies against its store as the store is when
:meth:`X509StoreContext.verify_certificate` runs (flags, CRLs and certificates added
after the context was made count), and a failure raises :class:`X509StoreContextError`
whose ``str()`` is OpenSSL's reason, with ``errors`` ``[code, depth, reason]`` and
``certificate`` a copy of the certificate at fault.
"""

from __future__ import annotations

import calendar
import datetime as _dt
from collections.abc import Sequence
from typing import Any

from tightbind.tls import errors as tls_errors
from tightbind.tls import x509 as tls_x509
from tightbind.tls._native import ffi, lib
from tightbind.tls.crl import CRL as TlsCRL
from tightbind.tls.crypto.crl import CRL
from tightbind.tls.crypto.errors import check
from tightbind.tls.crypto.x509 import X509
from tightbind.tls.store import PathArg, TrustStore, VerifyFlags, _c_path

__all__ = ["X509Store", "X509StoreContext", "X509StoreContextError", "X509StoreFlags"]


class X509StoreFlags:
    """OpenSSL's verification flags for :meth:`X509Store.set_flags` (the values of
    :class:`tightbind.tls.VerifyFlags`)."""

    CRL_CHECK: int = int(VerifyFlags.CRL_CHECK)
    CRL_CHECK_ALL: int = int(VerifyFlags.CRL_CHECK_ALL)
    IGNORE_CRITICAL: int = int(VerifyFlags.IGNORE_CRITICAL)
    X509_STRICT: int = int(VerifyFlags.X509_STRICT)
    ALLOW_PROXY_CERTS: int = int(VerifyFlags.ALLOW_PROXY_CERTS)
    POLICY_CHECK: int = int(VerifyFlags.POLICY_CHECK)
    EXPLICIT_POLICY: int = int(VerifyFlags.EXPLICIT_POLICY)
    INHIBIT_MAP: int = int(VerifyFlags.INHIBIT_MAP)
    CHECK_SS_SIGNATURE: int = int(VerifyFlags.CHECK_SS_SIGNATURE)
    PARTIAL_CHAIN: int = int(VerifyFlags.PARTIAL_CHAIN)


class X509Store:
    """Trusted certificates and CRLs with verification flags and time (pyOpenSSL's
    ``X509Store``), a :class:`tightbind.tls.TrustStore` underneath (``.trust_store``)."""

    __slots__ = ("trust_store",)

    def __init__(self) -> None:
        self.trust_store = TrustStore()

    def add_cert(self, cert: X509) -> None:
        """Trust ``cert``; TypeError when it is not an :class:`X509` (a certificate
        added twice is accepted)."""
        if not isinstance(cert, tls_x509.Certificate):
            raise TypeError("cert must be an X509 instance")
        self.trust_store.add_certificate(cert)

    def add_crl(self, crl: CRL | Any) -> None:
        """Add a CRL (a :class:`CRL`, or a ``cryptography`` CRL as pyOpenSSL 24 takes),
        used when the flags ask for CRL checks."""
        if not isinstance(crl, TlsCRL):
            crl = CRL.from_cryptography(crl)  # TypeError for anything else
        self.trust_store.add_crl(crl)

    def set_flags(self, flags: int) -> None:
        """Add verification flags (:class:`X509StoreFlags`, or-ed together)."""
        if isinstance(flags, bool) or not isinstance(flags, int):
            raise TypeError("flags must be an integer")
        self.trust_store.flags = self.trust_store.flags | flags

    def set_depth(self, depth: int) -> None:
        """Limit the intermediates a chain may have (not in pyOpenSSL 23.2; its
        ``X509_STORE_set_depth``)."""
        self.trust_store.depth = depth

    def set_time(self, vfy_time: _dt.datetime) -> None:
        """Verify at ``vfy_time`` instead of now: a naive datetime is UTC (as in
        pyOpenSSL), an aware one is converted."""
        if not isinstance(vfy_time, _dt.datetime):
            raise TypeError("vfy_time must be a datetime")
        if vfy_time.tzinfo is None:
            self.trust_store.set_time(calendar.timegm(vfy_time.timetuple()))
        else:
            self.trust_store.set_time(vfy_time)

    def load_locations(self, cafile: PathArg, capath: PathArg = None) -> None:
        """Trust the PEM certificates (and CRLs) of ``cafile`` and the hashed folder
        ``capath`` (str in the file system encoding, or bytes).  Raises a
        ``crypto.Error`` when both are None or the file holds nothing to load."""
        check(lib.tb_tls_store_load(self.trust_store._ptr, _c_path(cafile, "cafile"),
                                    _c_path(capath, "capath")),
              "cannot load trusted certificates",
              sentence=None if cafile is not None or capath is not None
              else "a cafile, a capath or both are needed")


class X509StoreContextError(tls_errors.CertificateVerifyError):
    """Verification failed (pyOpenSSL's ``X509StoreContextError``): ``str()`` is OpenSSL's
    reason, ``errors`` is ``[code, depth, reason]`` and ``certificate`` the
    :class:`X509` at fault.  Also a :class:`tightbind.tls.CertificateVerifyError`."""

    def __init__(self, message: str, errors: list[Any], certificate: X509 | None) -> None:
        code, depth = (errors[0], errors[1]) if len(errors) >= 2 else (-1, -1)
        super().__init__(message, verify_code=code, reason=message, depth=depth,
                         certificate=certificate)
        self.errors = errors


class X509StoreContext:
    """One certificate (with untrusted ``chain`` certificates) to verify against an
    :class:`X509Store` (pyOpenSSL's ``X509StoreContext``)."""

    __slots__ = ("_cert", "_chain", "_store")

    def __init__(self, store: X509Store, certificate: X509,
                 chain: Sequence[X509] | None = None) -> None:
        if not isinstance(store, X509Store):
            raise TypeError("store must be an X509Store")
        if not isinstance(certificate, tls_x509.Certificate):
            raise TypeError("certificate must be an X509 instance")
        certs = list(chain) if chain is not None else []  # TypeError for a non-iterable
        if not all(isinstance(cert, tls_x509.Certificate) for cert in certs):
            raise TypeError("One of the elements is not an X509 instance")
        self._store = store
        self._cert = certificate
        self._chain = certs

    def set_store(self, store: X509Store) -> None:
        """Verify against ``store`` from now on."""
        if not isinstance(store, X509Store):
            raise TypeError("store must be an X509Store")
        self._store = store

    def verify_certificate(self) -> None:
        """Verify; raises :class:`X509StoreContextError` when the chain does not."""
        self._verify(want_chain=False)

    def get_verified_chain(self) -> list[X509]:
        """Verify and return the chain, the certificate first and the trusted one last;
        raises :class:`X509StoreContextError` when it does not verify."""
        return self._verify(want_chain=True)

    def _verify(self, *, want_chain: bool) -> list[X509]:
        try:
            chain: list[X509] = self._store.trust_store._verify(
                self._cert, self._chain, (), None, None, None, X509, want_chain)
        except tls_errors.CertificateVerifyError as exc:
            raise X509StoreContextError(exc.reason, [exc.verify_code, exc.depth, exc.reason],
                                        _copy(exc.certificate)) from None
        return chain


def _copy(cert: tls_x509.Certificate | None) -> X509 | None:
    """A copy of the certificate at fault, as pyOpenSSL gave (changing it changes nothing
    else)."""
    if cert is None:
        return None
    ptr = lib.X509_dup(cert._ptr)
    if ptr == ffi.NULL:
        raise MemoryError("X509_dup failed")
    copy: X509 = X509._adopt(ptr, up_ref=False)
    return copy
