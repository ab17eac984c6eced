"""PKCS#12 files, certificates and a server's whole certificate chain, through OpenSSL 3.

The C behind every call is in ``csrc/tls.c`` (declared for cffi in ``bindings/tls.h``).

PKCS#12 the way pyOpenSSL's ``load_pkcs12`` read it (removed from pyOpenSSL in 23.3)::

    from tightbind.tls import load_pkcs12, dump_privatekey, dump_certificate, FILETYPE_PEM

    p12 = load_pkcs12(open("client.p12", "rb").read(), "secret")
    key_pem = dump_privatekey(FILETYPE_PEM, p12.get_privatekey())
    cert_pem = dump_certificate(FILETYPE_PEM, p12.get_certificate())

Legacy files (RC2-40, 3DES: older Windows and macOS exports) load too: OpenSSL's legacy
provider is loaded beside the default one the first time a file needs it.

A server's chain, as sent and as verified, never hiding an untrusted one::

    chain = fetch_chain("example.org")
    chain.unverified   # the certificates the server sent, leaf first
    chain.verified     # leaf to trusted root; empty when verification failed
    chain.verify_error # None, or OpenSSL's reason ("certificate has expired", ...)

Every error is a :class:`tightbind.TlsError`; the subclasses below say which case it is,
and each carries OpenSSL's own reasons in ``openssl_errors``.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import math
import os
import select
import socket
import struct
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tightbind._native import load
from tightbind.errors import TlsError

_tls = load("tls")
ffi = _tls.ffi
lib = _tls.lib

__all__ = [
    "FILETYPE_ASN1",
    "FILETYPE_PEM",
    "PKCS12",
    "CaLocationError",
    "Certificate",
    "CertificateVerifyError",
    "DecodeError",
    "HandshakeError",
    "HostnameMismatch",
    "InvalidArgument",
    "LegacyProviderUnavailable",
    "MissingMac",
    "Name",
    "NotPkcs12",
    "PKey",
    "PasswordRequired",
    "PeerChain",
    "TLSConnection",
    "TlsConnectError",
    "TlsError",
    "TlsTimeout",
    "UnsupportedAlgorithm",
    "WrongPassword",
    "create_pkcs12",
    "dump_certificate",
    "dump_privatekey",
    "fetch_chain",
    "load_certificate",
    "load_certificates",
    "load_pkcs12",
    "load_privatekey",
    "openssl_version",
    "verify_chain",
]

FILETYPE_PEM = 1
"""PEM text (``-----BEGIN ...``), as in pyOpenSSL."""
FILETYPE_ASN1 = 2
"""DER bytes, as in pyOpenSSL."""

Passphrase = str | bytes | None

# ------------------------------------------------------------------------- errors


class _OpenSSLReasons(TlsError):
    """Mixin body: keeps the drained OpenSSL error queue on the exception."""

    def __init__(self, message: str, openssl_errors: Sequence[str] = ()) -> None:
        self.openssl_errors = list(openssl_errors)
        if self.openssl_errors:
            message = f"{message} (OpenSSL: {'; '.join(self.openssl_errors)})"
        super().__init__(message)


class WrongPassword(_OpenSSLReasons, ValueError):
    """The password does not open the file or key (or the file is corrupted)."""


class PasswordRequired(WrongPassword):
    """The private key is encrypted and no password was given."""


class NotPkcs12(_OpenSSLReasons, ValueError):
    """The data is not a DER PKCS#12 file, or it is truncated."""


class MissingMac(_OpenSSLReasons, ValueError):
    """The PKCS#12 file has no integrity MAC (refused unless ``allow_missing_mac=True``)."""


class UnsupportedAlgorithm(_OpenSSLReasons):
    """No loaded OpenSSL provider implements an algorithm the data uses."""


class LegacyProviderUnavailable(UnsupportedAlgorithm):
    """The data needs OpenSSL's legacy provider (RC2, DES, ...) and it is not installed."""


class DecodeError(_OpenSSLReasons, ValueError):
    """The data is not a valid certificate or private key in the format given."""


class CaLocationError(_OpenSSLReasons, OSError):
    """The cafile/capath could not be read as trusted certificates."""


class HandshakeError(_OpenSSLReasons):
    """The TLS handshake or a later record failed (alert, protocol mismatch, ...)."""


class TlsConnectError(_OpenSSLReasons, ConnectionError):
    """The TCP connection could not be made, or the socket failed under TLS."""


class TlsTimeout(_OpenSSLReasons, TimeoutError):
    """Connecting, the handshake, or a read or write took longer than the timeout."""


class CertificateVerifyError(_OpenSSLReasons):
    """A chain did not verify.

    ``verify_code`` is OpenSSL's X509_V_ERR_* number, ``reason`` its text (``"certificate
    has expired"``, ``"self-signed certificate in certificate chain"``, ``"unable to get
    local issuer certificate"``, ``"hostname mismatch"``), ``depth`` the position in the
    chain of the certificate at fault (-1 when unknown) and ``chain`` the certificates
    that were presented, leaf first.
    """

    def __init__(self, message: str, *, verify_code: int, reason: str, depth: int = -1,
                 chain: Sequence[Certificate] = ()) -> None:
        super().__init__(message)
        self.verify_code = verify_code
        self.reason = reason
        self.depth = depth
        self.chain = tuple(chain)


class HostnameMismatch(CertificateVerifyError):
    """The chain is trusted but the leaf is not valid for the expected host name."""


