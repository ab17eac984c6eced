"""`tightbind chain`: a server's chain as text and JSON, and the target parser."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys

import pytest
from helpers.aia import AiaPki
from helpers.pki import Pki, TlsServer
from helpers.revocation import StapleServer

from tightbind.commands.chain import parse_target


@pytest.mark.parametrize("target,expected", [
    ("example.org", ("example.org", 443)),
    ("example.org:8443", ("example.org", 8443)),
    ("[::1]:8443", ("::1", 8443)),
    ("[::1]", ("::1", 443)),
    ("::1", ("::1", 443)),
])
def test_parse_target(target: str, expected: tuple[str, int], run_cli) -> None:
    assert parse_target(target) == expected


@pytest.mark.parametrize("target", ["", "host:0", "host:99999", "host:http", "[]:1"])
def test_parse_target_errors(target: str, run_cli) -> None:
    with pytest.raises(ValueError):
        parse_target(target)


def test_chain_json_trusted_and_text_untrusted(pki: Pki, run_cli) -> None:
    with TlsServer(pki.files["leaf_chain.pem"], pki.files["leaf.key"]) as server:
        target = f"127.0.0.1:{server.port}"
        good = run_cli("chain", target, "--servername", "localhost", "--cafile",
                         str(pki.files["root.pem"]), "--json")
        bad = run_cli("chain", target, "--servername", "wrong.example", "--cafile",
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


def test_chain_errors(run_cli) -> None:
    result = run_cli("chain", "127.0.0.1:1", "--timeout", "5")
    assert result.returncode == 2
    assert "refused" in result.stderr
    assert run_cli("chain", "host:notaport").returncode == 2


def test_closed_pipe_ends_quietly(pki: Pki, rsa_server: TlsServer) -> None:
    # The reader is gone before tightbind writes: the write fails with EPIPE.
    command = (f"{shlex.quote(sys.executable)} -m tightbind chain 127.0.0.1:{rsa_server.port} "
               f"--servername localhost --cafile {shlex.quote(str(pki.files['root.pem']))} "
               "--json | true; echo \"status=${PIPESTATUS[0]}\"")
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.stdout.strip() == "status=141"
    assert result.stderr == ""


def test_check_clean_incomplete_and_fail_on(aia_pki: AiaPki, run_cli) -> None:
    root = str(aia_pki.pki.files["root.pem"])
    with TlsServer(aia_pki.chains["clean"], aia_pki.keys["clean"]) as server:
        clean = run_cli("chain", "--check", f"127.0.0.1:{server.port}", "--servername",
                        "localhost", "--cafile", root)
    assert clean.returncode == 0, clean.stderr
    assert "findings: none (revocation not checked)" in clean.stdout
    with TlsServer(aia_pki.chains["incomplete"], aia_pki.keys["incomplete"]) as server:
        target = f"127.0.0.1:{server.port}"
        text = run_cli("chain", "--check", target, "--servername", "localhost", "--cafile",
                       root)
        data = run_cli("chain", "--check", target, "--servername", "localhost", "--cafile",
                       root, "--json")
    url = aia_pki.server.url("/inter.der")
    assert text.returncode == 1, text.stderr
    assert "ERROR   incomplete-chain: [0] /O=tightbind doctor/CN=good.doctor.test: " \
           "incomplete: the server does not send the issuer" in text.stdout
    assert f"/O=tightbind doctor/CN=Doctor Intermediate CA  (fetched from {url})" in text.stdout
    report = json.loads(data.stdout)
    assert data.returncode == 1
    assert [f["code"] for f in report["findings"]] == ["incomplete-chain"]
    assert report["fetched"][0]["url"] == url and report["trusted"] is True


@pytest.mark.parametrize("fail_on,status", [("error", 0), ("warning", 1), ("info", 1)])
def test_check_fail_on(aia_pki: AiaPki, run_cli, fail_on: str, status: int) -> None:
    with TlsServer(aia_pki.chains["duplicated"], aia_pki.keys["duplicated"]) as server:
        result = run_cli("chain", "--check", f"127.0.0.1:{server.port}", "--servername",
                         "localhost", "--cafile", str(aia_pki.pki.files["root.pem"]),
                         "--fail-on", fail_on)
    assert result.returncode == status, result.stderr
    assert "WARNING duplicate-certificate: [2]" in result.stdout


def test_check_cannot_connect(run_cli) -> None:
    result = run_cli("chain", "--check", "127.0.0.1:1", "--timeout", "5")
    assert result.returncode == 2
    assert "refused" in result.stderr


def test_check_revoked_leaf(aia_pki: AiaPki, run_cli) -> None:
    root = str(aia_pki.pki.files["root.pem"])
    with StapleServer(aia_pki.pki, "rev_revoked", aia_pki.staples["revoked"]) as server:
        text = run_cli("chain", "--check", f"127.0.0.1:{server.port}", "--servername",
                       "localhost", "--cafile", root)
    assert text.returncode == 1, text.stderr
    assert "ERROR   revoked: [0] /O=tightbind doctor/CN=revoked.doctor.test: revoked on " \
        in text.stdout
    assert "UTC (reason: keyCompromise), according to the stapled OCSP response" in text.stdout
    assert "REVOKED (keyCompromise) on " in text.stdout and "revocation:" in text.stdout
    with TlsServer(aia_pki.chains["rev_revoked"], aia_pki.keys["rev_revoked"]) as server:
        data = run_cli("chain", "--check", f"127.0.0.1:{server.port}", "--servername",
                       "localhost", "--cafile", root, "--ocsp", "--crl", "--json")
    report = json.loads(data.stdout)
    assert data.returncode == 1, data.stderr
    assert [f["code"] for f in report["findings"]] == ["revoked", "revoked"]
    assert [(r["kind"], r["status"], r["reason"]) for r in report["revocation"]] == [
        ("ocsp", "revoked", "keyCompromise"), ("crl", "revoked", "keyCompromise")]
    assert report["revocation_checked"] is True


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "1e300", "abc", "99999999999"])
def test_nonsense_timeouts_are_refused_with_a_sentence(run_cli, value: str) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("chain", "127.0.0.1:1", "--timeout", value)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "--timeout" in result.stderr and ("timeout" in result.stderr.split("--timeout")[1]
                                             or "seconds" in result.stderr)


def test_json_of_a_certificate_with_a_huge_serial(pki: Pki, run_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tightbind.tls import crypto

    key = crypto.load_privatekey(crypto.FILETYPE_PEM, pki.files["leaf.key"].read_bytes())
    cert = crypto.X509()
    cert.set_version(2)
    cert.set_serial_number(2**1200 + 7)  # 151 octets: OpenSSL's hex wraps every 35
    cert.get_subject().CN = "localhost"
    cert.set_issuer(cert.get_subject())
    cert.gmtime_adj_notBefore(0)
    cert.gmtime_adj_notAfter(3600)
    cert.set_pubkey(key)
    cert.sign(key, "sha256")
    (tmp_path / "cert.pem").write_bytes(crypto.dump_certificate(crypto.FILETYPE_PEM, cert))
    with TlsServer(tmp_path / "cert.pem", pki.files["leaf.key"]) as server:
        result = run_cli("chain", f"127.0.0.1:{server.port}", "--servername", "localhost",
                         "--json", "--timeout", "10")
    assert "Traceback" not in result.stderr and result.returncode == 1  # not trusted
    report = json.loads(result.stdout)
    assert report["unverified"][0]["serial_number"] == f"{2**1200 + 7:X}"
    assert report["unverified"][0]["decoded"]["serialNumber"] == f"{2**1200 + 7:X}".rjust(302, "0")
