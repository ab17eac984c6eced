"""PKCS#12 files the way pyOpenSSL's ``OpenSSL.crypto`` read and wrote them:
:class:`PKCS12` and :func:`load_pkcs12` (C: ``csrc/tls_pkcs12.c``, which reads and
writes them for :mod:`tightbind.tls.pkcs12` too).

Passphrases are bytes; str still works with pyOpenSSL's DeprecationWarning ("str for
passphrase is no longer accepted, use bytes").
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable

from tightbind.tls import pkcs12 as tls_pkcs12
from tightbind.tls import x509 as tls_x509
from tightbind.tls._native import c_password, ffi, lib
from tightbind.tls.crypto.errors import InvalidArgument, check, take_bytes
from tightbind.tls.crypto.keys import PKey
from tightbind.tls.crypto.x509 import X509

__all__ = ["PKCS12", "load_pkcs12"]


def _passphrase_bytes(passphrase: bytes | str | None) -> bytes | None:
    """pyOpenSSL's rule: str is accepted with a DeprecationWarning (as UTF-8)."""
    if isinstance(passphrase, str):
        warnings.warn("str for passphrase is no longer accepted, use bytes",
                      DeprecationWarning, stacklevel=3)
        return passphrase.encode("utf-8")
    if passphrase is not None and not isinstance(passphrase, (bytes, bytearray)):
        raise TypeError(f"passphrase must be bytes or None, not {type(passphrase).__name__}")
    return None if passphrase is None else bytes(passphrase)


def _int(value: object, what: str) -> int:
    if not isinstance(value, int):
        raise TypeError(f"{what} must be an integer")
    return value


class PKCS12:
    """A PKCS#12 bundle (pyOpenSSL's ``PKCS12``): a private key, its certificate, CA
    certificates and a friendly name, any of them absent.

    Built empty with ``PKCS12()`` and filled with the setters, or read by
    :func:`load_pkcs12`; :meth:`export` writes it.
    """

    __slots__ = ("_cacerts", "_cert", "_friendlyname", "_pkey")

    def __init__(self) -> None:
        self._pkey: tls_pkcs12.PKey | None = None
        self._cert: tls_x509.Certificate | None = None
        self._cacerts: list[tls_x509.Certificate] | None = None
        self._friendlyname: bytes | None = None

    def get_certificate(self) -> X509 | None:
        """The certificate, or None."""
        return self._cert  # type: ignore[return-value]

    def set_certificate(self, cert: X509 | None) -> None:
        """Set (None: remove) the certificate; TypeError for anything else."""
        if cert is not None and not isinstance(cert, tls_x509.Certificate):
            raise TypeError("cert must be an X509 instance")
        self._cert = cert

    def get_privatekey(self) -> PKey | None:
        """The private key, or None."""
        return self._pkey  # type: ignore[return-value]

    def set_privatekey(self, pkey: PKey | None) -> None:
        """Set (None: remove) the private key; TypeError for anything else."""
        if pkey is not None and not isinstance(pkey, tls_pkcs12.PKey):
            raise TypeError("pkey must be a PKey instance")
        self._pkey = pkey

    def get_ca_certificates(self) -> tuple[X509, ...] | None:
        """The CA certificates as a tuple, or None when none were set (an empty list set
        gives ``()``, as in pyOpenSSL)."""
        return None if self._cacerts is None else tuple(self._cacerts)  # type: ignore[arg-type]

    def set_ca_certificates(self, cacerts: Iterable[X509] | None) -> None:
        """Replace the CA certificates (None: remove them); TypeError for anything but
        an iterable of certificates."""
        if cacerts is None:
            self._cacerts = None
            return
        certs: list[tls_x509.Certificate] = list(cacerts)
        if not all(isinstance(cert, tls_x509.Certificate) for cert in certs):
            raise TypeError("iterable must only contain X509 instances")
        self._cacerts = certs

    def set_friendlyname(self, name: bytes | None) -> None:
        """Set (None: remove) the friendly name, bytes; TypeError for anything else."""
        if name is not None and not isinstance(name, bytes):
            raise TypeError(f"name must be a byte string or None (not {name!r})")
        self._friendlyname = name

    def get_friendlyname(self) -> bytes | None:
        """The friendly name, or None."""
        return self._friendlyname

    def export(self, passphrase: bytes | None = None, iter: int = 2048,
               maciter: int = 1, *, encryption: str = "3des", mac_hash: str = "sha256",
               ca_friendly_names: Iterable[bytes | str | None] | None = None) -> bytes:
        """Write the bundle as PKCS#12 bytes, as pyOpenSSL did: key and certificates
        encrypted with 3DES (``iter`` key-derivation rounds; 0 or less: 2048), an
        HMAC-SHA-256 MAC (OpenSSL 3's default) of ``maciter`` rounds (``-1``: no MAC;
        0 or less: 1), ``passphrase`` None for none.

        Beyond pyOpenSSL, keyword options as :func:`tightbind.tls.create_pkcs12` takes
        them: ``encryption`` (``"aes-256-cbc"``, ``"3des"``, ``"rc2-40"``), ``mac_hash``
        (``"sha1"``, ``"sha256"``, ...) and ``ca_friendly_names`` (one name or None per
        CA certificate; pyOpenSSL wrote none).

        Raises TypeError and ValueError for bad arguments (NUL bytes in the passphrase
        or a friendly name), :class:`~tightbind.tls.crypto.errors.InvalidArgument` for
        an unknown encryption or MAC hash and a ``crypto.Error`` when OpenSSL refuses (a
        key that does not match the certificate, nothing to write).
        """
        password = c_password(_passphrase_bytes(passphrase))
        name = tls_pkcs12.name_bytes(self._friendlyname, "friendly name", InvalidArgument)
        cas = self._cacerts or []
        rounds = _int(iter, "iter")
        mac_rounds = _int(maciter, "maciter")
        options = tls_pkcs12.p12_options(
            encryption, rounds if rounds > 0 else tls_pkcs12.DEFAULT_ITERATIONS,
            None if mac_rounds == -1 else mac_hash, max(mac_rounds, 1),
            parts=(self._pkey is not None) + bool(cas or self._cert),
            empty_password=not passphrase, invalid=InvalidArgument)
        names = tls_pkcs12.ca_name_list([None] * len(cas) if ca_friendly_names is None
                                        else ca_friendly_names, len(cas), InvalidArgument)
        return tls_pkcs12.write_pkcs12(self._pkey, self._cert, name, cas, names, password,
                                       options, take_bytes, "cannot write the PKCS#12 file")

    def __repr__(self) -> str:
        parts = [label for label, present in (("key", self._pkey), ("certificate", self._cert))
                 if present is not None]
        if self._cacerts:
            parts.append(f"{len(self._cacerts)} CA certificates")
        return f"<PKCS12 {', '.join(parts) or 'empty'}>"