def _drain() -> list[str]:
    """OpenSSL's queued reasons for this thread, oldest first; the queue is left empty."""
    buf = ffi.new("char[]", 4096)
    count = lib.tb_tls_drain_errors(buf, 4096, ffi.NULL)
    if count == 0:
        return []
    return ffi.string(buf).decode("utf-8", "replace").split("\n")


_LEGACY_HINT = (
    "it needs OpenSSL's legacy provider (RC2-40/3DES/RC4 files from older Windows and "
    "macOS), which is not installed here: OpenSSL looked in {dir}. On Debian it ships in "
    "libssl3; set OPENSSL_MODULES to the folder holding legacy.so if it lives elsewhere"
)


def _modules_dir() -> str:
    env = os.environ.get("OPENSSL_MODULES")
    if env:
        return env
    text = ffi.string(lib.OpenSSL_version(lib.OPENSSL_MODULES_DIR)).decode()
    return text.split(":", 1)[-1].strip().strip('"')


class InvalidArgument(_OpenSSLReasons, ValueError):
    """An argument OpenSSL refused (unknown cipher name, bad host name, ...)."""


# What each TB_TLS_E_* code raises, and the sentence after "<what>: ".
_FAILURES: dict[int, tuple[type[_OpenSSLReasons], str]] = {
    lib.TB_TLS_E_NOT_PKCS12: (NotPkcs12, ("the data is not a PKCS#12 (.p12/.pfx) file, or it "
                              "is truncated")),
    lib.TB_TLS_E_PASSWORD: (WrongPassword, "wrong password or corrupted file"),
    lib.TB_TLS_E_NEED_PASSWORD: (PasswordRequired, ("the key is encrypted and no password was "
                                 "given")),
    lib.TB_TLS_E_NO_MAC: (MissingMac, ("the file has no integrity MAC, so neither the password "
                          "nor the contents can be checked; pass allow_missing_mac=True to "
                          "load it anyway")),
    lib.TB_TLS_E_UNSUPPORTED: (UnsupportedAlgorithm, ("it uses an algorithm that no loaded "
                               "OpenSSL provider implements")),
    lib.TB_TLS_E_DECODE: (DecodeError, "the data is not valid"),
    lib.TB_E_ARG: (InvalidArgument, "invalid argument"),
    lib.TB_TLS_E_CA_LOCATIONS: (CaLocationError, "cannot load trusted certificates"),
    lib.TB_TLS_E_PROTOCOL: (HandshakeError, "TLS failure"),
}


def _raise_for(rc: int, what: str) -> None:
    """Turn a TB_TLS_E_* code into the matching exception (after draining the queue)."""
    errors = _drain()
    if rc == lib.TB_E_NOMEM:
        raise MemoryError(f"{what}: out of memory")
    if rc == lib.TB_TLS_E_NO_LEGACY:
        raise LegacyProviderUnavailable(
            f"{what}: " + _LEGACY_HINT.format(dir=_modules_dir()), errors)
    cls, sentence = _FAILURES.get(rc, (_OpenSSLReasons, f"OpenSSL failed (code {rc})"))
    raise cls(f"{what}: {sentence}", errors)


def _check(rc: int, what: str) -> None:
    if rc != 0:
        _raise_for(rc, what)


_rc = lib.tb_tls_init()
if _rc != 0:
    _raise_for(_rc, "initialising OpenSSL")


def openssl_version() -> str:
    """The version text of the OpenSSL library tightbind runs on."""
    return ffi.string(lib.OpenSSL_version(lib.OPENSSL_VERSION)).decode()


# ------------------------------------------------------------------------- helpers


def _as_bytes(data: bytes | bytearray | memoryview | str, what: str) -> bytes:
    if isinstance(data, str):
        return data.encode("ascii")
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise TypeError(f"{what} must be bytes, not {type(data).__name__}")


def _password(passphrase: Passphrase, what: str = "passphrase") -> Any:
    """A char* for a password (ffi.NULL for None); refuses NUL bytes and other types."""
    if passphrase is None:
        return ffi.NULL
    if isinstance(passphrase, str):
        passphrase = passphrase.encode("utf-8")
    if not isinstance(passphrase, (bytes, bytearray)):
        raise TypeError(f"{what} must be str, bytes or None, not {type(passphrase).__name__}")
    if b"\0" in passphrase:
        raise ValueError(f"{what} must not contain NUL bytes")
    return ffi.new("char[]", bytes(passphrase))


def _c_text(value: str | os.PathLike[str] | None, what: str) -> Any:
    if value is None:
        return ffi.NULL
    raw = os.fsencode(value)
    if b"\0" in raw:
        raise ValueError(f"{what} must not contain NUL bytes")
    return ffi.new("char[]", raw)


def _check_type(filetype: int) -> bool:
    """True for PEM, False for DER; ValueError otherwise."""
    if filetype == FILETYPE_PEM:
        return True
    if filetype == FILETYPE_ASN1:
        return False
    raise ValueError("type argument must be FILETYPE_PEM or FILETYPE_ASN1")


def _take_buf(rc: int, out: Any, what: str) -> bytes:
    _check(rc, what)
    buf = out[0]
    try:
        return bytes(ffi.buffer(buf.data, buf.len))
    finally:
        lib.tb_buf_free(buf)


def _certs_from_list(rc: int, out: Any, what: str) -> list[Certificate]:
    """Own every certificate of a tb_x509_list, then free the list."""
    _check(rc, what)
    listing = out[0]
    try:
        return [Certificate._adopt(listing.certs[i], up_ref=True) for i in range(listing.count)]
    finally:
        lib.tb_x509_list_free(listing)


