"""A stand-in for pyOpenSSL 23.2's ``OpenSSL.crypto`` for PKCS#12, keys and certificates,
on tightbind's C shim and the system's OpenSSL 3 (neither pyOpenSSL nor cryptography is
used; cryptography only for the optional ``to_``/``from_cryptography`` conversions)::

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

Outside its scope: certificate requests (``X509Req`` keeps only a subject and a public
key), CRLs, PKCS#7, ``X509Store``/``X509StoreContext``, ``NetscapeSPKI``, ``sign`` and
``verify`` of raw data.  Their names still import, with a
:class:`~tightbind.tls.crypto.errors.NotProvidedWarning`, so that modules importing many
names load; using one raises :class:`~tightbind.tls.crypto.errors.NotProvided` (after
checking a file type argument, as every function here does first).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
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
from tightbind.tls.crypto.x509 import (
    X509,
    X509Extension,
    X509Name,
    dump_certificate,
    load_certificate,
)

__all__ = [
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
    "X509Extension",
    "X509Name",
    "X509Req",
    "dump_certificate",
    "dump_certificate_request",
    "dump_privatekey",
    "dump_publickey",
    "get_elliptic_curve",
    "get_elliptic_curves",
    "load_certificate",
    "load_certificate_request",
    "load_pkcs12",
    "load_privatekey",
    "load_publickey",
    "sign",
    "verify",
]

# ------------------------------------------------------------------ names not provided

_CRL = "CRLs (cryptography's x509.CertificateRevocationListBuilder)"
_STORE = "certificate stores and verification (tightbind.tls.verify_chain)"

# name -> (what it belongs to, kind): "class", "exception", "function", or "loader" /
# "dumper" (functions whose first argument is a file type, checked first).
_NOT_PROVIDED: dict[str, tuple[str, str]] = {
    "CRL": (_CRL, "class"),
    "Revoked": (_CRL, "class"),
    "load_crl": (_CRL, "loader"),
    "dump_crl": (_CRL, "dumper"),
    "X509Store": (_STORE, "class"),
    "X509StoreContext": (_STORE, "class"),
    "X509StoreFlags": (_STORE, "class"),
    "X509StoreContextError": (_STORE, "exception"),
}
_placeholders: dict[str, Any] = {}


def _not_provided_message(name: str) -> str:
    scope, _ = _NOT_PROVIDED[name]
    return (f"OpenSSL.crypto.{name} is not provided by tightbind.tls.crypto: it covers "
            f"PKCS#12, keys and certificates, not {scope}")


def _make_placeholder(name: str) -> Any:
    message = _not_provided_message(name)
    kind = _NOT_PROVIDED[name][1]

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise NotProvided(message)

    if kind == "exception":  # so that `except X509StoreContextError:` still compiles
        return type(name, (Error,), {"__doc__": message, "__module__": __name__})
    if kind == "class":
        return type(name, (), {"__doc__": message, "__module__": __name__,
                               "__init__": refuse})
    allowed = {FILETYPE_PEM, FILETYPE_ASN1} | ({FILETYPE_TEXT} if kind == "dumper" else set())

    def check_type_first(type: int, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(type, int) or type not in allowed:
            raise ValueError("type argument must be FILETYPE_PEM or FILETYPE_ASN1"
                             + (", or FILETYPE_TEXT" if kind == "dumper" else ""))
        raise NotProvided(message)

    function: Callable[..., Any] = check_type_first if kind in ("loader", "dumper") else refuse
    function.__name__ = function.__qualname__ = name
    function.__doc__ = message
    return function


# Names pyOpenSSL 23.2 deprecated: reading one warns (DeprecationWarning), as there.
_DEPRECATED = {
    "PKCS7": "PKCS#7 support in pyOpenSSL is deprecated; tightbind.tls.load_pkcs7 reads it",
    "load_pkcs7_data": "PKCS#7 support in pyOpenSSL is deprecated; tightbind.tls.load_pkcs7 "
                       "reads it",
    "NetscapeSPKI": "NetscapeSPKI support in pyOpenSSL is deprecated; "
                    "tightbind.tls.SignedPublicKey is the same object",
}


def __getattr__(name: str) -> Any:
    """Names pyOpenSSL 23.2 deprecated (with its DeprecationWarning), and pyOpenSSL names
    outside this module's scope: a placeholder, with a :class:`NotProvidedWarning`."""
    if name in _DEPRECATED:
        warnings.warn(_DEPRECATED[name], DeprecationWarning, stacklevel=2)
        return getattr(_request, name)
    if name not in _NOT_PROVIDED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    warnings.warn(_not_provided_message(name) + "; using it raises NotProvided",
                  NotProvidedWarning, stacklevel=2)
    if name not in _placeholders:
        _placeholders[name] = _make_placeholder(name)
    return _placeholders[name]

