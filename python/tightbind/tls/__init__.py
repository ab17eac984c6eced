"""PKCS#12 files, certificates and a server's whole certificate chain, through OpenSSL 3.

One module per feature, each over one C file (declared for cffi in ``csrc/tls.h``):
:mod:`~tightbind.tls.x509` (certificates, ``csrc/tls_x509.c``),
:mod:`~tightbind.tls.pkcs12` (PKCS#12 and private keys, ``csrc/tls_pkcs12.c``),
:mod:`~tightbind.tls.verify` (offline verification and trust, ``csrc/tls_verify.c``) and
:mod:`~tightbind.tls.connection` (the client, ``csrc/tls_conn.c``) and
:mod:`~tightbind.tls.doctor` (:func:`diagnose`: what is wrong with a server's chain) with
:mod:`~tightbind.tls.revocation` (OCSP responses and CRLs, ``csrc/tls_revoke.c``),
:mod:`~tightbind.tls.request` (certificate signing requests, SPKI),
:mod:`~tightbind.tls.signing` (signatures over raw data, PKCS#7; both ``csrc/tls_req.c``),
:mod:`~tightbind.tls.store` (:class:`TrustStore`: trust, CRL checks, flags, ``csrc/tls_store.c``)
and :mod:`~tightbind.tls.crl` (CRLs read and built, ``csrc/tls_crl.c``); the
exceptions are in :mod:`~tightbind.tls.errors`.  Import them all from here.

PKCS#12 the way pyOpenSSL's ``load_pkcs12`` read it (removed from pyOpenSSL in 23.3)::

    from tightbind.tls import load_pkcs12, dump_privatekey, dump_certificate, FILETYPE_PEM

    p12 = load_pkcs12(open("client.p12", "rb").read(), "secret")
    key_pem = dump_privatekey(FILETYPE_PEM, p12.get_privatekey())
    cert_pem = dump_certificate(FILETYPE_PEM, p12.get_certificate())

Legacy files (RC2-40, 3DES: older Windows and macOS exports) load too: OpenSSL's legacy
provider is loaded beside the default one the first time a file needs it.

pyOpenSSL's own ``OpenSSL.crypto`` API (``PKCS12()``/``export``, ``PKey``, building and
signing an ``X509``, ``crypto.Error``) is :mod:`tightbind.tls.crypto`: change the import
line (``from tightbind.tls import crypto``) and the rest of the code stays.

A server's chain, as sent and as verified, never hiding an untrusted one::

    chain = fetch_chain("example.org")
    chain.unverified   # the certificates the server sent, leaf first
    chain.verified     # leaf to trusted root; empty when verification failed
    chain.verify_error # None, or OpenSSL's reason ("certificate has expired", ...)

What is wrong with it, one finding per problem (order, a missing intermediate fetched
from the caIssuers URL, trust, dates, weak signatures and keys, the host name)::

    report = diagnose("example.org")
    for finding in report.findings:
        print(finding.severity, finding.code, finding.message)

Every error is a :class:`tightbind.TlsError`; the subclasses below say which case it is,
and each carries OpenSSL's own reasons in ``openssl_errors``.
"""

from __future__ import annotations

from tightbind.tls._native import MAX_INPUT, MAX_ITERATIONS, openssl_version
from tightbind.tls.connection import PeerChain, TLSConnection, fetch_chain
from tightbind.tls.doctor import ChainReport, Finding, RevocationCheck, diagnose
from tightbind.tls.errors import (
    BadSignature,
    CaLocationError,
    CertificateVerifyError,
    DecodeError,
    HandshakeError,
    HostnameMismatch,
    InputTooLarge,
    InvalidArgument,
    KeyMismatch,
    LegacyProviderUnavailable,
    MissingMac,
    NotPkcs12,
    OpenSSLError,
    OutOfMemory,
    PasswordRequired,
    TlsConnectError,
    TlsError,
    TlsTimeout,
    UnsupportedAlgorithm,
    WrongPassword,
)
from tightbind.tls.pkcs12 import (
    PKCS12,
    PKey,
    create_pkcs12,
    dump_privatekey,
    load_pkcs12,
    load_privatekey,
)
from tightbind.tls.request import (
    CertificateRequest,
    SignedPublicKey,
    dump_certificate_request,
    load_certificate_request,
)
from tightbind.tls.revocation import (
    RevocationStatus,
    check_crl,
    check_ocsp_response,
    must_staple,
    ocsp_request,
)
from tightbind.tls.signing import (
    Pkcs7,
    elliptic_curves,
    load_pkcs7,
    sign_data,
    verify_signature,
)
from tightbind.tls.verify import verify_chain
from tightbind.tls.x509 import (
    FILETYPE_ASN1,
    FILETYPE_PEM,
    Certificate,
    Name,
    dump_certificate,
    load_certificate,
    load_certificates,
)

__all__ = [
    "FILETYPE_ASN1",
    "FILETYPE_PEM",
    "MAX_INPUT",
    "MAX_ITERATIONS",
    "PKCS12",
    "BadSignature",
    "CaLocationError",
    "Certificate",
    "CertificateRequest",
    "CertificateVerifyError",
    "ChainReport",
    "DecodeError",
    "Finding",
    "HandshakeError",
    "HostnameMismatch",
    "InputTooLarge",
    "InvalidArgument",
    "KeyMismatch",
    "LegacyProviderUnavailable",
    "MissingMac",
    "Name",
    "NotPkcs12",
    "OpenSSLError",
    "OutOfMemory",
    "PKey",
    "PasswordRequired",
    "PeerChain",
    "Pkcs7",
    "RevocationCheck",
    "RevocationStatus",
    "SignedPublicKey",
    "TLSConnection",
    "TlsConnectError",
    "TlsError",
    "TlsTimeout",
    "UnsupportedAlgorithm",
    "WrongPassword",
    "check_crl",
    "check_ocsp_response",
    "create_pkcs12",
    "diagnose",
    "dump_certificate",
    "dump_certificate_request",
    "dump_privatekey",
    "elliptic_curves",
    "fetch_chain",
    "load_certificate",
    "load_certificate_request",
    "load_certificates",
    "load_pkcs7",
    "load_pkcs12",
    "load_privatekey",
    "must_staple",
    "ocsp_request",
    "openssl_version",
    "sign_data",
    "verify_chain",
    "verify_signature",
]

# Trust stores and CRLs (issue 22): verification against CRLs, CRLs read and built.
from tightbind.tls.crl import CRL, REASONS, RevokedCertificate, build_crl, load_crl
from tightbind.tls.store import TrustStore, VerifyFlags

__all__ += ["CRL", "REASONS", "RevokedCertificate", "TrustStore", "VerifyFlags", "build_crl",
            "load_crl"]
