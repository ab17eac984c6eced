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
    ("ftp://127.0.0.1/x.der", "only http:// and https:// URLs are fetched"),
    ("http:///x.der", "only http:// and https:// URLs are fetched"),
    ("https://127.0.0.1:1/x.der", "cannot fetch"),
    ("http://127.0.0.1:99999/x.der", "bad port"),
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
