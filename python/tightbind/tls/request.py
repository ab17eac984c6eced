"""Certificate signing requests (PKCS#10) and Netscape SPKI (C: ``csrc/tls_req.c``).

Build, sign and send one::

    from tightbind import tls

    key = tls.load_privatekey(tls.FILETYPE_PEM, key_pem)   # any private tls.PKey
    request = tls.CertificateRequest()
    request.subject_set("CN", "example.org")
    request.set_public_key(key)
    request.add_extensions([("subjectAltName", False, "DNS:example.org")])
    request.sign(key, "sha256")
    pem = request.pem

Read one (:func:`load_certificate_request`) and check who signed it
(:meth:`CertificateRequest.verify`).  A request is mutable, like the ``X509_REQ`` it
holds; a call that fails leaves it as it was.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from typing import Any

from tightbind.tls._native import as_bytes, check, ffi, lib, take_buf
from tightbind.tls.errors import InvalidArgument
from tightbind.tls.pkcs12 import PKey
from tightbind.tls.x509 import FILETYPE_ASN1, FILETYPE_PEM, check_filetype, require_cryptography

__all__ = ["CertificateRequest", "Extension", "SignedPublicKey", "dump_certificate_request",
           "load_certificate_request"]

FILETYPE_TEXT = 3
"""OpenSSL's text print-out (``openssl req -text``), for dumping only."""

Extension = tuple[str, bool, bytes]
"""An extension as read back: ``(short name, critical, DER value)``."""

_SIZE = struct.Struct("N")
_FORMATS = {FILETYPE_PEM: lib.TB_TLS_FORMAT_PEM, FILETYPE_ASN1: lib.TB_TLS_FORMAT_DER,
            FILETYPE_TEXT: lib.TB_TLS_FORMAT_TEXT}


def c_digest(digest: str | bytes) -> bytes:
    """A digest name for C (``"sha256"``); TypeError for other types, ValueError for NUL
    bytes."""
    if isinstance(digest, str):
        digest = digest.encode("ascii", "replace")
    if not isinstance(digest, bytes):
        raise TypeError(f"digest must be str or bytes, not {type(digest).__name__}")
    if b"\0" in digest:
        raise ValueError("digest must not contain NUL bytes")
    return digest


def private_key(key: PKey, what: str) -> Any:
    """The EVP_PKEY of a key that can sign: TypeError for other objects, ValueError for a
    public-only or empty key."""
    if not isinstance(key, PKey):
        raise TypeError(f"{what} must be a PKey, not {type(key).__name__}")
    if not getattr(key, "_initialized", True):
        raise ValueError(f"{what} is uninitialized: generate or load it first")
    if key._only_public:
        raise ValueError(f"{what} only has its public part: signing needs the private key")
    return key._ptr


def public_key(key: PKey, what: str) -> Any:
    """The EVP_PKEY of any key (its public half is used); TypeError for other objects,
    InvalidArgument for an empty one."""
    if not isinstance(key, PKey):
        raise TypeError(f"{what} must be a PKey, not {type(key).__name__}")
    if not getattr(key, "_initialized", True):
        raise InvalidArgument(f"{what} is uninitialized: generate or load it first")
    return key._ptr


def unpack_entries(raw: bytes) -> list[tuple[bytes, bytes]]:
    """The ``(short name, value)`` pairs ``tb_tls_name_entries`` packs."""
    pairs, pos = [], 0
    while pos < len(raw):
        (size,) = _SIZE.unpack_from(raw, pos)
        key = raw[pos + _SIZE.size:pos + _SIZE.size + size]
        pos += _SIZE.size + size
        (size,) = _SIZE.unpack_from(raw, pos)
        pairs.append((key, raw[pos + _SIZE.size:pos + _SIZE.size + size]))
        pos += _SIZE.size + size
    return pairs


