"""The chain doctor: :func:`diagnose` says what is wrong with a server's certificate chain,
one :class:`Finding` per problem (C: ``csrc/tls_x509.c`` reads PKCS#7,
``csrc/tls_revoke.c`` OCSP and CRLs, the rest is OpenSSL's own verification through
:mod:`tightbind.tls.verify`).

What it checks:

* order: certificates out of order, duplicates, the root sent (needless), certificates
  on no path from the leaf;
* completeness: a missing intermediate is fetched over HTTP(S) from the caIssuers URL of
  the certificate the sent path ends at (DER, PKCS#7 ``.p7c`` or PEM; at most
  :data:`MAX_AIA_BYTES`, within the diagnosis' deadline), then the chain is verified with
  it: "incomplete: completed from URL".  A fetch that stalls, is too large or is garbage
  is a finding, never a hang;
* trust: the system store and ``certifi``'s bundle when it is installed (a chain only one
  of them trusts is a finding), or ``cafile``/``capath``; :attr:`ChainReport.anchor` is
  the root that anchors the path, :attr:`ChainReport.anchor_store` the store it is in;
* validity: expired, not yet valid, expiring within ``expiry_days``, SHA-1 or weaker
  signatures, RSA keys under 2048 bits, and the host name against the leaf (saying which
  names the leaf holds);
* revocation: the OCSP response the server staples (always asked for) read and its
  signature checked: revoked (reason, time), unknown, stale, not yet valid, a signature
  that does not verify or a signer the issuer did not authorise; must-staple without a
  staple; with ``ocsp=True`` a live OCSP query to each certificate's responder, with
  ``crl=True`` its CRL (at most :data:`MAX_OCSP_BYTES` / :data:`MAX_CRL_BYTES`, within
  the deadline).
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tightbind.tls._http import FetchError, http_fetch
from tightbind.tls._native import ffi, lib
from tightbind.tls.connection import check_timeout, fetch_chain
from tightbind.tls.errors import CertificateVerifyError, TlsError
from tightbind.tls.revocation import (
    RevocationStatus,
    check_crl,
    check_ocsp_response,
    must_staple,
    ocsp_request,
)
from tightbind.tls.verify import PathArg, verify_chain
from tightbind.tls.x509 import Certificate, certs_from_list, load_certificates

MAX_AIA_BYTES = 1 << 20
"""The largest caIssuers response read (bytes of body); a larger one is a finding."""

MAX_OCSP_BYTES = 64 * 1024
"""The largest OCSP response read from a responder (bytes of body)."""

MAX_CRL_BYTES = 10 << 20
"""The largest CRL read (bytes of body); a larger one is a ``crl-fetch-failed`` finding."""

REVOCATION_LEEWAY = _dt.timedelta(minutes=5)
"""How far an OCSP response's or CRL's dates may be off before they are a finding (clock
skew; OpenSSL's own OCSP check allows the same)."""

MAX_AIA_FETCHES = 4
"""How many caIssuers URLs one diagnosis follows (one per missing level)."""

SEVERITIES = ("info", "warning", "error")
"""Finding severities, least severe first."""

_WEAK_DIGESTS = ("md2", "md4", "md5", "sha1")
_MIN_RSA_BITS = 2048
_MISSING_ISSUER = (lib.X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT,
                   lib.X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY)
_DATE_ERRORS = (lib.X509_V_ERR_CERT_HAS_EXPIRED, lib.X509_V_ERR_CERT_NOT_YET_VALID)
_UNBOUNDED_FETCH_SECONDS = 30.0  # one fetch's limit when the caller set timeout=None


@dataclass(frozen=True)
class Finding:
    """One problem: ``severity`` ("error", "warning" or "info"), a stable ``code``
    ("incomplete-chain", "expired", ...), a sentence, and the certificate it concerns:
    ``index`` in the chain as sent (None for one the server did not send, or for the
    chain as a whole) and its ``subject`` (None for the chain as a whole)."""

    severity: str
    code: str
    message: str
    index: int | None = None
    subject: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"severity": self.severity, "code": self.code, "message": self.message,
                "index": self.index, "subject": self.subject}


