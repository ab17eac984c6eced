"""PKCS#12 files and private keys: :class:`PKCS12`, :class:`PKey`, :func:`load_pkcs12`,
:func:`create_pkcs12`, :func:`load_privatekey` and :func:`dump_privatekey`
(C: ``csrc/tls_pkcs12.c``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from tightbind.tls._native import (
    Passphrase,
    as_bytes,
    c_password,
    c_text,
    check,
    drain,
    ffi,
    lib,
    password_forms,
    take_buf,
)
from tightbind.tls.x509 import Certificate, check_filetype, require_cryptography


class PKey:
    """A private key (what pyOpenSSL called PKey), or a public key where ``_only_public``
    says so (:func:`PKey.from_cryptography` of a public key, ``crypto.load_publickey``)."""

    __slots__ = ("_only_public", "_ptr")

    def __init__(self, ptr: Any) -> None:
        self._ptr = ptr
        self._only_public = False

    @classmethod
    def _adopt(cls, ptr: Any, *, up_ref: bool, only_public: bool = False) -> Any:
        """A ``cls`` owning ``ptr`` (taking its own reference when ``up_ref``), built
        without ``cls.__init__`` so that subclasses with other constructors share it."""
        if up_ref and lib.EVP_PKEY_up_ref(ptr) != 1:
            raise MemoryError("EVP_PKEY_up_ref failed")
        key = cls.__new__(cls)
        PKey.__init__(key, ffi.gc(ptr, lib.EVP_PKEY_free))
        key._only_public = only_public
        return key

    def to_cryptography(self) -> Any:
        """This key as a ``cryptography`` key object: a private key (moved as DER:
        PKCS#1, SEC 1 or PKCS#8, as OpenSSL writes the type), or a public key for a
        public-only one (SubjectPublicKeyInfo DER).  Raises :class:`ModuleNotFoundError`
        when cryptography is not installed."""
        cryptography = require_cryptography("PKey.to_cryptography()")
        out = ffi.new("tb_tls_buf **")
        der = take_buf(lib.tb_tls_key_write(self._ptr, lib.TB_TLS_FORMAT_DER, self._only_public,
                                            ffi.NULL, ffi.NULL, 0, out), out,
                       "cannot encode the key")
        if self._only_public:
            return cryptography.load_der_public_key(der)
        return cryptography.load_der_private_key(der, None)

    @classmethod
    def from_cryptography(cls, crypto_key: Any) -> Any:
        """A key of this class from a ``cryptography`` private key (RSA, DSA, EC,
        Ed25519, Ed448, X25519, X448, DH; moved as unencrypted PKCS#8 DER) or public key
        (SubjectPublicKeyInfo DER, giving a public-only key).  Raises TypeError for
        other objects, :class:`ModuleNotFoundError` when cryptography is not installed."""
        cryptography = require_cryptography("PKey.from_cryptography()")
        private, public = cryptography_key_classes(cryptography)
        key: Any = crypto_key
        if isinstance(key, private):
            der = key.private_bytes(cryptography.Encoding.DER,
                                           cryptography.PrivateFormat.PKCS8,
                                           cryptography.NoEncryption())
        elif isinstance(key, public):
            der = key.public_bytes(cryptography.Encoding.DER,
                                          cryptography.PublicFormat.SubjectPublicKeyInfo)
        else:
            raise TypeError("Unsupported key type: a cryptography private or public key, not "
                            f"{type(crypto_key).__name__}")
        only_public = isinstance(crypto_key, public)
        out = ffi.new("EVP_PKEY **")
        check(lib.tb_tls_key_read(der, len(der), 0, only_public, ffi.NULL, 0, out),
              "cannot read the cryptography key")
        return cls._adopt(out[0], up_ref=False, only_public=only_public)

    def bits(self) -> int:
        """The key size in bits."""
        return int(lib.EVP_PKEY_get_bits(self._ptr))

    def type(self) -> int:
        """OpenSSL's number for the key type, as pyOpenSSL's ``PKey.type()`` returned it: 6
        for RSA (``crypto.TYPE_RSA``), 116 DSA, 408 EC, 1087 Ed25519; 0 for an empty key."""
        return int(lib.EVP_PKEY_get_id(self._ptr))

    @property
    def key_type(self) -> str:
        """``"RSA"``, ``"EC"``, ``"ED25519"``, ..."""
        name = lib.EVP_PKEY_get0_type_name(self._ptr)
        return ffi.string(name).decode() if name != ffi.NULL else ""

    def public_pem(self) -> bytes:
        """The public half as a PEM ``PUBLIC KEY`` block."""
        out = ffi.new("tb_tls_buf **")
        return take_buf(lib.tb_tls_pkey_public_pem(self._ptr, out), out, "public key")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PKey) and lib.EVP_PKEY_eq(self._ptr, other._ptr) == 1

    def __hash__(self) -> int:
        return hash(self.public_pem())

    def __repr__(self) -> str:
        return f"<PKey {self.key_type} {self.bits()} bits>"


def cryptography_key_classes(cryptography: Any) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """cryptography's private and public key classes :meth:`PKey.from_cryptography`
    takes, from the namespace :func:`~tightbind.tls.x509.require_cryptography` returns."""
    kinds = cryptography.asymmetric
    return ((kinds.rsa.RSAPrivateKey, kinds.dsa.DSAPrivateKey, kinds.ec.EllipticCurvePrivateKey,
             kinds.ed25519.Ed25519PrivateKey, kinds.ed448.Ed448PrivateKey,
             kinds.x25519.X25519PrivateKey, kinds.x448.X448PrivateKey, kinds.dh.DHPrivateKey),
            (kinds.rsa.RSAPublicKey, kinds.dsa.DSAPublicKey, kinds.ec.EllipticCurvePublicKey,
             kinds.ed25519.Ed25519PublicKey, kinds.ed448.Ed448PublicKey,
             kinds.x25519.X25519PublicKey, kinds.x448.X448PublicKey, kinds.dh.DHPublicKey))


def load_privatekey(type: int, buffer: bytes | str,
                    passphrase: Passphrase = None) -> PKey:
    """Read a private key: PKCS#8 (encrypted or not) or traditional, PEM or DER.

    Returns the :class:`PKey`.  Raises :class:`PasswordRequired` when the key is
    encrypted and no passphrase was given, :class:`WrongPassword`, or
    :class:`DecodeError`.  Never prompts on a terminal.
    """
    pem = check_filetype(type)
    data = as_bytes(buffer, "buffer")
    out = ffi.new("EVP_PKEY **")
    rc = _try_passwords(lambda password: lib.tb_tls_pkey_load(data, len(data), pem, password,
                                                              out), passphrase, mac=False)
    check(rc, "cannot read the private key")
    return PKey._adopt(out[0], up_ref=False)


def _try_passwords(call: Any, passphrase: Passphrase, *, mac: bool) -> int:
    """Return ``call(password)``'s status for the first of :func:`password_forms` that
    opens the data, else the status of the form given.

    With a MAC (``mac``) the status says which forms can help: TB_TLS_E_DECRYPT (the MAC
    took the text, the encryption other bytes of it) tries the text's other encodings,
    TB_TLS_E_PASSWORD (the MAC refused the text) only the pre-1.1.0 form; every other
    form would cost a key derivation to fail the same way.  Without one (keys), a wrong
    password tries every form.
    """
    same_text, legacy = password_forms(passphrase)
    first = int(call(c_password(same_text[0])))
    if first == lib.TB_TLS_E_DECRYPT:
        retry = same_text[1:]
    elif first == lib.TB_TLS_E_PASSWORD:
        retry = legacy if mac else same_text[1:] + legacy
    else:
        return first
    for form in retry:
        drain()  # the previous form's reasons; this one starts with an empty queue
        rc = int(call(c_password(form)))
        if rc not in (lib.TB_TLS_E_PASSWORD, lib.TB_TLS_E_DECRYPT):
            return rc
    return first


def dump_privatekey(type: int, pkey: PKey, cipher: str | None = None,
                    passphrase: Passphrase = None) -> bytes:
    """Encode a private key (pyOpenSSL) and return the bytes.

    PEM is PKCS#8 (``BEGIN PRIVATE KEY``, what ``openssl pkey`` prints); DER is what
    ``openssl pkey -outform DER`` writes.  With ``cipher`` (an OpenSSL name such as
    ``"aes-256-cbc"``) and ``passphrase`` the key is written as encrypted PKCS#8.
    Raises :class:`InvalidArgument` for a cipher no provider offers, TypeError when only
    one of ``cipher`` and ``passphrase`` is given.
    """
    pem = check_filetype(type)
    if not isinstance(pkey, PKey):
        raise TypeError("pkey must be a PKey")
    if (cipher is None) != (passphrase is None):
        raise TypeError("cipher and passphrase must be given together")
    out = ffi.new("tb_tls_buf **")
    return take_buf(lib.tb_tls_pkey_dump(pkey._ptr, pem, c_text(cipher, "cipher"),
                                         c_password(passphrase), out), out,
                    "cannot encode the private key")


class PKCS12:
    """What a .p12/.pfx file holds, with pyOpenSSL's accessors.

    ``certificate`` is the certificate matching the private key (None without a key, in
    which case every certificate is in ``ca_certificates``, as pyOpenSSL did).
    ``has_mac`` says whether the file carried an integrity MAC.
    """

    def __init__(self, private_key: PKey | None, certificate: Certificate | None,
                 ca_certificates: Sequence[Certificate] = (),
                 friendly_name: bytes | None = None, has_mac: bool = True) -> None:
        self.private_key = private_key
        self.certificate = certificate
        self.ca_certificates: tuple[Certificate, ...] = tuple(ca_certificates)
        self.friendly_name = friendly_name
        self.has_mac = has_mac

    def get_certificate(self) -> Certificate | None:
        """The certificate matching the key, or None."""
        return self.certificate

    def get_privatekey(self) -> PKey | None:
        """The private key, or None."""
        return self.private_key

    def get_ca_certificates(self) -> tuple[Certificate, ...] | None:
        """The other certificates, or None when there are none (as pyOpenSSL)."""
        return self.ca_certificates or None

    def get_friendlyname(self) -> bytes | None:
        """The main certificate's friendlyName as bytes, or None (as pyOpenSSL)."""
        return self.friendly_name

    def export(self, passphrase: Passphrase = None, *, legacy: bool = False) -> bytes:
        """Encode again as PKCS#12 and return the bytes (see :func:`create_pkcs12`)."""
        name = self.friendly_name.decode("utf-8") if self.friendly_name else None
        return create_pkcs12(self.private_key, self.certificate, self.ca_certificates,
                             passphrase=passphrase, friendly_name=name, legacy=legacy)


def load_pkcs12(data: bytes, passphrase: Passphrase = None, *,
                allow_missing_mac: bool = False) -> PKCS12:
    """Open a PKCS#12 (.p12/.pfx) file and return its :class:`PKCS12`.

    ``passphrase`` may be str or bytes; None and "" both open an empty-password file.
    A non-ASCII password is text: str, UTF-8 bytes and (where it fits) Latin-1 bytes of
    the same text open the same files, whichever of those encodings the file was made
    with (see :func:`~tightbind.tls._native.password_forms`).  Legacy files (RC2-40,
    3DES) load after OpenSSL's legacy provider is loaded on demand.

    Raises :class:`WrongPassword` ("wrong password or corrupted file"; also when the
    password verifies the MAC but does not decrypt the contents: a file made with two
    passwords), :class:`InputTooLarge` (over 2 GiB, or asking for more key derivation
    than :data:`~tightbind.tls.MAX_ITERATIONS`), :class:`NotPkcs12`
    (not PKCS#12 or truncated), :class:`MissingMac` (no integrity MAC; pass
    ``allow_missing_mac=True`` to accept it), :class:`UnsupportedAlgorithm` or
    :class:`LegacyProviderUnavailable`.
    """
    raw = as_bytes(data, "data") if not isinstance(data, str) else None
    if raw is None:
        raise TypeError("data must be bytes (the file's contents), not str")
    out = ffi.new("tb_tls_p12 **")
    flags = lib.TB_TLS_P12_ALLOW_NO_MAC if allow_missing_mac else 0
    rc = _try_passwords(lambda password: lib.tb_tls_p12_parse(raw, len(raw), password, flags,
                                                              out), passphrase, mac=True)
    check(rc, "cannot open the PKCS#12 file")
    p12 = out[0]
    try:
        key = PKey._adopt(p12.key, up_ref=True) if p12.key != ffi.NULL else None
        certs = []
        for i in range(p12.count):
            cert = Certificate._adopt(p12.certs[i], up_ref=True)
            if p12.names[i] != ffi.NULL:
                cert.friendly_name = ffi.string(p12.names[i]).decode("utf-8", "replace")
            certs.append(cert)
        main = int(p12.main_index)
        has_mac = bool(p12.has_mac)
    finally:
        lib.tb_tls_p12_free(p12)
    certificate = certs[main] if main >= 0 else None
    others = [cert for i, cert in enumerate(certs) if i != main]
    name = certificate.friendly_name.encode("utf-8") if certificate and \
        certificate.friendly_name is not None else None
    return PKCS12(key, certificate, others, name, has_mac)


def create_pkcs12(key: PKey | None, cert: Certificate | None,
                  ca_certificates: Iterable[Certificate] = (), passphrase: Passphrase = None,
                  friendly_name: str | bytes | None = None, legacy: bool = False) -> bytes:
    """Encode a PKCS#12 file and return its bytes.

    Modern by default (AES-256-CBC with PBKDF2, SHA-256 MAC, what OpenSSL 3 writes);
    ``legacy=True`` writes 3DES keys, RC2-40 certificates and a SHA-1 MAC for old
    consumers.  passphrase None means the empty password.  Raises ValueError without a
    key and a certificate, TypeError for arguments of other types, and a
    :class:`tightbind.TlsError` when OpenSSL refuses (a key that does not match the
    certificate, :class:`LegacyProviderUnavailable` for ``legacy`` without the provider).
    """
    if key is None and cert is None:
        raise ValueError("create_pkcs12 needs a key, a certificate, or both")
    if key is not None and not isinstance(key, PKey):
        raise TypeError("key must be a PKey")
    if cert is not None and not isinstance(cert, Certificate):
        raise TypeError("cert must be a Certificate")
    cas = list(ca_certificates)
    if not all(isinstance(ca, Certificate) for ca in cas):
        raise TypeError("ca_certificates must be Certificates")
    if isinstance(friendly_name, bytes):
        friendly_name = friendly_name.decode("utf-8")
    ca_array = ffi.new("X509 *[]", [ca._ptr for ca in cas]) if cas else ffi.NULL
    out = ffi.new("tb_tls_buf **")
    return take_buf(lib.tb_tls_p12_create(key._ptr if key else ffi.NULL,
                                          cert._ptr if cert else ffi.NULL, ca_array, len(cas),
                                          c_password(passphrase),
                                          c_text(friendly_name, "friendly_name"), legacy, out),
                    out, "cannot create the PKCS#12 file")
