"""PKCS#12 files and private keys: :class:`PKCS12`, :class:`PKey`, :func:`load_pkcs12`,
:func:`create_pkcs12`, :func:`load_privatekey` and :func:`dump_privatekey`
(C: ``csrc/tls_pkcs12.c``; the SHA-256 key derivations in ``csrc/tls_kdf.c``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from tightbind.tls._native import (
    MAX_ITERATIONS,
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
from tightbind.tls.errors import InvalidArgument
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

    def export(self, passphrase: Passphrase = None, *, legacy: bool = False,
               **options: Any) -> bytes:
        """Encode again as PKCS#12 and return the bytes: :func:`create_pkcs12`'s keyword
        options (``encryption``, ``iterations``, ``mac_hash``, ``mac_iterations``,
        ``ca_friendly_names``) apply; the CA certificates keep their friendly names."""
        return create_pkcs12(self.private_key, self.certificate, self.ca_certificates,
                             passphrase=passphrase, friendly_name=self.friendly_name,
                             legacy=legacy, **options)


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
    # Certificates parsed for reading (Certificate._ptr makes the full X509 on first use).
    flags = lib.TB_TLS_P12_READER_CERTS | (lib.TB_TLS_P12_ALLOW_NO_MAC if allow_missing_mac
                                           else 0)
    rc = _try_passwords(lambda password: lib.tb_tls_p12_parse(raw, len(raw), password, flags,
                                                              out), passphrase, mac=True)
    check(rc, "cannot open the PKCS#12 file")
    p12 = out[0]
    try:
        key = PKey._adopt(p12.key, up_ref=True) if p12.key != ffi.NULL else None
        certs = []
        for i in range(p12.count):
            cert = Certificate._adopt_reader(p12.certs[i])
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


ENCRYPTIONS: dict[str, int] = {
    "aes-256-cbc": lib.TB_TLS_P12_AES_256_CBC,
    "3des": lib.TB_TLS_P12_3DES,
    "rc2-40": lib.TB_TLS_P12_RC2_40,
}
"""What :func:`create_pkcs12` can encrypt with: ``"aes-256-cbc"`` (PBES2: PBKDF2 with
HMAC-SHA-256 and AES-256-CBC, what OpenSSL 3 writes), ``"3des"`` (PKCS#12's
pbeWithSHA1And3-KeyTripleDES-CBC for key and certificates: what Windows before Server
2019, macOS before 10.15, Java before 8u301 and OpenSSL 1.x read) or ``"rc2-40"`` (the key
3DES, the certificates pbeWithSHA1And40BitRC2-CBC: ``openssl pkcs12 -legacy``)."""

MAC_HASHES = ("sha1", "sha224", "sha256", "sha384", "sha512")
"""The MAC digests :func:`create_pkcs12` takes (HMAC with PKCS#12's key derivation);
sha1 for readers older than OpenSSL 1.1 or Windows Server 2019."""

DEFAULT_ITERATIONS = 2048
"""Key-derivation rounds when none are asked for: OpenSSL's ``PKCS12_DEFAULT_ITER``."""


class P12Options:
    """Checked PKCS#12 writing options, ready for ``tb_tls_p12_write`` (built by
    :func:`p12_options`)."""

    __slots__ = ("encryption", "iterations", "mac_digest", "mac_iterations")

    def __init__(self, encryption: int, iterations: int, mac_digest: Any,
                 mac_iterations: int) -> None:
        self.encryption = encryption
        self.iterations = iterations
        self.mac_digest = mac_digest
        self.mac_iterations = mac_iterations


def _rounds(value: object, what: str, invalid: type[Exception]) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    if not 1 <= value <= MAX_ITERATIONS:
        raise invalid(f"{what} must be from 1 to {MAX_ITERATIONS} (tightbind's key-derivation "
                      f"budget for one file), not {value}")
    return value


def p12_options(encryption: str, iterations: int, mac_hash: str | None, mac_iterations: int,
                *, parts: int, empty_password: bool,
                invalid: type[Exception] = InvalidArgument) -> P12Options:
    """Check the writing options and return them as :class:`P12Options`.

    ``parts`` is how many encrypted parts the file will have (the key, the certificates:
    0 to 2), ``mac_hash`` None means no MAC.  Raises TypeError for arguments of other
    types and ``invalid`` (:class:`InvalidArgument`, a :class:`~tightbind.TlsError` and a
    ValueError) for an unknown encryption or MAC hash, rounds below 1, or rounds whose
    sum is more key derivation than :func:`load_pkcs12` does for one file
    (:data:`~tightbind.tls.MAX_ITERATIONS`), so that tightbind can open what it writes.
    """
    if not isinstance(encryption, str):
        raise TypeError(f"encryption must be a str, not {type(encryption).__name__}")
    code = ENCRYPTIONS.get(encryption.lower())
    if code is None:
        raise invalid(f"unknown encryption {encryption!r}: one of "
                      f"{', '.join(map(repr, ENCRYPTIONS))}")
    if mac_hash is not None and not isinstance(mac_hash, str):
        raise TypeError(f"mac_hash must be a str or None, not {type(mac_hash).__name__}")
    digest = None if mac_hash is None else mac_hash.lower().replace("-", "")
    if digest is not None and digest not in MAC_HASHES:
        raise invalid(f"unknown mac_hash {mac_hash!r}: one of {', '.join(map(repr, MAC_HASHES))}")
    rounds = _rounds(iterations, "iterations", invalid)
    mac_rounds = _rounds(mac_iterations, "mac_iterations", invalid)
    # load_pkcs12 tries an empty password's MAC twice (with and without its terminator).
    cost = rounds * parts + (0 if digest is None else mac_rounds * (2 if empty_password else 1))
    if cost > MAX_ITERATIONS:
        raise invalid(f"{rounds} iterations for each of {parts} encrypted parts and {mac_rounds} "
                      f"for the MAC make {cost} rounds of key derivation, more than "
                      f"load_pkcs12 does for one file ({MAX_ITERATIONS})")
    return P12Options(code, rounds, ffi.NULL if digest is None else
                      ffi.new("char[]", digest.encode("ascii")), mac_rounds)


def write_pkcs12(key: PKey | None, cert: Certificate | None, name: bytes | None,
                 ca_certificates: Sequence[Certificate], ca_names: Sequence[bytes | None],
                 password: Any, options: P12Options, take: Any = take_buf,
                 what: str = "cannot create the PKCS#12 file") -> bytes:
    """Write a PKCS#12 file (``tb_tls_p12_write``) from checked arguments and return its
    bytes; ``take`` (:func:`~tightbind.tls._native.take_buf` or the crypto layer's) raises
    from the failure table, saying ``what``."""
    cas = ffi.new("X509 *[]", [ca._ptr for ca in ca_certificates]) if ca_certificates \
        else ffi.NULL
    name_list = [ffi.new("char[]", n) if n is not None else ffi.NULL for n in ca_names]
    names = ffi.new("char *[]", name_list) if any(n is not None for n in ca_names) else ffi.NULL
    out = ffi.new("tb_tls_buf **")
    rc = lib.tb_tls_p12_write(key._ptr if key is not None else ffi.NULL,
                              cert._ptr if cert is not None else ffi.NULL,
                              ffi.new("char[]", name) if name is not None else ffi.NULL,
                              cas, names, len(ca_certificates), password, options.encryption,
                              options.iterations, options.mac_digest, options.mac_iterations,
                              out)
    result: bytes = take(rc, out, what)
    return result


def name_bytes(value: str | bytes | None, what: str,
               invalid: type[Exception] = InvalidArgument) -> bytes | None:
    """A friendly name as bytes for C (None stays None): str as UTF-8; bytes as they are
    (UTF-8 is written as text, other bytes one character a byte).  TypeError for other
    types, ValueError for NUL bytes, ``invalid`` for characters past U+FFFF, which a
    friendlyName (a BMPString) cannot hold."""
    if value is None:
        return None
    try:
        raw = value.encode("utf-8") if isinstance(value, str) else value
    except UnicodeEncodeError as exc:
        raise invalid(f"{what} is not valid Unicode ({exc.reason} at index {exc.start})"
                      ) from None
    if not isinstance(raw, bytes):
        raise TypeError(f"{what} must be str, bytes or None, not {type(value).__name__}")
    if b"\0" in raw:
        raise ValueError(f"{what} must not contain NUL bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw
    wide = [char for char in text if ord(char) > 0xFFFF]
    if wide:
        raise invalid(f"{what} {text!r}: {wide[0]!r} (U+{ord(wide[0]):X}) is past U+FFFF, "
                      "and a PKCS#12 friendlyName is a BMPString, which cannot hold it")
    return raw


def ca_name_list(names: Iterable[str | bytes | None], count: int,
                 invalid: type[Exception] = InvalidArgument) -> list[bytes | None]:
    """``ca_friendly_names`` checked against the number of CA certificates."""
    if isinstance(names, (str, bytes)):
        raise TypeError("ca_friendly_names must be a sequence of names, one per CA certificate")
    result = [name_bytes(name, "a CA friendly name", invalid) for name in names]
    if len(result) != count:
        raise invalid(f"ca_friendly_names has {len(result)} names for {count} CA certificates")
    return result


def create_pkcs12(key: PKey | None, cert: Certificate | None,
                  ca_certificates: Iterable[Certificate] = (), passphrase: Passphrase = None,
                  friendly_name: str | bytes | None = None, legacy: bool = False, *,
                  encryption: str | None = None, iterations: int = DEFAULT_ITERATIONS,
                  mac_hash: str | None = None, mac_iterations: int = DEFAULT_ITERATIONS,
                  ca_friendly_names: Iterable[str | bytes | None] | None = None) -> bytes:
    """Encode a PKCS#12 file and return its bytes.

    Modern by default: ``encryption="aes-256-cbc"`` (PBES2 with PBKDF2-HMAC-SHA-256, what
    OpenSSL 3 writes), ``mac_hash="sha256"``.  For old readers ``encryption="3des"``
    (Windows before Server 2019, macOS before 10.15, Java before 8u301) with
    ``mac_hash="sha1"``; ``legacy=True`` is short for ``encryption="rc2-40",
    mac_hash="sha1"`` (``openssl pkcs12 -legacy``: 3DES key, RC2-40 certificates).
    ``iterations`` are the key-derivation rounds of each encrypted part,
    ``mac_iterations`` the MAC's (both 2048 by default, as OpenSSL).  ``friendly_name``
    names the key and its certificate; ``ca_friendly_names`` (one name or None per CA
    certificate) the CA certificates, by default each one's ``friendly_name`` (as
    :func:`load_pkcs12` read it).  passphrase None means the empty password.

    Raises ValueError without a key and a certificate, TypeError for arguments of other
    types, :class:`InvalidArgument` for an unknown ``encryption`` or ``mac_hash``,
    rounds out of range, ``legacy`` with either, or names that do not match the CA
    certificates, and a :class:`tightbind.TlsError` when OpenSSL refuses (a key that
    does not match the certificate, :class:`LegacyProviderUnavailable` for RC2-40
    without the legacy provider).
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
    if legacy and (encryption is not None or mac_hash is not None):
        raise InvalidArgument("legacy=True is short for encryption='rc2-40', mac_hash='sha1': "
                              "give legacy or those, not both")
    password = c_password(passphrase if passphrase is not None else "")
    options = p12_options(encryption or ("rc2-40" if legacy else "aes-256-cbc"), iterations,
                          mac_hash or ("sha1" if legacy else "sha256"), mac_iterations,
                          parts=(key is not None) + bool(cas or cert),
                          empty_password=not passphrase)
    names = ca_name_list([ca.friendly_name for ca in cas] if ca_friendly_names is None
                         else ca_friendly_names, len(cas))
    return write_pkcs12(key, cert, name_bytes(friendly_name, "friendly_name"), cas, names,
                        password, options)