# ------------------------------------------------------------------------- names, keys


class Name:
    """A distinguished name (subject or issuer).

    ``rdns`` is the tuple CPython's ``getpeercert()`` uses (``((('commonName', 'x'),),
    ...)``); :meth:`get_components` is pyOpenSSL's list of ``(b"CN", b"x")`` pairs; the
    short or long attribute names read the first value (``name.CN``, ``name.commonName``).
    """

    __slots__ = ("_components", "_short", "rdns")

    def __init__(self, rdns: tuple[tuple[tuple[str, str], ...], ...],
                 components: list[tuple[bytes, bytes]], short_names: list[str]) -> None:
        self.rdns = rdns
        self._components = components
        self._short = short_names

    def get_components(self) -> list[tuple[bytes, bytes]]:
        """``[(short name, stored value bytes), ...]`` in order, as pyOpenSSL returned."""
        return list(self._components)

    def __getattr__(self, attribute: str) -> str | None:
        if attribute.startswith("_"):
            raise AttributeError(attribute)
        pairs = [pair for rdn in self.rdns for pair in rdn]
        for (long_name, value), short in zip(pairs, self._short, strict=True):
            if attribute in (long_name, short):
                return value
        return None

    def __str__(self) -> str:
        parts = [f"{short}={value}" for (_, value), short in
                 zip((pair for rdn in self.rdns for pair in rdn), self._short, strict=True)]
        return "/" + "/".join(parts) if parts else ""

    def __repr__(self) -> str:
        return f"<Name {str(self)!r}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Name) and self.rdns == other.rdns

    def __hash__(self) -> int:
        return hash(self.rdns)


class PKey:
    """A private key (what pyOpenSSL called PKey)."""

    __slots__ = ("_ptr",)

    def __init__(self, ptr: Any) -> None:
        self._ptr = ptr

    @classmethod
    def _adopt(cls, ptr: Any, *, up_ref: bool) -> PKey:
        if up_ref and lib.EVP_PKEY_up_ref(ptr) != 1:
            raise MemoryError("EVP_PKEY_up_ref failed")
        return cls(ffi.gc(ptr, lib.EVP_PKEY_free))

    def bits(self) -> int:
        """The key size in bits."""
        return int(lib.EVP_PKEY_get_bits(self._ptr))

    @property
    def key_type(self) -> str:
        """``"RSA"``, ``"EC"``, ``"ED25519"``, ..."""
        name = lib.EVP_PKEY_get0_type_name(self._ptr)
        return ffi.string(name).decode() if name != ffi.NULL else ""

    def public_pem(self) -> bytes:
        """The public half as a PEM ``PUBLIC KEY`` block."""
        out = ffi.new("tb_buf **")
        return _take_buf(lib.tb_pkey_public_pem(self._ptr, out), out, "public key")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PKey) and lib.EVP_PKEY_eq(self._ptr, other._ptr) == 1

    def __hash__(self) -> int:
        return hash(self.public_pem())

    def __repr__(self) -> str:
        return f"<PKey {self.key_type} {self.bits()} bits>"


# ------------------------------------------------------------------------- certificates


def _group_rdns(entries: list[tuple[int, str, str]]) -> tuple[tuple[tuple[str, str], ...], ...]:
    rdns: list[list[tuple[str, str]]] = []
    last = None
    for rdn, key, value in entries:
        if rdn != last:
            rdns.append([])
            last = rdn
        rdns[-1].append((key, value))
    return tuple(tuple(rdn) for rdn in rdns)


def _utc(fields: list[int]) -> _dt.datetime:
    year, month, day, hour, minute, second = fields
    return _dt.datetime(year, month, day, hour, minute, second, tzinfo=_dt.timezone.utc)


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


