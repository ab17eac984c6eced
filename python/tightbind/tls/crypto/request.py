"""pyOpenSSL's certificate requests, SPKI, PKCS#7 and raw signatures: :class:`X509Req`,
:func:`load_certificate_request`, :func:`dump_certificate_request`, :class:`NetscapeSPKI`,
:class:`PKCS7`, :func:`load_pkcs7_data`, :func:`sign` and :func:`verify`, each a thin
face over :mod:`tightbind.tls.request` and :mod:`tightbind.tls.signing` (C:
``csrc/tls_req.c``) with pyOpenSSL 23.2's names, argument rules and return types.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

from tightbind.tls import request as tls_request
from tightbind.tls import signing as tls_signing
from tightbind.tls.crypto.constants import FILETYPE_ASN1, FILETYPE_PEM, FILETYPE_TEXT
from tightbind.tls.crypto.keys import PKey
from tightbind.tls.crypto.x509 import X509, X509Extension, X509Name
from tightbind.tls.pkcs12 import PKey as TlsPKey
from tightbind.tls.x509 import Certificate

__all__ = ["PKCS7", "NetscapeSPKI", "X509Req", "dump_certificate_request",
           "load_certificate_request", "load_pkcs7_data", "sign", "verify"]


def _public(key: TlsPKey) -> PKey:
    """A public-only :class:`PKey` sharing ``key``'s EVP_PKEY."""
    return PKey._adopt(key._ptr, up_ref=True, only_public=True)


class X509Req:
    """A certificate signing request (pyOpenSSL's ``X509Req``), holding a
    :class:`tightbind.tls.CertificateRequest` (``.request``)."""

    __slots__ = ("request",)

    def __init__(self) -> None:
        self.request = tls_request.CertificateRequest()

    @classmethod
    def _wrap(cls, request: tls_request.CertificateRequest) -> X509Req:
        req = cls.__new__(cls)
        req.request = request
        return req

    def _changed(self) -> None:
        """Called by :class:`X509Name` views after an edit; a request caches nothing."""

    def get_subject(self) -> X509Name:
        """The subject, a live :class:`X509Name` view (it keeps the request alive)."""
        return X509Name._view(self.request._subject_ptr(), self)  # type: ignore[arg-type]

    def set_pubkey(self, pkey: PKey) -> None:
        """Set the public key (the public half of ``pkey``)."""
        self.request.set_public_key(pkey)

    def get_pubkey(self) -> PKey:
        """The public key, a public-only :class:`PKey`."""
        return _public(self.request.public_key())

    def set_version(self, version: int) -> None:
        """Set the version: 0 is the only one (TypeError for a non-int, ValueError for
        others)."""
        self.request.set_version(version)

    def get_version(self) -> int:
        """The version field (0)."""
        return self.request.version

    def sign(self, pkey: PKey, digest: str) -> None:
        """Sign with a private key and a digest name; ValueError for an empty or
        public-only key or an unknown digest."""
        self.request.sign(pkey, digest)

    def verify(self, pkey: PKey) -> bool:
        """True when signed by ``pkey``; a ``crypto.Error`` when not."""
        return self.request.verify(pkey)

    def add_extensions(self, extensions: Iterable[X509Extension]) -> None:
        """Add :class:`X509Extension` objects; ValueError when one is not."""
        extensions = list(extensions)
        if not all(isinstance(ext, X509Extension) for ext in extensions):
            raise ValueError("One of the elements is not an X509Extension")
        self.request._add_extension_ptrs([ext._ptr for ext in extensions])

    def get_extensions(self) -> list[X509Extension]:
        """The requested extensions, as :class:`X509Extension` copies."""
        return [X509Extension._wrap(ptr) for ptr in self.request._extension_ptrs()]

    def to_cryptography(self) -> Any:
        """This request as a ``cryptography.x509.CertificateSigningRequest``."""
        return self.request.to_cryptography()

    @classmethod
    def from_cryptography(cls, crypto_req: Any) -> X509Req:
        """An :class:`X509Req` from a ``cryptography`` CSR; TypeError for other objects."""
        return cls._wrap(tls_request.CertificateRequest.from_cryptography(crypto_req))


def load_certificate_request(type: int, buffer: bytes | str) -> X509Req:
    """Read a request, PEM or DER; ValueError for another type, a ``crypto.Error`` for
    data that is not a request."""
    if isinstance(buffer, str):
        buffer = buffer.encode("ascii")
    return X509Req._wrap(tls_request.load_certificate_request(type, buffer))


