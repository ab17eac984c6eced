"""tightbind.tls.crypto's X509Store, X509StoreContext, CRL and Revoked beyond what
pyOpenSSL's own suite checks (test_crypto_pyopenssl_suite.py): a CA with a revoked
intermediate built with the new API and verified with CRL checks, against ``openssl
verify -crl_check`` / ``-crl_check_all`` on the same files; the exception's shape; times,
depth and locations."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509 as cx509
from helpers.ca import Ca, make_ca, make_cert, openssl_verify

from tightbind import TlsError
from tightbind.tls import CertificateVerifyError, TrustStore, crypto

PEM = crypto.FILETYPE_PEM
PAST = b"20200101000000Z"
FUTURE = b"50000101000000Z"


@pytest.fixture(scope="module")
def ca() -> Ca:
    return make_ca()


def face_crl(issuer: crypto.X509, key: crypto.PKey, revoked: list[crypto.X509],
             next_update: bytes = FUTURE, reason: bytes | None = b"keyCompromise") -> crypto.CRL:
    crl = crypto.CRL()
    for cert in revoked:
        entry = crypto.Revoked()
        entry.set_serial(f"{cert.get_serial_number():x}".encode())
        entry.set_rev_date(PAST)
        entry.set_reason(reason)
        crl.add_revoked(entry)
    crl.set_version(1)
    crl.set_lastUpdate(PAST)
    crl.set_nextUpdate(next_update)
    crl.sign(issuer, key, b"sha256")
    return crl


# (name, revoked by the root's CRL, by the intermediate's, intermediate CRL present,
#  intermediate CRL expired, check)
SCENARIOS = [
    ("revoked intermediate", ["inter"], [], True, False, "all"),
    ("revoked intermediate, leaf checked only", ["inter"], [], True, False, "leaf"),
    ("revoked leaf", [], ["leaf"], True, False, "leaf"),
    ("revoked leaf, all checked", [], ["leaf"], True, False, "all"),
    ("intermediate CRL missing", [], [], False, False, "all"),
    ("intermediate CRL expired", [], [], True, True, "leaf"),
    ("nothing revoked", [], [], True, False, "all"),
    ("no check", ["inter"], ["leaf"], True, False, None),
]


@pytest.mark.parametrize("name, by_root, by_inter, inter_crl, expired, check", SCENARIOS,
                         ids=[s[0] for s in SCENARIOS])
def test_crl_checks_match_openssl_verify(ca: Ca, tmp_path: Path, name: str, by_root: list[str],
                                         by_inter: list[str], inter_crl: bool, expired: bool,
                                         check: str | None) -> None:
    certs = {"inter": ca.inter, "leaf": ca.leaf}
    crls = [face_crl(ca.root, ca.root_key, [certs[n] for n in by_root])]
    if inter_crl:
        crls.append(face_crl(ca.inter, ca.inter_key, [certs[n] for n in by_inter],
                             next_update=PAST if expired else FUTURE))
    store = crypto.X509Store()
    store.add_cert(ca.root)
    for crl in crls:
        store.add_crl(crl)
    if check is not None:
        store.set_flags(crypto.X509StoreFlags.CRL_CHECK
                        | (crypto.X509StoreFlags.CRL_CHECK_ALL if check == "all" else 0))
    context = crypto.X509StoreContext(store, ca.leaf, [ca.inter])
    try:
        chain = context.get_verified_chain()
        ours = (0, -1)
        assert [c.get_subject().CN for c in chain] == [
            "store test leaf", "store test intermediate", "store test root"]
    except crypto.X509StoreContextError as exc:
        ours = (exc.errors[0], exc.errors[1])
        assert exc.depth == exc.errors[1] and exc.verify_code == exc.errors[0]
        assert str(exc) == exc.errors[2] == exc.reason
        at_fault = [ca.leaf, ca.inter, ca.root][exc.depth]
        assert exc.certificate.get_subject() == at_fault.get_subject()
        assert exc.certificate.digest("sha256") == at_fault.digest("sha256")

    root = tmp_path / "root.pem"
    root.write_bytes(crypto.dump_certificate(PEM, ca.root))
    untrusted = tmp_path / "inter.pem"
    untrusted.write_bytes(crypto.dump_certificate(PEM, ca.inter))
    leaf = tmp_path / "leaf.pem"
    leaf.write_bytes(crypto.dump_certificate(PEM, ca.leaf))
    crl_file = tmp_path / "crls.pem"
    crl_file.write_bytes(b"".join(crypto.dump_crl(PEM, crl) for crl in crls))
    assert ours == openssl_verify(tmp_path, root, untrusted, crl_file, leaf, check=check)
    expected = {"revoked intermediate": (23, 1), "revoked leaf": (23, 0),
                "intermediate CRL missing": (3, 0), "intermediate CRL expired": (12, 0),
                "nothing revoked": (0, -1)}
    assert ours == expected.get(name, ours)  # the oracle agrees on what it must say


def test_revocation_error_is_a_tightbind_verify_error(ca: Ca) -> None:
    store = crypto.X509Store()
    store.add_cert(ca.root)
    store.add_crl(face_crl(ca.root, ca.root_key, [ca.inter]))
    store.add_crl(face_crl(ca.inter, ca.inter_key, []))
    store.set_flags(crypto.X509StoreFlags.CRL_CHECK)
    store.set_flags(crypto.X509StoreFlags.CRL_CHECK_ALL)  # or-ed, as in pyOpenSSL
    context = crypto.X509StoreContext(store, ca.leaf, chain=[ca.inter])
    with pytest.raises(CertificateVerifyError) as info:
        context.verify_certificate()
    exc = info.value
    assert isinstance(exc, crypto.X509StoreContextError) and isinstance(exc, TlsError)
    # pyOpenSSL's is not an OpenSSL.crypto.Error; here every TLS failure is one (crypto.Error
    # is tightbind.tls.OpenSSLError, the base of them all: docs/guides/from-pyopenssl.md,
    # "What differs").
    assert isinstance(exc, crypto.Error)
    assert str(exc) == "certificate revoked" and exc.errors == [23, 1, "certificate revoked"]
    assert isinstance(exc.certificate, crypto.X509)
    assert exc.certificate is not ca.inter  # a copy, as pyOpenSSL gave
    assert store.trust_store.flags == (crypto.X509StoreFlags.CRL_CHECK
                                       | crypto.X509StoreFlags.CRL_CHECK_ALL)


def test_add_crl_takes_a_cryptography_crl(ca: Ca) -> None:
    crl = face_crl(ca.root, ca.root_key, [ca.inter])
    store = crypto.X509Store()
    store.add_cert(ca.root)
    store.add_crl(crl.to_cryptography())
    store.add_crl(face_crl(ca.inter, ca.inter_key, []).to_cryptography())
    store.set_flags(crypto.X509StoreFlags.CRL_CHECK | crypto.X509StoreFlags.CRL_CHECK_ALL)
    with pytest.raises(crypto.X509StoreContextError, match=r"^certificate revoked$"):
        crypto.X509StoreContext(store, ca.leaf, [ca.inter]).verify_certificate()
    with pytest.raises(TypeError):
        store.add_crl(object())


@pytest.mark.parametrize("aware", [False, True])
def test_set_time_naive_is_utc_aware_is_converted(ca: Ca, aware: bool) -> None:
    store = crypto.X509Store()
    store.add_cert(ca.root)
    not_after = dt.datetime.strptime(ca.inter.get_notAfter().decode(), "%Y%m%d%H%M%SZ")
    at = not_after + dt.timedelta(seconds=1)
    if aware:  # the same instant, written in UTC+5
        at = at.replace(tzinfo=dt.timezone.utc).astimezone(dt.timezone(dt.timedelta(hours=5)))
    store.set_time(at)
    with pytest.raises(crypto.X509StoreContextError, match=r"^certificate has expired$"):
        crypto.X509StoreContext(store, ca.inter).verify_certificate()
    store.set_time(at - dt.timedelta(seconds=10))
    crypto.X509StoreContext(store, ca.inter).verify_certificate()
    with pytest.raises(TypeError):
        store.set_time(0)


def test_set_depth(ca: Ca) -> None:
    store = crypto.X509Store()
    store.add_cert(ca.root)
    context = crypto.X509StoreContext(store, ca.leaf, [ca.inter])
    context.verify_certificate()
    store.set_depth(0)
    with pytest.raises(crypto.X509StoreContextError) as info:
        context.verify_certificate()
    assert info.value.errors[0] == 22  # X509_V_ERR_CERT_CHAIN_TOO_LONG
    with pytest.raises(ValueError):
        store.set_depth(-2)


def test_context_arguments(ca: Ca) -> None:
    store = crypto.X509Store()
    with pytest.raises(TypeError):
        crypto.X509StoreContext(object(), ca.leaf)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        crypto.X509StoreContext(store, b"cert")  # type: ignore[arg-type]
    context = crypto.X509StoreContext(store, ca.leaf)
    with pytest.raises(TypeError):
        context.set_store(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        store.set_flags(1.0)  # type: ignore[arg-type]


def test_load_locations_errors(tmp_path: Path, ca: Ca) -> None:
    store = crypto.X509Store()
    with pytest.raises(crypto.Error, match="a cafile, a capath or both"):
        store.load_locations(None, None)
    with pytest.raises(crypto.Error):
        store.load_locations(tmp_path / "missing.pem")
    with pytest.raises(ValueError, match="NUL"):
        store.load_locations("a\0b")
    bundle = tmp_path / "bundle.pem"
    crl = face_crl(ca.root, ca.root_key, [ca.inter])
    bundle.write_bytes(crypto.dump_certificate(PEM, ca.root) + crypto.dump_crl(PEM, crl))
    store.load_locations(bytes(bundle))  # certificates and CRLs from one file
    store.set_flags(crypto.X509StoreFlags.CRL_CHECK)
    with pytest.raises(crypto.X509StoreContextError, match=r"^certificate revoked$"):
        crypto.X509StoreContext(store, ca.inter).verify_certificate()


def test_crl_face_extras(ca: Ca) -> None:
    crl = face_crl(ca.root, ca.root_key, [ca.inter], reason=None)
    assert isinstance(crl, crypto.CRL) and crl.get_issuer().CN == "store test root"
    (entry,) = crl.get_revoked()
    assert entry.get_reason() is None and entry.get_rev_date() == PAST
    assert repr(entry) == "<Revoked serial=2002>"
    # The tightbind fields of the same object, and what cryptography reads.
    assert crl.revoked[0].serial_number == 0x2002 and crl.revoked[0].reason is None
    assert crl.next_update == dt.datetime(5000, 1, 1, tzinfo=dt.timezone.utc)
    parsed = cx509.load_der_x509_crl(crypto.dump_crl(crypto.FILETYPE_ASN1, crl))
    assert parsed.get_revoked_certificate_by_serial_number(0x2002) is not None
    assert parsed.is_signature_valid(ca.root.get_pubkey().to_cryptography_key())
    with pytest.raises(ValueError, match="version"):
        crl.set_version(7)
    with pytest.raises(ValueError, match="Invalid string"):
        crl.set_lastUpdate(b"yesterday")
    with pytest.raises(TypeError):
        crl.set_nextUpdate("20200101000000Z")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        crl.sign(ca.root, ca.root_key, b"no-such-digest")
    with pytest.raises(TypeError):
        crl.add_revoked(object())  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        crypto.dump_crl(PEM, object())  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        crypto.load_crl(PEM, 12)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        crl.export(ca.root, ca.root_key, PEM, "10", b"sha256")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        crl.export(ca.root, ca.root_key, PEM, 10**20, b"sha256")


def test_export_sets_dates_from_days(ca: Ca) -> None:
    crl = crypto.CRL()
    text = crl.export(ca.inter, ca.inter_key, crypto.FILETYPE_PEM, days=3, digest=b"sha256")
    loaded = crypto.load_crl(PEM, text)
    assert loaded.next_update is not None and loaded.last_update is not None
    assert loaded.next_update - loaded.last_update == dt.timedelta(days=3)
    assert loaded.issuer == "/CN=store test intermediate/O=tightbind store tests"


def test_made_cert_helper_issues_by_its_issuer(ca: Ca) -> None:
    other = make_cert("other", 7, ca.leaf_key, ca.root, ca.root_key, ca=False)
    assert TrustStore([ca.root]).verify(other)[-1].get_subject().CN == "store test root"


def test_revoked_face_paths() -> None:
    """Revoked's pyOpenSSL behaviours, in this process (pyOpenSSL's suite runs in a
    child): serial prefixes, reasons by any spelling, dates, refusals."""
    entry = crypto.Revoked()
    assert (entry.get_serial(), entry.get_rev_date(), entry.get_reason()) == (b"00", None, None)
    entry.set_serial(b"31ppp")
    assert entry.get_serial() == b"31"
    entry.set_serial(b"-10b")
    assert entry.get_serial() == b"-010B"
    for bad, error in ((b"pqrst", ValueError), (100, TypeError), ("10", TypeError)):
        with pytest.raises(error):
            entry.set_serial(bad)  # type: ignore[arg-type]
    for reason in entry.all_reasons():
        entry.set_reason(reason.upper())
        printed = entry.get_reason()
        assert printed is not None
        entry.set_reason(printed)  # what get_reason says is taken back
        assert entry.get_reason() == printed
    assert entry.all_reasons() is not entry.all_reasons()
    for bad, error in ((b"blue", ValueError), ("superseded", TypeError), (1, TypeError)):
        with pytest.raises(error):
            entry.set_reason(bad)  # type: ignore[arg-type]
    entry.set_rev_date(b"20240229123456Z")
    assert entry.get_rev_date() == b"20240229123456Z"
    entry.set_rev_date(b"240229123456Z")  # UTCTime in, GeneralizedTime out
    assert entry.get_rev_date() == b"20240229123456Z"
    for bad, error in ((b"2024", ValueError), (b"2024\0", ValueError), ("2024", TypeError)):
        with pytest.raises(error):
            entry.set_rev_date(bad)  # type: ignore[arg-type]


def test_crl_face_paths(ca: Ca) -> None:
    crl = crypto.CRL()
    assert crl.get_revoked() is None and crl.revoked == ()
    with pytest.raises(TypeError):
        crl.set_version("1")  # type: ignore[arg-type]
    crl.set_version(0)
    with pytest.raises(ValueError, match="type argument"):
        crypto.dump_crl(99, crl)
    with pytest.raises(ValueError, match="type argument"):
        crypto.load_crl(crypto.FILETYPE_TEXT, b"")
    with pytest.raises(crypto.Error):
        crypto.load_crl(PEM, "not a CRL")  # str is read as ASCII
    for args in ((None, ca.root_key), (ca.root, None)):
        with pytest.raises(TypeError):
            crl.sign(*args, b"sha256")  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            crl.export(*args, digest=b"sha256")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        crl.export(ca.root, ca.root_key, None, digest=b"sha256")  # type: ignore[arg-type]
    with pytest.raises(crypto.Error):
        crl.export(ca.root, crypto.PKey(), digest=b"sha256")
    text = crl.export(ca.root, ca.root_key, crypto.FILETYPE_TEXT, digest="sha256")
    assert b"Certificate Revocation List" in text
    assert crypto.load_crl(PEM, crypto.dump_crl(PEM, crl)).version == 1


def test_context_rejects_non_iterable_chain(ca: Ca) -> None:
    store = crypto.X509Store()
    with pytest.raises(TypeError):
        crypto.X509StoreContext(store, ca.leaf, chain=42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not an X509"):
        crypto.X509StoreContext(store, ca.leaf, chain=[ca.inter, "x"])  # type: ignore[list-item]
    context = crypto.X509StoreContext(store, ca.leaf)
    good = crypto.X509Store()
    good.add_cert(ca.root)
    context.set_store(good)
    with pytest.raises(crypto.X509StoreContextError, match="unable to get local issuer"):
        context.verify_certificate()