class Certificate:
    """An X.509 certificate.

    Built by :func:`load_certificate`, :func:`load_certificates`, :func:`load_pkcs12`,
    :func:`fetch_chain` and :class:`TLSConnection`.  The fields come from one C call that
    decodes the whole certificate; :meth:`to_dict` is exactly what CPython's
    ``SSLSocket.getpeercert()`` returns for it.  ``friendly_name`` is the PKCS#12
    friendlyName of a certificate read from a .p12 file, else None.
    """

    __slots__ = ("_fields", "_ptr", "friendly_name")

    def __init__(self, ptr: Any) -> None:
        self._ptr = ptr
        self._fields: dict[str, Any] | None = None
        self.friendly_name: str | None = None

    @classmethod
    def _adopt(cls, ptr: Any, *, up_ref: bool) -> Certificate:
        if up_ref and lib.X509_up_ref(ptr) != 1:
            raise MemoryError("X509_up_ref failed")
        return cls(ffi.gc(ptr, lib.X509_free))

    @classmethod
    def from_pem(cls, data: bytes | str) -> Certificate:
        """The first certificate of PEM text; raises :class:`DecodeError`."""
        return load_certificate(FILETYPE_PEM, data)

    @classmethod
    def from_der(cls, data: bytes) -> Certificate:
        """A certificate from DER bytes; raises :class:`DecodeError`."""
        return load_certificate(FILETYPE_ASN1, data)

    # The decode: one C call, cached.
    def _decoded(self) -> dict[str, Any]:
        if self._fields is None:
            self._fields = _decode(self._ptr)
        return self._fields

    @property
    def subject(self) -> Name:
        """The subject name."""
        return self._decoded()["subject"]

    @property
    def issuer(self) -> Name:
        """The issuer name."""
        return self._decoded()["issuer"]

    @property
    def serial_number(self) -> int:
        """The serial number as an int."""
        return int(self._decoded()["serialNumber"], 16)

    @property
    def version(self) -> int:
        """The X.509 version, 1-based as ``getpeercert()`` reports it (3 for v3)."""
        return int(self._decoded()["version"])

    @property
    def not_before(self) -> _dt.datetime:
        """Start of validity, an aware UTC datetime."""
        return self._decoded()["not_before"]

    @property
    def not_after(self) -> _dt.datetime:
        """End of validity, an aware UTC datetime."""
        return self._decoded()["not_after"]

    @property
    def subject_alt_names(self) -> tuple[tuple[str, Any], ...]:
        """``(("DNS", "example.org"), ("IP Address", "127.0.0.1"), ...)``; () when none."""
        return self._decoded().get("subjectAltName", ())

    @property
    def ocsp_urls(self) -> tuple[str, ...]:
        """OCSP responder URLs from Authority Information Access."""
        return self._decoded().get("OCSP", ())

    @property
    def ca_issuers_urls(self) -> tuple[str, ...]:
        """caIssuers URLs from Authority Information Access."""
        return self._decoded().get("caIssuers", ())

    @property
    def crl_distribution_points(self) -> tuple[str, ...]:
        """CRL distribution point URLs."""
        return self._decoded().get("crlDistributionPoints", ())

    @property
    def signature_algorithm(self) -> str:
        """Long name of the signature algorithm, e.g. ``sha256WithRSAEncryption``."""
        return self._decoded()["signature_algorithm"]

    @property
    def public_key_info(self) -> dict[str, Any]:
        """``{"algorithm": "RSA"|"EC"|..., "bits": int, "curve": str|None}``."""
        return dict(self._decoded()["public_key"])

    @property
    def der(self) -> bytes:
        """The DER encoding."""
        return dump_certificate(FILETYPE_ASN1, self)

    @property
    def pem(self) -> str:
        """The PEM text, as ``openssl x509`` prints it."""
        return dump_certificate(FILETYPE_PEM, self).decode("ascii")

    def fingerprint(self, algorithm: str = "sha256") -> str:
        """Hex digest of the DER with colons, as ``openssl x509 -fingerprint`` prints it."""
        digest = hashlib.new(algorithm, self.der).hexdigest().upper()
        return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))

    def to_dict(self) -> dict[str, Any]:
        """Exactly the dict ``ssl.SSLSocket.getpeercert()`` returns for this certificate."""
        fields = self._decoded()
        result: dict[str, Any] = {
            "subject": fields["subject"].rdns,
            "issuer": fields["issuer"].rdns,
            "version": fields["version"],
            "serialNumber": fields["serialNumber"],
            "notBefore": fields["notBefore"],
            "notAfter": fields["notAfter"],
        }
        for key in ("subjectAltName", "OCSP", "caIssuers", "crlDistributionPoints"):
            if key in fields:
                result[key] = fields[key]
        return result

    # pyOpenSSL-era accessors.
    def get_subject(self) -> Name:
        """The subject :class:`Name` (pyOpenSSL)."""
        return self.subject

    def get_issuer(self) -> Name:
        """The issuer :class:`Name` (pyOpenSSL)."""
        return self.issuer

    def get_serial_number(self) -> int:
        """The serial number (pyOpenSSL)."""
        return self.serial_number

    def get_version(self) -> int:
        """The 0-based version field, as pyOpenSSL returned it (2 for v3)."""
        return self.version - 1

    def get_notBefore(self) -> bytes:
        """``b"YYYYMMDDhhmmssZ"`` (pyOpenSSL)."""
        return self.not_before.strftime("%Y%m%d%H%M%SZ").encode()

    def get_notAfter(self) -> bytes:
        """``b"YYYYMMDDhhmmssZ"`` (pyOpenSSL)."""
        return self.not_after.strftime("%Y%m%d%H%M%SZ").encode()

    def has_expired(self) -> bool:
        """True when not_after is in the past (pyOpenSSL)."""
        return self.not_after < _dt.datetime.now(_dt.timezone.utc)

    def digest(self, algorithm: str) -> bytes:
        """``b"AB:CD:..."`` (pyOpenSSL)."""
        return self.fingerprint(algorithm).encode()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Certificate) and self.der == other.der

    def __hash__(self) -> int:
        return hash(self.der)

    def __repr__(self) -> str:
        return f"<Certificate subject={str(self.subject)!r} serial={self.serial_number:#x}>"


# tb_cert_item as the C compiler lays it out (native sizes and alignment).
_ITEM = struct.Struct("@iii" + "N" * 8)
if _ITEM.size != ffi.sizeof("tb_cert_item"):
    raise ImportError("tightbind._tls: tb_cert_item layout is not what tightbind.tls expects")