def load_pkcs12(buffer: bytes | str, passphrase: bytes | None = None, *,
                allow_missing_mac: bool = False) -> PKCS12:
    """Open PKCS#12 (.p12/.pfx) data and return its :class:`PKCS12`.

    The certificate is the one matching the key (a file without a key puts every
    certificate in the CA certificates, as pyOpenSSL did); the friendly name is that
    certificate's.  None and ``b""`` both open a file made with an empty password.
    Legacy files (RC2-40, 3DES) load OpenSSL's legacy provider on demand.  A file without
    a MAC is refused (:class:`~tightbind.tls.crypto.errors.MissingMac`) unless
    ``allow_missing_mac=True``.

    Raises a ``crypto.Error`` subclass:
    :class:`~tightbind.tls.crypto.errors.WrongPassword`,
    :class:`~tightbind.tls.crypto.errors.NotPkcs12`, ``MissingMac``,
    ``UnsupportedAlgorithm``.
    """
    password = c_password(_passphrase_bytes(passphrase))
    if isinstance(buffer, str):
        buffer = buffer.encode("ascii")
    if not isinstance(buffer, (bytes, bytearray, memoryview)):
        raise TypeError(f"buffer must be bytes, not {type(buffer).__name__}")
    data = bytes(buffer)
    out = ffi.new("tb_tls_p12 **")
    check(lib.tb_tls_p12_parse(data, len(data), password,
                               lib.TB_TLS_P12_ALLOW_NO_MAC if allow_missing_mac else 0, out),
          "cannot open the PKCS#12 file")
    parsed = out[0]
    try:
        key = PKey._adopt(parsed.key, up_ref=True) if parsed.key != ffi.NULL else None
        certs, names = [], []
        for i in range(parsed.count):
            cert = X509._adopt(parsed.certs[i], up_ref=True)
            name = ffi.string(parsed.names[i]) if parsed.names[i] != ffi.NULL else None
            if name is not None:
                cert.friendly_name = name.decode("utf-8", "replace")
            certs.append(cert)
            names.append(name)
        main = int(parsed.main_index)
    finally:
        lib.tb_tls_p12_free(parsed)
    p12 = PKCS12()
    p12._pkey = key
    if main >= 0:
        p12._cert = certs[main]
        p12._friendlyname = names[main]
    others: list[tls_x509.Certificate] = [cert for i, cert in enumerate(certs) if i != main]
    p12._cacerts = others or None
    return p12
