"""Signatures over raw data and PKCS#7 structures (C: ``csrc/tls_req.c``)::

    signature = tls.sign_data(key, b"payload", "sha256")
    tls.verify_signature(certificate, signature, b"payload", "sha256")  # or BadSignature

:func:`load_pkcs7` reads a PKCS#7 (CMS) structure and says what it is (signed,
enveloped, data, ...) and which certificates it carries.
"""

from __future__ import annotations

from typing import Any

from tightbind.tls._native import as_bytes, check, ffi, lib, take_buf
from tightbind.tls.pkcs12 import PKey
from tightbind.tls.request import c_digest, private_key, public_key
from tightbind.tls.x509 import Certificate, check_filetype

__all__ = ["Pkcs7", "elliptic_curves", "load_pkcs7", "sign_data", "verify_signature"]

_curves: frozenset[str] | None = None


def elliptic_curves() -> frozenset[str]:
    """The short names of the elliptic curves the OpenSSL in use has built in
    (``"prime256v1"``, ``"secp384r1"``, ...), read once."""
    global _curves
    if _curves is None:
        out = ffi.new("tb_tls_buf **")
        names = take_buf(lib.tb_tls_curve_names(out), out, "cannot list the curves")
        _curves = frozenset(names.decode("ascii").split())
    return _curves


def sign_data(key: PKey, data: bytes, digest: str = "sha256") -> bytes:
    """The signature of ``data`` with a private key, hashed with ``digest`` (RSA PKCS#1
    v1.5, DER ECDSA, EdDSA as the key type makes it).

    Raises TypeError for a key that is not a :class:`~tightbind.tls.PKey`, ValueError for
    a public-only or empty key, :class:`~tightbind.tls.InvalidArgument` (a ValueError)
    for a digest OpenSSL does not know.
    """
    ptr = private_key(key, "key")
    raw = as_bytes(data, "data")
    out = ffi.new("tb_tls_buf **")
    return take_buf(lib.tb_tls_sign_data(ptr, c_digest(digest), raw, len(raw), out), out,
                    f"cannot sign with {digest!r}")


def verify_signature(signer: Certificate | PKey, signature: bytes, data: bytes,
                     digest: str = "sha256") -> None:
    """Return when ``signature`` is ``signer``'s over ``data`` with ``digest``; raise
    :class:`~tightbind.tls.BadSignature` when it is not (``signer`` is a certificate or
    a key, whose public half is used), :class:`~tightbind.tls.InvalidArgument` for an
    unknown digest."""
    if isinstance(signer, Certificate):
        out = ffi.new("EVP_PKEY **")
        check(lib.tb_tls_x509_public_key(signer._ptr, out), "cannot read the public key")
        key: Any = ffi.gc(out[0], lib.EVP_PKEY_free)
    else:
        key = public_key(signer, "signer")
    sig = as_bytes(signature, "signature")
    raw = as_bytes(data, "data")
    check(lib.tb_tls_verify_data(key, c_digest(digest), sig, len(sig), raw, len(raw)),
          "the signature")


class Pkcs7:
    """A PKCS#7 structure, read by :func:`load_pkcs7`: its content type
    (:attr:`type_name`, e.g. ``"pkcs7-signedData"``)."""

    __slots__ = ("_ptr",)

    def __init__(self, ptr: Any) -> None:
        self._ptr = ffi.gc(ptr, lib.PKCS7_free)

    @property
    def type_name(self) -> str:
        """OpenSSL's short name of the content type: ``pkcs7-signedData``,
        ``pkcs7-envelopedData``, ``pkcs7-signedAndEnvelopedData``, ``pkcs7-data``,
        ``pkcs7-digestData``, ``pkcs7-encryptedData``."""
        return ffi.string(lib.OBJ_nid2sn(lib.tb_tls_p7_type(self._ptr))).decode("ascii")


def load_pkcs7(filetype: int, buffer: bytes | str) -> Pkcs7:
    """Read a PKCS#7 structure, PEM or DER; ValueError for another file type,
    :class:`~tightbind.tls.DecodeError` when the data is not PKCS#7."""
    pem = check_filetype(filetype)
    data = as_bytes(buffer, "buffer")
    out = ffi.new("PKCS7 **")
    check(lib.tb_tls_p7_load(data, len(data), pem, out), "cannot read the PKCS#7 data")
    return Pkcs7(out[0])
