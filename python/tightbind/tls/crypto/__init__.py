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

Chain verification with CRLs and CRLs themselves: :mod:`~tightbind.tls.crypto.store`
(``X509Store``, ``X509StoreContext``, ``X509StoreFlags``) and
:mod:`~tightbind.tls.crypto.crl` (``CRL``, ``Revoked``, ``load_crl``, ``dump_crl``).

Outside its scope: certificate requests (``X509Req`` keeps only a subject and a public
key), PKCS#7, ``NetscapeSPKI``, ``sign`` and ``verify`` of raw data.  Their names still
import, with a :class:`~tightbind.tls.crypto.errors.NotProvidedWarning`, so that modules
importing many names load; using one raises :class:`~tightbind.tls.crypto.errors.NotProvided` (after
checking a file type argument, as every function here does first).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

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
from tightbind.tls.crypto.x509 import (
    X509,
    X509Extension,
    X509Name,
    X509Req,
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
    "dump_privatekey",
    "dump_publickey",
    "get_elliptic_curve",
    "get_elliptic_curves",
    "load_certificate",
    "load_pkcs12",
    "load_privatekey",
    "load_publickey",
]

# ------------------------------------------------------------------ names not provided

_CSR = "certificate signing requests (cryptography's x509.CertificateSigningRequestBuilder)"
_CRL = "CRLs (cryptography's x509.CertificateRevocationListBuilder)"
_PKCS7 = "PKCS#7 (cryptography's serialization.pkcs7)"
_STORE = "certificate stores and verification (tightbind.tls.verify_chain)"
_RAW = "signing and verifying raw data (cryptography's asymmetric keys)"

# name -> (what it belongs to, kind): "class", "exception", "function", or "loader" /
# "dumper" (functions whose first argument is a file type, checked first).
_NOT_PROVIDED: dict[str, tuple[str, str]] = {
    "load_certificate_request": (_CSR, "loader"),
    "dump_certificate_request": (_CSR, "dumper"),
    "CRL": (_CRL, "class"),
    "Revoked": (_CRL, "class"),
    "load_crl": (_CRL, "loader"),
    "dump_crl": (_CRL, "dumper"),
    "PKCS7": (_PKCS7, "class"),
    "load_pkcs7_data": (_PKCS7, "loader"),
    "NetscapeSPKI": ("Netscape SPKI", "class"),
    "X509Store": (_STORE, "class"),
    "X509StoreContext": (_STORE, "class"),
    "X509StoreFlags": (_STORE, "class"),
    "X509StoreContextError": (_STORE, "exception"),
    "sign": (_RAW, "function"),
    "verify": (_RAW, "function"),
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


def __getattr__(name: str) -> Any:
    """pyOpenSSL names outside this module's scope: a placeholder, with a
    :class:`NotProvidedWarning`."""
    if name not in _NOT_PROVIDED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    warnings.warn(_not_provided_message(name) + "; using it raises NotProvided",
                  NotProvidedWarning, stacklevel=2)
    if name not in _placeholders:
        _placeholders[name] = _make_placeholder(name)
    return _placeholders[name]



# ------------------------------------------------------------------ stores and CRLs (issue 22)

from tightbind.tls.crypto.crl import CRL, Revoked, dump_crl, load_crl  # noqa: E402
from tightbind.tls.crypto.store import (  # noqa: E402
    X509Store,
    X509StoreContext,
    X509StoreContextError,
    X509StoreFlags,
)

for _name in ("CRL", "Revoked", "load_crl", "dump_crl", "X509Store", "X509StoreContext",
              "X509StoreFlags", "X509StoreContextError"):
    del _NOT_PROVIDED[_name]
__all__ += ["CRL", "Revoked", "X509Store", "X509StoreContext", "X509StoreContextError",
            "X509StoreFlags", "dump_crl", "load_crl"]
