"""The constants of pyOpenSSL's ``OpenSSL.crypto`` that :mod:`tightbind.tls.crypto` keeps:
file types and key types (the key types read from OpenSSL)."""

from __future__ import annotations

from tightbind.tls._native import lib
from tightbind.tls.x509 import FILETYPE_ASN1, FILETYPE_PEM

__all__ = ["FILETYPE_ASN1", "FILETYPE_PEM", "FILETYPE_TEXT", "TYPE_DH", "TYPE_DSA", "TYPE_EC",
           "TYPE_RSA"]

FILETYPE_TEXT = 2**16 - 1
"""OpenSSL's human-readable print-out (dump functions only), pyOpenSSL's number for it."""

TYPE_RSA: int = lib.EVP_PKEY_RSA
TYPE_DSA: int = lib.EVP_PKEY_DSA
TYPE_DH: int = lib.EVP_PKEY_DH
TYPE_EC: int = lib.EVP_PKEY_EC

PASSPHRASE_LIMIT: int = lib.PEM_BUFSIZE
"""The longest passphrase OpenSSL's PEM callbacks take (pyOpenSSL refused longer ones)."""
