"""The TLS client: :class:`TLSConnection`, :func:`fetch_chain` and the :class:`PeerChain`
it returns (C: ``csrc/tls_conn.c``).  Trust comes from :mod:`tightbind.tls.verify`.

Deadlines are deadlines: every call that takes a timeout returns (or raises
:class:`TlsTimeout`) within that timeout plus :data:`TIMEOUT_SLACK`, whatever the peer
does: says nothing, sends a byte a second, or floods the socket with records OpenSSL
reads and skips.  The C side does bounded work per call (at most 64 socket reads and 64
writes, see ``csrc/tls_conn.c``) and Python checks the deadline between calls.  Not
covered: resolving a host name (``fetch_chain("example.org")`` asks the system resolver
first, which has its own timeouts; pass an IP address to avoid it) and reading the trust
files.
"""

from __future__ import annotations

import math
import os
import select
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

from tightbind._timeout import check_timeout
from tightbind.tls._native import c_text, check, drain, ffi, lib, take_buf
from tightbind.tls.errors import HandshakeError, TlsConnectError, TlsError, TlsTimeout
from tightbind.tls.verify import PathArg, trust_context, verify_exception
from tightbind.tls.x509 import Certificate, certs_from_list

_UNSET: Any = object()

TIMEOUT_SLACK = 0.5
"""Seconds a timed call may run past its timeout (the last bounded C step, the wake-up)."""

_POLL_MAX_MS = 60_000  # one poll() waits at most this long; the deadline is rechecked


