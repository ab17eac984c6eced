"""Trust stores: :class:`TrustStore`, the trusted certificates, CRLs and settings a chain
is verified against, and its :meth:`~TrustStore.verify`, which checks revocation when
asked (C: ``csrc/tls_store.c``).

:func:`~tightbind.tls.verify_chain` verifies against the system store or a cafile in one
call; a :class:`TrustStore` is for everything else: trust built from certificates in
memory, CRLs, verification flags, a depth limit, a fixed verification time::

    store = TrustStore([root], crls=[root_crl, intermediate_crl], check_crls="all")
    chain = store.verify(leaf, [intermediate])   # leaf to root
    # or CertificateVerifyError: .reason "certificate revoked", .depth, .certificate

A store may be read by several threads at once (verifications); change it from one.
"""

from __future__ import annotations

import datetime as _dt
import enum
import os
from collections.abc import Iterable, Sequence
from typing import Any, cast

from tightbind.tls._native import c_text, check, drain, ffi, lib
from tightbind.tls.crl import CRL
from tightbind.tls.errors import CertificateVerifyError
from tightbind.tls.verify import verify_exception
from tightbind.tls.x509 import Certificate

__all__ = ["TrustStore", "VerifyFlags"]

PathArg = str | bytes | os.PathLike[str] | os.PathLike[bytes] | None


class VerifyFlags(enum.IntFlag):
    """OpenSSL's verification flags (``X509_V_FLAG_*``, read from the library)."""

    CRL_CHECK = lib.X509_V_FLAG_CRL_CHECK
    """Check the leaf against its issuer's CRL (which must be there)."""
    CRL_CHECK_ALL = lib.X509_V_FLAG_CRL_CHECK_ALL
    """With CRL_CHECK: check every certificate of the chain."""
    IGNORE_CRITICAL = lib.X509_V_FLAG_IGNORE_CRITICAL
    X509_STRICT = lib.X509_V_FLAG_X509_STRICT
    ALLOW_PROXY_CERTS = lib.X509_V_FLAG_ALLOW_PROXY_CERTS
    POLICY_CHECK = lib.X509_V_FLAG_POLICY_CHECK
    EXPLICIT_POLICY = lib.X509_V_FLAG_EXPLICIT_POLICY
    INHIBIT_MAP = lib.X509_V_FLAG_INHIBIT_MAP
    CHECK_SS_SIGNATURE = lib.X509_V_FLAG_CHECK_SS_SIGNATURE
    PARTIAL_CHAIN = lib.X509_V_FLAG_PARTIAL_CHAIN
    """Trust a chain that ends at any trusted certificate, not only at a root."""


_CRL_FLAGS = {None: 0, "leaf": VerifyFlags.CRL_CHECK,
              "all": VerifyFlags.CRL_CHECK | VerifyFlags.CRL_CHECK_ALL}


def _crl_flags(check_crls: str | None) -> int:
    try:
        return int(_CRL_FLAGS[check_crls])
    except (KeyError, TypeError):
        raise ValueError("check_crls must be None, 'leaf' or 'all'") from None


def _seconds(at_time: _dt.datetime | float) -> int:
    if isinstance(at_time, _dt.datetime):
        if at_time.tzinfo is None:
            raise ValueError("at_time must be an aware datetime")
        return int(at_time.timestamp())
    if isinstance(at_time, bool) or not isinstance(at_time, (int, float)):
        raise TypeError("at_time must be a datetime or POSIX seconds")
    if at_time != at_time or abs(at_time) > 2**62:
        raise ValueError("at_time must be a finite time")
    return int(at_time)


def _certificates(values: Iterable[Any], what: str) -> list[Certificate]:
    certs = list(values)
    if not all(isinstance(cert, Certificate) for cert in certs):
        raise TypeError(f"{what} must hold Certificates")
    return certs


def _crls(values: Iterable[Any]) -> list[CRL]:
    crls = list(values)
    if not all(isinstance(crl, CRL) for crl in crls):
        raise TypeError("crls must hold CRLs")
    return crls


