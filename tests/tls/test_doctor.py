"""tightbind.tls.doctor: every finding from a loopback server that causes it; a clean
chain has none.  The caIssuers server is ``helpers.aia``; fetches that could hang run in
a child under a hard limit."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import time

import pytest
from helpers.aia import AiaPki
from helpers.limits import run_limited
from helpers.pki import TlsServer
from helpers.revocation import StapleServer

from tightbind import tls
from tightbind.tls import doctor
from tightbind.tls._http import FetchError, http_fetch


def diagnose(aia_pki: AiaPki, chain: str, *, servername: str = "localhost",
             ciphers: str | None = None, **kwargs) -> tls.ChainReport:  # type: ignore[no-untyped-def]
    with TlsServer(aia_pki.chains[chain], aia_pki.keys[chain], ciphers=ciphers) as server:
        return tls.diagnose("127.0.0.1", server.port, servername=servername,
                            cafile=aia_pki.pki.files["root.pem"], timeout=10, **kwargs)


def codes(report: tls.ChainReport) -> list[str]:
    return [f.code for f in report.findings]


def test_clean_chain_has_no_findings(aia_pki: AiaPki) -> None:
    report = diagnose(aia_pki, "clean")
    assert report.findings == () and report.clean and report.worst() is None
    assert not report.fails("info")
    assert [c.subject.CN for c in report.path] == [
        "good.doctor.test", "Doctor Intermediate CA", "Doctor Root CA"]
    assert report.anchor is not None and report.anchor.subject.CN == "Doctor Root CA"
    assert report.fetched == ()
    assert "findings: none (revocation not checked)" in report.format()
    assert json.loads(json.dumps(report.to_dict()))["trusted"] is True


@pytest.mark.parametrize("chain,path", [("incomplete", "/inter.der"),
                                        ("incomplete_p7c", "/inter.p7c"),
                                        ("incomplete_keep_open", "/keep-open")])
def test_incomplete_chain_completed_from_aia(aia_pki: AiaPki, chain: str, path: str) -> None:
    report = diagnose(aia_pki, chain)
    url = aia_pki.server.url(path)
    assert codes(report) == ["incomplete-chain"]
    finding = report.findings[0]
    assert finding.severity == "error" and finding.index == 0
    assert f"completed from {url}" in finding.message
    assert [c.subject.CN for c in report.path][1:] == ["Doctor Intermediate CA",
                                                       "Doctor Root CA"]
    assert [(u, c.subject.CN) for u, c in report.fetched] == [(url, "Doctor Intermediate CA")]
    assert f"(fetched from {url})" in report.format()
    assert report.fails("error")


def test_incomplete_chain_not_fetched_when_told(aia_pki: AiaPki) -> None:
    before = len(aia_pki.server.requests)
    report = diagnose(aia_pki, "incomplete", fetch_missing=False)
    assert codes(report) == ["incomplete-chain"]
    assert "fetching is off" in report.findings[0].message
    assert report.path == () and len(aia_pki.server.requests) == before


def test_incomplete_chain_without_aia(aia_pki: AiaPki) -> None:
    report = diagnose(aia_pki, "incomplete_no_aia")
    assert codes(report) == ["incomplete-chain"]
    assert "names no caIssuers URL" in report.findings[0].message


@pytest.mark.parametrize("chain,reason", [
    ("incomplete_garbage", "neither a DER certificate nor PKCS#7 nor PEM"),
    ("incomplete_wrong", "sent no certificate that issued"),
    ("incomplete_404", "answered HTTP 404"),
])
def test_aia_bad_answers_are_findings(aia_pki: AiaPki, chain: str, reason: str) -> None:
    report = diagnose(aia_pki, chain)
    assert codes(report) == ["incomplete-chain", "aia-fetch-failed"]
    assert reason in report.findings[1].message
    assert report.path == () and report.fetched == ()


# A stalling or flooding caIssuers server: the diagnosis runs in a child under a hard
# wall-clock and memory limit, so a hang or a buffered 50 MB fails this test only.
_CHILD = """
import json
from tightbind import tls
report = tls.diagnose("127.0.0.1", {port}, servername="localhost", cafile={cafile!r},
                      timeout={timeout})