def _decode(ptr: Any) -> dict[str, Any]:
    out = ffi.new("tb_cert_info **")
    _check(lib.tb_cert_decode(ptr, out), "cannot decode the certificate")
    info = out[0]
    try:
        strings = bytes(ffi.buffer(info.strings, info.strings_len))
        # The item array read in one copy: (kind, index, rdn, 4 x (offset, length)).
        table = ffi.buffer(info.items, info.item_count * _ITEM.size)
        items = [(kind, index, rdn, strings[k:k + kl], strings[s:s + sl], strings[v:v + vl],
                  strings[r:r + rl])
                 for kind, index, rdn, k, kl, s, sl, v, vl, r, rl in _ITEM.iter_unpack(table)]

        def field(name: str) -> bytes:
            off = getattr(info, f"{name}_off")
            return strings[off:off + getattr(info, f"{name}_len")]

        fields: dict[str, Any] = {
            "version": info.version,
            "serialNumber": field("serial").decode("ascii"),
            "notBefore": field("not_before").decode("ascii"),
            "notAfter": field("not_after").decode("ascii"),
            "not_before": _utc(list(info.not_before_tm)),
            "not_after": _utc(list(info.not_after_tm)),
            "signature_algorithm": field("sig_alg").decode("ascii", "replace"),
            "public_key": {
                "algorithm": field("key_type").decode("ascii", "replace"),
                "bits": info.key_bits,
                "curve": field("key_group").decode("ascii", "replace") or None,
            },
        }
    finally:
        lib.tb_cert_info_free(info)

    for kind, name in ((lib.TB_CERT_SUBJECT, "subject"), (lib.TB_CERT_ISSUER, "issuer")):
        entries = [i for i in items if i[0] == kind]
        fields[name] = Name(
            _group_rdns([(rdn, _text(key), _text(value)) for _, _, rdn, key, _, value, _ in
                         entries]),
            [(short, raw) for _, _, _, _, short, _, raw in entries],
            [(short if short != b"UNDEF" else key).decode("ascii", "replace")
             for _, _, _, key, short, _, _ in entries],
        )
    sans: list[tuple[str, Any]] = []
    for kind, index, _, key, _, value, _ in items:
        if kind != lib.TB_CERT_SAN:
            continue
        if key == b"DirName":
            dirname = [(rdn, _text(k), _text(v)) for kd, ix, rdn, k, _, v, _ in items
                       if kd == lib.TB_CERT_SAN_DIRNAME and ix == index]
            sans.append(("DirName", _group_rdns(dirname)))
        else:
            sans.append((_text(key), _text(value)))
    if sans:
        fields["subjectAltName"] = tuple(sans)
    for kind, name in ((lib.TB_CERT_OCSP, "OCSP"), (lib.TB_CERT_CA_ISSUERS, "caIssuers"),
                       (lib.TB_CERT_CRL_DP, "crlDistributionPoints")):
        urls = tuple(_text(value) for k, _, _, _, _, value, _ in items if k == kind)
        if urls:
            fields[name] = urls
    return fields


def load_certificate(type: int, buffer: bytes | str) -> Certificate:
    """Read one certificate (pyOpenSSL); raises :class:`DecodeError`."""
    pem = _check_type(type)
    data = _as_bytes(buffer, "buffer")
    out = ffi.new("X509 **")
    _check(lib.tb_cert_load(data, len(data), pem, out), "cannot read the certificate")
    return Certificate._adopt(out[0], up_ref=False)


def load_certificates(pem_bundle: bytes | str) -> list[Certificate]:
    """Every certificate of a PEM bundle, in order; raises :class:`DecodeError` when the
    text holds none or one of them is damaged."""
    data = _as_bytes(pem_bundle, "pem_bundle")
    out = ffi.new("tb_x509_list **")
    return _certs_from_list(lib.tb_pem_read_certs(data, len(data), out), out,
                            "cannot read the PEM bundle")


def dump_certificate(type: int, cert: Certificate) -> bytes:
    """PEM or DER bytes of ``cert`` (pyOpenSSL), PEM exactly as ``openssl x509`` prints."""
    pem = _check_type(type)
    if not isinstance(cert, Certificate):
        raise TypeError("cert must be a Certificate")
    out = ffi.new("tb_buf **")
    return _take_buf(lib.tb_cert_dump(cert._ptr, pem, out), out, "cannot encode the certificate")


def load_privatekey(type: int, buffer: bytes | str,
                    passphrase: Passphrase = None) -> PKey:
    """Read a private key: PKCS#8 (encrypted or not) or traditional, PEM or DER.

    Raises :class:`PasswordRequired` when the key is encrypted and no passphrase was given,
    :class:`WrongPassword`, or :class:`DecodeError`.  Never prompts on a terminal.
    """
    pem = _check_type(type)
    data = _as_bytes(buffer, "buffer")
    out = ffi.new("EVP_PKEY **")
    _check(lib.tb_pkey_load(data, len(data), pem, _password(passphrase), out),
           "cannot read the private key")
    return PKey._adopt(out[0], up_ref=False)


def dump_privatekey(type: int, pkey: PKey, cipher: str | None = None,
                    passphrase: Passphrase = None) -> bytes:
    """Encode a private key (pyOpenSSL).

    PEM is PKCS#8 (``BEGIN PRIVATE KEY``, what ``openssl pkey`` prints); DER is what
    ``openssl pkey -outform DER`` writes.  With ``cipher`` (an OpenSSL name such as
    ``"aes-256-cbc"``) and ``passphrase`` the key is written as encrypted PKCS#8.
    """
    pem = _check_type(type)
    if not isinstance(pkey, PKey):
        raise TypeError("pkey must be a PKey")
    if (cipher is None) != (passphrase is None):
        raise TypeError("cipher and passphrase must be given together")
    out = ffi.new("tb_buf **")
    return _take_buf(lib.tb_pkey_dump(pkey._ptr, pem, _c_text(cipher, "cipher"),
                                      _password(passphrase), out), out,
                     "cannot encode the private key")


# ------------------------------------------------------------------------- PKCS#12


