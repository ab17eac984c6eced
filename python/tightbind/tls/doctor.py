"""The chain doctor: :func:`diagnose` says what is wrong with a server's certificate chain,
one :class:`Finding` per problem (C: ``csrc/tls_x509.c`` reads PKCS#7, the rest is
OpenSSL's own verification through :mod:`tightbind.tls.verify`).

What it checks:

* order: certificates out of order, duplicates, the root sent (needless), certificates
  on no path from the leaf;
* completeness: a missing intermediate is fetched over HTTP from the caIssuers URL of the
  certificate the sent path ends at (DER, PKCS#7 ``.p7c`` or PEM; at most
  :data:`MAX_AIA_BYTES`, within the diagnosis' deadline), then the chain is verified with
  it: "incomplete: completed from URL".  A fetch that stalls, is too large or is garbage
  is a finding, never a hang;
* trust: the system store, or ``cafile``/``capath``; :attr:`ChainReport.anchor` is the
  root that anchors the path;
* validity: expired, not yet valid, expiring within ``expiry_days``, SHA-1 or weaker
  signatures, RSA keys under 2048 bits, and the host name against the leaf (saying which
  names the leaf holds).

Not checked yet: revocation (stapled OCSP, live OCSP, CRLs) and must-staple.
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import socket
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tightbind.tls._native import ffi, lib
from tightbind.tls.connection import check_timeout, fetch_chain
from tightbind.tls.errors import CertificateVerifyError, TlsError
from tightbind.tls.verify import PathArg, verify_chain
from tightbind.tls.x509 import Certificate, certs_from_list, load_certificates

MAX_AIA_BYTES = 1 << 20
"""The largest caIssuers response read (bytes of body); a larger one is a finding."""

MAX_AIA_FETCHES = 4
"""How many caIssuers URLs one diagnosis follows (one per missing level)."""

SEVERITIES = ("info", "warning", "error")
"""Finding severities, least severe first."""

_WEAK_DIGESTS = ("md2", "md4", "md5", "sha1")
_MIN_RSA_BITS = 2048
_MAX_HEADER_BYTES = 16 * 1024
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
class ChainReport:
    """What :func:`diagnose` found.

    ``sent``: the chain as the server sent it; ``path``: leaf to trusted root as verified
    (with any fetched certificates; () when no trusted path was found); ``anchor``: the
    root at the end of it; ``fetched``: ``(url, certificate)`` for every certificate taken
    from a caIssuers URL; ``findings``: most severe first.  Revocation is not checked
    (a later version will).
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
            "sent": [cert(c) for c in self.sent],
            "path": [cert(c) for c in self.path],
            "fetched": [{"url": url, **cert(c)} for url, c in self.fetched],
            "findings": [f.to_dict() for f in self.findings],
            "revocation_checked": False,
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
                         f"fetched from {fetched[c]}" if c in fetched else "trust store")
                lines.append(f"  {c.subject}  ({where})")
        else:
            lines.append("trusted path: none found")
        if not self.findings:
            lines.append("findings: none (revocation not checked)")
        else:
            lines.append(f"findings ({len(self.findings)}; revocation not checked):")
            for f in self.findings:
                about = "" if f.subject is None else (
                    f" [{f.index}] {f.subject}:" if f.index is not None else f" {f.subject}:")
                lines.append(f"  {f.severity.upper():7} {f.code}:{about} {f.message}")
        return "\n".join(lines)


class _FetchError(Exception):
    """A caIssuers fetch failed; the message is the finding's sentence."""


def _issued(issuer: Certificate, subject: Certificate) -> bool:
    """True when ``issuer``'s name and key identifiers match ``subject``'s issuer."""
    return bool(lib.X509_check_issued(issuer._ptr, subject._ptr) == lib.X509_V_OK)


def _self_signed(cert: Certificate) -> bool:
    return _issued(cert, cert)


def _content_length(head: bytes | bytearray) -> int | None:
    """The Content-Length an HTTP header block declares, None when absent or bad."""
    for line in bytes(head).split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            return int(value.strip())
    return None