print(json.dumps(report.to_dict()))
"""


@pytest.mark.parametrize("chain,timeout,reason", [
    ("incomplete_stall", 1.5, "timed out"),
    ("incomplete_huge", 10, f"sent more than {tls.doctor.MAX_AIA_BYTES} bytes"),
])
def test_aia_stall_and_flood_are_findings(aia_pki: AiaPki, chain: str, timeout: float,
                                          reason: str) -> None:
    with TlsServer(aia_pki.chains[chain], aia_pki.keys[chain]) as server:
        result = run_limited(_CHILD.format(port=server.port, timeout=timeout,
                                           cafile=str(aia_pki.pki.files["root.pem"])),
                             seconds=30, memory_mib=1024)
    assert result.returncode == 0 and not result.timed_out, result.stderr
    report = json.loads(result.stdout)
    assert [f["code"] for f in report["findings"]] == ["incomplete-chain", "aia-fetch-failed"]
    assert reason in report["findings"][1]["message"]
    assert result.peak_mib < 200  # 50 MB was never held


@pytest.mark.parametrize("chain,expected", [
    ("reordered", [("warning", "out-of-order", None), ("info", "root-sent", 1)]),
    ("duplicated", [("warning", "duplicate-certificate", 2)]),
    ("root_included", [("info", "root-sent", 2)]),
    ("unused", [("warning", "unused-certificate", 2)]),
])
def test_order_findings(aia_pki: AiaPki, chain: str,
                        expected: list[tuple[str, str, int | None]]) -> None:
    report = diagnose(aia_pki, chain)
    assert [(f.severity, f.code, f.index) for f in report.findings] == expected
    assert report.anchor is not None and report.anchor.subject.CN == "Doctor Root CA"
    assert not report.fails("error")


def test_order_positions_in_message(aia_pki: AiaPki) -> None:
    report = diagnose(aia_pki, "reordered")
    assert "positions 0, 2, 1" in report.findings[0].message


@pytest.mark.parametrize("chain,code,severity,text", [
    ("expired", "expired", "error", "expired on"),
    ("not_yet_valid", "not-yet-valid", "error", "not valid before"),
    ("expiring", "expiring-soon", "warning", "in 9 days"),
])
def test_validity_findings(aia_pki: AiaPki, chain: str, code: str, severity: str,
                           text: str) -> None:
    report = diagnose(aia_pki, chain)
    assert [(f.code, f.severity, f.index) for f in report.findings] == [(code, severity, 0)]
    assert text in report.findings[0].message
    # The dates are findings of their own: the chain is still traced to its root.
    assert report.anchor is not None and report.anchor.subject.CN == "Doctor Root CA"


def test_expiry_days_and_at_time(aia_pki: AiaPki) -> None:
    assert diagnose(aia_pki, "expiring", expiry_days=5).findings == ()
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=20)
    assert codes(diagnose(aia_pki, "expiring", at_time=later)) == ["expired"]


def test_weak_signature(aia_pki: AiaPki) -> None:
    report = diagnose(aia_pki, "sha1", ciphers="DEFAULT:@SECLEVEL=0")
    assert [(f.code, f.index) for f in report.findings] == [("weak-signature", 0)]
    assert "sha1WithRSAEncryption" in report.findings[0].message or \
        "ecdsa-with-SHA1" in report.findings[0].message


def test_weak_key(aia_pki: AiaPki) -> None:
    report = diagnose(aia_pki, "rsa1024", ciphers="DEFAULT:@SECLEVEL=0")
    assert [(f.code, f.index) for f in report.findings] == [("weak-key", 0)]
    assert "1024 bits" in report.findings[0].message


def test_hostname_mismatch_says_which_names(aia_pki: AiaPki) -> None:
    report = diagnose(aia_pki, "clean", servername="wrong.example")
    assert [(f.code, f.index) for f in report.findings] == [("hostname-mismatch", 0)]
    assert report.findings[0].message == (
        "not valid for 'wrong.example': it holds DNS:localhost, IP Address:127.0.0.1")
    assert codes(diagnose(aia_pki, "clean", servername="127.0.0.1")) == []


def test_untrusted_root(aia_pki: AiaPki) -> None:
    with TlsServer(aia_pki.chains["root_included"], aia_pki.keys["root_included"]) as server:
        report = tls.diagnose("127.0.0.1", server.port, servername="localhost",
                              cafile=aia_pki.pki.files["other.pem"])
    assert [(f.code, f.index) for f in report.findings] == [("untrusted", None),
                                                            ("root-sent", 2)]
    assert "self-signed certificate in certificate chain" in report.findings[0].message
    assert report.path == () and report.anchor is None
    assert "trusted path: none found" in report.format()


def test_bad_arguments_and_no_server(aia_pki: AiaPki) -> None:
    with pytest.raises(ValueError):
        tls.diagnose("127.0.0.1", 1, expiry_days=-1)
    with pytest.raises(ValueError):
        tls.diagnose("127.0.0.1", 1, at_time=dt.datetime(2030, 1, 1))
    with pytest.raises(tls.TlsConnectError):
        tls.diagnose("127.0.0.1", 1, timeout=5)
    with pytest.raises(ValueError):
        tls.ChainReport("h", 1, "h", "", "", (), (), None, ()).fails("fatal")


# The caIssuers fetch and parse, one failure at a time.
@pytest.mark.parametrize("url,reason", [
    ("ftp://127.0.0.1/x.der", "only http:// and https:// URLs with a host are fetched"),
    ("http:///x.der", "only http:// and https:// URLs with a host are fetched"),
    ("https://127.0.0.1:1/x.der", "cannot fetch"),
    ("http://127.0.0.1:99999/x.der", "is not a usable URL .Port out of range"),
    ("http://127.0.0.1:1/x.der", "cannot fetch"),
])
def test_fetch_refuses(url: str, reason: str) -> None:
    with pytest.raises(FetchError, match=reason):
        http_fetch(url, time.monotonic() + 5, doctor.MAX_AIA_BYTES)


def answer_once(reply: bytes) -> tuple[socket.socket, threading.Thread]:
    """A loopback listener that reads one request, sends ``reply`` and closes."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(10)
            conn.recv(65536)
            conn.sendall(reply)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener, thread


