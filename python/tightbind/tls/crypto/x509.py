"""Certificates the way pyOpenSSL's ``OpenSSL.crypto`` read and built them: :class:`X509`,
:class:`X509Name`, :class:`X509Extension`, :func:`load_certificate` and
:func:`dump_certificate` (C: ``csrc/tls_crypto_x509.c``).

``X509.get_subject()`` and ``get_issuer()`` return live views: setting ``name.CN``
changes the certificate, and ``set_subject()`` copies into the certificate's own name,
so every view (old ones too) shows the new value.  An :class:`X509` is also a
:class:`tightbind.tls.Certificate`, so the rest of :mod:`tightbind.tls` takes it.
"""

from __future__ import annotations

import builtins
import functools
import struct
from collections.abc import Iterable
from typing import Any

from tightbind.tls import x509 as tls_x509
from tightbind.tls._native import ffi, lib
from tightbind.tls.crypto.constants import FILETYPE_ASN1, FILETYPE_PEM, FILETYPE_TEXT
from tightbind.tls.crypto.errors import (
    InvalidArgument,
    check,
    discard_queue,
    take_bytes,
    text_arg,
)
from tightbind.tls.crypto.keys import PKey
from tightbind.tls.pkcs12 import PKey as TlsPKey
from tightbind.tls.request import encode_value

__all__ = ["X509", "X509Extension", "X509Name", "dump_certificate", "load_certificate"]

_SIZE = struct.Struct("N")
_SHORT_TEXT = 128  # the buffer most names, serials and times fit in; longer ones retry

# Attribute name -> NID (0 for names OpenSSL does not know); a handful in practice.
_NIDS: dict[str, int] = {}


def _nid(attribute: str) -> int:
    nid = _NIDS.get(attribute)
    if nid is None:
        try:
            raw = attribute.encode("ascii")
        except UnicodeEncodeError:
            return 0
        nid = 0 if b"\0" in raw else int(lib.tb_tls_nid(raw))
        if len(_NIDS) < 4096:
            _NIDS[attribute] = nid
    return nid


def _short_text(call: Any, *args: Any) -> bytes | None:
    """Run a C call that writes text into (out, cap, len): the bytes, or None when it
    says the field is absent."""
    cap = _SHORT_TEXT
    while True:
        buf = ffi.new("char[]", cap)
        length = ffi.new("size_t *")
        rc = check(call(*args, buf, cap, length), "cannot read the field")
        if rc == lib.TB_TLS_ABSENT:
            return None
        if length[0] < cap:
            return ffi.unpack(buf, length[0])
        cap = length[0] + 1


# ------------------------------------------------------------------------ names


