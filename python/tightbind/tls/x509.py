"""Certificates: :class:`Certificate`, :class:`Name`, reading and writing them, and the
decode to the dict CPython's ``getpeercert()`` returns (C: ``csrc/tls_x509.c``)."""

from __future__ import annotations

import datetime as _dt
import hashlib
import importlib
import operator
import struct
from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any

from tightbind.tls._native import as_bytes, check, ffi, lib, take_buf

FILETYPE_PEM = 1
"""PEM text (``-----BEGIN ...``), as in pyOpenSSL."""
FILETYPE_ASN1 = 2
"""DER bytes, as in pyOpenSSL."""


def check_filetype(filetype: int) -> bool:
    """Return True for :data:`FILETYPE_PEM`, False for :data:`FILETYPE_ASN1`; raise
    ValueError for anything else."""
    if filetype == FILETYPE_PEM:
        return True
    if filetype == FILETYPE_ASN1:
        return False
    raise ValueError("type argument must be FILETYPE_PEM or FILETYPE_ASN1")


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


class Certificate:
    """An X.509 certificate.

    Built by :func:`load_certificate`, :func:`load_certificates`,
    :func:`~tightbind.tls.load_pkcs12`, :func:`~tightbind.tls.fetch_chain` and
    :class:`~tightbind.tls.TLSConnection`.  The fields come from one C call that decodes
    the whole certificate; :meth:`to_dict` is exactly what CPython's
    ``SSLSocket.getpeercert()`` returns for it.  ``friendly_name`` is the PKCS#12
    friendlyName of a certificate read from a .p12 file, else None.
    """

    __slots__ = ("_fields", "_full", "_reader", "friendly_name")

    def __init__(self, ptr: Any) -> None:
        self._full = ptr  # the X509 every OpenSSL call can take
        self._reader: Any = ptr  # one that decodes and dumps (tb_tls_cert_read's, or _full)
        self._fields: dict[str, Any] | None = None
        self.friendly_name: str | None = None

    @property
    def _ptr(self) -> Any:
        """The X509 for any OpenSSL call, made from the reader certificate
        (``tb_tls_cert_full``) the first time a certificate from
        :func:`load_certificate` needs it."""
        if self._full is None:
            out = ffi.new("X509 **")
            check(lib.tb_tls_cert_full(self._reader, out), "cannot read the certificate")
            self._reader = self._full = ffi.gc(out[0], lib.X509_free)
        return self._full

    @classmethod
    def _adopt(cls, ptr: Any, *, up_ref: bool) -> Any:
        """A ``cls`` owning ``ptr`` (taking its own reference when ``up_ref``), built
        without ``cls.__init__`` so that subclasses with other constructors share it."""
        if up_ref and lib.X509_up_ref(ptr) != 1:
            raise MemoryError("X509_up_ref failed")
        cert = cls.__new__(cls)
        Certificate.__init__(cert, ffi.gc(ptr, lib.X509_free))
        return cert

    @classmethod
    def _adopt_reader(cls, ptr: Any, *, up_ref: bool = True) -> Certificate:
        """A Certificate owning a reader X509 (``tb_tls_cert_read``: fields and bytes
        only); :attr:`_ptr` makes the full one when another call needs it."""
        cert: Certificate = cls._adopt(ptr, up_ref=up_ref)
        cert._full = None
        return cert

    @classmethod
    def from_pem(cls, data: bytes | str) -> Certificate:
        """The first certificate of PEM text; raises :class:`DecodeError`."""
        return load_certificate(FILETYPE_PEM, data)

    @classmethod
    def from_der(cls, data: bytes) -> Certificate:
        """A certificate from DER bytes; raises :class:`DecodeError`."""
        return load_certificate(FILETYPE_ASN1, data)

    def to_cryptography(self) -> Any:
        """This certificate as a ``cryptography.x509.Certificate``, moved as DER (no
        PEM text).  Raises :class:`ModuleNotFoundError` when cryptography is not
        installed."""
        x509 = require_cryptography("Certificate.to_cryptography()").x509
        return x509.load_der_x509_certificate(self.der)

    @classmethod
    def from_cryptography(cls, crypto_cert: Any) -> Any:
        """A certificate of this class from a ``cryptography.x509.Certificate``, moved as
        DER.  Raises TypeError for other objects, :class:`ModuleNotFoundError` when
        cryptography is not installed."""
        cryptography = require_cryptography("Certificate.from_cryptography()")
        if not isinstance(crypto_cert, cryptography.x509.Certificate):
            raise TypeError("Must be a certificate: a cryptography.x509.Certificate, not "
                            f"{type(crypto_cert).__name__}")
        return cls.from_der(crypto_cert.public_bytes(cryptography.Encoding.DER))

    # The decode: one C call, cached.
    def _decoded(self) -> dict[str, Any]:
        if self._fields is None:
            self._fields = _decode(self._reader)
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
        fields = self._decoded()
        if "public_key" not in fields:
            fields["public_key"] = _decode_key(self._reader)
        return dict(fields["public_key"])

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


