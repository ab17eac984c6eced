"""tightbind.tls.crypto itself: the names it provides, and the pyOpenSSL names outside its
scope, which import with a warning and refuse when used."""

from __future__ import annotations

import importlib
import subprocess
import sys
import warnings

import pytest

from tightbind.tls import crypto
from tightbind.tls.crypto import NotProvidedWarning

# pyOpenSSL 23.2's OpenSSL.crypto.__all__.
PYOPENSSL_ALL = [
    "FILETYPE_PEM", "FILETYPE_ASN1", "FILETYPE_TEXT", "TYPE_RSA", "TYPE_DSA", "Error", "PKey",
    "get_elliptic_curves", "get_elliptic_curve", "X509Name", "X509Extension", "X509Req",
    "X509", "X509StoreFlags", "X509Store", "X509StoreContextError", "X509StoreContext",
    "load_certificate", "dump_certificate", "dump_publickey", "dump_privatekey", "Revoked",
    "CRL", "PKCS7", "PKCS12", "NetscapeSPKI", "load_publickey", "load_privatekey",
    "dump_certificate_request", "load_certificate_request", "sign", "verify", "dump_crl",
    "load_crl", "load_pkcs7_data", "load_pkcs12",
]
# Names pyOpenSSL 23.2 deprecated: provided, with its DeprecationWarning when read.
DEPRECATED = ["PKCS7", "NetscapeSPKI", "load_pkcs7_data"]


def test_every_pyopenssl_name_imports() -> None:
    provided = [name for name in PYOPENSSL_ALL if name not in DEPRECATED]
    assert set(provided) <= set(crypto.__all__)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        for name in PYOPENSSL_ALL:
            assert getattr(crypto, name) is getattr(crypto, name), name
    assert (crypto.TYPE_RSA, crypto.TYPE_DSA, crypto.TYPE_EC, crypto.TYPE_DH) == \
        (6, 116, 408, 28)
    assert (crypto.FILETYPE_PEM, crypto.FILETYPE_ASN1, crypto.FILETYPE_TEXT) == (1, 2, 65535)


def test_star_import_takes_every_name_quietly() -> None:
    """Every name of pyOpenSSL 23.2's module is provided since issue 22; a star import
    takes the ones it did not deprecate, with no warning."""
    namespace: dict[str, object] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exec("from tightbind.tls.crypto import *", namespace)
    assert set(namespace) >= set(PYOPENSSL_ALL) - set(DEPRECATED)


@pytest.mark.parametrize("name", DEPRECATED)
def test_deprecated_names_warn_as_pyopenssl_did(name: str) -> None:
    with pytest.warns(DeprecationWarning, match="deprecated") as record:
        value = getattr(crypto, name)
    assert not any(issubclass(w.category, NotProvidedWarning) for w in record)
    assert value.__module__ == "tightbind.tls.crypto.request" and value.__name__ == name


def test_unknown_names_are_attribute_errors() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        crypto.no_such_name  # noqa: B018
    with pytest.raises(ImportError):
        exec("from tightbind.tls.crypto import no_such_name", {})


def test_a_fresh_import_is_quiet() -> None:
    # Importing the module and the names it provides warns about nothing.
    code = ("import warnings\nwarnings.simplefilter('error')\n"
            "from tightbind.tls.crypto import PKCS12, X509, PKey, load_pkcs12, Error\n"
            "from tightbind.tls import crypto\nprint(crypto.X509Req.__name__)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "X509Req"
    assert importlib.import_module("tightbind.tls.crypto") is crypto