@functools.total_ordering
class X509Name:
    """A distinguished name (pyOpenSSL's ``X509Name``): attributes by short or long name
    (``name.CN``, ``name.commonName``; None when not set), set by assignment.

    ``X509Name(other)`` copies another name.  Names compare and order as OpenSSL's
    ``X509_NAME_cmp``; they are mutable, so not hashable (:meth:`hash` is OpenSSL's
    subject hash).
    """

    __slots__ = ("_owner", "_ptr")
    _owner: X509 | None
    _ptr: Any

    def __init__(self, name: X509Name) -> None:
        if not isinstance(name, X509Name):
            raise TypeError("name must be an X509Name")
        ptr = lib.X509_NAME_dup(name._ptr)
        if ptr == ffi.NULL:
            raise MemoryError("X509_NAME_dup failed")
        object.__setattr__(self, "_ptr", ffi.gc(ptr, lib.X509_NAME_free))
        object.__setattr__(self, "_owner", None)

    @classmethod
    def _new(cls) -> X509Name:
        ptr = lib.X509_NAME_new()
        if ptr == ffi.NULL:
            raise MemoryError("X509_NAME_new failed")
        return cls._view(ffi.gc(ptr, lib.X509_NAME_free), None)

    @classmethod
    def _view(cls, ptr: Any, owner: X509 | None) -> X509Name:
        name = cls.__new__(cls)
        object.__setattr__(name, "_ptr", ptr)
        object.__setattr__(name, "_owner", owner)  # keeps the certificate alive
        return name

    def __setattr__(self, name: str, value: Any) -> None:
        if type(name) is not str:
            raise TypeError(f"attribute name must be string, not '{type(name).__name__}'")
        if name.startswith("_"):
            object.__setattr__(self, name, value)
            return
        nid = _nid(name)
        if not nid:
            raise AttributeError(f"No such attribute: {name!r} is not a name OpenSSL knows")
        raw = encode_value(name, value)
        check(lib.tb_tls_name_set(self._ptr, nid, raw, len(raw)), f"cannot set {name}")
        if self._owner is not None:
            self._owner._changed()

    def __getattr__(self, name: str) -> str | None:
        nid = _nid(name)
        if not nid or name.startswith("_"):
            raise AttributeError(f"No such attribute: {name!r}")
        raw = _short_text(lib.tb_tls_name_get, self._ptr, nid)
        return None if raw is None else raw.decode("utf-8")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, X509Name):
            return NotImplemented
        return bool(lib.X509_NAME_cmp(self._ptr, other._ptr) == 0)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, X509Name):
            return NotImplemented
        return bool(lib.X509_NAME_cmp(self._ptr, other._ptr) < 0)

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        buf = ffi.new("char[]", 512)
        check(lib.tb_tls_name_text(self._ptr, buf, 512), "cannot print the name")
        return f"<X509Name object '{ffi.string(buf).decode('utf-8', 'replace')}'>"

    def hash(self) -> int:
        """OpenSSL's hash of the name (``X509_NAME_hash``: the first four bytes of the
        SHA-1 of its canonical encoding), as the ``openssl x509 -hash`` folders use."""
        return int(lib.tb_tls_name_hash(self._ptr))

    def der(self) -> bytes:
        """The DER encoding of the name."""
        out = ffi.new("tb_tls_buf **")
        return take_bytes(lib.tb_tls_name_der(self._ptr, out), out, "cannot encode the name")

    def get_components(self) -> list[tuple[bytes, bytes]]:
        """``[(short name, stored value bytes), ...]`` in order (NUL bytes kept)."""
        out = ffi.new("tb_tls_buf **")
        raw = take_bytes(lib.tb_tls_name_entries(self._ptr, out), out,
                         "cannot read the name")
        components, pos = [], 0
        while pos < len(raw):
            (size,) = _SIZE.unpack_from(raw, pos)
            key = raw[pos + _SIZE.size:pos + _SIZE.size + size]
            pos += _SIZE.size + size
            (size,) = _SIZE.unpack_from(raw, pos)
            components.append((key, raw[pos + _SIZE.size:pos + _SIZE.size + size]))
            pos += _SIZE.size + size
        return components


# ------------------------------------------------------------------------ extensions


class X509Extension:
    """An X.509 v3 extension (pyOpenSSL's ``X509Extension``), made from OpenSSL's text
    form: ``X509Extension(b"basicConstraints", True, b"CA:TRUE")``.

    ``subject`` and ``issuer`` are the certificates values such as
    ``subjectKeyIdentifier=hash`` or ``authorityKeyIdentifier=issuer:always`` are taken
    from.  Raises TypeError for a subject or issuer that is not a certificate and
    :class:`~tightbind.tls.crypto.errors.InvalidArgument` (a ``crypto.Error``) for an
    extension OpenSSL cannot make.
    """

    __slots__ = ("_ptr",)

    def __init__(self, type_name: bytes | str, critical: bool, value: bytes | str,
                 subject: X509 | None = None, issuer: X509 | None = None) -> None:
        if issuer is not None and not isinstance(issuer, tls_x509.Certificate):
            raise TypeError("issuer must be an X509 instance")
        if subject is not None and not isinstance(subject, tls_x509.Certificate):
            raise TypeError("subject must be an X509 instance")
        name = text_arg(type_name, "type_name")
        out = ffi.new("X509_EXTENSION **")
        check(lib.tb_tls_ext_new(name, bool(critical), text_arg(value, "value"),
                                 subject._ptr if subject is not None else ffi.NULL,
                                 issuer._ptr if issuer is not None else ffi.NULL, out),
              f"cannot make the {name.decode('utf-8', 'replace')} extension")
        self._ptr = ffi.gc(out[0], lib.X509_EXTENSION_free)

    @classmethod
    def _adopt(cls, ptr: Any) -> X509Extension:
        return cls._wrap(ffi.gc(ptr, lib.X509_EXTENSION_free))

    @classmethod
    def _wrap(cls, owned: Any) -> X509Extension:
        """An extension over an ``X509_EXTENSION *`` that already frees itself."""
        ext = cls.__new__(cls)
        ext._ptr = owned
        return ext

    def __str__(self) -> str:
        """OpenSSL's text for the value; subjectAltName as ``DNS:a, email:b, ...``."""
        out = ffi.new("tb_tls_buf **")
        return take_bytes(lib.tb_tls_ext_text(self._ptr, out), out,
                          "cannot print the extension").decode("utf-8", "replace")

    def get_critical(self) -> bool:
        """Whether the extension is marked critical."""
        return bool(lib.X509_EXTENSION_get_critical(self._ptr))

    def get_short_name(self) -> bytes:
        """OpenSSL's short name of the type, e.g. ``b"basicConstraints"`` (``b"UNDEF"``
        for one it does not know)."""
        return ffi.string(lib.tb_tls_ext_short_name(self._ptr))

    def get_data(self) -> bytes:
        """The DER encoding of the value (the contents of the extension's OCTET STRING)."""
        data = ffi.new("const unsigned char **")
        length = ffi.new("size_t *")
        check(lib.tb_tls_ext_data(self._ptr, data, length), "cannot read the extension")
        return bytes(ffi.buffer(data[0], length[0]))

    def __repr__(self) -> str:
        return f"<X509Extension {self.get_short_name().decode()}>"


