"""tightbind.tls.crypto.errors: crypto.Error is tightbind.tls.OpenSSLError, keeps
pyOpenSSL's args shape, and every failure of the area is one (one table, one check, one
drain)."""

from __future__ import annotations

import pytest

import tightbind
from tightbind import tls
from tightbind.tls import crypto
from tightbind.tls import errors as tls_errors
from tightbind.tls._native import FAILURES, check, drain, lib
from tightbind.tls.crypto import errors


def test_one_class_tree() -> None:
    assert crypto.Error is tls.OpenSSLError is errors.Error
    assert errors.check is check
    for cls, _ in FAILURES.values():
        assert issubclass(cls, crypto.Error) and issubclass(cls, tightbind.TlsError)
        assert not cls.__name__.startswith("_"), cls  # no private class escapes
    for name in errors.__all__:
        value = getattr(errors, name)
        if isinstance(value, type) and issubclass(value, Exception) and value not in (
                errors.NotProvided, errors.NotProvidedWarning):
            assert getattr(tls_errors, value.__name__) is value, name  # no mirrored classes


@pytest.mark.parametrize("code", sorted(FAILURES))
def test_check_raises_the_table_class(code: int) -> None:
    cls, _ = FAILURES[code]
    lib.ERR_clear_error()
    with pytest.raises(cls, match=r"^calling tb_x: ") as info:
        check(code, "calling tb_x")
    assert type(info.value) is cls and info.value.args == ([],)


def test_args_hold_the_queue_and_str_the_sentence() -> None:
    with pytest.raises(errors.DecodeError) as info:
        crypto.load_certificate(crypto.FILETYPE_PEM, b"-----BEGIN CERTIFICATE-----\nAA\n"
                                                     b"-----END CERTIFICATE-----\n")
    exc = info.value
    assert isinstance(exc, tls.DecodeError) and isinstance(exc, ValueError)
    queue = exc.args[0]
    assert queue and all(isinstance(part, str) for entry in queue for part in entry)
    assert all(func == "" for _, func, _ in queue)  # as pyOpenSSL on OpenSSL 3
    text = str(exc)
    assert text.startswith("cannot read the certificate: the data is not valid (OpenSSL: ")
    assert exc.openssl_errors and exc.openssl_errors[0] in text
    assert drain() == ()  # the queue was emptied
    # The next failure carries only its own reasons.
    with pytest.raises(errors.InvalidArgument) as second:
        crypto.X509().get_pubkey()
    assert not set(second.value.args[0]) & set(queue)


def test_the_tls_api_raises_crypto_errors_too() -> None:
    with pytest.raises(crypto.Error) as info:
        tls.load_certificate(tls.FILETYPE_ASN1, b"lol")
    assert type(info.value) is tls.DecodeError and isinstance(info.value.args[0], list)


def test_check_with_a_sentence_and_an_unknown_code() -> None:
    with pytest.raises(errors.InvalidArgument, match=r"^x: better words$"):
        check(lib.TB_E_ARG, "x", sentence="better words")
    with pytest.raises(tls.OpenSSLError, match="status -999, which tightbind"):
        check(-999, "x")
    assert check(1, "x") == 1


def test_plain_errors_keep_exception_behaviour() -> None:
    exc = crypto.Error("made by user code")
    assert str(exc) == "made by user code" and exc.args == ("made by user code",)
    assert isinstance(exc, tls_errors.TlsError)
    exc = tls.WrongPassword("x", ["lib: reason"])
    assert str(exc) == "x (OpenSSL: lib: reason)" and exc.openssl_errors == ["lib: reason"]


def test_text_arg() -> None:
    assert errors.text_arg("é", "x") == "é".encode()
    with pytest.raises(TypeError):
        errors.text_arg(1, "x")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        errors.text_arg(b"a\0", "x")
