"""A stand-in for pyOpenSSL 23.2's ``OpenSSL.crypto``, every name of it, on tightbind's C
shim and the system's OpenSSL 3 (neither pyOpenSSL nor cryptography is used;
cryptography only for the optional ``to_``/``from_cryptography`` conversions)::

    from tightbind.tls import crypto          # was: from OpenSSL import crypto

    p12 = crypto.load_pkcs12(open("client.p12", "rb").read(), b"secret")
    key = p12.get_privatekey()
    print(key.bits(), key.type() == crypto.TYPE_RSA)
    pem = crypto.dump_privatekey(crypto.FILETYPE_PEM, key)

    cert = crypto.X509()
    cert.get_subject().CN = "example"
    ...
    cert.sign(key, "sha256")

pyOpenSSL's own tests for these classes (``tests/test_crypto.py`` of its 23.2.0 sdist)
run against this module unchanged: see ``tests/tls/test_crypto_pyopenssl_suite.py``.
The modules: :mod:`~tightbind.tls.crypto.keys` (``PKey`` and key files),
:mod:`~tightbind.tls.crypto.x509` (``X509``, ``X509Name``, ``X509Extension``),
:mod:`~tightbind.tls.crypto.pkcs12` (``PKCS12``, ``load_pkcs12``) and
:mod:`~tightbind.tls.crypto.errors` (``Error`` and its subclasses).

Chain verification with CRLs and CRLs themselves: :mod:`~tightbind.tls.crypto.store`
(``X509Store``, ``X509StoreContext``, ``X509StoreFlags``) and
:mod:`~tightbind.tls.crypto.crl` (``CRL``, ``Revoked``, ``load_crl``, ``dump_crl``).

Requests, SPKI, PKCS#7 and raw signatures: :mod:`~tightbind.tls.crypto.request`
(``X509Req``, ``NetscapeSPKI``, ``PKCS7``, ``sign``, ``verify``).  ``PKCS7``,
``NetscapeSPKI`` and ``load_pkcs7_data`` warn when read (``DeprecationWarning``), as in
pyOpenSSL 23.2.  :class:`~tightbind.tls.crypto.errors.NotProvided` is kept for code that
catches it; nothing of pyOpenSSL 23.2's module raises it any more.
"""

from __future__ import annotations

import warnings
from typing import Any

from tightbind.tls.crypto import request as _request
from tightbind.tls.crypto.constants import (
    FILETYPE_ASN1,
    FILETYPE_PEM,
    FILETYPE_TEXT,
    TYPE_DH,
    TYPE_DSA,
    TYPE_EC,
    TYPE_RSA,
)
from tightbind.tls.crypto.crl import CRL, Revoked, dump_crl, load_crl
from tightbind.tls.crypto.errors import Error, NotProvided, NotProvidedWarning
from tightbind.tls.crypto.keys import (
    PKey,
    dump_privatekey,
    dump_publickey,
    get_elliptic_curve,
    get_elliptic_curves,
    load_privatekey,
    load_publickey,
)
from tightbind.tls.crypto.pkcs12 import PKCS12, load_pkcs12
from tightbind.tls.crypto.request import (
    X509Req,
    dump_certificate_request,
    load_certificate_request,
    sign,
    verify,
)
from tightbind.tls.crypto.store import (
    X509Store,
    X509StoreContext,
    X509StoreContextError,
    X509StoreFlags,
)
from tightbind.tls.crypto.x509 import (
    X509,
    X509Extension,
    X509Name,
    dump_certificate,
    load_certificate,
)

__all__ = [
    "CRL",
    "FILETYPE_ASN1",
    "FILETYPE_PEM",
    "FILETYPE_TEXT",
    "PKCS12",
    "TYPE_DH",
    "TYPE_DSA",
    "TYPE_EC",
    "TYPE_RSA",
    "X509",
    "Error",
    "NotProvided",
    "NotProvidedWarning",
    "PKey",
    "Revoked",
    "X509Extension",
    "X509Name",
    "X509Req",
    "X509Store",
    "X509StoreContext",
    "X509StoreContextError",
    "X509StoreFlags",
    "dump_certificate",
    "dump_certificate_request",
    "dump_crl",
    "dump_privatekey",
    "dump_publickey",
    "get_elliptic_curve",
    "get_elliptic_curves",
    "load_certificate",
    "load_certificate_request",
    "load_crl",
    "load_pkcs12",
    "load_privatekey",
    "load_publickey",
    "sign",
    "verify",
]

# Names pyOpenSSL 23.2 deprecated: reading one warns (DeprecationWarning), as there.
_DEPRECATED = {
    "PKCS7": "PKCS#7 support in pyOpenSSL is deprecated; tightbind.tls.load_pkcs7 reads it",
    "load_pkcs7_data": "PKCS#7 support in pyOpenSSL is deprecated; tightbind.tls.load_pkcs7 "
                       "reads it",
    "NetscapeSPKI": "NetscapeSPKI support in pyOpenSSL is deprecated; "
                    "tightbind.tls.SignedPublicKey is the same object",
}


def __getattr__(name: str) -> Any:
    """Names pyOpenSSL 23.2 deprecated, with its DeprecationWarning."""
    if name in _DEPRECATED:
        warnings.warn(_DEPRECATED[name], DeprecationWarning, stacklevel=2)
        return getattr(_request, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