@pytest.mark.parametrize("reply,reason", [
    (b"HTTP/1.0 400 Bad Request\r\n\r\nno", "answered HTTP 400"),
    (b"SSH-2.0-OpenSSH\r\n\r\n", "did not answer in HTTP"),
    (b"HTTP/1.0 200 OK\r\n", "did not answer in HTTP"),
])
def test_fetch_answers_that_are_not_a_body(reply: bytes, reason: str) -> None:
    listener, thread = answer_once(reply)
    try:
        with pytest.raises(FetchError, match=reason):
            http_fetch(f"http://127.0.0.1:{listener.getsockname()[1]}/",
                             time.monotonic() + 5, doctor.MAX_AIA_BYTES)
    finally:
        thread.join(10)
        listener.close()


def test_fetch_limits(aia_pki: AiaPki) -> None:
    started = time.monotonic()
    with pytest.raises(FetchError, match="announces 52428800 bytes, more than"):
        http_fetch(aia_pki.server.url("/announced-huge"), started + 15,
                         doctor.MAX_AIA_BYTES)
    with pytest.raises(FetchError, match="bytes of headers"):
        http_fetch(aia_pki.server.url("/headers"), time.monotonic() + 5,
                         doctor.MAX_AIA_BYTES)
    with TlsServer(mode="silent") as server, \
            pytest.raises(FetchError, match="timed out"):
        http_fetch(f"http://127.0.0.1:{server.port}/", time.monotonic() + 1,
                         doctor.MAX_AIA_BYTES)
    with pytest.raises(FetchError, match="timed out"):
        http_fetch(aia_pki.server.url("/inter.der"), time.monotonic() - 1,
                         doctor.MAX_AIA_BYTES)