class CertificateRequest:
    """A PKCS#10 certificate signing request.

    ``CertificateRequest()`` is empty (version 1, no subject, no key): set a subject, a
    public key and extensions, then :meth:`sign` it.  :func:`load_certificate_request`
    reads one.
    """

    __slots__ = ("__weakref__", "_ptr")

    def __init__(self) -> None:
        out = ffi.new("X509_REQ **")
        check(lib.tb_tls_req_new(out), "cannot make a certificate request")
        self._ptr = ffi.gc(out[0], lib.X509_REQ_free)

    @classmethod
    def _adopt(cls, ptr: Any) -> Any:
        request = cls.__new__(cls)
        request._ptr = ffi.gc(ptr, lib.X509_REQ_free)
        return request

    # reading
    @property
    def version(self) -> int:
        """The version field, 0-based (0: PKCS#10 v1, the only one defined)."""
        return int(lib.X509_REQ_get_version(self._ptr))

    @property
    def subject_components(self) -> list[tuple[bytes, bytes]]:
        """``[(short name, stored value bytes), ...]`` of the subject, in order."""
        out = ffi.new("tb_tls_buf **")
        return unpack_entries(take_buf(lib.tb_tls_name_entries(self._subject_ptr(), out), out,
                                       "cannot read the subject"))

    def _subject_ptr(self) -> Any:
        """The request's own X509_NAME, edited in place (valid while the request lives)."""
        return lib.tb_tls_req_subject(self._ptr)

    def subject_set(self, attribute: str, value: str | bytes) -> None:
        """Set one subject attribute (``"CN"``, ``"organizationName"``, a dotted OID),
        replacing its first value.  Raises :class:`InvalidArgument` for a name OpenSSL
        does not know or a value that does not fit it (too long, characters its string
        type refuses, text that is not Unicode)."""
        nid = int(lib.tb_tls_nid(attribute.encode("ascii", "replace"))) \
            if "\0" not in attribute else 0
        if not nid:
            raise InvalidArgument(f"{attribute!r} is not a name attribute OpenSSL knows")
        raw = encode_value(attribute, value)
        check(lib.tb_tls_name_set(self._subject_ptr(), nid, raw, len(raw)),
              f"cannot set {attribute}")

    def public_key(self) -> PKey:
        """The public key, a public-only :class:`~tightbind.tls.PKey`; raises
        :class:`InvalidArgument` when none is set."""
        out = ffi.new("EVP_PKEY **")
        check(lib.tb_tls_req_public_key(self._ptr, out), "cannot read the public key")
        return PKey._adopt(out[0], up_ref=False, only_public=True)

    @property
    def extensions(self) -> list[Extension]:
        """The requested extensions, ``[(short name, critical, DER value), ...]``."""
        return [(ffi.string(lib.tb_tls_ext_short_name(ptr)).decode("ascii", "replace"),
                 bool(lib.X509_EXTENSION_get_critical(ptr)), _ext_data(ptr))
                for ptr in self._extension_ptrs()]

    def _extension_ptrs(self) -> list[Any]:
        """Copies of the extensions, each an owned ``X509_EXTENSION *``."""
        out = ffi.new("tb_tls_ext_list **")
        check(lib.tb_tls_req_extensions(self._ptr, out), "cannot read the extensions")
        listing = out[0]
        try:
            ptrs = [ffi.gc(listing.extensions[i], lib.X509_EXTENSION_free)
                    for i in range(listing.count)]
            listing.count = 0  # the Python objects own them now
            return ptrs
        finally:
            lib.tb_tls_ext_list_free(listing)

    def dump(self, filetype: int) -> bytes:
        """PEM, DER or OpenSSL's text (:data:`FILETYPE_TEXT`); ValueError for another
        type."""
        if filetype not in _FORMATS or isinstance(filetype, bool):
            raise ValueError("type argument must be FILETYPE_PEM, FILETYPE_ASN1, or "
                             "FILETYPE_TEXT")
        out = ffi.new("tb_tls_buf **")
        return take_buf(lib.tb_tls_req_dump(self._ptr, _FORMATS[filetype], out), out,
                        "cannot encode the certificate request")

    @property
    def der(self) -> bytes:
        """The DER encoding."""
        return self.dump(FILETYPE_ASN1)

    @property
    def pem(self) -> str:
        """The PEM text, as ``openssl req`` writes it."""
        return self.dump(FILETYPE_PEM).decode("ascii")

    def verify(self, key: PKey | None = None) -> bool:
        """True when the request's signature verifies with ``key`` (default: the public
        key it carries); raises :class:`~tightbind.tls.BadSignature` when it does not."""
        ptr = self.public_key()._ptr if key is None else public_key(key, "key")
        check(lib.tb_tls_req_verify(self._ptr, ptr), "the request's signature")
        return True

    # building
    def set_version(self, version: int) -> None:
        """Set the version field; 0 (v1) is the only one PKCS#10 defines, so anything
        else is a ValueError (TypeError for a non-int)."""
        if not isinstance(version, int) or isinstance(version, bool):
            raise TypeError("version must be an int")
        if version != 0:
            raise ValueError(f"version {version} is not a PKCS#10 version: only 0 (v1) is "
                             "defined")

    def set_public_key(self, key: PKey) -> None:
        """Set the public key to ``key``'s public half."""
        check(lib.tb_tls_req_set_public_key(self._ptr, public_key(key, "key")),
              "cannot set the public key")

    def add_extensions(self, extensions: Iterable[tuple[str, bool, str]]) -> None:
        """Add extensions given in OpenSSL's text form, ``(name, critical, value)`` such as
        ``("basicConstraints", True, "CA:FALSE")``; they join any already requested.
        Raises :class:`InvalidArgument` for one OpenSSL cannot make (none is added)."""
        ptrs = []
        for name, critical, value in extensions:
            out = ffi.new("X509_EXTENSION **")
            check(lib.tb_tls_ext_new(_c_text(name, "name"), bool(critical),
                                     _c_text(value, "value"), ffi.NULL, ffi.NULL, out),
                  f"cannot make the {name} extension")
            ptrs.append(ffi.gc(out[0], lib.X509_EXTENSION_free))
        self._add_extension_ptrs(ptrs)

    def _add_extension_ptrs(self, ptrs: Sequence[Any]) -> None:
        if ptrs:
            array = ffi.new("X509_EXTENSION *[]", list(ptrs))
            check(lib.tb_tls_req_add_extensions(self._ptr, array, len(ptrs)),
                  "cannot add the extensions")

    def sign(self, key: PKey, digest: str = "sha256") -> None:
        """Sign with a private key and a digest name; ValueError for a public-only or
        empty key, :class:`InvalidArgument` for a digest OpenSSL does not know."""
        ptr = private_key(key, "key")
        check(lib.tb_tls_req_sign(self._ptr, ptr, c_digest(digest)),
              f"cannot sign with {digest!r}",
              sentence="no such digest, or OpenSSL refused to sign with this key")

    # cryptography
    def to_cryptography(self) -> Any:
        """This request as a ``cryptography.x509.CertificateSigningRequest`` (moved as
        DER)."""
        x509 = require_cryptography("CertificateRequest.to_cryptography()").x509
        return x509.load_der_x509_csr(self.der)

    @classmethod
    def from_cryptography(cls, crypto_req: Any) -> Any:
        """A request of this class from a ``cryptography.x509.CertificateSigningRequest``;
        TypeError for other objects."""
        cryptography = require_cryptography("CertificateRequest.from_cryptography()")
        if not isinstance(crypto_req, cryptography.x509.CertificateSigningRequest):
            raise TypeError("Must be a certificate signing request: a "
                            "cryptography.x509.CertificateSigningRequest, not "
                            f"{type(crypto_req).__name__}")
        der = crypto_req.public_bytes(cryptography.Encoding.DER)
        return load_certificate_request(FILETYPE_ASN1, der, cls=cls)


