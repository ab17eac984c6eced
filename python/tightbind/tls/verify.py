"""Trust and offline verification: :func:`verify_chain`, and the trust contexts (cafile,
capath or the system store) that it and the client share (C: ``csrc/tls_verify.c``)."""

from __future__ import annotations

import datetime as _dt
import os
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any

from tightbind.tls._native import c_text, check, drain, ffi, lib
from tightbind.tls.errors import CertificateVerifyError, ErrorQueue, HostnameMismatch
from tightbind.tls.x509 import Certificate, certs_from_list

PathArg = str | os.PathLike[str] | None

_TRUST_CACHE_SIZE = 8
_trust_cache: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_trust_lock = threading.Lock()


def _stamp(path: bytes | None) -> tuple[int, int, int] | None:
    """What changes when a trust file or folder changes (None when it is absent)."""
    if path is None:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _default_locations() -> tuple[bytes, bytes]:
    """The system store OpenSSL uses, honouring SSL_CERT_FILE and SSL_CERT_DIR."""
    file_env = ffi.string(lib.X509_get_default_cert_file_env()).decode()
    dir_env = ffi.string(lib.X509_get_default_cert_dir_env()).decode()
    return (os.fsencode(os.environ.get(file_env) or
                        ffi.string(lib.X509_get_default_cert_file()).decode()),
            os.fsencode(os.environ.get(dir_env) or
                        ffi.string(lib.X509_get_default_cert_dir()).decode()))


def trust_context(cafile: PathArg, capath: PathArg) -> Any:
    """Return a client ``SSL_CTX`` trusting cafile/capath (or the system store when both
    are None), shared while the files are unchanged: loading the system bundle takes tens
    of milliseconds.  Raises ValueError for NUL bytes in a path and
    :class:`CaLocationError` when the trusted certificates cannot be loaded."""
    ca = os.fsencode(cafile) if cafile is not None else None
    cp = os.fsencode(capath) if capath is not None else None
    for value, what in ((ca, "cafile"), (cp, "capath")):
        if value is not None and b"\0" in value:
            raise ValueError(f"{what} must not contain NUL bytes")
    watched = (ca, cp) if ca is not None or cp is not None else _default_locations()
    key = (ca, cp, *(_stamp(path) for path in watched))
    with _trust_lock:
        if key in _trust_cache:
            _trust_cache.move_to_end(key)
            return _trust_cache[key]
    out = ffi.new("SSL_CTX **")
    check(lib.tb_tls_ctx_new(ca if ca is not None else ffi.NULL,
                             cp if cp is not None else ffi.NULL, out),
          "cannot load trusted certificates")
    context = ffi.gc(out[0], lib.SSL_CTX_free)
    with _trust_lock:
        _trust_cache[key] = context
        while len(_trust_cache) > _TRUST_CACHE_SIZE:
            _trust_cache.popitem(last=False)
    return context


def verify_exception(code: int, depth: int, chain: Sequence[Certificate],
                     hostname: str | None,
                     openssl_errors: Sequence[str] | ErrorQueue = ()) -> CertificateVerifyError:
    """Return the exception for OpenSSL's verify result ``code`` (an X509_V_ERR_*
    number): :class:`HostnameMismatch` for a name or IP mismatch, else
    :class:`CertificateVerifyError`, with OpenSSL's reason."""
    reason = ffi.string(lib.X509_verify_cert_error_string(code)).decode()
    mismatch = code in (lib.X509_V_ERR_HOSTNAME_MISMATCH, lib.X509_V_ERR_IP_ADDRESS_MISMATCH)
    cls = HostnameMismatch if mismatch else CertificateVerifyError
    where = f" for {hostname!r}" if mismatch and hostname else ""
    at = f" (at depth {depth})" if depth >= 0 and not mismatch else ""
    return cls(f"certificate verify failed: {reason}{where}{at}", openssl_errors,
               verify_code=code, reason=reason, depth=depth, chain=chain)


def verify_chain(leaf: Certificate, intermediates: Iterable[Certificate] = (), *,
                 cafile: PathArg = None, capath: PathArg = None, hostname: str | None = None,
                 at_time: _dt.datetime | float | None = None) -> list[Certificate]:
    """Build and verify a chain offline with OpenSSL's store.

    Trust comes from ``cafile``/``capath``, or the system store when both are None.
    ``hostname`` (a DNS name or an IP literal) is checked against the leaf; ``at_time``
    (aware datetime or POSIX seconds) replaces now.  Returns the chain leaf to root, or
    raises :class:`CertificateVerifyError` (:class:`HostnameMismatch`) with OpenSSL's
    reason, or :class:`CaLocationError`.
    """
    inters = list(intermediates)
    if not isinstance(leaf, Certificate) or not all(isinstance(c, Certificate) for c in inters):
        raise TypeError("leaf and intermediates must be Certificates")
    at_seconds = 0
    if isinstance(at_time, _dt.datetime):
        if at_time.tzinfo is None:
            raise ValueError("at_time must be an aware datetime")
        at_seconds = int(at_time.timestamp())
    elif at_time is not None:
        at_seconds = int(at_time)
    array = ffi.new("X509 *[]", [c._ptr for c in inters]) if inters else ffi.NULL
    chain = ffi.new("tb_tls_x509_list **")
    error = ffi.new("int *")
    depth = ffi.new("int *")
    store = lib.SSL_CTX_get_cert_store(trust_context(cafile, capath))
    rc = lib.tb_tls_verify_chain(store, leaf._ptr, array, len(inters),
                                 c_text(hostname, "hostname"), at_seconds, at_time is not None,
                                 chain, error, depth)
    if rc == lib.TB_TLS_E_VERIFY:
        raise verify_exception(error[0], depth[0], [leaf, *inters], hostname, drain())
    return certs_from_list(rc, chain, "cannot verify the chain")