class TrustStore:
    """Trusted certificates and CRLs, with verification settings (OpenSSL's X509_STORE).

    ``certificates`` are trusted as given (roots, or any certificate with
    ``VerifyFlags.PARTIAL_CHAIN``); ``cafile``/``capath`` add PEM files or a hashed
    folder (``openssl rehash``), CRLs in them included.  ``check_crls``: None (no
    revocation check), ``"leaf"`` (the leaf's issuer must have a CRL here) or ``"all"``
    (every certificate's).  ``flags`` adds :class:`VerifyFlags`; ``depth`` limits the
    intermediates; ``at_time`` (aware datetime or POSIX seconds) replaces now.
    Raises TypeError for wrong types and :class:`CaLocationError` for locations that
    cannot be loaded.
    """

    __slots__ = ("_certs", "_crls", "_ptr")

    def __init__(self, certificates: Iterable[Certificate] = (), *, crls: Iterable[CRL] = (),
                 cafile: PathArg = None, capath: PathArg = None,
                 check_crls: str | None = None, flags: int = 0, depth: int | None = None,
                 at_time: _dt.datetime | float | None = None) -> None:
        out = ffi.new("X509_STORE **")
        check(lib.tb_tls_store_new(out), "cannot make a trust store")
        self._ptr = ffi.gc(out[0], lib.X509_STORE_free)
        self._certs: list[Certificate] = []  # kept so that their wrappers outlive the store
        self._crls: list[CRL] = []
        for cert in _certificates(certificates, "certificates"):
            self.add_certificate(cert)
        for crl in _crls(crls):
            self.add_crl(crl)
        if cafile is not None or capath is not None:
            self.load_locations(cafile, capath)
        self.flags = flags  # checked
        self.flags = self.flags | _crl_flags(check_crls)
        if depth is not None:
            self.depth = depth
        if at_time is not None:
            self.set_time(at_time)

    def add_certificate(self, cert: Certificate) -> None:
        """Trust ``cert`` (adding one that is there already does nothing)."""
        if not isinstance(cert, Certificate):
            raise TypeError(f"cert must be a Certificate, not {type(cert).__name__}")
        check(lib.tb_tls_store_add_cert(self._ptr, cert._ptr), "cannot add the certificate")
        self._certs.append(cert)

    def add_crl(self, crl: CRL) -> None:
        """Add a CRL, used when :attr:`flags` ask for CRL checks."""
        if not isinstance(crl, CRL):
            raise TypeError(f"crl must be a CRL, not {type(crl).__name__}")
        check(lib.tb_tls_store_add_crl(self._ptr, crl._ptr), "cannot add the CRL")
        self._crls.append(crl)

    def load_locations(self, cafile: PathArg = None, capath: PathArg = None) -> None:
        """Trust the PEM certificates (and CRLs) of ``cafile`` and those found in the
        hashed folder ``capath`` (read as issuers are looked up).  Raises ValueError
        when both are None, :class:`CaLocationError` when the file holds nothing
        OpenSSL can load."""
        if cafile is None and capath is None:
            raise ValueError("load_locations needs a cafile, a capath or both")
        check(lib.tb_tls_store_load(self._ptr, _c_path(cafile, "cafile"),
                                    _c_path(capath, "capath")),
              f"cannot load trusted certificates from {cafile or capath!r}")

    @property
    def _param(self) -> Any:
        return lib.X509_STORE_get0_param(self._ptr)

    @property
    def flags(self) -> VerifyFlags:
        """The :class:`VerifyFlags` set (assign to replace them)."""
        return VerifyFlags(lib.X509_VERIFY_PARAM_get_flags(self._param) & _ALL_FLAGS)

    @flags.setter
    def flags(self, flags: int) -> None:
        if isinstance(flags, bool) or not isinstance(flags, int):
            raise TypeError("flags must be an int (VerifyFlags)")
        if flags & ~_ALL_FLAGS:
            raise ValueError(f"unknown verification flags {flags & ~_ALL_FLAGS:#x}")
        lib.X509_VERIFY_PARAM_clear_flags(self._param, _ALL_FLAGS)
        lib.X509_VERIFY_PARAM_set_flags(self._param, flags)

    @property
    def depth(self) -> int:
        """The most intermediates a chain may have (-1: OpenSSL's default, 100)."""
        return int(lib.X509_VERIFY_PARAM_get_depth(self._param))

    @depth.setter
    def depth(self, depth: int) -> None:
        if isinstance(depth, bool) or not isinstance(depth, int):
            raise TypeError("depth must be an int")
        if not -1 <= depth <= 2**31 - 1:
            raise ValueError("depth must be -1 (the default) or more")
        lib.X509_VERIFY_PARAM_set_depth(self._param, depth)

    def set_time(self, at_time: _dt.datetime | float | None) -> None:
        """Verify at ``at_time`` (aware datetime or POSIX seconds) instead of now; None
        goes back to now."""
        if at_time is None:
            check(lib.tb_tls_store_set_time(self._ptr, 0, 0), "cannot set the time")
        else:
            check(lib.tb_tls_store_set_time(self._ptr, _seconds(at_time), 1),
                  "cannot set the time")

    def verify(self, leaf: Certificate, intermediates: Iterable[Certificate] = (), *,
               crls: Iterable[CRL] = (), check_crls: str | None = None,
               hostname: str | None = None,
               at_time: _dt.datetime | float | None = None) -> list[Certificate]:
        """Build and verify ``leaf``'s chain: ``intermediates`` are untrusted
        candidates, ``crls`` CRLs for this call only, ``check_crls`` ("leaf" or "all")
        turns revocation checks on for this call, ``hostname`` (DNS name or IP literal)
        is checked against the leaf and ``at_time`` replaces the store's time.

        Returns the chain, leaf to trusted certificate.  Raises
        :class:`CertificateVerifyError` (:class:`HostnameMismatch`) with OpenSSL's
        ``reason``, ``verify_code``, ``depth`` and the ``certificate`` at fault.
        """
        return self._verify(leaf, intermediates, crls, check_crls, hostname, at_time,
                            Certificate)

    def _verify(self, leaf: Certificate, intermediates: Iterable[Certificate],
                crls: Iterable[CRL], check_crls: str | None, hostname: str | None,
                at_time: _dt.datetime | float | None, cls: type[Any],
                want_chain: bool = True) -> list[Any]:
        if not isinstance(leaf, Certificate):
            raise TypeError(f"leaf must be a Certificate, not {type(leaf).__name__}")
        inters = _certificates(intermediates, "intermediates")
        extra_crls = _crls(crls)
        flags = _crl_flags(check_crls)
        seconds = 0 if at_time is None else _seconds(at_time)
        certs = ffi.new("X509 *[]", [c._ptr for c in inters]) if inters else ffi.NULL
        crl_array = ffi.new("X509_CRL *[]", [c._ptr for c in extra_crls]) if extra_crls \
            else ffi.NULL
        chain = ffi.new("tb_tls_x509_list **") if want_chain else ffi.NULL
        failure = ffi.new("tb_tls_verify_failure *")
        rc = lib.tb_tls_store_verify(self._ptr, leaf._ptr, certs, len(inters), crl_array,
                                     len(extra_crls), flags, c_text(hostname, "hostname"),
                                     seconds, at_time is not None, chain, failure)
        if rc == lib.TB_TLS_E_VERIFY:
            at_fault = None
            if failure.cert != ffi.NULL:
                at_fault = cls._adopt(failure.cert, up_ref=False)
            raise verify_failure(failure.error, failure.depth, [leaf, *inters], hostname,
                                 at_fault)
        check(rc, "cannot verify the chain")
        if chain == ffi.NULL:
            return []
        listing = chain[0]
        try:
            return [cls._adopt(listing.certs[i], up_ref=True) for i in range(listing.count)]
        finally:
            lib.tb_tls_x509_list_free(listing)

    def __repr__(self) -> str:
        return (f"<TrustStore certificates={len(self._certs)} crls={len(self._crls)} "
                f"flags={self.flags!r}>")


_ALL_FLAGS = int(VerifyFlags.CRL_CHECK | VerifyFlags.CRL_CHECK_ALL | VerifyFlags.IGNORE_CRITICAL
                 | VerifyFlags.X509_STRICT | VerifyFlags.ALLOW_PROXY_CERTS
                 | VerifyFlags.POLICY_CHECK | VerifyFlags.EXPLICIT_POLICY
                 | VerifyFlags.INHIBIT_MAP | VerifyFlags.CHECK_SS_SIGNATURE
                 | VerifyFlags.PARTIAL_CHAIN)


def _c_path(value: PathArg, what: str) -> Any:
    """:func:`c_text` for a path that may also be bytes (taken as given)."""
    return c_text(cast(Any, value), what)


def verify_failure(code: int, depth: int, presented: Sequence[Certificate],
                   hostname: str | None, at_fault: Certificate | None) -> CertificateVerifyError:
    """The exception for a failed verification, with the certificate at fault."""
    exc = verify_exception(code, depth, presented, hostname, drain())
    exc.certificate = at_fault
    return exc