class TLSConnection:
    """A blocking TLS client over an already connected socket, like ``ssl.wrap_socket``.

    The socket's timeout (or ``timeout``) bounds each operation (the handshake, one
    ``recv``, one ``send``, a whole ``sendall``) to that many seconds plus
    :data:`TIMEOUT_SLACK`, whatever the peer does; None waits forever.  After a
    :class:`TlsTimeout` the connection may be in the middle of a record: close it.
    With ``verify=True`` (the default) a chain that does not verify for
    ``server_hostname`` raises :class:`CertificateVerifyError` after the handshake;
    with ``verify=False`` the handshake completes and :attr:`verify_error` tells.
    ``recv`` returns b"" at a clean end of stream (and, with ``suppress_ragged_eofs``,
    when the peer closes without close_notify), so it serves as a socket for
    ``tightbind.framing``'s helpers.  The TLSConnection owns the socket: ``close()``
    closes both.

    With ``verify`` and ``check_hostname`` (the defaults) the leaf must be valid for
    ``server_hostname``, which must then be given (ValueError otherwise, as CPython's
    ``wrap_socket``); ``check_hostname=False`` says explicitly that no name is checked.
    The constructor raises :class:`CaLocationError` when the trust files cannot be read,
    :class:`InvalidArgument` for a server name OpenSSL refuses (longer than 255 bytes,
    say) and, while handshaking, what :meth:`do_handshake` raises; a failed handshake
    closes the socket, as ``ssl.SSLSocket`` does.  With ``request_ocsp`` the client asks
    for a stapled OCSP response (status_request); :meth:`stapled_ocsp` returns it.
    """

    def __init__(self, sock: socket.socket, server_hostname: str | None = None, *,
                 cafile: PathArg = None, capath: PathArg = None, verify: bool = True,
                 check_hostname: bool = True, suppress_ragged_eofs: bool = True,
                 do_handshake_on_connect: bool = True, timeout: Any = _UNSET,
                 request_ocsp: bool = False) -> None:
        if verify and check_hostname and not server_hostname:
            # As CPython's SSLContext.wrap_socket: a verified chain for any host at all
            # is not what a caller who left the defaults on asked for.
            raise ValueError("check_hostname requires server_hostname: pass the host name "
                             "the certificate must be valid for, or check_hostname=False "
                             "to verify the chain without checking any name")
        # Serialises every C call on the SSL object, which OpenSSL allows one thread at a
        # time (cffi drops the GIL around each call, and free-threaded CPython has none):
        # a reader and a writer thread take turns step by step, never while waiting on
        # the socket, and close() cannot free the SSL under a running step.
        self._lock = threading.Lock()
        self._sock = sock
        if timeout is _UNSET and sock.gettimeout() == 0:
            raise ValueError("the socket is non-blocking (timeout 0): TLSConnection blocks "
                             "until done or timed out; give it a timeout, or None")
        self._timeout = check_timeout(sock.gettimeout() if timeout is _UNSET else timeout)
        self._verify = verify
        self._suppress_ragged_eofs = suppress_ragged_eofs
        self._server_hostname = server_hostname
        self._done = ffi.new("size_t *")
        self._errno = ffi.new("int *")
        self._sent: list[Certificate] = []
        self._verified: list[Certificate] = []
        self._verify_code = -1
        self._ssl: Any = None
        self._ctx = trust_context(cafile, capath)
        sni = c_text(server_hostname, "server_hostname")
        expected = sni if (check_hostname and server_hostname) else ffi.NULL
        ssl_out = ffi.new("SSL **")
        check(lib.tb_tls_conn_new(self._ctx, sock.fileno(), sni, expected, ssl_out),
              "cannot set up TLS")
        self._ssl = ffi.gc(ssl_out[0], lib.SSL_free)
        if request_ocsp:
            check(lib.tb_tls_conn_request_ocsp(self._ssl), "cannot ask for OCSP stapling")
        sock.setblocking(False)
        if do_handshake_on_connect:
            try:
                self.do_handshake()
            except BaseException:
                self.close()  # as ssl.SSLSocket does: a failed handshake closes the socket
                raise

    # --- the step loop: one C step, then wait on the socket in Python (signals work).
    def _deadline(self) -> float | None:
        return None if self._timeout is None else time.monotonic() + self._timeout

    def _wait(self, writing: bool, deadline: float | None, what: str) -> None:
        """Wait until the socket is ready, or raise TlsTimeout once ``deadline`` passed.
        The deadline is checked before waiting even when the socket is ready at once: a
        peer that floods the socket never lets a call run past it."""
        poller = select.poll()
        poller.register(self._sock.fileno(), select.POLLOUT if writing else select.POLLIN)
        while True:
            wait_ms = _POLL_MAX_MS
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TlsTimeout(f"TLS {what} timed out after {self._timeout} s")
                wait_ms = min(wait_ms, math.ceil(remaining * 1000))
            if poller.poll(wait_ms):
                return

    def _run(self, op: int, buf: Any, length: int, what: str,
             deadline: float | None = _UNSET) -> int:
        """Bytes done, or -1 at end of stream; each C step is bounded work and the
        deadline (default: now + timeout) is checked between steps."""
        if deadline is _UNSET:
            deadline = self._deadline()
        while True:
            with self._lock:
                if self._ssl is None:
                    raise ValueError("I/O on a closed TLSConnection")
                rc = lib.tb_tls_step(self._ssl, op, buf, length, self._done, self._errno)
                done, code = int(self._done[0]), int(self._errno[0])
            if rc == lib.TB_TLS_IO_DONE:
                return done
            if rc in (lib.TB_TLS_IO_WANT_READ, lib.TB_TLS_IO_WANT_WRITE):
                self._wait(rc == lib.TB_TLS_IO_WANT_WRITE, deadline, what)
                continue
            if rc == lib.TB_TLS_IO_EOF or (rc == lib.TB_TLS_IO_RAGGED_EOF and
                                           self._suppress_ragged_eofs and
                                           op == lib.TB_TLS_OP_READ):
                return -1
            if rc == lib.TB_TLS_IO_RAGGED_EOF:
                raise TlsConnectError(f"TLS {what}: the peer closed the connection without "
                                      "a TLS close_notify", drain())
            if rc == lib.TB_TLS_E_SYSCALL:
                raise TlsConnectError(f"TLS {what}: {os.strerror(code)} (errno {code})",
                                      drain())
            check(rc, f"TLS {what}")  # TB_TLS_E_PROTOCOL, or any other failure
            raise TlsError(f"TLS {what}: the native code returned status {rc}, which "
                           "tightbind does not know (please report this bug)")

    def do_handshake(self) -> None:
        """Run the handshake; raises :class:`TlsTimeout`, :class:`HandshakeError`,
        :class:`TlsConnectError` or (with verify) :class:`CertificateVerifyError`."""
        self._handshake(self._deadline())

    def _handshake(self, deadline: float | None) -> None:
        if self._run(lib.TB_TLS_OP_HANDSHAKE, ffi.NULL, 0, "handshake", deadline) < 0:
            raise HandshakeError("TLS handshake: the peer closed the connection")
        sent = ffi.new("tb_tls_x509_list **")
        verified = ffi.new("tb_tls_x509_list **")
        result = ffi.new("long *")
        with self._lock:
            if self._ssl is None:
                raise ValueError("I/O on a closed TLSConnection")
            check(lib.tb_tls_peer_chains(self._ssl, sent, verified, result), "peer chain")
        self._sent = certs_from_list(0, sent, "peer chain")
        self._verified = certs_from_list(0, verified, "peer chain")
        self._verify_code = int(result[0])
        if self._verify and self._verify_code != lib.X509_V_OK:
            raise verify_exception(self._verify_code, -1, self._sent, self._server_hostname)

    @property
    def verify_code(self) -> int:
        """OpenSSL's X509_V_* result of the handshake's verification (0 is OK)."""
        return self._verify_code

    @property
    def verify_error(self) -> str | None:
        """None when the peer's chain verified, else OpenSSL's reason."""
        if self._verify_code == lib.X509_V_OK:
            return None
        if self._verify_code < 0:
            return "no handshake yet"
        return ffi.string(lib.X509_verify_cert_error_string(self._verify_code)).decode()

    def getpeercertchain(self, binary_form: bool = False,
                         validate: bool = True) -> tuple[Any, ...]:
        """The peer's chain: verified (leaf to trusted root; () when it did not verify)
        with ``validate``, else as the server sent it.  Certificates, or DER bytes with
        ``binary_form``."""
        chain = self._verified if validate else self._sent
        return tuple(cert.der for cert in chain) if binary_form else tuple(chain)

    def stapled_ocsp(self) -> bytes | None:
        """The DER OCSP response the server stapled to the handshake (asked for with
        ``request_ocsp=True``), unchecked; None when it stapled none."""
        out = ffi.new("tb_tls_buf **")
        with self._lock:
            if self._ssl is None:
                return None
            rc = lib.tb_tls_conn_stapled_ocsp(self._ssl, out)
        if rc == lib.TB_TLS_ABSENT:
            return None
        return take_buf(rc, out, "stapled OCSP response")

    def getpeercert(self, binary_form: bool = False) -> Any:
        """The leaf as ``getpeercert()`` returns it (DER with ``binary_form``); None when
        the peer sent none."""
        if not self._sent:
            return None
        leaf = self._sent[0]
        return leaf.der if binary_form else leaf.to_dict()

    def version(self) -> str | None:
        """The negotiated protocol, e.g. ``"TLSv1.3"``."""
        with self._lock:
            if self._ssl is None:
                return None
            return ffi.string(lib.SSL_get_version(self._ssl)).decode()

    def cipher(self) -> tuple[str, str, int] | None:
        """``(name, protocol, secret bits)`` as ``ssl.SSLSocket.cipher()``."""
        with self._lock:
            if self._ssl is None:
                return None
            current = lib.SSL_get_current_cipher(self._ssl)
            if current == ffi.NULL:
                return None
            name = ffi.string(lib.SSL_CIPHER_get_name(current)).decode()
            version = ffi.string(lib.SSL_get_version(self._ssl)).decode()
            return name, version, int(lib.SSL_CIPHER_get_bits(current, ffi.NULL))

    def recv(self, bufsize: int) -> bytes:
        """Up to ``bufsize`` bytes; b"" at end of stream."""
        if bufsize < 0:
            raise ValueError("negative buffersize in recv")
        if bufsize == 0:
            return b""
        size = min(bufsize, 1 << 16)
        buf = ffi.new("unsigned char[]", size)
        n = self._run(lib.TB_TLS_OP_READ, buf, size, "read")
        return b"" if n < 0 else bytes(ffi.buffer(buf, n))

    def recv_into(self, buffer: Any, nbytes: int = 0) -> int:
        """Read into a writable buffer; 0 at end of stream."""
        target = ffi.from_buffer("unsigned char[]", buffer, require_writable=True)
        size = len(target) if nbytes <= 0 else min(nbytes, len(target))
        if size == 0:
            return 0
        n = self._run(lib.TB_TLS_OP_READ, target, size, "read")
        return max(n, 0)

    def send(self, data: bytes) -> int:
        """Write some of ``data``; returns how many bytes."""
        source = ffi.from_buffer("unsigned char[]", data)
        if len(source) == 0:
            return 0
        n = self._run(lib.TB_TLS_OP_WRITE, source, len(source), "write")
        if n < 0:
            raise TlsConnectError("TLS write: the peer closed the TLS session")
        return n

    def sendall(self, data: bytes) -> None:
        """Write all of ``data``; the timeout bounds the whole call, as for sockets."""
        source = ffi.from_buffer("unsigned char[]", data)
        offset, total = 0, len(source)
        deadline = self._deadline()
        while offset < total:
            n = self._run(lib.TB_TLS_OP_WRITE, source + offset, total - offset, "write",
                          deadline)
            if n < 0:
                raise TlsConnectError("TLS write: the peer closed the TLS session")
            offset += n

    def fileno(self) -> int:
        """The socket's file descriptor."""
        return self._sock.fileno()

    def gettimeout(self) -> float | None:
        """Seconds each operation may take; None waits forever."""
        return self._timeout

    def settimeout(self, timeout: float | None) -> None:
        """Set the per-operation timeout (seconds, or None); ValueError for a negative,
        zero, NaN, infinite or huge one (the check every timeout-taking call makes)."""
        self._timeout = check_timeout(timeout)

    def close(self) -> None:
        """Send close_notify (without waiting for the peer's), free the TLS state and
        close the socket.  Safe to call twice."""
        with self._lock:
            ssl, self._ssl = self._ssl, None
            if ssl is not None:
                lib.tb_tls_step(ssl, lib.TB_TLS_OP_SHUTDOWN, ffi.NULL, 0, self._done,
                                self._errno)
                lib.ERR_clear_error()
                ffi.release(ssl)
        self._sock.close()

    def __enter__(self) -> TLSConnection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@dataclass(frozen=True)