def test_parse_issuers_formats(aia_pki: AiaPki) -> None:
    pki = aia_pki.pki
    both = pki.files["inter.pem"].read_bytes() + pki.files["root.pem"].read_bytes()
    names = ["Doctor Intermediate CA", "Doctor Root CA"]
    assert [c.subject.CN for c in doctor._parse_issuers(both, "u")] == names
    pki.write("both.pem", both)
    p7 = pki.openssl("crl2pkcs7", "-nocrl", "-certfile", "both.pem", "-outform", "DER")
    assert [c.subject.CN for c in doctor._parse_issuers(p7, "u")] == names
    empty_p7 = pki.openssl("crl2pkcs7", "-nocrl", "-outform", "DER")
    for bad in (empty_p7, b"", b"-----BEGIN CERTIFICATE-----\nnot base64\n"):
        with pytest.raises(FetchError):
            doctor._parse_issuers(bad, "u")


def test_host_names_without_sans(aia_pki: AiaPki) -> None:
    inter = tls.load_certificate(tls.FILETYPE_PEM, aia_pki.pki.files["inter.pem"].read_bytes())
    assert doctor._host_names(inter) == (
        "no DNS or IP names (subject CN 'Doctor Intermediate CA', which clients ignore)")
    assert not doctor._matches_host(inter, "a\0b")


# --- revocation: stapled OCSP through `openssl s_server -status_file`, a live responder
# (`openssl ocsp -reqin` behind the loopback server), CRLs from `openssl ca -gencrl`.
HOUR = dt.timedelta(hours=1)


def stapled(aia_pki: AiaPki, chain: str, staple: str, **kwargs) -> tls.ChainReport:  # type: ignore[no-untyped-def]
    with StapleServer(aia_pki.pki, chain, aia_pki.staples[staple]) as server:
        return tls.diagnose("127.0.0.1", server.port, servername="localhost",
                            cafile=aia_pki.pki.files["root.pem"], timeout=10, **kwargs)


@pytest.mark.parametrize("chain,staple,shift,expected,text", [
    ("rev_good", "good", None, [], None),
    ("rev_must_staple", "must_staple", None, [], None),
    ("rev_good", "delegated", None, [], None),
    ("rev_revoked", "revoked", None, [("error", "revoked")], "(reason: keyCompromise)"),
    ("rev_unknown", "unknown", None, [("warning", "ocsp-unknown")], "status is unknown"),
    ("rev_good", "short", HOUR, [("error", "ocsp-stale")], "is stale: its nextUpdate was"),
    ("rev_good", "short", -HOUR, [("error", "ocsp-not-yet-valid")], "its thisUpdate is"),
    ("rev_good", "badsig", None, [("error", "ocsp-bad-signature")],
     "its signature does not verify"),
    ("rev_good", "stranger", None, [("error", "ocsp-bad-signature")],
     "signed by /O=tightbind doctor/CN=Unrelated Root CA, which is neither the issuer"),
    ("rev_good", "stranger_nocerts", None, [("error", "ocsp-bad-signature")],
     "is in neither the response nor the chain"),
    ("rev_revoked", "good", None, [("error", "ocsp-no-answer")], "1 other certificate"),
])
def test_stapled_ocsp(aia_pki: AiaPki, chain: str, staple: str, shift: dt.timedelta | None,
                      expected: list[tuple[str, str]], text: str | None) -> None:
    at_time = None if shift is None else dt.datetime.now(dt.timezone.utc) + shift
    report = stapled(aia_pki, chain, staple, at_time=at_time)
    assert [(f.severity, f.code) for f in report.findings] == expected
    assert all(f.index == 0 for f in report.findings)
    if text is not None:
        assert text in report.findings[0].message
    assert report.revocation_checked and "revocation not checked" not in report.format()
    [check] = report.revocation
    assert check.source == "stapled OCSP response" and check.index == 0
    assert check.status.kind == "ocsp"
    if not expected:
        assert check.status.status == "good" and check.status.signature == "ok"
        assert check.status.this_update is not None and check.status.next_update is not None
        assert check.status.next_update - check.status.this_update == dt.timedelta(days=7)
        assert check.status.delegated == (staple == "delegated")
        assert check.status.signer.endswith(
            "CN=Doctor OCSP Responder" if staple == "delegated" else "CN=Doctor Intermediate CA")
        assert "GOOD: stapled OCSP response, signed by" in report.format()