# ------------------------------------------------------------------------ certificates

_NOT_BEFORE, _NOT_AFTER = lib.TB_TLS_TIME_NOT_BEFORE, lib.TB_TLS_TIME_NOT_AFTER


def _int(value: object, what: str) -> int:
    if not isinstance(value, int):
        raise TypeError(f"{what} must be an integer")
    return value


class X509(tls_x509.Certificate):
    """An X.509 certificate (pyOpenSSL's ``X509``), to read or to build: ``X509()`` is
    empty; set its fields, add extensions and :meth:`sign` it.

    Also a :class:`tightbind.tls.Certificate` (``.subject``, ``.to_dict()``, ... and
    every tightbind call that takes one); the pyOpenSSL methods keep pyOpenSSL's types
    (:meth:`get_subject` is an :class:`X509Name`, :meth:`get_notBefore` bytes or None).
    Certificates compare by identity, as pyOpenSSL's did.
    """

    __slots__ = ()

    def __init__(self) -> None:
        ptr = lib.X509_new()
        if ptr == ffi.NULL:
            raise MemoryError("X509_new failed")
        super().__init__(ffi.gc(ptr, lib.X509_free))

    @classmethod
    def from_pem(cls, data: bytes | str) -> X509:
        """The first certificate of PEM text."""
        return load_certificate(FILETYPE_PEM, data)

    @classmethod
    def from_der(cls, data: bytes) -> X509:
        """A certificate from DER bytes."""
        return load_certificate(FILETYPE_ASN1, data)

    def _changed(self) -> None:
        self._fields = None  # the tightbind decode (Certificate.subject, ...) is stale

    def __eq__(self, other: object) -> bool:
        return self is other

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        subject = repr(self.get_subject())[len("<X509Name object '"):-2]
        return f"<X509 subject={subject!r} serial={self.get_serial_number():#x}>"

    # version and serial
    def set_version(self, version: int) -> None:
        """Set the version field (0-based: 2 is X.509 v3)."""
        if lib.X509_set_version(self._ptr, _int(version, "version")) != 1:
            check(lib.TB_E_ARG, f"cannot set version {version}")
        self._changed()

    def get_version(self) -> int:
        """The version field, 0-based (2 for v3)."""
        return int(lib.X509_get_version(self._ptr))

    def set_serial_number(self, serial: int) -> None:
        """Set the serial number (any size)."""
        check(lib.tb_tls_x509_set_serial(self._ptr, f"{_int(serial, 'serial'):x}".encode()),
              "cannot set the serial number")
        self._changed()

    def get_serial_number(self) -> int:
        """The serial number (0 for a new certificate)."""
        return int(_short_text(lib.tb_tls_x509_serial, self._ptr) or b"0", 16)

    # validity
    def _get_time(self, which: int) -> bytes | None:
        return _short_text(lib.tb_tls_x509_time, self._ptr, which)

    def _set_time(self, which: int, when: bytes) -> None:
        if not isinstance(when, bytes):
            raise TypeError("when must be a byte string")
        if b"\0" in when:
            raise ValueError("when must not contain NUL bytes")
        check(lib.tb_tls_x509_set_time(self._ptr, which, when), f"cannot set the time {when!r}",
              sentence="Invalid string: use YYYYMMDDhhmmssZ (or a +hhmm/-hhmm offset)")
        self._changed()

    def _adjust_time(self, which: int, amount: int) -> None:
        check(lib.tb_tls_x509_adjust_time(self._ptr, which, _int(amount, "amount")),
              "cannot adjust the time")
        self._changed()

    def get_notBefore(self) -> bytes | None:  # type: ignore[override]
        """The start of validity as ASN.1 GeneralizedTime bytes (``b"YYYYMMDDhhmmssZ"``),
        or None when not set."""
        return self._get_time(_NOT_BEFORE)

    def set_notBefore(self, when: bytes) -> None:
        """Set the start of validity from ``b"YYYYMMDDhhmmssZ"`` (or with an offset)."""
        self._set_time(_NOT_BEFORE, when)

    def get_notAfter(self) -> bytes | None:  # type: ignore[override]
        """The end of validity as GeneralizedTime bytes, or None when not set."""
        return self._get_time(_NOT_AFTER)

    def set_notAfter(self, when: bytes) -> None:
        """Set the end of validity from ``b"YYYYMMDDhhmmssZ"`` (or with an offset)."""
        self._set_time(_NOT_AFTER, when)

    def gmtime_adj_notBefore(self, amount: int) -> None:
        """Set the start of validity to now plus ``amount`` seconds."""
        self._adjust_time(_NOT_BEFORE, amount)

    def gmtime_adj_notAfter(self, amount: int) -> None:
        """Set the end of validity to now plus ``amount`` seconds."""
        self._adjust_time(_NOT_AFTER, amount)

    def has_expired(self) -> bool:
        """True when the end of validity is in the past; ValueError when it is not set."""
        rc = lib.tb_tls_x509_expired(self._ptr)
        if rc < 0:
            discard_queue()
            raise InvalidArgument("Unable to determine notAfter: the certificate has none")
        return bool(rc)

    # names
    def get_subject(self) -> X509Name:  # type: ignore[override]
        """The subject, a live :class:`X509Name` view of this certificate's."""
        return X509Name._view(lib.tb_tls_x509_name(self._ptr, lib.TB_TLS_NAME_SUBJECT), self)

    def set_subject(self, subject: X509Name) -> None:
        """Set the subject to a copy of ``subject``."""
        self._set_name(lib.TB_TLS_NAME_SUBJECT, subject)

    def get_issuer(self) -> X509Name:  # type: ignore[override]
        """The issuer, a live :class:`X509Name` view of this certificate's."""
        return X509Name._view(lib.tb_tls_x509_name(self._ptr, lib.TB_TLS_NAME_ISSUER), self)

    def set_issuer(self, issuer: X509Name) -> None:
        """Set the issuer to a copy of ``issuer``."""
        self._set_name(lib.TB_TLS_NAME_ISSUER, issuer)

    def _set_name(self, which: int, name: X509Name) -> None:
        if not isinstance(name, X509Name):
            raise TypeError("name must be an X509Name")
        check(lib.tb_tls_x509_set_name(self._ptr, which, name._ptr), "cannot set the name")
        self._changed()

    def subject_name_hash(self) -> int:
        """OpenSSL's hash of the subject (``X509_subject_name_hash``)."""
        return int(lib.X509_subject_name_hash(self._ptr))

    # keys and signature
    def get_pubkey(self) -> PKey:
        """The public key as a public-only :class:`PKey`; a ``crypto.Error`` when the
        certificate has none."""
        out = ffi.new("EVP_PKEY **")
        check(lib.tb_tls_x509_public_key(self._ptr, out), "cannot read the public key")
        return PKey._adopt(out[0], up_ref=False, only_public=True)

    def set_pubkey(self, pkey: PKey) -> None:
        """Set the public key (the public half of ``pkey``)."""
        if not isinstance(pkey, TlsPKey):
            raise TypeError("pkey must be a PKey instance")
        check(lib.tb_tls_x509_set_public_key(self._ptr, pkey._ptr), "cannot set the public key")
        self._changed()

    def sign(self, pkey: PKey, digest: str) -> None:
        """Sign with a private key and a digest name (``"sha256"``); ValueError for a
        public or empty key or an unknown digest."""
        if not isinstance(pkey, TlsPKey):
            raise TypeError("pkey must be a PKey instance")
        if getattr(pkey, "_only_public", False):
            raise ValueError("Key only has public part")
        if not getattr(pkey, "_initialized", True):
            raise ValueError("Key is uninitialized")
        check(lib.tb_tls_x509_sign(self._ptr, pkey._ptr, text_arg(digest, "digest")),
              f"cannot sign with {digest!r}", sentence="No such digest method, or OpenSSL "
              "refused to sign with this key")
        self._changed()

    def get_signature_algorithm(self) -> bytes:
        """OpenSSL's long name of the signature algorithm, e.g.
        ``b"sha256WithRSAEncryption"``; ValueError when OpenSSL does not know it."""
        name = lib.tb_tls_x509_signature_algorithm(self._ptr)
        if name == ffi.NULL:
            raise InvalidArgument("Undefined signature algorithm")
        return ffi.string(name)

    def digest(self, digest_name: str) -> bytes:  # type: ignore[override]
        """The digest of the DER as ``b"AB:CD:..."``; ValueError for an unknown digest."""
        buf = ffi.new("unsigned char[]", 64)
        length = ffi.new("size_t *")
        check(lib.tb_tls_x509_digest(self._ptr, text_arg(digest_name, "digest_name"), buf, 64,
                                     length), f"cannot digest with {digest_name!r}",
              sentence="No such digest method")
        return bytes(ffi.buffer(buf, length[0])).hex(":").upper().encode("ascii")

    # extensions
    def get_extension_count(self) -> int:
        """How many extensions the certificate has."""
        return int(lib.X509_get_ext_count(self._ptr))

    def add_extensions(self, extensions: Iterable[X509Extension]) -> None:
        """Append extensions; ValueError when one is not an :class:`X509Extension`."""
        extensions = list(extensions)
        if not all(isinstance(ext, X509Extension) for ext in extensions):
            raise ValueError("One of the elements is not an X509Extension")
        if extensions:
            array = ffi.new("X509_EXTENSION *[]", [ext._ptr for ext in extensions])
            check(lib.tb_tls_x509_add_extensions(self._ptr, array, len(extensions)),
                  "cannot add the extensions")
            self._changed()

    def get_extension(self, index: int) -> X509Extension:
        """The extension at ``index`` (a copy); IndexError when out of range."""
        index = _int(index, "index")
        if not 0 <= index < 2**31:
            raise IndexError("extension index out of bounds")
        out = ffi.new("X509_EXTENSION **")
        rc = lib.tb_tls_x509_extension(self._ptr, index, out)
        if rc == lib.TB_E_ARG:
            discard_queue()
            raise IndexError("extension index out of bounds")
        check(rc, "cannot read the extension")
        return X509Extension._adopt(out[0])