class PKCS12:
    """What a .p12/.pfx file holds, with pyOpenSSL's accessors.

    ``certificate`` is the certificate matching the private key (None without a key, in
    which case every certificate is in ``ca_certificates``, as pyOpenSSL did).
    ``has_mac`` says whether the file carried an integrity MAC.
    """

    def __init__(self, private_key: PKey | None, certificate: Certificate | None,
                 ca_certificates: Sequence[Certificate] = (),
                 friendly_name: bytes | None = None, has_mac: bool = True) -> None:
        self.private_key = private_key
        self.certificate = certificate
        self.ca_certificates: tuple[Certificate, ...] = tuple(ca_certificates)
        self.friendly_name = friendly_name
        self.has_mac = has_mac

    def get_certificate(self) -> Certificate | None:
        """The certificate matching the key, or None."""
        return self.certificate

    def get_privatekey(self) -> PKey | None:
        """The private key, or None."""
        return self.private_key

    def get_ca_certificates(self) -> tuple[Certificate, ...] | None:
        """The other certificates, or None when there are none (as pyOpenSSL)."""
        return self.ca_certificates or None

    def get_friendlyname(self) -> bytes | None:
        """The main certificate's friendlyName as bytes, or None (as pyOpenSSL)."""
        return self.friendly_name

    def export(self, passphrase: Passphrase = None, *, legacy: bool = False) -> bytes:
        """Encode again as PKCS#12 (see :func:`create_pkcs12`)."""
        name = self.friendly_name.decode("utf-8") if self.friendly_name else None
        return create_pkcs12(self.private_key, self.certificate, self.ca_certificates,
                             passphrase=passphrase, friendly_name=name, legacy=legacy)


def load_pkcs12(data: bytes, passphrase: Passphrase = None, *,
                allow_missing_mac: bool = False) -> PKCS12:
    """Open a PKCS#12 (.p12/.pfx) file.

    ``passphrase`` may be str or bytes; None and "" both open an empty-password file.
    Legacy files (RC2-40, 3DES) load after OpenSSL's legacy provider is loaded on demand.

    Raises :class:`WrongPassword` ("wrong password or corrupted file"), :class:`NotPkcs12`
    (not PKCS#12 or truncated), :class:`MissingMac` (no integrity MAC; pass
    ``allow_missing_mac=True`` to accept it), :class:`UnsupportedAlgorithm` or
    :class:`LegacyProviderUnavailable`.
    """
    raw = _as_bytes(data, "data") if not isinstance(data, str) else None
    if raw is None:
        raise TypeError("data must be bytes (the file's contents), not str")
    out = ffi.new("tb_p12 **")
    flags = lib.TB_P12_ALLOW_NO_MAC if allow_missing_mac else 0
    _check(lib.tb_p12_parse(raw, len(raw), _password(passphrase), flags, out),
           "cannot open the PKCS#12 file")
    p12 = out[0]
    try:
        key = PKey._adopt(p12.key, up_ref=True) if p12.key != ffi.NULL else None
        certs = []
        for i in range(p12.count):
            cert = Certificate._adopt(p12.certs[i], up_ref=True)
            if p12.names[i] != ffi.NULL:
                cert.friendly_name = ffi.string(p12.names[i]).decode("utf-8", "replace")
            certs.append(cert)
        main = int(p12.main_index)
        has_mac = bool(p12.has_mac)
    finally:
        lib.tb_p12_free(p12)
    certificate = certs[main] if main >= 0 else None
    others = [cert for i, cert in enumerate(certs) if i != main]
    name = certificate.friendly_name.encode("utf-8") if certificate and \
        certificate.friendly_name is not None else None
    return PKCS12(key, certificate, others, name, has_mac)


def create_pkcs12(key: PKey | None, cert: Certificate | None,
                  ca_certificates: Iterable[Certificate] = (), passphrase: Passphrase = None,
                  friendly_name: str | bytes | None = None, legacy: bool = False) -> bytes:
    """Encode a PKCS#12 file and return its bytes.

    Modern by default (AES-256-CBC with PBKDF2, SHA-256 MAC, what OpenSSL 3 writes);
    ``legacy=True`` writes 3DES keys, RC2-40 certificates and a SHA-1 MAC for old
    consumers.  passphrase None means the empty password.
    """
    if key is None and cert is None:
        raise ValueError("create_pkcs12 needs a key, a certificate, or both")
    if key is not None and not isinstance(key, PKey):
        raise TypeError("key must be a PKey")
    if cert is not None and not isinstance(cert, Certificate):
        raise TypeError("cert must be a Certificate")
    cas = list(ca_certificates)
    if not all(isinstance(ca, Certificate) for ca in cas):
        raise TypeError("ca_certificates must be Certificates")
    if isinstance(friendly_name, bytes):
        friendly_name = friendly_name.decode("utf-8")
    ca_array = ffi.new("X509 *[]", [ca._ptr for ca in cas]) if cas else ffi.NULL
    out = ffi.new("tb_buf **")
    return _take_buf(lib.tb_p12_create(key._ptr if key else ffi.NULL,
                                       cert._ptr if cert else ffi.NULL, ca_array, len(cas),
                                       _password(passphrase),
                                       _c_text(friendly_name, "friendly_name"), legacy, out),
                     out, "cannot create the PKCS#12 file")


# ------------------------------------------------------------------------- trust

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