def require_cryptography(what: str) -> Any:
    """A namespace with cryptography's ``x509`` module, its serialization names
    (``Encoding``, ``PrivateFormat``, ``PublicFormat``, ``NoEncryption``,
    ``load_der_private_key``, ``load_der_public_key``) and ``asymmetric`` key modules,
    for the conversions; raises :class:`ModuleNotFoundError` naming the package when it
    is not installed."""
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import asymmetric, serialization

        for kind in ("dh", "dsa", "ec", "ed448", "ed25519", "rsa", "x448", "x25519"):
            importlib.import_module(f"{asymmetric.__name__}.{kind}")
    except ImportError as exc:
        raise ModuleNotFoundError(f"{what} needs the cryptography package, which is not "
                                  f"installed (pip install cryptography): {exc}",
                                  name="cryptography") from None
    names = {name: getattr(serialization, name) for name in (
        "Encoding", "PrivateFormat", "PublicFormat", "NoEncryption", "load_der_private_key",
        "load_der_public_key")}
    return SimpleNamespace(x509=x509, asymmetric=asymmetric, **names)


def certs_from_list(rc: int, out: Any, what: str) -> list[Certificate]:
    """Return a :class:`Certificate` for every certificate of the ``tb_tls_x509_list`` a
    call stored in ``out[0]`` (each owning its own reference), then free the list; raise
    from the failure table when ``rc`` is a failure."""
    check(rc, what)
    listing = out[0]
    try:
        return [Certificate._adopt(listing.certs[i], up_ref=True) for i in range(listing.count)]
    finally:
        lib.tb_tls_x509_list_free(listing)


# ------------------------------------------------------------------------- the decode

_ITEM_CODES = {"int": "i", "size_t": "N"}


def _item_struct() -> tuple[struct.Struct, tuple[str, ...]]:
    """A struct.Struct that unpacks an array of tb_tls_cert_item in one call, built from
    the layout cffi reports (field offsets, types, total size), and the field names in
    the order it returns them."""
    item = ffi.typeof("tb_tls_cert_item")
    fmt, position = "@", 0
    for name, field in item.fields:
        if field.type.cname not in _ITEM_CODES:
            raise ImportError(f"tightbind.tls.x509 cannot unpack tb_tls_cert_item.{name}, a "
                              f"{field.type.cname}")
        fmt += "x" * (field.offset - position) + _ITEM_CODES[field.type.cname]
        position = field.offset + ffi.sizeof(field.type)
    fmt += "x" * (ffi.sizeof(item) - position)
    layout = struct.Struct(fmt)
    if layout.size != ffi.sizeof(item):
        raise ImportError("tightbind._tls: cannot unpack tb_tls_cert_item as laid out")
    return layout, tuple(name for name, _ in item.fields)