@dataclass(frozen=True)
class RevocationCheck:
    """One revocation answer: ``source`` ("stapled OCSP response", "OCSP response from
    URL", "CRL from URL"), the certificate it concerns (``index`` in the chain as sent,
    None for a fetched one, and ``subject``) and what it said (``status``)."""

    source: str
    index: int | None
    subject: str
    status: RevocationStatus

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "index": self.index, "subject": self.subject,
                **self.status.to_dict()}

    def describe(self) -> str:
        """One line: the verdict, then where it came from and its dates."""
        st = self.status
        verdict = st.status.upper() if st.signature == "ok" else \
            f"{st.status.upper()}, NOT BELIEVED (signature: {st.signature})"
        if st.status == "revoked":
            verdict += f" ({st.reason or 'no reason given'})"
            if st.revocation_time is not None:
                verdict += f" on {st.revocation_time:%Y-%m-%d %H:%M} UTC"
        if st.status == "refused":
            verdict += f" ({st.response_status})"
        dates = ""
        if st.this_update is not None:
            dates = f", {'lastUpdate' if st.kind == 'crl' else 'thisUpdate'} " \
                    f"{st.this_update:%Y-%m-%d %H:%M}"
            dates += (f", nextUpdate {st.next_update:%Y-%m-%d %H:%M}"
                      if st.next_update is not None else ", no nextUpdate")
        signer = f", signed by {st.signer}" if st.signer else ""
        return f"{verdict}: {self.source}{signer}{dates}"


