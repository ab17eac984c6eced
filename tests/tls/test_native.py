"""tightbind.tls._native under stress: providers across threads, memory, random input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import rss
from helpers.budget import examples
from helpers.pki import PASSWORD, Pki
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tightbind import tls

HERE = Path(__file__).resolve().parent


def run_python(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run code in a fresh interpreter (so no provider is loaded yet)."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **(env or {})}, check=False)


def test_missing_legacy_provider_is_named(pki: Pki, tmp_path: Path) -> None:
    empty = tmp_path / "no-modules"
    empty.mkdir()
    code = f"""
from tightbind import tls
data = open({str(pki.files['aes.p12'])!r}, 'rb').read()
assert tls.load_pkcs12(data, {PASSWORD!r}).certificate is not None  # modern files still load
try:
    tls.load_pkcs12(open({str(pki.files['legacy.p12'])!r}, 'rb').read(), {PASSWORD!r})
except tls.LegacyProviderUnavailable as exc:
    assert isinstance(exc, tls.UnsupportedAlgorithm)
    print(exc)
else:
    raise SystemExit("legacy file loaded without the legacy provider")
"""
    result = run_python(code, {"OPENSSL_MODULES": str(empty)})
    assert result.returncode == 0, result.stderr
    assert "legacy provider" in result.stdout
    assert "not installed" in result.stdout
    assert str(empty) in result.stdout


def test_legacy_provider_loads_once_across_threads(pki: Pki) -> None:
    code = f"""
import threading
from tightbind import tls
data = open({str(pki.files['legacy.p12'])!r}, 'rb').read()
results, errors = [], []
barrier = threading.Barrier(8)
def work():
    barrier.wait()
    try:
        for _ in range(5):
            results.append(tls.load_pkcs12(data, {PASSWORD!r}).certificate.subject.CN)
    except Exception as exc:
        errors.append(repr(exc))
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join(60)
assert not errors, errors
assert results == ["localhost"] * 40, results
print("ok")
"""
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


@pytest.mark.slow
def test_memory_stays_flat(pki: Pki) -> None:
    aes = pki.files["aes.p12"].read_bytes()
    legacy = pki.files["legacy.p12"].read_bytes()
    bundle = pki.files["leaf_chain.pem"].read_bytes()

    def round_trip() -> None:
        p12 = tls.load_pkcs12(aes, PASSWORD)
        p12.certificate.to_dict()
        tls.dump_privatekey(tls.FILETYPE_PEM, p12.private_key)
        tls.load_pkcs12(legacy, PASSWORD).ca_certificates[0].to_dict()
        certs = tls.load_certificates(bundle)
        tls.verify_chain(certs[0], certs[1:], cafile=pki.files["root.pem"])
        for bad in (aes[:100], b"junk"):
            try:
                tls.load_pkcs12(bad, PASSWORD)
            except tls.NotPkcs12:
                pass
        try:
            tls.load_pkcs12(aes, "wrong")
        except tls.WrongPassword:
            pass

    for _ in range(100):
        round_trip()
    before = rss.current_kib()
    for _ in range(800):
        round_trip()
    growth = rss.current_kib() - before
    # Leaking one certificate (about 1.5 KiB with its OpenSSL structures) per round would
    # add more than 1 MiB here.
    print(f"RSS growth over 800 rounds: {growth} KiB")
    assert growth < 1024, f"RSS grew by {growth} KiB over 800 rounds"


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_random_bytes_never_crash(data: bytes) -> None:
    for call in (lambda: tls.load_pkcs12(data, "pw"),
                 lambda: tls.load_pkcs12(data, None, allow_missing_mac=True),
                 lambda: tls.load_certificate(tls.FILETYPE_ASN1, data),
                 lambda: tls.load_certificates(data),
                 lambda: tls.load_privatekey(tls.FILETYPE_ASN1, data),
                 lambda: tls.load_privatekey(tls.FILETYPE_PEM, data, "pw")):
        try:
            call()
        except tls.TlsError:
            pass


@settings(max_examples=examples(200), deadline=None)
@given(st.data())
def test_flipped_bytes_of_a_mac_less_file(pki: Pki, data: st.DataObject) -> None:
    original = pki.files["nomac.p12"].read_bytes()
    position = data.draw(st.integers(0, len(original) - 1))
    value = data.draw(st.integers(0, 255))
    mutated = original[:position] + bytes([value]) + original[position + 1:]
    try:
        p12 = tls.load_pkcs12(mutated, PASSWORD, allow_missing_mac=True)
    except tls.TlsError:
        return
    for cert in [c for c in [p12.certificate] if c] + list(p12.ca_certificates):
        try:
            cert.to_dict()
        except tls.TlsError:
            pass
