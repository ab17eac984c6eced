"""tightbind.tls.crypto.errors: crypto.Error keeps pyOpenSSL's args shape and every
failure is also the tightbind.tls class for its case."""

from __future__ import annotations

import pytest

import tightbind
from tightbind import tls
from tightbind.tls import crypto
from tightbind.tls import errors as tls_errors
from tightbind.tls._native import FAILURES, lib
from tightbind.tls.crypto import errors


def test_every_status_code_has_a_crypto_class() -> None:
    assert set(errors.CRYPTO_FAILURES) == set(FAILURES)
    for code, (cls, sentence) in errors.CRYPTO_FAILURES.items():
        tls_cls, tls_sentence = FAILURES[code]
        assert issubclass(cls, crypto.Error) and issubclass(cls, tightbind.TlsError)
        assert sentence is tls_sentence
        # The narrow tightbind class where crypto calls can meet the code, else OpenSSLFailure.
        assert issubclass(cls, tls_cls) or cls is errors.OpenSSLFailure


@pytest.mark.parametrize("code", sorted(errors.CRYPTO_FAILURES))
def test_check_raises_the_crypto_class(code: int) -> None:
    cls, _ = errors.CRYPTO_FAILURES[code]
    with pytest.raises(cls, match=r"^calling tb_x: ") as info:
        errors.check(code, "calling tb_x")
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
    # The queue was emptied: the next failure carries only its own reasons.
    with pytest.raises(errors.InvalidArgument) as second:
        crypto.X509().get_pubkey()
    assert not set(second.value.args[0]) & set(queue)


def test_check_with_a_sentence_and_an_unknown_code() -> None:
    with pytest.raises(errors.InvalidArgument, match=r"^x: better words$"):
        errors.check(lib.TB_E_ARG, "x", sentence="better words")
    with pytest.raises(errors.OpenSSLFailure, match="status -999, which tightbind"):
        errors.check(-999, "x")
    assert errors.check(1, "x") == 1


def test_plain_errors_keep_exception_behaviour() -> None:
    exc = crypto.Error("made by user code")
    assert str(exc) == "made by user code" and exc.args == ("made by user code",)
    assert isinstance(exc, tls_errors.TlsError)
    assert issubclass(errors.PasswordRequired, tls.PasswordRequired)
    assert issubclass(errors.LegacyProviderUnavailable, tls.LegacyProviderUnavailable)


def test_text_arg() -> None:
    assert errors.text_arg("é", "x") == "é".encode()
    with pytest.raises(TypeError):
        errors.text_arg(1, "x")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        errors.text_arg(b"a\0", "x")
