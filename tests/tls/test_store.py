"""tightbind.tls.TrustStore: trust from memory and locations, CRL checks (store-wide and
per call), flags, depth, time, host names, and the failure's certificate, depth and
reason, checked against ``openssl verify`` where it has an answer."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path

import pytest
from helpers.ca import Ca, make_ca, openssl_verify

from tightbind import tls
from tightbind.tls import (
    CaLocationError,
    CertificateVerifyError,
    HostnameMismatch,
    RevokedCertificate,
    TrustStore,
    VerifyFlags,
    build_crl,
)

UTC = dt.timezone.utc
WHEN = dt.datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)


@pytest.fixture(scope="module")
def ca() -> Ca:
    return make_ca()


def crls(ca: Ca, *, inter_revoked: bool = False, leaf_revoked: bool = False) -> list[tls.CRL]:
    return [build_crl(ca.root, ca.root_key,
                      [RevokedCertificate(0x2002, WHEN, "cACompromise")] if inter_revoked
                      else []),
            build_crl(ca.inter, ca.inter_key,
                      [RevokedCertificate(0x3003, WHEN, None)] if leaf_revoked else [])]


def test_verify_returns_the_chain(ca: Ca) -> None:
    chain = TrustStore([ca.root]).verify(ca.leaf, [ca.inter])
    assert [c.subject.CN for c in chain] == ["store test leaf", "store test intermediate",
                                             "store test root"]
    assert all(type(c) is tls.Certificate for c in chain)


@pytest.mark.parametrize("check", ["leaf", "all"])
@pytest.mark.parametrize("where", ["store", "call"])
def test_revoked_intermediate(ca: Ca, tmp_path: Path, check: str, where: str) -> None:
    lists = crls(ca, inter_revoked=True)
    if where == "store":
        store = TrustStore([ca.root], crls=lists, check_crls=check)
        run = lambda: store.verify(ca.leaf, [ca.inter])
    else:
        store = TrustStore([ca.root])
        run = lambda: store.verify(ca.leaf, [ca.inter], crls=lists, check_crls=check)
    files = {}
    for name, cert in (("root", ca.root), ("inter", ca.inter), ("leaf", ca.leaf)):
        files[name] = tmp_path / f"{name}.pem"
        files[name].write_text(cert.pem)
    files["crls"] = tmp_path / "crls.pem"
    files["crls"].write_text("".join(crl.pem for crl in lists))
    expected = openssl_verify(tmp_path, files["root"], files["inter"], files["crls"],
                              files["leaf"], check=check)
    if check == "leaf":
        assert expected == (0, -1)
        assert len(run()) == 3
        return
    assert expected == (23, 1)
    with pytest.raises(CertificateVerifyError) as info:
        run()
    exc = info.value
    assert (exc.verify_code, exc.depth) == expected
    assert exc.reason == "certificate revoked"
    assert str(exc) == "certificate verify failed: certificate revoked (at depth 1)"
    assert exc.certificate is not None and exc.certificate.subject.CN == "store test intermediate"
    assert [c.subject.CN for c in exc.chain] == ["store test leaf", "store test intermediate"]


def test_revoked_leaf_and_missing_crl(ca: Ca) -> None:
    store = TrustStore([ca.root], crls=crls(ca, leaf_revoked=True), check_crls="leaf")
    with pytest.raises(CertificateVerifyError) as info:
        store.verify(ca.leaf, [ca.inter])
    assert (info.value.verify_code, info.value.depth) == (23, 0)
    bare = TrustStore([ca.root], check_crls="all")
    with pytest.raises(CertificateVerifyError, match="unable to get certificate CRL"):
        bare.verify(ca.leaf, [ca.inter])
    assert len(bare.verify(ca.leaf, [ca.inter], crls=crls(ca))) == 3  # per-call CRLs


def test_flags_depth_and_time(ca: Ca) -> None:
    store = TrustStore([ca.inter])
    assert store.flags == VerifyFlags(0) and store.depth == -1
    with pytest.raises(CertificateVerifyError, match="unable to get issuer certificate"):
        store.verify(ca.leaf)
    store.flags |= VerifyFlags.PARTIAL_CHAIN
    assert [c.subject.CN for c in store.verify(ca.leaf)] == ["store test leaf",
                                                            "store test intermediate"]
    store.flags = VerifyFlags.CRL_CHECK
    assert store.flags == VerifyFlags.CRL_CHECK  # replaced, not or-ed
    store.flags = 0
    full = TrustStore([ca.root], depth=0)
    assert full.depth == 0
    with pytest.raises(CertificateVerifyError) as info:
        full.verify(ca.leaf, [ca.inter])
    assert info.value.reason == "certificate chain too long"
    full.depth = 5
    later = dt.datetime.now(UTC) + dt.timedelta(days=400)
    full.set_time(later)
    with pytest.raises(CertificateVerifyError, match="certificate has expired"):
        full.verify(ca.leaf, [ca.inter])
    full.set_time(None)
    assert len(full.verify(ca.leaf, [ca.inter])) == 3
    with pytest.raises(CertificateVerifyError, match="certificate has expired"):
        full.verify(ca.leaf, [ca.inter], at_time=later.timestamp())
    assert repr(full).startswith("<TrustStore certificates=1 crls=0")


@pytest.mark.parametrize("bad, error", [
    ({"flags": 1 << 40}, ValueError), ({"flags": "x"}, TypeError), ({"flags": True}, TypeError),
    ({"depth": -2}, ValueError), ({"depth": 1.5}, TypeError),
    ({"check_crls": "some"}, ValueError), ({"at_time": dt.datetime(2020, 1, 1)}, ValueError),
    ({"at_time": float("nan")}, ValueError), ({"at_time": "now"}, TypeError),
    ({"at_time": 1e300}, ValueError), ({"crls": [b"x"]}, TypeError),
    ({"certificates": [b"x"]}, TypeError),
])
def test_bad_arguments(bad: dict, error: type) -> None:
    with pytest.raises(error):
        TrustStore(**bad)


def test_verify_arguments(ca: Ca) -> None:
    store = TrustStore([ca.root])
    with pytest.raises(TypeError):
        store.verify(b"leaf")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        store.verify(ca.leaf, [ca.inter, "x"])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        store.verify(ca.leaf, crls=[object()])  # type: ignore[list-item]
    with pytest.raises(ValueError):
        store.verify(ca.leaf, check_crls="everything")
    with pytest.raises(ValueError, match="NUL"):
        store.verify(ca.leaf, [ca.inter], hostname="a\0b")
    with pytest.raises(TypeError):
        store.add_certificate(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        store.add_crl(None)  # type: ignore[arg-type]
    store.add_certificate(ca.root)  # twice: accepted


def test_hostname(ca: Ca) -> None:
    store = TrustStore([ca.root])
    with pytest.raises(HostnameMismatch) as info:
        store.verify(ca.leaf, [ca.inter], hostname="example.org")
    assert info.value.certificate is not None


def test_locations(ca: Ca, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.pem"
    bundle.write_text(ca.root.pem + crls(ca, inter_revoked=True)[0].pem)
    store = TrustStore(cafile=bundle, check_crls="leaf")
    with pytest.raises(CertificateVerifyError, match="certificate revoked"):
        store.verify(ca.inter)
    folder = tmp_path / "hashed"
    folder.mkdir()
    (folder / f"{ca.root.get_subject().hash():08x}.0").write_text(ca.root.pem)
    assert len(TrustStore(capath=os.fsencode(folder)).verify(ca.leaf, [ca.inter])) == 3
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CertificateVerifyError, match="unable to get local issuer"):
        TrustStore(capath=empty).verify(ca.inter)
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    with pytest.raises(CaLocationError):
        TrustStore(cafile=junk)
    with pytest.raises(ValueError, match="needs a cafile"):
        TrustStore().load_locations()
    with pytest.raises(ValueError, match="NUL"):
        TrustStore().load_locations(capath="x\0")


def test_matches_openssl_on_a_system_chain_failure(ca: Ca, tmp_path: Path) -> None:
    """A leaf verified without its intermediate: the same code and depth as openssl."""
    root = tmp_path / "root.pem"
    root.write_text(ca.root.pem)
    leaf = tmp_path / "leaf.pem"
    leaf.write_text(ca.leaf.pem)
    with pytest.raises(CertificateVerifyError) as info:
        TrustStore([ca.root]).verify(ca.leaf)
    assert (info.value.verify_code, info.value.depth) == openssl_verify(
        tmp_path, root, None, None, leaf, check=None)


def test_openssl_is_there() -> None:
    assert subprocess.run(["openssl", "version"], capture_output=True, timeout=30).returncode == 0
