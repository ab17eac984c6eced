"""``python -m tightbind chain`` and ``python -m tightbind p12``, run as the user would."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from _tls_pki import PASSWORD, Pki, TlsServer

from tightbind.commands.chain import parse_target


def tightbind(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k != "TIGHTBIND_P12_PASSWORD"}
    return subprocess.run([sys.executable, "-m", "tightbind", *args], capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL,
                          env={**clean, **(env or {})}, check=False)


@pytest.mark.parametrize("target,expected", [
    ("example.org", ("example.org", 443)),
    ("example.org:8443", ("example.org", 8443)),
    ("[::1]:8443", ("::1", 8443)),
    ("[::1]", ("::1", 443)),
    ("::1", ("::1", 443)),
])
def test_parse_target(target: str, expected: tuple[str, int]) -> None:
    assert parse_target(target) == expected


@pytest.mark.parametrize("target", ["", "host:0", "host:99999", "host:http", "[]:1"])
def test_parse_target_errors(target: str) -> None:
    with pytest.raises(ValueError):
        parse_target(target)


def test_chain_json_trusted_and_text_untrusted(pki: Pki) -> None:
    with TlsServer(pki.files["leaf_chain.pem"], pki.files["leaf.key"]) as server:
        target = f"127.0.0.1:{server.port}"
        good = tightbind("chain", target, "--servername", "localhost", "--cafile",
                         str(pki.files["root.pem"]), "--json")
        bad = tightbind("chain", target, "--servername", "wrong.example", "--cafile",
                        str(pki.files["root.pem"]))
    assert good.returncode == 0, good.stderr
    report = json.loads(good.stdout)
    assert report["verified"] is True and report["verify_error"] is None
    assert [c["subject"] for c in report["verified_chain"]][1:] == [
        "/C=NZ/O=tightbind tests/CN=Test Intermediate CA",
        "/C=NZ/O=tightbind tests/CN=Test Root CA"]
    assert report["unverified"][1]["pem"] == pki.files["inter.pem"].read_text()
    assert ["DNS", "localhost"] in report["unverified"][0]["subject_alt_names"]
    assert report["protocol"] == "TLSv1.3"
    assert bad.returncode == 1
    assert "verify: FAILED: hostname mismatch" in bad.stdout
    assert bad.stdout.count("-----BEGIN CERTIFICATE-----") == 2


def test_chain_errors() -> None:
    result = tightbind("chain", "127.0.0.1:1", "--timeout", "5")
    assert result.returncode == 2
    assert "refused" in result.stderr
    assert tightbind("chain", "host:notaport").returncode == 2


def test_p12_writes_what_openssl_prints(pki: Pki, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = tightbind("p12", str(pki.files["aes.p12"]), "--out", str(out),
                       env={"TIGHTBIND_P12_PASSWORD": PASSWORD})
    assert result.returncode == 0, result.stderr
    assert "friendly name: leaf friendly" in result.stdout
    assert "private key: RSA 2048 bits" in result.stdout
    assert (out / "cert.pem").read_bytes() == pki.files["leaf.pem"].read_bytes()
    assert (out / "ca.pem").read_bytes() == pki.files["cas.pem"].read_bytes()
    assert (out / "key.pem").read_bytes() == pki.openssl("pkey", "-in", "leaf.key")
    assert stat.S_IMODE((out / "key.pem").stat().st_mode) == 0o600
    again = tightbind("p12", str(pki.files["aes.p12"]), "--out", str(out),
                      env={"TIGHTBIND_P12_PASSWORD": PASSWORD})
    assert again.returncode == 2 and "--force" in again.stderr


def test_p12_password_from_named_variable_and_empty(pki: Pki, tmp_path: Path) -> None:
    named = tightbind("p12", str(pki.files["legacy.p12"]), "--env-var", "MY_PW",
                      env={"MY_PW": PASSWORD})
    assert named.returncode == 0, named.stderr
    assert "legacy leaf" in named.stdout
    empty = tightbind("p12", str(pki.files["empty.p12"]))  # no variable, no terminal
    assert empty.returncode == 0, empty.stderr
    assert "private key: EC 256 bits" in empty.stdout


def test_p12_errors(pki: Pki, tmp_path: Path) -> None:
    wrong = tightbind("p12", str(pki.files["aes.p12"]), env={"TIGHTBIND_P12_PASSWORD": "no"})
    assert wrong.returncode == 2 and "password" in wrong.stderr
    assert "TIGHTBIND_P12_PASSWORD" in wrong.stderr
    not_p12 = tightbind("p12", str(pki.files["leaf.pem"]))
    assert not_p12.returncode == 2 and "not a PKCS#12" in not_p12.stderr
    missing = tightbind("p12", str(tmp_path / "nope.p12"))
    assert missing.returncode == 2 and "No such file" in missing.stderr
    nomac = tightbind("p12", str(pki.files["nomac.p12"]), env={"TIGHTBIND_P12_PASSWORD": PASSWORD})
    assert nomac.returncode == 2 and "--allow-missing-mac" not in nomac.stdout
    assert "MAC" in nomac.stderr
    allowed = tightbind("p12", str(pki.files["nomac.p12"]), "--allow-missing-mac",
                        env={"TIGHTBIND_P12_PASSWORD": PASSWORD})
    assert allowed.returncode == 0 and "integrity MAC absent" in allowed.stdout


def test_p12_refuses_a_password_on_the_command_line(pki: Pki) -> None:
    result = tightbind("p12", str(pki.files["aes.p12"]), "--password", PASSWORD)
    assert result.returncode == 2
    assert "unrecognized arguments" in result.stderr
