"""`tightbind p12`: PKCS#12 files split into PEM the way `openssl pkcs12` does."""

from __future__ import annotations

import stat
from pathlib import Path

from helpers.pki import PASSWORD, Pki


def test_p12_writes_what_openssl_prints(pki: Pki, tmp_path: Path, run_cli) -> None:
    out = tmp_path / "out"
    result = run_cli("p12", str(pki.files["aes.p12"]), "--out", str(out),
                       env={"TIGHTBIND_P12_PASSWORD": PASSWORD})
    assert result.returncode == 0, result.stderr
    assert "friendly name: leaf friendly" in result.stdout
    assert "private key: RSA 2048 bits" in result.stdout
    assert (out / "cert.pem").read_bytes() == pki.files["leaf.pem"].read_bytes()
    assert (out / "ca.pem").read_bytes() == pki.files["cas.pem"].read_bytes()
    assert (out / "key.pem").read_bytes() == pki.openssl("pkey", "-in", "leaf.key")
    assert stat.S_IMODE((out / "key.pem").stat().st_mode) == 0o600
    again = run_cli("p12", str(pki.files["aes.p12"]), "--out", str(out),
                      env={"TIGHTBIND_P12_PASSWORD": PASSWORD})
    assert again.returncode == 2 and "--force" in again.stderr


def test_p12_password_from_named_variable_and_empty(pki: Pki, tmp_path: Path, run_cli) -> None:
    named = run_cli("p12", str(pki.files["legacy.p12"]), "--env-var", "MY_PW",
                      env={"MY_PW": PASSWORD})
    assert named.returncode == 0, named.stderr
    assert "legacy leaf" in named.stdout
    empty = run_cli("p12", str(pki.files["empty.p12"]))  # no variable, no terminal
    assert empty.returncode == 0, empty.stderr
    assert "private key: EC 256 bits" in empty.stdout


def test_p12_errors(pki: Pki, tmp_path: Path, run_cli) -> None:
    wrong = run_cli("p12", str(pki.files["aes.p12"]), env={"TIGHTBIND_P12_PASSWORD": "no"})
    assert wrong.returncode == 2 and "password" in wrong.stderr
    assert "TIGHTBIND_P12_PASSWORD" in wrong.stderr
    not_p12 = run_cli("p12", str(pki.files["leaf.pem"]))
    assert not_p12.returncode == 2 and "not a PKCS#12" in not_p12.stderr
    missing = run_cli("p12", str(tmp_path / "nope.p12"))
    assert missing.returncode == 2 and "No such file" in missing.stderr
    nomac = run_cli("p12", str(pki.files["nomac.p12"]), env={"TIGHTBIND_P12_PASSWORD": PASSWORD})
    assert nomac.returncode == 2 and "--allow-missing-mac" not in nomac.stdout
    assert "MAC" in nomac.stderr
    allowed = run_cli("p12", str(pki.files["nomac.p12"]), "--allow-missing-mac",
                        env={"TIGHTBIND_P12_PASSWORD": PASSWORD})
    assert allowed.returncode == 0 and "integrity MAC absent" in allowed.stdout


def test_p12_refuses_a_password_on_the_command_line(pki: Pki, run_cli) -> None:
    result = run_cli("p12", str(pki.files["aes.p12"]), "--password", PASSWORD)
    assert result.returncode == 2
    assert "unrecognized arguments" in result.stderr