def _trust_context(cafile: str | os.PathLike[str] | None,
                   capath: str | os.PathLike[str] | None) -> Any:
    """A client SSL_CTX trusting cafile/capath (or the system store), shared while the
    files are unchanged: loading the system bundle takes tens of milliseconds."""
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
    _check(lib.tb_tls_ctx_new(ca if ca is not None else ffi.NULL,
                              cp if cp is not None else ffi.NULL, out),
           "cannot load trusted certificates")
    context = ffi.gc(out[0], lib.SSL_CTX_free)
    with _trust_lock:
        _trust_cache[key] = context
        while len(_trust_cache) > _TRUST_CACHE_SIZE:
            _trust_cache.popitem(last=False)
    return context


# ------------------------------------------------------------------------- verification


def _verify_exception(code: int, depth: int, chain: Sequence[Certificate],
                      hostname: str | None) -> CertificateVerifyError:
    reason = ffi.string(lib.X509_verify_cert_error_string(code)).decode()
    mismatch = code in (lib.X509_V_ERR_HOSTNAME_MISMATCH, lib.X509_V_ERR_IP_ADDRESS_MISMATCH)
    cls = HostnameMismatch if mismatch else CertificateVerifyError
    where = f" for {hostname!r}" if mismatch and hostname else ""
    at = f" (at depth {depth})" if depth >= 0 and not mismatch else ""
    return cls(f"certificate verify failed: {reason}{where}{at}", verify_code=code,
               reason=reason, depth=depth, chain=chain)