class PeerChain:
    """What :func:`fetch_chain` saw.

    ``unverified``: the certificates as the server sent them, leaf first.
    ``verified``: leaf to trusted root; () when verification failed.
    ``verify_error``: None when the chain verified for the name, else OpenSSL's reason
    (including ``"hostname mismatch"``); ``verify_code`` its X509_V_* number.
    ``stapled_ocsp``: the DER OCSP response the server stapled (``request_ocsp=True``),
    unchecked, or None.
    """

    unverified: tuple[Certificate, ...]
    verified: tuple[Certificate, ...]
    verify_error: str | None
    verify_code: int
    protocol: str
    cipher: str
    stapled_ocsp: bytes | None = None

    @property
    def trusted(self) -> bool:
        """True when the chain verified."""
        return self.verify_error is None


def fetch_chain(host: str, port: int = 443, *, server_hostname: str | None = None,
                cafile: PathArg = None, capath: PathArg = None,
                timeout: float = 10.0, request_ocsp: bool = False) -> PeerChain:
    """Connect, handshake (SNI set) and return the server's chain with its verification.

    ``server_hostname`` (default: ``host``) is sent as SNI and checked against the leaf.
    Trust is ``cafile``/``capath``, else the system store.  An untrusted chain is returned
    with its reason, never hidden.  With ``request_ocsp`` the server is asked to staple
    its OCSP response (:attr:`PeerChain.stapled_ocsp`).  ``timeout`` bounds the connect
    and the handshake together (plus :data:`TIMEOUT_SLACK`; resolving ``host`` is not
    covered: see the module doc).  Raises :class:`TlsConnectError` (refused, unreachable,
    unknown host), :class:`TlsTimeout`, :class:`HandshakeError` or
    :class:`CaLocationError`; ValueError for a bad port or timeout.
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise ValueError(f"port must be 1..65535, not {port!r}")
    limit = check_timeout(timeout)
    deadline = None if limit is None else time.monotonic() + limit
    name = host if server_hostname is None else server_hostname
    c_text(name, "server_hostname")  # refuse NUL bytes before connecting
    try:
        sock = socket.create_connection((host, port), timeout=limit)
    except TimeoutError as exc:
        raise TlsTimeout(f"connecting to {host}:{port} timed out after {timeout} s") from exc
    except OSError as exc:
        raise TlsConnectError(f"cannot connect to {host}:{port}: "
                              f"{exc.strerror or exc}") from exc
    try:
        conn = TLSConnection(sock, name, cafile=cafile, capath=capath, verify=False,
                             timeout=limit, do_handshake_on_connect=False,
                             request_ocsp=request_ocsp)
    except BaseException:
        sock.close()  # also when the trust files could not be read
        raise
    with conn:
        try:
            conn._handshake(deadline)
        except TlsTimeout as exc:
            raise TlsTimeout(f"fetching the chain from {host}:{port} timed out after "
                             f"{timeout} s", exc.openssl_errors) from None
        cipher = conn.cipher()
        return PeerChain(
            unverified=conn.getpeercertchain(validate=False),
            verified=conn.getpeercertchain(validate=True),
            verify_error=conn.verify_error,
            verify_code=conn.verify_code,
            protocol=conn.version() or "",
            cipher=cipher[0] if cipher else "",
            stapled_ocsp=conn.stapled_ocsp(),
        )
