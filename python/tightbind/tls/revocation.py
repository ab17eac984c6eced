"""Revocation: an OCSP response (stapled to a handshake or fetched from the responder) or
a CRL, checked against one certificate and its issuer in one native call each (C:
``csrc/tls_revoke.c``), and the OCSP request to send.  The chain doctor
(:mod:`tightbind.tls.doctor`) turns what these return into findings.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tightbind.tls._native import as_bytes, check, ffi, lib, take_buf
from tightbind.tls.verify import PathArg, trust_context
from tightbind.tls.x509 import Certificate

_STATUS = {lib.TB_TLS_REV_GOOD: "good", lib.TB_TLS_REV_REVOKED: "revoked",
           lib.TB_TLS_REV_UNKNOWN: "unknown", lib.TB_TLS_REV_NO_ANSWER: "no-answer",
           lib.TB_TLS_REV_REFUSED: "refused"}
_SIGNATURE = {lib.TB_TLS_SIG_OK: "ok", lib.TB_TLS_SIG_BAD: "bad",
              lib.TB_TLS_SIG_NO_SIGNER: "no-signer",
              lib.TB_TLS_SIG_UNAUTHORISED: "unauthorised",
              lib.TB_TLS_SIG_UNTRUSTED: "untrusted"}


def _when(seconds: int) -> _dt.datetime:
    return _dt.datetime.fromtimestamp(seconds, _dt.timezone.utc)


@dataclass(frozen=True)
class RevocationStatus:
    """What one OCSP response or CRL says about one certificate.

    ``status``: "good", "revoked", "unknown" (the responder does not know it),
    "no-answer" (the response speaks about other certificates) or "refused" (the
    responder answered ``response_status``, e.g. "tryLater", instead).  ``reason`` and
    ``revocation_time`` for a revoked one (reason None when none is given);
    ``this_update``/``next_update`` (a CRL's lastUpdate/nextUpdate) as aware datetimes;
    ``signer``: who signed (a CRL's issuer); ``signature``: "ok", "bad" (does not verify),
    "no-signer" (the signer's certificate is nowhere), "unauthorised" (neither the issuer
    nor delegated by it) or "untrusted" (a delegated signer whose certificate does not
    verify: ``signature_error`` says why).  Only a status with ``signature == "ok"`` can
    be believed.
    """

    kind: str  # "ocsp" or "crl"
    status: str
    response_status: str
    reason: str | None
    revocation_time: _dt.datetime | None
    this_update: _dt.datetime | None
    next_update: _dt.datetime | None
    signer: str
    signature: str
    signature_error: str | None
    delegated: bool
    entries: int

    def to_dict(self) -> dict[str, Any]:
        def iso(value: _dt.datetime | None) -> str | None:
            return None if value is None else value.isoformat()
        return {"kind": self.kind, "status": self.status,
                "response_status": self.response_status, "reason": self.reason,
                "revocation_time": iso(self.revocation_time),
                "this_update": iso(self.this_update), "next_update": iso(self.next_update),
                "signer": self.signer, "signature": self.signature,
                "signature_error": self.signature_error, "delegated": self.delegated,
                "entries": self.entries}


def _status(kind: str, result: Any) -> RevocationStatus:
    reason = None
    if result.reason >= 0:
        reason = ffi.string(lib.OCSP_crl_reason_str(result.reason)).decode()
    signature_error = None
    if result.signature == lib.TB_TLS_SIG_UNTRUSTED and result.verify_error:
        signature_error = ffi.string(
            lib.X509_verify_cert_error_string(result.verify_error)).decode()
    dated = result.status not in (lib.TB_TLS_REV_NO_ANSWER, lib.TB_TLS_REV_REFUSED)
    return RevocationStatus(
        kind=kind, status=_STATUS[result.status],
        response_status=ffi.string(
            lib.OCSP_response_status_str(result.response_status)).decode(),
        reason=reason,
        revocation_time=(_when(result.revocation_time) if result.has_revocation_time
                         else None),
        this_update=_when(result.this_update) if dated else None,
        next_update=(_when(result.next_update) if dated and result.has_next_update
                     else None),
        signer=ffi.string(result.signer).decode("utf-8", "replace"),
        signature=_SIGNATURE[result.signature], signature_error=signature_error,
        delegated=bool(result.delegated), entries=int(result.entries))


def _check_certs(*certs: object) -> None:
    if not all(isinstance(c, Certificate) for c in certs):
        raise TypeError("the certificate, its issuer and untrusted must be Certificates")


def _at(at_time: _dt.datetime | None) -> tuple[int, int]:
    if at_time is None:
        return 0, 0
    if at_time.tzinfo is None:
        raise ValueError("at_time must be an aware datetime")
    return int(at_time.timestamp()), 1


def check_ocsp_response(data: bytes, cert: Certificate, issuer: Certificate, *,
                        untrusted: Sequence[Certificate] = (), cafile: PathArg = None,
                        capath: PathArg = None,
                        at_time: _dt.datetime | None = None) -> RevocationStatus:
    """What the DER OCSP response ``data`` says about ``cert`` (issued by ``issuer``),
    with its signature checked: the signer must be the issuer or a certificate the issuer
    gave the OCSP-signing purpose, verified (with ``untrusted`` as intermediates) against
    ``cafile``/``capath`` or the system store at ``at_time`` (default now).  Raises
    :class:`DecodeError` for bytes that are not an OCSP response."""
    others = list(untrusted)
    _check_certs(cert, issuer, *others)
    raw = as_bytes(data, "OCSP response")
    array = ffi.new("X509 *[]", [c._ptr for c in others]) if others else ffi.NULL
    store = lib.SSL_CTX_get_cert_store(trust_context(cafile, capath))
    result = ffi.new("tb_tls_revocation *")
    seconds, use_time = _at(at_time)
    check(lib.tb_tls_ocsp_check(raw, len(raw), cert._ptr, issuer._ptr, array, len(others),
                                store, seconds, use_time, result),
          "cannot read the OCSP response")
    return _status("ocsp", result)


def ocsp_request(cert: Certificate, issuer: Certificate) -> bytes:
    """The DER OCSP request asking about ``cert`` (issued by ``issuer``): one CertID with
    SHA-1, as responders expect, and no nonce (most public responders ignore nonces and
    serve cached answers)."""
    _check_certs(cert, issuer)
    out = ffi.new("tb_tls_buf **")
    return take_buf(lib.tb_tls_ocsp_request(cert._ptr, issuer._ptr, out), out,
                    "cannot make the OCSP request")


def check_crl(data: bytes, cert: Certificate, issuer: Certificate) -> RevocationStatus:
    """What the CRL ``data`` (DER or PEM) says about ``cert``: its signature checked with
    ``issuer``'s key and its issuer name against ``issuer``'s subject.  Raises
    :class:`DecodeError` for bytes that are not one CRL."""
    _check_certs(cert, issuer)
    raw = as_bytes(data, "CRL")
    result = ffi.new("tb_tls_revocation *")
    check(lib.tb_tls_crl_check(raw, len(raw), cert._ptr, issuer._ptr, result),
          "cannot read the CRL")
    return _status("crl", result)


def must_staple(cert: Certificate) -> bool:
    """True when ``cert``'s TLS feature extension (RFC 7633) asks for a stapled OCSP
    response (status_request): clients may then refuse a handshake without one."""
    _check_certs(cert)
    return bool(lib.tb_tls_must_staple(cert._ptr) == 1)
