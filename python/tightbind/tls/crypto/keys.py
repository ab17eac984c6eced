"""Keys the way pyOpenSSL's ``OpenSSL.crypto`` handled them: :class:`PKey`,
:func:`load_privatekey`, :func:`dump_privatekey`, :func:`load_publickey` and
:func:`dump_publickey` (C: ``csrc/tls_crypto_keys.c``).

Passphrases are bytes or a callback ``cb(writing: bool) -> bytes`` called only when
OpenSSL needs one (``writing`` False to read, True to write), as in pyOpenSSL; NUL bytes
count.  Encryption is a PEM matter: a passphrase given with ``FILETYPE_ASN1`` is refused
with ValueError, as pyOpenSSL did.  Unlike pyOpenSSL, an encrypted key with no passphrase
raises :class:`~tightbind.tls.crypto.errors.PasswordRequired` rather than prompting on the
terminal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tightbind.tls import pkcs12 as tls_pkcs12
from tightbind.tls._native import ffi, lib
from tightbind.tls.crypto.constants import (
    FILETYPE_ASN1,
    FILETYPE_PEM,
    FILETYPE_TEXT,
    PASSPHRASE_LIMIT,
    TYPE_DSA,
    TYPE_RSA,
)
from tightbind.tls.crypto.errors import InvalidArgument, check, discard_queue, take_bytes
from tightbind.tls.signing import elliptic_curves

__all__ = ["PKey", "dump_privatekey", "dump_publickey", "get_elliptic_curve", "get_elliptic_curves",
           "load_privatekey", "load_publickey"]

Passphrase = bytes | Callable[..., bytes] | None

_KEY_FILETYPES = {FILETYPE_PEM: lib.TB_TLS_FORMAT_PEM, FILETYPE_ASN1: lib.TB_TLS_FORMAT_DER}
_DUMP_FILETYPES = {**_KEY_FILETYPES, FILETYPE_TEXT: lib.TB_TLS_FORMAT_TEXT}


class PKey(tls_pkcs12.PKey):
    """A key pair or a public key (pyOpenSSL's ``PKey``), also a
    :class:`tightbind.tls.PKey`.

    ``PKey()`` is empty (``type()`` and ``bits()`` are 0) until :meth:`generate_key`.
    Keys compare by identity, as pyOpenSSL's did.
    """

    __slots__ = ("_initialized",)

    def __init__(self) -> None:
        ptr = lib.EVP_PKEY_new()
        if ptr == ffi.NULL:
            raise MemoryError("EVP_PKEY_new failed")
        super().__init__(ffi.gc(ptr, lib.EVP_PKEY_free))
        self._only_public = False
        self._initialized = False

    @classmethod
    def _adopt(cls, ptr: Any, *, up_ref: bool, only_public: bool = False) -> PKey:
        key: PKey = super()._adopt(ptr, up_ref=up_ref, only_public=only_public)
        key._initialized = True
        return key

    def generate_key(self, type: int, bits: int) -> None:
        """Generate a new key pair into this object: ``TYPE_RSA`` or ``TYPE_DSA`` of
        ``bits`` bits.

        Raises TypeError for non-int arguments, :class:`InvalidArgument` (a ValueError
        and a ``crypto.Error``) for another type, ValueError for ``bits`` below 1, and an
        ``Error`` when OpenSSL refuses (an RSA size below 512).
        """
        if not isinstance(type, int):
            raise TypeError("type must be an integer")
        if not isinstance(bits, int):
            raise TypeError("bits must be an integer")
        if type not in (TYPE_RSA, TYPE_DSA):
            raise InvalidArgument(f"no such key type: {type} (TYPE_RSA or TYPE_DSA)")
        if bits <= 0:
            raise ValueError("Invalid number of bits")
        out = ffi.new("EVP_PKEY **")
        check(lib.tb_tls_key_generate(type, bits, out), f"cannot generate a {bits}-bit key")
        self._ptr = ffi.gc(out[0], lib.EVP_PKEY_free)
        self._only_public = False
        self._initialized = True

    def check(self) -> bool:
        """Return True when this RSA private key is consistent (OpenSSL's key check).

        Raises TypeError for a public key or a key of another type (as pyOpenSSL did),
        and :class:`~tightbind.tls.crypto.errors.DecodeError` (a ``crypto.Error``) for
        an inconsistent key.
        """
        if self._only_public:
            raise TypeError("public key only")
        if self.type() != TYPE_RSA:
            raise TypeError("Only RSA keys can currently be checked.")
        check(lib.tb_tls_key_check(self._ptr), "PKey.check")
        return True

    def to_cryptography_key(self) -> Any:
        """This key as a ``cryptography`` key object (:meth:`to_cryptography`)."""
        return self.to_cryptography()

    @classmethod
    def from_cryptography_key(cls, crypto_key: Any) -> PKey:
        """A :class:`PKey` from a ``cryptography`` RSA, DSA, EC, Ed25519 or Ed448 key
        (private or public); TypeError for other objects (X25519, X448, DH, ...), as
        pyOpenSSL (:meth:`from_cryptography` takes those too)."""
        private, public = _cryptography_key_types()
        if not isinstance(crypto_key, private + public):
            raise TypeError("Unsupported key type")
        key: PKey = cls.from_cryptography(crypto_key)
        return key

    def __eq__(self, other: object) -> bool:
        return self is other

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        kind = "public key" if self._only_public else "key"
        return f"<PKey {kind} type={self.type()} bits={self.bits()}>"


def _cryptography_key_types() -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """cryptography's private and public key classes PKey converts; () without it."""
    try:
        from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
    except ImportError:
        return (), ()
    return ((rsa.RSAPrivateKey, dsa.DSAPrivateKey, ec.EllipticCurvePrivateKey,
             ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey),
            (rsa.RSAPublicKey, dsa.DSAPublicKey, ec.EllipticCurvePublicKey,
             ed25519.Ed25519PublicKey, ed448.Ed448PublicKey))


# ------------------------------------------------------------------------ passphrases


def _buffer(buffer: bytes | str) -> bytes:
    if isinstance(buffer, str):
        return buffer.encode("ascii")
    if isinstance(buffer, (bytes, bytearray, memoryview)):
        return bytes(buffer)
    raise TypeError(f"buffer must be bytes or str, not {type(buffer).__name__}")


def _checked_passphrase(value: object, *, from_callback: bool) -> bytes:
    if not isinstance(value, bytes):
        raise ValueError("Bytes expected" if from_callback else "passphrase must be bytes")
    if len(value) > PASSPHRASE_LIMIT:
        raise ValueError(f"passphrase{' returned by callback' if from_callback else ''} is "
                         f"too long (OpenSSL takes at most {PASSPHRASE_LIMIT} bytes)")
    return value


def _passphrase_source(filetype: int, passphrase: Passphrase) -> bytes | None:
    """The passphrase bytes to hand over now (None: none, or a callback to ask later).

    Raises ValueError for a passphrase with a non-PEM file type and TypeError for one
    that is neither bytes nor callable, in pyOpenSSL's order.
    """
    if passphrase is None:
        return None
    if filetype != FILETYPE_PEM:
        raise ValueError("only FILETYPE_PEM key format supports encryption")
    if isinstance(passphrase, bytes):
        return _checked_passphrase(passphrase, from_callback=False)
    if callable(passphrase):
        return None
    raise TypeError("Last argument must be a byte string or a callable.")


def _ask(callback: Callable[..., bytes], writing: bool) -> bytes:
    """Call a pyOpenSSL passphrase callback; its own exceptions propagate."""
    return _checked_passphrase(callback(writing), from_callback=True)


def _filetype(filetype: int, table: dict[int, int], names: str) -> int:
    try:
        return table[filetype]
    except (KeyError, TypeError):
        raise ValueError(f"type argument must be {names}") from None


# ------------------------------------------------------------------------ private keys


def load_privatekey(type: int, buffer: bytes | str, passphrase: Passphrase = None) -> PKey:
    """Read a private key (PKCS#8, encrypted or not, or traditional; PEM or DER) and
    return its :class:`PKey`.

    Raises ValueError for another file type or a passphrase with DER, TypeError for a
    passphrase that is neither bytes nor callable, and a ``crypto.Error`` subclass:
    :class:`~tightbind.tls.crypto.errors.PasswordRequired`,
    :class:`~tightbind.tls.crypto.errors.WrongPassword` or
    :class:`~tightbind.tls.crypto.errors.DecodeError`.  Encrypted with DES, RC2 or
    Blowfish, it loads OpenSSL's legacy provider first.
    """
    data = _buffer(buffer)
    password = _passphrase_source(type, passphrase)
    pem = _filetype(type, _KEY_FILETYPES, "FILETYPE_PEM or FILETYPE_ASN1") == \
        lib.TB_TLS_FORMAT_PEM
    out = ffi.new("EVP_PKEY **")
    rc = lib.tb_tls_key_read(data, len(data), pem, 0,
                             password if password is not None else ffi.NULL,
                             len(password or b""), out)
    if rc == lib.TB_TLS_E_NEED_PASSWORD and callable(passphrase):
        discard_queue()
        password = _ask(passphrase, False)
        rc = lib.tb_tls_key_read(data, len(data), pem, 0, password, len(password), out)
    check(rc, "cannot read the private key")
    return PKey._adopt(out[0], up_ref=False)


def _cipher(name: str | bytes) -> Any:
    text = name.decode("ascii") if isinstance(name, bytes) else name
    if not isinstance(text, str) or "\0" in text:
        raise TypeError("cipher must be a cipher name (str)")
    out = ffi.new("EVP_CIPHER **")
    check(lib.tb_tls_cipher_fetch(text.encode("ascii", "replace"), out),
          f"cannot encrypt with {text!r}",
          sentence="Invalid cipher name: no loaded OpenSSL provider offers it")
    return ffi.gc(out[0], lib.EVP_CIPHER_free)


def dump_privatekey(type: int, pkey: tls_pkcs12.PKey, cipher: str | None = None,
                    passphrase: Passphrase = None) -> bytes:
    """Encode a private key and return the bytes.

    PEM is PKCS#8 (``BEGIN PRIVATE KEY``; with ``cipher`` and ``passphrase``,
    ``BEGIN ENCRYPTED PRIVATE KEY``); DER is OpenSSL's traditional form (what
    ``i2d_PrivateKey`` writes); ``FILETYPE_TEXT`` is OpenSSL's print-out, RSA keys only
    (as pyOpenSSL).  ``cipher`` is an OpenSSL name (``"aes-256-cbc"``, ``"blowfish"``:
    legacy ciphers load the legacy provider).

    Raises TypeError for a non-PKey, a cipher without a passphrase or a passphrase of
    another type, ValueError for an unknown cipher or file type or a passphrase with a
    non-PEM type, and a ``crypto.Error`` when OpenSSL fails.
    """
    if not isinstance(pkey, tls_pkcs12.PKey):
        raise TypeError("pkey must be a PKey")
    enc = ffi.NULL
    if cipher is not None:
        if passphrase is None:
            raise TypeError("if a value is given for cipher one must also be given for "
                            "passphrase")
        enc = _cipher(cipher)
    password = _passphrase_source(type, passphrase)
    fmt = _filetype(type, _DUMP_FILETYPES, "FILETYPE_PEM, FILETYPE_ASN1, or FILETYPE_TEXT")
    if fmt == lib.TB_TLS_FORMAT_TEXT and pkey.type() != TYPE_RSA:
        raise TypeError("Only RSA keys are supported for FILETYPE_TEXT")
    if enc != ffi.NULL and password is None and callable(passphrase):
        password = _ask(passphrase, True)
    out = ffi.new("tb_tls_buf **")
    return take_bytes(lib.tb_tls_key_write(pkey._ptr, fmt, 0, enc,
                                           password if enc != ffi.NULL else ffi.NULL,
                                           len(password or b"") if enc != ffi.NULL else 0,
                                           out),
                      out, "cannot encode the private key")


# ------------------------------------------------------------------------ public keys


def load_publickey(type: int, buffer: bytes | str) -> PKey:
    """Read a public key (``BEGIN PUBLIC KEY`` PEM or SubjectPublicKeyInfo DER) and
    return it as a public-only :class:`PKey`; ValueError for another file type, a
    :class:`~tightbind.tls.crypto.errors.DecodeError` for data that is not one."""
    data = _buffer(buffer)
    pem = _filetype(type, _KEY_FILETYPES, "FILETYPE_PEM or FILETYPE_ASN1") == \
        lib.TB_TLS_FORMAT_PEM
    out = ffi.new("EVP_PKEY **")
    check(lib.tb_tls_key_read(data, len(data), pem, 1, ffi.NULL, 0, out),
          "cannot read the public key")
    return PKey._adopt(out[0], up_ref=False, only_public=True)


def dump_publickey(type: int, pkey: tls_pkcs12.PKey) -> bytes:
    """The public half of ``pkey`` as PEM (``BEGIN PUBLIC KEY``) or DER
    (SubjectPublicKeyInfo); ValueError for another file type."""
    if not isinstance(pkey, tls_pkcs12.PKey):
        raise TypeError("pkey must be a PKey")
    fmt = _filetype(type, _KEY_FILETYPES, "FILETYPE_PEM or FILETYPE_ASN1")
    out = ffi.new("tb_tls_buf **")
    return take_bytes(lib.tb_tls_key_write(pkey._ptr, fmt, 1, ffi.NULL, ffi.NULL, 0, out),
                      out, "cannot encode the public key")


# ------------------------------------------------------------------------ curves


class _EllipticCurve:
    """One of the elliptic curves OpenSSL has built in (pyOpenSSL's curve objects):
    ``name`` is OpenSSL's short name.  One object per curve, so they compare by
    identity."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<Curve {self.name!r}>"

    def _to_EC_KEY(self) -> Any:
        """An ``EC_KEY *`` of this curve, freed with its Python object (pyOpenSSL's
        private method, for code that hands it to its own cffi calls)."""
        key = lib.tb_tls_curve_ec_key(self.name.encode("ascii"))
        if key == ffi.NULL:
            raise MemoryError(f"cannot make an EC_KEY of {self.name}")
        return ffi.gc(key, lib.tb_tls_ec_key_free)


_curves: set[_EllipticCurve] | None = None


def get_elliptic_curves() -> set[_EllipticCurve]:
    """The set of elliptic curves the OpenSSL in use has built in
    (:func:`tightbind.tls.elliptic_curves`, as pyOpenSSL's curve objects)."""
    global _curves
    if _curves is None:
        _curves = {_EllipticCurve(name) for name in elliptic_curves()}
    return _curves


def get_elliptic_curve(name: str) -> _EllipticCurve:
    """The curve called ``name`` (OpenSSL's short name, e.g. ``"prime256v1"``);
    ValueError when OpenSSL has no such curve."""
    for curve in get_elliptic_curves():
        if curve.name == name:
            return curve
    raise ValueError("unknown curve name", name)