def verify_chain(leaf: Certificate, intermediates: Iterable[Certificate] = (), *,
                 cafile: str | os.PathLike[str] | None = None,
                 capath: str | os.PathLike[str] | None = None, hostname: str | None = None,
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
    chain = ffi.new("tb_x509_list **")
    error = ffi.new("int *")
    depth = ffi.new("int *")
    store = lib.SSL_CTX_get_cert_store(_trust_context(cafile, capath))
    rc = lib.tb_verify_chain(store, leaf._ptr, array, len(inters),
                             _c_text(hostname, "hostname"), at_seconds, at_time is not None,
                             chain, error, depth)
    if rc == lib.TB_TLS_E_VERIFY:
        _drain()
        raise _verify_exception(error[0], depth[0], [leaf, *inters], hostname)
    return _certs_from_list(rc, chain, "cannot verify the chain")


# ------------------------------------------------------------------------- connections

_UNSET: Any = object()


class TLSConnection:
    """A blocking TLS client over an already connected socket, like ``ssl.wrap_socket``.

    The socket's timeout (or ``timeout``) bounds each operation; None waits forever.
    With ``verify=True`` (the default) a chain that does not verify for
    ``server_hostname`` raises :class:`CertificateVerifyError` after the handshake;
    with ``verify=False`` the handshake completes and :attr:`verify_error` tells.
    ``recv`` returns b"" at a clean end of stream (and, with ``suppress_ragged_eofs``,
    when the peer closes without close_notify), so it serves as a socket for
    ``tightbind.framing``'s helpers.  The TLSConnection owns the socket: ``close()``
    closes both.
    """

    def __init__(self, sock: socket.socket, server_hostname: str | None = None, *,
                 cafile: str | os.PathLike[str] | None = None,
                 capath: str | os.PathLike[str] | None = None, verify: bool = True,
                 check_hostname: bool = True, suppress_ragged_eofs: bool = True,
                 do_handshake_on_connect: bool = True, timeout: Any = _UNSET) -> None:
        self._sock = sock
        self._timeout: float | None = sock.gettimeout() if timeout is _UNSET else timeout
        self._verify = verify
        self._suppress_ragged_eofs = suppress_ragged_eofs
        self._server_hostname = server_hostname
        self._done = ffi.new("size_t *")
        self._errno = ffi.new("int *")
        self._sent: list[Certificate] = []
        self._verified: list[Certificate] = []
        self._verify_code = -1
        self._ssl: Any = None
        self._ctx = _trust_context(cafile, capath)
        sni = _c_text(server_hostname, "server_hostname")
        expected = sni if (check_hostname and server_hostname) else ffi.NULL
        ssl_out = ffi.new("SSL **")
        _check(lib.tb_tls_conn_new(self._ctx, sock.fileno(), sni, expected, ssl_out),
               "cannot set up TLS")
        self._ssl = ffi.gc(ssl_out[0], lib.SSL_free)
        sock.setblocking(False)
        if do_handshake_on_connect:
            try:
                self.do_handshake()
            except BaseException:
                self.close()  # as ssl.SSLSocket does: a failed handshake closes the socket
                raise

    # --- the step loop: one C step, then wait on the socket in Python (signals work).
    def _wait(self, writing: bool, deadline: float | None, what: str) -> None:
        poller = select.poll()
        poller.register(self._sock.fileno(), select.POLLOUT if writing else select.POLLIN)
        if deadline is None:
            poller.poll()
            return
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not poller.poll(math.ceil(remaining * 1000)):
            raise TlsTimeout(f"TLS {what} timed out after {self._timeout} s")

    def _run(self, op: int, buf: Any, length: int, what: str) -> int:
        """Bytes done, or -1 at end of stream."""
        if self._ssl is None:
            raise ValueError("I/O on a closed TLSConnection")
        deadline = None if self._timeout is None else time.monotonic() + self._timeout
        while True:
            rc = lib.tb_tls_step(self._ssl, op, buf, length, self._done, self._errno)
            if rc == lib.TB_TLS_IO_DONE:
                return int(self._done[0])
            if rc in (lib.TB_TLS_IO_WANT_READ, lib.TB_TLS_IO_WANT_WRITE):
                self._wait(rc == lib.TB_TLS_IO_WANT_WRITE, deadline, what)
                continue
            if rc == lib.TB_TLS_IO_EOF or (rc == lib.TB_TLS_IO_RAGGED_EOF and
                                           self._suppress_ragged_eofs and
                                           op == lib.TB_TLS_OP_READ):
                return -1
            if rc == lib.TB_TLS_IO_RAGGED_EOF:
                raise TlsConnectError(f"TLS {what}: the peer closed the connection without "
                                      "a TLS close_notify", _drain())
            if rc == lib.TB_TLS_E_SYSCALL:
                code = int(self._errno[0])
                raise TlsConnectError(f"TLS {what}: {os.strerror(code)} (errno {code})",
                                      _drain())
            if rc == lib.TB_TLS_E_PROTOCOL:
                raise HandshakeError(f"TLS {what} failed", _drain())
            _raise_for(rc, f"TLS {what}")

    def do_handshake(self) -> None:
        """Run the handshake; raises :class:`TlsTimeout`, :class:`HandshakeError`,
        :class:`TlsConnectError` or (with verify) :class:`CertificateVerifyError`."""
        if self._run(lib.TB_TLS_OP_HANDSHAKE, ffi.NULL, 0, "handshake") < 0:
            raise HandshakeError("TLS handshake: the peer closed the connection")
        sent = ffi.new("tb_x509_list **")
        verified = ffi.new("tb_x509_list **")
        result = ffi.new("long *")
        _check(lib.tb_tls_peer_chains(self._ssl, sent, verified, result), "peer chain")
        self._sent = _certs_from_list(0, sent, "peer chain")
        self._verified = _certs_from_list(0, verified, "peer chain")
        self._verify_code = int(result[0])
        if self._verify and self._verify_code != lib.X509_V_OK:
            raise _verify_exception(self._verify_code, -1, self._sent, self._server_hostname)

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

    def getpeercert(self, binary_form: bool = False) -> Any:
        """The leaf as ``getpeercert()`` returns it (DER with ``binary_form``); None when
        the peer sent none."""
        if not self._sent:
            return None
        leaf = self._sent[0]
        return leaf.der if binary_form else leaf.to_dict()

    def version(self) -> str | None:
        """The negotiated protocol, e.g. ``"TLSv1.3"``."""
        if self._ssl is None:
            return None
        return ffi.string(lib.SSL_get_version(self._ssl)).decode()

    def cipher(self) -> tuple[str, str, int] | None:
        """``(name, protocol, secret bits)`` as ``ssl.SSLSocket.cipher()``."""
        if self._ssl is None:
            return None
        current = lib.SSL_get_current_cipher(self._ssl)
        if current == ffi.NULL:
            return None
        name = ffi.string(lib.SSL_CIPHER_get_name(current)).decode()
        return name, self.version() or "", int(lib.SSL_CIPHER_get_bits(current, ffi.NULL))

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
        """Write all of ``data``."""
        source = ffi.from_buffer("unsigned char[]", data)
        offset, total = 0, len(source)
        while offset < total:
            n = self._run(lib.TB_TLS_OP_WRITE, source + offset, total - offset, "write")
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
        """Set the per-operation timeout."""
        self._timeout = timeout

    def close(self) -> None:
        """Send close_notify (without waiting for the peer's), free the TLS state and
        close the socket.  Safe to call twice."""
        ssl, self._ssl = self._ssl, None
        if ssl is not None:
            lib.tb_tls_step(ssl, lib.TB_TLS_OP_SHUTDOWN, ffi.NULL, 0, self._done, self._errno)
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
    """

    unverified: tuple[Certificate, ...]
    verified: tuple[Certificate, ...]
    verify_error: str | None
    verify_code: int
    protocol: str
    cipher: str

    @property
    def trusted(self) -> bool:
        """True when the chain verified."""
        return self.verify_error is None


def fetch_chain(host: str, port: int = 443, *, server_hostname: str | None = None,
                cafile: str | os.PathLike[str] | None = None,
                capath: str | os.PathLike[str] | None = None,
                timeout: float = 10.0) -> PeerChain:
    """Connect, handshake (SNI set) and return the server's chain with its verification.

    ``server_hostname`` (default: ``host``) is sent as SNI and checked against the leaf.
    Trust is ``cafile``/``capath``, else the system store.  An untrusted chain is returned
    with its reason, never hidden.  ``timeout`` bounds the connect and the handshake each.
    Raises :class:`TlsConnectError` (refused, unreachable, unknown host),
    :class:`TlsTimeout`, :class:`HandshakeError` or :class:`CaLocationError`.
    """
    if not isinstance(port, int) or not 0 < port < 65536:
        raise ValueError(f"port must be 1..65535, not {port!r}")
    name = host if server_hostname is None else server_hostname
    _c_text(name, "server_hostname")  # refuse NUL bytes before connecting
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except TimeoutError as exc:
        raise TlsTimeout(f"connecting to {host}:{port} timed out after {timeout} s") from exc
    except OSError as exc:
        raise TlsConnectError(f"cannot connect to {host}:{port}: "
                              f"{exc.strerror or exc}") from exc
    try:
        conn = TLSConnection(sock, name, cafile=cafile, capath=capath, verify=False)
    except BaseException:
        sock.close()  # also when the trust files could not be read
        raise
    with conn:
        cipher = conn.cipher()
        return PeerChain(
            unverified=conn.getpeercertchain(validate=False),
            verified=conn.getpeercertchain(validate=True),
            verify_error=conn.verify_error,
            verify_code=conn.verify_code,
            protocol=conn.version() or "",
            cipher=cipher[0] if cipher else "",
        )