def test_stapled_revoked_says_reason_and_time(aia_pki: AiaPki) -> None:
    report = stapled(aia_pki, "rev_revoked", "revoked")
    status = report.revocation[0].status
    assert status.status == "revoked" and status.reason == "keyCompromise"
    assert status.revocation_time is not None
    assert abs(status.revocation_time - (dt.datetime.now(dt.timezone.utc) - 3 * HOUR)) < HOUR
    when = f"{status.revocation_time:%Y-%m-%d %H:%M} UTC"
    assert report.findings[0].message.startswith(f"revoked on {when} (reason: keyCompromise)")
    data = json.loads(json.dumps(report.to_dict()))
    assert data["revocation_checked"] is True
    assert data["revocation"][0]["status"] == "revoked"
    assert data["revocation"][0]["reason"] == "keyCompromise"
    assert data["findings"][0]["code"] == "revoked"


def test_must_staple_without_staple(aia_pki: AiaPki) -> None:
    report = diagnose(aia_pki, "rev_must_staple")
    assert [(f.severity, f.code, f.index) for f in report.findings] == [
        ("error", "must-staple-missing", 0)]
    assert not report.revocation_checked and report.revocation == ()


def test_revocation_not_fetched_unless_asked(aia_pki: AiaPki) -> None:
    before = len(aia_pki.server.requests)
    report = diagnose(aia_pki, "rev_revoked")
    assert report.findings == () and not report.revocation_checked
    assert "findings: none (revocation not checked)" in report.format()
    assert len(aia_pki.server.requests) == before


@pytest.mark.parametrize("chain,flags,expected", [
    ("rev_good", ("ocsp", "crl"), []),
    ("rev_good", ("crl", "an_hour_ago"), [("error", "crl-not-yet-valid")]),
    ("rev_revoked", ("ocsp", "crl"), [("error", "revoked"), ("error", "revoked")]),
    ("rev_unknown", ("ocsp", "crl"), [("warning", "ocsp-unknown")]),
    ("rev_crl_expired", ("crl",), [("error", "crl-stale")]),
    ("rev_crl_badsig", ("crl",), [("error", "crl-bad-signature")]),
    ("rev_garbage", ("ocsp", "crl"), [("error", "ocsp-invalid"), ("error", "crl-invalid")]),
    ("rev_refused", ("ocsp",), [("warning", "ocsp-refused")]),
    ("clean", ("ocsp", "crl"), [("info", "no-ocsp-url"), ("info", "no-crl-url")]),
    ("rev_inter_revoked", ("ocsp",), [("error", "revoked"), ("info", "no-ocsp-url")]),
])
def test_live_ocsp_and_crl(aia_pki: AiaPki, chain: str, flags: tuple[str, ...],
                           expected: list[tuple[str, str]]) -> None:
    kwargs: dict[str, object] = {flag: True for flag in flags if flag in ("ocsp", "crl")}
    if "an_hour_ago" in flags:
        kwargs["at_time"] = dt.datetime.now(dt.timezone.utc) - HOUR
    report = diagnose(aia_pki, chain, **kwargs)
    assert [(f.severity, f.code) for f in report.findings] == expected
    assert report.revocation_checked
    if chain == "rev_inter_revoked":  # the intermediate, asked at the root's responder
        assert [f.index for f in report.findings] == [1, 0]
        assert "(reason: cACompromise)" in report.findings[0].message
        assert "/ocsp-root" in report.findings[0].message
        return
    assert all(f.index == 0 for f in report.findings)
    sources = [r.source.split(" ", 1)[0] for r in report.revocation]
    if chain in ("rev_good", "rev_revoked", "rev_unknown") and "ocsp" in flags:
        assert sources == ["OCSP", "CRL"]
        ocsp, crl = (r.status for r in report.revocation)
        assert crl.kind == "crl" and crl.signature == "ok" and ocsp.signature == "ok"
        assert crl.signer.endswith("CN=Doctor Intermediate CA")
    if chain == "rev_revoked":
        for finding in report.findings:
            assert "(reason: keyCompromise)" in finding.message
        assert "/crl/inter.pem" in report.findings[1].message  # the PEM CRL
        assert report.revocation[1].status.entries == 1