def encode_value(attribute: str, value: str | bytes) -> bytes:
    """A name attribute's value as UTF-8 bytes; TypeError for other types,
    :class:`InvalidArgument` for text that is not valid Unicode (lone surrogates)."""
    if isinstance(value, str):
        try:
            return value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InvalidArgument(f"the value of {attribute} is not valid Unicode "
                                  f"({exc.reason} at index {exc.start}): it cannot be "
                                  "stored in a certificate name") from None
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    raise TypeError(f"{attribute} must be str or bytes, not {type(value).__name__}")


def _c_text(value: str | bytes, what: str) -> bytes:
    raw = value.encode("utf-8") if isinstance(value, str) else value
    if not isinstance(raw, bytes):
        raise TypeError(f"{what} must be str or bytes, not {type(value).__name__}")
    if b"\0" in raw:
        raise ValueError(f"{what} must not contain NUL bytes")
    return raw


def _ext_data(ptr: Any) -> bytes:
    data = ffi.new("const unsigned char **")
    length = ffi.new("size_t *")
    check(lib.tb_tls_ext_data(ptr, data, length), "cannot read the extension")
    return bytes(ffi.buffer(data[0], length[0]))


def load_certificate_request(filetype: int, buffer: bytes | str, *,
                             cls: type[CertificateRequest] = CertificateRequest) -> Any:
    """Read a certificate request, PEM or DER.

    Raises ValueError for another file type, :class:`~tightbind.tls.DecodeError` when
    the data holds
    no valid request.
    """
    pem = check_filetype(filetype)
    data = as_bytes(buffer, "buffer")
    out = ffi.new("X509_REQ **")
    check(lib.tb_tls_req_load(data, len(data), pem, out), "cannot read the certificate request")
    return cls._adopt(out[0])