@dataclass(frozen=True)
class ChainReport:
    """What :func:`diagnose` found.

    ``sent``: the chain as the server sent it; ``path``: leaf to trusted root as verified
    (with any fetched certificates; () when no trusted path was found); ``anchor``: the
    root at the end of it; ``fetched``: ``(url, certificate)`` for every certificate taken
    from a caIssuers URL; ``findings``: most severe first; ``anchor_store``: where the
    anchor was found ("cafile", "capath", "system store", "certifi"; None without a
    path); ``revocation``: every OCSP or CRL answer read, and ``revocation_checked``
    whether any revocation source was looked at (a stapled response, or ``ocsp``/``crl``
    asked for).
    """

    host: str
    port: int
    server_hostname: str
    protocol: str
    cipher: str
    sent: tuple[Certificate, ...]
    path: tuple[Certificate, ...]
    anchor: Certificate | None
    fetched: tuple[tuple[str, Certificate], ...]
    findings: tuple[Finding, ...] = field(default=())
    anchor_store: str | None = None
    revocation: tuple[RevocationCheck, ...] = ()
    revocation_checked: bool = False

    @property
    def clean(self) -> bool:
        """True when there is no finding at all."""
        return not self.findings

    def worst(self) -> str | None:
        """The most severe finding's severity, None when clean."""
        return self.findings[0].severity if self.findings else None

    def fails(self, severity: str = "error") -> bool:
        """True when a finding is at or over ``severity``; ValueError for an unknown one."""
        if severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}, "
                             f"not {severity!r}")
        floor = SEVERITIES.index(severity)
        return any(SEVERITIES.index(f.severity) >= floor for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (certificates as subject, issuer and PEM)."""
        def cert(c: Certificate) -> dict[str, Any]:
            return {"subject": str(c.subject), "issuer": str(c.issuer),
                    "not_after": c.not_after.isoformat(),
                    "sha256_fingerprint": c.fingerprint("sha256"), "pem": c.pem}
        return {
            "host": self.host, "port": self.port, "server_hostname": self.server_hostname,
            "protocol": self.protocol, "cipher": self.cipher,
            "trusted": bool(self.path),
            "anchor": str(self.anchor.subject) if self.anchor is not None else None,
            "anchor_store": self.anchor_store,
            "sent": [cert(c) for c in self.sent],
            "path": [cert(c) for c in self.path],
            "fetched": [{"url": url, **cert(c)} for url, c in self.fetched],
            "findings": [f.to_dict() for f in self.findings],
            "revocation": [r.to_dict() for r in self.revocation],
            "revocation_checked": self.revocation_checked,
        }

    def format(self) -> str:
        """The report as text, as ``tightbind chain --check`` prints it."""
        lines = [f"{self.host}:{self.port} (SNI {self.server_hostname}): "
                 f"{self.protocol}, {self.cipher}",
                 f"sent by the server ({len(self.sent)}):"]
        lines += [f"  [{i}] {c.subject}" for i, c in enumerate(self.sent)]
        fetched = {c: url for url, c in self.fetched}
        if self.path:
            lines.append("trusted path:")
            for c in self.path:
                where = ("sent" if c in self.sent else
                         f"fetched from {fetched[c]}" if c in fetched else
                         self.anchor_store or "trust store")
                lines.append(f"  {c.subject}  ({where})")
        else:
            lines.append("trusted path: none found")
        if self.revocation:
            lines.append("revocation:")
            lines += [f"  [{r.index if r.index is not None else '-'}] {r.subject}: "
                      f"{r.describe()}" for r in self.revocation]
        unchecked = "" if self.revocation_checked else "revocation not checked"
        if not self.findings:
            lines.append(f"findings: none ({unchecked})" if unchecked else "findings: none")
        else:
            lines.append(f"findings ({len(self.findings)}"
                         + (f"; {unchecked}):" if unchecked else "):"))
            for f in self.findings:
                about = "" if f.subject is None else (
                    f" [{f.index}] {f.subject}:" if f.index is not None else f" {f.subject}:")
                lines.append(f"  {f.severity.upper():7} {f.code}:{about} {f.message}")
        return "\n".join(lines)


def _issued(issuer: Certificate, subject: Certificate) -> bool:
    """True when ``issuer``'s name and key identifiers match ``subject``'s issuer."""
    return bool(lib.X509_check_issued(issuer._ptr, subject._ptr) == lib.X509_V_OK)


def _self_signed(cert: Certificate) -> bool:
    return _issued(cert, cert)


def _parse_issuers(data: bytes, url: str) -> list[Certificate]:
    """The certificates of a caIssuers body: DER, PKCS#7 (certs-only) or PEM."""
    if data.lstrip().startswith(b"-----BEGIN"):
        try:
            return load_certificates(data)
        except TlsError:
            raise FetchError(f"{url} sent PEM that holds no valid certificate") from None
    try:
        return [Certificate.from_der(data)]
    except TlsError:
        pass
    out = ffi.new("tb_tls_x509_list **")
    try:
        return certs_from_list(lib.tb_tls_p7_certs(data, len(data), out), out,
                               "cannot read the PKCS#7 data")
    except TlsError:
        raise FetchError(f"{url} sent {len(data)} bytes that are neither a DER "
                          "certificate nor PKCS#7 nor PEM") from None


_Verified = tuple[list[Certificate], CertificateVerifyError | None]


def _verify(leaf: Certificate, others: Sequence[Certificate], *, cafile: PathArg,
            capath: PathArg, when: _dt.datetime) -> _Verified:
    """Verify for trust only: validity dates are findings of their own, so a chain that
    fails on a date alone is verified again at a time all its sent certificates share."""
    try:
        return verify_chain(leaf, others, cafile=cafile, capath=capath, at_time=when), None
    except CertificateVerifyError as exc:
        if exc.verify_code not in _DATE_ERRORS:
            return [], exc
        first = exc
    start = max(c.not_before for c in (leaf, *others))
    end = min(c.not_after for c in (leaf, *others))
    if start > end:
        return [], first
    try:
        return verify_chain(leaf, others, cafile=cafile, capath=capath,
                            at_time=start + (end - start) / 2), None
    except CertificateVerifyError as exc:
        return [], exc


def _host_names(cert: Certificate) -> str:
    names = [f"{kind}:{value}" for kind, value in cert.subject_alt_names
             if kind in ("DNS", "IP Address")]
    if names:
        return ", ".join(names)
    cn = cert.subject.CN
    return f"no DNS or IP names (subject CN {cn!r}, which clients ignore)" if cn else \
        "no DNS or IP names"


def _matches_host(cert: Certificate, name: str) -> bool:
    raw = name.encode("utf-8")
    if b"\0" in raw:
        return False
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return bool(lib.X509_check_host(cert._ptr, raw, len(raw), 0, ffi.NULL) == 1)
    return bool(lib.X509_check_ip_asc(cert._ptr, raw, 0) == 1)


class _Doctor:
    """One diagnosis' state: the findings so far and where each certificate came from."""

    def __init__(self, sent: Sequence[Certificate]) -> None:
        self.sent = list(sent)
        self.findings: list[Finding] = []
        self.revocation: list[RevocationCheck] = []

    def add(self, severity: str, code: str, message: str,
            cert: Certificate | None = None) -> None:
        index = None
        if cert is not None:
            index = next((i for i, c in enumerate(self.sent) if c == cert), None)
        self.findings.append(Finding(severity, code, message, index,
                                     None if cert is None else str(cert.subject)))

    def order(self) -> list[Certificate]:
        """Order findings; returns the path from the leaf through the sent certificates."""
        sent = self.sent
        seen: set[Certificate] = set()
        for i, cert in enumerate(sent):
            if cert in seen:
                self.findings.append(Finding(
                    "warning", "duplicate-certificate",
                    f"sent again at position {i} (first at "
                    f"{sent.index(cert)}): remove the copy", i, str(cert.subject)))
            seen.add(cert)
        path = [sent[0]]
        while not _self_signed(path[-1]):
            issuer = next((c for c in sent if c not in path and _issued(c, path[-1])), None)
            if issuer is None:
                break
            path.append(issuer)
        distinct = list(dict.fromkeys(sent))
        if distinct[:len(path)] != path:
            positions = ", ".join(str(sent.index(c)) for c in path)
            self.add("warning", "out-of-order",
                     f"the chain is not sent leaf first, each certificate followed by its "
                     f"issuer: the path runs through positions {positions}")
        for cert in path[1:]:
            if _self_signed(cert):
                self.add("info", "root-sent",
                         "the root is sent: clients use their own copy, so this only adds "
                         "bytes to every handshake", cert)
        for cert in distinct:
            if cert not in path:
                self.add("warning", "unused-certificate",
                         f"on no path from the leaf (issued by {cert.issuer}): remove it",
                         cert)
        return path

    def complete(self, sent_path: list[Certificate], fetched: list[tuple[str, Certificate]],
                 error: CertificateVerifyError | None, fetch_missing: bool,
                 deadline: float | None,
                 verify: Callable[[list[Certificate]], _Verified]) -> _Verified:
        """Completeness findings for a sent path whose end has no known issuer: follow
        caIssuers URLs (appending to ``fetched``) until the chain verifies with what was
        fetched, and return the last ``verify(fetched certificates)``."""
        path: list[Certificate] = []
        end = sent_path[-1]
        fetch_error = None
        while fetch_missing and len(fetched) < MAX_AIA_FETCHES and \
                error is not None and error.verify_code in _MISSING_ISSUER:
            urls = end.ca_issuers_urls
            if not urls:
                break
            try:
                found = _parse_issuers(http_fetch(
                    urls[0], deadline if deadline is not None else
                    time.monotonic() + _UNBOUNDED_FETCH_SECONDS, MAX_AIA_BYTES), urls[0])
            except FetchError as exc:
                fetch_error = str(exc)
                break
            issuer = next((c for c in found if _issued(c, end)), None)
            if issuer is None:
                fetch_error = f"{urls[0]} sent no certificate that issued {end.subject}"
                break
            fetched.append((urls[0], issuer))
            end = issuer
            path, error = verify([c for _, c in fetched])
        top = sent_path[-1]
        if error is None:
            self.add("error", "incomplete-chain",
                     f"incomplete: the server does not send the issuer of {top.subject}; "
                     f"completed from {', '.join(url for url, _ in fetched)}", top)
            return path, None
        why = ("the caIssuers fetch failed (see aia-fetch-failed)" if fetch_error is not None
               else "it names no caIssuers URL" if not end.ca_issuers_urls
               else "fetching is off" if not fetch_missing
               else f"it still fails: {error.reason}")
        self.add("error", "incomplete-chain",
                 f"incomplete: the issuer of {end.subject} ({end.issuer}) is neither sent "
                 f"nor trusted, and the chain could not be completed: {why}", top)
        if fetch_error is not None:
            self.add("error", "aia-fetch-failed", fetch_error, end)
        return [], error

    def validity(self, path: Sequence[Certificate], now: _dt.datetime,
                 expiry_days: int) -> None:
        soon = now + _dt.timedelta(days=expiry_days)
        for cert in path:
            if cert.not_after < now:
                self.add("error", "expired", f"expired on {cert.not_after:%Y-%m-%d %H:%M} "
                         "UTC", cert)
            elif cert.not_before > now:
                self.add("error", "not-yet-valid",
                         f"not valid before {cert.not_before:%Y-%m-%d %H:%M} UTC", cert)
            elif cert.not_after < soon:
                days = (cert.not_after - now).days
                self.add("warning", "expiring-soon",
                         f"expires on {cert.not_after:%Y-%m-%d %H:%M} UTC, in {days} days "
                         f"(warning from {expiry_days})", cert)
            algorithm = cert.signature_algorithm.lower()
            if not _self_signed(cert) and any(d in algorithm for d in _WEAK_DIGESTS):
                self.add("error", "weak-signature",
                         f"signed with {cert.signature_algorithm}, which clients refuse: "
                         "reissue it signed with SHA-256 or better", cert)
            key = cert.public_key_info
            if key["algorithm"] == "RSA" and 0 < key["bits"] < _MIN_RSA_BITS:
                self.add("error", "weak-key", f"an RSA key of {key['bits']} bits (at least "
                         f"{_MIN_RSA_BITS} are needed)", cert)


    # --- revocation
    def judge(self, source: str, cert: Certificate, status: RevocationStatus,
              now: _dt.datetime) -> None:
        """Findings for one OCSP or CRL answer about ``cert``."""
        index = next((i for i, c in enumerate(self.sent) if c == cert), None)
        self.revocation.append(RevocationCheck(source, index, str(cert.subject), status))
        prefix = status.kind  # "ocsp" or "crl"
        if status.status == "refused":
            self.add("warning", "ocsp-refused", f"the {source} is no answer: the responder "
                     f"says {status.response_status!r}", cert)
            return
        if status.signature != "ok":
            signer = status.signer or "not named"
            why = {"bad": "its signature does not verify",
                   "no-signer": f"the certificate of its signer ({signer}) is in neither "
                                "the response nor the chain",
                   "unauthorised": f"it is signed by {status.signer}, which is neither "
                                   f"the issuer ({cert.issuer}) nor a responder the "
                                   "issuer authorised",
                   "untrusted": f"its delegated signer {status.signer} does not verify: "
                                f"{status.signature_error}"}[status.signature]
            self.add("error", f"{prefix}-bad-signature",
                     f"the {source} cannot be believed: {why}", cert)
            return
        if status.status == "no-answer":
            self.add("error", "ocsp-no-answer", f"the {source} speaks about "
                     f"{status.entries} other certificate(s), not this one", cert)
            return
        if status.this_update is not None and status.this_update > now + REVOCATION_LEEWAY:
            what = "lastUpdate" if prefix == "crl" else "thisUpdate"
            self.add("error", f"{prefix}-not-yet-valid",
                     f"the {source} is not valid yet: its {what} is "
                     f"{status.this_update:%Y-%m-%d %H:%M} UTC (a clock is wrong)", cert)
        elif status.next_update is not None and status.next_update < now - REVOCATION_LEEWAY:
            self.add("error", f"{prefix}-stale",
                     f"the {source} is stale: its nextUpdate was "
                     f"{status.next_update:%Y-%m-%d %H:%M} UTC; clients refuse it"
                     + (" (the server staples an old response)"
                        if source.startswith("stapled") else ""), cert)
        if status.status == "revoked":
            when = ("" if status.revocation_time is None else
                    f" on {status.revocation_time:%Y-%m-%d %H:%M} UTC")
            self.add("error", "revoked",
                     f"revoked{when} (reason: {status.reason or 'not given'}), according "
                     f"to the {source} signed by {status.signer}", cert)
        elif status.status == "unknown":
            self.add("warning", "ocsp-unknown",
                     f"the {source} says the certificate's status is unknown: the "
                     "responder does not know it (a certificate it did not issue, or not "
                     "yet published)", cert)

    def revocation_checks(self, path: Sequence[Certificate],
                          fetched: Sequence[tuple[str, Certificate]],
                          stapled: bytes | None, ocsp: bool, crl: bool,
                          deadline: float | None, trust: tuple[PathArg, PathArg],
                          at_time: _dt.datetime | None, now: _dt.datetime) -> None:
        """Must-staple, the stapled response, and on request live OCSP and CRLs, for the
        leaf and (live) every certificate of the path below the root."""
        leaf = self.sent[0]
        known = [*self.sent, *(c for _, c in fetched)]

        def issuer_of(cert: Certificate) -> Certificate | None:
            if cert in path[:-1]:
                return path[path.index(cert) + 1]
            return next((c for c in known if c != cert and _issued(c, cert)), None)

        def fetch_deadline() -> float:
            return (deadline if deadline is not None else
                    time.monotonic() + _UNBOUNDED_FETCH_SECONDS)

        if stapled is None and must_staple(leaf):
            self.add("error", "must-staple-missing",
                     "the certificate demands a stapled OCSP response (TLS feature "
                     "status_request, \"must-staple\") and the server sent none: clients "
                     "that enforce it (Firefox) refuse the connection", leaf)
        if stapled is not None:
            issuer = issuer_of(leaf)
            if issuer is None:
                self.add("warning", "revocation-unchecked", "the stapled OCSP response "
                         "cannot be checked: the leaf's issuer is unknown", leaf)
            else:
                try:
                    status = check_ocsp_response(stapled, leaf, issuer, untrusted=known,
                                                 cafile=trust[0], capath=trust[1],
                                                 at_time=at_time)
                except TlsError:
                    self.add("error", "ocsp-invalid", f"the server staples "
                             f"{len(stapled)} bytes that are not an OCSP response", leaf)
                else:
                    self.judge("stapled OCSP response", leaf, status, now)
        if not (ocsp or crl):
            return
        for cert in (path[:-1] if path else [leaf]):
            issuer = issuer_of(cert)
            if issuer is None:
                self.add("warning", "revocation-unchecked", "revocation cannot be checked: "
                         "the issuer is unknown", cert)
                continue
            if ocsp:
                self.live_ocsp(cert, issuer, known, trust, at_time, now, fetch_deadline)
            if crl:
                self.crl(cert, issuer, now, fetch_deadline)

    def live_ocsp(self, cert: Certificate, issuer: Certificate, known: list[Certificate],
                  trust: tuple[PathArg, PathArg], at_time: _dt.datetime | None,
                  now: _dt.datetime, fetch_deadline: Callable[[], float]) -> None:
        urls = [u for u in cert.ocsp_urls if u.lower().startswith(("http://", "https://"))]
        if not urls:
            if cert == self.sent[0]:
                self.add("info", "no-ocsp-url", "names no http(s) OCSP responder "
                         "(authorityInfoAccess OCSP)", cert)
            return
        url = urls[0]
        try:
            answer = http_fetch(url, fetch_deadline(), MAX_OCSP_BYTES,
                                body=ocsp_request(cert, issuer),
                                content_type="application/ocsp-request")
        except FetchError as exc:
            self.add("warning", "ocsp-fetch-failed", str(exc), cert)
            return
        try:
            status = check_ocsp_response(answer, cert, issuer, untrusted=known,
                                         cafile=trust[0], capath=trust[1], at_time=at_time)
        except TlsError:
            self.add("error", "ocsp-invalid",
                     f"{url} answered {len(answer)} bytes that are not an OCSP response",
                     cert)
            return
        self.judge(f"OCSP response from {url}", cert, status, now)

    def crl(self, cert: Certificate, issuer: Certificate, now: _dt.datetime,
            fetch_deadline: Callable[[], float]) -> None:
        urls = [u for u in cert.crl_distribution_points
                if u.lower().startswith(("http://", "https://"))]
        if not urls:
            if cert == self.sent[0]:
                self.add("info", "no-crl-url", "names no http(s) CRL distribution point",
                         cert)
            return
        url = urls[0]
        try:
            data = http_fetch(url, fetch_deadline(), MAX_CRL_BYTES)
        except FetchError as exc:
            self.add("warning", "crl-fetch-failed", str(exc), cert)
            return
        try:
            status = check_crl(data, cert, issuer)
        except TlsError:
            self.add("error", "crl-invalid",
                     f"{url} sent {len(data)} bytes that are not a CRL (DER or PEM)", cert)
            return
        self.judge(f"CRL from {url}", cert, status, now)


def _trust_stores(cafile: PathArg, capath: PathArg) -> list[tuple[str, PathArg, PathArg]]:
    """The stores to verify against, in order: the caller's, else the system store and
    certifi's bundle when certifi is installed."""
    if cafile is not None or capath is not None:
        return [("cafile" if cafile is not None else "capath", cafile, capath)]
    stores: list[tuple[str, PathArg, PathArg]] = [("system store", None, None)]
    try:
        import certifi
    except ImportError:
        return stores
    return [*stores, ("certifi", certifi.where(), None)]


def diagnose(host: str, port: int = 443, *, servername: str | None = None,
             cafile: PathArg = None, capath: PathArg = None, timeout: float = 10,
             expiry_days: int = 30, fetch_missing: bool = True,
             at_time: _dt.datetime | None = None, ocsp: bool = False,
             crl: bool = False) -> ChainReport:
    """Fetch ``host``'s chain and say what is wrong with it.

    ``servername`` (default: ``host``) is sent as SNI and checked against the leaf; trust
    is ``cafile``/``capath``, else the system store and certifi's bundle (when certifi is
    installed; a chain only one of them trusts is a finding).  With ``fetch_missing`` a
    missing intermediate is fetched from the caIssuers URL.  The server is asked to
    staple its OCSP response, which is checked when sent; ``ocsp`` also asks each
    certificate's OCSP responder, ``crl`` fetches each certificate's CRL.  ``timeout``
    bounds the whole diagnosis (connect, handshake and every fetch, plus the client's
    TIMEOUT_SLACK; name resolution is the system's); with None the connection waits as
    long as it takes and each fetch at most 30 seconds.  ``at_time`` (an aware datetime)
    replaces now for the dates.  Returns a :class:`ChainReport`.  Raises what
    :func:`fetch_chain` raises when no chain could be fetched (:class:`TlsConnectError`,
    :class:`TlsTimeout`, :class:`HandshakeError`, :class:`CaLocationError`), ValueError
    for bad arguments.
    """
    limit = check_timeout(timeout)
    if isinstance(expiry_days, bool) or not isinstance(expiry_days, int) or expiry_days < 0:
        raise ValueError(f"expiry_days must be a whole number of days >= 0, "
                         f"not {expiry_days!r}")
    if at_time is not None and (not isinstance(at_time, _dt.datetime) or
                                at_time.tzinfo is None):
        raise ValueError("at_time must be an aware datetime")
    deadline = None if limit is None else time.monotonic() + limit
    name = host if servername is None else servername
    peer = fetch_chain(host, port, server_hostname=name, cafile=cafile, capath=capath,
                       timeout=timeout, request_ocsp=True)
    now = at_time or _dt.datetime.now(_dt.timezone.utc)
    sent = list(peer.unverified)
    doctor = _Doctor(sent)
    fetched: list[tuple[str, Certificate]] = []
    path: list[Certificate] = []
    stores = _trust_stores(cafile, capath)
    store_name, trust = stores[0][0], stores[0][1:]
    if not sent:
        doctor.add("error", "no-certificate", "the server sent no certificate")
    else:
        leaf = sent[0]
        sent_path = doctor.order()
        extra = list(dict.fromkeys(sent[1:]))
        for label, store_file, store_path in stores:  # the first store that trusts it
            path, error = _verify(leaf, extra, cafile=store_file, capath=store_path,
                                  when=now)
            if path:
                store_name, trust = label, (store_file, store_path)
                break
        if not path:
            store_name, trust = stores[0][0], stores[0][1:]
            path, error = _verify(leaf, extra, cafile=trust[0], capath=trust[1], when=now)
        if error is not None and error.verify_code in _MISSING_ISSUER:
            path, error = doctor.complete(
                sent_path, fetched, error, fetch_missing, deadline,
                lambda more: _verify(leaf, [*extra, *more], cafile=trust[0],
                                     capath=trust[1], when=now))
        elif error is not None and error.verify_code not in _DATE_ERRORS:
            # (a date error here means no time suits every certificate: the validity
            # findings below say which dates are wrong)
            doctor.add("error", "untrusted", f"the chain does not verify: {error.reason}"
                       + (f" (at depth {error.depth})" if error.depth >= 0 else ""))
        if path:
            for label, store_file, store_path in stores:
                if label == store_name:
                    continue
                _, other = _verify(leaf, [*extra, *(c for _, c in fetched)],
                                   cafile=store_file, capath=store_path, when=now)
                if other is not None:
                    users = ("Python's requests and pip" if label == "certifi" else
                             "curl, OpenSSL and most programs on this machine")
                    doctor.add("warning", f"untrusted-by-{label.replace(' ', '-')}",
                               f"trusted by the {store_name} but not by the {label} "
                               f"(what {users} use): {other.reason}")
        doctor.validity(path or [*sent_path, *(c for _, c in fetched)], now, expiry_days)
        if not _matches_host(leaf, name):
            doctor.add("error", "hostname-mismatch",
                       f"not valid for {name!r}: it holds {_host_names(leaf)}", leaf)
        doctor.revocation_checks(path, fetched, peer.stapled_ocsp, ocsp, crl, deadline,
                                 trust, at_time, now)
    rank = {severity: i for i, severity in enumerate(SEVERITIES)}
    findings = sorted(doctor.findings, key=lambda f: -rank[f.severity])
    return ChainReport(host=host, port=port, server_hostname=name, protocol=peer.protocol,
                       cipher=peer.cipher, sent=tuple(sent), path=tuple(path),
                       anchor=path[-1] if path else None, fetched=tuple(fetched),
                       findings=tuple(findings),
                       anchor_store=store_name if path else None,
                       revocation=tuple(doctor.revocation),
                       revocation_checked=bool(sent) and (
                           peer.stapled_ocsp is not None or ocsp or crl))