def test_live_ocsp_sends_a_real_request(aia_pki: AiaPki) -> None:
    before = aia_pki.server.requests.count("/ocsp")
    report = diagnose(aia_pki, "rev_good", ocsp=True)
    assert report.findings == ()
    assert aia_pki.server.requests.count("/ocsp") == before + 1
    assert report.revocation[0].status.status == "good"


_REVOCATION_CHILD = """
import json
from tightbind import tls
report = tls.diagnose("127.0.0.1", {port}, servername="localhost", cafile={cafile!r},
                      timeout={timeout}, {flag}=True)
print(json.dumps(report.to_dict()))
"""


@pytest.mark.slow
@pytest.mark.parametrize("chain,flag,timeout,code,reason", [
    ("rev_stall", "ocsp", 1.5, "ocsp-fetch-failed", "timed out"),
    ("rev_stall", "crl", 1.5, "crl-fetch-failed", "timed out"),
    ("rev_huge", "ocsp", 10, "ocsp-fetch-failed", f"more than {doctor.MAX_OCSP_BYTES} bytes"),
    ("rev_huge", "crl", 10, "crl-fetch-failed", f"more than {doctor.MAX_CRL_BYTES} bytes"),
])
def test_revocation_stall_and_flood_are_findings(aia_pki: AiaPki, chain: str, flag: str,
                                                 timeout: float, code: str,
                                                 reason: str) -> None:
    with TlsServer(aia_pki.chains[chain], aia_pki.keys[chain]) as server:
        result = run_limited(_REVOCATION_CHILD.format(
            port=server.port, timeout=timeout, flag=flag,
            cafile=str(aia_pki.pki.files["root.pem"])), seconds=30, memory_mib=1024)
    assert result.returncode == 0 and not result.timed_out, result.stderr
    report = json.loads(result.stdout)
    assert [(f["code"], f["severity"]) for f in report["findings"]] == [(code, "warning")]
    assert reason in report["findings"][0]["message"]
    assert result.peak_mib < 200  # 50 MB was never held
    assert result.seconds < timeout + 10