# ------------------------------------------------------------------------ read, write

_CERT_FILETYPES = {FILETYPE_PEM: 1, FILETYPE_ASN1: 0}


def load_certificate(type: int, buffer: bytes | str) -> X509:
    """Read one certificate, PEM or DER, and return its :class:`X509`.

    Raises ValueError for another file type and a
    :class:`~tightbind.tls.crypto.errors.DecodeError` (a ``crypto.Error``) when the data
    holds no valid certificate.
    """
    if isinstance(buffer, str):
        buffer = buffer.encode("ascii")
    if not isinstance(buffer, (bytes, bytearray, memoryview)):
        raise TypeError(f"buffer must be bytes or str, not {builtins.type(buffer).__name__}")
    try:
        pem = _CERT_FILETYPES[type]
    except (KeyError, TypeError):
        raise ValueError("type argument must be FILETYPE_PEM or FILETYPE_ASN1") from None
    data = bytes(buffer)
    out = ffi.new("X509 **")
    check(lib.tb_tls_cert_load(data, len(data), pem, out), "cannot read the certificate")
    return X509._adopt(out[0], up_ref=False)



def dump_certificate(type: int, cert: tls_x509.Certificate) -> bytes:
    """``cert`` as PEM, DER or OpenSSL's text print-out (``FILETYPE_TEXT``)."""
    if not isinstance(cert, tls_x509.Certificate):
        raise TypeError("cert must be an X509")
    out = ffi.new("tb_tls_buf **")
    if type == FILETYPE_TEXT:
        rc = lib.tb_tls_x509_text(cert._ptr, out)
    else:
        try:
            pem = _CERT_FILETYPES[type]
        except (KeyError, TypeError):
            raise ValueError("type argument must be FILETYPE_PEM, FILETYPE_ASN1, or "
                             "FILETYPE_TEXT") from None
        rc = lib.tb_tls_cert_dump(cert._ptr, pem, out)
    return take_bytes(rc, out, "cannot encode the certificate")