_ITEM_STRUCT, _ITEM_FIELDS = _item_struct()
# The order _items() reads a row in; rows are reordered only if the header's differs.
_ITEM_ORDER = ("kind", "index", "rdn", "key_off", "key_len", "short_off", "short_len",
               "value_off", "value_len", "raw_off", "raw_len")
_ITEM_ROW = None if _ITEM_FIELDS == _ITEM_ORDER else operator.itemgetter(
    *(_ITEM_FIELDS.index(name) for name in _ITEM_ORDER))


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


def _rows(info: Any) -> Iterable[tuple[Any, ...]]:
    """Every tb_tls_cert_item as (kind, index, rdn, key_off, key_len, short_off,
    short_len, value_off, value_len, raw_off, raw_len), read from the array in one copy."""
    table = ffi.buffer(info.items, info.item_count * _ITEM_STRUCT.size)
    rows: Iterable[tuple[Any, ...]] = _ITEM_STRUCT.iter_unpack(table)
    return rows if _ITEM_ROW is None else map(_ITEM_ROW, rows)


def _name(entries: list[tuple[int, bytes, bytes, bytes, bytes]]) -> Name:
    """A :class:`Name` from (rdn, long name, short name, value, raw) entries."""
    rdns: list[list[tuple[str, str]]] = []
    last = None
    components = []
    shorts = []
    for rdn, key, short, value, raw in entries:
        if rdn != last:
            rdns.append([])
            last = rdn
        rdns[-1].append((key.decode("utf-8", "replace"), value.decode("utf-8", "replace")))
        components.append((short, raw))
        shorts.append((short if short != b"UNDEF" else key).decode("ascii", "replace"))
    return Name(tuple(map(tuple, rdns)), components, shorts)


def _decode(ptr: Any) -> dict[str, Any]:
    """Every field but the public key (:func:`_decode_key`), in one C call and one pass
    over its items."""
    out = ffi.new("tb_tls_cert_info **")
    check(lib.tb_tls_cert_decode(ptr, lib.TB_TLS_DECODE_FIELDS, out),
          "cannot decode the certificate")
    info = out[0]
    try:
        strings = ffi.unpack(info.strings, info.strings_len)
        rows = list(_rows(info))
        serial = strings[info.serial_off:info.serial_off + info.serial_len]
        not_before = strings[info.not_before_off:info.not_before_off + info.not_before_len]
        not_after = strings[info.not_after_off:info.not_after_off + info.not_after_len]
        sig_alg = strings[info.sig_alg_off:info.sig_alg_off + info.sig_alg_len]
        fields: dict[str, Any] = {
            "version": info.version,
            "serialNumber": serial.decode("ascii"),
            "notBefore": not_before.decode("ascii"),
            "notAfter": not_after.decode("ascii"),
            "not_before": _utc(list(info.not_before_tm)),
            "not_after": _utc(list(info.not_after_tm)),
            "signature_algorithm": sig_alg.decode("ascii", "replace"),
        }
    finally:
        lib.tb_tls_cert_info_free(info)

    names: tuple[list[Any], list[Any]] = ([], [])
    sans: list[tuple[int, bytes, bytes]] = []
    dirnames: dict[int, list[tuple[int, str, str]]] = {}
    urls: dict[int, list[str]] = {_OCSP: [], _CA_ISSUERS: [], _CRL_DP: []}
    for kind, index, rdn, k, kl, sh, sl, v, vl, r, rl in rows:
        if kind <= _ISSUER:
            names[kind].append((rdn, strings[k:k + kl], strings[sh:sh + sl],
                                strings[v:v + vl], strings[r:r + rl]))
        elif kind == _SAN:
            sans.append((index, strings[k:k + kl], strings[v:v + vl]))
        elif kind == _SAN_DIRNAME:
            dirnames.setdefault(index, []).append(
                (rdn, strings[k:k + kl].decode("utf-8", "replace"),
                 strings[v:v + vl].decode("utf-8", "replace")))
        else:
            urls[kind].append(strings[v:v + vl].decode("utf-8", "replace"))
    fields["subject"] = _name(names[_SUBJECT])
    fields["issuer"] = _name(names[_ISSUER])
    if sans:
        fields["subjectAltName"] = tuple(
            ("DirName", _group_rdns(dirnames.get(index, []))) if key == b"DirName"
            else (key.decode("utf-8", "replace"), value.decode("utf-8", "replace"))
            for index, key, value in sans)
    for kind, name in ((_OCSP, "OCSP"), (_CA_ISSUERS, "caIssuers"),
                       (_CRL_DP, "crlDistributionPoints")):
        if urls[kind]:
            fields[name] = tuple(urls[kind])
    return fields