# --- trust stores: the system store (SSL_CERT_FILE) and certifi; https fetches.
@pytest.fixture
def system_trusts(aia_pki: AiaPki, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The "system store" is the doctor's test root (OpenSSL reads SSL_CERT_FILE)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(aia_pki.pki.files["root.pem"]))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))


def test_system_store_anchor_and_certifi_disagreeing(aia_pki: AiaPki, system_trusts) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("certifi")
    with TlsServer(aia_pki.chains["clean"], aia_pki.keys["clean"]) as server:
        report = tls.diagnose("127.0.0.1", server.port, servername="localhost")
    assert report.anchor_store == "system store"
    assert [(f.severity, f.code) for f in report.findings] == [
        ("warning", "untrusted-by-certifi")]
    assert "trusted by the system store but not by the certifi" in report.findings[0].message
    assert "Doctor Root CA  (system store)" in report.format()
    assert report.to_dict()["anchor_store"] == "system store"


def test_cafile_anchor_store(aia_pki: AiaPki) -> None:
    assert diagnose(aia_pki, "clean").anchor_store == "cafile"
    assert diagnose(aia_pki, "incomplete_no_aia").anchor_store is None


def test_https_ca_issuers(aia_pki: AiaPki, system_trusts) -> None:  # type: ignore[no-untyped-def]
    report = diagnose(aia_pki, "incomplete_https")
    assert aia_pki.https is not None
    url = aia_pki.https.url("/inter.der")
    assert url.startswith("https://") and codes(report) == ["incomplete-chain"]
    assert f"completed from {url}" in report.findings[0].message


def test_https_fetch_is_verified_against_the_system_store(aia_pki: AiaPki,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SSL_CERT_FILE", str(aia_pki.pki.files["other.pem"]))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    report = diagnose(aia_pki, "incomplete_https")
    assert codes(report) == ["incomplete-chain", "aia-fetch-failed"]
    assert "does not verify against the system trust store" in report.findings[1].message


def test_revocation_unchecked_without_an_issuer(aia_pki: AiaPki) -> None:
    report = diagnose(aia_pki, "incomplete", fetch_missing=False, ocsp=True)
    assert [(f.severity, f.code, f.index) for f in report.findings] == [
        ("error", "incomplete-chain", 0), ("warning", "revocation-unchecked", 0)]
    assert "the issuer is unknown" in report.findings[1].message


def test_https_ocsp_and_crl(aia_pki: AiaPki, system_trusts) -> None:  # type: ignore[no-untyped-def]
    report = diagnose(aia_pki, "rev_https", ocsp=True, crl=True)
    assert report.findings == ()
    assert [r.source.split("/")[0] for r in report.revocation] == [
        "OCSP response from https:", "CRL from https:"]
    assert [r.status.status for r in report.revocation] == ["good", "good"]


_CERTIFI_CHILD = """
import json
import certifi
from tightbind import tls
assert certifi.where().startswith({folder!r}), certifi.where()
report = tls.diagnose("127.0.0.1", {port}, servername="localhost", timeout=10)
print(json.dumps(report.to_dict()))
"""


def test_trusted_by_certifi_only(aia_pki: AiaPki, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A real certifi package whose bundle holds the test root (as distributions patch
    certifi to their own store), first on the path of a child whose system store is an
    unrelated root: the path is anchored in certifi, and the system store's refusal is a
    finding."""
    import os
    import shutil

    certifi = pytest.importorskip("certifi")
    folder = tmp_path / "site"
    shutil.copytree(os.path.dirname(certifi.__file__), folder / "certifi")
    (folder / "certifi" / "cacert.pem").write_bytes(
        aia_pki.pki.files["root.pem"].read_bytes())
    (tmp_path / "empty").mkdir()
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [
               str(folder), os.path.dirname(os.path.dirname(__file__)),
               os.environ.get("PYTHONPATH")])),
           "SSL_CERT_FILE": str(aia_pki.pki.files["other.pem"]),
           "SSL_CERT_DIR": str(tmp_path / "empty")}
    with TlsServer(aia_pki.chains["clean"], aia_pki.keys["clean"]) as server:
        result = run_limited(_CERTIFI_CHILD.format(port=server.port, folder=str(folder)),
                             seconds=30, env=env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["anchor_store"] == "certifi" and report["trusted"] is True
    assert [(f["severity"], f["code"]) for f in report["findings"]] == [
        ("warning", "untrusted-by-system-store")]
    assert "trusted by the certifi but not by the system store" in \
        report["findings"][0]["message"]