def _http_get(url: str, deadline: float, cap: int) -> bytes:
    """The body of an HTTP/1.0 GET of ``url``, read before ``deadline`` (monotonic) and
    at most ``cap`` bytes long; raises _FetchError saying why not."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() != "http" or not parts.hostname:
        raise _FetchError(f"only http:// caIssuers URLs are fetched, not {url!r}")
    try:
        port = parts.port or 80
    except ValueError:
        raise _FetchError(f"bad port in {url!r}") from None
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = parts.hostname
    request = (f"GET {target} HTTP/1.0\r\nHost: {host}\r\nAccept: */*\r\n"
               "User-Agent: tightbind-doctor\r\nConnection: close\r\n\r\n").encode("latin-1")

    def remaining() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise _FetchError(f"fetching {url} timed out")
        return left

    data = bytearray()
    try:
        with socket.create_connection((host, port), timeout=remaining()) as sock:
            sock.settimeout(remaining())
            sock.sendall(request)
            while True:
                sock.settimeout(remaining())
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
                head_end = data.find(b"\r\n\r\n")
                if head_end < 0 and len(data) > _MAX_HEADER_BYTES:
                    raise _FetchError(f"{url} sent more than {_MAX_HEADER_BYTES} bytes of "
                                      "headers")
                if head_end >= 0:
                    body_length = len(data) - head_end - 4
                    declared = _content_length(data[:head_end])
                    if declared is not None and declared > cap:
                        raise _FetchError(f"{url} announces {declared} bytes, more than "
                                          f"{cap}")
                    if body_length > cap:
                        raise _FetchError(f"{url} sent more than {cap} bytes")
                    if body_length == declared:
                        break  # all of it, even from a server that keeps the connection
    except TimeoutError:
        raise _FetchError(f"fetching {url} timed out") from None
    except OSError as exc:
        raise _FetchError(f"cannot fetch {url}: {exc.strerror or exc}") from None
    head, sep, body = bytes(data).partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0].split()
    if not sep or len(status) < 2 or not status[0].startswith(b"HTTP/"):
        raise _FetchError(f"{url} did not answer in HTTP")
    if status[1] != b"200":
        raise _FetchError(f"{url} answered HTTP {status[1].decode('latin-1', 'replace')}")
    return body


def _parse_issuers(data: bytes, url: str) -> list[Certificate]:
    """The certificates of a caIssuers body: DER, PKCS#7 (certs-only) or PEM."""
    if data.lstrip().startswith(b"-----BEGIN"):
        try:
            return load_certificates(data)
        except TlsError:
            raise _FetchError(f"{url} sent PEM that holds no valid certificate") from None
    try:
        return [Certificate.from_der(data)]
    except TlsError:
        pass
    out = ffi.new("tb_tls_x509_list **")
    try:
        return certs_from_list(lib.tb_tls_p7_certs(data, len(data), out), out,
                               "cannot read the PKCS#7 data")
    except TlsError:
        raise _FetchError(f"{url} sent {len(data)} bytes that are neither a DER "
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
                found = _parse_issuers(_http_get(
                    urls[0], deadline if deadline is not None else
                    time.monotonic() + _UNBOUNDED_FETCH_SECONDS, MAX_AIA_BYTES), urls[0])
            except _FetchError as exc:
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


def diagnose(host: str, port: int = 443, *, servername: str | None = None,
             cafile: PathArg = None, capath: PathArg = None, timeout: float = 10,
             expiry_days: int = 30, fetch_missing: bool = True,
             at_time: _dt.datetime | None = None) -> ChainReport:
    """Fetch ``host``'s chain and say what is wrong with it.

    ``servername`` (default: ``host``) is sent as SNI and checked against the leaf; trust
    is ``cafile``/``capath``, else the system store.  With ``fetch_missing`` a missing
    intermediate is fetched from the caIssuers URL.  ``timeout`` bounds the whole
    diagnosis (connect, handshake and every fetch, plus the client's TIMEOUT_SLACK; name
    resolution is the system's); with None the connection waits as long as it takes and
    each fetch at most 30 seconds.  ``at_time`` (an aware datetime) replaces now for the
    dates.  Returns a :class:`ChainReport`; revocation is not checked.  Raises what
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
                       timeout=timeout)
    now = at_time or _dt.datetime.now(_dt.timezone.utc)
    sent = list(peer.unverified)
    doctor = _Doctor(sent)
    fetched: list[tuple[str, Certificate]] = []
    path: list[Certificate] = []
    if not sent:
        doctor.add("error", "no-certificate", "the server sent no certificate")
    else:
        leaf = sent[0]
        sent_path = doctor.order()
        extra = list(dict.fromkeys(sent[1:]))
        path, error = _verify(leaf, extra, cafile=cafile, capath=capath, when=now)
        if error is not None and error.verify_code in _MISSING_ISSUER:
            path, error = doctor.complete(
                sent_path, fetched, error, fetch_missing, deadline,
                lambda more: _verify(leaf, [*extra, *more], cafile=cafile, capath=capath,
                                     when=now))
        elif error is not None and error.verify_code not in _DATE_ERRORS:
            # (a date error here means no time suits every certificate: the validity
            # findings below say which dates are wrong)
            doctor.add("error", "untrusted", f"the chain does not verify: {error.reason}"
                       + (f" (at depth {error.depth})" if error.depth >= 0 else ""))
        doctor.validity(path or [*sent_path, *(c for _, c in fetched)], now, expiry_days)
        if not _matches_host(leaf, name):
            doctor.add("error", "hostname-mismatch",
                       f"not valid for {name!r}: it holds {_host_names(leaf)}", leaf)
    rank = {severity: i for i, severity in enumerate(SEVERITIES)}
    findings = sorted(doctor.findings, key=lambda f: -rank[f.severity])
    return ChainReport(host=host, port=port, server_hostname=name, protocol=peer.protocol,
                       cipher=peer.cipher, sent=tuple(sent), path=tuple(path),
                       anchor=path[-1] if path else None, fetched=tuple(fetched),
                       findings=tuple(findings))