def _decode_key(ptr: Any) -> dict[str, Any]:
    """``{"algorithm", "bits", "curve"}`` of the public key (a C call of its own: the
    costly part of a decode, which only readers of the key pay)."""
    out = ffi.new("tb_tls_cert_info **")
    check(lib.tb_tls_cert_decode(ptr, lib.TB_TLS_DECODE_KEY, out),
          "cannot decode the public key")
    info = out[0]
    try:
        strings = ffi.unpack(info.strings, info.strings_len)
        key_type = strings[info.key_type_off:info.key_type_off + info.key_type_len]
        group = strings[info.key_group_off:info.key_group_off + info.key_group_len]
        return {"algorithm": key_type.decode("ascii", "replace"), "bits": info.key_bits,
                "curve": group.decode("ascii", "replace") or None}
    finally:
        lib.tb_tls_cert_info_free(info)


_SUBJECT, _ISSUER = lib.TB_TLS_CERT_SUBJECT, lib.TB_TLS_CERT_ISSUER
_SAN, _SAN_DIRNAME = lib.TB_TLS_CERT_SAN, lib.TB_TLS_CERT_SAN_DIRNAME
_OCSP, _CA_ISSUERS, _CRL_DP = (lib.TB_TLS_CERT_OCSP, lib.TB_TLS_CERT_CA_ISSUERS,
                               lib.TB_TLS_CERT_CRL_DP)
if (_SUBJECT, _ISSUER) != (0, 1):  # names[kind] in _decode relies on it
    raise ImportError("tightbind._tls: unexpected TB_TLS_CERT_SUBJECT/ISSUER values")


# ------------------------------------------------------------------------- read, write


def load_certificate(type: int, buffer: bytes | str) -> Certificate:
    """Read one certificate, PEM or DER (pyOpenSSL) and return it.

    Raises :class:`DecodeError` when the data holds no valid certificate, ValueError for
    an unknown ``type`` and TypeError when ``buffer`` is not bytes or str.
    """
    pem = check_filetype(type)
    data = as_bytes(buffer, "buffer")
    out = ffi.new("X509 **")
    # Parsed for reading (several times faster on OpenSSL 3.0); the X509 other calls take
    # is made on first use (Certificate._ptr).
    check(lib.tb_tls_cert_read(data, len(data), pem, out), "cannot read the certificate")
    return Certificate._adopt_reader(out[0], up_ref=False)


def load_certificates(pem_bundle: bytes | str) -> list[Certificate]:
    """Return every certificate of a PEM bundle, in order; raises :class:`DecodeError`
    when the text holds none or one of them is damaged."""
    data = as_bytes(pem_bundle, "pem_bundle")
    out = ffi.new("tb_tls_x509_list **")
    return certs_from_list(lib.tb_tls_pem_read_certs(data, len(data), out), out,
                           "cannot read the PEM bundle")


def dump_certificate(type: int, cert: Certificate) -> bytes:
    """Return the PEM or DER bytes of ``cert`` (pyOpenSSL), PEM exactly as ``openssl
    x509`` prints it; ValueError for an unknown ``type``, TypeError for a non-Certificate."""
    pem = check_filetype(type)
    if not isinstance(cert, Certificate):
        raise TypeError("cert must be a Certificate")
    out = ffi.new("tb_tls_buf **")
    return take_buf(lib.tb_tls_cert_dump(cert._reader, pem, out), out,
                    "cannot encode the certificate")