def dump_certificate_request(type: int, req: X509Req) -> bytes:
    """``req`` as PEM, DER or text (``FILETYPE_TEXT``); ValueError for another type."""
    if not isinstance(req, X509Req):
        raise TypeError("req must be an X509Req")
    if type not in (FILETYPE_PEM, FILETYPE_ASN1, FILETYPE_TEXT):
        raise ValueError("type argument must be FILETYPE_PEM, FILETYPE_ASN1, or FILETYPE_TEXT")
    return req.request.dump({FILETYPE_PEM: tls_request.FILETYPE_PEM,
                             FILETYPE_ASN1: tls_request.FILETYPE_ASN1,
                             FILETYPE_TEXT: tls_request.FILETYPE_TEXT}[type])


class NetscapeSPKI:
    """A Netscape SignedPublicKeyAndChallenge (pyOpenSSL's ``NetscapeSPKI``), holding a
    :class:`tightbind.tls.SignedPublicKey` (``.spki``)."""

    __slots__ = ("spki",)

    def __init__(self) -> None:
        self.spki = tls_request.SignedPublicKey()

    def sign(self, pkey: PKey, digest: str) -> None:
        """Sign with a private key and a digest name."""
        self.spki.sign(pkey, digest)

    def verify(self, key: PKey) -> bool:
        """True when signed by ``key``; a ``crypto.Error`` when not."""
        return self.spki.verify(key)

    def b64_encode(self) -> bytes:
        """The base64 encoding."""
        return self.spki.b64_encode()

    def get_pubkey(self) -> PKey:
        """The public key, a public-only :class:`PKey`."""
        return _public(self.spki.public_key())

    def set_pubkey(self, pkey: PKey) -> None:
        """Set the public key."""
        self.spki.set_public_key(pkey)


class PKCS7:
    """A PKCS#7 structure (pyOpenSSL's ``PKCS7``: its type only), holding a
    :class:`tightbind.tls.Pkcs7` (``.pkcs7``)."""

    __slots__ = ("pkcs7",)

    def __init__(self, pkcs7: tls_signing.Pkcs7) -> None:
        self.pkcs7 = pkcs7

    def type_is_signed(self) -> bool:
        """Whether it is signedData."""
        return self.pkcs7.type_name == "pkcs7-signedData"

    def type_is_enveloped(self) -> bool:
        """Whether it is envelopedData."""
        return self.pkcs7.type_name == "pkcs7-envelopedData"

    def type_is_signedAndEnveloped(self) -> bool:
        """Whether it is signedAndEnvelopedData."""
        return self.pkcs7.type_name == "pkcs7-signedAndEnvelopedData"

    def type_is_data(self) -> bool:
        """Whether it is plain data."""
        return self.pkcs7.type_name == "pkcs7-data"

    def get_type_name(self) -> bytes:
        """OpenSSL's short name of the type, e.g. ``b"pkcs7-signedData"``."""
        return self.pkcs7.type_name.encode("ascii")


def load_pkcs7_data(type: int, buffer: bytes | str) -> PKCS7:
    """Read PKCS#7 data, PEM or DER; ValueError for another type, a ``crypto.Error``
    for data that is not PKCS#7."""
    if isinstance(buffer, str):
        buffer = buffer.encode("ascii")
    return PKCS7(tls_signing.load_pkcs7(type, buffer))


def _data_bytes(data: bytes | str) -> bytes:
    if isinstance(data, str):
        warnings.warn("str for data is no longer accepted, use bytes", DeprecationWarning,
                      stacklevel=3)
        return data.encode("utf-8")
    return data


def sign(pkey: PKey, data: bytes | str, digest: str) -> bytes:
    """The signature of ``data`` with ``pkey`` and the digest named ``digest``
    (ValueError for an unknown one)."""
    return tls_signing.sign_data(pkey, _data_bytes(data), digest)


def verify(cert: X509, signature: bytes, data: bytes | str, digest: str) -> None:
    """Return None when ``signature`` is ``cert``'s key's over ``data``; a
    ``crypto.Error`` when not, ValueError for an unknown digest."""
    if not isinstance(cert, Certificate):
        raise TypeError("cert must be an X509")
    tls_signing.verify_signature(cert, signature, _data_bytes(data), digest)