def dump_certificate_request(filetype: int, request: CertificateRequest) -> bytes:
    """``request`` as PEM, DER or OpenSSL's text (:data:`FILETYPE_TEXT`)."""
    if not isinstance(request, CertificateRequest):
        raise TypeError("request must be a CertificateRequest")
    return request.dump(filetype)


class SignedPublicKey:
    """A Netscape SignedPublicKeyAndChallenge (SPKI: what HTML ``<keygen>`` sent), read
    from or written as base64 (:meth:`b64_encode`); ``SignedPublicKey()`` is empty."""

    __slots__ = ("_ptr",)

    def __init__(self, b64: bytes | str | None = None) -> None:
        out = ffi.new("NETSCAPE_SPKI **")
        if b64 is None:
            check(lib.tb_tls_spki_new(out), "cannot make an SPKI")
        else:
            raw = _c_text(b64, "b64")
            rc = lib.tb_tls_spki_decode(raw, len(raw), out)
            if rc == lib.TB_TLS_E_DECODE:
                check(rc, "cannot read the SPKI", sentence="the text is not a base64 "
                      "SignedPublicKeyAndChallenge")
            check(rc, "cannot read the SPKI")
        self._ptr = ffi.gc(out[0], lib.NETSCAPE_SPKI_free)

    def b64_encode(self) -> bytes:
        """The base64 of the DER encoding (no line breaks)."""
        out = ffi.new("tb_tls_buf **")
        return take_buf(lib.tb_tls_spki_encode(self._ptr, out), out, "cannot encode the SPKI")

    def public_key(self) -> PKey:
        """The public key, public-only; :class:`InvalidArgument` when none is set."""
        out = ffi.new("EVP_PKEY **")
        check(lib.tb_tls_spki_public_key(self._ptr, out), "cannot read the public key")
        return PKey._adopt(out[0], up_ref=False, only_public=True)

    def set_public_key(self, key: PKey) -> None:
        """Set the public key to ``key``'s public half."""
        check(lib.tb_tls_spki_set_public_key(self._ptr, public_key(key, "key")),
              "cannot set the public key")

    def sign(self, key: PKey, digest: str = "sha256") -> None:
        """Sign with a private key and a digest name (as :meth:`CertificateRequest.sign`)."""
        ptr = private_key(key, "key")
        check(lib.tb_tls_spki_sign(self._ptr, ptr, c_digest(digest)),
              f"cannot sign with {digest!r}",
              sentence="no such digest, or OpenSSL refused to sign with this key")

    def verify(self, key: PKey) -> bool:
        """True when the signature verifies with ``key``; raises
        :class:`~tightbind.tls.BadSignature` when it does not."""
        check(lib.tb_tls_spki_verify(self._ptr, public_key(key, "key")),
              "the SPKI's signature")
        return True

